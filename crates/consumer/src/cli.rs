//! Command-line flags with environment fallbacks, turned into a validated [`Config`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use tributary_content::git::{CredentialBinding, CredentialBindings, GitConfig};
pub use tributary_runtime::{GlobalArgs, LogFormat, ProviderArg, StorageArgs};

use crate::config::{
    ANALYSIS_CACHE_MAX_ENTRIES, ANALYSIS_CACHE_PAGE_CACHE_BYTES, AnalysisCacheConfig, CacheConfig,
    Config, KafkaConfig,
};
use crate::error::ConfigError;

#[derive(Debug, Parser)]
#[command(
    name = "tributary-consumer",
    version,
    long_version = tributary_runtime::long_version(),
    after_help = "Exit codes:
  run          0 stopped (SIGTERM, or idle with --exit-when-idle); 1 failed while running; 2 bad settings or could not start
  check        0 every check passed; 1 a check failed; 2 bad settings
  dlq list     0 listed (even none); 1 Kafka failed; 2 bad settings (e.g. an unknown --reason)
  dlq show     0 printed; 1 no record there (never written, or past retention) or Kafka failed; 2 bad settings
  dlq replay   0 replayed; 1 failed while replaying; 2 bad settings (e.g. an unknown --reason)
  healthcheck  0 the daemon answered 200; 1 it did not",
    about = "Turn Tributary index events into intelligence documents"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    #[command(flatten)]
    pub global: GlobalArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the consumer-group daemon.
    #[command(args_override_self = true)]
    Run(Box<RunArgs>),
    /// Work with the dead-letter topic.
    #[command(subcommand)]
    Dlq(DlqCommand),
    /// Check a deployment with the flags `run` would get: the effective settings
    /// (secrets by reference), Kafka and the three topics, the object store (write,
    /// read, presigned GET, delete of a probe object), the cache folders, the git
    /// credentials. Exit 0 only when all pass; `/readyz` runs the same checks.
    #[command(args_override_self = true)]
    Check(Box<CheckCommand>),
    #[command(flatten)]
    Tool(tributary_runtime::ToolCommand),
}

#[derive(Debug, Args)]
pub struct CheckCommand {
    #[command(flatten)]
    pub run: RunArgs,
    #[command(flatten)]
    pub check: tributary_runtime::check::CheckArgs,
}

#[derive(Debug, Subcommand)]
pub enum DlqCommand {
    /// List dead-letter records (newest last): where each is, when and why it failed,
    /// its project and path. Reads the topic without joining a group or committing.
    List(Box<ListArgs>),
    /// Print one dead-letter record whole (JSON, payload included), by the
    /// PARTITION:OFFSET that `dlq list` shows.
    Show(Box<ShowArgs>),
    /// Re-publish dead-lettered events to the input topic (after fixing the cause).
    Replay(Box<ReplayArgs>),
}

/// The dead-letter topic and how to reach it: what every `dlq` command needs.
#[derive(Debug, Args)]
pub struct DlqSource {
    #[command(flatten)]
    pub kafka: tributary_runtime::KafkaArgs,
    /// Topic of dead-letter records.
    #[arg(help_heading = "Kafka", long, env = "TRIBUTARY_DLQ_TOPIC", default_value = tributary_events::topics::DLQ)]
    pub dlq_topic: String,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub source: DlqSource,
    /// Only records with this reason (repeatable), e.g. object_missing.
    #[arg(long = "reason", value_parser = reason_parser())]
    pub reasons: Vec<tributary_events::dlq::Reason>,
    /// Only records of this project.
    #[arg(long)]
    pub project: Option<String>,
    /// Show at most this many records: the newest that match.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// One JSON document on stdout (records without payloads, and the counts) instead
    /// of the table.
    #[arg(long)]
    pub json: bool,
    /// Stop reading after this long and list what was read.
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    #[command(flatten)]
    pub source: DlqSource,
    /// The record's PARTITION:OFFSET, as `dlq list` shows it (e.g. 3:1042).
    pub at: crate::inspect::Coordinates,
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    #[command(flatten)]
    pub source: DlqSource,
    /// Topic of index events (the publisher's `--topic`).
    #[arg(help_heading = "Kafka", long, env = "TRIBUTARY_INDEX_TOPIC", default_value = tributary_events::topics::INDEX_V2)]
    pub input_topic: String,
    /// Consumer group that remembers how far replays got.
    #[arg(help_heading = "Kafka", long, default_value = "tributary-dlq-replay")]
    pub group: String,
    /// Only records with this reason (repeatable), e.g. object_missing.
    #[arg(long = "reason", value_parser = reason_parser())]
    pub reasons: Vec<tributary_events::dlq::Reason>,
    /// Stop after this long without a new record.
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    pub idle: Duration,
}

/// Every dead-letter reason, as `--reason` accepts it: a typo is refused with the list
/// (exit 2), a valid name becomes its [`Reason`](tributary_events::dlq::Reason).
fn reason_parser() -> impl clap::builder::TypedValueParser<Value = tributary_events::dlq::Reason> {
    use clap::builder::TypedValueParser as _;
    use tributary_events::dlq::Reason;
    clap::builder::PossibleValuesParser::new(Reason::ALL.map(Reason::as_str)).try_map(|name| {
        Reason::ALL
            .into_iter()
            .find(|r| r.as_str() == name)
            .ok_or("not a dead-letter reason")
    })
}

impl ListArgs {
    pub fn into_config(self) -> Result<crate::inspect::ListConfig, ConfigError> {
        if self.limit == 0 {
            return Err(ConfigError::ListLimit);
        }
        Ok(crate::inspect::ListConfig {
            connection: self.source.kafka.connection()?,
            dlq_topic: self.source.dlq_topic,
            reasons: self.reasons,
            project: self.project,
            limit: self.limit,
            timeout: self.timeout,
        })
    }
}

impl ReplayArgs {
    pub fn into_config(self) -> Result<crate::replay::ReplayConfig, ConfigError> {
        Ok(crate::replay::ReplayConfig {
            connection: self.source.kafka.connection()?,
            dlq_topic: self.source.dlq_topic,
            input_topic: self.input_topic,
            group: self.group,
            reasons: self.reasons,
            idle: self.idle,
        })
    }
}

const GIB: u64 = 1 << 30;

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub kafka: tributary_runtime::KafkaArgs,
    /// Consumer group.
    #[arg(
        help_heading = "Kafka",
        long,
        env = "TRIBUTARY_KAFKA_GROUP",
        default_value = "tributary-consumer"
    )]
    pub group: String,
    /// Topic of index events (the publisher's `--topic`).
    #[arg(help_heading = "Kafka", long, env = "TRIBUTARY_INDEX_TOPIC", default_value = tributary_events::topics::INDEX_V2)]
    pub input_topic: String,
    /// Topic of intelligence documents and project summaries.
    #[arg(help_heading = "Kafka", long, env = "TRIBUTARY_OUTPUT_TOPIC", default_value = tributary_events::topics::INTELLIGENCE_V1)]
    pub output_topic: String,
    /// Topic of dead-letter records.
    #[arg(help_heading = "Kafka", long, env = "TRIBUTARY_DLQ_TOPIC", default_value = tributary_events::topics::DLQ)]
    pub dlq_topic: String,
    /// Static group membership id: a restart within the session timeout keeps its
    /// partitions at once instead of waiting for a rebalance. Defaults to the pod name
    /// on Kubernetes (`TRIBUTARY_POD_NAME`, from the downward API), unique per pod; elsewhere set
    /// it to something no other member of the group uses.
    #[arg(
        help_heading = "Kafka",
        long,
        env = "TRIBUTARY_KAFKA_GROUP_INSTANCE_ID"
    )]
    pub group_instance_id: Option<String>,
    /// The pod's name, when the deployment passes it (the default instance id).
    #[arg(help_heading = "Kafka", long, env = "TRIBUTARY_POD_NAME", hide = true)]
    pub pod_name: Option<String>,
    /// Group session timeout: a silent member loses its partitions after it.
    #[arg(
        help_heading = "Kafka",
        long,
        env = "TRIBUTARY_KAFKA_SESSION_TIMEOUT_MS",
        default_value_t = 45_000
    )]
    pub session_timeout_ms: u64,
    /// Longest gap between polls before the member is considered stuck.
    #[arg(
        help_heading = "Kafka",
        long,
        env = "TRIBUTARY_KAFKA_MAX_POLL_INTERVAL_MS",
        default_value_t = 600_000
    )]
    pub max_poll_interval_ms: u64,
    /// Producer compression of documents and dead letters.
    #[arg(
        help_heading = "Kafka",
        long,
        env = "TRIBUTARY_KAFKA_COMPRESSION",
        value_enum,
        default_value = "zstd"
    )]
    pub compression: tributary_runtime::kafka::Compression,

    #[command(flatten)]
    pub storage: StorageArgs,

    /// Memory cache budget in MiB.
    #[arg(
        help_heading = "Caches",
        long,
        env = "TRIBUTARY_CONTENT_MEMORY_CACHE_MB",
        default_value_t = 256
    )]
    pub memory_cache_mb: u64,
    #[arg(
        help_heading = "Caches",
        long,
        env = "CONTENT_CACHE_DIR",
        default_value = "/tmp/tributary-cache/"
    )]
    /// Disk content cache folder (checksum-verified, LRU).
    pub cache_dir: PathBuf,
    /// Disk content cache budget, GB.
    #[arg(
        help_heading = "Caches",
        long,
        env = "CONTENT_CACHE_MAX_SIZE_GB",
        default_value_t = 10.0
    )]
    pub cache_max_size_gb: f64,
    #[arg(
        help_heading = "Caches",
        long,
        env = "GIT_CACHE_DIR",
        default_value = "/tmp/tributary-git-cache/"
    )]
    /// Git clone cache folder (bare repositories, LRU).
    pub git_cache_dir: PathBuf,
    /// Git clone cache budget, GB.
    #[arg(
        help_heading = "Caches",
        long,
        env = "GIT_CACHE_MAX_SIZE_GB",
        default_value_t = 50.0
    )]
    pub git_cache_max_size_gb: f64,
    /// Analysis cache folder: what the analysers computed per (content, language,
    /// analyser revision), so unchanged files are not analysed again (LRU, survives
    /// restarts; one consumer per folder).
    #[arg(
        help_heading = "Caches",
        long,
        env = "TRIBUTARY_ANALYSIS_CACHE_DIR",
        default_value = "/tmp/tributary-analysis-cache/"
    )]
    pub analysis_cache_dir: PathBuf,
    /// Analysis cache budget, GB; 0 turns the cache off.
    #[arg(
        help_heading = "Caches",
        long,
        env = "TRIBUTARY_ANALYSIS_CACHE_MAX_SIZE_GB",
        default_value_t = 2.0
    )]
    pub analysis_cache_max_size_gb: f64,
    /// Git URL schemes consumers may fetch from (file only when listed).
    #[arg(
        help_heading = "Git",
        long,
        env = "TRIBUTARY_GIT_ALLOWED_SCHEMES",
        value_delimiter = ',',
        default_value = "https,http,git,ssh"
    )]
    pub git_allowed_schemes: Vec<String>,
    /// Git hosts consumers may fetch from (empty: any).
    #[arg(
        help_heading = "Git",
        long,
        env = "TRIBUTARY_GIT_ALLOWED_HOSTS",
        value_delimiter = ','
    )]
    pub git_allowed_hosts: Vec<String>,
    /// A git credential, bound to the hosts it may be sent to:
    /// `[NAME=]SECRET@HOST[,HOST...]`, SECRET a token (`env:VAR` or `file:/path`,
    /// `;user=NAME` for its user), `ssh-key:REF[;passphrase=REF]` or `ssh-agent`; e.g.
    /// `env:GIT_TOKEN@github.com`. NAME (what events say) defaults to SECRET without its
    /// options; an event naming none gets the first bound to the repository's host.
    /// Repeatable; the environment variable takes a space-separated list. An event
    /// naming anything else, or one for another host, is dead-lettered
    /// `credentials_refused`.
    #[arg(
        help_heading = "Git",
        long = "git-credential",
        env = "TRIBUTARY_GIT_CREDENTIALS",
        value_delimiter = ' '
    )]
    pub git_credentials: Vec<CredentialBinding>,
    #[command(flatten)]
    pub host_keys: tributary_runtime::HostKeyArgs,
    /// Deadline of a whole git fetch (connect at most 30 s of it).
    #[arg(help_heading = "Git", long, env = "TRIBUTARY_GIT_CLONE_TIMEOUT", default_value = "5m", value_parser = humantime::parse_duration)]
    pub git_clone_timeout: Duration,
    /// Git fetches at once.
    #[arg(
        help_heading = "Git",
        long,
        env = "TRIBUTARY_GIT_PARALLEL_FETCHES",
        default_value_t = 10
    )]
    pub git_parallel_fetches: usize,

    /// Root folder v1 `file_path`s resolve under (v1 events are dead-lettered without it).
    #[arg(help_heading = "Git", long, env = "TRIBUTARY_V1_MOUNT_ROOT")]
    pub mount_root: Option<PathBuf>,
    /// Largest file content accepted (bytes, or with KiB/MiB/GiB).
    #[arg(help_heading = "Analysis", long, env = "TRIBUTARY_MAX_CONTENT_SIZE", default_value = "256MiB", value_parser = tributary_runtime::parse_size)]
    pub max_content_size: u64,
    /// Largest record produced (bytes, or with KiB/MiB): documents lose the tail of
    /// long lists and dead letters their copy of the input to fit. Keep it under the
    /// output topics' `max.message.bytes`.
    #[arg(help_heading = "Kafka", long, env = "TRIBUTARY_MAX_OUTPUT_BYTES", default_value = "900000", value_parser = tributary_runtime::parse_size)]
    pub max_output_bytes: u64,
    /// Per-download deadline (object store, presigned URL).
    #[arg(help_heading = "Analysis", long, env = "TRIBUTARY_DOWNLOAD_TIMEOUT", default_value = "60s", value_parser = humantime::parse_duration)]
    pub download_timeout: Duration,
    /// Attempts for transient failures before dead-lettering (1 + retries).
    #[arg(
        help_heading = "Analysis",
        long,
        env = "TRIBUTARY_MAX_ATTEMPTS",
        default_value_t = 4
    )]
    pub max_attempts: u32,
    /// Files of one event resolved and analysed at once.
    #[arg(help_heading = "Analysis", long, default_value_t = 16)]
    pub file_concurrency: usize,
    /// Analyses at once (default: the number of cores).
    #[arg(help_heading = "Analysis", long, env = "TRIBUTARY_ANALYSIS_THREADS")]
    pub analysis_threads: Option<usize>,
    /// Events queued per partition before it is paused (back-pressure). Each pause
    /// costs a re-fetch when resumed: 8 consumed an analysis-cached 10k-file run in
    /// 2.1 s where 4 took 2.7–5.1 s (benches/README.md); each queued event is up to
    /// ~1 MB of memory.
    #[arg(help_heading = "Analysis", long, default_value_t = 8)]
    pub partition_queue: usize,
    /// Exit once nothing arrived for this long and all work is done (batch use, tests).
    #[arg(help_heading = "Lifecycle", long, value_parser = humantime::parse_duration)]
    pub exit_when_idle: Option<Duration>,
    /// Time to finish in-flight work on SIGTERM.
    #[arg(help_heading = "Lifecycle", long, env = "TRIBUTARY_SHUTDOWN_GRACE", default_value = "30s", value_parser = humantime::parse_duration)]
    pub shutdown_grace: Duration,
    /// How long a completed run waits for its last files before its summary is
    /// produced marked incomplete (0 turns summaries off).
    #[arg(help_heading = "Telemetry and reports", long, env = "TRIBUTARY_SUMMARY_WAIT", default_value = "5m", value_parser = humantime::parse_duration)]
    pub summary_wait: Duration,
    /// Prices a run's summary estimates its cost with (TOML; fields not given keep
    /// the defaults, AWS us-east-1 list prices). See docs/operations.md.
    #[arg(
        help_heading = "Telemetry and reports",
        long,
        env = "TRIBUTARY_PRICE_TABLE",
        value_name = "PATH"
    )]
    pub price_table: Option<std::path::PathBuf>,
    /// Write an HTML report of every project summary into this folder.
    #[arg(
        help_heading = "Telemetry and reports",
        long,
        env = "TRIBUTARY_REPORT_DIR",
        conflicts_with = "report_object_prefix"
    )]
    pub report_dir: Option<PathBuf>,
    /// Write an HTML report of every project summary to the object store under this
    /// key prefix (e.g. `reports/`).
    #[arg(
        help_heading = "Telemetry and reports",
        long,
        env = "TRIBUTARY_REPORT_OBJECT_PREFIX"
    )]
    pub report_object_prefix: Option<String>,
    /// Write the knowledge hub (summaries as JSON, files as Parquet, portfolio rollups;
    /// docs/hub.md) into this folder.
    #[arg(
        help_heading = "Telemetry and reports",
        long,
        env = "TRIBUTARY_HUB_DIR",
        conflicts_with = "hub_object_prefix"
    )]
    pub hub_dir: Option<PathBuf>,
    /// Write the knowledge hub to the object store under this key prefix (e.g. `hub/`).
    #[arg(
        help_heading = "Telemetry and reports",
        long,
        env = "TRIBUTARY_HUB_OBJECT_PREFIX"
    )]
    pub hub_object_prefix: Option<String>,
    /// Files larger than this get no parse (no symbols, imports, complexity); lines,
    /// language, licenses and secrets still.
    #[arg(help_heading = "Analysis", long, env = "TRIBUTARY_PARSE_MAX_SIZE", default_value = "2MiB", value_parser = tributary_runtime::parse_size)]
    pub parse_max_size: u64,
    /// A parse taking longer than this is abandoned (a diagnostic in the document).
    #[arg(help_heading = "Analysis", long, env = "TRIBUTARY_PARSE_TIMEOUT", default_value = "2s", value_parser = humantime::parse_duration)]
    pub parse_timeout: Duration,
    /// Symbols (and functions, and imports) listed per file, at most.
    #[arg(
        help_heading = "Analysis",
        long,
        env = "TRIBUTARY_MAX_SYMBOLS",
        default_value_t = 5000
    )]
    pub max_symbols: usize,
    /// Count each file's tokens under these tiktoken encodings (`o200k_base`,
    /// `cl100k_base`, comma-separated), exactly as tiktoken does; `none` gives the
    /// `utf8_chars_div_4` estimate instead. Each holds ~5 MiB; o200k_base adds ~13 % to
    /// the analysis' time, both ~43 %.
    #[arg(
        help_heading = "Analysis",
        long,
        env = "TRIBUTARY_TOKEN_ENCODINGS",
        default_value = "o200k_base",
        value_parser = tributary_intel::TokenEncodings::parse
    )]
    pub token_encodings: tributary_intel::TokenEncodings,
    /// Secret findings already known and acknowledged: a file of finding fingerprints
    /// (one a line, `#` comments). Documents mark them `acknowledged`; summaries, reports
    /// and SARIF leave them out of their counts.
    #[arg(help_heading = "Analysis", long, env = "TRIBUTARY_SECRETS_BASELINE")]
    pub secrets_baseline: Option<PathBuf>,
    /// A gitleaks configuration (`.gitleaks.toml`) whose rules and allowlists replace
    /// gitleaks' defaults, or extend them (`[extend] useDefault = true`); composite
    /// (`[[rules.required]]`) and `skipReport` rules included. Refused at start-up when
    /// it does not compile, naming the rule.
    #[arg(
        help_heading = "Analysis",
        long,
        env = "TRIBUTARY_SECRETS_CONFIG",
        value_name = "PATH"
    )]
    pub secrets_config: Option<PathBuf>,
    /// Serve /metrics, /healthz and /readyz here.
    #[arg(
        help_heading = "Telemetry and reports",
        long,
        env = "TRIBUTARY_METRICS_ADDR"
    )]
    pub metrics_addr: Option<SocketAddr>,
}

fn gb(v: f64) -> u64 {
    (v.max(0.0) * GIB as f64) as u64
}

impl RunArgs {
    pub fn into_config(self) -> Result<Config, ConfigError> {
        let store = self
            .storage
            // the resolver retries transient failures itself (--max-attempts, backoff):
            // one SDK attempt per try, so the layers do not multiply
            .store_config(self.download_timeout.as_secs().max(1), 1, None)
            .map_err(ConfigError::Storage)?;
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        let cfg = Config {
            kafka: KafkaConfig {
                connection: self.kafka.connection()?,
                group: self.group,
                input_topic: self.input_topic,
                output_topic: self.output_topic,
                dlq_topic: self.dlq_topic,
                instance_id: self
                    .group_instance_id
                    .or(self.pod_name)
                    .filter(|id| !id.is_empty()),
                session_timeout_ms: self.session_timeout_ms,
                max_poll_interval_ms: self.max_poll_interval_ms,
                compression: self.compression,
            },
            store,
            cache: CacheConfig {
                memory_max_bytes: self.memory_cache_mb << 20,
                disk_dir: self.cache_dir,
                disk_max_bytes: gb(self.cache_max_size_gb),
            },
            analysis_cache: (self.analysis_cache_max_size_gb > 0.0).then(|| AnalysisCacheConfig {
                dir: self.analysis_cache_dir,
                max_bytes: gb(self.analysis_cache_max_size_gb),
                page_cache_bytes: ANALYSIS_CACHE_PAGE_CACHE_BYTES,
                max_entries: ANALYSIS_CACHE_MAX_ENTRIES,
            }),
            git: GitConfig {
                cache_dir: self.git_cache_dir,
                max_bytes: gb(self.git_cache_max_size_gb),
                clone_timeout: self.git_clone_timeout,
                allowed_schemes: self.git_allowed_schemes,
                allowed_hosts: self.git_allowed_hosts,
                max_concurrent_reads: self.git_parallel_fetches,
                credentials: CredentialBindings(self.git_credentials),
                host_keys: self.host_keys.host_keys().map_err(ConfigError::HostKeys)?,
            },
            mount_root: self.mount_root,
            max_content_bytes: self.max_content_size,
            max_output_bytes: usize::try_from(self.max_output_bytes).unwrap_or(usize::MAX),
            download_timeout: self.download_timeout,
            max_attempts: self.max_attempts,
            file_concurrency: self.file_concurrency,
            analysis_threads: self.analysis_threads.unwrap_or(threads),
            partition_queue: self.partition_queue,
            exit_when_idle: self.exit_when_idle,
            shutdown_grace: self.shutdown_grace,
            summary_wait: self.summary_wait,
            prices: tributary_runtime::load_price_table(self.price_table.as_deref())?,
            hub: match (self.hub_dir, self.hub_object_prefix) {
                (Some(dir), _) => Some(crate::config::SinkLocation::Dir(dir)),
                (None, Some(prefix)) => Some(crate::config::SinkLocation::ObjectStore { prefix }),
                (None, None) => None,
            },
            report: match (self.report_dir, self.report_object_prefix) {
                (Some(dir), _) => Some(crate::config::SinkLocation::Dir(dir)),
                (None, Some(prefix)) => Some(crate::config::SinkLocation::ObjectStore { prefix }),
                (None, None) => None,
            },
            analysis: tributary_intel::Options {
                syntax: tributary_intel::SyntaxLimits {
                    max_bytes: usize::try_from(self.parse_max_size).unwrap_or(usize::MAX),
                    max_parse_ms: u64::try_from(self.parse_timeout.as_millis()).unwrap_or(u64::MAX),
                    max_symbols: self.max_symbols,
                },
                tokens: self.token_encodings,
                secrets: match &self.secrets_config {
                    Some(path) => crate::config::load_secret_rules(path)?,
                    None => tributary_intel::secrets::SecretRules::default(),
                },
            },
            secrets_baseline: std::sync::Arc::new(match &self.secrets_baseline {
                Some(path) => crate::config::SecretsBaseline::load(path)?,
                None => crate::config::SecretsBaseline::default(),
            }),
            metrics_addr: self.metrics_addr,
        };
        cfg.validate()?;
        Ok(cfg)
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    #[test]
    fn every_option_has_a_help_line() {
        super::Cli::command().debug_assert();
        let missing = tributary_runtime::options_without_help(&super::Cli::command());
        assert!(missing.is_empty(), "options without help: {missing:#?}");
    }
}
