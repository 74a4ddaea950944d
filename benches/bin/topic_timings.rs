//! Reads every intelligence document on a topic and prints the count and the p50/p99 of
//! the per-file resolve and analyse times the consumer recorded in them
//! (`timing.resolve_us`, `timing.analyse_us`): the cache-tier latencies of a run.
//!
//! `topic-timings <brokers> <topic>` → `docs=N resolve_p50_us=… resolve_p99_us=… analyse_p50_us=… analyse_p99_us=…`

fn pct(v: &mut [u64], p: f64) -> u64 {
    if v.is_empty() {
        return 0;
    }
    v.sort_unstable();
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (brokers, topic) = match args.as_slice() {
        [_, b, t] => (b.clone(), t.clone()),
        _ => {
            eprintln!("usage: topic-timings <brokers> <topic>");
            std::process::exit(2);
        }
    };
    let (mut resolve, mut analyse) = (Vec::new(), Vec::new());
    for doc in tributary_benches::file_documents(&brokers, &topic) {
        resolve.push(doc["timing"]["resolve_us"].as_u64().unwrap_or(0));
        analyse.push(doc["timing"]["analyse_us"].as_u64().unwrap_or(0));
    }
    let n = resolve.len();
    println!(
        "docs={n} resolve_p50_us={} resolve_p99_us={} analyse_p50_us={} analyse_p99_us={}",
        pct(&mut resolve, 0.5),
        pct(&mut resolve, 0.99),
        pct(&mut analyse, 0.5),
        pct(&mut analyse, 0.99)
    );
}
