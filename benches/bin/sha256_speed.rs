//! The machine's SHA-256 throughput with the implementation the publisher and consumer
//! use (sha2): the ceiling any "read and checksum every byte" pipeline works under.
//! Prints one line: `sha256_mb_per_s <value>`.

use std::time::Instant;

use sha2::{Digest, Sha256};

fn main() {
    let buf: Vec<u8> = (0..64 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    // warm up, then take the best of five passes (the least disturbed by neighbours)
    let mut best = f64::MAX;
    for _ in 0..6 {
        let t = Instant::now();
        let d = Sha256::digest(&buf);
        std::hint::black_box(d);
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!("sha256_mb_per_s {:.1}", buf.len() as f64 / best / 1e6);
}
