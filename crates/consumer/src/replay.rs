//! `dlq replay`: re-publishes dead-lettered work to the input topic once its cause is
//! fixed. File records carry their event narrowed to the failed file and go back as
//! is; raw records go back when they were kept whole. Progress is a consumer group's
//! committed offsets, so a replay never sends the same record twice.

use std::time::Duration;

use base64::Engine as _;
use rdkafka::consumer::{CommitMode, Consumer as _, StreamConsumer};
use rdkafka::message::Message as _;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::util::Timeout;
use rdkafka::{Offset, TopicPartitionList};
use tributary_events::dlq::{DeadLetter, Payload, RawEncoding, Reason, SourceRecord};
use tributary_runtime::kafka::{self, Compression, OffsetMode, ProducerOptions};

use crate::error::ConsumerError;

#[derive(Debug, Clone)]
pub struct ReplayConfig {
    pub brokers: String,
    pub dlq_topic: String,
    pub input_topic: String,
    /// Consumer group that remembers how far replays got.
    pub group: String,
    /// Only records with these reasons (empty: all).
    pub reasons: Vec<Reason>,
    /// Stop after this long without a new record.
    pub idle: Duration,
}

/// What a replay did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ReplayReport {
    pub replayed: u64,
    /// Records left alone: another reason, or a truncated raw payload.
    pub skipped: u64,
    /// Records that are not dead-letter records at all.
    pub unreadable: u64,
}

/// The message to re-publish for a record, if the record holds it. A reference (the
/// narrowed event did not fit in the record) is read back from its source coordinates
/// by [`replay`] instead.
pub fn replayable(record: &DeadLetter) -> Option<Vec<u8>> {
    match &record.payload {
        Payload::Event { event } => serde_json::to_vec(event).ok(),
        Payload::Reference { .. } => None,
        Payload::Raw {
            truncated: true, ..
        } => None,
        Payload::Raw {
            encoding: RawEncoding::Utf8,
            data,
            ..
        } => Some(data.clone().into_bytes()),
        Payload::Raw {
            encoding: RawEncoding::Base64,
            data,
            ..
        } => base64::engine::general_purpose::STANDARD.decode(data).ok(),
    }
}

pub async fn replay(cfg: &ReplayConfig) -> Result<ReplayReport, ConsumerError> {
    let consumer: StreamConsumer =
        kafka::group_consumer(&cfg.brokers, &cfg.group, OffsetMode::ManualCommit)
            .create()
            .map_err(ConsumerError::Kafka)?;
    let producer: FutureProducer =
        kafka::producer(&cfg.brokers, ProducerOptions::new(Compression::Zstd, 5))
            .create()
            .map_err(ConsumerError::Kafka)?;
    consumer
        .subscribe(&[&cfg.dlq_topic])
        .map_err(ConsumerError::Kafka)?;
    let mut report = ReplayReport::default();
    loop {
        let msg = match tokio::time::timeout(cfg.idle, consumer.recv()).await {
            Err(_) => break,
            Ok(Err(e)) => return Err(ConsumerError::Kafka(e)),
            Ok(Ok(m)) => m,
        };
        let record: Option<DeadLetter> = msg.payload().and_then(|p| serde_json::from_slice(p).ok());
        match record {
            None => report.unreadable += 1,
            Some(r) if !cfg.reasons.is_empty() && !cfg.reasons.contains(&r.reason) => {
                report.skipped += 1
            }
            Some(r) => match replayable(&r).or(match r.payload {
                Payload::Reference { .. } => original(&cfg.brokers, &r.source).await,
                _ => None,
            }) {
                None => report.skipped += 1,
                Some(payload) => {
                    let key = msg.key().map(<[u8]>::to_vec).unwrap_or_default();
                    producer
                        .send(
                            FutureRecord::to(&cfg.input_topic)
                                .key(&key)
                                .payload(&payload),
                            Timeout::Never,
                        )
                        .await
                        .map_err(|(e, _)| ConsumerError::Kafka(e))?;
                    report.replayed += 1;
                }
            },
        }
        // Replayed (and acknowledged) or deliberately left: move past it.
        let mut tpl = TopicPartitionList::new();
        let _ = tpl.add_partition_offset(
            msg.topic(),
            msg.partition(),
            Offset::Offset(msg.offset() + 1),
        );
        consumer
            .commit(&tpl, CommitMode::Sync)
            .map_err(ConsumerError::Kafka)?;
    }
    Ok(report)
}

/// The message at a record's source coordinates, while the topic still retains it (the
/// whole original event: its other files are processed again, harmlessly).
async fn original(brokers: &str, src: &SourceRecord) -> Option<Vec<u8>> {
    use rdkafka::consumer::BaseConsumer;
    let consumer: BaseConsumer = kafka::group_consumer(
        brokers,
        "tributary-dlq-replay-source",
        OffsetMode::ManualCommit,
    )
    .create()
    .ok()?;
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(&src.topic, src.partition, Offset::Offset(src.offset))
        .ok()?;
    consumer.assign(&tpl).ok()?;
    let offset = src.offset;
    tokio::task::spawn_blocking(move || {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::time::Instant::now() < deadline {
            match consumer.poll(Duration::from_millis(200)) {
                Some(Ok(m)) if m.offset() == offset => return m.payload().map(<[u8]>::to_vec),
                // retention moved past it: it is gone
                Some(Ok(m)) if m.offset() > offset => return None,
                _ => {}
            }
        }
        None
    })
    .await
    .ok()
    .flatten()
}
