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
    let recorder = tributary_runtime::prometheus_builder().build_recorder();
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

/// Every family the watcher exports has `# HELP` and `# TYPE`, its counters are there
/// at zero before anything happened, and its latencies are histograms (buckets that sum
/// across replicas), never summaries.
#[test]
fn watch_metrics_are_described_zeroed_and_histograms() {
    let recorder = tributary_runtime::prometheus_builder().build_recorder();
    let handle = recorder.handle();
    metrics::with_local_recorder(&recorder, || {
        register_watch_metrics();
        crate::internal_events::ObjectStored {
            uploaded: true,
            elapsed: std::time::Duration::from_millis(3),
        }
        .emit();
    });
    let body = handle.render();
    for zero in [
        "tributary_ingestion_files_total{content_strategy=\"git_reference\"} 0",
        "tributary_ingestion_skipped_files_total{reason=\"symlink\"} 0",
        "tributary_watch_polls_total{result=\"failed\"} 0",
        "tributary_watch_webhook_deliveries_total{provider=\"gitea\",result=\"unauthorized\"} 0",
        "tributary_storage_puts_total{result=\"already_present\"} 0",
    ] {
        assert!(body.contains(zero), "{zero} missing from\n{body}");
    }
    assert!(
        body.contains("tributary_storage_upload_duration_seconds_bucket{le=\"0.005\"} 1"),
        "{body}"
    );
    assert!(!body.contains("quantile="), "no summaries: {body}");
    let undescribed = tributary_runtime::families_without_help(&body);
    assert!(undescribed.is_empty(), "no HELP text: {undescribed:?}");
    assert!(body.contains("# TYPE "), "families were exported: {body}");
}
