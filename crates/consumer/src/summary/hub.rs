//! The knowledge hub (opt-in): every project summary as JSON, the run's per-file
//! documents as Parquet, the latest state per project, and the rollup of each portfolio
//! run, written to the object store (S3, GCS, MinIO) or a local folder at stable keys
//! (docs/hub.md). Written by the consumer, beside the summary it has just built: it
//! already reads every run's documents back to summarise them, so the hub costs no
//! second reader of the output topic (a separate daemon would re-read it all).
//!
//! Writes are retried with backoff; when they still fail they are logged and counted
//! (`tributary_hub_writes_total{result="failed"}`) and the pipeline goes on: the summary
//! is produced whatever the hub does.
//!
//! Keys, under the prefix:
//! - `portfolio/runs/{portfolio_id}/per-repo/{project}.json` — the project summary
//! - `portfolio/runs/{portfolio_id}/files/{project}.parquet` — one row per file document
//! - `portfolio/runs/{portfolio_id}/summary.json` — the portfolio rollup of the
//!   `per-repo` summaries there (rebuilt after each; a run published alone is a
//!   portfolio of one, its id the run's)
//! - `portfolio/runs/{portfolio_id}/per-repo/{project}.html` — the project's report,
//!   and `portfolio/runs/{portfolio_id}/index.html` — the portfolio's page, linking them
//! - `portfolio/runs/{portfolio_id}/sbom/{project}.cdx.json` and
//!   `portfolio/latest/sbom/{project}.cdx.json` — the run's CycloneDX SBOM, when the
//!   project has dependencies; `.../sarif/{project}.sarif` — its secret findings as SARIF
//! - `portfolio/latest/per-repo/{project}.json` (and `.html`) — each project's latest
//!   summary (and report), with `portfolio/latest/summary.json` and `index.html`: the
//!   rollup across every project's latest state

use std::sync::Arc;
use std::time::Duration;

use arrow_array::builder::{
    BooleanBuilder, StringBuilder, TimestampMicrosecondBuilder, UInt32Builder, UInt64Builder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use bytes::Bytes;
use tributary_content::store::{ObjectStore, StoreConfig};
use tributary_events::intelligence::{FileIntelligence, ProjectSummary};

use super::report::project_segment;
use crate::config::SinkLocation;
use crate::error::{ConfigError, ConsumerError};
use crate::internal_events::{HubRollupSkipped, HubWritten};

/// Attempts per write (the first and its retries).
pub const ATTEMPTS: u32 = 3;
/// The first retry's wait; each next one doubles it.
pub const BACKOFF: Duration = Duration::from_millis(500);
/// `per-repo` summaries a portfolio rollup reads at most; past that it is not rebuilt
/// after every project (a GET each), and `tributary_hub_rollups_skipped_total` says so.
pub const ROLLUP_MAX_PROJECTS: usize = 1_000;
/// Summaries a rollup reads at once.
const ROLLUP_READS_IN_FLIGHT: usize = 16;

const HTML: &str = "text/html; charset=utf-8";

/// Where hub objects go.
#[derive(Debug)]
pub struct HubSink {
    pub store: ObjectStore,
    pub prefix: String,
}

/// The keys of one project summary's objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubKeys {
    pub per_repo: String,
    pub files: String,
    pub latest: String,
    pub portfolio_summary: String,
    /// The portfolio run's folder (`.../portfolio/runs/{id}/`).
    pub portfolio_dir: String,
    /// The latest states' folder (`.../portfolio/latest/`).
    pub latest_dir: String,
    /// The project's file name in a `per-repo/` folder, without extension.
    pub project: String,
}

impl HubSink {
    /// The sink the configuration asks for, if any.
    pub async fn open(
        location: Option<&SinkLocation>,
        store: &StoreConfig,
    ) -> Result<Option<Self>, ConsumerError> {
        let (store_cfg, prefix) = match location {
            None => return Ok(None),
            Some(SinkLocation::Dir(dir)) => {
                (StoreConfig::Local { root: dir.clone() }, String::new())
            }
            Some(SinkLocation::ObjectStore { prefix }) => (store.clone(), prefix.clone()),
        };
        let store = ObjectStore::open(&store_cfg)
            .await
            .map_err(ConsumerError::Content)?
            .ok_or(ConsumerError::Config(ConfigError::HubPrefixWithoutStore))?;
        Ok(Some(Self { store, prefix }))
    }

    /// Where a summary's objects go.
    pub fn keys(&self, s: &ProjectSummary) -> HubKeys {
        let project = project_segment(&s.project);
        let run = format!("{}portfolio/runs/{}", self.prefix, s.portfolio());
        let latest_dir = format!("{}portfolio/latest/", self.prefix);
        HubKeys {
            per_repo: format!("{run}/per-repo/{project}.json"),
            files: format!("{run}/files/{project}.parquet"),
            latest: format!("{latest_dir}per-repo/{project}.json"),
            portfolio_summary: format!("{run}/summary.json"),
            portfolio_dir: format!("{run}/"),
            latest_dir,
            project,
        }
    }

    /// Writes a summary, its files table and the portfolio rollup; never fails the
    /// caller.
    pub async fn write(&self, s: &ProjectSummary, files: Option<Bytes>) {
        let keys = self.keys(s);
        let json = Bytes::from(serde_json::to_vec(s).expect("summaries serialize"));
        let html = Bytes::from(tributary_intel::report::html(s));
        let page = |dir: &str| format!("{dir}per-repo/{}.html", keys.project);
        self.put(&keys.per_repo, json.clone(), "application/json")
            .await;
        self.put(&page(&keys.portfolio_dir), html.clone(), HTML)
            .await;
        if let Some(parquet) = files {
            self.put(&keys.files, parquet, "application/vnd.apache.parquet")
                .await;
        }
        self.put(&keys.latest, json, "application/json").await;
        self.put(&page(&keys.latest_dir), html, HTML).await;
        for a in super::report::artifacts(s) {
            let Some(value) = a.value else { continue };
            let body = Bytes::from(serde_json::to_vec(&value).expect("JSON values serialize"));
            for dir in [&keys.portfolio_dir, &keys.latest_dir] {
                let key = format!("{dir}{}/{}.{}", a.folder, keys.project, a.extension);
                self.put(&key, body.clone(), a.content_type).await;
            }
        }
        self.rollup(Some(s.portfolio()), &keys.portfolio_dir).await;
        self.rollup(None, &keys.latest_dir).await;
    }

    /// Rebuilds a folder's `summary.json` and `index.html` from the `per-repo`
    /// summaries under it: a portfolio run's, or (`None`) the latest states'.
    async fn rollup(&self, portfolio: Option<uuid::Uuid>, dir: &str) {
        let summary_key = format!("{dir}summary.json");
        let listed = match self
            .store
            .list_keys(&format!("{dir}per-repo/"), ROLLUP_MAX_PROJECTS * 2)
            .await
        {
            Ok(Some(listed)) => listed,
            Ok(None) => {
                HubRollupSkipped {
                    max_projects: ROLLUP_MAX_PROJECTS,
                }
                .emit();
                return;
            }
            Err(e) => {
                HubWritten {
                    key: &summary_key,
                    bytes: 0,
                    attempts: 1,
                    error: Some(&e),
                }
                .emit();
                return;
            }
        };
        use futures::StreamExt as _;
        // read a few at a time; a summary that cannot be read now is left out of this
        // rollup only. Boxed first: borrowing futures otherwise trip the higher-ranked
        // `Send` inference of the task that runs the summary.
        let reads: Vec<futures::future::BoxFuture<'_, Option<ProjectSummary>>> = listed
            .iter()
            .filter(|(k, _)| k.ends_with(".json"))
            .map(|(key, _)| {
                Box::pin(async move {
                    let bytes = self.store.get(key).await.ok()?;
                    serde_json::from_slice::<ProjectSummary>(&bytes).ok()
                }) as futures::future::BoxFuture<'_, _>
            })
            .collect();
        let summaries: Vec<ProjectSummary> = futures::stream::iter(reads)
            .buffered(ROLLUP_READS_IN_FLIGHT)
            .filter_map(futures::future::ready)
            .collect()
            .await;
        let rolled = tributary_intel::portfolio::fold(
            portfolio,
            &summaries,
            time::OffsetDateTime::now_utc(),
        );
        let json = Bytes::from(serde_json::to_vec(&rolled).expect("portfolios serialize"));
        self.put(&summary_key, json, "application/json").await;
        // each project's row links its report page beside its summary
        let link =
            |project: &str, _: &uuid::Uuid| format!("per-repo/{}.html", project_segment(project));
        let page = Bytes::from(tributary_intel::report::portfolio_html(&rolled, &link));
        self.put(&format!("{dir}index.html"), page, HTML).await;
    }

    /// One object, tried [`ATTEMPTS`] times with doubling waits; logged and counted.
    async fn put(&self, key: &str, bytes: Bytes, content_type: &str) -> bool {
        let mut wait = BACKOFF;
        let mut attempt = 1;
        loop {
            let result = self.store.put(key, bytes.clone(), content_type).await;
            if result.is_ok() || attempt == ATTEMPTS {
                HubWritten {
                    key,
                    bytes: bytes.len(),
                    attempts: attempt,
                    error: result.as_ref().err(),
                }
                .emit();
                return result.is_ok();
            }
            tokio::time::sleep(wait).await;
            wait *= 2;
            attempt += 1;
        }
    }
}

/// One row per file document, as Parquet columns: what analytics query (sizes, lines,
/// languages, flags, complexity, counts of symbols, imports and secret findings) — never
/// a symbol name, an import or a secret.
#[derive(Debug)]
pub struct FileTable {
    project: StringBuilder,
    path: StringBuilder,
    run_id: StringBuilder,
    checksum: StringBuilder,
    size: UInt64Builder,
    language: StringBuilder,
    language_method: StringBuilder,
    code: UInt64Builder,
    comment: UInt64Builder,
    blank: UInt64Builder,
    cyclomatic: UInt64Builder,
    functions: UInt32Builder,
    symbols: UInt32Builder,
    imports: UInt32Builder,
    license: StringBuilder,
    secrets: UInt32Builder,
    tokens: UInt64Builder,
    binary: BooleanBuilder,
    generated: BooleanBuilder,
    vendored: BooleanBuilder,
    minified: BooleanBuilder,
    documentation: BooleanBuilder,
    test: BooleanBuilder,
    content_strategy: StringBuilder,
    analysed_at: TimestampMicrosecondBuilder,
    rows: usize,
}

impl Default for FileTable {
    fn default() -> Self {
        Self {
            project: StringBuilder::new(),
            path: StringBuilder::new(),
            run_id: StringBuilder::new(),
            checksum: StringBuilder::new(),
            size: UInt64Builder::new(),
            language: StringBuilder::new(),
            language_method: StringBuilder::new(),
            code: UInt64Builder::new(),
            comment: UInt64Builder::new(),
            blank: UInt64Builder::new(),
            cyclomatic: UInt64Builder::new(),
            functions: UInt32Builder::new(),
            symbols: UInt32Builder::new(),
            imports: UInt32Builder::new(),
            license: StringBuilder::new(),
            secrets: UInt32Builder::new(),
            tokens: UInt64Builder::new(),
            binary: BooleanBuilder::new(),
            generated: BooleanBuilder::new(),
            vendored: BooleanBuilder::new(),
            minified: BooleanBuilder::new(),
            documentation: BooleanBuilder::new(),
            test: BooleanBuilder::new(),
            content_strategy: StringBuilder::new(),
            analysed_at: TimestampMicrosecondBuilder::new().with_timezone("UTC"),
            rows: 0,
        }
    }
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl FileTable {
    /// The table's columns.
    pub fn schema() -> Arc<Schema> {
        use DataType::{Boolean, UInt32, UInt64, Utf8};
        let f = |name: &str, t: DataType, nullable: bool| Field::new(name, t, nullable);
        Arc::new(Schema::new(vec![
            f("project", Utf8, false),
            f("path", Utf8, false),
            f("run_id", Utf8, true),
            f("checksum", Utf8, false),
            f("size", UInt64, false),
            f("language", Utf8, true),
            f("language_method", Utf8, true),
            f("code", UInt64, false),
            f("comment", UInt64, false),
            f("blank", UInt64, false),
            f("cyclomatic", UInt64, true),
            f("functions", UInt32, false),
            f("symbols", UInt32, false),
            f("imports", UInt32, false),
            f("license", Utf8, true),
            f("secrets", UInt32, false),
            f("tokens", UInt64, true),
            f("binary", Boolean, false),
            f("generated", Boolean, false),
            f("vendored", Boolean, false),
            f("minified", Boolean, false),
            f("documentation", Boolean, false),
            f("test", Boolean, false),
            f("content_strategy", Utf8, true),
            f(
                "analysed_at",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                false,
            ),
        ]))
    }

    /// Adds one file's row.
    pub fn add(&mut self, d: &FileIntelligence) {
        self.project.append_value(&d.project);
        self.path.append_value(d.path.as_str());
        self.run_id
            .append_option(d.source.run_id.map(|r| r.to_string()));
        self.checksum.append_value(d.checksum.to_string());
        self.size.append_value(d.size);
        self.language.append_option(d.language.as_deref());
        self.language_method
            .append_option(d.language_method.as_deref());
        self.code.append_value(d.lines.code);
        self.comment.append_value(d.lines.comment);
        self.blank.append_value(d.lines.blank);
        self.cyclomatic
            .append_option(d.complexity.as_ref().map(|c| c.cyclomatic));
        self.functions.append_value(count(
            d.complexity.as_ref().map_or(0, |c| c.functions.len()),
        ));
        self.symbols.append_value(count(d.symbols.len()));
        self.imports.append_value(count(d.imports.len()));
        self.license
            .append_option(d.license.as_ref().map(|l| l.spdx.as_str()));
        self.secrets.append_value(count(d.secrets.len()));
        self.tokens
            .append_option(d.tokens.as_ref().map(|t| t.count));
        let f = d.flags;
        self.binary.append_value(f.binary);
        self.generated.append_value(f.generated);
        self.vendored.append_value(f.vendored);
        self.minified.append_value(f.minified);
        self.documentation.append_value(f.documentation);
        self.test.append_value(f.test);
        self.content_strategy
            .append_option(d.source.content_strategy.map(|c| c.as_str()));
        let micros = d.analysed_at.unix_timestamp_nanos() / 1_000;
        self.analysed_at
            .append_value(i64::try_from(micros).unwrap_or(i64::MAX));
        self.rows += 1;
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The rows as one Parquet file (zstd-compressed).
    pub fn finish(mut self) -> Result<Bytes, parquet::errors::ParquetError> {
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.project.finish()),
            Arc::new(self.path.finish()),
            Arc::new(self.run_id.finish()),
            Arc::new(self.checksum.finish()),
            Arc::new(self.size.finish()),
            Arc::new(self.language.finish()),
            Arc::new(self.language_method.finish()),
            Arc::new(self.code.finish()),
            Arc::new(self.comment.finish()),
            Arc::new(self.blank.finish()),
            Arc::new(self.cyclomatic.finish()),
            Arc::new(self.functions.finish()),
            Arc::new(self.symbols.finish()),
            Arc::new(self.imports.finish()),
            Arc::new(self.license.finish()),
            Arc::new(self.secrets.finish()),
            Arc::new(self.tokens.finish()),
            Arc::new(self.binary.finish()),
            Arc::new(self.generated.finish()),
            Arc::new(self.vendored.finish()),
            Arc::new(self.minified.finish()),
            Arc::new(self.documentation.finish()),
            Arc::new(self.test.finish()),
            Arc::new(self.content_strategy.finish()),
            Arc::new(self.analysed_at.finish()),
        ];
        let batch = RecordBatch::try_new(Self::schema(), columns)?;
        let props = parquet::file::properties::WriterProperties::builder()
            .set_compression(parquet::basic::Compression::ZSTD(Default::default()))
            .build();
        let mut out = Vec::new();
        let mut writer =
            parquet::arrow::ArrowWriter::try_new(&mut out, Self::schema(), Some(props))?;
        writer.write(&batch)?;
        writer.close()?;
        Ok(Bytes::from(out))
    }
}

#[cfg(test)]
mod tests;
