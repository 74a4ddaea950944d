//! The index against the `spdx` crate's own matcher on the same texts: same scores to
//! the bit, same license (or a tie), same scan results.

use std::collections::HashSet;
use std::sync::OnceLock;

use spdx::detection::{LicenseEntry, Store, TextData, scan::Scanner};

use super::*;
use crate::license::preproc::common_prefix_tie;

fn full() -> &'static Store {
    static STORE: OnceLock<Store> = OnceLock::new();
    STORE.get_or_init(|| Store::load_inline().expect("the spdx crate's store"))
}

fn in_headers(name: &str, has_headers: bool) -> bool {
    has_headers || name == "MIT"
}

fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(|| Index::build(full(), in_headers).expect("index"))
}

/// Licenses one of whose texts askalono normalises one way or another by chance (equally
/// common line prefixes, see `preproc`): the store holds one draw, the index another.
fn left_to_chance() -> &'static HashSet<String> {
    static NAMES: OnceLock<HashSet<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        full()
            .iter()
            .filter(|(_, e)| {
                std::iter::once(&e.original)
                    .chain(&e.alternates)
                    .chain(&e.headers)
                    .any(|t| common_prefix_tie(&t.lines().join("\n")))
            })
            .map(|(n, _)| n.clone())
            .collect()
    })
}

/// Whether askalono's result for `sample` is a draw: its normalisation of the sample,
/// or of the license it names, is left to chance.
fn drawn(sample: &str, names: &[&str]) -> bool {
    common_prefix_tie(&Sample::new(sample).lines.join("\n"))
        || names.iter().any(|n| left_to_chance().contains(*n))
}

/// askalono's best score among one license's entries.
fn spdx_score_of(name: &str, sample: &TextData) -> f32 {
    let e = full().iter().find(|(n, _)| *n == name).expect("license").1;
    std::iter::once(&e.original)
        .chain(&e.alternates)
        .chain(&e.headers)
        .map(|t| t.match_score(sample))
        .fold(0.0, f32::max)
}

/// Every `step`th license of the store, by name, as (name, its normalised text).
fn licenses(step: usize) -> Vec<(String, String)> {
    let mut all: Vec<_> = full()
        .iter()
        .map(|(n, e)| (n.clone(), e.original.lines().join("\n")))
        .collect();
    all.sort();
    all.into_iter().step_by(step).collect()
}

/// A license text as people ship it: a title and a copyright line added, a line lost.
fn perturbed(text: &str) -> String {
    let mut lines: Vec<&str> = text.lines().collect();
    if lines.len() > 8 {
        lines.remove(lines.len() / 2);
    }
    format!(
        "The Project License\n\nCopyright (c) 2019-2024 Someone <a@b.c>\n\n{}\n",
        lines.join("\n")
    )
}

#[test]
fn scores_are_askalonos_to_the_bit() {
    let mut same_name = 0;
    let cases = licenses(9);
    assert!(cases.len() > 50, "{} licenses sampled", cases.len());
    assert!(left_to_chance().len() < 5, "{:?}", left_to_chance());
    for (name, text) in &cases {
        for sample in [text.clone(), perturbed(text)] {
            let theirs = full().analyze(&TextData::new(&sample));
            let ours = index()
                .analyze(&Sample::new(&sample).grams(), false)
                .expect("a best entry");
            if drawn(&sample, &[name, theirs.name, index().name(ours)]) {
                same_name += 1;
                continue;
            }
            assert_eq!(
                ours.score.to_bits(),
                theirs.score.to_bits(),
                "{name}: ours {ours:?} {}, theirs {theirs:?}",
                index().name(ours)
            );
            // a different name only where askalono scores ours the same (a tie)
            let ours_name = index().name(ours);
            if ours_name == theirs.name {
                same_name += 1;
            } else {
                assert_eq!(
                    spdx_score_of(ours_name, &TextData::new(&sample)).to_bits(),
                    theirs.score.to_bits(),
                    "{name}: ours {ours_name}, theirs {}",
                    theirs.name
                );
            }
        }
    }
    assert!(same_name > cases.len(), "{same_name} same names");
}

/// The spdx store cut to the licenses a header is compared with, as the detector used to.
fn header_store() -> Store {
    let mut out = Store::new();
    for (name, e) in full().iter() {
        if in_headers(name, !e.headers.is_empty()) {
            out.insert_entry(
                name.clone(),
                LicenseEntry {
                    original: e.original.clone(),
                    aliases: e.aliases.clone(),
                    headers: e.headers.clone(),
                    alternates: e.alternates.clone(),
                },
            );
        }
    }
    out
}

#[test]
fn headers_are_compared_with_the_header_licenses_only() {
    let store = header_store();
    let headers: Vec<String> = full()
        .iter()
        .flat_map(|(_, e)| e.headers.iter().map(|h| h.lines().join("\n")))
        .collect();
    assert!(headers.len() > 20, "{} headers", headers.len());
    let samples = headers
        .iter()
        .map(|h| format!("/*\n * Copyright 2021 A\n *\n * {}\n */\n", h.replace('\n', "\n * ")))
        .chain(std::iter::once(
            "// Permission is hereby granted, free of charge, to any person obtaining a copy\n// of this software, to deal in the Software without restriction.\n".to_owned(),
        ));
    for sample in samples {
        let theirs = store.analyze(&TextData::new(&sample));
        let ours = index()
            .analyze(&Sample::new(&sample).grams(), true)
            .expect("a best entry");
        if drawn(&sample, &[theirs.name, index().name(ours)]) {
            continue;
        }
        assert_eq!(ours.score.to_bits(), theirs.score.to_bits(), "{sample}");
        assert!(
            in_headers(index().name(ours), true) || index().name(ours) == "MIT",
            "{}",
            index().name(ours)
        );
        if index().name(ours) == theirs.name {
            let kind = match theirs.license_type {
                spdx::detection::LicenseType::Original => Kind::Original,
                spdx::detection::LicenseType::Header => Kind::Header,
                spdx::detection::LicenseType::Alternate => Kind::Alternate,
            };
            assert_eq!(index().kind(ours), kind, "{sample}");
        }
    }
}

#[test]
fn a_scan_finds_what_askalonos_scanner_finds() {
    let text = |name: &str| {
        full()
            .iter()
            .find(|(n, _)| *n == name)
            .expect("license")
            .1
            .original
            .lines()
            .join("\n")
    };
    let cases = [
        // one license: the whole text matches
        perturbed(&text("Apache-2.0")),
        // a preamble longer than the license: found in part
        format!(
            "This package is distributed under the terms below.\n{}\n\n{}\n",
            "Some notes about the package and its many authors and history.\n".repeat(40),
            text("MIT")
        ),
        // two licenses one after the other
        format!("{}\n\n{}\n", text("BSD-3-Clause"), text("ISC")),
        // nothing like a license
        "Just words that are not a license at all.\n".repeat(30),
    ];
    for sample in &cases {
        let data = TextData::new(sample);
        let scanner = Scanner::new(full())
            .confidence_threshold(0.8)
            .optimize(true);
        let result = scanner.scan(&data);
        let theirs = match result.license {
            Some(l) => Some((l.name.to_owned(), result.score)),
            None => result
                .containing
                .iter()
                .max_by(|a, b| a.score.total_cmp(&b.score))
                .map(|c| (c.license.name.to_owned(), c.score)),
        };
        let ours = index()
            .scan(&Sample::new(sample), 0.8, 10)
            .map(|m| (index().name(m).to_owned(), m.score));
        assert_eq!(ours, theirs, "{}", &sample[..sample.len().min(200)]);
    }
}

#[test]
fn the_index_is_a_fraction_of_the_store() {
    // the store's maps were about 40 MB on the heap (benches/README.md)
    let bytes = index().heap_bytes();
    assert!(bytes < 16 << 20, "{bytes} bytes");
    assert!(bytes > 1 << 20, "{bytes} bytes: not the whole store?");
}

#[test]
fn the_index_and_the_samples_are_the_same_every_time() {
    let again = Index::build(full(), in_headers).expect("index");
    assert_eq!(again.grams, index().grams);
    assert_eq!(again.starts, index().starts);
    assert!(
        again
            .postings
            .iter()
            .zip(&index().postings)
            .all(|(a, b)| (a.entry, a.count) == (b.entry, b.count))
    );
    // equally common prefixes ("abcd e", "abcd", "abcd f"), askalono strips "abcd" or
    // nothing by chance: one normalisation, whatever the hash order
    let tie = "abcd e one\nabcd e two\nabcd f three\nabcd f four";
    assert!(common_prefix_tie(tie));
    let first = Sample::new(tie).grams().grams;
    for _ in 0..20 {
        assert_eq!(Sample::new(tie).grams().grams, first);
    }
}
