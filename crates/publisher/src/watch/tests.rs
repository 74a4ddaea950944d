use std::time::Duration;

use super::config::WatchFile;
use super::cursor::CursorStore;
use super::webhook::{hmac_matches, parse_push, sign};
use super::*;

const FILE: &str = r#"
poll_interval_secs = 10
[webhooks]
github_secret = "env:GH_SECRET"
[[repository]]
project = "widgets"
url = "git://127.0.0.1:9418/widgets.git"
branches = ["main", "dev"]
[[repository]]
project = "gadgets"
url = "https://example.com/acme/gadgets.git"
credentials = "file:/run/secrets/token"
"#;

#[test]
fn watch_files_parse_and_list_every_branch() {
    let f = WatchFile::parse(FILE).expect("valid");
    assert_eq!(f.poll_interval_secs, 10);
    let t: Vec<_> = f.targets().into_keys().collect();
    assert_eq!(
        t,
        vec![
            ("gadgets".to_owned(), "main".to_owned()),
            ("widgets".to_owned(), "dev".to_owned()),
            ("widgets".to_owned(), "main".to_owned()),
        ]
    );
    assert_eq!(
        f.find_by_url(&["https://EXAMPLE.com/acme/gadgets"])
            .map(|r| r.project.as_str()),
        Some("gadgets")
    );
    assert!(f.find_by_url(&["https://example.com/other.git"]).is_none());
}

#[test]
fn bad_watch_files_are_refused_with_the_reason() {
    for (text, why) in [
        (
            "[[repository]]\nproject = \"a\"\nurl = \"https://u:pw@h/r.git\"\n",
            "credentials",
        ),
        (
            "[[repository]]\nproject = \"a\"\nurl = \"x\"\n[[repository]]\nproject = \"a\"\nurl = \"y\"\n",
            "twice",
        ),
        (
            "[[repository]]\nproject = \"a\"\nurl = \"x\"\nbranches = [\"--upload-pack=x\"]\n",
            "branch",
        ),
        ("[webhooks]\ngithub_secret = \"hunter2\"\n", "reference"),
        (
            "[[repository]]\nproject = \"a\"\nurl = \"x\"\ncredentials = \"ghp_token\"\n",
            "credentials",
        ),
        ("nonsense = 1\n", "unknown field"),
        ("[[repository]]\nurl = \"x\"\n", "project"),
    ] {
        let e = WatchFile::parse(text).expect_err(text).to_string();
        assert!(e.contains(why), "{text}: {e}");
    }
}

#[test]
fn the_cursor_survives_a_reopen_and_a_corrupt_file_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let c = CursorStore::open(dir.path()).expect("open");
    assert_eq!(c.get("p", "main"), None);
    c.advance("p", "main", "a".repeat(40).as_str())
        .expect("advance");
    c.advance("p", "dev", "b".repeat(40).as_str())
        .expect("advance");
    let again = CursorStore::open(dir.path()).expect("reopen");
    assert_eq!(again.get("p", "main"), Some("a".repeat(40)));
    assert_eq!(again.get("p", "dev"), Some("b".repeat(40)));
    std::fs::write(dir.path().join("cursors.json"), b"{not json").expect("write");
    assert!(CursorStore::open(dir.path()).is_err());
}

#[test]
fn signatures_are_hmac_sha256_and_nothing_else_passes() {
    let key = b"s3cret";
    let body = br#"{"ref":"refs/heads/main"}"#;
    let good = sign(key, body);
    assert!(hmac_matches(key, body, &good));
    assert!(!hmac_matches(b"other", body, &good));
    assert!(!hmac_matches(key, b"{}", &good));
    assert!(
        !hmac_matches(key, body, &good[..good.len() - 2]),
        "truncated"
    );
    assert!(!hmac_matches(key, body, ""), "missing");
    assert!(!hmac_matches(key, body, "zz"), "not hex");
    // a SHA-1 HMAC (X-Hub-Signature) is not accepted as SHA-256
    assert!(!hmac_matches(key, body, &"ab".repeat(20)));
}

#[test]
fn push_payloads_of_each_provider() {
    let gh = br#"{"ref":"refs/heads/main","after":"3f786850e387550fdab836ed7e6dc881de23001b","repository":{"clone_url":"https://github.com/a/b.git","ssh_url":"git@github.com:a/b.git"}}"#;
    let p = parse_push(gh).expect("github");
    assert_eq!(p.branch.as_deref(), Some("main"));
    assert_eq!(
        p.after.as_deref(),
        Some("3f786850e387550fdab836ed7e6dc881de23001b")
    );
    assert!(p.urls.contains(&"https://github.com/a/b.git".to_owned()));
    let gl = br#"{"ref":"refs/heads/dev","after":"x","project":{"git_http_url":"https://gitlab.com/a/b.git"}}"#;
    let p = parse_push(gl).expect("gitlab");
    assert_eq!((p.branch.as_deref(), p.after), (Some("dev"), None));
    let tag = br#"{"ref":"refs/tags/v1","repository":{"clone_url":"u"}}"#;
    assert_eq!(parse_push(tag).expect("tag").branch, None);
    assert!(parse_push(b"not json").is_none());
    assert!(
        parse_push(br#"{"ref":"refs/heads/main"}"#).is_none(),
        "no repository"
    );
}

#[test]
fn backoff_doubles_up_to_its_ceiling_and_jitter_stays_within_ten_percent() {
    let b = Duration::from_secs(30);
    let max = Duration::from_secs(600);
    assert_eq!(backoff(b, 0, max), b);
    assert_eq!(backoff(b, 1, max), Duration::from_secs(60));
    assert_eq!(backoff(b, 4, max), Duration::from_secs(480));
    assert_eq!(backoff(b, 5, max), max);
    assert_eq!(backoff(b, u32::MAX, max), max);
    for _ in 0..100 {
        let j = jitter(b);
        assert!(
            j >= Duration::from_secs(27) && j <= Duration::from_secs(33),
            "{j:?}"
        );
    }
}

#[test]
fn a_ref_that_names_no_branch_is_not_a_branch_push() {
    for body in [
        &br#"{"ref":"refs/heads/","repository":{"clone_url":"u"}}"#[..],
        br#"{"ref":"refs/heads/-x","repository":{"clone_url":"u"}}"#,
        br#"{"ref":"refs/heads/a..b","repository":{"clone_url":"u"}}"#,
    ] {
        let push = parse_push(body).expect("a push payload");
        assert_eq!(push.branch, None, "{}", String::from_utf8_lossy(body));
    }
}
