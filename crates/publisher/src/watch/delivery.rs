//! The webhook vocabulary: which provider a delivery claims to come from and what came
//! of it. A leaf module (it imports nothing of the crate), so both the webhook router
//! and `internal_events` name these types.

use axum::http::StatusCode;

/// The provider a request claims to come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    GitHub,
    GitLab,
    Gitea,
}

impl Provider {
    pub const ALL: [Provider; 3] = [Provider::GitHub, Provider::GitLab, Provider::Gitea];

    pub fn as_str(self) -> &'static str {
        match self {
            Provider::GitHub => "github",
            Provider::GitLab => "gitlab",
            Provider::Gitea => "gitea",
        }
    }
}

/// What came of one delivery, in the order the checks run. A closed set: the `result`
/// label of `tributary_watch_webhook_deliveries_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The body is over the limit (413, before it is read in full).
    TooLarge,
    /// The body could not be read, or is not a push payload (400).
    BadRequest,
    /// The body did not arrive within its deadline (408).
    Timeout,
    /// The shared body budget stayed full while the request waited (503).
    Busy,
    /// Missing or wrong signature/token (401).
    Unauthorized,
    /// A delivery id seen before (409).
    Replayed,
    /// GitHub's ping (200).
    Ping,
    /// A push that is not to a branch (202, nothing indexed).
    Ignored,
    /// The repository or branch is not watched (404).
    UnknownRepository,
    /// A watched branch was triggered (202).
    Accepted,
}

impl Outcome {
    pub const ALL: [Outcome; 10] = [
        Outcome::TooLarge,
        Outcome::BadRequest,
        Outcome::Timeout,
        Outcome::Busy,
        Outcome::Unauthorized,
        Outcome::Replayed,
        Outcome::Ping,
        Outcome::Ignored,
        Outcome::UnknownRepository,
        Outcome::Accepted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::TooLarge => "too_large",
            Outcome::BadRequest => "bad_request",
            Outcome::Timeout => "timeout",
            Outcome::Busy => "busy",
            Outcome::Unauthorized => "unauthorized",
            Outcome::Replayed => "replayed",
            Outcome::Ping => "ping",
            Outcome::Ignored => "ignored",
            Outcome::UnknownRepository => "unknown_repository",
            Outcome::Accepted => "accepted",
        }
    }

    /// Whether the delivery was refused (logged as a warning).
    pub fn is_rejection(self) -> bool {
        !matches!(self, Outcome::Accepted | Outcome::Ignored | Outcome::Ping)
    }

    /// The HTTP status answered.
    pub fn status(self) -> StatusCode {
        match self {
            Outcome::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Outcome::BadRequest => StatusCode::BAD_REQUEST,
            Outcome::Timeout => StatusCode::REQUEST_TIMEOUT,
            Outcome::Busy => StatusCode::SERVICE_UNAVAILABLE,
            Outcome::Unauthorized => StatusCode::UNAUTHORIZED,
            Outcome::Replayed => StatusCode::CONFLICT,
            Outcome::Ping => StatusCode::OK,
            Outcome::UnknownRepository => StatusCode::NOT_FOUND,
            Outcome::Ignored | Outcome::Accepted => StatusCode::ACCEPTED,
        }
    }
}
