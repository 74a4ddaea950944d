//! tributary-publisher: reads repositories and publishes v2 index events to Kafka.
//!
//! [`run::publish`] is the whole job, driven by a typed [`config::Config`]; the binary
//! only parses flags (`cli`), wires signals and metrics, and prints the report.

pub mod batch;
pub mod cli;
pub mod config;
pub mod error;
pub mod internal_events;
pub mod kafka;
pub mod plan;
pub mod report;
pub mod run;
pub mod source;
pub mod telemetry;
pub mod watch;

pub use config::Config;
pub use error::PublishError;
pub use report::RunReport;
pub use run::publish;
