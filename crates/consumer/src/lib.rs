//! tributary-consumer: the consumer-group daemon that turns index events into
//! intelligence documents. [`run`] is the daemon, driven by a typed [`Config`]; the
//! binary parses flags, wires signals and metrics.
//!
//! By role: `daemon` (the group consumer, partition workers, delivery, offsets),
//! `file` (per-file processing: decode, resolve, verify, analyse, dead letters),
//! `summary` (completed runs' summaries and their HTML reports), `replay` (`dlq
//! replay`).

pub mod analysis_cache;
pub mod check;
pub mod cli;
pub mod config;
mod daemon;
pub mod error;
mod file;
pub mod inspect;
mod internal_events;
pub mod replay;
pub mod summary;
pub mod telemetry;
mod tier;

pub use config::Config;
pub use daemon::{Stats, run};
pub use error::ConsumerError;
