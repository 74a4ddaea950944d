use super::*;

const GIB: u64 = 1 << 30;

/// (what, usage, the part of its cost that usage pays, the hand-computed dollars)
type Case = (&'static str, Usage, fn(&ComponentCost) -> f64, f64);

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

/// Hand-computed with the default table: storage $0.023/GiB-month for 30 days,
/// PUT $0.005 and GET $0.0004 per 1,000, transfer $0.09/GiB, Kafka in $0.10/GiB,
/// out $0.05/GiB, retained $0.10/GiB-month for 7 days, CPU $0.04048/hour.
#[test]
fn each_kind_of_usage_is_priced_as_by_hand() {
    let table = PriceTable::default();
    let cases: &[Case] = &[
        (
            "1 GiB stored for the 30-day lifecycle",
            Usage {
                bytes_stored: GIB,
                ..Usage::default()
            },
            |c| c.storage_usd,
            0.023,
        ),
        (
            "1,000 PUTs and 10,000 GETs",
            Usage {
                object_puts: 1_000,
                object_gets: 10_000,
                ..Usage::default()
            },
            |c| c.requests_usd,
            0.005 + 0.004,
        ),
        (
            "2 GiB downloaded",
            Usage {
                bytes_downloaded: 2 * GIB,
                ..Usage::default()
            },
            |c| c.transfer_usd,
            0.18,
        ),
        (
            "1 GiB produced (kept 7 days), 3 GiB consumed",
            Usage {
                kafka_bytes_produced: GIB,
                kafka_bytes_consumed: 3 * GIB,
                ..Usage::default()
            },
            |c| c.kafka_usd,
            0.10 + 0.15 + 0.10 * 7.0 / 30.0,
        ),
        (
            "an hour of CPU",
            Usage {
                cpu_seconds: 3_600.0,
                ..Usage::default()
            },
            |c| c.compute_usd,
            0.04048,
        ),
    ];
    for (what, usage, part, want) in cases {
        let cost = table.price(usage);
        assert!(
            close(part(&cost), *want),
            "{what}: {} != {want}",
            part(&cost)
        );
        assert!(
            close(cost.total_usd, *want),
            "{what}: total {}",
            cost.total_usd
        );
    }
}

#[test]
fn a_deduplicated_rerun_pays_only_for_kafka_and_compute() {
    let table = PriceTable::default();
    // every object already there: no PUT, nothing stored; the listing is one LIST
    let rerun = Usage {
        object_puts: 1,
        kafka_bytes_produced: 10 << 20,
        cpu_seconds: 2.0,
        ..Usage::default()
    };
    let cost = table.price(&rerun);
    assert_eq!(cost.storage_usd, 0.0);
    assert_eq!(cost.transfer_usd, 0.0);
    let kafka = (10u64 << 20) as f64 / GIB as f64 * (0.10 + 0.10 * 7.0 / 30.0);
    assert!(close(cost.kafka_usd, kafka));
    assert!(close(cost.compute_usd, 2.0 * 0.04048 / 3600.0));
    assert!(close(
        cost.total_usd,
        0.005 / 1000.0 + kafka + 2.0 * 0.04048 / 3600.0
    ));
}

#[test]
fn a_run_costs_the_sum_of_its_components_under_the_named_table() {
    let table = PriceTable {
        version: "test-1".into(),
        ..PriceTable::default()
    };
    let publisher = Usage {
        object_puts: 2_000,
        bytes_stored: GIB,
        ..Usage::default()
    };
    let consumer = Usage {
        object_gets: 2_000,
        bytes_downloaded: GIB,
        ..Usage::default()
    };
    let run = table.run_cost(&[
        (Component::Publisher, publisher),
        (Component::Consumer, consumer),
    ]);
    assert_eq!(run.price_table, "test-1");
    let want = (0.01 + 0.023) + (0.0008 + 0.09);
    assert!(close(run.total_usd, want), "{}", run.total_usd);
    assert!(close(
        run.components[&Component::Publisher].total_usd,
        0.033
    ));
    let json = serde_json::to_value(&run).expect("serializes");
    assert!(json["components"]["consumer"]["usage"]["object_gets"] == 2_000);
}

#[test]
fn a_price_table_with_a_bad_number_or_no_version_is_refused() {
    let ok = PriceTable::default();
    assert_eq!(ok.validate(), Ok(()));
    let cases: &[(&str, PriceTable)] = &[
        (
            "negative",
            PriceTable {
                put_usd_per_1000: -0.005,
                ..ok.clone()
            },
        ),
        (
            "NaN",
            PriceTable {
                cpu_usd_per_second: f64::NAN,
                ..ok.clone()
            },
        ),
        (
            "infinite",
            PriceTable {
                kafka_retention_days: f64::INFINITY,
                ..ok.clone()
            },
        ),
        (
            "no version",
            PriceTable {
                version: " ".into(),
                ..ok.clone()
            },
        ),
    ];
    for (what, table) in cases {
        assert!(table.validate().is_err(), "{what} accepted");
    }
}

#[test]
fn a_price_table_file_sets_what_it_names_and_refuses_unknown_keys() {
    let table: PriceTable =
        serde_json::from_str(r#"{"version": "eu-2027", "transfer_usd_per_gb": 0}"#)
            .expect("a partial table parses");
    assert_eq!(table.version, "eu-2027");
    assert_eq!(table.transfer_usd_per_gb, 0.0);
    assert_eq!(
        table.put_usd_per_1000,
        PriceTable::default().put_usd_per_1000
    );
    let typo = serde_json::from_str::<PriceTable>(r#"{"transfer_usd_per_gib": 0}"#);
    assert!(
        typo.is_err(),
        "a misspelled price would silently keep the default"
    );
}
