use arrow_array::{Array, BooleanArray, StringArray, UInt64Array};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use tributary_events::intelligence::{DOC_TYPE_FILE, DocSource, Flags, Lines};
use tributary_events::{RelPath, Sha256Hex};

use super::*;

fn doc(path: &str, language: Option<&str>, code: u64, vendored: bool) -> FileIntelligence {
    FileIntelligence {
        schema_version: "1.4.0".into(),
        doc_type: DOC_TYPE_FILE.into(),
        project: "org/p".into(),
        path: RelPath::new(path).expect("path"),
        checksum: Sha256Hex::of(path.as_bytes()),
        size: code * 10,
        language: language.map(str::to_owned),
        language_method: language.map(|_| "extension".to_owned()),
        lines: Lines {
            code,
            comment: 1,
            blank: 2,
        },
        complexity: None,
        symbols: Vec::new(),
        license: None,
        secrets: Vec::new(),
        imports: vec!["std".into()],
        tokens: None,
        flags: Flags {
            vendored,
            ..Flags::default()
        },
        flag_reasons: Default::default(),
        dependencies: Vec::new(),
        unique_lines: None,
        history: None,
        diagnostics: Vec::new(),
        truncated: Vec::new(),
        source: DocSource {
            content_strategy: None,
            run_id: Some(uuid::Uuid::now_v7()),
            event_id: uuid::Uuid::nil(),
            git_url: None,
            git_ref: None,
        },
        timing: Default::default(),
        analysed_at: time::macros::datetime!(2026-11-24 10:00:00 UTC),
    }
}

#[test]
fn the_files_table_reads_back_as_written() {
    let mut t = FileTable::default();
    t.add(&doc("src/a.rs", Some("Rust"), 100, false));
    t.add(&doc("vendor/b.js", Some("JavaScript"), 40, true));
    t.add(&doc("blob", None, 0, false));
    assert_eq!(t.rows(), 3);
    let parquet = t.finish().expect("encode");
    assert!(parquet.starts_with(b"PAR1"), "a Parquet file");
    let reader = ParquetRecordBatchReaderBuilder::try_new(parquet)
        .expect("reader")
        .build()
        .expect("build");
    let batches: Vec<RecordBatch> = reader.map(|b| b.expect("batch")).collect();
    let batch = &batches[0];
    assert_eq!(batch.num_rows(), 3);
    assert_eq!(batch.schema(), FileTable::schema());
    let col = |name: &str| batch.column_by_name(name).expect(name).clone();
    let paths = col("path");
    let paths = paths.as_any().downcast_ref::<StringArray>().expect("utf8");
    assert_eq!(paths.value(1), "vendor/b.js");
    let code = col("code");
    let code = code.as_any().downcast_ref::<UInt64Array>().expect("u64");
    assert_eq!(code.iter().flatten().sum::<u64>(), 140);
    let language = col("language");
    assert!(language.is_null(2), "no language is null, not empty");
    let vendored = col("vendored");
    let vendored = vendored
        .as_any()
        .downcast_ref::<BooleanArray>()
        .expect("bool");
    assert!(vendored.value(1) && !vendored.value(0));
    // what a table never carries
    for absent in ["symbols_names", "imports_list", "content", "secret"] {
        assert!(batch.column_by_name(absent).is_none());
    }
}

#[tokio::test]
async fn keys_are_stable_and_a_run_alone_is_a_portfolio_of_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sink = HubSink::open(
        Some(&SinkLocation::Dir(dir.path().to_path_buf())),
        &StoreConfig::None,
    )
    .await
    .expect("open")
    .expect("sink");
    let docs = [doc("a.rs", Some("Rust"), 10, false)];
    let mut run = tributary_events::v2::IndexRunCompleted {
        schema_version: "2.3.0".into(),
        event_type: "index_run_completed".into(),
        event_id: uuid::Uuid::now_v7(),
        run_id: uuid::Uuid::now_v7(),
        occurred_at: time::OffsetDateTime::now_utc(),
        project: "org/p".into(),
        source: Default::default(),
        batches: 1,
        files: Default::default(),
        bytes: Default::default(),
        deleted: 0,
        skipped_total: 0,
        skipped: Vec::new(),
        skipped_by_reason: Default::default(),
        commit: None,
        replayed: false,
        cost: None,
        portfolio_id: None,
    };
    let alone =
        tributary_intel::rollup::summarise(&run, &docs, 0, true, time::OffsetDateTime::now_utc());
    let keys = sink.keys(&alone);
    let run_dir = format!("portfolio/runs/{}", run.run_id);
    assert_eq!(
        keys.per_repo,
        format!(
            "{run_dir}/per-repo/org_p-{}.json",
            &Sha256Hex::of(b"org/p").to_string()[..8]
        )
    );
    assert_eq!(keys.portfolio_summary, format!("{run_dir}/summary.json"));
    assert!(keys.latest.starts_with("portfolio/latest/per-repo/org_p-"));
    let portfolio = uuid::Uuid::now_v7();
    run.portfolio_id = Some(portfolio);
    let member =
        tributary_intel::rollup::summarise(&run, &docs, 0, true, time::OffsetDateTime::now_utc());
    assert!(
        sink.keys(&member)
            .files
            .starts_with(&format!("portfolio/runs/{portfolio}/files/"))
    );

    // written: the summary, the table, the latest state and the rollup of one
    let mut t = FileTable::default();
    t.add(&docs[0]);
    sink.write(&member, Some(t.finish().expect("parquet")))
        .await;
    let read =
        |key: &str| std::fs::read(dir.path().join(key)).unwrap_or_else(|e| panic!("{key}: {e}"));
    let keys = sink.keys(&member);
    let rolled: serde_json::Value =
        serde_json::from_slice(&read(&keys.portfolio_summary)).expect("json");
    assert_eq!(rolled["doc_type"], "portfolio_summary");
    assert_eq!(rolled["projects"], 1);
    assert_eq!(rolled["portfolio_id"], portfolio.to_string());
    assert!(read(&keys.files).starts_with(b"PAR1"));
    assert_eq!(read(&keys.per_repo), read(&keys.latest));
    // the pages: the project's report beside its summary, the portfolio's linking it
    let index =
        String::from_utf8(read(&format!("{}index.html", keys.portfolio_dir))).expect("utf-8");
    assert!(
        index.contains(&format!("href=\"per-repo/{}.html\"", keys.project)),
        "{index}"
    );
    assert!(
        read(&format!(
            "{}per-repo/{}.html",
            keys.portfolio_dir, keys.project
        ))
        .starts_with(b"<!doctype html>")
    );
    let latest: serde_json::Value =
        serde_json::from_slice(&read(&format!("{}summary.json", keys.latest_dir))).expect("json");
    assert!(
        latest.get("portfolio_id").is_none(),
        "the latest states have no portfolio id"
    );
    assert_eq!(latest["projects"], 1);
}
