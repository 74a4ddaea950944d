//! The daemon: a Kafka consumer group feeding per-partition workers (order kept within
//! a partition, partitions in parallel), each producing an event's outputs and storing
//! its offset only after every output was acknowledged. Auto-commit then commits stored
//! offsets; shutdown and revocation commit what is done.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::future::join_all;
use rdkafka::consumer::{
    BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance, StreamConsumer,
};
use rdkafka::error::KafkaError;
use rdkafka::message::{Header, Message, OwnedHeaders, OwnedMessage};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::util::Timeout;
use rdkafka::{ClientConfig, ClientContext, Offset, TopicPartitionList};
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tributary_content::ObjectStore;
use tributary_content::cache::{DiskCache, MemoryCache};
use tributary_content::git::GitFetcher;
use tributary_events::dlq::SourceRecord;

use crate::config::{Config, ReportConfig, StoreConfig};
use crate::error::ConsumerError;
use crate::internal_events::{EventDone, OutputFailed};
use crate::process::{Output, Processor};
use crate::resolve::Resolver;

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
}

/// Logs rebalances and tells the loop which partitions were revoked.
struct Ctx {
    revoked: std::sync::Mutex<Vec<i32>>,
}

impl ClientContext for Ctx {
    /// librdkafka's statistics (every `statistics.interval.ms`): the group's lag, in
    /// messages, summed over the partitions this instance owns.
    fn stats(&self, stats: rdkafka::Statistics) {
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

impl ConsumerContext for Ctx {
    fn pre_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Revoke(tpl) => {
                let parts: Vec<i32> = tpl.elements().iter().map(|e| e.partition()).collect();
                tracing::info!(?parts, "partitions revoked");
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

type GroupConsumer = StreamConsumer<Ctx>;

/// Opens the report sink, if one is configured.
pub async fn build_report_sink(
    cfg: &Config,
) -> Result<Option<Arc<crate::report::ReportSink>>, ConsumerError> {
    let (store_cfg, prefix) = match &cfg.report {
        None => return Ok(None),
        Some(ReportConfig::Dir(dir)) => (StoreConfig::Local { root: dir.clone() }, String::new()),
        Some(ReportConfig::ObjectStore { prefix }) => (cfg.store.clone(), prefix.clone()),
    };
    let store = ObjectStore::open(&store_cfg)
        .await
        .map_err(ConsumerError::Content)?
        .ok_or_else(|| ConsumerError::Config("the report sink needs a store".into()))?;
    Ok(Some(Arc::new(crate::report::ReportSink { store, prefix })))
}

/// Builds the resolver (caches, store, git) from the configuration.
pub async fn build_resolver(cfg: &Config) -> Result<Resolver, ConsumerError> {
    let store = ObjectStore::open(&cfg.store)
        .await
        .map_err(ConsumerError::Content)?;
    let url_authority = match &cfg.store {
        StoreConfig::S3(s3) => match &s3.endpoint {
            Some(ep) => crate::resolve::authority(ep),
            None => Some(format!("{}.s3.{}.amazonaws.com:443", s3.bucket, s3.region)),
        },
        _ => None,
    };
    let disk = if cfg.cache.disk_max_bytes > 0 {
        let (dir, max) = (cfg.cache.disk_dir.clone(), cfg.cache.disk_max_bytes);
        Some(
            tokio::task::spawn_blocking(move || DiskCache::open(dir, max))
                .await
                .expect("disk cache open task")
                .map_err(ConsumerError::Content)?,
        )
    } else {
        None
    };
    let git_cfg = cfg.git.clone();
    let git = tokio::task::spawn_blocking(move || GitFetcher::new(git_cfg))
        .await
        .expect("git cache open task")
        .map_err(ConsumerError::Content)?;
    let http = reqwest::Client::builder()
        // A redirect could lead anywhere: presigned URLs are followed to the endpoint only.
        .redirect(reqwest::redirect::Policy::none())
        .timeout(cfg.download_timeout)
        .build()
        .map_err(|e| ConsumerError::Config(format!("http client: {e}")))?;
    let mount_root =
        match &cfg.mount_root {
            Some(root) => Some(std::fs::canonicalize(root).map_err(|e| {
                ConsumerError::Config(format!("mount root {}: {e}", root.display()))
            })?),
            None => None::<PathBuf>,
        };
    Ok(Resolver {
        memory: MemoryCache::new(cfg.cache.memory_max_bytes),
        disk,
        store,
        url_authority,
        http,
        git,
        mount_root,
        max_content_bytes: cfg.max_content_bytes,
        max_attempts: cfg.max_attempts,
        counters: Default::default(),
    })
}

fn consumer(cfg: &Config) -> Result<Arc<GroupConsumer>, ConsumerError> {
    let k = &cfg.kafka;
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", &k.brokers)
        .set("group.id", &k.group)
        .set("enable.auto.commit", "true")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("partition.assignment.strategy", "cooperative-sticky")
        .set("session.timeout.ms", k.session_timeout_ms.to_string())
        .set("max.poll.interval.ms", k.max_poll_interval_ms.to_string())
        .set("statistics.interval.ms", "5000")
        // a consumer started before its input topic exists (a fresh deployment, a
        // publisher not yet run) finds the topic within 10 s, not librdkafka's 5 min
        .set("topic.metadata.refresh.interval.ms", "10000");
    if let Some(id) = &k.instance_id {
        c.set("group.instance.id", id);
    }
    let consumer: GroupConsumer = c
        .create_with_context(Ctx {
            revoked: std::sync::Mutex::new(Vec::new()),
        })
        .map_err(ConsumerError::Kafka)?;
    Ok(Arc::new(consumer))
}

fn producer(cfg: &Config) -> Result<FutureProducer, ConsumerError> {
    ClientConfig::new()
        .set("bootstrap.servers", &cfg.kafka.brokers)
        .set("enable.idempotence", "true")
        .set("compression.type", &cfg.kafka.compression)
        .set("linger.ms", "20")
        .create()
        .map_err(ConsumerError::Kafka)
}

/// Everything a partition worker needs.
struct Shared {
    consumer: Arc<GroupConsumer>,
    producer: FutureProducer,
    processor: Processor,
    output_topic: String,
    dlq_topic: String,
    stats: Arc<Stats>,
    /// Messages dispatched but not finished.
    pending: AtomicU64,
    /// Set when an output could not be delivered: the daemon stops without storing.
    fatal: CancellationToken,
    failed: AtomicBool,
}

impl Shared {
    /// Produces one message's outputs and waits for every acknowledgement.
    async fn deliver(&self, outputs: Vec<Output>) -> Result<(), KafkaError> {
        let sends = outputs.into_iter().map(|out| {
            let producer = self.producer.clone();
            let (out_topic, dlq_topic) = (self.output_topic.clone(), self.dlq_topic.clone());
            async move {
                let result = match &out {
                    Output::Document { key, payload } => {
                        producer
                            .send(
                                FutureRecord::to(&out_topic).key(key).payload(payload),
                                Timeout::Never,
                            )
                            .await
                    }
                    Output::Tombstone { key } => {
                        producer
                            .send(
                                FutureRecord::<String, [u8]>::to(&out_topic).key(key),
                                Timeout::Never,
                            )
                            .await
                    }
                    Output::DeadLetter {
                        key,
                        payload,
                        headers,
                    } => {
                        let mut h = OwnedHeaders::new();
                        for (k, v) in headers {
                            h = h.insert(Header {
                                key: k,
                                value: Some(v.as_str()),
                            });
                        }
                        producer
                            .send(
                                FutureRecord::to(&dlq_topic)
                                    .key(key)
                                    .payload(payload)
                                    .headers(h),
                                Timeout::Never,
                            )
                            .await
                    }
                };
                result.map(|_| out).map_err(|(e, _)| e)
            }
        });
        for r in join_all(sends).await {
            match r? {
                Output::Document { .. } => self.stats.documents.fetch_add(1, Ordering::Relaxed),
                Output::Tombstone { .. } => self.stats.tombstones.fetch_add(1, Ordering::Relaxed),
                Output::DeadLetter { .. } => {
                    self.stats.dead_letters.fetch_add(1, Ordering::Relaxed)
                }
            };
        }
        Ok(())
    }

    async fn handle(&self, msg: OwnedMessage) {
        let t = Instant::now();
        let src = SourceRecord {
            topic: msg.topic().to_owned(),
            partition: msg.partition(),
            offset: msg.offset(),
        };
        let outputs = self
            .processor
            .process(msg.payload().unwrap_or_default(), &src)
            .await;
        if self.fatal.is_cancelled() {
            // Stopping: work may have been cut short (a summary wait, a fetch), so it is
            // neither produced nor acknowledged; the message is redelivered.
            self.pending.fetch_sub(1, Ordering::Relaxed);
            return;
        }
        match self.deliver(outputs).await {
            Ok(()) => {
                // Everything of this message is acknowledged: the next offset may be committed.
                let mut tpl = TopicPartitionList::new();
                let _ = tpl.add_partition_offset(
                    &src.topic,
                    src.partition,
                    Offset::Offset(src.offset + 1),
                );
                if let Err(e) = self.consumer.store_offsets(&tpl) {
                    // The partition was revoked meanwhile; its new owner redoes the message.
                    tracing::debug!(error = %e, partition = src.partition, "offset not stored");
                }
                let lag_ms = msg
                    .timestamp()
                    .to_millis()
                    .map(|ts| time::OffsetDateTime::now_utc().unix_timestamp() * 1000 - ts);
                EventDone {
                    elapsed: t.elapsed(),
                    lag_ms,
                }
                .emit();
            }
            Err(error) => {
                OutputFailed { error: &error }.emit();
                self.failed.store(true, Ordering::Relaxed);
                self.fatal.cancel();
            }
        }
        self.stats.messages.fetch_add(1, Ordering::Relaxed);
        self.pending.fetch_sub(1, Ordering::Relaxed);
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
    let resolver = Arc::new(build_resolver(&cfg).await?);
    let reports = build_report_sink(&cfg).await?;
    let consumer = consumer(&cfg)?;
    let probe = consumer.clone();
    let brokers = cfg.kafka.brokers.clone();
    tokio::task::spawn_blocking(move || {
        probe
            .fetch_metadata(None, Timeout::After(Duration::from_secs(10)))
            .map(|_| ())
    })
    .await
    .expect("metadata probe task")
    .map_err(|source| ConsumerError::KafkaUnreachable { brokers, source })?;
    consumer
        .subscribe(&[&cfg.kafka.input_topic])
        .map_err(ConsumerError::Kafka)?;
    let fatal = cancel.child_token();
    let shared = Arc::new(Shared {
        consumer: consumer.clone(),
        producer: producer(&cfg)?,
        processor: Processor {
            resolver,
            analysis: Arc::new(Semaphore::new(cfg.analysis_threads)),
            file_concurrency: cfg.file_concurrency,
            summaries: (!cfg.summary_wait.is_zero()).then(|| crate::summary::SummaryConfig {
                brokers: cfg.kafka.brokers.clone(),
                output_topic: cfg.kafka.output_topic.clone(),
                dlq_topic: cfg.kafka.dlq_topic.clone(),
                wait: cfg.summary_wait,
                stop: fatal.clone(),
            }),
            reports,
            analysis_options: cfg.analysis,
        },
        output_topic: cfg.kafka.output_topic.clone(),
        dlq_topic: cfg.kafka.dlq_topic.clone(),
        stats,
        pending: AtomicU64::new(0),
        fatal,
        failed: AtomicBool::new(false),
    });
    tracing::info!(topic = %cfg.kafka.input_topic, group = %cfg.kafka.group, "consuming");

    let tracker = TaskTracker::new();
    let mut workers: HashMap<i32, mpsc::Sender<OwnedMessage>> = HashMap::new();
    let mut last_message = Instant::now();
    let idle_tick = Duration::from_millis(200);
    // Messages of partitions whose worker queue is full: those partitions are paused
    // (the loop keeps polling, so the group membership never lapses) and resumed once
    // their worker has room again.
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
            workers.remove(&p); // the worker finishes its queue and exits
            if let Some(q) = stalled.remove(&p) {
                // not handled, not stored: the partition's new owner gets them again
                shared.pending.fetch_sub(q.len() as u64, Ordering::Relaxed);
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
                        shared.pending.fetch_sub(1, Ordering::Relaxed);
                    }
                }
            }
            pause(*p, false);
            false
        });
        let idle_tick = if stalled.is_empty() {
            idle_tick
        } else {
            Duration::from_millis(5)
        };
        let msg = tokio::select! {
            biased;
            () = shared.fatal.cancelled() => break,
            r = tokio::time::timeout(idle_tick, consumer.recv()) => r,
        };
        let msg = match msg {
            Err(_) => {
                if let Some(idle) = cfg.exit_when_idle
                    && last_message.elapsed() >= idle
                    && shared.pending.load(Ordering::Relaxed) == 0
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
        shared.pending.fetch_add(1, Ordering::Relaxed);
        let partition = msg.partition();
        let tx = workers.entry(partition).or_insert_with(|| {
            let (tx, mut rx) = mpsc::channel::<OwnedMessage>(cfg.partition_queue);
            let shared = shared.clone();
            tracker.spawn(async move {
                while let Some(m) = rx.recv().await {
                    if shared.fatal.is_cancelled() {
                        break; // not stored: redelivered after restart
                    }
                    shared.handle(m).await;
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
                shared.pending.fetch_sub(1, Ordering::Relaxed);
            }
        }
    }

    // Shutdown: stop fetching, let workers drain their queues within the grace period,
    // then commit what was stored.
    drop(workers);
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
    let counters = &shared.processor.resolver.counters;
    shared
        .stats
        .cache_lookups
        .store(counters.lookups.load(Ordering::Relaxed), Ordering::Relaxed);
    shared
        .stats
        .cache_hits
        .store(counters.hits.load(Ordering::Relaxed), Ordering::Relaxed);
    if shared.failed.load(Ordering::Relaxed) {
        return Err(ConsumerError::OutputUndelivered);
    }
    Ok(())
}
