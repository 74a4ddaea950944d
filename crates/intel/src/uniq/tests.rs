use super::*;

#[test]
fn a_files_unique_lines_are_counted_as_scc_counts_them() {
    for (text, unique) in [
        ("", 1), // scc counts the one empty line
        ("a\n", 1),
        ("a\na\n\n\nb\n\n\n", 3), // trailing newlines cut; the empty line once
        ("a\r\na\n", 2),          // `\r` is part of the line
        ("  a\na\n", 2),          // so is indentation
        ("x\ny\nx\ny\nz", 3),
    ] {
        assert_eq!(file_lines(text.as_bytes()).count, unique, "{text:?}");
    }
}

#[test]
fn the_sample_is_one_line_in_sixteen_by_hash_and_round_trips() {
    let text: String = (0..16_000).map(|i| format!("line {i}\n")).collect();
    let found = file_lines(text.as_bytes());
    assert_eq!(found.count, 16_000);
    // Binomial(16000, 1/16): mean 1000, sd 30.6
    assert!(
        (880..=1120).contains(&found.sample.len()),
        "{}",
        found.sample.len()
    );
    assert!(found.sample.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(found.bits, SAMPLE_BITS);
    assert_eq!(
        decode_sample(&found.encoded_sample(), found.bits),
        Ok(found.sample)
    );
    assert_eq!(decode_sample("", SAMPLE_BITS), Ok(Vec::new()));
}

#[test]
fn hostile_samples_are_refused() {
    use base64::Engine as _;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD_NO_PAD.encode(b);
    for (encoded, why) in [
        ("not base64!".to_owned(), SampleError::Encoding),
        (b64(&[0; 7]), SampleError::Length),
        (b64(&u64::MAX.to_be_bytes()), SampleError::OutsideSample),
        (b64(&[0; 8 * (MAX_FILE_SAMPLE + 1)]), SampleError::TooLong),
    ] {
        assert_eq!(decode_sample(&encoded, SAMPLE_BITS), Err(why));
    }
    assert_eq!(decode_sample("", 0), Err(SampleError::Bits(0)));
    assert_eq!(decode_sample("", 64), Err(SampleError::Bits(64)));
}

/// Files sharing lines: the estimate of the lines distinct across them stays within
/// four standard errors of the exact count, and DRYness is unique ÷ all lines.
#[test]
fn a_projects_unique_lines_are_estimated_from_the_samples() {
    let mut exact = HashSet::new();
    let mut project = ProjectLines::default();
    let mut all_lines = 0u64;
    for file in 0..200u64 {
        // each file: 600 lines of its own, 400 shared with every other file
        let text: String = (0..600)
            .map(|i| format!("own {file} {i}\n"))
            .chain((0..400).map(|i| format!("shared {i}\n")))
            .collect();
        exact.extend(text.lines().map(str::to_owned));
        let found = file_lines(text.as_bytes());
        all_lines += 1000;
        project.add(1000, &found.sample, found.bits);
    }
    let e = project.estimate().expect("files");
    let exact = exact.len() as f64; // 120,400
    let error = (e.estimate as f64 - exact).abs() / exact;
    assert!(
        error < 4.0 * e.relative_standard_error,
        "estimate {} vs {exact}: {error:.4} > 4 × {:.4}",
        e.estimate,
        e.relative_standard_error
    );
    assert_eq!((e.lines, e.files, e.sample_rate), (all_lines, 200, 16));
    assert!((e.dryness - e.estimate as f64 / all_lines as f64).abs() < 1e-12);
    assert_eq!(ProjectLines::default().estimate(), None);
}

/// Past `MAX_SAMPLE` hashes the fold halves its sample: memory stays bounded and the
/// estimate stays unbiased.
#[test]
fn a_huge_projects_fold_stays_bounded() {
    let mut project = ProjectLines::default();
    let distinct = 12_000_000u64;
    let sample: Vec<u64> = (0..distinct)
        .map(|i| XxHash3_64::oneshot(&i.to_le_bytes()))
        .filter(|h| sampled(*h, SAMPLE_BITS))
        .collect();
    for chunk in sample.chunks(10_000) {
        project.add(0, chunk, SAMPLE_BITS);
        assert!(project.union.len() <= MAX_SAMPLE);
    }
    let e = project.estimate().expect("files");
    assert!(e.sample_rate >= 32, "{}", e.sample_rate);
    let error = (e.estimate as f64 - distinct as f64).abs() / distinct as f64;
    assert!(
        error < 4.0 * e.relative_standard_error,
        "{error} vs {}",
        e.relative_standard_error
    );
}

/// A file with very many distinct lines samples itself more sparsely so its document
/// stays small, and the project's fold follows its rate.
#[test]
fn a_file_with_very_many_distinct_lines_samples_more_sparsely() {
    let big: String = (0..200_000).map(|i| format!("row {i}\n")).collect();
    let found = file_lines(big.as_bytes());
    assert_eq!(found.count, 200_000);
    assert!(found.sample.len() <= MAX_FILE_SAMPLE && found.bits > SAMPLE_BITS);
    let small = file_lines(b"one\ntwo\n");
    let mut project = ProjectLines::default();
    project.add(2, &small.sample, small.bits);
    project.add(200_000, &found.sample, found.bits);
    let e = project.estimate().expect("files");
    assert_eq!(e.sample_rate, 1 << found.bits);
    let error = (e.estimate as f64 - 200_002.0).abs() / 200_002.0;
    assert!(error < 4.0 * e.relative_standard_error, "{error}");
}
