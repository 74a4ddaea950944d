//! Which offset may be stored, per partition, when messages finish out of order.
//!
//! A partition's messages are begun in order by its worker, but a completed run's
//! summary finishes on its own task, later. The offset to store is the highest one
//! below which *every* begun message is finished: the smallest unfinished offset, or
//! one past the largest finished one when nothing is unfinished. A revoked partition's
//! state is dropped with a new generation, so a late finish of a message from before
//! the revocation can never move a re-assigned partition's offset.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

#[derive(Debug, Default)]
struct Partition {
    generation: u64,
    unfinished: BTreeSet<i64>,
    finished_max: Option<i64>,
    stored: Option<i64>,
}

/// A begun message: finish it with [`Offsets::finish`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Begun {
    partition: i32,
    offset: i64,
    generation: u64,
}

impl Begun {
    pub fn partition(&self) -> i32 {
        self.partition
    }

    pub fn offset(&self) -> i64 {
        self.offset
    }
}

/// The offset bookkeeping of one input topic.
#[derive(Debug, Default)]
pub struct Offsets {
    partitions: Mutex<HashMap<i32, Partition>>,
    generations: std::sync::atomic::AtomicU64,
}

impl Offsets {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i32, Partition>> {
        self.partitions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Marks `offset` of `partition` as begun (in order within the partition).
    pub fn begin(&self, partition: i32, offset: i64) -> Begun {
        let mut parts = self.lock();
        let p = parts.entry(partition).or_insert_with(|| Partition {
            generation: self
                .generations
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            ..Partition::default()
        });
        p.unfinished.insert(offset);
        Begun {
            partition,
            offset,
            generation: p.generation,
        }
    }

    /// Marks a begun message finished. Returns the offset to store (the next one to
    /// consume) when it moved forward; `None` when it did not, or when the partition
    /// was revoked since the message began.
    pub fn finish(&self, begun: Begun) -> Option<i64> {
        let mut parts = self.lock();
        let p = parts
            .get_mut(&begun.partition)
            .filter(|p| p.generation == begun.generation)?;
        p.unfinished.remove(&begun.offset);
        p.finished_max = p.finished_max.max(Some(begun.offset));
        let next = match p.unfinished.first() {
            Some(&first) => first,
            None => p.finished_max? + 1,
        };
        (p.stored < Some(next)).then(|| {
            p.stored = Some(next);
            next
        })
    }

    /// Messages of `partition` begun and not finished.
    pub fn unfinished(&self, partition: i32) -> usize {
        self.lock()
            .get(&partition)
            .map_or(0, |p| p.unfinished.len())
    }

    /// Forgets a revoked partition: messages begun before are ignored when they finish.
    pub fn revoke(&self, partition: i32) {
        self.lock().remove(&partition);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stored_offset_never_passes_an_unfinished_message() {
        let o = Offsets::default();
        let a = o.begin(0, 10);
        let b = o.begin(0, 11);
        let c = o.begin(0, 12);
        // 11 and 12 finish while 10 (a summary) is still running: nothing moves past 10
        assert_eq!(o.finish(b), Some(10));
        assert_eq!(o.finish(c), None);
        // 10 finishes: everything up to 12 is done, the next to consume is 13
        assert_eq!(o.finish(a), Some(13));
        let d = o.begin(0, 13);
        assert_eq!(o.finish(d), Some(14));
        // partitions are independent
        let x = o.begin(1, 5);
        assert_eq!(o.finish(x), Some(6));
    }

    #[test]
    fn a_late_finish_after_revocation_moves_nothing() {
        let o = Offsets::default();
        let stale = o.begin(3, 100);
        o.revoke(3);
        let fresh = o.begin(3, 250);
        assert_eq!(
            o.finish(stale),
            None,
            "a message from before the revocation"
        );
        assert_eq!(o.finish(fresh), Some(251));
    }

    #[test]
    fn an_abandoned_message_holds_the_offset_below_it() {
        let o = Offsets::default();
        let a = o.begin(0, 7);
        let b = o.begin(0, 8);
        // stopping: 7 is abandoned (never finished), 8 is done
        assert_eq!(o.finish(b), Some(7), "7 is redelivered after a restart");
        let _ = a;
    }
}
