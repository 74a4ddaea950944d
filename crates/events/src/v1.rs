//! v1 index events: files named by a path on a filesystem shared with the consumer.
//! Still read (never produced) so that old producers keep working during a migration.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::checksum::Sha256Hex;
use crate::error::InvalidFile;
use crate::path::RelPath;

/// A v1 `index_project_requested` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct V1Event {
    pub schema_version: String,
    pub event_type: String,
    pub event_id: Uuid,
    pub project: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub occurred_at: Option<String>,
    pub files: Vec<V1File>,
}

/// A v1 file: a path relative to the consumer's configured mount root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct V1File {
    pub file_path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

/// A validated v1 file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V1FileSpec {
    pub path: RelPath,
    /// v1 producers did not always send a checksum; when present it is verified.
    pub checksum: Option<Sha256Hex>,
}

impl V1File {
    pub fn validate(&self) -> Result<V1FileSpec, InvalidFile> {
        let path = RelPath::new(self.file_path.as_str()).map_err(|error| InvalidFile::Path {
            path: self.file_path.clone(),
            error,
        })?;
        let checksum = self
            .checksum
            .as_deref()
            .map(str::parse::<Sha256Hex>)
            .transpose()
            .map_err(InvalidFile::Checksum)?;
        Ok(V1FileSpec { path, checksum })
    }
}
