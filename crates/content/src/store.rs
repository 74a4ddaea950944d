//! Object storage for claim-checked content: content-addressed keys, put-if-absent,
//! presigned GETs. One enum over the backends so callers need no trait objects.

use std::time::Duration;

use bytes::Bytes;
use tributary_events::Sha256Hex;

use crate::error::ContentError;
use crate::gcs::GcsStore;
use crate::local::LocalStore;
pub use crate::object::{Listing, PresignedUrl, PutOutcome};
use crate::s3::S3Store;

/// The default object key template (the seed's layout).
pub const DEFAULT_KEY_TEMPLATE: &str = "projects/{project}/{sha256}.{ext}";

/// Which object store to use.
#[derive(Debug, Clone)]
pub enum StoreConfig {
    None,
    /// Files under a folder (the embedded default).
    Local {
        root: std::path::PathBuf,
    },
    S3(crate::s3::S3Config),
    /// Google Cloud Storage, natively.
    Gcs(crate::gcs::GcsConfig),
}

impl StoreConfig {
    /// One line for `check` output and logs (no credentials).
    pub fn describe(&self) -> String {
        match self {
            StoreConfig::None => "none".into(),
            StoreConfig::Local { root } => format!("local {}", root.display()),
            StoreConfig::S3(s3) => format!(
                "s3 bucket {} region {}{}",
                s3.bucket,
                s3.region,
                s3.endpoint
                    .as_ref()
                    .map(|e| format!(" endpoint {e}"))
                    .unwrap_or_default()
            ),
            StoreConfig::Gcs(g) => format!(
                "gcs bucket {}{}{}",
                g.bucket,
                g.endpoint
                    .as_ref()
                    .map(|e| format!(" endpoint {e}"))
                    .unwrap_or_default(),
                g.service_account
                    .clone()
                    .map(|r| format!(" service account {}", String::from(r)))
                    .unwrap_or_else(|| " application default credentials".into())
            ),
        }
    }

    pub fn validate(&self) -> Result<(), ContentError> {
        match self {
            StoreConfig::S3(s3) => s3.validate(),
            StoreConfig::Gcs(g) if g.bucket.is_empty() => {
                Err(ContentError::Config("gcs: the bucket name is empty".into()))
            }
            StoreConfig::None | StoreConfig::Local { .. } | StoreConfig::Gcs(_) => Ok(()),
        }
    }
}

/// A configured object store.
#[derive(Debug, Clone)]
pub enum ObjectStore {
    S3(S3Store),
    Gcs(GcsStore),
    Local(LocalStore),
}

impl ObjectStore {
    /// The store a configuration names (`None` for [`StoreConfig::None`]).
    pub async fn open(cfg: &StoreConfig) -> Result<Option<Self>, ContentError> {
        Ok(match cfg {
            StoreConfig::None => None,
            StoreConfig::Local { root } => Some(ObjectStore::Local(LocalStore::new(root))),
            StoreConfig::S3(s3) => Some(ObjectStore::S3(S3Store::connect(s3).await?)),
            StoreConfig::Gcs(g) => Some(ObjectStore::Gcs(GcsStore::connect(g).await?)),
        })
    }

    /// Checks that the store is reachable and the bucket (or folder) is usable.
    pub async fn preflight(&self) -> Result<(), ContentError> {
        match self {
            ObjectStore::S3(s) => s.preflight().await,
            ObjectStore::Gcs(g) => g.preflight().await,
            ObjectStore::Local(l) => l.preflight().await,
        }
    }

    /// Stores `bytes` under `key` unless an object is already there.
    pub async fn put_if_absent(
        &self,
        key: &str,
        bytes: Bytes,
        checksum: &Sha256Hex,
    ) -> Result<PutOutcome, ContentError> {
        match self {
            ObjectStore::S3(s) => s.put_if_absent(key, bytes, checksum).await,
            ObjectStore::Gcs(g) => g.put_if_absent(key, bytes, checksum).await,
            ObjectStore::Local(l) => l.put_if_absent(key, &bytes).await,
        }
    }

    /// The requests a [`ObjectStore::put_if_absent`] with this outcome made, as a bill
    /// counts them: (PUT-class, GET-class). S3 asks with a HEAD and writes with a PUT
    /// only when the key is absent; GCS makes one conditional write either way; a
    /// local folder is not billed. A listed object cost no request.
    pub fn put_requests(&self, outcome: PutOutcome) -> (u64, u64) {
        match (self, outcome) {
            (_, PutOutcome::Listed) | (ObjectStore::Local(_), _) => (0, 0),
            (ObjectStore::S3(_), PutOutcome::Uploaded) => (1, 1),
            (ObjectStore::S3(_), PutOutcome::AlreadyPresent) => (0, 1),
            (ObjectStore::Gcs(_), _) => (1, 0),
        }
    }

    /// The LIST requests (PUT-class) of a listing that saw `keys` keys: S3 and GCS
    /// return at most 1,000 a page.
    pub fn list_requests(&self, keys: usize) -> u64 {
        match self {
            ObjectStore::Local(_) => 0,
            ObjectStore::S3(_) | ObjectStore::Gcs(_) => keys.div_ceil(1000).max(1) as u64,
        }
    }

    /// The objects under `prefix`; `None` when there are more than `max_keys` (listing
    /// them would cost more than it saves).
    pub async fn list(
        &self,
        prefix: &str,
        max_keys: usize,
    ) -> Result<Option<Listing>, ContentError> {
        let mut listing = Listing::default();
        let complete = self
            .list_each(prefix, max_keys, &mut |key, size| listing.insert(key, size))
            .await?;
        Ok(complete.then_some(listing))
    }

    /// The keys (with sizes) under `prefix`, in no particular order; `None` when there
    /// are more than `max_keys`. For small listings (report indexes), not content.
    pub async fn list_keys(
        &self,
        prefix: &str,
        max_keys: usize,
    ) -> Result<Option<Vec<(String, u64)>>, ContentError> {
        let mut keys = Vec::new();
        let complete = self
            .list_each(prefix, max_keys, &mut |key, size| {
                keys.push((key.to_owned(), size));
            })
            .await?;
        Ok(complete.then_some(keys))
    }

    async fn list_each(
        &self,
        prefix: &str,
        max_keys: usize,
        each: &mut (dyn FnMut(&str, u64) + Send),
    ) -> Result<bool, ContentError> {
        match self {
            ObjectStore::S3(s) => s.list_each(prefix, max_keys, each).await,
            ObjectStore::Gcs(g) => g.list_each(prefix, max_keys, each).await,
            ObjectStore::Local(l) => l.list_each(prefix, max_keys, each).await,
        }
    }

    /// Stores `bytes` under `key`, replacing what is there (reports, not content).
    pub async fn put(
        &self,
        key: &str,
        bytes: Bytes,
        content_type: &str,
    ) -> Result<(), ContentError> {
        match self {
            ObjectStore::S3(s) => s.put(key, bytes, content_type).await,
            ObjectStore::Gcs(g) => g.put(key, bytes, content_type).await,
            ObjectStore::Local(l) => l.put(key, &bytes).await,
        }
    }

    /// Removes `key` (absent is fine): probes, never content others may reference.
    pub async fn delete(&self, key: &str) -> Result<(), ContentError> {
        match self {
            ObjectStore::S3(s) => s.delete(key).await,
            ObjectStore::Gcs(g) => g.delete(key).await,
            ObjectStore::Local(l) => l.delete(key).await,
        }
    }

    /// Reads a whole object.
    pub async fn get(&self, key: &str) -> Result<Bytes, ContentError> {
        match self {
            ObjectStore::S3(s) => s.get(key).await,
            ObjectStore::Gcs(g) => g.get(key).await,
            ObjectStore::Local(l) => l.get(key).await,
        }
    }

    /// A presigned GET URL, for stores that have them (`None` for the local store).
    pub async fn presign_get(
        &self,
        key: &str,
        expiry: Duration,
    ) -> Result<Option<PresignedUrl>, ContentError> {
        match self {
            ObjectStore::S3(s) => s.presign_get(key, expiry).await.map(Some),
            ObjectStore::Gcs(g) => g.presign_get(key, expiry).await.map(Some),
            ObjectStore::Local(_) => Ok(None),
        }
    }
}

/// The folder every key a template renders for `project` starts with: the template's
/// text before its first content-dependent placeholder, up to its last `/` (`""` when
/// the keys share no folder, as with `{hh}/{sha256}`).
pub fn key_prefix(template: &str, project: &str) -> String {
    let cut = ["{sha256}", "{hh}", "{ext}"]
        .iter()
        .filter_map(|p| template.find(p))
        .min()
        .unwrap_or(template.len());
    let fixed = &template[..cut];
    let folder = &fixed[..fixed.rfind('/').map_or(0, |i| i + 1)];
    folder.replace("{project}", &safe_segments(project))
}

/// Renders an object key from a template with `{project}`, `{sha256}`, `{hh}` (the
/// first two hex characters) and `{ext}`. Without an extension, `.{ext}` disappears.
/// The project is made key-safe: characters outside `[A-Za-z0-9._/-]` become `_`, and
/// empty, `.` or `..` segments become `_`.
pub fn render_key(
    template: &str,
    project: &str,
    checksum: &Sha256Hex,
    ext: Option<&str>,
) -> String {
    let sha = checksum.to_string();
    let project = safe_segments(project);
    let mut key = template.to_owned();
    match ext.map(safe_ext).filter(|e| !e.is_empty()) {
        Some(ext) => key = key.replace("{ext}", &ext),
        None => key = key.replace(".{ext}", "").replace("{ext}", ""),
    }
    key.replace("{project}", &project)
        .replace("{hh}", &sha[..2])
        .replace("{sha256}", &sha)
}

fn safe_ext(ext: &str) -> String {
    ext.chars()
        .filter(char::is_ascii_alphanumeric)
        .take(16)
        .collect::<String>()
        .to_ascii_lowercase()
}

/// `s` with every character outside `[A-Za-z0-9._-]` replaced by `_`: safe in an
/// object key or a file name on any store (slashes included, so callers split first).
pub fn key_safe_chars(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn safe_segments(project: &str) -> String {
    project
        .split('/')
        .map(|seg| {
            let seg = key_safe_chars(seg);
            if seg.is_empty() || seg == "." || seg == ".." {
                "_".to_owned()
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Checks a key template: it must name `{sha256}` (keys are content-addressed) and use
/// only known placeholders.
pub fn validate_key_template(template: &str) -> Result<(), ContentError> {
    if !template.contains("{sha256}") {
        return Err(ContentError::Config(format!(
            "object key template {template:?} lacks {{sha256}}"
        )));
    }
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let end = rest[start..]
            .find('}')
            .ok_or_else(|| ContentError::Config(format!("unclosed placeholder in {template:?}")))?;
        let name = &rest[start + 1..start + end];
        if !matches!(name, "project" | "sha256" | "hh" | "ext") {
            return Err(ContentError::Config(format!(
                "unknown placeholder {{{name}}} in {template:?}"
            )));
        }
        rest = &rest[start + end + 1..];
    }
    if template.starts_with('/') {
        return Err(ContentError::Config(
            "object key template must not start with /".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
