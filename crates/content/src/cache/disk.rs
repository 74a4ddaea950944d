use std::path::{Path, PathBuf};
use std::sync::Mutex;

use bytes::Bytes;
use lru::LruCache;
use tributary_events::Sha256Hex;

use super::Evicted;
use crate::error::ContentError;

/// A disk LRU under one folder: `<dir>/<hh>/<sha256>`, bounded by total file size.
/// Writes are atomic (temp file + rename); the index is rebuilt from the folder on open
/// (recency from modification times), so the cache survives restarts.
#[derive(Debug)]
pub struct DiskCache {
    dir: PathBuf,
    max_bytes: u64,
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    lru: LruCache<Sha256Hex, u64>,
    bytes: u64,
}

/// The result of a disk lookup.
#[derive(Debug)]
pub enum DiskLookup {
    Hit(Bytes),
    Miss,
    /// The entry's bytes no longer hash to its key; it was removed.
    Corrupt,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ContentError + '_ {
    move |source| ContentError::Io {
        path: path.display().to_string(),
        source,
    }
}

impl DiskCache {
    /// Opens (creating) the cache folder and indexes what is already there. Blocking:
    /// call once at start-up.
    pub fn open(dir: impl Into<PathBuf>, max_bytes: u64) -> Result<Self, ContentError> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let mut found: Vec<(std::time::SystemTime, Sha256Hex, u64)> = Vec::new();
        for shard in std::fs::read_dir(&dir).map_err(io(&dir))? {
            let shard = shard.map_err(io(&dir))?.path();
            if !shard.is_dir() {
                continue;
            }
            for entry in std::fs::read_dir(&shard).map_err(io(&shard))? {
                let entry = entry.map_err(io(&shard))?;
                let path = entry.path();
                let name = entry.file_name();
                let Some(key) = name.to_str().and_then(|n| n.parse::<Sha256Hex>().ok()) else {
                    // leftovers of interrupted writes, or strangers: not ours to keep
                    let _ = std::fs::remove_file(&path);
                    continue;
                };
                let meta = entry.metadata().map_err(io(&path))?;
                found.push((
                    meta.modified().unwrap_or(std::time::UNIX_EPOCH),
                    key,
                    meta.len(),
                ));
            }
        }
        found.sort_by_key(|(t, _, _)| *t);
        let cache = Self {
            dir,
            max_bytes,
            inner: Mutex::new(Inner {
                lru: LruCache::unbounded(),
                bytes: 0,
            }),
        };
        {
            let mut inner = cache.lock();
            for (_, key, size) in found {
                inner.lru.put(key, size);
                inner.bytes += size;
            }
        }
        let over = cache.evict_over_budget();
        cache.remove_files(&over);
        Ok(cache)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn path_of(&self, key: &Sha256Hex) -> PathBuf {
        let hex = key.to_string();
        self.dir.join(&hex[..2]).join(hex)
    }

    /// Pops entries until the budget holds; returns their keys (files not yet removed).
    fn evict_over_budget(&self) -> Vec<(Sha256Hex, u64)> {
        let mut inner = self.lock();
        let mut out = Vec::new();
        while inner.bytes > self.max_bytes {
            let Some((k, size)) = inner.lru.pop_lru() else {
                break;
            };
            inner.bytes -= size;
            out.push((k, size));
        }
        out
    }

    fn remove_files(&self, entries: &[(Sha256Hex, u64)]) -> Evicted {
        let mut ev = Evicted::default();
        for (k, size) in entries {
            let _ = std::fs::remove_file(self.path_of(k));
            ev.entries += 1;
            ev.bytes += size;
        }
        ev
    }

    fn forget(&self, key: &Sha256Hex) {
        let mut inner = self.lock();
        if let Some(size) = inner.lru.pop(key) {
            inner.bytes -= size;
        }
    }

    /// Reads an entry and verifies it.
    pub async fn get(&self, key: &Sha256Hex) -> Result<DiskLookup, ContentError> {
        if self.lock().lru.get(key).is_none() {
            return Ok(DiskLookup::Miss);
        }
        let path = self.path_of(key);
        let bytes = match tokio::fs::read(&path).await {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                self.forget(key);
                return Ok(DiskLookup::Miss);
            }
            Err(e) => return Err(io(&path)(e)),
        };
        let key_copy = *key;
        let (ok, bytes) = tokio::task::spawn_blocking(move || (key_copy.matches(&bytes), bytes))
            .await
            .map_err(|e| ContentError::Io {
                path: path.display().to_string(),
                source: std::io::Error::other(e),
            })?;
        if !ok {
            self.forget(key);
            let _ = tokio::fs::remove_file(&path).await;
            return Ok(DiskLookup::Corrupt);
        }
        Ok(DiskLookup::Hit(Bytes::from(bytes)))
    }

    /// Stores verified bytes (the caller has checked them against `key`).
    pub async fn insert(&self, key: Sha256Hex, value: &Bytes) -> Result<Evicted, ContentError> {
        let size = value.len() as u64;
        if size > self.max_bytes || self.lock().lru.contains(&key) {
            return Ok(Evicted::default());
        }
        let path = self.path_of(&key);
        let dir = path.parent().unwrap_or(&self.dir).to_path_buf();
        tokio::fs::create_dir_all(&dir).await.map_err(io(&dir))?;
        // one temporary name per write: concurrent writers of the same content (two
        // files with equal bytes) must not share one
        static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = dir.join(format!(".tmp-{key}-{}-{n}", std::process::id()));
        let written = match tokio::fs::write(&tmp, value).await {
            Ok(()) => tokio::fs::rename(&tmp, &path).await.map_err(io(&path)),
            Err(e) => Err(io(&tmp)(e)),
        };
        if let Err(e) = written {
            // a full disk leaves no partial file behind
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(e);
        }
        {
            let mut inner = self.lock();
            if inner.lru.put(key, size).is_none() {
                inner.bytes += size;
            }
        }
        let over = self.evict_over_budget();
        Ok(self.remove_files(&over))
    }

    /// (entries, bytes) held now.
    pub fn usage(&self) -> (u64, u64) {
        let inner = self.lock();
        (inner.lru.len() as u64, inner.bytes)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}
