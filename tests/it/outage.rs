//! Faults where users live: a broker that stops answering for a minute during a publish,
//! a broker gone for a minute during a consume, an object store that dies and comes back
//! during a publish. Each test runs its own broker or S3 server (the shared ones stay
//! up) and stops it.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tributary_tests::{
    Args, PrivateKafka, PrivateS3, Services, Tmpfs, consume_records_until, git, records_within,
    signal, unique, workspace_bin,
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
    let mut kafka = tokio::task::spawn_blocking(PrivateKafka::start)
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
    // the broker is gone for a minute (killed, as a node loss or a restart is), then
    // comes back on the same address with its data
    kafka.kill();
    tokio::time::sleep(OUTAGE).await;
    kafka = tokio::task::spawn_blocking(move || {
        kafka.restart();
        kafka
    })
    .await
    .expect("restart");
    // every phase is bounded: a broker that does not come back fails the test with its
    // log instead of hanging it
    let after = async {
        produce_to(&kafka.brokers, &setup.input, &batch(100..200)).await;
        consume_records_until(
            &kafka.brokers,
            &setup.output,
            Duration::from_secs(180),
            |r| {
                r.iter()
                    .filter_map(|r| r.key.clone())
                    .collect::<BTreeSet<_>>()
                    .len()
                    >= 200
            },
        )
        .await
    };
    let recs = tokio::time::timeout(Duration::from_secs(240), after)
        .await
        .unwrap_or_else(|_| {
            panic!(
                "no recovery within 4 minutes; broker log:\n{}",
                kafka.log_tail()
            )
        });
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
    tokio::time::timeout(Duration::from_secs(60), daemon)
        .await
        .expect("the daemon stops within a minute")
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
    let client = s3.bucket(bucket).await;
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

#[tokio::test]
async fn a_full_cache_disk_pauses_work_without_dead_letters_and_it_resumes_when_space_returns() {
    let svc = Services::require();
    let setup = Setup::new("full-disk");
    // a repository larger than the disk its clone cache gets: content that does not
    // compress, so the pack is as large as the files
    let work = tempfile::tempdir().expect("tempdir");
    let mut files = Vec::new();
    for i in 0..8u32 {
        let bytes: Vec<u8> = (0..300_000u32 / 32)
            .flat_map(|j| <sha2::Sha256 as sha2::Digest>::digest(format!("{i}/{j}").as_bytes()))
            .collect();
        std::fs::write(work.path().join(format!("blob{i}.bin")), &bytes).expect("write");
        files.push((format!("blob{i}.bin"), bytes));
    }
    git(work.path(), &["init", "-q"]);
    git(work.path(), &["add", "-A"]);
    git(work.path(), &["commit", "-q", "-m", "big"]);
    let commit = git(work.path(), &["rev-parse", "HEAD"]);
    let name = format!("{}.git", unique("full-disk"));
    let bare = svc.git_root.join(&name);
    git(
        work.path(),
        &["clone", "-q", "--bare", ".", bare.to_str().expect("utf-8")],
    );
    let url = format!("{}/{name}", svc.git_url);

    let project = unique("full-disk");
    let entries: Vec<serde_json::Value> = files
        .iter()
        .map(|(path, bytes)| {
            serde_json::json!({"path": path, "size": bytes.len(),
                "checksum": hex::encode(<sha2::Sha256 as sha2::Digest>::digest(bytes)),
                "content_strategy": "git_reference", "git_url": url, "git_ref": commit})
        })
        .collect();
    crate::consumer::produce(
        &svc,
        &setup.input,
        &[serde_json::to_vec(&event(&project, serde_json::json!(entries))).expect("json")],
    )
    .await;

    let disk = Tmpfs::mount("1m");
    let args = Args::new(["run"])
        .flag("brokers", &svc.kafka_brokers)
        .flag("group", unique("full-disk"))
        .flag("input-topic", &setup.input)
        .flag("output-topic", &setup.output)
        .flag("dlq-topic", &setup.dlq)
        .flag("storage-provider", "none")
        .flag(
            "cache-dir",
            disk.path().join("cache").to_str().expect("utf-8"),
        )
        .flag(
            "git-cache-dir",
            disk.path().join("git").to_str().expect("utf-8"),
        )
        // the analysis cache is not what fills up here
        .flag(
            "analysis-cache-dir",
            setup
                .caches
                .path()
                .join("analysis")
                .to_str()
                .expect("utf-8"),
        )
        .flag("git-allowed-schemes", "git")
        .flag("exit-when-idle", "10s");
    let mut daemon = std::process::Command::new(workspace_bin("tributary-consumer"))
        .args(&args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start consumer");
    // the clone cannot fit: nothing comes out, in particular no dead letter
    let early_dlq = records_within(&svc.kafka_brokers, &setup.dlq, Duration::from_secs(8)).await;
    assert!(early_dlq.is_empty(), "a full disk dead-lettered input");
    let early_docs =
        records_within(&svc.kafka_brokers, &setup.output, Duration::from_secs(1)).await;
    assert!(early_docs.is_empty(), "documents while the disk is full");
    assert!(
        daemon.try_wait().expect("status").is_none(),
        "the daemon waits, it does not exit"
    );

    // room returns: the work resumes on its own
    disk.resize("64m");
    let docs = consume_records_until(
        &svc.kafka_brokers,
        &setup.output,
        Duration::from_secs(120),
        |r| r.len() >= files.len(),
    )
    .await;
    assert_eq!(docs.len(), files.len());
    let status = tokio::task::spawn_blocking(move || daemon.wait())
        .await
        .expect("join")
        .expect("wait");
    assert!(status.success(), "{status}");
    let dlq = records_within(&svc.kafka_brokers, &setup.dlq, Duration::from_secs(2)).await;
    assert!(dlq.is_empty(), "{} dead letters", dlq.len());
    // and a full disk left no partial files behind
    let leftovers = walk_files(disk.path())
        .into_iter()
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(".tmp-"))
        })
        .count();
    assert_eq!(leftovers, 0);
}

fn walk_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// An S3 stand-in that answers every request 503 and counts them.
fn always_busy() -> (u16, Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{Read as _, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let c = count.clone();
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
            let mut buf = [0u8; 8192];
            if conn.read(&mut buf).unwrap_or(0) > 0 {
                c.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
            let body = "<Error><Code>SlowDown</Code><Message>busy</Message></Error>";
            let _ = conn.write_all(
                format!(
                    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
                .as_bytes(),
            );
        }
    });
    (port, count)
}

#[tokio::test]
async fn a_busy_store_is_tried_once_per_attempt_not_once_per_layer() {
    let svc = Services::require();
    let (port, requests) = always_busy();
    let setup = Setup::new("layers");
    let project = unique("layers");
    let file = serde_json::json!([{"path": "x.bin", "size": 1, "checksum": "0".repeat(64),
        "content_strategy": "object_storage", "object_key": "k/x.bin"}]);
    crate::consumer::produce(
        &svc,
        &setup.input,
        &[serde_json::to_vec(&event(&project, file)).expect("json")],
    )
    .await;
    let endpoint = format!("http://127.0.0.1:{port}");
    let cfg = setup.config(
        &svc,
        &[
            "--storage-endpoint",
            &endpoint,
            "--storage-bucket",
            "b",
            "--max-attempts",
            "3",
        ],
    );
    crate::consumer::run_consumer(cfg).await;
    let recs = crate::consumer::dead_letters(&svc, &setup.dlq, 1).await;
    assert_eq!(recs[0]["reason"], "retries_exhausted", "{}", recs[0]);
    assert_eq!(recs[0]["attempts"], 3);
    assert_eq!(
        requests.load(std::sync::atomic::Ordering::SeqCst),
        3,
        "one request per attempt: the SDK's retries do not multiply the resolver's"
    );
}

#[tokio::test]
async fn a_store_down_during_a_consume_dead_letters_then_replays_and_expired_urls_go_by_key() {
    let svc = Services::require();
    let mut s3 = tokio::task::spawn_blocking(PrivateS3::start)
        .await
        .expect("s3");
    let bucket = "consume";
    s3.bucket(bucket).await;
    let setup = Setup::new("store-down");
    let dir = folder(20, 120 * 1024);
    let publish_args = Args::default()
        .flag("repo", dir.path().to_str().expect("utf-8"))
        .flag("project", unique("store-down"))
        .flag("brokers", &svc.kafka_brokers)
        .flag("topic", &setup.input)
        // URLs that expire before the consumer gets to them: it reads by key
        .flag("presigned-url-expiry", "1s")
        .with(s3.args(bucket));
    let report = publish(config(&publish_args.words())).await;
    assert!(report.ok(), "{}", report.summary());
    assert_eq!(report.files.object_storage, 20);
    s3.kill();
    let args = s3.args(bucket).flag("max-attempts", "2");
    let words = args.words();
    crate::consumer::run_consumer(setup.config(&svc, &words)).await;
    let recs = crate::consumer::dead_letters(&svc, &setup.dlq, 20).await;
    assert!(
        recs.iter().all(|r| r["reason"] == "retries_exhausted"),
        "the store was down: {}",
        recs[0]
    );
    let mut s3 = tokio::task::spawn_blocking(move || {
        s3.restart();
        s3
    })
    .await
    .expect("restart");
    let replayed = tributary_consumer::replay::replay(&tributary_consumer::replay::ReplayConfig {
        connection: tributary_runtime::kafka::Connection::plaintext(svc.kafka_brokers.clone()),
        dlq_topic: setup.dlq.clone(),
        input_topic: setup.input.clone(),
        group: unique("store-down-replay"),
        reasons: vec![tributary_events::dlq::Reason::RetriesExhausted],
        idle: Duration::from_secs(3),
    })
    .await
    .expect("replay");
    assert_eq!(replayed.replayed, 20);
    assert_eq!(
        replayed.summaries_refreshed, 1,
        "the run's completion follows its files"
    );
    let stats = crate::consumer::run_consumer(setup.config(&svc, &words)).await;
    assert_eq!(
        stats.documents.load(std::sync::atomic::Ordering::Relaxed),
        21,
        "every file, read by key (its URL long expired), and the refreshed summary"
    );
    // the summary no longer says the files were dead-lettered
    let (_, summaries) = crate::consumer::outputs(&svc, &setup.output, 20, 2).await;
    let before = &summaries[0];
    let after = &summaries[summaries.len() - 1];
    assert_eq!(before["dead_lettered"], 20, "{before}");
    assert_eq!(after["dead_lettered"], 0, "{after}");
    assert_eq!(after["totals"]["files"], 20);
    assert_eq!(after["complete"], true);
    s3.kill();
}

/// A broker that stops answering and one that goes away are logged when it happens
/// (from librdkafka's statistics, every 5 s), not after a minute and a half of silence,
/// and so is their return; the daemon is the real binary, against a broker of the
/// test's own that is frozen (SIGSTOP: connections stay open, nothing answers, as in a
/// hung broker or a partitioned network), thawed, killed and restarted.
#[tokio::test]
async fn a_silent_or_lost_broker_is_logged_at_once_and_its_return_too() {
    let svc = Services::require();
    let mut kafka = tokio::task::spawn_blocking(PrivateKafka::start)
        .await
        .expect("kafka");
    let setup = Setup::new("broker-lost-log");
    let project = unique("broker-lost-log");
    let text = "x\n";
    let file = serde_json::json!([{"path": "x.txt", "size": text.len(),
        "checksum": hex::encode(<sha2::Sha256 as sha2::Digest>::digest(text.as_bytes())),
        "content_strategy": "inline", "content": text, "content_encoding": "utf-8"}]);
    produce_to(
        &kafka.brokers,
        &setup.input,
        &[serde_json::to_vec(&event(&project, file)).expect("json")],
    )
    .await;
    let log_dir = tempfile::tempdir().expect("tempdir");
    let log_path = log_dir.path().join("consumer.log");
    let log = std::fs::File::create(&log_path).expect("log file");
    let port = tributary_tests::free_port();
    let addr = format!("127.0.0.1:{port}");
    let mut daemon = crate::consumer::spawn_daemon_logging_to(
        &svc,
        &setup,
        &unique("broker-lost-log"),
        &[
            "--brokers",
            &kafka.brokers,
            "--storage-provider",
            "none",
            "--log-format",
            "json",
            "--metrics-addr",
            &addr,
        ],
        log.into(),
    );
    // connected, as its own statistics say
    let http = reqwest::Client::new();
    crate::consumer::scrape_until(
        &http,
        &format!("http://{addr}/metrics"),
        "tributary_kafka_brokers_connected 1",
        300,
    )
    .await;
    let logged = |needle: &'static str, within: Duration| {
        let path = log_path.clone();
        async move {
            let deadline = tokio::time::Instant::now() + within;
            loop {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                if let Some(line) = text
                    .lines()
                    .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                    .find(|v| {
                        v["fields"]["message"]
                            .as_str()
                            .is_some_and(|m| m.contains(needle))
                    })
                {
                    return line;
                }
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "no {needle:?} within {within:?}:\n{text}"
                );
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
    };
    // frozen: up but silent, reported once the silence passes 30 s (statistics every 5 s)
    signal(kafka.pid(), "STOP");
    let line = logged("no answer from a Kafka broker", Duration::from_secs(60)).await;
    assert_eq!(line["level"], "WARN", "{line}");
    assert!(
        line["fields"]["broker"]
            .as_str()
            .is_some_and(|b| b.contains(&kafka.brokers)),
        "{line}"
    );
    signal(kafka.pid(), "CONT");
    logged(
        "connection to the Kafka broker restored",
        Duration::from_secs(60),
    )
    .await;
    // gone: reported at the next statistics
    kafka.kill();
    let line = logged(
        "lost the connection to a Kafka broker",
        Duration::from_secs(20),
    )
    .await;
    assert_eq!(line["level"], "WARN", "{line}");
    kafka = tokio::task::spawn_blocking(move || {
        kafka.restart();
        kafka
    })
    .await
    .expect("restart");
    let text = std::fs::read_to_string(&log_path).unwrap_or_default();
    let restored_before = text
        .matches("connection to the Kafka broker restored")
        .count();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while std::fs::read_to_string(&log_path)
        .unwrap_or_default()
        .matches("connection to the Kafka broker restored")
        .count()
        <= restored_before
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no second 'restored' within 60 s: {}",
            kafka.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    signal(daemon.id(), "TERM");
    let status = tokio::task::spawn_blocking(move || daemon.wait())
        .await
        .expect("join")
        .expect("wait");
    assert!(status.success(), "{status:?}");
}
