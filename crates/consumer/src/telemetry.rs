//! `/metrics`, `/healthz` (the process is alive) and `/readyz` (Kafka answers, the object
//! store answers, the cache folders are writable and have room).

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::error::ConsumerError;
use crate::internal_events::{CacheVolumeMeasured, DependencyChecked};

/// Describes every metric the consumer exports and zeroes its counters; call once,
/// after the recorder is installed (`tributary_runtime::serve_metrics`).
pub fn register_metrics() {
    crate::internal_events::register();
}

/// What a readiness check was about: the `dependency` label of `tributary_dependency_up`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dependency {
    Kafka,
    ObjectStore,
    CacheDisk,
    Git,
    MountRoot,
}

impl Dependency {
    pub const ALL: [Dependency; 5] = [
        Dependency::Kafka,
        Dependency::ObjectStore,
        Dependency::CacheDisk,
        Dependency::Git,
        Dependency::MountRoot,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Dependency::Kafka => "kafka",
            Dependency::ObjectStore => "object_store",
            Dependency::CacheDisk => "cache_disk",
            Dependency::Git => "git",
            Dependency::MountRoot => "mount_root",
        }
    }

    /// The dependency a check line (`crate::check`) is about.
    pub fn of(check: &str) -> Option<Self> {
        Some(if check.starts_with("kafka") {
            Dependency::Kafka
        } else if check.starts_with("object store") {
            Dependency::ObjectStore
        } else if ["content cache", "git cache", "analysis cache"]
            .iter()
            .any(|c| check.starts_with(c))
        {
            Dependency::CacheDisk
        } else if check.starts_with("git ") {
            Dependency::Git
        } else if check.starts_with("mount root") {
            Dependency::MountRoot
        } else {
            return None;
        })
    }
}

/// A cache folder: the `cache` label of the volume gauges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheFolder {
    Content,
    Git,
    Analysis,
}

impl CacheFolder {
    pub fn as_str(self) -> &'static str {
        match self {
            CacheFolder::Content => "content",
            CacheFolder::Git => "git",
            CacheFolder::Analysis => "analysis",
        }
    }
}

/// How often the daemon checks its dependencies for the `tributary_dependency_up` and
/// cache volume gauges when nothing asks `/readyz`.
pub const DEPENDENCY_CHECK_EVERY: Duration = Duration::from_secs(30);

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

    /// `Ok` when ready, else the first check that failed. Sets the dependency and
    /// cache volume gauges on the way.
    pub async fn check(&self) -> Result<(), String> {
        let report =
            crate::check::run(&self.config, &self.store, crate::check::Depth::Readiness).await;
        for dependency in Dependency::ALL {
            let mut lines = report
                .checks
                .iter()
                .filter(|l| Dependency::of(&l.check) == Some(dependency))
                .peekable();
            if lines.peek().is_some() {
                let up = lines.all(|l| l.ok);
                DependencyChecked { dependency, up }.emit();
            }
        }
        self.measure_volumes().await;
        match report.first_failure() {
            None => Ok(()),
            Some(why) => Err(why),
        }
    }
}

impl Readiness {
    async fn measure_volumes(&self) {
        let c = &self.config;
        let mut folders = vec![
            (CacheFolder::Content, c.cache.disk_dir.clone()),
            (CacheFolder::Git, c.git.cache_dir.clone()),
        ];
        if let Some(a) = &c.analysis_cache {
            folders.push((CacheFolder::Analysis, a.dir.clone()));
        }
        for (cache, dir) in folders {
            let measured = tokio::task::spawn_blocking(move || {
                Ok::<_, std::io::Error>((fs4::available_space(&dir)?, fs4::total_space(&dir)?))
            })
            .await;
            if let Ok(Ok((free_bytes, size_bytes))) = measured {
                CacheVolumeMeasured {
                    cache,
                    free_bytes,
                    size_bytes,
                }
                .emit();
            }
        }
    }

    /// Checks every [`DEPENDENCY_CHECK_EVERY`] until `cancel` fires, so the gauges stay
    /// current when no probe asks.
    pub async fn keep_checking(self, cancel: CancellationToken) {
        loop {
            let _ = self.check().await;
            tokio::select! {
                () = cancel.cancelled() => return,
                () = tokio::time::sleep(DEPENDENCY_CHECK_EVERY) => {}
            }
        }
    }

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

#[cfg(test)]
mod tests;
