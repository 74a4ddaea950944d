//! The knowledge hub against the real services: a portfolio run of four repositories
//! (three local, one private over SSH) lands in MinIO at the documented keys as
//! schema-valid JSON and Parquet; DuckDB (from
//! PyPI, installed by deploy/local/services) runs docs/hub.md's queries over it and
//! finds the summaries' totals; a hub that cannot be written costs nothing but counted
//! failures.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde_json::Value;
use tributary_tests::{Services, schema, unique};

use crate::consumer::{Setup, outputs, run_consumer, scrape_until, spawn_daemon_logging_to};
use crate::publisher::publish_inline;

/// Three small git repositories: Rust with a GPL license, Python with a secret, Go.
fn repos(root: &Path) -> Vec<(String, std::path::PathBuf)> {
    let gpl = "GNU GENERAL PUBLIC LICENSE\nVersion 3, 29 June 2007\n\nSPDX-License-Identifier: GPL-3.0-only\n";
    let sets: [(&str, &[(&str, &str)]); 3] = [
        (
            "api",
            &[
                (
                    "src/main.rs",
                    "// SPDX-License-Identifier: GPL-3.0-only\nfn main() {\n    if true { println!(\"x\"); }\n}\n",
                ),
                (
                    "src/lib.rs",
                    "pub fn f(a: u8) -> u8 {\n    match a { 0 => 1, 1 => 2, _ => 3 }\n}\n",
                ),
                ("COPYING", gpl),
            ],
        ),
        (
            "web",
            &[
                (
                    "app.py",
                    "import os\n\ndef handler(e):\n    if e:\n        return 1\n    return 0\n",
                ),
                (
                    "settings.py",
                    "TOKEN = \"ghp_0123456789abcdefghijABCDEFGHIJ012345\"\n",
                ),
                ("vendor/lib.js", "function v() { return 1; }\n"),
                ("requirements.txt", "requests==2.31.0\n"),
            ],
        ),
        (
            "infra",
            &[
                (
                    "main.go",
                    "package main\n\nfunc main() {\n\tfor i := 0; i < 3; i++ {\n\t}\n}\n",
                ),
                ("README.md", "# infra\n"),
                (
                    "go.mod",
                    "module example.com/infra\n\nrequire golang.org/x/net v0.38.0\n",
                ),
            ],
        ),
    ];
    sets.iter()
        .map(|(name, files)| {
            let dir = root.join(name);
            for (p, text) in *files {
                let path = dir.join(p);
                std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
                std::fs::write(path, text).expect("write");
            }
            tributary_tests::git(&dir, &["init", "-q"]);
            tributary_tests::git(&dir, &["add", "-A"]);
            tributary_tests::git(&dir, &["commit", "-q", "-m", "first"]);
            ((*name).to_owned(), dir)
        })
        .collect()
}

/// Every object under `prefix` in the test bucket, saved under `into` by its key less
/// the prefix (listed and read through the product's own store client).
async fn download(svc: &Services, prefix: &str, into: &Path) -> Vec<String> {
    let store = svc.object_store().await;
    let listed = store
        .list_keys(prefix, usize::MAX)
        .await
        .expect("list")
        .expect("listed");
    let mut keys = Vec::with_capacity(listed.len());
    for (key, _) in listed {
        let body = store.get(&key).await.expect("get");
        let rel = key
            .strip_prefix(prefix)
            .expect("under the prefix")
            .to_owned();
        let path = into.join(&rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, body).expect("write");
        keys.push(rel);
    }
    keys
}

/// Runs SQL through DuckDB; each query's rows as JSON objects.
fn duckdb(queries: &[String]) -> Vec<Vec<Value>> {
    let python = std::env::var("TRIBUTARY_DUCKDB_PYTHON")
        .expect("TRIBUTARY_DUCKDB_PYTHON (eval \"$(deploy/local/services env)\")");
    const SCRIPT: &str = r#"
import datetime, decimal, json, sys, duckdb
def plain(v):
    if isinstance(v, (datetime.date, datetime.datetime)): return v.isoformat()
    if isinstance(v, decimal.Decimal): return int(v) if v == int(v) else float(v)
    return v
out = []
con = duckdb.connect()
for q in json.load(sys.stdin):
    cur = con.execute(q)
    cols = [d[0] for d in cur.description]
    out.append([{c: plain(v) for c, v in zip(cols, row)} for row in cur.fetchall()])
print(json.dumps(out, default=str))
"#;
    let mut child = Command::new(python)
        .args(["-c", SCRIPT])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("duckdb's python runs");
    serde_json::to_writer(child.stdin.take().expect("stdin"), queries).expect("queries");
    let out = child.wait_with_output().expect("duckdb");
    assert!(
        out.status.success(),
        "duckdb failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("duckdb's JSON")
}

/// The SQL blocks of docs/hub.md, in order.
fn documented_queries() -> Vec<String> {
    let doc = include_str!("../../docs/hub.md");
    doc.split("```sql\n")
        .skip(1)
        .map(|b| b.split("```").next().expect("block").trim().to_owned())
        .collect()
}

#[tokio::test]
async fn a_portfolio_run_lands_in_the_hub_and_duckdb_reads_the_same_totals() {
    let svc = Services::require();
    let root = tempfile::tempdir().expect("tempdir");
    let setup = Setup::new("hub");
    let portfolio = uuid::Uuid::now_v7().to_string();
    let org = unique("org");
    let mut projects = Vec::new();
    for (name, dir) in repos(root.path()) {
        let project = format!("{org}/{name}");
        publish_inline(
            &svc,
            &dir,
            &project,
            &setup.input,
            &["--portfolio-id", &portfolio],
        )
        .await;
        projects.push(project);
    }
    // and a private repository, fetched over SSH with a key and known hosts
    let private = crate::private::Private::require();
    let (name, private_files, _) = crate::private::private_repo(&svc);
    let url = format!("{}/{name}", private.ssh_url);
    let project = format!("{org}/private");
    publish_inline(
        &svc,
        Path::new(&url),
        &project,
        &setup.input,
        &[
            "--portfolio-id",
            &portfolio,
            "--git-credential",
            &format!("ssh-key:file:{}", private.file("client_ed25519")),
            "--git-known-hosts",
            &format!("file:{}", private.file("known_hosts")),
        ],
    )
    .await;
    projects.push(project);
    let prefix = format!("{}/", unique("hub"));
    run_consumer(setup.config(
        &svc,
        &["--hub-object-prefix", &prefix, "--summary-wait", "60s"],
    ))
    .await;
    let files_published = 10 + private_files.len();
    let (docs, summaries) = outputs(&svc, &setup.output, files_published, 4).await;
    assert_eq!(docs.len(), files_published);

    let hub = tempfile::tempdir().expect("tempdir");
    let keys = download(&svc, &prefix, hub.path()).await;
    let run = format!("portfolio/runs/{portfolio}");
    let seg = |p: &str| tributary_consumer::summary::report::project_segment(p);
    for p in &projects {
        for key in [
            format!("{run}/per-repo/{}.json", seg(p)),
            format!("{run}/files/{}.parquet", seg(p)),
            format!("portfolio/latest/per-repo/{}.json", seg(p)),
        ] {
            assert!(keys.contains(&key), "{key} missing from the hub: {keys:#?}");
        }
    }
    for key in [
        format!("{run}/summary.json"),
        format!("{run}/index.html"),
        "portfolio/latest/summary.json".to_owned(),
        "portfolio/latest/index.html".to_owned(),
    ] {
        assert!(keys.contains(&key), "{key} missing from the hub: {keys:#?}");
    }
    // the portfolio's page, laid out in Chromium at a phone's width: every project linked
    let page = std::fs::read_to_string(hub.path().join(format!("{run}/index.html"))).expect("page");
    let probe = crate::intel::probe_in_chromium(&page, 420);
    let links = probe["links"].as_array().expect("links");
    for p in &projects {
        let want = format!("per-repo/{}.html", seg(p));
        assert!(
            links.iter().any(|l| l.as_str() == Some(want.as_str())),
            "{want} not linked: {probe}"
        );
        assert!(
            keys.contains(&format!("{run}/{want}")),
            "{want} not written"
        );
    }
    assert_eq!(probe["scripts"], 0);
    assert!(
        probe["scroll_width"].as_f64().expect("width") <= 420.0,
        "{probe}"
    );
    let read = |key: &str| -> Value {
        serde_json::from_slice(&std::fs::read(hub.path().join(key)).expect("read")).expect("JSON")
    };
    let project_schema = schema("project-summary.v1.json");
    for key in keys
        .iter()
        .filter(|k| k.ends_with(".json") && k.contains("per-repo"))
    {
        let v = read(key);
        assert!(
            project_schema.is_valid(&v),
            "{key}: {:?}",
            project_schema
                .iter_errors(&v)
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
        );
        assert_eq!(v["portfolio_id"], portfolio.as_str());
    }
    let rolled = read(&format!("{run}/summary.json"));
    let portfolio_schema = schema("portfolio-summary.v1.json");
    assert!(
        portfolio_schema.is_valid(&rolled),
        "{:?}",
        portfolio_schema
            .iter_errors(&rolled)
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
    );
    assert_eq!(rolled["projects"], 4, "{rolled}");
    let files: u64 = summaries
        .iter()
        .map(|s| s["totals"]["files"].as_u64().expect("files"))
        .sum();
    assert_eq!(rolled["totals"]["files"], files);
    assert_eq!(
        rolled["copyleft_projects"],
        serde_json::json!([format!("{org}/api")])
    );
    // the token line: github-pat, and gitleaks' generic rule too, as gitleaks reports it
    assert_eq!(rolled["secrets_by_project"][format!("{org}/web")], 2);
    assert_eq!(rolled["freshness"].as_array().expect("freshness").len(), 4);
    // packages and functions across projects
    assert_eq!(
        rolled["dependencies"]["packages"], 2,
        "{}",
        rolled["dependencies"]
    );
    assert_eq!(rolled["dependencies"]["by_ecosystem"]["golang"], 1);
    assert_eq!(rolled["dependencies"]["by_ecosystem"]["pypi"], 1);
    let functions = rolled["function_hotspots"]
        .as_array()
        .expect("function hotspots");
    assert!(
        functions
            .iter()
            .any(|f| f["project"] == format!("{org}/api") && f["name"] == "f"),
        "{functions:?}"
    );

    // docs/hub.md's queries, run as written against the hub's files
    let root = hub.path().to_str().expect("utf-8");
    let queries: Vec<String> = documented_queries()
        .iter()
        .map(|q| q.replace("{hub}", root))
        .collect();
    assert_eq!(queries.len(), 6, "docs/hub.md's SQL blocks");
    let results = duckdb(&queries);
    // per project (the second query): DuckDB over Parquet equals each summary
    let by_project: BTreeMap<String, (u64, u64, u64)> = results[1]
        .iter()
        .map(|r| {
            (
                r["project"].as_str().expect("project").to_owned(),
                (
                    r["files"].as_u64().expect("files"),
                    r["code"].as_u64().expect("code"),
                    r["bytes"].as_u64().expect("bytes"),
                ),
            )
        })
        .collect();
    for s in &summaries {
        let t = &s["totals"];
        let want = (
            t["files"].as_u64().expect("files"),
            t["code"].as_u64().expect("code"),
            t["bytes"].as_u64().expect("bytes"),
        );
        assert_eq!(
            by_project[s["project"].as_str().expect("project")],
            want,
            "{}",
            s["project"]
        );
    }
    let languages: Vec<&str> = results[0]
        .iter()
        .filter_map(|r| r["language"].as_str())
        .collect();
    for l in ["Rust", "Python", "Go"] {
        assert!(languages.contains(&l), "{l} in {languages:?}");
    }
    assert!(
        results[3]
            .iter()
            .any(|r| r["project"] == format!("{org}/web") && r["findings"] == 2),
        "{:?}",
        results[3]
    );
    assert!(
        results[4]
            .iter()
            .any(|r| r["project"] == format!("{org}/api"))
    );
    assert_eq!(results[5].len(), 4, "every project's latest state");
}

/// A hub that cannot be written (its disk full): every summary is still produced, the
/// daemon keeps going, and the failed writes are counted.
#[tokio::test]
async fn a_hub_that_cannot_be_written_costs_counted_failures_only() {
    let svc = Services::require();
    let root = tempfile::tempdir().expect("tempdir");
    let setup = Setup::new("hub-full");
    let project = unique("hub-full");
    let (_, dir) = repos(root.path()).remove(2);
    publish_inline(&svc, &dir, &project, &setup.input, &[]).await;
    let full = tributary_tests::Tmpfs::mount("64k");
    // fill it: nothing more fits
    let mut filler = std::fs::File::create(full.path().join("filler")).expect("filler");
    let chunk = vec![0u8; 4096];
    while std::io::Write::write_all(&mut filler, &chunk).is_ok() {}
    drop(filler);
    let port = tributary_tests::free_port();
    let addr = format!("127.0.0.1:{port}");
    let hub_dir = full.path().join("hub");
    let mut daemon = spawn_daemon_logging_to(
        &svc,
        &setup,
        &unique("hub-full"),
        &[
            "--storage-provider",
            "none",
            "--hub-dir",
            hub_dir.to_str().expect("utf-8"),
            "--summary-wait",
            "60s",
            "--metrics-addr",
            &addr,
        ],
        std::process::Stdio::null(),
    );
    let (_, summaries) = outputs(&svc, &setup.output, 2, 1).await;
    assert_eq!(summaries[0]["project"], project.as_str());
    let http = reqwest::Client::new();
    // the summary and report page per run and latest, the files table, both rollups'
    // summary and page, and the SBOM (the repository has a go.mod) per run and latest:
    // eleven objects, each failed after its retries
    scrape_until(
        &http,
        &format!("http://{addr}/metrics"),
        "tributary_hub_writes_total{result=\"failed\"} 11",
        300,
    )
    .await;
    tributary_tests::signal(daemon.id(), "TERM");
    let status = tokio::task::spawn_blocking(move || daemon.wait())
        .await
        .expect("join")
        .expect("wait");
    assert!(status.success(), "{status:?}");
}
