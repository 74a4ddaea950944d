//! Faults where users live: a broker that stops answering for a minute during a publish
//! and during a consume, an object store that dies and comes back during a publish.
//! Each test runs its own broker or S3 server (the shared ones stay up) and stops it.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tributary_tests::{
    Args, PrivateKafka, PrivateS3, Services, consume_records_until, signal, unique,
};

use crate::consumer::{Setup, event, produce_to};
use crate::publisher::{config, publish};

/// How long the broker stays stopped: past librdkafka's socket timeout (60 s) and the
/// consumer's session timeout (45 s), and past the publisher's old 30 s delivery limit.
const OUTAGE: Duration = Duration::from_secs(60);

fn folder(files: usize, size: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for i in 0..files {
        // distinct content per file: content-addressed objects are not deduplicated
        let mut text = format!("file {i}\n").into_bytes();
        text.resize(size, b'a' + (i % 26) as u8);
        std::fs::write(dir.path().join(format!("f{i:05}.txt")), text).expect("write");
    }
    dir
}

#[tokio::test]
async fn a_publish_rides_out_a_broker_outage() {
    let kafka = tokio::task::spawn_blocking(PrivateKafka::start)
        .await
        .expect("kafka");
    let dir = folder(1_500, 64);
    let topic = unique("outage-publish");
    let args = Args::default()
        .flag("repo", dir.path().to_str().expect("utf-8"))
        .flag("project", unique("outage"))
        .flag("brokers", &kafka.brokers)
        .flag("topic", &topic)
        .flag("storage-provider", "none")
        // one file per event, one event in flight: the run lasts long enough to be hit
        .flag("batch-max-files", "1")
        .flag("max-in-flight-batches", "1");
    let run = tokio::spawn(publish(config(&args.words())));
    tokio::time::sleep(Duration::from_millis(500)).await;
    signal(kafka.pid(), "STOP");
    tokio::time::sleep(OUTAGE).await;
    signal(kafka.pid(), "CONT");
    let report = run.await.expect("publish");
    assert!(report.ok() && report.completed, "{}", report.summary());
    assert_eq!(report.batches_delivered, 1_500);
    let recs = consume_records_until(&kafka.brokers, &topic, Duration::from_secs(60), |r| {
        r.len() > 1_500
    })
    .await;
    assert_eq!(
        recs.len(),
        1_501,
        "every batch once (idempotent producer) and the manifest"
    );
}

#[tokio::test]
async fn a_consumer_rides_out_a_broker_outage() {
    let svc = Services::require();
    let kafka = tokio::task::spawn_blocking(PrivateKafka::start)
        .await
        .expect("kafka");
    let setup = Setup::new("outage-consume");
    let project = unique("outage-consume");
    let batch = |range: std::ops::Range<usize>| -> Vec<Vec<u8>> {
        range
            .map(|i| {
                let text = format!("file {i}\n");
                let file = serde_json::json!([{"path": format!("f{i}.txt"), "size": text.len(),
                    "checksum": hex::encode(<sha2::Sha256 as sha2::Digest>::digest(text.as_bytes())),
                    "content_strategy": "inline", "content": text, "content_encoding": "utf-8"}]);
                serde_json::to_vec(&event(&project, file)).expect("json")
            })
            .collect()
    };
    produce_to(&kafka.brokers, &setup.input, &batch(0..100)).await;
    let cfg = setup.config(
        &svc,
        &[
            "--brokers",
            &kafka.brokers,
            "--storage-provider",
            "none",
            "--exit-when-idle",
            "1h",
        ],
    );
    let stats = Arc::new(tributary_consumer::Stats::default());
    let cancel = CancellationToken::new();
    let daemon = tokio::spawn(tributary_consumer::run(cfg, cancel.clone(), stats.clone()));
    consume_records_until(
        &kafka.brokers,
        &setup.output,
        Duration::from_secs(60),
        |r| r.len() >= 10,
    )
    .await;
    signal(kafka.pid(), "STOP");
    tokio::time::sleep(OUTAGE).await;
    signal(kafka.pid(), "CONT");
    produce_to(&kafka.brokers, &setup.input, &batch(100..200)).await;
    let recs = consume_records_until(
        &kafka.brokers,
        &setup.output,
        Duration::from_secs(240),
        |r| {
            r.iter()
                .filter_map(|r| r.key.clone())
                .collect::<BTreeSet<_>>()
                .len()
                >= 200
        },
    )
    .await;
    let keys: BTreeSet<_> = recs.iter().filter_map(|r| r.key.clone()).collect();
    assert_eq!(
        keys.len(),
        200,
        "every file has its document (repeats are harmless)"
    );
    assert!(
        !daemon.is_finished(),
        "the daemon kept running through the outage"
    );
    cancel.cancel();
    daemon
        .await
        .expect("join")
        .expect("the daemon stops cleanly after the outage");
}

#[tokio::test]
async fn a_publish_uses_the_store_again_once_it_is_back() {
    let svc = Services::require();
    let mut s3 = tokio::task::spawn_blocking(PrivateS3::start)
        .await
        .expect("s3");
    let bucket = "blip";
    let client = s3.s3_config(bucket).client().await.expect("client");
    client
        .create_bucket()
        .bucket(bucket)
        .send()
        .await
        .expect("bucket");
    let count = |client: aws_sdk_s3::Client| async move {
        let mut n = 0;
        let mut pages = client
            .list_objects_v2()
            .bucket(bucket)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            n += page.map(|p| p.key_count().unwrap_or(0)).unwrap_or(0);
        }
        n
    };
    // files just over the inline limit: object storage first, inline while it is down
    let dir = folder(1_200, 70 * 1024);
    let topic = unique("blip");
    let args = Args::default()
        .flag("repo", dir.path().to_str().expect("utf-8"))
        .flag("project", unique("blip"))
        .flag("brokers", &svc.kafka_brokers)
        .flag("topic", &topic)
        .flag("inline-size-limit", "64KiB")
        .flag("upload-concurrency", "1")
        .flag("batch-max-files", "1")
        .flag("max-in-flight-batches", "1")
        .flag("linger-ms", "10")
        .with(s3.args(bucket));
    let run = tokio::spawn(publish(config(&args.words())));
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let before = count(client.clone()).await;
    s3.kill();
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let s3 = tokio::task::spawn_blocking(move || {
        s3.restart();
        s3
    })
    .await
    .expect("restart");
    let report = run.await.expect("publish");
    let after = count(client).await;
    assert!(report.ok(), "{}", report.summary());
    assert!(
        report.files.inline > 0,
        "files went inline while the store was down"
    );
    assert!(
        after > before && report.files.object_storage as i32 > before,
        "the store was used again once back: {before} objects before the outage, {after} after; {}",
        report.summary()
    );
    drop(s3);
}
