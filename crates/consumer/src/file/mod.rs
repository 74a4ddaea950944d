//! Per-file processing: one message in, its outputs out — intelligence documents,
//! tombstones for deleted files, dead-letter records (`dead_letter`) — with each file's
//! bytes found and verified by the `resolve`r. Pure of Kafka: the daemon produces what
//! this returns. A run's completion is handed back as such; its summary is built off
//! the partition worker (`crate::summary`).

pub mod dead_letter;
pub mod resolve;

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use futures::StreamExt as _;
use futures::future::BoxFuture;
use time::OffsetDateTime;
use tokio::sync::Semaphore;
use tributary_events::dlq::{Reason, SourceRecord, Stage};
use tributary_events::intelligence::{
    DOC_TYPE_FILE, DocSource, FileIntelligence, INTELLIGENCE_SCHEMA_VERSION, Timing, doc_key,
};
use tributary_events::v1::V1Event;
use tributary_events::v2::{Change, IndexProjectRequested, IndexRunCompleted, WireFile};
use tributary_events::{IndexEvent, RelPath, Sha256Hex};

use crate::error::Failure;
use crate::internal_events::FileProcessed;
use dead_letter::{dead_letter_file, dead_letter_raw, dead_letter_v1};
use resolve::{Resolver, Tier};

/// A record to produce.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    Document {
        key: String,
        payload: Vec<u8>,
    },
    /// A deleted file: a null value for its document key (compaction removes it).
    Tombstone {
        key: String,
    },
    DeadLetter {
        key: String,
        payload: Vec<u8>,
        headers: Vec<(&'static str, String)>,
    },
}

/// What a message from the index topic comes to.
#[derive(Debug)]
pub enum Processed {
    /// Records to produce before the message counts as done.
    Outputs(Vec<Output>),
    /// A run's manifest: its summary is built on a task of its own.
    RunCompleted(Box<IndexRunCompleted>),
}

/// Turns messages into outputs.
#[derive(Debug)]
pub struct Processor {
    pub resolver: Arc<Resolver>,
    pub analysis: Arc<Semaphore>,
    pub file_concurrency: usize,
    /// Limits of the analysers.
    pub analysis_options: tributary_intel::Options,
}

struct Resolved {
    bytes: Bytes,
    tier: Tier,
    resolve_us: u64,
}

impl Processor {
    /// What one message from the index topic comes to.
    pub async fn process(&self, payload: &[u8], src: &SourceRecord) -> Processed {
        Processed::Outputs(match tributary_events::decode(payload) {
            Err(e) => {
                vec![dead_letter_raw(
                    payload,
                    src,
                    Failure::new(e.reason(), Stage::Decode, tributary_runtime::chain(&e)),
                )]
            }
            Ok(IndexEvent::Requested(ev)) => self.process_v2(&ev, src).await,
            Ok(IndexEvent::V1(ev)) => self.process_v1(&ev, src).await,
            Ok(IndexEvent::Completed(ev)) => {
                tracing::info!(project = %ev.project, run_id = %ev.run_id, batches = ev.batches, "run completed");
                return Processed::RunCompleted(Box::new(ev));
            }
        })
    }

    async fn process_v2(&self, ev: &IndexProjectRequested, src: &SourceRecord) -> Vec<Output> {
        let creds = match ev.credentials() {
            Ok(c) => c,
            Err(e) => {
                return ev
                    .files
                    .iter()
                    .map(|f| {
                        dead_letter_file(
                            ev,
                            f,
                            src,
                            Failure::new(e.reason(), Stage::Validate, e.to_string()),
                        )
                    })
                    .collect();
            }
        };
        let creds = creds.as_ref();
        self.each_file(ev.files.iter().map(|wire| {
            Box::pin(self.file_or_dead_letter(ev, wire, creds, src)) as BoxFuture<'_, Output>
        }))
        .await
    }

    /// Runs one future per file of an event, `file_concurrency` at once.
    async fn each_file<'a>(
        &self,
        files: impl Iterator<Item = BoxFuture<'a, Output>>,
    ) -> Vec<Output> {
        // Collected first: boxed futures that borrow the event otherwise trip the
        // compiler's higher-ranked `Send` inference when the worker task is spawned.
        let futs: Vec<BoxFuture<'a, Output>> = files.collect();
        futures::stream::iter(futs)
            .buffer_unordered(self.file_concurrency)
            .collect()
            .await
    }

    async fn file_or_dead_letter(
        &self,
        ev: &IndexProjectRequested,
        wire: &WireFile,
        creds: Option<&tributary_events::v2::CredentialRef>,
        src: &SourceRecord,
    ) -> Output {
        match self.process_file(ev, wire, creds).await {
            Ok(out) => out,
            Err(f) => dead_letter_file(ev, wire, src, f),
        }
    }

    async fn process_file(
        &self,
        ev: &IndexProjectRequested,
        wire: &WireFile,
        creds: Option<&tributary_events::v2::CredentialRef>,
    ) -> Result<Output, Failure> {
        let spec = wire
            .validate()
            .map_err(|e| Failure::new(e.reason(), Stage::Validate, e.to_string()))?;
        let key = doc_key(&ev.project, &spec.path);
        let Some(body) = spec.body else {
            debug_assert_eq!(spec.change, Change::Deleted);
            return Ok(Output::Tombstone { key });
        };
        let t = Instant::now();
        let (bytes, tier) = self
            .resolver
            .resolve(&body.content, &body.checksum, &spec.path, creds)
            .await?;
        let resolved = Resolved {
            bytes,
            tier,
            resolve_us: t.elapsed().as_micros() as u64,
        };
        let (git_url, git_ref) = match &body.content {
            tributary_events::v2::ContentRef::GitReference { git_url, git_ref } => {
                (Some(git_url.clone()), Some(git_ref.clone()))
            }
            _ => (ev.source.git_url.clone(), ev.source.git_ref.clone()),
        };
        let source = DocSource {
            content_strategy: Some(body.content.strategy()),
            run_id: Some(ev.run_id),
            event_id: ev.event_id,
            git_url,
            git_ref,
        };
        self.document(&ev.project, spec.path, body.checksum, resolved, source)
            .await
    }

    async fn process_v1(&self, ev: &V1Event, src: &SourceRecord) -> Vec<Output> {
        self.each_file(
            ev.files
                .iter()
                .map(|f| Box::pin(self.v1_file(ev, f, src)) as BoxFuture<'_, Output>),
        )
        .await
    }

    async fn v1_file(
        &self,
        ev: &V1Event,
        f: &tributary_events::v1::V1File,
        src: &SourceRecord,
    ) -> Output {
        let result = async {
            let spec = f
                .validate()
                .map_err(|e| Failure::new(e.reason(), Stage::Validate, e.to_string()))?;
            let t = Instant::now();
            let (bytes, tier) = self
                .resolver
                .resolve_v1(&spec.path, spec.checksum.as_ref())
                .await?;
            let checksum = spec.checksum.unwrap_or_else(|| Sha256Hex::of(&bytes));
            let resolved = Resolved {
                bytes,
                tier,
                resolve_us: t.elapsed().as_micros() as u64,
            };
            let source = DocSource {
                content_strategy: None,
                run_id: None,
                event_id: ev.event_id,
                git_url: None,
                git_ref: None,
            };
            self.document(&ev.project, spec.path, checksum, resolved, source)
                .await
        }
        .await;
        result.unwrap_or_else(|failure| dead_letter_v1(ev, &f.file_path, src, failure))
    }

    async fn document(
        &self,
        project: &str,
        path: RelPath,
        checksum: Sha256Hex,
        resolved: Resolved,
        source: DocSource,
    ) -> Result<Output, Failure> {
        let permit = self
            .analysis
            .clone()
            .acquire_owned()
            .await
            .expect("analysis semaphore is never closed");
        let t = Instant::now();
        let bytes = resolved.bytes.clone();
        let p = path.clone();
        let options = self.analysis_options;
        let analysis = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            tributary_intel::analyse_with(&p, &bytes, &options)
        })
        .await
        .map_err(|e| {
            Failure::new(
                Reason::RetriesExhausted,
                Stage::Analyse,
                format!("analyser crashed: {e}"),
            )
        })?;
        let analyse = t.elapsed();
        FileProcessed {
            tier: resolved.tier,
            bytes: resolved.bytes.len() as u64,
            resolve: std::time::Duration::from_micros(resolved.resolve_us),
            analyse,
        }
        .emit();
        let doc = FileIntelligence {
            schema_version: INTELLIGENCE_SCHEMA_VERSION.to_owned(),
            doc_type: DOC_TYPE_FILE.to_owned(),
            project: project.to_owned(),
            path,
            checksum,
            size: resolved.bytes.len() as u64,
            language: analysis.language.map(str::to_owned),
            language_method: analysis.language_method.map(|m| m.as_str().to_owned()),
            lines: analysis.lines,
            complexity: analysis.complexity,
            symbols: analysis.symbols,
            license: analysis.license,
            secrets: analysis.secrets,
            imports: analysis.imports,
            tokens: analysis.tokens,
            flags: analysis.flags,
            diagnostics: analysis.diagnostics,
            source,
            timing: Timing {
                resolve_us: resolved.resolve_us,
                analyse_us: analyse.as_micros() as u64,
            },
            analysed_at: OffsetDateTime::now_utc(),
        };
        let payload = serde_json::to_vec(&doc).expect("documents serialize");
        Ok(Output::Document {
            key: doc.key(),
            payload,
        })
    }
}
