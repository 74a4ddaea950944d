use super::*;

/// Counts tiktoken 0.14 gives (`len(get_encoding(e).encode_ordinary(text))`), recorded
/// from it; the integration test compares whole corpora with tiktoken itself.
#[test]
fn counts_equal_tiktokens_on_the_patterns_edge_cases() {
    let cases: &[(&str, u64, u64)] = &[
        ("", 0, 0),
        ("hello world", 2, 2),
        ("Hello, World!", 4, 4),
        ("fn main() {\n    println!(\"hi\");\n}\n", 10, 10),
        ("   \n\n  x", 3, 3),
        ("trailing   ", 3, 3),
        ("it's they'RE", 4, 4),
        ("12345678", 3, 3),
        ("naïve café 東京", 5, 7),
        ("<|endoftext|>", 7, 7),
    ];
    for (text, o200k, cl100k) in cases {
        assert_eq!(
            Encoding::O200kBase.count(text),
            *o200k,
            "o200k_base: {text:?}"
        );
        assert_eq!(
            Encoding::Cl100kBase.count(text),
            *cl100k,
            "cl100k_base: {text:?}"
        );
    }
}

#[test]
fn every_token_counts_one_and_its_bytes_find_its_rank() {
    for e in Encoding::ALL {
        let t = e.tokenizer();
        let ranks = t.starts.len() - 1;
        assert!(ranks > 100_000, "{}: {ranks} ranks", e.as_str());
        for rank in (0..ranks as u32).step_by(97) {
            assert_eq!(
                t.rank(t.token(rank)),
                Some(rank),
                "{}: rank {rank}",
                e.as_str()
            );
            assert_eq!(t.merge(t.token(rank)), 1);
        }
        assert_eq!(t.rank(b"\xff\xfe not a token \x00"), None);
    }
}

#[test]
fn a_hostile_piece_costs_n_log_n_and_counts_as_tiktokens_merge_would() {
    // one piece of a megabyte (a punctuation run is one pre-tokenizer piece): tiktoken's
    // quadratic merge would take minutes
    let piece = "=+".repeat(512 * 1024);
    let started = std::time::Instant::now();
    let n = Encoding::O200kBase.count(&piece);
    assert!(n > 0 && n < piece.len() as u64, "{n}");
    // generous: a regression to quadratic is hours, not seconds
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    // the heap's merge gives what tiktoken's written-out merge gives
    for e in Encoding::ALL {
        let t = e.tokenizer();
        for s in [
            "=+=+=+=+=+=+=+=+=+",
            "{{{{{{{{((((]]]]",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "antidisestablishmentarianismus",
            "\u{1f600}\u{1f600}\u{1f600}",
        ] {
            assert_eq!(t.merge(s.as_bytes()), quadratic(t, s.as_bytes()), "{s}");
        }
    }
}

/// tiktoken's own merge, as written in its `_byte_pair_merge`.
fn quadratic(t: &Tokenizer, piece: &[u8]) -> u64 {
    if t.rank(piece).is_some() {
        return 1;
    }
    let mut parts: Vec<usize> = (0..=piece.len()).collect();
    loop {
        let mut best: Option<(u32, usize)> = None;
        for i in 0..parts.len().saturating_sub(2) {
            if let Some(r) = t.rank(&piece[parts[i]..parts[i + 2]])
                && best.is_none_or(|(b, _)| r < b)
            {
                best = Some((r, i));
            }
        }
        let Some((_, i)) = best else { break };
        parts.remove(i + 1);
    }
    parts.len() as u64 - 1
}

#[test]
fn names_parse_back() {
    for e in Encoding::ALL {
        assert_eq!(Encoding::parse(e.as_str()), Some(e));
    }
    assert_eq!(Encoding::parse("p50k_base"), None);
}

/// Pieces as tiktoken's own pattern splits them (Python's `regex.findall(pat_str, text)`
/// with tiktoken 0.14's `pat_str`, recorded).
#[test]
fn text_splits_into_the_pieces_tiktokens_pattern_gives() {
    let code = "fn main() {\n    let x = 42;  \n}\n";
    let prose = "It's  FOOBar's 12345 naïve\tend  ";
    let cases: &[(Encoding, &str, &[&str])] = &[
        (
            Encoding::O200kBase,
            code,
            &[
                "fn", " main", "()", " {\n", "   ", " let", " x", " =", " ", "42", ";", "  \n",
                "}\n",
            ],
        ),
        (
            Encoding::Cl100kBase,
            code,
            &[
                "fn", " main", "()", " {\n", "   ", " let", " x", " =", " ", "42", ";", "  \n",
                "}\n",
            ],
        ),
        (
            Encoding::O200kBase,
            prose,
            &[
                "It's",
                " ",
                " FOOBar's",
                " ",
                "123",
                "45",
                " naïve",
                "\tend",
                "  ",
            ],
        ),
        (
            Encoding::Cl100kBase,
            prose,
            &[
                "It", "'s", " ", " FOOBar", "'s", " ", "123", "45", " naïve", "\tend", "  ",
            ],
        ),
    ];
    for (e, text, pieces) in cases {
        let got: Vec<&str> = e.tokenizer().split(text).collect();
        assert_eq!(got, *pieces, "{}: {text:?}", e.as_str());
    }
}
