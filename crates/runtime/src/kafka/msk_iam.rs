//! Amazon MSK IAM authentication: SASL/OAUTHBEARER whose token is a SigV4-presigned
//! `kafka-cluster:Connect` URL, base64url-encoded, signed with credentials from the AWS
//! default chain (environment, profile, web identity on EKS, container and instance
//! roles).
//!
//! Written on `aws-sigv4` rather than with the `aws-msk-iam-sasl-signer` crate: that
//! crate's API is async only, while librdkafka asks for a token from a synchronous
//! callback on a polling thread (often a tokio worker, where blocking on a future is not
//! allowed); it also pulls in chrono and a second `thiserror`. Here credentials are
//! resolved asynchronously ahead of time (at start-up, then before they expire) and the
//! callback only signs, which is pure computation.

use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sigv4::http_request::{
    SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// How long a signed token is valid (what MSK's own signers use).
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(900);
/// Credentials are refreshed this long before they expire.
const REFRESH_AHEAD: Duration = Duration::from_secs(300);
/// Credentials without an expiry (static keys, a profile) are re-read this often.
const REREAD_EVERY: Duration = Duration::from_secs(900);

/// Why no token could be made.
#[derive(Debug, thiserror::Error)]
pub enum MskIamError {
    #[error("no AWS credentials for MSK IAM: {0}")]
    Credentials(String),
    #[error("AWS credentials for MSK IAM are not loaded yet")]
    NotLoaded,
    #[error("cannot sign the MSK IAM token: {0}")]
    Signing(String),
}

/// A signed token and when it stops being valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub value: String,
    /// Milliseconds since the Unix epoch.
    pub expires_at_ms: i64,
}

/// The token source of one process: the region, the credential provider and the
/// credentials last resolved.
pub struct MskIam {
    region: String,
    provider: tokio::sync::OnceCell<SharedCredentialsProvider>,
    credentials: Mutex<Option<Credentials>>,
    refresher: Mutex<bool>,
}

impl std::fmt::Debug for MskIam {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MskIam")
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

impl MskIam {
    pub fn new(region: String) -> Self {
        Self {
            region,
            provider: tokio::sync::OnceCell::new(),
            credentials: Mutex::new(None),
            refresher: Mutex::new(false),
        }
    }

    /// A source with a given credential provider instead of the default chain.
    pub fn with_provider(region: String, provider: SharedCredentialsProvider) -> Self {
        let s = Self::new(region);
        let _ = s.provider.set(provider);
        s
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    async fn provider(&self) -> &SharedCredentialsProvider {
        self.provider
            .get_or_init(|| async {
                let cfg = aws_config::defaults(aws_config::BehaviorVersion::latest())
                    .region(aws_config::Region::new(self.region.clone()))
                    .load()
                    .await;
                cfg.credentials_provider()
                    .unwrap_or_else(|| SharedCredentialsProvider::new(NoCredentials))
            })
            .await
    }

    /// Resolves credentials now (fails when the chain has none) and keeps them fresh
    /// from then on: a task re-resolves them ahead of their expiry for as long as this
    /// source lives. Call once at start-up, before any client is created.
    pub async fn start(self: &Arc<Self>) -> Result<(), MskIamError> {
        self.refresh().await?;
        let mut started = self.refresher.lock().unwrap_or_else(|e| e.into_inner());
        if !*started {
            *started = true;
            tokio::spawn(keep_fresh(Arc::downgrade(self)));
        }
        Ok(())
    }

    async fn refresh(&self) -> Result<Duration, MskIamError> {
        let creds = self
            .provider()
            .await
            .provide_credentials()
            .await
            .map_err(|e| MskIamError::Credentials(crate::chain(&e)))?;
        let next = next_refresh(creds.expiry(), SystemTime::now());
        *self.credentials.lock().unwrap_or_else(|e| e.into_inner()) = Some(creds);
        Ok(next)
    }

    /// A token signed now with the credentials last resolved.
    pub fn token(&self) -> Result<Token, MskIamError> {
        let creds = self
            .credentials
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or(MskIamError::NotLoaded)?;
        sign_token(&creds, &self.region, SystemTime::now())
    }
}

/// The provider used when the chain found nothing to build one from.
#[derive(Debug)]
struct NoCredentials;

impl ProvideCredentials for NoCredentials {
    fn provide_credentials<'a>(
        &'a self,
    ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        aws_credential_types::provider::future::ProvideCredentials::ready(Err(
            aws_credential_types::provider::error::CredentialsError::not_loaded(
                "the AWS default credential chain found no credentials",
            ),
        ))
    }
}

async fn keep_fresh(source: Weak<MskIam>) {
    let mut wait = Duration::ZERO;
    loop {
        tokio::time::sleep(wait).await;
        let Some(s) = source.upgrade() else { return };
        wait = match s.refresh().await {
            Ok(next) => next,
            Err(e) => {
                tracing::warn!(error = %e, "could not refresh AWS credentials for MSK IAM; retrying in 10 s");
                Duration::from_secs(10)
            }
        };
    }
}

/// When to resolve credentials again: ahead of their expiry, at least 10 s from now.
pub fn next_refresh(expiry: Option<SystemTime>, now: SystemTime) -> Duration {
    match expiry {
        None => REREAD_EVERY,
        Some(at) => at
            .duration_since(now)
            .unwrap_or_default()
            .saturating_sub(REFRESH_AHEAD)
            .max(Duration::from_secs(10)),
    }
}

/// The MSK IAM token for `region` at `now`: the presigned
/// `https://kafka.<region>.amazonaws.com/?Action=kafka-cluster%3AConnect` URL (with a
/// `User-Agent` parameter, as AWS's signers add), base64url without padding. It expires
/// after [`TOKEN_LIFETIME`], or with the credentials if they expire sooner.
pub fn sign_token(
    creds: &Credentials,
    region: &str,
    now: SystemTime,
) -> Result<Token, MskIamError> {
    let endpoint = format!("https://kafka.{region}.amazonaws.com/?Action=kafka-cluster%3AConnect");
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(TOKEN_LIFETIME);
    let identity = creds.clone().into();
    let params: aws_sigv4::http_request::SigningParams<'_> = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("kafka-cluster")
        .time(now)
        .settings(settings)
        .build()
        .map_err(|e| MskIamError::Signing(e.to_string()))?
        .into();
    let request = SignableRequest::new(
        "GET",
        &endpoint,
        std::iter::empty(),
        SignableBody::Bytes(&[]),
    )
    .map_err(|e| MskIamError::Signing(e.to_string()))?;
    let (instructions, _signature) = sign(request, &params)
        .map_err(|e| MskIamError::Signing(e.to_string()))?
        .into_parts();
    let mut url = url::Url::parse(&endpoint).map_err(|e| MskIamError::Signing(e.to_string()))?;
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in instructions.params() {
            q.append_pair(k, v);
        }
        q.append_pair(
            "User-Agent",
            concat!("tributary/", env!("CARGO_PKG_VERSION")),
        );
    }
    let mut expires = now + TOKEN_LIFETIME;
    if let Some(at) = creds.expiry() {
        expires = expires.min(at);
    }
    let expires_at_ms = expires
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    Ok(Token {
        value: URL_SAFE_NO_PAD.encode(url.as_str()),
        expires_at_ms,
    })
}
