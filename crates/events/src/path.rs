//! Relative, `/`-separated file paths that cannot escape the root they are joined to.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Longest path accepted, in bytes (Linux PATH_MAX).
pub const MAX_PATH_BYTES: usize = 4096;

/// A file path inside a repository: relative, `/`-separated, without `.`, `..` or empty
/// components, without NUL. Joining it to a directory never leaves that directory
/// lexically (symlinks are the resolver's concern).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RelPath(String);

/// Why a string is not a [`RelPath`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("path is empty")]
    Empty,
    #[error("path is absolute")]
    Absolute,
    #[error("path has a `..` component")]
    ParentComponent,
    #[error("path has a `.` or empty component")]
    EmptyOrDotComponent,
    #[error("path contains a NUL byte")]
    Nul,
    #[error("path is longer than {MAX_PATH_BYTES} bytes")]
    TooLong,
}

impl PathError {
    /// A stable short code for this error (used in tests, metrics-free diagnostics).
    pub fn code(self) -> &'static str {
        match self {
            PathError::Empty => "path_empty",
            PathError::Absolute => "path_absolute",
            PathError::ParentComponent => "path_parent",
            PathError::EmptyOrDotComponent => "path_dot_or_empty_component",
            PathError::Nul => "path_nul",
            PathError::TooLong => "path_too_long",
        }
    }
}

impl RelPath {
    pub fn new(s: impl Into<String>) -> Result<Self, PathError> {
        let s = s.into();
        Self::check(&s)?;
        Ok(Self(s))
    }

    fn check(s: &str) -> Result<(), PathError> {
        if s.is_empty() {
            return Err(PathError::Empty);
        }
        if s.len() > MAX_PATH_BYTES {
            return Err(PathError::TooLong);
        }
        if s.contains('\0') {
            return Err(PathError::Nul);
        }
        if s.starts_with('/') {
            return Err(PathError::Absolute);
        }
        // `..` wins over other component errors: it is the one that matters.
        if s.split('/').any(|c| c == "..") {
            return Err(PathError::ParentComponent);
        }
        if s.split('/').any(|c| c.is_empty() || c == ".") {
            return Err(PathError::EmptyOrDotComponent);
        }
        Ok(())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The file name's extension, if any (`"rs"` for `src/lib.rs`).
    pub fn extension(&self) -> Option<&str> {
        let name = self.0.rsplit('/').next().unwrap_or(&self.0);
        match name.rsplit_once('.') {
            Some((stem, ext)) if !stem.is_empty() && !ext.is_empty() => Some(ext),
            _ => None,
        }
    }
}

impl fmt::Display for RelPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for RelPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl AsRef<str> for RelPath {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Serialize for RelPath {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for RelPath {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        RelPath::new(String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}
