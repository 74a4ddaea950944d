//! A publisher run, one stage per module: resolve the source (`source`), walk it
//! (`walk`, through the `filter`), plan each file into a typed `FileSpec` (`plan`,
//! uploading first what goes by object storage), batch the wire entries (`batch`),
//! produce them (`sink`), and close the run with its manifest; `report` accounts for
//! every file on the way.
//!
//! Order matters: an object is uploaded (and its URL presigned) before the entry that
//! references it can enter a batch, and `index_run_completed` is produced only after
//! every batch was acknowledged.

pub mod attributes;
pub mod batch;
pub mod count;
pub mod filter;
pub mod history;
pub mod plan;
pub mod report;
pub mod sink;
pub mod source;
pub mod walk;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use futures::StreamExt as _;
use tokio_util::sync::CancellationToken;
use tributary_content::ObjectStore;
use tributary_events::cost::Component;
use tributary_events::v2::{
    EVENT_INDEX_PROJECT_REQUESTED, IndexProjectRequested, V2_SCHEMA_VERSION,
};
use uuid::Uuid;

use crate::config::{Config, RunTarget, Settings, StrategyMode};
use crate::error::{ConfigError, PublishError};
use crate::internal_events::{
    BatchFailed, BatchProduced, GitReferenceFallback, GitReferenceUnverified, GitSourceResolved,
    RunFinished, StoreUnavailable,
};
use crate::telemetry::Progress;
use batch::{Batch, Batcher};
use plan::{Availability, Planner};
use report::{GitFallback, RunReport};
use sink::KafkaSink;
use source::Resolved;

/// Items buffered between the walker threads and the pipeline.
const WALK_CHANNEL_CAPACITY: usize = 256;

/// Runs one publish: [`Config::validate`], then [`run`].
pub async fn publish(cfg: Config, cancel: CancellationToken) -> Result<RunReport, PublishError> {
    cfg.validate()?;
    run(&cfg.settings, cfg.target, cancel).await
}

/// Runs one publish of `target` with validated `settings`. Errors are returned for what
/// stops a run before anything was produced (the source, unreachable Kafka, a store that
/// refuses us); what goes wrong later is in the report, whose [`RunReport::ok`] says
/// whether all went out.
pub async fn run(
    settings: &Settings,
    target: RunTarget,
    cancel: CancellationToken,
) -> Result<RunReport, PublishError> {
    let started = Instant::now();
    let cpu_started = tributary_runtime::process_cpu_seconds();
    let dry_run = target.dry_run;
    let resolved = resolve(settings, &target).await?;
    if settings.strategy == StrategyMode::GitReference && resolved.git_url_for_refs.is_none() {
        return Err(ConfigError::GitReferenceWithoutUrl.into());
    }
    let git_fallback = check_git_reference(settings, &target, &resolved).await;
    let (store, store_up) = open_store(settings, dry_run).await?;
    let mut sink = match dry_run {
        true => None,
        false => Some(KafkaSink::connect(&settings.kafka).await?),
    };

    let run_id = Uuid::now_v7();
    let mut batcher = Batcher::new(
        envelope(&target, &resolved, run_id),
        settings.batch_max_files,
        settings.batch_max_bytes,
    );
    let planner = Arc::new(planner(
        settings,
        &target,
        &resolved,
        &batcher,
        store,
        store_up,
        git_fallback.is_none(),
    ));
    let mut report = RunReport {
        run_id,
        project: target.project.to_string(),
        commit: resolved.commit(),
        dry_run,
        delta: resolved.is_delta(),
        git_fallback,
        portfolio_id: target.portfolio_id,
        ..RunReport::default()
    };

    // Walk → plan (uploads in parallel, bounded) → account → batch → produce.
    let (rx, walker) = walk::spawn_walk(
        resolved.kind.clone(),
        history::HistoryRequest::for_run(settings, &target),
        settings.filter.clone(),
        settings.max_file_size_bytes,
        settings.read_budget_bytes,
        WALK_CHANNEL_CAPACITY,
    );
    let items =
        futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|i| (i, rx)) });
    let planned = items
        .map(|item| {
            let planner = planner.clone();
            async move { planner.plan(item).await }
        })
        .buffer_unordered(settings.upload_concurrency);
    // Boxed so that dropping it below really drops the receiver and frees the walker.
    let mut planned = Box::pin(planned);
    let mut progress = Progress::new(target.progress);
    if progress.shown() {
        progress.expect(count::spawn_count(
            resolved.kind.clone(),
            settings.filter.clone(),
        ));
    }
    loop {
        let next = tokio::select! {
            biased;
            () = cancel.cancelled() => { report.cancelled = true; break }
            next = planned.next() => next,
        };
        let Some(planned) = next else { break };
        if let Some(entry) = report.record(planned)
            && let Some(batch) = batcher.push(entry.wire, entry.wire_bytes)
        {
            produce(&mut sink, &mut report, batch).await;
        }
        progress.update(report.progress());
    }
    drop(planned);
    join_walker(walker, &mut report).await;
    if !report.cancelled
        && let Some(batch) = batcher.take()
    {
        produce(&mut sink, &mut report, batch).await;
    }
    progress.finish(report.progress());
    report.usage.add(
        &planner
            .usage
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    );
    if dry_run {
        // nothing was asked of the store: estimate as if every object were new (an
        // upper bound), each checked with a HEAD and written with a PUT
        report.usage.object_puts += report.files.object_storage;
        report.usage.object_gets += report.files.object_storage;
        report.usage.bytes_stored += report.bytes.object_storage;
    }
    report.usage.cpu_seconds = tributary_runtime::process_cpu_seconds() - cpu_started;
    report.cost = Some(
        settings
            .prices
            .run_cost(&[(Component::Publisher, report.usage)]),
    );

    if let Some(sink) = sink.as_mut() {
        settle(sink, &mut report).await;
        if report.batches_failed.is_empty() && !report.cancelled {
            complete(sink, &mut report, &resolved, batcher.batches()).await;
        }
    }
    if let (Some(path), Some(model), false) = (&settings.strategy_model, &planner.model, dry_run) {
        let model = model
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        if let Err(e) = model.save(path) {
            tracing::warn!(error = %tributary_runtime::chain(&e), "strategy model not saved; the run's observations are lost");
        }
    }
    report.duration_ms = started.elapsed().as_millis() as u64;
    if !dry_run && let Some(cost) = &report.cost {
        tributary_runtime::CostEstimated {
            component: Component::Publisher,
            usd: cost.total_usd,
        }
        .emit();
    }
    RunFinished {
        elapsed: started.elapsed(),
        ok: report.ok(),
    }
    .emit();
    Ok(report)
}

/// Resolves the target on a blocking thread (git I/O).
async fn resolve(settings: &Settings, target: &RunTarget) -> Result<Resolved, PublishError> {
    let t = Instant::now();
    let for_task = target.clone();
    let auth = source::auth(settings, target);
    let resolved = tokio::task::spawn_blocking(move || source::resolve(&for_task, &auth))
        .await
        .map_err(|_| PublishError::TaskPanicked("source resolution"))??;
    if resolved.commit().is_some() {
        GitSourceResolved {
            elapsed: t.elapsed(),
            remote: crate::config::is_url(&target.repo),
        }
        .emit();
    }
    Ok(resolved)
}

/// Opens the object store and checks it: `(store, up)`. A store that refuses us stops
/// the run; one that is down only turns object storage off until files fall back.
async fn open_store(
    settings: &Settings,
    dry_run: bool,
) -> Result<(Option<ObjectStore>, bool), PublishError> {
    let store = ObjectStore::open(&settings.storage.provider)
        .await
        .map_err(PublishError::Store)?;
    let up = match (&store, dry_run) {
        (Some(store), false) => match store.preflight().await {
            Ok(()) => true,
            Err(e) if e.is_retryable() => {
                StoreUnavailable { error: &e }.emit();
                false
            }
            Err(e) => return Err(PublishError::Store(e)),
        },
        _ => false,
    };
    Ok((store, up))
}

/// The envelope every batch of the run shares (its files are added per batch).
fn envelope(target: &RunTarget, resolved: &Resolved, run_id: Uuid) -> IndexProjectRequested {
    IndexProjectRequested {
        schema_version: V2_SCHEMA_VERSION.to_owned(),
        event_type: EVENT_INDEX_PROJECT_REQUESTED.to_owned(),
        event_id: Uuid::nil(),
        run_id,
        occurred_at: time::OffsetDateTime::now_utc(),
        project: target.project.to_string(),
        source: resolved.event_source.clone(),
        git_credentials: target
            .git_credentials
            .as_ref()
            .map(|c| tributary_events::v2::credential_name_on_wire(&c.name)),
        batch: 0,
        files: Vec::new(),
    }
}

/// Attempts at reaching the URL consumers fetch git references from before the run
/// gives up on git references.
const GIT_REFERENCE_ATTEMPTS: u32 = 3;

/// Whether consumers will be able to fetch this run's git references: when the URL they
/// fetch from is not one the publisher just fetched (a remote `--repo`, watch mode's
/// mirror), it is asked for its references
/// (with the publisher's credentials) up to three times, 1 s then 2 s apart. A remote
/// that does not answer makes the run fall back to inline and object storage — every
/// file's bytes are at hand — and says so; a remote that refuses the publisher's
/// credentials or host key is only warned about (consumers use their own).
async fn check_git_reference(
    settings: &Settings,
    target: &RunTarget,
    resolved: &Resolved,
) -> Option<GitFallback> {
    let url = resolved.git_url_for_refs.as_deref()?;
    let planned = matches!(
        settings.strategy,
        StrategyMode::GitReference | StrategyMode::Auto
    );
    let just_fetched = target.git_url_fetched || url == target.repo;
    if !planned || target.dry_run || just_fetched || resolved.commit().is_none() {
        return None;
    }
    let auth = source::auth(settings, target);
    let mut last = None;
    for attempt in 1..=GIT_REFERENCE_ATTEMPTS {
        let (u, a) = (url.to_owned(), auth.clone());
        let answer = tokio::task::spawn_blocking(move || tributary_content::git::ls_remote(&u, &a))
            .await
            .ok()?;
        match answer {
            Ok(_) => return None,
            Err(e @ tributary_content::ContentError::GitUnavailable { .. }) => {
                last = Some(e);
                if attempt < GIT_REFERENCE_ATTEMPTS {
                    tokio::time::sleep(std::time::Duration::from_secs(u64::from(attempt))).await;
                }
            }
            Err(e) => {
                GitReferenceUnverified { url, error: &e }.emit();
                return None;
            }
        }
    }
    let e = last?;
    GitReferenceFallback {
        url,
        attempts: GIT_REFERENCE_ATTEMPTS,
        error: &e,
    }
    .emit();
    Some(GitFallback {
        git_url: tributary_events::redact::redact_text(url),
        attempts: GIT_REFERENCE_ATTEMPTS,
        error: tributary_events::redact::redact_text(&tributary_runtime::chain(&e)),
    })
}

fn planner(
    settings: &Settings,
    target: &RunTarget,
    resolved: &Resolved,
    batcher: &Batcher,
    store: Option<ObjectStore>,
    store_up: bool,
    git_reachable: bool,
) -> Planner {
    let git = resolved
        .git_url_for_refs
        .clone()
        .zip(resolved.commit())
        .filter(|_| git_reachable);
    Planner {
        mode: settings.strategy,
        inline_limit: settings.inline_size_limit_bytes,
        avail: Availability {
            store_configured: store.is_some(),
            git_reference: git.is_some(),
        },
        max_entry_bytes: batcher.max_entry_bytes(),
        store,
        store_up: AtomicBool::new(store_up),
        last_probe: std::sync::Mutex::new(None),
        key_template: settings.storage.key_template.clone(),
        project: target.project.clone(),
        presign_expiry: settings.storage.presign_expiry,
        git,
        dry_run: target.dry_run,
        objects: std::sync::atomic::AtomicU64::new(0),
        listing: tokio::sync::OnceCell::new(),
        usage: std::sync::Mutex::new(Default::default()),
        model: settings
            .strategy_model
            .as_deref()
            .map(|p| std::sync::Mutex::new(crate::learn::StrategyModel::load(p))),
        prices: settings.prices.clone(),
        explained: std::sync::Mutex::new(Default::default()),
    }
}

/// Waits for the walker thread; its failure (unless the run was cancelled) fails the run.
async fn join_walker(
    walker: std::thread::JoinHandle<Result<(), PublishError>>,
    report: &mut RunReport,
) {
    let walked = tokio::task::spawn_blocking(move || walker.join()).await;
    match walked {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(e))) if !report.cancelled => {
            report.fail(String::new(), tributary_runtime::chain(&e));
        }
        Ok(Ok(Err(_))) => {}
        Ok(Err(_)) | Err(_) => report.fail(String::new(), "walker thread panicked".into()),
    }
}

/// Hands a batch to the sink (a dry run only counts it).
async fn produce(sink: &mut Option<KafkaSink>, report: &mut RunReport, batch: Batch) {
    report.batches_produced += 1;
    let key = format!("{}/{}/{}", report.project, batch.event.run_id, batch.number);
    // a dry run counts what it would produce: its cost estimate
    report.usage.kafka_bytes_produced += (key.len() + batch.payload.len()) as u64;
    let Some(sink) = sink.as_mut() else { return };
    BatchProduced {
        bytes: batch.payload.len(),
    }
    .emit();
    sink.send(batch.number, key, batch.payload).await;
}

/// Waits for every delivery report and records what was and was not delivered.
async fn settle(sink: &mut KafkaSink, report: &mut RunReport) {
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
}

/// Produces the run's manifest and waits for its acknowledgement.
async fn complete(
    // `&mut`: a shared reference to the sink is not `Send` (its in-flight deliveries are
    // not `Sync`), and a run must be spawnable (watch mode runs it on a task)
    sink: &mut KafkaSink,
    report: &mut RunReport,
    resolved: &Resolved,
    batches: u32,
) {
    let event = report.manifest(&resolved.event_source, batches);
    let payload = serde_json::to_vec(&event).expect("events serialize");
    let key = format!("{}/{}", report.project, report.run_id);
    match sink.send_and_wait(&key, &payload).await {
        Ok(()) => report.completed = true,
        Err(error) => BatchFailed {
            batch: batches,
            error: &error,
        }
        .emit(),
    }
}

/// One repository of a portfolio run: its report, or why it could not run.
#[derive(Debug, serde::Serialize)]
pub struct PortfolioRun {
    pub repo: String,
    pub project: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<RunReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What a portfolio run did: every repository's run, in order.
#[derive(Debug, serde::Serialize)]
pub struct PortfolioReport {
    pub portfolio_id: Option<uuid::Uuid>,
    pub ok: bool,
    pub runs: Vec<PortfolioRun>,
}

impl PortfolioReport {
    /// The runs' summaries, then one line for the portfolio.
    pub fn summary(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::new();
        let n = self.runs.len();
        let (mut files, mut bytes, mut failed) = (0u64, 0u64, 0usize);
        for (i, r) in self.runs.iter().enumerate() {
            let _ = writeln!(s, "== [{}/{n}] {} ({})", i + 1, r.project, r.repo);
            match (&r.report, &r.error) {
                (Some(report), _) => {
                    s.push_str(&report.summary());
                    s.push('\n');
                    files += report.files.total();
                    bytes += report.bytes.total();
                    failed += usize::from(!report.ok());
                }
                (None, error) => {
                    let _ = writeln!(
                        s,
                        "NOT published: {}",
                        error.as_deref().unwrap_or("no report")
                    );
                    failed += 1;
                }
            }
        }
        let _ = write!(
            s,
            "portfolio {}: {n} repositories, {} ok, {failed} failed; {files} files, {}",
            self.portfolio_id.map(|p| p.to_string()).unwrap_or_default(),
            n - failed,
            crate::telemetry::human_size(bytes),
        );
        s
    }
}

/// Publishes several repositories one after the other as one portfolio run. A
/// repository that cannot be published fails alone; the others go on. Stops at the
/// next repository when `cancel` fires.
pub async fn portfolio(configs: Vec<Config>, cancel: CancellationToken) -> PortfolioReport {
    let portfolio_id = configs.first().and_then(|c| c.target.portfolio_id);
    let n = configs.len();
    let mut runs = Vec::with_capacity(n);
    for (i, cfg) in configs.into_iter().enumerate() {
        if cancel.is_cancelled() {
            break;
        }
        let (repo, project) = (cfg.target.repo.clone(), cfg.target.project.to_string());
        tracing::info!(repository = i + 1, of = n, %project, "publishing");
        let result = publish(cfg, cancel.clone()).await;
        runs.push(match result {
            Ok(report) => PortfolioRun {
                repo,
                project,
                report: Some(report),
                error: None,
            },
            Err(e) => PortfolioRun {
                repo,
                project,
                report: None,
                error: Some(tributary_runtime::chain(&e)),
            },
        });
    }
    let ok = runs.len() == n
        && runs
            .iter()
            .all(|r| r.report.as_ref().is_some_and(RunReport::ok));
    PortfolioReport {
        portfolio_id,
        ok,
        runs,
    }
}
