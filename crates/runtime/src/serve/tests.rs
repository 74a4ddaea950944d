use super::*;

#[test]
fn families_without_help_are_named() {
    let text = "# HELP a_total Things.\n# TYPE a_total counter\na_total 1\n\
                # TYPE b_seconds histogram\nb_seconds_count 0\n\
                # HELP c Other.\n# TYPE d gauge\nd 1\n";
    assert_eq!(families_without_help(text), vec!["b_seconds", "d"]);
    assert!(families_without_help("# HELP x X.\n# TYPE x gauge\nx 0\n").is_empty());
}
