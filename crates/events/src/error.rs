//! Why an event or one of its files is rejected. Each error maps to a dead-letter
//! [`Reason`] and a stable, specific `code()`; callers branch on the types, not on text.

use crate::checksum::ChecksumError;
use crate::dlq::Reason;
use crate::path::PathError;

/// An event that cannot be accepted as a whole.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("malformed event: {source}")]
    Malformed {
        #[source]
        source: serde_json::Error,
    },
    #[error("event has no schema_version")]
    MissingSchemaVersion,
    #[error("unknown schema version {version:?} (this consumer reads 1.x and 2.x)")]
    UnknownSchema { version: String },
    #[error("unknown event type {event_type:?} for schema version {version:?}")]
    UnknownEventType { version: String, event_type: String },
    #[error("invalid event: {0}")]
    Invalid(#[from] InvalidEvent),
}

impl EventError {
    pub fn reason(&self) -> Reason {
        match self {
            EventError::Malformed { .. } => Reason::Malformed,
            EventError::MissingSchemaVersion
            | EventError::UnknownSchema { .. }
            | EventError::UnknownEventType { .. } => Reason::UnknownSchema,
            EventError::Invalid(e) => e.reason(),
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            EventError::Malformed { .. } => "malformed",
            EventError::MissingSchemaVersion => "schema_version_missing",
            EventError::UnknownSchema { .. } => "schema_version_unknown",
            EventError::UnknownEventType { .. } => "event_type_unknown",
            EventError::Invalid(e) => e.code(),
        }
    }
}

/// An envelope field that breaks the contract.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidEvent {
    #[error("project name is empty")]
    EmptyProject,
    #[error("project name is longer than 256 bytes or has control characters")]
    BadProject,
    #[error("git_ref {0:?} is not a full commit SHA")]
    BadCommit(String),
    #[error("git url has a password in it; credentials travel only as a reference")]
    CredentialsInUrl,
    #[error("git_credentials must be `cred:NAME`, `env:NAME` or `file:/path`")]
    BadCredentialRef,
    #[error("event lists no files")]
    NoFiles,
}

impl InvalidEvent {
    pub fn reason(&self) -> Reason {
        match self {
            InvalidEvent::CredentialsInUrl | InvalidEvent::BadCredentialRef => {
                Reason::InvalidReference
            }
            _ => Reason::Malformed,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            InvalidEvent::EmptyProject => "project_empty",
            InvalidEvent::BadProject => "project_invalid",
            InvalidEvent::BadCommit(_) => "commit_invalid",
            InvalidEvent::CredentialsInUrl => "credentials_in_url",
            InvalidEvent::BadCredentialRef => "credential_ref_invalid",
            InvalidEvent::NoFiles => "files_empty",
        }
    }
}

/// One file entry that breaks the contract; the rest of its event stays good.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidFile {
    #[error("file entry has no path")]
    MissingPath,
    #[error("invalid path {path:?}: {error}")]
    Path {
        path: String,
        #[source]
        error: PathError,
    },
    #[error("file has no checksum")]
    MissingChecksum,
    #[error("invalid checksum: {0}")]
    Checksum(#[source] ChecksumError),
    #[error("file has no size")]
    MissingSize,
    #[error("file has no content_strategy")]
    MissingStrategy,
    #[error("unknown content_strategy {0:?}")]
    UnknownStrategy(String),
    #[error("unknown change {0:?}")]
    UnknownChange(String),
    #[error("{strategy} content is missing field `{field}`")]
    MissingField {
        strategy: &'static str,
        field: &'static str,
    },
    #[error("unknown content_encoding {0:?}")]
    UnknownEncoding(String),
    #[error("object_key {0:?} is not a valid key")]
    BadObjectKey(String),
    #[error("git_ref {0:?} is not a full commit SHA")]
    BadCommit(String),
    #[error("git url has a password in it; credentials travel only as a reference")]
    CredentialsInUrl,
    #[error("invalid linguist attributes: {0}")]
    Linguist(String),
    #[error("invalid history: {0}")]
    History(String),
}

impl InvalidFile {
    pub fn reason(&self) -> Reason {
        match self {
            InvalidFile::MissingPath | InvalidFile::Path { .. } => Reason::InvalidPath,
            InvalidFile::MissingChecksum | InvalidFile::Checksum(_) => Reason::InvalidChecksum,
            InvalidFile::UnknownStrategy(_) | InvalidFile::MissingStrategy => {
                Reason::UnknownContentStrategy
            }
            InvalidFile::CredentialsInUrl
            | InvalidFile::BadObjectKey(_)
            | InvalidFile::BadCommit(_) => Reason::InvalidReference,
            InvalidFile::MissingSize
            | InvalidFile::UnknownChange(_)
            | InvalidFile::MissingField { .. }
            | InvalidFile::UnknownEncoding(_)
            | InvalidFile::Linguist(_)
            | InvalidFile::History(_) => Reason::Malformed,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            InvalidFile::MissingPath => "path_missing",
            InvalidFile::Path { error, .. } => error.code(),
            InvalidFile::MissingChecksum => "checksum_missing",
            InvalidFile::Checksum(_) => "checksum_format",
            InvalidFile::MissingSize => "size_missing",
            InvalidFile::MissingStrategy => "strategy_missing",
            InvalidFile::UnknownStrategy(_) => "strategy_unknown",
            InvalidFile::UnknownChange(_) => "change_unknown",
            InvalidFile::MissingField {
                field: "content_encoding",
                ..
            } => "inline_encoding_missing",
            InvalidFile::MissingField {
                field: "content", ..
            } => "inline_content_missing",
            InvalidFile::MissingField {
                field: "object_key",
                ..
            } => "object_key_missing",
            InvalidFile::MissingField { .. } => "field_missing",
            InvalidFile::UnknownEncoding(_) => "encoding_unknown",
            InvalidFile::BadObjectKey(_) => "object_key_invalid",
            InvalidFile::BadCommit(_) => "commit_invalid",
            InvalidFile::CredentialsInUrl => "credentials_in_url",
            InvalidFile::Linguist(_) => "linguist_invalid",
            InvalidFile::History(_) => "history_invalid",
        }
    }
}
