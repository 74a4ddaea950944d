use serde_json::json;
use tributary_events::dlq::{Reason, Stage};

use super::*;

const SECRET: &str = "s3cr3t-do-not-leak";

fn src() -> SourceRecord {
    SourceRecord {
        topic: "in".into(),
        partition: 0,
        offset: 7,
    }
}

fn failure() -> Failure {
    Failure::new(Reason::Malformed, Stage::Validate, "bad")
}

fn record_of(out: &Output) -> (DeadLetter, usize) {
    let Output::DeadLetter { payload, .. } = out else {
        panic!("a dead letter")
    };
    (
        serde_json::from_slice(payload).expect("a record"),
        payload.len(),
    )
}

fn event(files: serde_json::Value, extra: serde_json::Value) -> IndexProjectRequested {
    let mut v = json!({
        "schema_version": "2.0.0", "event_type": "index_project_requested",
        "event_id": uuid::Uuid::now_v7(), "run_id": uuid::Uuid::now_v7(),
        "occurred_at": "2026-11-24T00:00:00Z", "project": "p", "source": {},
        "batch": 0, "files": files,
    });
    v.as_object_mut()
        .expect("object")
        .extend(extra.as_object().expect("object").clone());
    serde_json::from_value(v).expect("an event")
}

#[test]
fn each_file_record_carries_its_own_file_only_and_costs_the_same() {
    let files: Vec<_> = (0..20_000)
        .map(|i| json!({"path": format!("f{i}"), "content_strategy": "nope"}))
        .collect();
    let ev = event(json!(files), json!({}));
    let dl = DeadLetters { max_bytes: 900_000 };
    let envelope = Envelope::v2(&ev);
    let sizes: Vec<usize> = ev
        .files
        .iter()
        .map(|f| {
            let (r, size) = record_of(&dl.file(&envelope, f, f.path.as_deref(), &src(), failure()));
            let Payload::Event { event } = r.payload else {
                panic!("an event payload")
            };
            assert_eq!(event["files"].as_array().map(Vec::len), Some(1));
            assert_eq!(event["files"][0]["path"], json!(r.path.clone().unwrap()));
            size
        })
        .collect();
    // the first record is as small as the last: nothing grows with the event
    let (min, max) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
    assert!(max - min < 64, "record sizes {min}..{max}");
    assert!(*max < 2_000, "a record of one small file is small: {max}");
}

#[test]
fn credentials_in_events_never_reach_a_record() {
    let ev = event(
        json!([{"path": "a", "content_strategy": "git_reference",
                "git_url": format!("https://x-access-token:{SECRET}@git.example.com/o/r.git"),
                "git_ref": "0".repeat(40)},
               {"path": "b", "content_strategy": "object_storage", "object_key": "k",
                "content_url": format!("http://127.0.0.1:9000/b/k?X-Amz-Signature={SECRET}")}]),
        json!({"git_credentials": SECRET,
               "source": {"git_url": format!("https://u:{SECRET}@git.example.com/o/r.git")}}),
    );
    let dl = DeadLetters { max_bytes: 900_000 };
    let envelope = Envelope::v2(&ev);
    let message = Failure::new(
        Reason::GitUnavailable,
        Stage::Resolve,
        format!("git fetch from https://u:{SECRET}@git.example.com/o/r.git failed"),
    );
    for f in &ev.files {
        let out = dl.file(&envelope, f, f.path.as_deref(), &src(), message.clone());
        let Output::DeadLetter {
            payload, headers, ..
        } = &out
        else {
            panic!("a dead letter")
        };
        let text = String::from_utf8_lossy(payload);
        assert!(!text.contains(SECRET), "{text}");
        assert!(
            text.contains("git.example.com"),
            "enough is kept to identify it"
        );
        assert!(headers.iter().all(|(_, v)| !v.contains(SECRET)));
    }
    // an undecodable message (a literal token is refused by decoding) is redacted too
    let raw = serde_json::to_vec(
        &json!({"schema_version": "2.0.0", "git_credentials": SECRET,
        "source": {"git_url": format!("https://u:{SECRET}@h/r")}}),
    )
    .unwrap();
    let (r, _) = record_of(&dl.raw(&raw, &src(), failure()));
    assert!(!serde_json::to_string(&r).unwrap().contains(SECRET));
    // a reference stays (it names the credential, it is not the credential)
    let ev = event(
        json!([{"path": "a"}]),
        json!({"git_credentials": "env:GIT_TOKEN"}),
    );
    let (r, _) = record_of(&dl.file(
        &Envelope::v2(&ev),
        &ev.files[0],
        Some("a"),
        &src(),
        failure(),
    ));
    let Payload::Event { event } = r.payload else {
        panic!("an event payload")
    };
    assert_eq!(event["git_credentials"], json!("env:GIT_TOKEN"));
}

#[test]
fn every_record_fits_its_bound() {
    let big = "x".repeat(700_000);
    let ev = event(
        json!([{"path": "big.txt", "size": 1, "checksum": "0".repeat(64),
                "content_strategy": "inline", "content": big, "content_encoding": "utf-8"}]),
        json!({}),
    );
    for max in [8 * 1024, 64 * 1024, 900_000] {
        let dl = DeadLetters { max_bytes: max };
        let (r, size) = record_of(&dl.file(
            &Envelope::v2(&ev),
            &ev.files[0],
            Some("big.txt"),
            &src(),
            failure(),
        ));
        assert!(size <= max, "{size} > {max}");
        match r.payload {
            Payload::Event { .. } => assert!(max >= 700_000),
            Payload::Reference { excerpt, truncated } => {
                assert!(truncated && !excerpt.is_empty(), "an excerpt is kept");
                assert!(excerpt.starts_with('{'), "the start of the narrowed event");
            }
            Payload::Raw { .. } => panic!("a file record is never raw"),
        }
        assert_eq!(r.source, src(), "the way back to the original");
        // control characters escape to six bytes each in JSON: still bounded
        let controls = vec![1u8; 600_000];
        let (_, size) = record_of(&dl.raw(&controls, &src(), failure()));
        assert!(size <= max, "{size} > {max}");
        // binary goes as base64, cut where it still decodes
        let binary: Vec<u8> = (0..700_000u32).map(|i| (i % 251) as u8 | 0x80).collect();
        let (r, size) = record_of(&dl.raw(&binary, &src(), failure()));
        assert!(size <= max, "{size} > {max}");
        let Payload::Raw {
            encoding: RawEncoding::Base64,
            data,
            truncated: true,
        } = r.payload
        else {
            panic!("truncated base64")
        };
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(&data)
            .expect("still base64");
        assert_eq!(decoded, binary[..decoded.len()]);
    }
}
