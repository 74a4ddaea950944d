//! Reading files of cached commits without paying for the repository and the commit
//! tree on every file: each thread keeps its open repository handles (libgit2's handles
//! are not shareable between threads, and opening one reads its config, refs and pack
//! indexes), and one index per commit maps every path to its blob — built by one walk
//! of the commit's tree, shared by all threads — so a read is a map lookup and the
//! blob's inflation. A commit tree walked per file inflated every tree object on the
//! path again (a root folder of thousands of entries each time).

use std::cell::RefCell;
use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use lru::LruCache;

use crate::error::ContentError;

/// Open repositories kept per thread.
const HANDLES_PER_THREAD: usize = 4;
/// Paths indexed across the commits kept, at most (about 100 bytes each): the least
/// recently used commits go first. One commit is kept whatever its size.
const MAX_INDEXED_PATHS: usize = 2_000_000;

/// What a commit holds at a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Entry {
    /// A file (a blob that is not a symlink).
    File(git2::Oid),
    /// A symlink, submodule or folder: never read.
    NotRegular,
}

/// Every path of one commit.
#[derive(Debug)]
pub(super) struct CommitIndex {
    entries: HashMap<Box<str>, Entry>,
}

/// Indexes of the commits read lately, and the generation of the clone cache (bumped
/// whenever a cached repository is fetched into or removed, so handles opened before
/// are not trusted after).
#[derive(Debug)]
pub(super) struct Readers {
    commits: Mutex<Commits>,
    generation: AtomicU64,
}

#[derive(Debug)]
struct Commits {
    lru: LruCache<(PathBuf, git2::Oid), Arc<CommitIndex>>,
    paths: usize,
}

thread_local! {
    /// This thread's open repositories: folder → (generation opened at, handle).
    static HANDLES: RefCell<LruCache<PathBuf, (u64, git2::Repository)>> = RefCell::new(
        LruCache::new(NonZeroUsize::new(HANDLES_PER_THREAD).expect("non-zero")),
    );
}

impl Default for Readers {
    fn default() -> Self {
        Self {
            commits: Mutex::new(Commits {
                lru: LruCache::unbounded(),
                paths: 0,
            }),
            generation: AtomicU64::new(0),
        }
    }
}

impl Readers {
    /// Handles opened before a fetch are reopened (they would see its pack only after
    /// a miss).
    pub(super) fn fetched(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// Forgets every open handle and index (after cached repositories were removed:
    /// their files stay on disk while a handle holds them open).
    pub(super) fn evicted(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        let mut c = self.commits.lock().unwrap_or_else(PoisonError::into_inner);
        c.lru.clear();
        c.paths = 0;
    }

    /// The file at `path` in `commit`, if the commit is in the cached repository at
    /// `dir`. Blocking.
    pub(super) fn read(
        &self,
        dir: &Path,
        url: &str,
        commit: &str,
        path: &str,
    ) -> Result<Option<Bytes>, ContentError> {
        let missing = |what: String| ContentError::GitMissing {
            url: url.to_owned(),
            commit: commit.to_owned(),
            what,
        };
        let oid = git2::Oid::from_str(commit).map_err(|_| missing(format!("commit {commit:?}")))?;
        let generation = self.generation.load(Ordering::Acquire);
        HANDLES.with(|handles| {
            let mut handles = handles.borrow_mut();
            let fresh = matches!(handles.get(dir), Some((g, _)) if *g == generation);
            if !fresh {
                let Ok(repo) = git2::Repository::open_bare(dir) else {
                    handles.pop(dir);
                    return Ok(None);
                };
                handles.put(dir.to_owned(), (generation, repo));
            }
            let (_, repo) = handles.get(dir).expect("just checked or put");
            let Some(index) = self.index(repo, dir, oid, url)? else {
                return Ok(None);
            };
            match index.entries.get(path) {
                None => Err(missing(format!("path {path:?}"))),
                // Never a symlink (it could point anywhere), never a submodule or a tree.
                Some(Entry::NotRegular) => Err(missing(format!("regular file {path:?}"))),
                Some(Entry::File(id)) => {
                    let blob =
                        repo.find_blob(*id)
                            .map_err(|source| ContentError::GitUnavailable {
                                url: url.to_owned(),
                                source,
                            })?;
                    Ok(Some(Bytes::copy_from_slice(blob.content())))
                }
            }
        })
    }

    /// The commit's index, built on first use; `None` when the commit is not here.
    fn index(
        &self,
        repo: &git2::Repository,
        dir: &Path,
        oid: git2::Oid,
        url: &str,
    ) -> Result<Option<Arc<CommitIndex>>, ContentError> {
        let key = (dir.to_owned(), oid);
        if let Some(hit) = self
            .commits
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .lru
            .get(&key)
        {
            return Ok(Some(hit.clone()));
        }
        let Ok(c) = repo.find_commit(oid) else {
            return Ok(None);
        };
        let unavailable = |source| ContentError::GitUnavailable {
            url: url.to_owned(),
            source,
        };
        let tree = c.tree().map_err(unavailable)?;
        let index = Arc::new(CommitIndex::of(&tree).map_err(unavailable)?);
        let mut commits = self.commits.lock().unwrap_or_else(PoisonError::into_inner);
        // two threads may have built it at once: keep the first
        if let Some(hit) = commits.lru.get(&key) {
            return Ok(Some(hit.clone()));
        }
        commits.paths += index.entries.len();
        commits.lru.put(key, index.clone());
        while commits.paths > MAX_INDEXED_PATHS && commits.lru.len() > 1 {
            if let Some((_, old)) = commits.lru.pop_lru() {
                commits.paths -= old.entries.len();
            }
        }
        Ok(Some(index))
    }
}

impl CommitIndex {
    /// One walk of the tree. Names that are not UTF-8 are left out: no event can name
    /// them (paths on the wire are UTF-8).
    fn of(tree: &git2::Tree<'_>) -> Result<Self, git2::Error> {
        let mut entries = HashMap::new();
        tree.walk(git2::TreeWalkMode::PreOrder, |root, e| {
            if let Ok(name) = e.name() {
                let entry = match e.kind() {
                    Some(git2::ObjectType::Blob) if e.filemode() != 0o120000 => Entry::File(e.id()),
                    _ => Entry::NotRegular,
                };
                entries.insert(format!("{root}{name}").into_boxed_str(), entry);
            }
            git2::TreeWalkResult::Ok
        })?;
        Ok(Self { entries })
    }
}

#[cfg(test)]
mod tests;
