//! `dlq replay`: re-publishes dead-lettered work to the input topic once its cause is
//! fixed. File records carry their event narrowed to the failed file and go back as
//! is; raw records go back when they were kept whole. Progress is a consumer group's
//! committed offsets, so a replay never sends the same record twice.

use std::ops::ControlFlow;
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
use crate::inspect::{Start, scan};

#[derive(Debug, Clone)]
pub struct ReplayConfig {
    pub connection: kafka::Connection,
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
    /// Runs whose completion event was re-published (marked `replayed`) after their
    /// files, so their summaries are built again and count the replayed files.
    pub summaries_refreshed: u64,
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
    let conn = &cfg.connection;
    kafka::probe(
        conn,
        &[&cfg.dlq_topic, &cfg.input_topic],
        Duration::from_secs(10),
    )
    .await
    .map_err(|source| ConsumerError::KafkaUnreachable {
        brokers: conn.brokers.clone(),
        source,
    })?;
    let consumer: StreamConsumer<kafka::Context> =
        kafka::group_consumer(conn, &cfg.group, OffsetMode::ManualCommit)
            .create_with_context(kafka::Context::new(conn))
            .map_err(ConsumerError::Kafka)?;
    let producer: FutureProducer<kafka::Context> =
        kafka::producer(conn, ProducerOptions::new(Compression::Zstd, 5))
            .create_with_context(kafka::Context::new(conn))
            .map_err(ConsumerError::Kafka)?;
    consumer
        .subscribe(&[&cfg.dlq_topic])
        .map_err(ConsumerError::Kafka)?;
    let mut report = ReplayReport::default();
    // the runs whose files were replayed, and when each started (its UUIDv7 time)
    let mut runs: std::collections::BTreeSet<uuid::Uuid> = std::collections::BTreeSet::new();
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
                Payload::Reference { .. } => original(conn, &r.source).await,
                _ => None,
            }) {
                None => report.skipped += 1,
                Some(payload) => {
                    let key = msg.key().map(<[u8]>::to_vec).unwrap_or_default();
                    send(&producer, &cfg.input_topic, &key, &payload).await?;
                    report.replayed += 1;
                    runs.extend(r.run_id);
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
    for run_id in runs {
        let Some(mut completed) = completion(conn, &cfg.input_topic, run_id).await else {
            tracing::warn!(%run_id, "the run's completion event is no longer on the input topic: its summary is not refreshed");
            continue;
        };
        completed.replayed = true;
        completed.event_id = uuid::Uuid::now_v7();
        completed.occurred_at = time::OffsetDateTime::now_utc();
        let payload = serde_json::to_vec(&completed).expect("events serialize");
        let key = format!(
            "{}/{}",
            tributary_events::intelligence::key_project(&completed.project),
            run_id
        );
        send(&producer, &cfg.input_topic, key.as_bytes(), &payload).await?;
        report.summaries_refreshed += 1;
    }
    Ok(report)
}

/// Produces one message and waits for its acknowledgement.
async fn send(
    producer: &FutureProducer<kafka::Context>,
    topic: &str,
    key: &[u8],
    payload: &[u8],
) -> Result<(), ConsumerError> {
    producer
        .send(
            FutureRecord::to(topic).key(key).payload(payload),
            Timeout::Never,
        )
        .await
        .map(|_| ())
        .map_err(|(e, _)| ConsumerError::Kafka(e))
}

/// A reader of the input topic that commits nothing (it is assigned partitions, not
/// subscribed).
fn source_reader(
    conn: &kafka::Connection,
) -> Option<rdkafka::consumer::BaseConsumer<kafka::Context>> {
    kafka::group_consumer(
        conn,
        "tributary-dlq-replay-source",
        OffsetMode::ManualCommit,
    )
    .create_with_context(kafka::Context::new(conn))
    .ok()
}

/// A run's `index_run_completed` on the input topic, read from the run's start (its
/// UUIDv7 time, less a minute of clock skew) to the end of each partition.
async fn completion(
    conn: &kafka::Connection,
    topic: &str,
    run_id: uuid::Uuid,
) -> Option<tributary_events::v2::IndexRunCompleted> {
    let start_ms = crate::summary::read_from_ms(run_id)?;
    let consumer = source_reader(conn)?;
    let topic = topic.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut found = None;
        scan(
            &consumer,
            &topic,
            Start::TimeMs(start_ms),
            Duration::from_secs(60),
            |m| match m.payload().map(tributary_events::decode) {
                Some(Ok(tributary_events::IndexEvent::Completed(c))) if c.run_id == run_id => {
                    found = Some(c);
                    ControlFlow::Break(())
                }
                _ => ControlFlow::Continue(()),
            },
        )
        .ok()?;
        found
    })
    .await
    .ok()
    .flatten()
}

/// The message at a record's source coordinates, while the topic still retains it (the
/// whole original event: its other files are processed again, harmlessly).
async fn original(conn: &kafka::Connection, src: &SourceRecord) -> Option<Vec<u8>> {
    let consumer = source_reader(conn)?;
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
