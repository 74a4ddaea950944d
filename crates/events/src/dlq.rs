//! Dead-letter records: what the consumer writes to the dead-letter topic for an event
//! it cannot decode or a file it cannot process, with enough to replay it once fixed.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

pub const DLQ_SCHEMA_VERSION: &str = "1.2.0";

/// Why a record was dead-lettered. A closed set: safe as a metric label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// `schema_version` missing or not a major version this consumer reads.
    UnknownSchema,
    /// Not JSON, or JSON that does not fit the event's shape.
    Malformed,
    /// A path that is absolute, has `..`, NUL, or escapes the mount root.
    InvalidPath,
    /// A checksum that is missing or not 64 lowercase hex characters.
    InvalidChecksum,
    /// A `content_strategy` this consumer does not know.
    UnknownContentStrategy,
    /// An object key, git URL, commit or credential reference that breaks the rules.
    InvalidReference,
    /// Inline content whose base64 does not decode.
    BadEncoding,
    /// A content URL whose host is not the configured object-store endpoint.
    SsrfBlocked,
    /// Resolved bytes whose SHA-256 differs from the event's checksum.
    ChecksumMismatch,
    /// The object store answered that the object does not exist.
    ObjectMissing,
    /// The git remote could not be reached or does not have the commit or path.
    GitUnavailable,
    /// A git URL whose scheme or host is not allowlisted.
    GitForbidden,
    /// Content larger than the configured limits.
    TooLarge,
    /// A v1 event arrived but no mount root is configured.
    NoMountRoot,
    /// Transient failures outlasted every retry.
    RetriesExhausted,
    /// The event names git credentials this consumer is not configured with, or that
    /// are not bound to the host it would send them to (since 1.1).
    CredentialsRefused,
    /// The SSH server's host key is not in the consumer's known_hosts, has changed, or
    /// is revoked (since 1.2).
    GitHostKeyRefused,
}

impl Reason {
    pub const ALL: [Reason; 17] = [
        Reason::UnknownSchema,
        Reason::Malformed,
        Reason::InvalidPath,
        Reason::InvalidChecksum,
        Reason::UnknownContentStrategy,
        Reason::InvalidReference,
        Reason::BadEncoding,
        Reason::SsrfBlocked,
        Reason::ChecksumMismatch,
        Reason::ObjectMissing,
        Reason::GitUnavailable,
        Reason::GitForbidden,
        Reason::TooLarge,
        Reason::NoMountRoot,
        Reason::RetriesExhausted,
        Reason::CredentialsRefused,
        Reason::GitHostKeyRefused,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Reason::UnknownSchema => "unknown_schema",
            Reason::Malformed => "malformed",
            Reason::InvalidPath => "invalid_path",
            Reason::InvalidChecksum => "invalid_checksum",
            Reason::UnknownContentStrategy => "unknown_content_strategy",
            Reason::InvalidReference => "invalid_reference",
            Reason::BadEncoding => "bad_encoding",
            Reason::SsrfBlocked => "ssrf_blocked",
            Reason::ChecksumMismatch => "checksum_mismatch",
            Reason::ObjectMissing => "object_missing",
            Reason::GitUnavailable => "git_unavailable",
            Reason::GitForbidden => "git_forbidden",
            Reason::TooLarge => "too_large",
            Reason::NoMountRoot => "no_mount_root",
            Reason::RetriesExhausted => "retries_exhausted",
            Reason::CredentialsRefused => "credentials_refused",
            Reason::GitHostKeyRefused => "git_host_key_refused",
        }
    }
}

/// Where in the consumer the failure happened. A closed set: safe as a metric label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Decode,
    Validate,
    Resolve,
    Verify,
    Analyse,
    Produce,
}

/// The Kafka coordinates of the message that failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceRecord {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
}

/// What failed, kept so `dlq replay` can re-publish it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Payload {
    /// A decodable event narrowed to the failed file(s): re-publishable as is.
    Event { event: serde_json::Value },
    /// The raw message, for payloads that did not decode. Base64 when not UTF-8;
    /// truncated (and marked) past the dead-letter size budget, in which case the source
    /// coordinates are the way back to the original.
    Raw {
        encoding: RawEncoding,
        data: String,
        truncated: bool,
    },
    /// What the record would have carried did not fit in one message: the source
    /// coordinates lead to the original (`dlq replay` re-publishes it from there), and
    /// the excerpt is the start of the narrowed event (since 1.1).
    Reference { excerpt: String, truncated: bool },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RawEncoding {
    #[serde(rename = "utf-8")]
    Utf8,
    Base64,
}

/// One dead-letter record. Keyed on the topic by `project/path` for file failures and
/// by source coordinates for whole-event failures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadLetter {
    pub schema_version: String,
    pub reason: Reason,
    /// Human-readable detail. Never contains content, credentials or presigned URLs.
    pub message: String,
    pub stage: Stage,
    pub source: SourceRecord,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    pub attempts: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub failed_at: OffsetDateTime,
    pub payload: Payload,
}
