use std::time::Duration;

use tributary_events::intelligence::Lines;

use super::*;

fn config(dir: &Path, max_bytes: u64) -> AnalysisCacheConfig {
    AnalysisCacheConfig {
        dir: dir.to_owned(),
        max_bytes,
        page_cache_bytes: 1 << 20,
        max_entries: 1 << 20,
    }
}

fn computed(code: u64) -> Computed {
    Computed {
        lines: Lines {
            code,
            comment: 1,
            blank: 2,
        },
        imports: vec!["std::io".into()],
        diagnostics: vec!["syntax: the file has syntax errors; results are best effort".into()],
        cacheable: true,
        ..Computed::default()
    }
}

fn sha(n: u64) -> Sha256Hex {
    Sha256Hex::of(&n.to_le_bytes())
}

fn flush(cache: &AnalysisCache) {
    assert!(cache.flush(Duration::from_secs(10)), "writer did not flush");
}

#[test]
fn results_are_kept_by_content_and_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cache = AnalysisCache::open(&config(dir.path(), 1 << 20)).expect("open");
    assert_eq!(cache.get(&sha(1), "k").1, Lookup::Miss);
    cache.put(&sha(1), "k", &computed(7));
    flush(&cache);
    let (got, lookup) = cache.get(&sha(1), "k");
    assert_eq!(lookup, Lookup::Hit);
    assert_eq!(got, Some(computed(7)));
    // another key or other bytes are other results
    assert_eq!(cache.get(&sha(1), "k2").1, Lookup::Miss);
    assert_eq!(cache.get(&sha(2), "k").1, Lookup::Miss);
    // a result that depends on the machine's load is not kept
    let mut abandoned = computed(8);
    abandoned.cacheable = false;
    cache.put(&sha(3), "k", &abandoned);
    flush(&cache);
    assert_eq!(cache.get(&sha(3), "k").1, Lookup::Miss);
    assert_eq!(cache.usage().0, 1);
}

#[test]
fn survives_restarts_with_its_recency() {
    let dir = tempfile::tempdir().expect("tempdir");
    let one = {
        let cache = AnalysisCache::open(&config(dir.path(), 1 << 20)).expect("open");
        for n in 0..5 {
            cache.put(&sha(n), "k", &computed(n));
        }
        flush(&cache);
        // 0 becomes the most recently used
        assert_eq!(cache.get(&sha(0), "k").1, Lookup::Hit);
        flush(&cache);
        cache.usage().1 / 5
    };
    // reopened with room for two: the two most recently used stay
    let cache = AnalysisCache::open(&config(dir.path(), one * 2 + one / 2)).expect("reopen");
    flush(&cache);
    assert_eq!(cache.usage().0, 2);
    assert_eq!(cache.get(&sha(0), "k"), (Some(computed(0)), Lookup::Hit));
    assert_eq!(cache.get(&sha(4), "k"), (Some(computed(4)), Lookup::Hit));
    for n in 1..4 {
        assert_eq!(cache.get(&sha(n), "k").1, Lookup::Miss, "entry {n}");
    }
    drop(cache);
    // evictions were written too
    let cache = AnalysisCache::open(&config(dir.path(), 1 << 20)).expect("reopen");
    assert_eq!(cache.usage().0, 2);
}

#[test]
fn the_budget_evicts_the_least_recently_used() {
    let dir = tempfile::tempdir().expect("tempdir");
    let size = serde_json::to_vec(&computed(10)).expect("json").len() as u64 + ENTRY_OVERHEAD_BYTES;
    let cache = AnalysisCache::open(&config(dir.path(), size * 3)).expect("open");
    for n in 10..13 {
        cache.put(&sha(n), "k", &computed(n));
    }
    flush(&cache);
    assert_eq!(cache.get(&sha(10), "k").1, Lookup::Hit);
    cache.put(&sha(13), "k", &computed(13));
    flush(&cache);
    assert_eq!(cache.usage(), (3, size * 3));
    assert_eq!(
        cache.get(&sha(11), "k").1,
        Lookup::Miss,
        "least recently used"
    );
    for n in [10, 12, 13] {
        assert_eq!(cache.get(&sha(n), "k").1, Lookup::Hit, "entry {n}");
    }
    // a result larger than the whole budget is not kept
    let mut big = computed(1);
    big.imports = vec!["x".repeat(size as usize * 4)];
    cache.put(&sha(14), "k", &big);
    assert_eq!(cache.usage().0, 3);
}

#[test]
fn another_revision_or_format_is_emptied() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let cache = AnalysisCache::open(&config(dir.path(), 1 << 20)).expect("open");
        cache.put(&sha(1), "k", &computed(1));
        flush(&cache);
    }
    for (name, value) in [("revision", 0), ("format", FORMAT + 1)] {
        {
            let db = redb::Database::create(dir.path().join(FILE_NAME)).expect("db");
            let txn = db.begin_write().expect("txn");
            txn.open_table(META)
                .expect("meta")
                .insert(name, value)
                .expect("insert");
            txn.commit().expect("commit");
        }
        let cache = AnalysisCache::open(&config(dir.path(), 1 << 20)).expect("reopen");
        assert_eq!(cache.usage().0, 0, "{name}");
        assert_eq!(cache.get(&sha(1), "k").1, Lookup::Miss, "{name}");
        cache.put(&sha(1), "k", &computed(1));
        flush(&cache);
    }
}

#[test]
fn a_corrupt_entry_is_removed_and_missed() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let cache = AnalysisCache::open(&config(dir.path(), 1 << 20)).expect("open");
        cache.put(&sha(1), "k", &computed(1));
        flush(&cache);
    }
    {
        let db = redb::Database::create(dir.path().join(FILE_NAME)).expect("db");
        let txn = db.begin_write().expect("txn");
        txn.open_table(RESULTS)
            .expect("results")
            .insert(key(&sha(1), "k"), b"{not json".as_slice())
            .expect("insert");
        txn.commit().expect("commit");
    }
    let cache = AnalysisCache::open(&config(dir.path(), 1 << 20)).expect("reopen");
    assert_eq!(cache.get(&sha(1), "k"), (None, Lookup::Corrupt));
    flush(&cache);
    assert_eq!(cache.get(&sha(1), "k").1, Lookup::Miss);
    assert_eq!(cache.usage().0, 0);
}

#[test]
fn a_file_that_is_no_database_is_replaced() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join(FILE_NAME),
        b"not a redb file, written by someone else",
    )
    .expect("write");
    let cache = AnalysisCache::open(&config(dir.path(), 1 << 20)).expect("open");
    cache.put(&sha(1), "k", &computed(1));
    flush(&cache);
    assert_eq!(cache.get(&sha(1), "k").1, Lookup::Hit);
}

#[test]
fn one_process_at_a_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let _first = AnalysisCache::open(&config(dir.path(), 1 << 20)).expect("open");
    let second = AnalysisCache::open(&config(dir.path(), 1 << 20));
    assert!(
        matches!(second, Err(AnalysisCacheError::InUse { .. })),
        "{second:?}"
    );
}

fn recalled(code: u64) -> Recalled {
    Recalled {
        size: 42,
        language: Some("Rust".into()),
        language_method: Some("extension".into()),
        lines: computed(code).lines,
        complexity: None,
        symbols: Vec::new(),
        license: None,
        secrets: Vec::new(),
        imports: vec!["std::io".into()],
        tokens: None,
        flags: Default::default(),
        flag_reasons: Default::default(),
        dependencies: Vec::new(),
        unique_lines: None,
        diagnostics: Vec::new(),
    }
}

#[test]
fn whole_files_are_kept_by_project_path_content_and_revision() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cache = AnalysisCache::open(&config(dir.path(), 1 << 20)).expect("open");
    let rev = tributary_intel::Options::default().revision_key();
    let k = file_key("p", "src/a.rs", &sha(1), &rev);
    assert_eq!(cache.recall_many(&[k]), vec![None]);
    cache.remember(&k, &recalled(7));
    flush(&cache);
    assert!(cache.knows(&k));
    assert_eq!(cache.recall_many(&[k]), vec![Some(recalled(7))]);
    // each part of the key parts files; names cannot be shifted from one part to the next
    let others = [
        file_key("q", "src/a.rs", &sha(1), &rev),
        file_key("p", "src/b.rs", &sha(1), &rev),
        file_key("p", "src/a.rs", &sha(2), &rev),
        file_key("p", "src/a.rs", &sha(1), "r0|1,1,1"),
        file_key("ps", "rc/a.rs", &sha(1), &rev),
    ];
    for other in others {
        assert_ne!(other, k);
        assert!(!cache.knows(&other));
    }
    // one read answers each key in order
    let mut keys = others.to_vec();
    keys.insert(2, k);
    let mut expected = vec![None; others.len()];
    expected.insert(2, Some(recalled(7)));
    assert_eq!(cache.recall_many(&keys), expected);
    // a computed result under the same content is another entry
    assert_eq!(cache.get(&sha(1), "src/a.rs").1, Lookup::Miss);
    assert_eq!(cache.recall_counts(), (8, 2));
    assert_eq!(cache.counts(), (1, 0));
    // a damaged entry is a miss, and gone
    let txn = cache.db.begin_write().expect("write");
    {
        let mut results = txn.open_table(RESULTS).expect("table");
        results.insert(k, b"{not json".as_slice()).expect("insert");
    }
    txn.commit().expect("commit");
    let read = |cache: &AnalysisCache| cache.read::<Recalled>(&[k], Entry::File)[0].1;
    assert_eq!(read(&cache), Lookup::Corrupt);
    assert_eq!(read(&cache), Lookup::Miss);
    assert!(!cache.knows(&k));
}

#[test]
fn entries_are_bounded_in_number_too_least_recent_first() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = AnalysisCacheConfig {
        max_entries: 3,
        ..config(dir.path(), 1 << 20)
    };
    let cache = AnalysisCache::open(&cfg).expect("open");
    for n in 0..3 {
        cache.put(&sha(n), "k", &computed(n));
    }
    flush(&cache);
    // 0 is used again, so 1 is the least recently used when a fourth comes
    assert_eq!(cache.get(&sha(0), "k").1, Lookup::Hit);
    cache.put(&sha(3), "k", &computed(3));
    flush(&cache);
    assert_eq!(cache.usage().0, 3);
    assert_eq!(cache.get(&sha(1), "k").1, Lookup::Miss);
    for n in [0, 2, 3] {
        assert_eq!(cache.get(&sha(n), "k").1, Lookup::Hit, "entry {n}");
    }
    // a smaller bound on reopening evicts down to it, least recently used first
    drop(cache);
    let cache = AnalysisCache::open(&AnalysisCacheConfig {
        max_entries: 1,
        ..cfg
    })
    .expect("reopen");
    flush(&cache);
    assert_eq!(cache.usage().0, 1);
    assert_eq!(cache.get(&sha(3), "k").1, Lookup::Hit);
}
