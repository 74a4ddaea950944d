//! tributary-publisher: parse flags, wire logging, metrics and signals, run, report.

use std::process::ExitCode;

use clap::Parser as _;
use tokio_util::sync::CancellationToken;
use tributary_publisher::cli::{Cli, Command};
use tributary_publisher::report::chain;

fn main() -> ExitCode {
    let cli = Cli::parse();
    tributary_runtime::init_logging(cli.log_format);
    let result = match tributary_runtime::block_on(run(cli)) {
        Ok(result) => result,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", chain(e.as_ref()));
            ExitCode::from(2)
        }
    }
}

/// Serves /metrics when an address is configured.
async fn metrics_server(
    addr: Option<std::net::SocketAddr>,
    cancel: &CancellationToken,
) -> Result<Option<tokio::task::JoinHandle<()>>, Box<dyn std::error::Error>> {
    let Some(addr) = addr else { return Ok(None) };
    let handle = metrics_exporter_prometheus::PrometheusBuilder::new().install_recorder()?;
    let (task, local) =
        tributary_publisher::telemetry::serve_metrics(addr, handle, cancel.child_token()).await?;
    tracing::info!(%local, "serving /metrics");
    Ok(Some(task))
}

async fn run(cli: Cli) -> Result<ExitCode, Box<dyn std::error::Error>> {
    match cli.command {
        Command::Watch(args) => {
            let config = args.into_config()?;
            let cancel = CancellationToken::new();
            let metrics = metrics_server(config.publish.metrics_addr, &cancel).await?;
            let reload = std::sync::Arc::new(tokio::sync::Notify::new());
            let on_hup = reload.clone();
            let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
            tokio::spawn(async move {
                while hup.recv().await.is_some() {
                    on_hup.notify_one();
                }
            });
            let on_signal = cancel.clone();
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
            tokio::spawn(async move {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
                tracing::info!("stopping: runs in flight are cancelled, their cursors stay");
                on_signal.cancel();
            });
            tributary_publisher::watch::watch(config, reload, cancel.clone()).await?;
            if let Some(m) = metrics {
                let _ = m.await;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Publish(args) => {
            let report_json = args.report_json;
            let config = args.into_config()?;
            let cancel = CancellationToken::new();
            let metrics_server = metrics_server(config.metrics_addr, &cancel).await?;
            let on_signal = cancel.clone();
            tokio::spawn(async move {
                if tokio::signal::ctrl_c().await.is_ok() {
                    tracing::warn!("interrupted: stopping the run");
                    on_signal.cancel();
                }
            });
            let report = tributary_publisher::publish(config, cancel.clone()).await?;
            if report.dry_run {
                for p in &report.plan {
                    println!("{:<15} {:>10}  {}", p.strategy, p.size, p.path);
                }
            }
            if report_json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!("{}", report.summary());
            }
            cancel.cancel();
            if let Some(server) = metrics_server {
                let _ = server.await;
            }
            Ok(if report.ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
    }
}
