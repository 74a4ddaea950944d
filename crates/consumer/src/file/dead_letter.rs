//! Dead-letter records: one per undecodable message, per failed file. Each carries the
//! source coordinates, the reason and stage (also as Kafka Connect-style
//! `__connect.errors.*` headers) and what is needed to replay it.
//!
//! Three rules hold for every record, whatever the input:
//! - **it fits**: a record is at most `max_bytes` serialized; what would not fit is
//!   replaced by a reference to the source record and a bounded excerpt;
//! - **no secret**: URLs lose their passwords and query strings, a `git_credentials`
//!   value that is not a reference is replaced, messages are redacted the same way;
//! - **linear cost**: the records of one event share its envelope, serialized once per
//!   event, so an event with many failing files costs in proportion to its size.

use base64::Engine as _;
use serde_json::Value;
use time::OffsetDateTime;
use tributary_events::dlq::{
    DLQ_SCHEMA_VERSION, DeadLetter, Payload, RawEncoding, Reason, SourceRecord, Stage,
};
use tributary_events::intelligence::file_key;
use tributary_events::redact::{REDACTED, redact_text};
use tributary_events::v1::V1Event;
use tributary_events::v2::{CredentialRef, IndexProjectRequested};

use super::{Origin, Output};
use crate::error::Failure;
use crate::internal_events::DeadLettered;

/// Raw payloads kept in a dead-letter record, at most, before the record's own bound
/// applies (the source coordinates lead to the rest).
pub const DLQ_RAW_MAX_BYTES: usize = 512 * 1024;
/// A record's message (and its header), at most, in bytes.
pub const MESSAGE_MAX_BYTES: usize = 4096;

/// Builds dead-letter records within a size bound.
#[derive(Debug, Clone, Copy)]
pub struct DeadLetters {
    /// The largest serialized record.
    pub max_bytes: usize,
}

/// An event without its files, serialized (and redacted) once for all of its records.
#[derive(Debug)]
pub struct Envelope {
    value: Value,
    event_id: uuid::Uuid,
    run_id: Option<uuid::Uuid>,
    project: String,
}

impl Envelope {
    pub fn v2(ev: &IndexProjectRequested) -> Self {
        Self::new(
            serde_json::to_value(ev),
            ev.event_id,
            Some(ev.run_id),
            &ev.project,
        )
    }

    pub fn v1(ev: &V1Event) -> Self {
        Self::new(serde_json::to_value(ev), ev.event_id, None, &ev.project)
    }

    fn new(
        value: serde_json::Result<Value>,
        event_id: uuid::Uuid,
        run_id: Option<uuid::Uuid>,
        project: &str,
    ) -> Self {
        let mut value = value.expect("events serialize");
        if let Some(map) = value.as_object_mut() {
            map.remove("files");
        }
        redact_value(&mut value);
        Self {
            value,
            event_id,
            run_id,
            project: project.to_owned(),
        }
    }

    /// The event narrowed to one file entry.
    fn with_file(&self, file: Value) -> Value {
        let mut event = self.value.clone();
        let mut file = file;
        redact_value(&mut file);
        event["files"] = Value::Array(vec![file]);
        event
    }
}

impl DeadLetters {
    /// A record for a message that did not decode.
    pub fn raw(&self, payload: &[u8], src: &SourceRecord, f: Failure) -> Output {
        let truncated = payload.len() > DLQ_RAW_MAX_BYTES;
        let kept = &payload[..payload.len().min(DLQ_RAW_MAX_BYTES)];
        let (encoding, data) = match std::str::from_utf8(kept) {
            // JSON that is not a valid event may still carry a secret in a known field
            Ok(s) => match serde_json::from_str::<Value>(s) {
                Ok(mut v) if !truncated => {
                    redact_value(&mut v);
                    (RawEncoding::Utf8, v.to_string())
                }
                _ => (RawEncoding::Utf8, redact_text(s)),
            },
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
        self.emit(
            format!("{}/{}/{}", src.topic, src.partition, src.offset),
            src,
            &f,
            d,
        )
    }

    /// A record for one file of an event (v2, or v1 with `wire` its `V1File`): the event
    /// narrowed to that file, re-publishable as is once the cause is fixed.
    pub fn file(
        &self,
        envelope: &Envelope,
        file: &impl serde::Serialize,
        path: Option<&str>,
        src: &SourceRecord,
        f: Failure,
    ) -> Output {
        let file = serde_json::to_value(file).expect("events serialize");
        let event = envelope.with_file(file);
        let mut d = record(src, &f, path, Payload::Event { event });
        d.event_id = Some(envelope.event_id);
        d.run_id = envelope.run_id;
        d.project = Some(envelope.project.clone());
        self.emit(file_key(&envelope.project, path.unwrap_or("")), src, &f, d)
    }

    fn emit(&self, key: String, src: &SourceRecord, f: &Failure, d: DeadLetter) -> Output {
        DeadLettered {
            reason: f.reason,
            stage: f.stage,
            path: d.path.as_deref(),
            message: &d.message,
        }
        .emit();
        Output::DeadLetter {
            key,
            headers: headers(src, &d),
            origin: Box::new(Origin {
                project: d.project.clone(),
                path: d.path.clone(),
                run_id: d.run_id,
                event_id: d.event_id,
            }),
            payload: fit(d, self.max_bytes),
        }
    }

    /// In place of an output the broker refused as too large (its topic's
    /// `max.message.bytes` is below `--max-output-bytes`): a bare record, the source
    /// coordinates its only way back, under the same key.
    pub fn refused_as_too_large(&self, key: String, origin: &Origin, src: &SourceRecord) -> Output {
        let f = Failure::new(
            Reason::TooLarge,
            Stage::Produce,
            "the broker refused the output as too large; lower --max-output-bytes below the topic's max.message.bytes",
        );
        let mut d = record(
            src,
            &f,
            origin.path.as_deref(),
            Payload::Reference {
                excerpt: String::new(),
                truncated: true,
            },
        );
        d.project = origin.project.clone();
        d.run_id = origin.run_id;
        d.event_id = origin.event_id;
        self.emit(key, src, &f, d)
    }
}

fn headers(src: &SourceRecord, d: &DeadLetter) -> Vec<(&'static str, String)> {
    vec![
        ("__connect.errors.topic", src.topic.clone()),
        ("__connect.errors.partition", src.partition.to_string()),
        ("__connect.errors.offset", src.offset.to_string()),
        (
            "__connect.errors.stage",
            format!("{:?}", d.stage).to_lowercase(),
        ),
        ("__connect.errors.reason", d.reason.as_str().to_owned()),
        ("__connect.errors.exception.message", d.message.clone()),
    ]
}

fn record(src: &SourceRecord, f: &Failure, path: Option<&str>, payload: Payload) -> DeadLetter {
    DeadLetter {
        schema_version: DLQ_SCHEMA_VERSION.to_owned(),
        reason: f.reason,
        message: bounded(redact_text(&f.message), MESSAGE_MAX_BYTES),
        stage: f.stage,
        source: src.clone(),
        event_id: None,
        run_id: None,
        project: None,
        path: path.map(|p| bounded(p.to_owned(), MESSAGE_MAX_BYTES)),
        attempts: f.attempts,
        failed_at: OffsetDateTime::now_utc(),
        payload,
    }
}

/// `s` cut to at most `max` bytes, on a character boundary.
fn bounded(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

/// The record serialized within `max_bytes`: an event payload that does not fit
/// becomes a reference with an excerpt, and an excerpt or raw copy is halved until the
/// record fits (at last the message goes too, under an absurdly small limit).
fn fit(mut d: DeadLetter, max_bytes: usize) -> Vec<u8> {
    loop {
        let json = serde_json::to_vec(&d).expect("records serialize");
        if json.len() <= max_bytes {
            return json;
        }
        if !shrink(&mut d.payload) {
            if d.message.is_empty() {
                return json;
            }
            d.message.clear();
        }
    }
}

/// Makes a payload smaller; false when nothing is left to cut.
fn shrink(payload: &mut Payload) -> bool {
    match payload {
        Payload::Event { event } => {
            *payload = Payload::Reference {
                excerpt: event.to_string(),
                truncated: true,
            };
            true
        }
        Payload::Reference { excerpt, truncated } if !excerpt.is_empty() => {
            let half = excerpt.len() / 2;
            *excerpt = bounded(std::mem::take(excerpt), half);
            *truncated = true;
            true
        }
        Payload::Raw {
            encoding,
            data,
            truncated,
        } if !data.is_empty() => {
            let half = match encoding {
                // base64 stays decodable when cut at a multiple of four
                RawEncoding::Base64 => data.len() / 2 / 4 * 4,
                RawEncoding::Utf8 => data.len() / 2,
            };
            *data = bounded(std::mem::take(data), half);
            *truncated = true;
            true
        }
        Payload::Reference { .. } | Payload::Raw { .. } => false,
    }
}

/// Removes what may be a secret from an event's JSON: a `git_credentials` value that is
/// not a reference (a token pasted in its place), and the password and query string of
/// every URL in a string value.
pub fn redact_value(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, val) in map.iter_mut() {
                if k == "git_credentials" {
                    if let Value::String(s) = val
                        && CredentialRef::try_from(s.clone()).is_err()
                        && !s
                            .strip_prefix(tributary_events::v2::CREDENTIAL_NAME_PREFIX)
                            .is_some_and(tributary_events::v2::is_credential_name)
                    {
                        *s = REDACTED.to_owned();
                    }
                    continue;
                }
                redact_value(val);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_value),
        Value::String(s) if s.contains("://") => *s = redact_text(s),
        _ => {}
    }
}

#[cfg(test)]
mod tests;
