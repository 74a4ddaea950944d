use tributary_events::intelligence::{DocSource, Flags, Lines};
use tributary_events::v2::{Source, StrategyCounts};
use tributary_events::{RelPath, Sha256Hex};
use uuid::Uuid;

use super::*;

fn doc(path: &str, lang: Option<&str>, code: u64, flags: Flags) -> FileIntelligence {
    FileIntelligence {
        schema_version: "1.0.0".into(),
        doc_type: DOC_TYPE_FILE.into(),
        project: "p".into(),
        path: RelPath::new(path).expect("path"),
        checksum: Sha256Hex::of(path.as_bytes()),
        size: 10,
        language: lang.map(str::to_owned),
        lines: Lines {
            code,
            comment: 1,
            blank: 2,
        },
        complexity: None,
        symbols: Vec::new(),
        license: None,
        secrets: Vec::new(),
        flags,
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

#[test]
fn summaries_fold_documents_by_language() {
    let run = IndexRunCompleted {
        schema_version: "2.0.0".into(),
        event_type: "index_run_completed".into(),
        event_id: Uuid::nil(),
        run_id: Uuid::now_v7(),
        occurred_at: OffsetDateTime::now_utc(),
        project: "p".into(),
        source: Source::default(),
        batches: 1,
        files: StrategyCounts {
            inline: 4,
            object_storage: 0,
            git_reference: 0,
        },
        bytes: StrategyCounts::default(),
        deleted: 0,
        skipped_total: 0,
        skipped: Vec::new(),
        skipped_by_reason: Default::default(),
        commit: None,
    };
    let mut docs = HashMap::new();
    for d in [
        doc("a.rs", Some("Rust"), 100, Flags::default()),
        doc("b.rs", Some("Rust"), 50, Flags::default()),
        doc(
            "vendor/c.go",
            Some("Go"),
            500,
            Flags {
                vendored: true,
                ..Flags::default()
            },
        ),
        doc(
            "d.bin",
            None,
            0,
            Flags {
                binary: true,
                ..Flags::default()
            },
        ),
    ] {
        docs.insert(d.path.to_string(), d);
    }
    let s = build(&run, &docs, 1, true);
    assert_eq!(s.totals.files, 4);
    assert_eq!(s.totals.code, 650);
    assert_eq!(
        s.languages["Rust"],
        LanguageTotals {
            files: 2,
            bytes: 20,
            code: 150,
            comment: 2,
            blank: 4
        }
    );
    assert_eq!(s.languages["unknown"].files, 1);
    assert_eq!(
        s.flags,
        FlagCounts {
            binary: 1,
            generated: 0,
            vendored: 1,
            minified: 0
        }
    );
    // vendored code is not a hotspot of the project
    assert_eq!(
        s.hotspots
            .iter()
            .map(|h| h.path.as_str())
            .collect::<Vec<_>>(),
        vec!["a.rs", "b.rs"]
    );
    assert_eq!(
        (s.expected_files, s.dead_lettered, s.complete),
        (4, 1, true)
    );
}
