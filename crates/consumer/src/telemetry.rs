//! `/metrics`, `/healthz` (the process is alive) and `/readyz` (Kafka answers, the object
//! store answers, the cache folders are writable and have room).

use crate::error::ConsumerError;

/// Below this much free space a cache folder makes the daemon not ready: writes would
/// start failing (the caches degrade gracefully, but an operator should know).
pub const MIN_FREE_BYTES: u64 = 256 << 20;

/// What `/readyz` checks: the same as `check` (crate::check), without writing.
#[derive(Debug, Clone)]
pub struct Readiness {
    config: std::sync::Arc<crate::Config>,
    store: std::sync::Arc<Result<Option<tributary_content::ObjectStore>, String>>,
}

impl Readiness {
    pub async fn from_config(cfg: &crate::Config) -> Result<Self, ConsumerError> {
        let store = tributary_content::ObjectStore::open(&cfg.store)
            .await
            .map_err(ConsumerError::Content)?;
        Ok(Self {
            config: std::sync::Arc::new(cfg.clone()),
            store: std::sync::Arc::new(Ok(store)),
        })
    }

    /// `Ok` when ready, else the first check that failed.
    pub async fn check(&self) -> Result<(), String> {
        let report =
            crate::check::run(&self.config, &self.store, crate::check::Depth::Readiness).await;
        match report.first_failure() {
            None => Ok(()),
            Some(why) => Err(why),
        }
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
