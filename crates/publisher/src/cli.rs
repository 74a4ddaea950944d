//! Command-line flags (raw input, with environment fallbacks) and their translation into
//! a validated [`Config`]. Only the binary calls this; the env names are a contract.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use tributary_events::ProjectName;
use tributary_events::v2::CredentialRef;
pub use tributary_runtime::{GlobalArgs, LogFormat, ProviderArg, StorageArgs, parse_size};

use tributary_content::git::GitSecret;

use crate::config::{
    Compression, Config, Filter, GitCredential, KafkaConfig, ProgressMode, RunTarget, Settings,
    StorageSettings, StrategyMode,
};
use crate::error::ConfigError;

#[derive(Debug, Parser)]
#[command(
    name = "tributary-publisher",
    version,
    long_version = tributary_runtime::long_version(),
    after_help = "Exit codes:
  publish      0 every file published (or planned, --dry-run); 1 the run finished with failed files or batches (with --repos-file: any repository did, or could not start); 2 bad settings or could not start
  watch        0 stopped (SIGTERM); 2 bad settings, or a failure that stops the watcher
  check        0 every check passed; 1 a check failed; 2 bad settings
  learn        0 the model was updated; 2 bad settings or the topics could not be read
  healthcheck  0 the daemon answered 200; 1 it did not",
    about = "Publish repositories as Tributary v2 index events"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    #[command(flatten)]
    pub global: GlobalArgs,
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
    /// Check a deployment with the flags `publish` would get: the effective settings
    /// (secrets by reference), Kafka and the topic, the object store (write, read,
    /// presigned GET, delete of a probe object), the git remotes. Exit 0 only when all
    /// pass.
    #[command(args_override_self = true)]
    Check(Box<CheckCommand>),
    #[command(flatten)]
    Tool(tributary_runtime::ToolCommand),
    /// Fold what consumers measured — fetch latency and failures by strategy and size,
    /// from the output and dead-letter topics since the last pass — into the strategy
    /// model `publish --strategy-model` consults. Run it periodically.
    Learn(LearnArgs),
}

#[derive(Debug, Args)]
pub struct LearnArgs {
    /// The strategy model file (made when missing).
    #[arg(long, env = "TRIBUTARY_STRATEGY_MODEL", value_name = "PATH")]
    pub strategy_model: std::path::PathBuf,
    #[command(flatten)]
    pub kafka: tributary_runtime::KafkaArgs,
    /// The consumers' output topic.
    #[arg(long, env = "TRIBUTARY_OUTPUT_TOPIC", default_value = tributary_events::topics::INTELLIGENCE_V1)]
    pub output_topic: String,
    /// The consumers' dead-letter topic.
    #[arg(long, env = "TRIBUTARY_DLQ_TOPIC", default_value = tributary_events::topics::DLQ)]
    pub dlq_topic: String,
    /// How long to read each topic at most.
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
    pub timeout: std::time::Duration,
}

#[derive(Debug, Args)]
pub struct CheckCommand {
    #[command(flatten)]
    pub publish: PublishArgs,
    #[command(flatten)]
    pub check: tributary_runtime::check::CheckArgs,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// The watch file (TOML: repositories, branches, poll interval, webhook secrets).
    /// Re-read on SIGHUP and when it changes.
    #[arg(long, env = "TRIBUTARY_WATCH_FILE")]
    pub watch_file: PathBuf,
    /// Where cursors (last indexed commit per branch) and repository mirrors are kept.
    #[arg(long, env = "TRIBUTARY_WATCH_STATE_DIR")]
    pub state_dir: PathBuf,
    /// Receive push webhooks here (`POST /hooks/github|gitlab|gitea`).
    #[arg(long, env = "TRIBUTARY_WEBHOOK_ADDR")]
    pub listen: Option<SocketAddr>,
    /// How often the watch file is checked for changes.
    #[arg(long, default_value = "2s", value_parser = humantime::parse_duration)]
    pub reload_check: Duration,
    /// Longest wait between retries of a failing repository.
    #[arg(long, default_value = "10m", value_parser = humantime::parse_duration)]
    pub max_backoff: Duration,
    #[command(flatten)]
    pub settings: RunSettings,
    /// Accepted for symmetry with `publish`; each repository's URL and credentials
    /// come from the watch file, and credentials flags are refused.
    #[command(flatten)]
    pub git: GitArgs,
}

impl WatchArgs {
    pub fn into_config(self) -> Result<crate::watch::WatchConfig, ConfigError> {
        if self.git.any() {
            return Err(ConfigError::WatchCredentials);
        }
        let mut settings = self.settings.into_settings()?;
        // watch mode keeps the history fold beside its cursors: each poll reads only
        // the commits since the last
        settings
            .history
            .dir
            .get_or_insert_with(|| self.state_dir.join("history"));
        Ok(crate::watch::WatchConfig {
            file: self.watch_file,
            state_dir: self.state_dir,
            listen: self.listen,
            reload_check: self.reload_check,
            max_backoff: self.max_backoff,
            settings,
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
    #[arg(
        long,
        required_unless_present = "repos_file",
        conflicts_with = "repos_file"
    )]
    pub repo: Option<String>,
    /// Publish every repository listed in this file as one portfolio run: one
    /// repository per line (`REPOSITORY [PROJECT]`; `#` starts a comment), published
    /// one after the other under one portfolio id, with one report.
    #[arg(long, value_name = "FILE", conflicts_with = "project")]
    pub repos_file: Option<PathBuf>,
    /// Project name (default: the repository's folder or URL name).
    #[arg(long)]
    pub project: Option<String>,
    /// Branch, tag or commit to index (git sources; default HEAD).
    #[arg(help_heading = "Git", long = "ref", env = "TRIBUTARY_GIT_REF")]
    pub git_ref: Option<String>,
    /// Index a local checkout's files as they are on disk instead of its HEAD commit.
    #[arg(help_heading = "Git", long)]
    pub working_tree: bool,
    /// Print the plan (strategy per file, batches, bytes) and produce nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Progress display: a bar on a terminal, log lines, or nothing.
    #[arg(
        help_heading = "Telemetry and reports",
        long,
        value_enum,
        default_value = "auto"
    )]
    pub progress: ProgressArg,
    /// Print the run report as JSON on stdout instead of the summary.
    #[arg(help_heading = "Telemetry and reports", long)]
    pub report_json: bool,
    /// Publish as part of this portfolio run (a UUID shared by several publishes): the
    /// knowledge hub rolls their summaries up together under it.
    #[arg(
        help_heading = "Telemetry and reports",
        long,
        env = "TRIBUTARY_PORTFOLIO_ID"
    )]
    pub portfolio_id: Option<uuid::Uuid>,
    #[command(flatten)]
    pub settings: RunSettings,
    #[command(flatten)]
    pub git: GitArgs,
}

/// What every run needs whatever its source: Kafka, content strategies, storage,
/// limits, credentials. Shared by `publish` and `watch`.
#[derive(Debug, Args)]
pub struct RunSettings {
    /// Only files matching these globs (matched against the relative path).
    #[arg(help_heading = "Files", long = "include")]
    pub include: Vec<String>,
    /// Leave out files matching these globs.
    #[arg(help_heading = "Files", long = "exclude")]
    pub exclude: Vec<String>,
    /// Skip files larger than this (bytes, or with KiB/MiB/GiB).
    #[arg(help_heading = "Files", long, env = "TRIBUTARY_MAX_FILE_SIZE", default_value = "64MiB", value_parser = parse_size)]
    pub max_file_size: u64,

    #[command(flatten)]
    pub kafka: tributary_runtime::KafkaArgs,
    /// Topic for index events.
    #[arg(help_heading = "Kafka", long, env = "TRIBUTARY_INDEX_TOPIC", default_value = tributary_events::topics::INDEX_V2)]
    pub topic: String,
    /// Producer compression.
    #[arg(
        help_heading = "Kafka",
        long,
        env = "TRIBUTARY_KAFKA_COMPRESSION",
        value_enum,
        default_value = "zstd"
    )]
    pub compression: Compression,
    /// How long the producer waits to fill a batch (librdkafka linger.ms).
    #[arg(
        help_heading = "Kafka",
        long,
        env = "TRIBUTARY_KAFKA_LINGER_MS",
        default_value_t = 50
    )]
    pub linger_ms: u64,
    /// How long a batch may wait for delivery before the run fails: the producer keeps
    /// retrying through broker restarts, leader elections and outages this long.
    #[arg(
        help_heading = "Kafka",
        long,
        env = "TRIBUTARY_KAFKA_MESSAGE_TIMEOUT_MS",
        default_value_t = 300_000
    )]
    pub message_timeout_ms: u64,
    /// Batches produced but not yet acknowledged, at most (8 sends faster than 64 on
    /// the local broker, with half the memory: benches/README.md).
    #[arg(help_heading = "Kafka", long, default_value_t = 8)]
    pub max_in_flight_batches: usize,

    /// How file contents travel.
    #[arg(
        help_heading = "Content strategy",
        long,
        env = "TRIBUTARY_CONTENT_STRATEGY",
        value_enum,
        default_value = "auto"
    )]
    pub content_strategy: StrategyArg,
    /// Files up to this size go inline (bytes, or with KiB/MiB).
    #[arg(help_heading = "Content strategy", long, env = "INLINE_SIZE_LIMIT", default_value = "100KiB", value_parser = parse_size)]
    pub inline_size_limit: u64,
    /// Upper bound of one serialized event (must stay under the producer's 1,000,000).
    #[arg(help_heading = "Kafka", long, env = "BATCH_MAX_BYTES", default_value = "900000", value_parser = parse_size)]
    pub batch_max_bytes: u64,
    /// Files per event, at most.
    #[arg(
        help_heading = "Kafka",
        long,
        env = "TRIBUTARY_BATCH_MAX_FILES",
        default_value_t = 500
    )]
    pub batch_max_files: usize,

    #[command(flatten)]
    pub storage: StorageArgs,
    /// Server-side encryption for uploads: AES256 or aws:kms.
    #[arg(
        help_heading = "Object storage",
        long,
        env = "TRIBUTARY_CONTENT_STORAGE_SSE"
    )]
    pub storage_sse: Option<String>,
    /// Object key template: {project}, {sha256}, {hh}, {ext}.
    #[arg(help_heading = "Object storage", long, env = "TRIBUTARY_CONTENT_STORAGE_KEY_TEMPLATE", default_value = tributary_content::store::DEFAULT_KEY_TEMPLATE)]
    pub storage_key_template: String,
    /// Presigned URL lifetime (e.g. 24h; at most 7 days).
    #[arg(help_heading = "Object storage", long, env = "PRESIGNED_URL_EXPIRY", default_value = "24h", value_parser = humantime::parse_duration)]
    pub presigned_url_expiry: Duration,
    /// Uploads in flight at once.
    #[arg(help_heading = "Object storage", long, default_value_t = 16)]
    pub upload_concurrency: usize,
    /// File bytes held in memory at once.
    #[arg(help_heading = "Files", long, default_value = "256MiB", value_parser = parse_size)]
    pub read_budget: u64,

    /// Serve Prometheus metrics on this address while the run lasts.
    #[arg(
        help_heading = "Telemetry and reports",
        long,
        env = "TRIBUTARY_METRICS_ADDR"
    )]
    pub metrics_addr: Option<SocketAddr>,
    /// Prices a run's cost is estimated with (TOML; fields not given keep the
    /// defaults, AWS us-east-1 list prices). See docs/operations.md, "What a run costs".
    #[arg(
        help_heading = "Telemetry and reports",
        long,
        env = "TRIBUTARY_PRICE_TABLE",
        value_name = "PATH"
    )]
    pub price_table: Option<std::path::PathBuf>,
    /// The learned strategy model (a JSON file, made when missing): `auto` sends files
    /// above the inline limit by git reference instead of object storage where what
    /// was measured says that costs less; each run adds its uploads to it, and
    /// `tributary-publisher learn` the consumers' fetches. See docs/configuration.md.
    #[arg(
        help_heading = "Object storage",
        long,
        env = "TRIBUTARY_STRATEGY_MODEL",
        value_name = "PATH"
    )]
    pub strategy_model: Option<std::path::PathBuf>,
    /// Days of history each file's churn counts (commits that changed it within them,
    /// before the indexed commit), for repositories with history (not shallow clones
    /// of remote URLs); 0: no history.
    #[arg(help_heading = "Git", long, env = "TRIBUTARY_HISTORY_WINDOW_DAYS", default_value_t = 90, value_parser = clap::value_parser!(u32).range(0..=36_600))]
    pub history_window_days: u32,
    /// Commits one run reads at most for history (the first run of a repository reads
    /// its window, and older commits only to find files' last changes).
    #[arg(help_heading = "Git", long, env = "TRIBUTARY_HISTORY_MAX_COMMITS", default_value_t = 20_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub history_max_commits: u64,
    /// Where the history fold is kept between runs, so the next run reads only the
    /// commits since (watch mode: `STATE_DIR/history` unless given).
    #[arg(
        help_heading = "Git",
        long,
        env = "TRIBUTARY_HISTORY_DIR",
        value_name = "PATH"
    )]
    pub history_dir: Option<std::path::PathBuf>,
    /// Longest wait for a git remote to answer (connect, and each read while cloning,
    /// fetching or listing refs): a remote that goes silent fails the operation.
    #[arg(help_heading = "Git", long, env = "TRIBUTARY_GIT_TIMEOUT", default_value = "60s", value_parser = humantime::parse_duration)]
    pub git_timeout: Duration,
    #[command(flatten)]
    pub host_keys: tributary_runtime::HostKeyArgs,
}

/// Where consumers fetch git references from, and the credentials for it. Part of a
/// run's target; `watch` takes both from each repository of its watch file instead.
#[derive(Debug, Args)]
pub struct GitArgs {
    /// URL consumers fetch git references from (default: the repository URL).
    #[arg(help_heading = "Git", long, env = "TRIBUTARY_GIT_URL")]
    pub git_url: Option<String>,
    /// File holding a git token (`user:token` or a token); passed on as a reference.
    #[arg(help_heading = "Git", long, env = "TRIBUTARY_GIT_CREDENTIALS_PATH")]
    pub git_credentials_path: Option<PathBuf>,
    /// Environment variable holding a git token; passed on as a reference.
    #[arg(help_heading = "Git", long, env = "TRIBUTARY_GIT_CREDENTIALS_ENV")]
    pub git_credentials_env: Option<String>,
    /// Any git credential, as the consumer's `--git-credential` writes it without hosts:
    /// `env:VAR` or `file:/path` (a token; `;user=NAME` sets its user),
    /// `ssh-key:REF[;passphrase=REF]`, or `ssh-agent`.
    #[arg(help_heading = "Git", long, env = "TRIBUTARY_GIT_CREDENTIAL")]
    pub git_credential: Option<GitSecret>,
    /// The name events give the credential, which consumers bind
    /// (`--git-credential NAME=...@HOST`): 1-128 of `A-Z a-z 0-9 . _ -`; default: the
    /// token's or key's reference (`ssh-agent` for the agent).
    #[arg(help_heading = "Git", long, env = "TRIBUTARY_GIT_CREDENTIAL_NAME")]
    pub git_credential_name: Option<String>,
}

impl GitArgs {
    /// Whether any credential flag is given.
    pub fn any(&self) -> bool {
        self.git_credentials_path.is_some()
            || self.git_credentials_env.is_some()
            || self.git_credential.is_some()
            || self.git_credential_name.is_some()
    }

    /// The credential the flags give, if any, with the name events give it.
    pub fn credentials(&self) -> Result<Option<GitCredential>, ConfigError> {
        let token = |r: String| {
            CredentialRef::try_from(r)
                .map(|reference| GitSecret::Token {
                    reference,
                    user: None,
                })
                .map_err(ConfigError::CredentialRef)
        };
        let secret = match (
            &self.git_credentials_path,
            &self.git_credentials_env,
            &self.git_credential,
        ) {
            (Some(p), None, None) => {
                let p = std::path::absolute(p).map_err(|source| ConfigError::CredentialsPath {
                    path: p.display().to_string(),
                    source,
                })?;
                token(format!("file:{}", p.display()))?
            }
            (None, Some(n), None) => token(format!("env:{n}"))?,
            (None, None, Some(s)) => s.clone(),
            (None, None, None) if self.git_credential_name.is_some() => {
                return Err(ConfigError::CredentialNameAlone);
            }
            (None, None, None) => return Ok(None),
            _ => return Err(ConfigError::CredentialsTwice),
        };
        let name = self
            .git_credential_name
            .clone()
            .unwrap_or_else(|| secret.default_name());
        if !tributary_content::git::is_name(&name) {
            return Err(ConfigError::CredentialName(name));
        }
        Ok(Some(GitCredential { name, secret }))
    }
}

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

/// A repositories file larger than this is refused (it lists repositories, not data).
pub const MAX_REPOS_FILE_BYTES: u64 = 1 << 20;

/// One line of a repositories file: a repository and, optionally, its project name.
pub type RepoLine = (String, Option<String>);

/// The lines of a repositories file (blank lines and `#` comments skipped), or the
/// first bad line's number and what is wrong with it (0: the whole file).
pub fn parse_repos(text: &str) -> Result<Vec<RepoLine>, (usize, &'static str)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let mut words = line.split_whitespace();
        let repo = words.next().ok_or((i + 1, "no repository"))?;
        let project = words.next().map(str::to_owned);
        if words.next().is_some() {
            return Err((i + 1, "more than a repository and a project name"));
        }
        out.push((repo.to_owned(), project));
    }
    if out.is_empty() {
        return Err((0, "no repository listed"));
    }
    Ok(out)
}

impl PublishArgs {
    /// One configuration per repository: the `--repo`, or every line of
    /// `--repos-file` (one portfolio run: `--portfolio-id`, or a new one).
    pub fn into_configs(mut self) -> Result<Vec<Config>, ConfigError> {
        let Some(path) = self.repos_file.take() else {
            return Ok(vec![self.into_config()?]);
        };
        let read = || -> Result<String, std::io::Error> {
            let f = std::fs::File::open(&path)?;
            let mut text = String::new();
            std::io::Read::read_to_string(
                &mut std::io::Read::take(f, MAX_REPOS_FILE_BYTES + 1),
                &mut text,
            )?;
            if text.len() as u64 > MAX_REPOS_FILE_BYTES {
                return Err(std::io::Error::other(format!(
                    "larger than {MAX_REPOS_FILE_BYTES} bytes"
                )));
            }
            Ok(text)
        };
        let text = read().map_err(|source| ConfigError::ReposFile {
            path: path.display().to_string(),
            source,
        })?;
        let repos = parse_repos(&text).map_err(|(line, why)| ConfigError::ReposFileLine {
            path: path.display().to_string(),
            line,
            why,
        })?;
        let portfolio = self.portfolio_id.unwrap_or_else(uuid::Uuid::now_v7);
        let mut targets = Vec::with_capacity(repos.len());
        for (repo, project) in repos {
            let mut target = self.target(repo, project)?;
            target.portfolio_id = Some(portfolio);
            targets.push(target);
        }
        let settings = self.settings.into_settings()?;
        targets
            .into_iter()
            .map(|target| {
                let cfg = Config {
                    settings: settings.clone(),
                    target,
                };
                cfg.validate()?;
                Ok(cfg)
            })
            .collect()
    }

    /// Validated configuration, or the first rule the flags break.
    pub fn into_config(mut self) -> Result<Config, ConfigError> {
        let repo = self.repo.take().ok_or(ConfigError::NoRepository)?;
        let project = self.project.take();
        let target = self.target(repo, project)?;
        let cfg = Config {
            settings: self.settings.into_settings()?,
            target,
        };
        cfg.validate()?;
        Ok(cfg)
    }

    fn target(&self, repo: String, project: Option<String>) -> Result<RunTarget, ConfigError> {
        let name = project.unwrap_or_else(|| default_project(&repo));
        let project = ProjectName::new(name.clone())
            .map_err(|source| ConfigError::Project { name, source })?;
        let target = RunTarget {
            git_ref: self.git_ref.clone(),
            working_tree: self.working_tree,
            git_url: self.git.git_url.clone(),
            git_credentials: self.git.credentials()?,
            dry_run: self.dry_run,
            portfolio_id: self.portfolio_id,
            progress: match self.progress {
                ProgressArg::Auto => ProgressMode::Auto,
                ProgressArg::Bar => ProgressMode::Bar,
                ProgressArg::Log => ProgressMode::Log,
                ProgressArg::Off => ProgressMode::Off,
            },
            ..RunTarget::new(project, repo)
        };
        Ok(target)
    }
}

impl RunSettings {
    /// Validated settings, or the first rule the flags break.
    pub fn into_settings(self) -> Result<Settings, ConfigError> {
        let provider = self
            .storage
            // the SDK's own retries are the publisher's (a failing store turns object
            // storage off until a probe finds it back)
            .store_config(60, 4, self.storage_sse.clone())
            .map_err(ConfigError::Storage)?;
        let settings = Settings {
            kafka: KafkaConfig {
                connection: self.kafka.connection()?,
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
            batch_max_bytes: usize::try_from(self.batch_max_bytes).unwrap_or(usize::MAX),
            storage: StorageSettings {
                provider,
                key_template: self.storage_key_template,
                presign_expiry: self.presigned_url_expiry,
            },
            upload_concurrency: self.upload_concurrency,
            read_budget_bytes: self.read_budget,
            filter: Filter::new(&self.include, &self.exclude)?,
            max_file_size_bytes: self.max_file_size,
            metrics_addr: self.metrics_addr,
            prices: tributary_runtime::load_price_table(self.price_table.as_deref())?,
            strategy_model: self.strategy_model,
            history: crate::publish::history::HistorySettings {
                window_days: self.history_window_days,
                max_commits: usize::try_from(self.history_max_commits).unwrap_or(usize::MAX),
                dir: self.history_dir,
            },
            git_host_keys: self.host_keys.host_keys().map_err(ConfigError::HostKeys)?,
        };
        settings.validate()?;
        Ok(settings)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn repositories_files_list_one_repository_and_an_optional_project_a_line() {
        let ok = super::parse_repos(
            "# the organisation\n\ngit@example.com:org/api.git api\n  ./web   # local\nhttps://example.com/org/infra.git\n",
        )
        .expect("valid");
        assert_eq!(
            ok,
            [
                (
                    "git@example.com:org/api.git".to_owned(),
                    Some("api".to_owned())
                ),
                ("./web".to_owned(), None),
                ("https://example.com/org/infra.git".to_owned(), None),
            ]
        );
        for (text, line) in [("", 0), ("# nothing\n\n", 0), ("a b\nc d e\n", 2)] {
            assert_eq!(
                super::parse_repos(text).expect_err(text).0,
                line,
                "{text:?}"
            );
        }
    }

    use clap::CommandFactory as _;

    #[test]
    fn every_option_has_a_help_line() {
        super::Cli::command().debug_assert();
        let missing = tributary_runtime::options_without_help(&super::Cli::command());
        assert!(missing.is_empty(), "options without help: {missing:#?}");
    }
}
