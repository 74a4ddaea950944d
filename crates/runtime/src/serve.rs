//! The telemetry endpoint both daemons serve.

use std::net::SocketAddr;

use tokio_util::sync::CancellationToken;

/// Installs the Prometheus recorder and serves `/metrics` (Prometheus text),
/// `/healthz`, and the routes of `extra` until `cancel` fires. Returns the server task
/// and the address it listens on (useful with port 0).
pub async fn serve_metrics(
    addr: SocketAddr,
    extra: axum::Router,
    cancel: CancellationToken,
) -> std::io::Result<(tokio::task::JoinHandle<()>, SocketAddr)> {
    let handle = metrics_exporter_prometheus::PrometheusBuilder::new()
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
