use std::sync::Mutex;

use bytes::Bytes;
use lru::LruCache;
use tributary_events::Sha256Hex;

use super::Evicted;

/// A memory LRU bounded by the total size of its values.
#[derive(Debug)]
pub struct MemoryCache {
    max_bytes: u64,
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    lru: LruCache<Sha256Hex, Bytes>,
    bytes: u64,
}

impl MemoryCache {
    pub fn new(max_bytes: u64) -> Self {
        Self {
            max_bytes,
            inner: Mutex::new(Inner {
                lru: LruCache::unbounded(),
                bytes: 0,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the LRU half-updated in a way that
        // matters (worst case a byte count off); keep serving.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn get(&self, key: &Sha256Hex) -> Option<Bytes> {
        self.lock().lru.get(key).cloned()
    }

    /// Caches `value` under `key` if it hashes to `key` and fits; returns what was
    /// evicted to make room. Values larger than the whole budget are not cached.
    pub fn insert(&self, key: Sha256Hex, value: Bytes) -> Evicted {
        let size = value.len() as u64;
        if size > self.max_bytes || !key.matches(&value) {
            return Evicted::default();
        }
        // A copy of exactly its length: bytes from a download are often a slice of the
        // connection's read buffer, and keeping the slice would keep the whole buffer —
        // memory the budget does not see (a 64 MiB cache held ~90 MiB; benches/README.md).
        let value = Bytes::copy_from_slice(&value);
        let mut inner = self.lock();
        if let Some(old) = inner.lru.put(key, value) {
            inner.bytes -= old.len() as u64;
        }
        inner.bytes += size;
        let mut evicted = Evicted::default();
        while inner.bytes > self.max_bytes {
            let Some((_, v)) = inner.lru.pop_lru() else {
                break;
            };
            inner.bytes -= v.len() as u64;
            evicted.entries += 1;
            evicted.bytes += v.len() as u64;
        }
        evicted
    }

    /// (entries, bytes) held now.
    pub fn usage(&self) -> (u64, u64) {
        let inner = self.lock();
        (inner.lru.len() as u64, inner.bytes)
    }
}
