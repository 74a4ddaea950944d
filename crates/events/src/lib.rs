//! Tributary's wire contract: the events the publisher produces, the documents and
//! dead-letter records the consumer produces, and the rules that validate them.
//!
//! The JSON Schemas under `schemas/` describe the same formats; tests keep the two in
//! agreement. This crate does no I/O.

mod checksum;
pub mod cost;
pub mod dlq;
mod error;
pub mod intelligence;
mod path;
mod project;
pub mod redact;
pub mod v1;
pub mod v2;

use serde::Deserialize;

pub use checksum::{ChecksumError, Sha256Hex};
pub use error::{EventError, InvalidEvent, InvalidFile};
pub use path::{PathError, RelPath};
pub use project::{ProjectName, ProjectNameError};

/// Default topic names.
pub mod topics {
    pub const INDEX_V2: &str = "tributary.index.v2";
    pub const INTELLIGENCE_V1: &str = "tributary.intelligence.v1";
    pub const DLQ: &str = "tributary.index.dlq";
}

/// Any event the consumer reads from the index topic.
#[derive(Debug, Clone, PartialEq)]
pub enum IndexEvent {
    V1(v1::V1Event),
    Requested(v2::IndexProjectRequested),
    Completed(v2::IndexRunCompleted),
}

#[derive(Deserialize)]
struct Head<'a> {
    #[serde(borrow, default)]
    schema_version: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow, default)]
    event_type: Option<std::borrow::Cow<'a, str>>,
}

fn major(version: &str) -> Option<u32> {
    let mut parts = version.split('.');
    let major = parts.next()?.parse().ok()?;
    // MAJOR.MINOR.PATCH, each numeric.
    let rest: Vec<_> = parts.collect();
    (rest.len() == 2 && rest.iter().all(|p| p.parse::<u32>().is_ok())).then_some(major)
}

/// Decodes one message from the index topic and validates its envelope.
///
/// File entries are not validated here: each is checked on its own with
/// [`v2::WireFile::validate`] / [`v1::V1File::validate`], so one bad file does not
/// condemn its batch.
pub fn decode(bytes: &[u8]) -> Result<IndexEvent, EventError> {
    let head: Head<'_> =
        serde_json::from_slice(bytes).map_err(|source| EventError::Malformed { source })?;
    let version = head
        .schema_version
        .ok_or(EventError::MissingSchemaVersion)?;
    let event_type = head.event_type.as_deref().unwrap_or_default();
    let unknown_type = || EventError::UnknownEventType {
        version: version.to_string(),
        event_type: event_type.to_owned(),
    };
    let malformed = |source| EventError::Malformed { source };
    match major(&version) {
        Some(1) => {
            if event_type != v2::EVENT_INDEX_PROJECT_REQUESTED {
                return Err(unknown_type());
            }
            let ev: v1::V1Event = serde_json::from_slice(bytes).map_err(malformed)?;
            if ev.project.is_empty() {
                return Err(InvalidEvent::EmptyProject.into());
            }
            Ok(IndexEvent::V1(ev))
        }
        Some(2) => match event_type {
            v2::EVENT_INDEX_PROJECT_REQUESTED => {
                let ev: v2::IndexProjectRequested =
                    serde_json::from_slice(bytes).map_err(malformed)?;
                ev.validate_envelope()?;
                Ok(IndexEvent::Requested(ev))
            }
            v2::EVENT_INDEX_RUN_COMPLETED => {
                let ev: v2::IndexRunCompleted = serde_json::from_slice(bytes).map_err(malformed)?;
                ev.validate_envelope()?;
                Ok(IndexEvent::Completed(ev))
            }
            _ => Err(unknown_type()),
        },
        _ => Err(EventError::UnknownSchema {
            version: version.into_owned(),
        }),
    }
}

#[cfg(test)]
mod tests;
