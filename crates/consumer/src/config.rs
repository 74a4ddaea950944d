//! The consumer's typed configuration; built by `cli.rs` or directly by tests.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use tributary_content::git::GitConfig;

use crate::error::ConfigError;

#[derive(Debug, Clone)]
pub struct KafkaConfig {
    /// Brokers and security: what every client is configured from.
    pub connection: tributary_runtime::kafka::Connection,
    pub group: String,
    pub input_topic: String,
    pub output_topic: String,
    pub dlq_topic: String,
    /// Static membership (`group.instance.id`): restarts within the session timeout
    /// keep their partitions without a rebalance.
    pub instance_id: Option<String>,
    pub session_timeout_ms: u64,
    pub max_poll_interval_ms: u64,
    pub compression: tributary_runtime::kafka::Compression,
}

/// Where objects are read from (the consumer's own credentials, by key).
pub use tributary_content::store::StoreConfig;

pub use crate::analysis_cache::AnalysisCacheConfig;

/// Memory the analysis cache's database may use for its page cache (the results it
/// returns are in the operating system's page cache too).
pub const ANALYSIS_CACHE_PAGE_CACHE_BYTES: usize = 8 << 20;

/// Entries the analysis cache keeps, at most, whatever its byte budget: its index (last
/// use and size of every entry) lives in memory at ~100 bytes an entry, so this bounds
/// that memory at ~25 MiB. Two entries per file (its computed result and its whole
/// analysis): room for the files of ~130k distinct (project, path, content).
pub const ANALYSIS_CACHE_MAX_ENTRIES: usize = 1 << 18;

#[derive(Debug, Clone)]
pub struct CacheConfig {
    pub memory_max_bytes: u64,
    pub disk_dir: PathBuf,
    pub disk_max_bytes: u64,
}

/// The smallest output bound accepted (a dead-letter record with a short excerpt).
pub const MIN_OUTPUT_BYTES: usize = 8 * 1024;
/// The largest: the producer's `message.max.bytes` (1,000,000) less framing.
pub const MAX_OUTPUT_BYTES: usize = 990_000;

#[derive(Debug, Clone)]
pub struct Config {
    pub kafka: KafkaConfig,
    pub store: StoreConfig,
    pub cache: CacheConfig,
    /// Results of the analysers kept on disk; `None` analyses every file.
    pub analysis_cache: Option<AnalysisCacheConfig>,
    pub git: GitConfig,
    /// Root that v1 `file_path`s resolve under; `None` dead-letters v1 events.
    pub mount_root: Option<PathBuf>,
    /// Largest file content accepted from any source (`too_large` beyond).
    pub max_content_bytes: u64,
    /// Largest record produced (document, dead letter, summary), serialized: documents
    /// lose the tail of long lists and dead letters their copy of the input to fit.
    pub max_output_bytes: usize,
    /// Timeout of one presigned-URL download.
    pub download_timeout: Duration,
    /// Attempts for transient failures (first included) before `retries_exhausted`.
    pub max_attempts: u32,
    /// Files of one event resolved and analysed at once.
    pub file_concurrency: usize,
    /// Analyses running at once on the blocking pool.
    pub analysis_threads: usize,
    /// Events queued per partition before the partition is paused.
    pub partition_queue: usize,
    /// Stop once nothing arrived for this long and all work is done.
    pub exit_when_idle: Option<Duration>,
    /// Time allowed to finish in-flight work on shutdown.
    pub shutdown_grace: Duration,
    /// How long a completed run waits for its last files before its summary is
    /// produced incomplete; zero turns summaries off.
    pub summary_wait: Duration,
    /// What summaries price a run's usage with.
    pub prices: tributary_events::cost::PriceTable,
    /// Where HTML reports of project summaries go; `None` writes none.
    pub report: Option<SinkLocation>,
    /// Where the knowledge hub goes (summaries as JSON, files as Parquet, portfolio
    /// rollups); `None` writes none.
    pub hub: Option<SinkLocation>,
    /// Limits of the analysers (parse size and time, symbols per file).
    pub analysis: tributary_intel::Options,
    /// Fingerprints of secret findings someone acknowledged: documents mark them, and
    /// summaries count them apart.
    pub secrets_baseline: std::sync::Arc<SecretsBaseline>,
    pub metrics_addr: Option<SocketAddr>,
}

/// A gitleaks configuration file's rules (at most 16 MiB read), compiled once.
pub fn load_secret_rules(
    path: &std::path::Path,
) -> Result<tributary_intel::secrets::SecretRules, ConfigError> {
    use std::io::Read as _;
    let name = path.display().to_string();
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(16 << 20).read_to_string(&mut text))
        .map_err(|source| ConfigError::SecretsConfigRead {
            path: name.clone(),
            source,
        })?;
    tributary_intel::secrets::SecretRules::from_gitleaks_toml(&text)
        .map_err(|source| ConfigError::SecretsConfig { path: name, source })
}

/// A secrets baseline: finding fingerprints, one a line, each optionally followed by a
/// `#` comment (who acknowledged it and why); blank and `#` lines are skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecretsBaseline {
    fingerprints: std::collections::HashSet<String>,
}

impl SecretsBaseline {
    /// At most this many bytes are read from a baseline file.
    pub const MAX_BYTES: u64 = 16 << 20;

    pub fn load(path: &std::path::Path) -> Result<Self, ConfigError> {
        use std::io::Read as _;
        let name = path.display().to_string();
        let mut text = String::new();
        std::fs::File::open(path)
            .and_then(|f| f.take(Self::MAX_BYTES).read_to_string(&mut text))
            .map_err(|source| ConfigError::SecretsBaselineRead {
                path: name.clone(),
                source,
            })?;
        Self::parse(&text).map_err(|line| ConfigError::SecretsBaselineLine { path: name, line })
    }

    /// The fingerprints, or the first bad line's number.
    pub fn parse(text: &str) -> Result<Self, usize> {
        let mut fingerprints = std::collections::HashSet::new();
        for (i, line) in text.lines().enumerate() {
            let entry = line.split('#').next().unwrap_or("").trim();
            if entry.is_empty() {
                continue;
            }
            if entry.len() != 32 || !entry.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(i + 1);
            }
            fingerprints.insert(entry.to_ascii_lowercase());
        }
        Ok(SecretsBaseline { fingerprints })
    }

    pub fn len(&self) -> usize {
        self.fingerprints.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fingerprints.is_empty()
    }

    /// Marks the findings the baseline lists as acknowledged.
    pub fn apply(&self, findings: &mut [tributary_events::intelligence::SecretFinding]) {
        if self.fingerprints.is_empty() {
            return;
        }
        for f in findings {
            f.acknowledged = f
                .fingerprint
                .as_ref()
                .is_some_and(|fp| self.fingerprints.contains(fp));
        }
    }
}

/// Where an opt-in sink (reports, the hub) writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SinkLocation {
    /// A local folder.
    Dir(PathBuf),
    /// The configured object store, under this key prefix (`reports/`, `hub/`).
    ObjectStore { prefix: String },
}

impl Config {
    /// An object-store sink needs a store and a relative prefix without `..`.
    fn check_sink(
        &self,
        sink: Option<&SinkLocation>,
        without_store: ConfigError,
        bad_prefix: ConfigError,
    ) -> Result<(), ConfigError> {
        let Some(SinkLocation::ObjectStore { prefix }) = sink else {
            return Ok(());
        };
        if matches!(self.store, StoreConfig::None) {
            return Err(without_store);
        }
        if prefix.starts_with('/') || prefix.split('/').any(|s| s == "..") {
            return Err(bad_prefix);
        }
        Ok(())
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let k = &self.kafka;
        if k.input_topic.is_empty() || k.output_topic.is_empty() || k.dlq_topic.is_empty() {
            return Err(ConfigError::EmptyTopic);
        }
        if k.input_topic == k.output_topic || k.input_topic == k.dlq_topic {
            return Err(ConfigError::InputTopicReused);
        }
        if k.group.is_empty() {
            return Err(ConfigError::EmptyGroup);
        }
        self.check_sink(
            self.report.as_ref(),
            ConfigError::ReportPrefixWithoutStore,
            ConfigError::ReportPrefix,
        )?;
        if self.report.is_some() && self.summary_wait.is_zero() {
            return Err(ConfigError::ReportsWithoutSummaries);
        }
        self.check_sink(
            self.hub.as_ref(),
            ConfigError::HubPrefixWithoutStore,
            ConfigError::HubPrefix,
        )?;
        if self.hub.is_some() && self.summary_wait.is_zero() {
            return Err(ConfigError::HubWithoutSummaries);
        }
        if self.file_concurrency == 0 || self.analysis_threads == 0 || self.partition_queue == 0 {
            return Err(ConfigError::Concurrency);
        }
        if self.max_attempts == 0 {
            return Err(ConfigError::MaxAttempts);
        }
        if !(MIN_OUTPUT_BYTES..=MAX_OUTPUT_BYTES).contains(&self.max_output_bytes) {
            return Err(ConfigError::OutputBytes {
                got: self.max_output_bytes,
                min: MIN_OUTPUT_BYTES,
                max: MAX_OUTPUT_BYTES,
            });
        }
        self.store.validate().map_err(ConfigError::Storage)
    }
}

#[cfg(test)]
mod tests;
