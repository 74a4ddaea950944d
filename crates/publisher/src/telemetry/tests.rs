use std::net::SocketAddr;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tributary_events::v2::ContentStrategy;

use super::*;
use crate::internal_events::{FileEmitted, FileSkipped};
use crate::publish::walk::SkipReason;

async fn get(addr: SocketAddr, path: &str) -> String {
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .expect("write");
    let mut out = String::new();
    s.read_to_string(&mut out).await.expect("read");
    out
}

#[tokio::test]
async fn metrics_are_served_with_the_design_names() {
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    metrics::with_local_recorder(&recorder, || {
        FileEmitted {
            strategy: ContentStrategy::Inline,
            bytes: 10,
        }
        .emit();
        FileEmitted {
            strategy: ContentStrategy::ObjectStorage,
            bytes: 200_000,
        }
        .emit();
        FileSkipped {
            path: "a/b",
            reason: SkipReason::TooLarge,
        }
        .emit();
    });
    let cancel = CancellationToken::new();
    let (task, addr) = serve_metrics("127.0.0.1:0".parse().expect("addr"), handle, cancel.clone())
        .await
        .expect("serve");
    let body = get(addr, "/metrics").await;
    assert!(body.starts_with("HTTP/1.1 200"), "{body}");
    assert!(
        body.contains("tributary_ingestion_files_total{content_strategy=\"inline\"} 1"),
        "{body}"
    );
    assert!(
        body.contains(
            "tributary_ingestion_bytes_total{content_strategy=\"object_storage\"} 200000"
        ),
        "{body}"
    );
    assert!(
        body.contains("tributary_ingestion_skipped_files_total{reason=\"too_large\"} 1"),
        "{body}"
    );
    assert!(!body.contains("a/b"), "paths never become labels");
    assert!(get(addr, "/healthz").await.ends_with("ok"));
    cancel.cancel();
    task.await.expect("server stops on cancel");
}
