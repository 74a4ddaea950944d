//! `/metrics`, `/healthz` (the process is alive) and `/readyz` (Kafka answers, the object
//! store answers, the cache folders are writable and have room).

use std::net::SocketAddr;
use std::time::Duration;

use metrics_exporter_prometheus::PrometheusHandle;
use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer as _};
use tokio_util::sync::CancellationToken;

use crate::error::ConsumerError;

async fn kafka_ready(brokers: String) -> bool {
    tokio::task::spawn_blocking(move || {
        let c: Result<BaseConsumer, _> = ClientConfig::new()
            .set("bootstrap.servers", &brokers)
            .create();
        c.is_ok_and(|c| c.fetch_metadata(None, Duration::from_secs(2)).is_ok())
    })
    .await
    .unwrap_or(false)
}

/// Below this much free space a cache folder makes the daemon not ready: writes would
/// start failing (the caches degrade gracefully, but an operator should know).
pub const MIN_FREE_BYTES: u64 = 256 << 20;

/// What `/readyz` checks.
#[derive(Debug, Clone)]
pub struct Readiness {
    pub brokers: String,
    pub store: Option<tributary_content::ObjectStore>,
    pub dirs: Vec<std::path::PathBuf>,
}

impl Readiness {
    pub async fn from_config(cfg: &crate::Config) -> Result<Self, ConsumerError> {
        let store = tributary_content::ObjectStore::open(&cfg.store)
            .await
            .map_err(ConsumerError::Content)?;
        Ok(Self {
            brokers: cfg.kafka.brokers.clone(),
            store,
            dirs: vec![cfg.cache.disk_dir.clone(), cfg.git.cache_dir.clone()],
        })
    }

    /// `Ok` when ready, else what is not.
    pub async fn check(&self) -> Result<(), String> {
        if !kafka_ready(self.brokers.clone()).await {
            return Err("kafka unreachable".into());
        }
        if let Some(store) = &self.store {
            match tokio::time::timeout(Duration::from_secs(5), store.preflight()).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Err(format!("object store: {}", crate::error::chain(&e))),
                Err(_) => return Err("object store: no answer within 5 s".into()),
            }
        }
        for dir in &self.dirs {
            let probe = dir.join(format!(".readyz-{}", std::process::id()));
            let written = tokio::fs::write(&probe, b"").await;
            let _ = tokio::fs::remove_file(&probe).await;
            if written.is_err() {
                return Err(format!("cache folder {} is not writable", dir.display()));
            }
            let d = dir.clone();
            let free = tokio::task::spawn_blocking(move || fs4::available_space(d)).await;
            match free {
                Ok(Ok(bytes)) if bytes < MIN_FREE_BYTES => {
                    return Err(format!(
                        "cache folder {} has only {bytes} bytes free",
                        dir.display()
                    ));
                }
                Ok(Ok(_)) => {}
                _ => return Err(format!("free space of {} unknown", dir.display())),
            }
        }
        Ok(())
    }
}

/// Serves the endpoints until `cancel` fires; returns the task and the bound address.
pub async fn serve(
    addr: SocketAddr,
    handle: PrometheusHandle,
    readiness: Readiness,
    cancel: CancellationToken,
) -> Result<(tokio::task::JoinHandle<()>, SocketAddr), ConsumerError> {
    use axum::http::StatusCode;
    use axum::routing::get;
    let readyz = axum::Router::new().route(
        "/readyz",
        get(move || {
            let readiness = readiness.clone();
            async move {
                match readiness.check().await {
                    Ok(()) => (StatusCode::OK, "ready".to_owned()),
                    Err(why) => (StatusCode::SERVICE_UNAVAILABLE, why),
                }
            }
        }),
    );
    tributary_runtime::serve_metrics(addr, handle, readyz, cancel)
        .await
        .map_err(|source| ConsumerError::Metrics {
            addr: addr.to_string(),
            source,
        })
}
