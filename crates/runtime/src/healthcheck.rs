//! `healthcheck`: the container's probe of its own daemon. Images without a shell or
//! curl run it as `HEALTHCHECK CMD ["tributary-consumer", "healthcheck"]`: a GET of the
//! daemon's `/healthz` (or `/readyz`) on loopback, exit 0 on `200`, 1 otherwise.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use clap::Args;

/// Flags of `healthcheck`.
#[derive(Debug, Clone, Args)]
pub struct HealthcheckArgs {
    /// Where the daemon serves its metrics (the daemon's own `--metrics-addr`; an
    /// unspecified address such as 0.0.0.0 is reached on loopback).
    #[arg(long, env = "TRIBUTARY_METRICS_ADDR", default_value = "127.0.0.1:9464")]
    pub metrics_addr: SocketAddr,
    /// The route to ask: /healthz (alive) or /readyz (dependencies reachable).
    #[arg(long, default_value = "/healthz", value_parser = ["/healthz", "/readyz"])]
    pub path: String,
    /// How long to wait for the answer.
    #[arg(long, default_value = "3s", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
}

impl HealthcheckArgs {
    /// The URL asked: the metrics address, on loopback when it is unspecified.
    pub fn url(&self) -> String {
        let mut addr = self.metrics_addr;
        if addr.ip().is_unspecified() {
            addr.set_ip(match addr.ip() {
                IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
            });
        }
        format!("http://{addr}{}", self.path)
    }
}

/// The `healthcheck` command: asks the daemon, says on stderr why it is unhealthy;
/// exit 0 on `200`, 1 otherwise.
pub async fn healthcheck(args: &HealthcheckArgs) -> std::process::ExitCode {
    match ask(args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(why) => {
            eprintln!("unhealthy: {why}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn ask(args: &HealthcheckArgs) -> Result<(), String> {
    let url = args.url();
    let client = reqwest::Client::builder()
        .timeout(args.timeout)
        .no_proxy()
        .build()
        .map_err(|e| e.to_string())?;
    let response = client
        .get(&url)
        .send()
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    let status = response.status();
    if status.is_success() {
        Ok(())
    } else {
        let body = response.text().await.unwrap_or_default();
        Err(format!("{url}: {status} {}", body.trim()))
    }
}

#[cfg(test)]
mod tests;
