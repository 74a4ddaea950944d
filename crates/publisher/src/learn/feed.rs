//! `tributary-publisher learn`: folds what consumers measured into the strategy model —
//! each document's fetch (`timing.resolve_us` by `source.content_strategy` and size,
//! when `timing.resolved_from` says the bytes were really fetched, not found in a cache)
//! and each dead letter of a fetch that failed. Reads the output and dead-letter topics
//! from where the model stopped last time up to their ends, so each record is learned
//! once.

use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::message::Message as _;
use rdkafka::{Offset, TopicPartitionList};
use tributary_events::dlq::{DeadLetter, Payload, Reason};
use tributary_events::intelligence::{DOC_TYPE_FILE, FileIntelligence};
use tributary_events::v2::ContentStrategy;
use tributary_runtime::kafka::{self, Connection, OffsetMode};

use super::StrategyModel;

/// What one `learn` pass folded in.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Learned {
    pub documents: u64,
    pub fetches: u64,
    pub failures: u64,
}

/// Why a pass could not read its topics.
#[derive(Debug, thiserror::Error)]
pub enum LearnError {
    #[error("cannot read {topic}")]
    Kafka {
        topic: String,
        #[source]
        source: rdkafka::error::KafkaError,
    },
}

/// Fetch failures worth learning from: the source did not deliver the bytes.
fn fetch_failure(reason: Reason) -> bool {
    matches!(
        reason,
        Reason::ObjectMissing | Reason::GitUnavailable | Reason::RetriesExhausted
    )
}

/// Reads `topics` from the model's offsets to their ends (as they were when the pass
/// began) and folds every fetch in.
pub fn learn(
    model: &mut StrategyModel,
    conn: &Connection,
    output_topic: &str,
    dlq_topic: &str,
    timeout: Duration,
) -> Result<Learned, LearnError> {
    let consumer: BaseConsumer<kafka::Context> =
        kafka::group_consumer(conn, "tributary-learn", OffsetMode::ManualCommit)
            .create_with_context(kafka::Context::new(conn))
            .map_err(|source| LearnError::Kafka {
                topic: output_topic.to_owned(),
                source,
            })?;
    let mut learned = Learned::default();
    for topic in [output_topic, dlq_topic] {
        let md = consumer
            .fetch_metadata(Some(topic), timeout)
            .map_err(|source| LearnError::Kafka {
                topic: topic.to_owned(),
                source,
            })?;
        let mut tpl = TopicPartitionList::new();
        let mut ends = Vec::new();
        for p in md.topics().iter().flat_map(|t| t.partitions()) {
            let (_, high) =
                consumer
                    .fetch_watermarks(topic, p.id(), timeout)
                    .map_err(|source| LearnError::Kafka {
                        topic: topic.to_owned(),
                        source,
                    })?;
            let from = model
                .offsets
                .get(&format!("{topic}/{}", p.id()))
                .copied()
                .unwrap_or(0);
            if from < high {
                let _ = tpl.add_partition_offset(topic, p.id(), Offset::Offset(from));
                ends.push((p.id(), high));
            }
        }
        if ends.is_empty() {
            continue;
        }
        consumer.assign(&tpl).map_err(|source| LearnError::Kafka {
            topic: topic.to_owned(),
            source,
        })?;
        let deadline = Instant::now() + timeout;
        let mut left: std::collections::HashMap<i32, i64> = ends.into_iter().collect();
        while !left.is_empty() && Instant::now() < deadline {
            let Some(Ok(msg)) = consumer.poll(Duration::from_millis(200)) else {
                continue;
            };
            let (partition, offset) = (msg.partition(), msg.offset());
            model
                .offsets
                .insert(format!("{topic}/{partition}"), offset + 1);
            if left.get(&partition).is_some_and(|high| offset + 1 >= *high) {
                left.remove(&partition);
            }
            let Some(payload) = msg.payload() else {
                continue;
            };
            if topic == output_topic {
                fold_document(model, payload, &mut learned);
            } else {
                fold_dead_letter(model, payload, &mut learned);
            }
        }
    }
    Ok(learned)
}

fn fold_document(model: &mut StrategyModel, payload: &[u8], learned: &mut Learned) {
    let Ok(doc) = serde_json::from_slice::<FileIntelligence>(payload) else {
        return;
    };
    if doc.doc_type != DOC_TYPE_FILE {
        return;
    }
    learned.documents += 1;
    let fetched = matches!(
        doc.timing.resolved_from.as_deref(),
        Some("object_store" | "presigned_url" | "git")
    );
    if doc.timing.resolved_from.as_deref() == Some("git")
        && let Some((_, host)) = doc
            .source
            .git_url
            .as_deref()
            .and_then(tributary_content::git::scheme_and_host)
    {
        model.observe_remote(&host, false);
    }
    if let (true, Some(strategy)) = (fetched, doc.source.content_strategy) {
        model.observe(
            strategy,
            doc.size,
            doc.timing.resolve_us as f64 / 1e6,
            false,
        );
        learned.fetches += 1;
    }
}

fn fold_dead_letter(model: &mut StrategyModel, payload: &[u8], learned: &mut Learned) {
    let Ok(rec) = serde_json::from_slice::<DeadLetter>(payload) else {
        return;
    };
    let Payload::Event { event } = &rec.payload else {
        return;
    };
    if !fetch_failure(rec.reason) {
        return;
    }
    let remote = event["source"]["git_url"]
        .as_str()
        .and_then(tributary_content::git::scheme_and_host);
    for f in event["files"].as_array().into_iter().flatten() {
        if rec.reason == Reason::GitUnavailable
            && let Some((_, host)) = f["git_url"]
                .as_str()
                .and_then(tributary_content::git::scheme_and_host)
                .or_else(|| remote.clone())
        {
            model.observe_remote(&host, true);
        }
        let strategy = f["content_strategy"]
            .as_str()
            .and_then(ContentStrategy::parse);
        if let (Some(strategy), Some(size)) = (strategy, f["size"].as_u64()) {
            model.observe(strategy, size, 0.0, true);
            learned.failures += 1;
        }
    }
}
