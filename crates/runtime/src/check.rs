//! `check`: what both binaries run before a deployment is trusted (and what `/readyz`
//! repeats): the effective settings, secrets shown by reference, then one line per
//! check — Kafka reachable and accepting the credentials, each topic visible, the object
//! store readable and writable with a probe object (removed afterwards), presigned GETs
//! working, git remotes answering with their credentials, cache folders writable with
//! room to spare. Each line is `ok` or the fault and its fix; the exit code is 0 only
//! when every line is `ok`.

use std::path::Path;
use std::time::Duration;

use clap::{Args, ValueEnum};
use serde::Serialize;
use tributary_content::ObjectStore;

use crate::kafka::{self, Connection};

/// How the report is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Format {
    #[default]
    Text,
    Json,
}

/// The flags of `check` beyond the command's own settings.
#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// Output: `text` (one line per check) or `json`.
    #[arg(long, value_enum, default_value = "text", help_heading = "Check")]
    pub format: Format,
}

/// One check's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Line {
    /// What was checked, e.g. `kafka topic tributary.index.v2`.
    pub check: String,
    pub ok: bool,
    /// What was found (on failure: the fault).
    pub detail: String,
    /// What to do about a failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Line {
    pub fn ok(check: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            check: check.into(),
            ok: true,
            detail: detail.into(),
            fix: None,
        }
    }

    pub fn fail(
        check: impl Into<String>,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Self {
            check: check.into(),
            ok: false,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }
}

/// The effective settings and every check's line.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub settings: Vec<(String, String)>,
    pub checks: Vec<Line>,
}

impl Report {
    /// Whether every check passed.
    pub fn ok(&self) -> bool {
        self.checks.iter().all(|l| l.ok)
    }

    /// The first failure, as one line (for `/readyz`).
    pub fn first_failure(&self) -> Option<String> {
        self.checks
            .iter()
            .find(|l| !l.ok)
            .map(|l| format!("{}: {}", l.check, l.detail))
    }

    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Json => {
                let settings: serde_json::Map<String, serde_json::Value> = self
                    .settings
                    .iter()
                    .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                    .collect();
                serde_json::json!({
                    "ok": self.ok(),
                    "settings": settings,
                    "checks": self.checks,
                })
                .to_string()
            }
            Format::Text => {
                let mut out = String::from("settings\n");
                for (k, v) in &self.settings {
                    out.push_str(&format!("  {k} = {v}\n"));
                }
                out.push_str("checks\n");
                for l in &self.checks {
                    if l.ok {
                        out.push_str(&format!("  ok    {}: {}\n", l.check, l.detail));
                    } else {
                        out.push_str(&format!("  FAIL  {}: {}\n", l.check, l.detail));
                        if let Some(fix) = &l.fix {
                            out.push_str(&format!("        fix: {fix}\n"));
                        }
                    }
                }
                let failed = self.checks.iter().filter(|l| !l.ok).count();
                out.push_str(&if failed == 0 {
                    format!("all {} checks passed\n", self.checks.len())
                } else {
                    format!("{failed} of {} checks failed\n", self.checks.len())
                });
                out
            }
        }
    }
}

/// Whether a topic that does not exist (yet) fails the check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MissingTopic {
    Fails,
    /// Readiness: a topic the first producer will create does not make a pod unready.
    Passes,
}

/// Kafka: the brokers answer and accept the credentials, then each topic is visible to
/// this principal (with its partition count), or why not.
pub async fn kafka(
    conn: &Connection,
    topics: &[&str],
    missing: MissingTopic,
    timeout: Duration,
) -> Vec<Line> {
    let check = format!("kafka {}", conn.brokers);
    let states = match kafka::describe(conn, topics, timeout).await {
        Ok(states) => states,
        Err(e) => {
            return vec![Line::fail(
                check,
                e.to_string(),
                "see the setting named above (docs/configuration.md, Connecting to your cluster)",
            )];
        }
    };
    let mut out = vec![Line::ok(check, "reachable, credentials accepted")];
    for (topic, state) in topics.iter().zip(states) {
        out.push(match state {
            Ok(partitions) => Line::ok(
                format!("kafka topic {topic}"),
                format!("visible, {partitions} partitions"),
            ),
            Err(kafka::TopicError::Missing) if missing == MissingTopic::Passes => Line::ok(
                format!("kafka topic {topic}"),
                "not created yet (its first producer creates it)",
            ),
            Err(e) => Line::fail(format!("kafka topic {topic}"), e.to_string(), e.fix()),
        });
    }
    out
}

/// Producing: this principal may write to `topic`, as the cluster's ACLs say (nothing
/// is produced).
pub async fn kafka_write(conn: &Connection, topic: &str, timeout: Duration) -> Line {
    let check = format!("kafka write {topic}");
    match kafka::check_operations(conn, topic, &[kafka::Operation::Write], timeout).await {
        Ok(()) => Line::ok(check, "allowed"),
        Err(e) => Line::fail(check, e.to_string(), e.fix()),
    }
}

/// Consuming: `group` may read `topic` (nothing is consumed or committed).
pub async fn kafka_read(conn: &Connection, topic: &str, group: &str, timeout: Duration) -> Line {
    let check = format!("kafka read {topic} as group {group}");
    match kafka::check_read(conn, topic, group, timeout).await {
        Ok(()) => Line::ok(check, "allowed"),
        Err(e) => Line::fail(check, e.to_string(), e.fix()),
    }
}

/// The object store: reachable, a probe object written, read back and (S3) fetched
/// through a presigned URL, then removed.
pub async fn store(store: &ObjectStore, timeout: Duration) -> Vec<Line> {
    let reachable = store_reachable(store, timeout).await;
    if !reachable.ok {
        return vec![reachable];
    }
    let mut out = vec![reachable];
    let key = format!(
        "tributary-check/{}-{}.probe",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    );
    let body = bytes::Bytes::from_static(b"tributary check probe\n");
    match tokio::time::timeout(timeout, store.put(&key, body.clone(), "text/plain")).await {
        Ok(Ok(())) => out.push(Line::ok(
            "object store write",
            format!("probe object {key}"),
        )),
        Ok(Err(e)) => {
            out.push(Line::fail(
                "object store write",
                crate::chain(&e),
                "grant s3:PutObject on the bucket (the publisher uploads content, the consumer writes reports)",
            ));
            return out;
        }
        Err(_) => {
            out.push(Line::fail(
                "object store write",
                "timed out",
                "check the store's health",
            ));
            return out;
        }
    }
    match tokio::time::timeout(timeout, store.get(&key)).await {
        Ok(Ok(b)) if b == body => out.push(Line::ok("object store read", "probe read back")),
        Ok(Ok(_)) => out.push(Line::fail(
            "object store read",
            "probe read back with different bytes",
            "check for a proxy or gateway rewriting objects",
        )),
        Ok(Err(e)) => out.push(Line::fail(
            "object store read",
            crate::chain(&e),
            "grant s3:GetObject on the bucket",
        )),
        Err(_) => out.push(Line::fail(
            "object store read",
            "timed out",
            "check the store's health",
        )),
    }
    match store.presign_get(&key, Duration::from_secs(300)).await {
        Ok(None) => {}
        Ok(Some(url)) => out.push(match presigned_get(&url.url, timeout).await {
            Ok(b) if b == body => Line::ok("object store presigned GET", "probe fetched by URL"),
            Ok(_) => Line::fail(
                "object store presigned GET",
                "fetched different bytes",
                "check for a proxy rewriting objects",
            ),
            Err(e) => Line::fail(
                "object store presigned GET",
                e,
                "consumers fetch content by presigned URL: the endpoint must be reachable from them and the signing credentials allowed to GET",
            ),
        }),
        Err(e) => out.push(Line::fail(
            "object store presigned GET",
            crate::chain(&e),
            "check the credentials' ability to sign (static keys or the default chain)",
        )),
    }
    match tokio::time::timeout(timeout, store.delete(&key)).await {
        Ok(Ok(())) => out.push(Line::ok("object store delete", "probe removed")),
        Ok(Err(e)) => out.push(Line::fail(
            "object store delete",
            crate::chain(&e),
            format!("remove {key} by hand; grant s3:DeleteObject on tributary-check/ for checks"),
        )),
        Err(_) => out.push(Line::fail(
            "object store delete",
            "timed out",
            format!("remove {key} by hand"),
        )),
    }
    out
}

/// The object store answers and the bucket (or folder) is usable; nothing is written.
pub async fn store_reachable(store: &ObjectStore, timeout: Duration) -> Line {
    match tokio::time::timeout(timeout, store.preflight()).await {
        Ok(Ok(())) => Line::ok("object store", "bucket reachable"),
        Ok(Err(e)) => Line::fail(
            "object store",
            crate::chain(&e),
            "check --storage-endpoint, --storage-bucket and the credentials (AWS_* or --storage-access-key-id)",
        ),
        Err(_) => Line::fail(
            "object store",
            format!("no answer within {} s", timeout.as_secs()),
            "check --storage-endpoint and the network path to it",
        ),
    }
}

async fn presigned_get(url: &str, timeout: Duration) -> Result<bytes::Bytes, String> {
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .map_err(|e| e.to_string())?;
    let resp = client
        .get(url)
        .send()
        .await
        .map_err(|e| e.without_url().to_string())?;
    if !resp.status().is_success() {
        return Err(format!("HTTP {}", resp.status()));
    }
    resp.bytes().await.map_err(|e| e.without_url().to_string())
}

/// A folder the process writes to: it exists (or can be made), takes a file, and has
/// at least `min_free_bytes` free.
pub async fn folder(what: &str, dir: &Path, min_free_bytes: u64) -> Line {
    let check = format!("{what} {}", dir.display());
    if let Err(e) = tokio::fs::create_dir_all(dir).await {
        return Line::fail(
            check,
            format!("cannot create it: {e}"),
            "create it, or point the setting elsewhere",
        );
    }
    let probe = dir.join(format!(".tributary-check-{}", std::process::id()));
    let written = tokio::fs::write(&probe, b"").await;
    let _ = tokio::fs::remove_file(&probe).await;
    if let Err(e) = written {
        return Line::fail(
            check,
            format!("not writable: {e}"),
            "make it writable by this user",
        );
    }
    let d = dir.to_path_buf();
    match tokio::task::spawn_blocking(move || fs4::available_space(d)).await {
        Ok(Ok(free)) if free < min_free_bytes => Line::fail(
            check,
            format!("only {} MiB free", free >> 20),
            format!(
                "free space or a larger volume: at least {} MiB",
                min_free_bytes >> 20
            ),
        ),
        Ok(Ok(free)) => Line::ok(check, format!("writable, {} MiB free", free >> 20)),
        _ => Line::fail(check, "free space unknown", "check the filesystem"),
    }
}

/// A git remote answers and accepts the credentials (a `git ls-remote`).
pub async fn git_remote(url: &str, auth: &tributary_content::git::GitAuth) -> Line {
    let shown = tributary_events::redact::redact_text(url);
    let check = format!("git remote {shown}");
    let (u, a) = (url.to_owned(), auth.clone());
    match tokio::task::spawn_blocking(move || tributary_content::git::ls_remote(&u, &a)).await {
        Ok(Ok(n)) => Line::ok(check, format!("{n} references")),
        Ok(Err(e)) => {
            let fix = match &e {
                tributary_content::ContentError::GitAuth { .. } => {
                    "the remote refused the credentials: check the token or key and its access to this repository"
                }
                tributary_content::ContentError::Credentials(_) => {
                    "the credentials reference cannot be read here"
                }
                tributary_content::ContentError::GitHostKey { .. } => {
                    "the SSH host key is not the one known_hosts lists: compare it with the server's (ssh-keyscan) and add it to --git-known-hosts"
                }
                _ => "check the URL and the network path to the remote",
            };
            Line::fail(
                check,
                tributary_events::redact::redact_text(&crate::chain(&e)),
                fix,
            )
        }
        Err(_) => Line::fail(check, "the check panicked", "report a bug"),
    }
}
