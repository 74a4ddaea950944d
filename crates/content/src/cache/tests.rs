use bytes::Bytes;
use tributary_events::Sha256Hex;

use super::*;

fn entry(n: u8, len: usize) -> (Sha256Hex, Bytes) {
    let b = Bytes::from(vec![n; len]);
    (Sha256Hex::of(&b), b)
}

#[test]
fn memory_is_bounded_in_bytes_and_evicts_least_recent() {
    let c = MemoryCache::new(1000);
    let (a, av) = entry(1, 400);
    let (b, bv) = entry(2, 400);
    let (d, dv) = entry(3, 400);
    assert_eq!(c.insert(a, av.clone()), Evicted::default());
    c.insert(b, bv);
    assert_eq!(c.get(&a), Some(av)); // a is now the most recent
    let ev = c.insert(d, dv);
    assert_eq!(
        ev,
        Evicted {
            entries: 1,
            bytes: 400
        }
    );
    assert!(c.get(&b).is_none(), "b was least recently used");
    assert!(c.get(&a).is_some() && c.get(&d).is_some());
    assert_eq!(c.usage(), (2, 800));
}

#[test]
fn memory_keeps_its_own_copy_not_the_buffer_a_slice_came_from() {
    // a small body sliced out of a large read buffer, as a download hands it over
    let buffer = Bytes::from(vec![7u8; 1 << 20]);
    let body = buffer.slice(100..200);
    let key = Sha256Hex::of(&body);
    let c = MemoryCache::new(1000);
    c.insert(key, body.clone());
    let kept = c.get(&key).expect("cached");
    assert_eq!(kept, body);
    let inside = buffer.as_ptr_range();
    assert!(
        !inside.contains(&kept.as_ptr()),
        "the cache holds the 1 MiB buffer through a 100-byte slice"
    );
}

#[test]
fn memory_refuses_what_does_not_hash_to_its_key_or_cannot_fit() {
    let c = MemoryCache::new(100);
    let (a, _) = entry(1, 10);
    c.insert(a, Bytes::from_static(b"something else"));
    assert!(c.get(&a).is_none());
    let (big, bigv) = entry(2, 101);
    c.insert(big, bigv);
    assert_eq!(c.usage(), (0, 0));
}

#[tokio::test]
async fn disk_survives_restart_verifies_reads_and_evicts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, av) = entry(1, 300);
    let (b, bv) = entry(2, 300);
    {
        let c = DiskCache::open(dir.path(), 1000).expect("open");
        c.insert(a, &av).await.expect("insert");
        c.insert(b, &bv).await.expect("insert");
        assert!(matches!(c.get(&a).await.expect("get"), DiskLookup::Hit(x) if x == av));
    }
    // reopened: both entries are still there
    let c = DiskCache::open(dir.path(), 1000).expect("reopen");
    assert_eq!(c.usage(), (2, 600));
    assert!(matches!(c.get(&b).await.expect("get"), DiskLookup::Hit(x) if x == bv));

    // a corrupted entry is detected, removed and reported
    let hex = a.to_string();
    std::fs::write(dir.path().join(&hex[..2]).join(&hex), b"tampered").expect("tamper");
    assert!(matches!(c.get(&a).await.expect("get"), DiskLookup::Corrupt));
    assert!(matches!(c.get(&a).await.expect("get"), DiskLookup::Miss));
    assert_eq!(c.usage(), (1, 300));

    // over budget: the least recently used goes, file and all
    let (d, dv) = entry(3, 400);
    let (e, ev) = entry(4, 400);
    c.insert(d, &dv).await.expect("insert");
    let evicted = c.insert(e, &ev).await.expect("insert");
    assert_eq!(evicted.entries, 1);
    assert!(matches!(c.get(&b).await.expect("get"), DiskLookup::Miss));
    let bhex = b.to_string();
    assert!(!dir.path().join(&bhex[..2]).join(&bhex).exists());
}

#[tokio::test]
async fn disk_open_cleans_leftovers_and_applies_a_smaller_budget() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let c = DiskCache::open(dir.path(), 10_000).expect("open");
        for n in 0..5 {
            let (k, v) = entry(n, 1000);
            c.insert(k, &v).await.expect("insert");
        }
    }
    std::fs::write(dir.path().join("ab").join(".tmp-leftover"), b"x").ok();
    let c = DiskCache::open(dir.path(), 2500).expect("reopen smaller");
    assert_eq!(c.usage(), (2, 2000));
    assert!(!dir.path().join("ab").join(".tmp-leftover").exists());
}
