//! The opt-in report sink: each project summary also written as a self-contained HTML
//! page (`tributary_intel::report`) to a local folder or the object store, and the index
//! page across projects and runs rebuilt beside them. A failed write is logged and
//! counted; the pipeline never waits on it or fails because of it.
//!
//! The index is rebuilt from a listing of the reports, not kept as state: replicas that
//! write at the same moment may each miss the other's newest run, and the next report
//! written puts it back. Past `INDEX_MAX_KEYS` reports the index is left as it is (and
//! the listing's cost stays bounded).

use bytes::Bytes;
use tributary_content::store::{ObjectStore, StoreConfig};
use tributary_events::Sha256Hex;
use tributary_events::intelligence::ProjectSummary;

use crate::config::{Config, SinkLocation};
use crate::error::{ConfigError, ConsumerError};
use crate::internal_events::{ReportIndexSkipped, ReportWritten};

/// Reports listed for the index at most; past that the index is not rebuilt.
pub const INDEX_MAX_KEYS: usize = 50_000;
/// The index page's key under the prefix.
pub const INDEX_KEY: &str = "index.html";
const HTML: &str = "text/html; charset=utf-8";

/// A machine-readable companion of a run's summary, written beside its report and in
/// the hub.
#[derive(Debug)]
pub struct Artifact {
    /// `None`: the run has nothing for it (no dependencies, no secret findings).
    pub value: Option<serde_json::Value>,
    /// The hub's folder for it.
    pub folder: &'static str,
    pub extension: &'static str,
    pub content_type: &'static str,
}

/// The run's CycloneDX SBOM and its secret findings as SARIF.
pub fn artifacts(s: &ProjectSummary) -> [Artifact; 2] {
    [
        Artifact {
            value: tributary_intel::sbom::cyclonedx(s),
            folder: "sbom",
            extension: "cdx.json",
            // CycloneDX's registered media type for its JSON
            content_type: "application/vnd.cyclonedx+json",
        },
        Artifact {
            value: tributary_intel::sarif::secrets(s),
            folder: "sarif",
            extension: "sarif",
            content_type: "application/sarif+json",
        },
    ]
}

/// Where reports go: `{prefix}{project}/{run_id}.html`, `latest.html` beside it, and
/// `{prefix}index.html` across projects.
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
    // a folder named like the index page would collide with it on a file system
    if safe == project && !safe.is_empty() && safe != INDEX_KEY {
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
            Some(SinkLocation::Dir(dir)) => {
                (StoreConfig::Local { root: dir.clone() }, String::new())
            }
            Some(SinkLocation::ObjectStore { prefix }) => (cfg.store.clone(), prefix.clone()),
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

    /// Renders and writes the report, and beside it the run's CycloneDX SBOM
    /// (`{run_id}.cdx.json`, `latest.cdx.json`) when the project has dependencies and its
    /// secret findings as SARIF (`{run_id}.sarif`, `latest.sarif`) when it has any; never
    /// fails the caller.
    pub async fn write(&self, s: &ProjectSummary) {
        let html = Bytes::from(tributary_intel::report::html(s));
        for key in self.keys(s) {
            if !self.put(&key, html.clone(), HTML).await {
                return;
            }
        }
        for a in artifacts(s) {
            let Some(value) = a.value else { continue };
            let body =
                Bytes::from(serde_json::to_vec_pretty(&value).expect("JSON values serialize"));
            for key in self.keys(s) {
                let key = format!(
                    "{}.{}",
                    key.strip_suffix(".html").unwrap_or(&key),
                    a.extension
                );
                if !self.put(&key, body.clone(), a.content_type).await {
                    break;
                }
            }
        }
        self.write_index().await;
    }

    /// Writes one object, logged and counted; whether it was written.
    async fn put(&self, key: &str, body: Bytes, content_type: &str) -> bool {
        let bytes = body.len();
        let result = self.store.put(key, body, content_type).await;
        ReportWritten {
            key,
            bytes,
            error: result.as_ref().err(),
        }
        .emit();
        result.is_ok()
    }

    /// Rebuilds `index.html` from a listing of the reports under the prefix.
    pub async fn write_index(&self) {
        let key = format!("{}{INDEX_KEY}", self.prefix);
        let keys = match self.store.list_keys(&self.prefix, INDEX_MAX_KEYS).await {
            Ok(Some(keys)) => keys,
            Ok(None) => {
                ReportIndexSkipped {
                    max_keys: INDEX_MAX_KEYS,
                }
                .emit();
                return;
            }
            Err(e) => {
                ReportWritten {
                    key: &key,
                    bytes: 0,
                    error: Some(&e),
                }
                .emit();
                return;
            }
        };
        let projects = tributary_intel::report::index_projects(
            keys.iter()
                .filter_map(|(k, _)| k.strip_prefix(self.prefix.as_str())),
        );
        let html = Bytes::from(tributary_intel::report::index_html(&projects));
        self.put(&key, html, HTML).await;
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
        assert_ne!(
            project_segment("index.html"),
            "index.html",
            "the index's own name"
        );
        for hostile in ["..", "../../etc", "", "/abs", "a\\b"] {
            let s = project_segment(hostile);
            assert!(
                !s.contains('/') && !s.contains('\\') && !s.starts_with('.') && !s.is_empty(),
                "{hostile:?} → {s:?}"
            );
        }
    }
}
