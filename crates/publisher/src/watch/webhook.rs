//! Push webhooks: GitHub (`X-Hub-Signature-256`, HMAC-SHA256 of the raw body), GitLab
//! (`X-Gitlab-Token`, the shared token) and Gitea/Forgejo (`X-Gitea-Signature`, hex
//! HMAC-SHA256). Every comparison is constant-time. Order of checks: announced size
//! (413, before a byte of the body is read), a signature header at all (401, unread),
//! room in the shared body budget (503 after a short wait), the body within its
//! deadline (408) and size (413), the signature (401), replay (409: a delivery id seen
//! before), payload (400), repository (404); only then is anything triggered (202). A
//! rejected request indexes nothing, and the memory all requests' bodies take together
//! is bounded whatever the clients send.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use axum::Router;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

pub use super::delivery::{Outcome, Provider};
use crate::internal_events::WebhookDelivery;

/// Bodies larger than this are refused with 413: before they are read when announced
/// (`Content-Length`), as soon as they pass it otherwise. GitHub's own cap.
pub const MAX_BODY_BYTES: usize = 25 * 1024 * 1024;
/// The bodies of all requests being read at once, at most: a request waits for its
/// share (its announced size, or the maximum when it announces none).
pub const BODY_BUDGET_BYTES: usize = 64 * 1024 * 1024;
/// How long a request may wait for its share of the budget before it is refused (503).
const BUDGET_WAIT: Duration = Duration::from_secs(5);
/// How long a client may take to send its body (408 after).
pub const BODY_TIMEOUT: Duration = Duration::from_secs(10);
/// Delivery ids remembered against replays.
const REMEMBERED_DELIVERIES: usize = 65_536;

/// Resolved shared secrets (bytes, never logged).
#[derive(Clone, Default)]
pub struct Secrets {
    pub github: Option<Vec<u8>>,
    pub gitlab: Option<Vec<u8>>,
    pub gitea: Option<Vec<u8>>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set = |s: &Option<Vec<u8>>| if s.is_some() { "<set>" } else { "<unset>" };
        f.debug_struct("Secrets")
            .field("github", &set(&self.github))
            .field("gitlab", &set(&self.gitlab))
            .field("gitea", &set(&self.gitea))
            .finish()
    }
}

/// A verified push: which repository URLs the payload names, the branch and commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Push {
    pub urls: Vec<String>,
    pub branch: Option<String>,
    pub after: Option<String>,
}

/// What the webhook needs from the watcher.
pub trait Hooks: Send + Sync + 'static {
    fn secrets(&self) -> Secrets;
    /// Triggers indexing for the repository the push names; `false` when no watched
    /// repository matches (404).
    fn push(&self, push: &Push) -> bool;
}

struct HookState {
    hooks: Arc<dyn Hooks>,
    seen: Mutex<lru::LruCache<String, ()>>,
    /// The body budget, in KiB.
    budget: Arc<tokio::sync::Semaphore>,
}

/// The webhook routes: `POST /hooks/github`, `/hooks/gitlab`, `/hooks/gitea`.
pub fn router(hooks: Arc<dyn Hooks>) -> Router {
    let state = Arc::new(HookState {
        hooks,
        seen: Mutex::new(lru::LruCache::new(
            NonZeroUsize::new(REMEMBERED_DELIVERIES).expect("non-zero"),
        )),
        budget: Arc::new(tokio::sync::Semaphore::new(BODY_BUDGET_BYTES / 1024)),
    });
    Router::new()
        .route(
            "/hooks/github",
            post(|s, h, b| handle(Provider::GitHub, s, h, b)),
        )
        .route(
            "/hooks/gitlab",
            post(|s, h, b| handle(Provider::GitLab, s, h, b)),
        )
        .route(
            "/hooks/gitea",
            post(|s, h, b| handle(Provider::Gitea, s, h, b)),
        )
        // bodies are read (and bounded) by the handler itself
        .layer(DefaultBodyLimit::disable())
        .with_state(state)
}

async fn handle(
    provider: Provider,
    State(state): State<Arc<HookState>>,
    headers: HeaderMap,
    body: Body,
) -> (StatusCode, &'static str) {
    let (outcome, text) = match read_body(provider, &state, &headers, body).await {
        Ok(body) => decide(provider, &state, &headers, &body),
        Err(refused) => refused,
    };
    WebhookDelivery { provider, outcome }.emit();
    (outcome.status(), text)
}

/// The body, read within the size limit, the shared budget and the deadline; or why
/// not, decided as early as possible (most refusals read nothing).
async fn read_body(
    provider: Provider,
    state: &HookState,
    headers: &HeaderMap,
    body: Body,
) -> Result<Bytes, (Outcome, &'static str)> {
    let declared = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return Err((Outcome::TooLarge, "body over 25 MB\n"));
    }
    if signature_header(provider, headers).is_none() {
        return Err((Outcome::Unauthorized, "missing or wrong signature\n"));
    }
    let kib = declared.map_or(MAX_BODY_BYTES, |n| n as usize) / 1024 + 1;
    let share = tokio::time::timeout(
        BUDGET_WAIT,
        state.budget.clone().acquire_many_owned(kib as u32),
    )
    .await;
    let Ok(Ok(_share)) = share else {
        return Err((Outcome::Busy, "too many deliveries at once; retry\n"));
    };
    let capacity = declared.map_or(64 * 1024, |n| n as usize);
    match tokio::time::timeout(BODY_TIMEOUT, collect(body, capacity)).await {
        Err(_) => Err((Outcome::Timeout, "body not received in time\n")),
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(refused)) => Err(refused),
    }
}

/// Reads a body into one buffer of the announced size (no growth, no second copy),
/// refusing it the moment it passes [`MAX_BODY_BYTES`].
async fn collect(mut body: Body, capacity: usize) -> Result<Bytes, (Outcome, &'static str)> {
    use http_body_util::BodyExt as _;
    let mut buf = bytes::BytesMut::with_capacity(capacity.min(MAX_BODY_BYTES));
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| (Outcome::BadRequest, "unreadable body\n"))?;
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > MAX_BODY_BYTES {
                return Err((Outcome::TooLarge, "body over 25 MB\n"));
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(buf.freeze())
}

/// The header a provider signs (or authenticates) deliveries with, if present.
fn signature_header(provider: Provider, headers: &HeaderMap) -> Option<&str> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    match provider {
        Provider::GitHub => header("x-hub-signature-256"),
        Provider::Gitea => header("x-gitea-signature").or_else(|| header("x-forgejo-signature")),
        Provider::GitLab => header("x-gitlab-token"),
    }
}

fn decide(
    provider: Provider,
    state: &HookState,
    headers: &HeaderMap,
    body: &Bytes,
) -> (Outcome, &'static str) {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let secrets = state.hooks.secrets();
    let verified = match provider {
        Provider::GitHub => secrets.github.as_deref().is_some_and(|key| {
            header("x-hub-signature-256")
                .and_then(|h| h.strip_prefix("sha256="))
                .is_some_and(|sig| hmac_matches(key, body, sig))
        }),
        Provider::Gitea => secrets.gitea.as_deref().is_some_and(|key| {
            header("x-gitea-signature")
                .or_else(|| header("x-forgejo-signature"))
                .is_some_and(|sig| hmac_matches(key, body, sig))
        }),
        Provider::GitLab => secrets.gitlab.as_deref().is_some_and(|key| {
            header("x-gitlab-token").is_some_and(|t| bool::from(t.as_bytes().ct_eq(key)))
        }),
    };
    if !verified {
        return (Outcome::Unauthorized, "missing or wrong signature\n");
    }
    let delivery = match provider {
        Provider::GitHub => header("x-github-delivery"),
        Provider::Gitea => header("x-gitea-delivery").or_else(|| header("x-forgejo-delivery")),
        Provider::GitLab => {
            header("x-gitlab-event-uuid").or_else(|| header("x-gitlab-webhook-uuid"))
        }
    };
    if let Some(id) = delivery {
        let mut seen = state.seen.lock().expect("delivery cache lock");
        if seen
            .put(format!("{}:{id}", provider.as_str()), ())
            .is_some()
        {
            return (Outcome::Replayed, "delivery already received\n");
        }
    }
    if provider == Provider::GitHub && header("x-github-event") == Some("ping") {
        return (Outcome::Ping, "pong\n");
    }
    let Some(push) = parse_push(body) else {
        return (Outcome::BadRequest, "not a push payload\n");
    };
    if push.branch.is_none() {
        return (Outcome::Ignored, "not a branch; ignored\n");
    }
    if !state.hooks.push(&push) {
        return (
            Outcome::UnknownRepository,
            "repository or branch not watched\n",
        );
    }
    (Outcome::Accepted, "indexing\n")
}

/// Whether `sig_hex` is the HMAC-SHA256 of `body` under `key`, compared in constant
/// time. A truncated, non-hex or SHA-1 signature is simply wrong.
pub fn hmac_matches(key: &[u8], body: &[u8], sig_hex: &str) -> bool {
    let Ok(sig) = hex::decode(sig_hex.trim()) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(body);
    mac.verify_slice(&sig).is_ok()
}

/// The hex HMAC-SHA256 signature of `body` (what senders put in the headers).
pub fn sign(key: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// Branch, commit and repository URLs of a GitHub, GitLab or Gitea push payload.
pub fn parse_push(body: &[u8]) -> Option<Push> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    // a branch name as git allows it: not empty, no `..`, no leading `-` (found by the
    // webhook_payload fuzz target: `refs/heads/` alone named an empty branch)
    let branch = v["ref"]
        .as_str()
        .and_then(|r| r.strip_prefix("refs/heads/"))
        .filter(|b| !b.is_empty() && !b.starts_with('-') && !b.contains(".."))
        .map(str::to_owned);
    let after = v["after"]
        .as_str()
        .filter(|s| tributary_events::v2::is_commit_sha(s))
        .map(str::to_owned);
    let mut urls = Vec::new();
    for obj in ["repository", "project"] {
        for field in [
            "clone_url",
            "git_url",
            "ssh_url",
            "html_url",
            "url",
            "git_http_url",
            "git_ssh_url",
            "web_url",
        ] {
            if let Some(u) = v[obj][field].as_str() {
                urls.push(u.to_owned());
            }
        }
    }
    if urls.is_empty() {
        return None;
    }
    Some(Push {
        urls,
        branch,
        after,
    })
}
