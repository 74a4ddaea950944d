use super::*;

fn linguist(
    language: Option<&str>,
    vendored: Option<bool>,
    generated: Option<bool>,
    documentation: Option<bool>,
) -> Linguist {
    Linguist {
        language: language.map(str::to_owned),
        vendored,
        generated,
        documentation,
    }
}

/// Git's rules, as Linguist's documentation uses them: globs, folders, unset with `-`,
/// `=true`/`=false`, deeper files and later lines winning, macros from the top only.
#[test]
fn overrides_follow_gits_precedence() {
    let attrs = Attributes::from_files(vec![
        (
            "lib".into(),
            b"*.pl linguist-language=Prolog\nvendor/** -linguist-vendored\n".to_vec(),
        ),
        (
            String::new(),
            b"[attr]third-party linguist-vendored linguist-generated=false\n\
              *.x linguist-language=RPC\n\
              unicore/*.pl linguist-language=Perl\n\
              vendor/** linguist-vendored\n\
              docs/** linguist-documentation=false\n\
              gen/*.rs linguist-generated\n\
              gen/keep.rs -linguist-generated\n\
              deps/** third-party\n\
              *.md linguist-detectable\n"
                .to_vec(),
        ),
        (
            "gen".into(),
            b"[attr]nested linguist-vendored\nhand.rs nested\n".to_vec(),
        ),
    ]);
    for (path, want) in [
        ("src/proto.x", linguist(Some("RPC"), None, None, None)),
        ("unicore/lib/Scripts.pl", linguist(None, None, None, None)),
        ("unicore/Name.pl", linguist(Some("Perl"), None, None, None)),
        (
            "lib/unicore/Name.pl",
            linguist(Some("Prolog"), None, None, None),
        ),
        ("vendor/a/b.js", linguist(None, Some(true), None, None)),
        ("lib/vendor/c.js", linguist(None, Some(false), None, None)),
        ("docs/guide.md", linguist(None, None, None, Some(false))),
        ("gen/out.rs", linguist(None, None, Some(true), None)),
        ("gen/keep.rs", linguist(None, None, Some(false), None)),
        ("deps/z/z.c", linguist(None, Some(true), Some(false), None)),
        // a macro defined below the top is not one
        ("gen/hand.rs", linguist(None, None, Some(true), None)),
        ("README.md", Linguist::default()),
        ("src/main.rs", Linguist::default()),
    ] {
        assert_eq!(attrs.linguist(path), want, "{path}");
    }
}

#[test]
fn hostile_attributes_are_bounded_and_lenient() {
    let long = format!(
        "*.c linguist-language={}\n",
        "x".repeat(MAX_LANGUAGE_NAME + 1)
    );
    let attrs = Attributes::from_files(vec![
        (
            String::new(),
            b"\xff\xfe garbage line\n*.h linguist-language=C\n!!! [ \n".to_vec(),
        ),
        ("big".into(), vec![b'#'; MAX_FILE_BYTES + 1]),
        ("long".into(), long.into_bytes()),
    ]);
    assert_eq!(
        attrs.linguist("a.h").language.as_deref(),
        Some("C"),
        "good lines still count"
    );
    assert_eq!(
        attrs.linguist("long/a.c").language,
        None,
        "an over-long name does not travel"
    );
    assert!(Attributes::default().linguist("a.h").is_empty());
}

#[test]
fn a_commit_and_a_folder_give_the_same_attributes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let repo = git2::Repository::init(root).expect("init");
    for (p, text) in [
        (".gitattributes", "*.x linguist-language=RPC\n"),
        ("third_party/.gitattributes", "** linguist-vendored\n"),
        ("third_party/a.c", "int a;\n"),
        ("proto.x", "program P {} = 1;\n"),
        ("ignored/.gitattributes", "** linguist-generated\n"),
        (".gitignore", "ignored/\n"),
    ] {
        let path = root.join(p);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
    let mut index = repo.index().expect("index");
    index
        .add_all(["*"].iter(), git2::IndexAddOption::DEFAULT, None)
        .expect("add");
    let tree = repo
        .find_tree(index.write_tree().expect("tree"))
        .expect("tree");
    let sig = git2::Signature::now("t", "t@example.com").expect("sig");
    let commit = repo
        .commit(Some("HEAD"), &sig, &sig, "c", &tree, &[])
        .expect("commit");
    let from_commit = Attributes::load(&Kind::Commit {
        repo_dir: root.to_path_buf(),
        commit,
        base: None,
        replaced: None,
    })
    .expect("load");
    let from_folder = Attributes::load(&Kind::Folder {
        root: root.to_path_buf(),
    })
    .expect("load");
    for attrs in [&from_commit, &from_folder] {
        assert_eq!(attrs.linguist("proto.x").language.as_deref(), Some("RPC"));
        assert_eq!(attrs.linguist("third_party/a.c").vendored, Some(true));
        assert_eq!(
            attrs.linguist("ignored/x.c").generated,
            None,
            "ignored files are not read"
        );
    }
}
