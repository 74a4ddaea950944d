//! Reads every intelligence document on a topic and prints the count and the p50/p99 of
//! the per-file resolve and analyse times the consumer recorded in them
//! (`timing.resolve_us`, `timing.analyse_us`): the cache-tier latencies of a run.
//!
//! `topic-timings <brokers> <topic>` → `docs=N resolve_p50_us=… resolve_p99_us=… analyse_p50_us=… analyse_p99_us=…`

use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::message::Message as _;

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
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &brokers)
        .set("group.id", format!("bench-timings-{}", std::process::id()))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    consumer.subscribe(&[&topic]).expect("subscribe");
    let (mut resolve, mut analyse) = (Vec::new(), Vec::new());
    let mut idle = 0;
    while idle < 30 {
        match consumer.poll(Duration::from_millis(100)) {
            None => idle += 1,
            Some(Err(e)) => panic!("consume: {e}"),
            Some(Ok(m)) => {
                idle = 0;
                let Some(Ok(doc)) = m.payload().map(serde_json::from_slice::<serde_json::Value>)
                else {
                    continue;
                };
                if doc["doc_type"] != "file_intelligence" {
                    continue;
                }
                resolve.push(doc["timing"]["resolve_us"].as_u64().unwrap_or(0));
                analyse.push(doc["timing"]["analyse_us"].as_u64().unwrap_or(0));
            }
        }
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
