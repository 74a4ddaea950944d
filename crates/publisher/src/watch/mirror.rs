//! A bare mirror per watched repository, in the watcher's state folder: full history
//! (so a new commit can be diffed against the last indexed one, and ancestry tells a
//! fast-forward from a force-push), fetched incrementally.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use tributary_content::git::GitAuth;
use tributary_events::Sha256Hex;

use crate::error::PublishError;
use crate::publish::source::{git_err, net_err, remote_callbacks};

#[derive(Debug, Clone)]
pub struct Mirror {
    pub dir: PathBuf,
    pub url: String,
    auth: GitAuth,
}

impl Mirror {
    pub fn new(state_dir: &Path, url: &str, auth: GitAuth) -> Self {
        let id = Sha256Hex::of(url.as_bytes()).to_string();
        Mirror {
            dir: state_dir.join("mirrors").join(format!("{}.git", &id[..16])),
            url: url.to_owned(),
            auth,
        }
    }

    fn callbacks(
        &self,
    ) -> Result<
        (
            git2::RemoteCallbacks<'static>,
            tributary_content::git::HostKeyNote,
        ),
        PublishError,
    > {
        remote_callbacks(&self.url, &self.auth)
    }

    /// The remote's branch heads (`git ls-remote`), without fetching. Blocking.
    pub fn remote_heads(&self) -> Result<BTreeMap<String, String>, PublishError> {
        let mut remote =
            git2::Remote::create_detached(self.url.as_str()).map_err(git_err(&self.url))?;
        let (cb, note) = self.callbacks()?;
        let conn = remote
            .connect_auth(git2::Direction::Fetch, Some(cb), None)
            .map_err(net_err(&self.url, &note))?;
        let heads = conn
            .list()
            .map_err(net_err(&self.url, &note))?
            .iter()
            .filter_map(|h| {
                let branch = h.name().strip_prefix("refs/heads/")?;
                Some((branch.to_owned(), h.oid().to_string()))
            })
            .collect();
        Ok(heads)
    }

    /// Fetches `branch` into the mirror and returns its head commit. Blocking.
    pub fn fetch(&self, branch: &str) -> Result<String, PublishError> {
        let repo = match git2::Repository::open_bare(&self.dir) {
            Ok(r) => r,
            Err(_) => {
                std::fs::create_dir_all(&self.dir).map_err(|source| PublishError::Io {
                    path: self.dir.display().to_string(),
                    source,
                })?;
                git2::Repository::init_bare(&self.dir).map_err(git_err(&self.url))?
            }
        };
        let mut remote = repo
            .remote_anonymous(&self.url)
            .map_err(git_err(&self.url))?;
        let mut opts = git2::FetchOptions::new();
        let (cb, note) = self.callbacks()?;
        opts.remote_callbacks(cb);
        let refspec = format!("+refs/heads/{branch}:refs/heads/{branch}");
        remote
            .fetch(&[refspec.as_str()], Some(&mut opts), None)
            .map_err(net_err(&self.url, &note))?;
        let oid = repo
            .refname_to_id(&format!("refs/heads/{branch}"))
            .map_err(|_| PublishError::UnknownRef {
                repo: self.url.clone(),
                reference: branch.to_owned(),
            })?;
        Ok(oid.to_string())
    }
}
