//! The settings file and its precedence, on the real binaries: flags over environment
//! variables over the file over built-in defaults; unknown keys, bad types and secrets
//! given as values refused with exit code 2 naming the key; the `[kafka]` table reaching
//! the same checks as `-X`.

use tributary_tests::{Args, workspace_bin};

struct Outcome {
    code: Option<i32>,
    stderr: String,
}

/// Runs `bin` with `args` and `env`, with none of the suite's Kafka variables.
fn run(bin: &str, args: &Args, env: &[(&str, &str)]) -> Outcome {
    let mut cmd = std::process::Command::new(workspace_bin(bin));
    cmd.args(args)
        .env("NO_COLOR", "1")
        .env_remove("TRIBUTARY_KAFKA_BROKERS")
        .env_remove("TRIBUTARY_CONFIG");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("binary runs");
    Outcome {
        code: out.status.code(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn settings(dir: &std::path::Path, text: &str) -> String {
    let p = dir.join("tributary.toml");
    std::fs::write(&p, text).expect("write settings");
    p.display().to_string()
}

#[test]
fn flags_beat_environment_beats_file_beats_defaults() {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = tempfile::tempdir().expect("tempdir");
    std::fs::write(repo.path().join("a.txt"), "a\n").expect("write");
    // broker lists that fail validation at once, each naming where it came from
    let file = settings(
        dir.path(),
        "brokers = \"from-file\"\nstorage_provider = \"none\"\n",
    );
    let publish = |extra: Args| {
        Args::new(["publish"])
            .flag("repo", repo.path().to_str().expect("utf-8"))
            .flag("config", &file)
            .with(&extra)
    };
    // (case, extra flags, environment, the broker list the error must name)
    type Case<'a> = (&'a str, Args, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case<'_>> = vec![
        ("file over default", Args::default(), vec![], "from-file"),
        (
            "environment over file",
            Args::default(),
            vec![("TRIBUTARY_KAFKA_BROKERS", "from-env")],
            "from-env",
        ),
        (
            "flag over environment",
            Args::default().flag("brokers", "from-flag"),
            vec![("TRIBUTARY_KAFKA_BROKERS", "from-env")],
            "from-flag",
        ),
    ];
    for (case, extra, env, expected) in cases {
        let o = run("tributary-publisher", &publish(extra), &env);
        assert_eq!(o.code, Some(2), "{case}: {}", o.stderr);
        assert!(
            o.stderr
                .contains(&format!("--brokers: \"{expected}\" is not a list")),
            "{case}: {}",
            o.stderr
        );
    }
    // the file found through TRIBUTARY_CONFIG, for the consumer too
    let o = run(
        "tributary-consumer",
        &Args::new(["run"]),
        &[("TRIBUTARY_CONFIG", &file)],
    );
    assert_eq!(o.code, Some(2), "{}", o.stderr);
    assert!(
        o.stderr.contains("\"from-file\" is not a list"),
        "{}",
        o.stderr
    );
}

#[test]
fn bad_settings_files_are_refused_naming_the_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases = [
        (
            "unknown key",
            "brokrs = \"b:9092\"\n",
            "unknown setting `brokrs`",
        ),
        ("not TOML", "brokers = \n", "not valid TOML"),
        (
            "a table where a value goes",
            "[brokers]\nx = 1\n",
            "`brokers` must be a string",
        ),
        (
            "secret as a value",
            "kafka_sasl_mechanism = \"PLAIN\"\nkafka_sasl_username = \"u\"\nkafka_sasl_password = \"hunter2\"\n",
            "--kafka-sasl-password: expected a reference",
        ),
        (
            "guarded property in [kafka]",
            "[kafka]\n\"enable.auto.commit\" = false\n",
            "-X enable.auto.commit: refused",
        ),
        (
            "secret property in [kafka] as a value",
            "[kafka]\n\"sasl.password\" = \"hunter2\"\n",
            "-X: expected a reference",
        ),
    ];
    for (case, text, expected) in cases {
        let file = settings(dir.path(), text);
        let o = run(
            "tributary-consumer",
            &Args::new(["run"]).flag("config", &file),
            &[],
        );
        assert_eq!(o.code, Some(2), "{case}: {}", o.stderr);
        assert!(o.stderr.contains(expected), "{case}: {}", o.stderr);
        assert!(
            !o.stderr.contains("hunter2"),
            "{case} leaks the value: {}",
            o.stderr
        );
    }
    let o = run(
        "tributary-publisher",
        &Args::new(["publish", "--repo", "."]).flag("config", "/nonexistent/tributary.toml"),
        &[],
    );
    assert_eq!(o.code, Some(2), "{}", o.stderr);
    assert!(
        o.stderr
            .contains("--config /nonexistent/tributary.toml: cannot read it"),
        "{}",
        o.stderr
    );
}
