use super::*;

fn sha() -> Sha256Hex {
    Sha256Hex::of(b"hello")
}

#[test]
fn default_template_renders_the_seed_layout() {
    let s = sha().to_string();
    assert_eq!(
        render_key(DEFAULT_KEY_TEMPLATE, "acme", &sha(), Some("rs")),
        format!("projects/acme/{s}.rs")
    );
    assert_eq!(
        render_key(DEFAULT_KEY_TEMPLATE, "acme", &sha(), None),
        format!("projects/acme/{s}")
    );
    assert_eq!(
        render_key(DEFAULT_KEY_TEMPLATE, "acme/widgets", &sha(), Some("TAR")),
        format!("projects/acme/widgets/{s}.tar")
    );
}

#[test]
fn global_layout_dedups_across_projects() {
    let t = "sha256/{hh}/{sha256}";
    let s = sha().to_string();
    assert_eq!(
        render_key(t, "a", &sha(), Some("rs")),
        format!("sha256/{}/{s}", &s[..2])
    );
    assert_eq!(
        render_key(t, "a", &sha(), Some("rs")),
        render_key(t, "b", &sha(), Some("py"))
    );
}

#[test]
fn hostile_projects_cannot_escape_the_prefix() {
    let key = render_key(DEFAULT_KEY_TEMPLATE, "../../etc", &sha(), Some("x"));
    assert!(key.starts_with("projects/_/_/etc/"), "{key}");
    assert!(tributary_events::v2::is_valid_object_key(&key));
    let key = render_key(DEFAULT_KEY_TEMPLATE, "a b\u{0}c//d", &sha(), Some("x/../y"));
    assert!(tributary_events::v2::is_valid_object_key(&key), "{key}");
}

#[test]
fn templates_are_checked() {
    assert!(validate_key_template(DEFAULT_KEY_TEMPLATE).is_ok());
    assert!(validate_key_template("sha256/{hh}/{sha256}").is_ok());
    assert!(validate_key_template("projects/{project}/x").is_err());
    assert!(validate_key_template("{sha256}/{nope}").is_err());
    assert!(validate_key_template("/{sha256}").is_err());
    assert!(validate_key_template("{sha256").is_err());
}

#[test]
fn key_prefixes_are_the_folder_every_rendered_key_starts_with() {
    for (template, project, want) in [
        (
            DEFAULT_KEY_TEMPLATE,
            "acme/widgets",
            "projects/acme/widgets/",
        ),
        ("projects/{project}/{hh}/{sha256}", "p", "projects/p/"),
        ("{hh}/{sha256}.{ext}", "p", ""),
        ("blobs/{sha256}", "p", "blobs/"),
        ("by-project/{project}-{sha256}", "p", "by-project/"),
        (DEFAULT_KEY_TEMPLATE, "..", "projects/_/"),
    ] {
        let prefix = key_prefix(template, project);
        assert_eq!(prefix, want, "{template}");
        let key = render_key(template, project, &sha(), Some("rs"));
        assert!(key.starts_with(&prefix), "{key} under {prefix}");
    }
}
