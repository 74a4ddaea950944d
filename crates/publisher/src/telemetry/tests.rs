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

#[test]
fn progress_lines_show_total_percentage_throughput_and_eta() {
    let mib = 1024 * 1024;
    let snap = |items, bytes| Snapshot {
        items,
        bytes,
        batches: 3,
    };
    let secs = Duration::from_secs;
    // (snapshot, counted total, elapsed) → (text, percent, eta)
    type Case = (
        Snapshot,
        Option<u64>,
        Duration,
        &'static str,
        Option<f64>,
        Option<u64>,
    );
    let cases: Vec<Case> = vec![
        (
            snap(250, 10 * mib),
            Some(1000),
            secs(10),
            "250/1000 files (25.0%) · 10 MiB · 1 MiB/s · 3 batches · ETA 30s",
            Some(25.0),
            Some(30),
        ),
        (
            snap(10, 0),
            Some(1000),
            secs(100),
            "10/1000 files (1.0%) · 0 B · 0 B/s · 3 batches · ETA 2h 45m",
            Some(1.0),
            Some(9900),
        ),
        // no count yet: the count alone
        (
            snap(40, 3 * mib / 2),
            None,
            secs(1),
            "40 files · 1.5 MiB · 1.5 MiB/s · 3 batches",
            None,
            None,
        ),
        // a folder that grew past its count: 100 %, no ETA
        (
            snap(1001, mib),
            Some(1000),
            secs(2),
            "1001/1000 files (100.0%) · 1 MiB · 512 KiB/s · 3 batches",
            Some(100.0),
            None,
        ),
        (
            snap(999, mib),
            Some(1000),
            secs(999),
            "999/1000 files (99.9%) · 1 MiB · 1.0 KiB/s · 3 batches · ETA 1s",
            Some(99.9),
            Some(1),
        ),
        (
            snap(0, 0),
            Some(0),
            secs(0),
            "0 files (100.0%) · 0 B · 0 B/s · 3 batches",
            Some(100.0),
            None,
        ),
    ];
    for (now, total, elapsed, text, percent, eta) in cases {
        let line = describe(now, total, elapsed);
        assert_eq!(line.text, text);
        assert_eq!(line.percent, percent, "{text}");
        assert_eq!(line.eta.map(|d| d.as_secs()), eta, "{text}");
    }
    for (d, want) in [
        (0, "0s"),
        (59, "59s"),
        (65, "1m 05s"),
        (3600, "1h 00m"),
        (7620, "2h 07m"),
    ] {
        assert_eq!(short_duration(secs(d)), want);
    }
}
