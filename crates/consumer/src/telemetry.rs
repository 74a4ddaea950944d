//! `/metrics`, `/healthz` (the process is alive) and `/readyz` (Kafka answers, the object
//! store answers, the cache folders are writable and have room).

use std::time::Duration;

use crate::error::ConsumerError;

/// Below this much free space a cache folder makes the daemon not ready: writes would
/// start failing (the caches degrade gracefully, but an operator should know).
pub const MIN_FREE_BYTES: u64 = 256 << 20;

/// What `/readyz` checks.
#[derive(Debug, Clone)]
pub struct Readiness {
    pub connection: tributary_runtime::kafka::Connection,
    pub store: Option<tributary_content::ObjectStore>,
    pub dirs: Vec<std::path::PathBuf>,
}

impl Readiness {
    pub async fn from_config(cfg: &crate::Config) -> Result<Self, ConsumerError> {
        let store = tributary_content::ObjectStore::open(&cfg.store)
            .await
            .map_err(ConsumerError::Content)?;
        Ok(Self {
            connection: cfg.kafka.connection.clone(),
            store,
            dirs: vec![cfg.cache.disk_dir.clone(), cfg.git.cache_dir.clone()],
        })
    }

    /// `Ok` when ready, else what is not.
    pub async fn check(&self) -> Result<(), String> {
        if let Err(e) =
            tributary_runtime::kafka::probe(&self.connection, &[], Duration::from_secs(2)).await
        {
            return Err(format!("kafka: {e}"));
        }
        if let Some(store) = &self.store {
            match tokio::time::timeout(Duration::from_secs(5), store.preflight()).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    return Err(format!("object store: {}", tributary_runtime::chain(&e)));
                }
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

impl Readiness {
    /// The `/readyz` route: 200 `ready`, or 503 with what is not.
    pub fn router(self) -> axum::Router {
        use axum::http::StatusCode;
        use axum::routing::get;
        axum::Router::new().route(
            "/readyz",
            get(move || {
                let readiness = self.clone();
                async move {
                    match readiness.check().await {
                        Ok(()) => (StatusCode::OK, "ready".to_owned()),
                        Err(why) => (StatusCode::SERVICE_UNAVAILABLE, why),
                    }
                }
            }),
        )
    }
}
