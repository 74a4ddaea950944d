//! Everything the consumer reports about itself: one struct per occurrence, the only
//! place that both logs and counts it. Labels come from closed sets only.

use std::time::Duration;

use metrics::{counter, gauge, histogram};
use tributary_content::cache::Evicted;
use tributary_events::dlq::{Reason, Stage};

use crate::tier::{Cache, Tier};

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
            gauge!("tributary_consumer_lag_seconds").set(lag.max(0) as f64 / 1000.0);
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
