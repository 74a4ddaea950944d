//! A compact, inverted form of the SPDX license store, matched with askalono's algorithm.
//!
//! askalono (the `spdx` crate's `detection` module) scores a text against a license by
//! the Dice coefficient of their word-bigram multisets, and keeps each license's bigrams
//! as a `HashMap<String, u32>`: about 40 MB for the SPDX list, the largest fixed cost of
//! the consumer, and every text is compared with every license one map at a time
//! (tens of milliseconds per LICENSE file, most of a second for a Debian `copyright`).
//!
//! This index keeps the same numbers in another shape: each distinct bigram once, as a
//! 64-bit hash in one sorted array, with a posting list of `(entry, count)` for the
//! entries that contain it. Scoring a text walks its own bigrams once and adds to every
//! entry's match count, so the cost follows the text, not the store; the memory is a few
//! bytes per posting. Scores are askalono's to the last bit (same normalisation, same
//! arithmetic); `tests` compares both on the same texts. The scanner below is askalono's
//! elimination scan (`spdx::detection::scan::Scanner` with `optimize`), over line views
//! of the sample.

use std::collections::HashMap;
use std::hash::Hasher;

use spdx::detection::Store;

use super::preproc::{apply_aggressive, apply_normalizers};

/// What an entry of the store is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// A license's full text.
    Original,
    /// Another form of the full text.
    Alternate,
    /// A license's standard header.
    Header,
}

#[derive(Debug)]
struct Entry {
    license: u32,
    kind: Kind,
    /// Bigrams in the entry (with repeats): the Dice denominator's half.
    size: u32,
}

#[derive(Debug, Clone, Copy)]
struct Posting {
    entry: u32,
    count: u32,
}

/// The best entry for a text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Match {
    entry: u32,
    pub score: f32,
}

/// The bigram multiset of a normalised text: sorted distinct hashes with their counts.
#[derive(Debug, Default)]
pub(super) struct Grams {
    grams: Vec<(u64, u32)>,
    size: u32,
}

impl Grams {
    /// The bigrams of text already passed through `apply_aggressive` (words separated by
    /// single spaces), as askalono's `NgramSet::analyze` forms them.
    fn of_processed(text: &str) -> Self {
        let mut hashes: Vec<u64> = Vec::new();
        let mut words = text.split(' ');
        if let Some(mut prev) = words.next() {
            for w in words {
                hashes.push(bigram_hash(prev, w));
                prev = w;
            }
        }
        let size = u32::try_from(hashes.len()).unwrap_or(u32::MAX);
        hashes.sort_unstable();
        let mut grams: Vec<(u64, u32)> = Vec::new();
        for h in hashes {
            match grams.last_mut() {
                Some((last, n)) if *last == h => *n += 1,
                _ => grams.push((h, 1)),
            }
        }
        Self { grams, size }
    }
}

/// A stable hash of the bigram `a b` (the std hasher with its fixed zero keys: the index
/// is built and queried in one process).
fn bigram_hash(a: &str, b: &str) -> u64 {
    #[allow(deprecated)] // SipHasher's fixed keys are the point; nothing is persisted
    let mut h = std::hash::SipHasher::new();
    h.write(a.as_bytes());
    h.write_u8(b' ');
    h.write(b.as_bytes());
    h.finish()
}

/// A sample text split into normalised lines, with the view askalono's optimiser moves.
#[derive(Debug, Clone)]
pub(super) struct Sample {
    lines: Vec<String>,
    view: (usize, usize),
}

impl Sample {
    pub fn new(text: &str) -> Self {
        let lines = apply_normalizers(text);
        let view = (0, lines.len());
        Self { lines, view }
    }

    /// The bigrams of the lines in view.
    pub fn grams(&self) -> Grams {
        self.grams_of(self.view.0, self.view.1)
    }

    /// The bigrams of lines `start..end` (askalono's `TextData::with_view`).
    fn grams_of(&self, start: usize, end: usize) -> Grams {
        Grams::of_processed(&apply_aggressive(&self.lines[start..end].join("\n")))
    }

    /// Blanks lines `start..end` and resets the view to all lines (askalono's
    /// `TextData::white_out`).
    fn white_out(&mut self, (start, end): (usize, usize)) {
        for line in &mut self.lines[start..end] {
            line.clear();
        }
        self.view = (0, self.lines.len());
    }
}

/// The index. Built once from the SPDX store; read-only afterwards.
#[derive(Debug)]
pub(super) struct Index {
    names: Vec<Box<str>>,
    entries: Vec<Entry>,
    /// Licenses whose entries a source header is compared with.
    in_headers: Vec<bool>,
    /// Distinct bigram hashes, sorted.
    grams: Vec<u64>,
    /// `postings[starts[i]..starts[i + 1]]` are the entries holding `grams[i]`, by entry.
    starts: Vec<u32>,
    postings: Vec<Posting>,
}

impl Index {
    /// Builds the index from a store that still holds its licenses' normalised texts
    /// (`Store::load_inline`). `in_headers` picks the licenses a header is compared with.
    pub fn build(store: &Store, in_headers: impl Fn(&str, bool) -> bool) -> Option<Self> {
        let mut licenses: Vec<_> = store.iter().collect();
        licenses.sort_by(|a, b| a.0.cmp(b.0));
        let mut names = Vec::with_capacity(licenses.len());
        let mut header_flags = Vec::with_capacity(licenses.len());
        let mut entries = Vec::new();
        let mut pairs: Vec<(u64, Posting)> = Vec::new();
        for (l, (name, e)) in licenses.into_iter().enumerate() {
            let license = u32::try_from(l).ok()?;
            names.push(name.as_str().into());
            header_flags.push(in_headers(name, !e.headers.is_empty()));
            let texts = std::iter::once((Kind::Original, &e.original))
                .chain(e.alternates.iter().map(|t| (Kind::Alternate, t)))
                .chain(e.headers.iter().map(|t| (Kind::Header, t)));
            for (kind, text) in texts {
                let entry = u32::try_from(entries.len()).ok()?;
                let g = Grams::of_processed(&apply_aggressive(&text.lines().join("\n")));
                entries.push(Entry {
                    license,
                    kind,
                    size: g.size,
                });
                pairs.extend(
                    g.grams
                        .into_iter()
                        .map(|(h, count)| (h, Posting { entry, count })),
                );
            }
        }
        // by bigram, then by entry (entries were numbered in order, the sort is stable)
        pairs.sort_by_key(|(h, _)| *h);
        let mut grams = Vec::new();
        let mut starts = Vec::new();
        let mut postings = Vec::with_capacity(pairs.len());
        for (h, p) in pairs {
            if grams.last() != Some(&h) {
                grams.push(h);
                starts.push(u32::try_from(postings.len()).ok()?);
            }
            postings.push(p);
        }
        starts.push(u32::try_from(postings.len()).ok()?);
        grams.shrink_to_fit();
        starts.shrink_to_fit();
        Some(Self {
            names,
            entries,
            in_headers: header_flags,
            grams,
            starts,
            postings,
        })
    }

    /// Bytes the index holds on the heap (for the benches' memory accounting).
    pub fn heap_bytes(&self) -> usize {
        self.names.iter().map(|n| n.len()).sum::<usize>()
            + self.entries.capacity() * size_of::<Entry>()
            + self.grams.capacity() * size_of::<u64>()
            + self.starts.capacity() * size_of::<u32>()
            + self.postings.capacity() * size_of::<Posting>()
    }

    pub fn name(&self, m: Match) -> &str {
        &self.names[self.entries[m.entry as usize].license as usize]
    }

    pub fn kind(&self, m: Match) -> Kind {
        self.entries[m.entry as usize].kind
    }

    fn postings_of(&self, gram: u64) -> &[Posting] {
        match self.grams.binary_search(&gram) {
            Ok(i) => &self.postings[self.starts[i] as usize..self.starts[i + 1] as usize],
            Err(_) => &[],
        }
    }

    /// askalono's `NgramSet::dice`, with its arithmetic.
    fn dice(matches: u32, a: u32, b: u32) -> f32 {
        if a == 0 || b == 0 {
            return 0.0;
        }
        (2.0 * matches as f32) / ((a as usize + b as usize) as f32)
    }

    /// The best-scoring entry for `sample` (askalono's `Store::analyze`), among the
    /// licenses `headers_only` allows; ties go to the first entry in name order.
    pub fn analyze(&self, sample: &Grams, headers_only: bool) -> Option<Match> {
        let mut matches = vec![0u32; self.entries.len()];
        for &(g, count) in &sample.grams {
            for p in self.postings_of(g) {
                matches[p.entry as usize] += count.min(p.count);
            }
        }
        let mut best: Option<Match> = None;
        for (i, (e, m)) in self.entries.iter().zip(matches).enumerate() {
            if headers_only && !self.in_headers[e.license as usize] {
                continue;
            }
            let score = Self::dice(m, sample.size, e.size);
            if best.is_none_or(|b| score > b.score) {
                best = Some(Match {
                    entry: u32::try_from(i).unwrap_or(u32::MAX),
                    score,
                });
            }
        }
        best
    }

    /// The score of `sample` against one entry.
    fn score(&self, sample: &Grams, entry: u32) -> f32 {
        Self::dice(
            self.matches(sample, entry),
            sample.size,
            self.entries[entry as usize].size,
        )
    }

    /// The bigrams `sample` shares with one entry (counted as askalono counts them).
    fn matches(&self, sample: &Grams, entry: u32) -> u32 {
        let mut matches = 0;
        for &(g, count) in &sample.grams {
            let ps = self.postings_of(g);
            if let Ok(i) = ps.binary_search_by_key(&entry, |p| p.entry) {
                matches += count.min(ps[i].count);
            }
        }
        matches
    }

    /// Whether any part of the text whose bigrams are `whole` could score `threshold`
    /// against `entry`. A part shares at most what the whole shares with the entry (a
    /// few more at most where normalising a part joins lines differently: the slack),
    /// and scores best when it is nothing but those: `2m / (m + |entry|)`.
    fn could_reach(&self, whole: &Grams, entry: u32, threshold: f32) -> bool {
        const SLACK: u32 = 16;
        let size = self.entries[entry as usize].size;
        let m = (self.matches(whole, entry) + SLACK).min(size);
        Self::dice(m, m, size) >= threshold
    }

    /// askalono's `TextData::optimize_bounds`: the sub-view of `sample` that best
    /// matches `entry`, first moving its end, then its start (ternary searches).
    fn optimize_bounds(&self, sample: &Sample, entry: u32) -> ((usize, usize), f32) {
        let (start, end) = sample.view;
        let (new_end, _) = search_optimize((start, end), |e| {
            self.score(&sample.grams_of(start, e), entry)
        });
        let (new_start, score) = search_optimize((start, new_end), |s| {
            self.score(&sample.grams_of(s, new_end), entry)
        });
        ((new_start, new_end), score)
    }

    /// askalono's elimination scan with `optimize`: the match of the whole text if it
    /// scores above `threshold`; otherwise the licenses found in parts of it (a preamble,
    /// several licenses in one file), each part located, blanked, and the rest searched
    /// again, at most `max_passes` times. Returns the whole-text match, or the best part.
    pub fn scan(&self, sample: &Sample, threshold: f32, max_passes: usize) -> Option<Match> {
        let mut grams = sample.grams();
        let mut analysis = self.analyze(&grams, false)?;
        if analysis.score > threshold {
            return Some(analysis);
        }
        let mut best: Option<Match> = None;
        let mut current = sample.clone();
        for _ in 0..max_passes {
            // Locating the part costs a normalisation per candidate boundary; skipped
            // when no part of the text could reach the threshold (askalono would search
            // and then stop on the score, with the same result).
            if !self.could_reach(&grams, analysis.entry, threshold) {
                break;
            }
            let (optimized, score) = self.optimize_bounds(&current, analysis.entry);
            if score < threshold {
                break;
            }
            // ties go to the later part, as askalono's callers take `max_by`
            if best.is_none_or(|b| score >= b.score) {
                best = Some(Match {
                    entry: analysis.entry,
                    score,
                });
            }
            current.white_out(optimized);
            grams = current.grams();
            analysis = self.analyze(&grams, false)?;
        }
        best
    }
}

/// askalono's `search_optimize`: a ternary search for the index in `[left, right]` with
/// the highest score, scores memoised; ties at the end go to the later index.
fn search_optimize(view: (usize, usize), score: impl Fn(usize) -> f32) -> (usize, f32) {
    let mut memo: HashMap<usize, f32> = HashMap::new();
    let mut check = |i: usize| *memo.entry(i).or_insert_with(|| score(i));
    let (mut left, mut right) = view;
    loop {
        if right - left <= 3 {
            return (left..=right)
                .map(|x| (x, check(x)))
                .fold((0, 0.0), |acc, x| if x.1 >= acc.1 { x } else { acc });
        }
        let low = (left * 2 + right) / 3;
        let high = (left + right * 2) / 3;
        if check(low) > check(high) {
            right = high - 1;
        } else {
            left = low + 1;
        }
    }
}

#[cfg(test)]
mod tests;
