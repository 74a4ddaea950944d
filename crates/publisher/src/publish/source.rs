//! Source resolution: from a run target to what its walk reads — a folder, a local
//! repository at a ref, or a remote fetched shallowly into a temporary bare repository
//! — and the `source` object every event of the run carries. For watch mode's delta
//! runs, the base commit is checked here too (descendant: delta; otherwise a full run
//! that also deletes what the replaced history had).

use std::path::{Path, PathBuf};

use tributary_content::git::{GitAuth, HostKeyNote};
use tributary_events::v2::Source;

use crate::config::{RunTarget, Settings, is_url};
use crate::error::{ConfigError, PublishError};

/// A source, resolved: where to read and what to say about it in events.
#[derive(Debug)]
pub struct Resolved {
    pub kind: Kind,
    /// The `source` object of every event of the run.
    pub event_source: Source,
    /// The URL consumers fetch git references from; `None` disables that strategy.
    pub git_url_for_refs: Option<String>,
    /// A temporary clone, removed when the run ends.
    _clone: Option<tempfile::TempDir>,
}

#[derive(Debug, Clone)]
pub enum Kind {
    /// Walk the files of a folder as they are.
    Folder { root: PathBuf },
    /// Read the tree of a commit, or only what changed since `base`.
    Commit {
        repo_dir: PathBuf,
        commit: git2::Oid,
        base: Option<git2::Oid>,
        /// A last indexed commit the new one does not descend from (a force-push): the
        /// run is full, and files of that commit's tree that are gone are deleted.
        replaced: Option<git2::Oid>,
    },
}

impl Resolved {
    pub fn commit(&self) -> Option<String> {
        self.event_source.git_ref.clone()
    }

    /// Whether the run carries only what changed since a base commit.
    pub fn is_delta(&self) -> bool {
        matches!(self.kind, Kind::Commit { base: Some(_), .. })
    }
}

pub(crate) fn git_err(repo: &str) -> impl FnOnce(git2::Error) -> PublishError + '_ {
    move |source| PublishError::Git {
        repo: repo.to_owned(),
        message: source.message().to_owned(),
        source,
    }
}

/// [`git_err`] for a network operation: a refused host key says why.
pub(crate) fn net_err<'a>(
    repo: &'a str,
    note: &'a HostKeyNote,
) -> impl Fn(git2::Error) -> PublishError + 'a {
    move |source| PublishError::Git {
        repo: repo.to_owned(),
        message: note.message(&source),
        source,
    }
}

/// Resolves the configured source. Blocking (git I/O): call from a blocking thread.
pub fn resolve(cfg: &RunTarget, auth: &GitAuth) -> Result<Resolved, PublishError> {
    if is_url(&cfg.repo) {
        return resolve_remote(cfg, auth);
    }
    let path = Path::new(&cfg.repo);
    if !path.exists() {
        return Err(PublishError::MissingRepo(cfg.repo.clone()));
    }
    let root = path.canonicalize().map_err(|source| PublishError::Io {
        path: cfg.repo.clone(),
        source,
    })?;
    if !cfg.working_tree
        && let Ok(repo) = git2::Repository::open(&root)
    {
        return resolve_local_repo(cfg, &root, &repo);
    }
    if let Some(r) = &cfg.git_ref {
        return Err(ConfigError::RefWithoutGit {
            reference: r.clone(),
            repo: cfg.repo.clone(),
        }
        .into());
    }
    if !root.is_dir() {
        return Err(ConfigError::NotAFolder(cfg.repo.clone()).into());
    }
    let event_source = Source {
        root: Some(root.display().to_string()),
        ..Source::default()
    };
    Ok(Resolved {
        kind: Kind::Folder { root },
        event_source,
        git_url_for_refs: cfg.git_url.clone(),
        _clone: None,
    })
}

fn resolve_local_repo(
    cfg: &RunTarget,
    root: &Path,
    repo: &git2::Repository,
) -> Result<Resolved, PublishError> {
    let spec = cfg.git_ref.as_deref().unwrap_or("HEAD");
    let commit = repo
        .revparse_single(spec)
        .and_then(|o| o.peel_to_commit())
        .map_err(|_| PublishError::UnknownRef {
            repo: cfg.repo.clone(),
            reference: spec.to_owned(),
        })?;
    let branch = match &cfg.git_ref {
        Some(r) => repo
            .find_branch(r, git2::BranchType::Local)
            .ok()
            .map(|_| r.clone()),
        None => repo
            .head()
            .ok()
            .filter(git2::Reference::is_branch)
            .and_then(|h| h.shorthand().ok().map(str::to_owned)),
    };
    let event_source = Source {
        root: Some(root.display().to_string()),
        git_url: cfg.git_url.clone(),
        git_ref: Some(commit.id().to_string()),
        git_branch: branch,
    };
    let repo_dir = repo.path().to_path_buf();
    let (base, replaced) = match &cfg.base_commit {
        None => (None, None),
        Some(b) => diff_base(repo, b, commit.id()),
    };
    Ok(Resolved {
        kind: Kind::Commit {
            repo_dir,
            commit: commit.id(),
            base,
            replaced,
        },
        event_source,
        git_url_for_refs: cfg.git_url.clone(),
        _clone: None,
    })
}

/// Callbacks for a git network operation on `url`: the credential, SSH host keys.
pub(crate) fn remote_callbacks(
    url: &str,
    auth: &GitAuth,
) -> Result<(git2::RemoteCallbacks<'static>, HostKeyNote), PublishError> {
    tributary_content::git::callbacks(url, auth).map_err(PublishError::Credentials)
}

/// What fetching `target`'s repository authenticates with under `settings`.
pub(crate) fn auth(settings: &Settings, target: &RunTarget) -> GitAuth {
    GitAuth {
        secret: target.git_credentials.as_ref().map(|c| c.secret.clone()),
        host_keys: settings.git_host_keys.clone(),
    }
}

fn resolve_remote(cfg: &RunTarget, auth: &GitAuth) -> Result<Resolved, PublishError> {
    let url = cfg.repo.as_str();
    let tmp = tempfile::Builder::new()
        .prefix("tributary-publish-")
        .tempdir()
        .map_err(|source| PublishError::Io {
            path: "temporary clone".into(),
            source,
        })?;
    let repo = git2::Repository::init_bare(tmp.path()).map_err(git_err(url))?;
    let mut remote = repo.remote_anonymous(url).map_err(git_err(url))?;

    // Which commit: a full SHA is fetched as is; a name is looked up in the remote's refs.
    let wanted = cfg.git_ref.clone();
    let (fetch_spec, oid, branch) = match wanted.as_deref() {
        Some(r) if tributary_events::v2::is_commit_sha(r) => {
            let oid = git2::Oid::from_str(r).map_err(git_err(url))?;
            (r.to_owned(), oid, None)
        }
        _ => {
            let (cb, note) = remote_callbacks(url, auth)?;
            let conn = remote
                .connect_auth(git2::Direction::Fetch, Some(cb), None)
                .map_err(net_err(url, &note))?;
            let heads: Vec<(String, git2::Oid)> = conn
                .list()
                .map_err(git_err(url))?
                .iter()
                .map(|h| (h.name().to_owned(), h.oid()))
                .collect();
            let (refname, branch) = match wanted.as_deref() {
                None => {
                    let default = conn.default_branch().map_err(git_err(url))?;
                    let name = default.as_str().unwrap_or("HEAD").to_owned();
                    let branch = name.strip_prefix("refs/heads/").map(str::to_owned);
                    (name, branch)
                }
                Some(r) => {
                    let candidates = [
                        format!("refs/heads/{r}"),
                        format!("refs/tags/{r}"),
                        r.to_owned(),
                    ];
                    let found = candidates
                        .iter()
                        .find(|c| heads.iter().any(|(n, _)| n == *c))
                        .cloned()
                        .ok_or_else(|| PublishError::UnknownRef {
                            repo: url.to_owned(),
                            reference: r.to_owned(),
                        })?;
                    let branch = found.strip_prefix("refs/heads/").map(str::to_owned);
                    (found, branch)
                }
            };
            let oid = heads
                .iter()
                .find(|(n, _)| *n == refname)
                .map(|(_, o)| *o)
                .ok_or_else(|| PublishError::UnknownRef {
                    repo: url.to_owned(),
                    reference: refname.clone(),
                })?;
            drop(conn);
            (refname, oid, branch)
        }
    };
    let mut fo = git2::FetchOptions::new();
    let (cb, note) = remote_callbacks(url, auth)?;
    fo.remote_callbacks(cb);
    fo.depth(1);
    remote
        .fetch(&[fetch_spec.as_str()], Some(&mut fo), None)
        .map_err(|e| match e.code() {
            git2::ErrorCode::NotFound => PublishError::UnknownRef {
                repo: url.to_owned(),
                reference: fetch_spec.clone(),
            },
            _ => net_err(url, &note)(e),
        })?;
    let commit = repo
        .find_object(oid, None)
        .and_then(|o| o.peel_to_commit())
        .map_err(|_| PublishError::UnknownRef {
            repo: url.to_owned(),
            reference: fetch_spec.clone(),
        })?;
    let git_url = cfg.git_url.clone().unwrap_or_else(|| url.to_owned());
    let event_source = Source {
        root: None,
        git_url: Some(git_url.clone()),
        git_ref: Some(commit.id().to_string()),
        git_branch: branch,
    };
    Ok(Resolved {
        kind: Kind::Commit {
            repo_dir: tmp.path().to_path_buf(),
            commit: commit.id(),
            base: None,
            replaced: None,
        },
        event_source,
        git_url_for_refs: Some(git_url),
        _clone: Some(tmp),
    })
}

/// `(base, replaced)` of a run given the last indexed commit: the base of a delta run if
/// the new commit descends from it; otherwise a full run, which also deletes what the
/// replaced history had (when this repository still has that commit).
fn diff_base(
    repo: &git2::Repository,
    last: &str,
    commit: git2::Oid,
) -> (Option<git2::Oid>, Option<git2::Oid>) {
    let Ok(last) = git2::Oid::from_str(last) else {
        return (None, None);
    };
    if repo.find_commit(last).is_err() {
        tracing::info!(%last, %commit, "the last indexed commit is unknown here: full run");
        return (None, None);
    }
    match repo.graph_descendant_of(commit, last) {
        Ok(true) => (Some(last), None),
        _ => {
            tracing::info!(%last, %commit, "the new commit does not descend from the last indexed one (force-push): full run");
            (None, Some(last))
        }
    }
}
