//! Sources: what a run reads. A local folder is walked with the `ignore` crate
//! (parallel, .gitignore/.ignore aware, `.git` skipped); a git repository — local or
//! remote — is read as the tree of one commit (what `git ls-files` lists there).
//!
//! Walkers run on their own threads and hand files to the async pipeline through a
//! bounded channel, each holding permits of a byte budget so memory stays bounded
//! however large the repository is.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use globset::{Glob, GlobSet, GlobSetBuilder};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tributary_events::v2::{CredentialRef, Source};
use tributary_events::{RelPath, Sha256Hex};

use crate::config::{SourceConfig, is_url};
use crate::error::PublishError;

/// Why a file was not emitted. A closed set: safe as a metric label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SkipReason {
    /// Larger than the configured max file size.
    TooLarge,
    /// A symbolic link (not followed, never indexed).
    Symlink,
    /// A git submodule (a commit inside the tree).
    Submodule,
    /// A file name that is not UTF-8 or breaks the path rules.
    InvalidPath,
    /// Larger than the inline limit, and neither object storage nor a git reference
    /// is available.
    NoStrategy,
}

impl SkipReason {
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::TooLarge => "too_large",
            SkipReason::Symlink => "symlink",
            SkipReason::Submodule => "submodule",
            SkipReason::InvalidPath => "invalid_path",
            SkipReason::NoStrategy => "no_strategy",
        }
    }
}

/// A file read from the source, hashed, waiting to be planned.
#[derive(Debug)]
pub struct SourceFile {
    pub path: RelPath,
    pub bytes: Bytes,
    pub checksum: Sha256Hex,
    /// Holds this file's share of the read budget until the file is batched.
    pub permit: OwnedSemaphorePermit,
}

/// What a walker hands to the pipeline.
#[derive(Debug)]
pub enum Item {
    File(SourceFile),
    Skipped {
        path: String,
        reason: SkipReason,
    },
    /// A file the base commit had and the new one has not (delta runs).
    Deleted {
        path: RelPath,
    },
    /// A file that should have been read and was not: the run fails.
    Failed {
        path: String,
        message: String,
    },
}

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
}

fn git_err(repo: &str) -> impl FnOnce(git2::Error) -> PublishError + '_ {
    move |source| PublishError::Git {
        repo: repo.to_owned(),
        message: source.message().to_owned(),
        source,
    }
}

/// Resolves the configured source. Blocking (git I/O): call from a blocking thread.
pub fn resolve(cfg: &SourceConfig) -> Result<Resolved, PublishError> {
    if is_url(&cfg.repo) {
        return resolve_remote(cfg);
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
        return Err(PublishError::Config(format!(
            "--ref {r} needs a git repository, and {} is not one",
            cfg.repo
        )));
    }
    if !root.is_dir() {
        return Err(PublishError::Config(format!(
            "{} is not a folder",
            cfg.repo
        )));
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
    cfg: &SourceConfig,
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

fn remote_callbacks(
    creds: Option<&CredentialRef>,
) -> Result<git2::RemoteCallbacks<'static>, PublishError> {
    tributary_content::git::credential_callbacks(creds)
        .map_err(|e| PublishError::Credentials(e.to_string()))
}

fn resolve_remote(cfg: &SourceConfig) -> Result<Resolved, PublishError> {
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
            let cb = remote_callbacks(cfg.git_credentials.as_ref())?;
            let conn = remote
                .connect_auth(git2::Direction::Fetch, Some(cb), None)
                .map_err(git_err(url))?;
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
    fo.remote_callbacks(remote_callbacks(cfg.git_credentials.as_ref())?);
    fo.depth(1);
    remote
        .fetch(&[fetch_spec.as_str()], Some(&mut fo), None)
        .map_err(|e| match e.code() {
            git2::ErrorCode::NotFound => PublishError::UnknownRef {
                repo: url.to_owned(),
                reference: fetch_spec.clone(),
            },
            _ => git_err(url)(e),
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

/// Include/exclude globs, matched against the whole relative path (`*` crosses `/`).
#[derive(Debug, Clone)]
pub struct Filter {
    include: Option<GlobSet>,
    exclude: GlobSet,
}

impl Filter {
    pub fn new(include: &[String], exclude: &[String]) -> Result<Self, PublishError> {
        let build = |globs: &[String]| -> Result<GlobSet, PublishError> {
            let mut b = GlobSetBuilder::new();
            for g in globs {
                b.add(
                    Glob::new(g)
                        .map_err(|e| PublishError::Config(format!("bad glob {g:?}: {e}")))?,
                );
            }
            b.build().map_err(|e| PublishError::Config(e.to_string()))
        };
        let include = if include.is_empty() {
            None
        } else {
            Some(build(include)?)
        };
        Ok(Self {
            include,
            exclude: build(exclude)?,
        })
    }

    pub fn accepts(&self, path: &str) -> bool {
        self.include.as_ref().is_none_or(|i| i.is_match(path)) && !self.exclude.is_match(path)
    }
}

/// Shared by walker threads: where items go and how much may be held.
#[derive(Clone)]
struct Emitter {
    tx: mpsc::Sender<Item>,
    budget: Arc<Semaphore>,
    budget_kib: u32,
    rt: tokio::runtime::Handle,
    max_file_size: u64,
}

impl Emitter {
    /// Sends an item; false when the pipeline has stopped listening.
    fn send(&self, item: Item) -> bool {
        self.tx.blocking_send(item).is_ok()
    }

    /// Hashes and sends a file's bytes, after taking their share of the budget.
    fn file(
        &self,
        path: RelPath,
        read: impl FnOnce() -> std::io::Result<Vec<u8>>,
        size_hint: u64,
    ) -> bool {
        let kib = u32::try_from(size_hint / 1024 + 1)
            .unwrap_or(u32::MAX)
            .min(self.budget_kib);
        let Ok(permit) = self
            .rt
            .block_on(self.budget.clone().acquire_many_owned(kib))
        else {
            return false;
        };
        match read() {
            Ok(bytes) if bytes.len() as u64 > self.max_file_size => self.send(Item::Skipped {
                path: path.to_string(),
                reason: SkipReason::TooLarge,
            }),
            Ok(bytes) => {
                let checksum = Sha256Hex::of(&bytes);
                self.send(Item::File(SourceFile {
                    path,
                    bytes: Bytes::from(bytes),
                    checksum,
                    permit,
                }))
            }
            Err(e) => self.send(Item::Failed {
                path: path.to_string(),
                message: format!("cannot read: {e}"),
            }),
        }
    }
}

/// Starts walking on background threads; items arrive on the returned receiver, which
/// closes when the walk is done.
pub fn spawn_walk(
    kind: Kind,
    filter: Filter,
    max_file_size: u64,
    read_budget_bytes: u64,
    channel_capacity: usize,
) -> (
    mpsc::Receiver<Item>,
    std::thread::JoinHandle<Result<(), PublishError>>,
) {
    let (tx, rx) = mpsc::channel(channel_capacity);
    let budget_kib = u32::try_from(read_budget_bytes / 1024)
        .unwrap_or(u32::MAX)
        .max(1);
    let emitter = Emitter {
        tx,
        budget: Arc::new(Semaphore::new(budget_kib as usize)),
        budget_kib,
        rt: tokio::runtime::Handle::current(),
        max_file_size,
    };
    let handle = std::thread::Builder::new()
        .name("tributary-walk".into())
        .spawn(move || match kind {
            Kind::Folder { root } => walk_folder(&root, &filter, &emitter),
            Kind::Commit {
                repo_dir,
                commit,
                base: Some(base),
                ..
            } => walk_delta(&repo_dir, base, commit, &filter, &emitter, false),
            Kind::Commit {
                repo_dir,
                commit,
                base: None,
                replaced,
            } => walk_commit(&repo_dir, commit, &filter, &emitter).and_then(|()| match replaced {
                // what the replaced history had and the new one has not
                Some(old) => walk_delta(&repo_dir, old, commit, &filter, &emitter, true),
                None => Ok(()),
            }),
        })
        .expect("spawn walker thread");
    (rx, handle)
}

fn walk_folder(root: &Path, filter: &Filter, out: &Emitter) -> Result<(), PublishError> {
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(8);
    let walker = ignore::WalkBuilder::new(root)
        .hidden(false)
        .parents(true)
        .ignore(true)
        .git_ignore(true)
        .git_exclude(true)
        .git_global(false)
        .require_git(false)
        .follow_links(false)
        .threads(threads)
        .filter_entry(|e| e.file_name() != ".git")
        .build_parallel();
    walker.run(|| {
        let out = out.clone();
        Box::new(move |entry| {
            let keep_going = match entry {
                Err(e) => out.send(Item::Failed {
                    path: String::new(),
                    message: e.to_string(),
                }),
                Ok(entry) => visit(root, &entry, filter, &out),
            };
            if keep_going {
                ignore::WalkState::Continue
            } else {
                ignore::WalkState::Quit
            }
        })
    });
    Ok(())
}

fn visit(root: &Path, entry: &ignore::DirEntry, filter: &Filter, out: &Emitter) -> bool {
    let Some(ft) = entry.file_type() else {
        return true;
    };
    if ft.is_dir() {
        return true;
    }
    let rel = entry.path().strip_prefix(root).unwrap_or(entry.path());
    let Some(rel_str) = rel.to_str() else {
        let path = rel.to_string_lossy().into_owned();
        return out.send(Item::Skipped {
            path,
            reason: SkipReason::InvalidPath,
        });
    };
    if !filter.accepts(rel_str) {
        return true;
    }
    let Ok(path) = RelPath::new(rel_str) else {
        return out.send(Item::Skipped {
            path: rel_str.to_owned(),
            reason: SkipReason::InvalidPath,
        });
    };
    if ft.is_symlink() {
        return out.send(Item::Skipped {
            path: path.to_string(),
            reason: SkipReason::Symlink,
        });
    }
    if !ft.is_file() {
        return true;
    }
    let size = match entry.metadata() {
        Ok(m) => m.len(),
        Err(e) => {
            return out.send(Item::Failed {
                path: path.to_string(),
                message: e.to_string(),
            });
        }
    };
    if size > out.max_file_size {
        return out.send(Item::Skipped {
            path: path.to_string(),
            reason: SkipReason::TooLarge,
        });
    }
    let full = entry.path().to_path_buf();
    out.file(path, || std::fs::read(&full), size)
}

/// Sends one blob of a commit: skipped (filter, symlink, invalid path, too large) or
/// read. `Ok(false)` when the pipeline stopped listening.
fn emit_blob(
    repo: &git2::Repository,
    odb: &git2::Odb<'_>,
    full: String,
    id: git2::Oid,
    filemode: i32,
    filter: &Filter,
    out: &Emitter,
) -> Result<bool, git2::Error> {
    if !filter.accepts(&full) {
        return Ok(true);
    }
    if filemode == 0o120000 {
        return Ok(out.send(Item::Skipped {
            path: full,
            reason: SkipReason::Symlink,
        }));
    }
    let path = match RelPath::new(full.clone()) {
        Ok(p) => p,
        Err(_) => {
            return Ok(out.send(Item::Skipped {
                path: full,
                reason: SkipReason::InvalidPath,
            }));
        }
    };
    let (size, _) = odb.read_header(id)?;
    if size as u64 > out.max_file_size {
        return Ok(out.send(Item::Skipped {
            path: full,
            reason: SkipReason::TooLarge,
        }));
    }
    Ok(out.file(
        path,
        || {
            repo.find_blob(id)
                .map(|b| b.content().to_vec())
                .map_err(std::io::Error::other)
        },
        size as u64,
    ))
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

/// What changed between two commits: added and modified blobs are read, deleted ones
/// announced. Renames are a deletion and an addition (no similarity detection).
/// `deletions_only`: announce what is gone and read nothing (after a full walk).
fn walk_delta(
    repo_dir: &Path,
    base: git2::Oid,
    commit: git2::Oid,
    filter: &Filter,
    out: &Emitter,
    deletions_only: bool,
) -> Result<(), PublishError> {
    let name = repo_dir.display().to_string();
    let repo = git2::Repository::open(repo_dir).map_err(git_err(&name))?;
    let tree_of = |id| repo.find_commit(id).and_then(|c| c.tree());
    let old = tree_of(base).map_err(git_err(&name))?;
    let new = tree_of(commit).map_err(git_err(&name))?;
    let diff = repo
        .diff_tree_to_tree(Some(&old), Some(&new), None)
        .map_err(git_err(&name))?;
    let odb = repo.odb().map_err(git_err(&name))?;
    for delta in diff.deltas() {
        let go_on = match delta.status() {
            git2::Delta::Deleted => {
                let path =
                    String::from_utf8_lossy(delta.old_file().path_bytes().unwrap_or_default())
                        .into_owned();
                match RelPath::new(path.clone()) {
                    Ok(p) if filter.accepts(&path) => out.send(Item::Deleted { path: p }),
                    _ => true,
                }
            }
            _ if deletions_only => true,
            git2::Delta::Added | git2::Delta::Modified | git2::Delta::Typechange => {
                let file = delta.new_file();
                let path =
                    String::from_utf8_lossy(file.path_bytes().unwrap_or_default()).into_owned();
                if file.mode() == git2::FileMode::Commit {
                    !filter.accepts(&path)
                        || out.send(Item::Skipped {
                            path,
                            reason: SkipReason::Submodule,
                        })
                } else {
                    emit_blob(
                        &repo,
                        &odb,
                        path,
                        file.id(),
                        i32::from(file.mode()),
                        filter,
                        out,
                    )
                    .map_err(git_err(&name))?
                }
            }
            _ => true,
        };
        if !go_on {
            break;
        }
    }
    Ok(())
}

fn walk_commit(
    repo_dir: &Path,
    commit: git2::Oid,
    filter: &Filter,
    out: &Emitter,
) -> Result<(), PublishError> {
    let name = repo_dir.display().to_string();
    let repo = git2::Repository::open(repo_dir).map_err(git_err(&name))?;
    let tree = repo
        .find_commit(commit)
        .and_then(|c| c.tree())
        .map_err(git_err(&name))?;
    let odb = repo.odb().map_err(git_err(&name))?;
    let mut failure = None;
    tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
        let go_on = match entry.kind() {
            Some(git2::ObjectType::Tree)
            | None
            | Some(git2::ObjectType::Any)
            | Some(git2::ObjectType::Tag) => true,
            Some(git2::ObjectType::Commit) => {
                let path = format!("{dir}{}", String::from_utf8_lossy(entry.name_bytes()));
                !filter.accepts(&path)
                    || out.send(Item::Skipped {
                        path,
                        reason: SkipReason::Submodule,
                    })
            }
            Some(git2::ObjectType::Blob) => {
                let Ok(name) = entry.name() else {
                    let path = format!("{dir}{}", String::from_utf8_lossy(entry.name_bytes()));
                    return if out.send(Item::Skipped {
                        path,
                        reason: SkipReason::InvalidPath,
                    }) {
                        git2::TreeWalkResult::Ok
                    } else {
                        git2::TreeWalkResult::Abort
                    };
                };
                let full = format!("{dir}{name}");
                match emit_blob(&repo, &odb, full, entry.id(), entry.filemode(), filter, out) {
                    Ok(go_on) => go_on,
                    Err(e) => {
                        failure = Some(e);
                        false
                    }
                }
            }
        };
        if go_on {
            git2::TreeWalkResult::Ok
        } else {
            git2::TreeWalkResult::Abort
        }
    })
    .map_err(git_err(&name))?;
    match failure {
        Some(e) => Err(git_err(&name)(e)),
        None => Ok(()),
    }
}
