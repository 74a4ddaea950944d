//! tributary-runtime: the binary edge both daemons share, so it is written once —
//! the process bootstrap (runtime, logging, signals, exit codes), the `/metrics` +
//! `/healthz` server, the one Kafka edge (every client both binaries create), and the
//! flags both parse. Libraries below it (events, content, intel) never depend on it.

pub mod check;
mod cli;
pub mod config_file;
mod cost;
mod error;
mod healthcheck;
pub mod kafka;
mod process;
mod serve;

pub use cli::{
    CompletionsArgs, GlobalArgs, HostKeyArgs, KafkaArgs, LogFormat, ProviderArg, Shell,
    StorageArgs, ToolCommand, options_without_help, parse_size, print_completions, print_man,
};
pub use cost::{
    CostEstimated, PriceTableFileError, load_price_table, process_cpu_seconds, thread_cpu_seconds,
};
pub use error::chain;
pub use healthcheck::{HealthcheckArgs, healthcheck};
pub use process::{
    block_on, hangups, init_logging, long_version, main, print_stdout, shutdown_signal,
};
pub use serve::{
    BYTES_BUCKETS, COUNT_BUCKETS, SECONDS_BUCKETS, families_without_help, prometheus_builder,
    serve_metrics, serve_with_handle,
};
