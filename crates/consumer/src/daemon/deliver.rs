//! Delivery of a message's outputs: documents and tombstones to the output topic,
//! dead-letter records (with their `__connect.errors.*` headers) to the dead-letter
//! topic, all at once, each acknowledged by Kafka before the message counts as done.
//! An output the broker refuses as too large (a topic whose `max.message.bytes` is below
//! `--max-output-bytes`) is dead-lettered in its place with a bare record: no input
//! stops a partition.

use std::sync::atomic::Ordering;

use futures::future::join_all;
use rdkafka::error::KafkaError;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::util::Timeout;
use tributary_events::dlq::SourceRecord;
use tributary_runtime::kafka::{self, ProducerOptions};

use super::Stats;
use crate::config::KafkaConfig;
use crate::error::ConsumerError;
use crate::file::Output;
use crate::file::dead_letter::DeadLetters;

/// Outputs queued in the producer, at most (KiB); beyond it a send waits for room.
const OUTPUT_QUEUE_KIB: u64 = 16 * 1024;

/// The idempotent producer of outputs and where each kind goes.
pub(super) struct OutputSink {
    producer: FutureProducer<kafka::Context>,
    output_topic: String,
    dlq_topic: String,
    dead_letters: DeadLetters,
}

impl OutputSink {
    pub(super) fn new(cfg: &KafkaConfig, dead_letters: DeadLetters) -> Result<Self, ConsumerError> {
        let options = ProducerOptions {
            // librdkafka would queue up to 1 GiB for a slow broker; outputs wait instead
            queue_max_kbytes: Some(OUTPUT_QUEUE_KIB),
            ..ProducerOptions::new(cfg.compression, 20)
        };
        let producer = kafka::producer(&cfg.connection, options)
            .create_with_context(kafka::Context::new(&cfg.connection))
            .map_err(ConsumerError::Kafka)?;
        Ok(Self {
            producer,
            output_topic: cfg.output_topic.clone(),
            dlq_topic: cfg.dlq_topic.clone(),
            dead_letters,
        })
    }

    /// Produces one message's outputs and waits for every acknowledgement.
    pub(super) async fn deliver(
        &self,
        outputs: Vec<Output>,
        src: &SourceRecord,
        stats: &Stats,
    ) -> Result<(), KafkaError> {
        let sends = outputs.into_iter().map(|out| async move {
            match self.send(&out).await {
                Err(KafkaError::MessageProduction(RDKafkaErrorCode::MessageSizeTooLarge)) => {
                    let (Output::Document { key, origin, .. }
                    | Output::DeadLetter { key, origin, .. }) = &out
                    else {
                        return Err(KafkaError::MessageProduction(
                            RDKafkaErrorCode::MessageSizeTooLarge,
                        ));
                    };
                    let instead = self
                        .dead_letters
                        .refused_as_too_large(key.clone(), origin, src);
                    self.send(&instead).await.map(|()| instead)
                }
                other => other.map(|()| out),
            }
        });
        for r in join_all(sends).await {
            match r? {
                Output::Document { .. } => stats.documents.fetch_add(1, Ordering::Relaxed),
                Output::Tombstone { .. } => stats.tombstones.fetch_add(1, Ordering::Relaxed),
                Output::DeadLetter { .. } => stats.dead_letters.fetch_add(1, Ordering::Relaxed),
            };
        }
        Ok(())
    }

    async fn send(&self, out: &Output) -> Result<(), KafkaError> {
        let result = match out {
            Output::Document { key, payload, .. } => {
                self.producer
                    .send(
                        FutureRecord::to(&self.output_topic)
                            .key(key)
                            .payload(payload),
                        Timeout::Never,
                    )
                    .await
            }
            Output::Tombstone { key } => {
                self.producer
                    .send(
                        FutureRecord::<String, [u8]>::to(&self.output_topic).key(key),
                        Timeout::Never,
                    )
                    .await
            }
            Output::DeadLetter {
                key,
                payload,
                headers,
                ..
            } => {
                let mut h = OwnedHeaders::new();
                for (k, v) in headers {
                    h = h.insert(Header {
                        key: k,
                        value: Some(v.as_str()),
                    });
                }
                self.producer
                    .send(
                        FutureRecord::to(&self.dlq_topic)
                            .key(key)
                            .payload(payload)
                            .headers(h),
                        Timeout::Never,
                    )
                    .await
            }
        };
        result.map(|_| ()).map_err(|(e, _)| e)
    }
}
