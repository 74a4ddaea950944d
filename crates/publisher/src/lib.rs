//! tributary-publisher: reads repositories and publishes v2 index events to Kafka.
//!
//! [`publish()`] is the whole job, driven by a typed [`Config`] (run [`Settings`] plus a
//! [`RunTarget`]); [`watch::watch`] keeps branches indexed with one `Settings` and a
//! target per run. The binary only parses flags (`cli`), wires signals and metrics, and
//! prints the report.

pub mod check;
pub mod cli;
pub mod config;
pub mod error;
mod internal_events;
pub mod learn;
mod publish;
mod telemetry;
pub mod watch;

pub use config::{Config, RunTarget, Settings};
pub use error::{ConfigError, PublishError, WatchFileError};
pub use publish::history;
pub use publish::plan::LIST_AFTER_OBJECTS;
pub use publish::report::{FailedFile, PlannedFile, RunReport};
pub use publish::{PortfolioReport, PortfolioRun, portfolio, publish, run};
pub use telemetry::{register_publish_metrics, register_watch_metrics, serve_metrics};
