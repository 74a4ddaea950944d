//! What a run costs, checked against what really happened: the publisher's usage must
//! equal the objects MinIO holds under the run's prefix and the records on the topic,
//! its cost must be that usage priced by the table, and a second run of the same
//! files (every object already there) must store nothing and pay no storage.

use std::time::Duration;

use serde_json::Value;
use tributary_events::cost::{Component, PriceTable};
use tributary_tests::{Services, consume_records_until, schema, unique};

use crate::publisher::{config, publish, with_s3};

/// Objects under `prefix`: (count, total bytes).
async fn stored(svc: &Services, prefix: &str) -> (u64, u64) {
    let store = svc.object_store().await;
    let listed = store
        .list_keys(prefix, usize::MAX)
        .await
        .expect("list")
        .expect("listed");
    (
        listed.len() as u64,
        listed.iter().map(|(_, size)| size).sum(),
    )
}

/// The run's records on the topic: the bytes of its batches (keys and values) and its
/// completion event.
async fn produced(svc: &Services, topic: &str, run_id: &str) -> (u64, Value) {
    // the batches and the completion event sit on different partitions: read until
    // the run's batches number what its completion event announces
    let records = consume_records_until(&svc.kafka_brokers, topic, Duration::from_secs(60), |rs| {
        let events: Vec<Value> = rs
            .iter()
            .filter_map(|r| serde_json::from_slice(r.payload.as_deref()?).ok())
            .filter(|v: &Value| v["run_id"] == run_id)
            .collect();
        let batches = events
            .iter()
            .filter(|v| v["event_type"] == "index_project_requested")
            .count() as u64;
        events
            .iter()
            .any(|v| v["event_type"] == "index_run_completed" && v["batches"] == batches)
    })
    .await;
    let mut bytes = 0;
    let mut done = None;
    for r in records {
        let payload = r.payload.expect("no tombstones here");
        let v: Value = serde_json::from_slice(&payload).expect("JSON");
        if v["run_id"] != run_id {
            continue;
        }
        if v["event_type"] == "index_run_completed" {
            done = Some(v);
        } else {
            bytes += (r.key.map_or(0, |k| k.len()) + payload.len()) as u64;
        }
    }
    (bytes, done.expect("completion event"))
}

#[tokio::test]
async fn a_publish_costs_what_it_stored_and_produced_and_a_rerun_stores_nothing() {
    let svc = Services::require();
    let dir = tempfile::tempdir().expect("tempdir");
    // more objects than a run checks one by one before it lists the bucket
    let n = 90;
    for i in 0..n {
        let text = format!("file {i}\n").repeat(i + 1);
        std::fs::write(dir.path().join(format!("f{i:03}.txt")), text).expect("write");
    }
    let (topic, project) = (unique("cost"), unique("costed"));
    let base = [
        "--repo",
        dir.path().to_str().expect("utf-8"),
        "--project",
        &project,
        "--brokers",
        &svc.kafka_brokers,
        "--topic",
        &topic,
        "--content-strategy",
        "object-storage",
    ];
    let table = PriceTable::default();
    let prefix = format!("projects/{project}/");

    let first = publish(config(&with_s3(&base, &svc).words())).await;
    assert!(first.ok(), "{}", first.summary());
    let usage = first.usage;
    let (objects, object_bytes) = stored(&svc, &prefix).await;
    assert_eq!(objects, n as u64);
    assert_eq!(first.uploaded, objects);
    assert_eq!(
        usage.bytes_stored, object_bytes,
        "bytes stored = the objects MinIO holds under the run's prefix"
    );
    // S3: a HEAD per object checked, a PUT per object written, a LIST once the run has
    // put enough objects for a listing to pay
    let checked = first.uploaded + first.already_present - first.listed;
    assert_eq!(usage.object_gets, checked, "{usage:?}");
    assert_eq!(usage.object_puts, first.uploaded + 1, "{usage:?}");
    let (batch_bytes, done) = produced(&svc, &topic, &first.run_id.to_string()).await;
    assert_eq!(
        usage.kafka_bytes_produced, batch_bytes,
        "Kafka bytes = the run's records on the topic"
    );
    assert!(usage.cpu_seconds > 0.0);

    // the cost is that usage priced by the table, in the report and on the wire
    let cost = first.cost.as_ref().expect("a cost");
    let priced = table.price(&usage);
    assert_eq!(cost.components[&Component::Publisher], priced);
    assert_eq!(cost.total_usd, priced.total_usd);
    assert!(
        schema("index-run-completed.v2.json").is_valid(&done),
        "{done}"
    );
    assert_eq!(done["cost"]["price_table"], table.version.as_str());
    assert_eq!(
        done["cost"]["components"]["publisher"]["usage"]["bytes_stored"],
        object_bytes
    );
    assert!(priced.storage_usd > 0.0 && priced.kafka_usd > 0.0);

    // the same files again: every object is already there
    let again = publish(config(&with_s3(&base, &svc).words())).await;
    assert!(again.ok(), "{}", again.summary());
    let rerun = again.cost.as_ref().expect("a cost").components[&Component::Publisher];
    assert_eq!(again.uploaded, 0);
    assert_eq!(rerun.usage.bytes_stored, 0);
    assert_eq!(
        rerun.storage_usd, 0.0,
        "a deduplicated run stores nothing new"
    );
    assert_eq!(rerun.transfer_usd, 0.0);
    assert_eq!(
        rerun.usage.object_puts, 1,
        "one LIST, no PUT: {:?}",
        rerun.usage
    );
    assert_eq!(stored(&svc, &prefix).await, (objects, object_bytes));
    let (rerun_bytes, _) = produced(&svc, &topic, &again.run_id.to_string()).await;
    assert_eq!(rerun.usage.kafka_bytes_produced, rerun_bytes);
    assert!(
        rerun.total_usd < priced.total_usd,
        "the rerun ({}) costs less than the first run ({})",
        rerun.total_usd,
        priced.total_usd
    );
}

/// The run's summary prices both sides: the publisher's usage from its completion
/// event, the consumers' from the run's documents — every object-storage file fetched
/// once (fresh caches), what the publisher produced read back, the documents produced —
/// and its HTML report shows it.
#[tokio::test]
async fn a_run_summary_costs_the_publisher_and_the_consumers_part() {
    let svc = Services::require();
    let setup = crate::consumer::Setup::new("cost-summary");
    let dir = tempfile::tempdir().expect("tempdir");
    let n = 12;
    for i in 0..n {
        let text = format!("fn f{i}() {{}}\n").repeat(40 * (i + 1));
        std::fs::write(dir.path().join(format!("f{i:02}.rs")), text).expect("write");
    }
    let project = unique("cost-summary");
    let report = publish(config(
        &with_s3(
            &[
                "--repo",
                dir.path().to_str().expect("utf-8"),
                "--project",
                &project,
                "--brokers",
                &svc.kafka_brokers,
                "--topic",
                &setup.input,
                "--content-strategy",
                "object-storage",
            ],
            &svc,
        )
        .words(),
    ))
    .await;
    assert!(report.ok(), "{}", report.summary());
    let reports = tempfile::tempdir().expect("tempdir");
    crate::consumer::run_consumer(setup.config(
        &svc,
        &[
            "--report-dir",
            reports.path().to_str().expect("utf-8"),
            "--summary-wait",
            "60s",
        ],
    ))
    .await;
    let (docs, summaries) = crate::consumer::outputs(&svc, &setup.output, n, 1).await;
    let summary = &summaries[0];
    assert!(
        schema("project-summary.v1.json").is_valid(summary),
        "{summary}"
    );
    let cost: tributary_events::cost::RunCost =
        serde_json::from_value(summary["cost"].clone()).expect("a cost section");
    let table = PriceTable::default();
    assert_eq!(cost.price_table, table.version);

    // the publisher's part is its completion event's usage, priced again
    let publisher = cost.components[&Component::Publisher];
    assert_eq!(publisher.usage, report.usage);
    // the consumers': one GET per object-storage file, its bytes downloaded
    let consumer = cost.components[&Component::Consumer];
    assert_eq!(consumer.usage.object_gets, n as u64, "{:?}", consumer.usage);
    assert_eq!(consumer.usage.bytes_downloaded, report.bytes.object_storage);
    assert_eq!(
        consumer.usage.kafka_bytes_consumed, report.usage.kafka_bytes_produced,
        "the consumers read what the publisher produced"
    );
    let doc_bytes: usize = docs
        .iter()
        .flat_map(|(key, versions)| {
            versions
                .iter()
                .map(move |d| key.len() + d.to_string().len())
        })
        .sum();
    assert!(
        consumer.usage.kafka_bytes_produced > 0
            && consumer.usage.kafka_bytes_produced as f64 > doc_bytes as f64 * 0.8,
        "documents produced: {} bytes counted, {doc_bytes} read back",
        consumer.usage.kafka_bytes_produced
    );
    assert!(consumer.usage.cpu_seconds > 0.0, "analysis CPU is counted");
    assert_eq!(consumer, table.price(&consumer.usage));
    assert!(
        (cost.total_usd - publisher.total_usd - consumer.total_usd).abs() < 1e-12,
        "the total is the sum of the parts"
    );
    // every document says where its bytes came from and what its analysis cost
    for d in docs.values().flatten() {
        let from = d["timing"]["resolved_from"].as_str().unwrap_or_default();
        assert!(["presigned_url", "object_store"].contains(&from), "{d}");
        assert!(d["timing"]["cpu_us"].is_u64(), "{d}");
    }
    // the HTML report shows it
    let html = std::fs::read_to_string(reports.path().join(&project).join("latest.html"))
        .expect("the project's HTML report");
    assert!(html.contains("<table id=\"cost\">"), "no cost table");
    assert!(html.contains("<td>publisher</td>") && html.contains("<td>consumer</td>"));
    assert!(html.contains(&table.version));
}

/// The learned strategy end to end: a model trained on a recorded history where the
/// store is slow and failing for 1–2 MiB files sends such a file by git reference while
/// a 256–512 KiB file still goes to object storage; the run adds its upload to the
/// model; after consumers fetched both, `learn` folds their fetches in from the topics.
#[tokio::test]
async fn a_learned_model_moves_the_sizes_a_slow_store_serves_badly_to_git() {
    use tributary_events::v2::ContentStrategy::{GitReference as Git, ObjectStorage as Object};
    use tributary_publisher::learn::StrategyModel;
    let svc = Services::require();
    let dir = tempfile::tempdir().expect("tempdir");
    let big = "x".repeat(1_200_000);
    let mid = "y".repeat(300_000);
    let repo = crate::watch::Served::new(
        &svc,
        &[
            ("big.bin.txt", big.as_str()),
            ("mid.txt", mid.as_str()),
            ("small.txt", "hi\n"),
        ],
    );
    // consumers in the store's region: no transfer charge
    let prices = dir.path().join("prices.toml");
    std::fs::write(
        &prices,
        "version = \"it-in-region\"\ntransfer_usd_per_gb = 0.0\n",
    )
    .expect("write");
    let model_path = dir.path().join("model.json");
    let mut model = StrategyModel::default();
    for i in 0..100 {
        model.observe(Object, 300_000, 0.04, false);
        model.observe(Object, 1_200_000, 6.0, i % 4 == 0);
        model.observe(Git, 300_000, 0.5, false);
        model.observe(Git, 1_200_000, 0.5, false);
    }
    model.save(&model_path).expect("save");
    let mid_weight = model.cells["object_storage/19"].weight;

    let setup = crate::consumer::Setup::new("learned");
    let report = publish(config(
        &with_s3(
            &[
                "--repo",
                &repo.url,
                "--brokers",
                &svc.kafka_brokers,
                "--topic",
                &setup.input,
                "--strategy-model",
                model_path.to_str().expect("utf-8"),
                "--price-table",
                prices.to_str().expect("utf-8"),
            ],
            &svc,
        )
        .words(),
    ))
    .await;
    assert!(report.ok(), "{}", report.summary());
    assert_eq!(
        (
            report.files.inline,
            report.files.object_storage,
            report.files.git_reference
        ),
        (1, 1, 1),
        "{}",
        report.summary()
    );
    let (batches, _) = crate::publisher::read_run(&svc, &setup.input, &report).await;
    let strategy_of = |path: &str| {
        batches
            .iter()
            .flat_map(|b| b["files"].as_array().cloned().unwrap_or_default())
            .find(|f| f["path"] == path)
            .map(|f| {
                f["content_strategy"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            })
            .unwrap_or_default()
    };
    assert_eq!(strategy_of("big.bin.txt"), "git_reference");
    assert_eq!(strategy_of("mid.txt"), "object_storage");
    assert_eq!(strategy_of("small.txt"), "inline");
    // the run's own upload went into the model
    let after_run = StrategyModel::load(&model_path);
    assert!(after_run.cells["object_storage/19"].weight > mid_weight);

    // consumers fetch both; `learn` reads what they measured
    crate::consumer::run_consumer(setup.config(&svc, &["--git-allowed-schemes", "git"])).await;
    crate::consumer::outputs(&svc, &setup.output, 3, 0).await;
    let git_before = after_run.cells["git_reference/21"].weight;
    // one `learn` pass over the run's output and dead-letter topics
    let learn = |timeout: &str| {
        std::process::Command::new(tributary_tests::workspace_bin("tributary-publisher"))
            .args(["learn", "--strategy-model"])
            .arg(&model_path)
            .args([
                "--brokers",
                &svc.kafka_brokers,
                "--output-topic",
                &setup.output,
            ])
            .args(["--dlq-topic", &setup.dlq, "--timeout", timeout])
            .output()
            .expect("learn runs")
    };
    let out = learn("30s");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("learned from 3 documents: 2 fetches"),
        "{text}"
    );
    let learned = StrategyModel::load(&model_path);
    assert!(learned.cells["git_reference/21"].weight > git_before);
    // and the remote the git reference was fetched from, by host
    assert!(
        learned.remotes["127.0.0.1"].weight >= 1.0,
        "{:?}",
        learned.remotes
    );
    assert_eq!(learned.remotes["127.0.0.1"].failure_rate, 0.0);
    // a second pass reads only what is new: nothing
    let again = learn("10s");
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("learned from 0 documents"),
        "{}",
        String::from_utf8_lossy(&again.stdout)
    );
}
