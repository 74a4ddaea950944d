//! The object stores' vocabulary: what an upload did, what a presign gives. A leaf
//! module, so each backend (`s3`, `local`) and the `store` over them can use it without
//! importing each other.

use time::OffsetDateTime;

/// What `put_if_absent` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
    Uploaded,
    /// An object with this key was already there; content-addressed keys make that a
    /// guaranteed duplicate, so nothing was sent.
    AlreadyPresent,
}

/// A URL the consumer may GET without credentials until `expires_at`.
#[derive(Clone, PartialEq, Eq)]
pub struct PresignedUrl {
    pub url: String,
    pub expires_at: OffsetDateTime,
}

impl std::fmt::Debug for PresignedUrl {
    // A presigned URL is a bearer credential until it expires: never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PresignedUrl")
            .field("url", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}
