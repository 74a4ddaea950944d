use super::*;
use ContentStrategy::{GitReference as Git, ObjectStorage as Object};

const MIB: u64 = 1 << 20;
const KIB: u64 = 1 << 10;

/// Consumers in the store's region: no transfer charge (the case where the choice
/// between the two is close and history decides it).
fn in_region() -> PriceTable {
    PriceTable {
        transfer_usd_per_gb: 0.0,
        ..PriceTable::default()
    }
}

/// A recorded history: `n` observations of `strategy` at `size`, each taking
/// `latency_secs`, every `fail_every`-th one failing (0: none fail).
fn record(
    m: &mut StrategyModel,
    strategy: ContentStrategy,
    size: u64,
    n: usize,
    latency_secs: f64,
    fail_every: usize,
) {
    for i in 0..n {
        m.observe(
            strategy,
            size,
            latency_secs,
            fail_every > 0 && i % fail_every == 0,
        );
    }
}

#[test]
fn size_classes_are_powers_of_two() {
    for (size, class) in [
        (0, 1),
        (1, 1),
        (1023, 10),
        (KIB, 11),
        (MIB - 1, 20),
        (MIB, 21),
    ] {
        assert_eq!(size_class(size), class, "{size}");
    }
}

#[test]
fn with_too_little_data_the_rules_decide_and_say_why() {
    let mut m = StrategyModel::default();
    record(&mut m, Object, MIB, 100, 0.05, 0);
    record(&mut m, Git, MIB, 5, 0.5, 0);
    let c = m.choose(MIB, &[Object, Git], &in_region(), None);
    assert_eq!(c.strategy, None);
    assert!(
        c.why.contains("too little data for git_reference"),
        "{}",
        c.why
    );
    assert!(c.why.contains("1 MiB–2 MiB"), "{}", c.why);
}

#[test]
fn a_slow_failing_store_moves_its_sizes_to_git_and_they_move_back_when_it_recovers() {
    let prices = in_region();
    let mut m = StrategyModel::default();
    // the store is fine for 256 KiB files but slow and failing for 1 MiB ones; git
    // references answer in half a second at both sizes
    record(&mut m, Object, 256 * KIB, 200, 0.04, 0);
    record(&mut m, Object, MIB, 200, 6.0, 4);
    record(&mut m, Git, 256 * KIB, 200, 0.5, 0);
    record(&mut m, Git, MIB, 200, 0.5, 0);
    let small = m.choose(256 * KIB, &[Object, Git], &prices, None);
    let large = m.choose(MIB, &[Object, Git], &prices, None);
    assert_eq!(small.strategy, Some(Object), "{}", small.why);
    assert_eq!(large.strategy, Some(Git), "{}", large.why);
    assert!(
        large.why.contains("expected object_storage $"),
        "{}",
        large.why
    );

    // the store recovers: a few good uploads do not flip it back at once, a steady
    // stream does
    record(&mut m, Object, MIB, 10, 0.05, 0);
    assert_eq!(
        m.choose(MIB, &[Object, Git], &prices, None).strategy,
        Some(Git)
    );
    let mut back_after = None;
    for i in 1..=2_000 {
        m.observe(Object, MIB, 0.05, false);
        if m.choose(MIB, &[Object, Git], &prices, None).strategy == Some(Object) {
            back_after = Some(i);
            break;
        }
    }
    let back_after = back_after.expect("object storage chosen again once it is healthy");
    assert!(
        (50..=1_000).contains(&back_after),
        "back after {back_after} healthy uploads"
    );
    // and the other size class never moved
    assert_eq!(
        m.choose(256 * KIB, &[Object, Git], &prices, None).strategy,
        Some(Object)
    );
}

#[test]
fn dollars_follow_the_price_table() {
    let prices = PriceTable::default();
    // a git reference costs only its small Kafka entry; object storage also requests,
    // storage and transfer — more for larger files
    assert!(dollars(Git, MIB, &prices) < dollars(Object, MIB, &prices));
    assert!(dollars(Object, KIB, &prices) < dollars(Object, MIB, &prices));
    let free = PriceTable {
        storage_usd_per_gb_month: 0.0,
        transfer_usd_per_gb: 0.0,
        put_usd_per_1000: 0.0,
        get_usd_per_1000: 0.0,
        ..prices
    };
    assert!((dollars(Object, MIB, &free) - dollars(Git, MIB, &free)).abs() < 1e-15);
}

#[test]
fn the_model_file_round_trips_and_a_hostile_one_starts_afresh() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("state/model.json");
    assert_eq!(
        StrategyModel::load(&path),
        StrategyModel::default(),
        "none yet"
    );
    let mut m = StrategyModel::default();
    record(&mut m, Object, MIB, 30, 0.2, 3);
    m.offsets.insert("out/0".into(), 42);
    m.save(&path).expect("save");
    assert_eq!(StrategyModel::load(&path), m);
    let cases = [
        ("not JSON", "{{{".to_owned()),
        ("another version", r#"{"version": 99, "cells": {}}"#.to_owned()),
        (
            "a negative latency",
            r#"{"version": 1, "cells": {"object_storage/21": {"weight": 30, "latency_secs": -5, "failure_rate": 0}}}"#.to_owned(),
        ),
        (
            "a failure rate above one",
            r#"{"version": 1, "cells": {"object_storage/21": {"weight": 30, "latency_secs": 1, "failure_rate": 7}}}"#.to_owned(),
        ),
    ];
    for (what, text) in cases {
        std::fs::write(&path, text).expect("write");
        assert_eq!(
            StrategyModel::load(&path),
            StrategyModel::default(),
            "{what}"
        );
    }
}

#[test]
fn impossible_observations_are_ignored() {
    let mut m = StrategyModel::default();
    m.observe(Object, MIB, f64::NAN, false);
    m.observe(Object, MIB, -1.0, false);
    m.observe(Object, MIB, f64::INFINITY, true);
    assert!(m.cells.is_empty());
}

#[test]
fn a_remote_whose_fetches_fail_loses_its_git_references_at_every_size() {
    let prices = in_region();
    let mut m = StrategyModel::default();
    for size in [256 * KIB, MIB] {
        record(&mut m, Object, size, 100, 0.3, 0);
        record(&mut m, Git, size, 100, 0.05, 0);
    }
    assert_eq!(
        m.choose(MIB, &[Object, Git], &prices, Some("git.example.com"))
            .strategy,
        Some(Git)
    );
    for i in 0..100 {
        m.observe_remote("Git.Example.com", i % 3 == 0);
        m.observe_remote("healthy.example.com", false);
    }
    for size in [256 * KIB, MIB] {
        let flaky = m.choose(size, &[Object, Git], &prices, Some("git.example.com"));
        assert_eq!(flaky.strategy, Some(Object), "{}", flaky.why);
        let healthy = m.choose(size, &[Object, Git], &prices, Some("healthy.example.com"));
        assert_eq!(healthy.strategy, Some(Git), "{}", healthy.why);
    }
}
