//! `tributary-publisher watch` against the real git daemon and Kafka: deltas,
//! tombstones, webhooks, a watcher killed mid-run, force-pushes.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::Parser as _;
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use tributary_publisher::cli::{Cli, Command};
use tributary_publisher::watch::{WatchConfig, Watcher};
use tributary_tests::{Args, Record, Services, consume_records_until, git, unique, workspace_bin};

use crate::consumer::{Setup, outputs, run_consumer};

/// A working repository pushed to a bare one the git daemon serves.
pub(crate) struct Served {
    _dir: tempfile::TempDir,
    pub(crate) work: PathBuf,
    pub(crate) bare: PathBuf,
    pub(crate) url: String,
}

impl Served {
    pub(crate) fn new(svc: &Services, files: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let work = dir.path().join("work");
        std::fs::create_dir_all(&work).expect("mkdir");
        git(&work, &["init", "-q"]);
        let name = format!("{}.git", unique("watched"));
        let bare = svc.git_root.join(&name);
        git(
            &work,
            &["init", "-q", "--bare", bare.to_str().expect("utf-8")],
        );
        git(
            &work,
            &["remote", "add", "origin", bare.to_str().expect("utf-8")],
        );
        let served = Served {
            _dir: dir,
            work,
            bare,
            url: format!("{}/{name}", svc.git_url),
        };
        served.commit(files, &[], "initial");
        served
    }

    /// Writes `files`, removes `removed`, commits and pushes; returns the commit.
    pub(crate) fn commit(&self, files: &[(&str, &str)], removed: &[&str], msg: &str) -> String {
        for (p, text) in files {
            let path = self.work.join(p);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, text).expect("write");
        }
        for p in removed {
            git(&self.work, &["rm", "-q", p]);
        }
        git(&self.work, &["add", "-A"]);
        git(&self.work, &["commit", "-q", "-m", msg]);
        git(
            &self.work,
            &["push", "-q", "--force", "origin", "HEAD:main"],
        );
        git(&self.work, &["rev-parse", "HEAD"])
    }
}

pub(crate) fn watch_file(
    dir: &Path,
    project: &str,
    url: &str,
    poll_secs: u64,
    extra: &str,
) -> PathBuf {
    let path = dir.join("watch.toml");
    std::fs::write(
        &path,
        format!(
            "poll_interval_secs = {poll_secs}\n{extra}\n[[repository]]\nproject = \"{project}\"\nurl = \"{url}\"\nbranches = [\"main\"]\n"
        ),
    )
    .expect("write watch file");
    path
}

fn watch_config(
    svc: &Services,
    file: &Path,
    state: &Path,
    topic: &str,
    listen: bool,
) -> WatchConfig {
    watch_config_with(svc, file, state, topic, listen, &[])
}

pub(crate) fn watch_config_with(
    svc: &Services,
    file: &Path,
    state: &Path,
    topic: &str,
    listen: bool,
    extra: &[&str],
) -> WatchConfig {
    let mut argv = Args::new(["tributary-publisher", "watch"])
        .flag("watch-file", file.display().to_string())
        .flag("state-dir", state.display().to_string())
        .flag("brokers", &svc.kafka_brokers)
        .flag("topic", topic)
        .flag("storage-provider", "none")
        .flag("reload-check", "200ms")
        .flag("max-backoff", "2s");
    if listen {
        argv = argv.flag("listen", "127.0.0.1:0");
    }
    argv = argv.with(extra);
    let Command::Watch(args) = Cli::try_parse_from(argv).expect("flags parse").command else {
        panic!("watch was parsed")
    };
    args.into_config().expect("valid watch config")
}

pub(crate) async fn wait_for_cursor(w: &Watcher, project: &str, want: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    while w.cursor(project, "main").as_deref() != Some(want) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "cursor of {project} is {:?}, not {want}",
            w.cursor(project, "main")
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The runs on the index topic: (completion event, file entries), by commit.
struct Runs {
    runs: Vec<(Value, Vec<Value>)>,
}

impl Runs {
    async fn read(svc: &Services, topic: &str, commits: &[&str]) -> Self {
        // the completion event and the batches sit on different partitions: read until
        // every wanted run has as many entries as its completion event announces
        let parse = |recs: &[Record]| -> Vec<Value> {
            recs.iter()
                .filter_map(|r| serde_json::from_slice(r.payload.as_deref()?).ok())
                .collect()
        };
        let records =
            consume_records_until(&svc.kafka_brokers, topic, Duration::from_secs(60), |recs| {
                let events = parse(recs);
                commits.iter().all(|c| {
                    events
                        .iter()
                        .filter(|v| v["event_type"] == "index_run_completed" && v["commit"] == *c)
                        .any(|done| {
                            let announced: u64 = ["inline", "object_storage", "git_reference"]
                                .iter()
                                .map(|k| done["files"][k].as_u64().unwrap_or(0))
                                .sum::<u64>()
                                + done["deleted"].as_u64().unwrap_or(0);
                            let got: usize = events
                                .iter()
                                .filter(|e| {
                                    e["event_type"] == "index_project_requested"
                                        && e["run_id"] == done["run_id"]
                                })
                                .map(|e| e["files"].as_array().map_or(0, Vec::len))
                                .sum();
                            got as u64 == announced
                        })
                })
            })
            .await;
        let events = parse(&records);
        let runs = events
            .iter()
            .filter(|v| v["event_type"] == "index_run_completed")
            .map(|done| {
                let files = events
                    .iter()
                    .filter(|e| {
                        e["event_type"] == "index_project_requested"
                            && e["run_id"] == done["run_id"]
                    })
                    .flat_map(|e| e["files"].as_array().cloned().unwrap_or_default())
                    .collect();
                (done.clone(), files)
            })
            .collect();
        Runs { runs }
    }

    fn of(&self, commit: &str) -> &(Value, Vec<Value>) {
        self.runs
            .iter()
            .find(|(done, _)| done["commit"] == commit)
            .unwrap_or_else(|| panic!("no completed run for {commit}"))
    }

    /// (present paths, deleted paths) of a commit's run.
    fn paths(&self, commit: &str) -> (BTreeSet<String>, BTreeSet<String>) {
        let (_, files) = self.of(commit);
        let mut present = BTreeSet::new();
        let mut deleted = BTreeSet::new();
        for f in files {
            let p = f["path"].as_str().expect("path").to_owned();
            if f["change"] == "deleted" {
                assert!(
                    f.get("content").is_none() && f.get("checksum").is_none(),
                    "a deletion carries no content"
                );
                deleted.insert(p);
            } else {
                present.insert(p);
            }
        }
        (present, deleted)
    }
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test]
async fn a_pushed_commit_publishes_only_what_changed_and_deletions_are_tombstoned() {
    let svc = Services::require();
    let repo = Served::new(
        &svc,
        &[
            ("README.md", "# demo\n"),
            ("src/main.rs", "fn main() {}\n"),
            ("src/keep.rs", "pub fn keep() {}\n"),
            ("docs/old-name.md", "moved\n"),
        ],
    );
    let c1 = git(&repo.work, &["rev-parse", "HEAD"]);
    let setup = Setup::new("watch-delta");
    let project = unique("watched");
    let state = tempfile::tempdir().expect("tempdir");
    let file = watch_file(state.path(), &project, &repo.url, 1, "");
    let cancel = CancellationToken::new();
    let (watcher, _) = Watcher::start(
        watch_config(
            &svc,
            &file,
            &state.path().join("state"),
            &setup.input,
            false,
        ),
        cancel.clone(),
    )
    .await
    .expect("watcher starts");
    wait_for_cursor(&watcher, &project, &c1).await;

    std::fs::rename(
        repo.work.join("docs/old-name.md"),
        repo.work.join("docs/new-name.md"),
    )
    .expect("rename");
    let c2 = repo.commit(
        &[
            ("src/main.rs", "fn main() { println!(\"changed\"); }\n"),
            ("src/added.rs", "pub fn added() {}\n"),
        ],
        &["README.md"],
        "change",
    );
    // the poller sees the new head within its interval
    wait_for_cursor(&watcher, &project, &c2).await;
    cancel.cancel();

    let runs = Runs::read(&svc, &setup.input, &[&c1, &c2]).await;
    let (present, deleted) = runs.paths(&c1);
    assert_eq!(
        present,
        set(&[
            "README.md",
            "docs/old-name.md",
            "src/keep.rs",
            "src/main.rs"
        ]),
        "the first run is full"
    );
    assert!(deleted.is_empty());
    let (present, deleted) = runs.paths(&c2);
    assert_eq!(
        present,
        set(&["docs/new-name.md", "src/added.rs", "src/main.rs"]),
        "only what changed"
    );
    assert_eq!(
        deleted,
        set(&["README.md", "docs/old-name.md"]),
        "removed and renamed-away files"
    );
    assert_eq!(runs.of(&c2).0["deleted"], 2);

    // the consumer tombstones the deleted files' documents; the summary counts them
    run_consumer(setup.config(&svc, &["--summary-wait", "30s"])).await;
    let (_, summaries) = outputs(&svc, &setup.output, 4 + 3, 2).await;
    let latest = summaries
        .iter()
        .find(|s| s["commit"] == c2.as_str())
        .expect("summary of the delta run");
    assert_eq!(
        (
            latest["expected_files"].as_u64(),
            latest["deleted_files"].as_u64()
        ),
        (Some(3), Some(2))
    );
    let records = consume_records_until(
        &svc.kafka_brokers,
        &setup.output,
        Duration::from_secs(30),
        |r: &[Record]| r.iter().filter(|x| x.payload.is_none()).count() >= 2,
    )
    .await;
    let tombstones: BTreeSet<String> = records
        .iter()
        .filter(|r| r.payload.is_none())
        .filter_map(|r| r.key.clone())
        .collect();
    assert_eq!(
        tombstones,
        set(&[
            &format!("{project}/README.md"),
            &format!("{project}/docs/old-name.md")
        ])
    );
}

#[tokio::test]
async fn webhooks_are_verified_and_only_a_signed_push_triggers_indexing() {
    let svc = Services::require();
    let repo = Served::new(&svc, &[("a.txt", "one\n")]);
    let c1 = git(&repo.work, &["rev-parse", "HEAD"]);
    let setup = Setup::new("watch-hooks");
    let project = unique("hooked");
    let state = tempfile::tempdir().expect("tempdir");
    let secret_file = state.path().join("gh-secret");
    std::fs::write(&secret_file, "it-webhook-secret\n").expect("write secret");
    let gl_file = state.path().join("gl-token");
    std::fs::write(&gl_file, "it-gitlab-token").expect("write token");
    let extra = format!(
        "[webhooks]\ngithub_secret = \"file:{}\"\ngitlab_token = \"file:{}\"\ngitea_secret = \"file:{}\"\n",
        secret_file.display(),
        gl_file.display(),
        secret_file.display()
    );
    // polling off: only webhooks (and the start-up catch-up) trigger runs
    let file = watch_file(state.path(), &project, &repo.url, 0, &extra);
    let cancel = CancellationToken::new();
    let (watcher, addr) = Watcher::start(
        watch_config(&svc, &file, &state.path().join("state"), &setup.input, true),
        cancel.clone(),
    )
    .await
    .expect("watcher starts");
    let base = format!("http://{}", addr.expect("listening"));
    wait_for_cursor(&watcher, &project, &c1).await;
    let c2 = repo.commit(&[("b.txt", "two\n")], &[], "second");

    let key = b"it-webhook-secret";
    let body = serde_json::json!({
        "ref": "refs/heads/main",
        "after": c2,
        "repository": {"clone_url": repo.url, "html_url": "https://example.invalid/x"},
    })
    .to_string();
    let sig = tributary_publisher::watch::webhook::sign(key, body.as_bytes());
    let client = reqwest::Client::new();
    let post = |path: &str, headers: Vec<(&str, String)>, body: Vec<u8>| {
        let mut req = client.post(format!("{base}{path}")).body(body);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        async move { req.send().await.expect("request").status().as_u16() }
    };
    let gh = |sig: Option<String>, delivery: &str| {
        let mut h = vec![
            ("X-GitHub-Event", "push".to_owned()),
            ("X-GitHub-Delivery", delivery.to_owned()),
        ];
        if let Some(s) = sig {
            h.push(("X-Hub-Signature-256", s));
        }
        h
    };
    let b = || body.clone().into_bytes();
    assert_eq!(
        post("/hooks/github", gh(None, "d-missing"), b()).await,
        401,
        "missing signature"
    );
    assert_eq!(
        post(
            "/hooks/github",
            gh(Some(format!("sha256={}", "0".repeat(64))), "d-wrong"),
            b()
        )
        .await,
        401,
        "wrong signature"
    );
    assert_eq!(
        post(
            "/hooks/github",
            gh(Some(format!("sha256={}", &sig[..40])), "d-trunc"),
            b()
        )
        .await,
        401,
        "truncated signature"
    );
    let mut sha1_only = gh(None, "d-sha1");
    sha1_only.push(("X-Hub-Signature", format!("sha1={}", &sig[..40])));
    assert_eq!(
        post("/hooks/github", sha1_only, b()).await,
        401,
        "SHA-1 only"
    );
    let other = body.replace(&repo.url, "git://127.0.0.1:9418/not-watched.git");
    let other_sig = tributary_publisher::watch::webhook::sign(key, other.as_bytes());
    assert_eq!(
        post(
            "/hooks/github",
            gh(Some(format!("sha256={other_sig}")), "d-unknown"),
            other.into_bytes()
        )
        .await,
        404,
        "unknown repository"
    );
    let huge = vec![b' '; 26 * 1024 * 1024];
    assert_eq!(
        post(
            "/hooks/github",
            gh(Some(format!("sha256={sig}")), "d-huge"),
            huge
        )
        .await,
        413,
        "oversized body"
    );
    assert_eq!(
        post(
            "/hooks/gitlab",
            vec![("X-Gitlab-Token", "wrong".into())],
            b()
        )
        .await,
        401,
        "wrong GitLab token"
    );
    assert_eq!(
        post(
            "/hooks/gitea",
            vec![("X-Gitea-Signature", "00".repeat(32))],
            b()
        )
        .await,
        401,
        "wrong Gitea signature"
    );
    // none of that indexed anything
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        watcher.cursor(&project, "main").as_deref(),
        Some(c1.as_str()),
        "a rejected request indexed"
    );

    assert_eq!(
        post(
            "/hooks/github",
            gh(Some(format!("sha256={sig}")), "d-good"),
            b()
        )
        .await,
        202
    );
    wait_for_cursor(&watcher, &project, &c2).await;
    assert_eq!(
        post(
            "/hooks/github",
            gh(Some(format!("sha256={sig}")), "d-good"),
            b()
        )
        .await,
        409,
        "replayed delivery"
    );
    // Gitea and GitLab deliveries with the right secrets are accepted
    assert_eq!(
        post(
            "/hooks/gitea",
            vec![
                ("X-Gitea-Signature", sig.clone()),
                ("X-Gitea-Delivery", "g1".into())
            ],
            b()
        )
        .await,
        202
    );
    assert_eq!(
        post(
            "/hooks/gitlab",
            vec![("X-Gitlab-Token", "it-gitlab-token".into())],
            b()
        )
        .await,
        202
    );
    // deploy/git-hooks/post-receive, installed in the served repository, signs and
    // sends the push itself
    let hook = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/git-hooks/post-receive");
    let hooks = repo.bare.join("hooks");
    std::fs::copy(&hook, hooks.join("post-receive")).expect("install hook");
    std::fs::write(
        hooks.join("tributary.env"),
        format!(
            "TRIBUTARY_WEBHOOK_URL={base}/hooks/gitea\nTRIBUTARY_WEBHOOK_SECRET=it-webhook-secret\nTRIBUTARY_REPO_URL={}\n",
            repo.url
        ),
    )
    .expect("hook env");
    let c3 = repo.commit(&[("c.txt", "three\n")], &[], "third");
    wait_for_cursor(&watcher, &project, &c3).await;
    cancel.cancel();
    let runs = Runs::read(&svc, &setup.input, &[&c2, &c3]).await;
    assert_eq!(runs.paths(&c2).0, set(&["b.txt"]));
    assert_eq!(runs.paths(&c3).0, set(&["c.txt"]));
}

#[tokio::test]
async fn a_watcher_killed_mid_run_indexes_the_commit_after_restart_and_a_force_push_runs_in_full() {
    let svc = Services::require();
    let repo = Served::new(&svc, &[("seed.txt", "seed\n")]);
    let c1 = git(&repo.work, &["rev-parse", "HEAD"]);
    let setup = Setup::new("watch-kill");
    let project = unique("killed");
    let state = tempfile::tempdir().expect("tempdir");
    let file = watch_file(state.path(), &project, &repo.url, 1, "");
    let state_dir = state.path().join("state");
    let bin = tributary_tests::workspace_bin("tributary-publisher");
    let metrics_port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let metrics_addr = format!("127.0.0.1:{metrics_port}");
    let spawn = || {
        std::process::Command::new(&bin)
            .args(["watch", "--watch-file"])
            .arg(&file)
            .arg("--state-dir")
            .arg(&state_dir)
            .args([
                "--brokers",
                &svc.kafka_brokers,
                "--topic",
                &setup.input,
                "--storage-provider",
                "none",
                // slow batches, so that the kill lands inside the run
                "--batch-max-files",
                "20",
                "--max-in-flight-batches",
                "1",
                "--linger-ms",
                "300",
                "--metrics-addr",
                &metrics_addr,
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("watcher starts")
    };
    let cursor = || -> Option<String> {
        let text = std::fs::read(state_dir.join("cursors.json")).ok()?;
        let v: Value = serde_json::from_slice(&text).ok()?;
        v["cursors"][&project]["main"].as_str().map(str::to_owned)
    };
    let wait = |want: String| async move {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
        while cursor().as_deref() != Some(want.as_str()) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "cursor never reached {want}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let mut child = spawn();
    wait(c1.clone()).await;
    // the daemon's metrics: what it watches and what it indexed (no project or path
    // in any label)
    let metrics = reqwest::get(format!("http://{metrics_addr}/metrics"))
        .await
        .expect("metrics answer")
        .text()
        .await
        .expect("metrics text");
    for line in [
        "tributary_watch_repositories 1",
        "tributary_watch_branches 1",
        "tributary_watch_commits_indexed_total{kind=\"full\"} 1",
    ] {
        assert!(metrics.contains(line), "{line} missing from:\n{metrics}");
    }
    assert!(metrics.contains("tributary_watch_run_files"));
    assert!(!metrics.contains(&project), "a project name is a label");
    let many: Vec<(String, String)> = (0..300)
        .map(|i| (format!("gen/f{i:03}.txt"), format!("file {i}\n")))
        .collect();
    let refs: Vec<(&str, &str)> = many.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let c2 = repo.commit(&refs, &[], "many");
    // wait until the run for c2 has produced its first batch, then kill -9
    consume_records_until(
        &svc.kafka_brokers,
        &setup.input,
        Duration::from_secs(60),
        |recs| {
            recs.iter()
                .filter_map(|r| serde_json::from_slice::<Value>(r.payload.as_deref()?).ok())
                .any(|v| {
                    v["event_type"] == "index_project_requested"
                        && v["source"]["git_ref"] == c2.as_str()
                })
        },
    )
    .await;
    child.kill().expect("kill -9");
    let _ = child.wait();
    assert_eq!(
        cursor().as_deref(),
        Some(c1.as_str()),
        "the cursor advanced before the run was acknowledged"
    );

    let mut child = spawn();
    wait(c2.clone()).await;
    let runs = Runs::read(&svc, &setup.input, &[&c1, &c2]).await;
    let (present, deleted) = runs.paths(&c2);
    assert_eq!(
        present.len(),
        300,
        "the restarted run carries the whole delta"
    );
    let c1_runs = runs
        .runs
        .iter()
        .filter(|(done, _)| done["commit"] == c1.as_str())
        .count();
    assert_eq!(
        c1_runs, 1,
        "the finished run was published again after the restart"
    );
    assert!(deleted.is_empty());

    // force-push an unrelated history: a full run of the new tree
    git(&repo.work, &["checkout", "-q", "--orphan", "rewritten"]);
    git(&repo.work, &["rm", "-rq", "--cached", "."]);
    for entry in std::fs::read_dir(&repo.work).expect("read work") {
        let p = entry.expect("entry").path();
        if p.file_name().is_some_and(|n| n != ".git") {
            if p.is_dir() {
                std::fs::remove_dir_all(&p).expect("rm dir");
            } else {
                std::fs::remove_file(&p).expect("rm");
            }
        }
    }
    let c3 = repo.commit(
        &[("fresh.txt", "new history\n"), ("src/x.rs", "fn x() {}\n")],
        &[],
        "rewrite",
    );
    wait(c3.clone()).await;
    let _ = child.kill();
    let _ = child.wait();
    let runs = Runs::read(&svc, &setup.input, &[&c3]).await;
    let (present, deleted) = runs.paths(&c3);
    assert_eq!(
        present,
        set(&["fresh.txt", "src/x.rs"]),
        "a full run of the new tree"
    );
    // and what the replaced history had is deleted
    assert_eq!(deleted.len(), 301, "seed.txt and the 300 generated files");
    assert!(deleted.contains("seed.txt") && deleted.contains("gen/f000.txt"));
    assert_eq!(runs.of(&c3).0["deleted"], 301);
}

#[tokio::test]
async fn a_reloaded_watch_file_starts_new_repositories_and_bursts_of_triggers_coalesce() {
    let svc = Services::require();
    let first = Served::new(&svc, &[("one.txt", "1\n")]);
    let second = Served::new(&svc, &[("two.txt", "2\n")]);
    let (c1, s1) = (
        git(&first.work, &["rev-parse", "HEAD"]),
        git(&second.work, &["rev-parse", "HEAD"]),
    );
    let setup = Setup::new("watch-reload");
    let (p1, p2) = (unique("reload-a"), unique("reload-b"));
    let state = tempfile::tempdir().expect("tempdir");
    let file = watch_file(state.path(), &p1, &first.url, 0, "");
    let cancel = CancellationToken::new();
    let cfg = watch_config(
        &svc,
        &file,
        &state.path().join("state"),
        &setup.input,
        false,
    );
    let reload = Arc::new(tokio::sync::Notify::new());
    let (watcher, _) = Watcher::start(cfg, cancel.clone())
        .await
        .expect("watcher starts");
    let w = watcher.clone();
    let token = cancel.clone();
    let r = reload.clone();
    tokio::spawn(async move { w.reload_loop(r, token).await });
    wait_for_cursor(&watcher, &p1, &c1).await;
    assert_eq!(watcher.cursor(&p2, "main"), None);

    // a second repository appears in the file: it is picked up without a restart
    std::fs::write(
        &file,
        format!(
            "poll_interval_secs = 0\n[[repository]]\nproject = \"{p1}\"\nurl = \"{}\"\n[[repository]]\nproject = \"{p2}\"\nurl = \"{}\"\n",
            first.url, second.url
        ),
    )
    .expect("rewrite watch file");
    reload.notify_one();
    wait_for_cursor(&watcher, &p2, &s1).await;
    // a broken file is refused; the watcher keeps the previous one
    std::fs::write(&file, "[[repository]]\nproject = 1\n").expect("break the file");
    reload.notify_one();
    tokio::time::sleep(Duration::from_millis(500)).await;

    // twenty triggers for one push: one run publishes it, the rest find nothing new
    let c2 = first.commit(&[("more.txt", "more\n")], &[], "more");
    for _ in 0..20 {
        assert!(watcher.trigger(&p1, "main", None));
    }
    wait_for_cursor(&watcher, &p1, &c2).await;
    for _ in 0..5 {
        assert!(watcher.trigger(&p1, "main", None));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    cancel.cancel();
    let runs = Runs::read(&svc, &setup.input, &[&c1, &s1, &c2]).await;
    for c in [&c1, &s1, &c2] {
        let n = runs
            .runs
            .iter()
            .filter(|(done, _)| done["commit"] == c.as_str())
            .count();
        assert_eq!(n, 1, "commit {c} was published {n} times");
    }
    assert_eq!(runs.paths(&c2).0, set(&["more.txt"]));
}

/// The watcher binary, listening for webhooks on a free loopback port; killed on drop.
struct WatchDaemon {
    child: std::process::Child,
    addr: std::net::SocketAddr,
    _dir: tempfile::TempDir,
}

impl WatchDaemon {
    fn start(svc: &Services) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("watch.toml");
        std::fs::write(
            &file,
            "poll_interval_secs = 0\n[webhooks]\ngithub_secret = \"env:TRIBUTARY_IT_HOOK_SECRET\"\n",
        )
        .expect("watch file");
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port");
        let args = Args::new(["watch"])
            .flag("watch-file", file.display().to_string())
            .flag("state-dir", dir.path().join("state").display().to_string())
            .flag("listen", addr.to_string())
            .flag("brokers", &svc.kafka_brokers)
            .flag("storage-provider", "none");
        let child = std::process::Command::new(workspace_bin("tributary-publisher"))
            .args(&args)
            .env("TRIBUTARY_IT_HOOK_SECRET", "hook-secret")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start the watcher");
        for _ in 0..100 {
            if std::net::TcpStream::connect(addr).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Self {
            child,
            addr,
            _dir: dir,
        }
    }

    /// A kernel-reported memory figure of the process, in KiB (`VmRSS`, `VmHWM`).
    fn memory_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("process status");
        status
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{field}:")))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("no {field} in /proc status"))
    }

    /// Sends a request head (and `body`, if any) and returns the status line, or `None`
    /// when nothing answered within `wait`.
    fn request(&self, length: u64, body: &[u8], wait: Duration) -> Option<String> {
        use std::io::{Read as _, Write as _};
        let mut s = std::net::TcpStream::connect(self.addr).expect("connect");
        s.set_read_timeout(Some(wait)).expect("timeout");
        let head = format!(
            "POST /hooks/github HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Hub-Signature-256: sha256={}\r\nX-GitHub-Delivery: {}\r\nContent-Length: {length}\r\n\r\n",
            "00".repeat(32),
            unique("d"),
        );
        s.write_all(head.as_bytes()).ok()?;
        // a refused body may stop being read: a broken pipe is an answer too
        let _ = s.write_all(body);
        let mut buf = [0u8; 256];
        let n = s.read(&mut buf).ok()?;
        let text = String::from_utf8_lossy(&buf[..n]).into_owned();
        text.lines().next().map(str::to_owned)
    }
}

impl Drop for WatchDaemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn webhook_bodies_are_bounded_before_reading_across_connections_and_in_time() {
    let svc = Services::require();
    let daemon = tokio::task::spawn_blocking(move || WatchDaemon::start(&svc))
        .await
        .expect("start");
    let daemon = Arc::new(daemon);
    let d = daemon.clone();
    tokio::task::spawn_blocking(move || {
        // announced too large: refused before a byte of the body is sent
        let status = d.request(30 * 1024 * 1024, b"", Duration::from_secs(5));
        assert!(
            status.as_deref().is_some_and(|s| s.contains(" 413 ")),
            "{status:?}"
        );
        // a body that never comes: the deadline answers
        let status = d.request(100, b"", Duration::from_secs(30));
        assert!(
            status.as_deref().is_some_and(|s| s.contains(" 408 ")),
            "{status:?}"
        );
        // 40 clients at once, 24 MiB each, wrong signatures: memory stays bounded
        let before = d.memory_kib("VmRSS");
        let body: Arc<Vec<u8>> = Arc::new(vec![b' '; 24 * 1024 * 1024]);
        let clients: Vec<_> = (0..40)
            .map(|_| {
                let (d, body) = (d.clone(), body.clone());
                std::thread::spawn(move || {
                    d.request(body.len() as u64, &body, Duration::from_secs(60))
                })
            })
            .collect();
        let statuses: Vec<Option<String>> = clients
            .into_iter()
            .map(|c| c.join().expect("client"))
            .collect();
        let peak = d.memory_kib("VmHWM");
        let answered = statuses.iter().flatten().count();
        assert!(answered >= 30, "{statuses:?}");
        for s in statuses.iter().flatten() {
            assert!(s.contains(" 401 ") || s.contains(" 503 "), "{s}");
        }
        let grown_mib = peak.saturating_sub(before) / 1024;
        println!(
            "webhook load: RSS before {} MiB, peak {} MiB, answers {statuses:?}",
            before / 1024,
            peak / 1024
        );
        assert!(
            grown_mib < 100,
            "the watcher grew by {grown_mib} MiB under 40 concurrent 24 MiB bodies"
        );
    })
    .await
    .expect("requests");
}
