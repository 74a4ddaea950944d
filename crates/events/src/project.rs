//! Project names: the one rule every producer and consumer of events applies.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Longest project name accepted, in bytes.
pub const MAX_PROJECT_BYTES: usize = 256;

/// A project name: 1 to [`MAX_PROJECT_BYTES`] bytes, no control characters. The wire
/// types keep a plain `String` (so a bad name is rejected with a reason, not a decode
/// failure); configuration and validation go through this type.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProjectName(String);

/// Why a string is not a [`ProjectName`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProjectNameError {
    #[error("project name is empty")]
    Empty,
    #[error("project name is longer than {MAX_PROJECT_BYTES} bytes or has control characters")]
    Invalid,
}

impl ProjectName {
    pub fn new(s: impl Into<String>) -> Result<Self, ProjectNameError> {
        let s = s.into();
        Self::check(&s)?;
        Ok(Self(s))
    }

    /// The rule, for callers that only need a yes or no on a borrowed string.
    pub fn check(s: &str) -> Result<(), ProjectNameError> {
        if s.is_empty() {
            return Err(ProjectNameError::Empty);
        }
        if s.len() > MAX_PROJECT_BYTES || s.chars().any(char::is_control) {
            return Err(ProjectNameError::Invalid);
        }
        Ok(())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ProjectName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ProjectName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl AsRef<str> for ProjectName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<ProjectName> for String {
    fn from(p: ProjectName) -> Self {
        p.0
    }
}

impl TryFrom<String> for ProjectName {
    type Error = ProjectNameError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::new(s)
    }
}

impl Serialize for ProjectName {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ProjectName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::new(s).map_err(serde::de::Error::custom)
    }
}
