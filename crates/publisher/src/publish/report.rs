//! What a run did: the report printed at the end and returned to library callers.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;
use tributary_content::PutOutcome;
use tributary_events::cost::{RunCost, Usage};
use tributary_events::v2::{
    EVENT_INDEX_RUN_COMPLETED, IndexRunCompleted, SkippedFile, Source, StrategyCounts,
    V2_SCHEMA_VERSION,
};
use uuid::Uuid;

use super::plan::{Entry, Planned};
use crate::internal_events::{FileEmitted, FileFailed, FileSkipped};

/// Skipped and failed files listed by name, at most (all are counted).
pub const LISTED_FILES_MAX: usize = 1000;

/// A file that should have been published and was not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailedFile {
    pub path: String,
    pub message: String,
}

/// One line of a dry run's plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedFile {
    pub path: String,
    pub strategy: &'static str,
    pub size: u64,
}

/// Git references were not used because the URL consumers fetch from did not answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GitFallback {
    /// The URL, without any password or query string.
    pub git_url: String,
    pub attempts: u32,
    pub error: String,
}

/// The outcome of a run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunReport {
    pub run_id: Uuid,
    pub project: String,
    pub commit: Option<String>,
    pub dry_run: bool,
    /// Files emitted (or planned), by strategy.
    pub files: StrategyCounts,
    pub bytes: StrategyCounts,
    /// Files marked deleted (delta runs).
    pub deleted: u64,
    /// Whether this run carried only what changed since a base commit.
    pub delta: bool,
    /// Objects written to the store, and objects that were already there.
    pub uploaded: u64,
    pub already_present: u64,
    /// Of those already present, how many the bucket's listing showed (no request).
    pub listed: u64,
    pub skipped_total: u64,
    pub skipped_by_reason: BTreeMap<String, u64>,
    pub skipped: Vec<SkippedFile>,
    pub failed_total: u64,
    pub failed: Vec<FailedFile>,
    /// Batches handed to Kafka, acknowledged, and not delivered (by number).
    pub batches_produced: u32,
    pub batches_delivered: u32,
    pub batches_failed: Vec<u32>,
    /// Whether the `index_run_completed` event was produced and acknowledged.
    pub completed: bool,
    pub cancelled: bool,
    /// Set when git references were planned but their remote did not answer.
    pub git_fallback: Option<GitFallback>,
    /// Set on dry runs only.
    pub plan: Vec<PlannedFile>,
    pub duration_ms: u64,
    /// What the run did that is billed (a dry run: what it would produce and store,
    /// its own CPU standing in for a real run's), and what that costs.
    pub usage: Usage,
    pub cost: Option<RunCost>,
    /// The portfolio run this run belongs to, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub portfolio_id: Option<Uuid>,
}

impl RunReport {
    /// Accounts for one planned item (counts, lists, metrics); returns the entry to
    /// batch, if there is one.
    pub fn record(&mut self, planned: Planned) -> Option<Box<Entry>> {
        match planned {
            Planned::Entry(entry) => {
                let Some(strategy) = entry.strategy else {
                    self.deleted += 1;
                    return Some(entry);
                };
                self.files.add(strategy, 1);
                self.bytes.add(strategy, entry.bytes);
                match entry.put {
                    Some(PutOutcome::Uploaded) => self.uploaded += 1,
                    Some(PutOutcome::AlreadyPresent) => self.already_present += 1,
                    Some(PutOutcome::Listed) => {
                        self.already_present += 1;
                        self.listed += 1;
                    }
                    None => {}
                }
                if self.dry_run {
                    self.plan.push(PlannedFile {
                        path: entry.wire.path.clone().unwrap_or_default(),
                        strategy: strategy.as_str(),
                        size: entry.bytes,
                    });
                } else {
                    FileEmitted {
                        strategy,
                        bytes: entry.bytes,
                    }
                    .emit();
                }
                Some(entry)
            }
            Planned::Skipped { path, reason } => {
                FileSkipped {
                    path: &path,
                    reason,
                }
                .emit();
                self.skipped_total += 1;
                *self
                    .skipped_by_reason
                    .entry(reason.as_str().to_owned())
                    .or_default() += 1;
                if self.skipped.len() < LISTED_FILES_MAX {
                    self.skipped.push(SkippedFile {
                        path,
                        reason: reason.as_str().to_owned(),
                    });
                }
                None
            }
            Planned::Failed { path, message } => {
                FileFailed {
                    path: &path,
                    message: &message,
                }
                .emit();
                self.fail(path, message);
                None
            }
        }
    }

    /// Counts a file (or, with an empty path, a walk) that should have been published.
    pub fn fail(&mut self, path: String, message: String) {
        self.failed_total += 1;
        if self.failed.len() < LISTED_FILES_MAX {
            self.failed.push(FailedFile { path, message });
        }
    }

    /// The run's `index_run_completed` manifest: complete counts, bounded lists (failed
    /// files are listed as skipped with reason `failed`).
    pub fn manifest(&self, source: &Source, batches: u32) -> IndexRunCompleted {
        let mut skipped = self.skipped.clone();
        let mut skipped_by_reason = self.skipped_by_reason.clone();
        if self.failed_total > 0 {
            *skipped_by_reason.entry("failed".into()).or_default() += self.failed_total;
            skipped.extend(self.failed.iter().map(|f| SkippedFile {
                path: f.path.clone(),
                reason: "failed".into(),
            }));
        }
        // The manifest stays small: the list is bounded, the counts are complete.
        skipped.truncate(LISTED_FILES_MAX);
        IndexRunCompleted {
            schema_version: V2_SCHEMA_VERSION.to_owned(),
            event_type: EVENT_INDEX_RUN_COMPLETED.to_owned(),
            event_id: Uuid::now_v7(),
            run_id: self.run_id,
            occurred_at: time::OffsetDateTime::now_utc(),
            project: self.project.clone(),
            source: source.clone(),
            batches,
            files: self.files,
            bytes: self.bytes,
            deleted: self.deleted,
            skipped_total: self.skipped_total + self.failed_total,
            skipped,
            skipped_by_reason,
            commit: self.commit.clone(),
            replayed: false,
            cost: self.cost.clone(),
            portfolio_id: self.portfolio_id,
        }
    }

    /// Whether everything that should have been published was.
    pub fn ok(&self) -> bool {
        self.failed_total == 0
            && self.batches_failed.is_empty()
            && !self.cancelled
            && (self.dry_run || self.completed)
    }

    /// A human summary, several lines.
    /// How far the run is, for the progress display.
    #[must_use]
    pub fn progress(&self) -> crate::telemetry::Snapshot {
        crate::telemetry::Snapshot {
            items: self.files.total() + self.skipped_total + self.failed_total + self.deleted,
            bytes: self.bytes.total(),
            batches: self.batches_produced,
        }
    }

    pub fn summary(&self) -> String {
        let mut s = String::new();
        let verb = if self.dry_run { "planned" } else { "published" };
        let _ = writeln!(
            s,
            "run {} of {}{}: {} files {verb} ({} inline, {} object storage, {} git reference), {} ({} bytes)",
            self.run_id,
            self.project,
            self.commit
                .as_deref()
                .map(|c| format!(" at {c}"))
                .unwrap_or_default(),
            self.files.total(),
            self.files.inline,
            self.files.object_storage,
            self.files.git_reference,
            crate::telemetry::human_size(self.bytes.total()),
            self.bytes.total(),
        );
        if let Some(f) = &self.git_fallback {
            let _ = writeln!(
                s,
                "git references: not used, {} did not answer after {} attempts ({}); files went inline or by object storage",
                f.git_url, f.attempts, f.error
            );
        }
        if self.uploaded + self.already_present > 0 {
            let _ = writeln!(
                s,
                "objects: {} uploaded, {} already present ({} known from the bucket's listing)",
                self.uploaded, self.already_present, self.listed
            );
        }
        if self.dry_run {
            let _ = writeln!(
                s,
                "batches: {} planned; nothing was uploaded or produced (dry run)",
                self.batches_produced
            );
        } else {
            let _ = writeln!(
                s,
                "batches: {} produced, {} delivered{}",
                self.batches_produced,
                self.batches_delivered,
                if self.batches_failed.is_empty() {
                    String::new()
                } else {
                    format!(", NOT delivered: {:?}", self.batches_failed)
                }
            );
        }
        if let Some(cost) = &self.cost {
            let u = &self.usage;
            let _ = writeln!(
                s,
                "cost{}: ${:.6} (price table {}): {} PUT/LIST and {} GET/HEAD requests, {} stored, {} to Kafka, {:.2} CPU seconds",
                if self.dry_run {
                    " estimate (every object assumed new)"
                } else {
                    ""
                },
                cost.total_usd,
                cost.price_table,
                u.object_puts,
                u.object_gets,
                crate::telemetry::human_size(u.bytes_stored),
                crate::telemetry::human_size(u.kafka_bytes_produced),
                u.cpu_seconds,
            );
        }
        if self.skipped_total > 0 {
            let by: Vec<String> = self
                .skipped_by_reason
                .iter()
                .map(|(r, n)| format!("{r}: {n}"))
                .collect();
            let _ = writeln!(s, "skipped: {} ({})", self.skipped_total, by.join(", "));
        }
        if self.failed_total > 0 {
            let _ = writeln!(s, "FAILED files: {}", self.failed_total);
            for f in self.failed.iter().take(20) {
                let _ = writeln!(s, "  {}: {}", f.path, f.message);
            }
        }
        if self.cancelled {
            let _ = writeln!(
                s,
                "run was interrupted: the completion event was not produced"
            );
        } else if !self.dry_run {
            let _ = writeln!(
                s,
                "completion event: {}",
                if self.completed {
                    "produced"
                } else {
                    "NOT produced (see failures above)"
                }
            );
        }
        if !self.dry_run && !self.cancelled && !self.batches_failed.is_empty() {
            let _ = writeln!(
                s,
                "to finish the run, run the same publish again once Kafka answers: batches delivered \
                 now are harmless duplicates (documents are keyed by project and path); \
                 --message-timeout-ms sets how long an outage is ridden out"
            );
        }
        let secs = self.duration_ms as f64 / 1000.0;
        let _ = write!(s, "took {secs:.3} s");
        if secs > 0.0 {
            let _ = write!(
                s,
                " ({}/s, {:.0} files/s)",
                crate::telemetry::human_size((self.bytes.total() as f64 / secs) as u64),
                self.progress().items as f64 / secs
            );
        }
        s
    }
}
