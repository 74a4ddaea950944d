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
    /// The run's listing of the bucket showed an object of this key and size: no
    /// request was made for it.
    Listed,
}

/// The objects under a key prefix, as one listing saw them: each key (by a 128-bit
/// digest, so a listing of a million keys holds 32 MB at most) with its size.
#[derive(Debug, Default)]
pub struct Listing {
    objects: std::collections::HashMap<u128, u64>,
}

impl Listing {
    fn digest(key: &str) -> u128 {
        use sha2::Digest as _;
        let d = sha2::Sha256::digest(key.as_bytes());
        u128::from_le_bytes(d[..16].try_into().expect("16 bytes"))
    }

    pub fn insert(&mut self, key: &str, size: u64) {
        self.objects.insert(Self::digest(key), size);
    }

    /// Whether the listing saw `key` with exactly `size` bytes.
    pub fn contains(&self, key: &str, size: u64) -> bool {
        self.objects.get(&Self::digest(key)) == Some(&size)
    }

    pub fn len(&self) -> usize {
        self.objects.len()
    }

    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }
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
