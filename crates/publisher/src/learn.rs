//! The learned content strategy: a small model of how each way of carrying a file's
//! bytes has behaved lately, by size class, and the choice it makes for `auto`.
//!
//! Per (strategy, size class — powers of two) it keeps a decayed count of observations,
//! their mean latency and their failure rate: uploads the publisher timed itself, and
//! (through `tributary-publisher learn`) the consumers' fetches read off their
//! documents (`timing.resolve_us`, `timing.resolved_from`) and dead letters. For a file
//! larger than the inline limit that could go either by object storage or by git
//! reference, the expected cost of each is its dollars under the price table plus its
//! delay (mean latency, and a failure as ten minutes of delay) priced at
//! `delay_usd_per_second`; the cheaper wins. With fewer than [`MIN_WEIGHT`] recent
//! observations of either, the rules decide (object storage first) and the log says so.
//! Hand-written: a few running means per cell, where a modelling crate would hide what
//! is being learned.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tributary_events::cost::{PriceTable, Usage};
use tributary_events::v2::ContentStrategy;

/// Written into the model file; a file of another version is started afresh.
pub const MODEL_VERSION: u32 = 1;
/// Recent observations a cell needs before the model is trusted with it.
pub const MIN_WEIGHT: f64 = 20.0;
/// Each observation weighs this much less per newer one: the model follows the last
/// few hundred observations of a cell (half weight after ~70).
pub const DECAY: f64 = 0.99;
/// A failed fetch counts as this much delay (a dead letter waits for a replay).
pub const FAILURE_DELAY_SECS: f64 = 600.0;
/// While a strategy has too little data at a size class, one file in this many (chosen
/// by its checksum, so a file is always sent the same way) goes by it, so that both
/// strategies get measured; the others follow the rules.
pub const EXPLORE_ONE_IN: u8 = 10;
/// Bytes of a reference entry in an event (object key or git URL, checksum, path).
const REFERENCE_BYTES: u64 = 400;

/// What the model has seen of one strategy at one size class.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    /// Decayed number of observations.
    pub weight: f64,
    pub latency_secs: f64,
    pub failure_rate: f64,
}

/// The model file's content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StrategyModel {
    pub version: u32,
    /// `strategy/size class` → what was seen.
    pub cells: BTreeMap<String, Cell>,
    /// Git remotes by host → how often consumers' fetches from them failed.
    #[serde(default)]
    pub remotes: BTreeMap<String, Cell>,
    /// Where `learn` stopped reading (`topic/partition` → next offset).
    #[serde(default)]
    pub offsets: BTreeMap<String, i64>,
}

impl Default for StrategyModel {
    fn default() -> Self {
        StrategyModel {
            version: MODEL_VERSION,
            cells: BTreeMap::new(),
            remotes: BTreeMap::new(),
            offsets: BTreeMap::new(),
        }
    }
}

/// A file's size class: the number of bits of its size (1 KiB files are class 11,
/// 1 MiB files class 21).
pub fn size_class(size: u64) -> u32 {
    64 - size.max(1).leading_zeros()
}

fn cell_key(strategy: ContentStrategy, class: u32) -> String {
    format!("{}/{class}", strategy.as_str())
}

/// What the model decided for a size class, and why (logged once per class and run).
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    /// `None`: too little data, the rules decide (but see `explore`).
    pub strategy: Option<ContentStrategy>,
    /// With too little data: the strategy that lacks it, to be tried on one file in
    /// [`EXPLORE_ONE_IN`].
    pub explore: Option<ContentStrategy>,
    pub why: String,
}

impl Choice {
    /// The strategy for one file whose checksum starts with `checksum_byte`: the
    /// model's, or while it is still learning, the unmeasured one for one file in
    /// [`EXPLORE_ONE_IN`]; `None` leaves the file to the rules.
    pub fn for_file(&self, checksum_byte: u8) -> Option<ContentStrategy> {
        self.strategy.or_else(|| {
            self.explore
                .filter(|_| checksum_byte.is_multiple_of(EXPLORE_ONE_IN))
        })
    }
}

/// Why the model file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("cannot write the strategy model {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl StrategyModel {
    /// The model in `path`: empty when there is none yet, and afresh (with a warning)
    /// when the file is unreadable, corrupt or of another version — a model is only a
    /// hint, never a reason not to publish.
    pub fn load(path: &Path) -> Self {
        let text = match std::fs::read(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Self::default(),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "strategy model unreadable; starting afresh");
                return Self::default();
            }
        };
        match serde_json::from_slice::<StrategyModel>(&text) {
            Ok(m)
                if m.version == MODEL_VERSION
                    && m.cells
                        .values()
                        .chain(m.remotes.values())
                        .all(Cell::is_sane) =>
            {
                m
            }
            Ok(_) => {
                tracing::warn!(path = %path.display(), "strategy model of another version or with impossible values; starting afresh");
                Self::default()
            }
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "strategy model corrupt; starting afresh");
                Self::default()
            }
        }
    }

    /// Writes the model atomically (a temporary file renamed over the old one).
    pub fn save(&self, path: &Path) -> Result<(), ModelError> {
        let write = |e| ModelError::Write {
            path: path.to_owned(),
            source: e,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(write)?;
        }
        let tmp = path.with_extension("tmp");
        let text = serde_json::to_vec_pretty(self).expect("the model serializes");
        std::fs::write(&tmp, text).map_err(write)?;
        std::fs::rename(&tmp, path).map_err(write)
    }

    /// Folds one observation in: a fetch or upload of `size` bytes by `strategy` that
    /// took `latency_secs` and failed or not.
    pub fn observe(
        &mut self,
        strategy: ContentStrategy,
        size: u64,
        latency_secs: f64,
        failed: bool,
    ) {
        if !latency_secs.is_finite() || latency_secs < 0.0 {
            return;
        }
        let c = self
            .cells
            .entry(cell_key(strategy, size_class(size)))
            .or_default();
        c.weight = c.weight * DECAY + 1.0;
        let a = 1.0 / c.weight;
        c.latency_secs += a * (latency_secs - c.latency_secs);
        c.failure_rate += a * (f64::from(u8::from(failed)) - c.failure_rate);
    }

    /// Folds in one fetch from the git remote at `host`, failed or not.
    pub fn observe_remote(&mut self, host: &str, failed: bool) {
        let c = self.remotes.entry(host.to_ascii_lowercase()).or_default();
        c.weight = c.weight * DECAY + 1.0;
        c.failure_rate += (f64::from(u8::from(failed)) - c.failure_rate) / c.weight;
    }

    /// How often fetches from `host` failed lately, when enough were seen.
    pub fn remote_failure_rate(&self, host: &str) -> Option<f64> {
        self.remotes
            .get(&host.to_ascii_lowercase())
            .filter(|c| c.weight >= MIN_WEIGHT)
            .map(|c| c.failure_rate)
    }

    /// What the model knows of `strategy` at `size`, when it knows enough.
    pub fn cell(&self, strategy: ContentStrategy, size: u64) -> Option<Cell> {
        self.cells
            .get(&cell_key(strategy, size_class(size)))
            .copied()
            .filter(|c| c.weight >= MIN_WEIGHT)
    }

    /// The expected cost of sending a `size`-byte file by `strategy`: its dollars under
    /// `prices` and its delay (latency and failures) at `prices.delay_usd_per_second`.
    pub fn expected_usd(
        &self,
        strategy: ContentStrategy,
        size: u64,
        prices: &PriceTable,
    ) -> Option<f64> {
        let c = self.cell(strategy, size)?;
        let delay = c.latency_secs + c.failure_rate * FAILURE_DELAY_SECS;
        Some(dollars(strategy, size, prices) + delay * prices.delay_usd_per_second)
    }

    /// The cheaper of `candidates` for a `size`-byte file, or `None` (the rules decide)
    /// while any of them has too little data. `git_host` is the run's git remote: its
    /// own failure rate, when known, adds to a git reference's expected delay.
    pub fn choose(
        &self,
        size: u64,
        candidates: &[ContentStrategy],
        prices: &PriceTable,
        git_host: Option<&str>,
    ) -> Choice {
        let class = size_class(size);
        let mut best: Option<(ContentStrategy, f64)> = None;
        let mut costs = Vec::new();
        for &s in candidates {
            let Some(usd) = self.expected_usd(s, size, prices) else {
                let seen = self
                    .cells
                    .get(&cell_key(s, class))
                    .map_or(0.0, |c| c.weight);
                return Choice {
                    strategy: None,
                    explore: Some(s),
                    why: format!(
                        "too little data for {} at {}: {seen:.0} recent observations, {MIN_WEIGHT:.0} needed; the rules decide, but for one file in {EXPLORE_ONE_IN} sent this way to measure it",
                        s.as_str(),
                        class_range(class)
                    ),
                };
            };
            let remote = match (s, git_host.and_then(|h| self.remote_failure_rate(h))) {
                (ContentStrategy::GitReference, Some(rate)) => {
                    rate * FAILURE_DELAY_SECS * prices.delay_usd_per_second
                }
                _ => 0.0,
            };
            let usd = usd + remote;
            costs.push(format!("{} ${usd:.7}", s.as_str()));
            if best.is_none_or(|(_, b)| usd < b) {
                best = Some((s, usd));
            }
        }
        let Some((strategy, _)) = best else {
            return Choice {
                strategy: None,
                explore: None,
                why: "no candidate".into(),
            };
        };
        Choice {
            strategy: Some(strategy),
            explore: None,
            why: format!(
                "{} for files of {}: expected {} per file",
                strategy.as_str(),
                class_range(class),
                costs.join(", ")
            ),
        }
    }
}

impl Cell {
    fn is_sane(&self) -> bool {
        [self.weight, self.latency_secs, self.failure_rate]
            .iter()
            .all(|v| v.is_finite() && *v >= 0.0)
            && self.failure_rate <= 1.0
    }
}

/// Sizes of a class, for logs: `512 KiB–1 MiB`.
fn class_range(class: u32) -> String {
    let human = |b: u64| match b {
        b if b >= 1 << 20 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 => format!("{} KiB", b >> 10),
        b => format!("{b} B"),
    };
    let lo = 1u64 << class.saturating_sub(1);
    format!("{}–{}", human(lo), human(lo.saturating_mul(2)))
}

/// What sending a file one way costs in dollars alone: the requests, storage, transfer
/// and Kafka bytes of its journey (a git reference's fetch is paid in time, not here).
pub fn dollars(strategy: ContentStrategy, size: u64, prices: &PriceTable) -> f64 {
    let usage = match strategy {
        ContentStrategy::Inline => Usage {
            // base64 at worst
            kafka_bytes_produced: size * 4 / 3,
            kafka_bytes_consumed: size * 4 / 3,
            ..Usage::default()
        },
        ContentStrategy::ObjectStorage => Usage {
            object_puts: 1,
            // the publisher's HEAD, the consumer's GET
            object_gets: 2,
            bytes_stored: size,
            bytes_downloaded: size,
            kafka_bytes_produced: REFERENCE_BYTES,
            kafka_bytes_consumed: REFERENCE_BYTES,
            ..Usage::default()
        },
        ContentStrategy::GitReference => Usage {
            kafka_bytes_produced: REFERENCE_BYTES,
            kafka_bytes_consumed: REFERENCE_BYTES,
            ..Usage::default()
        },
    };
    prices.price(&usage).total_usd
}

mod feed;
pub use feed::{LearnError, Learned, learn};

#[cfg(test)]
mod tests;
