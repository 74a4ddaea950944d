//! The process around a daemon: runtime, logging, signals, exit codes.

use std::process::ExitCode;
use std::sync::Arc;

use crate::cli::LogFormat;

/// Installs the global tracing subscriber: level from `RUST_LOG` (default `info`),
/// human or JSON lines on stderr; colours only when stderr is a terminal (a log file
/// or a collector gets plain text).
pub fn init_logging(format: LogFormat) {
    use std::io::IsTerminal as _;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Human => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// Runs `fut` to completion on a multi-threaded runtime. Blocking tasks still running
/// afterwards (a git fetch, a summary wait) get two seconds, so they cannot hold the
/// process's exit hostage.
pub fn block_on<F: std::future::Future>(fut: F) -> std::io::Result<F::Output> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let out = rt.block_on(fut);
    rt.shutdown_timeout(std::time::Duration::from_secs(2));
    Ok(out)
}

/// A binary's `main`: logging, the runtime, `run`, and the exit code — `run`'s own, or
/// the one `error_code` gives the error, with the error's chain on stderr.
pub fn main<F>(log_format: LogFormat, error_code: impl Fn(&anyhow::Error) -> u8, run: F) -> ExitCode
where
    F: std::future::Future<Output = anyhow::Result<ExitCode>>,
{
    init_logging(log_format);
    // an error ends the process in the log's own format: a JSON line where logs are
    // JSON (collectors parse every line), `error: ...` for people
    let fail = |message: String, code: u8| {
        match log_format {
            LogFormat::Json => tracing::error!(exit_code = code, error = message, "exiting"),
            LogFormat::Human => eprintln!("error: {message}"),
        }
        ExitCode::from(code)
    };
    match block_on(run) {
        Err(e) => fail(format!("cannot start the runtime: {e}"), 1),
        Ok(Ok(code)) => code,
        Ok(Err(e)) => fail(crate::chain(e.as_ref()), error_code(&e)),
    }
}

/// Writes `text` to stdout. A reader that went away (`| head -1`) is not an error:
/// `Ok(false)` says to stop writing.
pub fn print_stdout(text: &str) -> std::io::Result<bool> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(false),
        Err(e) => Err(e),
    }
}

/// Resolves on SIGTERM (how Kubernetes stops a pod) or SIGINT (Ctrl-C).
pub async fn shutdown_signal() {
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

/// A `Notify` that fires on every SIGHUP (reload requests).
pub fn hangups() -> std::io::Result<Arc<tokio::sync::Notify>> {
    let notify = Arc::new(tokio::sync::Notify::new());
    let on_hup = notify.clone();
    let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
    tokio::spawn(async move {
        while hup.recv().await.is_some() {
            on_hup.notify_one();
        }
    });
    Ok(notify)
}

/// `--version`'s long form: the version, the commit built from, and librdkafka's
/// version (both binaries speak Kafka through it).
pub fn long_version() -> &'static str {
    static TEXT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TEXT.get_or_init(|| {
        format!(
            "{} (commit {}, librdkafka {})",
            env!("CARGO_PKG_VERSION"),
            env!("TRIBUTARY_COMMIT"),
            rdkafka::util::get_rdkafka_version().1
        )
    })
}
