//! The consumer's vocabulary of content sources: closed sets, safe as metric labels.
//! A leaf module: it imports nothing of the crate, so both the resolver and
//! `internal_events` can name these types.

/// Where resolved bytes came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    Inline,
    Memory,
    Disk,
    PresignedUrl,
    ObjectStore,
    Git,
    Mount,
}

impl Tier {
    /// Every tier, for metrics present at zero from start-up.
    pub const ALL: [Tier; 7] = [
        Tier::Inline,
        Tier::Memory,
        Tier::Disk,
        Tier::PresignedUrl,
        Tier::ObjectStore,
        Tier::Git,
        Tier::Mount,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Inline => "inline",
            Tier::Memory => "memory",
            Tier::Disk => "disk",
            Tier::PresignedUrl => "presigned_url",
            Tier::ObjectStore => "object_store",
            Tier::Git => "git",
            Tier::Mount => "mount",
        }
    }
}

/// A content cache (the `cache` label of the cache metrics).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cache {
    Memory,
    Disk,
}

impl Cache {
    pub const ALL: [Cache; 2] = [Cache::Memory, Cache::Disk];

    pub fn as_str(self) -> &'static str {
        match self {
            Cache::Memory => "memory",
            Cache::Disk => "disk",
        }
    }
}
