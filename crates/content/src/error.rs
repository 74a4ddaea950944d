//! The content crate's error type.

/// Everything that can go wrong moving content.
#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    #[error("invalid object store configuration: {0}")]
    Config(String),
}

impl ContentError {
    /// Whether trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            ContentError::Config(_) => false,
        }
    }
}
