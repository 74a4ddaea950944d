//! Hostile input against the real consumer: outputs that would not fit, secrets in
//! events, forged log lines, credentials named for someone else's host, remotes that
//! never answer, keys built to collide. Each time the partition moves on, nothing
//! leaks, and every record says why.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use tributary_tests::{
    Services, consume_records_until, consume_until, create_topic, schema, serve_http, silent_port,
    unique, workspace_bin,
};

use crate::consumer::{Setup, dead_letters, event, outputs, produce, run_consumer};

const SECRET: &str = "tok-9f3a2c71e5b8-do-not-leak";

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn inline(path: &str, text: &str) -> Value {
    json!({"path": path, "size": text.len(), "checksum": sha(text.as_bytes()),
           "content_strategy": "inline", "content": text, "content_encoding": "utf-8"})
}

/// Runs the consumer binary on a setup until it is idle; its standard error.
fn run_binary(svc: &Services, setup: &Setup, extra: &[&str], env: &[(&str, &str)]) -> String {
    let args = setup
        .run_args(svc, &unique("hostile-group"))
        .flag("storage-provider", "none")
        .flag("exit-when-idle", "4s")
        .with(extra);
    let mut cmd = std::process::Command::new(workspace_bin("tributary-consumer"));
    cmd.args(&args).env("NO_COLOR", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("consumer runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "consumer failed:\n{stderr}");
    stderr
}

#[tokio::test]
async fn outputs_that_do_not_fit_are_cut_or_dead_lettered_and_the_partition_moves_on() {
    let svc = Services::require();
    let setup = Setup::new("fit");
    // a Rust file whose outline alone is over a megabyte
    let long = "a_rather_long_function_name_".repeat(8);
    let src: String = (0..4_000)
        .map(|i| format!("fn {long}{i}() {{}}\n"))
        .collect();
    let project = unique("fit");
    // a dead letter that would carry 700 KB of inline content (its checksum is wrong)
    let big = "y".repeat(700_000);
    let mut wrong = inline("big.txt", &big);
    wrong["checksum"] = json!(sha(b"something else"));
    // an undecodable message of control characters (each escapes to six bytes in JSON)
    let controls = vec![1u8; 400_000];
    // 20,000 bad entries in one event: one record each, each carrying only its own
    let many: Vec<Value> = (0..20_000)
        .map(|i| json!({"path": format!("bad/{i}"), "content_strategy": "nope"}))
        .collect();
    produce(
        &svc,
        &setup.input,
        &[
            serde_json::to_vec(&event(&project, json!([inline("huge.rs", &src)]))).unwrap(),
            serde_json::to_vec(&event(&project, json!([wrong]))).unwrap(),
            controls,
            serde_json::to_vec(&event(&project, json!(many))).unwrap(),
            serde_json::to_vec(&event(
                &project,
                json!([inline("after.txt", "still here\n")]),
            ))
            .unwrap(),
        ],
    )
    .await;
    let max = 40_000;
    run_consumer(setup.config(
        &svc,
        &["--max-output-bytes", "40000", "--storage-provider", "none"],
    ))
    .await;

    let (docs, _) = outputs(&svc, &setup.output, 2, 0).await;
    let huge = &docs[&format!("{project}/huge.rs")][0];
    let cut: Vec<&str> = huge["truncated"]
        .as_array()
        .expect("truncated")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(cut.contains(&"symbols"), "the outline was cut: {cut:?}");
    assert!(
        cut.iter()
            .all(|c| ["symbols", "complexity.functions"].contains(c)),
        "only the long lists: {cut:?}"
    );
    let kept = huge["symbols"].as_array().expect("symbols").len();
    assert!(kept > 0 && kept < 4_000, "{kept} symbols kept");
    assert!(huge.to_string().len() <= max);
    assert!(
        docs.contains_key(&format!("{project}/after.txt")),
        "the partition moved on"
    );

    let recs = dead_letters(&svc, &setup.dlq, 20_002).await;
    assert_eq!(recs.len(), 20_002);
    for r in &recs {
        assert!(
            r.to_string().len() <= max,
            "record over the bound: {}",
            r.to_string().len()
        );
    }
    let by_path = |p: &str| {
        recs.iter()
            .find(|r| r["path"] == p)
            .unwrap_or_else(|| panic!("no record for {p}"))
    };
    let mismatch = by_path("big.txt");
    assert_eq!(mismatch["reason"], "checksum_mismatch");
    assert_eq!(
        mismatch["payload"]["kind"], "reference",
        "700 KB does not fit"
    );
    assert!(
        mismatch["payload"]["excerpt"]
            .as_str()
            .is_some_and(|e| e.starts_with('{'))
    );
    let raw = recs
        .iter()
        .find(|r| r["path"].is_null())
        .expect("the raw record");
    assert_eq!(raw["payload"]["truncated"], true);
    for i in [0, 19_999] {
        let r = by_path(&format!("bad/{i}"));
        let files = r["payload"]["event"]["files"].as_array().expect("files");
        assert_eq!(files.len(), 1, "a record carries its own file only");
    }
}

#[tokio::test]
async fn a_topic_that_refuses_large_records_gets_a_dead_letter_in_their_place() {
    let svc = Services::require();
    let setup = Setup::new("refused");
    // the output topic takes far less than the consumer's own bound
    create_topic(
        &svc.kafka_brokers,
        &setup.output,
        1,
        &[("max.message.bytes", "20000")],
    )
    .await;
    // names that do not compress: the broker's limit applies to compressed batches
    let src: String = (0..2_000)
        .map(|i| format!("fn f_{}() {{}}\n", sha(format!("{i}").as_bytes())))
        .collect();
    let project = unique("refused");
    produce(
        &svc,
        &setup.input,
        &[
            serde_json::to_vec(&event(&project, json!([inline("big.rs", &src)]))).unwrap(),
            serde_json::to_vec(&event(&project, json!([inline("small.txt", "ok\n")]))).unwrap(),
        ],
    )
    .await;
    let stats = run_consumer(setup.config(&svc, &["--storage-provider", "none"])).await;
    assert_eq!(stats.dead_letters.load(Ordering::Relaxed), 1);
    let (docs, _) = outputs(&svc, &setup.output, 1, 0).await;
    assert!(
        docs.contains_key(&format!("{project}/small.txt")),
        "the partition moved on"
    );
    let recs = dead_letters(&svc, &setup.dlq, 1).await;
    assert_eq!(recs[0]["reason"], "too_large");
    assert_eq!(recs[0]["stage"], "produce");
    assert_eq!(recs[0]["path"], "big.rs");
    assert_eq!(recs[0]["project"], json!(project));
    assert!(
        recs[0]["source"]["offset"].is_i64(),
        "the way back to the input"
    );
}

#[tokio::test]
async fn hostile_events_leak_no_secret_and_forge_no_log_line() {
    let svc = Services::require();
    let setup = Setup::new("leak");
    let project = unique("leak");
    let forged = "FORGED-LINE-2026 INFO tributary: all good";
    let commit = "3f786850e387550fdab836ed7e6dc881de23001b";
    let mut with_token = event(&project, json!([inline("a.txt", "a\n")]));
    with_token["git_credentials"] = json!(SECRET);
    let mut password_source = event(&project, json!([inline("b.txt", "b\n")]));
    password_source["source"]["git_url"] =
        json!(format!("https://u:{SECRET}@git.example.com/r.git"));
    let files = json!([
        {"path": "c.txt", "size": 1, "checksum": sha(b"c"), "content_strategy": "git_reference",
         "git_url": format!("https://x:{SECRET}@git.example.com/r.git"), "git_ref": commit},
        {"path": "d.txt", "size": 1, "checksum": sha(b"d"), "content_strategy": "object_storage",
         "object_key": "k/d", "content_url": format!("https://u:{SECRET}@evil.example/d?sig={SECRET}")},
        {"path": "e.txt", "size": 1, "checksum": sha(b"e"), "content_strategy": "git_reference",
         "git_url": format!("ext::sh -c x\n{forged}"), "git_ref": commit},
        {"path": format!("f\n{forged}.txt"), "size": 1, "checksum": sha(b"f"),
         "content_strategy": "inline", "content": "x", "content_encoding": "utf-8"},
    ]);
    produce(
        &svc,
        &setup.input,
        &[
            serde_json::to_vec(&with_token).unwrap(),
            serde_json::to_vec(&password_source).unwrap(),
            serde_json::to_vec(&event(&project, files)).unwrap(),
        ],
    )
    .await;
    let logs = run_binary(&svc, &setup, &[], &[]);
    let recs = consume_until(
        &svc.kafka_brokers,
        &setup.dlq,
        Duration::from_secs(60),
        |got| got.len() >= 6,
    )
    .await;
    let dlq = schema("dead-letter.v1.json");
    for r in &recs {
        let text = String::from_utf8_lossy(r);
        assert!(!text.contains(SECRET), "secret in a dead letter: {text}");
        assert!(dlq.is_valid(&serde_json::from_slice(r).expect("json")));
    }
    assert!(!logs.contains(SECRET), "secret in the logs:\n{logs}");
    for line in logs.lines() {
        assert!(!line.starts_with("FORGED"), "a forged log line:\n{logs}");
    }
    assert!(logs.contains("FORGED-LINE"), "the text is logged, escaped");
}

/// A git smart-HTTP stand-in that answers every request 401 and counts them, with the
/// Authorization headers it was sent.
struct Refuser {
    port: u16,
    requests: Arc<AtomicUsize>,
    authorizations: Arc<std::sync::Mutex<Vec<String>>>,
}

impl Refuser {
    fn start() -> Self {
        let requests = Arc::new(AtomicUsize::new(0));
        let authorizations = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (r, a) = (requests.clone(), authorizations.clone());
        let port = serve_http(move |request| {
            r.fetch_add(1, Ordering::SeqCst);
            for line in request.lines() {
                if line.to_ascii_lowercase().starts_with("authorization:") {
                    a.lock().expect("lock").push(line.to_owned());
                }
            }
            "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"git\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_owned()
        });
        Self {
            port,
            requests,
            authorizations,
        }
    }
}

#[tokio::test]
async fn credentials_go_only_where_they_are_bound_and_only_once() {
    let svc = Services::require();
    let setup = Setup::new("creds");
    let (bound, other) = (Refuser::start(), Refuser::start());
    let project = unique("creds");
    let commit = "3f786850e387550fdab836ed7e6dc881de23001b";
    let git_file = |path: &str, url: String| {
        json!({"path": path, "size": 1, "checksum": sha(b"x"), "content_strategy": "git_reference",
               "git_url": url, "git_ref": commit})
    };
    let named = |url: String, creds: &str| {
        let mut e = event(&project, json!([git_file(&unique("f"), url)]));
        e["git_credentials"] = json!(creds);
        serde_json::to_vec(&e).unwrap()
    };
    produce(
        &svc,
        &setup.input,
        &[
            // the bound credential, to its host: sent once, refused, not retried
            named(
                format!("http://127.0.0.1:{}/r.git", bound.port),
                "env:TRIBUTARY_IT_TOKEN",
            ),
            // a variable of the consumer nobody bound: never resolved, never sent
            named(
                format!("http://127.0.0.1:{}/r.git", other.port),
                "env:TRIBUTARY_IT_OTHER",
            ),
            // the bound credential, to a host it is not bound to
            named(
                format!("http://localhost:{}/r.git", other.port),
                "env:TRIBUTARY_IT_TOKEN",
            ),
        ],
    )
    .await;
    run_binary(
        &svc,
        &setup,
        &[
            "--git-allowed-schemes",
            "http",
            "--git-credential",
            "env:TRIBUTARY_IT_TOKEN@127.0.0.1",
        ],
        &[
            ("TRIBUTARY_IT_TOKEN", SECRET),
            ("TRIBUTARY_IT_OTHER", "another-secret-value"),
        ],
    );
    let recs = dead_letters(&svc, &setup.dlq, 3).await;
    for r in &recs {
        assert_eq!(r["reason"], "credentials_refused", "{r}");
    }
    // one request without credentials (the remote asks), one with them, no more
    let asked = bound.requests.load(Ordering::SeqCst);
    assert!(
        (1..=2).contains(&asked),
        "{asked} requests to the bound host"
    );
    let sent = bound.authorizations.lock().expect("lock").clone();
    assert!(sent.len() <= 1, "credentials sent {} times", sent.len());
    assert_eq!(
        other.requests.load(Ordering::SeqCst),
        0,
        "nothing went to the other host"
    );
}

#[tokio::test]
async fn a_remote_that_never_answers_fails_within_the_timeout() {
    let svc = Services::require();
    let setup = Setup::new("silent");
    // accepts every connection and never says a word
    let port = silent_port();
    let project = unique("silent");
    let commit = "3f786850e387550fdab836ed7e6dc881de23001b";
    let files = json!([
        {"path": "git.txt", "size": 1, "checksum": sha(b"x"), "content_strategy": "git_reference",
         "git_url": format!("git://127.0.0.1:{port}/r.git"), "git_ref": commit},
        {"path": "http.txt", "size": 1, "checksum": sha(b"x"), "content_strategy": "git_reference",
         "git_url": format!("http://127.0.0.1:{port}/r.git"), "git_ref": commit},
        {"path": "ssh.txt", "size": 1, "checksum": sha(b"x"), "content_strategy": "git_reference",
         "git_url": format!("ssh://git@127.0.0.1:{port}/r.git"), "git_ref": commit},
    ]);
    produce(
        &svc,
        &setup.input,
        &[serde_json::to_vec(&event(&project, files)).unwrap()],
    )
    .await;
    let run = tokio::task::spawn_blocking({
        let (svc, setup) = (svc.clone(), setup);
        move || {
            run_binary(
                &svc,
                &setup,
                &[
                    "--git-allowed-schemes",
                    "git,http,ssh",
                    "--git-accept-unknown-host-keys",
                    "--git-clone-timeout",
                    "2s",
                    "--max-attempts",
                    "1",
                ],
                &[],
            );
            setup
        }
    });
    // without a bound this would hang for as long as the listener holds the sockets
    let setup = tokio::time::timeout(Duration::from_secs(90), run)
        .await
        .expect("the consumer finished: the silent remote did not hold it")
        .expect("join");
    let recs = dead_letters(&svc, &setup.dlq, 3).await;
    for r in &recs {
        assert_eq!(r["reason"], "git_unavailable", "{r}");
    }
}

#[tokio::test]
async fn project_and_path_cannot_forge_each_others_keys() {
    let svc = Services::require();
    let setup = Setup::new("keys");
    let p = unique("keys");
    let nested = format!("{p}/b");
    produce(
        &svc,
        &setup.input,
        &[
            serde_json::to_vec(&event(&p, json!([inline("b/c.txt", "one\n")]))).unwrap(),
            serde_json::to_vec(&event(&nested, json!([inline("c.txt", "two\n")]))).unwrap(),
        ],
    )
    .await;
    run_consumer(setup.config(&svc, &["--storage-provider", "none"])).await;
    let recs = consume_records_until(
        &svc.kafka_brokers,
        &setup.output,
        Duration::from_secs(60),
        |r| r.len() >= 2,
    )
    .await;
    let keys: std::collections::BTreeSet<_> = recs.iter().filter_map(|r| r.key.clone()).collect();
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert!(keys.contains(&format!("{p}/b/c.txt")));
    assert!(keys.contains(&format!("{p}%2Fb/c.txt")));
}
