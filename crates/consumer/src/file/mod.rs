//! Per-file processing: one message in, its outputs out — intelligence documents,
//! tombstones for deleted files, dead-letter records (`dead_letter`) — with each file's
//! bytes found and verified by the `resolve`r. Pure of Kafka: the daemon produces what
//! this returns. A run's completion is handed back as such; its summary is built off
//! the partition worker (`crate::summary`).

pub mod dead_letter;
pub mod pool;
pub mod resolve;

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use bytes::Bytes;
use futures::StreamExt as _;
use futures::future::BoxFuture;
use time::OffsetDateTime;
use tributary_events::dlq::{Reason, SourceRecord, Stage};
use tributary_events::intelligence::{
    DOC_TYPE_FILE, DocSource, FileIntelligence, INTELLIGENCE_SCHEMA_VERSION, Timing, doc_key,
};
use tributary_events::v1::V1Event;
use tributary_events::v2::{
    Change, FileSpec, IndexProjectRequested, IndexRunCompleted, Linguist, WireFile,
};
use tributary_events::{IndexEvent, RelPath, Sha256Hex};

use crate::analysis_cache::{self, AnalysisCache, Recalled};
use crate::error::Failure;
use crate::internal_events::{FileProcessed, FileRecalled};
use dead_letter::{DeadLetters, Envelope};
use resolve::{Resolver, Tier};

/// A record to produce.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    Document {
        key: String,
        payload: Vec<u8>,
        origin: Box<Origin>,
    },
    /// A deleted file: a null value for its document key (compaction removes it).
    Tombstone { key: String },
    DeadLetter {
        key: String,
        payload: Vec<u8>,
        headers: Vec<(&'static str, String)>,
        origin: Box<Origin>,
    },
}

/// What an output is about: enough to dead-letter it in its place when the broker
/// refuses it as too large.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Origin {
    pub project: Option<String>,
    pub path: Option<String>,
    pub run_id: Option<uuid::Uuid>,
    pub event_id: Option<uuid::Uuid>,
}

/// What a message from the index topic comes to.
#[derive(Debug)]
pub enum Processed {
    /// Records to produce before the message counts as done.
    Outputs(Vec<Output>),
    /// A run's manifest: its summary is built on a task of its own.
    RunCompleted(Box<IndexRunCompleted>),
    /// This machine could not do the work (its storage is full): the message is tried
    /// again once there is room, and nothing of it is produced or dead-lettered now.
    LocalFault(String),
}

/// Turns messages into outputs.
#[derive(Debug)]
pub struct Processor {
    pub resolver: Arc<Resolver>,
    /// The analysers run here: a fixed number of threads.
    pub analysis: pool::AnalysisPool,
    pub file_concurrency: usize,
    /// Limits of the analysers.
    pub analysis_options: tributary_intel::Options,
    /// What the analysers computed before, by content and key; `None`: analyse always.
    pub analysis_cache: Option<Arc<AnalysisCache>>,
    /// Dead-letter records, within the output bound.
    pub dead_letters: DeadLetters,
    /// The largest document, serialized; longer lists are cut to fit.
    pub max_output_bytes: usize,
    /// Secret findings acknowledged before.
    pub secrets_baseline: Arc<crate::config::SecretsBaseline>,
}

/// A file of an event as the analysis cache knows it.
/// What a document is about: the file, its verified checksum, and what the repository's
/// `.gitattributes` say of it.
#[derive(Debug)]
struct Subject {
    path: RelPath,
    checksum: Sha256Hex,
    linguist: Linguist,
    /// What the publisher's history says of the file (carried into the document).
    history: Option<tributary_events::v2::FileHistory>,
}

#[derive(Default)]
struct Seen {
    /// Where its whole analysis is kept once made; `None`: not kept (no cache, no bytes).
    key: Option<analysis_cache::Key>,
    /// What was kept, and this file's share of the time the lookup took.
    kept: Option<(Recalled, std::time::Duration)>,
}

struct Resolved {
    bytes: Bytes,
    tier: Tier,
    resolve_us: u64,
}

impl Processor {
    /// What one message from the index topic comes to.
    pub async fn process(&self, payload: &[u8], src: &SourceRecord) -> Processed {
        let outputs = match tributary_events::decode(payload) {
            Err(e) => Ok(vec![self.dead_letters.raw(
                payload,
                src,
                Failure::new(e.reason(), Stage::Decode, tributary_runtime::chain(&e)),
            )]),
            Ok(IndexEvent::Requested(ev)) => self.process_v2(&ev, src).await,
            Ok(IndexEvent::V1(ev)) => self.process_v1(&ev, src).await,
            Ok(IndexEvent::Completed(ev)) => {
                tracing::info!(project = ev.project.as_str(), run_id = %ev.run_id, batches = ev.batches, "run completed");
                return Processed::RunCompleted(Box::new(ev));
            }
        };
        match outputs {
            Ok(outputs) => Processed::Outputs(outputs),
            Err(why) => Processed::LocalFault(why),
        }
    }

    /// An event's outputs, or the local fault that keeps it from being processed now.
    async fn process_v2(
        &self,
        ev: &IndexProjectRequested,
        src: &SourceRecord,
    ) -> Result<Vec<Output>, String> {
        // built on the first failure, shared by every record of the event
        let envelope = OnceLock::new();
        // a malformed reference (a token pasted in its place) dead-letters the event's
        // files; a well-formed one is only a name, bound or refused when a file is fetched
        let creds = match ev.credential_name() {
            Ok(name) => name,
            Err(e) => {
                let envelope = envelope.get_or_init(|| Envelope::v2(ev));
                return Ok(ev
                    .files
                    .iter()
                    .map(|f| {
                        self.dead_letters.file(
                            envelope,
                            f,
                            f.path.as_deref(),
                            src,
                            Failure::new(e.reason(), Stage::Validate, e.to_string()),
                        )
                    })
                    .collect());
            }
        };
        let specs: Vec<Result<FileSpec, Failure>> = ev
            .files
            .iter()
            .map(|wire| {
                wire.validate()
                    .map_err(|e| Failure::new(e.reason(), Stage::Validate, e.to_string()))
            })
            .collect();
        let seen = self.recall(ev, &specs).await;
        let results: Vec<(&WireFile, Result<Output, Failure>)> = self
            .each_file(
                ev.files
                    .iter()
                    .zip(specs)
                    .zip(seen)
                    .map(|((wire, spec), seen)| {
                        Box::pin(async move {
                            let result = match spec {
                                Ok(spec) => self.process_file(ev, spec, seen, creds).await,
                                Err(failure) => Err(failure),
                            };
                            (wire, result)
                        }) as BoxFuture<'_, _>
                    }),
            )
            .await;
        local_fault(results.iter().map(|(_, r)| r))?;
        Ok(results
            .into_iter()
            .map(|(wire, result)| {
                result.unwrap_or_else(|f| {
                    self.dead_letters.file(
                        envelope.get_or_init(|| Envelope::v2(ev)),
                        wire,
                        wire.path.as_deref(),
                        src,
                        f,
                    )
                })
            })
            .collect())
    }

    /// Runs one future per file of an event, `file_concurrency` at once.
    async fn each_file<'a, T: 'a>(&self, files: impl Iterator<Item = BoxFuture<'a, T>>) -> Vec<T> {
        // Collected first: boxed futures that borrow the event otherwise trip the
        // compiler's higher-ranked `Send` inference when the worker task is spawned.
        let futs: Vec<BoxFuture<'a, T>> = files.collect();
        futures::stream::iter(futs)
            .buffer_unordered(self.file_concurrency)
            .collect()
            .await
    }

    /// What the analysis cache kept of an event's files, seen before with the same
    /// project, path, bytes and analysers (one per file, in order): looked up in memory
    /// at once, then those known read from the cache's file in one job on the pool.
    async fn recall(
        &self,
        ev: &IndexProjectRequested,
        specs: &[Result<FileSpec, Failure>],
    ) -> Vec<Seen> {
        let Some(cache) = &self.analysis_cache else {
            return specs.iter().map(|_| Seen::default()).collect();
        };
        let revision = self.analysis_options.revision_key();
        let mut seen: Vec<Seen> = specs
            .iter()
            .map(|spec| match spec {
                Ok(FileSpec {
                    path,
                    body: Some(body),
                    linguist,
                    ..
                }) => Seen {
                    // the attributes are part of what the analysis depends on
                    key: Some(analysis_cache::file_key(
                        &ev.project,
                        path.as_str(),
                        &body.checksum,
                        &if linguist.is_empty() {
                            revision.clone()
                        } else {
                            format!("{revision}|{}", linguist.key())
                        },
                    )),
                    kept: None,
                },
                _ => Seen::default(),
            })
            .collect();
        let known: Vec<(usize, analysis_cache::Key)> = seen
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.key.map(|k| (i, k)))
            .filter(|(_, k)| {
                let known = cache.knows(k);
                if !known {
                    cache.recall_missed();
                }
                known
            })
            .collect();
        if known.is_empty() {
            return seen;
        }
        let keys: Vec<analysis_cache::Key> = known.iter().map(|(_, k)| *k).collect();
        let cache = cache.clone();
        let Ok((found, elapsed)) = self
            .analysis
            .run(move || {
                let t = Instant::now();
                (cache.recall_many(&keys), t.elapsed())
            })
            .await
        else {
            return seen; // fetched and analysed as if never seen
        };
        // each file's share of the one lookup
        let each = elapsed / u32::try_from(known.len()).unwrap_or(u32::MAX);
        for ((i, _), kept) in known.into_iter().zip(found) {
            seen[i].kept = kept.map(|k| (k, each));
        }
        seen
    }

    async fn process_file(
        &self,
        ev: &IndexProjectRequested,
        spec: FileSpec,
        seen: Seen,
        creds: Option<&str>,
    ) -> Result<Output, Failure> {
        let key = doc_key(&ev.project, &spec.path);
        let Some(body) = spec.body else {
            debug_assert_eq!(spec.change, Change::Deleted);
            return Ok(Output::Tombstone { key });
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
        // The same file seen before (this project, this path, these bytes, these
        // analysers): its document is rebuilt from what was kept, nothing is fetched.
        let subject = Subject {
            path: spec.path,
            checksum: body.checksum,
            linguist: spec.linguist,
            history: spec.history,
        };
        if let Some((kept, elapsed)) = seen.kept {
            return self.recalled(&ev.project, subject, kept, source, elapsed);
        }
        let t = Instant::now();
        let (bytes, tier) = self
            .resolver
            .resolve(&body.content, &body.checksum, &subject.path, creds)
            .await?;
        let resolved = Resolved {
            bytes,
            tier,
            resolve_us: t.elapsed().as_micros() as u64,
        };
        self.document(&ev.project, subject, resolved, source, seen.key)
            .await
    }

    async fn process_v1(&self, ev: &V1Event, src: &SourceRecord) -> Result<Vec<Output>, String> {
        let envelope = OnceLock::new();
        let results: Vec<(&tributary_events::v1::V1File, Result<Output, Failure>)> = self
            .each_file(ev.files.iter().map(|f| {
                Box::pin(async move { (f, self.v1_file(ev, f).await) }) as BoxFuture<'_, _>
            }))
            .await;
        local_fault(results.iter().map(|(_, r)| r))?;
        Ok(results
            .into_iter()
            .map(|(f, result)| {
                result.unwrap_or_else(|failure| {
                    self.dead_letters.file(
                        envelope.get_or_init(|| Envelope::v1(ev)),
                        f,
                        Some(&f.file_path),
                        src,
                        failure,
                    )
                })
            })
            .collect())
    }

    async fn v1_file(
        &self,
        ev: &V1Event,
        f: &tributary_events::v1::V1File,
    ) -> Result<Output, Failure> {
        {
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
            let subject = Subject {
                path: spec.path,
                checksum,
                linguist: Linguist::default(),
                history: None,
            };
            self.document(&ev.project, subject, resolved, source, None)
                .await
        }
    }

    /// A file's document from its analysis, kept under `file_key` (when given) once the
    /// analysis is one worth keeping.
    async fn document(
        &self,
        project: &str,
        subject: Subject,
        resolved: Resolved,
        source: DocSource,
        file_key: Option<analysis_cache::Key>,
    ) -> Result<Output, Failure> {
        let Subject {
            path,
            checksum,
            linguist,
            history,
        } = subject;
        let bytes = resolved.bytes.clone();
        let p = path.clone();
        let options = self.analysis_options;
        let cache = self.analysis_cache.clone();
        let content = checksum;
        // timed on the pool thread: waiting for a free thread is not analysis
        let (analysis, analyse, keep, cpu) = self
            .analysis
            .run(move || {
                let t = Instant::now();
                let cpu = tributary_runtime::thread_cpu_seconds();
                let prepared = tributary_intel::prepare_with(&p, &bytes, &options, &linguist);
                let computed = match &cache {
                    // a binary file has nothing worth keeping
                    Some(cache) if !prepared.is_binary() => {
                        let key = prepared.memo_key();
                        match cache.get(&content, &key).0 {
                            Some(kept) => kept,
                            None => {
                                let computed = prepared.compute();
                                cache.put(&content, &key, &computed);
                                computed
                            }
                        }
                    }
                    _ => prepared.compute(),
                };
                // a parse cut short by the machine's load is not the file's analysis
                let keep = computed.cacheable;
                let analysis = prepared.finish(computed);
                let cpu = tributary_runtime::thread_cpu_seconds() - cpu;
                (analysis, t.elapsed(), keep, cpu)
            })
            .await
            .map_err(|_| {
                Failure::new(Reason::RetriesExhausted, Stage::Analyse, "analyser crashed")
            })?;
        FileProcessed {
            tier: resolved.tier,
            bytes: resolved.bytes.len() as u64,
            resolve: std::time::Duration::from_micros(resolved.resolve_us),
            analyse,
        }
        .emit();
        let analysis = Recalled {
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
            flag_reasons: analysis.flag_reasons,
            dependencies: analysis.dependencies,
            unique_lines: analysis.unique_lines,
            diagnostics: analysis.diagnostics,
        };
        if let (Some(cache), Some(file_key), true) = (&self.analysis_cache, file_key, keep) {
            cache.remember(&file_key, &analysis);
        }
        let timing = Timing {
            resolve_us: resolved.resolve_us,
            analyse_us: analyse.as_micros() as u64,
            cpu_us: Some((cpu.max(0.0) * 1e6) as u64),
            resolved_from: Some(resolved.tier.as_str().to_owned()),
        };
        self.output(file_document(
            project, path, checksum, history, analysis, source, timing,
        ))
    }

    /// A document rebuilt from a file's kept analysis: this event's source, no resolve.
    fn recalled(
        &self,
        project: &str,
        subject: Subject,
        kept: Recalled,
        source: DocSource,
        elapsed: std::time::Duration,
    ) -> Result<Output, Failure> {
        FileRecalled {
            bytes: kept.size,
            elapsed,
        }
        .emit();
        let timing = Timing {
            resolve_us: 0,
            analyse_us: elapsed.as_micros() as u64,
            cpu_us: None,
            resolved_from: Some("recalled".to_owned()),
        };
        let Subject {
            path,
            checksum,
            history,
            ..
        } = subject;
        self.output(file_document(
            project, path, checksum, history, kept, source, timing,
        ))
    }

    /// A document as the record to produce.
    fn output(&self, mut doc: FileIntelligence) -> Result<Output, Failure> {
        self.secrets_baseline.apply(&mut doc.secrets);
        // No input stops a partition: a document too large for one message loses the
        // tail of its longest lists (named in `truncated`) until it fits.
        let payload = doc.to_json_within(self.max_output_bytes).ok_or_else(|| {
            Failure::new(
                Reason::TooLarge,
                Stage::Produce,
                "the document does not fit in one message even with every list cut",
            )
        })?;
        Ok(Output::Document {
            key: doc.key(),
            payload,
            origin: Box::new(Origin {
                project: Some(doc.project),
                path: Some(doc.path.to_string()),
                run_id: doc.source.run_id,
                event_id: Some(doc.source.event_id),
            }),
        })
    }
}

/// A file's document: its analysis (made now, or kept from when the same file was seen)
/// and where this event found it; lists whole (`output` cuts them to fit a message).
fn file_document(
    project: &str,
    path: RelPath,
    checksum: Sha256Hex,
    history: Option<tributary_events::v2::FileHistory>,
    analysis: Recalled,
    source: DocSource,
    timing: Timing,
) -> FileIntelligence {
    FileIntelligence {
        schema_version: INTELLIGENCE_SCHEMA_VERSION.to_owned(),
        doc_type: DOC_TYPE_FILE.to_owned(),
        project: project.to_owned(),
        path,
        checksum,
        size: analysis.size,
        language: analysis.language,
        language_method: analysis.language_method,
        lines: analysis.lines,
        complexity: analysis.complexity,
        symbols: analysis.symbols,
        license: analysis.license,
        secrets: analysis.secrets,
        imports: analysis.imports,
        tokens: analysis.tokens,
        flags: analysis.flags,
        flag_reasons: analysis.flag_reasons,
        dependencies: analysis.dependencies,
        unique_lines: analysis.unique_lines,
        history,
        diagnostics: analysis.diagnostics,
        truncated: Vec::new(),
        source,
        timing,
        analysed_at: OffsetDateTime::now_utc(),
    }
}

/// The first local fault among a message's file results, if any: then none of them is
/// produced or dead-lettered now (the message is tried again once there is room).
fn local_fault<'a>(
    mut results: impl Iterator<Item = &'a Result<Output, Failure>>,
) -> Result<(), String> {
    match results.find_map(|r| r.as_ref().err().filter(|f| f.local)) {
        Some(f) => Err(f.message.clone()),
        None => Ok(()),
    }
}
