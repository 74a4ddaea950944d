use time::OffsetDateTime;
use tributary_events::intelligence::{
    Complexity, DOC_TYPE_FILE, DocSource, FileIntelligence, Flags, FunctionComplexity, License,
    Lines, SecretFinding, TokenEstimate,
};
use tributary_events::v2::{IndexRunCompleted, Source, StrategyCounts};
use tributary_events::{RelPath, Sha256Hex};
use uuid::Uuid;

use super::*;

pub(crate) fn doc(
    path: &str,
    lang: Option<&str>,
    code: u64,
    cc: u64,
    flags: Flags,
) -> FileIntelligence {
    FileIntelligence {
        schema_version: "1.1.0".into(),
        doc_type: DOC_TYPE_FILE.into(),
        project: "p".into(),
        path: RelPath::new(path).expect("path"),
        checksum: Sha256Hex::of(path.as_bytes()),
        size: 10,
        language: lang.map(str::to_owned),
        language_method: None,
        lines: Lines {
            code,
            comment: 1,
            blank: 2,
        },
        complexity: (cc > 0).then(|| Complexity {
            cyclomatic: cc,
            functions: vec![FunctionComplexity {
                name: "f".into(),
                line: 3,
                cyclomatic: cc,
                ..Default::default()
            }],
        }),
        symbols: Vec::new(),
        license: None,
        secrets: Vec::new(),
        imports: Vec::new(),
        tokens: Some(TokenEstimate {
            count: code * 10,
            method: "o200k_base".into(),
            o200k_base: Some(code * 10),
            cl100k_base: None,
        }),
        flags,
        flag_reasons: Default::default(),
        dependencies: Vec::new(),
        unique_lines: None,
        history: None,
        diagnostics: Vec::new(),
        truncated: Vec::new(),
        source: DocSource {
            content_strategy: None,
            run_id: None,
            event_id: Uuid::nil(),
            git_url: None,
            git_ref: None,
        },
        timing: Default::default(),
        analysed_at: OffsetDateTime::now_utc(),
    }
}

pub(crate) fn run(files: u64) -> IndexRunCompleted {
    IndexRunCompleted {
        schema_version: "2.0.0".into(),
        event_type: "index_run_completed".into(),
        event_id: Uuid::nil(),
        run_id: Uuid::now_v7(),
        occurred_at: OffsetDateTime::now_utc(),
        project: "p".into(),
        source: Source::default(),
        batches: 1,
        files: StrategyCounts {
            inline: files,
            object_storage: 0,
            git_reference: 0,
        },
        bytes: StrategyCounts::default(),
        deleted: 0,
        skipped_total: 0,
        skipped: Vec::new(),
        skipped_by_reason: Default::default(),
        commit: None,
        replayed: false,
        cost: None,
        portfolio_id: None,
    }
}

#[test]
fn summaries_fold_languages_complexity_licenses_and_secrets() {
    let mut a = doc("a.rs", Some("Rust"), 100, 4, Flags::default());
    a.secrets = vec![
        SecretFinding {
            rule_id: "github-pat".into(),
            line: 3,
            fingerprint: None,
            acknowledged: false,
        },
        SecretFinding {
            rule_id: "jwt".into(),
            line: 9,
            fingerprint: None,
            acknowledged: false,
        },
    ];
    let mut b = doc("b.rs", Some("Rust"), 50, 9, Flags::default());
    b.license = Some(License {
        spdx: "MIT".into(),
        confidence: 1.0,
        method: Some("spdx_identifier".into()),
    });
    let mut lic = doc(
        "LICENSE",
        Some("Text"),
        20,
        0,
        Flags {
            documentation: true,
            ..Flags::default()
        },
    );
    lic.license = Some(License {
        spdx: "MIT".into(),
        confidence: 0.98,
        method: Some("license_text".into()),
    });
    let docs = vec![
        a,
        b,
        lic,
        doc(
            "vendor/c.go",
            Some("Go"),
            500,
            30,
            Flags {
                vendored: true,
                ..Flags::default()
            },
        ),
        doc(
            "tests/t.rs",
            Some("Rust"),
            70,
            12,
            Flags {
                test: true,
                ..Flags::default()
            },
        ),
        doc(
            "d.bin",
            None,
            0,
            0,
            Flags {
                binary: true,
                ..Flags::default()
            },
        ),
    ];
    let s = summarise(&run(7), &docs, 1, true, OffsetDateTime::now_utc());
    assert_eq!(s.totals.files, 6);
    assert_eq!(s.totals.code, 740);
    assert_eq!(s.languages["Rust"].files, 3);
    assert_eq!(s.languages["unknown"].files, 1);
    assert_eq!(
        (
            s.flags.binary,
            s.flags.vendored,
            s.flags.test,
            s.flags.documentation
        ),
        (1, 1, 1, 1)
    );
    assert_eq!(s.cyclomatic, 4 + 9 + 30 + 12);
    assert_eq!(s.tokens, 7400);
    // hotspots: by cyclomatic, not vendored or test code
    let hot: Vec<(&str, u64)> = s
        .hotspots
        .iter()
        .map(|h| (h.path.as_str(), h.cyclomatic))
        .collect();
    assert_eq!(hot, vec![("b.rs", 9), ("a.rs", 4), ("LICENSE", 0)]);
    assert_eq!(
        s.hotspots[0].worst_function.as_ref().map(|f| f.line),
        Some(3)
    );
    // licenses: the license file first among the examples
    assert_eq!(s.licenses.len(), 1);
    assert_eq!(
        (s.licenses[0].spdx.as_str(), s.licenses[0].files),
        ("MIT", 2)
    );
    assert_eq!(s.licenses[0].examples[0], "LICENSE");
    assert_eq!(s.secrets.get("github-pat"), Some(&1));
    assert_eq!(s.secrets.get("jwt"), Some(&1));
    assert_eq!(s.files_with_secrets, 1);
    assert!((s.shares.vendored_files - 1.0 / 6.0).abs() < 1e-3);
    assert_eq!(
        (s.expected_files, s.dead_lettered, s.complete),
        (7, 1, true)
    );
}

#[test]
fn an_empty_run_has_zero_shares_not_nan() {
    let s = summarise(&run(0), &[], 0, true, OffsetDateTime::now_utc());
    assert_eq!(s.shares.generated_files, 0.0);
    assert!(s.hotspots.is_empty());
    let html = crate::report::html(&s);
    assert!(html.contains("No secret found"));
}

#[test]
fn the_report_escapes_repository_strings_and_shows_the_numbers() {
    let mut evil = doc(
        "<script>alert(1)</script>.rs",
        Some("Rust"),
        12345,
        7,
        Flags::default(),
    );
    evil.secrets = vec![SecretFinding {
        rule_id: "aws-access-token".into(),
        line: 1,
        fingerprint: None,
        acknowledged: false,
    }];
    // with history and unique lines, the churn table and the unique-lines line show it
    evil.history = Some(tributary_events::v2::FileHistory {
        commits: 3,
        window_days: 90,
        last_commit: None,
        last_changed_at: None,
    });
    evil.unique_lines = Some(tributary_events::intelligence::UniqueLines {
        count: 12,
        sample: String::new(),
        sample_bits: None,
    });
    let mut r = run(1);
    r.project = "p\"><img src=x onerror=alert(1)>".into();
    let s = summarise(&r, &[evil], 0, true, OffsetDateTime::now_utc());
    let html = crate::report::html(&s);
    assert!(html.contains("id=\"churn\""), "churn table");
    assert!(html.contains("<td class=\"n\">21</td>"), "7 × 3 commits");
    assert!(html.contains("id=\"unique-lines\""));
    assert!(!html.contains("<script>alert"), "path not escaped");
    assert!(!html.contains("<img src=x"), "project not escaped");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;.rs"));
    assert!(html.contains("12,345"));
    assert!(html.contains("aws-access-token"));
    assert!(html.contains("id=\"language-bar\""));
    assert!(!html.contains("http://") && !html.contains("https://"));
    assert!(
        !html.contains("src=\"http"),
        "self-contained: nothing fetched"
    );
}

/// Folding keeps only the current top hotspots; the result is the full sort's top, in
/// whatever order the documents come.
#[test]
fn hotspots_folded_in_any_order_are_the_full_sorts_top() {
    let docs: Vec<FileIntelligence> = (0..500u64)
        .map(|i| {
            // complexities repeat, so ties fall to size and then to path
            let scrambled = (i * 7919) % 500;
            doc(
                &format!("src/f{scrambled}.rs"),
                Some("Rust"),
                1 + scrambled % 13,
                1 + scrambled % 37,
                Flags::default(),
            )
        })
        .collect();
    let mut all: Vec<&FileIntelligence> = docs.iter().collect();
    all.sort_by(|a, b| {
        let cc = |d: &FileIntelligence| d.complexity.as_ref().map_or(0, |c| c.cyclomatic);
        cc(b)
            .cmp(&cc(a))
            .then(b.lines.code.cmp(&a.lines.code))
            .then(a.path.as_str().cmp(b.path.as_str()))
    });
    let want: Vec<String> = all[..HOTSPOTS].iter().map(|d| d.path.to_string()).collect();
    for order in [docs.clone(), docs.iter().rev().cloned().collect()] {
        let s = summarise(&run(500), &order, 0, true, OffsetDateTime::now_utc());
        let got: Vec<String> = s.hotspots.iter().map(|h| h.path.clone()).collect();
        assert_eq!(got, want);
        assert_eq!(s.totals.files, 500);
    }
}

#[test]
fn the_summary_and_report_show_what_the_publisher_did_not_publish() {
    let mut r = run(2);
    r.skipped_total = 30;
    r.skipped_by_reason = [("symlink".to_owned(), 27), ("failed".to_owned(), 3)]
        .into_iter()
        .collect();
    r.deleted = 1;
    let mut rollup = Rollup::default();
    rollup.add(&doc("a.rs", Some("Rust"), 10, 1, Flags::default()));
    rollup.add(&doc("b.rs", Some("Rust"), 10, 1, Flags::default()));
    let s = rollup.finish(&r, 0, true, OffsetDateTime::now_utc());
    assert_eq!(s.publisher_failed, 3);
    assert_eq!(s.skipped_by_reason.get("symlink"), Some(&27));
    assert!(
        !s.skipped_by_reason.contains_key("failed"),
        "failures are not skips"
    );
    let html = crate::report::html(&s);
    assert!(
        html.contains("complete for what was published: 3 files failed at the publisher"),
        "a run with publisher failures is not plain green"
    );
    assert!(!html.contains("<span class=\"ok\">complete</span>"));
    for row in [
        "<td>failed at the publisher</td><td class=\"n\">3</td>",
        "<td>skipped: symlink</td><td class=\"n\">27</td>",
        "<td>deleted in this run</td><td class=\"n\">1</td>",
    ] {
        assert!(html.contains(row), "{row} missing");
    }
    // a clean run says so, in green, with no such section
    let clean = Rollup::default().finish(&run(0), 0, true, OffsetDateTime::now_utc());
    let html = crate::report::html(&clean);
    assert!(html.contains("<span class=\"ok\">complete</span>"));
    assert!(!html.contains("not-indexed"));
}

#[test]
fn identical_files_are_grouped_by_content_the_most_wasteful_first() {
    let with_bytes = |path: &str, content: &str, size: u64| {
        let mut d = doc(path, Some("Rust"), 1, 0, Flags::default());
        d.checksum = Sha256Hex::of(content.as_bytes());
        d.size = size;
        d
    };
    let docs = [
        with_bytes("a/lib.rs", "x", 100),
        with_bytes("b/lib.rs", "x", 100),
        with_bytes("c/lib.rs", "x", 100),
        with_bytes("big1.bin", "y", 5000),
        with_bytes("big2.bin", "y", 5000),
        with_bytes("unique.rs", "z", 10),
        // empty files are all alike and not worth a group
        with_bytes("e1", "", 0),
        with_bytes("e2", "", 0),
    ];
    let s = summarise(
        &run(docs.len() as u64),
        &docs,
        0,
        true,
        OffsetDateTime::now_utc(),
    );
    let d = s.duplicates.expect("duplicates");
    assert_eq!(
        (d.groups, d.duplicate_files, d.duplicate_bytes),
        (2, 3, 5200)
    );
    assert_eq!(d.largest[0].paths, ["big1.bin", "big2.bin"]);
    assert_eq!(d.largest[1].paths, ["a/lib.rs", "b/lib.rs", "c/lib.rs"]);
    assert_eq!(d.largest[1].files, 3);
    let html = crate::report::html(&summarise(
        &run(3),
        &docs[..3],
        0,
        true,
        OffsetDateTime::now_utc(),
    ));
    assert!(
        html.contains("1 groups of identical files: 2 copies"),
        "report section"
    );
    // nothing identical: no section, no field
    let unique = summarise(&run(1), &docs[5..6], 0, true, OffsetDateTime::now_utc());
    assert!(unique.duplicates.is_none());
    assert!(
        !serde_json::to_string(&unique)
            .expect("json")
            .contains("duplicates")
    );
}

fn function(name: &str, line: u64, cyclomatic: u64, lines: u64) -> FunctionComplexity {
    FunctionComplexity {
        name: name.into(),
        line,
        cyclomatic,
        lines: Some(lines),
        parameters: Some(2),
    }
}

#[test]
fn function_hotspots_rank_functions_across_files_and_leave_out_test_and_vendored_code() {
    let with = |path: &str, flags: Flags, functions: Vec<FunctionComplexity>| {
        let mut d = doc(path, Some("Go"), 100, 1, flags);
        d.complexity = Some(Complexity {
            cyclomatic: functions.iter().map(|f| f.cyclomatic).sum(),
            functions,
        });
        d
    };
    let mut docs = vec![
        with(
            "a.go",
            Flags::default(),
            vec![function("small", 1, 2, 5), function("parse", 10, 14, 80)],
        ),
        // same complexity as `parse`: the longer one first
        with("b.go", Flags::default(), vec![function("lex", 3, 14, 120)]),
        with(
            "a_test.go",
            Flags {
                test: true,
                ..Flags::default()
            },
            vec![function("TestHuge", 1, 90, 400)],
        ),
        with(
            "vendor/x.go",
            Flags {
                vendored: true,
                ..Flags::default()
            },
            vec![function("vendored", 1, 50, 300)],
        ),
    ];
    // enough functions to make the fold cut its list more than once
    for i in 0..200u64 {
        docs.push(with(
            &format!("gen/f{i}.go"),
            Flags::default(),
            vec![function("f", 1, 1 + i % 7, 3)],
        ));
    }
    let s = summarise(
        &run(docs.len() as u64),
        &docs,
        0,
        true,
        OffsetDateTime::now_utc(),
    );
    let f = s.functions.expect("functions");
    assert_eq!(
        f.count, 205,
        "every listed function counts, flagged files too"
    );
    assert_eq!(f.cyclomatic_over_10, 4, "parse, lex, TestHuge, vendored");
    assert_eq!(f.hotspots.len(), FUNCTION_HOTSPOTS);
    let top: Vec<(&str, &str, u64)> = f
        .hotspots
        .iter()
        .take(3)
        .map(|h| (h.path.as_str(), h.name.as_str(), h.cyclomatic))
        .collect();
    assert_eq!(
        top,
        [
            ("b.go", "lex", 14),
            ("a.go", "parse", 14),
            ("gen/f104.go", "f", 7)
        ]
    );
    assert!(
        f.hotspots
            .iter()
            .all(|h| !h.path.contains("test") && !h.path.contains("vendor"))
    );
    assert_eq!(f.hotspots[0].lines, Some(120));
    assert_eq!(f.hotspots[0].language.as_deref(), Some("Go"));
    // the list is the true top: the same as sorting everything at once
    let mut all: Vec<u64> = docs
        .iter()
        .filter(|d| !d.flags.test && !d.flags.vendored)
        .flat_map(|d| {
            d.complexity
                .iter()
                .flat_map(|c| c.functions.iter().map(|f| f.cyclomatic))
        })
        .collect();
    all.sort_unstable_by(|a, b| b.cmp(a));
    let listed: Vec<u64> = f.hotspots.iter().map(|h| h.cyclomatic).collect();
    assert_eq!(listed, all[..FUNCTION_HOTSPOTS]);
    // and a project with no functions has no section
    let none = summarise(
        &run(1),
        &[doc("x.txt", None, 3, 0, Flags::default())],
        0,
        true,
        OffsetDateTime::now_utc(),
    );
    assert!(none.functions.is_none());
}

#[test]
fn tokens_roll_up_by_encoding_and_by_folder_one_and_two_levels_deep() {
    let mut docs = vec![
        doc("README.md", None, 1, 0, Flags::default()),
        doc("src/main.rs", Some("Rust"), 10, 0, Flags::default()),
        doc("src/parser/lex.rs", Some("Rust"), 20, 0, Flags::default()),
        doc(
            "src/parser/deep/ast.rs",
            Some("Rust"),
            30,
            0,
            Flags::default(),
        ),
    ];
    // a document counted under cl100k_base too
    docs[1].tokens.as_mut().expect("tokens").cl100k_base = Some(111);
    let s = summarise(&run(4), &docs, 0, true, OffsetDateTime::now_utc());
    assert_eq!(s.tokens, 610);
    assert_eq!(
        s.tokens_by_encoding,
        BTreeMap::from([
            ("o200k_base".to_owned(), 610),
            ("cl100k_base".to_owned(), 111)
        ])
    );
    let folders: Vec<(&str, u64, u64)> = s
        .token_folders
        .iter()
        .map(|f| (f.folder.as_str(), f.files, f.tokens))
        .collect();
    assert_eq!(
        folders,
        [("src", 3, 600), ("src/parser", 2, 500), (".", 1, 10)]
    );

    // a project of more folders than a fold tallies sums the rest as one
    let many: Vec<FileIntelligence> = (0..FOLDERS_TALLIED + 10)
        .map(|i| {
            doc(
                &format!("d{i:05}/f.rs"),
                Some("Rust"),
                1,
                0,
                Flags::default(),
            )
        })
        .collect();
    let s = summarise(
        &run(many.len() as u64),
        &many,
        0,
        true,
        OffsetDateTime::now_utc(),
    );
    assert_eq!(s.token_folders.len(), TOKEN_FOLDERS);
    assert_eq!(s.token_folders[0].folder, OTHER_FOLDERS);
    assert_eq!(s.token_folders[0].files, 10);
}

#[test]
fn the_inventory_completes_lockfiles_from_the_manifests_beside_them() {
    use crate::deps::{Kind, read};
    let with = |path: &str, kind: Kind, text: &str| {
        let mut d = doc(path, None, 1, 0, Flags::default());
        d.dependencies = read(kind, text).expect("reads").dependencies;
        d
    };
    let docs = vec![
        // poetry.lock cannot say what is direct: pyproject.toml beside it does
        with(
            "svc/pyproject.toml",
            Kind::Pyproject,
            "[tool.poetry.dependencies]\npython = \"^3.11\"\nrequests = \"^2.31\"\n[tool.poetry.group.dev.dependencies]\npytest = \"^8\"\n",
        ),
        with(
            "svc/poetry.lock",
            Kind::PoetryLock,
            "[[package]]\nname = \"requests\"\nversion = \"2.31.0\"\n[[package]]\nname = \"urllib3\"\nversion = \"2.2.1\"\n[[package]]\nname = \"pytest\"\nversion = \"8.0.0\"\n",
        ),
        // a manifest with no lockfile beside it: its entries stay, unresolved
        with("tools/requirements.txt", Kind::Requirements, "black>=24\n"),
        // the same package in two lockfiles is one entry naming both files
        with(
            "a/go.mod",
            Kind::GoMod,
            "module a\nrequire golang.org/x/net v0.38.0\n",
        ),
        with(
            "b/go.mod",
            Kind::GoMod,
            "module b\nrequire golang.org/x/net v0.38.0 // indirect\n",
        ),
    ];
    let s = summarise(
        &run(docs.len() as u64),
        &docs,
        0,
        true,
        OffsetDateTime::now_utc(),
    );
    let d = s.dependencies.expect("inventory");
    let got: Vec<(&str, Option<bool>, Option<&str>, usize)> = d
        .list
        .iter()
        .map(|e| {
            let x = &e.dependency;
            (x.purl.as_str(), x.direct, x.scope.as_deref(), e.files.len())
        })
        .collect();
    assert_eq!(
        got,
        [
            ("pkg:golang/golang.org/x/net@v0.38.0", Some(true), None, 2),
            ("pkg:pypi/pytest@8.0.0", Some(true), Some("dev"), 1),
            ("pkg:pypi/requests@2.31.0", Some(true), Some("runtime"), 1),
            ("pkg:pypi/black", None, None, 1),
            ("pkg:pypi/urllib3@2.2.1", None, None, 1),
        ]
    );
    assert_eq!((d.packages, d.direct), (5, 3));
    assert_eq!(
        d.by_ecosystem,
        BTreeMap::from([("golang".to_owned(), 1), ("pypi".to_owned(), 4)])
    );

    // the SBOM: one component per package, the project depending on the direct ones
    let bom = crate::sbom::cyclonedx(&summarise(
        &run(docs.len() as u64),
        &docs,
        0,
        true,
        OffsetDateTime::now_utc(),
    ))
    .expect("a BOM");
    assert_eq!(bom["bomFormat"], "CycloneDX");
    assert_eq!(bom["specVersion"], "1.5");
    assert_eq!(bom["components"].as_array().expect("components").len(), 5);
    assert_eq!(
        bom["components"][1]["scope"], "excluded",
        "a dev dependency"
    );
    assert_eq!(bom["components"][2]["scope"], "required");
    assert_eq!(
        bom["dependencies"][0]["dependsOn"]
            .as_array()
            .expect("direct")
            .len(),
        3
    );
    // no manifests, no inventory, no BOM
    let none = summarise(
        &run(1),
        &[doc("x.rs", Some("Rust"), 1, 0, Flags::default())],
        0,
        true,
        OffsetDateTime::now_utc(),
    );
    assert!(none.dependencies.is_none() && crate::sbom::cyclonedx(&none).is_none());
}

#[test]
fn acknowledged_findings_are_counted_apart_and_sarif_lists_the_rest() {
    let finding = |rule: &str, line: u64, acknowledged: bool| SecretFinding {
        rule_id: rule.into(),
        line,
        fingerprint: Some(format!("{line:032x}")),
        acknowledged,
    };
    let mut a = doc("config/prod.env", None, 5, 0, Flags::default());
    a.secrets = vec![
        finding("github-pat", 2, false),
        finding("private-key", 7, true),
    ];
    let mut b = doc("tests/fixture.pem", None, 5, 0, Flags::default());
    b.secrets = vec![finding("private-key", 1, true)];
    let s = summarise(&run(2), &[a, b], 0, true, OffsetDateTime::now_utc());
    assert_eq!(s.secrets, BTreeMap::from([("github-pat".to_owned(), 1)]));
    assert_eq!(
        s.files_with_secrets, 1,
        "a file with acknowledged findings only is clean"
    );
    assert_eq!(s.secrets_acknowledged, 2);
    assert_eq!(s.secret_findings.len(), 1);
    let sarif = crate::sarif::secrets(&s).expect("a SARIF log");
    assert_eq!(sarif["version"], "2.1.0");
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["ruleId"], "github-pat");
    assert_eq!(
        results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "config/prod.env"
    );
    assert_eq!(
        results[0]["locations"][0]["physicalLocation"]["region"]["startLine"],
        2
    );
    assert_eq!(
        results[0]["partialFingerprints"]["tributary/v1"],
        format!("{:032x}", 2)
    );
    // nothing found, no log
    let clean = summarise(
        &run(1),
        &[doc("a.rs", None, 1, 0, Flags::default())],
        0,
        true,
        OffsetDateTime::now_utc(),
    );
    assert!(crate::sarif::secrets(&clean).is_none());
}

/// Churn: files with history are counted, changed ones apart, and the hotspots by
/// change are complexity × commits — test code left out — the same whatever order the
/// documents come in.
#[test]
fn churn_hotspots_are_complexity_times_commits() {
    let history = |commits: u32| tributary_events::v2::FileHistory {
        commits,
        window_days: 90,
        last_commit: Some("0".repeat(40)),
        last_changed_at: None,
    };
    let mut docs = Vec::new();
    for i in 0..60u64 {
        let mut d = doc(
            &format!("src/f{i}.rs"),
            Some("Rust"),
            10,
            1 + i % 7,
            Flags::default(),
        );
        d.history = Some(history((i % 5) as u32));
        docs.push(d);
    }
    let mut test = doc(
        "src/f_test.rs",
        Some("Rust"),
        10,
        50,
        Flags {
            test: true,
            ..Flags::default()
        },
    );
    test.history = Some(history(40));
    docs.push(test);
    docs.push(doc("README.md", Some("Markdown"), 1, 0, Flags::default())); // no history
    let score = |d: &FileIntelligence| {
        d.complexity.as_ref().map_or(0, |c| c.cyclomatic)
            * u64::from(d.history.as_ref().map_or(0, |h| h.commits))
    };
    let mut ranked: Vec<&FileIntelligence> = docs
        .iter()
        .filter(|d| !d.flags.test && score(d) > 0)
        .collect();
    ranked.sort_by(|a, b| {
        score(b)
            .cmp(&score(a))
            .then(
                b.history
                    .as_ref()
                    .map(|h| h.commits)
                    .cmp(&a.history.as_ref().map(|h| h.commits)),
            )
            .then(a.path.as_str().cmp(b.path.as_str()))
    });
    let want: Vec<String> = ranked[..HOTSPOTS]
        .iter()
        .map(|d| d.path.to_string())
        .collect();
    for order in [docs.clone(), docs.iter().rev().cloned().collect()] {
        let s = summarise(&run(62), &order, 0, true, OffsetDateTime::now_utc());
        let c = s.churn.expect("churn");
        assert_eq!((c.window_days, c.files, c.files_changed), (90, 61, 49));
        assert_eq!(c.file_changes, (0..60u64).map(|i| i % 5).sum::<u64>() + 40);
        let got: Vec<String> = c.hotspots.iter().map(|h| h.path.clone()).collect();
        assert_eq!(got, want);
    }
    let none = summarise(&run(1), &docs[61..], 0, true, OffsetDateTime::now_utc());
    assert_eq!(none.churn, None);
}
