use clap::{CommandFactory as _, FromArgMatches as _};

use super::*;
use crate::cli::{Cli, Command};

/// Parses `run` flags with every environment fallback switched off (the test suite runs
/// with the local services' variables exported).
fn config(extra: &[&str]) -> Result<Config, String> {
    let cmd = Cli::command()
        .mut_subcommand("run", |s| s.mut_args(|a| a.env(None)))
        .mut_args(|a| a.env(None));
    let mut argv = vec!["tributary-consumer", "run"];
    argv.extend_from_slice(extra);
    let matches = cmd.try_get_matches_from(argv).map_err(|e| e.to_string())?;
    let cli = Cli::from_arg_matches(&matches).map_err(|e| e.to_string())?;
    let Command::Run(args) = cli.command else {
        panic!("run was parsed")
    };
    args.into_config().map_err(|e| e.to_string())
}

#[test]
fn analysis_limits_have_defaults_and_flags() {
    let c = config(&[]).expect("valid");
    assert_eq!(c.analysis.syntax.max_bytes, 2 * 1024 * 1024);
    assert_eq!(c.analysis.syntax.max_parse_ms, 2_000);
    let c = config(&[
        "--parse-max-size",
        "64KiB",
        "--parse-timeout",
        "250ms",
        "--max-symbols",
        "10",
    ])
    .expect("valid");
    assert_eq!(
        (
            c.analysis.syntax.max_bytes,
            c.analysis.syntax.max_parse_ms,
            c.analysis.syntax.max_symbols
        ),
        (64 * 1024, 250, 10)
    );
}

#[test]
fn reports_are_off_unless_asked_for() {
    assert_eq!(config(&[]).expect("valid").report, None);
    let c = config(&["--report-dir", "/tmp/reports"]).expect("valid");
    assert_eq!(c.report, Some(ReportConfig::Dir("/tmp/reports".into())));
    let c = config(&[
        "--storage-provider",
        "local",
        "--report-object-prefix",
        "reports/",
    ])
    .expect("valid");
    assert_eq!(
        c.report,
        Some(ReportConfig::ObjectStore {
            prefix: "reports/".into()
        })
    );
}

#[test]
fn report_sinks_are_checked_against_the_rest() {
    let err = |a: &[&str]| config(a).expect_err("must be rejected");
    assert!(
        err(&[
            "--storage-provider",
            "none",
            "--report-object-prefix",
            "reports/"
        ])
        .contains("needs an object store")
    );
    assert!(
        err(&[
            "--storage-provider",
            "local",
            "--report-object-prefix",
            "../x/"
        ])
        .contains("'..'")
    );
    assert!(
        err(&[
            "--storage-provider",
            "local",
            "--report-object-prefix",
            "/abs/"
        ])
        .contains("relative")
    );
    assert!(err(&["--report-dir", "/tmp/r", "--summary-wait", "0s"]).contains("summaries"));
    assert!(
        err(&["--report-dir", "/tmp/r", "--report-object-prefix", "r/"])
            .contains("cannot be used with")
    );
}
