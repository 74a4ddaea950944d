//! The local-filesystem object store: the embedded default for single-machine use and
//! unit tests. Keys map to files under a root folder; writes are atomic (temp + rename).

use std::path::{Path, PathBuf};

use bytes::Bytes;

use crate::error::ContentError;
use crate::object::PutOutcome;

/// Objects as files under `root`.
#[derive(Debug, Clone)]
pub struct LocalStore {
    root: PathBuf,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ContentError + '_ {
    move |source| ContentError::Io {
        path: path.display().to_string(),
        source,
    }
}

impl LocalStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path_of(&self, key: &str) -> Result<PathBuf, ContentError> {
        if !tributary_events::v2::is_valid_object_key(key) {
            return Err(ContentError::Config(format!("invalid object key {key:?}")));
        }
        Ok(self.root.join(key))
    }

    pub(crate) async fn preflight(&self) -> Result<(), ContentError> {
        tokio::fs::create_dir_all(&self.root)
            .await
            .map_err(io(&self.root))?;
        let probe = self
            .root
            .join(format!(".tributary-probe-{}", std::process::id()));
        tokio::fs::write(&probe, b"")
            .await
            .map_err(io(&self.root))?;
        tokio::fs::remove_file(&probe).await.map_err(io(&probe))
    }

    /// Feeds `each` every file under the folder `prefix` names; false when there were
    /// more than `max_keys` (and the walk stopped).
    pub(crate) async fn list_each(
        &self,
        prefix: &str,
        max_keys: usize,
        each: &mut (dyn FnMut(&str, u64) + Send),
    ) -> Result<bool, ContentError> {
        let root = self.root.clone();
        let folder = prefix.trim_end_matches('/').to_owned();
        // walked on the blocking pool; the keys come back to feed `each` here
        let walk = move || -> Result<Option<Vec<(String, u64)>>, ContentError> {
            let mut listing = Vec::new();
            let mut stack = vec![root.join(&folder)];
            while let Some(dir) = stack.pop() {
                let entries = match std::fs::read_dir(&dir) {
                    Ok(e) => e,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(io(&dir)(e)),
                };
                for e in entries {
                    let e = e.map_err(io(&dir))?;
                    let meta = e.metadata().map_err(io(&dir))?;
                    let path = e.path();
                    if meta.is_dir() {
                        stack.push(path);
                    } else if let Some(key) = path
                        .strip_prefix(&root)
                        .ok()
                        .and_then(|k| k.to_str())
                        .filter(|k| !k.rsplit('/').next().unwrap_or(k).starts_with(".tmp-"))
                    {
                        listing.push((key.to_owned(), meta.len()));
                        if listing.len() > max_keys {
                            return Ok(None);
                        }
                    }
                }
            }
            Ok(Some(listing))
        };
        let walked = tokio::task::spawn_blocking(walk)
            .await
            .map_err(|e| ContentError::Io {
                path: self.root.display().to_string(),
                source: std::io::Error::other(e),
            })??;
        let Some(keys) = walked else { return Ok(false) };
        for (key, size) in &keys {
            each(key, *size);
        }
        Ok(true)
    }

    pub(crate) async fn put_if_absent(
        &self,
        key: &str,
        bytes: &[u8],
    ) -> Result<PutOutcome, ContentError> {
        let path = self.path_of(key)?;
        if tokio::fs::try_exists(&path).await.map_err(io(&path))? {
            return Ok(PutOutcome::AlreadyPresent);
        }
        self.put(key, bytes).await?;
        Ok(PutOutcome::Uploaded)
    }

    /// Writes `key` atomically (temp file, then rename), replacing what is there.
    pub(crate) async fn put(&self, key: &str, bytes: &[u8]) -> Result<(), ContentError> {
        let path = self.path_of(key)?;
        let dir = path.parent().unwrap_or(&self.root).to_path_buf();
        tokio::fs::create_dir_all(&dir).await.map_err(io(&dir))?;
        let tmp = dir.join(format!(".tmp-{}-{}", std::process::id(), uuid_like()));
        tokio::fs::write(&tmp, bytes).await.map_err(io(&tmp))?;
        tokio::fs::rename(&tmp, &path).await.map_err(io(&path))?;
        Ok(())
    }

    pub(crate) async fn delete(&self, key: &str) -> Result<(), ContentError> {
        let path = self.path_of(key)?;
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io(&path)(e)),
        }
    }

    pub(crate) async fn get(&self, key: &str) -> Result<Bytes, ContentError> {
        let path = self.path_of(key)?;
        match tokio::fs::read(&path).await {
            Ok(b) => Ok(Bytes::from(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(ContentError::NotFound {
                key: key.to_owned(),
            }),
            Err(e) => Err(io(&path)(e)),
        }
    }
}

/// A process-unique suffix for temp files (no randomness needed: pid + counter).
fn uuid_like() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

#[cfg(test)]
mod tests;
