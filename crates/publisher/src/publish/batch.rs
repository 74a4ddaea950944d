//! Batching file entries into v2 events under a file-count and a byte limit. Sizes are
//! measured on the serialized JSON, so no event exceeds the limit.

use tributary_events::v2::{IndexProjectRequested, WireFile};

/// Slack for fields whose length varies between measuring and sending (the batch
/// number's digits).
const SLACK_BYTES: usize = 64;

/// Accumulates entries; hands out full batches.
#[derive(Debug)]
pub struct Batcher {
    template: IndexProjectRequested,
    envelope_bytes: usize,
    max_files: usize,
    max_bytes: usize,
    files: Vec<WireFile>,
    bytes: usize,
    next_batch: u32,
}

/// A batch ready to produce.
#[derive(Debug)]
pub struct Batch {
    pub number: u32,
    pub event: IndexProjectRequested,
    pub payload: Vec<u8>,
}

/// The serialized size of one entry inside the `files` array (its JSON plus a comma).
pub fn entry_size(file: &WireFile) -> usize {
    serde_json::to_vec(file).map_or(usize::MAX, |v| v.len() + 1)
}

impl Batcher {
    /// `template` is the envelope every batch shares; its `files` are ignored.
    pub fn new(mut template: IndexProjectRequested, max_files: usize, max_bytes: usize) -> Self {
        template.files.clear();
        let envelope_bytes =
            serde_json::to_vec(&template).map_or(max_bytes, |v| v.len()) + SLACK_BYTES;
        Self {
            template,
            envelope_bytes,
            max_files,
            max_bytes,
            files: Vec::new(),
            bytes: 0,
            next_batch: 0,
        }
    }

    /// Whether an entry of `size` bytes (see [`entry_size`]) can go in any batch.
    pub fn fits_alone(&self, size: usize) -> bool {
        size <= self.max_entry_bytes()
    }

    /// The largest entry a batch can hold.
    pub fn max_entry_bytes(&self) -> usize {
        self.max_bytes.saturating_sub(self.envelope_bytes)
    }

    /// Adds an entry. Returns the batch that had to be closed to make room, if any.
    /// The entry must fit alone (checked by the caller with [`Self::fits_alone`]).
    pub fn push(&mut self, file: WireFile, size: usize) -> Option<Batch> {
        debug_assert!(self.fits_alone(size));
        let full = !self.files.is_empty()
            && (self.files.len() >= self.max_files
                || self.envelope_bytes + self.bytes + size > self.max_bytes);
        let closed = if full { self.take() } else { None };
        self.files.push(file);
        self.bytes += size;
        closed
    }

    /// Closes the current batch, if it has files.
    pub fn take(&mut self) -> Option<Batch> {
        if self.files.is_empty() {
            return None;
        }
        let mut event = self.template.clone();
        event.event_id = uuid::Uuid::now_v7();
        event.occurred_at = time::OffsetDateTime::now_utc();
        event.batch = self.next_batch;
        event.files = std::mem::take(&mut self.files);
        self.bytes = 0;
        self.next_batch += 1;
        let payload = serde_json::to_vec(&event).expect("events serialize");
        debug_assert!(
            payload.len() <= self.max_bytes,
            "batch of {} bytes over {}",
            payload.len(),
            self.max_bytes
        );
        Some(Batch {
            number: event.batch,
            event,
            payload,
        })
    }

    /// Batches closed so far.
    pub fn batches(&self) -> u32 {
        self.next_batch
    }
}

#[cfg(test)]
mod tests;
