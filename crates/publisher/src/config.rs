//! The publisher's typed, validated configuration, in two parts: [`Settings`] — how
//! every run is made (Kafka, strategies, storage, limits, filter) — and [`RunTarget`] —
//! what one run reads (project, repository, ref, base commit). `publish` takes both
//! ([`Config`]); watch mode keeps one `Settings` and makes a target per run. Built from
//! the CLI (`cli.rs`) by the binary, or by tests; this library never reads the
//! environment.

use std::net::SocketAddr;
use std::time::Duration;

use tributary_content::git::{GitSecret, HostKeys};
use tributary_events::ProjectName;
use tributary_events::v2::url_has_password;
pub use tributary_runtime::kafka::Compression;

use crate::error::ConfigError;
pub use crate::publish::filter::Filter;

/// librdkafka's default producer `message.max.bytes`; no event may come near it.
pub const PRODUCER_MESSAGE_MAX_BYTES: usize = 1_000_000;
/// Room left under [`PRODUCER_MESSAGE_MAX_BYTES`] for the key, headers and framing.
pub const MESSAGE_OVERHEAD_BYTES: usize = 10_000;
/// The smallest batch byte limit accepted.
pub const BATCH_MIN_BYTES: usize = 16 * 1024;

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

#[derive(Debug, Clone)]
pub struct KafkaConfig {
    /// Brokers and security: what every client is configured from.
    pub connection: tributary_runtime::kafka::Connection,
    pub topic: String,
    pub compression: Compression,
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

/// How every run is made, whatever it reads.
#[derive(Debug, Clone)]
pub struct Settings {
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
    /// Which paths are indexed (globs compiled once, here).
    pub filter: Filter,
    /// Files larger than this are skipped (reason `too_large`).
    pub max_file_size_bytes: u64,
    pub metrics_addr: Option<SocketAddr>,
    /// What a run's usage is priced with.
    pub prices: tributary_events::cost::PriceTable,
    /// The learned strategy model's file (`auto` consults it; runs update it).
    pub strategy_model: Option<std::path::PathBuf>,
    /// Files' history from the repository (churn, last change).
    pub history: crate::publish::history::HistorySettings,
    /// How SSH servers' host keys are checked, for every repository fetched.
    pub git_host_keys: HostKeys,
}

/// What one run reads, and how it is shown.
#[derive(Debug, Clone)]
pub struct RunTarget {
    pub project: ProjectName,
    /// A local folder, a local git repository, or a git URL.
    pub repo: String,
    /// Branch, tag or commit (git sources only); `None` means HEAD.
    pub git_ref: Option<String>,
    /// Index a local checkout's files as they are instead of its HEAD commit.
    pub working_tree: bool,
    /// The URL consumers fetch git references from. Defaults to the URL of a remote
    /// source; a local repository needs it for the `git_reference` strategy.
    pub git_url: Option<String>,
    /// The credential for fetching: resolved here for the publisher's own fetch, and
    /// named in events (never its value) for consumers to use their own binding of it.
    pub git_credentials: Option<GitCredential>,
    /// `git_url` was fetched from for this very run (watch mode: its mirror), so it is
    /// known to answer and is not asked again before git references are planned.
    pub git_url_fetched: bool,
    /// The commit last indexed (watch mode): when the new commit descends from it, the
    /// run carries only what changed since, deleted files marked `change: "deleted"`.
    pub base_commit: Option<String>,
    pub dry_run: bool,
    pub progress: ProgressMode,
    /// The portfolio run this run belongs to (several repositories published under
    /// one id); `None`: a portfolio of this run alone.
    pub portfolio_id: Option<uuid::Uuid>,
}

/// A git credential and the name events give it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitCredential {
    /// What consumers' `--git-credential NAME=...` bind (default: the spec without its
    /// options, e.g. `env:GIT_TOKEN`).
    pub name: String,
    pub secret: GitSecret,
}

impl RunTarget {
    /// A target with nothing but its project and repository set.
    pub fn new(project: ProjectName, repo: impl Into<String>) -> Self {
        Self {
            project,
            repo: repo.into(),
            git_ref: None,
            working_tree: false,
            git_url: None,
            git_credentials: None,
            git_url_fetched: false,
            base_commit: None,
            dry_run: false,
            progress: ProgressMode::Off,
            portfolio_id: None,
        }
    }
}

/// One `publish`: its settings and its target.
#[derive(Debug, Clone)]
pub struct Config {
    pub settings: Settings,
    pub target: RunTarget,
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

impl Settings {
    /// Cross-field rules of the settings.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.kafka.topic.is_empty() {
            return Err(ConfigError::EmptyTopic);
        }
        let max = PRODUCER_MESSAGE_MAX_BYTES - MESSAGE_OVERHEAD_BYTES;
        if !(BATCH_MIN_BYTES..=max).contains(&self.batch_max_bytes) {
            return Err(ConfigError::BatchBytes {
                got: self.batch_max_bytes,
                min: BATCH_MIN_BYTES,
                max,
            });
        }
        if self.batch_max_files == 0 {
            return Err(ConfigError::BatchFiles);
        }
        if self.upload_concurrency == 0 || self.kafka.max_in_flight_batches == 0 {
            return Err(ConfigError::Concurrency);
        }
        if self.read_budget_bytes < self.max_file_size_bytes {
            return Err(ConfigError::ReadBudget);
        }
        if self.storage.presign_expiry.is_zero()
            || self.storage.presign_expiry > tributary_content::s3::MAX_PRESIGN_EXPIRY
        {
            return Err(ConfigError::PresignExpiry);
        }
        tributary_content::store::validate_key_template(&self.storage.key_template)
            .map_err(ConfigError::Storage)?;
        self.storage
            .provider
            .validate()
            .map_err(ConfigError::Storage)?;
        if self.strategy == StrategyMode::ObjectStorage
            && matches!(self.storage.provider, StoreConfig::None)
        {
            return Err(ConfigError::ObjectStorageWithoutStore);
        }
        Ok(())
    }
}

impl RunTarget {
    /// Rules of the target on its own.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if is_url(&self.repo) && url_has_password(&self.repo) {
            return Err(ConfigError::PasswordInRepoUrl);
        }
        if self.git_url.as_deref().is_some_and(url_has_password) {
            return Err(ConfigError::PasswordInGitUrl);
        }
        if self.working_tree && is_url(&self.repo) {
            return Err(ConfigError::WorkingTreeOfUrl);
        }
        if self.working_tree && self.git_ref.is_some() {
            return Err(ConfigError::WorkingTreeWithRef);
        }
        Ok(())
    }
}

impl Config {
    /// Every rule. Called by [`crate::publish()`] before anything else.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.settings.validate()?;
        self.target.validate()
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
