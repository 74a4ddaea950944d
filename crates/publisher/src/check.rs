//! `tributary-publisher check`: the checks of tributary-runtime's `check` module for
//! what `publish` would use — Kafka and the index topic, the object store (when a
//! strategy may upload), the repository's remote and the URL consumers will fetch
//! git references from.

use std::time::Duration;

use tributary_runtime::check::{self, Line, Report};

use crate::config::Config;

const TIMEOUT: Duration = Duration::from_secs(10);

/// The effective settings and every check's line.
pub async fn run(cfg: &Config) -> Report {
    let s = &cfg.settings;
    let t = &cfg.target;
    let mut settings = s.kafka.connection.describe();
    settings.push(("topic".into(), s.kafka.topic.clone()));
    settings.push(("content_strategy".into(), format!("{:?}", s.strategy)));
    settings.push(("storage".into(), s.storage.provider.describe()));
    settings.push((
        "repo".into(),
        tributary_events::redact::redact_text(&t.repo),
    ));
    if let Some(u) = &t.git_url {
        settings.push(("git_url".into(), tributary_events::redact::redact_text(u)));
    }
    if let Some(c) = &t.git_credentials {
        settings.push(("git_credential".into(), c.secret.to_string()));
        settings.push(("git_credential_name".into(), c.name.clone()));
    }
    let auth = crate::publish::source::auth(s, t);
    let mut checks = check::kafka(
        &s.kafka.connection,
        &[&s.kafka.topic],
        check::MissingTopic::Fails,
        TIMEOUT,
    )
    .await;
    if checks.iter().all(|l| l.ok) {
        checks.push(check::kafka_write(&s.kafka.connection, &s.kafka.topic, TIMEOUT).await);
    }
    match tributary_content::ObjectStore::open(&s.storage.provider).await {
        Ok(Some(store)) => checks.extend(check::store(&store, TIMEOUT).await),
        Ok(None) => {}
        Err(e) => checks.push(Line::fail(
            "object store",
            tributary_runtime::chain(&e),
            "check the --storage-* settings",
        )),
    }
    if crate::config::is_url(&t.repo) {
        checks.push(check::git_remote(&t.repo, &auth).await);
    } else {
        let path = std::path::Path::new(&t.repo);
        checks.push(if path.is_dir() {
            Line::ok(format!("repository {}", t.repo), "a readable folder")
        } else {
            Line::fail(
                format!("repository {}", t.repo),
                "not a folder here",
                "give a local folder, a local git repository or a git URL",
            )
        });
    }
    if let Some(u) = &t.git_url
        && *u != t.repo
        && crate::config::is_url(u)
    {
        checks.push(check::git_remote(u, &auth).await);
    }
    Report { settings, checks }
}
