use tributary_events::dlq::{Payload, SourceRecord, Stage};

use super::*;

fn record(reason: Reason, project: &str, path: &str, message: &str) -> Vec<u8> {
    serde_json::to_vec(&DeadLetter {
        schema_version: tributary_events::dlq::DLQ_SCHEMA_VERSION.into(),
        reason,
        message: message.into(),
        stage: Stage::Resolve,
        source: SourceRecord {
            topic: "in".into(),
            partition: 0,
            offset: 7,
        },
        event_id: None,
        run_id: None,
        project: Some(project.into()),
        path: Some(path.into()),
        attempts: 3,
        failed_at: time::macros::datetime!(2026-11-24 10:00:00.123 UTC),
        payload: Payload::Event {
            event: serde_json::json!({"secret-ish": "payload stays out of listings"}),
        },
    })
    .expect("serialize")
}

fn config(reasons: Vec<Reason>, project: Option<&str>, limit: usize) -> ListConfig {
    ListConfig {
        connection: kafka::Connection::plaintext("127.0.0.1:1"),
        dlq_topic: "dlq".into(),
        reasons,
        project: project.map(str::to_owned),
        limit,
        timeout: Duration::from_secs(1),
    }
}

#[test]
fn coordinates_parse_as_partition_colon_offset() {
    for (text, want) in [
        ("3:1042", Some((3, 1042))),
        ("0:0", Some((0, 0))),
        (" 1 : 2 ", Some((1, 2))),
        ("3", None),
        ("3:", None),
        (":4", None),
        ("-1:4", None),
        ("1:-4", None),
        ("a:b", None),
        ("1:2:3", None),
        ("99999999999:1", None),
    ] {
        let got = text
            .parse::<Coordinates>()
            .ok()
            .map(|c| (c.partition, c.offset));
        assert_eq!(got, want, "{text:?}");
    }
    let c: Coordinates = "3:1042".parse().expect("valid");
    assert_eq!(c.to_string(), "3:1042");
    let e = "x".parse::<Coordinates>().expect_err("invalid");
    assert!(e.contains("PARTITION:OFFSET"), "{e}");
}

#[test]
fn record_text_is_made_safe_for_a_terminal() {
    for (text, max, want) in [
        ("plain", 10, "plain"),
        ("\u{1b}[31mred\u{1b}[0m", 40, "\\u{1b}[31mred\\u{1b}[0m"),
        ("two\nlines\r", 40, "two\\u{a}lines\\u{d}"),
        ("evil\u{202e}txt.exe", 40, "evil\\u{202e}txt.exe"),
        ("abcdef", 3, "abc…"),
        ("no limit", usize::MAX, "no limit"),
        ("héllo wörld", 5, "héllo…"),
    ] {
        assert_eq!(printable(text, max), want, "{text:?}");
    }
}

#[test]
fn listings_filter_keep_the_newest_and_count_what_matched() {
    let at = |offset| Coordinates {
        partition: 1,
        offset,
    };
    let feed = |cfg: &ListConfig| {
        let mut l = Listing::default();
        let missing_a = record(Reason::ObjectMissing, "a", "x.rs", "gone");
        let mismatch_b = record(Reason::ChecksumMismatch, "b", "y.rs", "bad");
        let missing_b = record(Reason::ObjectMissing, "b", "z.rs", "gone");
        l.add(at(0), Some(&missing_a), cfg);
        l.add(at(1), Some(b"not json at all"), cfg);
        l.add(at(2), Some(&mismatch_b), cfg);
        l.add(at(3), None, cfg);
        l.add(at(4), Some(&missing_b), cfg);
        l
    };
    // (config, offsets shown, matched)
    let cases: Vec<(ListConfig, Vec<i64>, u64)> = vec![
        (config(vec![], None, 50), vec![0, 1, 2, 3, 4], 5),
        (config(vec![], None, 2), vec![3, 4], 5),
        (config(vec![Reason::ObjectMissing], None, 50), vec![0, 4], 2),
        (config(vec![], Some("b"), 50), vec![2, 4], 2),
        (
            config(
                vec![Reason::ObjectMissing, Reason::ChecksumMismatch],
                Some("b"),
                1,
            ),
            vec![4],
            2,
        ),
    ];
    for (cfg, shown, matched) in cases {
        let l = feed(&cfg);
        let offsets: Vec<i64> = l.entries.iter().map(|e| e.at.offset).collect();
        assert_eq!(
            offsets, shown,
            "{:?} {:?} {}",
            cfg.reasons, cfg.project, cfg.limit
        );
        assert_eq!(l.matched, matched);
        assert_eq!((l.read, l.unreadable), (5, 2));
    }
    let l = feed(&config(vec![], None, 50));
    assert_eq!(l.by_reason.get("object_missing"), Some(&2));
    let json = serde_json::to_string(&l).expect("json");
    assert!(
        !json.contains("payload stays out"),
        "no payload in listings: {json}"
    );
    assert!(
        json.contains("\"failed_at\":\"2026-11-24T10:00:00.123Z\""),
        "{json}"
    );
    assert!(json.contains("\"partition\":1,\"offset\":2"), "{json}");
    let table = l.table();
    assert_eq!(
        table.lines().count(),
        7,
        "header, five rows, counts: {table}"
    );
    assert!(
        table.contains("1:0 ")
            && table.contains("object_missing")
            && table.contains("2026-11-24T10:00:00Z"),
        "{table}"
    );
    assert!(table.contains("(unreadable)") && table.contains("not a dead-letter record"));
    assert!(
        table.ends_with(
            "5 of 5 matching records shown (5 read, 2 unreadable); stopped at the time limit \
             before the end; by reason: checksum_mismatch 1, object_missing 2"
        ),
        "{table}"
    );
}
