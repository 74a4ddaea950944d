//! Latency of the consumer's content-cache tiers on warm reads: the memory LRU and the
//! disk LRU (which re-hashes every entry it returns), for entries of real-file sizes.
//! Prints p50/p99 per tier next to the time the machine needs just to SHA-256 the same
//! bytes (the floor under any verified read).
//!
//! `cache-latency [ENTRIES] [ENTRY_BYTES]` (default 10000 entries of 16 KiB)

use std::time::Instant;

use bytes::Bytes;
use tributary_content::cache::{DiskCache, DiskLookup, MemoryCache};
use tributary_events::Sha256Hex;

fn pct(v: &mut [u128], p: f64) -> u128 {
    v.sort_unstable();
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn entry(i: u32, len: usize) -> (Sha256Hex, Bytes) {
    let b: Vec<u8> = (0..len as u32)
        .map(|j| (i.wrapping_mul(2_654_435_761) ^ j.wrapping_mul(40_503)) as u8)
        .collect();
    (Sha256Hex::of(&b), Bytes::from(b))
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let n = args.first().copied().unwrap_or(10_000);
    let len = args.get(1).copied().unwrap_or(16 * 1024);
    let entries: Vec<_> = (0..n as u32).map(|i| entry(i, len)).collect();
    let dir = std::env::temp_dir().join(format!("tributary-cache-latency-{}", std::process::id()));
    let memory = MemoryCache::new((n * len * 2) as u64);
    let disk = DiskCache::open(&dir, (n * len * 2) as u64).expect("open disk cache");
    for (k, v) in &entries {
        memory.insert(*k, v.clone());
        disk.insert(*k, v).await.expect("disk insert");
    }
    let (mut mem, mut dsk, mut sha) = (Vec::new(), Vec::new(), Vec::new());
    for (k, v) in &entries {
        let t = Instant::now();
        assert!(memory.get(k).is_some());
        mem.push(t.elapsed().as_nanos());
        let t = Instant::now();
        assert!(matches!(
            disk.get(k).await.expect("disk get"),
            DiskLookup::Hit(_)
        ));
        dsk.push(t.elapsed().as_nanos());
        let t = Instant::now();
        std::hint::black_box(Sha256Hex::of(v));
        sha.push(t.elapsed().as_nanos());
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!("entries={n} entry_bytes={len}");
    println!("| tier | p50 µs | p99 µs |");
    println!("|---|---:|---:|");
    for (name, v) in [
        ("memory", &mut mem),
        ("disk (read + SHA-256)", &mut dsk),
        ("SHA-256 alone", &mut sha),
    ] {
        println!(
            "| {name} | {:.1} | {:.1} |",
            pct(v, 0.5) as f64 / 1000.0,
            pct(v, 0.99) as f64 / 1000.0
        );
    }
}
