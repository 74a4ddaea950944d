use std::process::Command;

use super::*;

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {out:?}");
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .trim()
        .to_owned()
}

/// A work tree and its bare copy (what the clone cache holds): files in nested folders,
/// a symlink, and the commit's id.
fn repo() -> (tempfile::TempDir, PathBuf, String) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let work = tmp.path().join("work");
    std::fs::create_dir_all(work.join("src/deep/er")).expect("mkdir");
    std::fs::write(work.join("README"), b"top\n").expect("write");
    std::fs::write(work.join("src/lib.rs"), b"pub fn f() {}\n").expect("write");
    std::fs::write(work.join("src/deep/er/x.txt"), b"deep\n").expect("write");
    std::os::unix::fs::symlink("/etc/passwd", work.join("link")).expect("symlink");
    git(&work, &["init", "-q"]);
    git(&work, &["add", "-A"]);
    git(&work, &["commit", "-qm", "one"]);
    let commit = git(&work, &["rev-parse", "HEAD"]);
    let bare = tmp.path().join("bare");
    git(
        tmp.path(),
        &[
            "clone",
            "-q",
            "--bare",
            work.to_str().expect("utf-8"),
            "bare",
        ],
    );
    (tmp, bare, commit)
}

#[test]
fn reads_files_and_refuses_what_is_not_one() {
    let (_tmp, bare, commit) = repo();
    let r = Readers::default();
    let read = |path: &str| r.read(&bare, "u", &commit, path);
    for (path, want) in [
        ("README", &b"top\n"[..]),
        ("src/lib.rs", b"pub fn f() {}\n"),
        ("src/deep/er/x.txt", b"deep\n"),
    ] {
        // twice: built, then from the index and this thread's handle
        for _ in 0..2 {
            assert_eq!(read(path).expect("read").as_deref(), Some(want), "{path}");
        }
    }
    for (path, what) in [
        ("link", "regular file"),
        ("src", "regular file"),
        ("src/deep", "regular file"),
        ("nope.txt", "path"),
        ("src/deep/er/x.txt/y", "path"),
    ] {
        match read(path) {
            Err(ContentError::GitMissing { what: w, .. }) => {
                assert!(w.starts_with(what), "{path}: {w}")
            }
            other => panic!("{path}: {other:?}"),
        }
    }
    // a commit the repository does not have, and no repository at all: not cached
    let other = "0123456789012345678901234567890123456789";
    assert!(r.read(&bare, "u", other, "README").expect("read").is_none());
    assert!(
        r.read(&bare.join("none"), "u", &commit, "README")
            .expect("read")
            .is_none()
    );
    assert!(matches!(
        r.read(&bare, "u", "not-a-sha", "README"),
        Err(ContentError::GitMissing { .. })
    ));
}

#[test]
fn a_commit_fetched_later_is_read_through_handles_opened_before() {
    let (tmp, bare, first) = repo();
    let r = Readers::default();
    assert!(
        r.read(&bare, "u", &first, "README")
            .expect("read")
            .is_some()
    );
    // a new commit lands in the cached repository (what a fetch does)
    let work = tmp.path().join("work");
    std::fs::write(work.join("README"), b"changed\n").expect("write");
    git(&work, &["commit", "-qam", "two"]);
    let second = git(&work, &["rev-parse", "HEAD"]);
    git(
        &work,
        &[
            "push",
            "-q",
            bare.to_str().expect("utf-8"),
            "HEAD:refs/heads/x",
        ],
    );
    r.fetched();
    assert_eq!(
        r.read(&bare, "u", &second, "README")
            .expect("read")
            .as_deref(),
        Some(&b"changed\n"[..])
    );
    assert_eq!(
        r.read(&bare, "u", &first, "README")
            .expect("read")
            .as_deref(),
        Some(&b"top\n"[..])
    );
    // removed from the cache: nothing is served from what handles still hold open
    std::fs::remove_dir_all(&bare).expect("rm");
    r.evicted();
    assert!(
        r.read(&bare, "u", &first, "README")
            .expect("read")
            .is_none()
    );
}

#[test]
fn threads_share_the_commit_index() {
    let (_tmp, bare, commit) = repo();
    let r = Arc::new(Readers::default());
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (r, bare, commit) = (r.clone(), bare.clone(), commit.clone());
            std::thread::spawn(move || {
                for _ in 0..50 {
                    assert_eq!(
                        r.read(&bare, "u", &commit, "src/lib.rs")
                            .expect("read")
                            .as_deref(),
                        Some(&b"pub fn f() {}\n"[..])
                    );
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("thread");
    }
    let commits = r.commits.lock().expect("lock");
    assert_eq!(commits.lru.len(), 1);
    assert_eq!(
        commits.paths, 7,
        "README, link, src, src/lib.rs, src/deep, src/deep/er, x.txt"
    );
}
