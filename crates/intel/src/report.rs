//! The project report: one self-contained HTML page (inline CSS, no script, no external
//! resource) from a project summary, readable from a phone's 420 px up; and the index
//! page across projects and runs. Every string that came from a repository is escaped.
//!
//! Languages are kept apart as Linguist keeps them: the share of code counts programming
//! and markup languages only; prose and data (Markdown, JSON, YAML ...) and files in no
//! detected language are listed on their own, outside the percentages.

use std::fmt::Write as _;

use time::OffsetDateTime;
use tributary_events::intelligence::{LanguageTotals, ProjectSummary};

use crate::language::{Kind, linguist};

/// Languages drawn in the stacked bar; the rest are summed as "other".
const BAR_LANGUAGES: usize = 12;
/// Runs listed per project on the index page (newest first).
pub const INDEX_RUNS: usize = 20;
/// The name the rollup gives files in no detected language.
const UNKNOWN: &str = "unknown";
const GREY: &str = "#8c959f";

/// HTML-escapes text for element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `12345` → `12,345`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A byte count for people, in binary units: `512 B`, `1.5 KiB`, `10 MiB`.
pub fn human_bytes(n: u64) -> String {
    humansize::format_size(n, humansize::BINARY.decimal_places(1))
}

/// `0.4567` → `45.7%`; below a tenth of a percent, `<0.1%` rather than a misleading 0.
fn percent(share: f64) -> String {
    if share > 0.0 && share < 0.0005 {
        "&lt;0.1%".to_owned()
    } else {
        format!("{:.1}%", share * 100.0)
    }
}

fn share(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

const STYLE: &str = "*{box-sizing:border-box}\
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:980px;color:#1f2328;padding:0 1rem}\
h1{font-size:1.6rem;margin-bottom:.2rem;overflow-wrap:anywhere}\
h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #d0d7de;padding-bottom:.3rem}\
h3{font-size:1rem;margin-top:1.2rem}\
.meta{color:#59636e;overflow-wrap:anywhere}.cards{display:flex;flex-wrap:wrap;gap:.6rem;margin-top:1rem}\
.card{border:1px solid #d0d7de;border-radius:6px;padding:.5rem .8rem;flex:1 1 7.5rem}\
.card b{display:block;font-size:1.25rem}\
.scroll{overflow-x:auto;max-width:100%}table{border-collapse:collapse;width:100%}\
th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #eaeef2;vertical-align:top}\
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\
tr.total td{font-weight:600;border-top:2px solid #d0d7de}\
code{font-size:.92em;overflow-wrap:anywhere}.warn{color:#9a3412}.ok{color:#1a7f37}\
.stack{display:flex;height:10px;border-radius:5px;overflow:hidden;margin:.8rem 0 .5rem;background:#eaeef2}\
.stack span{display:block;height:100%;min-width:2px}\
.legend{list-style:none;padding:0;margin:0 0 1rem;display:flex;flex-wrap:wrap;gap:.3rem 1rem}\
.dot{display:inline-block;width:.7rem;height:.7rem;border-radius:50%;margin-right:.35rem;vertical-align:-.05rem}\
td.bar{width:28%;min-width:4rem}td.bar span{display:block;height:10px;border-radius:3px;min-width:2px}\
@media (max-width:640px){body{margin:1rem auto;padding:0 .6rem}.wide{display:none}td.bar{width:20%}}";

fn page_start(h: &mut String, title: &str) {
    let _ = write!(
        h,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{title}</title><style>{STYLE}</style></head><body>"
    );
}

/// Renders the report page.
pub fn html(s: &ProjectSummary) -> String {
    let mut h = String::with_capacity(16 * 1024);
    let project = escape(&s.project);
    page_start(&mut h, &format!("{project} — Tributary report"));
    let _ = write!(
        h,
        "<h1 id=\"project\">{project}</h1><p class=\"meta\">run <code>{run}</code>{commit} · \
         generated {at} · <span id=\"state\">{state}</span></p>",
        run = s.run_id,
        commit = s
            .commit
            .as_deref()
            .map(|c| format!(" · commit <code>{}</code>", escape(c)))
            .unwrap_or_default(),
        at = rfc3339(s.generated_at),
        state = if s.complete && s.publisher_failed > 0 {
            format!(
                "<span class=\"warn\">complete for what was published: {} files failed at the publisher</span>",
                thousands(s.publisher_failed)
            )
        } else if s.complete {
            "<span class=\"ok\">complete</span>".to_owned()
        } else {
            format!(
                "<span class=\"warn\">incomplete: {} of {} files accounted for</span>",
                thousands(s.totals.files + s.dead_lettered),
                thousands(s.expected_files)
            )
        },
    );
    let tokens_label = if s.tokens_by_encoding.contains_key("o200k_base") {
        "tokens (o200k_base)"
    } else if s.tokens_by_encoding.contains_key("cl100k_base") {
        "tokens (cl100k_base)"
    } else {
        "tokens (est.)"
    };
    h.push_str("<div class=\"cards\">");
    for (id, label, value, exact) in [
        ("files", "files", thousands(s.totals.files), None),
        ("code", "code lines", thousands(s.totals.code), None),
        (
            "comment",
            "comment lines",
            thousands(s.totals.comment),
            None,
        ),
        ("blank", "blank lines", thousands(s.totals.blank), None),
        (
            "bytes",
            "size",
            human_bytes(s.totals.bytes),
            Some(s.totals.bytes),
        ),
        ("cyclomatic", "cyclomatic", thousands(s.cyclomatic), None),
        ("symbols", "symbols", thousands(s.symbols), None),
        ("tokens", tokens_label, thousands(s.tokens), None),
        ("dead", "dead-lettered", thousands(s.dead_lettered), None),
        (
            "skipped",
            "skipped (publisher)",
            thousands(s.skipped_by_reason.values().sum()),
            None,
        ),
        (
            "failed",
            "failed (publisher)",
            thousands(s.publisher_failed),
            None,
        ),
        (
            "deleted",
            "deleted (this run)",
            thousands(s.deleted_files),
            None,
        ),
    ] {
        let title = exact
            .map(|b| format!(" title=\"{} bytes\"", thousands(b)))
            .unwrap_or_default();
        let _ = write!(
            h,
            "<div class=\"card\" id=\"card-{id}\"{title}><b>{value}</b>{label}</div>"
        );
    }
    h.push_str("</div>");
    not_indexed(&mut h, s);
    languages(&mut h, s);
    hotspots(&mut h, s);
    functions(&mut h, s);
    token_folders(&mut h, s);
    dependencies(&mut h, s);
    churn(&mut h, s);
    unique_lines(&mut h, s);
    duplicates(&mut h, s);
    licenses(&mut h, s);
    secrets(&mut h, s);
    let _ = write!(
        h,
        "<h2>Generated and vendored</h2><div class=\"scroll\"><table id=\"shares\"><tr><th></th>\
         <th class=\"n\">files</th><th class=\"n\">share of files</th><th class=\"n\">share of bytes</th></tr>\
         <tr><td>generated</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>\
         <tr><td>vendored</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>\
         <tr><td>tests</td><td class=\"n\">{}</td><td></td><td></td></tr>\
         <tr><td>documentation</td><td class=\"n\">{}</td><td></td><td></td></tr>\
         <tr><td>binary</td><td class=\"n\">{}</td><td></td><td></td></tr></table></div>",
        thousands(s.flags.generated),
        percent(s.shares.generated_files),
        percent(s.shares.generated_bytes),
        thousands(s.flags.vendored),
        percent(s.shares.vendored_files),
        percent(s.shares.vendored_bytes),
        thousands(s.flags.test),
        thousands(s.flags.documentation),
        thousands(s.flags.binary),
    );
    cost(&mut h, s);
    h.push_str("<p class=\"meta\"><a href=\"../index.html\">all projects</a></p></body></html>");
    h
}

/// Every file the run announced or met that has no document, and why: failed at the
/// publisher, skipped by reason, dead-lettered, deleted.
fn not_indexed(h: &mut String, s: &ProjectSummary) {
    let mut rows: Vec<(String, u64)> = Vec::new();
    if s.publisher_failed > 0 {
        rows.push(("failed at the publisher".into(), s.publisher_failed));
    }
    for (reason, n) in &s.skipped_by_reason {
        rows.push((format!("skipped: {}", reason.replace('_', " ")), *n));
    }
    if s.dead_lettered > 0 {
        rows.push((
            "dead-lettered (see the dead-letter topic)".into(),
            s.dead_lettered,
        ));
    }
    if s.deleted_files > 0 {
        rows.push(("deleted in this run".into(), s.deleted_files));
    }
    if rows.is_empty() {
        return;
    }
    h.push_str("<h2>Not indexed</h2><div class=\"scroll\"><table id=\"not-indexed\"><tr><th>why</th><th class=\"n\">files</th></tr>");
    for (why, n) in rows {
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=\"n\">{}</td></tr>",
            escape(&why),
            thousands(n)
        );
    }
    h.push_str("</table></div>");
}

/// What the run cost, by component and kind, under the named price table.
fn cost(h: &mut String, s: &ProjectSummary) {
    let Some(c) = &s.cost else { return };
    let dollars = |v: f64| format!("${v:.4}");
    let _ = write!(
        h,
        "<h2>Cost</h2><p class=\"meta\" id=\"cost-total\">estimated {} under price table \
         <code>{}</code></p><div class=\"scroll\"><table id=\"cost\"><tr><th>component</th>\
         <th class=\"n wide\">storage</th><th class=\"n wide\">requests</th><th class=\"n wide\">transfer</th>\
         <th class=\"n wide\">Kafka</th><th class=\"n wide\">compute</th><th class=\"n\">total</th></tr>",
        dollars(c.total_usd),
        escape(&c.price_table)
    );
    for (component, part) in &c.components {
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=\"n wide\">{}</td><td class=\"n wide\">{}</td><td class=\"n wide\">{}</td>\
             <td class=\"n wide\">{}</td><td class=\"n wide\">{}</td><td class=\"n\">{}</td></tr>",
            component.as_str(),
            dollars(part.storage_usd),
            dollars(part.requests_usd),
            dollars(part.transfer_usd),
            dollars(part.kafka_usd),
            dollars(part.compute_usd),
            dollars(part.total_usd),
        );
    }
    h.push_str("</table></div>");
}

/// A language's group on the page: code (Linguist's programming and markup), prose and
/// data, or not detected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Group {
    Code,
    ProseData,
    Unknown,
}

fn group_of(name: &str) -> Group {
    if name == UNKNOWN {
        return Group::Unknown;
    }
    match linguist().kind(name) {
        Kind::Programming | Kind::Markup => Group::Code,
        Kind::Prose | Kind::Data => Group::ProseData,
    }
}

fn languages(h: &mut String, s: &ProjectSummary) {
    let mut langs: Vec<(&str, &LanguageTotals)> =
        s.languages.iter().map(|(n, t)| (n.as_str(), t)).collect();
    langs.sort_by(|a, b| {
        b.1.code
            .cmp(&a.1.code)
            .then(b.1.files.cmp(&a.1.files))
            .then(a.0.cmp(b.0))
    });
    let in_group = |g: Group| -> Vec<(&str, &LanguageTotals)> {
        langs
            .iter()
            .filter(|(n, _)| group_of(n) == g)
            .copied()
            .collect()
    };
    let code = in_group(Group::Code);
    let prose = in_group(Group::ProseData);
    let unknown = in_group(Group::Unknown);
    let code_lines: u64 = code.iter().map(|(_, t)| t.code).sum();
    let color = |name: &str| escape(linguist().color(name).unwrap_or(GREY));

    h.push_str("<h2>Languages</h2>");
    if code.is_empty() {
        h.push_str("<p id=\"no-code\" class=\"meta\">No programming or markup language found.</p>");
    } else {
        // one stacked bar, GitHub's way, by code lines
        let mut segments: Vec<(String, u64, String)> = code
            .iter()
            .take(BAR_LANGUAGES)
            .filter(|(_, t)| t.code > 0)
            .map(|(n, t)| ((*n).to_owned(), t.code, color(n)))
            .collect();
        let other: u64 = code.iter().skip(BAR_LANGUAGES).map(|(_, t)| t.code).sum();
        if other > 0 {
            segments.push(("other".into(), other, "#d0d7de".into()));
        }
        h.push_str("<div class=\"stack\" id=\"language-bar\" role=\"img\" aria-label=\"share of code lines by language\">");
        for (name, lines, c) in &segments {
            let pct = share(*lines, code_lines) * 100.0;
            let _ = write!(
                h,
                "<span style=\"width:{pct:.3}%;background:{c}\" title=\"{name} {}\" data-language=\"{name}\"></span>",
                percent(pct / 100.0),
                name = escape(name),
            );
        }
        h.push_str("</div><ul class=\"legend\" id=\"language-legend\">");
        for (name, lines, c) in &segments {
            let _ = write!(
                h,
                "<li><span class=\"dot\" style=\"background:{c}\"></span><b>{}</b> {}</li>",
                escape(name),
                percent(share(*lines, code_lines))
            );
        }
        h.push_str("</ul>");
        language_table(h, "languages", &code, code_lines, &color);
    }
    if !prose.is_empty() {
        h.push_str(
            "<h3>Prose and data</h3><p class=\"meta\">Documentation, configuration and data \
             formats, outside the share of code (as Linguist counts).</p>",
        );
        language_table(h, "prose-data", &prose, 0, &color);
    }
    if let Some((_, t)) = unknown.first() {
        let _ = write!(
            h,
            "<p class=\"meta\" id=\"unknown\">{} files ({}) in no detected language, outside \
             the share of code.</p>",
            thousands(t.files),
            human_bytes(t.bytes)
        );
    }
}

/// One table of languages with a total row; `whole` > 0 adds each one's share of it
/// (code lines) with a bar.
fn language_table(
    h: &mut String,
    id: &str,
    rows: &[(&str, &LanguageTotals)],
    whole: u64,
    color: &dyn Fn(&str) -> String,
) {
    let shares = whole > 0;
    let _ = write!(
        h,
        "<div class=\"scroll\"><table id=\"{id}\"><tr><th>language</th><th class=\"n\">files</th>\
         <th class=\"n\">code</th>{}<th class=\"n wide\">comment</th><th class=\"n wide\">blank</th>\
         <th class=\"n\">size</th></tr>",
        if shares {
            "<th class=\"n\">share of code</th><th class=\"wide\"></th>"
        } else {
            ""
        }
    );
    let mut total = LanguageTotals::default();
    for (name, t) in rows {
        total += **t;
        let bar = if shares {
            let s = share(t.code, whole);
            format!(
                "<td class=\"n\">{}</td><td class=\"bar wide\"><span style=\"width:{:.3}%;background:{}\"></span></td>",
                percent(s),
                s * 100.0,
                color(name)
            )
        } else {
            String::new()
        };
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>{bar}\
             <td class=\"n wide\">{}</td><td class=\"n wide\">{}</td><td class=\"n\" title=\"{} bytes\">{}</td></tr>",
            escape(name),
            thousands(t.files),
            thousands(t.code),
            thousands(t.comment),
            thousands(t.blank),
            thousands(t.bytes),
            human_bytes(t.bytes),
        );
    }
    let _ = write!(
        h,
        "<tr class=\"total\"><td>total</td><td class=\"n\">{}</td><td class=\"n\">{}</td>{}\
         <td class=\"n wide\">{}</td><td class=\"n wide\">{}</td><td class=\"n\" title=\"{} bytes\">{}</td></tr></table></div>",
        thousands(total.files),
        thousands(total.code),
        if shares {
            "<td class=\"n\">100.0%</td><td class=\"wide\"></td>"
        } else {
            ""
        },
        thousands(total.comment),
        thousands(total.blank),
        thousands(total.bytes),
        human_bytes(total.bytes),
    );
}

fn hotspots(h: &mut String, s: &ProjectSummary) {
    h.push_str(
        "<h2>Complexity hotspots</h2><div class=\"scroll\"><table id=\"hotspots\"><tr><th>file</th>\
         <th class=\"wide\">language</th><th class=\"n\">cyclomatic</th><th>most complex function</th>\
         <th class=\"n wide\">code lines</th></tr>",
    );
    for spot in &s.hotspots {
        let worst = spot
            .worst_function
            .as_ref()
            .map(|f| {
                format!(
                    "<code>{}</code> — line {}, cyclomatic {}",
                    escape(&f.name),
                    thousands(f.line),
                    thousands(f.cyclomatic)
                )
            })
            .unwrap_or_default();
        let _ = write!(
            h,
            "<tr><td><code>{}</code></td><td class=\"wide\">{}</td><td class=\"n\">{}</td><td>{worst}</td>\
             <td class=\"n wide\">{}</td></tr>",
            escape(&spot.path),
            escape(spot.language.as_deref().unwrap_or("")),
            thousands(spot.cyclomatic),
            thousands(spot.code),
        );
    }
    h.push_str("</table></div>");
}

/// The most complex functions across the project, with their size and parameters.
fn functions(h: &mut String, s: &ProjectSummary) {
    let Some(f) = &s.functions else { return };
    let _ = write!(
        h,
        "<h2>Most complex functions</h2><p class=\"meta\" id=\"functions-total\">{} functions, \
         {} with a cyclomatic complexity above 10.</p><div class=\"scroll\"><table id=\"functions\">\
         <tr><th>function</th><th>file</th><th class=\"n\">cyclomatic</th><th class=\"n\">lines</th>\
         <th class=\"n wide\">parameters</th></tr>",
        thousands(f.count),
        thousands(f.cyclomatic_over_10),
    );
    let count = |n: Option<u64>| n.map(thousands).unwrap_or_default();
    for spot in &f.hotspots {
        let _ = write!(
            h,
            "<tr><td><code>{}</code></td><td><code>{}</code>:{}</td><td class=\"n\">{}</td>\
             <td class=\"n\">{}</td><td class=\"n wide\">{}</td></tr>",
            escape(&spot.name),
            escape(&spot.path),
            spot.line,
            thousands(spot.cyclomatic),
            count(spot.lines),
            count(spot.parameters),
        );
    }
    h.push_str("</table></div>");
}

/// The dependency inventory: counts by ecosystem and the packages, direct first.
fn dependencies(h: &mut String, s: &ProjectSummary) {
    let Some(d) = &s.dependencies else { return };
    let ecosystems: Vec<String> = d
        .by_ecosystem
        .iter()
        .map(|(k, n)| format!("{} {}", thousands(*n), escape(k)))
        .collect();
    let _ = write!(
        h,
        "<h2>Dependencies</h2><p class=\"meta\" id=\"dependencies-total\">{} packages, {} named by \
         the project itself ({}); the run's CycloneDX SBOM is beside this page.</p>\
         <div class=\"scroll\"><table id=\"dependencies\"><tr><th>package</th><th>version</th>\
         <th>direct</th><th class=\"wide\">scope</th><th class=\"wide\">found in</th></tr>",
        thousands(d.packages),
        thousands(d.direct),
        ecosystems.join(", "),
    );
    for e in d.list.iter().take(200) {
        let dep = &e.dependency;
        let direct = match dep.direct {
            Some(true) => "yes",
            Some(false) => "no",
            None => "",
        };
        let _ = write!(
            h,
            "<tr><td><code>{}</code></td><td>{}</td><td>{direct}</td><td class=\"wide\">{}</td>\
             <td class=\"wide\"><code>{}</code></td></tr>",
            escape(&dep.purl),
            escape(
                dep.version
                    .as_deref()
                    .or(dep.requirement.as_deref())
                    .unwrap_or("")
            ),
            escape(dep.scope.as_deref().unwrap_or("")),
            escape(e.files.first().map_or("", String::as_str)),
        );
    }
    h.push_str("</table></div>");
}

/// Where the tokens are: the folders with the most, with their share of the project's.
fn token_folders(h: &mut String, s: &ProjectSummary) {
    if s.token_folders.is_empty() {
        return;
    }
    let method = if s.tokens_by_encoding.contains_key("o200k_base") {
        "o200k_base"
    } else if s.tokens_by_encoding.contains_key("cl100k_base") {
        "cl100k_base"
    } else {
        "estimated"
    };
    let _ = write!(
        h,
        "<h2>Tokens by folder</h2><p class=\"meta\">Tokens ({method}) per folder, to two levels deep: \
         the folders with the most.</p><div class=\"scroll\"><table id=\"token-folders\">\
         <tr><th>folder</th><th class=\"n\">files</th><th class=\"n\">tokens</th><th class=\"n\">share</th></tr>"
    );
    for f in &s.token_folders {
        let _ = write!(
            h,
            "<tr><td><code>{}</code></td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            escape(&f.folder),
            thousands(f.files),
            thousands(f.tokens),
            percent(share(f.tokens, s.tokens)),
        );
    }
    h.push_str("</table></div>");
}

/// Hotspots by change: complexity × commits within the history's window.
fn churn(h: &mut String, s: &ProjectSummary) {
    let Some(c) = &s.churn else { return };
    let _ = write!(
        h,
        "<h2>Hotspots by change</h2><p class=\"meta\" id=\"churn-total\">{} of {} files changed \
         in the {} days before this commit ({} changes). Complex files that change often are \
         where defects gather.</p>",
        thousands(c.files_changed),
        thousands(c.files),
        c.window_days,
        thousands(c.file_changes)
    );
    if c.hotspots.is_empty() {
        return;
    }
    h.push_str(
        "<div class=\"scroll\"><table id=\"churn\"><tr><th>file</th><th class=\"n\">commits</th>\
         <th class=\"n\">cyclomatic</th><th class=\"n\">score</th></tr>",
    );
    for spot in &c.hotspots {
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            escape(&spot.path),
            thousands(u64::from(spot.commits)),
            thousands(spot.cyclomatic),
            thousands(spot.score)
        );
    }
    h.push_str("</table></div>");
}

/// Lines distinct across the project (scc's ULOC) and DRYness.
fn unique_lines(h: &mut String, s: &ProjectSummary) {
    let Some(u) = &s.unique_lines else { return };
    let _ = write!(
        h,
        "<h2>Unique lines</h2><p class=\"meta\" id=\"unique-lines\">{} of {} lines are distinct \
         across the project (estimated, ± {:.1} %): DRYness {:.1} % — the lower, the more lines \
         repeat.</p>",
        thousands(u.estimate),
        thousands(u.lines),
        u.relative_standard_error * 100.0,
        u.dryness * 100.0
    );
}

/// Identical files: how many copies, what they weigh, the largest groups.
fn duplicates(h: &mut String, s: &ProjectSummary) {
    let Some(d) = &s.duplicates else { return };
    let _ = write!(
        h,
        "<h2>Duplicate files</h2><p class=\"meta\" id=\"duplicates-total\">{} groups of identical files: \
         {} copies, {} that removing them would save.</p><div class=\"scroll\"><table id=\"duplicates\">\
         <tr><th class=\"n\">copies</th><th class=\"n\">size</th><th>files</th></tr>",
        thousands(d.groups),
        thousands(d.duplicate_files),
        human_bytes(d.duplicate_bytes)
    );
    for g in &d.largest {
        let paths: Vec<String> = g
            .paths
            .iter()
            .map(|p| format!("<code>{}</code>", escape(p)))
            .collect();
        let more = if g.files > g.paths.len() as u64 {
            format!(" and {} more", thousands(g.files - g.paths.len() as u64))
        } else {
            String::new()
        };
        let _ = write!(
            h,
            "<tr><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}{more}</td></tr>",
            thousands(g.files),
            human_bytes(g.size),
            paths.join(", ")
        );
    }
    h.push_str("</table></div>");
}

fn licenses(h: &mut String, s: &ProjectSummary) {
    h.push_str("<h2>Licenses</h2>");
    if s.licenses.is_empty() {
        h.push_str("<p id=\"licenses\">No license detected.</p>");
        return;
    }
    h.push_str(
        "<div class=\"scroll\"><table id=\"licenses\"><tr><th>SPDX</th><th class=\"n\">files</th><th>found in</th></tr>",
    );
    for l in &s.licenses {
        let examples: Vec<String> = l
            .examples
            .iter()
            .map(|p| format!("<code>{}</code>", escape(p)))
            .collect();
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
            escape(&l.spdx),
            thousands(l.files),
            examples.join(", ")
        );
    }
    h.push_str("</table></div>");
}

fn secrets(h: &mut String, s: &ProjectSummary) {
    h.push_str("<h2>Secrets</h2>");
    if s.secrets.is_empty() {
        h.push_str("<p id=\"secrets\" class=\"ok\">No secret found.</p>");
        return;
    }
    let total: u64 = s.secrets.values().sum();
    let _ = write!(
        h,
        "<p class=\"warn\">{} findings in {} files (rule and count only; see each file's \
         document for lines).</p><div class=\"scroll\"><table id=\"secrets\"><tr><th>rule</th>\
         <th class=\"n\">findings</th></tr>",
        thousands(total),
        thousands(s.files_with_secrets)
    );
    for (rule, n) in &s.secrets {
        let _ = write!(
            h,
            "<tr><td><code>{}</code></td><td class=\"n\">{}</td></tr>",
            escape(rule),
            thousands(*n)
        );
    }
    h.push_str("</table></div>");
}

/// One run's report as the index lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexRun {
    /// The report's file name in its project's folder: `<run id>.html`.
    pub file: String,
    pub run_id: String,
    /// When the run started, from its UUIDv7 run id (none for other ids).
    pub started_at: Option<OffsetDateTime>,
}

/// A project's folder of reports as the index lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexProject {
    /// The folder's name (the project name made key-safe).
    pub folder: String,
    /// Newest first.
    pub runs: Vec<IndexRun>,
    /// Whether the folder holds `latest.html`.
    pub latest: bool,
}

/// The index of report keys (relative to the reports' prefix: `<folder>/<run id>.html`
/// and `<folder>/latest.html`; anything else is ignored), by folder name, each
/// project's runs newest first.
pub fn index_projects<'a>(keys: impl IntoIterator<Item = &'a str>) -> Vec<IndexProject> {
    let mut by_folder: std::collections::BTreeMap<&str, IndexProject> = Default::default();
    for key in keys {
        let Some((folder, file)) = key.split_once('/') else {
            continue;
        };
        if folder.is_empty() || file.contains('/') {
            continue;
        }
        let Some(stem) = file.strip_suffix(".html") else {
            continue;
        };
        let entry = by_folder.entry(folder).or_insert_with(|| IndexProject {
            folder: folder.to_owned(),
            runs: Vec::new(),
            latest: false,
        });
        if stem == "latest" {
            entry.latest = true;
            continue;
        }
        let Ok(id) = uuid::Uuid::parse_str(stem) else {
            continue;
        };
        let started_at = id.get_timestamp().and_then(|ts| {
            let (secs, nanos) = ts.to_unix();
            OffsetDateTime::from_unix_timestamp(i64::try_from(secs).ok()?)
                .ok()
                .map(|t| t + time::Duration::nanoseconds(i64::from(nanos)))
        });
        entry.runs.push(IndexRun {
            file: file.to_owned(),
            run_id: id.to_string(),
            started_at,
        });
    }
    let mut projects: Vec<IndexProject> = by_folder.into_values().collect();
    for p in &mut projects {
        // UUIDv7 ids sort by time; ids without a time go last
        p.runs.sort_by(|a, b| {
            b.started_at
                .cmp(&a.started_at)
                .then_with(|| b.run_id.cmp(&a.run_id))
        });
    }
    projects
}

/// Renders the index page: every project (its latest report, how many runs, when the
/// newest started) and each project's newest runs.
pub fn index_html(projects: &[IndexProject]) -> String {
    let mut h = String::with_capacity(8 * 1024);
    page_start(&mut h, "Tributary reports");
    let runs: usize = projects.iter().map(|p| p.runs.len()).sum();
    let _ = write!(
        h,
        "<h1>Tributary reports</h1><p class=\"meta\" id=\"index-meta\">{} projects · {} runs</p>",
        thousands(projects.len() as u64),
        thousands(runs as u64)
    );
    if projects.is_empty() {
        h.push_str("<p>No report yet.</p></body></html>");
        return h;
    }
    h.push_str(
        "<div class=\"scroll\"><table id=\"projects\"><tr><th>project</th><th class=\"n\">runs</th>\
         <th class=\"n\">newest run</th></tr>",
    );
    for p in projects {
        let folder = escape(&p.folder);
        let newest = p
            .runs
            .first()
            .and_then(|r| r.started_at)
            .map(rfc3339)
            .unwrap_or_default();
        let name = if p.latest {
            format!("<a href=\"{folder}/latest.html\">{folder}</a>")
        } else {
            folder.clone()
        };
        let _ = write!(
            h,
            "<tr><td><code>{name}</code></td><td class=\"n\">{}</td><td class=\"n\">{newest}</td></tr>",
            thousands(p.runs.len() as u64)
        );
    }
    h.push_str("</table></div>");
    for p in projects {
        let folder = escape(&p.folder);
        let _ = write!(
            h,
            "<h2 id=\"p-{folder}\"><code>{folder}</code></h2><ul class=\"runs\">"
        );
        for r in p.runs.iter().take(INDEX_RUNS) {
            let when = r.started_at.map(rfc3339).unwrap_or_else(|| "—".into());
            let _ = write!(
                h,
                "<li><a href=\"{folder}/{}\">{when}</a> <code class=\"meta\">{}</code></li>",
                escape(&r.file),
                escape(&r.run_id)
            );
        }
        if p.runs.len() > INDEX_RUNS {
            let _ = write!(
                h,
                "<li class=\"meta\">and {} older runs</li>",
                thousands((p.runs.len() - INDEX_RUNS) as u64)
            );
        }
        h.push_str("</ul>");
    }
    h.push_str("</body></html>");
    h
}

/// Renders a portfolio's page: its totals, languages, copyleft projects, secrets by
/// project, the most complex files, and every project with when it was indexed, linked
/// to its report (`link(project)` gives the report's URL relative to the page).
pub fn portfolio_html(
    p: &tributary_events::intelligence::PortfolioSummary,
    link: &dyn Fn(&str, &uuid::Uuid) -> String,
) -> String {
    let mut h = String::with_capacity(16 * 1024);
    let title = match p.portfolio_id {
        Some(id) => format!("Portfolio run {id}"),
        None => "Every project, latest".to_owned(),
    };
    page_start(&mut h, &format!("{} — Tributary", escape(&title)));
    let _ = write!(
        h,
        "<h1>{}</h1><p class=\"meta\">generated {} · {} projects, {} complete</p>",
        escape(&title),
        rfc3339(p.generated_at),
        thousands(p.projects),
        thousands(p.complete_projects)
    );
    h.push_str("<div class=\"cards\">");
    for (id, label, value) in [
        ("projects", "projects", thousands(p.projects)),
        ("files", "files", thousands(p.totals.files)),
        ("code", "code lines", thousands(p.totals.code)),
        ("bytes", "size", human_bytes(p.totals.bytes)),
        (
            "copyleft",
            "copyleft projects",
            thousands(p.copyleft_projects.len() as u64),
        ),
        (
            "secrets",
            "secret findings",
            thousands(p.secrets.values().sum()),
        ),
        ("dead", "dead-lettered", thousands(p.dead_lettered)),
    ] {
        let _ = write!(
            h,
            "<div class=\"card\" id=\"card-{id}\"><b>{value}</b>{label}</div>"
        );
    }
    h.push_str("</div><h2>Projects</h2><div class=\"scroll\"><table id=\"projects\"><tr><th>project</th>\
        <th class=\"n\">files</th><th class=\"n wide\">commit</th><th class=\"n\">indexed</th><th>state</th></tr>");
    for f in &p.freshness {
        let _ = write!(
            h,
            "<tr><td><a href=\"{}\">{}</a></td><td class=\"n\">{}</td><td class=\"n wide\"><code>{}</code></td>\
             <td class=\"n\">{}</td><td>{}</td></tr>",
            escape(&link(&f.project, &f.run_id)),
            escape(&f.project),
            thousands(f.files),
            escape(f.commit.as_deref().map_or("", |c| &c[..c.len().min(12)])),
            rfc3339(f.generated_at),
            if f.complete {
                "<span class=\"ok\">complete</span>"
            } else {
                "<span class=\"warn\">incomplete</span>"
            }
        );
    }
    h.push_str("</table></div><h2>Languages</h2><div class=\"scroll\"><table id=\"languages\"><tr><th>language</th>\
        <th class=\"n\">projects</th><th class=\"n\">files</th><th class=\"n\">code</th><th class=\"n\">size</th></tr>");
    let mut langs: Vec<_> = p.languages.iter().collect();
    langs.sort_by(|a, b| b.1.totals.code.cmp(&a.1.totals.code).then(a.0.cmp(b.0)));
    for (name, l) in langs {
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            escape(name),
            thousands(l.projects),
            thousands(l.totals.files),
            thousands(l.totals.code),
            human_bytes(l.totals.bytes)
        );
    }
    h.push_str("</table></div><h2>Licenses</h2><div class=\"scroll\"><table id=\"licenses\"><tr><th>SPDX</th>\
        <th class=\"n\">files</th><th>projects</th><th>copyleft</th></tr>");
    for (spdx, l) in &p.licenses {
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td></tr>",
            escape(spdx),
            thousands(l.files),
            escape(&l.projects.join(", ")),
            if l.copyleft {
                "<span class=\"warn\">copyleft</span>"
            } else {
                ""
            }
        );
    }
    h.push_str("</table></div><h2>Secrets</h2>");
    if p.secrets_by_project.is_empty() {
        h.push_str("<p id=\"secrets\" class=\"ok\">No secret found.</p>");
    } else {
        h.push_str("<div class=\"scroll\"><table id=\"secrets\"><tr><th>project</th><th class=\"n\">findings</th></tr>");
        for (project, n) in &p.secrets_by_project {
            let _ = write!(
                h,
                "<tr><td>{}</td><td class=\"n\">{}</td></tr>",
                escape(project),
                thousands(*n)
            );
        }
        h.push_str("</table></div>");
    }
    h.push_str("<h2>Complexity hotspots</h2><div class=\"scroll\"><table id=\"hotspots\"><tr><th>project</th>\
        <th>file</th><th class=\"n\">cyclomatic</th><th class=\"n wide\">code lines</th></tr>");
    for spot in &p.hotspots {
        let _ = write!(
            h,
            "<tr><td>{}</td><td><code>{}</code></td><td class=\"n\">{}</td><td class=\"n wide\">{}</td></tr>",
            escape(&spot.project),
            escape(&spot.hotspot.path),
            thousands(spot.hotspot.cyclomatic),
            thousands(spot.hotspot.code)
        );
    }
    h.push_str("</table></div>");
    if !p.function_hotspots.is_empty() {
        h.push_str(
            "<h2>Most complex functions</h2><div class=\"scroll\"><table id=\"function-hotspots\">\
             <tr><th>project</th><th>function</th><th>file</th><th class=\"n\">cyclomatic</th>\
             <th class=\"n wide\">lines</th></tr>",
        );
        for f in &p.function_hotspots {
            let _ = write!(
                h,
                "<tr><td>{}</td><td><code>{}</code></td><td><code>{}</code>:{}</td><td class=\"n\">{}</td>\
                 <td class=\"n wide\">{}</td></tr>",
                escape(&f.project),
                escape(&f.function.name),
                escape(&f.function.path),
                f.function.line,
                thousands(f.function.cyclomatic),
                f.function.lines.map(thousands).unwrap_or_default(),
            );
        }
        h.push_str("</table></div>");
    }
    if let Some(d) = &p.dependencies {
        let _ = write!(
            h,
            "<h2>Packages</h2><p class=\"meta\" id=\"packages-total\">{} packages across the \
             projects' inventories.</p><div class=\"scroll\"><table id=\"versions-in-use\"><tr>\
             <th>package in use at several versions</th><th>versions</th><th class=\"n\">projects</th></tr>",
            thousands(d.packages)
        );
        for v in &d.versions_in_use {
            let _ = write!(
                h,
                "<tr><td><code>{}</code></td><td>{}</td><td class=\"n\">{}</td></tr>",
                escape(&v.package),
                escape(&v.versions.join(", ")),
                thousands(v.projects),
            );
        }
        h.push_str("</table></div>");
    }
    h.push_str("</body></html>");
    h
}

#[cfg(test)]
mod tests;
