//! tributary-publisher: parse flags, wire metrics and signals, run, report.

use std::process::ExitCode;

use anyhow::Context as _;
use tokio_util::sync::CancellationToken;
use tributary_publisher::PublishError;
use tributary_publisher::cli::{Cli, Command, PublishArgs, WatchArgs};

/// jemalloc, not glibc's malloc: under sustained load glibc's per-thread arenas kept
/// freed memory (the consumer's RSS grew past 0.5 GiB with a 64 MiB cache; see
/// benches/soak.sh), jemalloc's decay returns it to the system.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let cli: Cli = tributary_runtime::config_file::parse(
        std::env::args_os().collect(),
        std::env::var_os(tributary_runtime::config_file::CONFIG_ENV),
    )
    .unwrap_or_else(|e| e.exit());
    let git_timeout = match &cli.command {
        Command::Publish(args) => Some(args.settings.git_timeout),
        Command::Watch(args) => Some(args.settings.git_timeout),
        Command::Check(args) => Some(args.publish.settings.git_timeout),
        Command::Learn(_) | Command::Tool(_) => None,
    };
    // every git network operation is bounded: a remote that accepts and then goes
    // silent fails within the timeout
    if let Some(git_timeout) = git_timeout {
        #[allow(unsafe_code)]
        // SAFETY: no other thread exists yet: the runtime starts below.
        unsafe {
            tributary_content::git::set_network_timeouts(git_timeout, git_timeout);
            tributary_content::git::set_memory_limits();
        }
    }
    tributary_runtime::main(cli.global.log_format, |_| 2, run(cli.command))
}

/// Serves /metrics when an address is configured; `register` describes the command's metrics once the recorder is installed.
async fn metrics_server(
    addr: Option<std::net::SocketAddr>,
    cancel: &CancellationToken,
    register: fn(),
) -> anyhow::Result<Option<tokio::task::JoinHandle<()>>> {
    let Some(addr) = addr else { return Ok(None) };
    let (task, local) =
        tributary_runtime::serve_metrics(addr, axum::Router::new(), cancel.child_token())
            .await
            .with_context(|| format!("could not serve metrics on {addr}"))?;
    register();
    tracing::info!(%local, "serving /metrics");
    Ok(Some(task))
}

async fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Watch(args) => watch(args).await,
        Command::Publish(args) => publish(args).await,
        Command::Check(args) => check(*args).await,
        Command::Learn(args) => learn(args).await,
        Command::Tool(tool) => Ok(tool.run(<Cli as clap::CommandFactory>::command()).await?),
    }
}

async fn learn(args: tributary_publisher::cli::LearnArgs) -> anyhow::Result<ExitCode> {
    use tributary_publisher::learn::{StrategyModel, learn};
    let conn = args
        .kafka
        .connection()
        .map_err(|e| PublishError::from(tributary_publisher::ConfigError::from(e)))?;
    let path = args.strategy_model.clone();
    let (model, learned) = tokio::task::spawn_blocking(move || {
        let mut model = StrategyModel::load(&path);
        let learned = learn(
            &mut model,
            &conn,
            &args.output_topic,
            &args.dlq_topic,
            args.timeout,
        );
        (model, learned)
    })
    .await?;
    let learned = learned?;
    model.save(&args.strategy_model)?;
    println!(
        "learned from {} documents: {} fetches, {} failed fetches; {} cells in {}",
        learned.documents,
        learned.fetches,
        learned.failures,
        model.cells.len(),
        args.strategy_model.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// What a publish needs before it runs: its cancellation (Ctrl-C stops the run) and the
/// metrics server, if asked for.
async fn start_publishing(
    metrics_addr: Option<std::net::SocketAddr>,
) -> anyhow::Result<(CancellationToken, Option<tokio::task::JoinHandle<()>>)> {
    let cancel = CancellationToken::new();
    let metrics = metrics_server(
        metrics_addr,
        &cancel,
        tributary_publisher::register_publish_metrics,
    )
    .await?;
    let on_signal = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            tracing::warn!("interrupted: stopping the run");
            on_signal.cancel();
        }
    });
    Ok((cancel, metrics))
}

/// `publish --repos-file`: every repository listed, as one portfolio run, one report.
async fn publish_portfolio(args: PublishArgs) -> anyhow::Result<ExitCode> {
    let report_json = args.report_json;
    let configs = args.into_configs().map_err(PublishError::from)?;
    let (cancel, metrics) = start_publishing(configs[0].settings.metrics_addr).await?;
    let report = tributary_publisher::portfolio(configs, cancel.clone()).await;
    let text = if report_json {
        format!("{}\n", serde_json::to_string_pretty(&report)?)
    } else {
        format!("{}\n", report.summary())
    };
    tributary_runtime::print_stdout(&text)?;
    cancel.cancel();
    if let Some(server) = metrics {
        let _ = server.await;
    }
    Ok(if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

async fn check(args: tributary_publisher::cli::CheckCommand) -> anyhow::Result<ExitCode> {
    let format = args.check.format;
    let config = args.publish.into_config().map_err(PublishError::from)?;
    let report = tributary_publisher::check::run(&config).await;
    print!("{}", report.render(format));
    Ok(if report.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

async fn watch(args: WatchArgs) -> anyhow::Result<ExitCode> {
    let config = args.into_config().map_err(PublishError::from)?;
    let cancel = CancellationToken::new();
    let metrics = metrics_server(
        config.settings.metrics_addr,
        &cancel,
        tributary_publisher::register_watch_metrics,
    )
    .await?;
    let reload = tributary_runtime::hangups()?;
    let on_signal = cancel.clone();
    tokio::spawn(async move {
        tributary_runtime::shutdown_signal().await;
        tracing::info!("stopping: runs in flight are cancelled, their cursors stay");
        on_signal.cancel();
    });
    tributary_publisher::watch::watch(config, reload, cancel.clone()).await?;
    if let Some(m) = metrics {
        let _ = m.await;
    }
    Ok(ExitCode::SUCCESS)
}

async fn publish(args: PublishArgs) -> anyhow::Result<ExitCode> {
    let report_json = args.report_json;
    let result = publish_run(args).await;
    // with --report-json, stdout is JSON whatever happens: a run that cannot start
    // says why as a JSON object (and the error still goes to stderr, with its code)
    if report_json && let Err(e) = &result {
        let error = serde_json::json!({
            "ok": false,
            "error": tributary_runtime::chain(e.as_ref()),
        });
        tributary_runtime::print_stdout(&format!("{error:#}\n"))?;
    }
    result
}

async fn publish_run(args: PublishArgs) -> anyhow::Result<ExitCode> {
    if args.repos_file.is_some() {
        return publish_portfolio(args).await;
    }
    let report_json = args.report_json;
    let config = args.into_config().map_err(PublishError::from)?;
    let (cancel, metrics) = start_publishing(config.settings.metrics_addr).await?;
    let report = tributary_publisher::publish(config, cancel.clone()).await?;
    // stdout is the report alone: JSON (the plan is in it), or the plan's table and
    // the summary; a reader that stops early (`| head`) ends the output, not the run
    let text = if report_json {
        format!("{}\n", serde_json::to_string_pretty(&report)?)
    } else {
        let mut text = String::new();
        if report.dry_run {
            for p in &report.plan {
                text.push_str(&format!("{:<15} {:>10}  {}\n", p.strategy, p.size, p.path));
            }
        }
        text.push_str(&report.summary());
        text.push('\n');
        text
    };
    tributary_runtime::print_stdout(&text)?;
    cancel.cancel();
    if let Some(server) = metrics {
        let _ = server.await;
    }
    Ok(if report.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
