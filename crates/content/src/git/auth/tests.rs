use super::*;

fn binding(s: &str) -> CredentialBinding {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

#[test]
fn bindings_name_a_secret_and_its_hosts() {
    let env = |n: &str| CredentialRef::Env(n.into());
    let file = |p: &str| CredentialRef::File(p.into());
    let cases: Vec<(&str, &str, GitSecret, Vec<&str>)> = vec![
        (
            "env:GIT_TOKEN@github.com,GitLab.com",
            "env:GIT_TOKEN",
            GitSecret::Token {
                reference: env("GIT_TOKEN"),
                user: None,
            },
            vec!["github.com", "gitlab.com"],
        ),
        (
            "env:ORG_A=file:/run/secrets/org-a@git.example.com",
            "env:ORG_A",
            GitSecret::Token {
                reference: file("/run/secrets/org-a"),
                user: None,
            },
            vec!["git.example.com"],
        ),
        (
            "gitea=token:env:GITEA;user=ci-bot@gitea.example.com",
            "gitea",
            GitSecret::Token {
                reference: env("GITEA"),
                user: Some("ci-bot".into()),
            },
            vec!["gitea.example.com"],
        ),
        (
            "ssh-key:file:/keys/id_ed25519;passphrase=env:KEY_PASS@git.corp.example",
            "file:/keys/id_ed25519",
            GitSecret::SshKey {
                key: file("/keys/id_ed25519"),
                passphrase: Some(env("KEY_PASS")),
            },
            vec!["git.corp.example"],
        ),
        (
            "deploy=ssh-key:env:DEPLOY_KEY@a.example,b.example",
            "deploy",
            GitSecret::SshKey {
                key: env("DEPLOY_KEY"),
                passphrase: None,
            },
            vec!["a.example", "b.example"],
        ),
        (
            "ssh-agent@github.com",
            "ssh-agent",
            GitSecret::SshAgent,
            vec!["github.com"],
        ),
    ];
    for (spec, name, secret, hosts) in cases {
        let b = binding(spec);
        assert_eq!(
            (
                b.name.as_str(),
                &b.secret,
                b.hosts.iter().map(String::as_str).collect::<Vec<_>>()
            ),
            (name, &secret, hosts),
            "{spec}"
        );
        // written back as references only, and parsed again to the same secret
        let again = binding(&format!("{}@x", b.secret));
        assert_eq!(again.secret, secret, "{spec}");
    }
    for bad in [
        "env:GIT_TOKEN",                        // not bound to any host
        "env:GIT_TOKEN@",                       // empty host
        "ghp_literal@github.com",               // not a reference
        "env:A=hunter2@github.com",             // nor is this
        "env:A@-oProxyCommand=x",               // an option, not a host
        "ssh-key:id_rsa@github.com",            // a key by reference only
        "ssh-key:file:/k;passphrase=hunter2@h", // a passphrase too
        "ssh-key:file:/k;user=x@h",             // not an ssh-key option
        "env:T;user=a:b@h",                     // a user name without ':'
        "ssh-agent;passphrase=env:P@h",         // the agent takes nothing
        "bad name=env:T@h",                     // not a name an event can carry
    ] {
        assert!(bad.parse::<CredentialBinding>().is_err(), "{bad}");
    }
}

#[test]
fn an_event_gets_only_a_credential_bound_to_the_repository_host() {
    let bindings = CredentialBindings(vec![
        binding("env:GIT_TOKEN@github.com,gitlab.com"),
        binding("env:ORG_A=file:/run/secrets/org-a@git.example.com"),
        binding("deploy=ssh-key:file:/k@git.example.com"),
    ]);
    let ok = |name: Option<&str>, url: &str| {
        bindings
            .bind(name, url)
            .ok()
            .flatten()
            .map(ToString::to_string)
    };
    let cases = [
        (
            Some("env:GIT_TOKEN"),
            "https://github.com/o/r.git",
            Some("env:GIT_TOKEN"),
        ),
        (
            Some("env:GIT_TOKEN"),
            "git@gitlab.com:o/r.git",
            Some("env:GIT_TOKEN"),
        ),
        (
            Some("env:ORG_A"),
            "https://git.example.com/o/r",
            Some("file:/run/secrets/org-a"),
        ),
        (
            Some("deploy"),
            "ssh://git@git.example.com:2222/o/r",
            Some("ssh-key:file:/k"),
        ),
        // no name: the first credential bound to the host
        (
            None,
            "https://git.example.com/o/r",
            Some("file:/run/secrets/org-a"),
        ),
        (None, "https://github.com/o/r", Some("env:GIT_TOKEN")),
        (None, "https://elsewhere.example/o/r", None),
        // another host: the secret would leave for somewhere it was never meant to go
        (
            Some("env:GIT_TOKEN"),
            "https://attacker.example/o/r.git",
            None,
        ),
        (
            Some("env:GIT_TOKEN"),
            "https://github.com.attacker.example/r",
            None,
        ),
        // names nobody configured (any variable or file of the consumer's)
        (
            Some("env:AWS_SECRET_ACCESS_KEY"),
            "https://github.com/o/r",
            None,
        ),
        (Some("file:/etc/shadow"), "https://github.com/o/r", None),
    ];
    for (name, url, want) in cases {
        assert_eq!(ok(name, url).as_deref(), want, "{name:?} {url}");
    }
    assert!(matches!(
        bindings.bind(Some("env:HOME"), "https://github.com/o/r"),
        Err(ContentError::CredentialsRefused { .. })
    ));
    assert!(matches!(
        bindings.bind(Some("env:GIT_TOKEN"), "https://attacker.example/o/r"),
        Err(ContentError::CredentialsRefused { .. })
    ));
}

#[test]
fn a_bare_token_goes_with_the_forge_user() {
    for (host, user) in [
        ("github.com", "x-access-token"),
        ("GitHub.com", "x-access-token"),
        ("gitlab.com", "oauth2"),
        ("gitlab.corp.example", "oauth2"),
        ("bitbucket.org", "x-token-auth"),
        ("gitea.example.com", "x-access-token"),
        ("notgitlab.com", "x-access-token"),
    ] {
        assert_eq!(token_user(host), user, "{host}");
    }
}

#[test]
fn ssh_ports_come_from_the_url() {
    for (url, port) in [
        ("ssh://git@host:2222/o/r", 2222),
        ("ssh://host/o/r", 22),
        ("git@host:o/r.git", 22),
        ("ssh://git@[::1]:2200/r", 2200),
        ("ssh://[::1]/r", 22),
    ] {
        assert_eq!(ssh_port(url), port, "{url}");
    }
}

#[test]
fn secrets_resolve_by_reference_and_errors_name_only_the_reference() {
    let dir = tempfile::tempdir().expect("tempdir");
    let token = dir.path().join("token");
    std::fs::write(&token, "s3cr3t-value\n").expect("write");
    let file = CredentialRef::File(token.display().to_string());
    assert_eq!(resolve_secret(&file).expect("resolves"), "s3cr3t-value");
    let missing = CredentialRef::File(dir.path().join("none").display().to_string());
    let e = resolve_secret(&missing).expect_err("missing");
    assert!(e.to_string().contains("file:"), "{e}");
    // a known_hosts that is not one: the reference and the line, not the text
    let kh = dir.path().join("known_hosts");
    std::fs::write(&kh, "host ssh-ed25519 s3cr3t*\n").expect("write");
    let e = load_known_hosts(&CredentialRef::File(kh.display().to_string())).expect_err("bad");
    let shown = format!("{e}");
    assert!(
        shown.contains("line 1") || format!("{e:?}").contains("line 1"),
        "{e:?}"
    );
    assert!(!format!("{e:?}").contains("s3cr3t"), "{e:?}");
    // a user name in the token, or the forge's for a bare one
    let m = Material::resolve(
        Some(&GitSecret::Token {
            reference: file.clone(),
            user: None,
        }),
        "gitlab.com",
    )
    .expect("resolves");
    assert!(matches!(m, Material::UserPass { ref user, .. } if user == "oauth2"));
    std::fs::write(&token, "bot:tok\n").expect("write");
    let m = Material::resolve(
        Some(&GitSecret::Token {
            reference: file,
            user: None,
        }),
        "github.com",
    )
    .expect("resolves");
    assert!(
        matches!(m, Material::UserPass { ref user, ref pass } if user == "bot" && pass == "tok")
    );
    // a key file that is not there is a clear error before any connection
    let e = Material::resolve(
        Some(&GitSecret::SshKey {
            key: missing,
            passphrase: None,
        }),
        "h",
    )
    .err()
    .expect("missing key");
    assert!(matches!(e, ContentError::Credentials(_)), "{e:?}");
}
