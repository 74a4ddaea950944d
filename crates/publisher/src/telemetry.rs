//! Metrics endpoint and progress display.

use std::io::IsTerminal as _;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use metrics_exporter_prometheus::PrometheusHandle;
use tokio_util::sync::CancellationToken;

use std::sync::Arc;

use crate::config::ProgressMode;
use crate::error::PublishError;
use crate::publish::count::Expected;

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

/// How far a run is, as the pipeline counts it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Items handled: files published, skipped, failed and deleted.
    pub items: u64,
    /// Bytes of the files published.
    pub bytes: u64,
    pub batches: u32,
}

/// Shows how far a run is: a bar on a terminal, log lines otherwise (the first item,
/// then every few seconds, then the end, so even a short run says what it did). With
/// the count of what the walk will hand over, it shows the total, a percentage and an
/// ETA.
#[derive(Debug)]
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
    log_every: Option<Duration>,
    last_log: Option<Instant>,
    started: Instant,
    expected: Option<Arc<Expected>>,
    bar_has_length: bool,
}

/// Log lines at most this often.
const LOG_EVERY: Duration = Duration::from_secs(5);

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
                indicatif::ProgressStyle::with_template("{spinner} {elapsed} {wide_msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            b.enable_steady_tick(Duration::from_millis(200));
            b
        });
        let log_every = (bar.is_none() && mode != ProgressMode::Off).then_some(LOG_EVERY);
        Self {
            bar,
            log_every,
            last_log: None,
            started: Instant::now(),
            expected: None,
            bar_has_length: false,
        }
    }

    /// Whether anything is shown (and a total is worth counting).
    pub fn shown(&self) -> bool {
        self.bar.is_some() || self.log_every.is_some()
    }

    /// The count of what the walk will hand over, to show a total, percentage and ETA.
    pub fn expect(&mut self, expected: Arc<Expected>) {
        self.expected = Some(expected);
    }

    pub fn update(&mut self, now: Snapshot) {
        let total = self.expected.as_ref().and_then(|e| e.total());
        if let Some(b) = &self.bar {
            if let Some(total) = total {
                if !self.bar_has_length {
                    b.set_style(
                        indicatif::ProgressStyle::with_template(
                            "{spinner} {elapsed} [{bar:24}] {wide_msg}",
                        )
                        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                        .progress_chars("=> "),
                    );
                    self.bar_has_length = true;
                }
                b.set_length(total.max(now.items));
                b.set_position(now.items);
            }
            b.set_message(describe(now, total, self.started.elapsed()).text);
        } else if let Some(every) = self.log_every
            && self.last_log.is_none_or(|t| t.elapsed() >= every)
        {
            self.last_log = Some(Instant::now());
            log(now, total, self.started.elapsed(), "progress");
        }
    }

    /// Clears the bar, or logs the last line.
    pub fn finish(&self, now: Snapshot) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        } else if self.log_every.is_some() {
            // what was handed over is the total, whatever the count said
            log(
                now,
                Some(now.items),
                self.started.elapsed(),
                "progress: done",
            );
        }
    }
}

fn log(now: Snapshot, total: Option<u64>, elapsed: Duration, message: &str) {
    let line = describe(now, total, elapsed);
    tracing::info!(
        items = now.items,
        total,
        percent = line.percent,
        bytes = now.bytes,
        batches = now.batches,
        bytes_per_sec = line.bytes_per_sec,
        eta_secs = line.eta.map(|d| d.as_secs()),
        "{message}: {}",
        line.text
    );
}

/// A progress line and the numbers in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub text: String,
    pub percent: Option<f64>,
    pub bytes_per_sec: u64,
    pub eta: Option<Duration>,
}

/// `1234/5678 files (21.7%) · 45.1 MiB · 12.3 MiB/s · 8 batches · ETA 42s`; without a
/// total, the count alone. Past the counted total (a folder that grew) the percentage
/// holds at 99.9 % and the ETA is unknown.
pub fn describe(now: Snapshot, total: Option<u64>, elapsed: Duration) -> Line {
    let secs = elapsed.as_secs_f64();
    let bytes_per_sec = if secs > 0.0 {
        (now.bytes as f64 / secs) as u64
    } else {
        0
    };
    let (count, percent, eta) = match total {
        Some(total) if total > 0 => {
            let p = (now.items as f64 / total as f64 * 100.0).min(if now.items < total {
                99.9
            } else {
                100.0
            });
            let eta = (now.items > 0 && now.items < total && secs > 0.0).then(|| {
                Duration::from_secs_f64(secs * (total - now.items) as f64 / now.items as f64)
            });
            let p = (p * 10.0).round() / 10.0;
            (
                format!("{}/{total} files ({p:.1}%)", now.items),
                Some(p),
                eta,
            )
        }
        Some(_) => (format!("{} files (100.0%)", now.items), Some(100.0), None),
        None => (format!("{} files", now.items), None, None),
    };
    let mut text = format!(
        "{count} · {} · {}/s · {} batches",
        human_size(now.bytes),
        human_size(bytes_per_sec),
        now.batches
    );
    if let Some(eta) = eta {
        text.push_str(" · ETA ");
        text.push_str(&short_duration(eta));
    }
    Line {
        text,
        percent,
        bytes_per_sec,
        eta,
    }
}

/// A size for people, in binary units: `407.0 KiB`, `12 MiB`.
pub fn human_size(bytes: u64) -> String {
    humansize::format_size(bytes, humansize::BINARY.decimal_places(1))
}

/// `42s`, `3m 05s`, `2h 07m`.
pub fn short_duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m {:02}s", s / 60, s % 60),
        _ => format!("{}h {:02}m", s / 3600, (s % 3600) / 60),
    }
}
