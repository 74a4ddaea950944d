//! Delivery of a message's outputs: documents and tombstones to the output topic,
//! dead-letter records (with their `__connect.errors.*` headers) to the dead-letter
//! topic, all at once, each acknowledged by Kafka before the message counts as done.
//! An output the broker refuses as too large (a topic whose `max.message.bytes` is below
//! `--max-output-bytes`) is dead-lettered in its place with a bare record: no input
//! stops a partition.

use std::sync::atomic::Ordering;

use rdkafka::error::KafkaError;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord};
use rdkafka::types::RDKafkaErrorCode;
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
    /// Held while an output refused with its batch is sent again: one at a time, so
    /// two such outputs do not share a batch again.
    alone: tokio::sync::Mutex<()>,
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
            alone: tokio::sync::Mutex::new(()),
        })
    }

    /// Produces one message's outputs and waits for every acknowledgement.
    pub(super) async fn deliver(
        &self,
        outputs: Vec<Output>,
        src: &SourceRecord,
        stats: &Stats,
    ) -> Result<(), KafkaError> {
        let enqueued = self.enqueue(outputs, src).await?;
        self.settle(enqueued, src, stats).await
    }

    /// Hands one message's outputs to the producer, in order, without waiting for
    /// their acknowledgements ([`OutputSink::settle`] does): the partition's next
    /// message can be processed meanwhile, and its outputs are queued after these, so
    /// a key's documents still arrive in the order of their messages. A full producer
    /// queue waits here (back-pressure); an output over the producer's size limit is
    /// replaced by its dead-letter record at once.
    pub(super) async fn enqueue(
        &self,
        outputs: Vec<Output>,
        src: &SourceRecord,
    ) -> Result<Enqueued, KafkaError> {
        let mut pending = Vec::with_capacity(outputs.len());
        for out in outputs {
            let delivery = match self.enqueue_one(&out).await {
                Err(KafkaError::MessageProduction(RDKafkaErrorCode::MessageSizeTooLarge)) => {
                    let instead = self.too_large(&out, src)?;
                    let delivery = self.enqueue_one(&instead).await?;
                    pending.push((instead, delivery));
                    continue;
                }
                other => other?,
            };
            pending.push((out, delivery));
        }
        Ok(Enqueued(pending))
    }

    /// Waits for the acknowledgement of every output [`OutputSink::enqueue`] queued; an
    /// output the broker refused as too large is dead-lettered in its place.
    pub(super) async fn settle(
        &self,
        enqueued: Enqueued,
        src: &SourceRecord,
        stats: &Stats,
    ) -> Result<(), KafkaError> {
        for (out, delivery) in enqueued.0 {
            let delivered = match acknowledged(delivery).await {
                Ok(()) => out,
                Err(KafkaError::MessageProduction(RDKafkaErrorCode::MessageSizeTooLarge)) => {
                    // The broker refuses a whole batch: an output that shared one with a
                    // record too large gets a batch of its own before it is called too
                    // large itself.
                    let alone = self.alone.lock().await;
                    let retried = self.send(&out).await;
                    drop(alone);
                    match retried {
                        Ok(()) => out,
                        Err(KafkaError::MessageProduction(
                            RDKafkaErrorCode::MessageSizeTooLarge,
                        )) => {
                            let instead = self.too_large(&out, src)?;
                            self.send(&instead).await?;
                            instead
                        }
                        Err(e) => return Err(e),
                    }
                }
                Err(e) => return Err(e),
            };
            match delivered {
                Output::Document { .. } => stats.documents.fetch_add(1, Ordering::Relaxed),
                Output::Tombstone { .. } => stats.tombstones.fetch_add(1, Ordering::Relaxed),
                Output::DeadLetter { .. } => stats.dead_letters.fetch_add(1, Ordering::Relaxed),
            };
        }
        Ok(())
    }

    /// The dead-letter record that replaces an output too large for the broker.
    fn too_large(&self, out: &Output, src: &SourceRecord) -> Result<Output, KafkaError> {
        let (Output::Document { key, origin, .. } | Output::DeadLetter { key, origin, .. }) = out
        else {
            return Err(KafkaError::MessageProduction(
                RDKafkaErrorCode::MessageSizeTooLarge,
            ));
        };
        Ok(self
            .dead_letters
            .refused_as_too_large(key.clone(), origin, src))
    }

    /// Queues one output in the producer; waits while its queue is full.
    async fn enqueue_one(&self, out: &Output) -> Result<DeliveryFuture, KafkaError> {
        loop {
            let result = match out {
                Output::Document { key, payload, .. } => self
                    .producer
                    .send_result(
                        FutureRecord::to(&self.output_topic)
                            .key(key)
                            .payload(payload),
                    )
                    .map_err(|(e, _)| e),
                Output::Tombstone { key } => self
                    .producer
                    .send_result(FutureRecord::<String, [u8]>::to(&self.output_topic).key(key))
                    .map_err(|(e, _)| e),
                Output::DeadLetter {
                    key,
                    payload,
                    headers,
                    ..
                } => self
                    .producer
                    .send_result(
                        FutureRecord::to(&self.dlq_topic)
                            .key(key)
                            .payload(payload)
                            .headers(dead_letter_headers(headers)),
                    )
                    .map_err(|(e, _)| e),
            };
            match result {
                Ok(delivery) => return Ok(delivery),
                Err(KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull)) => {
                    tokio::time::sleep(QUEUE_FULL_WAIT).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Produces one output and waits for its acknowledgement.
    async fn send(&self, out: &Output) -> Result<(), KafkaError> {
        acknowledged(self.enqueue_one(out).await?).await
    }
}

/// Waits for one delivery report.
async fn acknowledged(delivery: DeliveryFuture) -> Result<(), KafkaError> {
    match delivery.await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err((e, _))) => Err(e),
        // the producer was dropped: nothing can be acknowledged any more
        Err(_) => Err(KafkaError::Canceled),
    }
}

/// Outputs handed to the producer, with their pending acknowledgements, in order.
pub(super) struct Enqueued(Vec<(Output, DeliveryFuture)>);

/// How long a send waits before trying a full producer queue again.
const QUEUE_FULL_WAIT: std::time::Duration = std::time::Duration::from_millis(5);

fn dead_letter_headers(headers: &[(&'static str, String)]) -> OwnedHeaders {
    let mut h = OwnedHeaders::new();
    for (k, v) in headers {
        h = h.insert(Header {
            key: k,
            value: Some(v.as_str()),
        });
    }
    h
}
