//! Everything the publisher reports about itself. Each struct is one occurrence and the
//! only place that both logs it and counts it. Labels come from closed sets only.

use std::time::Duration;

use metrics::{
    Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram,
};
use tributary_events::v2::ContentStrategy;

use crate::publish::walk::SkipReason;
use crate::watch::delivery::{Outcome, Provider};

/// Describes every metric of a publish run (`# HELP`, unit) and sets its counters to
/// zero for every label of their closed sets, so rates and ratios have a series from
/// start-up. Call once, after the recorder is installed.
pub fn register_ingestion() {
    describe_counter!(
        "tributary_ingestion_files_total",
        "Files published, by content strategy"
    );
    describe_counter!(
        "tributary_ingestion_bytes_total",
        Unit::Bytes,
        "Content bytes of the files published, by content strategy"
    );
    describe_counter!(
        "tributary_ingestion_skipped_files_total",
        "Files not published, by reason"
    );
    describe_counter!(
        "tributary_ingestion_failed_files_total",
        "Files that could not be read or published"
    );
    describe_counter!(
        "tributary_ingestion_batches_total",
        "Event batches acknowledged by the broker"
    );
    describe_counter!(
        "tributary_ingestion_batch_failures_total",
        "Event batches the broker did not acknowledge"
    );
    describe_histogram!(
        "tributary_ingestion_batch_size_bytes",
        Unit::Bytes,
        "Size of one produced event"
    );
    describe_histogram!(
        "tributary_ingestion_duration_seconds",
        Unit::Seconds,
        "Wall time of one publish run, by result"
    );
    describe_counter!(
        "tributary_storage_puts_total",
        "Content objects stored, by result (uploaded or already present)"
    );
    describe_histogram!(
        "tributary_storage_upload_duration_seconds",
        Unit::Seconds,
        "Time to store one content object"
    );
    describe_counter!(
        "tributary_storage_listings_total",
        "Listings of the objects under the run's prefix, by result"
    );
    describe_histogram!(
        "tributary_storage_listing_duration_seconds",
        Unit::Seconds,
        "Time to list the objects under the run's prefix"
    );
    describe_counter!(
        "tributary_storage_unavailable_total",
        "Times the object store was found unavailable during a run"
    );
    describe_counter!(
        "tributary_storage_recovered_total",
        "Times the object store answered again after being unavailable"
    );
    tributary_runtime::CostEstimated::register(tributary_events::cost::Component::Publisher);
    tributary_runtime::kafka::register_metrics();
    describe_counter!(
        "tributary_git_fallbacks_total",
        "Files sent as git references because the object store was unavailable"
    );
    describe_histogram!(
        "tributary_git_clone_duration_seconds",
        Unit::Seconds,
        "Time to clone or fetch a remote repository"
    );
    for name in [
        "tributary_ingestion_failed_files_total",
        "tributary_ingestion_batches_total",
        "tributary_ingestion_batch_failures_total",
        "tributary_storage_unavailable_total",
        "tributary_storage_recovered_total",
        "tributary_git_fallbacks_total",
    ] {
        counter!(name).absolute(0);
    }
    for strategy in ContentStrategy::ALL {
        for name in [
            "tributary_ingestion_files_total",
            "tributary_ingestion_bytes_total",
        ] {
            counter!(name, "content_strategy" => strategy.as_str()).absolute(0);
        }
    }
    for reason in SkipReason::ALL {
        counter!("tributary_ingestion_skipped_files_total", "reason" => reason.as_str())
            .absolute(0);
    }
    for result in ["uploaded", "already_present"] {
        counter!("tributary_storage_puts_total", "result" => result).absolute(0);
    }
    for result in ["listed", "too_many", "failed"] {
        counter!("tributary_storage_listings_total", "result" => result).absolute(0);
    }
}

/// [`register_ingestion`] for `watch`, with the watcher's own metrics.
pub fn register_watch() {
    register_ingestion();
    describe_gauge!(
        "tributary_watch_repositories",
        "Repositories the watcher keeps indexed"
    );
    describe_gauge!(
        "tributary_watch_branches",
        "Branches the watcher keeps indexed"
    );
    describe_counter!(
        "tributary_watch_polls_total",
        "Polls of a remote's branches, by result"
    );
    describe_counter!(
        "tributary_watch_webhook_deliveries_total",
        "Push webhook deliveries, by provider and result"
    );
    describe_counter!(
        "tributary_watch_commits_indexed_total",
        "Commits indexed, by kind (delta from the last indexed commit, or full)"
    );
    describe_histogram!(
        "tributary_watch_run_files",
        "Files published or deleted by one indexed commit"
    );
    describe_histogram!(
        "tributary_watch_push_to_publish_seconds",
        Unit::Seconds,
        "Time from a push webhook's arrival to its commit's events being acknowledged"
    );
    for result in ["ok", "failed"] {
        counter!("tributary_watch_polls_total", "result" => result).absolute(0);
    }
    for provider in Provider::ALL {
        for outcome in Outcome::ALL {
            counter!(
                "tributary_watch_webhook_deliveries_total",
                "provider" => provider.as_str(),
                "result" => outcome.as_str()
            )
            .absolute(0);
        }
    }
    for kind in ["delta", "full"] {
        counter!("tributary_watch_commits_indexed_total", "kind" => kind).absolute(0);
    }
}

/// What the learned model chose for a size class, and why (once per class and run).
#[derive(Debug)]
pub struct StrategyLearned<'a> {
    pub strategy: Option<ContentStrategy>,
    pub why: &'a str,
}

impl StrategyLearned<'_> {
    pub fn emit(&self) {
        tracing::info!(
            strategy = self.strategy.map_or("rules", ContentStrategy::as_str),
            why = self.why,
            "content strategy"
        );
    }
}

#[derive(Debug)]
pub struct FileEmitted {
    pub strategy: ContentStrategy,
    pub bytes: u64,
}

impl FileEmitted {
    pub fn emit(&self) {
        counter!("tributary_ingestion_files_total", "content_strategy" => self.strategy.as_str())
            .increment(1);
        counter!("tributary_ingestion_bytes_total", "content_strategy" => self.strategy.as_str())
            .increment(self.bytes);
    }
}

#[derive(Debug)]
pub struct FileSkipped<'a> {
    pub path: &'a str,
    pub reason: SkipReason,
}

impl FileSkipped<'_> {
    pub fn emit(&self) {
        tracing::debug!(
            path = self.path,
            reason = self.reason.as_str(),
            "file skipped"
        );
        counter!("tributary_ingestion_skipped_files_total", "reason" => self.reason.as_str())
            .increment(1);
    }
}

#[derive(Debug)]
pub struct FileFailed<'a> {
    pub path: &'a str,
    pub message: &'a str,
}

impl FileFailed<'_> {
    pub fn emit(&self) {
        tracing::error!(path = self.path, error = self.message, "file not published");
        counter!("tributary_ingestion_failed_files_total").increment(1);
    }
}

#[derive(Debug)]
pub struct ObjectStored {
    pub uploaded: bool,
    pub elapsed: Duration,
}

impl ObjectStored {
    pub fn emit(&self) {
        let result = if self.uploaded {
            "uploaded"
        } else {
            "already_present"
        };
        counter!("tributary_storage_puts_total", "result" => result).increment(1);
        histogram!("tributary_storage_upload_duration_seconds").record(self.elapsed.as_secs_f64());
    }
}

/// The run listed what the bucket holds under its prefix.
#[derive(Debug)]
pub struct ObjectsListed<'a> {
    /// The keys found (`None`: more than the run lists), or why listing failed.
    pub result: Result<Option<usize>, &'a tributary_content::ContentError>,
    pub elapsed: Duration,
}

impl ObjectsListed<'_> {
    pub fn emit(&self) {
        let result = match &self.result {
            Ok(Some(keys)) => {
                tracing::info!(
                    keys,
                    elapsed_ms = self.elapsed.as_millis() as u64,
                    "objects listed"
                );
                "listed"
            }
            Ok(None) => {
                tracing::info!("too many objects under the prefix to list; checking each");
                "too_many"
            }
            Err(e) => {
                tracing::warn!(error = %tributary_runtime::chain(*e), "listing objects failed; checking each (grant s3:ListBucket / storage.objects.list to save a request per object)");
                "failed"
            }
        };
        counter!("tributary_storage_listings_total", "result" => result).increment(1);
        histogram!("tributary_storage_listing_duration_seconds").record(self.elapsed.as_secs_f64());
    }
}

#[derive(Debug)]
pub struct StoreUnavailable<'a> {
    pub error: &'a (dyn std::error::Error + 'static),
}

impl StoreUnavailable<'_> {
    pub fn emit(&self) {
        tracing::warn!(
            error = %tributary_runtime::chain(self.error),
            "object store unavailable: falling back to inline for files that fit, failing the others, probing it every few seconds"
        );
        counter!("tributary_storage_unavailable_total").increment(1);
    }
}

/// The URL consumers would fetch git references from did not answer the publisher: the
/// run's files go inline or by object storage instead (their bytes are at hand).
#[derive(Debug)]
pub struct GitReferenceFallback<'a> {
    pub url: &'a str,
    pub attempts: u32,
    pub error: &'a (dyn std::error::Error + 'static),
}

impl GitReferenceFallback<'_> {
    pub fn emit(&self) {
        tracing::warn!(
            git_url = %tributary_events::redact::redact_text(self.url).escape_debug(),
            attempts = self.attempts,
            error = %tributary_events::redact::redact_text(&tributary_runtime::chain(self.error)),
            "the git URL consumers fetch from does not answer: this run's files go inline or by object storage instead of git references"
        );
        counter!("tributary_git_fallbacks_total").increment(1);
    }
}

/// The publisher could not confirm that consumers can fetch git references (the remote
/// refused its credentials or host key); the run still uses them — consumers use their
/// own credentials.
#[derive(Debug)]
pub struct GitReferenceUnverified<'a> {
    pub url: &'a str,
    pub error: &'a (dyn std::error::Error + 'static),
}

impl GitReferenceUnverified<'_> {
    pub fn emit(&self) {
        tracing::warn!(
            git_url = %tributary_events::redact::redact_text(self.url).escape_debug(),
            error = %tributary_events::redact::redact_text(&tributary_runtime::chain(self.error)),
            "cannot confirm that consumers can fetch git references from this URL (it refused the publisher); using them anyway"
        );
    }
}

#[derive(Debug)]
pub struct StoreBack;

impl StoreBack {
    pub fn emit(&self) {
        tracing::info!("object store answers again: files go by object storage again");
        counter!("tributary_storage_recovered_total").increment(1);
    }
}

#[derive(Debug)]
pub struct BatchProduced {
    pub bytes: usize,
}

impl BatchProduced {
    pub fn emit(&self) {
        counter!("tributary_ingestion_batches_total").increment(1);
        histogram!("tributary_ingestion_batch_size_bytes").record(self.bytes as f64);
    }
}

#[derive(Debug)]
pub struct BatchFailed<'a> {
    pub batch: u32,
    pub error: &'a rdkafka::error::KafkaError,
}

impl BatchFailed<'_> {
    pub fn emit(&self) {
        tracing::error!(batch = self.batch, error = %self.error, "batch not delivered");
        counter!("tributary_ingestion_batch_failures_total").increment(1);
    }
}

#[derive(Debug)]
pub struct GitSourceResolved {
    pub elapsed: Duration,
    pub remote: bool,
}

impl GitSourceResolved {
    pub fn emit(&self) {
        if self.remote {
            histogram!("tributary_git_clone_duration_seconds").record(self.elapsed.as_secs_f64());
        }
    }
}

#[derive(Debug)]
pub struct RunFinished {
    pub elapsed: Duration,
    pub ok: bool,
}

impl RunFinished {
    pub fn emit(&self) {
        let result = if self.ok { "ok" } else { "failed" };
        histogram!("tributary_ingestion_duration_seconds", "result" => result)
            .record(self.elapsed.as_secs_f64());
    }
}

#[derive(Debug)]
pub struct WatchTargets {
    pub repositories: usize,
    pub branches: usize,
}

impl WatchTargets {
    pub fn emit(&self) {
        tracing::info!(
            repositories = self.repositories,
            branches = self.branches,
            "watching"
        );
        gauge!("tributary_watch_repositories").set(self.repositories as f64);
        gauge!("tributary_watch_branches").set(self.branches as f64);
    }
}

#[derive(Debug)]
pub struct WatchPolled {
    pub ok: bool,
}

impl WatchPolled {
    pub fn emit(&self) {
        let result = if self.ok { "ok" } else { "failed" };
        counter!("tributary_watch_polls_total", "result" => result).increment(1);
    }
}

#[derive(Debug)]
pub struct WebhookDelivery {
    pub provider: Provider,
    pub outcome: Outcome,
}

impl WebhookDelivery {
    pub fn emit(&self) {
        let (provider, result) = (self.provider.as_str(), self.outcome.as_str());
        if self.outcome.is_rejection() {
            tracing::warn!(provider, result, "webhook delivery rejected");
        } else {
            tracing::info!(provider, result, "webhook delivery");
        }
        counter!("tributary_watch_webhook_deliveries_total", "provider" => provider, "result" => result)
            .increment(1);
    }
}

#[derive(Debug)]
pub struct WatchRunFinished<'a> {
    pub project: &'a str,
    pub branch: &'a str,
    pub commit: &'a str,
    pub delta: bool,
    pub files: u64,
    pub deleted: u64,
    pub elapsed: Duration,
    pub push_to_publish: Option<Duration>,
}

impl WatchRunFinished<'_> {
    pub fn emit(&self) {
        let kind = if self.delta { "delta" } else { "full" };
        tracing::info!(
            project = self.project,
            branch = self.branch,
            commit = self.commit,
            kind,
            files = self.files,
            deleted = self.deleted,
            elapsed_ms = self.elapsed.as_millis() as u64,
            "commit indexed"
        );
        counter!("tributary_watch_commits_indexed_total", "kind" => kind).increment(1);
        histogram!("tributary_watch_run_files", "kind" => kind)
            .record((self.files + self.deleted) as f64);
        if let Some(d) = self.push_to_publish {
            histogram!("tributary_watch_push_to_publish_seconds").record(d.as_secs_f64());
        }
    }
}
