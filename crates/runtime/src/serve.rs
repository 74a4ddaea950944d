//! The telemetry endpoint both daemons serve.

use std::net::SocketAddr;

use tokio_util::sync::CancellationToken;

/// Bucket bounds of every `*_seconds` histogram: from half a millisecond (a cache hit)
/// to an hour (a push waiting behind a bulk run).
pub const SECONDS_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0,
];
/// Bucket bounds of every `*_bytes` histogram: powers of four from 1 KiB to 1 GiB.
pub const BYTES_BUCKETS: &[f64] = &[
    1024.0,
    4096.0,
    16384.0,
    65536.0,
    262_144.0,
    1_048_576.0,
    4_194_304.0,
    16_777_216.0,
    67_108_864.0,
    268_435_456.0,
    1_073_741_824.0,
];
/// Bucket bounds of any other histogram (counts: files in a run).
pub const COUNT_BUCKETS: &[f64] = &[1.0, 10.0, 100.0, 1_000.0, 10_000.0, 100_000.0, 1_000_000.0];

/// The Prometheus recorder both daemons install: every histogram exported as a real
/// Prometheus histogram (`_bucket` series that sum across replicas), never as a summary
/// with per-process quantiles.
pub fn prometheus_builder() -> metrics_exporter_prometheus::PrometheusBuilder {
    use metrics_exporter_prometheus::Matcher;
    metrics_exporter_prometheus::PrometheusBuilder::new()
        .set_buckets(COUNT_BUCKETS)
        .and_then(|b| b.set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS_BUCKETS))
        .and_then(|b| b.set_buckets_for_metric(Matcher::Suffix("_bytes".into()), BYTES_BUCKETS))
        .expect("bucket lists are non-empty constants")
}

/// The metric families in a Prometheus text exposition whose `# TYPE` line is not
/// preceded by their `# HELP` line (what the daemons' `register` functions must leave
/// empty).
pub fn families_without_help(exposition: &str) -> Vec<String> {
    let lines: Vec<&str> = exposition.lines().collect();
    lines
        .iter()
        .enumerate()
        .filter_map(|(i, line)| {
            let name = line.strip_prefix("# TYPE ")?.split(' ').next()?;
            let described = i > 0 && lines[i - 1].starts_with(&format!("# HELP {name} "));
            (!described).then(|| name.to_owned())
        })
        .collect()
}

/// Installs the Prometheus recorder and serves `/metrics` (Prometheus text),
/// `/healthz`, and the routes of `extra` until `cancel` fires. Returns the server task
/// and the address it listens on (useful with port 0).
pub async fn serve_metrics(
    addr: SocketAddr,
    extra: axum::Router,
    cancel: CancellationToken,
) -> std::io::Result<(tokio::task::JoinHandle<()>, SocketAddr)> {
    let handle = prometheus_builder()
        .install_recorder()
        .map_err(std::io::Error::other)?;
    serve_with_handle(addr, handle, extra, cancel).await
}

/// [`serve_metrics`] with a recorder handle the caller made (tests use a local one).
pub async fn serve_with_handle(
    addr: SocketAddr,
    handle: metrics_exporter_prometheus::PrometheusHandle,
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

#[cfg(test)]
mod tests;
