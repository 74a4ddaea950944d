//! The opt-in report sink: each project summary also written as a self-contained HTML
//! page (`tributary_intel::report`) to a local folder or the object store. A failed write
//! is logged and counted; the pipeline never waits on it or fails because of it.

use bytes::Bytes;
use tributary_content::store::{ObjectStore, StoreConfig};
use tributary_events::Sha256Hex;
use tributary_events::intelligence::ProjectSummary;

use crate::config::{Config, ReportConfig};
use crate::error::{ConfigError, ConsumerError};
use crate::internal_events::ReportWritten;

/// Where reports go: `{prefix}{project}/{run_id}.html`, and `latest.html` beside it.
#[derive(Debug)]
pub struct ReportSink {
    pub store: ObjectStore,
    pub prefix: String,
}

/// A project name as one safe key segment: `[A-Za-z0-9._-]` kept, anything else
/// replaced, and a short hash added when anything was replaced (so that two names that
/// differ only in replaced characters do not share a folder).
pub fn project_segment(project: &str) -> String {
    let safe = tributary_content::store::key_safe_chars(project);
    let safe = safe.trim_start_matches('.');
    if safe == project && !safe.is_empty() {
        return safe.to_owned();
    }
    let hash = Sha256Hex::of(project.as_bytes()).to_string();
    format!(
        "{}-{}",
        safe.chars().take(64).collect::<String>(),
        &hash[..8]
    )
}

impl ReportSink {
    /// The sink the configuration asks for, if any.
    pub async fn open(cfg: &Config) -> Result<Option<Self>, ConsumerError> {
        let (store_cfg, prefix) = match &cfg.report {
            None => return Ok(None),
            Some(ReportConfig::Dir(dir)) => {
                (StoreConfig::Local { root: dir.clone() }, String::new())
            }
            Some(ReportConfig::ObjectStore { prefix }) => (cfg.store.clone(), prefix.clone()),
        };
        let store = ObjectStore::open(&store_cfg)
            .await
            .map_err(ConsumerError::Content)?
            .ok_or(ConsumerError::Config(ConfigError::ReportPrefixWithoutStore))?;
        Ok(Some(Self { store, prefix }))
    }

    /// The keys a summary's report is written under.
    pub fn keys(&self, s: &ProjectSummary) -> [String; 2] {
        let dir = format!("{}{}", self.prefix, project_segment(&s.project));
        [
            format!("{dir}/{}.html", s.run_id),
            format!("{dir}/latest.html"),
        ]
    }

    /// Renders and writes the report; never fails the caller.
    pub async fn write(&self, s: &ProjectSummary) {
        let html = Bytes::from(tributary_intel::report::html(s));
        for key in self.keys(s) {
            let result = self
                .store
                .put(&key, html.clone(), "text/html; charset=utf-8")
                .await;
            ReportWritten {
                key: &key,
                bytes: html.len(),
                error: result.as_ref().err(),
            }
            .emit();
            if result.is_err() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::project_segment;

    #[test]
    fn project_names_become_one_safe_segment() {
        assert_eq!(project_segment("tributary"), "tributary");
        assert_eq!(project_segment("org.repo-1_x"), "org.repo-1_x");
        let a = project_segment("github.com/org/repo");
        assert!(
            a.starts_with("github.com_org_repo-") && !a.contains('/'),
            "{a}"
        );
        assert_ne!(project_segment("a/b"), project_segment("a?b"));
        for hostile in ["..", "../../etc", "", "/abs", "a\\b"] {
            let s = project_segment(hostile);
            assert!(
                !s.contains('/') && !s.contains('\\') && !s.starts_with('.') && !s.is_empty(),
                "{hostile:?} → {s:?}"
            );
        }
    }
}
