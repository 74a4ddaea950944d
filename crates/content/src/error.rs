//! The content crate's error type. Callers decide retry or dead-letter from
//! [`ContentError::is_retryable`] and the variants, never from message text.

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Everything that can go wrong moving content.
#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    #[error("invalid object store configuration: {0}")]
    Config(String),
    #[error("object {key:?} does not exist")]
    NotFound { key: String },
    /// The store answered but refuses: missing bucket, access denied, bad credentials.
    #[error("object store refused {op} (HTTP {status}): {code}")]
    Refused {
        op: &'static str,
        status: u16,
        code: String,
    },
    /// The store could not be reached or failed transiently, after the client's retries.
    #[error("object store unavailable during {op}")]
    Unavailable {
        op: &'static str,
        #[source]
        source: BoxError,
    },
    /// A git URL whose scheme or host is not allowlisted.
    #[error("git url {url:?} is not allowed: {why}")]
    GitForbidden { url: String, why: &'static str },
    /// The remote could not be reached or the fetch failed or timed out.
    #[error("git fetch from {url} failed")]
    GitUnavailable {
        url: String,
        #[source]
        source: git2::Error,
    },
    /// The commit, or the path in it, does not exist (or is not a regular file).
    #[error("{what} not found in {url} at {commit}")]
    GitMissing {
        url: String,
        commit: String,
        what: String,
    },
    /// A credentials reference that cannot be resolved here.
    #[error("cannot resolve credentials reference {0}")]
    Credentials(String),
    /// Credentials an event names that are not configured here, or not for that host.
    #[error("credentials refused: {why}")]
    CredentialsRefused { why: &'static str },
    /// The remote refused the credentials (or wants some and none were bound).
    #[error("git remote {url} refused authentication")]
    GitAuth {
        url: String,
        #[source]
        source: git2::Error,
    },
    /// The SSH server's host key is unknown, changed or revoked (see `known_hosts`).
    #[error("git remote {url}: {why}")]
    GitHostKey { url: String, why: String },
    #[error("local store i/o error on {path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// This machine's storage is full (a cache folder, the git clone cache): a local
    /// fault, not the input's — work waits until there is room again.
    #[error("no space left for {what}")]
    LocalSpace {
        what: String,
        #[source]
        source: BoxError,
    },
}

impl ContentError {
    /// Whether trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            ContentError::Unavailable { .. } | ContentError::GitUnavailable { .. } => true,
            ContentError::Refused { status, .. } => *status >= 500 || *status == 429,
            ContentError::Config(_)
            | ContentError::NotFound { .. }
            | ContentError::Io { .. }
            | ContentError::GitForbidden { .. }
            | ContentError::GitMissing { .. }
            | ContentError::Credentials(_)
            | ContentError::CredentialsRefused { .. }
            | ContentError::GitAuth { .. }
            | ContentError::GitHostKey { .. }
            | ContentError::LocalSpace { .. } => false,
        }
    }

    /// Whether this machine is at fault (its storage is full), not the input: the
    /// caller waits and tries again, and never dead-letters the input for it.
    pub fn is_local(&self) -> bool {
        match self {
            ContentError::LocalSpace { .. } => true,
            ContentError::Io { source, .. } => is_no_space(source),
            _ => false,
        }
    }
}

/// Whether an I/O error says the device (or the quota) is full.
pub fn is_no_space(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::StorageFull || e.raw_os_error() == Some(122 /* EDQUOT */)
}
