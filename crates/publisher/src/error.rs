//! The publisher's errors: [`ConfigError`] for settings that break a rule (found before
//! anything runs), [`PublishError`] for what stops a run or the watcher.

use tributary_content::ContentError;
use tributary_events::ProjectNameError;
use uuid::Uuid;

/// A setting, or a combination of settings, that breaks a rule. Found by validation,
/// before anything is read, uploaded or produced.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("name a repository: --repo, or --repos-file")]
    NoRepository,
    #[error("cannot read the repositories file {path}")]
    ReposFile {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("repositories file {path}, line {line}: {why}")]
    ReposFileLine {
        path: String,
        line: usize,
        why: &'static str,
    },
    #[error("project name {name:?} must be 1-256 bytes without control characters")]
    Project {
        name: String,
        #[source]
        source: ProjectNameError,
    },
    #[error("topic is empty")]
    EmptyTopic,
    #[error(transparent)]
    Kafka(#[from] tributary_runtime::kafka::KafkaConfigError),
    #[error(transparent)]
    PriceTable(#[from] tributary_runtime::PriceTableFileError),
    #[error(
        "batch byte limit {got} must be between {min} and {max} (the producer's message.max.bytes less framing)"
    )]
    BatchBytes { got: usize, min: usize, max: usize },
    #[error("batch file limit must be at least 1")]
    BatchFiles,
    #[error("concurrency limits must be at least 1")]
    Concurrency,
    #[error("read budget must be at least the max file size")]
    ReadBudget,
    #[error("presigned URL expiry must be between 1 s and 7 days (SigV4 limit)")]
    PresignExpiry,
    #[error("{0}")]
    Storage(#[source] ContentError),
    #[error("--content-strategy object-storage needs a storage provider")]
    ObjectStorageWithoutStore,
    #[error(
        "--content-strategy git-reference needs a git source and a URL consumers can fetch it from (--git-url)"
    )]
    GitReferenceWithoutUrl,
    #[error(
        "the repository URL has a password in it; pass credentials with --git-credentials-path or --git-credentials-env"
    )]
    PasswordInRepoUrl,
    #[error("--git-url has a password in it; pass credentials as a reference instead")]
    PasswordInGitUrl,
    #[error("--working-tree needs a local checkout")]
    WorkingTreeOfUrl,
    #[error("--working-tree and --ref exclude each other")]
    WorkingTreeWithRef,
    #[error(
        "--git-credentials-path, --git-credentials-env and --git-credential exclude each other"
    )]
    CredentialsTwice,
    #[error("--git-credential-name names a credential: give one (--git-credential)")]
    CredentialNameAlone,
    #[error("{0:?} cannot name a credential: 1-128 of A-Z a-z 0-9 . _ -, or a reference")]
    CredentialName(String),
    #[error("SSH host keys: {0}")]
    HostKeys(#[source] ContentError),
    #[error("watch: credentials are per repository, in the watch file")]
    WatchCredentials,
    #[error("{0}")]
    CredentialRef(#[source] tributary_events::InvalidEvent),
    #[error("cannot make {path} absolute")]
    CredentialsPath {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("bad glob {glob:?}: {source}")]
    Glob {
        glob: String,
        #[source]
        source: globset::Error,
    },
    #[error("--include/--exclude pattern {pattern:?} is not a gitignore pattern")]
    Pattern {
        pattern: String,
        #[source]
        source: ignore::Error,
    },
    #[error("--ref {reference} needs a git repository, and {repo} is not one")]
    RefWithoutGit { reference: String, repo: String },
    #[error("{0} is not a folder")]
    NotAFolder(String),
}

/// A watch file that cannot be used; the previous one (if any) stays in force.
#[derive(Debug, thiserror::Error)]
pub enum WatchFileError {
    #[error("watch file: {0}")]
    Toml(#[source] toml::de::Error),
    #[error("watch file: repository {url:?}: bad project name")]
    Project {
        url: String,
        #[source]
        source: ProjectNameError,
    },
    #[error("watch file: project {0:?} is listed twice")]
    DuplicateProject(String),
    #[error("watch file: {0}: put credentials in `credentials`, not in the URL")]
    PasswordInUrl(String),
    #[error("watch file: {0}: branches must be branch names")]
    Branch(String),
    #[error("watch file: {project}: credentials: {why}")]
    Credentials { project: String, why: String },
    #[error("watch file: webhooks.{0} must be an env:NAME or file:/path reference")]
    WebhookSecret(&'static str),
}

/// Why a run could not start or finish, or the watcher could not go on.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("invalid configuration: {0}")]
    Config(#[from] ConfigError),
    #[error(transparent)]
    WatchFile(#[from] WatchFileError),
    #[error("repository {0:?} does not exist")]
    MissingRepo(String),
    #[error("ref {reference:?} not found in {repo}")]
    UnknownRef { repo: String, reference: String },
    #[error("git error on {repo}: {message}")]
    Git {
        repo: String,
        message: String,
        #[source]
        source: git2::Error,
    },
    #[error("cannot read credentials reference: {0}")]
    Credentials(#[source] ContentError),
    #[error("object store is not usable")]
    Store(#[source] ContentError),
    #[error("cannot use Kafka at {brokers}")]
    KafkaUnreachable {
        brokers: String,
        #[source]
        source: tributary_runtime::kafka::ProbeError,
    },
    #[error("kafka client error")]
    Kafka(#[source] rdkafka::error::KafkaError),
    #[error("i/o error on {path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a cursor file")]
    CorruptCursor {
        path: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("the {0} task panicked")]
    TaskPanicked(&'static str),
    #[error("run {run_id} of {project}@{branch} was not fully delivered: {summary}")]
    RunUndelivered {
        run_id: Uuid,
        project: String,
        branch: String,
        summary: String,
    },
    #[error("could not serve metrics on {addr}")]
    Metrics {
        addr: String,
        #[source]
        source: std::io::Error,
    },
}
