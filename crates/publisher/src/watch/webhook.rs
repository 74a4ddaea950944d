//! Push webhooks: GitHub (`X-Hub-Signature-256`, HMAC-SHA256 of the raw body), GitLab
//! (`X-Gitlab-Token`, the shared token) and Gitea/Forgejo (`X-Gitea-Signature`, hex
//! HMAC-SHA256). Every comparison is constant-time. Order of checks: size (413, before
//! anything is parsed), signature (401), replay (409: a delivery id seen before),
//! payload (400), repository (404); only then is anything triggered (202). A rejected
//! request indexes nothing.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

pub use super::delivery::{Outcome, Provider};
use crate::internal_events::WebhookDelivery;

/// Bodies larger than this are refused with 413 before they are read in full.
pub const MAX_BODY_BYTES: usize = 25 * 1024 * 1024;
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
}

/// The webhook routes: `POST /hooks/github`, `/hooks/gitlab`, `/hooks/gitea`.
pub fn router(hooks: Arc<dyn Hooks>) -> Router {
    let state = Arc::new(HookState {
        hooks,
        seen: Mutex::new(lru::LruCache::new(
            NonZeroUsize::new(REMEMBERED_DELIVERIES).expect("non-zero"),
        )),
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
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

type Reply = (StatusCode, &'static str);

async fn handle(
    provider: Provider,
    State(state): State<Arc<HookState>>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Reply {
    let (outcome, text) = decide(provider, &state, &headers, body);
    WebhookDelivery { provider, outcome }.emit();
    (outcome.status(), text)
}

fn decide(
    provider: Provider,
    state: &HookState,
    headers: &HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> (Outcome, &'static str) {
    let body = match body {
        Ok(b) => b,
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return (Outcome::TooLarge, "body over 25 MB\n");
        }
        Err(_) => {
            return (Outcome::BadRequest, "unreadable body\n");
        }
    };
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let secrets = state.hooks.secrets();
    let verified = match provider {
        Provider::GitHub => secrets.github.as_deref().is_some_and(|key| {
            header("x-hub-signature-256")
                .and_then(|h| h.strip_prefix("sha256="))
                .is_some_and(|sig| hmac_matches(key, &body, sig))
        }),
        Provider::Gitea => secrets.gitea.as_deref().is_some_and(|key| {
            header("x-gitea-signature")
                .or_else(|| header("x-forgejo-signature"))
                .is_some_and(|sig| hmac_matches(key, &body, sig))
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
    let Some(push) = parse_push(&body) else {
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
    let branch = v["ref"]
        .as_str()
        .and_then(|r| r.strip_prefix("refs/heads/"))
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
