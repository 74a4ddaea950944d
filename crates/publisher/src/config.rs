//! The publisher's typed, validated configuration. Built from the CLI (`cli.rs`) by the
//! binary, or directly by tests; this library never reads the environment.

use std::net::SocketAddr;
use std::time::Duration;

use tributary_events::v2::{CredentialRef, url_has_password};

use crate::error::PublishError;

/// librdkafka's default producer `message.max.bytes`; no event may come near it.
pub const PRODUCER_MESSAGE_MAX_BYTES: usize = 1_000_000;
/// Room left under [`PRODUCER_MESSAGE_MAX_BYTES`] for the key, headers and framing.
pub const MESSAGE_OVERHEAD_BYTES: usize = 10_000;

/// How file contents should travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrategyMode {
    /// Small files inline, larger ones by object storage, else git reference.
    Auto,
    Inline,
    ObjectStorage,
    GitReference,
}

pub use tributary_content::store::StoreConfig;

/// What to read.
#[derive(Debug, Clone)]
pub struct SourceConfig {
    /// A local folder, a local git repository, or a git URL.
    pub repo: String,
    /// Branch, tag or commit (git sources only); `None` means HEAD.
    pub git_ref: Option<String>,
    /// Index a local checkout's files as they are instead of its HEAD commit.
    pub working_tree: bool,
    /// Globs a file must match to be indexed (empty: every file).
    pub include: Vec<String>,
    /// Globs that exclude files.
    pub exclude: Vec<String>,
    /// Files larger than this are skipped (reason `too_large`).
    pub max_file_size_bytes: u64,
    /// The URL consumers fetch git references from. Defaults to the URL of a remote
    /// source; a local repository needs it for the `git_reference` strategy.
    pub git_url: Option<String>,
    /// Credentials for fetching, as a reference. Resolved locally for the publisher's
    /// own fetch and passed on as a reference in events.
    pub git_credentials: Option<CredentialRef>,
    /// The commit last indexed (watch mode): when the new commit descends from it, the
    /// run carries only what changed since, deleted files marked `change: "deleted"`.
    pub base_commit: Option<String>,
}

#[derive(Debug, Clone)]
pub struct KafkaConfig {
    pub brokers: String,
    pub topic: String,
    /// `zstd`, `lz4`, `gzip`, `snappy` or `none`.
    pub compression: String,
    pub linger_ms: u64,
    /// How long a message may wait for delivery before it counts as failed.
    pub message_timeout_ms: u64,
    /// Batches produced but not yet acknowledged, at most.
    pub max_in_flight_batches: usize,
}

#[derive(Debug, Clone)]
pub struct StorageSettings {
    pub provider: StoreConfig,
    pub key_template: String,
    pub presign_expiry: Duration,
}

/// Everything a run needs.
#[derive(Debug, Clone)]
pub struct Config {
    pub project: String,
    pub source: SourceConfig,
    pub kafka: KafkaConfig,
    pub strategy: StrategyMode,
    pub inline_size_limit_bytes: u64,
    pub batch_max_files: usize,
    /// Upper bound of one serialized event, in bytes.
    pub batch_max_bytes: usize,
    pub storage: StorageSettings,
    /// Uploads in flight at once.
    pub upload_concurrency: usize,
    /// Bytes of file content held in memory at once (read but not yet batched).
    pub read_budget_bytes: u64,
    pub dry_run: bool,
    pub metrics_addr: Option<SocketAddr>,
    pub progress: ProgressMode,
}

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressMode {
    /// A progress bar on a terminal, periodic log lines otherwise.
    Auto,
    Bar,
    Log,
    Off,
}

impl Config {
    /// Cross-field rules. Called by [`crate::run::publish`] before anything else.
    pub fn validate(&self) -> Result<(), PublishError> {
        let bad = |m: String| Err(PublishError::Config(m));
        if self.project.is_empty()
            || self.project.len() > 256
            || self.project.chars().any(char::is_control)
        {
            return bad(format!(
                "project name {:?} must be 1-256 bytes without control characters",
                self.project
            ));
        }
        if self.kafka.topic.is_empty() {
            return bad("topic is empty".into());
        }
        let max = PRODUCER_MESSAGE_MAX_BYTES - MESSAGE_OVERHEAD_BYTES;
        if self.batch_max_bytes < 16 * 1024 || self.batch_max_bytes > max {
            return bad(format!(
                "batch byte limit {} must be between 16384 and {max} (the producer's message.max.bytes less framing)",
                self.batch_max_bytes
            ));
        }
        if self.batch_max_files == 0 {
            return bad("batch file limit must be at least 1".into());
        }
        if self.upload_concurrency == 0 || self.kafka.max_in_flight_batches == 0 {
            return bad("concurrency limits must be at least 1".into());
        }
        if self.read_budget_bytes < self.source.max_file_size_bytes {
            return bad("read budget must be at least the max file size".into());
        }
        if !matches!(
            self.kafka.compression.as_str(),
            "zstd" | "lz4" | "gzip" | "snappy" | "none"
        ) {
            return bad(format!("unknown compression {:?}", self.kafka.compression));
        }
        if self.storage.presign_expiry.is_zero()
            || self.storage.presign_expiry > tributary_content::s3::MAX_PRESIGN_EXPIRY
        {
            return bad("presigned URL expiry must be between 1 s and 7 days (SigV4 limit)".into());
        }
        tributary_content::store::validate_key_template(&self.storage.key_template)
            .map_err(|e| PublishError::Config(e.to_string()))?;
        if let StoreConfig::S3(s3) = &self.storage.provider {
            s3.validate()
                .map_err(|e| PublishError::Config(e.to_string()))?;
        }
        if self.strategy == StrategyMode::ObjectStorage
            && matches!(self.storage.provider, StoreConfig::None)
        {
            return bad("--content-strategy object-storage needs a storage provider".into());
        }
        if is_url(&self.source.repo) && url_has_password(&self.source.repo) {
            return bad("the repository URL has a password in it; pass credentials with --git-credentials-path or --git-credentials-env".into());
        }
        if self.source.git_url.as_deref().is_some_and(url_has_password) {
            return bad(
                "--git-url has a password in it; pass credentials as a reference instead".into(),
            );
        }
        if self.source.working_tree && is_url(&self.source.repo) {
            return bad("--working-tree needs a local checkout".into());
        }
        if self.source.working_tree && self.source.git_ref.is_some() {
            return bad("--working-tree and --ref exclude each other".into());
        }
        Ok(())
    }
}

/// Whether a repository argument is a URL rather than a local path: `scheme://...` or
/// scp-like `user@host:path`.
pub fn is_url(repo: &str) -> bool {
    if repo.contains("://") {
        return true;
    }
    match (repo.find('@'), repo.find(':'), repo.find('/')) {
        (Some(at), Some(colon), slash) => at < colon && slash.is_none_or(|s| colon < s),
        _ => false,
    }
}

#[cfg(test)]
mod tests;
