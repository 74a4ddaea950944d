use tributary_events::v2::{IndexProjectRequested, Source};

use super::*;

fn template() -> IndexProjectRequested {
    IndexProjectRequested {
        schema_version: "2.0.0".into(),
        event_type: "index_project_requested".into(),
        event_id: uuid::Uuid::nil(),
        run_id: uuid::Uuid::now_v7(),
        occurred_at: time::OffsetDateTime::now_utc(),
        project: "p".into(),
        source: Source::default(),
        git_credentials: None,
        batch: 0,
        files: Vec::new(),
    }
}

fn file(i: usize, content_len: usize) -> WireFile {
    WireFile {
        path: Some(format!("dir/file-{i}.txt")),
        size: Some(content_len as u64),
        checksum: Some("0".repeat(64)),
        content_strategy: Some("inline".into()),
        content: Some("\"".repeat(content_len)), // quotes double when escaped
        content_encoding: Some("utf-8".into()),
        ..WireFile::default()
    }
}

fn drain(b: &mut Batcher, files: impl IntoIterator<Item = WireFile>) -> Vec<Batch> {
    let mut out = Vec::new();
    for f in files {
        let size = entry_size(&f);
        assert!(b.fits_alone(size));
        out.extend(b.push(f, size));
    }
    out.extend(b.take());
    out
}

#[test]
fn byte_limit_is_measured_on_the_serialized_event() {
    let max = 64 * 1024;
    let mut b = Batcher::new(template(), 1000, max);
    let batches = drain(&mut b, (0..200).map(|i| file(i, 1000 + i * 13)));
    assert!(batches.len() > 3);
    let mut seen = 0;
    for (n, batch) in batches.iter().enumerate() {
        assert_eq!(batch.number as usize, n);
        assert!(
            batch.payload.len() <= max,
            "batch {n} is {} bytes",
            batch.payload.len()
        );
        assert_eq!(
            serde_json::to_vec(&batch.event).expect("json"),
            batch.payload
        );
        seen += batch.event.files.len();
    }
    assert_eq!(seen, 200);
    assert_eq!(b.batches() as usize, batches.len());
}

#[test]
fn file_limit_closes_batches() {
    let mut b = Batcher::new(template(), 7, 900_000);
    let batches = drain(&mut b, (0..20).map(|i| file(i, 10)));
    let sizes: Vec<_> = batches.iter().map(|b| b.event.files.len()).collect();
    assert_eq!(sizes, vec![7, 7, 6]);
    assert!(b.take().is_none());
}

#[test]
fn an_entry_larger_than_any_batch_does_not_fit() {
    let b = Batcher::new(template(), 10, 16 * 1024);
    assert!(!b.fits_alone(entry_size(&file(0, 9_000))));
    assert!(b.fits_alone(entry_size(&file(0, 7_000))));
}
