//! Dead-letter records: one per undecodable message, per failed file. Each carries the
//! source coordinates, the reason and stage (also as Kafka Connect-style
//! `__connect.errors.*` headers) and what is needed to replay it.

use base64::Engine as _;
use time::OffsetDateTime;
use tributary_events::dlq::{DLQ_SCHEMA_VERSION, DeadLetter, Payload, RawEncoding, SourceRecord};
use tributary_events::v1::V1Event;
use tributary_events::v2::{IndexProjectRequested, WireFile};

use super::Output;
use crate::error::Failure;
use crate::internal_events::DeadLettered;

/// Raw payloads kept in a dead-letter record, at most (the source coordinates lead to
/// the rest).
pub const DLQ_RAW_MAX_BYTES: usize = 512 * 1024;

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

pub fn dead_letter_v1(ev: &V1Event, file_path: &str, src: &SourceRecord, f: Failure) -> Output {
    let mut narrowed = ev.clone();
    narrowed.files.retain(|x| x.file_path == file_path);
    let event = serde_json::to_value(&narrowed).expect("events serialize");
    let mut d = record(src, &f, Some(file_path), Payload::Event { event });
    d.event_id = Some(ev.event_id);
    d.project = Some(ev.project.clone());
    emit(format!("{}/{}", ev.project, file_path), src, &f, &d)
}
