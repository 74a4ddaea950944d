//! The binaries as people use them: pipes, JSON on stdout, logs in the format asked
//! for, errors that say what is valid, versions and exit codes.

use std::io::Read as _;
use std::process::{Command, Stdio};

use serde_json::Value;
use tributary_tests::{Services, workspace_bin};

fn repo_root() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/..").to_owned()
}

fn publisher() -> Command {
    Command::new(workspace_bin("tributary-publisher"))
}

/// A dry run of this repository whose report is JSON on stdout, no progress, and
/// brokers that are never asked.
fn dry_run_json() -> Command {
    let mut c = publisher();
    c.args([
        "publish",
        "--repo",
        &repo_root(),
        "--dry-run",
        "--report-json",
    ])
    .args(["--progress", "off", "--brokers", "127.0.0.1:1"]);
    c
}

#[test]
fn a_dry_run_into_a_closed_pipe_ends_quietly() {
    let mut child = publisher()
        .args([
            "publish",
            "--repo",
            &repo_root(),
            "--dry-run",
            "--progress",
            "off",
        ])
        .args(["--brokers", "127.0.0.1:1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("publisher starts");
    // the reader goes away before anything is written (`| head -0`)
    drop(child.stdout.take());
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .expect("read stderr");
    let status = child.wait().expect("wait");
    assert!(status.success(), "{status:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn report_json_puts_only_json_on_stdout_even_when_the_run_cannot_start() {
    let out = dry_run_json().output().expect("publisher runs");
    assert!(out.status.success());
    let report: Value = serde_json::from_slice(&out.stdout).expect("stdout is one JSON document");
    assert!(
        report["plan"].as_array().is_some_and(|p| !p.is_empty()),
        "the plan is in the JSON"
    );
    assert!(report["cost"]["total_usd"].is_number());

    let out = publisher()
        .args([
            "publish",
            "--repo",
            "/nonexistent/repository",
            "--report-json",
        ])
        .args(["--progress", "off", "--brokers", "127.0.0.1:1"])
        .output()
        .expect("publisher runs");
    assert_eq!(out.status.code(), Some(2));
    let error: Value = serde_json::from_slice(&out.stdout).expect("stdout is one JSON document");
    assert_eq!(error["ok"], false);
    assert!(
        error["error"]
            .as_str()
            .is_some_and(|e| e.contains("/nonexistent/repository")),
        "{error}"
    );
}

#[test]
fn json_logs_end_in_a_json_error_and_human_logs_in_a_file_have_no_colour() {
    let out = publisher()
        .args([
            "--log-format",
            "json",
            "publish",
            "--repo",
            "/nonexistent/repository",
        ])
        .args(["--progress", "off"])
        .output()
        .expect("publisher runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not a JSON line: {l}")))
        .collect();
    let last = lines.last().expect("an error line");
    assert_eq!(last["level"], "ERROR", "{last}");
    assert_eq!(last["fields"]["exit_code"], 2, "{last}");

    // a daemon's human logs, written to a pipe (as to a file): plain text
    let out = unreachable_consumer(&[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("WARN"), "some log lines: {stderr}");
    assert!(
        !stderr.contains('\u{1b}'),
        "ANSI colours in a log file: {stderr:?}"
    );
    // a consumer that never started reports no stop statistics
    assert!(!stderr.contains("consumer stopped"), "{stderr}");
    assert!(stderr.contains("error: cannot use Kafka"), "{stderr}");
}

#[test]
fn a_misspelled_dead_letter_reason_lists_the_valid_ones() {
    let svc = Services::require();
    let out = Command::new(workspace_bin("tributary-consumer"))
        .args([
            "dlq",
            "replay",
            "--reason",
            "objetc_missing",
            "--brokers",
            &svc.kafka_brokers,
        ])
        .output()
        .expect("consumer runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    for valid in ["object_missing", "checksum_mismatch", "git_unavailable"] {
        assert!(stderr.contains(valid), "{valid} not listed: {stderr}");
    }
    assert!(
        stderr.contains("invalid value 'objetc_missing'"),
        "refused as a flag error: {stderr}"
    );
}

#[test]
fn versions_name_the_commit_and_librdkafka_and_help_lists_exit_codes() {
    for bin in ["tributary-publisher", "tributary-consumer"] {
        let out = Command::new(workspace_bin(bin))
            .arg("--version")
            .output()
            .expect("runs");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success());
        assert!(
            text.starts_with(&format!("{bin} {}", env!("CARGO_PKG_VERSION"))),
            "{text}"
        );
        assert!(text.contains("commit "), "{text}");
        // built from a git checkout, the commit is known
        if std::path::Path::new(&repo_root()).join(".git").exists() {
            assert!(!text.contains("commit unknown"), "{text}");
        }
        assert!(text.contains("librdkafka 2."), "{text}");
        let help = Command::new(workspace_bin(bin))
            .arg("--help")
            .output()
            .expect("runs");
        let help = String::from_utf8_lossy(&help.stdout);
        assert!(help.contains("Exit codes:"), "{help}");
        assert!(
            help.contains("healthcheck  0 the daemon answered 200"),
            "{help}"
        );
    }
}

#[test]
fn sizes_take_units_in_any_case() {
    let out = dry_run_json()
        .args(["--max-file-size", "10kb"])
        .output()
        .expect("publisher runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert!(
        report["skipped_by_reason"]["too_large"]
            .as_u64()
            .is_some_and(|n| n > 0),
        "files over 10 kB skipped: {}",
        report["skipped_by_reason"]
    );
}

#[test]
fn completions_parse_in_bash_and_the_man_page_renders() {
    let dir = tempfile::tempdir().expect("tempdir");
    for bin in ["tributary-publisher", "tributary-consumer"] {
        let script = Command::new(workspace_bin(bin))
            .args(["completions", "bash"])
            .output()
            .expect("runs");
        assert!(script.status.success());
        let text = String::from_utf8_lossy(&script.stdout);
        for word in ["completions", "healthcheck", "check"] {
            assert!(text.contains(word), "{bin}: {word} not completed");
        }
        let file = dir.path().join(format!("{bin}.bash"));
        std::fs::write(&file, &script.stdout).expect("write");
        let syntax = Command::new("bash")
            .arg("-n")
            .arg(&file)
            .output()
            .expect("bash");
        assert!(
            syntax.status.success(),
            "{bin}: {}",
            String::from_utf8_lossy(&syntax.stderr)
        );

        let page = Command::new(workspace_bin(bin))
            .arg("man")
            .output()
            .expect("runs");
        assert!(page.status.success());
        let roff = dir.path().join(format!("{bin}.1"));
        std::fs::write(&roff, &page.stdout).expect("write");
        let shown = Command::new("man")
            .arg("-l")
            .arg(&roff)
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "100")
            .output()
            .expect("man (Debian's man-db) runs");
        let shown = String::from_utf8_lossy(&shown.stdout);
        assert!(shown.contains("NAME") && shown.contains(bin), "{shown}");
        assert!(
            shown.contains("Exit codes"),
            "{bin}: no exit codes in the man page"
        );
    }
}

/// `--progress log` on a run of a second or less still says how far it got: a line at
/// the first file and a last line with the total, 100 %, throughput; the summary gives
/// sizes in binary units and the run's throughput.
#[test]
fn progress_logs_a_short_run_with_its_total_and_the_summary_its_throughput() {
    let repo = tempfile::tempdir().expect("tempdir");
    for i in 0..40 {
        std::fs::write(
            repo.path().join(format!("f{i}.rs")),
            format!("fn f{i}() {{}}\n").repeat(200),
        )
        .expect("write");
    }
    let out = publisher()
        .args(["publish", "--repo"])
        .arg(repo.path())
        .args(["--dry-run", "--progress", "log", "--log-format", "json"])
        .args(["--brokers", "127.0.0.1:1", "--storage-provider", "none"])
        .output()
        .expect("publisher runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let lines: Vec<Value> = stderr
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|v: &Value| {
            v["fields"]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("progress"))
        })
        .collect();
    assert!(lines.len() >= 2, "a first and a last line: {stderr}");
    let last = &lines[lines.len() - 1]["fields"];
    assert!(
        last["message"]
            .as_str()
            .expect("message")
            .starts_with("progress: done: 40/40 files (100.0%)"),
        "{last}"
    );
    assert_eq!(last["items"], 40);
    assert_eq!(last["total"], 40);
    assert_eq!(last["percent"], 100.0);
    let summary = String::from_utf8_lossy(&out.stdout);
    let first = summary
        .lines()
        .find(|l| l.starts_with("run "))
        .expect("summary");
    assert!(
        first.contains("40 files planned") && first.contains(" KiB ("),
        "{first}"
    );
    let took = summary
        .lines()
        .find(|l| l.starts_with("took "))
        .expect("took line");
    assert!(
        took.contains("/s, ") && took.ends_with(" files/s)"),
        "{took}"
    );
}

/// `dlq list` and `dlq show` against a real dead-letter topic: filters, the newest
/// records, hostile records shown escaped (never as terminal control), nothing committed
/// for anyone, and the exit codes of a missing record and a malformed position.
#[tokio::test]
async fn dead_letters_are_listed_and_shown_without_kcat() {
    use tributary_events::dlq::{
        DLQ_SCHEMA_VERSION, DeadLetter, Payload, Reason, SourceRecord, Stage,
    };
    let svc = Services::require();
    let topic = tributary_tests::unique("dlq-inspect");
    tributary_tests::create_topic(&svc.kafka_brokers, &topic, 1, &[]).await;
    let record = |reason: Reason, project: &str, message: &str| -> Vec<u8> {
        serde_json::to_vec(&DeadLetter {
            schema_version: DLQ_SCHEMA_VERSION.into(),
            reason,
            message: message.into(),
            stage: Stage::Resolve,
            source: SourceRecord {
                topic: "index".into(),
                partition: 0,
                offset: 1,
            },
            event_id: None,
            run_id: None,
            project: Some(project.into()),
            path: Some("src/lib.rs".into()),
            attempts: 2,
            failed_at: time::OffsetDateTime::now_utc(),
            payload: Payload::Event {
                event: serde_json::json!({"event_type": "index_batch"}),
            },
        })
        .expect("serialize")
    };
    crate::consumer::produce_to(
        &svc.kafka_brokers,
        &topic,
        &[
            record(Reason::ObjectMissing, "alpha", "object gone"),
            record(Reason::ChecksumMismatch, "beta", "bytes differ"),
            b"\x1b[2J\x1b]0;pwned\x07 not a record".to_vec(),
            record(
                Reason::ObjectMissing,
                "beta",
                "\x1b[31mred\x1b[0m object gone",
            ),
        ],
    )
    .await;
    let dlq = |args: &[&str]| {
        Command::new(workspace_bin("tributary-consumer"))
            .arg("dlq")
            .args(args)
            .args(["--brokers", &svc.kafka_brokers, "--dlq-topic", &topic])
            .output()
            .expect("consumer runs")
    };

    let out = dlq(&["list", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listing: Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(listing["read"], 4);
    assert_eq!(listing["unreadable"], 1);
    assert_eq!(listing["complete"], true);
    assert_eq!(listing["by_reason"]["object_missing"], 2);
    let entries = listing["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 4);
    assert_eq!(entries[1]["record"]["reason"], "checksum_mismatch");
    assert!(entries[2]["unreadable"].is_string());
    assert!(entries.iter().all(|e| e.get("payload").is_none()));

    let out = dlq(&["list", "--reason", "object_missing", "--project", "beta"]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{table}");
    assert!(
        !table.contains('\u{1b}') && !table.contains('\u{7}'),
        "control characters reach the terminal: {table:?}"
    );
    assert!(table.contains("\\u{1b}[31mred"), "{table}");
    assert!(table.contains("0:3 ") && !table.contains("0:0 "), "{table}");
    assert!(
        table.contains("1 of 1 matching records shown (4 read, 1 unreadable)"),
        "{table}"
    );

    let out = dlq(&["list", "--limit", "1"]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("1 of 4 matching records shown") && table.contains("0:3 "),
        "the newest: {table}"
    );
    assert!(!table.contains('\u{1b}'), "{table:?}");

    let out = dlq(&["show", "0:1"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shown: Value = serde_json::from_slice(&out.stdout).expect("the record as JSON");
    assert_eq!(shown["reason"], "checksum_mismatch");
    assert_eq!(
        shown["payload"]["event"]["event_type"], "index_batch",
        "show prints the payload"
    );
    let out = dlq(&["show", "0:2"]);
    let raw = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && raw.contains("not a record") && !raw.contains('\u{1b}'),
        "{raw:?}"
    );

    for (args, code, says) in [
        (&["show", "0:99"][..], 1, "no record at 0:99"),
        (&["show", "7:0"][..], 1, "no record at 7:0"),
        (&["show", "zero"][..], 2, "PARTITION:OFFSET"),
        (&["list", "--limit", "0"][..], 2, "--limit"),
    ] {
        let out = dlq(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
}

/// `publish --repos-file`: every repository listed is published, under one portfolio
/// id, with one report; a repository that cannot be read fails alone (exit 1) and the
/// others are still published.
#[tokio::test]
async fn a_repositories_file_is_one_portfolio_run_with_one_report() {
    let svc = Services::require();
    let root = tempfile::tempdir().expect("tempdir");
    let org = tributary_tests::unique("org");
    for name in ["api", "web"] {
        let dir = root.path().join(name);
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(dir.join("main.rs"), format!("fn {name}() {{}}\n")).expect("write");
    }
    let list = root.path().join("repos.txt");
    std::fs::write(
        &list,
        format!(
            "# the organisation\n{api} {org}/api\n{missing} {org}/gone\n{web} {org}/web\n",
            api = root.path().join("api").display(),
            web = root.path().join("web").display(),
            missing = root.path().join("no-such-folder").display(),
        ),
    )
    .expect("write");
    let topic = tributary_tests::unique("portfolio-in");
    tributary_tests::create_topic(&svc.kafka_brokers, &topic, 1, &[]).await;
    let out = publisher()
        .args(["publish", "--repos-file"])
        .arg(&list)
        .args([
            "--report-json",
            "--progress",
            "off",
            "--storage-provider",
            "none",
        ])
        .args(["--brokers", &svc.kafka_brokers, "--topic", &topic])
        .output()
        .expect("publisher runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "one repository failed: {stderr}"
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("one JSON report");
    assert_eq!(report["ok"], false);
    let runs = report["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 3);
    let portfolio = report["portfolio_id"].as_str().expect("a portfolio id");
    assert!(
        runs[1]["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{}",
        runs[1]
    );
    for i in [0, 2] {
        assert_eq!(runs[i]["report"]["portfolio_id"], portfolio, "{}", runs[i]);
        assert_eq!(runs[i]["report"]["files"]["inline"], 1);
    }
    // on the topic: each published repository's completion names the portfolio
    let events = tributary_tests::consume_until(
        &svc.kafka_brokers,
        &topic,
        std::time::Duration::from_secs(30),
        |got| got.len() >= 4,
    )
    .await;
    let completions: Vec<Value> = events
        .iter()
        .filter_map(|e| serde_json::from_slice::<Value>(e).ok())
        .filter(|e| e["event_type"] == "index_run_completed")
        .collect();
    assert_eq!(completions.len(), 2);
    for c in &completions {
        assert_eq!(c["portfolio_id"], portfolio, "{c}");
    }
    let projects: std::collections::BTreeSet<&str> = completions
        .iter()
        .filter_map(|c| c["project"].as_str())
        .collect();
    assert_eq!(
        projects,
        [format!("{org}/api"), format!("{org}/web")]
            .iter()
            .map(String::as_str)
            .collect()
    );
    // the human report ends with the portfolio's line
    let out = publisher()
        .args(["publish", "--repos-file"])
        .arg(&list)
        .args(["--dry-run", "--progress", "off", "--brokers", "127.0.0.1:1"])
        .output()
        .expect("publisher runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("== [2/3]") && text.contains("NOT published"),
        "{text}"
    );
    assert!(
        text.trim_end().lines().last().is_some_and(
            |l| l.starts_with("portfolio ") && l.contains("3 repositories, 2 ok, 1 failed")
        ),
        "{text}"
    );
}

/// A secrets configuration that does not compile stops the consumer before it starts
/// (exit 2), naming the rule and what is wrong with it; nothing of the file's contents
/// beyond that is printed.
#[test]
fn a_secrets_configuration_that_does_not_compile_refuses_the_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("gitleaks.toml");
    std::fs::write(
        &config,
        "[[rules]]\nid = \"team-token\"\nregex = '''(unclosed'''\n[[rules]]\nid = \"x\"\nregex = 'sk_live_hunter2'\n",
    )
    .expect("write");
    let out = unreachable_consumer(&["--secrets-config", config.to_str().expect("utf-8")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("secrets configuration"), "{stderr}");
    assert!(
        stderr.contains("rule \"team-token\": its regex does not compile"),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2"), "{stderr}");
}

/// `tributary-consumer run` with `extra` flags against a broker nobody listens on.
fn unreachable_consumer(extra: &[&str]) -> std::process::Output {
    Command::new(workspace_bin("tributary-consumer"))
        .args(["run", "--brokers", "127.0.0.1:1"])
        .args(extra)
        .args(["--cache-dir", "/tmp/tributary-it-cli/content"])
        .args(["--git-cache-dir", "/tmp/tributary-it-cli/git"])
        .args(["--analysis-cache-dir", "/tmp/tributary-it-cli/analysis"])
        .output()
        .expect("consumer runs")
}
