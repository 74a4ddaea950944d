//! The daemon: a Kafka consumer group feeding per-partition workers (order kept within
//! a partition, partitions in parallel). A worker processes each message (`crate::file`)
//! and delivers its outputs (`deliver`); a completed run's summary is built on a task
//! of its own (`crate::summary`). An offset is stored only once every message below it
//! is finished (`offsets`); auto-commit then commits stored offsets, and shutdown
//! commits what is done.

mod deliver;
mod offsets;

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rdkafka::consumer::{
    BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance, StreamConsumer,
};
use rdkafka::error::KafkaError;
use rdkafka::message::{Message, OwnedMessage};
use rdkafka::{ClientContext, Offset, TopicPartitionList};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tributary_events::dlq::SourceRecord;
use tributary_events::v2::IndexRunCompleted;
use tributary_runtime::kafka::{self, OffsetMode};

use crate::analysis_cache::{AnalysisCache, AnalysisCacheError};
use crate::config::Config;
use crate::error::ConsumerError;
use crate::file::dead_letter::DeadLetters;
use crate::file::resolve::Resolver;
use crate::file::{Output, Processed, Processor};
use crate::internal_events::{
    AnalysisCacheOpened, AnalysisCacheUnavailable, EventDone, LocalFaultWaiting, OutputFailed,
};
use crate::summary::report::ReportSink;
use crate::summary::{Summaries, SummaryConfig};
use deliver::OutputSink;
use offsets::{Begun, Offsets};

/// A message that met a local fault (a full disk) is tried again after this long,
/// doubling up to [`LOCAL_FAULT_MAX_WAIT`].
const LOCAL_FAULT_FIRST_WAIT: Duration = Duration::from_secs(1);
const LOCAL_FAULT_MAX_WAIT: Duration = Duration::from_secs(30);

/// What a daemon run did (for `--exit-when-idle` callers and tests).
#[derive(Debug, Default)]
pub struct Stats {
    pub messages: AtomicU64,
    pub documents: AtomicU64,
    pub tombstones: AtomicU64,
    pub dead_letters: AtomicU64,
    /// Cacheable resolutions and cache hits (set as the daemon runs).
    pub cache_lookups: AtomicU64,
    pub cache_hits: AtomicU64,
    /// Analysis cache lookups and hits (set when the daemon stops).
    pub analysis_lookups: AtomicU64,
    pub analysis_hits: AtomicU64,
    /// Files looked up whole in the analysis cache, and those found: neither fetched
    /// nor analysed (set when the daemon stops).
    pub recall_lookups: AtomicU64,
    pub recall_hits: AtomicU64,
}

/// The group consumer's context: logs rebalances, reports lag, tells the loop which
/// partitions were revoked, and drains their in-flight work before a revocation
/// completes.
struct RebalanceContext {
    /// Revoked partitions the poll loop has not cleaned up yet.
    revoked: std::sync::Mutex<Vec<i32>>,
    /// How often each partition was revoked: a worker started before the latest
    /// revocation of its partition takes no new message.
    revocations: std::sync::Mutex<HashMap<i32, u64>>,
    offsets: Arc<Offsets>,
    /// How long a revocation waits for in-flight work (half the session timeout).
    drain: Duration,
    /// Tokens (MSK IAM) and error reporting, as every client has.
    kafka: kafka::Context,
}

impl RebalanceContext {
    fn lock_revocations(&self) -> std::sync::MutexGuard<'_, HashMap<i32, u64>> {
        self.revocations
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The partition's revocation count, which a worker remembers when it starts.
    fn epoch(&self, partition: i32) -> u64 {
        self.lock_revocations()
            .get(&partition)
            .copied()
            .unwrap_or(0)
    }

    /// Whether a worker started at `epoch` may start another message: not once its
    /// partition was revoked since (even if it was assigned back meanwhile).
    fn owns(&self, partition: i32, epoch: u64) -> bool {
        self.epoch(partition) == epoch
    }

    /// Waits (up to the drain time) until the revoked partitions have no message in
    /// flight, then commits what was stored, so their new owner starts after it instead
    /// of redoing it. Called inside the rebalance callback, which the poll loop runs:
    /// it blocks that one thread, so it only waits on a multi-threaded runtime.
    fn drain(&self, consumer: &BaseConsumer<Self>, parts: &[i32]) {
        let multi_threaded = tokio::runtime::Handle::try_current()
            .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
        let busy = || parts.iter().any(|p| self.offsets.unfinished(*p) > 0);
        if multi_threaded && busy() {
            let deadline = Instant::now() + self.drain;
            tokio::task::block_in_place(|| {
                while busy() && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(20));
                }
            });
            if busy() {
                tracing::warn!(?parts, drain = ?self.drain, "revoked partitions still busy: their new owner redoes the rest");
            }
        }
        match consumer.commit_consumer_state(CommitMode::Sync) {
            Ok(())
            | Err(KafkaError::ConsumerCommit(rdkafka::types::RDKafkaErrorCode::NoOffset)) => {}
            Err(e) => tracing::warn!(error = %e, "commit on revocation failed"),
        }
    }
}

impl ClientContext for RebalanceContext {
    const ENABLE_REFRESH_OAUTH_TOKEN: bool = true;

    fn generate_oauth_token(
        &self,
        _oauthbearer_config: Option<&str>,
    ) -> Result<rdkafka::client::OAuthToken, Box<dyn std::error::Error>> {
        self.kafka.oauth_token()
    }

    fn error(&self, error: rdkafka::error::KafkaError, reason: &str) {
        self.kafka.on_error(&error, reason);
    }

    fn log(&self, level: rdkafka::config::RDKafkaLogLevel, fac: &str, log_message: &str) {
        self.kafka.on_log(level, fac, log_message);
    }

    /// librdkafka's statistics (every `statistics.interval.ms`): the group's lag, in
    /// messages, summed over the partitions this instance owns.
    fn stats(&self, stats: rdkafka::Statistics) {
        self.kafka.on_stats(&stats);
        let lag: i64 = stats
            .topics
            .values()
            .flat_map(|t| t.partitions.values())
            .filter(|p| p.partition >= 0 && p.consumer_lag >= 0)
            .map(|p| p.consumer_lag)
            .sum();
        crate::internal_events::LagMeasured { messages: lag }.emit();
    }
}

impl ConsumerContext for RebalanceContext {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Revoke(tpl) => {
                let parts: Vec<i32> = tpl.elements().iter().map(|e| e.partition()).collect();
                tracing::info!(?parts, "partitions revoked");
                {
                    let mut revocations = self.lock_revocations();
                    for p in &parts {
                        *revocations.entry(*p).or_default() += 1;
                    }
                }
                self.drain(consumer, &parts);
                for p in &parts {
                    self.offsets.revoke(*p);
                }
                self.revoked
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .extend(parts);
            }
            Rebalance::Assign(tpl) => {
                let parts: Vec<i32> = tpl.elements().iter().map(|e| e.partition()).collect();
                tracing::info!(?parts, "partitions assigned");
            }
            Rebalance::Error(e) => tracing::warn!(error = %e, "rebalance error"),
        }
    }
}

type GroupConsumer = StreamConsumer<RebalanceContext>;

fn group_consumer(
    cfg: &Config,
    offsets: Arc<Offsets>,
) -> Result<Arc<GroupConsumer>, ConsumerError> {
    let k = &cfg.kafka;
    let mut c = kafka::group_consumer(&k.connection, &k.group, OffsetMode::StoredThenAutoCommitted);
    c.set("partition.assignment.strategy", "cooperative-sticky")
        .set("session.timeout.ms", k.session_timeout_ms.to_string())
        .set("max.poll.interval.ms", k.max_poll_interval_ms.to_string())
        .set(
            "statistics.interval.ms",
            tributary_runtime::kafka::STATISTICS_INTERVAL_MS.to_string(),
        )
        // prefetched input, at most (librdkafka's default is 64 MiB): the partition
        // queues and analysis hold the rest of the working set, and 8 MiB is still
        // several seconds of input at full analysis speed (benches/soak.sh)
        .set("queued.max.messages.kbytes", "8192")
        // ...and a partition over that bound is fetched again 20 ms later, not after
        // librdkafka's default second: with so small a bound the queue is over it often,
        // and an analysis-cached consume stood idle a second at a time (benches/README.md)
        .set("fetch.queue.backoff.ms", "20")
        // a fetch for caught-up partitions waits at the broker at most 100 ms (500 by
        // default): a partition resumed meanwhile is fetched only once it returns
        .set("fetch.wait.max.ms", "100")
        // a consumer started before its input topic exists (a fresh deployment, a
        // publisher not yet run) finds the topic within 10 s, not librdkafka's 5 min
        .set("topic.metadata.refresh.interval.ms", "10000");
    if let Some(id) = &k.instance_id {
        c.set("group.instance.id", id);
    }
    let consumer: GroupConsumer = c
        .create_with_context(RebalanceContext {
            revoked: std::sync::Mutex::new(Vec::new()),
            revocations: std::sync::Mutex::new(HashMap::new()),
            offsets,
            drain: Duration::from_millis(k.session_timeout_ms / 2),
            kafka: kafka::Context::new(&k.connection),
        })
        .map_err(ConsumerError::Kafka)?;
    Ok(Arc::new(consumer))
}

/// What the partition workers and summary tasks share: they process a message, deliver
/// its outputs, and store the offsets that became safe.
struct MessageHandler {
    consumer: Arc<GroupConsumer>,
    input_topic: String,
    processor: Processor,
    outputs: OutputSink,
    /// `None` when summaries are off (`--summary-wait 0`).
    summaries: Option<Summaries>,
    offsets: Arc<Offsets>,
    stats: Arc<Stats>,
    /// Messages dispatched but not finished.
    pending: AtomicU64,
    /// Stops the daemon: fires on shutdown (SIGTERM, `--exit-when-idle`) and when an
    /// output cannot be delivered.
    stop: CancellationToken,
    /// Set when an output could not be delivered: the daemon exits non-zero.
    undelivered: AtomicBool,
    tasks: TaskTracker,
    /// Messages whose outputs are queued and await acknowledgements, at most.
    awaiting_acks: Arc<tokio::sync::Semaphore>,
}

/// Messages whose outputs may await their acknowledgements at once (their outputs are
/// in the producer's bounded queue).
const MAX_MESSAGES_AWAITING_ACKS: usize = 64;

impl MessageHandler {
    /// Handles one message on its partition's worker. A completed run's summary goes
    /// to a task of its own (holding the message's offset until it is done), so the
    /// worker moves on at once.
    async fn handle(self: &Arc<Self>, msg: OwnedMessage) {
        let t = Instant::now();
        let src = SourceRecord {
            topic: msg.topic().to_owned(),
            partition: msg.partition(),
            offset: msg.offset(),
        };
        let begun = self.offsets.begin(src.partition, src.offset);
        let lag_ms = msg.timestamp().to_millis();
        let mut wait = LOCAL_FAULT_FIRST_WAIT;
        loop {
            match self
                .processor
                .process(msg.payload().unwrap_or_default(), &src)
                .await
            {
                Processed::Outputs(outputs) => {
                    return self.pipeline(begun, outputs, t, lag_ms).await;
                }
                // Not the input's fault: this partition waits (its queue fills and the
                // poll loop pauses it), /readyz reports the full disk, and the message
                // is tried again; nothing of it is produced or dead-lettered meanwhile.
                Processed::LocalFault(why) => {
                    LocalFaultWaiting {
                        partition: src.partition,
                        why: &why,
                        retry_in: wait,
                    }
                    .emit();
                    tokio::select! {
                        () = self.stop.cancelled() => {
                            self.pending.fetch_sub(1, Ordering::Relaxed);
                            return;
                        }
                        () = tokio::time::sleep(wait) => {}
                    }
                    wait = (wait * 2).min(LOCAL_FAULT_MAX_WAIT);
                }
                Processed::RunCompleted(run) => {
                    let Some(summaries) = &self.summaries else {
                        return self.finish(begun, Vec::new(), t, lag_ms).await;
                    };
                    // a bounded number at once: past it, this partition waits for a slot
                    let slot = summaries
                        .slots
                        .clone()
                        .acquire_owned()
                        .await
                        .expect("summary slots are never closed");
                    let this = self.clone();
                    self.tasks.spawn(async move {
                        let _slot = slot;
                        this.summarise(begun, *run, t, lag_ms).await;
                    });
                    return;
                }
            }
        }
    }

    async fn summarise(
        &self,
        begun: Begun,
        run: IndexRunCompleted,
        t: Instant,
        lag_ms: Option<i64>,
    ) {
        let Some(summaries) = &self.summaries else {
            return;
        };
        let outputs = summaries.summarise(run).await.into_iter().collect();
        self.finish(begun, outputs, t, lag_ms).await;
    }

    fn source(&self, begun: Begun) -> SourceRecord {
        SourceRecord {
            topic: self.input_topic.clone(),
            partition: begun.partition(),
            offset: begun.offset(),
        }
    }

    /// Hands a message's outputs to the producer on the partition's worker, in order,
    /// and waits for their acknowledgements on a task of its own: the worker goes on
    /// with the partition's next message while Kafka acknowledges this one's (a
    /// partition is otherwise bound by one round trip and the producer's linger per
    /// message). The offset is stored once every earlier message is finished too
    /// (`Offsets`); at most `MAX_MESSAGES_AWAITING_ACKS` messages wait at once.
    async fn pipeline(
        self: &Arc<Self>,
        begun: Begun,
        outputs: Vec<Output>,
        t: Instant,
        lag_ms: Option<i64>,
    ) {
        if self.stop.is_cancelled() {
            // Stopping: the message is redelivered, nothing of it is produced.
            self.pending.fetch_sub(1, Ordering::Relaxed);
            return;
        }
        let permit = self
            .awaiting_acks
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        let src = self.source(begun);
        match self.outputs.enqueue(outputs, &src).await {
            Ok(enqueued) => {
                let this = self.clone();
                self.tasks.spawn(async move {
                    let _permit = permit;
                    let result = this.outputs.settle(enqueued, &src, &this.stats).await;
                    this.finished(begun, result, t, lag_ms);
                });
            }
            Err(error) => self.finished(begun, Err(error), t, lag_ms),
        }
    }

    /// Delivers a message's outputs; once all are acknowledged, the message is finished
    /// and the offset it frees is stored.
    async fn finish(&self, begun: Begun, outputs: Vec<Output>, t: Instant, lag_ms: Option<i64>) {
        let src = self.source(begun);
        if self.stop.is_cancelled() {
            // Stopping: work may have been cut short (a summary wait, a fetch), so it is
            // neither produced nor acknowledged; the message is redelivered.
            self.pending.fetch_sub(1, Ordering::Relaxed);
            return;
        }
        let result = self.outputs.deliver(outputs, &src, &self.stats).await;
        self.finished(begun, result, t, lag_ms);
    }

    /// A message whose outputs were all acknowledged (or could not be): the offset it
    /// frees is stored, or the daemon stops without storing it.
    fn finished(
        &self,
        begun: Begun,
        result: Result<(), rdkafka::error::KafkaError>,
        t: Instant,
        lag_ms: Option<i64>,
    ) {
        match result {
            Ok(()) => {
                if let Some(next) = self.offsets.finish(begun) {
                    self.store(begun.partition(), next);
                }
                EventDone {
                    elapsed: t.elapsed(),
                    lag_ms: lag_ms
                        .map(|ts| time::OffsetDateTime::now_utc().unix_timestamp() * 1000 - ts),
                }
                .emit();
            }
            Err(error) => {
                OutputFailed { error: &error }.emit();
                self.undelivered.store(true, Ordering::Relaxed);
                self.stop.cancel();
            }
        }
        self.stats.messages.fetch_add(1, Ordering::Relaxed);
        self.pending.fetch_sub(1, Ordering::Relaxed);
    }

    /// Stores `next` as the partition's next offset to consume.
    fn store(&self, partition: i32, next: i64) {
        let mut tpl = TopicPartitionList::new();
        let _ = tpl.add_partition_offset(&self.input_topic, partition, Offset::Offset(next));
        if let Err(e) = self.consumer.store_offsets(&tpl) {
            // The partition was revoked meanwhile; its new owner redoes the message.
            tracing::debug!(error = %e, partition, "offset not stored");
        }
    }
}

/// Runs the daemon until `cancel` fires, an output cannot be delivered, or (with
/// `exit_when_idle`) nothing arrived for that long and all work is done.
pub async fn run(
    cfg: Config,
    cancel: CancellationToken,
    stats: Arc<Stats>,
) -> Result<(), ConsumerError> {
    cfg.validate()?;
    let resolver = Arc::new(Resolver::open(&cfg).await?);
    let reports = ReportSink::open(&cfg).await?;
    let hub = crate::summary::hub::HubSink::open(cfg.hub.as_ref(), &cfg.store).await?;
    let analysis_cache = match cfg.analysis_cache.clone() {
        Some(c) => match tokio::task::spawn_blocking(move || AnalysisCache::open(&c))
            .await
            .expect("the analysis cache opens without panicking")
        {
            Ok(cache) => {
                AnalysisCacheOpened { enabled: true }.emit();
                Some(Arc::new(cache))
            }
            // another consumer on this machine has it: this one analyses every file
            // (slower, never wrong) rather than not starting
            Err(error @ AnalysisCacheError::InUse { .. }) => {
                AnalysisCacheUnavailable { error: &error }.emit();
                None
            }
            Err(e) => return Err(e.into()),
        },
        None => {
            AnalysisCacheOpened { enabled: false }.emit();
            None
        }
    };
    let offsets = Arc::new(Offsets::default());
    // The analysers' indexes are built while the brokers are probed, and before the
    // first message: building the license index holds the whole SPDX store for a
    // moment, and that peak must not add to the first messages' working set.
    let options = cfg.analysis;
    let warm_up = tokio::task::spawn_blocking(move || tributary_intel::warm_up(&options));
    // the brokers answer, accept the credentials and show the three topics before
    // anything is consumed
    let k = &cfg.kafka;
    kafka::probe(
        &k.connection,
        &[&k.input_topic, &k.output_topic, &k.dlq_topic],
        Duration::from_secs(10),
    )
    .await
    .map_err(|source| ConsumerError::KafkaUnreachable {
        brokers: k.connection.brokers.clone(),
        source,
    })?;
    let license_index_bytes = warm_up.await.ok().flatten();
    tracing::debug!(license_index_bytes, "analysers ready");
    let consumer = group_consumer(&cfg, offsets.clone())?;
    consumer
        .subscribe(&[&cfg.kafka.input_topic])
        .map_err(ConsumerError::Kafka)?;
    let stop = cancel.child_token();
    let tracker = TaskTracker::new();
    let handler = Arc::new(MessageHandler {
        consumer: consumer.clone(),
        input_topic: cfg.kafka.input_topic.clone(),
        processor: Processor {
            resolver,
            analysis: crate::file::pool::AnalysisPool::new(cfg.analysis_threads),
            file_concurrency: cfg.file_concurrency,
            analysis_options: cfg.analysis,
            secrets_baseline: cfg.secrets_baseline.clone(),
            analysis_cache,
            dead_letters: DeadLetters {
                max_bytes: cfg.max_output_bytes,
            },
            max_output_bytes: cfg.max_output_bytes,
        },
        outputs: OutputSink::new(
            &cfg.kafka,
            DeadLetters {
                max_bytes: cfg.max_output_bytes,
            },
        )?,
        summaries: (!cfg.summary_wait.is_zero()).then(|| {
            Summaries::new(
                SummaryConfig {
                    connection: cfg.kafka.connection.clone(),
                    output_topic: cfg.kafka.output_topic.clone(),
                    dlq_topic: cfg.kafka.dlq_topic.clone(),
                    wait: cfg.summary_wait,
                    stop: stop.clone(),
                    prices: cfg.prices.clone(),
                    max_output_bytes: cfg.max_output_bytes,
                },
                reports,
                hub,
            )
        }),
        offsets,
        stats,
        pending: AtomicU64::new(0),
        stop,
        undelivered: AtomicBool::new(false),
        tasks: tracker.clone(),
        awaiting_acks: Arc::new(tokio::sync::Semaphore::new(MAX_MESSAGES_AWAITING_ACKS)),
    });
    tracing::info!(topic = %cfg.kafka.input_topic, group = %cfg.kafka.group, "consuming");
    poll_loop(&cfg, &consumer, &handler, &tracker).await;

    // Shutdown: stop fetching, let workers and summaries drain within the grace
    // period, then commit what was stored.
    tracker.close();
    if tokio::time::timeout(cfg.shutdown_grace, tracker.wait())
        .await
        .is_err()
    {
        tracing::warn!(grace = ?cfg.shutdown_grace, "in-flight work abandoned at shutdown; it will be redelivered");
    }
    let c = consumer.clone();
    let committed =
        tokio::task::spawn_blocking(move || c.commit_consumer_state(CommitMode::Sync)).await;
    match committed {
        Ok(Ok(())) => tracing::info!("offsets committed"),
        Ok(Err(KafkaError::ConsumerCommit(rdkafka::types::RDKafkaErrorCode::NoOffset))) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "final commit failed"),
        Err(e) => tracing::warn!(error = %e, "final commit task failed"),
    }
    let counters = &handler.processor.resolver.counters;
    handler
        .stats
        .cache_lookups
        .store(counters.lookups.load(Ordering::Relaxed), Ordering::Relaxed);
    handler
        .stats
        .cache_hits
        .store(counters.hits.load(Ordering::Relaxed), Ordering::Relaxed);
    if let Some(cache) = handler.processor.analysis_cache.clone() {
        let (lookups, hits) = cache.counts();
        handler
            .stats
            .analysis_lookups
            .store(lookups, Ordering::Relaxed);
        handler.stats.analysis_hits.store(hits, Ordering::Relaxed);
        let (lookups, hits) = cache.recall_counts();
        handler
            .stats
            .recall_lookups
            .store(lookups, Ordering::Relaxed);
        handler.stats.recall_hits.store(hits, Ordering::Relaxed);
        // what the writer has queued is committed before the process ends
        let _ = tokio::task::spawn_blocking(move || cache.flush(Duration::from_secs(10))).await;
    }
    if handler.undelivered.load(Ordering::Relaxed) {
        return Err(ConsumerError::OutputUndelivered);
    }
    Ok(())
}

/// Polls until the daemon stops, dispatching each message to its partition's worker.
/// Messages of partitions whose worker queue is full wait here and their partitions are
/// paused (the loop keeps polling, so the group membership never lapses), resumed once
/// the worker has room again.
async fn poll_loop(
    cfg: &Config,
    consumer: &Arc<GroupConsumer>,
    handler: &Arc<MessageHandler>,
    tracker: &TaskTracker,
) {
    let mut workers: HashMap<i32, mpsc::Sender<OwnedMessage>> = HashMap::new();
    let mut last_message = Instant::now();
    let mut stalled: HashMap<i32, VecDeque<OwnedMessage>> = HashMap::new();
    let pause = |p: i32, on: bool| {
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition(&cfg.kafka.input_topic, p);
        let r = if on {
            consumer.pause(&tpl)
        } else {
            consumer.resume(&tpl)
        };
        if let Err(e) = r {
            tracing::debug!(error = %e, partition = p, pause = on, "pause/resume failed");
        }
    };
    loop {
        let revoked: Vec<i32> = std::mem::take(
            &mut *consumer
                .context()
                .revoked
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        for p in revoked {
            workers.remove(&p); // the worker skips what is queued and exits
            if let Some(q) = stalled.remove(&p) {
                // not handled, not stored: the partition's new owner gets them again
                handler.pending.fetch_sub(q.len() as u64, Ordering::Relaxed);
            }
        }
        stalled.retain(|p, q| {
            while let Some(m) = q.pop_front() {
                match workers.get(p).map(|tx| tx.try_send(m)) {
                    Some(Ok(())) => {}
                    Some(Err(mpsc::error::TrySendError::Full(m))) => {
                        q.push_front(m);
                        return true;
                    }
                    Some(Err(mpsc::error::TrySendError::Closed(_))) | None => {
                        handler.pending.fetch_sub(1, Ordering::Relaxed);
                    }
                }
            }
            pause(*p, false);
            false
        });
        let idle_tick = if stalled.is_empty() {
            Duration::from_millis(200)
        } else {
            Duration::from_millis(5)
        };
        let msg = tokio::select! {
            biased;
            () = handler.stop.cancelled() => break,
            r = tokio::time::timeout(idle_tick, consumer.recv()) => r,
        };
        let msg = match msg {
            Err(_) => {
                if let Some(idle) = cfg.exit_when_idle
                    && last_message.elapsed() >= idle
                    && handler.pending.load(Ordering::Relaxed) == 0
                {
                    tracing::info!(idle = ?idle, "idle: exiting");
                    break;
                }
                continue;
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "consumer error");
                continue;
            }
            Ok(Ok(m)) => m.detach(),
        };
        last_message = Instant::now();
        handler.pending.fetch_add(1, Ordering::Relaxed);
        let partition = msg.partition();
        let tx = workers.entry(partition).or_insert_with(|| {
            let (tx, mut rx) = mpsc::channel::<OwnedMessage>(cfg.partition_queue);
            let handler = handler.clone();
            let epoch = handler.consumer.context().epoch(partition);
            tracker.spawn(async move {
                while let Some(m) = rx.recv().await {
                    if handler.stop.is_cancelled() {
                        break; // not stored: redelivered after restart
                    }
                    if !handler.consumer.context().owns(partition, epoch) {
                        // revoked: not started, not stored; the new owner takes it
                        handler.pending.fetch_sub(1, Ordering::Relaxed);
                        continue;
                    }
                    handler.handle(m).await;
                }
            });
            tx
        });
        if let Some(q) = stalled.get_mut(&partition) {
            q.push_back(msg); // keep the partition's order behind what already waits
            continue;
        }
        match tx.try_send(msg) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(msg)) => {
                tracing::debug!(partition, "worker queue full: partition paused");
                pause(partition, true);
                stalled.entry(partition).or_default().push_back(msg);
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                handler.pending.fetch_sub(1, Ordering::Relaxed);
            }
        }
    }
}
