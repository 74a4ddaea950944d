use clap::{CommandFactory as _, FromArgMatches as _};

use super::*;
use crate::cli::{Cli, Command, default_project, parse_size};

/// Parses flags with every environment fallback switched off: hermetic whatever the
/// shell exports (the test suite runs with the local services' variables set).
fn parse(argv: &[&str]) -> Result<Cli, clap::Error> {
    let cmd = Cli::command()
        .mut_subcommand("publish", |s| s.mut_args(|a| a.env(None)))
        .mut_args(|a| a.env(None));
    Cli::from_arg_matches(&cmd.try_get_matches_from(argv)?)
}

fn args(extra: &[&str]) -> Result<Config, PublishError> {
    let mut argv = vec!["tributary-publisher", "publish", "--repo", "/tmp/some/repo"];
    argv.extend_from_slice(extra);
    let cli = parse(&argv).map_err(|e| PublishError::Config(e.to_string()))?;
    let Command::Publish(a) = cli.command else {
        panic!("publish was parsed")
    };
    a.into_config()
}

#[test]
fn defaults_follow_the_design() {
    let c = args(&["--storage-provider", "local"]).expect("valid");
    assert_eq!(c.project, "repo");
    assert_eq!(c.inline_size_limit_bytes, 100 * 1024);
    assert_eq!(c.batch_max_bytes, 900_000);
    assert_eq!(c.kafka.topic, "tributary.index.v2");
    assert_eq!(c.kafka.compression, "zstd");
    assert_eq!(c.strategy, StrategyMode::Auto);
    assert_eq!(c.storage.presign_expiry, Duration::from_secs(24 * 3600));
    assert_eq!(c.storage.key_template, "projects/{project}/{sha256}.{ext}");
}

#[test]
fn cross_field_rules_are_enforced() {
    let err = |a: &[&str]| args(a).expect_err("must be rejected").to_string();
    assert!(err(&["--batch-max-bytes", "2000000"]).contains("batch byte limit"));
    assert!(
        err(&[
            "--content-strategy",
            "object-storage",
            "--storage-provider",
            "none"
        ])
        .contains("needs a storage provider")
    );
    assert!(err(&["--presigned-url-expiry", "8days"]).contains("7 days"));
    assert!(err(&["--storage-key-template", "x/{project}"]).contains("{sha256}"));
    assert!(err(&["--storage-provider", "minio"]).contains("--storage-endpoint"));
    assert!(err(&["--working-tree", "--ref", "main"]).contains("exclude each other"));
    assert!(err(&["--compression", "brotli"]).contains("compression"));
    assert!(
        err(&["--git-credentials-env", "A", "--git-credentials-path", "/x"])
            .contains("exclude each other")
    );
    assert!(err(&["--git-credentials-env", "not a name"]).contains("env:NAME"));
}

#[test]
fn urls_with_passwords_are_refused() {
    let cli = parse(&["p", "publish", "--repo", "https://u:secret@host/r.git"]).expect("parses");
    let Command::Publish(a) = cli.command else {
        panic!("publish was parsed")
    };
    let e = a.into_config().expect_err("password in URL").to_string();
    assert!(e.contains("password"), "{e}");
    assert!(
        !e.contains("secret"),
        "the message must not echo the secret: {e}"
    );
}

#[test]
fn sizes_and_names() {
    assert_eq!(parse_size("100KiB"), Ok(102_400));
    assert_eq!(parse_size("900000"), Ok(900_000));
    assert_eq!(parse_size("64MiB"), Ok(64 << 20));
    assert_eq!(parse_size("1GB"), Ok(1_000_000_000));
    assert!(parse_size("ten").is_err());
    assert!(parse_size("5XB").is_err());
    assert_eq!(default_project("https://host/org/widgets.git"), "widgets");
    assert_eq!(default_project("git@host:org/widgets.git"), "widgets");
    assert_eq!(default_project("/srv/repos/thing/"), "thing");
    assert!(is_url("git://127.0.0.1:9418/x.git"));
    assert!(is_url("git@github.com:org/x.git"));
    assert!(!is_url("/home/a@b/x"));
    assert!(!is_url("./x"));
}
