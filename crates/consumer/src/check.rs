//! `tributary-consumer check` and `/readyz`: the checks of tributary-runtime's `check`
//! module for what the daemon uses — Kafka and its three topics, the object store,
//! the cache folders, the git credentials it binds, the v1 mount root.

use std::time::Duration;

use tributary_runtime::check::{self, Line, Report};

use crate::config::Config;
use crate::telemetry::MIN_FREE_BYTES;

/// How `check` and `/readyz` differ: the command writes, reads, presigns and deletes a
/// probe object and waits up to 10 s per check; readiness only reaches the bucket and
/// answers within seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depth {
    Command,
    Readiness,
}

/// The effective settings and every check's line; `store` is the opened object store
/// (or why it could not be opened).
pub async fn run(
    cfg: &Config,
    store: &Result<Option<tributary_content::ObjectStore>, String>,
    depth: Depth,
) -> Report {
    let timeout = match depth {
        Depth::Command => Duration::from_secs(10),
        Depth::Readiness => Duration::from_secs(3),
    };
    let k = &cfg.kafka;
    let mut settings = k.connection.describe();
    settings.extend([
        ("group".to_owned(), k.group.clone()),
        ("input_topic".to_owned(), k.input_topic.clone()),
        ("output_topic".to_owned(), k.output_topic.clone()),
        ("dlq_topic".to_owned(), k.dlq_topic.clone()),
        (
            "group_instance_id".to_owned(),
            k.instance_id
                .clone()
                .unwrap_or_else(|| "(dynamic membership)".into()),
        ),
        ("storage".to_owned(), cfg.store.describe()),
        (
            "cache_dir".to_owned(),
            cfg.cache.disk_dir.display().to_string(),
        ),
        (
            "git_cache_dir".to_owned(),
            cfg.git.cache_dir.display().to_string(),
        ),
        (
            "analysis_cache_dir".to_owned(),
            cfg.analysis_cache
                .as_ref()
                .map_or_else(|| "(off)".to_owned(), |a| a.dir.display().to_string()),
        ),
    ]);
    for b in &cfg.git.credentials.0 {
        settings.push((
            format!("git_credential {}", b.name),
            format!("{} for {}", b.secret, b.hosts.join(",")),
        ));
    }
    let mut checks = check::kafka(
        &k.connection,
        &[&k.input_topic, &k.output_topic, &k.dlq_topic],
        match depth {
            Depth::Command => check::MissingTopic::Fails,
            Depth::Readiness => check::MissingTopic::Passes,
        },
        timeout,
    )
    .await;
    let input_visible = checks
        .iter()
        .any(|l| l.ok && l.check == format!("kafka topic {}", k.input_topic));
    if depth == Depth::Command && input_visible {
        checks.push(check::kafka_read(&k.connection, &k.input_topic, &k.group, timeout).await);
    }
    if depth == Depth::Command {
        for topic in [&k.output_topic, &k.dlq_topic] {
            let visible = checks
                .iter()
                .any(|l| l.ok && l.check == format!("kafka topic {topic}"));
            if visible {
                checks.push(check::kafka_write(&k.connection, topic, timeout).await);
            }
        }
    }
    match store {
        Ok(Some(store)) if depth == Depth::Command => {
            checks.extend(check::store(store, timeout).await);
        }
        Ok(Some(store)) => checks.push(check::store_reachable(store, timeout).await),
        Ok(None) => {}
        Err(e) => checks.push(Line::fail(
            "object store",
            e.clone(),
            "check the --storage-* settings",
        )),
    }
    checks.push(check::folder("content cache", &cfg.cache.disk_dir, MIN_FREE_BYTES).await);
    checks.push(check::folder("git cache", &cfg.git.cache_dir, MIN_FREE_BYTES).await);
    if let Some(a) = &cfg.analysis_cache {
        checks.push(check::folder("analysis cache", &a.dir, MIN_FREE_BYTES).await);
    }
    for b in &cfg.git.credentials.0 {
        let name = format!("git credential {}", b.name);
        let unreadable = b
            .secret
            .references()
            .into_iter()
            .find_map(|r| tributary_content::git::resolve_secret(r).err());
        checks.push(match unreadable {
            None => Line::ok(name, "readable"),
            Some(e) => Line::fail(
                name,
                e.to_string(),
                "mount the secret or set the variable the reference names",
            ),
        });
    }
    let uses_ssh = cfg.git.allowed_schemes.iter().any(|s| s == "ssh");
    match &cfg.git.host_keys {
        tributary_content::git::HostKeys::Known(k) => {
            checks.push(Line::ok("git known_hosts", format!("{} entries", k.len())));
        }
        tributary_content::git::HostKeys::AcceptAny => checks.push(Line::ok(
            "git known_hosts",
            "none: any SSH host key is accepted (--git-accept-unknown-host-keys)",
        )),
        // not a failure: a consumer that never meets an SSH remote needs none
        tributary_content::git::HostKeys::NoneConfigured if uses_ssh => checks.push(Line::ok(
            "git known_hosts",
            "none configured: SSH remotes are refused until --git-known-hosts is given",
        )),
        tributary_content::git::HostKeys::NoneConfigured => {}
    }
    if let Some(root) = &cfg.mount_root {
        let name = format!("mount root {}", root.display());
        checks.push(match std::fs::read_dir(root) {
            Ok(_) => Line::ok(name, "readable"),
            Err(e) => Line::fail(
                name,
                e.to_string(),
                "mount the volume v1 events' paths live on",
            ),
        });
    }
    Report { settings, checks }
}
