//! Per-file decisions: how content is encoded inline, and which strategies to try in
//! which order. Pure logic, unit-tested without services.

use base64::Engine as _;
use tributary_events::v2::{ContentEncoding, ContentStrategy};

use crate::config::StrategyMode;

/// Inline encoding: valid UTF-8 travels as is; anything else (binary, Latin-1, invalid
/// UTF-8) as standard padded base64. Decoding gives back the exact bytes.
pub fn encode_inline(bytes: &[u8]) -> (String, ContentEncoding) {
    match std::str::from_utf8(bytes) {
        Ok(s) => (s.to_owned(), ContentEncoding::Utf8),
        Err(_) => (
            base64::engine::general_purpose::STANDARD.encode(bytes),
            ContentEncoding::Base64,
        ),
    }
}

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
        StrategyMode::GitReference => vec![Git],
    };
    order.retain(|s| match s {
        Object => avail.store_configured,
        Git => avail.git_reference,
        Inline => true,
    });
    order
}

#[cfg(test)]
mod tests;
