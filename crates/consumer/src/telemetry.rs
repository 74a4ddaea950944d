//! `/metrics`, `/healthz` (the process is alive) and `/readyz` (Kafka answers).

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

/// Serves the endpoints until `cancel` fires; returns the task and the bound address.
pub async fn serve(
    addr: SocketAddr,
    handle: PrometheusHandle,
    brokers: String,
    cancel: CancellationToken,
) -> Result<(tokio::task::JoinHandle<()>, SocketAddr), ConsumerError> {
    use axum::http::StatusCode;
    use axum::routing::get;
    let app = axum::Router::new()
        .route("/metrics", get(move || std::future::ready(handle.render())))
        .route("/healthz", get(|| std::future::ready("ok")))
        .route(
            "/readyz",
            get(move || {
                let brokers = brokers.clone();
                async move {
                    if kafka_ready(brokers).await {
                        (StatusCode::OK, "ready")
                    } else {
                        (StatusCode::SERVICE_UNAVAILABLE, "kafka unreachable")
                    }
                }
            }),
        );
    let err = |source| ConsumerError::Metrics {
        addr: addr.to_string(),
        source,
    };
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(err)?;
    let local = listener.local_addr().map_err(err)?;
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
