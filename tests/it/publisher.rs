//! The publisher against the real Kafka, S3 server and git daemon.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use clap::Parser as _;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;
use tributary_publisher::cli::{Cli, Command};
use tributary_publisher::{Config, PublishError, RunReport};
use tributary_tests::{Args, Services, consume_until, git, schema, unique, workspace_bin};

/// A repository with every kind of file the publisher must carry, committed with git.
pub(crate) struct Fixture {
    _dir: tempfile::TempDir,
    pub(crate) work: PathBuf,
    /// Committed files: path -> bytes.
    pub(crate) files: BTreeMap<String, Vec<u8>>,
    pub(crate) commit: String,
}

const LARGE: usize = 150 * 1024;

impl Fixture {
    pub(crate) fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let work = dir.path().join("widgets");
        let mut files = BTreeMap::new();
        let large: Vec<u8> = (0..LARGE).map(|i| b"abcdefghij\n"[i % 11]).collect();
        let binary: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
        let entries: Vec<(&str, Vec<u8>)> = vec![
            ("README.md", b"# widgets\n".to_vec()),
            (
                "src/main.rs",
                b"fn main() {\n    println!(\"hi\");\n}\n".to_vec(),
            ),
            (
                "src/deeply/nested/module/mod.rs",
                b"// nested\npub mod x;\n".to_vec(),
            ),
            (
                "docs/latin1.txt",
                b"caf\xe9 cr\xe8me br\xfbl\xe9e\n".to_vec(),
            ),
            ("assets/logo.bin", binary),
            ("empty.txt", Vec::new()),
            ("data/large.txt", large),
            (".gitignore", b"*.log\nbuild/\n".to_vec()),
            (
                "json/quotes.json",
                "{\"k\": \"\\\"quoted\\\" \\u0000 \u{1F600}\"}\n"
                    .as_bytes()
                    .to_vec(),
            ),
        ];
        for (path, bytes) in entries {
            let full = work.join(path);
            std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
            std::fs::write(&full, &bytes).expect("write");
            files.insert(path.to_owned(), bytes);
        }
        // ignored by .gitignore: never committed, never walked
        std::fs::write(work.join("debug.log"), b"noise").expect("write");
        std::fs::create_dir_all(work.join("build")).expect("mkdir");
        std::fs::write(work.join("build/out.txt"), b"artifact").expect("write");
        git(&work, &["init", "-q"]);
        git(&work, &["add", "-A"]);
        git(&work, &["commit", "-q", "-m", "fixture"]);
        let commit = git(&work, &["rev-parse", "HEAD"]);
        Self {
            _dir: dir,
            work,
            files,
            commit,
        }
    }

    /// Serves the repository from the git daemon; returns its git:// URL.
    pub(crate) fn serve(&self, svc: &Services) -> String {
        let name = format!("{}.git", unique("widgets"));
        let bare = svc.git_root.join(&name);
        git(
            &self.work,
            &[
                "clone",
                "-q",
                "--bare",
                ".",
                bare.to_str().expect("utf-8 path"),
            ],
        );
        format!("{}/{name}", svc.git_url)
    }
}

pub(crate) fn config(argv: &[&str]) -> Config {
    let mut full = vec!["tributary-publisher", "publish", "--progress", "off"];
    full.extend_from_slice(argv);
    let Command::Publish(args) = Cli::try_parse_from(full).expect("flags parse").command else {
        panic!("publish was parsed")
    };
    args.into_config().expect("valid config")
}

/// Publishes the folder (or repository) `repo` as `project` to `topic`, every file
/// inline (no object store), with `extra` flags; the run must succeed.
pub(crate) async fn publish_inline(
    svc: &Services,
    repo: &std::path::Path,
    project: &str,
    topic: &str,
    extra: &[&str],
) -> RunReport {
    let store = Args::new(["--storage-provider", "none"]).with(extra);
    publish_repo(svc, repo, project, topic, &store.words()).await
}

/// Publishes `repo` as `project` to `topic` with `extra` flags (the store's among
/// them); the run must succeed.
pub(crate) async fn publish_repo(
    svc: &Services,
    repo: &std::path::Path,
    project: &str,
    topic: &str,
    extra: &[&str],
) -> RunReport {
    let argv = Args::new([
        "--repo",
        repo.to_str().expect("utf-8"),
        "--project",
        project,
        "--brokers",
        &svc.kafka_brokers,
        "--topic",
        topic,
    ])
    .with(extra);
    let report = publish(config(&argv.words())).await;
    assert!(report.ok(), "{}", report.summary());
    report
}

/// `base` then the local S3 server's flags.
pub(crate) fn with_s3(base: &[&str], svc: &Services) -> Args {
    Args::new(base).with(svc.s3_args())
}

pub(crate) async fn publish(cfg: Config) -> RunReport {
    tributary_publisher::publish(cfg, CancellationToken::new())
        .await
        .expect("run starts")
}

/// Every message of one run: its batches and the completion event, validated against
/// the schemas.
pub(crate) async fn read_run(
    svc: &Services,
    topic: &str,
    report: &RunReport,
) -> (Vec<Value>, Value) {
    let run_id = report.run_id.to_string();
    let payloads = consume_until(&svc.kafka_brokers, topic, Duration::from_secs(60), |got| {
        let events: Vec<Value> = got
            .iter()
            .filter_map(|p| serde_json::from_slice(p).ok())
            .collect();
        let done = events
            .iter()
            .find(|e| e["event_type"] == "index_run_completed" && e["run_id"] == run_id.as_str());
        let batches = events
            .iter()
            .filter(|e| e["event_type"] == "index_project_requested")
            .count();
        done.is_some_and(|d| d["batches"].as_u64() == Some(batches as u64))
    })
    .await;
    let requested = schema("index-project-requested.v2.json");
    let completed = schema("index-run-completed.v2.json");
    let mut batches = Vec::new();
    let mut done = None;
    for p in payloads {
        assert!(
            p.len() <= 900_000,
            "a message of {} bytes exceeds the batch limit",
            p.len()
        );
        let v: Value = serde_json::from_slice(&p).expect("JSON");
        if v["event_type"] == "index_run_completed" {
            assert!(
                completed.is_valid(&v),
                "completion event violates the schema: {v}"
            );
            done = Some(v);
        } else {
            assert!(requested.is_valid(&v), "batch violates the schema");
            assert_eq!(v["run_id"], run_id.as_str());
            batches.push(v);
        }
    }
    (batches, done.expect("completion event"))
}

fn files_of(batches: &[Value]) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for b in batches {
        for f in b["files"].as_array().expect("files") {
            let path = f["path"].as_str().expect("path").to_owned();
            assert!(
                out.insert(path.clone(), f.clone()).is_none(),
                "{path} published twice"
            );
        }
    }
    out
}

pub(crate) fn sha_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn inline_bytes(f: &Value) -> Vec<u8> {
    let content = f["content"].as_str().expect("content");
    match f["content_encoding"].as_str() {
        Some("utf-8") => content.as_bytes().to_vec(),
        Some("base64") => base64::engine::general_purpose::STANDARD
            .decode(content)
            .expect("base64"),
        other => panic!("encoding {other:?}"),
    }
}

#[tokio::test]
async fn auto_strategy_inline_and_object_storage_exactly_once() {
    let svc = Services::require();
    let fx = Fixture::new();
    let topic = unique("pub-auto");
    let project = unique("widgets");
    let repo = fx.work.to_str().expect("utf-8");
    let base = [
        "--repo",
        repo,
        "--project",
        &project,
        "--brokers",
        &svc.kafka_brokers,
        "--topic",
        &topic,
    ];
    let report = publish(config(&with_s3(&base, &svc).words())).await;
    assert!(report.ok(), "{}", report.summary());
    assert_eq!(report.commit.as_deref(), Some(fx.commit.as_str()));
    assert_eq!(
        report.uploaded, 1,
        "only the large file goes to object storage"
    );

    let (batches, done) = read_run(&svc, &topic, &report).await;
    let published = files_of(&batches);
    assert_eq!(
        published.keys().collect::<Vec<_>>(),
        fx.files.keys().collect::<Vec<_>>()
    );
    for b in &batches {
        assert_eq!(b["source"]["git_ref"], fx.commit.as_str());
    }
    let client = svc.s3_config().client().await.expect("s3");
    let http = reqwest::Client::new();
    for (path, bytes) in &fx.files {
        let f = &published[path];
        assert_eq!(f["checksum"], sha_hex(bytes), "{path}");
        assert_eq!(f["size"], bytes.len() as u64, "{path}");
        if bytes.len() > 100 * 1024 {
            assert_eq!(f["content_strategy"], "object_storage", "{path}");
            let key = f["object_key"].as_str().expect("key");
            assert_eq!(key, format!("projects/{project}/{}.txt", sha_hex(bytes)));
            let obj = client
                .get_object()
                .bucket(&svc.s3_bucket)
                .key(key)
                .send()
                .await
                .expect("object exists");
            let stored = obj.body.collect().await.expect("body").into_bytes();
            assert_eq!(sha_hex(&stored), sha_hex(bytes));
            let url = f["content_url"].as_str().expect("presigned url");
            let got = http
                .get(url)
                .send()
                .await
                .expect("GET")
                .bytes()
                .await
                .expect("body");
            assert_eq!(&got[..], &bytes[..], "presigned URL returns the same bytes");
        } else {
            assert_eq!(f["content_strategy"], "inline", "{path}");
            assert_eq!(&inline_bytes(f), bytes, "{path} round-trips exactly");
        }
    }
    assert_eq!(published["docs/latin1.txt"]["content_encoding"], "base64");
    assert_eq!(published["assets/logo.bin"]["content_encoding"], "base64");
    assert_eq!(published["src/main.rs"]["content_encoding"], "utf-8");
    assert_eq!(done["files"]["inline"], (fx.files.len() - 1) as u64);
    assert_eq!(done["files"]["object_storage"], 1);
    assert_eq!(done["commit"], fx.commit.as_str());

    // a second run finds the object already there and uploads nothing
    let again = publish(config(&with_s3(&base, &svc).words())).await;
    assert!(again.ok(), "{}", again.summary());
    assert_eq!((again.uploaded, again.already_present), (0, 1));
    assert_ne!(again.run_id, report.run_id);
}

/// A re-index with many objects lists the bucket once instead of asking for each
/// object; an object gone from the bucket is uploaded again, whatever told the run so.
#[tokio::test]
async fn a_reindex_lists_the_bucket_instead_of_checking_each_object() {
    let svc = Services::require();
    let dir = tempfile::tempdir().expect("tempdir");
    let n = 150;
    for i in 0..n {
        std::fs::write(dir.path().join(format!("f{i}.txt")), format!("file {i}\n")).expect("write");
    }
    let (topic, project) = (unique("pub-list"), unique("listed"));
    let base = [
        "--repo",
        dir.path().to_str().expect("utf-8"),
        "--project",
        &project,
        "--brokers",
        &svc.kafka_brokers,
        "--topic",
        &topic,
        "--content-strategy",
        "object-storage",
    ];
    let first = publish(config(&with_s3(&base, &svc).words())).await;
    assert!(first.ok(), "{}", first.summary());
    assert_eq!((first.uploaded, first.already_present), (n, 0));

    // one object disappears (a lifecycle rule, an operator)
    let client = svc.s3_config().client().await.expect("s3");
    let gone = format!("projects/{project}/{}.txt", sha_hex(b"file 7\n"));
    client
        .delete_object()
        .bucket(&svc.s3_bucket)
        .key(&gone)
        .send()
        .await
        .expect("delete");
    let again = publish(config(&with_s3(&base, &svc).words())).await;
    assert!(again.ok(), "{}", again.summary());
    assert_eq!((again.uploaded, again.already_present), (1, n - 1));
    // after the first LIST_AFTER_OBJECTS objects, the listing answered for the rest
    let after = n - tributary_publisher::LIST_AFTER_OBJECTS;
    assert!(
        (after - 1..=after).contains(&again.listed),
        "{} of {n} known from the listing",
        again.listed
    );
    client
        .head_object()
        .bucket(&svc.s3_bucket)
        .key(&gone)
        .send()
        .await
        .expect("the missing object was uploaded again");
}

#[tokio::test]
async fn git_references_resolve_through_the_git_server() {
    let svc = Services::require();
    let fx = Fixture::new();
    let url = fx.serve(&svc);
    let topic = unique("pub-git");
    let project = unique("widgets");
    let cfg = config(&[
        "--repo",
        &url,
        "--project",
        &project,
        "--brokers",
        &svc.kafka_brokers,
        "--topic",
        &topic,
        "--content-strategy",
        "git-reference",
        "--storage-provider",
        "none",
    ]);
    let report = publish(cfg).await;
    assert!(report.ok(), "{}", report.summary());
    assert_eq!(report.files.git_reference as usize, fx.files.len());
    let (batches, _) = read_run(&svc, &topic, &report).await;
    assert_eq!(batches[0]["source"]["git_url"], url.as_str());
    assert_eq!(batches[0]["source"]["git_branch"], "main");
    let published = files_of(&batches);

    // resolve every reference over git:// into a fresh repository
    let dir = tempfile::tempdir().expect("tempdir");
    let local = git2::Repository::init_bare(dir.path()).expect("init");
    let mut remote = local.remote_anonymous(&url).expect("remote");
    let mut opts = git2::FetchOptions::new();
    opts.depth(1);
    remote
        .fetch(&[fx.commit.as_str()], Some(&mut opts), None)
        .expect("fetch commit");
    let tree = local
        .find_commit(git2::Oid::from_str(&fx.commit).expect("oid"))
        .expect("commit")
        .tree()
        .expect("tree");
    for (path, bytes) in &fx.files {
        let f = &published[path];
        assert_eq!(f["content_strategy"], "git_reference");
        assert_eq!(f["git_url"], url.as_str());
        assert_eq!(f["git_ref"], fx.commit.as_str());
        let blob = local
            .find_blob(tree.get_path(Path::new(path)).expect("in tree").id())
            .expect("blob");
        assert_eq!(blob.content(), &bytes[..], "{path}");
        assert_eq!(f["checksum"], sha_hex(blob.content()));
    }
}

#[tokio::test]
async fn a_ref_selects_the_commit_and_working_tree_reads_the_disk() {
    let svc = Services::require();
    let fx = Fixture::new();
    std::fs::write(fx.work.join("README.md"), b"# changed, uncommitted\n").expect("write");
    std::fs::write(fx.work.join("untracked.txt"), b"new").expect("write");
    git(&fx.work, &["tag", "v1"]);
    let repo = fx.work.to_str().expect("utf-8");

    // the tag's commit, not the working directory
    let topic = unique("pub-ref");
    let cfg = config(&[
        "--repo",
        repo,
        "--ref",
        "v1",
        "--brokers",
        &svc.kafka_brokers,
        "--topic",
        &topic,
        "--storage-provider",
        "none",
    ]);
    let report = publish(cfg).await;
    assert_eq!(report.commit.as_deref(), Some(fx.commit.as_str()));
    assert_eq!(
        report.skipped_by_reason.get("no_strategy"),
        Some(&1),
        "the large file has nowhere to go"
    );
    let (batches, done) = read_run(&svc, &topic, &report).await;
    let published = files_of(&batches);
    assert_eq!(inline_bytes(&published["README.md"]), b"# widgets\n");
    assert!(!published.contains_key("untracked.txt"));
    assert_eq!(done["skipped"][0]["path"], "data/large.txt");

    // --working-tree: files as they are on disk, .gitignore honoured
    let topic = unique("pub-wt");
    let local_store = tempfile::tempdir().expect("tempdir");
    let cfg = config(&[
        "--repo",
        repo,
        "--working-tree",
        "--brokers",
        &svc.kafka_brokers,
        "--topic",
        &topic,
        "--storage-provider",
        "local",
        "--storage-dir",
        local_store.path().to_str().expect("utf-8"),
    ]);
    let report = publish(cfg).await;
    assert!(report.ok(), "{}", report.summary());
    assert_eq!(report.commit, None);
    let (batches, _) = read_run(&svc, &topic, &report).await;
    let published = files_of(&batches);
    assert_eq!(
        inline_bytes(&published["README.md"]),
        b"# changed, uncommitted\n"
    );
    assert!(published.contains_key("untracked.txt"));
    assert!(!published.contains_key("debug.log") && !published.contains_key("build/out.txt"));
    assert!(!published.keys().any(|p| p.starts_with(".git/")));
    let key = published["data/large.txt"]["object_key"]
        .as_str()
        .expect("key");
    assert_eq!(
        std::fs::read(local_store.path().join(key)).expect("local object"),
        fx.files["data/large.txt"]
    );
}

#[tokio::test]
async fn batches_respect_the_byte_limit_on_the_real_broker() {
    let svc = Services::require();
    let dir = tempfile::tempdir().expect("tempdir");
    // 80 files just under the inline limit, escaped-heavy so JSON grows past raw size
    for i in 0..80 {
        let body: String = (0..95 * 1024)
            .map(|j| if (i + j) % 7 == 0 { '"' } else { 'x' })
            .collect();
        std::fs::write(dir.path().join(format!("f{i:03}.txt")), body).expect("write");
    }
    let topic = unique("pub-limit");
    let cfg = config(&[
        "--repo",
        dir.path().to_str().expect("utf-8"),
        "--project",
        "limits",
        "--brokers",
        &svc.kafka_brokers,
        "--topic",
        &topic,
        "--storage-provider",
        "none",
    ]);
    let report = publish(cfg).await;
    assert!(report.ok(), "{}", report.summary());
    assert!(
        report.batches_produced >= 9,
        "{} batches",
        report.batches_produced
    );
    let (batches, _) = read_run(&svc, &topic, &report).await; // asserts every message <= 900,000 bytes
    assert_eq!(files_of(&batches).len(), 80);
}

#[tokio::test]
async fn an_unreachable_object_store_falls_back_to_inline_and_fails_what_cannot() {
    let svc = Services::require();
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("medium.txt"), "m".repeat(300 * 1024)).expect("write");
    std::fs::write(dir.path().join("huge.txt"), "h".repeat(2 * 1024 * 1024)).expect("write");
    std::fs::write(dir.path().join("small.txt"), "s").expect("write");
    let topic = unique("pub-down");
    let cfg = config(&[
        "--repo",
        dir.path().to_str().expect("utf-8"),
        "--brokers",
        &svc.kafka_brokers,
        "--topic",
        &topic,
        "--storage-provider",
        "minio",
        "--storage-endpoint",
        "http://127.0.0.1:1",
        "--storage-access-key-id",
        "x",
        "--storage-secret-access-key",
        "y",
    ]);
    let report = publish(cfg).await;
    assert!(
        !report.ok(),
        "a file that could not go anywhere must fail the run"
    );
    assert_eq!(report.failed_total, 1);
    assert_eq!(report.failed[0].path, "huge.txt");
    assert_eq!(report.files.inline, 2, "medium.txt fell back to inline");
    assert_eq!(report.files.object_storage, 0);
    let (batches, done) = read_run(&svc, &topic, &report).await;
    let published = files_of(&batches);
    assert_eq!(published["medium.txt"]["content_strategy"], "inline");
    assert!(
        !published.contains_key("huge.txt"),
        "no reference to an object that was not written"
    );
    assert_eq!(done["skipped_by_reason"]["failed"], 1);
}

#[tokio::test]
async fn bad_inputs_get_clear_errors() {
    let svc = Services::require();
    let fx = Fixture::new();
    let repo = fx.work.to_str().expect("utf-8");
    let topic = unique("pub-bad");
    let run = |argv: Vec<String>| async move {
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        tributary_publisher::publish(config(&argv), CancellationToken::new()).await
    };
    let brokers = svc.kafka_brokers.clone();
    let with = |extra: &[&str]| -> Vec<String> {
        Args::default()
            .flag("brokers", &brokers)
            .flag("topic", &topic)
            .flag("storage-provider", "none")
            .with(extra)
            .into_iter()
            .collect()
    };

    let e = run(with(&["--repo", "/definitely/not/here"]))
        .await
        .expect_err("missing path");
    assert!(matches!(e, PublishError::MissingRepo(_)), "{e}");
    let e = run(with(&["--repo", repo, "--ref", "no-such-branch"]))
        .await
        .expect_err("unknown ref");
    assert!(matches!(e, PublishError::UnknownRef { .. }), "{e}");
    let url = fx.serve(&svc);
    let e = run(with(&["--repo", &url, "--ref", "no-such-branch"]))
        .await
        .expect_err("unknown remote ref");
    assert!(matches!(e, PublishError::UnknownRef { .. }), "{e}");
    let e = run(with(&[
        "--repo",
        &format!("{}/{}.git", svc.git_url, unique("absent")),
    ]))
    .await
    .expect_err("no repo there");
    assert!(matches!(e, PublishError::Git { .. }), "{e}");
    let e = run(with(&["--repo", "http://127.0.0.1:9/not-git.git"]))
        .await
        .expect_err("not a git server");
    assert!(matches!(e, PublishError::Git { .. }), "{e}");

    let mut unreachable = with(&["--repo", repo]);
    unreachable[1] = "127.0.0.1:1".into();
    let e = run(unreachable).await.expect_err("unreachable broker");
    assert!(matches!(e, PublishError::KafkaUnreachable { .. }), "{e}");

    let s3 = svc
        .s3_args()
        .flag("storage-bucket", unique("no-such-bucket"));
    let mut args = with(&["--repo", repo]);
    args.retain(|a| a != "--storage-provider" && a != "none");
    args.extend(s3);
    let e = run(args).await.expect_err("unwritable bucket");
    assert!(matches!(e, PublishError::Store(_)), "{e}");
    assert!(
        tributary_runtime::chain(&e).contains("NoSuchBucket"),
        "{}",
        tributary_runtime::chain(&e)
    );

    // the binary turns these into a message and a non-zero exit
    let out = std::process::Command::new(workspace_bin("tributary-publisher"))
        .args([
            "publish",
            "--repo",
            "/definitely/not/here",
            "--brokers",
            &svc.kafka_brokers,
        ])
        .output()
        .expect("run binary");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("\"/definitely/not/here\" does not exist"),
        "{stderr}"
    );
}

#[tokio::test]
async fn dry_run_plans_and_produces_nothing() {
    let svc = Services::require();
    let fx = Fixture::new();
    let topic = unique("pub-dry");
    let repo = fx.work.to_str().expect("utf-8");
    let base = [
        "--repo",
        repo,
        "--brokers",
        "127.0.0.1:1",
        "--topic",
        &topic,
        "--dry-run",
    ];
    let report = publish(config(&with_s3(&base, &svc).words())).await;
    assert!(report.ok(), "{}", report.summary());
    assert_eq!(report.plan.len(), fx.files.len());
    assert_eq!(report.batches_produced, 1);
    let large = report
        .plan
        .iter()
        .find(|p| p.path == "data/large.txt")
        .expect("planned");
    assert_eq!(large.strategy, "object_storage");
    assert_eq!(report.uploaded, 0);

    let out = std::process::Command::new(workspace_bin("tributary-publisher"))
        .args([
            "publish",
            "--repo",
            repo,
            "--dry-run",
            "--storage-provider",
            "none",
            "--brokers",
            &svc.kafka_brokers,
            "--topic",
            &topic,
        ])
        .output()
        .expect("run binary");
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("inline") && stdout.contains("src/main.rs") && stdout.contains("planned"),
        "{stdout}"
    );

    // nothing reached the broker: the topic was never created
    use rdkafka::consumer::{BaseConsumer, Consumer};
    let c: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", &svc.kafka_brokers)
        .create()
        .expect("client");
    let md = c
        .fetch_metadata(None, Duration::from_secs(10))
        .expect("metadata");
    assert!(
        md.topics().iter().all(|t| t.name() != topic),
        "dry run created {topic}"
    );
}

#[tokio::test]
async fn a_git_url_that_does_not_answer_makes_the_run_fall_back_to_the_bytes_at_hand() {
    let svc = Services::require();
    let fx = Fixture::new();
    // the URL consumers would fetch from: a port where nothing listens
    let dead = format!(
        "git://127.0.0.1:{}/widgets.git",
        tributary_tests::free_port()
    );
    let topic = unique("pub-git-fallback");
    let repo = fx.work.to_str().expect("utf-8");
    let args = with_s3(
        &[
            "--repo",
            repo,
            "--brokers",
            &svc.kafka_brokers,
            "--topic",
            &topic,
            "--content-strategy",
            "git-reference",
            "--git-url",
            &dead,
        ],
        &svc,
    );
    let started = std::time::Instant::now();
    let report = publish(config(&args.words())).await;
    assert!(report.ok(), "{}", report.summary());
    let fallback = report.git_fallback.clone().expect("a fallback");
    assert_eq!(
        (fallback.git_url.as_str(), fallback.attempts),
        (dead.as_str(), 3)
    );
    assert!(
        report.summary().contains("git references: not used"),
        "{}",
        report.summary()
    );
    // three attempts, 1 s and 2 s apart, each refused at once: seconds, not minutes
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
    assert_eq!(report.files.git_reference, 0);
    assert_eq!(
        (report.files.inline + report.files.object_storage) as usize,
        fx.files.len(),
        "{}",
        report.summary()
    );
    let (batches, _) = read_run(&svc, &topic, &report).await;
    for (path, f) in files_of(&batches) {
        assert_ne!(f["content_strategy"], "git_reference", "{path}");
        assert_eq!(f["checksum"], sha_hex(&fx.files[&path]), "{path}");
    }
}
