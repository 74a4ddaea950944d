//! The monitoring shipped in deploy/: the Prometheus rules pass `promtool`, and a real
//! Prometheus (Debian's package, installed by deploy/local/services) scrapes a live
//! consumer, watcher and publisher while they index a repository through the local
//! Kafka, MinIO and git daemon; then every recording rule, every alert's condition and
//! every Grafana panel query is evaluated against it and must return a series (a
//! misspelled metric or label returns none).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tributary_tests::{Services, free_port, git, unique, workspace_bin};

use crate::consumer::{Setup, spawn_daemon};
use crate::watch::{Served, watch_file};

fn repo_file(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

/// A program the suite needs from the machine (installed by deploy/local/services).
fn tool(name: &str) -> String {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "{name} is not installed; run deploy/local/services up (it installs Debian's prometheus package)"
    );
    name.to_owned()
}

#[test]
fn the_prometheus_rules_pass_promtool_check_and_their_unit_tests() {
    let promtool = tool("promtool");
    for args in [
        vec!["check", "rules", "deploy/prometheus/rules.yaml"],
        vec!["test", "rules", "deploy/prometheus/rules_test.yaml"],
    ] {
        let out = Command::new(&promtool)
            .args(&args)
            .current_dir(repo_file(""))
            .output()
            .expect("promtool runs");
        assert!(
            out.status.success(),
            "promtool {}:\n{}{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Kills its process when dropped (a failed assertion must not leave daemons behind).
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A Prometheus scraping `targets` (job, host:port) every second and evaluating the
/// project's rules every second.
fn start_prometheus(dir: &Path, targets: &[(&str, String)]) -> (Daemon, String) {
    let port = free_port();
    let mut config = format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\n  evaluation_interval: 1s\nrule_files:\n  - {}\nscrape_configs:\n",
        repo_file("deploy/prometheus/rules.yaml").display()
    );
    for (job, target) in targets {
        config.push_str(&format!(
            "  - job_name: {job}\n    static_configs:\n      - targets: ['{target}']\n"
        ));
    }
    let file = dir.join("prometheus.yml");
    std::fs::write(&file, config).expect("write prometheus.yml");
    let child = Command::new(tool("prometheus"))
        .arg(format!("--config.file={}", file.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("tsdb").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prometheus starts");
    (Daemon(child), format!("http://127.0.0.1:{port}"))
}

async fn api(http: &reqwest::Client, base: &str, path: &str, query: &[(&str, &str)]) -> Value {
    let url = url::Url::parse_with_params(&format!("{base}{path}"), query).expect("a URL");
    match http.get(url).send().await {
        Ok(r) => r
            .bytes()
            .await
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or(Value::Null),
        Err(_) => Value::Null,
    }
}

/// The conditions of an alert's expression without their thresholds: `a > 1 and b == 0`
/// gives `a` and `b` (each must return a series on a healthy system, where the alert
/// itself returns none).
fn conditions(expr: &str) -> Vec<String> {
    expr.split(" and ")
        .map(|part| {
            let part = part.trim();
            let mut cut = part.len();
            for op in [" > ", " < ", " == ", " != ", " >= ", " <= "] {
                if let Some(i) = part.rfind(op)
                    && part[i + op.len()..].trim().parse::<f64>().is_ok()
                {
                    cut = cut.min(i);
                }
            }
            part[..cut].trim().to_owned()
        })
        .collect()
}

#[test]
fn alert_conditions_lose_only_their_thresholds() {
    let cases = [
        ("a > 10000", vec!["a"]),
        (
            "x:max > 600 and sum(rate(y[10m])) == 0",
            vec!["x:max", "sum(rate(y[10m]))"],
        ),
        ("up{job=~\"t.*\"} == 0", vec!["up{job=~\"t.*\"}"]),
        ("f / g < 0.1", vec!["f / g"]),
        ("no_threshold", vec!["no_threshold"]),
    ];
    for (expr, want) in cases {
        assert_eq!(conditions(expr), want, "{expr}");
    }
}

#[tokio::test]
async fn every_alert_and_dashboard_query_returns_a_series_from_live_daemons() {
    let svc = Services::require();
    let dir = tempfile::tempdir().expect("tempdir");
    let setup = Setup::new("monitoring");
    let big = "a line of a large file, sent through object storage\n".repeat(200);
    let repo = Served::new(
        &svc,
        &[("src/main.rs", "fn main() {}\n"), ("big.txt", big.as_str())],
    );
    let c1 = git(&repo.work, &["rev-parse", "HEAD"]);

    // the consumer, with object storage and git references allowed
    let consumer_metrics = format!("127.0.0.1:{}", free_port());
    let mut consumer_args = vec![
        "--metrics-addr".to_owned(),
        consumer_metrics.clone(),
        "--git-allowed-schemes".to_owned(),
        "git".to_owned(),
    ];
    consumer_args.extend(svc.s3_args().words().into_iter().map(str::to_owned));
    let consumer_args: Vec<&str> = consumer_args.iter().map(String::as_str).collect();
    let _consumer = Daemon(spawn_daemon(&svc, &setup, &setup.group, &consumer_args));

    // the watcher: webhooks only (and its start-up catch-up), large files to MinIO
    let project = unique("monitored");
    let secret = dir.path().join("webhook-secret");
    std::fs::write(&secret, "it-monitoring-secret\n").expect("write secret");
    let file = watch_file(
        dir.path(),
        &project,
        &repo.url,
        0,
        &format!(
            "[webhooks]\ngithub_secret = \"file:{}\"\n",
            secret.display()
        ),
    );
    let state = dir.path().join("state");
    let (watch_metrics, hooks) = (
        format!("127.0.0.1:{}", free_port()),
        format!("127.0.0.1:{}", free_port()),
    );
    let _watcher = Daemon(
        Command::new(workspace_bin("tributary-publisher"))
            .args(["watch", "--watch-file"])
            .arg(&file)
            .arg("--state-dir")
            .arg(&state)
            .args([
                "--brokers",
                &svc.kafka_brokers,
                "--topic",
                &setup.input,
                "--listen",
                &hooks,
                "--metrics-addr",
                &watch_metrics,
                "--inline-size-limit",
                "1KiB",
            ])
            .args(svc.s3_args().words())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("watcher starts"),
    );
    let publish_metrics = format!("127.0.0.1:{}", free_port());
    let (_prometheus, prom) = start_prometheus(
        dir.path(),
        &[
            ("tributary-consumer", consumer_metrics.clone()),
            ("tributary-watch", watch_metrics.clone()),
            ("tributary-publisher", publish_metrics.clone()),
        ],
    );

    let cursor = || -> Option<String> {
        let text = std::fs::read(state.join("cursors.json")).ok()?;
        let v: Value = serde_json::from_slice(&text).ok()?;
        v["cursors"][&project]["main"].as_str().map(str::to_owned)
    };
    let wait_cursor = |want: String| async move {
        let deadline = Instant::now() + Duration::from_secs(90);
        while cursor().as_deref() != Some(want.as_str()) {
            assert!(
                Instant::now() < deadline,
                "the watcher never indexed {want}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    wait_cursor(c1).await;

    // a push, announced by a signed webhook: push-to-publish is measured
    let c2 = repo.commit(&[("lib.py", "import os\n")], &[], "second");
    let body = serde_json::json!({
        "ref": "refs/heads/main",
        "after": c2,
        "repository": {"clone_url": repo.url, "html_url": "https://example.invalid/x"},
    })
    .to_string();
    let sig = tributary_publisher::watch::webhook::sign(b"it-monitoring-secret", body.as_bytes());
    let http = reqwest::Client::new();
    let status = http
        .post(format!("http://{hooks}/hooks/github"))
        .header("X-GitHub-Event", "push")
        .header("X-GitHub-Delivery", unique("delivery"))
        .header("X-Hub-Signature-256", format!("sha256={sig}"))
        .body(body)
        .send()
        .await
        .expect("webhook answered")
        .status();
    assert!(status.is_success(), "webhook refused: {status}");
    wait_cursor(c2).await;

    // a one-off publish with git references: the consumer reads from the git daemon
    let published = Command::new(workspace_bin("tributary-publisher"))
        .args([
            "publish",
            "--repo",
            &repo.url,
            "--brokers",
            &svc.kafka_brokers,
        ])
        .args([
            "--topic",
            &setup.input,
            "--content-strategy",
            "git-reference",
        ])
        .args(["--storage-provider", "none", "--progress", "off"])
        .args(["--metrics-addr", &publish_metrics])
        .output()
        .expect("publish runs");
    assert!(
        published.status.success(),
        "{}",
        String::from_utf8_lossy(&published.stderr)
    );

    // the queries: every rule as Prometheus loaded it, every alert's conditions, every
    // dashboard panel's query (Grafana's interval variable as a fixed window)
    let dashboard: Value = serde_json::from_slice(
        &std::fs::read(repo_file("deploy/grafana/tributary.json")).expect("dashboard"),
    )
    .expect("dashboard is JSON");
    let panel_queries: Vec<String> = dashboard["panels"]
        .as_array()
        .expect("panels")
        .iter()
        .flat_map(|p| p["targets"].as_array().cloned().unwrap_or_default())
        .map(|t| {
            t["expr"]
                .as_str()
                .expect("expr")
                .replace("$__rate_interval", "1m")
        })
        .collect();
    assert!(panel_queries.len() >= 25, "the dashboard lost its panels");

    let deadline = Instant::now() + Duration::from_secs(120);
    let (mut empty, mut unhealthy, mut alerts) = (Vec::new(), Vec::new(), 0);
    while Instant::now() < deadline {
        let rules = api(&http, &prom, "/api/v1/rules", &[]).await;
        let mut queries = panel_queries.clone();
        unhealthy.clear();
        alerts = 0;
        for rule in rules["data"]["groups"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|g| g["rules"].as_array().cloned().unwrap_or_default())
        {
            let query = rule["query"].as_str().unwrap_or_default().to_owned();
            if rule["health"] != "ok" {
                unhealthy.push(format!("{}: {}", rule["name"], rule["lastError"]));
            }
            if rule["type"] == "alerting" {
                alerts += 1;
                queries.extend(conditions(&query));
            } else {
                queries.push(rule["name"].as_str().unwrap_or_default().to_owned());
                queries.push(query);
            }
        }
        empty.clear();
        for q in &queries {
            let v = api(&http, &prom, "/api/v1/query", &[("query", q)]).await;
            if v["status"] != "success" || v["data"]["result"].as_array().is_none_or(Vec::is_empty)
            {
                empty.push(format!("{q} → {v}"));
            }
        }
        if alerts > 0 && empty.is_empty() && unhealthy.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    assert!(alerts >= 10, "Prometheus loaded {alerts} alerts");
    assert!(unhealthy.is_empty(), "rules failing: {unhealthy:#?}");
    assert!(
        empty.is_empty(),
        "queries with no series after the run:\n{}",
        empty.join("\n")
    );
    // both daemons were scraped as healthy targets, with no project name in any series
    for job in ["tributary-consumer", "tributary-watch"] {
        let up = api(
            &http,
            &prom,
            "/api/v1/query",
            &[("query", &format!("up{{job=\"{job}\"}} == 1"))],
        )
        .await;
        assert_eq!(
            up["data"]["result"].as_array().map(Vec::len),
            Some(1),
            "{job}: {up}"
        );
    }
    let series = api(
        &http,
        &prom,
        "/api/v1/series",
        &[("match[]", "{__name__=~\"tributary_.+\"}")],
    )
    .await;
    let text = series.to_string();
    assert!(text.contains("tributary_consumer_files_total"), "{text}");
    assert!(!text.contains(&project), "a project name became a label");
}
