//! Flags both binaries share, with their environment fallbacks: log format, object
//! store, sizes.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use tributary_content::ContentError;
use tributary_content::s3::{S3Config, StaticCredentials};
use tributary_content::store::StoreConfig;

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Human,
    Json,
}

/// Options every command of both binaries takes (flattened into each `Cli`).
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Log format: human-readable or JSON lines.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "human",
        env = "LOG_FORMAT"
    )]
    pub log_format: LogFormat,
}

/// Parses `1234`, `100KiB`, `64MiB`, `1GiB` (also `KB`/`MB`/`GB` as powers of ten).
/// Hand-written: ten lines, where a crate would add a dependency for one flag type.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().map_err(|_| format!("{s:?} is not a size"))?;
    let mult: u64 = match unit.trim() {
        "" | "B" => 1,
        "KiB" | "K" => 1 << 10,
        "MiB" | "M" => 1 << 20,
        "GiB" | "G" => 1 << 30,
        "KB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        u => return Err(format!("unknown size unit {u:?}")),
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("{s:?} is too large"))
}

/// Object storage provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProviderArg {
    S3,
    Minio,
    Local,
    None,
}

/// The object-store flags, flattened into each binary's arguments.
#[derive(Debug, Clone, Args)]
pub struct StorageArgs {
    /// Object storage provider.
    #[arg(
        long,
        env = "CONTENT_STORAGE_PROVIDER",
        value_enum,
        default_value = "local"
    )]
    pub storage_provider: ProviderArg,
    /// Folder of the `local` provider.
    #[arg(
        long,
        env = "CONTENT_STORAGE_DIR",
        default_value = "/tmp/tributary-objects"
    )]
    pub storage_dir: PathBuf,
    #[arg(long, env = "CONTENT_STORAGE_BUCKET", default_value = "tributary")]
    pub storage_bucket: String,
    #[arg(long, env = "CONTENT_STORAGE_REGION", default_value = "us-east-1")]
    pub storage_region: String,
    /// Custom S3 endpoint (MinIO, Garage, ...); implies path-style addressing.
    #[arg(long, env = "CONTENT_STORAGE_ENDPOINT")]
    pub storage_endpoint: Option<String>,
    /// Static S3 access key; without it the AWS default credential chain is used.
    #[arg(long, env = "AWS_ACCESS_KEY_ID", hide_env_values = true)]
    pub storage_access_key_id: Option<String>,
    #[arg(long, env = "AWS_SECRET_ACCESS_KEY", hide_env_values = true)]
    pub storage_secret_access_key: Option<String>,
}

impl StorageArgs {
    /// The store these flags name. `operation_timeout_secs` bounds each S3 request;
    /// `sdk_attempts` is how often the SDK itself tries one (1 where the caller retries
    /// on its own, so the two layers do not multiply); `sse` sets server-side encryption
    /// for uploads.
    pub fn store_config(
        &self,
        operation_timeout_secs: u64,
        sdk_attempts: u32,
        sse: Option<String>,
    ) -> Result<StoreConfig, ContentError> {
        let credentials = match (&self.storage_access_key_id, &self.storage_secret_access_key) {
            (Some(a), Some(s)) => Some(StaticCredentials {
                access_key_id: a.clone(),
                secret_access_key: s.clone(),
            }),
            _ => None,
        };
        let s3 = |path_style| {
            StoreConfig::S3(S3Config {
                bucket: self.storage_bucket.clone(),
                region: self.storage_region.clone(),
                endpoint: self.storage_endpoint.clone(),
                force_path_style: path_style,
                credentials,
                server_side_encryption: sse,
                operation_timeout_secs,
                max_attempts: sdk_attempts,
            })
        };
        Ok(match self.storage_provider {
            ProviderArg::None => StoreConfig::None,
            ProviderArg::Local => StoreConfig::Local {
                root: self.storage_dir.clone(),
            },
            // Custom endpoints (MinIO and most S3-compatible servers) want path-style.
            ProviderArg::S3 => s3(self.storage_endpoint.is_some()),
            ProviderArg::Minio if self.storage_endpoint.is_none() => {
                return Err(ContentError::Config(
                    "--storage-provider minio needs --storage-endpoint".into(),
                ));
            }
            ProviderArg::Minio => s3(true),
        })
    }
}
