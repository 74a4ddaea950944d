//! The one Kafka edge: every producer, group consumer and metadata probe of both
//! binaries is configured here, so a client property (and, later, security settings)
//! is set in one place. Callers `create()` the returned [`ClientConfig`] with the
//! context they need.

use std::time::Duration;

use clap::ValueEnum;
use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::error::KafkaError;

/// Producer compression codec (`compression.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Compression {
    #[default]
    Zstd,
    Lz4,
    Gzip,
    Snappy,
    None,
}

impl Compression {
    pub fn as_str(self) -> &'static str {
        match self {
            Compression::Zstd => "zstd",
            Compression::Lz4 => "lz4",
            Compression::Gzip => "gzip",
            Compression::Snappy => "snappy",
            Compression::None => "none",
        }
    }
}

/// Settings of a producer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProducerOptions {
    pub compression: Compression,
    pub linger_ms: u64,
    /// How long a message may wait for delivery before it fails (librdkafka's default
    /// when `None`).
    pub message_timeout_ms: Option<u64>,
    /// The local queue's size (librdkafka's default when `None`).
    pub queue_max_kbytes: Option<u64>,
}

impl ProducerOptions {
    /// Compressed, with librdkafka's other defaults.
    pub fn new(compression: Compression, linger_ms: u64) -> Self {
        Self {
            compression,
            linger_ms,
            message_timeout_ms: None,
            queue_max_kbytes: None,
        }
    }
}

fn base(brokers: &str) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", brokers);
    c
}

/// An idempotent producer (`acks=all`, at most five requests in flight, no duplicates
/// or reordering on retry).
pub fn producer(brokers: &str, opts: ProducerOptions) -> ClientConfig {
    let mut c = base(brokers);
    c.set("enable.idempotence", "true")
        .set("compression.type", opts.compression.as_str())
        .set("linger.ms", opts.linger_ms.to_string());
    if let Some(ms) = opts.message_timeout_ms {
        c.set("message.timeout.ms", ms.to_string());
    }
    if let Some(kb) = opts.queue_max_kbytes {
        c.set("queue.buffering.max.kbytes", kb.to_string());
    }
    c
}

/// How a group consumer keeps its place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OffsetMode {
    /// The daemon's: offsets are *stored* by the application once a message is fully
    /// handled, and auto-commit commits what was stored.
    StoredThenAutoCommitted,
    /// Nothing is committed unless the application commits (replays, readers).
    ManualCommit,
}

/// A consumer in `group`, reading from the earliest offset when the group has none.
pub fn group_consumer(brokers: &str, group: &str, mode: OffsetMode) -> ClientConfig {
    let mut c = base(brokers);
    c.set("group.id", group)
        .set("auto.offset.reset", "earliest");
    match mode {
        OffsetMode::StoredThenAutoCommitted => c
            .set("enable.auto.commit", "true")
            .set("enable.auto.offset.store", "false"),
        OffsetMode::ManualCommit => c.set("enable.auto.commit", "false"),
    };
    c
}

/// Asks the cluster for its metadata: the brokers answer within `timeout`, or the
/// error says why not. Runs on a blocking thread (librdkafka's call blocks).
pub async fn probe(brokers: &str, timeout: Duration) -> Result<(), KafkaError> {
    let consumer: BaseConsumer = base(brokers).create()?;
    tokio::task::spawn_blocking(move || consumer.fetch_metadata(None, timeout).map(|_| ()))
        .await
        .unwrap_or(Err(KafkaError::Canceled))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_set_what_the_guarantees_need() {
        let p = producer(
            "b:9092",
            ProducerOptions {
                message_timeout_ms: Some(30_000),
                ..ProducerOptions::new(Compression::Lz4, 50)
            },
        );
        assert_eq!(p.get("enable.idempotence"), Some("true"));
        assert_eq!(p.get("compression.type"), Some("lz4"));
        assert_eq!(p.get("message.timeout.ms"), Some("30000"));
        assert_eq!(p.get("queue.buffering.max.kbytes"), None);
        let d = group_consumer("b:9092", "g", OffsetMode::StoredThenAutoCommitted);
        assert_eq!(d.get("enable.auto.offset.store"), Some("false"));
        assert_eq!(d.get("enable.auto.commit"), Some("true"));
        let m = group_consumer("b:9092", "g", OffsetMode::ManualCommit);
        assert_eq!(m.get("enable.auto.commit"), Some("false"));
        assert_eq!(m.get("enable.auto.offset.store"), None);
        for c in [Compression::Zstd, Compression::None] {
            assert_eq!(
                Compression::from_str(c.as_str(), false).expect("clap name"),
                c
            );
        }
    }
}
