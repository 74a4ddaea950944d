//! Private repositories over the real transports: a key-only OpenSSH server and git's
//! smart-HTTP backend behind nginx asking for a token (both from deploy/local/services).
//! Published by URL with the git-reference strategy and consumed with credentials bound
//! on the consumer's side; wrong keys, tokens and host keys refused with a clear error
//! and no hang; the key material and the token appear in no topic, log line, metric or
//! report.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tributary_tests::{
    Args, Services, free_port, git, records_within, silent_port, unique, workspace_bin,
};

use crate::consumer::{Setup, dead_letters, outputs};

/// The private git servers' coordinates and test credentials.
pub(crate) struct Private {
    pub(crate) ssh_url: String,
    ssh_dir: PathBuf,
    http_url: String,
    token: String,
}

impl Private {
    pub(crate) fn require() -> Self {
        let var = |n: &str| {
            std::env::var(n).unwrap_or_else(|_| {
                panic!("{n} is not set; start deploy/local/services up and eval its env")
            })
        };
        let ssh_dir = PathBuf::from(var("TRIBUTARY_GIT_SSH_DIR"));
        let token_file = var("TRIBUTARY_GIT_HTTP_TOKEN_FILE");
        let p = Private {
            ssh_url: var("TRIBUTARY_GIT_SSH_URL"),
            http_url: var("TRIBUTARY_GIT_HTTP_URL"),
            token: std::fs::read_to_string(&token_file)
                .unwrap_or_else(|e| panic!("{token_file}: {e}"))
                .trim()
                .to_owned(),
            ssh_dir,
        };
        for port in [2222, 9419] {
            assert!(
                std::net::TcpStream::connect(("127.0.0.1", port)).is_ok(),
                "nothing answers on 127.0.0.1:{port}; start deploy/local/services up"
            );
        }
        p
    }

    pub(crate) fn file(&self, name: &str) -> String {
        self.ssh_dir.join(name).display().to_string()
    }

    /// Secret material that must appear nowhere: both private keys' bodies, the
    /// passphrase, the token.
    fn secrets(&self) -> Vec<String> {
        let mut out = vec![self.token.clone()];
        out.push(
            std::fs::read_to_string(self.file("client_enc_passphrase"))
                .expect("passphrase")
                .trim()
                .to_owned(),
        );
        for key in ["client_ed25519", "client_enc_ed25519"] {
            let pem = std::fs::read_to_string(self.file(key)).expect("key");
            // each base64 line of the key body
            out.extend(
                pem.lines()
                    .filter(|l| !l.starts_with("-----") && l.len() > 20)
                    .map(str::to_owned),
            );
        }
        out
    }
}

/// A private repository in the served root: (bare name, files, head commit).
pub(crate) fn private_repo(svc: &Services) -> (String, Vec<(String, String)>, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let work = dir.path().join("w");
    let files: Vec<(String, String)> = vec![
        (
            "src/main.rs".into(),
            "fn main() { println!(\"private\"); }\n".into(),
        ),
        ("README.md".into(), "# Private\n\nInternal code.\n".into()),
        (
            "lib/util.py".into(),
            "def helper(x):\n    return x * 2\n".into(),
        ),
    ];
    for (p, text) in &files {
        let path = work.join(p);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
    git(&work, &["init", "-q"]);
    git(&work, &["add", "-A"]);
    git(&work, &["commit", "-q", "-m", "private"]);
    let head = git(&work, &["rev-parse", "HEAD"]);
    let name = format!("{}.git", unique("private"));
    let bare = svc.git_root.join(&name);
    git(
        &work,
        &["clone", "-q", "--bare", ".", bare.to_str().expect("utf-8")],
    );
    (name, files, head)
}

/// Runs the publisher binary; (success, stdout + stderr, elapsed).
fn publisher(args: &[String], env: &[(&str, &str)]) -> (bool, String, Duration) {
    let t = Instant::now();
    let mut cmd = Command::new(workspace_bin("tributary-publisher"));
    cmd.args(args).env("NO_COLOR", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("publisher runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text, t.elapsed())
}

fn publish_args(svc: &Services, repo: &str, topic: &str, extra: &[&str]) -> Vec<String> {
    Args::new(["publish"])
        .flag("repo", repo)
        .flag("brokers", &svc.kafka_brokers)
        .flag("topic", topic)
        .flag("content-strategy", "git-reference")
        .flag("storage-provider", "none")
        .flag("progress", "off")
        .flag("git-timeout", "10s")
        .with(extra)
        .words()
        .into_iter()
        .map(str::to_owned)
        .collect()
}

/// The consumer's flags for an SSH remote: the scheme, one credential binding, a
/// known_hosts.
fn ssh_flags<'a>(binding: &'a str, known: &'a str) -> [&'a str; 6] {
    [
        "--git-allowed-schemes",
        "ssh",
        "--git-credential",
        binding,
        "--git-known-hosts",
        known,
    ]
}

/// Runs the consumer binary until idle, scraping `/metrics` while it works; (logs,
/// metrics text).
fn consumer(
    svc: &Services,
    setup: &Setup,
    extra: &[&str],
    env: &[(&str, &str)],
) -> (String, String) {
    let port = free_port();
    let args = setup
        .run_args(svc, &setup.group)
        .flag("storage-provider", "none")
        .flag("exit-when-idle", "5s")
        .flag("metrics-addr", format!("127.0.0.1:{port}"))
        .with(extra);
    let mut cmd = Command::new(workspace_bin("tributary-consumer"));
    cmd.args(&args)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = cmd.spawn().expect("consumer starts");
    // scrape while it runs: the last answer before it exits
    let scraper = std::thread::spawn(move || {
        let mut last = String::new();
        let deadline = Instant::now() + Duration::from_secs(120);
        while Instant::now() < deadline {
            if let Ok(text) = scrape(port) {
                last = text;
            } else if !last.is_empty() {
                break;
            }
            std::thread::sleep(Duration::from_millis(300));
        }
        last
    });
    let out = child.wait_with_output().expect("consumer exits");
    let logs = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "consumer failed:\n{logs}");
    (logs, scraper.join().expect("scraper"))
}

fn scrape(port: u16) -> std::io::Result<String> {
    use std::io::{Read as _, Write as _};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(2)))?;
    s.write_all(b"GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n")?;
    let mut text = String::new();
    s.read_to_string(&mut text)?;
    Ok(text)
}

/// Every record of the run's topics, as text.
async fn topic_texts(svc: &Services, topics: &[&str]) -> String {
    let mut all = String::new();
    for t in topics {
        for r in records_within(&svc.kafka_brokers, t, Duration::from_secs(5)).await {
            all.push_str(&String::from_utf8_lossy(&r.payload.unwrap_or_default()));
            all.push('\n');
        }
    }
    all
}

fn assert_nowhere(secrets: &[String], places: &[(&str, &str)]) {
    for s in secrets {
        for (name, text) in places {
            assert!(
                !text.contains(s.as_str()),
                "secret material found in {name}"
            );
        }
    }
}

fn assert_documents(
    docs: &std::collections::BTreeMap<String, Vec<Value>>,
    project: &str,
    files: &[(String, String)],
) {
    for (path, _) in files {
        let key = format!("{project}/{path}");
        assert!(
            docs.contains_key(&key),
            "no document for {key}: {:?}",
            docs.keys()
        );
    }
}

/// Every file of the run has a document on the output topic, and no secret material is
/// in the run's topics, the publisher's output, the consumer's log or its /metrics
/// (`seen`, in that order). Returns the topics' text.
async fn assert_indexed_without_leaks(
    svc: &Services,
    setup: &Setup,
    p: &Private,
    project: &str,
    files: &[(String, String)],
    (pub_out, logs, metrics): (&str, &str, &str),
) -> String {
    let (docs, _) = outputs(svc, &setup.output, files.len(), 0).await;
    assert_documents(&docs, project, files);
    let topics = topic_texts(svc, &[&setup.input, &setup.output, &setup.dlq]).await;
    assert_nowhere(
        &p.secrets(),
        &[
            ("the topics", &topics),
            ("the publisher's output", pub_out),
            ("the consumer's log", logs),
            ("/metrics", metrics),
        ],
    );
    topics
}

#[tokio::test]
async fn a_private_repository_over_ssh_is_published_and_consumed() {
    let svc = Services::require();
    let p = Private::require();
    let (name, files, _) = private_repo(&svc);
    let url = format!("{}/{name}", p.ssh_url);
    let setup = Setup::new("private-ssh");
    let project = unique("private-ssh");
    let known = format!("file:{}", p.file("known_hosts"));
    // the publisher with the plain key, events naming the credential `corp-ssh`
    let (ok, pub_out, _) = publisher(
        &publish_args(
            &svc,
            &url,
            &setup.input,
            &[
                "--project",
                &project,
                "--git-credential",
                &format!("ssh-key:file:{}", p.file("client_ed25519")),
                "--git-credential-name",
                "corp-ssh",
                "--git-known-hosts",
                &known,
            ],
        ),
        &[],
    );
    assert!(ok, "publish over ssh failed:\n{pub_out}");
    // the consumer binds `corp-ssh` to its own, passphrase-protected key
    let binding = format!(
        "corp-ssh=ssh-key:file:{};passphrase=file:{}@127.0.0.1",
        p.file("client_enc_ed25519"),
        p.file("client_enc_passphrase")
    );
    let (logs, metrics) = consumer(&svc, &setup, &ssh_flags(&binding, &known), &[]);
    let topics = assert_indexed_without_leaks(
        &svc,
        &setup,
        &p,
        &project,
        &files,
        (&pub_out, &logs, &metrics),
    )
    .await;
    assert!(topics.contains("corp-ssh"), "events name the credential");
    assert!(
        metrics.contains("tributary_"),
        "metrics were scraped: {metrics}"
    );
}

#[tokio::test]
async fn a_private_repository_over_https_with_a_token_is_published_and_consumed() {
    let svc = Services::require();
    let p = Private::require();
    let (name, files, _) = private_repo(&svc);
    let url = format!("{}/{name}", p.http_url);
    let setup = Setup::new("private-http");
    let project = unique("private-http");
    // a bare token: sent as x-access-token (GitHub's convention, what the server knows)
    let (ok, pub_out, _) = publisher(
        &publish_args(
            &svc,
            &url,
            &setup.input,
            &[
                "--project",
                &project,
                "--git-credentials-env",
                "TRIBUTARY_IT_GIT_TOKEN",
            ],
        ),
        &[("TRIBUTARY_IT_GIT_TOKEN", &p.token)],
    );
    assert!(ok, "publish over https failed:\n{pub_out}");
    // the consumer maps the name events carry to its own variable and another user
    let (logs, metrics) = consumer(
        &svc,
        &setup,
        &[
            "--git-allowed-schemes",
            "http",
            "--git-credential",
            "env:TRIBUTARY_IT_GIT_TOKEN=env:TRIBUTARY_IT_CONSUMER_TOKEN;user=ci-bot@127.0.0.1",
        ],
        &[("TRIBUTARY_IT_CONSUMER_TOKEN", &p.token)],
    );
    assert_indexed_without_leaks(
        &svc,
        &setup,
        &p,
        &project,
        &files,
        (&pub_out, &logs, &metrics),
    )
    .await;
}

#[tokio::test]
async fn wrong_keys_tokens_and_host_keys_are_refused_with_the_reason_and_no_hang() {
    let svc = Services::require();
    let p = Private::require();
    let (name, _, _) = private_repo(&svc);
    let ssh = format!("{}/{name}", p.ssh_url);
    let http = format!("{}/{name}", p.http_url);
    let dir = tempfile::tempdir().expect("tempdir");
    // known_hosts files that do not vouch for the server: another key for it, nothing
    let host_key = std::fs::read_to_string(p.file("known_hosts")).expect("known_hosts");
    let other_key = std::fs::read_to_string(p.file("stranger_ed25519.pub")).expect("pub");
    let forged = dir.path().join("forged");
    let mut fields = other_key.split_whitespace();
    std::fs::write(
        &forged,
        format!(
            "[127.0.0.1]:2222 {} {}\n",
            fields.next().expect("type"),
            fields.next().expect("key")
        ),
    )
    .expect("write");
    let empty = dir.path().join("empty");
    std::fs::write(&empty, "# nothing\n").expect("write");
    assert!(host_key.contains("[127.0.0.1]:2222"));
    let known = format!("file:{}", p.file("known_hosts"));
    let stranger = format!("ssh-key:file:{}", p.file("stranger_ed25519"));
    let client = format!("ssh-key:file:{}", p.file("client_ed25519"));
    let forged = format!("file:{}", forged.display());
    let empty = format!("file:{}", empty.display());
    let cases: Vec<(&str, &str, Vec<&str>, &str)> = vec![
        (
            "a key the server does not know",
            &ssh,
            vec!["--git-credential", &stranger, "--git-known-hosts", &known],
            "refused the credentials",
        ),
        (
            "a host key that differs from known_hosts",
            &ssh,
            vec!["--git-credential", &client, "--git-known-hosts", &forged],
            "does not match the configured known_hosts",
        ),
        (
            "a host known_hosts does not list",
            &ssh,
            vec!["--git-credential", &client, "--git-known-hosts", &empty],
            "is not in the configured known_hosts",
        ),
        (
            "no known_hosts at all",
            &ssh,
            vec!["--git-credential", &client],
            "no known_hosts is configured",
        ),
        (
            "a wrong token",
            &http,
            vec!["--git-credentials-env", "TRIBUTARY_IT_WRONG_TOKEN"],
            "refused the credentials",
        ),
        (
            "no credential for a server that asks",
            &http,
            vec![],
            "none is configured",
        ),
    ];
    for (what, url, flags, says) in cases {
        let topic = unique("private-refused");
        let (ok, out, took) = publisher(
            &publish_args(&svc, url, &topic, &flags),
            &[("TRIBUTARY_IT_WRONG_TOKEN", "tg_not-the-token")],
        );
        assert!(!ok, "{what}: the publish succeeded:\n{out}");
        assert!(out.contains(says), "{what}: no {says:?} in:\n{out}");
        assert!(
            out.contains(&name),
            "{what}: the remote is not named:\n{out}"
        );
        assert!(took < Duration::from_secs(30), "{what}: took {took:?}");
        assert_nowhere(&p.secrets(), &[(what, &out)]);
    }
}

#[tokio::test]
async fn the_consumer_dead_letters_refused_host_keys_and_keys_with_their_reason() {
    let svc = Services::require();
    let p = Private::require();
    let (name, files, head) = private_repo(&svc);
    let url = format!("{}/{name}", p.ssh_url);
    let dir = tempfile::tempdir().expect("tempdir");
    let empty = dir.path().join("empty");
    std::fs::write(&empty, "").expect("write");
    let cases = [
        // the server's host key is not in the consumer's known_hosts
        (
            format!("file:{}", empty.display()),
            format!("corp=ssh-key:file:{}@127.0.0.1", p.file("client_ed25519")),
            "git_host_key_refused",
        ),
        // the server refuses the consumer's key
        (
            format!("file:{}", p.file("known_hosts")),
            format!("corp=ssh-key:file:{}@127.0.0.1", p.file("stranger_ed25519")),
            "credentials_refused",
        ),
    ];
    for (known, binding, reason) in cases {
        let setup = Setup::new("private-dlq");
        let project = unique("private-dlq");
        let (path, text) = &files[0];
        let mut e = crate::consumer::event(
            &project,
            serde_json::json!([{
                "path": path, "size": text.len(),
                "checksum": hex::encode(<sha2::Sha256 as sha2::Digest>::digest(text.as_bytes())),
                "content_strategy": "git_reference", "git_url": url, "git_ref": head,
            }]),
        );
        e["git_credentials"] = serde_json::json!("cred:corp");
        crate::consumer::produce(&svc, &setup.input, &[serde_json::to_vec(&e).expect("json")])
            .await;
        let (logs, _) = consumer(&svc, &setup, &ssh_flags(&binding, &known), &[]);
        let recs = dead_letters(&svc, &setup.dlq, 1).await;
        assert_eq!(recs[0]["reason"], reason, "{}", recs[0]);
        assert!(
            recs[0]["message"]
                .as_str()
                .unwrap_or_default()
                .contains("127.0.0.1"),
            "the record names the remote: {}",
            recs[0]
        );
        assert_nowhere(
            &p.secrets(),
            &[
                ("the consumer's log", &logs),
                ("the dead letter", &recs[0].to_string()),
            ],
        );
    }
}

#[tokio::test]
async fn the_publisher_gives_up_on_a_remote_that_never_answers() {
    let svc = Services::require();
    // accepts every connection and never says a word
    let port = silent_port();
    for url in [
        format!("ssh://git@127.0.0.1:{port}/r.git"),
        format!("http://127.0.0.1:{port}/r.git"),
        format!("git://127.0.0.1:{port}/r.git"),
    ] {
        let topic = unique("private-silent");
        let mut args = publish_args(&svc, &url, &topic, &["--git-accept-unknown-host-keys"]);
        // publish_args says 10s; a silent remote must fail within about that
        let at = args
            .iter()
            .position(|a| a == "--git-timeout")
            .expect("flag");
        args[at + 1] = "2s".into();
        let (ok, out, took) = publisher(&args, &[]);
        assert!(!ok, "{url}: the publish succeeded:\n{out}");
        assert!(
            took < Duration::from_secs(30),
            "{url}: held for {took:?}:\n{out}"
        );
        assert!(
            out.contains(&format!("127.0.0.1:{port}")),
            "{url}: the remote is not named:\n{out}"
        );
    }
}

#[tokio::test]
async fn watch_mode_polls_a_private_repository_over_ssh() {
    use crate::watch::{Served, wait_for_cursor, watch_config_with, watch_file};
    let svc = Services::require();
    let p = Private::require();
    let repo = Served::new(&svc, &[("src/lib.rs", "pub fn one() {}\n")]);
    let c1 = git(&repo.work, &["rev-parse", "HEAD"]);
    let name = repo
        .bare
        .file_name()
        .and_then(|n| n.to_str())
        .expect("name")
        .to_owned();
    let url = format!("{}/{name}", p.ssh_url);
    let setup = Setup::new("private-watch");
    let project = unique("private-watch");
    let state = tempfile::tempdir().expect("tempdir");
    let file = watch_file(state.path(), &project, &url, 1, "");
    // the repository's credential, as the watch file gives it
    let text = std::fs::read_to_string(&file).expect("read").replace(
        "branches = [\"main\"]",
        &format!(
            "branches = [\"main\"]\ncredentials = \"ssh-key:file:{}\"\ncredentials_name = \"corp-ssh\"",
            p.file("client_ed25519")
        ),
    );
    std::fs::write(&file, text).expect("write");
    let known = format!("file:{}", p.file("known_hosts"));
    let cancel = tokio_util::sync::CancellationToken::new();
    let (watcher, _) = tributary_publisher::watch::Watcher::start(
        watch_config_with(
            &svc,
            &file,
            &state.path().join("state"),
            &setup.input,
            false,
            &[
                "--content-strategy",
                "git-reference",
                "--git-known-hosts",
                &known,
            ],
        ),
        cancel.clone(),
    )
    .await
    .expect("watcher starts");
    wait_for_cursor(&watcher, &project, &c1).await;
    // a new commit is found by polling over SSH
    let c2 = repo.commit(&[("src/two.rs", "pub fn two() {}\n")], &[], "two");
    wait_for_cursor(&watcher, &project, &c2).await;
    cancel.cancel();
    let binding = format!(
        "corp-ssh=ssh-key:file:{}@127.0.0.1",
        p.file("client_ed25519")
    );
    let (logs, _) = consumer(&svc, &setup, &ssh_flags(&binding, &known), &[]);
    let (docs, _) = outputs(&svc, &setup.output, 2, 0).await;
    for path in ["src/lib.rs", "src/two.rs"] {
        assert!(
            docs.contains_key(&format!("{project}/{path}")),
            "{path}: {:?}",
            docs.keys()
        );
    }
    let topics = topic_texts(&svc, &[&setup.input, &setup.output, &setup.dlq]).await;
    assert!(
        topics.contains("cred:corp-ssh"),
        "events name the credential"
    );
    assert_nowhere(
        &p.secrets(),
        &[("the topics", &topics), ("the consumer's log", &logs)],
    );
}

/// Creates a secret in the AWS emulator (moto's server mode: it checks no signature, so a
/// credential scope naming the service is all it needs); the emulator's URL.
fn aws_secret(name: &str, value: &str) -> String {
    let url = std::env::var("TRIBUTARY_AWS_EMULATOR_URL").unwrap_or_else(|_| {
        panic!("TRIBUTARY_AWS_EMULATOR_URL is not set; start deploy/local/services up")
    });
    let body = serde_json::json!({"Name": name, "SecretString": value}).to_string();
    let out = Command::new("curl")
        .args(["-sS", "-f", "-X", "POST", &format!("{url}/")])
        .args(["-H", "Authorization: AWS4-HMAC-SHA256 Credential=it/20260101/us-east-1/secretsmanager/aws4_request, SignedHeaders=host, Signature=0"])
        .args(["-H", "X-Amz-Target: secretsmanager.CreateSecret"])
        .args(["-H", "Content-Type: application/x-amz-json-1.1"])
        .args(["-d", &body])
        .output()
        .expect("curl runs");
    assert!(
        out.status.success(),
        "the emulator refused the secret: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    url
}

#[tokio::test]
async fn a_token_kept_in_aws_secrets_manager_fetches_a_private_repository() {
    let svc = Services::require();
    let p = Private::require();
    let (name, files, _) = private_repo(&svc);
    let url = format!("{}/{name}", p.http_url);
    let secret = unique("tributary-it/git");
    let emulator = aws_secret(
        &secret,
        &serde_json::json!({"token": p.token, "note": "ci"}).to_string(),
    );
    let aws_env = [
        ("AWS_ENDPOINT_URL_SECRETS_MANAGER", emulator.as_str()),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "it"),
        ("AWS_SECRET_ACCESS_KEY", "it"),
    ];
    let setup = Setup::new("private-sm");
    let project = unique("private-sm");
    let reference = format!("aws-sm:{secret}#token");
    let (ok, pub_out, _) = publisher(
        &publish_args(
            &svc,
            &url,
            &setup.input,
            &[
                "--project",
                &project,
                "--git-credential",
                &reference,
                "--git-credential-name",
                "corp-sm",
            ],
        ),
        &aws_env,
    );
    assert!(
        ok,
        "publish with a Secrets Manager token failed:\n{pub_out}"
    );
    let binding = format!("corp-sm=aws-sm:{secret}#token;user=ci-bot@127.0.0.1");
    let (logs, metrics) = consumer(
        &svc,
        &setup,
        &[
            "--git-allowed-schemes",
            "http",
            "--git-credential",
            &binding,
        ],
        &aws_env,
    );
    assert_indexed_without_leaks(
        &svc,
        &setup,
        &p,
        &project,
        &files,
        (&pub_out, &logs, &metrics),
    )
    .await;
    // a secret that is not there: a clear error naming the reference, nothing fetched
    let (ok, out, _) = publisher(
        &publish_args(
            &svc,
            &url,
            &unique("private-sm-missing"),
            &[
                "--git-credential",
                "aws-sm:tributary-it/none#token",
                "--git-credential-name",
                "corp-sm",
            ],
        ),
        &aws_env,
    );
    assert!(!ok, "{out}");
    assert!(
        out.contains("aws-sm:tributary-it/none#token") && out.contains("ResourceNotFound"),
        "{out}"
    );
}

#[tokio::test]
async fn the_ssh_agent_serves_the_key() {
    let svc = Services::require();
    let p = Private::require();
    let (name, files, _) = private_repo(&svc);
    let url = format!("{}/{name}", p.ssh_url);
    // an agent of this test's own, holding the client key
    let dir = tempfile::tempdir().expect("tempdir");
    let sock = dir.path().join("agent.sock");
    let mut agent = Command::new("ssh-agent")
        .arg("-D")
        .arg("-a")
        .arg(&sock)
        .stdout(Stdio::null())
        .spawn()
        .expect("ssh-agent starts");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !sock.exists() {
        assert!(Instant::now() < deadline, "ssh-agent made no socket");
        std::thread::sleep(Duration::from_millis(50));
    }
    let added = Command::new("ssh-add")
        .arg(p.file("client_ed25519"))
        .env("SSH_AUTH_SOCK", &sock)
        .output()
        .expect("ssh-add runs");
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let topic = unique("private-agent");
    let known = format!("file:{}", p.file("known_hosts"));
    let sock_env = sock.display().to_string();
    let (ok, out, _) = publisher(
        &publish_args(
            &svc,
            &url,
            &topic,
            &[
                "--git-credential",
                "ssh-agent",
                "--git-known-hosts",
                &known,
                "--report-json",
            ],
        ),
        &[("SSH_AUTH_SOCK", sock_env.as_str())],
    );
    let _ = agent.kill();
    let _ = agent.wait();
    assert!(ok, "publish through the agent failed:\n{out}");
    // the report is the first thing on standard output
    let report: Value = serde_json::Deserializer::from_str(&out)
        .into_iter::<Value>()
        .next()
        .and_then(Result::ok)
        .unwrap_or_else(|| panic!("no JSON report in:\n{out}"));
    assert_eq!(report["files"]["git_reference"], files.len(), "{report}");
}

#[tokio::test]
async fn watched_remotes_that_never_answer_fail_each_poll_within_the_timeout() {
    let svc = Services::require();
    // accepts every connection and never says a word
    let port = silent_port();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("watch.toml");
    let mut watch = "poll_interval_secs = 1\n".to_owned();
    for (project, url) in [
        ("silent-ssh", format!("ssh://git@127.0.0.1:{port}/r.git")),
        ("silent-http", format!("http://127.0.0.1:{port}/r.git")),
        ("silent-git", format!("git://127.0.0.1:{port}/r.git")),
    ] {
        watch.push_str(&format!(
            "[[repository]]\nproject = \"{project}\"\nurl = \"{url}\"\n"
        ));
    }
    std::fs::write(&file, watch).expect("write");
    let metrics_port = free_port();
    let args = Args::new(["watch"])
        .flag("watch-file", file.display().to_string())
        .flag("state-dir", dir.path().join("state").display().to_string())
        .flag("brokers", &svc.kafka_brokers)
        .flag("topic", unique("private-silent-watch"))
        .flag("storage-provider", "none")
        .flag("git-timeout", "2s")
        .flag("max-backoff", "2s")
        .flag("metrics-addr", format!("127.0.0.1:{metrics_port}"))
        .with(["--git-accept-unknown-host-keys"]);
    let mut child = Command::new(workspace_bin("tributary-publisher"))
        .args(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("watcher starts");
    // each poll of each remote must end (failed) for the count to keep growing: a hung
    // poll would stop its repository's poller for good
    let failed = |text: &str| -> u64 {
        text.lines()
            .filter(|l| {
                l.starts_with("tributary_watch_polls_total") && l.contains("result=\"failed\"")
            })
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .map(|v| v as u64)
            .sum()
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = 0;
    while Instant::now() < deadline && seen < 9 {
        seen = scrape(metrics_port).map(|t| failed(&t)).unwrap_or(0);
        std::thread::sleep(Duration::from_millis(500));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        seen >= 9,
        "{seen} failed polls of 3 silent remotes within 60 s: a poll hung"
    );
}
