use time::OffsetDateTime;
use tributary_events::intelligence::{Flags, FunctionComplexity, Hotspot};

use super::*;
use crate::rollup::tests::{doc, run};
use crate::rollup::{Rollup, summarise};

#[test]
fn sizes_are_in_binary_units() {
    for (bytes, want) in [
        (0, "0 B"),
        (1023, "1023 B"),
        (1024, "1 KiB"),
        (1536, "1.5 KiB"),
        (10 * 1024 * 1024, "10 MiB"),
        (960 * 1024 * 1024 + 300 * 1024, "960.3 MiB"),
        (3 * 1024 * 1024 * 1024 / 2, "1.5 GiB"),
        (u64::MAX, "16 EiB"),
    ] {
        assert_eq!(human_bytes(bytes), want, "{bytes}");
    }
}

/// A summary with code in three languages, prose and data, and unknown files.
fn mixed() -> tributary_events::intelligence::ProjectSummary {
    let mut docs = Vec::new();
    for (i, (lang, code)) in [
        ("Rust", 600),
        ("Rust", 150),
        ("Python", 200),
        ("Shell", 50),
        ("Markdown", 400),
        ("JSON", 900),
    ]
    .into_iter()
    .enumerate()
    {
        docs.push(doc(&format!("f{i}"), Some(lang), code, 1, Flags::default()));
    }
    docs.push(doc("blob", None, 0, 0, Flags::default()));
    summarise(&run(7), &docs, 0, true, OffsetDateTime::now_utc())
}

fn row<'a>(html: &'a str, table: &str, first_cell: &str) -> &'a str {
    let t = html
        .split(&format!("<table id=\"{table}\">"))
        .nth(1)
        .unwrap_or_else(|| panic!("no table {table}"));
    let t = &t[..t.find("</table>").expect("table closed")];
    t.split("<tr")
        .find(|r| r.contains(&format!("<td>{first_cell}</td>")))
        .unwrap_or_else(|| panic!("no row {first_cell} in {table}"))
}

#[test]
fn code_shares_leave_prose_data_and_unknown_apart() {
    let html = html(&mixed());
    // code: 750 + 200 + 50 lines = 1,000; Markdown and JSON are not in the share
    assert!(row(&html, "languages", "Rust").contains("75.0%"));
    assert!(row(&html, "languages", "Python").contains("20.0%"));
    assert!(row(&html, "languages", "Shell").contains("5.0%"));
    let total = row(&html, "languages", "total");
    assert!(
        total.contains(
            "<td class=\"n\">4</td><td class=\"n\">1,000</td><td class=\"n\">100.0%</td>"
        ),
        "{total}"
    );
    let languages = html
        .split("<table id=\"languages\">")
        .nth(1)
        .expect("table");
    let languages = &languages[..languages.find("</table>").expect("end")];
    for apart in ["Markdown", "JSON", "unknown"] {
        assert!(
            !languages.contains(&format!("<td>{apart}</td>")),
            "{apart} among code"
        );
    }
    let prose = row(&html, "prose-data", "JSON");
    assert!(prose.contains("900") && !prose.contains('%'), "{prose}");
    assert!(row(&html, "prose-data", "total").contains("1,300"));
    assert!(html.contains("1 files (10 B) in no detected language"));
    // the stacked bar: one segment per code language, widths summing to 100 %
    let bar = html.split("id=\"language-bar\"").nth(1).expect("bar");
    let bar = &bar[..bar.find("</div>").expect("end")];
    let widths: Vec<f64> = bar
        .split("width:")
        .skip(1)
        .map(|w| w[..w.find('%').expect("%")].parse().expect("number"))
        .collect();
    assert_eq!(widths.len(), 3, "{bar}");
    assert!(
        (widths.iter().sum::<f64>() - 100.0).abs() < 0.01,
        "{widths:?}"
    );
    assert!(!bar.contains("Markdown"));
}

#[test]
fn the_page_has_no_script_and_labels_its_numbers() {
    let mut s = mixed();
    s.totals.bytes = 5 * 1024 * 1024 + 1;
    s.hotspots = vec![Hotspot {
        path: "src/big.c".into(),
        code: 9000,
        cyclomatic: 700,
        worst_function: Some(FunctionComplexity {
            name: "parse".into(),
            line: 2061,
            cyclomatic: 42,
            ..Default::default()
        }),
        language: Some("C".into()),
    }];
    s.functions = Some(tributary_events::intelligence::Functions {
        count: 1200,
        cyclomatic_over_10: 7,
        hotspots: vec![tributary_events::intelligence::FunctionHotspot {
            path: "src/<big>.c".into(),
            language: Some("C".into()),
            name: "parse".into(),
            line: 2061,
            cyclomatic: 42,
            lines: Some(310),
            parameters: Some(4),
        }],
    });
    let html = html(&s);
    assert!(html.contains("1,200 functions, 7 with a cyclomatic complexity above 10."));
    assert!(html.contains(
        "<td><code>parse</code></td><td><code>src/&lt;big&gt;.c</code>:2061</td>\
         <td class=\"n\">42</td><td class=\"n\">310</td><td class=\"n wide\">4</td>"
    ));
    assert!(!html.to_ascii_lowercase().contains("<script"), "no script");
    assert!(!html.contains(" on"), "no inline handler");
    assert!(html.contains("<code>parse</code> — line 2,061, cyclomatic 42"));
    assert!(html.contains("<b>5.0 MiB</b>size"));
    assert!(html.contains("title=\"5,242,881 bytes\""));
    assert!(html.contains("name=\"viewport\""));
}

#[test]
fn a_project_with_no_code_says_so() {
    let s = summarise(
        &run(1),
        &[doc("README.md", Some("Markdown"), 3, 0, Flags::default())],
        0,
        true,
        OffsetDateTime::now_utc(),
    );
    let html = html(&s);
    assert!(html.contains("id=\"no-code\""));
    assert!(!html.contains("id=\"language-bar\""));
    assert!(row(&html, "prose-data", "Markdown").contains(">3<"));
    let empty = Rollup::default().finish(&run(0), 0, true, OffsetDateTime::now_utc());
    assert!(html_has_no_nan(&super::html(&empty)));
}

fn html_has_no_nan(html: &str) -> bool {
    !html.contains("NaN") && !html.contains("inf%")
}

#[test]
fn the_index_groups_runs_by_project_newest_first() {
    let old = uuid::Uuid::new_v7(uuid::Timestamp::from_unix(
        uuid::NoContext,
        1_700_000_000,
        0,
    ));
    let new = uuid::Uuid::new_v7(uuid::Timestamp::from_unix(
        uuid::NoContext,
        1_800_000_000,
        0,
    ));
    let v4 = uuid::Uuid::new_v4();
    let keys = [
        format!("alpha/{old}.html"),
        format!("alpha/{new}.html"),
        "alpha/latest.html".to_owned(),
        format!("beta/{v4}.html"),
        "index.html".to_owned(),
        "alpha/notes.txt".to_owned(),
        "alpha/not-a-run.html".to_owned(),
        format!("gamma/deep/{old}.html"),
    ];
    let projects = index_projects(keys.iter().map(String::as_str));
    let folders: Vec<&str> = projects.iter().map(|p| p.folder.as_str()).collect();
    assert_eq!(folders, ["alpha", "beta"]);
    let alpha = &projects[0];
    assert!(alpha.latest);
    assert_eq!(
        alpha
            .runs
            .iter()
            .map(|r| r.run_id.clone())
            .collect::<Vec<_>>(),
        [new.to_string(), old.to_string()]
    );
    assert_eq!(
        alpha.runs[0].started_at.map(|t| t.unix_timestamp()),
        Some(1_800_000_000)
    );
    assert_eq!(projects[1].runs[0].started_at, None, "a v4 id has no time");
    assert!(!projects[1].latest);

    let page = index_html(&projects);
    assert!(page.contains("2 projects · 3 runs"));
    assert!(page.contains("<a href=\"alpha/latest.html\">alpha</a>"));
    assert!(page.contains(&format!(
        "<a href=\"alpha/{new}.html\">2027-01-15T08:00:00Z</a>"
    )));
    assert!(!page.contains("<script"));
    let newer = page.find(&format!("alpha/{new}.html")).expect("new");
    let older = page.find(&format!("alpha/{old}.html")).expect("old");
    assert!(newer < older, "newest first");
    assert!(index_html(&[]).contains("No report yet."));
}

#[test]
fn the_index_caps_runs_per_project_and_escapes_folders() {
    let keys: Vec<String> = (0..INDEX_RUNS as u64 + 5)
        .map(|i| {
            let id = uuid::Uuid::new_v7(uuid::Timestamp::from_unix(
                uuid::NoContext,
                1_700_000_000 + i,
                0,
            ));
            format!("a&b/{id}.html")
        })
        .collect();
    let page = index_html(&index_projects(keys.iter().map(String::as_str)));
    assert!(page.contains("and 5 older runs"));
    assert_eq!(page.matches("<li><a href").count(), INDEX_RUNS);
    assert!(page.contains("a&amp;b/") && !page.contains("a&b/"));
}

#[test]
fn the_portfolio_page_links_every_project_and_escapes_names() {
    let mut a = mixed();
    a.project = "org/<script>alert(1)</script>".into();
    let mut b = mixed();
    b.project = "org/b".into();
    let p = crate::portfolio::fold(None, &[a, b], OffsetDateTime::now_utc());
    let page = portfolio_html(&p, &|project: &str, _: &uuid::Uuid| {
        format!("per-repo/{}.html", project.replace('/', "_"))
    });
    assert!(!page.contains("<script>"), "escaped");
    assert!(page.contains("href=\"per-repo/org_b.html\""));
    assert!(page.contains("href=\"per-repo/org_&lt;script&gt;alert(1)&lt;_script&gt;.html\""));
    assert!(page.contains("Every project, latest"));
    assert!(page.contains("<b>2</b>projects"));
}
