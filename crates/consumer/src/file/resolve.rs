//! Content resolution: from a file entry to verified bytes, through the caches.
//!
//! inline: decode | object storage: memory → disk → presigned GET (only to the configured
//! endpoint, before expiry) or GET by key with our own credentials | git: memory → disk →
//! clone cache | v1: a path confined to the mount root. Every byte that leaves here
//! hashed to the event's checksum; mismatches never reach analysis or the caches.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use bytes::Bytes;
use time::OffsetDateTime;
use tributary_content::ObjectStore;
use tributary_content::cache::{DiskCache, DiskLookup, MemoryCache};
use tributary_content::git::GitFetcher;
use tributary_events::dlq::{Reason, Stage};
use tributary_events::v2::{ContentEncoding, ContentRef, decode_inline};
use tributary_events::{RelPath, Sha256Hex};

use crate::config::{Config, StoreConfig};
use crate::error::{ConfigError, ConsumerError, Failure};
use crate::internal_events::{CacheLookup, Fetched};
use crate::tier::Cache;
pub use crate::tier::Tier;

/// Resolves and verifies file contents.
#[derive(Debug)]
pub struct Resolver {
    pub memory: MemoryCache,
    pub disk: Option<DiskCache>,
    pub store: Option<ObjectStore>,
    /// `host:port` that presigned URLs must point at (the configured S3 endpoint).
    pub url_authority: Option<String>,
    pub http: reqwest::Client,
    pub git: GitFetcher,
    /// Canonical mount root for v1 paths.
    pub mount_root: Option<PathBuf>,
    pub max_content_bytes: u64,
    pub max_attempts: u32,
    /// Cacheable resolutions (object storage, git) and how many the caches served.
    pub counters: CacheCounters,
}

/// Cache effectiveness, for reports and tests (metrics carry the same per tier).
#[derive(Debug, Default)]
pub struct CacheCounters {
    pub lookups: std::sync::atomic::AtomicU64,
    pub hits: std::sync::atomic::AtomicU64,
}

/// `host:port` of an http(s) URL, with the default port filled in.
pub fn authority(url: &str) -> Option<String> {
    let u = reqwest::Url::parse(url).ok()?;
    if !matches!(u.scheme(), "http" | "https") {
        return None;
    }
    Some(format!(
        "{}:{}",
        u.host_str()?.to_ascii_lowercase(),
        u.port_or_known_default()?
    ))
}

fn too_large(size: u64, max: u64) -> Failure {
    Failure::new(
        Reason::TooLarge,
        Stage::Resolve,
        format!("content of {size} bytes is over the {max}-byte limit"),
    )
}

impl Resolver {
    /// Opens the caches, the store and the git fetcher the configuration names.
    pub async fn open(cfg: &Config) -> Result<Self, ConsumerError> {
        let store = ObjectStore::open(&cfg.store)
            .await
            .map_err(ConsumerError::Content)?;
        let url_authority = match &cfg.store {
            StoreConfig::S3(s3) => match &s3.endpoint {
                Some(ep) => authority(ep),
                None => Some(format!("{}.s3.{}.amazonaws.com:443", s3.bucket, s3.region)),
            },
            // signed URLs point where the store is (an emulator's file may say where)
            StoreConfig::Gcs(_) => match &store {
                Some(ObjectStore::Gcs(g)) => authority(g.endpoint()),
                _ => None,
            },
            _ => None,
        };
        let disk = if cfg.cache.disk_max_bytes > 0 {
            let (dir, max) = (cfg.cache.disk_dir.clone(), cfg.cache.disk_max_bytes);
            Some(
                tokio::task::spawn_blocking(move || DiskCache::open(dir, max))
                    .await
                    .expect("disk cache open task")
                    .map_err(ConsumerError::Content)?,
            )
        } else {
            None
        };
        let git_cfg = cfg.git.clone();
        let git = tokio::task::spawn_blocking(move || GitFetcher::new(git_cfg))
            .await
            .expect("git cache open task")
            .map_err(ConsumerError::Content)?;
        let http = reqwest::Client::builder()
            // A redirect could lead anywhere: presigned URLs are followed to the endpoint only.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(cfg.download_timeout)
            .build()
            .map_err(ConfigError::HttpClient)?;
        let mount_root = match &cfg.mount_root {
            Some(root) => {
                Some(
                    std::fs::canonicalize(root).map_err(|source| ConfigError::MountRoot {
                        path: root.display().to_string(),
                        source,
                    })?,
                )
            }
            None => None::<PathBuf>,
        };
        Ok(Resolver {
            memory: MemoryCache::new(cfg.cache.memory_max_bytes),
            disk,
            store,
            url_authority,
            http,
            git,
            mount_root,
            max_content_bytes: cfg.max_content_bytes,
            max_attempts: cfg.max_attempts,
            counters: Default::default(),
        })
    }

    /// The verified bytes of a v2 file entry, and where they came from. Transient
    /// failures are retried (300 ms doubling, up to `max_attempts`).
    pub async fn resolve(
        &self,
        content: &ContentRef,
        checksum: &Sha256Hex,
        path: &RelPath,
        credential: Option<&str>,
    ) -> Result<(Bytes, Tier), Failure> {
        let mut delay = Duration::from_millis(300);
        let mut attempt = 1;
        loop {
            match self.resolve_once(content, checksum, path, credential).await {
                Err(f) if f.retryable && attempt < self.max_attempts => {
                    tracing::debug!(
                        attempt,
                        reason = f.reason.as_str(),
                        "transient failure, retrying"
                    );
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(60));
                    attempt += 1;
                }
                Err(mut f) if f.retryable => {
                    f.message = format!("after {attempt} attempts: {}", f.message);
                    f.attempts = attempt;
                    return Err(f);
                }
                other => return other,
            }
        }
    }

    async fn resolve_once(
        &self,
        content: &ContentRef,
        checksum: &Sha256Hex,
        path: &RelPath,
        credential: Option<&str>,
    ) -> Result<(Bytes, Tier), Failure> {
        match content {
            ContentRef::Inline { content, encoding } => {
                if *encoding == ContentEncoding::Base64
                    && content.len() as u64 > self.max_content_bytes / 3 * 4 + 4
                {
                    return Err(too_large(
                        content.len() as u64 / 4 * 3,
                        self.max_content_bytes,
                    ));
                }
                let bytes = decode_inline(content, *encoding).map_err(|e| {
                    Failure::new(
                        Reason::BadEncoding,
                        Stage::Resolve,
                        format!("inline base64 does not decode: {e}"),
                    )
                })?;
                let bytes = Bytes::from(bytes);
                self.verify(bytes, checksum).map(|b| (b, Tier::Inline))
            }
            ContentRef::ObjectStorage {
                object_key,
                content_url,
                expires_at,
                ..
            } => {
                // Hostile URLs are refused whether or not the bytes are cached.
                let usable_url = match content_url {
                    Some(url)
                        if authority(url).is_none() || authority(url) != self.url_authority =>
                    {
                        return Err(Failure::new(
                            Reason::SsrfBlocked,
                            Stage::Resolve,
                            format!(
                                "content_url host {} is not the configured object-store endpoint",
                                authority(url).unwrap_or_else(|| "(unparseable)".into())
                            ),
                        ));
                    }
                    Some(url) if expires_at.is_none_or(|t| t > OffsetDateTime::now_utc()) => {
                        Some(url.as_str())
                    }
                    _ => None,
                };
                if let Some(hit) = self.cached(checksum).await {
                    return Ok(hit);
                }
                let (bytes, tier) = self.fetch_object(object_key, usable_url).await?;
                let bytes = self.verify(bytes, checksum)?;
                self.remember(checksum, &bytes).await;
                Ok((bytes, tier))
            }
            ContentRef::GitReference { git_url, git_ref } => {
                self.git
                    .check_url(git_url)
                    .map_err(|e| Failure::from_content(&e))?;
                if let Some(hit) = self.cached(checksum).await {
                    return Ok(hit);
                }
                let t = Instant::now();
                let bytes = self
                    .git
                    .read(git_url, git_ref, path, credential)
                    .await
                    .map_err(|e| Failure::from_content(&e))?;
                Fetched {
                    tier: Tier::Git,
                    elapsed: t.elapsed(),
                }
                .emit();
                let bytes = self.verify(bytes, checksum)?;
                self.remember(checksum, &bytes).await;
                Ok((bytes, Tier::Git))
            }
        }
    }

    async fn fetch_object(&self, key: &str, url: Option<&str>) -> Result<(Bytes, Tier), Failure> {
        let t = Instant::now();
        if let Some(url) = url {
            match self.http.get(url).send().await {
                Ok(resp) if resp.status().is_success() => {
                    if resp
                        .content_length()
                        .is_some_and(|n| n > self.max_content_bytes)
                    {
                        return Err(too_large(
                            resp.content_length().unwrap_or_default(),
                            self.max_content_bytes,
                        ));
                    }
                    if let Ok(b) = resp.bytes().await {
                        Fetched {
                            tier: Tier::PresignedUrl,
                            elapsed: t.elapsed(),
                        }
                        .emit();
                        return Ok((b, Tier::PresignedUrl));
                    }
                }
                // Expired or refused URLs, and transport errors: fall back to the key.
                Ok(resp) => tracing::debug!(
                    status = resp.status().as_u16(),
                    "presigned URL refused; reading by key"
                ),
                Err(e) => tracing::debug!(error = %e, "presigned URL failed; reading by key"),
            }
        }
        let Some(store) = &self.store else {
            return Err(Failure::new(
                Reason::ObjectMissing,
                Stage::Resolve,
                "no object store is configured to read the key",
            ));
        };
        let bytes = store
            .get(key)
            .await
            .map_err(|e| Failure::from_content(&e))?;
        Fetched {
            tier: Tier::ObjectStore,
            elapsed: t.elapsed(),
        }
        .emit();
        // (the size limit is enforced by `verify`, which every fetched byte goes through)
        Ok((bytes, Tier::ObjectStore))
    }

    /// A verified copy from memory or disk.
    async fn cached(&self, checksum: &Sha256Hex) -> Option<(Bytes, Tier)> {
        use std::sync::atomic::Ordering::Relaxed;
        self.counters.lookups.fetch_add(1, Relaxed);
        let hit = self.cached_tiers(checksum).await;
        if hit.is_some() {
            self.counters.hits.fetch_add(1, Relaxed);
        }
        hit
    }

    async fn cached_tiers(&self, checksum: &Sha256Hex) -> Option<(Bytes, Tier)> {
        if let Some(b) = self.memory.get(checksum) {
            CacheLookup {
                cache: Cache::Memory,
                hit: true,
                corrupt: false,
            }
            .emit();
            return Some((b, Tier::Memory));
        }
        CacheLookup {
            cache: Cache::Memory,
            hit: false,
            corrupt: false,
        }
        .emit();
        let disk = self.disk.as_ref()?;
        match disk.get(checksum).await {
            Ok(DiskLookup::Hit(b)) => {
                CacheLookup {
                    cache: Cache::Disk,
                    hit: true,
                    corrupt: false,
                }
                .emit();
                self.memory.insert(*checksum, b.clone());
                Some((b, Tier::Disk))
            }
            Ok(DiskLookup::Corrupt) => {
                CacheLookup {
                    cache: Cache::Disk,
                    hit: false,
                    corrupt: true,
                }
                .emit();
                None
            }
            Ok(DiskLookup::Miss) => {
                CacheLookup {
                    cache: Cache::Disk,
                    hit: false,
                    corrupt: false,
                }
                .emit();
                None
            }
            Err(e) => {
                tracing::warn!(error = %tributary_runtime::chain(&e), "disk cache read failed");
                None
            }
        }
    }

    async fn remember(&self, checksum: &Sha256Hex, bytes: &Bytes) {
        let evicted = self.memory.insert(*checksum, bytes.clone());
        crate::internal_events::CacheStored {
            cache: Cache::Memory,
            evicted,
            usage: self.memory.usage(),
        }
        .emit();
        if let Some(disk) = &self.disk {
            match disk.insert(*checksum, bytes).await {
                Ok(evicted) => crate::internal_events::CacheStored {
                    cache: Cache::Disk,
                    evicted,
                    usage: disk.usage(),
                }
                .emit(),
                Err(e) => crate::internal_events::DiskCacheWriteFailed { error: &e }.emit(),
            }
        }
    }

    fn verify(&self, bytes: Bytes, checksum: &Sha256Hex) -> Result<Bytes, Failure> {
        if bytes.len() as u64 > self.max_content_bytes {
            return Err(too_large(bytes.len() as u64, self.max_content_bytes));
        }
        let actual = Sha256Hex::of(&bytes);
        if actual != *checksum {
            return Err(Failure::new(
                Reason::ChecksumMismatch,
                Stage::Verify,
                format!("resolved bytes hash to {actual}, the event says {checksum}"),
            ));
        }
        Ok(bytes)
    }

    /// The bytes of a v1 file under the mount root.
    pub async fn resolve_v1(
        &self,
        path: &RelPath,
        checksum: Option<&Sha256Hex>,
    ) -> Result<(Bytes, Tier), Failure> {
        let Some(root) = &self.mount_root else {
            return Err(Failure::new(
                Reason::NoMountRoot,
                Stage::Resolve,
                "v1 event, but no mount root is configured",
            ));
        };
        let full = root.join(path.as_str());
        let invalid = |m: &str| Failure::new(Reason::InvalidPath, Stage::Resolve, m.to_owned());
        // Canonicalize to see through symlinks: the real file must be inside the root.
        let real = tokio::fs::canonicalize(&full)
            .await
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => Failure::new(
                    Reason::ObjectMissing,
                    Stage::Resolve,
                    "v1 file does not exist",
                ),
                _ => invalid("v1 path cannot be resolved"),
            })?;
        if !real.starts_with(root) {
            return Err(invalid("v1 path resolves outside the mount root"));
        }
        let meta = tokio::fs::metadata(&real)
            .await
            .map_err(|_| invalid("v1 path cannot be read"))?;
        if !meta.is_file() {
            return Err(invalid("v1 path is not a regular file"));
        }
        if meta.len() > self.max_content_bytes {
            return Err(too_large(meta.len(), self.max_content_bytes));
        }
        let bytes = Bytes::from(
            tokio::fs::read(&real)
                .await
                .map_err(|_| invalid("v1 path cannot be read"))?,
        );
        match checksum {
            Some(c) => self.verify(bytes, c).map(|b| (b, Tier::Mount)),
            None => Ok((bytes, Tier::Mount)),
        }
    }
}
