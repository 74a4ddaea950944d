//! Push-to-intelligence latency: commits a one-file change to a working repository,
//! pushes it to the bare repository a running `tributary-publisher watch` follows, sends
//! the signed webhook, and waits for that file's new document (its new checksum) on the
//! output topic, where a running consumer puts it. Repeats, and prints percentiles of
//! all but a first, unmeasured push.
//!
//!   push-latency BROKERS OUTPUT_TOPIC WORK_DIR WEBHOOK_URL SECRET REPO_URL PROJECT N
use std::process::Command;
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::Message;
use sha2::{Digest, Sha256};

fn git(dir: &str, args: &[&str]) {
    let ok = Command::new("git")
        .args([
            "-c",
            "user.name=bench",
            "-c",
            "user.email=bench@tributary.invalid",
        ])
        .args(args)
        .current_dir(dir)
        .status()
        .expect("git runs")
        .success();
    assert!(ok, "git {args:?}");
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let [brokers, topic, work, url, secret, repo_url, project, n] = &a[..] else {
        panic!(
            "usage: push-latency BROKERS OUTPUT_TOPIC WORK_DIR WEBHOOK_URL SECRET REPO_URL PROJECT N"
        );
    };
    let n: usize = n.parse().expect("N");
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", format!("push-latency-{}", std::process::id()))
        .set("auto.offset.reset", "latest")
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    consumer.subscribe(&[topic.as_str()]).expect("subscribe");
    // let the group assignment settle before the first push
    let settle = Instant::now() + Duration::from_secs(5);
    while Instant::now() < settle {
        let _ = tokio::time::timeout(Duration::from_millis(500), consumer.recv()).await;
    }
    let client = reqwest::Client::new();
    let path = "tributary-bench-probe.txt";
    let mut latencies = Vec::new();
    // push 0 is a warm-up, not measured: its document arrives once the consumer has
    // worked through what was queued before it (the full run's 10,000 files)
    for i in 0..=n {
        let content = format!("probe {i} {}\n", std::process::id());
        std::fs::write(format!("{work}/{path}"), &content).expect("write probe");
        git(work, &["add", path]);
        git(work, &["commit", "-q", "-m", &format!("probe {i}")]);
        git(work, &["push", "-q", "origin", "HEAD:main"]);
        let checksum = hex::encode(Sha256::digest(content.as_bytes()));
        let body = serde_json::json!({
            "ref": "refs/heads/main",
            "repository": {"clone_url": repo_url},
        })
        .to_string();
        let sig = tributary_publisher::watch::webhook::sign(secret.as_bytes(), body.as_bytes());
        let t0 = Instant::now();
        let status = client
            .post(url)
            .header("X-Gitea-Signature", sig)
            .header(
                "X-Gitea-Delivery",
                format!("bench-{}-{i}", std::process::id()),
            )
            .body(body)
            .send()
            .await
            .expect("webhook")
            .status();
        assert_eq!(status.as_u16(), 202, "webhook refused");
        let key = format!("{project}/{path}");
        let limit = Duration::from_secs(if i == 0 { 600 } else { 60 });
        loop {
            let msg = tokio::time::timeout(limit, consumer.recv())
                .await
                .expect("document within the limit")
                .expect("consume");
            if msg.key() != Some(key.as_bytes()) {
                continue;
            }
            let doc: serde_json::Value =
                serde_json::from_slice(msg.payload().unwrap_or_default()).unwrap_or_default();
            if doc["checksum"] == checksum.as_str() {
                break;
            }
        }
        if i > 0 {
            latencies.push(t0.elapsed().as_secs_f64() * 1000.0);
        }
    }
    latencies.sort_by(f64::total_cmp);
    println!("pushes {n}");
    println!("p50_ms {:.0}", pct(&latencies, 0.5));
    println!("p99_ms {:.0}", pct(&latencies, 0.99));
    println!("max_ms {:.0}", latencies.last().copied().unwrap_or(0.0));
}
