//! The consumer's errors: what stops the daemon, and why one file failed.

use tributary_content::ContentError;
use tributary_events::dlq::{Reason, Stage};

/// What keeps the daemon from starting or running.
#[derive(Debug, thiserror::Error)]
pub enum ConsumerError {
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("kafka client error")]
    Kafka(#[source] rdkafka::error::KafkaError),
    #[error("cannot reach Kafka at {brokers}")]
    KafkaUnreachable {
        brokers: String,
        #[source]
        source: rdkafka::error::KafkaError,
    },
    #[error("an output could not be delivered to Kafka; stopped without storing its offset")]
    OutputUndelivered,
    #[error("content store or cache error")]
    Content(#[source] ContentError),
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
}

impl Failure {
    pub fn new(reason: Reason, stage: Stage, message: impl Into<String>) -> Self {
        Self {
            reason,
            stage,
            message: message.into(),
            retryable: false,
            attempts: 1,
        }
    }

    /// A failure from the content plane, classified by its typed error.
    pub fn from_content(err: &ContentError) -> Self {
        let message = chain(err);
        let (reason, retryable) = match err {
            ContentError::NotFound { .. } => (Reason::ObjectMissing, false),
            ContentError::GitForbidden { .. } => (Reason::GitForbidden, false),
            ContentError::Credentials(_) => (Reason::InvalidReference, false),
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
        }
    }
}

pub use tributary_runtime::chain;
