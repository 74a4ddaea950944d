//! The intelligence document: one per file, keyed `project/path` on the output topic.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::checksum::Sha256Hex;
use crate::path::RelPath;
use crate::v2::ContentStrategy;

/// 1.3 added `timing.cpu_us`, `timing.resolved_from` and the summary's `cost`; 1.5 each
/// function's `lines` and `parameters` and the summary's `functions`.
pub const INTELLIGENCE_SCHEMA_VERSION: &str = "1.6.0";
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

/// One function the parser outlined, with its size and shape.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FunctionComplexity {
    pub name: String,
    /// 1-based line where the function's definition starts.
    pub line: u64,
    pub cyclomatic: u64,
    /// Lines from the definition's first to its last, both counted (since 1.5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lines: Option<u64>,
    /// Parameters named in its parameter list: `self` counts where it is written
    /// (Python, Rust), Go's receiver and Java's receiver parameter do not, a named
    /// variadic parameter counts one, C's unnamed `...` and `(void)` none (since 1.5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<u64>,
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

/// A package a manifest or lockfile names (since 1.5).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Dependency {
    /// Package URL (purl-spec): `pkg:cargo/serde@1.0.219`, `pkg:npm/%40types/node@22.1.0`,
    /// `pkg:golang/golang.org/x/net@v0.38.0`; no `@version` when the file names none.
    pub purl: String,
    pub name: String,
    /// The resolved version (lockfiles, pinned requirements).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The requirement as written, where the file gives a range (manifests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requirement: Option<String>,
    /// Whether the project names it itself (`false`: only through another package);
    /// absent when this file cannot tell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direct: Option<bool>,
    /// `runtime`, `dev`, `build`, `optional` or `test`, where the file says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

/// A license detected in the file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct License {
    /// SPDX identifier or expression (`MIT`, `Apache-2.0 OR MIT`).
    pub spdx: String,
    /// 0.0 to 1.0; 1.0 for an explicit `SPDX-License-Identifier`.
    pub confidence: f64,
    /// `spdx_identifier`, `license_text` or `header` (absent before 1.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
}

/// Estimated LLM tokens, with the method named so a consumer can judge or redo it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenEstimate {
    /// The first counted encoding's count (`o200k_base` when counted), else the estimate.
    pub count: u64,
    /// What `count` is: `o200k_base` or `cl100k_base` (since 1.5: tokens as tiktoken's
    /// `encode_ordinary` counts them under that encoding), or `utf8_chars_div_4`, an
    /// estimate — Unicode scalar values divided by four, rounded up (OpenAI's rule of
    /// thumb) — when the consumer counts with no encoding.
    pub method: String,
    /// Tokens under `o200k_base` (GPT-4o and later), when counted (since 1.5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub o200k_base: Option<u64>,
    /// Tokens under `cl100k_base` (GPT-4, GPT-3.5), when counted (since 1.5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cl100k_base: Option<u64>,
}

/// A secret found in the file: which rule matched and where. Never the value: a finding
/// with any other field is malformed.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretFinding {
    /// gitleaks' rule id.
    pub rule_id: String,
    pub line: u64,
    /// A stable fingerprint of the finding — SHA-256 of the rule, the path and the
    /// SHA-256 of the line, 32 hex digits — for baselines and cross-run tracking; never
    /// derived from the value alone (since 1.5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// The consumer's secrets baseline lists this fingerprint: a known finding someone
    /// acknowledged (since 1.5). Summaries count it apart.
    #[serde(default, skip_serializing_if = "is_false")]
    pub acknowledged: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// Facts about the file that change how it should be treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Flags {
    pub binary: bool,
    pub generated: bool,
    pub vendored: bool,
    pub minified: bool,
    /// README, CHANGELOG, docs/ and prose (since 1.1).
    #[serde(default)]
    pub documentation: bool,
    /// Under tests/, spec/ ..., or named as a test (`*_test.go`, `test_*.py`) (since 1.1).
    #[serde(default)]
    pub test: bool,
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

/// How long each stage took for this file, and what it cost (not part of the file's
/// analysis: it differs from one consume to the next).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Timing {
    pub resolve_us: u64,
    pub analyse_us: u64,
    /// CPU time of the file's analysis on its thread (since 1.3; what a run's summary
    /// prices as the consumer's compute).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_us: Option<u64>,
    /// Where the bytes came from: inline, memory, disk, presigned_url, object_store,
    /// git, mount, or recalled (the document rebuilt from the analysis cache) (since
    /// 1.3; reads from the object store are what a summary prices as downloads).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_from: Option<String>,
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
    /// `None` when the language is not known. GitHub Linguist's names.
    pub language: Option<String>,
    /// How the language was chosen: `filename`, `extension`, `shebang`, `modeline`,
    /// `heuristic`, `default` (since 1.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language_method: Option<String>,
    pub lines: Lines,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub complexity: Option<Complexity>,
    #[serde(default)]
    pub symbols: Vec<Symbol>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<License>,
    #[serde(default)]
    pub secrets: Vec<SecretFinding>,
    /// Modules, packages or headers the file imports, as written (since 1.1).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub imports: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<TokenEstimate>,
    #[serde(default)]
    pub flags: Flags,
    /// Why: flag name → the rule that set it, for every flag set, and for a flag the
    /// repository's `.gitattributes` unset (since 1.5).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub flag_reasons: std::collections::BTreeMap<String, String>,
    /// scc's unique lines of the file, with the sample the project's count is estimated
    /// from (since 1.6; absent for binary files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unique_lines: Option<UniqueLines>,
    /// The file's history as the publisher folded it from the repository (since 1.6:
    /// commits within the window that changed it, the last commit that did; absent
    /// for folders, shallow clones and runs with history off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<crate::v2::FileHistory>,
    /// The packages the file names, when it is a manifest or lockfile this analyser
    /// reads (since 1.5).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<Dependency>,
    /// What an analyser could not do for this file (syntax errors, limits), never fatal.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub diagnostics: Vec<String>,
    /// The lists cut short so the document fits in one Kafka message (`symbols`,
    /// `imports`, `secrets`, `complexity.functions`, `dependencies` (1.5),
    /// `diagnostics`); empty when nothing was cut (since 1.2).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub truncated: Vec<String>,
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

    /// The document as JSON of at most `max_bytes`: when it is larger, its longest
    /// list is halved (and named in `truncated`) until it fits. `None` when even with
    /// every list empty it does not (the caller dead-letters the file instead).
    pub fn to_json_within(&mut self, max_bytes: usize) -> Option<Vec<u8>> {
        fit_within(
            self,
            max_bytes,
            |d| {
                [
                    ("symbols", d.symbols.len()),
                    ("imports", d.imports.len()),
                    ("secrets", d.secrets.len()),
                    (
                        "complexity.functions",
                        d.complexity.as_ref().map_or(0, |c| c.functions.len()),
                    ),
                    ("dependencies", d.dependencies.len()),
                    ("diagnostics", d.diagnostics.len()),
                ]
            },
            |d, name, keep| match name {
                "symbols" => d.symbols.truncate(keep),
                "imports" => d.imports.truncate(keep),
                "secrets" => d.secrets.truncate(keep),
                "dependencies" => d.dependencies.truncate(keep),
                "complexity.functions" => {
                    if let Some(c) = d.complexity.as_mut() {
                        c.functions.truncate(keep);
                    }
                }
                _ => d.diagnostics.truncate(keep),
            },
            |d| &mut d.truncated,
        )
        .ok()
    }
}

/// Serializes `doc`; while the JSON is over `max_bytes`, halves the longest of its
/// lists (`lists` names them with their lengths; the last of equals; `cut` keeps a
/// list's head) and names it in `truncated`. `Err` with the JSON when every list is
/// empty and it still does not fit.
fn fit_within<T: Serialize, const N: usize>(
    doc: &mut T,
    max_bytes: usize,
    lists: impl Fn(&T) -> [(&'static str, usize); N],
    cut: impl Fn(&mut T, &'static str, usize),
    truncated: impl Fn(&mut T) -> &mut Vec<String>,
) -> Result<Vec<u8>, Vec<u8>> {
    loop {
        let json = serde_json::to_vec(doc).expect("documents serialize");
        if json.len() <= max_bytes {
            return Ok(json);
        }
        let (name, len) = lists(doc)
            .into_iter()
            .max_by_key(|(_, n)| *n)
            .unwrap_or(("", 0));
        if len == 0 {
            return Err(json);
        }
        cut(doc, name, len / 2);
        let named = truncated(doc);
        if !named.iter().any(|t| t == name) {
            named.push(name.to_owned());
        }
    }
}

/// The output-topic key of a file's document: `project/path`, the project with `%` and
/// `/` percent-escaped ([`key_project`]) so that no two (project, path) pairs share a
/// key.
pub fn doc_key(project: &str, path: &RelPath) -> String {
    file_key(project, path.as_str())
}

/// [`doc_key`] for a path that may not be valid (dead-letter records).
pub fn file_key(project: &str, path: &str) -> String {
    format!("{}/{path}", key_project(project))
}

/// A project name as the first segment of a key: `%` becomes `%25` and `/` becomes
/// `%2F`, so a key splits unambiguously at its first `/`. Names without either (most)
/// are unchanged.
pub fn key_project(project: &str) -> std::borrow::Cow<'_, str> {
    if !project.contains(['%', '/']) {
        return std::borrow::Cow::Borrowed(project);
    }
    std::borrow::Cow::Owned(project.replace('%', "%25").replace('/', "%2F"))
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

impl std::ops::AddAssign for LanguageTotals {
    fn add_assign(&mut self, o: Self) {
        self.files += o.files;
        self.bytes += o.bytes;
        self.code += o.code;
        self.comment += o.comment;
        self.blank += o.blank;
    }
}

/// A file among the most complex (cyclomatic, then code lines).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hotspot {
    pub path: String,
    pub code: u64,
    /// The file's cyclomatic complexity (since 1.1; 0 where not measured).
    #[serde(default)]
    pub cyclomatic: u64,
    /// Its most complex function, if it has functions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worst_function: Option<FunctionComplexity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

/// Counts of flagged files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FlagCounts {
    pub binary: u64,
    pub generated: u64,
    pub vendored: u64,
    pub minified: u64,
    #[serde(default)]
    pub documentation: u64,
    #[serde(default)]
    pub test: u64,
}

impl std::ops::AddAssign for FlagCounts {
    fn add_assign(&mut self, o: Self) {
        self.binary += o.binary;
        self.generated += o.generated;
        self.vendored += o.vendored;
        self.minified += o.minified;
        self.documentation += o.documentation;
        self.test += o.test;
    }
}

/// Files per license in a project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LicenseCount {
    pub spdx: String,
    pub files: u64,
    /// Where it was found, up to a few paths (license files first).
    pub examples: Vec<String>,
}

/// Shares of the project's files and bytes, 0.0 to 1.0.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Shares {
    pub generated_files: f64,
    pub generated_bytes: f64,
    pub vendored_files: f64,
    pub vendored_bytes: f64,
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
    /// Files the run marked deleted (an incremental run); their documents were
    /// tombstoned (since 1.1).
    #[serde(default)]
    pub deleted_files: u64,
    /// Files the publisher could not read or publish (since 1.3): they have no document
    /// and no dead letter, and "complete" does not cover them.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub publisher_failed: u64,
    /// Files the publisher did not publish, by reason (`symlink`, `too_large`,
    /// `submodule`, ...) (since 1.3).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub skipped_by_reason: std::collections::BTreeMap<String, u64>,
    pub totals: LanguageTotals,
    /// By language name; files of unknown language under `"unknown"`.
    pub languages: std::collections::BTreeMap<String, LanguageTotals>,
    pub hotspots: Vec<Hotspot>,
    pub flags: FlagCounts,
    /// Since 1.1: the sum of the files' cyclomatic complexity.
    #[serde(default)]
    pub cyclomatic: u64,
    #[serde(default)]
    pub symbols: u64,
    #[serde(default)]
    pub tokens: u64,
    /// Since 1.1: licenses by files, most files first.
    #[serde(default)]
    pub licenses: Vec<LicenseCount>,
    /// Since 1.1: findings per secret rule (rule id → findings). Never a value.
    #[serde(default)]
    pub secrets: std::collections::BTreeMap<String, u64>,
    /// Files with at least one secret finding.
    #[serde(default)]
    pub files_with_secrets: u64,
    /// Findings the secrets baseline acknowledges: in none of the counts above (since
    /// 1.5).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub secrets_acknowledged: u64,
    /// Where the findings are — rule, path, line, fingerprint; never a value — at most
    /// 1,000, by path and line (since 1.5; what a SARIF export is made from).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secret_findings: Vec<SecretLocation>,
    #[serde(default)]
    pub shares: Shares,
    pub dead_lettered: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub generated_at: OffsetDateTime,
    /// What the run cost: the publisher's part (from its completion event) and the
    /// consumers' (from the run's documents), under the consumer's price table (since
    /// 1.3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<crate::cost::RunCost>,
    /// The portfolio run the run belongs to (since 1.4; absent: a run of its own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub portfolio_id: Option<Uuid>,
    /// Files whose bytes another file of the project has too (since 1.4; absent when
    /// every non-empty file is unique).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicates: Option<Duplicates>,
    /// Tokens by encoding, summed over the documents that counted under it (since 1.5;
    /// `tokens` above sums each document's `count`).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub tokens_by_encoding: std::collections::BTreeMap<String, u64>,
    /// Tokens by folder — each folder one and two levels deep, `.` for the files at the
    /// top — the 50 with the most, most first (since 1.5).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub token_folders: Vec<FolderTokens>,
    /// The packages the project's manifests and lockfiles name (since 1.5; absent when
    /// it has none this consumer reads).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dependencies: Option<Dependencies>,
    /// The lists cut short so the summary fits in one Kafka message
    /// (`dependencies.list`, `secret_findings`; since 1.5): the report sink and the
    /// hub got them whole.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub truncated: Vec<String>,
    /// The functions the parsers outlined across the project, and the most complex of
    /// them (since 1.5; absent when no file had any).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub functions: Option<Functions>,
    /// Lines distinct across the project's files (scc's ULOC), estimated from the
    /// documents' samples, and DRYness (since 1.6; absent when no document had one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unique_lines: Option<ProjectUniqueLines>,
    /// What the files' history says: how many changed within the window, and the
    /// hotspots by change — complexity × commits (since 1.6; absent when no document
    /// carried history).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub churn: Option<Churn>,
}

/// The project's churn (since 1.6).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Churn {
    /// The window the commits are counted in, in days before the indexed commit.
    pub window_days: u32,
    /// Files with history.
    pub files: u64,
    /// Of those, the ones a commit within the window changed.
    pub files_changed: u64,
    /// Commits counted over all files (a commit counts once per file it changed).
    pub file_changes: u64,
    /// The files whose complexity × commits is highest, highest first (at most 10;
    /// generated, vendored and test code never among them).
    pub hotspots: Vec<ChurnHotspot>,
}

/// A file that is both complex and often changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChurnHotspot {
    pub path: String,
    /// Commits within the window that changed it.
    pub commits: u32,
    pub cyclomatic: u64,
    /// `cyclomatic × commits`.
    pub score: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_commit: Option<String>,
}

/// A file's unique lines as scc counts them: its content with trailing newlines cut,
/// split at `\n`, each distinct line once (since 1.6).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct UniqueLines {
    /// Distinct lines in the file.
    pub count: u64,
    /// The XXH3-64 hashes (seed 0) of the file's distinct lines whose top 4 bits are 0
    /// — one line in 16, by hash — 8 bytes big-endian each, base64 without padding;
    /// never a line itself. Empty when no line is in the sample.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub sample: String,
    /// The sample holds the hashes whose top `sample_bits` bits are 0; absent: 4. A
    /// file with over about 32,768 distinct lines samples more sparsely so its
    /// document stays small.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_bits: Option<u32>,
}

/// A project's unique lines (since 1.6): the union of its documents' samples times the
/// sampling rate.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct ProjectUniqueLines {
    /// Lines distinct across the project's files, estimated.
    pub estimate: u64,
    /// The estimate's relative standard error (`sqrt((rate - 1) / estimate)`).
    pub relative_standard_error: f64,
    /// All lines of the files counted.
    pub lines: u64,
    /// `estimate / lines`: 1.0 when no line repeats anywhere, lower the more code is
    /// repeated (scc's DRYness).
    pub dryness: f64,
    /// One distinct line in this many, by hash, is in the sample (16, doubled each time
    /// a very large project's sample is halved to stay bounded).
    pub sample_rate: u64,
    /// Files counted.
    pub files: u64,
    /// Documents whose sample was refused (not base64, or hashes outside the sample:
    /// written by something else); their lines are not counted.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub samples_refused: u64,
}

/// A project's dependency inventory (since 1.5): each package once, by purl.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Dependencies {
    /// Distinct packages.
    pub packages: u64,
    /// Of those, the ones the project names itself.
    pub direct: u64,
    /// Packages by purl type (`cargo`, `npm`, `golang`, `pypi`, `gem`, `composer`).
    pub by_ecosystem: std::collections::BTreeMap<String, u64>,
    /// The packages, direct first, then by purl (at most 3,000; `packages` counts all).
    pub list: Vec<InventoryEntry>,
    /// Manifest and lockfile entries the fold could not keep (past 50,000).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub left_out: u64,
}

/// One package of the inventory: a lockfile's resolved entry completed by the manifest
/// beside it, or a manifest's entry no lockfile resolves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryEntry {
    #[serde(flatten)]
    pub dependency: Dependency,
    /// The files that name it (at most 3).
    pub files: Vec<String>,
}

/// One secret finding's place (since 1.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretLocation {
    pub rule_id: String,
    pub path: String,
    pub line: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
}

/// A folder's share of a project's tokens (since 1.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FolderTokens {
    /// `src`, `src/parser`; `.` for the files at the top; `(other folders)` for what
    /// did not fit the summary's bound on distinct folders.
    pub folder: String,
    pub files: u64,
    pub tokens: u64,
}

/// Functions across a project (since 1.5). Generated, vendored and test files count in
/// `count` but are never hotspots.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Functions {
    /// Functions listed by the run's documents (a document lists at most its analysis
    /// limit's worth, the most complex kept).
    pub count: u64,
    /// Of those, how many have a cyclomatic complexity above 10 (McCabe's threshold).
    pub cyclomatic_over_10: u64,
    /// The most complex functions, most first (then the longest; at most 20).
    pub hotspots: Vec<FunctionHotspot>,
}

/// One function among a project's most complex: where it is and its measures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunctionHotspot {
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    pub name: String,
    pub line: u64,
    pub cyclomatic: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lines: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<u64>,
}

/// Identical files within a project, found by content checksum (since 1.4).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Duplicates {
    /// Groups of two or more non-empty files with the same bytes.
    pub groups: u64,
    /// Files beyond the first of each group: what removing the copies would remove.
    pub duplicate_files: u64,
    /// Their bytes.
    pub duplicate_bytes: u64,
    /// The groups that waste the most bytes, most first (at most 20).
    pub largest: Vec<DuplicateGroup>,
}

/// One group of identical files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DuplicateGroup {
    pub checksum: crate::Sha256Hex,
    /// Bytes of each copy.
    pub size: u64,
    /// How many files have these bytes.
    pub files: u64,
    /// Their paths, sorted (at most 10).
    pub paths: Vec<String>,
}

impl ProjectSummary {
    /// The summary as JSON of at most `max_bytes` where cutting its long lists can make
    /// it so: the longer of `dependencies.list` and `secret_findings` is halved (and
    /// named in `truncated`) until it fits or both are empty.
    pub fn to_json_within(&mut self, max_bytes: usize) -> Vec<u8> {
        fit_within(
            self,
            max_bytes,
            |s| {
                [
                    ("secret_findings", s.secret_findings.len()),
                    (
                        "dependencies.list",
                        s.dependencies.as_ref().map_or(0, |d| d.list.len()),
                    ),
                ]
            },
            |s, name, keep| {
                if name == "secret_findings" {
                    s.secret_findings.truncate(keep);
                } else if let Some(d) = s.dependencies.as_mut() {
                    d.list.truncate(keep);
                }
            },
            |s| &mut s.truncated,
        )
        .unwrap_or_else(|json| json)
    }

    /// The portfolio the summary belongs to: its portfolio run, or the run itself.
    pub fn portfolio(&self) -> Uuid {
        self.portfolio_id.unwrap_or(self.run_id)
    }
}

/// `doc_type` of a portfolio summary.
pub const DOC_TYPE_PORTFOLIO_SUMMARY: &str = "portfolio_summary";

/// A portfolio: the projects of one portfolio run (several repositories published
/// together), or the latest state of every project, rolled up (since 1.4). Written to
/// the knowledge hub, never to Kafka.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortfolioSummary {
    pub schema_version: String,
    pub doc_type: String,
    /// The portfolio run; `None` for the latest state across every project.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub portfolio_id: Option<Uuid>,
    #[serde(with = "time::serde::rfc3339")]
    pub generated_at: OffsetDateTime,
    pub projects: u64,
    /// Projects whose summary is complete.
    pub complete_projects: u64,
    pub totals: LanguageTotals,
    /// By language: its totals and in how many projects it is.
    pub languages: std::collections::BTreeMap<String, PortfolioLanguage>,
    /// By SPDX id: files, the projects it is in, and whether it is copyleft.
    pub licenses: std::collections::BTreeMap<String, PortfolioLicense>,
    /// Projects with at least one copyleft license (GPL, AGPL, LGPL, MPL ...): the list
    /// to look at in a permissive organisation.
    pub copyleft_projects: Vec<String>,
    /// Findings per secret rule, and per project. Never a value.
    pub secrets: std::collections::BTreeMap<String, u64>,
    pub secrets_by_project: std::collections::BTreeMap<String, u64>,
    /// The most complex files across projects.
    pub hotspots: Vec<PortfolioHotspot>,
    pub flags: FlagCounts,
    pub shares: Shares,
    pub dead_lettered: u64,
    /// When each project was last indexed, and at which commit.
    pub freshness: Vec<Freshness>,
    /// The most complex functions across projects, outside generated, vendored and test
    /// code (since 1.5).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub function_hotspots: Vec<PortfolioFunctionHotspot>,
    /// Packages across projects: the most used, and those in use at several versions
    /// (since 1.5; absent when no project has a dependency inventory).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dependencies: Option<PortfolioDependencies>,
}

/// A function hotspot across a portfolio: which project's function (since 1.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortfolioFunctionHotspot {
    pub project: String,
    #[serde(flatten)]
    pub function: FunctionHotspot,
}

/// Packages across a portfolio, from the projects' inventories as listed (since 1.5).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PortfolioDependencies {
    /// Distinct packages (by purl, so one package at two versions counts twice).
    pub packages: u64,
    pub by_ecosystem: std::collections::BTreeMap<String, u64>,
    /// The packages in the most projects, most first (at most 50).
    pub most_used: Vec<PackageUse>,
    /// Packages in use at more than one version, the most versions first (at most 50):
    /// where an upgrade has not reached every project.
    pub versions_in_use: Vec<PackageVersions>,
}

/// One package and the projects that use it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageUse {
    pub purl: String,
    pub projects: u64,
}

/// One package (its purl without version) and the versions projects use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageVersions {
    pub package: String,
    /// The versions, sorted (at most 20).
    pub versions: Vec<String>,
    pub projects: u64,
}

/// A language across a portfolio.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PortfolioLanguage {
    #[serde(flatten)]
    pub totals: LanguageTotals,
    pub projects: u64,
}

/// A license across a portfolio.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PortfolioLicense {
    pub files: u64,
    pub projects: Vec<String>,
    pub copyleft: bool,
}

/// A hotspot across a portfolio: which project's file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortfolioHotspot {
    pub project: String,
    #[serde(flatten)]
    pub hotspot: Hotspot,
}

/// A project's last indexing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Freshness {
    pub project: String,
    pub run_id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub generated_at: OffsetDateTime,
    pub files: u64,
    pub complete: bool,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The output-topic key of a project's summary: `project/` ([`key_project`]; a file key
/// always has a path after the slash, so the two never collide).
pub fn summary_key(project: &str) -> String {
    format!("{}/", key_project(project))
}
