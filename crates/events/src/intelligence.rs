//! The intelligence document: one per file, keyed `project/path` on the output topic.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::checksum::Sha256Hex;
use crate::path::RelPath;
use crate::v2::ContentStrategy;

pub const INTELLIGENCE_SCHEMA_VERSION: &str = "1.0.0";
pub const DOC_TYPE_FILE: &str = "file_intelligence";

/// Code, comment and blank line counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Lines {
    pub code: u64,
    pub comment: u64,
    pub blank: u64,
}

impl Lines {
    pub fn total(&self) -> u64 {
        self.code + self.comment + self.blank
    }
}

/// Cyclomatic complexity of a file and its functions.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Complexity {
    pub cyclomatic: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub functions: Vec<FunctionComplexity>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunctionComplexity {
    pub name: String,
    pub line: u64,
    pub cyclomatic: u64,
}

/// A named definition in the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Symbol {
    /// `function`, `method`, `class`, `struct`, `trait`, `interface`, `enum`, `module`, ...
    pub kind: String,
    pub name: String,
    /// 1-based line of the definition.
    pub line: u64,
}

/// A license detected in the file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct License {
    /// SPDX identifier.
    pub spdx: String,
    /// 0.0 to 1.0.
    pub confidence: f64,
}

/// A secret found in the file: which rule matched and where. Never the value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretFinding {
    pub rule_id: String,
    pub line: u64,
}

/// Facts about the file that change how it should be treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Flags {
    pub binary: bool,
    pub generated: bool,
    pub vendored: bool,
    pub minified: bool,
}

/// Where the analysed bytes came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocSource {
    /// `None` for v1 events (files read from a shared mount).
    pub content_strategy: Option<ContentStrategy>,
    /// `None` for v1 events, which have no runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<Uuid>,
    pub event_id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_ref: Option<String>,
}

/// How long each stage took for this file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Timing {
    pub resolve_us: u64,
    pub analyse_us: u64,
}

/// One file's intelligence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileIntelligence {
    pub schema_version: String,
    pub doc_type: String,
    pub project: String,
    pub path: RelPath,
    pub checksum: Sha256Hex,
    pub size: u64,
    /// `None` when the language is not known.
    pub language: Option<String>,
    pub lines: Lines,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub complexity: Option<Complexity>,
    #[serde(default)]
    pub symbols: Vec<Symbol>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<License>,
    #[serde(default)]
    pub secrets: Vec<SecretFinding>,
    #[serde(default)]
    pub flags: Flags,
    pub source: DocSource,
    #[serde(default)]
    pub timing: Timing,
    #[serde(with = "time::serde::rfc3339")]
    pub analysed_at: OffsetDateTime,
}

impl FileIntelligence {
    /// The record key on the output topic.
    pub fn key(&self) -> String {
        doc_key(&self.project, &self.path)
    }
}

/// The output-topic key of a file's document: `project/path`.
pub fn doc_key(project: &str, path: &RelPath) -> String {
    format!("{project}/{path}")
}

pub const DOC_TYPE_PROJECT_SUMMARY: &str = "project_summary";

/// Per-language totals in a project summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LanguageTotals {
    pub files: u64,
    pub bytes: u64,
    pub code: u64,
    pub comment: u64,
    pub blank: u64,
}

/// A file among the largest by code lines (until complexity lands, the hotspot measure).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hotspot {
    pub path: String,
    pub code: u64,
}

/// Counts of flagged files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FlagCounts {
    pub binary: u64,
    pub generated: u64,
    pub vendored: u64,
    pub minified: u64,
}

/// One per completed run, keyed `project/` (a file key always has a path after the
/// slash), produced once every file of the run has a document or a dead-letter record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectSummary {
    pub schema_version: String,
    pub doc_type: String,
    pub project: String,
    pub run_id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// Whether every file the run announced was accounted for before the deadline.
    pub complete: bool,
    /// Files the run announced (its completion event).
    pub expected_files: u64,
    pub totals: LanguageTotals,
    /// By language name; files of unknown language under `"unknown"`.
    pub languages: std::collections::BTreeMap<String, LanguageTotals>,
    pub hotspots: Vec<Hotspot>,
    pub flags: FlagCounts,
    pub dead_lettered: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub generated_at: OffsetDateTime,
}

/// The output-topic key of a project's summary.
pub fn summary_key(project: &str) -> String {
    format!("{project}/")
}
