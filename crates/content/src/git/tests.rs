use super::*;

fn fetcher(schemes: &[&str], hosts: &[&str]) -> (tempfile::TempDir, GitFetcher) {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = GitFetcher::new(GitConfig {
        cache_dir: dir.path().to_path_buf(),
        max_bytes: 1 << 30,
        clone_timeout: Duration::from_secs(300),
        allowed_schemes: schemes.iter().map(|s| s.to_string()).collect(),
        allowed_hosts: hosts.iter().map(|s| s.to_string()).collect(),
        max_concurrent_reads: 10,
        credentials: Default::default(),
        host_keys: HostKeys::NoneConfigured,
    })
    .expect("fetcher");
    (dir, f)
}

#[test]
fn urls_are_split_into_scheme_and_host() {
    assert_eq!(
        scheme_and_host("https://user@GitHub.com:443/o/r.git"),
        Some(("https".into(), "github.com".into()))
    );
    assert_eq!(
        scheme_and_host("git@github.com:o/r.git"),
        Some(("ssh".into(), "github.com".into()))
    );
    assert_eq!(
        scheme_and_host("git://[::1]:9418/r.git"),
        Some(("git".into(), "::1".into()))
    );
    assert_eq!(
        scheme_and_host("file:///srv/r.git"),
        Some(("file".into(), String::new()))
    );
    assert_eq!(scheme_and_host("/srv/r.git"), None);
}

#[test]
fn the_allowlist_is_enforced() {
    let (_d, f) = fetcher(&["https", "git"], &[]);
    assert!(f.check_url("https://example.com/r.git").is_ok());
    assert!(f.check_url("git://127.0.0.1:9418/r.git").is_ok());
    for bad in [
        "ext::sh -c touch% /tmp/pwned",
        "file:///etc",
        "ssh://host/r.git",
        "git@host:r.git",
        "https://-oProxyCommand=x/r.git",
        "/local/path",
        "https:///nohost",
    ] {
        assert!(
            matches!(f.check_url(bad), Err(ContentError::GitForbidden { .. })),
            "{bad} must be refused"
        );
    }
    let (_d, f) = fetcher(&["https"], &["git.example.com"]);
    assert!(f.check_url("https://git.example.com/r.git").is_ok());
    assert!(f.check_url("https://evil.example.com/r.git").is_err());
}
