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

#[test]
fn credentials_are_bound_to_names_and_hosts() {
    let b: CredentialBinding = "env:GIT_TOKEN@github.com,GitLab.com"
        .parse()
        .expect("parses");
    assert_eq!(b.name, "env:GIT_TOKEN");
    assert_eq!(b.reference, CredentialRef::Env("GIT_TOKEN".into()));
    assert_eq!(b.hosts, vec!["github.com", "gitlab.com"]);
    let alias: CredentialBinding = "env:ORG_A=file:/run/secrets/org-a@git.example.com"
        .parse()
        .expect("parses");
    assert_eq!(alias.name, "env:ORG_A");
    assert_eq!(
        alias.reference,
        CredentialRef::File("/run/secrets/org-a".into())
    );
    for bad in [
        "env:GIT_TOKEN",            // not bound to any host
        "env:GIT_TOKEN@",           // empty host
        "ghp_literal@github.com",   // not a reference
        "env:A=hunter2@github.com", // nor is this
        "env:A@-oProxyCommand=x",   // an option, not a host
    ] {
        assert!(bad.parse::<CredentialBinding>().is_err(), "{bad}");
    }
    let bindings = CredentialBindings(vec![b, alias]);
    let ok = |name: &str, url: &str| bindings.bind(name, url).cloned().ok();
    assert_eq!(
        ok("env:GIT_TOKEN", "https://github.com/o/r.git"),
        Some(CredentialRef::Env("GIT_TOKEN".into()))
    );
    assert_eq!(
        ok("env:GIT_TOKEN", "git@gitlab.com:o/r.git"),
        Some(CredentialRef::Env("GIT_TOKEN".into()))
    );
    assert_eq!(
        ok("env:ORG_A", "https://git.example.com/o/r"),
        Some(CredentialRef::File("/run/secrets/org-a".into()))
    );
    // another host: the secret would leave for somewhere it was never meant to go
    assert_eq!(
        ok("env:GIT_TOKEN", "https://attacker.example/o/r.git"),
        None
    );
    assert_eq!(
        ok("env:GIT_TOKEN", "https://github.com.attacker.example/r"),
        None
    );
    // a name nobody configured (any variable or file of the consumer's)
    assert_eq!(
        ok("env:AWS_SECRET_ACCESS_KEY", "https://github.com/o/r"),
        None
    );
    assert_eq!(ok("file:/etc/shadow", "https://github.com/o/r"), None);
    assert!(matches!(
        bindings.bind("env:HOME", "https://github.com/o/r"),
        Err(ContentError::CredentialsRefused { .. })
    ));
    assert!(bindings.0.iter().any(|b| b.name == "env:ORG_A"));
    assert!(!bindings.0.iter().any(|b| b.name == "env:HOME"));
}
