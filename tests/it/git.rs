//! The consumer's git fetcher against the real git daemon.

use std::time::Duration;

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
