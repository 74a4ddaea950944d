//! Per-file decisions: which strategies to try in which order ([`preferences`], pure
//! logic), and the [`Planner`], which turns a walked file into a typed
//! [`FileSpec`] — uploading first when the file goes by object storage — and the wire
//! entry from it (`From<&FileSpec> for WireFile`, the contract's one mapping).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tributary_content::store::{key_prefix, render_key};
use tributary_content::{ContentError, Listing, ObjectStore, PresignedUrl, PutOutcome};
use tributary_events::cost::{PriceTable, Usage};
use tributary_events::v2::{
    CONTENT_URL_TYPE_S3_PRESIGNED, Change, ContentRef, ContentStrategy, FileBody, FileSpec,
    WireFile, encode_inline,
};
use tributary_events::{ProjectName, RelPath, Sha256Hex};

use super::batch::entry_size;
use super::walk::{Item, SkipReason, SourceFile};
use crate::config::StrategyMode;
use crate::internal_events::{
    ObjectStored, ObjectsListed, StoreBack, StoreUnavailable, StrategyLearned,
};
use crate::learn::{StrategyModel, size_class};

/// While the store is down, how often one file probes it (the others go on without it).
pub const STORE_REPROBE: Duration = Duration::from_secs(2);

/// What is available for this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Availability {
    /// An object store is configured (it may still turn out to be down).
    pub store_configured: bool,
    /// Consumers can fetch this run's files from a git URL.
    pub git_reference: bool,
}

/// The strategies to try for a file, in order. Inline is tried only if the encoded entry
/// fits in a batch; object storage only while the store is up; git reference only when
/// available. Nothing left means the file is skipped (`no_strategy`) — or failed, when
/// the store being down is what left nothing.
pub fn preferences(
    mode: StrategyMode,
    size: u64,
    inline_limit: u64,
    avail: Availability,
) -> Vec<ContentStrategy> {
    use ContentStrategy::{GitReference as Git, Inline, ObjectStorage as Object};
    let mut order = match mode {
        StrategyMode::Auto if size <= inline_limit => vec![Inline, Object, Git],
        // Larger files: object storage, inline as the fallback while the store is down
        // (when it fits in a message), then a git reference.
        StrategyMode::Auto if avail.store_configured => vec![Object, Inline, Git],
        StrategyMode::Auto => vec![Git],
        // A file too large for any message goes by reference.
        StrategyMode::Inline => vec![Inline, Object, Git],
        StrategyMode::ObjectStorage => vec![Object, Inline],
        // git references; when the remote does not answer, what the publisher has at hand
        StrategyMode::GitReference => vec![Git, Object, Inline],
    };
    order.retain(|s| match s {
        Object => avail.store_configured,
        Git => avail.git_reference,
        Inline => true,
    });
    order
}

/// A file entry ready for a batch.
#[derive(Debug)]
pub struct Entry {
    pub wire: WireFile,
    /// Its serialized size inside a batch ([`entry_size`]).
    pub wire_bytes: usize,
    /// `None` for deleted files.
    pub strategy: Option<ContentStrategy>,
    /// The file's own size (0 for deleted files).
    pub bytes: u64,
    /// What the upload did, for files that went by object storage.
    pub put: Option<PutOutcome>,
}

impl Entry {
    fn new(spec: &FileSpec, put: Option<PutOutcome>) -> Self {
        let wire = WireFile::from(spec);
        Self {
            wire_bytes: entry_size(&wire),
            wire,
            strategy: spec.body.as_ref().map(|b| b.content.strategy()),
            bytes: spec.body.as_ref().map_or(0, |b| b.size),
            put,
        }
    }
}

/// What planning made of one walked item.
#[derive(Debug)]
pub enum Planned {
    /// A present file (or, with `strategy: None`, a deleted one) to batch.
    Entry(Box<Entry>),
    Skipped {
        path: String,
        reason: SkipReason,
    },
    Failed {
        path: String,
        message: String,
    },
}

/// Plans the files of one run; shared by the planning futures.
#[derive(Debug)]
pub struct Planner {
    pub mode: StrategyMode,
    pub inline_limit: u64,
    pub avail: Availability,
    pub max_entry_bytes: usize,
    pub store: Option<ObjectStore>,
    /// Cleared when the store fails transiently: later files stop trying it, and one of
    /// them probes it every [`STORE_REPROBE`] until it answers again.
    pub store_up: AtomicBool,
    /// When the store was last probed while down.
    pub last_probe: Mutex<Option<Instant>>,
    pub key_template: String,
    pub project: ProjectName,
    pub presign_expiry: Duration,
    /// Where consumers fetch git references from, at which commit (both or neither).
    pub git: Option<(String, String)>,
    pub dry_run: bool,
    /// Objects this run has put or found so far.
    pub objects: AtomicU64,
    /// The objects already under the run's key prefix, listed once the run has put
    /// [`LIST_AFTER_OBJECTS`] objects; `None` inside when listing failed or found too many.
    pub listing: tokio::sync::OnceCell<Option<Listing>>,
    /// The object store requests and stored bytes this run's uploads cost.
    pub usage: Mutex<Usage>,
    /// The learned strategy model (`--strategy-model`), updated with this run's uploads.
    pub model: Option<Mutex<StrategyModel>>,
    /// What the model weighs strategies with.
    pub prices: PriceTable,
    /// Size classes whose choice this run has logged.
    pub explained: Mutex<std::collections::HashSet<u32>>,
}

/// Objects a run puts (one existence check each) before it lists what the bucket already
/// holds under its prefix instead: a run with few large files never lists, a re-index of
/// thousands costs one listing request per thousand objects instead of a request each.
pub const LIST_AFTER_OBJECTS: u64 = 64;
/// Keys listed at most (16 bytes of digest and a size each); beyond, the run checks
/// each object as before.
pub const MAX_LISTED_KEYS: usize = 2_000_000;

impl Planner {
    pub async fn plan(&self, item: Item) -> Planned {
        match item {
            Item::Skipped { path, reason } => Planned::Skipped { path, reason },
            Item::Failed { path, message } => Planned::Failed { path, message },
            Item::Deleted { path } => Planned::Entry(Box::new(Entry::new(&deleted(path), None))),
            Item::File(file) => self.plan_file(file).await,
        }
    }

    async fn plan_file(&self, file: SourceFile) -> Planned {
        let SourceFile {
            path,
            bytes,
            checksum,
            linguist,
            history,
            permit,
        } = file;
        let size = bytes.len() as u64;
        let mut store_failed = false;
        let mut order = preferences(self.mode, size, self.inline_limit, self.avail);
        self.learned_order(size, checksum.as_bytes()[0], &mut order);
        for strategy in order {
            let (content, put) = match strategy {
                ContentStrategy::Inline => {
                    let (content, encoding) = encode_inline(&bytes);
                    (ContentRef::Inline { content, encoding }, None)
                }
                ContentStrategy::ObjectStorage => {
                    match self.object(&path, bytes.clone(), &checksum).await {
                        Ok(stored) => stored,
                        Err(e) if e.is_retryable() => {
                            if self.store_up.swap(false, Ordering::Relaxed) {
                                StoreUnavailable { error: &e }.emit();
                            }
                            store_failed = true;
                            continue;
                        }
                        Err(e) => {
                            return Planned::Failed {
                                path: path.to_string(),
                                message: format!(
                                    "object store refused the upload: {}",
                                    tributary_runtime::chain(&e)
                                ),
                            };
                        }
                    }
                }
                ContentStrategy::GitReference => {
                    let Some((git_url, git_ref)) = self.git.clone() else {
                        continue;
                    };
                    (ContentRef::GitReference { git_url, git_ref }, None)
                }
            };
            let spec = FileSpec {
                path: path.clone(),
                change: Change::Present,
                body: Some(FileBody {
                    size,
                    checksum,
                    content,
                }),
                linguist: linguist.clone(),
                history: history.clone(),
            };
            let entry = Entry::new(&spec, put);
            if entry.wire_bytes <= self.max_entry_bytes {
                return Planned::Entry(Box::new(entry));
            }
        }
        drop(permit);
        if store_failed {
            Planned::Failed {
                path: path.to_string(),
                message: "object store unavailable and the file is too large to go inline".into(),
            }
        } else {
            Planned::Skipped {
                path: path.to_string(),
                reason: SkipReason::NoStrategy,
            }
        }
    }

    /// With a learned model, `auto` sends a file above the inline limit by git
    /// reference instead of object storage when the model expects that to cost less
    /// (both must be available); the choice for each size class is logged once a run.
    fn learned_order(&self, size: u64, checksum_byte: u8, order: &mut [ContentStrategy]) {
        use ContentStrategy::{GitReference as Git, ObjectStorage as Object};
        let Some(model) = &self.model else { return };
        if self.mode != StrategyMode::Auto
            || size <= self.inline_limit
            || !order.contains(&Git)
            || order.first() != Some(&Object)
        {
            return;
        }
        let host = self
            .git
            .as_ref()
            .and_then(|(url, _)| tributary_content::git::scheme_and_host(url))
            .map(|(_, host)| host);
        let choice = model.lock().unwrap_or_else(PoisonError::into_inner).choose(
            size,
            &[Object, Git],
            &self.prices,
            host.as_deref(),
        );
        if self
            .explained
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(size_class(size))
        {
            StrategyLearned {
                strategy: choice.strategy,
                why: &choice.why,
            }
            .emit();
        }
        if choice.for_file(checksum_byte) == Some(Git)
            && let Some(i) = order.iter().position(|s| *s == Git)
        {
            order[..=i].rotate_right(1);
        }
    }

    fn observe(&self, size: u64, took: Duration, failed: bool) {
        if let Some(model) = &self.model {
            model
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .observe(
                    ContentStrategy::ObjectStorage,
                    size,
                    took.as_secs_f64(),
                    failed,
                );
        }
    }

    /// The claim check: uploads (unless a dry run) and presigns, then names the object.
    /// A store that is down (or already known to be) is a retryable error.
    async fn object(
        &self,
        path: &RelPath,
        bytes: Bytes,
        checksum: &Sha256Hex,
    ) -> Result<(ContentRef, Option<PutOutcome>), ContentError> {
        let object_key = render_key(
            &self.key_template,
            self.project.as_str(),
            checksum,
            path.extension(),
        );
        let (put, url) = if self.dry_run {
            (None, None)
        } else {
            let store = match &self.store {
                Some(store) if self.usable(store).await => store,
                _ => {
                    return Err(ContentError::Unavailable {
                        op: "upload",
                        source: "the object store is down".into(),
                    });
                }
            };
            let size = bytes.len() as u64;
            let t = Instant::now();
            let stored = self.store_object(store, &object_key, bytes, checksum).await;
            // what the upload took is what the model learns (a listed object took none)
            match &stored {
                Ok((PutOutcome::Listed, _)) => {}
                Ok(_) => self.observe(size, t.elapsed(), false),
                Err(e) if e.is_retryable() => self.observe(size, t.elapsed(), true),
                Err(_) => {}
            }
            let (put, url) = stored?;
            (Some(put), url)
        };
        let content = ContentRef::ObjectStorage {
            object_key,
            content_url_type: url
                .as_ref()
                .map(|_| CONTENT_URL_TYPE_S3_PRESIGNED.to_owned()),
            expires_at: url.as_ref().map(|u| u.expires_at),
            content_url: url.map(|u| u.url),
        };
        Ok((content, put))
    }

    /// Whether to use the store: yes while it is up; while it is down, yes once a probe
    /// (at most one per [`STORE_REPROBE`], by whichever file comes first) finds it back.
    async fn usable(&self, store: &ObjectStore) -> bool {
        if self.store_up.load(Ordering::Relaxed) {
            return true;
        }
        {
            let mut last = self
                .last_probe
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if last.is_some_and(|t| t.elapsed() < STORE_REPROBE) {
                return false;
            }
            *last = Some(Instant::now());
        }
        let back = store.preflight().await.is_ok();
        if back && !self.store_up.swap(true, Ordering::Relaxed) {
            StoreBack.emit();
        }
        back
    }

    /// What the bucket holds under the run's prefix, once the run has put enough
    /// objects for a listing to pay (every file after that waits for it, once).
    async fn listing(&self, store: &ObjectStore) -> Option<&Listing> {
        if self.objects.fetch_add(1, Ordering::Relaxed) < LIST_AFTER_OBJECTS {
            return self.listing.get().and_then(Option::as_ref);
        }
        self.listing
            .get_or_init(|| async {
                let prefix = key_prefix(&self.key_template, self.project.as_str());
                let t = Instant::now();
                let listed = store.list(&prefix, MAX_LISTED_KEYS).await;
                let keys = match &listed {
                    Ok(Some(l)) => l.len(),
                    // stopped past the bound, or failed on some page
                    Ok(None) => MAX_LISTED_KEYS,
                    Err(_) => 0,
                };
                self.usage
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .object_puts += store.list_requests(keys);
                ObjectsListed {
                    result: listed.as_ref().map(|l| l.as_ref().map(Listing::len)),
                    elapsed: t.elapsed(),
                }
                .emit();
                listed.ok().flatten()
            })
            .await
            .as_ref()
    }

    async fn store_object(
        &self,
        store: &ObjectStore,
        key: &str,
        bytes: Bytes,
        checksum: &Sha256Hex,
    ) -> Result<(PutOutcome, Option<PresignedUrl>), ContentError> {
        let t = Instant::now();
        if let Some(listing) = self.listing(store).await
            && listing.contains(key, bytes.len() as u64)
        {
            let url = store.presign_get(key, self.presign_expiry).await?;
            return Ok((PutOutcome::Listed, url));
        }
        let size = bytes.len() as u64;
        let put = store.put_if_absent(key, bytes, checksum).await?;
        {
            let (puts, gets) = store.put_requests(put);
            let mut usage = self.usage.lock().unwrap_or_else(PoisonError::into_inner);
            usage.object_puts += puts;
            usage.object_gets += gets;
            if put == PutOutcome::Uploaded {
                usage.bytes_stored += size;
            }
        }
        ObjectStored {
            uploaded: put == PutOutcome::Uploaded,
            elapsed: t.elapsed(),
        }
        .emit();
        let url = store.presign_get(key, self.presign_expiry).await?;
        Ok((put, url))
    }
}

/// A deleted file's spec: its path, no body.
fn deleted(path: RelPath) -> FileSpec {
    FileSpec {
        path,
        change: Change::Deleted,
        body: None,
        linguist: Default::default(),
        history: None,
    }
}

#[cfg(test)]
mod tests;
