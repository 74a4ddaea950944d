//! S3-compatible object storage client construction (AWS S3, MinIO, Garage, ...).

use std::fmt;

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};

use crate::error::ContentError;

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
        let mut builder =
            aws_sdk_s3::config::Builder::from(&shared).force_path_style(self.force_path_style);
        if let Some(ep) = &self.endpoint {
            builder = builder.endpoint_url(ep);
        }
        Ok(aws_sdk_s3::Client::from_conf(builder.build()))
    }
}

#[cfg(test)]
mod tests;
