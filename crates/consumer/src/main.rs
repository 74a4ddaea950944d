//! tributary-consumer: parse flags, wire metrics and signals, run the daemon.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use tokio_util::sync::CancellationToken;
use tributary_consumer::ConsumerError;
use tributary_consumer::cli::{Cli, Command, DlqCommand, RunArgs};
use tributary_consumer::error::ConfigError;

/// jemalloc, not glibc's malloc: under sustained load glibc's per-thread arenas kept
/// freed memory (the consumer's RSS grew past 0.5 GiB with a 64 MiB cache; see
/// benches/soak.sh), jemalloc's decay returns it to the system.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's options, read once at start-up (`_RJEM_MALLOC_CONF` in the environment
/// still overrides them): freed pages go back to the system within a second instead of
/// ten (`dirty_decay_ms`, default 10000: ~20 MiB held for nothing under load, see
/// benches/README.md), without a second, lazier stage (`muzzy_decay_ms`), and no more
/// arenas than a few (the default is four per core, each keeping its own free pages).
#[allow(unsafe_code)]
// SAFETY: jemalloc reads this NUL-terminated string as `const char *malloc_conf` once,
// at its initialisation; a reference to a byte array has exactly that layout.
#[unsafe(export_name = "_rjem_malloc_conf")]
#[used]
static MALLOC_CONF: &[u8; 70] =
    b"background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0,narenas:4\0";

fn main() -> ExitCode {
    #[allow(unsafe_code)]
    // SAFETY: first thing in `main`: no other thread, nothing parsed or compiled yet.
    unsafe {
        tributary_intel::parser_memory::use_jemalloc();
    }
    let cli: Cli = tributary_runtime::config_file::parse(
        std::env::args_os().collect(),
        std::env::var_os(tributary_runtime::config_file::CONFIG_ENV),
    )
    .unwrap_or_else(|e| e.exit());
    let run_args = match &cli.command {
        Command::Run(args) => Some(&**args),
        Command::Check(args) => Some(&args.run),
        Command::Dlq(_) | Command::Tool(_) => None,
    };
    if let Some(args) = run_args {
        // every git network operation is bounded: a remote that accepts and then goes
        // silent fails within the clone timeout
        #[allow(unsafe_code)]
        // SAFETY: no other thread exists yet: the runtime starts below.
        unsafe {
            tributary_content::git::set_network_timeouts(
                args.git_clone_timeout.min(GIT_CONNECT_TIMEOUT),
                args.git_clone_timeout,
            );
            tributary_content::git::set_memory_limits();
        }
    }
    // a configuration the daemon cannot start with exits 2, as the publisher's errors
    // do; a failure while running exits 1
    tributary_runtime::main(
        cli.global.log_format,
        |e| match e.downcast_ref::<ConsumerError>() {
            Some(c) if c.is_startup() => 2,
            _ => 1,
        },
        run(cli.command),
    )
}

/// Connecting to a git remote takes at most this long (or the clone timeout, if less).
const GIT_CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

async fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Run(args) => daemon(*args).await,
        Command::Tool(tool) => Ok(tool.run(<Cli as clap::CommandFactory>::command()).await?),
        Command::Check(args) => {
            let format = args.check.format;
            let config = args.run.into_config().map_err(ConsumerError::from)?;
            let store = tributary_content::ObjectStore::open(&config.store)
                .await
                .map_err(|e| tributary_runtime::chain(&e));
            let report = tributary_consumer::check::run(
                &config,
                &store,
                tributary_consumer::check::Depth::Command,
            )
            .await;
            print!("{}", report.render(format));
            Ok(if report.ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Dlq(DlqCommand::List(args)) => {
            let json = args.json;
            let config = args.into_config().map_err(ConsumerError::from)?;
            let listing = tributary_consumer::inspect::list(&config).await?;
            let text = if json {
                let mut t = serde_json::to_string(&listing)?;
                t.push('\n');
                t
            } else {
                format!("{}\n", listing.table())
            };
            tributary_runtime::print_stdout(&text)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Dlq(DlqCommand::Show(args)) => {
            let conn = args
                .source
                .kafka
                .connection()
                .map_err(ConfigError::from)
                .map_err(ConsumerError::from)?;
            let Some(bytes) =
                tributary_consumer::inspect::show(&conn, &args.source.dlq_topic, args.at).await?
            else {
                anyhow::bail!(
                    "no record at {} on {} (never written, or past the topic's retention)",
                    args.at,
                    args.source.dlq_topic
                );
            };
            // a dead-letter record is printed as indented JSON; anything else as it is,
            // escaped so a terminal shows it and does not act on it
            let text = match serde_json::from_slice::<serde_json::Value>(&bytes) {
                Ok(v) => serde_json::to_string_pretty(&v)?,
                Err(_) => tributary_consumer::inspect::printable(
                    &String::from_utf8_lossy(&bytes),
                    usize::MAX,
                ),
            };
            tributary_runtime::print_stdout(&format!("{text}\n"))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Dlq(DlqCommand::Replay(args)) => {
            let config = args.into_config().map_err(ConsumerError::from)?;
            let report = tributary_consumer::replay::replay(&config).await?;
            println!(
                "replayed {}, skipped {}, unreadable {}; summaries refreshed {}",
                report.replayed, report.skipped, report.unreadable, report.summaries_refreshed
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn daemon(args: RunArgs) -> anyhow::Result<ExitCode> {
    let config = args.into_config().map_err(ConsumerError::from)?;
    let cancel = CancellationToken::new();
    let server = match config.metrics_addr {
        Some(addr) => {
            let readiness = tributary_consumer::telemetry::Readiness::from_config(&config).await?;
            let (task, local) = tributary_runtime::serve_metrics(
                addr,
                readiness.clone().router(),
                cancel.child_token(),
            )
            .await
            .with_context(|| format!("could not serve metrics on {addr}"))?;
            tributary_consumer::telemetry::register_metrics();
            tokio::spawn(readiness.keep_checking(cancel.child_token()));
            tracing::info!(%local, "serving /metrics, /healthz, /readyz");
            Some(task)
        }
        None => None,
    };
    let on_signal = cancel.clone();
    tokio::spawn(async move {
        tributary_runtime::shutdown_signal().await;
        tracing::info!("shutdown requested: draining");
        on_signal.cancel();
    });
    let stats = Arc::new(tributary_consumer::Stats::default());
    let result = tributary_consumer::run(config, cancel.clone(), stats.clone()).await;
    use std::sync::atomic::Ordering::Relaxed;
    // a consumer that never started (bad settings, unreachable brokers) has nothing to
    // report: its error says why
    let started = !matches!(&result, Err(e) if e.is_startup());
    if started {
        tracing::info!(
            messages = stats.messages.load(Relaxed),
            documents = stats.documents.load(Relaxed),
            tombstones = stats.tombstones.load(Relaxed),
            dead_letters = stats.dead_letters.load(Relaxed),
            // files whose document was rebuilt from the analysis cache, and files whose
            // analysis was found there (the same bytes seen elsewhere)
            recalled = stats.recall_hits.load(Relaxed),
            analyses_reused = stats.analysis_hits.load(Relaxed),
            "consumer stopped"
        );
    }
    cancel.cancel();
    if let Some(task) = server {
        let _ = task.await;
    }
    result?;
    Ok(ExitCode::SUCCESS)
}
