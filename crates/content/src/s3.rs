//! S3-compatible object storage client construction (AWS S3, MinIO, Garage, ...).

use std::fmt;
use std::time::Duration;

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ServerSideEncryption;
use bytes::Bytes;
use time::OffsetDateTime;
use tributary_events::Sha256Hex;

use crate::error::ContentError;
use crate::object::{PresignedUrl, PutOutcome};

/// SigV4 presigned URLs live at most 7 days.
pub const MAX_PRESIGN_EXPIRY: Duration = Duration::from_secs(7 * 24 * 3600);

/// Connection settings for an S3-compatible store.
#[derive(Clone)]
pub struct S3Config {
    pub bucket: String,
    pub region: String,
    /// Custom endpoint (`http://127.0.0.1:9000` for MinIO); `None` for AWS S3.
    pub endpoint: Option<String>,
    /// Path-style addressing (`endpoint/bucket/key`), needed by most non-AWS servers.
    pub force_path_style: bool,
    /// Static credentials; `None` uses the AWS default chain (env, profile, web
    /// identity, instance metadata).
    pub credentials: Option<StaticCredentials>,
    /// Server-side encryption for uploads (`AES256`, `aws:kms`), when set.
    pub server_side_encryption: Option<String>,
    /// Whole-operation timeout, retries included per attempt (design default 60 s).
    pub operation_timeout_secs: u64,
    /// Attempts per operation, the first included (design default: 1 + 3 retries).
    /// Backoff starts at 300 ms and doubles, with jitter, up to 60 s.
    pub max_attempts: u32,
}

/// An access key pair. `Debug` never shows the secret.
#[derive(Clone)]
pub struct StaticCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl fmt::Debug for StaticCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .finish()
    }
}

impl fmt::Debug for S3Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Config")
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("force_path_style", &self.force_path_style)
            .field("credentials", &self.credentials)
            .field("server_side_encryption", &self.server_side_encryption)
            .field("operation_timeout_secs", &self.operation_timeout_secs)
            .field("max_attempts", &self.max_attempts)
            .finish()
    }
}

impl S3Config {
    pub fn validate(&self) -> Result<(), ContentError> {
        if self.bucket.is_empty() {
            return Err(ContentError::Config("bucket is empty".into()));
        }
        if self.region.is_empty() {
            return Err(ContentError::Config("region is empty".into()));
        }
        if let Some(ep) = &self.endpoint
            && !(ep.starts_with("http://") || ep.starts_with("https://"))
        {
            return Err(ContentError::Config(format!(
                "endpoint {ep:?} is not an http(s) URL"
            )));
        }
        if let Some(sse) = &self.server_side_encryption
            && !matches!(sse.as_str(), "AES256" | "aws:kms" | "aws:kms:dsse")
        {
            return Err(ContentError::Config(format!(
                "unknown server-side encryption {sse:?}"
            )));
        }
        if self.max_attempts == 0 || self.operation_timeout_secs == 0 {
            return Err(ContentError::Config(
                "max_attempts and operation_timeout_secs must be > 0".into(),
            ));
        }
        Ok(())
    }

    /// Builds a client for this store.
    pub async fn client(&self) -> Result<aws_sdk_s3::Client, ContentError> {
        self.validate()?;
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(self.region.clone()));
        if let Some(c) = &self.credentials {
            loader = loader.credentials_provider(Credentials::new(
                c.access_key_id.clone(),
                c.secret_access_key.clone(),
                None,
                None,
                "tributary-static",
            ));
        }
        let shared = loader.load().await;
        let retry = RetryConfig::standard()
            .with_max_attempts(self.max_attempts)
            .with_initial_backoff(Duration::from_millis(300))
            .with_max_backoff(Duration::from_secs(60));
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(5))
            .operation_attempt_timeout(Duration::from_secs(self.operation_timeout_secs))
            .build();
        let mut builder = aws_sdk_s3::config::Builder::from(&shared)
            .force_path_style(self.force_path_style)
            .retry_config(retry)
            .timeout_config(timeouts);
        if let Some(ep) = &self.endpoint {
            builder = builder.endpoint_url(ep);
        }
        Ok(aws_sdk_s3::Client::from_conf(builder.build()))
    }
}

/// An S3-compatible bucket.
#[derive(Debug, Clone)]
pub struct S3Store {
    client: aws_sdk_s3::Client,
    bucket: String,
    sse: Option<ServerSideEncryption>,
    endpoint: Option<String>,
}

/// Maps an SDK error to ours: 404 is `NotFound`, other answers are `Refused`, and
/// anything that got no answer (connection, timeout) is `Unavailable`.
fn classify<E>(op: &'static str, key: &str, err: SdkError<E, HttpResponse>) -> ContentError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match err.raw_response().map(|r| r.status().as_u16()) {
        Some(404) if op != "head_bucket" => ContentError::NotFound {
            key: key.to_owned(),
        },
        // HEAD answers carry no body, hence no error code: name the common cases.
        Some(404) => ContentError::Refused {
            op,
            status: 404,
            code: "NoSuchBucket".into(),
        },
        Some(status) => {
            let fallback = if status == 403 {
                "AccessDenied"
            } else {
                "unknown"
            };
            ContentError::Refused {
                op,
                status,
                code: err.code().unwrap_or(fallback).to_owned(),
            }
        }
        None => ContentError::Unavailable {
            op,
            source: Box::new(err),
        },
    }
}

impl S3Store {
    pub async fn connect(config: &S3Config) -> Result<Self, ContentError> {
        let client = config.client().await?;
        let sse = config
            .server_side_encryption
            .as_deref()
            .map(ServerSideEncryption::from);
        Ok(Self {
            client,
            bucket: config.bucket.clone(),
            sse,
            endpoint: config.endpoint.clone(),
        })
    }

    pub fn client(&self) -> &aws_sdk_s3::Client {
        &self.client
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The configured endpoint (`None` for AWS S3).
    pub fn endpoint(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }

    pub(crate) async fn preflight(&self) -> Result<(), ContentError> {
        self.client
            .head_bucket()
            .bucket(&self.bucket)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| classify("head_bucket", &self.bucket, e))
    }

    /// Feeds `each` every object under `prefix`; false when there were more than
    /// `max_keys` (and the listing stopped).
    pub(crate) async fn list_each(
        &self,
        prefix: &str,
        max_keys: usize,
        each: &mut (dyn FnMut(&str, u64) + Send),
    ) -> Result<bool, ContentError> {
        let mut seen = 0usize;
        let mut token: Option<String> = None;
        loop {
            let page = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(prefix)
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(|e| classify("list_objects", prefix, e))?;
            for o in page.contents() {
                if let Some(key) = o.key() {
                    each(
                        key,
                        o.size().and_then(|s| u64::try_from(s).ok()).unwrap_or(0),
                    );
                    seen += 1;
                }
            }
            if seen > max_keys {
                return Ok(false);
            }
            match page.next_continuation_token() {
                Some(t) if page.is_truncated() == Some(true) => token = Some(t.to_owned()),
                _ => return Ok(true),
            }
        }
    }

    pub(crate) async fn put_if_absent(
        &self,
        key: &str,
        bytes: Bytes,
        checksum: &Sha256Hex,
    ) -> Result<PutOutcome, ContentError> {
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(_) => return Ok(PutOutcome::AlreadyPresent),
            Err(e) => match classify("head_object", key, e) {
                ContentError::NotFound { .. } => {}
                other => return Err(other),
            },
        }
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type("application/octet-stream")
            .metadata("sha256", checksum.to_string())
            .set_server_side_encryption(self.sse.clone())
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(|e| classify("put_object", key, e))?;
        Ok(PutOutcome::Uploaded)
    }

    pub(crate) async fn put(
        &self,
        key: &str,
        bytes: Bytes,
        content_type: &str,
    ) -> Result<(), ContentError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .set_server_side_encryption(self.sse.clone())
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(|e| classify("put_object", key, e))?;
        Ok(())
    }

    pub(crate) async fn delete(&self, key: &str) -> Result<(), ContentError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| classify("delete_object", key, e))
    }

    pub(crate) async fn get(&self, key: &str) -> Result<Bytes, ContentError> {
        let out = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| classify("get_object", key, e))?;
        let body = out
            .body
            .collect()
            .await
            .map_err(|e| ContentError::Unavailable {
                op: "get_object",
                source: Box::new(e),
            })?;
        Ok(body.into_bytes())
    }

    pub(crate) async fn presign_get(
        &self,
        key: &str,
        expiry: Duration,
    ) -> Result<PresignedUrl, ContentError> {
        let expiry = expiry.min(MAX_PRESIGN_EXPIRY);
        let cfg = PresigningConfig::expires_in(expiry)
            .map_err(|e| ContentError::Config(format!("presign expiry: {e}")))?;
        let req = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .presigned(cfg)
            .await
            .map_err(|e| classify("presign", key, e))?;
        Ok(PresignedUrl {
            url: req.uri().to_owned(),
            expires_at: OffsetDateTime::now_utc() + expiry,
        })
    }
}

#[cfg(test)]
mod tests;
