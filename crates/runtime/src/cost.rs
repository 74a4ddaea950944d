//! What the daemons need to price their runs: their own CPU time, and the price table
//! from its file (`--price-table`).

use std::path::{Path, PathBuf};

use tributary_events::cost::{Component, PriceTable, PriceTableError};

/// CPU time this process has used (user + system, all threads), in seconds.
pub fn process_cpu_seconds() -> f64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    t.tv_sec as f64 + t.tv_nsec as f64 / 1e9
}

/// CPU time the calling thread has used, in seconds.
pub fn thread_cpu_seconds() -> f64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    t.tv_sec as f64 + t.tv_nsec as f64 / 1e9
}

/// What a run cost, by the price table: added to the running total the cost alert and
/// dashboard read (per-project attribution lives in the events, never in labels). The
/// total is fractional dollars and the metrics crate's counters count integers, so it
/// is exported as a gauge that only grows within a process; `increase()` over it reads
/// a restart as a counter reset, as for any counter.
#[derive(Debug)]
pub struct CostEstimated {
    pub component: Component,
    pub usd: f64,
}

impl CostEstimated {
    const METRIC: &'static str = "tributary_cost_estimated_dollars_total";

    pub fn emit(&self) {
        if self.usd.is_finite() && self.usd > 0.0 {
            metrics::gauge!(Self::METRIC, "component" => self.component.as_str())
                .increment(self.usd);
        }
    }

    /// Describes the metric and shows `component` at zero from start-up.
    pub fn register(component: Component) {
        metrics::describe_gauge!(
            Self::METRIC,
            "Estimated dollars spent by this process's runs under the price table, by component (grows only; a restart starts from 0)"
        );
        metrics::gauge!(Self::METRIC, "component" => component.as_str()).set(0.0);
    }
}

/// Why a price table file was refused.
#[derive(Debug, thiserror::Error)]
pub enum PriceTableFileError {
    #[error("cannot read the price table {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the price table {path} is not valid TOML of known prices")]
    Parse {
        path: PathBuf,
        #[source]
        source: toml::de::Error,
    },
    #[error("the price table {path} is refused")]
    Invalid {
        path: PathBuf,
        #[source]
        source: PriceTableError,
    },
}

/// The price table in `path` (TOML: any of [`PriceTable`]'s fields; the others keep
/// their defaults), or the default table when there is no path.
pub fn load_price_table(path: Option<&Path>) -> Result<PriceTable, PriceTableFileError> {
    let Some(path) = path else {
        return Ok(PriceTable::default());
    };
    let text = std::fs::read_to_string(path).map_err(|source| PriceTableFileError::Read {
        path: path.to_owned(),
        source,
    })?;
    let table: PriceTable = toml::from_str(&text).map_err(|source| PriceTableFileError::Parse {
        path: path.to_owned(),
        source,
    })?;
    table
        .validate()
        .map_err(|source| PriceTableFileError::Invalid {
            path: path.to_owned(),
            source,
        })?;
    Ok(table)
}

#[cfg(test)]
mod tests;
