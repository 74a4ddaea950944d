//! Token counts under OpenAI's `o200k_base` and `cl100k_base` encodings, equal to
//! tiktoken's `len(encode_ordinary(text))` (an integration test compares them with
//! tiktoken itself on real code).
//!
//! Why not a crate: `tiktoken-rs` and GitHub's `bpe-openai` both count exactly, but hold
//! 53 MiB and 67 MiB resident for `o200k_base` alone (measured on this machine), against
//! a consumer whose whole working set beside its caches is bounded at 128 MiB. Here an
//! encoding is its token bytes in one buffer and a table of indices into it (about 5 MiB
//! for `o200k_base`), split by the encoding's own pre-tokenizer and merged as tiktoken
//! merges: the lowest-ranked adjacent pair first, the leftmost of equals. The merge keeps
//! its candidates in a heap, so a hostile piece (a megabyte of punctuation) costs
//! `n log n`, not tiktoken's `n²`. Short pieces repeat (identifiers, indentation), so
//! each thread remembers the counts of the last few thousand it saw.

use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hash::BuildHasher;
use std::sync::LazyLock;

use base64::Engine as _;
use regex_automata::hybrid::dfa::{Cache, DFA};
use regex_automata::{Anchored, Input};
use rustc_hash::{FxBuildHasher, FxHashMap};

/// An encoding whose token counts documents carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Encoding {
    /// GPT-4o, GPT-4.1, o-series and later models.
    O200kBase,
    /// GPT-4, GPT-3.5 and the text-embedding-3 models.
    Cl100kBase,
}

impl Encoding {
    pub const ALL: [Encoding; 2] = [Encoding::O200kBase, Encoding::Cl100kBase];

    /// tiktoken's name for it, as documents name it.
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::O200kBase => "o200k_base",
            Encoding::Cl100kBase => "cl100k_base",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == name)
    }

    fn tokenizer(self) -> &'static Tokenizer {
        match self {
            Encoding::O200kBase => &O200K,
            Encoding::Cl100kBase => &CL100K,
        }
    }

    /// Loads the encoding's tables now rather than on the first count (a daemon warms
    /// up before it takes load).
    pub fn warm_up(self) {
        LazyLock::force(match self {
            Encoding::O200kBase => &O200K,
            Encoding::Cl100kBase => &CL100K,
        });
    }

    /// The number of tokens tiktoken's `encode_ordinary` gives for `text` (special
    /// tokens are ordinary text here, as in a file).
    pub fn count(self, text: &str) -> u64 {
        let t = self.tokenizer();
        PIECES.with(|state| {
            let mut state = state.borrow_mut();
            let (pieces, dfa) = &mut state[self as usize];
            let dfa = dfa.get_or_insert_with(|| t.split.create_cache());
            let mut n = 0u64;
            let mut at = 0;
            while let Some(end) = t.next_piece(text, at, dfa) {
                n += t.count_piece(&text.as_bytes()[at..end], pieces);
                at = end;
            }
            n
        })
    }
}

/// Counts remembered per thread and encoding; pieces up to this long are remembered.
const CACHED_PIECE_BYTES: usize = 24;
/// Entries a thread remembers per encoding before it starts afresh (~1 MiB).
const CACHED_PIECES: usize = 16 * 1024;

/// Per thread and encoding: the counts of recent short pieces, and the pre-tokenizer's
/// lazy DFA states.
type ThreadState = (FxHashMap<Box<[u8]>, u32>, Option<Cache>);

thread_local! {
    static PIECES: RefCell<[ThreadState; 2]> = RefCell::default();
}

static O200K: LazyLock<Tokenizer> = LazyLock::new(|| {
    Tokenizer::new(
        include_bytes!("../data/tiktoken/o200k_base.tiktoken.zst"),
        &[
            "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
            "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
            "\\p{N}{1,3}",
            " ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*",
            "\\s*[\\r\\n]+",
        ],
    )
});

static CL100K: LazyLock<Tokenizer> = LazyLock::new(|| {
    Tokenizer::new(
        include_bytes!("../data/tiktoken/cl100k_base.tiktoken.zst"),
        &[
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)",
            "[^\\r\\n\\p{L}\\p{N}]?\\p{L}+",
            "\\p{N}{1,3}",
            " ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*",
            "\\s*[\\r\\n]+",
        ],
    )
});

/// One encoding: its ranks and its pre-tokenizer.
struct Tokenizer {
    /// Every token's bytes, one after the other; token `r` is
    /// `bytes[starts[r]..starts[r + 1]]`.
    bytes: Vec<u8>,
    starts: Vec<u32>,
    /// Token bytes → rank, as indices into `starts` found by hashing the bytes.
    index: rank_index::Index,
    /// tiktoken's pattern as alternatives, the negative look-ahead `\s+(?!\S)` written
    /// as two more: `\s+$` and `\s+\s` (whose last character is given back), then `\s+`;
    /// a lazy DFA searched anchored at each piece's start (one per thread's cache).
    split: DFA,
    /// Patterns whose match ends one character early.
    lookahead: Vec<bool>,
}

impl Tokenizer {
    fn new(compressed: &[u8], alternatives: &[&str]) -> Self {
        let text = zstd::decode_all(compressed).expect("the embedded encoding decompresses");
        let mut bytes = Vec::with_capacity(text.len() / 2);
        let mut starts = vec![0u32];
        for (i, line) in text
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .enumerate()
        {
            let (token, rank) = line
                .iter()
                .position(|b| *b == b' ')
                .map(|sp| (&line[..sp], &line[sp + 1..]))
                .expect("token and rank on each line");
            // ranks are the line numbers, 0 up: the position in `starts` is the rank
            assert_eq!(
                std::str::from_utf8(rank)
                    .ok()
                    .and_then(|r| r.parse::<usize>().ok()),
                Some(i),
                "ranks in order"
            );
            base64::engine::general_purpose::STANDARD
                .decode_vec(token, &mut bytes)
                .expect("base64 token");
            starts.push(u32::try_from(bytes.len()).expect("under 4 GiB"));
        }
        let ranks = starts.len() - 1;
        let mut index = rank_index::Index::with_capacity(ranks);
        for (rank, w) in starts.windows(2).enumerate() {
            index.insert(rank as u32, &bytes[w[0] as usize..w[1] as usize]);
        }
        Tokenizer {
            index,
            bytes,
            starts,
            split: {
                let first = alternatives.join("|");
                let patterns = [first.as_str(), "\\s+$", "\\s+\\s", "\\s+"];
                DFA::new_many(&patterns).expect("pre-tokenizer compiles")
            },
            lookahead: vec![false, false, true, false],
        }
    }

    fn token(&self, rank: u32) -> &[u8] {
        let r = rank as usize;
        &self.bytes[self.starts[r] as usize..self.starts[r + 1] as usize]
    }

    fn rank(&self, bytes: &[u8]) -> Option<u32> {
        self.index.find(bytes, |rank| self.token(rank))
    }

    /// The end of the piece of `text` that starts at `at` (`None` at the end): the
    /// longest leftmost-first match of tiktoken's pattern there.
    fn next_piece(&self, text: &str, at: usize, cache: &mut Cache) -> Option<usize> {
        if at >= text.len() {
            return None;
        }
        let input = Input::new(text).range(at..).anchored(Anchored::Yes);
        let found = self.split.try_search_fwd(cache, &input).ok().flatten();
        let mut end = match found {
            Some(m) if self.lookahead[m.pattern().as_usize()] => {
                let end = m.offset();
                end - text[at..end].chars().next_back().map_or(0, char::len_utf8)
            }
            Some(m) => m.offset(),
            None => at,
        };
        if end <= at {
            // nothing matched a character (`\s+` and the catch-alls make this
            // impossible for text), but never loop
            end = at + text[at..].chars().next().map_or(1, char::len_utf8);
        }
        Some(end)
    }

    /// The pieces tiktoken's pattern splits `text` into.
    #[cfg(test)]
    fn split<'t>(&'t self, text: &'t str) -> impl Iterator<Item = &'t str> + 't {
        let mut cache = self.split.create_cache();
        let mut at = 0;
        std::iter::from_fn(move || {
            let end = self.next_piece(text, at, &mut cache)?;
            let piece = &text[at..end];
            at = end;
            Some(piece)
        })
    }

    fn count_piece(&self, piece: &[u8], cache: &mut FxHashMap<Box<[u8]>, u32>) -> u64 {
        // every byte is a token of its own
        if piece.len() == 1 {
            return 1;
        }
        if piece.len() <= CACHED_PIECE_BYTES {
            if let Some(n) = cache.get(piece) {
                return u64::from(*n);
            }
            let n = self.merge(piece);
            if cache.len() >= CACHED_PIECES {
                cache.clear();
            }
            cache.insert(piece.into(), u32::try_from(n).unwrap_or(u32::MAX));
            return n;
        }
        self.merge(piece)
    }

    /// Tokens in one piece: the whole piece if it is a token, else tiktoken's merge —
    /// repeatedly join the adjacent pair whose joined bytes have the lowest rank (the
    /// leftmost of equals) until no joined pair is a token.
    fn merge(&self, piece: &[u8]) -> u64 {
        if piece.len() <= 1 || self.rank(piece).is_some() {
            return piece.len().min(1) as u64;
        }
        let n = piece.len();
        // parts as a linked list over their start offsets; part i spans
        // piece[i..next[i]]
        let mut next: Vec<usize> = (1..=n).collect();
        let mut prev: Vec<usize> = (0..n).map(|i| i.wrapping_sub(1)).collect();
        let mut alive = vec![true; n];
        let mut parts = n as u64;
        // candidates: (rank of part i joined with its next, i, the joined end) — an entry
        // is stale once part i or its neighbour has changed
        let mut heap: BinaryHeap<Reverse<(u32, usize, usize)>> = BinaryHeap::with_capacity(n);
        let pair = |i: usize, next: &[usize]| -> Option<(u32, usize)> {
            let mid = next[i];
            if mid >= n {
                return None;
            }
            let end = next[mid];
            self.rank(&piece[i..end]).map(|r| (r, end))
        };
        for i in 0..n - 1 {
            if let Some((r, end)) = pair(i, &next) {
                heap.push(Reverse((r, i, end)));
            }
        }
        while let Some(Reverse((_, i, end))) = heap.pop() {
            // stale: the part is gone, or its next part is no longer what was joined
            if !alive[i] || next[i] >= n || next[next[i]] != end {
                continue;
            }
            let mid = next[i];
            alive[mid] = false;
            next[i] = end;
            if end < n {
                prev[end] = i;
            }
            parts -= 1;
            if let Some((r, e)) = pair(i, &next) {
                heap.push(Reverse((r, i, e)));
            }
            let before = prev[i];
            if before < n
                && let Some((r, e)) = pair(before, &next)
            {
                heap.push(Reverse((r, before, e)));
            }
        }
        parts
    }
}

/// A set of token ranks looked up by their bytes: open addressing over `u32` ranks (4
/// bytes a slot), the bytes compared through the tokenizer's buffer, so the table holds
/// no copy of any token.
mod rank_index {
    use super::*;

    const EMPTY: u32 = u32::MAX;

    pub(super) struct Index {
        slots: Vec<u32>,
        mask: usize,
    }

    fn hash(bytes: &[u8]) -> usize {
        FxBuildHasher.hash_one(bytes) as usize
    }

    impl Index {
        pub(super) fn with_capacity(n: usize) -> Self {
            // at most half full: short probe sequences
            let size = (n * 2).next_power_of_two().max(16);
            Index {
                slots: vec![EMPTY; size],
                mask: size - 1,
            }
        }

        pub(super) fn insert(&mut self, rank: u32, bytes: &[u8]) {
            let mut at = hash(bytes) & self.mask;
            while self.slots[at] != EMPTY {
                at = (at + 1) & self.mask;
            }
            self.slots[at] = rank;
        }

        pub(super) fn find<'b>(
            &self,
            bytes: &[u8],
            token: impl Fn(u32) -> &'b [u8],
        ) -> Option<u32> {
            let mut at = hash(bytes) & self.mask;
            loop {
                let rank = self.slots[at];
                if rank == EMPTY {
                    return None;
                }
                if token(rank) == bytes {
                    return Some(rank);
                }
                at = (at + 1) & self.mask;
            }
        }
    }
}

#[cfg(test)]
mod tests;
