//! Content caches keyed by SHA-256: a memory LRU bounded in bytes and a disk LRU that
//! survives restarts. Both only ever hold bytes that hash to their key: the memory tier
//! checks on insert, the disk tier on every read (a corrupt entry is evicted and
//! reported as such, so the caller refetches).

mod disk;
mod memory;

pub use disk::{DiskCache, DiskLookup};
pub use memory::MemoryCache;

/// What an insert pushed out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Evicted {
    pub entries: u64,
    pub bytes: u64,
}

#[cfg(test)]
mod tests;
