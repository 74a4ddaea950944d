//! tributary-consumer: parse flags, wire logging, metrics and signals, run the daemon.

use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser as _;
use tokio_util::sync::CancellationToken;
use tributary_consumer::cli::{Cli, Command, DlqCommand};
use tributary_consumer::error::chain;

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
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", chain(e.as_ref()));
            ExitCode::FAILURE
        }
    }
}

async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = term => {}
    }
}

async fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    let args = match cli.command {
        Command::Run(args) => args,
        Command::Dlq(DlqCommand::Replay(args)) => {
            let report = tributary_consumer::replay::replay(&args.into_config()?).await?;
            println!(
                "replayed {}, skipped {}, unreadable {}",
                report.replayed, report.skipped, report.unreadable
            );
            return Ok(());
        }
    };
    let config = args.into_config()?;
    let cancel = CancellationToken::new();
    let server = match config.metrics_addr {
        Some(addr) => {
            let handle =
                metrics_exporter_prometheus::PrometheusBuilder::new().install_recorder()?;
            let readiness = tributary_consumer::telemetry::Readiness::from_config(&config).await?;
            let (task, local) =
                tributary_consumer::telemetry::serve(addr, handle, readiness, cancel.child_token())
                    .await?;
            tracing::info!(%local, "serving /metrics, /healthz, /readyz");
            Some(task)
        }
        None => None,
    };
    let on_signal = cancel.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutdown requested: draining");
        on_signal.cancel();
    });
    let stats = Arc::new(tributary_consumer::Stats::default());
    let result = tributary_consumer::run(config, cancel.clone(), stats.clone()).await;
    use std::sync::atomic::Ordering::Relaxed;
    tracing::info!(
        messages = stats.messages.load(Relaxed),
        documents = stats.documents.load(Relaxed),
        tombstones = stats.tombstones.load(Relaxed),
        dead_letters = stats.dead_letters.load(Relaxed),
        "consumer stopped"
    );
    cancel.cancel();
    if let Some(task) = server {
        let _ = task.await;
    }
    Ok(result?)
}
