use clap::Parser;

use super::*;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: HealthcheckArgs,
}

#[test]
fn an_unspecified_address_is_asked_on_loopback() {
    let cases = [
        (vec![], "http://127.0.0.1:9464/healthz"),
        (
            vec!["--metrics-addr", "0.0.0.0:9100"],
            "http://127.0.0.1:9100/healthz",
        ),
        (
            vec!["--metrics-addr", "[::]:9100", "--path", "/readyz"],
            "http://[::1]:9100/readyz",
        ),
        (
            vec!["--metrics-addr", "10.1.2.3:9464"],
            "http://10.1.2.3:9464/healthz",
        ),
    ];
    for (flags, want) in cases {
        let cli = Cli::try_parse_from(std::iter::once("x").chain(flags.iter().copied()))
            .expect("flags parse");
        assert_eq!(cli.args.url(), want, "{flags:?}");
    }
    assert!(Cli::try_parse_from(["x", "--path", "/metrics"]).is_err());
}
