//! One message in, its outputs out: intelligence documents, tombstones for deleted
//! files, dead-letter records. Pure of Kafka: the pipeline produces what this returns.

use std::sync::Arc;
use std::time::Instant;

use base64::Engine as _;
use bytes::Bytes;
use futures::StreamExt as _;
use futures::future::BoxFuture;
use time::OffsetDateTime;
use tokio::sync::Semaphore;
use tributary_events::dlq::{
    DLQ_SCHEMA_VERSION, DeadLetter, Payload, RawEncoding, Reason, SourceRecord, Stage,
};
use tributary_events::intelligence::{
    DOC_TYPE_FILE, DocSource, FileIntelligence, INTELLIGENCE_SCHEMA_VERSION, Timing, doc_key,
};
use tributary_events::v1::V1Event;
use tributary_events::v2::{Change, IndexProjectRequested, WireFile};
use tributary_events::{IndexEvent, RelPath, Sha256Hex};

use crate::error::Failure;
use crate::internal_events::{DeadLettered, FileProcessed};
use crate::resolve::{Resolver, Tier};

/// Raw payloads kept in a dead-letter record, at most (the source coordinates lead to
/// the rest).
pub const DLQ_RAW_MAX_BYTES: usize = 512 * 1024;

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

/// Turns messages into outputs.
#[derive(Debug)]
pub struct Processor {
    pub resolver: Arc<Resolver>,
    pub analysis: Arc<Semaphore>,
    pub file_concurrency: usize,
    /// Summaries of completed runs; `None` turns them off.
    pub summaries: Option<crate::summary::SummaryConfig>,
    /// HTML reports of summaries; `None` writes none.
    pub reports: Option<Arc<crate::report::ReportSink>>,
    /// Limits of the analysers.
    pub analysis_options: tributary_intel::Options,
}

struct Resolved {
    bytes: Bytes,
    tier: Tier,
    resolve_us: u64,
}

impl Processor {
    /// The outputs for one message from the index topic.
    pub async fn process(&self, payload: &[u8], src: &SourceRecord) -> Vec<Output> {
        match tributary_events::decode(payload) {
            Err(e) => {
                vec![dead_letter_raw(
                    payload,
                    src,
                    Failure::new(e.reason(), Stage::Decode, crate::error::chain(&e)),
                )]
            }
            Ok(IndexEvent::Requested(ev)) => self.process_v2(&ev, src).await,
            Ok(IndexEvent::V1(ev)) => self.process_v1(&ev, src).await,
            Ok(IndexEvent::Completed(ev)) => {
                tracing::info!(project = %ev.project, run_id = %ev.run_id, batches = ev.batches, "run completed");
                let Some(cfg) = self.summaries.clone() else {
                    return Vec::new();
                };
                let summary =
                    tokio::task::spawn_blocking(move || crate::summary::collect(&cfg, &ev)).await;
                match summary {
                    Ok(None) => Vec::new(),
                    Ok(Some(s)) => {
                        tracing::info!(project = %s.project, files = s.totals.files, complete = s.complete, "project summary");
                        if let Some(sink) = &self.reports {
                            sink.write(&s).await;
                        }
                        let key = tributary_events::intelligence::summary_key(&s.project);
                        vec![Output::Document {
                            key,
                            payload: serde_json::to_vec(&s).expect("summaries serialize"),
                        }]
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "summary task failed");
                        Vec::new()
                    }
                }
            }
        }
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
        // Boxed futures: the borrow-carrying closures otherwise trip the compiler's
        // higher-ranked Send inference when the worker task is spawned.
        let futs: Vec<BoxFuture<'_, Output>> = ev
            .files
            .iter()
            .map(|wire| {
                Box::pin(self.file_or_dead_letter(ev, wire, creds, src)) as BoxFuture<'_, Output>
            })
            .collect();
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
        let futs: Vec<BoxFuture<'_, Output>> = ev
            .files
            .iter()
            .map(|f| Box::pin(self.v1_file(ev, f, src)) as BoxFuture<'_, Output>)
            .collect();
        futures::stream::iter(futs)
            .buffer_unordered(self.file_concurrency)
            .collect()
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

fn headers(src: &SourceRecord, f: &Failure) -> Vec<(&'static str, String)> {
    vec![
        ("__connect.errors.topic", src.topic.clone()),
        ("__connect.errors.partition", src.partition.to_string()),
        ("__connect.errors.offset", src.offset.to_string()),
        (
            "__connect.errors.stage",
            format!("{:?}", f.stage).to_lowercase(),
        ),
        ("__connect.errors.reason", f.reason.as_str().to_owned()),
        ("__connect.errors.exception.message", f.message.clone()),
    ]
}

fn record(src: &SourceRecord, f: &Failure, path: Option<&str>, payload: Payload) -> DeadLetter {
    DeadLetter {
        schema_version: DLQ_SCHEMA_VERSION.to_owned(),
        reason: f.reason,
        message: f.message.clone(),
        stage: f.stage,
        source: src.clone(),
        event_id: None,
        run_id: None,
        project: None,
        path: path.map(str::to_owned),
        attempts: f.attempts,
        failed_at: OffsetDateTime::now_utc(),
        payload,
    }
}

fn emit(key: String, src: &SourceRecord, f: &Failure, d: &DeadLetter) -> Output {
    DeadLettered {
        reason: f.reason,
        stage: f.stage,
        path: d.path.as_deref(),
        message: &f.message,
    }
    .emit();
    Output::DeadLetter {
        key,
        payload: serde_json::to_vec(d).expect("records serialize"),
        headers: headers(src, f),
    }
}

/// A dead-letter record for a message that did not decode.
pub fn dead_letter_raw(payload: &[u8], src: &SourceRecord, f: Failure) -> Output {
    let truncated = payload.len() > DLQ_RAW_MAX_BYTES;
    let kept = &payload[..payload.len().min(DLQ_RAW_MAX_BYTES)];
    let (encoding, data) = match std::str::from_utf8(kept) {
        Ok(s) => (RawEncoding::Utf8, s.to_owned()),
        Err(_) => (
            RawEncoding::Base64,
            base64::engine::general_purpose::STANDARD.encode(kept),
        ),
    };
    let d = record(
        src,
        &f,
        None,
        Payload::Raw {
            encoding,
            data,
            truncated,
        },
    );
    emit(
        format!("{}/{}/{}", src.topic, src.partition, src.offset),
        src,
        &f,
        &d,
    )
}

/// A dead-letter record for one file of a v2 event: the event narrowed to that file,
/// re-publishable as is once the cause is fixed.
pub fn dead_letter_file(
    ev: &IndexProjectRequested,
    wire: &WireFile,
    src: &SourceRecord,
    f: Failure,
) -> Output {
    let mut narrowed = ev.clone();
    narrowed.files = vec![wire.clone()];
    let event = serde_json::to_value(&narrowed).expect("events serialize");
    let path = wire.path.as_deref();
    let mut d = record(src, &f, path, Payload::Event { event });
    d.event_id = Some(ev.event_id);
    d.run_id = Some(ev.run_id);
    d.project = Some(ev.project.clone());
    emit(
        format!("{}/{}", ev.project, path.unwrap_or("")),
        src,
        &f,
        &d,
    )
}

fn dead_letter_v1(ev: &V1Event, file_path: &str, src: &SourceRecord, f: Failure) -> Output {
    let mut narrowed = ev.clone();
    narrowed.files.retain(|x| x.file_path == file_path);
    let event = serde_json::to_value(&narrowed).expect("events serialize");
    let mut d = record(src, &f, Some(file_path), Payload::Event { event });
    d.event_id = Some(ev.event_id);
    d.project = Some(ev.project.clone());
    emit(format!("{}/{}", ev.project, file_path), src, &f, &d)
}
