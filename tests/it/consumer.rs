//! The consumer daemon against the real Kafka, S3 server and git daemon.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use base64::Engine as _;
use clap::Parser as _;
use rdkafka::producer::{FutureProducer, FutureRecord};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use tributary_consumer::cli::{Cli, Command};
use tributary_consumer::{Config, Stats};
use tributary_tests::{Args, Services, consume_until, schema, unique};

use crate::publisher::{Fixture, config as publish_config, publish, sha_hex, with_s3};

/// Topics and cache folders of one test.
pub(crate) struct Setup {
    pub(crate) input: String,
    pub(crate) output: String,
    pub(crate) dlq: String,
    pub(crate) group: String,
    pub(crate) caches: tempfile::TempDir,
}

impl Setup {
    pub(crate) fn new(name: &str) -> Self {
        Self {
            input: unique(&format!("{name}-in")),
            output: unique(&format!("{name}-out")),
            dlq: unique(&format!("{name}-dlq")),
            group: unique(&format!("{name}-group")),
            caches: tempfile::tempdir().expect("tempdir"),
        }
    }

    /// `run` with this setup's topics and cache folders, in consumer group `group`, at
    /// most two attempts per file; the caller adds the store and when to exit.
    pub(crate) fn run_args(&self, svc: &Services, group: &str) -> Args {
        let cache = self.caches.path().join("content");
        let git = self.caches.path().join("git");
        let analysis = self.caches.path().join("analysis");
        Args::new(["run"])
            .flag("brokers", &svc.kafka_brokers)
            .flag("group", group)
            .flag("input-topic", &self.input)
            .flag("output-topic", &self.output)
            .flag("dlq-topic", &self.dlq)
            .flag("cache-dir", cache.to_str().expect("utf-8"))
            .flag("git-cache-dir", git.to_str().expect("utf-8"))
            .flag("analysis-cache-dir", analysis.to_str().expect("utf-8"))
            .flag("max-attempts", "2")
    }

    pub(crate) fn config(&self, svc: &Services, extra: &[&str]) -> Config {
        self.config_with_store(svc, svc.s3_args(), extra)
    }

    /// [`Setup::config`] with another object store's flags than the local MinIO's.
    pub(crate) fn config_with_store(&self, svc: &Services, store: Args, extra: &[&str]) -> Config {
        let a = Args::new(["tributary-consumer"])
            .with(self.run_args(svc, &self.group).words())
            .flag("exit-when-idle", "4s")
            .with(store)
            .with(extra);
        let Command::Run(args) = Cli::try_parse_from(a).expect("flags parse").command else {
            unreachable!("run was parsed")
        };
        args.into_config().expect("valid config")
    }
}

pub(crate) async fn run_consumer(cfg: Config) -> Arc<Stats> {
    let stats = Arc::new(Stats::default());
    tokio::time::timeout(
        Duration::from_secs(180),
        tributary_consumer::run(cfg, CancellationToken::new(), stats.clone()),
    )
    .await
    .expect("consumer finishes when idle")
    .expect("consumer runs");
    stats
}

/// Documents on the output topic by key, each validated against its schema, once at
/// least `files` file documents and `summaries` project summaries have arrived.
pub(crate) async fn outputs(
    svc: &Services,
    topic: &str,
    files: usize,
    summaries: usize,
) -> (BTreeMap<String, Vec<Value>>, Vec<Value>) {
    let is_summary = |v: &Value| v["doc_type"] == "project_summary";
    let docs = consume_until(&svc.kafka_brokers, topic, Duration::from_secs(120), |got| {
        let parsed: Vec<Value> = got
            .iter()
            .filter_map(|p| serde_json::from_slice(p).ok())
            .collect();
        let s = parsed.iter().filter(|v| is_summary(v)).count();
        parsed.len() - s >= files && s >= summaries
    })
    .await;
    let (file_schema, summary_schema) = (
        schema("intelligence.v1.json"),
        schema("project-summary.v1.json"),
    );
    let mut by_key: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    let mut sums = Vec::new();
    // tombstones (deleted files) have no payload
    for d in docs.into_iter().filter(|d| !d.is_empty()) {
        let doc: Value = serde_json::from_slice(&d).expect("JSON document");
        if is_summary(&doc) {
            assert!(
                summary_schema.is_valid(&doc),
                "summary violates project-summary.v1.json: {doc}"
            );
            sums.push(doc);
            continue;
        }
        assert!(
            file_schema.is_valid(&doc),
            "document violates intelligence.v1.json: {doc}"
        );
        let key = format!(
            "{}/{}",
            doc["project"].as_str().expect("project"),
            doc["path"].as_str().expect("path")
        );
        by_key.entry(key).or_default().push(doc);
    }
    (by_key, sums)
}

async fn documents(svc: &Services, topic: &str, n: usize) -> BTreeMap<String, Vec<Value>> {
    outputs(svc, topic, n, 0).await.0
}

pub(crate) async fn dead_letters(svc: &Services, topic: &str, n: usize) -> Vec<Value> {
    let recs = consume_until(&svc.kafka_brokers, topic, Duration::from_secs(60), |got| {
        got.len() >= n
    })
    .await;
    let v = schema("dead-letter.v1.json");
    recs.iter()
        .map(|r| {
            let rec: Value = serde_json::from_slice(r).expect("JSON record");
            assert!(
                v.is_valid(&rec),
                "record violates dead-letter.v1.json: {rec}"
            );
            rec
        })
        .collect()
}

#[tokio::test]
async fn every_file_of_every_strategy_gets_one_document_and_caches_serve_the_rerun() {
    let svc = Services::require();
    let fx = Fixture::new();
    let url = fx.serve(&svc);
    let setup = Setup::new("e2e");
    let repo = fx.work.to_str().expect("utf-8");
    let (p_auto, p_git) = (unique("auto"), unique("git"));
    let base = [
        "--repo",
        repo,
        "--project",
        &p_auto,
        "--brokers",
        &svc.kafka_brokers,
        "--topic",
        &setup.input,
    ];
    let auto = publish(publish_config(&with_s3(&base, &svc).words())).await;
    assert!(auto.ok(), "{}", auto.summary());
    let git = publish(publish_config(&[
        "--repo",
        &url,
        "--project",
        &p_git,
        "--brokers",
        &svc.kafka_brokers,
        "--topic",
        &setup.input,
        "--content-strategy",
        "git-reference",
        "--storage-provider",
        "none",
    ]))
    .await;
    assert!(git.ok(), "{}", git.summary());

    let stats = run_consumer(setup.config(&svc, &[])).await;
    let n = fx.files.len() * 2;
    assert_eq!(
        stats.documents.load(Relaxed) as usize,
        n + 2,
        "one document per file and a summary per run"
    );
    assert_eq!(stats.dead_letters.load(Relaxed), 0);
    let (docs, summaries) = outputs(&svc, &setup.output, n, 2).await;
    assert_eq!(docs.len(), n);
    let summary = summaries
        .iter()
        .find(|s| s["project"] == p_auto.as_str())
        .expect("summary of the auto run");
    assert_eq!(summary["complete"], true);
    assert_eq!(summary["expected_files"], fx.files.len() as u64);
    assert_eq!(summary["totals"]["files"], fx.files.len() as u64);
    assert_eq!(
        summary["totals"]["bytes"],
        fx.files.values().map(|b| b.len() as u64).sum::<u64>()
    );
    assert_eq!(summary["languages"]["Rust"]["files"], 2);
    assert_eq!(summary["commit"], fx.commit.as_str());
    for project in [&p_auto, &p_git] {
        for (path, bytes) in &fx.files {
            let key = format!("{project}/{path}");
            let these = docs
                .get(&key)
                .unwrap_or_else(|| panic!("no document for {key}"));
            assert_eq!(these.len(), 1, "{key} has {} documents", these.len());
            assert_eq!(these[0]["checksum"], sha_hex(bytes), "{key}");
            assert_eq!(these[0]["size"], bytes.len() as u64);
        }
    }
    // history: the local repository's one commit changed every file within the
    // window; the remote was fetched shallowly, so its files carry none
    for path in fx.files.keys() {
        let h = &docs[&format!("{p_auto}/{path}")][0]["history"];
        assert_eq!(h["commits"], 1, "{path}: {h}");
        assert_eq!(h["window_days"], 90);
        assert_eq!(h["last_commit"], fx.commit.as_str(), "{path}");
        assert!(docs[&format!("{p_git}/{path}")][0].get("history").is_none());
    }
    assert_eq!(summary["churn"]["files"], fx.files.len() as u64);
    assert_eq!(summary["churn"]["files_changed"], fx.files.len() as u64);
    // complexity × commits: the two Rust files (cyclomatic 1, one commit), equal
    // scores in path order
    let spots: Vec<(&str, u64)> = summary["churn"]["hotspots"]
        .as_array()
        .expect("hotspots")
        .iter()
        .map(|h| {
            (
                h["path"].as_str().expect("path"),
                h["score"].as_u64().expect("score"),
            )
        })
        .collect();
    assert_eq!(
        spots,
        [("src/deeply/nested/module/mod.rs", 1), ("src/main.rs", 1)]
    );
    let main = &docs[&format!("{p_auto}/src/main.rs")][0];
    assert_eq!(main["language"], "Rust");
    assert_eq!(main["lines"], json!({"code": 3, "comment": 0, "blank": 0}));
    assert_eq!(
        docs[&format!("{p_auto}/data/large.txt")][0]["source"]["content_strategy"],
        "object_storage"
    );
    assert_eq!(
        docs[&format!("{p_git}/src/main.rs")][0]["source"]["content_strategy"],
        "git_reference"
    );
    assert_eq!(
        docs[&format!("{p_auto}/assets/logo.bin")][0]["flags"]["binary"],
        true
    );
    // first pass: every object and git file came from the network — except that
    // data/large.txt travels in both runs, and whichever resolves second may be served
    // from the cache by its checksum
    assert!(stats.cache_hits.load(Relaxed) <= 1);
    assert_eq!(
        stats.cache_lookups.load(Relaxed) as usize,
        1 + fx.files.len()
    );

    // every file was looked up whole in the analysis cache, and none was there yet —
    // though both projects hold the same paths with the same bytes: what one project's
    // documents said is never recalled for another (a project could otherwise obtain
    // documents for bytes it names by checksum only)
    assert_eq!(stats.recall_lookups.load(Relaxed) as usize, n);
    assert_eq!(stats.recall_hits.load(Relaxed), 0);
    let untimed = |mut d: Value| {
        let o = d.as_object_mut().expect("object");
        o.remove("timing");
        o.remove("analysed_at");
        d
    };
    let same_documents = |redone: &BTreeMap<String, Vec<Value>>| {
        assert_eq!(redone.len(), docs.len());
        for (key, these) in &docs {
            assert_eq!(
                untimed(redone[key][0].clone()),
                untimed(these[0].clone()),
                "{key}"
            );
        }
    };

    // a new consumer process over the same caches: every file was seen before (same
    // project, path and bytes), so its document is rebuilt from the analysis cache —
    // nothing fetched, not even from the content caches, nothing analysed — and the
    // documents are the first run's but for their timing
    let again = Setup {
        input: setup.input.clone(),
        output: unique("e2e-out2"),
        dlq: unique("e2e-dlq2"),
        group: unique("e2e-group2"),
        caches: setup.caches,
    };
    let stats = run_consumer(again.config(&svc, &[])).await;
    assert_eq!(stats.documents.load(Relaxed) as usize, n + 2);
    assert_eq!(stats.recall_hits.load(Relaxed) as usize, n);
    assert_eq!(
        stats.cache_lookups.load(Relaxed),
        0,
        "a recalled file is not fetched"
    );
    assert_eq!(stats.analysis_lookups.load(Relaxed), 0);
    let (redone, _) = outputs(&svc, &again.output, n, 2).await;
    same_documents(&redone);

    // the analysis cache off, over the same content caches: every file fetched from
    // the disk cache and analysed again, into the same documents
    let third = Setup {
        input: again.input.clone(),
        output: unique("e2e-out3"),
        dlq: unique("e2e-dlq3"),
        group: unique("e2e-group3"),
        caches: again.caches,
    };
    let stats = run_consumer(third.config(&svc, &["--analysis-cache-max-size-gb", "0"])).await;
    let (hits, lookups) = (
        stats.cache_hits.load(Relaxed),
        stats.cache_lookups.load(Relaxed),
    );
    assert!(
        lookups > 0 && hits as f64 / lookups as f64 > 0.95,
        "cache hit rate {hits}/{lookups}"
    );
    assert_eq!(stats.recall_lookups.load(Relaxed), 0);
    let (redone, _) = outputs(&svc, &third.output, n, 2).await;
    same_documents(&redone);
}

pub(crate) fn event(project: &str, files: Value) -> Value {
    json!({
        "schema_version": "2.0.0",
        "event_type": "index_project_requested",
        "event_id": uuid::Uuid::now_v7().to_string(),
        "run_id": uuid::Uuid::now_v7().to_string(),
        "occurred_at": "2026-11-23T10:00:00Z",
        "project": project,
        "source": {},
        "batch": 0,
        "files": files,
    })
}

pub(crate) async fn produce(svc: &Services, topic: &str, payloads: &[Vec<u8>]) {
    produce_to(&svc.kafka_brokers, topic, payloads).await;
}

/// [`produce`] to a broker of the test's own.
pub(crate) async fn produce_to(brokers: &str, topic: &str, payloads: &[Vec<u8>]) {
    let producer: FutureProducer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .expect("producer");
    for (i, p) in payloads.iter().enumerate() {
        // one partition, so the good event provably comes after the bad ones
        let rec = FutureRecord::to(topic).key("k").partition(0).payload(p);
        producer
            .send(rec, Duration::from_secs(30))
            .await
            .unwrap_or_else(|(e, _)| panic!("produce {i}: {e}"));
    }
}

#[tokio::test]
async fn bad_records_go_to_the_dead_letter_topic_with_reasons_and_the_daemon_keeps_going() {
    let svc = Services::require();
    let setup = Setup::new("dlq");
    let client = svc.s3_config().client().await.expect("s3");
    let prefix = unique("dlq-objects");
    let put = |key: String, body: Vec<u8>| {
        let client = client.clone();
        let bucket = svc.s3_bucket.clone();
        async move {
            client
                .put_object()
                .bucket(bucket)
                .key(key)
                .body(aws_sdk_s3::primitives::ByteStream::from(body))
                .send()
                .await
                .expect("put");
        }
    };
    let original = b"the original bytes\n".to_vec();
    put(
        format!("{prefix}/overwritten"),
        b"someone overwrote this\n".to_vec(),
    )
    .await;
    let obj = |key: &str, bytes: &[u8], extra: Value| {
        let mut f = json!({
            "path": key.rsplit('/').next().unwrap_or(key), "size": bytes.len(), "checksum": sha_hex(bytes),
            "content_strategy": "object_storage", "object_key": key,
        });
        f.as_object_mut()
            .expect("object")
            .extend(extra.as_object().expect("object").clone());
        f
    };
    let random: Vec<u8> = (0..100_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let mount = tempfile::tempdir().expect("mount");
    std::fs::create_dir_all(mount.path().join("repo")).expect("mkdir");
    std::fs::write(mount.path().join("repo/legacy.txt"), b"legacy\n").expect("write");

    let project = unique("dlq");
    let mut payloads: Vec<Vec<u8>> = vec![
        b"not json at all {".to_vec(),
        br#"{"schema_version":"9.0.0","event_type":"index_project_requested"}"#.to_vec(),
    ];
    let files = json!([
        obj(&format!("{prefix}/overwritten"), &original, json!({})),
        obj(&format!("{prefix}/never-written"), &original, json!({})),
        obj(&format!("{prefix}/ssrf"), &original, json!({"content_url": "http://169.254.169.254/latest/meta-data/", "content_url_type": "s3_presigned"})),
        {"path": "../../etc/passwd", "size": 1, "checksum": sha_hex(b"x"), "content_strategy": "inline", "content": "x", "content_encoding": "utf-8"},
        {"path": "big.bin", "size": random.len(), "checksum": sha_hex(&random), "content_strategy": "inline",
         "content": base64::engine::general_purpose::STANDARD.encode(&random), "content_encoding": "base64"},
        {"path": "bad-b64.bin", "size": 3, "checksum": sha_hex(b"abc"), "content_strategy": "inline", "content": "!!!not base64!!!", "content_encoding": "base64"},
        {"path": "wrong-sum.txt", "size": 2, "checksum": sha_hex(b"no"), "content_strategy": "inline", "content": "yes", "content_encoding": "utf-8"},
        {"path": "git.txt", "size": 1, "checksum": sha_hex(b"x"), "content_strategy": "git_reference",
         "git_url": "ext::sh -c touch% /tmp/pwned", "git_ref": "3f786850e387550fdab836ed7e6dc881de23001b"},
    ]);
    payloads.push(serde_json::to_vec(&event(&project, files)).expect("json"));
    payloads.push(
        serde_json::to_vec(&json!({
            "schema_version": "1.0.0", "event_type": "index_project_requested",
            "event_id": uuid::Uuid::now_v7().to_string(), "project": project,
            "files": [{"file_path": "repo/legacy.txt", "checksum": sha_hex(b"legacy\n")}, {"file_path": "repo/../../outside.txt"}],
        }))
        .expect("json"),
    );
    let good = b"still alive\n";
    payloads.push(
        serde_json::to_vec(&event(&project, json!([{"path": "good.txt", "size": good.len(), "checksum": sha_hex(good),
            "content_strategy": "inline", "content": "still alive\n", "content_encoding": "utf-8"}])))
        .expect("json"),
    );
    produce(&svc, &setup.input, &payloads).await;

    let cfg = setup.config(
        &svc,
        &[
            "--max-content-size",
            "64KiB",
            "--mount-root",
            mount.path().to_str().expect("utf-8"),
        ],
    );
    let stats = run_consumer(cfg).await;
    let recs = dead_letters(&svc, &setup.dlq, 11).await;
    let mut reasons: BTreeMap<String, String> = BTreeMap::new();
    for r in &recs {
        let what = r["path"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| format!("offset {}", r["source"]["offset"]));
        reasons.insert(what, r["reason"].as_str().expect("reason").to_owned());
        let msg = r["message"].as_str().expect("message");
        assert!(
            !msg.contains("169.254.169.254/latest"),
            "no URLs in messages: {msg}"
        );
    }
    let want: BTreeMap<String, String> = [
        ("offset 0", "malformed"),
        ("offset 1", "unknown_schema"),
        ("overwritten", "checksum_mismatch"),
        ("never-written", "object_missing"),
        ("ssrf", "ssrf_blocked"),
        ("../../etc/passwd", "invalid_path"),
        ("big.bin", "too_large"),
        ("bad-b64.bin", "bad_encoding"),
        ("wrong-sum.txt", "checksum_mismatch"),
        ("git.txt", "git_forbidden"),
        ("repo/../../outside.txt", "invalid_path"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_owned(), b.to_owned()))
    .collect();
    assert_eq!(reasons, want);
    // the dead letters of a file carry the event narrowed to it, re-publishable as is
    let ssrf = recs
        .iter()
        .find(|r| r["path"] == "ssrf")
        .expect("ssrf record");
    assert_eq!(ssrf["payload"]["kind"], "event");
    assert_eq!(
        ssrf["payload"]["event"]["files"]
            .as_array()
            .expect("files")
            .len(),
        1
    );
    assert!(schema("index-project-requested.v2.json").is_valid(&ssrf["payload"]["event"]));
    let raw = recs
        .iter()
        .find(|r| r["source"]["offset"] == 0)
        .expect("raw record");
    assert_eq!(
        raw["payload"],
        json!({"kind": "raw", "encoding": "utf-8", "data": "not json at all {", "truncated": false})
    );

    // the good files after all that still got their documents
    assert_eq!(stats.documents.load(Relaxed), 2);
    let docs = documents(&svc, &setup.output, 2).await;
    assert!(docs.contains_key(&format!("{project}/good.txt")));
    assert_eq!(
        docs[&format!("{project}/repo/legacy.txt")][0]["source"]["content_strategy"],
        Value::Null
    );

    // without a mount root, v1 events are dead-lettered with a clear reason
    let no_mount = Setup::new("dlq-v1");
    produce(&svc, &no_mount.input, &payloads[3..4]).await;
    let stats = run_consumer(no_mount.config(&svc, &[])).await;
    assert_eq!(stats.documents.load(Relaxed), 0);
    let recs = dead_letters(&svc, &no_mount.dlq, 2).await;
    let reasons: Vec<&str> = recs
        .iter()
        .map(|r| r["reason"].as_str().expect("reason"))
        .collect();
    assert!(reasons.contains(&"no_mount_root"), "{reasons:?}");
}

#[tokio::test]
async fn dlq_replay_after_the_cause_is_fixed() {
    let svc = Services::require();
    let setup = Setup::new("replay");
    let client = svc.s3_config().client().await.expect("s3");
    let key = format!("{}/late", unique("replay-objects"));
    let bytes = b"arrives late\n".to_vec();
    let project = unique("replay");
    let ev = event(
        &project,
        json!([{"path": "late.txt", "size": bytes.len(), "checksum": sha_hex(&bytes),
        "content_strategy": "object_storage", "object_key": key}]),
    );
    produce(
        &svc,
        &setup.input,
        &[serde_json::to_vec(&ev).expect("json")],
    )
    .await;
    let stats = run_consumer(setup.config(&svc, &[])).await;
    assert_eq!(
        (
            stats.documents.load(Relaxed),
            stats.dead_letters.load(Relaxed)
        ),
        (0, 1)
    );

    // fix the cause, then replay: the event comes back and is processed
    client
        .put_object()
        .bucket(&svc.s3_bucket)
        .key(&key)
        .body(aws_sdk_s3::primitives::ByteStream::from(bytes.clone()))
        .send()
        .await
        .expect("put");
    let cfg = tributary_consumer::replay::ReplayConfig {
        connection: tributary_runtime::kafka::Connection::plaintext(svc.kafka_brokers.clone()),
        dlq_topic: setup.dlq.clone(),
        input_topic: setup.input.clone(),
        group: unique("replay-group"),
        reasons: vec![tributary_events::dlq::Reason::ObjectMissing],
        idle: Duration::from_secs(3),
    };
    let report = tributary_consumer::replay::replay(&cfg)
        .await
        .expect("replay");
    assert_eq!(report.replayed, 1);
    // a second replay with the same group sends nothing again
    assert_eq!(
        tributary_consumer::replay::replay(&cfg)
            .await
            .expect("replay")
            .replayed,
        0
    );
    let stats = run_consumer(setup.config(&svc, &[])).await;
    assert_eq!(stats.documents.load(Relaxed), 1);
    let docs = documents(&svc, &setup.output, 1).await;
    assert_eq!(
        docs[&format!("{project}/late.txt")][0]["checksum"],
        sha_hex(&bytes)
    );
}

/// Publishes a generated folder to the setup's input topic, `batch_max_files` per event.
async fn publish_folder(
    svc: &Services,
    dir: &std::path::Path,
    project: &str,
    topic: &str,
    batch_max_files: &str,
) {
    crate::publisher::publish_inline(
        svc,
        dir,
        project,
        topic,
        &["--batch-max-files", batch_max_files],
    )
    .await;
}

/// Starts the consumer binary on a setup, with a fixed group and extra flags.
pub(crate) fn spawn_daemon(
    svc: &Services,
    setup: &Setup,
    group: &str,
    extra: &[&str],
) -> std::process::Child {
    spawn_daemon_logging_to(svc, setup, group, extra, std::process::Stdio::null())
}

/// [`spawn_daemon`] with its standard error (its log) going to `log`.
pub(crate) fn spawn_daemon_logging_to(
    svc: &Services,
    setup: &Setup,
    group: &str,
    extra: &[&str],
    log: std::process::Stdio,
) -> std::process::Child {
    let cache = setup.caches.path().join("content");
    let git = setup.caches.path().join("git");
    let analysis = setup.caches.path().join("analysis");
    let args = Args::new(["run"])
        .flag("brokers", &svc.kafka_brokers)
        .flag("group", group)
        .flag("input-topic", &setup.input)
        .flag("output-topic", &setup.output)
        .flag("dlq-topic", &setup.dlq)
        .flag("cache-dir", cache.to_str().expect("utf-8"))
        .flag("git-cache-dir", git.to_str().expect("utf-8"))
        .flag("analysis-cache-dir", analysis.to_str().expect("utf-8"))
        .with(extra);
    std::process::Command::new(tributary_tests::workspace_bin("tributary-consumer"))
        .args(&args)
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start consumer")
}

/// The crash test's daemon: slow (one file at a time, one queued event per partition,
/// so partitions are paused and resumed all along) and with static membership, so a
/// restart takes its partitions back at once instead of waiting out the killed
/// member's session.
const CRASH_FLAGS: [&str; 12] = [
    "--storage-provider",
    "none",
    "--file-concurrency",
    "1",
    "--analysis-threads",
    "1",
    "--partition-queue",
    "1",
    "--exit-when-idle",
    "5s",
    "--group-instance-id",
    "crash-test-instance",
];

#[tokio::test]
async fn kill_and_sigterm_lose_nothing() {
    let svc = Services::require();
    let setup = Setup::new("crash");
    let dir = tempfile::tempdir().expect("tempdir");
    let n = 1500;
    for i in 0..n {
        let body: String = (0..400)
            .map(|l| format!("let v{l} = {i} * {l}; // line {l}\n"))
            .collect();
        std::fs::write(dir.path().join(format!("f{i:04}.rs")), body).expect("write");
    }
    let project = unique("crash");
    publish_folder(&svc, dir.path(), &project, &setup.input, "10").await;
    let group = unique("crash-group");

    // 1. kill -9 as soon as documents flow
    let mut child = spawn_daemon(&svc, &setup, &group, &CRASH_FLAGS);
    consume_until(
        &svc.kafka_brokers,
        &setup.output,
        Duration::from_secs(60),
        |got| !got.is_empty(),
    )
    .await;
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");

    // 2. restart, then SIGTERM: it drains, commits and exits 0
    let child = spawn_daemon(&svc, &setup, &group, &CRASH_FLAGS);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let pid = child.id().to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill -TERM");
    assert!(status.success());
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .expect("join")
        .expect("wait");
    assert_eq!(
        out.status.code(),
        Some(0),
        "SIGTERM must end in a clean exit"
    );

    // offsets were committed for the group
    use rdkafka::consumer::{BaseConsumer, Consumer as _};
    let probe: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", &svc.kafka_brokers)
        .set("group.id", &group)
        .create()
        .expect("probe");
    let mut tpl = rdkafka::TopicPartitionList::new();
    for p in 0..3 {
        tpl.add_partition(&setup.input, p);
    }
    let committed = probe
        .committed_offsets(tpl, Duration::from_secs(10))
        .expect("committed offsets");
    let total: i64 = committed
        .elements()
        .iter()
        .filter_map(|e| e.offset().to_raw())
        .filter(|o| *o > 0)
        .sum();
    assert!(total > 0, "no offsets committed: {committed:?}");

    // 3. a final run finishes the rest: every file has (at least) one document
    let mut child = spawn_daemon(&svc, &setup, &group, &CRASH_FLAGS);
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .expect("join")
        .expect("wait");
    assert!(status.success());
    let want: std::collections::BTreeSet<String> =
        (0..n).map(|i| format!("{project}/f{i:04}.rs")).collect();
    let got = consume_until(
        &svc.kafka_brokers,
        &setup.output,
        Duration::from_secs(60),
        |got| {
            let keys: std::collections::BTreeSet<String> = got
                .iter()
                .filter_map(|p| serde_json::from_slice::<Value>(p).ok())
                .map(|d| {
                    format!(
                        "{}/{}",
                        d["project"].as_str().unwrap_or(""),
                        d["path"].as_str().unwrap_or("")
                    )
                })
                .collect();
            want.is_subset(&keys)
        },
    )
    .await;
    assert!(got.len() >= n);
}

/// Scrapes `url` every 200 ms until the body contains `needle` (a server not listening
/// yet is tried again); panics with the last body after `tries` attempts.
pub(crate) async fn scrape_until(
    http: &reqwest::Client,
    url: &str,
    needle: &str,
    tries: usize,
) -> String {
    let mut body = String::new();
    for _ in 0..tries {
        body = match http.get(url).send().await {
            Ok(r) => r.text().await.unwrap_or_default(),
            Err(e) => format!("(no answer: {e})"),
        };
        if body.contains(needle) {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{needle:?} never appeared on {url}:\n{body}");
}

#[tokio::test]
async fn the_daemon_serves_metrics_and_readiness() {
    let svc = Services::require();
    let setup = Setup::new("metrics");
    let good = b"fn main() {}\n";
    let project = unique("metrics");
    let ev = event(
        &project,
        json!([{"path": "src/main.rs", "size": good.len(), "checksum": sha_hex(good),
        "content_strategy": "inline", "content": "fn main() {}\n", "content_encoding": "utf-8"}]),
    );
    produce(
        &svc,
        &setup.input,
        &[serde_json::to_vec(&ev).expect("json")],
    )
    .await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let addr = format!("127.0.0.1:{port}");
    let store = setup.caches.path().to_str().expect("utf-8").to_owned();
    let mut child = spawn_daemon(
        &svc,
        &setup,
        &setup.group,
        &[
            "--metrics-addr",
            &addr,
            "--storage-provider",
            "local",
            "--storage-dir",
            &store,
        ],
    );
    let http = reqwest::Client::new();
    let url = |p: &str| format!("http://{addr}{p}");
    let mut ready = None;
    for _ in 0..100 {
        if let Ok(r) = http.get(url("/readyz")).send().await {
            ready = Some((r.status().as_u16(), r.text().await.unwrap_or_default()));
            if ready.as_ref().is_some_and(|(s, _)| *s == 200) {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(ready, Some((200, "ready".to_owned())));
    assert_eq!(
        http.get(url("/healthz"))
            .send()
            .await
            .expect("healthz")
            .status(),
        200
    );
    documents(&svc, &setup.output, 1).await;
    let metrics = scrape_until(
        &http,
        &url("/metrics"),
        "tributary_consumer_events_total 1",
        50,
    )
    .await;
    assert!(
        metrics.contains("tributary_consumer_files_total{source=\"inline\"} 1"),
        "{metrics}"
    );
    assert!(!metrics.contains(&project), "no project names in labels");
    // the group's lag, from librdkafka's statistics (every 5 s): nothing left behind
    scrape_until(
        &http,
        &url("/metrics"),
        "tributary_consumer_lag_messages 0",
        80,
    )
    .await;
    let pid = child.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill")
            .success()
    );
    assert!(child.wait().expect("wait").success());
}

#[tokio::test]
async fn a_run_shared_by_two_instances_gets_one_complete_summary() {
    let svc = Services::require();
    let setup = Setup::new("shared");
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    let admin: AdminClient<rdkafka::client::DefaultClientContext> = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", &svc.kafka_brokers)
        .create()
        .expect("admin");
    let created = admin
        .create_topics(
            &[NewTopic::new(&setup.input, 3, TopicReplication::Fixed(1))],
            &AdminOptions::new(),
        )
        .await
        .expect("create topic");
    assert!(created.iter().all(Result::is_ok));

    // two instances of one group, settled on the partitions before anything is published
    let cfg = setup.config(&svc, &["--exit-when-idle", "25s"]);
    let (a, b) = (Arc::new(Stats::default()), Arc::new(Stats::default()));
    let run_a = tokio::spawn(tributary_consumer::run(
        cfg.clone(),
        CancellationToken::new(),
        a.clone(),
    ));
    let run_b = tokio::spawn(tributary_consumer::run(
        cfg,
        CancellationToken::new(),
        b.clone(),
    ));
    tokio::time::sleep(Duration::from_secs(10)).await;

    let dir = tempfile::tempdir().expect("tempdir");
    let n = 40;
    for i in 0..n {
        std::fs::write(
            dir.path().join(format!("m{i:02}.py")),
            format!("# module {i}\nx = {i}\n"),
        )
        .expect("write");
    }
    let project = unique("shared");
    publish_folder(&svc, dir.path(), &project, &setup.input, "1").await;
    run_a.await.expect("join").expect("instance a");
    run_b.await.expect("join").expect("instance b");

    let (ma, mb) = (a.messages.load(Relaxed), b.messages.load(Relaxed));
    assert!(
        ma > 0 && mb > 0,
        "both instances worked on the run: {ma} and {mb} messages"
    );
    // at least once: a rebalance during the run could repeat work, never lose it
    assert!(
        a.documents.load(Relaxed) + b.documents.load(Relaxed) > n,
        "40 files and one summary"
    );
    let (docs, summaries) = outputs(&svc, &setup.output, n as usize, 1).await;
    assert_eq!(docs.len(), n as usize);
    let s = &summaries[0];
    assert_eq!(
        (s["complete"].as_bool(), s["totals"]["files"].as_u64()),
        (Some(true), Some(n))
    );
    assert_eq!(s["languages"]["Python"]["files"], n);
}

/// A git smart-HTTP stand-in that takes `delay` to answer 404, counting requests by path.
fn slow_git_server(delay: Duration) -> (u16, Arc<std::sync::Mutex<BTreeMap<String, usize>>>) {
    use std::io::{Read as _, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let seen = Arc::new(std::sync::Mutex::new(BTreeMap::new()));
    let s = seen.clone();
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            let s = s.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let n = conn.read(&mut buf).unwrap_or(0);
                let head = String::from_utf8_lossy(&buf[..n]).into_owned();
                let path = head.split_whitespace().nth(1).unwrap_or("").to_owned();
                let repo = path.split('/').nth(1).unwrap_or("").to_owned();
                *s.lock().expect("lock").entry(repo).or_insert(0) += 1;
                std::thread::sleep(delay);
                let _ = conn.write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
            });
        }
    });
    (port, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_revoked_partition_finishes_its_work_before_the_new_owner_starts() {
    let svc = Services::require();
    let setup = Setup::new("revoke");
    tributary_tests::create_topic(&svc.kafka_brokers, &setup.input, 2, &[]).await;
    let (port, seen) = slow_git_server(Duration::from_secs(4));
    let project = unique("revoke");
    let commit = "3f786850e387550fdab836ed7e6dc881de23001b";
    let slow = |repo: &str| {
        let file = json!([{"path": format!("{repo}.txt"), "size": 1, "checksum": sha_hex(b"x"),
            "content_strategy": "git_reference",
            "git_url": format!("http://127.0.0.1:{port}/{repo}.git"), "git_ref": commit}]);
        serde_json::to_vec(&event(&project, file)).expect("json")
    };
    let producer: FutureProducer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", &svc.kafka_brokers)
        .create()
        .expect("producer");
    for (partition, repo) in [(0, "a"), (1, "b")] {
        let payload = slow(repo);
        producer
            .send(
                FutureRecord::to(&setup.input)
                    .key(repo)
                    .partition(partition)
                    .payload(&payload),
                Duration::from_secs(30),
            )
            .await
            .map_err(|(e, _)| e)
            .expect("produce");
    }
    let cfg = setup.config(
        &svc,
        &[
            "--storage-provider",
            "none",
            "--git-allowed-schemes",
            "http",
            "--max-attempts",
            "1",
            "--exit-when-idle",
            "12s",
        ],
    );
    let first = tokio::spawn(tributary_consumer::run(
        cfg.clone(),
        CancellationToken::new(),
        Arc::new(Stats::default()),
    ));
    // the first instance is busy with both slow files…
    let busy = tokio::time::timeout(Duration::from_secs(60), async {
        while seen.lock().expect("lock").len() < 2 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert!(busy.is_ok(), "both files were fetched: {:?}", seen.lock());
    // …when a second one joins and takes a partition from it
    let second = tokio::spawn(tributary_consumer::run(
        cfg,
        CancellationToken::new(),
        Arc::new(Stats::default()),
    ));
    first.await.expect("join").expect("first instance");
    second.await.expect("join").expect("second instance");
    let requests = seen.lock().expect("lock").clone();
    assert_eq!(
        requests.values().sum::<usize>(),
        2,
        "each slow file was fetched once: the revoked one was finished, not redone: {requests:?}"
    );
    let recs = dead_letters(&svc, &setup.dlq, 2).await;
    let extra =
        tributary_tests::records_within(&svc.kafka_brokers, &setup.dlq, Duration::from_secs(3))
            .await;
    assert_eq!(recs.len(), 2);
    assert_eq!(
        extra.len(),
        2,
        "no duplicate dead letter from the new owner"
    );
}
