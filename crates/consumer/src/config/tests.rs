use clap::{CommandFactory as _, FromArgMatches as _, Parser as _};

use super::*;
use crate::cli::{Cli, Command};
use crate::error::ConfigError;

/// Parses `run` flags with every environment fallback switched off (the test suite runs
/// with the local services' variables exported).
/// Why flags were refused: by clap (a malformed value or a conflict), or by validation.
#[derive(Debug)]
enum Refused {
    Flags(clap::Error),
    Config(ConfigError),
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::Flags(e) => write!(f, "{e}"),
            Refused::Config(e) => write!(f, "{e}"),
        }
    }
}

fn config(extra: &[&str]) -> Result<Config, Refused> {
    let cmd = Cli::command()
        .mut_subcommand("run", |s| s.mut_args(|a| a.env(None)))
        .mut_args(|a| a.env(None));
    let mut argv = vec!["tributary-consumer", "run"];
    argv.extend_from_slice(extra);
    let matches = cmd.try_get_matches_from(argv).map_err(Refused::Flags)?;
    let cli = Cli::from_arg_matches(&matches).map_err(Refused::Flags)?;
    let Command::Run(args) = cli.command else {
        panic!("run was parsed")
    };
    args.into_config().map_err(Refused::Config)
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
fn tokens_are_counted_under_o200k_base_unless_told_otherwise() {
    let tokens = |flags: &[&str]| config(flags).map(|c| c.analysis.tokens);
    let on = |o200k_base, cl100k_base| tributary_intel::TokenEncodings {
        o200k_base,
        cl100k_base,
    };
    assert_eq!(tokens(&[]).expect("valid"), on(true, false));
    let both = tokens(&["--token-encodings", "cl100k_base,o200k_base"]).expect("valid");
    assert_eq!(both, on(true, true));
    let none = tokens(&["--token-encodings", "none"]).expect("valid");
    assert_eq!(none, on(false, false));
    let Err(Refused::Flags(e)) = tokens(&["--token-encodings", "o200k_base,gpt2"]) else {
        panic!("an unknown encoding is refused by the flags");
    };
    assert!(e.to_string().contains("gpt2"), "{e}");
}

#[test]
fn reports_are_off_unless_asked_for() {
    assert_eq!(config(&[]).expect("valid").report, None);
    let c = config(&["--report-dir", "/tmp/reports"]).expect("valid");
    assert_eq!(c.report, Some(SinkLocation::Dir("/tmp/reports".into())));
    let c = config(&[
        "--storage-provider",
        "local",
        "--report-object-prefix",
        "reports/",
    ])
    .expect("valid");
    assert_eq!(
        c.report,
        Some(SinkLocation::ObjectStore {
            prefix: "reports/".into()
        })
    );
}

#[test]
fn report_sinks_are_checked_against_the_rest() {
    type Case<'a> = (&'a [&'a str], fn(&ConfigError) -> bool, &'a str);
    let cases: &[Case<'_>] = &[
        (
            &[
                "--storage-provider",
                "none",
                "--report-object-prefix",
                "reports/",
            ],
            |e| matches!(e, ConfigError::ReportPrefixWithoutStore),
            "needs an object store",
        ),
        (
            &[
                "--storage-provider",
                "local",
                "--report-object-prefix",
                "../x/",
            ],
            |e| matches!(e, ConfigError::ReportPrefix),
            "'..'",
        ),
        (
            &[
                "--storage-provider",
                "local",
                "--report-object-prefix",
                "/abs/",
            ],
            |e| matches!(e, ConfigError::ReportPrefix),
            "relative",
        ),
        (
            &["--report-dir", "/tmp/r", "--summary-wait", "0s"],
            |e| matches!(e, ConfigError::ReportsWithoutSummaries),
            "summaries",
        ),
    ];
    for (argv, is, what) in cases {
        match config(argv).expect_err("must be rejected") {
            Refused::Config(e) => {
                assert!(is(&e), "{argv:?}: {e:?}");
                assert!(e.to_string().contains(what), "{argv:?}: {e}");
            }
            Refused::Flags(e) => panic!("{argv:?}: refused by clap: {e}"),
        }
    }
    // two sinks at once: clap's conflict
    let e = config(&["--report-dir", "/tmp/r", "--report-object-prefix", "r/"])
        .expect_err("must be rejected");
    assert!(matches!(e, Refused::Flags(_)));
    assert!(e.to_string().contains("cannot be used with"), "{e}");
}

#[test]
fn an_unknown_replay_reason_lists_the_valid_ones() {
    // refused by the flags themselves (exit 2), with every valid reason and a
    // suggestion for the typo
    let e = Cli::try_parse_from(["c", "dlq", "replay", "--reason", "object_mising"])
        .expect_err("a typo");
    assert_eq!(e.kind(), clap::error::ErrorKind::InvalidValue);
    let text = e.to_string();
    for reason in tributary_events::dlq::Reason::ALL {
        assert!(
            text.contains(reason.as_str()),
            "{} not listed: {text}",
            reason.as_str()
        );
    }
    // and every valid reason is accepted
    for reason in tributary_events::dlq::Reason::ALL {
        let cli = Cli::try_parse_from(["c", "dlq", "replay", "--reason", reason.as_str()])
            .expect("a valid reason");
        let Command::Dlq(crate::cli::DlqCommand::Replay(args)) = cli.command else {
            panic!("replay was parsed")
        };
        assert_eq!(args.into_config().expect("valid").reasons, vec![reason]);
    }
}

#[test]
fn static_membership_defaults_to_the_pod_name() {
    assert_eq!(config(&[]).expect("valid").kafka.instance_id, None);
    let c = config(&["--pod-name", "tributary-consumer-7d9f-x2"]).expect("valid");
    assert_eq!(
        c.kafka.instance_id.as_deref(),
        Some("tributary-consumer-7d9f-x2")
    );
    let c = config(&["--pod-name", "pod-a", "--group-instance-id", "explicit"]).expect("valid");
    assert_eq!(c.kafka.instance_id.as_deref(), Some("explicit"));
}

#[test]
fn git_credentials_must_be_bound_to_hosts() {
    let c = config(&[
        "--git-credential",
        "env:GIT_TOKEN@github.com",
        "--git-credential",
        "env:ORG=file:/run/secrets/org@git.example.com,git2.example.com",
    ])
    .expect("valid");
    assert_eq!(c.git.credentials.0.len(), 2);
    assert!(c.git.credentials.0.iter().any(|b| b.name == "env:ORG"));
    let e = config(&["--git-credential", "env:GIT_TOKEN"]).expect_err("no host");
    assert!(matches!(e, Refused::Flags(_)), "{e}");
    assert!(e.to_string().contains("@HOST"), "{e}");
}

#[test]
fn outputs_are_bounded_within_the_producer_limit() {
    assert_eq!(config(&[]).expect("valid").max_output_bytes, 900_000);
    for bad in ["1000", "2MiB"] {
        let e = config(&["--max-output-bytes", bad]).expect_err("out of range");
        assert!(
            matches!(e, Refused::Config(ConfigError::OutputBytes { .. })),
            "{bad}: {e}"
        );
    }
}

#[test]
fn a_secrets_baseline_marks_the_findings_it_lists_and_refuses_anything_else() {
    use crate::config::SecretsBaseline;
    use tributary_events::intelligence::SecretFinding;
    let known = "0123456789abcdef0123456789abcdef";
    let text =
        format!("# acknowledged findings\n\n{known}  # test key in fixtures, ok'd by security\n");
    let baseline = SecretsBaseline::parse(&text).expect("parses");
    assert_eq!(baseline.len(), 1);
    let mut found = vec![
        SecretFinding {
            rule_id: "private-key".into(),
            line: 3,
            fingerprint: Some(known.into()),
            acknowledged: false,
        },
        SecretFinding {
            rule_id: "github-pat".into(),
            line: 9,
            fingerprint: Some("ffffffffffffffffffffffffffffffff".into()),
            acknowledged: false,
        },
    ];
    baseline.apply(&mut found);
    assert_eq!(
        found.iter().map(|f| f.acknowledged).collect::<Vec<_>>(),
        [true, false]
    );
    // a pasted secret, a short fingerprint, a value with spaces: refused with the line
    for (bad, line) in [
        ("ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n", 1),
        (&*format!("{known}\nabc\n"), 2),
        ("\n\n# x\n0123 4567\n", 4),
    ] {
        assert_eq!(SecretsBaseline::parse(bad), Err(line), "{bad:?}");
    }
    // through the flags: a file that cannot be read is a config error naming it
    let Err(Refused::Config(e)) = config(&["--secrets-baseline", "/nonexistent/baseline.txt"])
    else {
        panic!("refused");
    };
    assert!(e.to_string().contains("/nonexistent/baseline.txt"), "{e}");
}
