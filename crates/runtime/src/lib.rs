//! tributary-runtime: the binary edge both daemons share, so it is written once —
//! logging set-up, the `/metrics` + `/healthz` server, and the object-store flags with
//! their environment fallbacks. Libraries below it never depend on it.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use metrics_exporter_prometheus::PrometheusHandle;
use tokio_util::sync::CancellationToken;
use tributary_content::s3::{S3Config, StaticCredentials};
use tributary_content::store::StoreConfig;

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Human,
    Json,
}

/// Installs the global tracing subscriber: level from `RUST_LOG` (default `info`),
/// human or JSON lines on stderr.
pub fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Human => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// Runs `fut` to completion on a multi-threaded runtime. Blocking tasks still running
/// afterwards (a git fetch, a summary wait) get two seconds, so they cannot hold the
/// process's exit hostage.
pub fn block_on<F: std::future::Future>(fut: F) -> std::io::Result<F::Output> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let out = rt.block_on(fut);
    rt.shutdown_timeout(std::time::Duration::from_secs(2));
    Ok(out)
}

/// Serves `/metrics` (Prometheus text), `/healthz`, and the routes of `extra` until
/// `cancel` fires. Returns the server task and the address it listens on.
pub async fn serve_metrics(
    addr: SocketAddr,
    handle: PrometheusHandle,
    extra: axum::Router,
    cancel: CancellationToken,
) -> std::io::Result<(tokio::task::JoinHandle<()>, SocketAddr)> {
    use axum::routing::get;
    let app = axum::Router::new()
        .route("/metrics", get(move || std::future::ready(handle.render())))
        .route("/healthz", get(|| std::future::ready("ok")))
        .merge(extra);
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let task = tokio::spawn(async move {
        let shutdown = async move { cancel.cancelled().await };
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::warn!(error = %e, "metrics server stopped");
        }
    });
    Ok((task, local))
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
    /// `sse` sets server-side encryption for uploads.
    pub fn store_config(
        &self,
        operation_timeout_secs: u64,
        sse: Option<String>,
    ) -> Result<StoreConfig, String> {
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
                max_attempts: 4,
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
                return Err("--storage-provider minio needs --storage-endpoint".into());
            }
            ProviderArg::Minio => s3(true),
        })
    }
}
