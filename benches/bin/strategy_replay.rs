//! Replays a recorded history of fetches under the fixed rules and under the learned
//! strategy choice, and reports what each would have cost and how long consumers
//! would have waited.
//!
//! The history is two real consumes of the same corpus (`benches/strategy.sh`): every
//! file through object storage, and every file by git reference, each consumer with
//! cold caches. Each file's recorded resolve time under each strategy is what that
//! strategy costs it in the replay. Files are replayed in path order, those above the
//! inline limit only (the model never touches the others):
//! - **rules**: object storage for all of them (what `auto` does with a store);
//! - **learned**: `tributary_publisher::learn` — the model starts empty, each file gets
//!   the model's choice (or, while it is learning, the rules, with one file in ten sent
//!   the unmeasured way), and the model then observes what that file's transfer took;
//! - **oracle**: the cheaper of the two for every file, known in hindsight (a bound).
//!
//!   strategy-replay <brokers> <object-storage output topic> <git-reference output topic> <inline limit bytes>

use std::collections::BTreeMap;

use tributary_events::cost::PriceTable;
use tributary_events::v2::ContentStrategy::{self, GitReference as Git, ObjectStorage as Object};
use tributary_publisher::learn::{StrategyModel, dollars};

/// One file of the history: size, checksum's first byte, seconds each way.
struct Recorded {
    size: u64,
    checksum_byte: u8,
    object_secs: f64,
    git_secs: f64,
}

#[derive(Default)]
struct Totals {
    usd: f64,
    secs: f64,
    by_git: u64,
}

impl Totals {
    fn add(&mut self, strategy: ContentStrategy, f: &Recorded, prices: &PriceTable) {
        let secs = if strategy == Git {
            f.git_secs
        } else {
            f.object_secs
        };
        self.usd += dollars(strategy, f.size, prices) + secs * prices.delay_usd_per_second;
        self.secs += secs;
        self.by_git += u64::from(strategy == Git);
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, brokers, object_topic, git_topic, limit] = args.as_slice() else {
        eprintln!(
            "usage: strategy-replay <brokers> <object topic> <git topic> <inline limit bytes>"
        );
        std::process::exit(2);
    };
    let limit: u64 = limit.parse().expect("inline limit in bytes");
    let secs = |docs: Vec<serde_json::Value>| -> BTreeMap<String, (u64, String, f64)> {
        docs.into_iter()
            .filter_map(|d| {
                Some((
                    d["path"].as_str()?.to_owned(),
                    (
                        d["size"].as_u64()?,
                        d["checksum"].as_str()?.to_owned(),
                        d["timing"]["resolve_us"].as_u64()? as f64 / 1e6,
                    ),
                ))
            })
            .collect()
    };
    let object = secs(tributary_benches::file_documents(brokers, object_topic));
    let git = secs(tributary_benches::file_documents(brokers, git_topic));
    let history: Vec<Recorded> = object
        .iter()
        .filter_map(|(path, (size, checksum, object_secs))| {
            let (_, _, git_secs) = git.get(path)?;
            let checksum_byte = u8::from_str_radix(checksum.get(..2)?, 16).ok()?;
            (*size > limit).then_some(Recorded {
                size: *size,
                checksum_byte,
                object_secs: *object_secs,
                git_secs: *git_secs,
            })
        })
        .collect();
    let prices = PriceTable::default();
    let (mut rules, mut learned, mut oracle) =
        (Totals::default(), Totals::default(), Totals::default());
    let mut model = StrategyModel::default();
    for f in &history {
        rules.add(Object, f, &prices);
        let choice = model.choose(f.size, &[Object, Git], &prices, None);
        let s = choice.for_file(f.checksum_byte).unwrap_or(Object);
        learned.add(s, f, &prices);
        let took = if s == Git { f.git_secs } else { f.object_secs };
        model.observe(s, f.size, took, false);
        let cost = |s| {
            dollars(s, f.size, &prices)
                + if s == Git { f.git_secs } else { f.object_secs } * prices.delay_usd_per_second
        };
        oracle.add(
            if cost(Git) < cost(Object) {
                Git
            } else {
                Object
            },
            f,
            &prices,
        );
    }
    println!(
        "history: {} files above {} bytes, recorded both ways ({} object storage documents, {} git reference documents)",
        history.len(),
        limit,
        object.len(),
        git.len()
    );
    println!(
        "| selector | expected cost $ | ÷ rules | consumer fetch s | ÷ rules | by git reference |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for (name, t) in [
        ("rules (object storage)", &rules),
        ("learned", &learned),
        ("oracle (hindsight)", &oracle),
    ] {
        println!(
            "| {name} | {:.6} | {:.2} | {:.2} | {:.2} | {} |",
            t.usd,
            t.usd / rules.usd.max(f64::MIN_POSITIVE),
            t.secs,
            t.secs / rules.secs.max(f64::MIN_POSITIVE),
            t.by_git
        );
    }
}
