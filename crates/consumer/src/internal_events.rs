//! Everything the consumer reports about itself: one struct per occurrence, the only
//! place that both logs and counts it. Labels come from closed sets only.

use std::time::Duration;

use metrics::{
    Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram,
};
use tributary_content::cache::Evicted;
use tributary_events::dlq::{Reason, Stage};

use crate::tier::{Cache, Tier};

/// Describes every metric the consumer exports (`# HELP`, unit) and sets its counters
/// to zero for every label of their closed sets, so a rate or a ratio has a series from
/// start-up (an alert on `rate(dlq) / rate(files)` must not wait for the first failure).
/// Call once, after the recorder is installed.
pub fn register() {
    use crate::analysis_cache::{Entry, Lookup};
    describe_counter!(
        "tributary_consumer_events_total",
        "Index events whose outputs were all acknowledged"
    );
    describe_counter!(
        "tributary_consumer_files_total",
        "Files given a document, by where their content came from (recalled: rebuilt from the analysis cache)"
    );
    describe_counter!(
        "tributary_consumer_bytes_total",
        Unit::Bytes,
        "Content bytes of the files given a document"
    );
    describe_counter!(
        "tributary_consumer_dlq_total",
        "Dead-letter records written, by reason"
    );
    describe_counter!(
        "tributary_consumer_local_faults_total",
        "Faults of this consumer (not of the input) that made a partition wait and retry"
    );
    describe_counter!(
        "tributary_consumer_output_failures_total",
        "Outputs the broker did not acknowledge (the event is redelivered)"
    );
    describe_counter!(
        "tributary_consumer_reports_total",
        "Project reports written to the object store, by result"
    );
    describe_counter!(
        "tributary_hub_writes_total",
        "Knowledge hub objects written, or not written after their retries, by result"
    );
    describe_counter!(
        "tributary_hub_rollups_skipped_total",
        "Portfolio rollups not rebuilt: more projects than one rollup reads"
    );
    describe_counter!(
        "tributary_cache_hits_total",
        "Content lookups answered by a cache tier"
    );
    describe_counter!(
        "tributary_cache_misses_total",
        "Content lookups a cache tier could not answer"
    );
    describe_counter!(
        "tributary_cache_corrupt_total",
        "Cache entries whose checksum did not verify (evicted and fetched again)"
    );
    describe_counter!(
        "tributary_cache_evictions_total",
        "Entries evicted from a content cache to stay within its budget"
    );
    describe_counter!(
        "tributary_cache_write_failures_total",
        "Content cache writes that failed (the file is still processed)"
    );
    describe_gauge!(
        "tributary_cache_size_bytes",
        Unit::Bytes,
        "Bytes held by a content cache"
    );
    describe_gauge!("tributary_cache_entries", "Entries held by a content cache");
    describe_gauge!(
        "tributary_cache_volume_free_bytes",
        Unit::Bytes,
        "Free space on the volume of a cache folder"
    );
    describe_gauge!(
        "tributary_cache_volume_size_bytes",
        Unit::Bytes,
        "Total space of the volume of a cache folder"
    );
    describe_gauge!(
        "tributary_dependency_up",
        "1 when the last readiness check of a dependency passed, else 0"
    );
    describe_histogram!(
        "tributary_storage_download_duration_seconds",
        Unit::Seconds,
        "Time to download one object's content (object store or presigned URL)"
    );
    describe_histogram!(
        "tributary_git_fetch_duration_seconds",
        Unit::Seconds,
        "Time to read one file from a git repository (clone or fetch included)"
    );
    describe_histogram!(
        "tributary_consumer_stage_duration_seconds",
        Unit::Seconds,
        "Time one file spent in a stage: resolve, analyse, or recall"
    );
    describe_histogram!(
        "tributary_consumer_event_duration_seconds",
        Unit::Seconds,
        "Time from an event's arrival to its outputs' acknowledgement"
    );
    describe_histogram!(
        "tributary_consumer_event_age_seconds",
        Unit::Seconds,
        "Time from an event's publication (its Kafka timestamp) to its outputs' acknowledgement"
    );
    describe_gauge!(
        "tributary_consumer_lag_messages",
        "Messages not yet consumed on the partitions this instance owns"
    );
    describe_gauge!(
        "tributary_consumer_lag_seconds",
        Unit::Seconds,
        "Age of the last event whose outputs were acknowledged"
    );
    describe_counter!(
        "tributary_analysis_cache_lookups_total",
        "Analysis cache lookups, by entry kind and result"
    );
    describe_counter!(
        "tributary_analysis_cache_evictions_total",
        "Analysis cache entries evicted to stay within its bounds"
    );
    describe_counter!(
        "tributary_analysis_cache_updates_dropped_total",
        "Analysis cache updates dropped because its writer was behind"
    );
    describe_counter!(
        "tributary_analysis_cache_write_failures_total",
        "Analysis cache batches that could not be committed"
    );
    describe_gauge!(
        "tributary_analysis_cache_entries",
        "Entries held by the analysis cache"
    );
    describe_gauge!(
        "tributary_analysis_cache_size_bytes",
        Unit::Bytes,
        "Bytes held by the analysis cache"
    );
    describe_gauge!(
        "tributary_analysis_cache_enabled",
        "1 when the analysis cache is in use, 0 when the consumer runs without it"
    );

    tributary_runtime::CostEstimated::register(tributary_events::cost::Component::Consumer);
    tributary_runtime::kafka::register_metrics();
    for name in [
        "tributary_consumer_events_total",
        "tributary_consumer_bytes_total",
        "tributary_consumer_local_faults_total",
        "tributary_consumer_output_failures_total",
        "tributary_analysis_cache_evictions_total",
        "tributary_analysis_cache_updates_dropped_total",
        "tributary_analysis_cache_write_failures_total",
    ] {
        counter!(name).absolute(0);
    }
    for tier in Tier::ALL {
        counter!("tributary_consumer_files_total", "source" => tier.as_str()).absolute(0);
    }
    counter!("tributary_consumer_files_total", "source" => "recalled").absolute(0);
    for reason in Reason::ALL {
        counter!("tributary_consumer_dlq_total", "reason" => reason.as_str()).absolute(0);
    }
    for result in ["written", "failed", "index_skipped"] {
        counter!("tributary_consumer_reports_total", "result" => result).absolute(0);
    }
    for result in ["written", "failed"] {
        counter!("tributary_hub_writes_total", "result" => result).absolute(0);
    }
    counter!("tributary_hub_rollups_skipped_total").absolute(0);
    for cache in Cache::ALL {
        for name in [
            "tributary_cache_hits_total",
            "tributary_cache_misses_total",
            "tributary_cache_corrupt_total",
            "tributary_cache_evictions_total",
        ] {
            counter!(name, "cache" => cache.as_str()).absolute(0);
        }
    }
    counter!("tributary_cache_write_failures_total", "cache" => "disk").absolute(0);
    for entry in Entry::ALL {
        for result in Lookup::ALL {
            counter!(
                "tributary_analysis_cache_lookups_total",
                "entry" => entry.as_str(),
                "result" => result.as_str()
            )
            .absolute(0);
        }
    }
}

/// The last readiness check of one dependency, and the space on a cache folder's
/// volume (both from `telemetry::Readiness`).
#[derive(Debug)]
pub struct DependencyChecked {
    pub dependency: crate::telemetry::Dependency,
    pub up: bool,
}

impl DependencyChecked {
    pub fn emit(&self) {
        gauge!("tributary_dependency_up", "dependency" => self.dependency.as_str())
            .set(if self.up { 1.0 } else { 0.0 });
    }
}

#[derive(Debug)]
pub struct CacheVolumeMeasured {
    pub cache: crate::telemetry::CacheFolder,
    pub free_bytes: u64,
    pub size_bytes: u64,
}

impl CacheVolumeMeasured {
    pub fn emit(&self) {
        gauge!("tributary_cache_volume_free_bytes", "cache" => self.cache.as_str())
            .set(self.free_bytes as f64);
        gauge!("tributary_cache_volume_size_bytes", "cache" => self.cache.as_str())
            .set(self.size_bytes as f64);
    }
}

#[derive(Debug)]
pub struct CacheLookup {
    pub cache: Cache,
    pub hit: bool,
    pub corrupt: bool,
}

impl CacheLookup {
    pub fn emit(&self) {
        if self.hit {
            counter!("tributary_cache_hits_total", "cache" => self.cache.as_str()).increment(1);
        } else {
            counter!("tributary_cache_misses_total", "cache" => self.cache.as_str()).increment(1);
        }
        if self.corrupt {
            tracing::warn!(
                cache = self.cache.as_str(),
                "corrupt cache entry evicted; refetching"
            );
            counter!("tributary_cache_corrupt_total", "cache" => self.cache.as_str()).increment(1);
        }
    }
}

#[derive(Debug)]
pub struct CacheStored {
    pub cache: Cache,
    pub evicted: Evicted,
    pub usage: (u64, u64),
}

impl CacheStored {
    pub fn emit(&self) {
        counter!("tributary_cache_evictions_total", "cache" => self.cache.as_str())
            .increment(self.evicted.entries);
        gauge!("tributary_cache_size_bytes", "cache" => self.cache.as_str())
            .set(self.usage.1 as f64);
        gauge!("tributary_cache_entries", "cache" => self.cache.as_str()).set(self.usage.0 as f64);
    }
}

#[derive(Debug)]
pub struct Fetched {
    pub tier: Tier,
    pub elapsed: Duration,
}

impl Fetched {
    pub fn emit(&self) {
        let name = match self.tier {
            Tier::Git => "tributary_git_fetch_duration_seconds",
            _ => "tributary_storage_download_duration_seconds",
        };
        histogram!(name, "source" => self.tier.as_str()).record(self.elapsed.as_secs_f64());
    }
}

#[derive(Debug)]
pub struct FileProcessed {
    pub tier: Tier,
    pub bytes: u64,
    pub resolve: Duration,
    pub analyse: Duration,
}

impl FileProcessed {
    pub fn emit(&self) {
        counter!("tributary_consumer_files_total", "source" => self.tier.as_str()).increment(1);
        counter!("tributary_consumer_bytes_total").increment(self.bytes);
        histogram!("tributary_consumer_stage_duration_seconds", "stage" => "resolve")
            .record(self.resolve.as_secs_f64());
        histogram!("tributary_consumer_stage_duration_seconds", "stage" => "analyse")
            .record(self.analyse.as_secs_f64());
    }
}

/// A file whose document was rebuilt from the analysis cache: seen before with the
/// same bytes, neither fetched nor analysed.
#[derive(Debug)]
pub struct FileRecalled {
    pub bytes: u64,
    pub elapsed: Duration,
}

impl FileRecalled {
    pub fn emit(&self) {
        counter!("tributary_consumer_files_total", "source" => "recalled").increment(1);
        counter!("tributary_consumer_bytes_total").increment(self.bytes);
        histogram!("tributary_consumer_stage_duration_seconds", "stage" => "recall")
            .record(self.elapsed.as_secs_f64());
    }
}

#[derive(Debug)]
pub struct DeadLettered<'a> {
    pub reason: Reason,
    pub stage: Stage,
    pub path: Option<&'a str>,
    pub message: &'a str,
}

impl DeadLettered<'_> {
    pub fn emit(&self) {
        tracing::warn!(
            reason = self.reason.as_str(),
            stage = ?self.stage,
            // event-supplied text: recorded as `str` fields, which the log formats escape
            // (a `%` Display field or one named `message` would print a newline raw)
            path = self.path.unwrap_or("-"),
            error = self.message,
            "dead-lettered"
        );
        counter!("tributary_consumer_dlq_total", "reason" => self.reason.as_str()).increment(1);
    }
}

#[derive(Debug)]
pub struct LocalFaultWaiting<'a> {
    pub partition: i32,
    pub why: &'a str,
    pub retry_in: Duration,
}

impl LocalFaultWaiting<'_> {
    pub fn emit(&self) {
        tracing::warn!(
            partition = self.partition,
            error = self.why,
            retry_in = ?self.retry_in,
            "local fault (not the input's): the partition waits and the message is tried again"
        );
        counter!("tributary_consumer_local_faults_total").increment(1);
    }
}

/// A disk cache write that failed: warned about once a minute at most (a full disk
/// would otherwise log once per file), counted every time.
#[derive(Debug)]
pub struct DiskCacheWriteFailed<'a> {
    pub error: &'a tributary_content::ContentError,
}

impl DiskCacheWriteFailed<'_> {
    pub fn emit(&self) {
        use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
        static LAST_WARN_SECS: AtomicU64 = AtomicU64::new(0);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let last = LAST_WARN_SECS.load(Relaxed);
        if now >= last + 60
            && LAST_WARN_SECS
                .compare_exchange(last, now, Relaxed, Relaxed)
                .is_ok()
        {
            tracing::warn!(
                error = %tributary_runtime::chain(self.error),
                "disk cache write failed (files are still processed; warned at most once a minute)"
            );
        }
        counter!("tributary_cache_write_failures_total", "cache" => "disk").increment(1);
    }
}

#[derive(Debug)]
pub struct EventDone {
    pub elapsed: Duration,
    pub lag_ms: Option<i64>,
}

impl EventDone {
    pub fn emit(&self) {
        counter!("tributary_consumer_events_total").increment(1);
        histogram!("tributary_consumer_event_duration_seconds").record(self.elapsed.as_secs_f64());
        if let Some(lag) = self.lag_ms {
            let age = lag.max(0) as f64 / 1000.0;
            gauge!("tributary_consumer_lag_seconds").set(age);
            histogram!("tributary_consumer_event_age_seconds").record(age);
        }
    }
}

#[derive(Debug)]
pub struct OutputFailed<'a> {
    pub error: &'a rdkafka::error::KafkaError,
}

impl OutputFailed<'_> {
    pub fn emit(&self) {
        tracing::error!(error = %self.error, "output not acknowledged; the event will be redelivered");
        counter!("tributary_consumer_output_failures_total").increment(1);
    }
}

#[derive(Debug)]
pub struct LagMeasured {
    pub messages: i64,
}

impl LagMeasured {
    pub fn emit(&self) {
        gauge!("tributary_consumer_lag_messages").set(self.messages as f64);
    }
}

#[derive(Debug)]
pub struct ReportWritten<'a> {
    pub key: &'a str,
    pub bytes: usize,
    pub error: Option<&'a tributary_content::ContentError>,
}

impl ReportWritten<'_> {
    pub fn emit(&self) {
        match self.error {
            None => {
                tracing::info!(key = self.key, bytes = self.bytes, "report written");
                counter!("tributary_consumer_reports_total", "result" => "written").increment(1);
            }
            Some(e) => {
                tracing::warn!(key = self.key, error = %crate::error::chain(e), "report not written; the pipeline goes on");
                counter!("tributary_consumer_reports_total", "result" => "failed").increment(1);
            }
        }
    }
}

/// One write to the knowledge hub, after its attempts.
#[derive(Debug)]
pub struct HubWritten<'a> {
    pub key: &'a str,
    pub bytes: usize,
    pub attempts: u32,
    pub error: Option<&'a tributary_content::ContentError>,
}

impl HubWritten<'_> {
    pub fn emit(&self) {
        match self.error {
            None => {
                tracing::debug!(
                    key = self.key,
                    bytes = self.bytes,
                    attempts = self.attempts,
                    "hub object written"
                );
                counter!("tributary_hub_writes_total", "result" => "written").increment(1);
            }
            Some(e) => {
                tracing::warn!(key = self.key, attempts = self.attempts, error = %crate::error::chain(e), "hub object not written; the pipeline goes on");
                counter!("tributary_hub_writes_total", "result" => "failed").increment(1);
            }
        }
    }
}

/// A portfolio's rollup was not rebuilt: more projects than one rollup reads.
#[derive(Debug)]
pub struct HubRollupSkipped {
    pub max_projects: usize,
}

impl HubRollupSkipped {
    pub fn emit(&self) {
        tracing::warn!(
            max_projects = self.max_projects,
            "portfolio summary not rebuilt: more projects under the portfolio than a rollup reads"
        );
        counter!("tributary_hub_rollups_skipped_total").increment(1);
    }
}

/// The reports' index was not rebuilt: more reports than a listing may hold.
#[derive(Debug)]
pub struct ReportIndexSkipped {
    pub max_keys: usize,
}

impl ReportIndexSkipped {
    pub fn emit(&self) {
        tracing::warn!(
            max_keys = self.max_keys,
            "report index not rebuilt: more reports under the prefix than it lists"
        );
        counter!("tributary_consumer_reports_total", "result" => "index_skipped").increment(1);
    }
}

/// One lookup in the analysis cache.
#[derive(Debug)]
pub struct AnalysisCacheLookup {
    pub entry: crate::analysis_cache::Entry,
    pub result: crate::analysis_cache::Lookup,
}

impl AnalysisCacheLookup {
    pub fn emit(&self) {
        counter!(
            "tributary_analysis_cache_lookups_total",
            "entry" => self.entry.as_str(),
            "result" => self.result.as_str()
        )
        .increment(1);
        if self.result == crate::analysis_cache::Lookup::Corrupt {
            tracing::warn!("corrupt analysis cache entry removed; analysing again");
        }
    }
}

/// What changed in the analysis cache.
#[derive(Debug)]
pub enum AnalysisCacheUpdated<'a> {
    /// Kept results after an insert, and how many were evicted for it.
    Usage {
        entries: u64,
        bytes: u64,
        evicted: u64,
    },
    /// The writer's queue was full: an update was dropped (the cache forgets, nothing
    /// else is lost).
    Dropped,
    /// A batch of updates could not be committed.
    WriteFailed { error: &'a redb::Error },
}

impl AnalysisCacheUpdated<'_> {
    pub fn emit(&self) {
        match self {
            AnalysisCacheUpdated::Usage {
                entries,
                bytes,
                evicted,
            } => {
                gauge!("tributary_analysis_cache_entries").set(*entries as f64);
                gauge!("tributary_analysis_cache_size_bytes").set(*bytes as f64);
                counter!("tributary_analysis_cache_evictions_total").increment(*evicted);
            }
            AnalysisCacheUpdated::Dropped => {
                counter!("tributary_analysis_cache_updates_dropped_total").increment(1);
            }
            AnalysisCacheUpdated::WriteFailed { error } => {
                tracing::warn!(error = %error, "analysis cache write failed; its updates are lost");
                counter!("tributary_analysis_cache_write_failures_total").increment(1);
            }
        }
    }
}

/// Whether the analysis cache is in use (it is not when configured off).
#[derive(Debug)]
pub struct AnalysisCacheOpened {
    pub enabled: bool,
}

impl AnalysisCacheOpened {
    pub fn emit(&self) {
        gauge!("tributary_analysis_cache_enabled").set(if self.enabled { 1.0 } else { 0.0 });
    }
}

/// The analysis cache could not be used (another process holds it): every file is
/// analysed.
#[derive(Debug)]
pub struct AnalysisCacheUnavailable<'a> {
    pub error: &'a crate::analysis_cache::AnalysisCacheError,
}

impl AnalysisCacheUnavailable<'_> {
    pub fn emit(&self) {
        tracing::warn!(error = %self.error, "running without the analysis cache");
        gauge!("tributary_analysis_cache_enabled").set(0.0);
    }
}

#[cfg(test)]
mod tests;
