//! Project summaries and their HTML reports (`report`). When a run's
//! `index_run_completed` arrives, the run's files may be
//! handled by other partitions — or other consumer instances — so the summary is built
//! from the shared truth: the output and dead-letter topics, read from the run's start
//! (its UUIDv7 timestamp) until every announced file has a document or a dead-letter
//! record, or the wait ends (then the summary says `complete: false`). Documents are
//! folded into the summary as they are read (`tributary_intel::rollup::Rollup`); only
//! their paths are kept, to count each file once.

pub mod hub;
pub mod report;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::message::Message as _;
use rdkafka::{Offset, TopicPartitionList};
use time::OffsetDateTime;
use tributary_events::cost::{Component, PriceTable, RunCost, Usage};
use tributary_events::dlq::DeadLetter;
use tributary_events::intelligence::{DOC_TYPE_FILE, FileIntelligence, ProjectSummary};
use tributary_events::v2::IndexRunCompleted;
use tributary_intel::rollup::Rollup;
use tributary_runtime::kafka::{self, OffsetMode};

use crate::file::{Origin, Output};
use hub::{FileTable, HubSink};
use report::ReportSink;

/// How far before the run's start reading begins (clock skew between machines).
const SKEW_MS: i64 = 60_000;

#[derive(Debug, Clone)]
pub struct SummaryConfig {
    pub connection: tributary_runtime::kafka::Connection,
    pub output_topic: String,
    pub dlq_topic: String,
    /// How long to wait for the run's last files.
    pub wait: Duration,
    /// Fires on shutdown: the wait ends and no summary is produced (the completion
    /// event is redelivered instead).
    pub stop: tokio_util::sync::CancellationToken,
    /// What the run's usage is priced with.
    pub prices: PriceTable,
    /// The largest summary on the output topic; longer lists are cut to fit (the sinks
    /// get them whole).
    pub max_output_bytes: usize,
}

/// Summaries of completed runs, each built on a task of its own (it may wait up to
/// [`SummaryConfig::wait`] for the run's last files), never on a partition worker.
#[derive(Debug)]
pub struct Summaries {
    pub config: SummaryConfig,
    /// HTML reports of summaries; `None` writes none.
    pub reports: Option<Arc<ReportSink>>,
    /// The knowledge hub; `None` writes none.
    pub hub: Option<Arc<HubSink>>,
    /// Summaries being built at once, at most: beyond that, the partition whose
    /// completion event is next waits for a slot.
    pub slots: Arc<tokio::sync::Semaphore>,
}

/// Summaries being built at once, at most (each holds a Kafka reader).
pub const MAX_SUMMARIES_IN_FLIGHT: usize = 16;

impl Summaries {
    pub fn new(config: SummaryConfig, reports: Option<ReportSink>, hub: Option<HubSink>) -> Self {
        Self {
            config,
            reports: reports.map(Arc::new),
            hub: hub.map(Arc::new),
            slots: Arc::new(tokio::sync::Semaphore::new(MAX_SUMMARIES_IN_FLIGHT)),
        }
    }

    /// The run's summary document (and its report, when a sink is configured); `None`
    /// when stopped first or when the summary could not be built.
    pub async fn summarise(&self, run: IndexRunCompleted) -> Option<Output> {
        let cfg = self.config.clone();
        // the hub's table of the run's files, filled as the documents are read back
        let mut table = self.hub.is_some().then(FileTable::default);
        let summary = tokio::task::spawn_blocking(move || {
            let summary = collect(&cfg, &run, table.as_mut());
            (summary, table)
        })
        .await;
        match summary {
            Ok((None, _)) => None,
            Ok((Some(mut s), table)) => {
                let cost = s.cost.as_ref();
                tracing::info!(
                    project = s.project.as_str(),
                    files = s.totals.files,
                    complete = s.complete,
                    cost_usd = cost.map_or(0.0, |c| c.total_usd),
                    "project summary"
                );
                // the consumers' part: the publisher counted its own
                if let Some(part) = cost.and_then(|c| c.components.get(&Component::Consumer)) {
                    tributary_runtime::CostEstimated {
                        component: Component::Consumer,
                        usd: part.total_usd,
                    }
                    .emit();
                }
                if let Some(sink) = &self.reports {
                    sink.write(&s).await;
                }
                if let Some(hub) = &self.hub {
                    let parquet = match table.map(FileTable::finish).transpose() {
                        Ok(p) => p,
                        Err(e) => {
                            tracing::warn!(error = %e, "the run's files table could not be encoded; the hub goes without it");
                            None
                        }
                    };
                    hub.write(&s, parquet).await;
                }
                let key = tributary_events::intelligence::summary_key(&s.project);
                Some(Output::Document {
                    key,
                    payload: s.to_json_within(self.config.max_output_bytes),
                    origin: Box::new(Origin {
                        project: Some(s.project.clone()),
                        run_id: Some(s.run_id),
                        ..Origin::default()
                    }),
                })
            }
            Err(e) => {
                tracing::warn!(error = %e, "summary task failed");
                None
            }
        }
    }
}

/// Where reading a run's records starts: its UUIDv7 time less a minute of clock skew
/// (milliseconds since the epoch); `None` for an id that carries no time.
pub(crate) fn read_from_ms(run_id: uuid::Uuid) -> Option<i64> {
    let (s, n) = run_id.get_timestamp()?.to_unix();
    Some(s as i64 * 1000 + i64::from(n / 1_000_000) - SKEW_MS)
}

/// Reads the run's documents and dead letters, then builds its summary (and fills
/// `files` with a row per document, when given); `None` when stopped first. Blocking:
/// call on a blocking thread.
pub fn collect(
    cfg: &SummaryConfig,
    run: &IndexRunCompleted,
    mut files: Option<&mut FileTable>,
) -> Option<ProjectSummary> {
    let expected = run.files.total() as usize;
    let mut rollup = Rollup::default();
    let mut docs: HashSet<String> = HashSet::new();
    let mut dead: HashSet<String> = HashSet::new();
    let mut usage = ConsumerUsage::new(run);
    let now = OffsetDateTime::now_utc;
    if expected == 0 {
        return Some(usage.priced(cfg, rollup.finish(run, 0, true, now())));
    }
    let group = format!("tributary-summary-{}", run.run_id);
    let consumer: BaseConsumer<kafka::Context> =
        match kafka::group_consumer(&cfg.connection, &group, OffsetMode::ManualCommit)
            .create_with_context(kafka::Context::new(&cfg.connection))
        {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "summary reader could not start");
                return Some(usage.priced(cfg, rollup.finish(run, 0, false, now())));
            }
        };
    let start_ms = read_from_ms(run.run_id).unwrap_or(-SKEW_MS);
    let deadline = Instant::now() + cfg.wait;
    let mut assigned: HashSet<String> = HashSet::new();
    let mut last_assign = Instant::now() - Duration::from_secs(60);
    let run_id = run.run_id;
    // A replayed run's failed files have dead-letter records already; the summary
    // waits for their documents instead (or for the wait to end).
    let settled = |docs: &HashSet<String>, dead: &HashSet<String>| {
        if run.replayed {
            docs.len() >= expected
        } else {
            docs.len() + dead.len() >= expected
        }
    };
    while !settled(&docs, &dead) && Instant::now() < deadline {
        if cfg.stop.is_cancelled() {
            return None;
        }
        // (Re)assign every few seconds while a topic has not appeared yet.
        if assigned.len() < 2 && last_assign.elapsed() > Duration::from_secs(2) {
            last_assign = Instant::now();
            let mut tpl = TopicPartitionList::new();
            for topic in [&cfg.output_topic, &cfg.dlq_topic] {
                let Ok(md) = consumer.fetch_metadata(Some(topic), Duration::from_secs(5)) else {
                    continue;
                };
                for t in md.topics().iter().filter(|t| t.error().is_none()) {
                    for p in t.partitions() {
                        let _ = tpl.add_partition_offset(topic, p.id(), Offset::Offset(start_ms));
                    }
                    if !t.partitions().is_empty() {
                        assigned.insert(topic.clone());
                    }
                }
            }
            if let Ok(tpl) = consumer.offsets_for_times(tpl, Duration::from_secs(10)) {
                let _ = consumer.assign(&tpl);
            }
        }
        let Some(msg) = consumer.poll(Duration::from_millis(200)) else {
            continue;
        };
        let Ok(msg) = msg else { continue };
        let Some(payload) = msg.payload() else {
            continue;
        };
        if msg.topic() == cfg.output_topic {
            if let Ok(doc) = serde_json::from_slice::<FileIntelligence>(payload)
                && doc.doc_type == DOC_TYPE_FILE
                && doc.project == run.project
                && doc.source.run_id == Some(run_id)
                // a redelivered document counts once
                && docs.insert(doc.path.to_string())
            {
                rollup.add(&doc);
                if let Some(t) = files.as_deref_mut() {
                    t.add(&doc);
                }
                usage.document(&doc, msg.key().map_or(0, <[u8]>::len) + payload.len());
            }
        } else if let Ok(rec) = serde_json::from_slice::<DeadLetter>(payload)
            && rec.run_id == Some(run_id)
            && let Some(path) = rec.path
            && dead.insert(path)
        {
            usage.produced(msg.key().map_or(0, <[u8]>::len) + payload.len());
        }
    }
    // A file that failed once and succeeded on replay counts as documented.
    dead.retain(|p| !docs.contains(p));
    let complete = docs.len() + dead.len() >= expected;
    Some(usage.priced(cfg, rollup.finish(run, dead.len() as u64, complete, now())))
}

/// What the consumers did for one run, read off its documents and dead letters (which
/// any instance of the group may have written): reads from the object store, the bytes
/// they produced, the CPU of each file's analysis; and what they consumed, which is what
/// the publisher produced for the run.
struct ConsumerUsage {
    publisher: Option<Usage>,
    consumer: Usage,
}

impl ConsumerUsage {
    fn new(run: &IndexRunCompleted) -> Self {
        let publisher = run
            .cost
            .as_ref()
            .and_then(|c| c.components.get(&Component::Publisher))
            .map(|c| c.usage);
        let consumer = Usage {
            kafka_bytes_consumed: publisher.map_or(0, |p| p.kafka_bytes_produced),
            ..Usage::default()
        };
        Self {
            publisher,
            consumer,
        }
    }

    fn document(&mut self, doc: &FileIntelligence, record_bytes: usize) {
        self.produced(record_bytes);
        let t = &doc.timing;
        if matches!(
            t.resolved_from.as_deref(),
            Some("object_store" | "presigned_url")
        ) {
            self.consumer.object_gets += 1;
            self.consumer.bytes_downloaded += doc.size;
        }
        self.consumer.cpu_seconds += t.cpu_us.unwrap_or(0) as f64 / 1e6;
    }

    fn produced(&mut self, record_bytes: usize) {
        self.consumer.kafka_bytes_produced += record_bytes as u64;
    }

    /// The summary with the run's cost: both components under the consumer's table.
    fn priced(&self, cfg: &SummaryConfig, mut summary: ProjectSummary) -> ProjectSummary {
        let mut parts = vec![(Component::Consumer, self.consumer)];
        if let Some(p) = self.publisher {
            parts.push((Component::Publisher, p));
        }
        let cost: RunCost = cfg.prices.run_cost(&parts);
        summary.cost = Some(cost);
        summary
    }
}
