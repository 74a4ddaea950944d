use time::OffsetDateTime;
use tributary_events::intelligence::{Flags, LicenseCount};

use super::*;
use crate::rollup::summarise;
use crate::rollup::tests::{doc, run};

#[test]
fn copyleft_is_spdxs_list() {
    for (expr, copyleft) in [
        ("MIT", false),
        ("Apache-2.0", false),
        ("GPL-3.0-only", true),
        ("GPL-2.0+", true),
        ("LGPL-2.1-or-later", true),
        ("MPL-2.0", true),
        ("AGPL-3.0-only", true),
        ("MIT OR Apache-2.0", false),
        ("(MIT OR GPL-3.0-only)", true),
        ("Apache-2.0 WITH LLVM-exception", false),
        ("NotALicense", false),
        ("", false),
    ] {
        assert_eq!(is_copyleft(expr), copyleft, "{expr:?}");
    }
}

fn project(
    name: &str,
    docs: &[(&str, &str, u64, u64)],
    license: Option<&str>,
    secrets: u64,
) -> ProjectSummary {
    let docs: Vec<_> = docs
        .iter()
        .map(|(path, lang, code, cc)| doc(path, Some(lang), *code, *cc, Flags::default()))
        .collect();
    let mut r = run(docs.len() as u64);
    r.project = name.to_owned();
    let mut s = summarise(&r, &docs, 0, true, OffsetDateTime::now_utc());
    s.project = name.to_owned();
    if let Some(l) = license {
        s.licenses = vec![LicenseCount {
            spdx: l.to_owned(),
            files: 1,
            examples: vec!["LICENSE".into()],
        }];
    }
    if secrets > 0 {
        s.secrets.insert("github-pat".into(), secrets);
    }
    s
}

#[test]
fn projects_fold_into_one_view() {
    let a = project(
        "org/a",
        &[("a.rs", "Rust", 100, 5), ("b.py", "Python", 50, 30)],
        Some("MIT"),
        0,
    );
    let b = project("org/b", &[("c.rs", "Rust", 10, 2)], Some("GPL-3.0-only"), 2);
    let mut c = project("org/c", &[("d.go", "Go", 7, 40)], Some("MIT"), 1);
    c.complete = false;
    let id = Uuid::now_v7();
    let p = fold(Some(id), &[a, b, c], OffsetDateTime::now_utc());
    assert_eq!(p.portfolio_id, Some(id));
    assert_eq!((p.projects, p.complete_projects), (3, 2));
    assert_eq!(p.totals.files, 4);
    assert_eq!(p.totals.code, 167);
    assert_eq!(p.languages["Rust"].projects, 2);
    assert_eq!(p.languages["Rust"].totals.code, 110);
    assert_eq!(p.licenses["MIT"].projects, ["org/a", "org/c"]);
    assert!(!p.licenses["MIT"].copyleft && p.licenses["GPL-3.0-only"].copyleft);
    assert_eq!(p.copyleft_projects, ["org/b"]);
    assert_eq!(p.secrets["github-pat"], 3);
    assert_eq!(p.secrets_by_project.len(), 2);
    // the most complex across projects, each naming its project
    let top: Vec<(&str, &str)> = p
        .hotspots
        .iter()
        .take(2)
        .map(|h| (h.project.as_str(), h.hotspot.path.as_str()))
        .collect();
    assert_eq!(top, [("org/c", "d.go"), ("org/a", "b.py")]);
    assert_eq!(p.freshness.len(), 3);
    assert!(
        p.freshness
            .iter()
            .any(|f| f.project == "org/c" && !f.complete)
    );
    let json = serde_json::to_value(&p).expect("json");
    assert_eq!(json["doc_type"], "portfolio_summary");
    assert_eq!(
        json["languages"]["Rust"]["code"], 110,
        "totals are flattened"
    );
    assert_eq!(json["hotspots"][0]["project"], "org/c");
    assert_eq!(json["hotspots"][0]["path"], "d.go");
}

#[test]
fn an_empty_portfolio_has_zero_shares_not_nan() {
    let p = fold(None, &[], OffsetDateTime::now_utc());
    assert_eq!(p.projects, 0);
    assert_eq!(p.shares.generated_bytes, 0.0);
    assert!(
        serde_json::to_string(&p)
            .expect("json")
            .contains("\"projects\":0")
    );
}

#[test]
fn packages_fold_into_the_most_used_and_the_versions_in_use() {
    use crate::deps::{Kind, read};
    let with_lock = |name: &str, lock: &str| {
        let mut d = doc("Cargo.lock", None, 1, 0, Flags::default());
        d.dependencies = read(Kind::CargoLock, lock).expect("reads").dependencies;
        let mut f = doc("src/lib.rs", Some("Rust"), 10, 3, Flags::default());
        f.complexity = Some(tributary_events::intelligence::Complexity {
            cyclomatic: 3,
            functions: vec![tributary_events::intelligence::FunctionComplexity {
                name: format!("{name}_parse"),
                line: 1,
                cyclomatic: if name == "b" { 12 } else { 3 },
                lines: Some(20),
                parameters: Some(1),
            }],
        });
        let mut r = run(2);
        r.project = name.to_owned();
        let mut s = summarise(&r, &[d, f], 0, true, OffsetDateTime::now_utc());
        s.project = name.to_owned();
        s
    };
    let lock = |serde: &str| {
        format!(
            "[[package]]\nname = \"serde\"\nversion = \"{serde}\"\nsource = \"registry+x\"\n\
             [[package]]\nname = \"tokio\"\nversion = \"1.40.0\"\nsource = \"registry+x\"\n"
        )
    };
    let p = fold(
        None,
        &[
            with_lock("a", &lock("1.0.200")),
            with_lock("b", &lock("1.0.219")),
            project("c", &[], None, 0),
        ],
        OffsetDateTime::now_utc(),
    );
    let d = p.dependencies.expect("packages");
    assert_eq!(d.packages, 3, "tokio once, serde at two versions");
    assert_eq!(d.most_used[0].purl, "pkg:cargo/tokio@1.40.0");
    assert_eq!(d.most_used[0].projects, 2);
    assert_eq!(d.versions_in_use.len(), 1);
    assert_eq!(d.versions_in_use[0].package, "pkg:cargo/serde");
    assert_eq!(d.versions_in_use[0].versions, ["1.0.200", "1.0.219"]);
    assert_eq!(d.versions_in_use[0].projects, 2);
    // function hotspots across projects, the most complex first
    let top: Vec<(&str, &str)> = p
        .function_hotspots
        .iter()
        .map(|h| (h.project.as_str(), h.function.name.as_str()))
        .collect();
    assert_eq!(top, [("b", "b_parse"), ("a", "a_parse")]);
}
