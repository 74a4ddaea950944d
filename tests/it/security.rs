//! Secured Kafka, for real: the local broker's SASL_SSL (SCRAM-SHA-512), mutual-TLS and
//! OAUTHBEARER listeners, with the CA and certificates `deploy/local/services` made and
//! its topic ACLs (the test user may use `secure-*` topics and groups only). Events are
//! published and consumed end to end over each; every way of getting it wrong (password,
//! CA, client certificate, topic permission, a secret given as a value) ends with exit
//! code 2 naming the setting, within ten seconds, with nothing produced.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer as _};
use serde_json::Value;
use tributary_tests::{
    Args, Services, consume_until, create_topic, serve_http, unique, workspace_bin,
};

/// The secured listeners and the files to reach them, from `deploy/local/services env`.
struct Secure {
    sasl_ssl: String,
    ssl: String,
    oauth: String,
    tls: PathBuf,
    user: String,
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: start the services and load their environment (deploy/local/services up && eval \"$(deploy/local/services env)\")")
    })
}

impl Secure {
    fn require() -> Self {
        let s = Self {
            sasl_ssl: env("TRIBUTARY_KAFKA_SASL_SSL_BROKERS"),
            ssl: env("TRIBUTARY_KAFKA_SSL_BROKERS"),
            oauth: env("TRIBUTARY_KAFKA_OAUTH_BROKERS"),
            tls: PathBuf::from(env("TRIBUTARY_KAFKA_TLS_DIR")),
            user: env("TRIBUTARY_KAFKA_USER"),
        };
        assert!(
            s.tls.join("ca.pem").is_file(),
            "no CA in {}; run deploy/local/services up",
            s.tls.display()
        );
        s
    }

    fn file(&self, name: &str) -> String {
        self.tls.join(name).to_str().expect("utf-8").to_owned()
    }

    /// SASL_SSL with SCRAM-SHA-512, the password by reference.
    fn scram(&self, password_ref: &str, ca: &str) -> Args {
        Args::default()
            .flag("brokers", &self.sasl_ssl)
            .flag("kafka-sasl-mechanism", "SCRAM-SHA-512")
            .flag("kafka-sasl-username", &self.user)
            .flag("kafka-sasl-password", password_ref)
            .flag("kafka-tls-ca-file", self.file(ca))
    }

    fn scram_ok(&self) -> Args {
        self.scram(&format!("file:{}", self.file("scram-password")), "ca.pem")
    }

    /// Mutual TLS with the client certificate `name`.pem / `name`.key.
    fn mtls(&self, name: &str) -> Args {
        Args::default()
            .flag("brokers", &self.ssl)
            .flag("kafka-tls-ca-file", self.file("ca.pem"))
            .flag("kafka-tls-cert-file", self.file(&format!("{name}.pem")))
            .flag(
                "kafka-tls-key",
                format!("file:{}", self.file(&format!("{name}.key"))),
            )
    }

    /// OAUTHBEARER with librdkafka's unsecured JWT (the broker's default validator).
    fn oauth(&self) -> Args {
        Args::default()
            .flag("brokers", &self.oauth)
            .flag("kafka-security-protocol", "SASL_PLAINTEXT")
            .flag("kafka-sasl-mechanism", "OAUTHBEARER")
            .with(["-X", "enable.sasl.oauthbearer.unsecure.jwt=true"])
            .with([
                "-X",
                &format!("sasl.oauthbearer.config=principal={}", self.user),
            ])
    }
}

/// A small repository to publish.
fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("main.rs"),
        "fn main() { println!(\"hi\"); }\n",
    )
    .expect("write");
    std::fs::write(dir.path().join("README.md"), "# secure\n").expect("write");
    dir
}

struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    took: Duration,
}

fn run(bin: &str, args: &Args) -> Outcome {
    let start = Instant::now();
    let out = std::process::Command::new(workspace_bin(bin))
        .args(args)
        .env("NO_COLOR", "1")
        // the environment of the suite points at the plaintext listener; these runs
        // must use only what their flags say
        .env_remove("TRIBUTARY_KAFKA_BROKERS")
        .output()
        .expect("binary runs");
    Outcome {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        took: start.elapsed(),
    }
}

/// The consumer's `words` reading `input` into `output` and `dlq`, with no object store
/// and its caches under `caches`.
fn consumer_args(
    words: &[&str],
    caches: &std::path::Path,
    input: &str,
    output: &str,
    dlq: &str,
) -> Args {
    let dir = |d: &str| caches.join(d).to_str().expect("utf-8").to_owned();
    Args::new(words)
        .flag("input-topic", input)
        .flag("output-topic", output)
        .flag("dlq-topic", dlq)
        .flag("storage-provider", "none")
        .flag("cache-dir", dir("c"))
        .flag("git-cache-dir", dir("g"))
        .flag("analysis-cache-dir", dir("a"))
}

fn publish(dir: &std::path::Path, project: &str, topic: &str, kafka: &Args) -> Outcome {
    run(
        "tributary-publisher",
        &Args::new(["publish"])
            .flag("repo", dir.to_str().expect("utf-8"))
            .flag("project", project)
            .flag("topic", topic)
            .flag("storage-provider", "none")
            .flag("progress", "off")
            .with(kafka),
    )
}

/// Messages in `topic` (all partitions), read as a superuser on the plaintext listener.
fn messages_in(brokers: &str, topic: &str) -> i64 {
    let c: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .expect("consumer");
    let md = c
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .expect("metadata");
    md.topics()
        .iter()
        .flat_map(|t| t.partitions())
        .map(|p| {
            let (lo, hi) = c
                .fetch_watermarks(topic, p.id(), Duration::from_secs(10))
                .expect("watermarks");
            hi - lo
        })
        .sum()
}

/// Publishes over `kafka`, consumes over `kafka`, and checks the documents arrived.
async fn end_to_end(svc: &Services, kafka: Args, name: &str) {
    let dir = repo();
    let project = unique(name);
    let base = unique(&format!("secure-{name}"));
    let (input, output, dlq) = (
        format!("{base}-in"),
        format!("{base}-out"),
        format!("{base}-dlq"),
    );
    for t in [&input, &output, &dlq] {
        create_topic(&svc.kafka_brokers, t, 1, &[]).await;
    }
    let p = publish(dir.path(), &project, &input, &kafka);
    assert_eq!(
        p.code,
        Some(0),
        "publish over {name}:\n{}\n{}",
        p.stdout,
        p.stderr
    );

    let caches = tempfile::tempdir().expect("tempdir");
    let c = run(
        "tributary-consumer",
        &consumer_args(&["run"], caches.path(), &input, &output, &dlq)
            .flag("group", unique("secure-group"))
            .flag("exit-when-idle", "4s")
            .with(&kafka),
    );
    assert_eq!(c.code, Some(0), "consume over {name}:\n{}", c.stderr);
    // two documents and the project summary, read back as a superuser
    let docs = consume_until(&svc.kafka_brokers, &output, Duration::from_secs(30), |r| {
        r.len() >= 3
    })
    .await;
    let paths: Vec<String> = docs
        .iter()
        .filter_map(|d| serde_json::from_slice::<Value>(d).ok())
        .filter_map(|v| v["path"].as_str().map(str::to_owned))
        .collect();
    assert!(
        paths.contains(&"main.rs".to_owned()) && paths.contains(&"README.md".to_owned()),
        "documents over {name}: {paths:?}"
    );
    assert_eq!(
        messages_in(&svc.kafka_brokers, &dlq),
        0,
        "nothing dead-lettered"
    );
}

#[tokio::test]
async fn publish_and_consume_over_sasl_ssl_with_scram() {
    let svc = Services::require();
    let s = Secure::require();
    end_to_end(&svc, s.scram_ok(), "scram").await;
}

#[tokio::test]
async fn publish_and_consume_over_mutual_tls() {
    let svc = Services::require();
    let s = Secure::require();
    end_to_end(&svc, s.mtls("client"), "mtls").await;
}

#[tokio::test]
async fn publish_and_consume_over_oauthbearer() {
    let svc = Services::require();
    let s = Secure::require();
    end_to_end(&svc, s.oauth(), "oauth").await;
}

#[tokio::test]
async fn every_wrong_setting_exits_2_naming_it_and_produces_nothing() {
    let svc = Services::require();
    let s = Secure::require();
    let dir = repo();
    let wrong = tempfile::tempdir().expect("tempdir");
    let wrong_pw = wrong.path().join("pw");
    std::fs::write(&wrong_pw, "not-the-password").expect("write");
    let wrong_pw = format!("file:{}", wrong_pw.display());
    let allowed = unique("secure-refused");
    create_topic(&svc.kafka_brokers, &allowed, 1, &[]).await;
    let forbidden = unique("forbidden");
    create_topic(&svc.kafka_brokers, &forbidden, 1, &[]).await;

    let not_authorised = format!("not authorised for topic {forbidden}");
    // (case, kafka flags, topic, what the one error line must name)
    let cases: Vec<(&str, Args, &str, &str)> = vec![
        (
            "wrong password",
            s.scram(&wrong_pw, "ca.pem"),
            &allowed,
            "authentication failed",
        ),
        (
            "unknown CA",
            s.scram(
                &format!("file:{}", s.file("scram-password")),
                "rogue-ca.pem",
            ),
            &allowed,
            "--kafka-tls-ca-file",
        ),
        (
            "client certificate from another CA",
            s.mtls("rogue-client"),
            &allowed,
            "TLS handshake failed",
        ),
        (
            "expired client certificate",
            s.mtls("expired-client"),
            &allowed,
            "TLS handshake failed",
        ),
        (
            "no client certificate",
            Args::default()
                .flag("brokers", &s.ssl)
                .flag("kafka-tls-ca-file", s.file("ca.pem")),
            &allowed,
            "--kafka-tls-cert-file",
        ),
        (
            "topic the user may not use",
            s.scram_ok(),
            &forbidden,
            &not_authorised,
        ),
        (
            "password given as a value",
            s.scram("the-password-itself", "ca.pem"),
            &allowed,
            "--kafka-sasl-password: expected a reference",
        ),
        (
            "missing CA file",
            s.scram_ok()
                .flag("kafka-tls-ca-file", "/nonexistent/ca.pem"),
            &allowed,
            "--kafka-tls-ca-file: cannot read /nonexistent/ca.pem",
        ),
        (
            "guarded property",
            s.scram_ok().with(["-X", "enable.idempotence=false"]),
            &allowed,
            "-X enable.idempotence: refused",
        ),
        (
            "malformed broker list",
            s.scram_ok().flag("brokers", "broker-without-port"),
            &allowed,
            "--brokers",
        ),
    ];
    for (case, kafka, topic, expected) in cases {
        let o = publish(dir.path(), &unique("refused"), topic, &kafka);
        assert_eq!(
            o.code,
            Some(2),
            "{case}: exit code\n{}\n{}",
            o.stdout,
            o.stderr
        );
        let errors: Vec<&str> = o
            .stderr
            .lines()
            .filter(|l| l.starts_with("error:"))
            .collect();
        assert_eq!(errors.len(), 1, "{case}: one error line\n{}", o.stderr);
        assert!(errors[0].contains(expected), "{case}: {}", errors[0]);
        assert!(
            !o.stderr.contains("not-the-password"),
            "{case} leaks the password"
        );
        assert!(
            o.took < Duration::from_secs(12),
            "{case}: took {:?}",
            o.took
        );
    }
    // nothing reached either topic
    assert_eq!(messages_in(&svc.kafka_brokers, &allowed), 0);
    assert_eq!(messages_in(&svc.kafka_brokers, &forbidden), 0);

    // the consumer refuses the same way before it consumes anything
    let caches = tempfile::tempdir().expect("tempdir");
    let c = run(
        "tributary-consumer",
        &consumer_args(
            &["run"],
            caches.path(),
            &allowed,
            &format!("{allowed}-out"),
            &forbidden,
        )
        .flag("group", unique("secure-group"))
        .flag("exit-when-idle", "2s")
        .with(s.scram_ok()),
    );
    assert_eq!(c.code, Some(2), "consumer:\n{}", c.stderr);
    assert!(
        c.stderr
            .contains(&format!("not authorised for topic {forbidden}")),
        "{}",
        c.stderr
    );
}

/// `check --format json` as a map from check name to (ok, detail).
fn checks(o: &Outcome) -> (bool, std::collections::BTreeMap<String, (bool, String)>) {
    tributary_tests::check_lines(&o.stdout, &o.stderr)
}

#[tokio::test]
async fn check_reports_each_listener_topic_and_store_line_by_line() {
    let svc = Services::require();
    let s = Secure::require();
    let dir = repo();
    let topic = unique("secure-check");
    create_topic(&svc.kafka_brokers, &topic, 2, &[]).await;
    let output = format!("{topic}-out");
    create_topic(&svc.kafka_brokers, &output, 1, &[]).await;
    let forbidden = unique("forbidden-check");
    create_topic(&svc.kafka_brokers, &forbidden, 1, &[]).await;

    // the publisher over mutual TLS with the object store: every line ok, exit 0, and
    // the printed settings name the key by reference
    let o = run(
        "tributary-publisher",
        &Args::new(["check", "--format", "json"])
            .flag("repo", dir.path().to_str().expect("utf-8"))
            .flag("topic", &topic)
            .with(svc.s3_args())
            .with(s.mtls("client")),
    );
    let (ok, lines) = checks(&o);
    assert!(ok && o.code == Some(0), "{lines:#?}\n{}", o.stderr);
    assert_eq!(
        lines[&format!("kafka topic {topic}")],
        (true, "visible, 2 partitions".to_owned())
    );
    for store in [
        "object store",
        "object store write",
        "object store read",
        "object store presigned GET",
        "object store delete",
    ] {
        assert!(lines[store].0, "{store}: {lines:#?}");
    }
    assert!(o.stdout.contains("\"tls_key\":\"file:"), "{}", o.stdout);

    // the consumer over SCRAM: the forbidden topic and an unreadable credential fail,
    // the rest pass, exit 1
    let caches = tempfile::tempdir().expect("tempdir");
    let o = run(
        "tributary-consumer",
        &consumer_args(
            &["check", "--format", "json"],
            caches.path(),
            &topic,
            &output,
            &forbidden,
        )
        .flag(
            "git-credential",
            "gh=env:TRIBUTARY_TEST_UNSET_CREDENTIAL@github.com",
        )
        .with(s.scram_ok()),
    );
    let (ok, lines) = checks(&o);
    assert!(!ok && o.code == Some(1), "{lines:#?}");
    assert_eq!(
        lines[&format!("kafka {}", s.sasl_ssl)],
        (true, "reachable, credentials accepted".to_owned())
    );
    assert!(lines[&format!("kafka topic {topic}")].0);
    assert_eq!(
        lines[&format!("kafka topic {forbidden}")],
        (false, "not authorised for this principal".to_owned())
    );
    assert!(
        lines
            .iter()
            .any(|(k, v)| k.starts_with("content cache") && v.0)
    );
    assert!(!lines["git credential gh"].0);
    assert!(lines[&format!("kafka read {topic} as group tributary-consumer")].0);
    assert_eq!(lines.values().filter(|v| !v.0).count(), 2, "{lines:#?}");

    // a group the principal may not use: the read line says so
    let group = unique("other-group");
    let o = run(
        "tributary-consumer",
        &consumer_args(
            &["check", "--format", "json"],
            caches.path(),
            &topic,
            &output,
            &output,
        )
        .flag("group", &group)
        .with(s.scram_ok()),
    );
    let (ok, lines) = checks(&o);
    assert!(!ok && o.code == Some(1), "{lines:#?}");
    assert_eq!(
        lines[&format!("kafka read {topic} as group {group}")],
        (
            false,
            format!("this principal may not use consumer group {group}")
        )
    );

    // a refused password: one failed Kafka line saying so, and nothing checked behind it
    let wrong = tempfile::tempdir().expect("tempdir");
    let pw = wrong.path().join("pw");
    std::fs::write(&pw, "nope").expect("write");
    let o = run(
        "tributary-consumer",
        &consumer_args(
            &["check", "--format", "json"],
            caches.path(),
            &topic,
            &output,
            &format!("{topic}-dlq"),
        )
        .with(s.scram(&format!("file:{}", pw.display()), "ca.pem")),
    );
    let (ok, lines) = checks(&o);
    assert!(!ok && o.code == Some(1));
    let kafka = &lines[&format!("kafka {}", s.sasl_ssl)];
    assert!(
        !kafka.0 && kafka.1.contains("authentication failed"),
        "{kafka:?}"
    );
    assert!(
        !lines.keys().any(|k| k.starts_with("kafka topic")),
        "{lines:#?}"
    );
}

/// An OIDC token endpoint on loopback for the client-credentials grant: it answers
/// client `tributary` with the right secret with an unsecured JWT (`alg: none`, which
/// the local broker's OAUTHBEARER listener accepts), anyone else with 401. It counts the
/// token requests it granted.
struct TokenEndpoint {
    url: String,
    granted: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl TokenEndpoint {
    fn start(secret: &'static str, subject: String) -> Self {
        use base64::Engine as _;
        let granted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let count = granted.clone();
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let expected = format!(
            "basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("tributary:{secret}"))
        );
        let port = serve_http(move |request| {
            let head = request.to_ascii_lowercase();
            let authorised = head.contains("grant_type=client_credentials")
                && head.lines().any(|l| {
                    l.trim_end() == format!("authorization: {expected}").to_ascii_lowercase()
                });
            if authorised {
                count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .expect("clock")
                    .as_secs();
                let jwt = format!(
                    "{}.{}.",
                    b64.encode(r#"{"alg":"none"}"#),
                    b64.encode(format!(
                        r#"{{"sub":"{subject}","iat":{now},"exp":{}}}"#,
                        now + 3600
                    ))
                );
                let body = format!(
                    r#"{{"access_token":"{jwt}","token_type":"bearer","expires_in":3600}}"#
                );
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
            } else {
                "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    .to_owned()
            }
        });
        Self {
            url: format!("http://127.0.0.1:{port}/oauth2/token"),
            granted,
        }
    }
}

#[tokio::test]
async fn oauthbearer_through_an_oidc_token_endpoint() {
    let svc = Services::require();
    let s = Secure::require();
    let endpoint = TokenEndpoint::start("oidc-client-secret", s.user.clone());
    let secrets = tempfile::tempdir().expect("tempdir");
    let secret = |name: &str, value: &str| {
        let p = secrets.path().join(name);
        std::fs::write(&p, value).expect("write");
        format!("file:{}", p.display())
    };
    let oidc = |secret_ref: String| {
        Args::default()
            .flag("brokers", &s.oauth)
            .flag("kafka-security-protocol", "SASL_PLAINTEXT")
            .flag("kafka-sasl-mechanism", "OAUTHBEARER")
            .flag("kafka-oauth-token-endpoint", &endpoint.url)
            .flag("kafka-oauth-client-id", "tributary")
            .flag("kafka-oauth-client-secret", secret_ref)
            .flag("kafka-oauth-scope", "kafka")
    };
    end_to_end(&svc, oidc(secret("good", "oidc-client-secret")), "oidc").await;
    assert!(
        endpoint.granted.load(std::sync::atomic::Ordering::SeqCst) >= 2,
        "the publisher and the consumer each fetched a token"
    );
    // a wrong client secret: the token endpoint refuses, the publisher exits 2
    let dir = repo();
    let topic = unique("secure-oidc-refused");
    create_topic(&svc.kafka_brokers, &topic, 1, &[]).await;
    let o = publish(
        dir.path(),
        &unique("oidc"),
        &topic,
        &oidc(secret("bad", "wrong")),
    );
    assert_eq!(o.code, Some(2), "{}", o.stderr);
    assert!(o.took < Duration::from_secs(12), "took {:?}", o.took);
    assert_eq!(messages_in(&svc.kafka_brokers, &topic), 0);
    assert!(!o.stderr.contains("oidc-client-secret"));
}

#[tokio::test]
async fn a_topic_the_principal_may_read_but_not_write_is_refused_before_producing() {
    let svc = Services::require();
    let s = Secure::require();
    let dir = repo();
    let topic = unique("readonly");
    create_topic(&svc.kafka_brokers, &topic, 1, &[]).await;
    let o = publish(dir.path(), &unique("ro"), &topic, &s.scram_ok());
    assert_eq!(o.code, Some(2), "{}\n{}", o.stdout, o.stderr);
    assert!(
        o.stderr
            .contains(&format!("may not write to topic {topic}")),
        "{}",
        o.stderr
    );
    assert_eq!(messages_in(&svc.kafka_brokers, &topic), 0);
    // check says the same, line by line
    let o = run(
        "tributary-publisher",
        &Args::new(["check", "--format", "json"])
            .flag("repo", dir.path().to_str().expect("utf-8"))
            .flag("topic", &topic)
            .flag("storage-provider", "none")
            .with(s.scram_ok()),
    );
    let (ok, lines) = checks(&o);
    assert!(!ok && o.code == Some(1), "{lines:#?}");
    assert!(lines[&format!("kafka topic {topic}")].0, "{lines:#?}");
    assert_eq!(
        lines[&format!("kafka write {topic}")],
        (
            false,
            "visible, but this principal may not write to it".to_owned()
        )
    );
}
