//! Command-line flags (raw input, with environment fallbacks) and their translation into
//! a validated [`Config`]. Only the binary calls this; the env names are a contract.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use tributary_events::v2::CredentialRef;
pub use tributary_runtime::{LogFormat, ProviderArg, StorageArgs};

use crate::config::{
    Config, KafkaConfig, ProgressMode, SourceConfig, StorageSettings, StrategyMode,
};
use crate::error::PublishError;

#[derive(Debug, Parser)]
#[command(
    name = "tributary-publisher",
    version,
    about = "Publish repositories as Tributary v2 index events"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Log format: human-readable or JSON lines.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "human",
        env = "LOG_FORMAT"
    )]
    pub log_format: LogFormat,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Publish one repository (a folder, a local git repository, or a git URL).
    #[command(args_override_self = true)]
    Publish(PublishArgs),
    /// Keep the branches a watch file lists indexed: poll remotes, receive push
    /// webhooks, publish only what changed since the last indexed commit.
    #[command(args_override_self = true)]
    Watch(WatchArgs),
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// The watch file (TOML: repositories, branches, poll interval, webhook secrets).
    /// Re-read on SIGHUP and when it changes.
    #[arg(long, env = "WATCH_CONFIG")]
    pub config: PathBuf,
    /// Where cursors (last indexed commit per branch) and repository mirrors are kept.
    #[arg(long, env = "WATCH_STATE_DIR")]
    pub state_dir: PathBuf,
    /// Receive push webhooks here (`POST /hooks/github|gitlab|gitea`).
    #[arg(long, env = "WEBHOOK_ADDR")]
    pub listen: Option<SocketAddr>,
    /// How often the watch file is checked for changes.
    #[arg(long, default_value = "2s", value_parser = humantime::parse_duration)]
    pub reload_check: Duration,
    /// Longest wait between retries of a failing repository.
    #[arg(long, default_value = "10m", value_parser = humantime::parse_duration)]
    pub max_backoff: Duration,
    #[command(flatten)]
    pub settings: RunSettings,
}

impl WatchArgs {
    pub fn into_config(self) -> Result<crate::watch::WatchConfig, PublishError> {
        let target = RunTarget {
            // each run sets its own project and source
            project: "watch".into(),
            repo: String::new(),
            git_ref: None,
            working_tree: false,
            dry_run: false,
            progress: ProgressArg::Off,
        };
        if self.settings.git_credentials_path.is_some()
            || self.settings.git_credentials_env.is_some()
        {
            return Err(PublishError::Config(
                "watch: credentials are per repository, in the watch file".into(),
            ));
        }
        let publish = self.settings.into_config(target)?;
        Ok(crate::watch::WatchConfig {
            file: self.config,
            state_dir: self.state_dir,
            listen: self.listen,
            reload_check: self.reload_check,
            max_backoff: self.max_backoff,
            publish,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StrategyArg {
    Auto,
    Inline,
    ObjectStorage,
    GitReference,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProgressArg {
    Auto,
    Bar,
    Log,
    Off,
}

#[derive(Debug, Args)]
pub struct PublishArgs {
    /// Repository: a local folder, a local git repository, or a git URL.
    #[arg(long)]
    pub repo: String,
    /// Project name (default: the repository's folder or URL name).
    #[arg(long)]
    pub project: Option<String>,
    /// Branch, tag or commit to index (git sources; default HEAD).
    #[arg(long = "ref", env = "GIT_REF")]
    pub git_ref: Option<String>,
    /// Index a local checkout's files as they are on disk instead of its HEAD commit.
    #[arg(long)]
    pub working_tree: bool,
    /// Print the plan (strategy per file, batches, bytes) and produce nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[arg(long, value_enum, default_value = "auto")]
    pub progress: ProgressArg,
    /// Print the run report as JSON on stdout instead of the summary.
    #[arg(long)]
    pub report_json: bool,
    #[command(flatten)]
    pub settings: RunSettings,
}

/// What every run needs whatever its source: Kafka, content strategies, storage,
/// limits, credentials. Shared by `publish` and `watch`.
#[derive(Debug, Args)]
pub struct RunSettings {
    /// Only files matching these globs (matched against the relative path).
    #[arg(long = "include")]
    pub include: Vec<String>,
    /// Leave out files matching these globs.
    #[arg(long = "exclude")]
    pub exclude: Vec<String>,
    /// Skip files larger than this (bytes, or with KiB/MiB/GiB).
    #[arg(long, env = "MAX_FILE_SIZE", default_value = "64MiB", value_parser = parse_size)]
    pub max_file_size: u64,

    /// Kafka bootstrap servers.
    #[arg(long, env = "KAFKA_BROKERS", default_value = "127.0.0.1:9092")]
    pub brokers: String,
    /// Topic for index events.
    #[arg(long, env = "TRIBUTARY_INDEX_TOPIC", default_value = tributary_events::topics::INDEX_V2)]
    pub topic: String,
    /// Producer compression: zstd, lz4, gzip, snappy or none.
    #[arg(long, env = "KAFKA_COMPRESSION", default_value = "zstd")]
    pub compression: String,
    #[arg(long, env = "KAFKA_LINGER_MS", default_value_t = 50)]
    pub linger_ms: u64,
    /// How long a batch may wait for delivery before the run fails.
    #[arg(long, env = "KAFKA_MESSAGE_TIMEOUT_MS", default_value_t = 30_000)]
    pub message_timeout_ms: u64,
    /// Batches produced but not yet acknowledged, at most.
    #[arg(long, default_value_t = 64)]
    pub max_in_flight_batches: usize,

    /// How file contents travel.
    #[arg(long, env = "CONTENT_STRATEGY", value_enum, default_value = "auto")]
    pub content_strategy: StrategyArg,
    /// Files up to this size go inline (bytes, or with KiB/MiB).
    #[arg(long, env = "INLINE_SIZE_LIMIT", default_value = "100KiB", value_parser = parse_size)]
    pub inline_size_limit: u64,
    /// Upper bound of one serialized event (must stay under the producer's 1,000,000).
    #[arg(long, env = "BATCH_MAX_BYTES", default_value = "900000", value_parser = parse_size)]
    pub batch_max_bytes: u64,
    /// Files per event, at most.
    #[arg(long, env = "BATCH_MAX_FILES", default_value_t = 500)]
    pub batch_max_files: usize,

    #[command(flatten)]
    pub storage: StorageArgs,
    /// Server-side encryption for uploads: AES256 or aws:kms.
    #[arg(long, env = "CONTENT_STORAGE_SSE")]
    pub storage_sse: Option<String>,
    /// Object key template: {project}, {sha256}, {hh}, {ext}.
    #[arg(long, env = "CONTENT_STORAGE_KEY_TEMPLATE", default_value = tributary_content::store::DEFAULT_KEY_TEMPLATE)]
    pub storage_key_template: String,
    /// Presigned URL lifetime (e.g. 24h; at most 7 days).
    #[arg(long, env = "PRESIGNED_URL_EXPIRY", default_value = "24h", value_parser = humantime::parse_duration)]
    pub presigned_url_expiry: Duration,
    /// Uploads in flight at once.
    #[arg(long, default_value_t = 16)]
    pub upload_concurrency: usize,
    /// File bytes held in memory at once.
    #[arg(long, default_value = "256MiB", value_parser = parse_size)]
    pub read_budget: u64,

    /// URL consumers fetch git references from (default: the repository URL).
    #[arg(long, env = "GIT_URL")]
    pub git_url: Option<String>,
    /// File holding git credentials (`user:token` or a token); passed on as a reference.
    #[arg(long, env = "GIT_CREDENTIALS_PATH")]
    pub git_credentials_path: Option<PathBuf>,
    /// Environment variable holding git credentials; passed on as a reference.
    #[arg(long, env = "GIT_CREDENTIALS_ENV")]
    pub git_credentials_env: Option<String>,

    /// Serve Prometheus metrics on this address while the run lasts.
    #[arg(long, env = "METRICS_ADDR")]
    pub metrics_addr: Option<SocketAddr>,
}

pub use tributary_content::parse_size;

/// The project name implied by a repository argument: its last path segment, without
/// `.git`.
pub fn default_project(repo: &str) -> String {
    let trimmed = repo.trim_end_matches('/');
    let last = trimmed.rsplit(['/', ':']).next().unwrap_or(trimmed);
    let name = last.strip_suffix(".git").unwrap_or(last);
    if name.is_empty() || name == "." || name == ".." {
        std::env::current_dir()
            .ok()
            .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "project".into())
    } else {
        name.to_owned()
    }
}

/// What a run is about: the source and how it is reported.
#[derive(Debug, Clone)]
pub struct RunTarget {
    pub project: String,
    pub repo: String,
    pub git_ref: Option<String>,
    pub working_tree: bool,
    pub dry_run: bool,
    pub progress: ProgressArg,
}

impl PublishArgs {
    /// Validated configuration, or the first rule the flags break.
    pub fn into_config(self) -> Result<Config, PublishError> {
        let target = RunTarget {
            project: self
                .project
                .clone()
                .unwrap_or_else(|| default_project(&self.repo)),
            repo: self.repo,
            git_ref: self.git_ref,
            working_tree: self.working_tree,
            dry_run: self.dry_run,
            progress: self.progress,
        };
        self.settings.into_config(target)
    }
}

impl RunSettings {
    /// Validated configuration for `target`, or the first rule the flags break.
    pub fn into_config(self, target: RunTarget) -> Result<Config, PublishError> {
        let credentials = match (&self.git_credentials_path, &self.git_credentials_env) {
            (Some(_), Some(_)) => {
                return Err(PublishError::Config(
                    "--git-credentials-path and --git-credentials-env exclude each other".into(),
                ));
            }
            (Some(p), None) => {
                let p = std::path::absolute(p).map_err(|source| PublishError::Io {
                    path: p.display().to_string(),
                    source,
                })?;
                Some(
                    CredentialRef::try_from(format!("file:{}", p.display()))
                        .map_err(|e| PublishError::Config(e.to_string()))?,
                )
            }
            (None, Some(n)) => Some(
                CredentialRef::try_from(format!("env:{n}"))
                    .map_err(|e| PublishError::Config(e.to_string()))?,
            ),
            (None, None) => None,
        };
        let provider = self
            .storage
            .store_config(60, self.storage_sse.clone())
            .map_err(PublishError::Config)?;
        let batch_max_bytes = usize::try_from(self.batch_max_bytes).unwrap_or(usize::MAX);
        let cfg = Config {
            project: target.project,
            source: SourceConfig {
                repo: target.repo,
                git_ref: target.git_ref,
                working_tree: target.working_tree,
                include: self.include,
                exclude: self.exclude,
                max_file_size_bytes: self.max_file_size,
                git_url: self.git_url,
                git_credentials: credentials,
                base_commit: None,
            },
            kafka: KafkaConfig {
                brokers: self.brokers,
                topic: self.topic,
                compression: self.compression,
                linger_ms: self.linger_ms,
                message_timeout_ms: self.message_timeout_ms,
                max_in_flight_batches: self.max_in_flight_batches,
            },
            strategy: match self.content_strategy {
                StrategyArg::Auto => StrategyMode::Auto,
                StrategyArg::Inline => StrategyMode::Inline,
                StrategyArg::ObjectStorage => StrategyMode::ObjectStorage,
                StrategyArg::GitReference => StrategyMode::GitReference,
            },
            inline_size_limit_bytes: self.inline_size_limit,
            batch_max_files: self.batch_max_files,
            batch_max_bytes,
            storage: StorageSettings {
                provider,
                key_template: self.storage_key_template,
                presign_expiry: self.presigned_url_expiry,
            },
            upload_concurrency: self.upload_concurrency,
            read_budget_bytes: self.read_budget,
            dry_run: target.dry_run,
            metrics_addr: self.metrics_addr,
            progress: match target.progress {
                ProgressArg::Auto => ProgressMode::Auto,
                ProgressArg::Bar => ProgressMode::Bar,
                ProgressArg::Log => ProgressMode::Log,
                ProgressArg::Off => ProgressMode::Off,
            },
        };
        cfg.validate()?;
        Ok(cfg)
    }
}
