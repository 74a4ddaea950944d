use super::*;

fn filter(include: &[&str], exclude: &[&str]) -> Filter {
    let owned = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    Filter::new(&owned(include), &owned(exclude)).expect("patterns compile")
}

#[test]
fn patterns_follow_gitignore() {
    // (include, exclude, path, indexed)
    let cases: &[(&[&str], &[&str], &str, bool)] = &[
        (&[], &["unicore"], "lib/unicore/To/Age.pl", false),
        (&[], &["unicore"], "unicore", false),
        (&[], &["unicore"], "lib/unicorn.pl", true),
        (&[], &["/vendor"], "vendor/x.c", false),
        (&[], &["/vendor"], "src/vendor/x.c", true),
        (&[], &["dist/"], "web/dist/app.js", false),
        (&[], &["dist/"], "web/dist", true),
        (&[], &["*.min.js"], "a/b/app.min.js", false),
        (&[], &["docs/**/*.png"], "docs/a/b/c.png", false),
        (&[], &["*.png", "!logo.png"], "img/logo.png", true),
        (&[], &["*.png", "!logo.png"], "img/other.png", false),
        (&["src"], &[], "src/main.rs", true),
        (&["src"], &[], "tests/it.rs", false),
        (&["*.rs"], &["generated"], "src/generated/x.rs", false),
        (&["*.rs"], &["generated"], "src/lib.rs", true),
        (&["*.rs"], &[], "README.md", false),
    ];
    for (include, exclude, path, indexed) in cases {
        assert_eq!(
            filter(include, exclude).accepts(path),
            *indexed,
            "include {include:?} exclude {exclude:?}: {path}"
        );
    }
}
