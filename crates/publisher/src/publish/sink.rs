//! The Kafka sink: an idempotent, compressed producer with a bounded number of batches
//! in flight; every delivery report is awaited.

use std::time::Duration;

use futures::StreamExt as _;
use futures::stream::FuturesUnordered;
use rdkafka::error::KafkaError;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::util::Timeout;
use tributary_runtime::kafka::{self, ProducerOptions};

use crate::config::KafkaConfig;
use crate::error::PublishError;

type Delivery =
    std::pin::Pin<Box<dyn std::future::Future<Output = (u32, Result<(), KafkaError>)> + Send>>;

/// Produces run events and tracks their delivery.
pub struct KafkaSink {
    producer: FutureProducer<kafka::Context>,
    topic: String,
    max_in_flight: usize,
    in_flight: FuturesUnordered<Delivery>,
    /// Batches whose delivery failed, with the error.
    pub failed: Vec<(u32, KafkaError)>,
    pub delivered: u32,
}

impl std::fmt::Debug for KafkaSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaSink")
            .field("topic", &self.topic)
            .field("in_flight", &self.in_flight.len())
            .finish()
    }
}

impl KafkaSink {
    /// Connects and checks that the brokers answer (a metadata request) before any work.
    pub async fn connect(cfg: &KafkaConfig) -> Result<Self, PublishError> {
        let options = ProducerOptions {
            message_timeout_ms: Some(cfg.message_timeout_ms),
            // room for many full batches: a full queue is back-pressure, never an error
            queue_max_kbytes: Some(262_144),
            ..ProducerOptions::new(cfg.compression, cfg.linger_ms)
        };
        // the brokers answer, accept the credentials and show the topic before any
        // producer exists (and before the run uploads anything)
        kafka::probe(&cfg.connection, &[&cfg.topic], Duration::from_secs(10))
            .await
            .map_err(|source| PublishError::KafkaUnreachable {
                brokers: cfg.connection.brokers.clone(),
                source,
            })?;
        // ...and the principal may write to it (when the cluster's ACLs say; a cluster
        // without an authorizer, or a topic not created yet, passes)
        if let Err(kafka::TopicError::Denied(_)) = kafka::check_operations(
            &cfg.connection,
            &cfg.topic,
            &[kafka::Operation::Write],
            Duration::from_secs(10),
        )
        .await
        {
            return Err(PublishError::KafkaUnreachable {
                brokers: cfg.connection.brokers.clone(),
                source: kafka::ProbeError::TopicWrite {
                    topic: cfg.topic.clone(),
                },
            });
        }
        let producer: FutureProducer<kafka::Context> = kafka::producer(&cfg.connection, options)
            .create_with_context(kafka::Context::new(&cfg.connection))
            .map_err(PublishError::Kafka)?;
        Ok(Self {
            producer,
            topic: cfg.topic.clone(),
            max_in_flight: cfg.max_in_flight_batches,
            in_flight: FuturesUnordered::new(),
            failed: Vec::new(),
            delivered: 0,
        })
    }

    /// Enqueues one message; waits for an earlier delivery first when too many are in
    /// flight. A full local queue is back-pressure: the send waits, it does not fail.
    pub async fn send(&mut self, number: u32, key: String, payload: Vec<u8>) {
        while self.in_flight.len() >= self.max_in_flight {
            self.settle_one().await;
        }
        let producer = self.producer.clone();
        let topic = self.topic.clone();
        self.in_flight.push(Box::pin(async move {
            let record = FutureRecord::to(&topic).key(&key).payload(&payload);
            let result = producer
                .send(record, Timeout::Never)
                .await
                .map(|_| ())
                .map_err(|(e, _)| e);
            (number, result)
        }));
    }

    async fn settle_one(&mut self) {
        if let Some((number, result)) = self.in_flight.next().await {
            match result {
                Ok(()) => self.delivered += 1,
                Err(e) => self.failed.push((number, e)),
            }
        }
    }

    /// Waits for every outstanding delivery report.
    pub async fn drain(&mut self) {
        while !self.in_flight.is_empty() {
            self.settle_one().await;
        }
    }

    /// Produces one message and waits for its delivery.
    pub async fn send_and_wait(&mut self, key: &str, payload: &[u8]) -> Result<(), KafkaError> {
        let record = FutureRecord::to(&self.topic).key(key).payload(payload);
        self.producer
            .send(record, Timeout::Never)
            .await
            .map(|_| ())
            .map_err(|(e, _)| e)
    }
}
