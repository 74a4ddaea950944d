use clap::{CommandFactory as _, FromArgMatches as _};

use super::*;
use crate::cli::{Cli, Command, default_project, parse_size};
use crate::error::ConfigError;

/// Parses flags with every environment fallback switched off: hermetic whatever the
/// shell exports (the test suite runs with the local services' variables set).
fn parse(argv: &[&str]) -> Result<Cli, clap::Error> {
    let cmd = Cli::command()
        .mut_subcommand("publish", |s| s.mut_args(|a| a.env(None)))
        .mut_args(|a| a.env(None));
    Cli::from_arg_matches(&cmd.try_get_matches_from(argv)?)
}

/// Why flags were refused: by clap (a malformed value), or by validation.
#[derive(Debug)]
enum Refused {
    Flags(clap::Error),
    Config(ConfigError),
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::Flags(e) => write!(f, "{e}"),
            Refused::Config(e) => write!(f, "{}", tributary_runtime::chain(e)),
        }
    }
}

fn args(extra: &[&str]) -> Result<Config, Refused> {
    let mut argv = vec!["tributary-publisher", "publish", "--repo", "/tmp/some/repo"];
    argv.extend_from_slice(extra);
    let cli = parse(&argv).map_err(Refused::Flags)?;
    let Command::Publish(a) = cli.command else {
        panic!("publish was parsed")
    };
    a.into_config().map_err(Refused::Config)
}

#[test]
fn defaults_follow_the_design() {
    let Config {
        settings: c,
        target,
    } = args(&["--storage-provider", "local"]).expect("valid");
    assert_eq!(target.project.as_str(), "repo");
    assert_eq!(c.inline_size_limit_bytes, 100 * 1024);
    assert_eq!(c.batch_max_bytes, 900_000);
    assert_eq!(c.kafka.topic, "tributary.index.v2");
    assert_eq!(c.kafka.compression.as_str(), "zstd");
    assert_eq!(c.strategy, StrategyMode::Auto);
    assert_eq!(c.storage.presign_expiry, Duration::from_secs(24 * 3600));
    assert_eq!(c.storage.key_template, "projects/{project}/{sha256}.{ext}");
}

#[test]
fn cross_field_rules_are_enforced() {
    let err = |a: &[&str]| args(a).expect_err("must be rejected");
    let says = |a: &[&str], what: &str| {
        let e = err(a).to_string();
        assert!(e.contains(what), "{a:?}: {e}");
    };
    // each rule by its variant, and its message names the fix
    type Case<'a> = (&'a [&'a str], fn(&ConfigError) -> bool, &'a str);
    let cases: &[Case<'_>] = &[
        (
            &["--batch-max-bytes", "2000000"],
            |e| matches!(e, ConfigError::BatchBytes { got: 2_000_000, .. }),
            "batch byte limit",
        ),
        (
            &[
                "--content-strategy",
                "object-storage",
                "--storage-provider",
                "none",
            ],
            |e| matches!(e, ConfigError::ObjectStorageWithoutStore),
            "needs a storage provider",
        ),
        (
            &["--presigned-url-expiry", "8days"],
            |e| matches!(e, ConfigError::PresignExpiry),
            "7 days",
        ),
        (
            &["--storage-key-template", "x/{project}"],
            |e| matches!(e, ConfigError::Storage(_)),
            "{sha256}",
        ),
        (
            &["--storage-provider", "minio"],
            |e| matches!(e, ConfigError::Storage(_)),
            "--storage-endpoint",
        ),
        (
            &["--working-tree", "--ref", "main"],
            |e| matches!(e, ConfigError::WorkingTreeWithRef),
            "exclude each other",
        ),
        (
            &["--git-credentials-env", "A", "--git-credentials-path", "/x"],
            |e| matches!(e, ConfigError::CredentialsTwice),
            "exclude each other",
        ),
        (
            &["--git-credentials-env", "not a name"],
            |e| matches!(e, ConfigError::CredentialRef(_)),
            "env:NAME",
        ),
        (
            &["--include", "a/[b"],
            |e| matches!(e, ConfigError::Glob { .. }),
            "bad glob",
        ),
    ];
    for (argv, is, what) in cases {
        match err(argv) {
            Refused::Config(e) => assert!(is(&e), "{argv:?}: {e:?}"),
            Refused::Flags(e) => panic!("{argv:?}: refused by clap, not validation: {e}"),
        }
        says(argv, what);
    }
    // a compression codec is a closed set, checked by clap
    assert!(matches!(
        err(&["--compression", "brotli"]),
        Refused::Flags(_)
    ));
    says(&["--compression", "brotli"], "compression");
}

#[test]
fn urls_with_passwords_are_refused() {
    let cli = parse(&["p", "publish", "--repo", "https://u:secret@host/r.git"]).expect("parses");
    let Command::Publish(a) = cli.command else {
        panic!("publish was parsed")
    };
    let e = a.into_config().expect_err("password in URL");
    assert!(matches!(e, ConfigError::PasswordInRepoUrl), "{e:?}");
    let e = e.to_string();
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
    // units in any case, as people type them
    for (typed, bytes) in [
        ("10mb", 10_000_000),
        ("10MB", 10_000_000),
        ("64mib", 64 << 20),
        ("2Gib", 2 << 30),
        ("8k", 8 << 10),
        ("512 b", 512),
    ] {
        assert_eq!(parse_size(typed), Ok(bytes), "{typed}");
    }
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
