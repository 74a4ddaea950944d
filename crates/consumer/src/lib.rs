//! tributary-consumer: the consumer-group daemon that turns index events into
//! intelligence documents. [`pipeline::run`] is the daemon, driven by a typed
//! [`config::Config`]; the binary parses flags, wires signals and metrics.

pub mod cli;
pub mod config;
pub mod error;
pub mod internal_events;
pub mod pipeline;
pub mod process;
pub mod replay;
pub mod report;
pub mod resolve;
pub mod summary;
pub mod telemetry;

pub use config::Config;
pub use error::ConsumerError;
pub use pipeline::{Stats, run};
