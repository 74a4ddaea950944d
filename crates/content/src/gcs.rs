//! Google Cloud Storage, natively, on the `object_store` crate: Application Default
//! Credentials (a service-account key file, `gcloud auth application-default login`, or
//! the metadata server — GKE Workload Identity, GCE), and V4 signed URLs for the claim
//! check (signed with the service account's key when there is one, else through the IAM
//! `signBlob` API as the workload's identity).
//!
//! Why native and not GCS's S3-compatible endpoint with HMAC keys: HMAC keys are long-lived
//! secrets to mint, store and rotate by hand, and do not work with Workload Identity,
//! which is how GKE users give pods access without any key at all. Why `object_store`:
//! it is the well-kept client that does GCS's OAuth flows, ADC discovery and URL signing
//! (the pieces that would otherwise be written here), behind one API with S3 and Azure.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use object_store::gcp::{
    GcpSigningCredential, GoogleCloudStorage, GoogleCloudStorageBuilder, ServiceAccountKey,
};
use object_store::path::Path;
use object_store::signer::Signer as _;
use object_store::{
    Attribute, Attributes, ClientOptions, ObjectStore as _, ObjectStoreExt as _, PutMode,
    PutOptions, PutPayload, RetryConfig, StaticCredentialProvider,
};
use time::OffsetDateTime;
use tributary_events::Sha256Hex;
use tributary_events::v2::CredentialRef;

use crate::error::ContentError;
use crate::object::{PresignedUrl, PutOutcome};

/// V4 signed URLs live at most 7 days.
pub const MAX_SIGNED_URL_EXPIRY: Duration = Duration::from_secs(7 * 24 * 3600);

/// The public GCS endpoint.
pub const DEFAULT_ENDPOINT: &str = "https://storage.googleapis.com";

/// Connection settings for a GCS bucket.
#[derive(Clone)]
pub struct GcsConfig {
    pub bucket: String,
    /// Another endpoint (a private endpoint, an emulator); `None` for GCS itself.
    pub endpoint: Option<String>,
    /// A service-account key file (JSON) by reference; `None` uses Application Default
    /// Credentials (the well-known gcloud file, then the metadata server).
    pub service_account: Option<CredentialRef>,
    /// Whole-operation timeout per attempt.
    pub operation_timeout_secs: u64,
    /// Attempts per operation, the first included.
    pub max_attempts: u32,
}

impl fmt::Debug for GcsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GcsConfig")
            .field("bucket", &self.bucket)
            .field("endpoint", &self.endpoint)
            .field(
                "service_account",
                &self.service_account.clone().map(String::from),
            )
            .finish_non_exhaustive()
    }
}

/// The fields of a service-account key file this module reads itself (the rest is the
/// `object_store` crate's).
#[derive(serde::Deserialize)]
struct KeyFile {
    client_email: Option<String>,
    private_key: Option<String>,
    gcs_base_url: Option<String>,
}

/// A GCS bucket.
#[derive(Clone)]
pub struct GcsStore {
    store: Arc<GoogleCloudStorage>,
    bucket: String,
    endpoint: String,
}

impl fmt::Debug for GcsStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GcsStore")
            .field("bucket", &self.bucket)
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

/// Maps an `object_store` error to ours: missing is `NotFound`, refusals are `Refused`,
/// anything else (no answer, 5xx after retries) is `Unavailable`.
fn classify(op: &'static str, key: &str, e: object_store::Error) -> ContentError {
    match e {
        object_store::Error::NotFound { .. } => ContentError::NotFound {
            key: key.to_owned(),
        },
        object_store::Error::PermissionDenied { .. } => ContentError::Refused {
            op,
            status: 403,
            code: "AccessDenied".into(),
        },
        object_store::Error::Unauthenticated { .. } => ContentError::Refused {
            op,
            status: 401,
            code: "Unauthenticated".into(),
        },
        other => ContentError::Unavailable {
            op,
            source: Box::new(other),
        },
    }
}

impl GcsStore {
    pub async fn connect(cfg: &GcsConfig) -> Result<Self, ContentError> {
        if cfg.max_attempts == 0 || cfg.operation_timeout_secs == 0 {
            return Err(ContentError::Config(
                "max_attempts and operation_timeout_secs must be > 0".into(),
            ));
        }
        let timeout = Duration::from_secs(cfg.operation_timeout_secs);
        let retry = RetryConfig {
            max_retries: cfg.max_attempts.saturating_sub(1) as usize,
            retry_timeout: timeout.saturating_mul(cfg.max_attempts),
            backoff: object_store::BackoffConfig {
                init_backoff: Duration::from_millis(300),
                max_backoff: Duration::from_secs(60),
                base: 2.0,
            },
        };
        let mut builder = GoogleCloudStorageBuilder::new()
            .with_bucket_name(&cfg.bucket)
            .with_retry(retry);
        let mut endpoint = cfg.endpoint.clone();
        if let Some(reference) = &cfg.service_account {
            let json = crate::git::resolve_secret(reference)?;
            let key: KeyFile = serde_json::from_str(&json).map_err(|e| {
                ContentError::Config(format!(
                    "{} is not a service-account key file: {e}",
                    String::from(reference.clone())
                ))
            })?;
            // sign URLs with the key itself (also where the file turns OAuth off, as
            // emulators' files do, and the crate would otherwise ask the IAM API)
            if let (Some(email), Some(pem)) = (key.client_email, key.private_key) {
                let private_key = ServiceAccountKey::from_pem(pem.as_bytes()).map_err(|e| {
                    ContentError::Config(format!(
                        "{}: the private key does not parse: {e}",
                        String::from(reference.clone())
                    ))
                })?;
                builder = builder.with_signing_credentials(Arc::new(
                    StaticCredentialProvider::new(GcpSigningCredential {
                        email,
                        private_key: Some(private_key),
                    }),
                ));
            }
            endpoint = endpoint.or(key.gcs_base_url);
            builder = builder.with_service_account_key(json);
        }
        if let Some(ep) = &cfg.endpoint {
            builder = builder.with_base_url(ep);
        }
        let options = ClientOptions::new()
            .with_timeout(timeout)
            .with_connect_timeout(Duration::from_secs(5))
            // plain http only where an endpoint says so (an emulator on loopback)
            .with_allow_http(
                endpoint
                    .as_deref()
                    .is_some_and(|e| e.starts_with("http://")),
            );
        let store = builder
            .with_client_options(options)
            .build()
            .map_err(|e| ContentError::Config(format!("gcs: {e}")))?;
        Ok(Self {
            store: Arc::new(store),
            bucket: cfg.bucket.clone(),
            endpoint: endpoint.unwrap_or_else(|| DEFAULT_ENDPOINT.to_owned()),
        })
    }

    /// The endpoint content is fetched from.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    fn path(key: &str) -> Result<Path, ContentError> {
        Path::parse(key).map_err(|e| ContentError::Config(format!("object key {key:?}: {e}")))
    }

    pub(crate) async fn preflight(&self) -> Result<(), ContentError> {
        use futures::StreamExt as _;
        let prefix = Self::path("tributary-preflight")?;
        match self.store.list(Some(&prefix)).next().await {
            None | Some(Ok(_)) => Ok(()),
            Some(Err(e)) => Err(match classify("list_objects", &self.bucket, e) {
                // a bucket that is not there
                ContentError::NotFound { .. } => ContentError::Refused {
                    op: "list_objects",
                    status: 404,
                    code: "NoSuchBucket".into(),
                },
                other => other,
            }),
        }
    }

    /// Feeds `each` every object under `prefix`; false when there were more than
    /// `max_keys` (and the listing stopped).
    pub(crate) async fn list_each(
        &self,
        prefix: &str,
        max_keys: usize,
        each: &mut (dyn FnMut(&str, u64) + Send),
    ) -> Result<bool, ContentError> {
        use futures::StreamExt as _;
        // object_store lists whole path segments: the prefix is a folder ("" or "a/b/")
        let folder = prefix.trim_end_matches('/');
        let folder = if folder.is_empty() {
            None
        } else {
            Some(Self::path(folder)?)
        };
        let mut seen = 0usize;
        let mut objects = self.store.list(folder.as_ref());
        while let Some(meta) = objects.next().await {
            let meta = meta.map_err(|e| classify("list_objects", prefix, e))?;
            each(meta.location.as_ref(), meta.size);
            seen += 1;
            if seen > max_keys {
                return Ok(false);
            }
        }
        Ok(true)
    }

    pub(crate) async fn put_if_absent(
        &self,
        key: &str,
        bytes: Bytes,
        checksum: &Sha256Hex,
    ) -> Result<PutOutcome, ContentError> {
        let path = Self::path(key)?;
        let mut attributes = Attributes::new();
        attributes.insert(Attribute::ContentType, "application/octet-stream".into());
        attributes.insert(
            Attribute::Metadata("sha256".into()),
            checksum.to_string().into(),
        );
        let opts = PutOptions {
            // one request: created, or already there (ifGenerationMatch=0)
            mode: PutMode::Create,
            attributes,
            ..Default::default()
        };
        match self
            .store
            .put_opts(&path, PutPayload::from(bytes), opts)
            .await
        {
            Ok(_) => Ok(PutOutcome::Uploaded),
            Err(
                object_store::Error::AlreadyExists { .. }
                | object_store::Error::Precondition { .. },
            ) => Ok(PutOutcome::AlreadyPresent),
            Err(e) => Err(classify("put_object", key, e)),
        }
    }

    pub(crate) async fn put(
        &self,
        key: &str,
        bytes: Bytes,
        content_type: &str,
    ) -> Result<(), ContentError> {
        let path = Self::path(key)?;
        let mut attributes = Attributes::new();
        attributes.insert(Attribute::ContentType, content_type.to_owned().into());
        let opts = PutOptions {
            attributes,
            ..Default::default()
        };
        self.store
            .put_opts(&path, PutPayload::from(bytes), opts)
            .await
            .map(|_| ())
            .map_err(|e| classify("put_object", key, e))
    }

    pub(crate) async fn delete(&self, key: &str) -> Result<(), ContentError> {
        match self.store.delete(&Self::path(key)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(classify("delete_object", key, e)),
        }
    }

    pub(crate) async fn get(&self, key: &str) -> Result<Bytes, ContentError> {
        let got = self
            .store
            .get(&Self::path(key)?)
            .await
            .map_err(|e| classify("get_object", key, e))?;
        got.bytes()
            .await
            .map_err(|e| classify("get_object", key, e))
    }

    pub(crate) async fn presign_get(
        &self,
        key: &str,
        expiry: Duration,
    ) -> Result<PresignedUrl, ContentError> {
        let expiry = expiry.min(MAX_SIGNED_URL_EXPIRY);
        let url = self
            .store
            .signed_url(http::Method::GET, &Self::path(key)?, expiry)
            .await
            .map_err(|e| classify("presign", key, e))?;
        Ok(PresignedUrl {
            url: url.to_string(),
            expires_at: OffsetDateTime::now_utc() + expiry,
        })
    }
}
