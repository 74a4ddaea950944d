//! The publisher's error type.

use tributary_content::ContentError;

/// Why a run could not start or finish.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("repository {0:?} does not exist")]
    MissingRepo(String),
    #[error("{0:?} is not a git repository")]
    NotGit(String),
    #[error("ref {reference:?} not found in {repo}")]
    UnknownRef { repo: String, reference: String },
    #[error("git error on {repo}: {message}")]
    Git {
        repo: String,
        message: String,
        #[source]
        source: git2::Error,
    },
    #[error("cannot read credentials reference {0}")]
    Credentials(String),
    #[error("object store is not usable")]
    Store(#[source] ContentError),
    #[error("cannot reach Kafka at {brokers}")]
    KafkaUnreachable {
        brokers: String,
        #[source]
        source: rdkafka::error::KafkaError,
    },
    #[error("kafka client error")]
    Kafka(#[source] rdkafka::error::KafkaError),
    #[error("walk failed")]
    Walk(#[source] ignore::Error),
    #[error("i/o error on {path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("could not serve metrics on {addr}")]
    Metrics {
        addr: String,
        #[source]
        source: std::io::Error,
    },
}
