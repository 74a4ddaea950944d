//! The watch file: which repositories and branches to keep indexed, how often to poll,
//! and the webhook secrets (as `env:`/`file:` references, never inline). Re-read on
//! SIGHUP and when its modification time changes.
//!
//! ```toml
//! poll_interval_secs = 30            # 0: webhooks only
//!
//! [webhooks]
//! github_secret = "env:GITHUB_WEBHOOK_SECRET"
//! gitlab_token = "file:/etc/tributary/gitlab-token"
//! gitea_secret = "env:GITEA_WEBHOOK_SECRET"
//!
//! [[repository]]
//! project = "widgets"
//! url = "https://git.example.com/acme/widgets.git"
//! branches = ["main", "release"]
//! credentials = "env:GIT_TOKEN"      # optional
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;
use tributary_events::ProjectName;
use tributary_events::v2::CredentialRef;

use crate::config::GitCredential;

use crate::error::WatchFileError;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WatchFile {
    #[serde(default = "default_poll")]
    pub poll_interval_secs: u64,
    #[serde(default)]
    pub webhooks: WebhookSecrets,
    #[serde(default, rename = "repository")]
    pub repositories: Vec<RepoSpec>,
}

fn default_poll() -> u64 {
    30
}

/// References to the shared secrets of each provider; a provider without one refuses
/// every delivery (401).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSecrets {
    pub github_secret: Option<String>,
    pub gitlab_token: Option<String>,
    pub gitea_secret: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepoSpec {
    pub project: String,
    pub url: String,
    #[serde(default = "default_branches")]
    pub branches: Vec<String>,
    /// The repository's credential, written as the publisher's `--git-credential`.
    pub credentials: Option<String>,
    /// The name events give it (default: the credential without its options).
    pub credentials_name: Option<String>,
}

fn default_branches() -> Vec<String> {
    vec!["main".into()]
}

impl RepoSpec {
    pub fn credentials(&self) -> Result<Option<GitCredential>, WatchFileError> {
        let Some(spec) = &self.credentials else {
            return Ok(None);
        };
        let secret: tributary_content::git::GitSecret =
            spec.parse().map_err(|why| WatchFileError::Credentials {
                project: self.project.clone(),
                why,
            })?;
        let name = self
            .credentials_name
            .clone()
            .unwrap_or_else(|| secret.default_name());
        if !tributary_content::git::is_name(&name) {
            return Err(WatchFileError::Credentials {
                project: self.project.clone(),
                why: format!("{name:?} cannot name a credential"),
            });
        }
        Ok(Some(GitCredential { name, secret }))
    }
}

/// A watched branch: (project, branch).
pub type Target = (String, String);

impl WatchFile {
    /// Parses and checks a watch file.
    pub fn parse(text: &str) -> Result<Self, WatchFileError> {
        let f: WatchFile = toml::from_str(text).map_err(WatchFileError::Toml)?;
        f.validate()?;
        Ok(f)
    }

    fn validate(&self) -> Result<(), WatchFileError> {
        let mut projects = std::collections::HashSet::new();
        for r in &self.repositories {
            ProjectName::check(&r.project).map_err(|source| WatchFileError::Project {
                url: r.url.clone(),
                source,
            })?;
            if !projects.insert(&r.project) {
                return Err(WatchFileError::DuplicateProject(r.project.clone()));
            }
            if tributary_events::v2::url_has_password(&r.url) {
                return Err(WatchFileError::PasswordInUrl(r.project.clone()));
            }
            if r.branches.is_empty()
                || r.branches
                    .iter()
                    .any(|b| b.is_empty() || b.starts_with('-') || b.contains(".."))
            {
                return Err(WatchFileError::Branch(r.project.clone()));
            }
            r.credentials()?;
        }
        for (name, v) in [
            ("github_secret", &self.webhooks.github_secret),
            ("gitlab_token", &self.webhooks.gitlab_token),
            ("gitea_secret", &self.webhooks.gitea_secret),
        ] {
            if let Some(v) = v
                && CredentialRef::try_from(v.clone()).is_err()
            {
                return Err(WatchFileError::WebhookSecret(name));
            }
        }
        Ok(())
    }

    /// Every watched branch.
    pub fn targets(&self) -> BTreeMap<Target, RepoSpec> {
        self.repositories
            .iter()
            .flat_map(|r| {
                r.branches
                    .iter()
                    .map(move |b| ((r.project.clone(), b.clone()), r.clone()))
            })
            .collect()
    }

    /// The repository a pushed URL names (webhooks give clone URLs in several forms).
    pub fn find_by_url(&self, urls: &[&str]) -> Option<&RepoSpec> {
        let norm = |u: &str| {
            u.trim_end_matches('/')
                .trim_end_matches(".git")
                .to_ascii_lowercase()
        };
        self.repositories
            .iter()
            .find(|r| urls.iter().any(|u| norm(u) == norm(&r.url)))
    }
}
