use std::path::Path;
use std::process::Command;

use super::*;

fn git(dir: &Path, args: &[&str], date: Option<i64>) -> String {
    let mut c = Command::new("git");
    c.arg("-C").arg(dir).args(args);
    c.env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com");
    if let Some(d) = date {
        c.env("GIT_AUTHOR_DATE", format!("@{d} +0000"))
            .env("GIT_COMMITTER_DATE", format!("@{d} +0000"));
    }
    let out = c.output().expect("git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

const DAY: i64 = 86_400;
const START: i64 = 1_760_000_000;

/// A repository of 60 daily commits: `a.txt` changes every day, `b.txt` every fifth,
/// `c.txt` once at the start, `d.txt` is added on day 40, and a branch merged on day
/// 50 changes `e.txt`.
fn repository(dir: &Path) {
    git(dir, &["init", "-q", "-b", "main"], None);
    for day in 0..60 {
        let t = START + day * DAY;
        if day == 50 {
            git(dir, &["checkout", "-q", "-b", "side"], None);
            std::fs::write(dir.join("e.txt"), "e\n").expect("write");
            git(dir, &["add", "-A"], None);
            git(dir, &["commit", "-q", "-m", "side"], Some(t));
            git(dir, &["checkout", "-q", "main"], None);
            git(
                dir,
                &["merge", "-q", "--no-ff", "-m", "merge", "side"],
                Some(t + 60),
            );
        }
        std::fs::write(dir.join("a.txt"), format!("{day}\n")).expect("write");
        if day % 5 == 0 {
            std::fs::write(dir.join("b.txt"), format!("{day}\n")).expect("write");
        }
        if day == 0 {
            std::fs::write(dir.join("c.txt"), "c\n").expect("write");
        }
        if day == 40 {
            std::fs::write(dir.join("d.txt"), "d\n").expect("write");
        }
        git(dir, &["add", "-A"], None);
        git(
            dir,
            &["commit", "-q", "-m", &format!("day {day}")],
            Some(t + 120),
        );
    }
}

fn request(window_days: u32, dir: Option<&Path>) -> HistoryRequest {
    HistoryRequest {
        settings: HistorySettings {
            window_days,
            max_commits: 10_000,
            dir: dir.map(Path::to_path_buf),
        },
        key: "p\nrepo\nmain".into(),
    }
}

/// What git itself says: `git log --since` counts per path, `git log -1` per path.
fn git_says(dir: &Path, rev: &str, window_days: u32, path: &str) -> (u32, String) {
    let head_time: i64 = git(dir, &["log", "-1", "--format=%ct", rev], None)
        .trim()
        .parse()
        .expect("time");
    let since = head_time - i64::from(window_days) * DAY;
    let log = git(
        dir,
        &[
            "log",
            &format!("--since=@{since}"),
            "--format=",
            "--name-only",
            rev,
        ],
        None,
    );
    let commits = log.lines().filter(|l| *l == path).count() as u32;
    let last = git(dir, &["log", "-1", "--format=%H", rev, "--", path], None)
        .trim()
        .to_owned();
    (commits, last)
}

fn head(dir: &Path, rev: &str) -> git2::Oid {
    git2::Oid::from_str(git(dir, &["rev-parse", rev], None).trim()).expect("oid")
}

#[test]
fn churn_and_last_changes_equal_git_logs() {
    let repo = tempfile::tempdir().expect("tempdir");
    repository(repo.path());
    let h = History::load(repo.path(), head(repo.path(), "HEAD"), &request(30, None));
    for path in ["a.txt", "b.txt", "c.txt", "d.txt", "e.txt"] {
        let got = h.get(path).expect("history");
        let (commits, last) = git_says(repo.path(), "HEAD", 30, path);
        assert_eq!(got.commits, commits, "{path}");
        assert_eq!(got.last_commit.as_deref(), Some(last.as_str()), "{path}");
        assert_eq!(got.window_days, 30);
    }
    // the window holds 31 of a's daily changes; c changed only before it, yet its
    // last change is found
    assert_eq!(h.get("a.txt").expect("a").commits, 31);
    assert_eq!(h.get("c.txt").expect("c").commits, 0);
}

/// A fold kept at an earlier commit, carried on to the head, equals one made at the
/// head from nothing (and git's log); a force-push rebuilds it; a corrupt one too.
#[test]
fn a_kept_fold_goes_on_from_where_it_stopped() {
    let repo = tempfile::tempdir().expect("tempdir");
    repository(repo.path());
    let state = tempfile::tempdir().expect("state");
    let req = request(30, Some(state.path()));
    History::load(repo.path(), head(repo.path(), "HEAD~20"), &req);
    let kept = read_state(&req).expect("kept");
    assert_eq!(kept.tip, head(repo.path(), "HEAD~20").to_string());
    let carried = History::load(repo.path(), head(repo.path(), "HEAD"), &req);
    let fresh = History::load(repo.path(), head(repo.path(), "HEAD"), &request(30, None));
    for path in ["a.txt", "b.txt", "c.txt", "d.txt", "e.txt", "absent.txt"] {
        assert_eq!(carried.get(path), fresh.get(path), "{path}");
    }
    // a head that does not descend from the kept tip: rebuilt, not carried on
    git(
        repo.path(),
        &["checkout", "-q", "-b", "rewritten", "HEAD~30"],
        None,
    );
    std::fs::write(repo.path().join("a.txt"), "rewritten\n").expect("write");
    git(
        repo.path(),
        &["commit", "-q", "-am", "rewrite"],
        Some(START + 31 * DAY),
    );
    let rewritten = History::load(repo.path(), head(repo.path(), "HEAD"), &req);
    let (commits, last) = git_says(repo.path(), "HEAD", 30, "a.txt");
    let a = rewritten.get("a.txt").expect("a");
    assert_eq!(
        (a.commits, a.last_commit.as_deref()),
        (commits, Some(last.as_str()))
    );
    // a corrupt kept fold is rebuilt
    let file = req.file().expect("file");
    std::fs::write(&file, b"{not json").expect("write");
    let again = History::load(repo.path(), head(repo.path(), "HEAD"), &req);
    assert_eq!(again.get("a.txt"), rewritten.get("a.txt"));
}

/// A shallow clone has no history to tell: its files carry none.
#[test]
fn a_shallow_clone_carries_no_history() {
    let repo = tempfile::tempdir().expect("tempdir");
    repository(repo.path());
    let shallow = tempfile::tempdir().expect("shallow");
    let url = format!("file://{}", repo.path().display());
    let out = Command::new("git")
        .args(["clone", "-q", "--depth", "1", &url])
        .arg(shallow.path().join("c"))
        .output()
        .expect("git clone");
    assert!(out.status.success());
    let dir = shallow.path().join("c");
    let h = History::load(&dir, head(&dir, "HEAD"), &request(30, None));
    assert_eq!(h.get("a.txt"), None);
}
