//! The git fetcher: reads one file of one commit from a remote, through a cache of bare
//! repositories (one per remote URL, evicted least-recently-used by size). It fetches
//! only the wanted commit (shallow, by SHA), reads the blob straight from the object
//! database — never a worktree, never a symlink — and only from allowlisted URLs.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use lru::LruCache;
use sha2::{Digest, Sha256};
use tributary_events::RelPath;

use crate::error::ContentError;

mod auth;
pub mod known_hosts;
mod read;

pub use auth::{
    CredentialBinding, CredentialBindings, GitAuth, GitSecret, HostKeyNote, HostKeys, callbacks,
    classify, is_name, load_known_hosts, resolve_secret, token_user,
};

/// How the fetcher may reach remotes and how much it may keep.
#[derive(Debug, Clone)]
pub struct GitConfig {
    pub cache_dir: PathBuf,
    pub max_bytes: u64,
    pub clone_timeout: Duration,
    /// Allowed URL schemes (`https`, `http`, `git`, `ssh`); `file` only if listed.
    pub allowed_schemes: Vec<String>,
    /// Allowed hosts; empty means any host (schemes still apply).
    pub allowed_hosts: Vec<String>,
    /// File reads at once (design default 10).
    pub max_concurrent_reads: usize,
    /// The credentials an event may name, each bound to the hosts it may be sent to.
    /// An event that names anything else, or a bound credential for another host, is
    /// refused: nothing is resolved, nothing is sent.
    pub credentials: CredentialBindings,
    /// How SSH servers' host keys are checked.
    pub host_keys: HostKeys,
}

/// Fetches files of commits.
#[derive(Debug)]
pub struct GitFetcher {
    cfg: GitConfig,
    repos: Mutex<Repos>,
    /// Open handles and commit indexes, for reads from the cache.
    readers: Arc<read::Readers>,
    reads: tokio::sync::Semaphore,
}

#[derive(Debug)]
struct Repos {
    lru: LruCache<String, u64>,
    bytes: u64,
    locks: HashMap<String, Arc<tokio::sync::Mutex<()>>>,
}

/// Splits `scheme://[user@]host[:port]/path` (or scp-like `user@host:path`, which is
/// ssh) into scheme and host.
pub fn scheme_and_host(url: &str) -> Option<(String, String)> {
    if let Some((scheme, rest)) = url.split_once("://") {
        let authority = rest.split('/').next().unwrap_or("");
        let host_port = authority.rsplit('@').next().unwrap_or(authority);
        let host = if let Some(v6) = host_port.strip_prefix('[') {
            v6.split(']').next().unwrap_or("")
        } else {
            host_port.split(':').next().unwrap_or("")
        };
        return Some((scheme.to_ascii_lowercase(), host.to_ascii_lowercase()));
    }
    let (userhost, _) = url.split_once(':')?;
    let host = userhost.rsplit('@').next().unwrap_or(userhost);
    (!host.is_empty() && !host.contains('/')).then(|| ("ssh".to_owned(), host.to_ascii_lowercase()))
}

impl GitFetcher {
    pub fn new(cfg: GitConfig) -> Result<Self, ContentError> {
        std::fs::create_dir_all(&cfg.cache_dir).map_err(|source| ContentError::Io {
            path: cfg.cache_dir.display().to_string(),
            source,
        })?;
        let reads = tokio::sync::Semaphore::new(cfg.max_concurrent_reads.max(1));
        let fetcher = Self {
            cfg,
            repos: Mutex::new(Repos {
                lru: LruCache::unbounded(),
                bytes: 0,
                locks: HashMap::new(),
            }),
            readers: Arc::default(),
            reads,
        };
        // Index repositories kept from earlier runs.
        if let Ok(dir) = std::fs::read_dir(&fetcher.cfg.cache_dir) {
            let mut repos = fetcher.lock();
            for e in dir.flatten() {
                let path = e.path();
                if let Ok(url) = std::fs::read_to_string(path.join("tributary-url")) {
                    let size = dir_size(&path);
                    repos.lru.put(url, size);
                    repos.bytes += size;
                }
            }
        }
        Ok(fetcher)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Repos> {
        self.repos
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Checks a URL against the allowlist. `ext::` transports, `-`-prefixed hosts and
    /// `file` (unless allowed) are always refused.
    pub fn check_url(&self, url: &str) -> Result<(), ContentError> {
        let forbid = |why| {
            Err(ContentError::GitForbidden {
                url: url.to_owned(),
                why,
            })
        };
        if url.starts_with("ext::") || url.contains("::") {
            return forbid("transport helpers (ext::) are never allowed");
        }
        let Some((scheme, host)) = scheme_and_host(url) else {
            return forbid("not a URL");
        };
        if host.starts_with('-') {
            return forbid("host starts with '-'");
        }
        if !self
            .cfg
            .allowed_schemes
            .iter()
            .any(|s| s.eq_ignore_ascii_case(&scheme))
        {
            return forbid("scheme not allowed");
        }
        if scheme != "file" && host.is_empty() {
            return forbid("no host");
        }
        if !self.cfg.allowed_hosts.is_empty()
            && !self
                .cfg
                .allowed_hosts
                .iter()
                .any(|h| h.eq_ignore_ascii_case(&host))
        {
            return forbid("host not allowed");
        }
        Ok(())
    }

    fn repo_dir(&self, url: &str) -> PathBuf {
        let digest = Sha256::digest(url.as_bytes());
        self.cfg.cache_dir.join(hex::encode(&digest[..12]))
    }

    /// The bytes of `path` at `commit` in the repository at `url`, fetched with the
    /// configured credential an event names, if any ([`CredentialBindings::bind`]).
    pub async fn read(
        &self,
        url: &str,
        commit: &str,
        path: &RelPath,
        credential: Option<&str>,
    ) -> Result<Bytes, ContentError> {
        self.check_url(url)?;
        let auth = GitAuth {
            secret: self.cfg.credentials.bind(credential, url)?.cloned(),
            host_keys: self.cfg.host_keys.clone(),
        };
        let _permit = self
            .reads
            .acquire()
            .await
            .expect("semaphore is never closed");
        let dir = self.repo_dir(url);
        let io_err = |e: tokio::task::JoinError| ContentError::Io {
            path: dir.display().to_string(),
            source: std::io::Error::other(e),
        };
        let args = (
            dir.clone(),
            url.to_owned(),
            commit.to_owned(),
            path.as_str().to_owned(),
        );
        // Fast path, no lock: the commit is already in the clone cache. Each thread
        // keeps its own handles (libgit2's are not shared between threads).
        let a = args.clone();
        let readers = self.readers.clone();
        if let Some(bytes) =
            tokio::task::spawn_blocking(move || readers.read(&a.0, &a.1, &a.2, &a.3))
                .await
                .map_err(io_err)??
        {
            self.touch(url, &dir, false);
            return Ok(bytes);
        }
        // Slow path: one fetch per remote at a time; whoever waited re-checks first.
        let lock = {
            let mut repos = self.lock();
            repos.locks.entry(url.to_owned()).or_default().clone()
        };
        let _guard = lock.lock().await;
        let timeout = self.cfg.clone_timeout;
        let readers = self.readers.clone();
        let fetch_and_read = move |args: (PathBuf, String, String, String)| {
            let (dir, url, commit, path) = &args;
            if let Some(bytes) = readers.read(dir, url, commit, path)? {
                return Ok((bytes, false));
            }
            fetch(dir, url, commit, timeout, &auth)?;
            readers.fetched();
            let bytes =
                readers
                    .read(dir, url, commit, path)?
                    .ok_or_else(|| ContentError::GitMissing {
                        url: url.clone(),
                        commit: commit.clone(),
                        what: format!("commit {commit}"),
                    })?;
            Ok::<_, ContentError>((bytes, true))
        };
        let first = {
            let (f, a) = (fetch_and_read.clone(), args.clone());
            tokio::task::spawn_blocking(move || f(a))
                .await
                .map_err(io_err)?
        };
        let (bytes, fetched) = match first {
            // the cache's disk is full: make room from the other repositories, once
            Err(e) if e.is_local() && self.evict_all_but(url) > 0 => {
                tokio::task::spawn_blocking(move || fetch_and_read(args))
                    .await
                    .map_err(io_err)??
            }
            other => other?,
        };
        self.touch(url, &dir, fetched);
        Ok(bytes)
    }

    /// Evicts every cached repository but `url`'s; how many went.
    fn evict_all_but(&self, url: &str) -> usize {
        let mut repos = self.lock();
        let victims: Vec<String> = repos
            .lru
            .iter()
            .map(|(u, _)| u.clone())
            .filter(|u| u != url)
            .collect();
        for victim in &victims {
            if let Some(size) = repos.lru.pop(victim) {
                repos.bytes -= size;
            }
            let _ = std::fs::remove_dir_all(self.repo_dir(victim));
        }
        if !victims.is_empty() {
            self.readers.evicted();
        }
        victims.len()
    }

    /// Marks a repository used; after a fetch, re-measures it and evicts others.
    fn touch(&self, url: &str, dir: &Path, fetched: bool) {
        let mut repos = self.lock();
        if fetched || !repos.lru.contains(url) {
            let size = dir_size(dir);
            if let Some(old) = repos.lru.put(url.to_owned(), size) {
                repos.bytes -= old;
            }
            repos.bytes += size;
        } else {
            repos.lru.get(url);
        }
        let mut evicted = false;
        while repos.bytes > self.cfg.max_bytes && repos.lru.len() > 1 {
            let Some((victim, size)) = repos.lru.pop_lru() else {
                break;
            };
            repos.bytes -= size;
            let _ = std::fs::remove_dir_all(self.repo_dir(&victim));
            evicted = true;
        }
        if evicted {
            self.readers.evicted();
        }
    }

    /// (repositories, bytes) held now.
    pub fn usage(&self) -> (u64, u64) {
        let repos = self.lock();
        (repos.lru.len() as u64, repos.bytes)
    }
}

/// Sets libgit2's process-wide network timeouts: how long connecting may take, and how
/// long any one wait for data may last — so a server that accepts and then goes silent
/// fails the operation instead of holding it until the connection closes. Covers every
/// libgit2 transport Tributary uses (`git://`, `http(s)://`).
///
/// # Safety
/// libgit2 keeps these in a C global without synchronization: call this before any
/// other thread exists (first thing in `main`), never while git operations may run.
#[allow(unsafe_code)]
pub unsafe fn set_network_timeouts(connect: Duration, io: Duration) {
    let ms = |d: Duration| {
        std::os::raw::c_int::try_from(d.as_millis().max(1)).unwrap_or(std::os::raw::c_int::MAX)
    };
    // SAFETY: the caller guarantees no other thread runs (see above); both calls only
    // store an integer in libgit2's option table and cannot fail for these options.
    unsafe {
        let _ = git2::opts::set_server_connect_timeout_in_milliseconds(ms(connect));
        let _ = git2::opts::set_server_timeout_in_milliseconds(ms(io));
    }
}

/// How much of a repository's pack files libgit2 keeps mapped at once, process-wide
/// (libgit2's default on 64-bit machines is 8 GiB: reading every blob of a large
/// repository kept all of its packs resident, so memory grew with the repository).
pub const GIT_MAPPED_PACK_BYTES: usize = 32 << 20;
/// The size of one mapped window of a pack (default 1 GiB on 64-bit machines): smaller
/// windows let the limit above evict at a finer grain.
pub const GIT_PACK_WINDOW_BYTES: usize = 8 << 20;
/// libgit2's cache of parsed commits and trees, process-wide (default 256 MiB).
pub const GIT_OBJECT_CACHE_BYTES: isize = 16 << 20;

/// Bounds libgit2's process-wide memory: mapped pack windows and the object cache
/// ([`GIT_MAPPED_PACK_BYTES`], [`GIT_PACK_WINDOW_BYTES`], [`GIT_OBJECT_CACHE_BYTES`]).
///
/// # Safety
/// As [`set_network_timeouts`]: libgit2 keeps these in C globals without
/// synchronization; call before any other thread exists.
#[allow(unsafe_code)]
pub unsafe fn set_memory_limits() {
    // SAFETY: the caller guarantees no other thread runs; each call stores a number in
    // libgit2's option table and cannot fail for these options.
    unsafe {
        let _ = git2::opts::set_mwindow_size(GIT_PACK_WINDOW_BYTES);
        let _ = git2::opts::set_mwindow_mapped_limit(GIT_MAPPED_PACK_BYTES);
        let _ = git2::opts::set_cache_max_size(GIT_OBJECT_CACHE_BYTES);
    }
}

/// Lists a remote's references (what `git ls-remote` does) with the given credentials:
/// the remote is reachable and accepts them. Blocking; bounded by the process's git
/// network timeouts. Returns the number of references.
pub fn ls_remote(url: &str, auth: &GitAuth) -> Result<usize, ContentError> {
    let (cb, note) = callbacks(url, auth)?;
    let mut remote = git2::Remote::create_detached(url).map_err(|e| classify(url, e, &note))?;
    let conn = remote
        .connect_auth(git2::Direction::Fetch, Some(cb), None)
        .map_err(|e| classify(url, e, &note))?;
    conn.list()
        .map(<[git2::RemoteHead<'_>]>::len)
        .map_err(|e| classify(url, e, &note))
}

fn dir_size(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            match e.metadata() {
                Ok(m) if m.is_dir() => stack.push(e.path()),
                Ok(m) => total += m.len(),
                Err(_) => {}
            }
        }
    }
    total
}

/// Fetches one commit (shallow, by SHA) into the cached repository, creating it.
fn fetch(
    dir: &Path,
    url: &str,
    commit: &str,
    timeout: Duration,
    auth: &GitAuth,
) -> Result<(), ContentError> {
    let (mut cb, note) = callbacks(url, auth)?;
    // a full disk is this machine's fault, whatever libgit2 was doing
    let unavailable = |source: git2::Error| {
        if source.message().contains("No space left on device") {
            ContentError::LocalSpace {
                what: format!("the git clone cache ({})", dir.display()),
                source: Box::new(source),
            }
        } else {
            classify(url, source, &note)
        }
    };
    let repo = match git2::Repository::open_bare(dir) {
        Ok(r) => r,
        Err(_) => {
            let r = git2::Repository::init_bare(dir).map_err(unavailable)?;
            std::fs::write(dir.join("tributary-url"), url).map_err(|source| ContentError::Io {
                path: dir.display().to_string(),
                source,
            })?;
            r
        }
    };
    let deadline = Instant::now() + timeout;
    // libgit2 has no fetch timeout: abort from the progress callback past the deadline.
    cb.transfer_progress(move |_| Instant::now() < deadline);
    let mut fo = git2::FetchOptions::new();
    fo.remote_callbacks(cb);
    fo.depth(1);
    let mut remote = repo.remote_anonymous(url).map_err(unavailable)?;
    match remote.fetch(&[commit], Some(&mut fo), None) {
        Ok(()) => Ok(()),
        // A server that does not have the commit answers "not our ref".
        Err(e) if e.message().contains("not our ref") => Err(ContentError::GitMissing {
            url: url.to_owned(),
            commit: commit.to_owned(),
            what: format!("commit {commit}"),
        }),
        // refused credentials or host key (final), or the remote failing (retried)
        Err(e) => Err(unavailable(e)),
    }
}

#[cfg(test)]
mod tests;
