//! The consumer's git fetcher against the real git daemon.

use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use tributary_content::ContentError;
use tributary_content::git::{GitConfig, GitFetcher};
use tributary_events::RelPath;
use tributary_tests::{Services, git, unique};

#[tokio::test]
async fn reads_blobs_of_a_commit_refuses_symlinks_and_reports_missing_paths() {
    let svc = Services::require();
    let dir = tempfile::tempdir().expect("tempdir");
    let work = dir.path().join("w");
    std::fs::create_dir_all(work.join("src")).expect("mkdir");
    std::fs::write(work.join("src/lib.rs"), b"pub fn f() {}\n").expect("write");
    std::os::unix::fs::symlink("/etc/passwd", work.join("escape")).expect("symlink");
    git(&work, &["init", "-q"]);
    git(&work, &["add", "-A"]);
    git(&work, &["commit", "-q", "-m", "one"]);
    let first = git(&work, &["rev-parse", "HEAD"]);
    std::fs::write(work.join("src/lib.rs"), b"pub fn g() {}\n").expect("write");
    git(&work, &["commit", "-q", "-am", "two"]);
    let name = format!("{}.git", unique("fetcher"));
    git(
        &work,
        &[
            "clone",
            "-q",
            "--bare",
            ".",
            svc.git_root.join(&name).to_str().expect("utf-8"),
        ],
    );
    let url = format!("{}/{name}", svc.git_url);

    let cache = tempfile::tempdir().expect("tempdir");
    let fetcher = GitFetcher::new(GitConfig {
        cache_dir: cache.path().to_path_buf(),
        max_bytes: 1 << 30,
        clone_timeout: Duration::from_secs(60),
        allowed_schemes: vec!["git".into()],
        allowed_hosts: vec![],
        max_concurrent_reads: 10,
        credentials: Default::default(),
        host_keys: Default::default(),
    })
    .expect("fetcher");
    let p = |s: &str| RelPath::new(s).expect("path");

    // an older commit, by SHA: its content, not the branch tip's
    let got = fetcher
        .read(&url, &first, &p("src/lib.rs"), None)
        .await
        .expect("read");
    assert_eq!(&got[..], b"pub fn f() {}\n");
    assert_eq!(fetcher.usage().0, 1, "one cached repository");
    // concurrent warm reads are served from the cached repository
    let lib = p("src/lib.rs");
    let reads = (0..20).map(|_| fetcher.read(&url, &first, &lib, None));
    for r in futures::future::join_all(reads).await {
        assert_eq!(&r.expect("warm read")[..], b"pub fn f() {}\n");
    }
    let err = fetcher
        .read(&url, &first, &p("escape"), None)
        .await
        .expect_err("symlink");
    assert!(matches!(err, ContentError::GitMissing { .. }), "{err}");
    let err = fetcher
        .read(&url, &first, &p("no/such/file"), None)
        .await
        .expect_err("missing path");
    assert!(
        matches!(err, ContentError::GitMissing { .. }) && !err.is_retryable(),
        "{err}"
    );
    let unknown = "0123456789012345678901234567890123456789";
    let err = fetcher
        .read(&url, unknown, &p("src/lib.rs"), None)
        .await
        .expect_err("unknown commit");
    assert!(!matches!(err, ContentError::GitForbidden { .. }), "{err}");
    let err = fetcher
        .read("https://example.com/r.git", &first, &p("src/lib.rs"), None)
        .await
        .expect_err("scheme");
    assert!(matches!(err, ContentError::GitForbidden { .. }), "{err}");
}

/// The history folded release by release — a repository whose commits are the real
/// releases of golang.org/x/sync (v0.1.0 to v0.10.0, from the Go module proxy, each
/// committed at its release time), folded on from the kept fold at each release as
/// watch mode does — equals `git log`'s: per file, the commits within a year before the
/// last release that changed it, and the last commit that did.
#[test]
fn history_folded_release_by_release_equals_git_log() {
    use tributary_publisher::history::{History, HistoryRequest, HistorySettings};
    let work = tempfile::tempdir().expect("tempdir");
    let repo = work.path().join("sync");
    std::fs::create_dir_all(&repo).expect("mkdir");
    git(&repo, &["init", "-q", "-b", "main"]);
    let state = work.path().join("history");
    let request = HistoryRequest {
        settings: HistorySettings {
            window_days: 365,
            max_commits: 10_000,
            dir: Some(state.clone()),
        },
        key: "sync\nrepo\nmain".into(),
    };
    let mut folded = None;
    for minor in 1..=10 {
        let version = format!("v0.{minor}.0");
        let info: Value = serde_json::from_str(&tributary_tests::run(Command::new("go").args([
            "mod",
            "download",
            "-json",
            &format!("golang.org/x/sync@{version}"),
        ])))
        .expect("go mod download -json");
        let time: Value = serde_json::from_slice(
            &std::fs::read(info["Info"].as_str().expect("info")).expect("read info"),
        )
        .expect("info json");
        // the release's tree replaces the last one's
        for e in std::fs::read_dir(&repo).expect("read_dir").flatten() {
            if e.file_name() != ".git" {
                let p = e.path();
                if p.is_dir() {
                    std::fs::remove_dir_all(&p).expect("rm");
                } else {
                    std::fs::remove_file(&p).expect("rm");
                }
            }
        }
        tributary_tests::run(
            Command::new("cp")
                .arg("-R")
                .arg(format!("{}/.", info["Dir"].as_str().expect("dir")))
                .arg(&repo),
        );
        tributary_tests::run(Command::new("chmod").args(["-R", "u+w"]).arg(&repo));
        git(&repo, &["add", "-A"]);
        let date = time["Time"].as_str().expect("time");
        tributary_tests::run(
            Command::new("git")
                .arg("-C")
                .arg(&repo)
                .args([
                    "-c",
                    "user.name=r",
                    "-c",
                    "user.email=r@example.com",
                    "commit",
                    "-q",
                    "--allow-empty",
                    "-m",
                    &version,
                ])
                .env("GIT_AUTHOR_DATE", date)
                .env("GIT_COMMITTER_DATE", date),
        );
        let head = git2::Oid::from_str(git(&repo, &["rev-parse", "HEAD"]).trim()).expect("oid");
        folded = Some(History::load(&repo, head, &request));
    }
    let folded = folded.expect("folded");
    let head_time: i64 = git(&repo, &["log", "-1", "--format=%ct"])
        .trim()
        .parse()
        .expect("time");
    let since = head_time - 365 * 86_400;
    let log = git(
        &repo,
        &[
            "log",
            &format!("--since=@{since}"),
            "--format=",
            "--name-only",
        ],
    );
    let files: Vec<String> = git(&repo, &["ls-files"])
        .lines()
        .map(str::to_owned)
        .collect();
    let mut changed = 0;
    for path in &files {
        let h = folded.get(path).expect("history");
        let commits = log.lines().filter(|l| l == path).count() as u32;
        let last = git(&repo, &["log", "-1", "--format=%H", "--", path]);
        assert_eq!(h.commits, commits, "{path}");
        assert_eq!(h.last_commit.as_deref(), Some(last.trim()), "{path}");
        changed += usize::from(commits > 0);
    }
    println!(
        "{} files, {changed} changed within the year: churn and last commits equal git log's",
        files.len()
    );
    assert!(
        files.len() > 10 && changed > 0 && changed < files.len(),
        "{} files, {changed} changed",
        files.len()
    );
}
