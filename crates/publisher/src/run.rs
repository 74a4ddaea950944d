//! A publisher run: resolve the source, walk it, plan each file, upload what goes by
//! object storage, batch, produce, and close the run with its manifest.
//!
//! Order matters: an object is uploaded (and its URL presigned) before the entry that
//! references it can enter a batch, and `index_run_completed` is produced only after
//! every batch was acknowledged.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::StreamExt as _;
use tokio_util::sync::CancellationToken;
use tributary_content::store::render_key;
use tributary_content::{ObjectStore, PutOutcome};
use tributary_events::RelPath;
use tributary_events::v2::{
    Change, ContentStrategy, EVENT_INDEX_PROJECT_REQUESTED, EVENT_INDEX_RUN_COMPLETED,
    IndexProjectRequested, IndexRunCompleted, SkippedFile, V2_SCHEMA_VERSION, WireFile,
};
use uuid::Uuid;

use crate::batch::{Batch, Batcher, entry_size};
use crate::config::{Config, StrategyMode};
use crate::error::PublishError;
use crate::internal_events::{
    BatchFailed, BatchProduced, FileEmitted, FileFailed, FileSkipped, GitSourceResolved,
    ObjectStored, RunFinished, StoreUnavailable,
};
use crate::kafka::KafkaSink;
use crate::plan::{Availability, encode_inline, preferences};
use crate::report::{FailedFile, LISTED_FILES_MAX, PlannedFile, RunReport, chain};
use crate::source::{self, Filter, Item, SkipReason, SourceFile};
use crate::telemetry::Progress;

/// Items buffered between the walker threads and the pipeline.
const WALK_CHANNEL_CAPACITY: usize = 256;

/// What planning made of one item.
enum Planned {
    Entry {
        wire: Box<WireFile>,
        size: usize,
        strategy: ContentStrategy,
        bytes: u64,
        put: Option<PutOutcome>,
    },
    Skipped {
        path: String,
        reason: SkipReason,
    },
    Failed {
        path: String,
        message: String,
    },
    Deleted {
        path: RelPath,
    },
}

/// Shared by the planning futures.
struct PlanCtx {
    mode: StrategyMode,
    inline_limit: u64,
    avail: Availability,
    max_entry_bytes: usize,
    store: Option<ObjectStore>,
    store_up: AtomicBool,
    key_template: String,
    project: String,
    presign_expiry: Duration,
    git_url: Option<String>,
    commit: Option<String>,
    dry_run: bool,
}

impl PlanCtx {
    async fn plan(&self, item: Item) -> Planned {
        match item {
            Item::Skipped { path, reason } => Planned::Skipped { path, reason },
            Item::Failed { path, message } => Planned::Failed { path, message },
            Item::Deleted { path } => Planned::Deleted { path },
            Item::File(file) => self.plan_file(file).await,
        }
    }

    async fn plan_file(&self, file: SourceFile) -> Planned {
        let SourceFile {
            path,
            bytes,
            checksum,
            permit,
        } = file;
        let size = bytes.len() as u64;
        let base = WireFile {
            path: Some(path.to_string()),
            size: Some(size),
            checksum: Some(checksum.to_string()),
            ..WireFile::default()
        };
        let mut store_failed = false;
        for strategy in preferences(self.mode, size, self.inline_limit, self.avail) {
            let mut wire = base.clone();
            wire.content_strategy = Some(strategy.as_str().to_owned());
            let mut put = None;
            match strategy {
                ContentStrategy::Inline => {
                    let (content, encoding) = encode_inline(&bytes);
                    wire.content = Some(content);
                    wire.content_encoding = Some(encoding.as_str().to_owned());
                }
                ContentStrategy::ObjectStorage => {
                    let key = render_key(
                        &self.key_template,
                        &self.project,
                        &checksum,
                        path.extension(),
                    );
                    if !self.dry_run {
                        let Some(store) = self
                            .store
                            .as_ref()
                            .filter(|_| self.store_up.load(Ordering::Relaxed))
                        else {
                            store_failed = true;
                            continue;
                        };
                        match self
                            .store_object(store, &key, bytes.clone(), &checksum)
                            .await
                        {
                            Ok((outcome, url)) => {
                                put = Some(outcome);
                                if let Some(url) = url {
                                    wire.content_url = Some(url.url);
                                    wire.content_url_type = Some("s3_presigned".to_owned());
                                    wire.expires_at = url
                                        .expires_at
                                        .format(&time::format_description::well_known::Rfc3339)
                                        .ok();
                                }
                            }
                            Err(e) if e.is_retryable() => {
                                if self.store_up.swap(false, Ordering::Relaxed) {
                                    StoreUnavailable { error: &e }.emit();
                                }
                                store_failed = true;
                                continue;
                            }
                            Err(e) => {
                                return Planned::Failed {
                                    path: path.to_string(),
                                    message: format!(
                                        "object store refused the upload: {}",
                                        chain(&e)
                                    ),
                                };
                            }
                        }
                    }
                    wire.object_key = Some(key);
                }
                ContentStrategy::GitReference => {
                    wire.git_url = self.git_url.clone();
                    wire.git_ref = self.commit.clone();
                }
            }
            let entry_bytes = entry_size(&wire);
            if entry_bytes <= self.max_entry_bytes {
                return Planned::Entry {
                    wire: Box::new(wire),
                    size: entry_bytes,
                    strategy,
                    bytes: size,
                    put,
                };
            }
        }
        drop(permit);
        if store_failed {
            Planned::Failed {
                path: path.to_string(),
                message: "object store unavailable and the file is too large to go inline".into(),
            }
        } else {
            Planned::Skipped {
                path: path.to_string(),
                reason: SkipReason::NoStrategy,
            }
        }
    }

    async fn store_object(
        &self,
        store: &ObjectStore,
        key: &str,
        bytes: Bytes,
        checksum: &tributary_events::Sha256Hex,
    ) -> Result<
        (PutOutcome, Option<tributary_content::PresignedUrl>),
        tributary_content::ContentError,
    > {
        let t = Instant::now();
        let put = store.put_if_absent(key, bytes, checksum).await?;
        ObjectStored {
            uploaded: put == PutOutcome::Uploaded,
            elapsed: t.elapsed(),
        }
        .emit();
        let url = store.presign_get(key, self.presign_expiry).await?;
        Ok((put, url))
    }
}

/// Runs one publish. Errors are returned for what stops a run before anything was
/// produced (configuration, source, unreachable Kafka, a store that refuses us); what
/// goes wrong later is in the report, whose [`RunReport::ok`] says whether all went out.
pub async fn publish(cfg: Config, cancel: CancellationToken) -> Result<RunReport, PublishError> {
    cfg.validate()?;
    let started = Instant::now();
    let filter = Filter::new(&cfg.source.include, &cfg.source.exclude)?;

    let src_cfg = cfg.source.clone();
    let t = Instant::now();
    let resolved = tokio::task::spawn_blocking(move || source::resolve(&src_cfg))
        .await
        .expect("resolve task")?;
    if resolved.commit().is_some() {
        GitSourceResolved {
            elapsed: t.elapsed(),
            remote: crate::config::is_url(&cfg.source.repo),
        }
        .emit();
    }
    if cfg.strategy == StrategyMode::GitReference && resolved.git_url_for_refs.is_none() {
        return Err(PublishError::Config(
            "--content-strategy git-reference needs a git source and a URL consumers can fetch it from (--git-url)"
                .into(),
        ));
    }

    let store = ObjectStore::open(&cfg.storage.provider)
        .await
        .map_err(PublishError::Store)?;
    let mut store_up = store.is_some() && !cfg.dry_run;
    if let (Some(store), false) = (&store, cfg.dry_run) {
        match store.preflight().await {
            Ok(()) => {}
            Err(e) if e.is_retryable() => {
                StoreUnavailable { error: &e }.emit();
                store_up = false;
            }
            Err(e) => return Err(PublishError::Store(e)),
        }
    }
    let mut sink = if cfg.dry_run {
        None
    } else {
        Some(KafkaSink::connect(&cfg.kafka).await?)
    };

    let run_id = Uuid::now_v7();
    let commit = resolved.commit();
    let template = IndexProjectRequested {
        schema_version: V2_SCHEMA_VERSION.to_owned(),
        event_type: EVENT_INDEX_PROJECT_REQUESTED.to_owned(),
        event_id: Uuid::nil(),
        run_id,
        occurred_at: time::OffsetDateTime::now_utc(),
        project: cfg.project.clone(),
        source: resolved.event_source.clone(),
        git_credentials: cfg.source.git_credentials.clone().map(String::from),
        batch: 0,
        files: Vec::new(),
    };
    let mut batcher = Batcher::new(template, cfg.batch_max_files, cfg.batch_max_bytes);
    let ctx = Arc::new(PlanCtx {
        mode: cfg.strategy,
        inline_limit: cfg.inline_size_limit_bytes,
        avail: Availability {
            store_configured: store.is_some(),
            git_reference: resolved.git_url_for_refs.is_some(),
        },
        max_entry_bytes: batcher.max_entry_bytes(),
        store,
        store_up: AtomicBool::new(store_up),
        key_template: cfg.storage.key_template.clone(),
        project: cfg.project.clone(),
        presign_expiry: cfg.storage.presign_expiry,
        git_url: resolved.git_url_for_refs.clone(),
        commit: commit.clone(),
        dry_run: cfg.dry_run,
    });

    let mut report = RunReport {
        run_id,
        project: cfg.project.clone(),
        commit: commit.clone(),
        dry_run: cfg.dry_run,
        delta: matches!(resolved.kind, source::Kind::Commit { base: Some(_), .. }),
        ..RunReport::default()
    };
    let (rx, walker) = source::spawn_walk(
        resolved.kind.clone(),
        filter,
        cfg.source.max_file_size_bytes,
        cfg.read_budget_bytes,
        WALK_CHANNEL_CAPACITY,
    );
    let items =
        futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|i| (i, rx)) });
    let planned = items
        .map(|item| {
            let ctx = ctx.clone();
            async move { ctx.plan(item).await }
        })
        .buffer_unordered(cfg.upload_concurrency);
    // Boxed so that dropping it below really drops the receiver and frees the walker.
    let mut planned = Box::pin(planned);

    let mut progress = Progress::new(cfg.progress);
    loop {
        let next = tokio::select! {
            biased;
            () = cancel.cancelled() => { report.cancelled = true; break }
            next = planned.next() => next,
        };
        let Some(outcome) = next else { break };
        match outcome {
            Planned::Entry {
                wire,
                size,
                strategy,
                bytes,
                put,
            } => {
                report.files.add(strategy, 1);
                report.bytes.add(strategy, bytes);
                match put {
                    Some(PutOutcome::Uploaded) => report.uploaded += 1,
                    Some(PutOutcome::AlreadyPresent) => report.already_present += 1,
                    None => {}
                }
                if cfg.dry_run {
                    let path = wire.path.clone().unwrap_or_default();
                    report.plan.push(PlannedFile {
                        path,
                        strategy: strategy.as_str(),
                        size: bytes,
                    });
                } else {
                    FileEmitted { strategy, bytes }.emit();
                }
                if let Some(batch) = batcher.push(*wire, size) {
                    produce(&mut sink, &mut report, &cfg.project, batch).await;
                }
            }
            Planned::Deleted { path } => {
                report.deleted += 1;
                let wire = WireFile {
                    path: Some(path.to_string()),
                    change: Some(Change::Deleted.as_str().to_owned()),
                    ..WireFile::default()
                };
                let size = entry_size(&wire);
                // as for present files: a dry run batches (and counts) without producing
                if let Some(batch) = batcher.push(wire, size) {
                    produce(&mut sink, &mut report, &cfg.project, batch).await;
                }
            }
            Planned::Skipped { path, reason } => {
                FileSkipped {
                    path: &path,
                    reason,
                }
                .emit();
                report.skipped_total += 1;
                *report
                    .skipped_by_reason
                    .entry(reason.as_str().to_owned())
                    .or_default() += 1;
                if report.skipped.len() < LISTED_FILES_MAX {
                    report.skipped.push(SkippedFile {
                        path,
                        reason: reason.as_str().to_owned(),
                    });
                }
            }
            Planned::Failed { path, message } => {
                FileFailed {
                    path: &path,
                    message: &message,
                }
                .emit();
                report.failed_total += 1;
                if report.failed.len() < LISTED_FILES_MAX {
                    report.failed.push(FailedFile { path, message });
                }
            }
        }
        progress.update(
            report.files.total(),
            report.bytes.total(),
            report.batches_produced,
        );
    }
    drop(planned);
    let walked = tokio::task::spawn_blocking(move || walker.join())
        .await
        .expect("join walker");
    match walked {
        Ok(Ok(())) => {}
        Ok(Err(e)) if !report.cancelled => {
            report.failed_total += 1;
            report.failed.push(FailedFile {
                path: String::new(),
                message: chain(&e),
            });
        }
        Ok(Err(_)) => {}
        Err(_) => {
            report.failed_total += 1;
            report.failed.push(FailedFile {
                path: String::new(),
                message: "walker thread panicked".into(),
            });
        }
    }
    if !report.cancelled
        && let Some(batch) = batcher.take()
    {
        produce(&mut sink, &mut report, &cfg.project, batch).await;
    }
    progress.finish();

    if let Some(sink) = sink.as_mut() {
        sink.drain().await;
        report.batches_delivered = sink.delivered;
        for (batch, error) in &sink.failed {
            BatchFailed {
                batch: *batch,
                error,
            }
            .emit();
            report.batches_failed.push(*batch);
        }
        report.batches_failed.sort_unstable();
        if report.batches_failed.is_empty() && !report.cancelled {
            complete(
                sink,
                &mut report,
                &cfg,
                &resolved.event_source,
                batcher.batches(),
            )
            .await;
        }
    }
    report.duration_ms = started.elapsed().as_millis() as u64;
    RunFinished {
        elapsed: started.elapsed(),
        ok: report.ok(),
    }
    .emit();
    Ok(report)
}

async fn produce(
    sink: &mut Option<KafkaSink>,
    report: &mut RunReport,
    project: &str,
    batch: Batch,
) {
    report.batches_produced += 1;
    let Some(sink) = sink.as_mut() else { return };
    BatchProduced {
        bytes: batch.payload.len(),
    }
    .emit();
    let key = format!("{project}/{}/{}", batch.event.run_id, batch.number);
    sink.send(batch.number, key, batch.payload).await;
}

async fn complete(
    // `&mut`: a shared reference to the sink is not `Send` (its in-flight deliveries are
    // not `Sync`), and a run must be spawnable (watch mode runs it on a task)
    sink: &mut KafkaSink,
    report: &mut RunReport,
    cfg: &Config,
    source: &tributary_events::v2::Source,
    batches: u32,
) {
    let mut skipped = report.skipped.clone();
    let mut skipped_by_reason = report.skipped_by_reason.clone();
    if report.failed_total > 0 {
        *skipped_by_reason.entry("failed".into()).or_default() += report.failed_total;
        skipped.extend(report.failed.iter().map(|f| SkippedFile {
            path: f.path.clone(),
            reason: "failed".into(),
        }));
    }
    // The manifest stays small: the list is bounded, the counts are complete.
    skipped.truncate(LISTED_FILES_MAX);
    let event = IndexRunCompleted {
        schema_version: V2_SCHEMA_VERSION.to_owned(),
        event_type: EVENT_INDEX_RUN_COMPLETED.to_owned(),
        event_id: Uuid::now_v7(),
        run_id: report.run_id,
        occurred_at: time::OffsetDateTime::now_utc(),
        project: cfg.project.clone(),
        source: source.clone(),
        batches,
        files: report.files,
        bytes: report.bytes,
        deleted: report.deleted,
        skipped_total: report.skipped_total + report.failed_total,
        skipped,
        skipped_by_reason: skipped_by_reason.into_iter().collect::<BTreeMap<_, _>>(),
        commit: report.commit.clone(),
    };
    let payload = serde_json::to_vec(&event).expect("events serialize");
    let key = format!("{}/{}", cfg.project, report.run_id);
    match sink.send_and_wait(&key, &payload).await {
        Ok(()) => report.completed = true,
        Err(error) => BatchFailed {
            batch: batches,
            error: &error,
        }
        .emit(),
    }
}
