//! Metrics endpoint and progress display.

use std::io::IsTerminal as _;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use metrics_exporter_prometheus::PrometheusHandle;
use tokio_util::sync::CancellationToken;

use crate::config::ProgressMode;
use crate::error::PublishError;

/// Serves `/metrics` (Prometheus text) and `/healthz` until `cancel` fires, with the
/// recorder `handle` (a test's own, or the global one). Returns the server task and the
/// address it listens on (useful with port 0).
pub async fn serve_metrics(
    addr: SocketAddr,
    handle: PrometheusHandle,
    cancel: CancellationToken,
) -> Result<(tokio::task::JoinHandle<()>, SocketAddr), PublishError> {
    tributary_runtime::serve_with_handle(addr, handle, axum::Router::new(), cancel)
        .await
        .map_err(|source| PublishError::Metrics {
            addr: addr.to_string(),
            source,
        })
}

/// Describes the metrics of `publish` and zeroes its counters; call once, after the
/// recorder is installed.
pub fn register_publish_metrics() {
    crate::internal_events::register_ingestion();
}

/// [`register_publish_metrics`] for `watch`, with the watcher's own metrics.
pub fn register_watch_metrics() {
    crate::internal_events::register_watch();
}

#[cfg(test)]
mod tests;

/// Shows how far a run is: a bar on a terminal, a log line every few seconds otherwise.
#[derive(Debug)]
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
    log_every: Option<Duration>,
    last_log: Instant,
}

impl Progress {
    pub fn new(mode: ProgressMode) -> Self {
        let bar = match mode {
            ProgressMode::Bar => true,
            ProgressMode::Auto => std::io::stderr().is_terminal(),
            ProgressMode::Log | ProgressMode::Off => false,
        };
        let bar = bar.then(|| {
            let b = indicatif::ProgressBar::new_spinner();
            b.set_style(
                indicatif::ProgressStyle::with_template("{spinner} {elapsed} {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            b.enable_steady_tick(Duration::from_millis(200));
            b
        });
        let log_every =
            (bar.is_none() && mode != ProgressMode::Off).then_some(Duration::from_secs(5));
        Self {
            bar,
            log_every,
            last_log: Instant::now(),
        }
    }

    pub fn update(&mut self, files: u64, bytes: u64, batches: u32) {
        if let Some(b) = &self.bar {
            b.set_message(format!(
                "{files} files, {} MiB, {batches} batches",
                bytes / (1024 * 1024)
            ));
        } else if let Some(every) = self.log_every
            && self.last_log.elapsed() >= every
        {
            self.last_log = Instant::now();
            tracing::info!(files, bytes, batches, "progress");
        }
    }

    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
