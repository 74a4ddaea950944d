//! The analysis cache: what the analysers computed for a file's bytes, kept on the
//! consumer's disk so the same blob is never analysed twice — an unchanged repository
//! re-indexed, a fork, a vendored copy, a second branch all cost a lookup per file.
//!
//! Keyed by SHA-256 of (the content's SHA-256, [`tributary_intel::Prepared::memo_key`]):
//! the content checksum is the one the resolver has just verified against the bytes,
//! and the memo key names everything else the result depends on (the analysis revision,
//! the limits, the language, the line counter's grammar, whether the file is outlined,
//! whether its name is a license file's). The path-dependent rest of a document (flags,
//! language, method) is recomputed for every file, so a hit is right for any path.
//!
//! Beside those, a file's whole analysis ([`Recalled`]: what its document said) is kept
//! under (project, path, the content's SHA-256, [`tributary_intel::Options::revision_key`])
//! once its bytes were verified and analysed. The same file in a later event — an
//! unchanged repository re-indexed — is then neither fetched nor analysed: its document
//! is rebuilt from what was kept. Its bytes are not verified again; they were when the
//! entry was made, and an entry only ever repeats a document this project already had
//! on the output topic, so an event that names a checksum without the bytes learns
//! nothing new.
//!
//! Stored in [redb] (an embedded, crash-safe B-tree store in one file): table `results`
//! holds each serialized [`Computed`], table `recency` its last use. The LRU order and the
//! byte total live in memory, rebuilt from `recency` when the cache opens; lookups read
//! the file directly, while inserts, last-use updates and evictions go through a bounded
//! queue to one writer thread that commits them in batches (a full queue drops the
//! update: a cache may forget, it must not slow the partition workers). A database made
//! by another [`tributary_intel::ANALYSIS_REVISION`] is emptied when opened.
//!
//! [redb]: https://docs.rs/redb

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::time::{Duration, Instant};

use redb::{ReadableDatabase as _, ReadableTable as _, TableDefinition};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use tributary_events::Sha256Hex;
use tributary_events::intelligence::{
    Complexity, Flags, License, Lines, SecretFinding, Symbol, TokenEstimate,
};
use tributary_intel::Computed;

use crate::internal_events::{AnalysisCacheLookup, AnalysisCacheUpdated};

/// Where the cache lives and how large it may grow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnalysisCacheConfig {
    /// The folder of the database file (`analysis.redb`).
    pub dir: PathBuf,
    /// Budget of the results kept (their serialized size plus a fixed overhead per
    /// entry); the least recently used go first. The file itself is larger by the
    /// B-tree's pages and the space freed by evictions, which redb reuses.
    pub max_bytes: u64,
    /// Memory redb may use for its page cache.
    pub page_cache_bytes: usize,
    /// Entries kept, at most (the index of every entry is held in memory); the least
    /// recently used go first.
    pub max_entries: usize,
}

/// The file of the database, in [`AnalysisCacheConfig::dir`].
pub const FILE_NAME: &str = "analysis.redb";
/// Bytes counted per entry besides its result: key, last-use record, B-tree overhead.
const ENTRY_OVERHEAD_BYTES: u64 = 96;
/// Updates queued for the writer, at most.
const QUEUE: usize = 8192;
/// Updates committed in one write transaction, at most.
const BATCH: usize = 2048;
/// The format of this file (its tables and values); with the analysis revision, what a
/// database must match to be used as it is.
const FORMAT: u64 = 1;

/// A key of the cache: a SHA-256 ([`key`], [`file_key`]).
pub type Key = [u8; 32];
const RESULTS: TableDefinition<'_, Key, &[u8]> = TableDefinition::new("results");
const RECENCY: TableDefinition<'_, Key, u64> = TableDefinition::new("recency");
const META: TableDefinition<'_, &str, u64> = TableDefinition::new("meta");

/// Why the cache could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum AnalysisCacheError {
    #[error(
        "analysis cache {path}: in use by another process (give each consumer its own --analysis-cache-dir)"
    )]
    InUse { path: String },
    #[error("analysis cache {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("analysis cache {path}: {source}")]
    Store {
        path: String,
        #[source]
        source: redb::Error,
    },
}

/// A file's whole analysis as its document carried it: what a document is rebuilt from
/// when the same file (project, path, bytes, analysis revision and limits) comes again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recalled {
    pub size: u64,
    pub language: Option<String>,
    pub language_method: Option<String>,
    pub lines: Lines,
    pub complexity: Option<Complexity>,
    pub symbols: Vec<Symbol>,
    pub license: Option<License>,
    pub secrets: Vec<SecretFinding>,
    pub imports: Vec<String>,
    pub tokens: Option<TokenEstimate>,
    pub flags: Flags,
    #[serde(default)]
    pub flag_reasons: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub dependencies: Vec<tributary_events::intelligence::Dependency>,
    #[serde(default)]
    pub unique_lines: Option<tributary_events::intelligence::UniqueLines>,
    pub diagnostics: Vec<String>,
}

/// What is kept under a key (the `entry` label of the lookup metric).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    /// A [`Computed`] result, by content and memo key.
    Computed,
    /// A [`Recalled`] file, by project, path, content and revision.
    File,
}

impl Entry {
    pub const ALL: [Entry; 2] = [Entry::Computed, Entry::File];

    pub fn as_str(self) -> &'static str {
        match self {
            Entry::Computed => "computed",
            Entry::File => "file",
        }
    }
}

/// What a lookup found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    Hit,
    Miss,
    /// An entry was there but did not decode; it was removed and counts as a miss.
    Corrupt,
}

impl Lookup {
    pub const ALL: [Lookup; 3] = [Lookup::Hit, Lookup::Miss, Lookup::Corrupt];

    pub fn as_str(self) -> &'static str {
        match self {
            Lookup::Hit => "hit",
            Lookup::Miss => "miss",
            Lookup::Corrupt => "corrupt",
        }
    }
}

enum Update {
    Put(Key, Vec<u8>, u64),
    Touch(Key, u64),
    Remove(Key),
    /// Answered once everything queued before it is committed, durably.
    Flush(mpsc::SyncSender<()>),
    /// Makes what is committed durable (the writer's own, when quiet).
    Sync,
}

struct Recency {
    lru: lru::LruCache<Key, u64>,
    bytes: u64,
}

/// The cache; cheap to share (`Arc`). Blocking: call from the analysis pool's threads.
pub struct AnalysisCache {
    db: Arc<redb::Database>,
    path: PathBuf,
    max_bytes: u64,
    max_entries: usize,
    recency: Mutex<Recency>,
    tick: AtomicU64,
    lookups: AtomicU64,
    hits: AtomicU64,
    recalls: AtomicU64,
    recall_hits: AtomicU64,
    /// `None` only while dropping.
    updates: Option<mpsc::SyncSender<Update>>,
    writer: Option<std::thread::JoinHandle<()>>,
}

impl Drop for AnalysisCache {
    /// Commits what is queued and closes the database (the writer holds it open).
    fn drop(&mut self) {
        self.updates = None;
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

impl std::fmt::Debug for AnalysisCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnalysisCache")
            .field("path", &self.path)
            .field("max_bytes", &self.max_bytes)
            .finish_non_exhaustive()
    }
}

fn store_error(path: &Path) -> impl Fn(redb::Error) -> AnalysisCacheError + '_ {
    move |source| AnalysisCacheError::Store {
        path: path.display().to_string(),
        source,
    }
}

/// The cache key of a result.
pub fn key(content: &Sha256Hex, memo_key: &str) -> Key {
    let mut h = Sha256::new();
    h.update(content.as_bytes());
    h.update([0]);
    h.update(memo_key.as_bytes());
    h.finalize().into()
}

/// The cache key of a file's whole analysis: its project, path and bytes, and the
/// analysers' revision and limits ([`tributary_intel::Options::revision_key`]).
pub fn file_key(project: &str, path: &str, content: &Sha256Hex, revision_key: &str) -> Key {
    let mut h = Sha256::new();
    h.update(b"file\0");
    // lengths first: no choice of names makes two files one key
    for part in [
        project.as_bytes(),
        path.as_bytes(),
        content.as_bytes(),
        revision_key.as_bytes(),
    ] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part);
    }
    h.finalize().into()
}

impl AnalysisCache {
    /// Opens (creating) the cache. A file that is not a usable database (damaged beyond
    /// redb's repair, another format) is replaced by an empty one; one made by another
    /// analysis revision is emptied. Blocking: call once at start-up.
    pub fn open(config: &AnalysisCacheConfig) -> Result<Self, AnalysisCacheError> {
        let dir = &config.dir;
        std::fs::create_dir_all(dir).map_err(|source| AnalysisCacheError::Io {
            path: dir.display().to_string(),
            source,
        })?;
        let path = dir.join(FILE_NAME);
        let db = match Self::create(&path, config.page_cache_bytes) {
            Err(redb::DatabaseError::DatabaseAlreadyOpen) => {
                return Err(AnalysisCacheError::InUse {
                    path: path.display().to_string(),
                });
            }
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "analysis cache unusable; starting an empty one");
                std::fs::remove_file(&path).map_err(|source| AnalysisCacheError::Io {
                    path: path.display().to_string(),
                    source,
                })?;
                Self::create(&path, config.page_cache_bytes)
                    .map_err(|e| store_error(&path)(e.into()))?
            }
            Ok(db) => db,
        };
        let (recency, last_tick) = Self::prepare(&db).map_err(store_error(&path))?;
        let db = Arc::new(db);
        let (updates, rx) = mpsc::sync_channel(QUEUE);
        let writer_db = db.clone();
        let writer = std::thread::Builder::new()
            .name("tributary-analysis-cache".into())
            .spawn(move || write_loop(&writer_db, &rx))
            .map_err(|source| AnalysisCacheError::Io {
                path: path.display().to_string(),
                source,
            })?;
        let cache = Self {
            db,
            path,
            max_bytes: config.max_bytes,
            max_entries: config.max_entries.max(1),
            recency: Mutex::new(recency),
            tick: AtomicU64::new(last_tick + 1),
            lookups: AtomicU64::new(0),
            hits: AtomicU64::new(0),
            recalls: AtomicU64::new(0),
            recall_hits: AtomicU64::new(0),
            updates: Some(updates),
            writer: Some(writer),
        };
        cache.evict_over_budget();
        Ok(cache)
    }

    fn create(path: &Path, page_cache_bytes: usize) -> Result<redb::Database, redb::DatabaseError> {
        redb::Builder::new()
            .set_cache_size(page_cache_bytes)
            .create(path)
    }

    /// Empties a database of another revision or format, then reads the last uses.
    fn prepare(db: &redb::Database) -> Result<(Recency, u64), redb::Error> {
        let wanted = [
            ("format", FORMAT),
            ("revision", u64::from(tributary_intel::ANALYSIS_REVISION)),
        ];
        let txn = db.begin_write()?;
        {
            let mut meta = txn.open_table(META)?;
            let matches = wanted.iter().all(|(k, v)| {
                meta.get(*k)
                    .ok()
                    .flatten()
                    .is_some_and(|got| got.value() == *v)
            });
            if !matches {
                txn.delete_table(RESULTS)?;
                txn.delete_table(RECENCY)?;
                for (k, v) in wanted {
                    meta.insert(k, v)?;
                }
            }
            txn.open_table(RESULTS)?;
            txn.open_table(RECENCY)?;
        }
        txn.commit()?;
        let txn = db.begin_read()?;
        let results = txn.open_table(RESULTS)?;
        let recency = txn.open_table(RECENCY)?;
        let mut found: Vec<(u64, Key, u64)> = Vec::new();
        for row in recency.iter()? {
            let (k, t) = row?;
            let k = k.value();
            if let Some(v) = results.get(k)? {
                found.push((t.value(), k, v.value().len() as u64 + ENTRY_OVERHEAD_BYTES));
            }
        }
        found.sort_unstable_by_key(|(t, _, _)| *t);
        let last = found.last().map_or(0, |(t, _, _)| *t);
        let mut out = Recency {
            lru: lru::LruCache::unbounded(),
            bytes: 0,
        };
        // oldest first, so the least recently used ends up at the LRU end
        for (_, k, size) in found {
            out.lru.put(k, size);
            out.bytes += size;
        }
        Ok((out, last))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Recency> {
        self.recency.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn next_tick(&self) -> u64 {
        self.tick.fetch_add(1, Ordering::Relaxed)
    }

    /// Queues an update; a full queue drops it (counted).
    fn send(&self, update: Update) {
        let Some(updates) = &self.updates else { return };
        if let Err(mpsc::TrySendError::Full(_)) = updates.try_send(update) {
            AnalysisCacheUpdated::Dropped.emit();
        }
    }

    /// The result kept for these bytes and key, if any.
    pub fn get(&self, content: &Sha256Hex, memo_key: &str) -> (Option<Computed>, Lookup) {
        self.lookups.fetch_add(1, Ordering::Relaxed);
        let found = self
            .read(&[key(content, memo_key)], Entry::Computed)
            .pop()
            .expect("one key, one answer");
        if found.1 == Lookup::Hit {
            self.hits.fetch_add(1, Ordering::Relaxed);
        }
        found
    }

    /// The whole analyses kept for these files ([`file_key`]), in order, read in one
    /// transaction.
    pub fn recall_many(&self, keys: &[Key]) -> Vec<Option<Recalled>> {
        self.recalls.fetch_add(keys.len() as u64, Ordering::Relaxed);
        let found: Vec<Option<Recalled>> = self
            .read(keys, Entry::File)
            .into_iter()
            .map(|(value, _)| value)
            .collect();
        let hits = found.iter().filter(|f| f.is_some()).count() as u64;
        self.recall_hits.fetch_add(hits, Ordering::Relaxed);
        found
    }

    /// Whether an entry is kept under `key` (in memory, without reading the file or
    /// counting a lookup).
    pub fn knows(&self, key: &Key) -> bool {
        self.lock().lru.contains(key)
    }

    /// Counts a file lookup answered by [`AnalysisCache::knows`] alone: a miss.
    pub fn recall_missed(&self) {
        self.recalls.fetch_add(1, Ordering::Relaxed);
        AnalysisCacheLookup {
            entry: Entry::File,
            result: Lookup::Miss,
        }
        .emit();
    }

    /// Keeps a file's whole analysis ([`file_key`]); only for bytes that were verified
    /// against the checksum in the key and analysed without running out of time.
    pub fn remember(&self, key: &Key, recalled: &Recalled) {
        if let Ok(value) = serde_json::to_vec(recalled) {
            self.write(*key, value);
        }
    }

    /// Entries by key, in one read transaction (a transaction per entry costs more than
    /// the read); those not known in memory are not read.
    fn read<T: serde::de::DeserializeOwned>(
        &self,
        keys: &[Key],
        entry: Entry,
    ) -> Vec<(Option<T>, Lookup)> {
        let known: Vec<bool> = {
            let mut r = self.lock();
            keys.iter().map(|k| r.lru.get(k).is_some()).collect()
        };
        // opened for the first known key
        let mut open: Option<(redb::ReadOnlyTable<Key, &[u8]>, redb::ReadTransaction)> = None;
        keys.iter()
            .zip(known)
            .map(|(key, known)| {
                if !known {
                    AnalysisCacheLookup {
                        entry,
                        result: Lookup::Miss,
                    }
                    .emit();
                    return (None, Lookup::Miss);
                }
                let mut get = || -> Result<Option<Vec<u8>>, redb::Error> {
                    if open.is_none() {
                        let txn = self.db.begin_read()?;
                        open = Some((txn.open_table(RESULTS)?, txn));
                    }
                    let (table, _) = open.as_ref().expect("opened above");
                    Ok(table.get(*key)?.map(|v| v.value().to_vec()))
                };
                self.decode(*key, get(), entry)
            })
            .collect()
    }

    /// What a read found, decoded; a damaged entry is removed.
    fn decode<T: serde::de::DeserializeOwned>(
        &self,
        key: Key,
        read: Result<Option<Vec<u8>>, redb::Error>,
        entry: Entry,
    ) -> (Option<T>, Lookup) {
        let (found, lookup) = match read {
            Ok(Some(bytes)) => match serde_json::from_slice::<T>(&bytes) {
                Ok(value) => (Some(value), Lookup::Hit),
                Err(_) => {
                    self.forget(&key);
                    (None, Lookup::Corrupt)
                }
            },
            // not written yet (still queued) or gone
            Ok(None) => (None, Lookup::Miss),
            Err(e) => {
                tracing::warn!(error = %e, "analysis cache read failed");
                self.forget(&key);
                (None, Lookup::Corrupt)
            }
        };
        if lookup == Lookup::Hit {
            self.send(Update::Touch(key, self.next_tick()));
        }
        AnalysisCacheLookup {
            entry,
            result: lookup,
        }
        .emit();
        (found, lookup)
    }

    /// Keeps a result (one computed from bytes whose checksum is `content`, verified).
    pub fn put(&self, content: &Sha256Hex, memo_key: &str, computed: &Computed) {
        if !computed.cacheable {
            return;
        }
        let Ok(value) = serde_json::to_vec(computed) else {
            return;
        };
        self.write(key(content, memo_key), value);
    }

    fn write(&self, key: Key, value: Vec<u8>) {
        let size = value.len() as u64 + ENTRY_OVERHEAD_BYTES;
        if size > self.max_bytes {
            return;
        }
        {
            let mut r = self.lock();
            if let Some(old) = r.lru.put(key, size) {
                r.bytes -= old;
            }
            r.bytes += size;
        }
        self.send(Update::Put(key, value, self.next_tick()));
        self.evict_over_budget();
    }

    fn forget(&self, key: &Key) {
        let mut r = self.lock();
        if let Some(size) = r.lru.pop(key) {
            r.bytes -= size;
        }
        drop(r);
        self.send(Update::Remove(*key));
    }

    fn evict_over_budget(&self) {
        let mut evicted = Vec::new();
        let (entries, bytes) = {
            let mut r = self.lock();
            while r.bytes > self.max_bytes || r.lru.len() > self.max_entries {
                let Some((k, size)) = r.lru.pop_lru() else {
                    break;
                };
                r.bytes -= size;
                evicted.push(k);
            }
            (r.lru.len() as u64, r.bytes)
        };
        let n = evicted.len() as u64;
        for k in evicted {
            self.send(Update::Remove(k));
        }
        AnalysisCacheUpdated::Usage {
            entries,
            bytes,
            evicted: n,
        }
        .emit();
    }

    /// Lookups and hits of [`Computed`] results since the cache was opened.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.lookups.load(Ordering::Relaxed),
            self.hits.load(Ordering::Relaxed),
        )
    }

    /// Lookups and hits of whole files ([`Recalled`]) since the cache was opened.
    pub fn recall_counts(&self) -> (u64, u64) {
        (
            self.recalls.load(Ordering::Relaxed),
            self.recall_hits.load(Ordering::Relaxed),
        )
    }

    /// Entries and bytes kept (as counted against the budget).
    pub fn usage(&self) -> (u64, u64) {
        let r = self.lock();
        (r.lru.len() as u64, r.bytes)
    }

    /// Waits until every update queued so far is committed (at most `timeout`).
    pub fn flush(&self, timeout: Duration) -> bool {
        let (tx, rx) = mpsc::sync_channel(1);
        let Some(updates) = &self.updates else {
            return false;
        };
        if updates.send(Update::Flush(tx)).is_err() {
            return false;
        }
        rx.recv_timeout(timeout).is_ok()
    }
}

/// The writer: commits queued updates in batches until the cache is dropped.
fn write_loop(db: &redb::Database, rx: &mpsc::Receiver<Update>) {
    let mut last_durable = Instant::now();
    let mut dirty = false;
    loop {
        // wakes up to make what is committed durable once things are quiet
        let first = match rx.recv_timeout(DURABLE_EVERY) {
            Ok(u) => u,
            Err(mpsc::RecvTimeoutError::Timeout) if dirty => Update::Sync,
            Err(mpsc::RecvTimeoutError::Timeout) => continue,
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                if dirty {
                    commit(db, vec![Update::Sync], true);
                }
                return;
            }
        };
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(u) => batch.push(u),
                Err(_) => break,
            }
        }
        // Most commits are not synced to disk (an fsync per batch held lookups back
        // behind it); one every DURABLE_EVERY is, and a flush's is. A crash loses at
        // most the last seconds of updates: a cache may forget.
        let durable = last_durable.elapsed() >= DURABLE_EVERY
            || batch
                .iter()
                .any(|u| matches!(u, Update::Flush(_) | Update::Sync));
        commit(db, batch, durable);
        if durable {
            last_durable = Instant::now();
        }
        dirty = !durable;
    }
}

/// How often the writer makes its commits durable, at least.
const DURABLE_EVERY: Duration = Duration::from_secs(5);

/// Commits one batch of updates and answers the flushes among them.
fn commit(db: &redb::Database, batch: Vec<Update>, durable: bool) {
    let mut flushed = Vec::new();
    let result = (|| -> Result<(), redb::Error> {
        let mut txn = db.begin_write()?;
        if !durable {
            txn.set_durability(redb::Durability::None)?;
        }
        {
            let mut results = txn.open_table(RESULTS)?;
            let mut recency = txn.open_table(RECENCY)?;
            for update in batch {
                match update {
                    Update::Put(k, v, t) => {
                        results.insert(k, v.as_slice())?;
                        recency.insert(k, t)?;
                    }
                    Update::Touch(k, t) => {
                        if results.get(k)?.is_some() {
                            recency.insert(k, t)?;
                        }
                    }
                    Update::Remove(k) => {
                        results.remove(k)?;
                        recency.remove(k)?;
                    }
                    Update::Flush(done) => flushed.push(done),
                    Update::Sync => {}
                }
            }
        }
        txn.commit()?;
        Ok(())
    })();
    if let Err(e) = result {
        AnalysisCacheUpdated::WriteFailed { error: &e }.emit();
    }
    for done in flushed {
        let _ = done.send(());
    }
}

#[cfg(test)]
mod tests;
