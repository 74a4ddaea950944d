//! The consumer's errors: what stops the daemon, and why one file failed.

use tributary_content::ContentError;
use tributary_events::dlq::{Reason, Stage};

/// A setting, or a combination of settings, that breaks a rule; found before the
/// daemon connects to anything.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(transparent)]
    PriceTable(#[from] tributary_runtime::PriceTableFileError),
    #[error("topics must not be empty")]
    EmptyTopic,
    #[error(transparent)]
    Kafka(#[from] tributary_runtime::kafka::KafkaConfigError),
    #[error("the input topic must differ from the output and dead-letter topics")]
    InputTopicReused,
    #[error("group must not be empty")]
    EmptyGroup,
    #[error("--report-object-prefix needs an object store (--storage-provider)")]
    ReportPrefixWithoutStore,
    #[error("--report-object-prefix must be a relative key prefix without '..'")]
    ReportPrefix,
    #[error("reports are written from summaries; --summary-wait 0 turns both off")]
    ReportsWithoutSummaries,
    #[error("--hub-object-prefix needs an object store (--storage-provider)")]
    HubPrefixWithoutStore,
    #[error("--hub-object-prefix must be a relative key prefix without '..'")]
    HubPrefix,
    #[error("the hub is written from summaries; --summary-wait 0 turns both off")]
    HubWithoutSummaries,
    #[error("concurrency limits must be at least 1")]
    Concurrency,
    #[error("max attempts must be at least 1")]
    MaxAttempts,
    #[error("output byte limit {got} must be between {min} and {max}")]
    OutputBytes { got: usize, min: usize, max: usize },
    #[error("{0}")]
    Storage(#[source] ContentError),
    #[error("mount root {path}: {source}")]
    MountRoot {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("http client: {0}")]
    HttpClient(#[source] reqwest::Error),
    #[error("--limit must be at least 1")]
    ListLimit,
    #[error("secrets baseline {path}: {source}")]
    SecretsBaselineRead {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "secrets baseline {path}, line {line}: not a finding fingerprint (32 hex digits, then an optional # comment)"
    )]
    SecretsBaselineLine { path: String, line: usize },
    #[error("cannot read the secrets configuration {path}")]
    SecretsConfigRead {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the secrets configuration {path} is refused")]
    SecretsConfig {
        path: String,
        #[source]
        source: tributary_intel::secrets::SecretsConfigError,
    },
    #[error("SSH host keys: {0}")]
    HostKeys(#[source] ContentError),
}

impl ConsumerError {
    /// A fault of the configuration or of the connection the daemon was told to use,
    /// found before any message was consumed.
    pub fn is_startup(&self) -> bool {
        matches!(
            self,
            ConsumerError::Config(_)
                | ConsumerError::KafkaUnreachable { .. }
                | ConsumerError::AnalysisCache(_)
        )
    }
}

/// What keeps the daemon from starting or running.
#[derive(Debug, thiserror::Error)]
pub enum ConsumerError {
    #[error("invalid configuration: {0}")]
    Config(#[from] ConfigError),
    #[error("kafka client error")]
    Kafka(#[source] rdkafka::error::KafkaError),
    #[error("cannot use Kafka at {brokers}")]
    KafkaUnreachable {
        brokers: String,
        #[source]
        source: tributary_runtime::kafka::ProbeError,
    },
    #[error("an output could not be delivered to Kafka; stopped without storing its offset")]
    OutputUndelivered,
    #[error("content store or cache error")]
    Content(#[source] ContentError),
    #[error(transparent)]
    AnalysisCache(#[from] crate::analysis_cache::AnalysisCacheError),
}

/// Why one file (or one undecodable event) goes to the dead-letter topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub reason: Reason,
    pub stage: Stage,
    /// Detail for humans; never content, credentials or presigned URLs.
    pub message: String,
    /// Whether trying again later may succeed (the pipeline retries these first).
    pub retryable: bool,
    /// How many times it was tried.
    pub attempts: u32,
    /// This machine is at fault (its storage is full), not the input: the message waits
    /// and is tried again; it is never dead-lettered for this.
    pub local: bool,
}

impl Failure {
    pub fn new(reason: Reason, stage: Stage, message: impl Into<String>) -> Self {
        Self {
            reason,
            stage,
            message: message.into(),
            retryable: false,
            attempts: 1,
            local: false,
        }
    }

    /// A failure from the content plane, classified by its typed error.
    pub fn from_content(err: &ContentError) -> Self {
        // what the operator can do about it, after what happened
        let hint = match err {
            ContentError::GitUnavailable { .. } => {
                " — the remote did not answer this consumer: check its network path and the remote; `dlq replay --reason git_unavailable` once it answers, or re-publish with --content-strategy auto"
            }
            ContentError::GitMissing { .. } => {
                " — the commit or path is not on the remote (a force-push, a private fork, a wrong --git-url): re-publish from where it is"
            }
            ContentError::GitHostKey { .. } => {
                " — add the server's host key to --git-known-hosts, then `dlq replay --reason git_host_key_refused`"
            }
            ContentError::GitAuth { .. } | ContentError::CredentialsRefused { .. } => {
                " — bind a credential for this host (--git-credential NAME=...@HOST) that the remote accepts, then `dlq replay --reason credentials_refused`"
            }
            _ => "",
        };
        let message = format!("{}{hint}", chain(err));
        let (reason, retryable) = match err {
            ContentError::NotFound { .. } => (Reason::ObjectMissing, false),
            ContentError::GitForbidden { .. } => (Reason::GitForbidden, false),
            ContentError::Credentials(_) => (Reason::InvalidReference, false),
            ContentError::CredentialsRefused { .. } | ContentError::GitAuth { .. } => {
                (Reason::CredentialsRefused, false)
            }
            ContentError::GitHostKey { .. } => (Reason::GitHostKeyRefused, false),
            ContentError::GitMissing { .. } => (Reason::GitUnavailable, false),
            ContentError::GitUnavailable { .. } => (Reason::GitUnavailable, true),
            ContentError::Refused { status, .. } if *status == 404 => {
                (Reason::ObjectMissing, false)
            }
            e => (Reason::RetriesExhausted, e.is_retryable()),
        };
        Self {
            reason,
            stage: Stage::Resolve,
            message,
            retryable,
            attempts: 1,
            local: err.is_local(),
        }
    }
}

pub use tributary_runtime::chain;
