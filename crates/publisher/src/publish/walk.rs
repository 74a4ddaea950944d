//! Walkers: what a run reads, as a stream of [`Item`]s. A folder is walked with the
//! `ignore` crate (parallel, .gitignore/.ignore aware, `.git` skipped); a commit is read
//! as its tree (what `git ls-files` lists there); a delta as the tree diff between two
//! commits. Walkers run on their own threads and hand files to the async pipeline
//! through a bounded channel, each file holding permits of a byte budget so memory
//! stays bounded however large the repository is.

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tributary_events::v2::Linguist;
use tributary_events::{RelPath, Sha256Hex};

use super::attributes::Attributes;
use super::filter::Filter;
use super::history::{History, HistoryRequest};
use super::source::{Kind, git_err};
use crate::error::PublishError;
use tributary_events::v2::FileHistory;

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
    pub const ALL: [SkipReason; 5] = [
        SkipReason::TooLarge,
        SkipReason::Symlink,
        SkipReason::Submodule,
        SkipReason::InvalidPath,
        SkipReason::NoStrategy,
    ];

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
    /// What the repository's `.gitattributes` say of it.
    pub linguist: Linguist,
    /// What the repository's history says of it (git sources with history on).
    pub history: Option<FileHistory>,
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

/// Shared by walker threads: where items go and how much may be held.
#[derive(Clone)]
struct Emitter {
    tx: mpsc::Sender<Item>,
    budget: Arc<Semaphore>,
    budget_kib: u32,
    rt: tokio::runtime::Handle,
    max_file_size: u64,
    attributes: Arc<Attributes>,
    history: Arc<History>,
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
                let linguist = self.attributes.linguist(path.as_str());
                let history = self.history.get(path.as_str());
                self.send(Item::File(SourceFile {
                    path,
                    bytes: Bytes::from(bytes),
                    checksum,
                    linguist,
                    history,
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
    history: Option<HistoryRequest>,
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
    let mut emitter = Emitter {
        tx,
        budget: Arc::new(Semaphore::new(budget_kib as usize)),
        budget_kib,
        rt: tokio::runtime::Handle::current(),
        max_file_size,
        attributes: Arc::default(),
        history: Arc::default(),
    };
    let handle = std::thread::Builder::new()
        .name("tributary-walk".into())
        .spawn(move || {
            // the attributes first: every file carries what they say of it
            emitter.attributes = Arc::new(Attributes::load(&kind).unwrap_or_else(|e| {
                tracing::warn!(error = %tributary_runtime::chain(&e), "files go without their .gitattributes overrides");
                Attributes::default()
            }));
            // and the history, folded from tree deltas since the last run's commit
            if let (Some(request), Kind::Commit { repo_dir, commit, .. }) = (&history, &kind) {
                emitter.history = Arc::new(History::load(repo_dir, *commit, request));
            }
            walk(kind, &filter, &emitter)
        })
        .expect("spawn walker thread");
    (rx, handle)
}

/// Walks what `kind` names, handing items to `emitter`.
fn walk(kind: Kind, filter: &Filter, emitter: &Emitter) -> Result<(), PublishError> {
    match kind {
        Kind::Folder { root } => walk_folder(&root, filter, emitter),
        Kind::Commit {
            repo_dir,
            commit,
            base: Some(base),
            ..
        } => walk_delta(&repo_dir, base, commit, filter, emitter, false),
        Kind::Commit {
            repo_dir,
            commit,
            base: None,
            replaced,
        } => walk_commit(&repo_dir, commit, filter, emitter).and_then(|()| match replaced {
            // what the replaced history had and the new one has not
            Some(old) => walk_delta(&repo_dir, old, commit, filter, emitter, true),
            None => Ok(()),
        }),
    }
}

/// How every walk of a folder sees it (the walk, its count, its `.gitattributes`):
/// hidden files included, `.gitignore`/`.ignore` obeyed (not the user's global
/// excludes), `.git` skipped, links not followed.
pub fn folder_walker(root: &Path) -> ignore::WalkBuilder {
    let mut b = ignore::WalkBuilder::new(root);
    b.hidden(false)
        .parents(true)
        .ignore(true)
        .git_ignore(true)
        .git_exclude(true)
        .git_global(false)
        .require_git(false)
        .follow_links(false)
        .filter_entry(|e| e.file_name() != ".git");
    b
}

fn walk_folder(root: &Path, filter: &Filter, out: &Emitter) -> Result<(), PublishError> {
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(8);
    let walker = folder_walker(root).threads(threads).build_parallel();
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
