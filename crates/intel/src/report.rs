//! The project report: one self-contained HTML page (inline CSS and SVG, no external
//! resource, no script needed to read it) from a project summary. Every string that came
//! from a repository is escaped. A small inline script only records, on the page, that
//! the chart was laid out (tests read it back from a real browser).

use std::fmt::Write as _;

use tributary_events::intelligence::ProjectSummary;

use crate::language::linguist;

/// Languages drawn in the chart; the rest are summed as "other".
const CHART_LANGUAGES: usize = 12;

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

fn percent(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}

const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:980px;color:#1f2328;padding:0 1rem}\
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #d0d7de;padding-bottom:.3rem}\
.meta{color:#59636e}.cards{display:flex;flex-wrap:wrap;gap:.6rem;margin-top:1rem}\
.card{border:1px solid #d0d7de;border-radius:6px;padding:.5rem .8rem;min-width:7.5rem}\
.card b{display:block;font-size:1.25rem}table{border-collapse:collapse;width:100%}\
th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #eaeef2}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}\
code{font-size:.92em;word-break:break-all}.warn{color:#9a3412}.ok{color:#1a7f37}";

/// Renders the report page.
pub fn html(s: &ProjectSummary) -> String {
    let mut h = String::with_capacity(16 * 1024);
    let project = escape(&s.project);
    let _ = write!(
        h,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{project} — Tributary report</title><style>{STYLE}</style></head><body>\
         <h1 id=\"project\">{project}</h1><p class=\"meta\">run <code>{run}</code>{commit} · \
         generated {at} · {state}</p>",
        run = s.run_id,
        commit = s
            .commit
            .as_deref()
            .map(|c| format!(" · commit <code>{}</code>", escape(c)))
            .unwrap_or_default(),
        at = s
            .generated_at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
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
    h.push_str("<div class=\"cards\">");
    for (id, label, value) in [
        ("files", "files", thousands(s.totals.files)),
        ("code", "code lines", thousands(s.totals.code)),
        ("comment", "comment lines", thousands(s.totals.comment)),
        ("blank", "blank lines", thousands(s.totals.blank)),
        ("bytes", "bytes", thousands(s.totals.bytes)),
        ("cyclomatic", "cyclomatic", thousands(s.cyclomatic)),
        ("symbols", "symbols", thousands(s.symbols)),
        ("tokens", "tokens (est.)", thousands(s.tokens)),
        ("dead", "dead-lettered", thousands(s.dead_lettered)),
        (
            "skipped",
            "skipped (publisher)",
            thousands(s.skipped_by_reason.values().sum()),
        ),
        (
            "failed",
            "failed (publisher)",
            thousands(s.publisher_failed),
        ),
        ("deleted", "deleted (this run)", thousands(s.deleted_files)),
    ] {
        let _ = write!(
            h,
            "<div class=\"card\" id=\"card-{id}\"><b>{value}</b>{label}</div>"
        );
    }
    h.push_str("</div>");
    not_indexed(&mut h, s);
    languages(&mut h, s);
    hotspots(&mut h, s);
    licenses(&mut h, s);
    secrets(&mut h, s);
    let _ = write!(
        h,
        "<h2>Generated and vendored</h2><table id=\"shares\"><tr><th></th><th class=\"n\">files</th>\
         <th class=\"n\">share of files</th><th class=\"n\">share of bytes</th></tr>\
         <tr><td>generated</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>\
         <tr><td>vendored</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>\
         <tr><td>tests</td><td class=\"n\">{}</td><td></td><td></td></tr>\
         <tr><td>documentation</td><td class=\"n\">{}</td><td></td><td></td></tr>\
         <tr><td>binary</td><td class=\"n\">{}</td><td></td><td></td></tr></table>",
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
    h.push_str(
        "<script>addEventListener('load',function(){var c=document.getElementById('chart');\
         var w=c?Math.round(c.getBoundingClientRect().width):0;\
         document.body.setAttribute('data-chart-width',String(w));});</script></body></html>",
    );
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
    h.push_str("<h2>Not indexed</h2><table id=\"not-indexed\"><tr><th>why</th><th class=\"n\">files</th></tr>");
    for (why, n) in rows {
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=\"n\">{}</td></tr>",
            escape(&why),
            thousands(n)
        );
    }
    h.push_str("</table>");
}

/// What the run cost, by component and kind, under the named price table.
fn cost(h: &mut String, s: &ProjectSummary) {
    let Some(c) = &s.cost else { return };
    let dollars = |v: f64| format!("${v:.4}");
    let _ = write!(
        h,
        "<h2>Cost</h2><p class=\"meta\" id=\"cost-total\">estimated {} under price table \
         <code>{}</code></p><table id=\"cost\"><tr><th>component</th><th class=\"n\">storage</th>\
         <th class=\"n\">requests</th><th class=\"n\">transfer</th><th class=\"n\">Kafka</th>\
         <th class=\"n\">compute</th><th class=\"n\">total</th></tr>",
        dollars(c.total_usd),
        escape(&c.price_table)
    );
    for (component, part) in &c.components {
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            component.as_str(),
            dollars(part.storage_usd),
            dollars(part.requests_usd),
            dollars(part.transfer_usd),
            dollars(part.kafka_usd),
            dollars(part.compute_usd),
            dollars(part.total_usd),
        );
    }
    h.push_str("</table>");
}

fn languages(h: &mut String, s: &ProjectSummary) {
    let mut langs: Vec<(&String, &tributary_events::intelligence::LanguageTotals)> =
        s.languages.iter().collect();
    langs.sort_by(|a, b| {
        b.1.code
            .cmp(&a.1.code)
            .then(b.1.files.cmp(&a.1.files))
            .then(a.0.cmp(b.0))
    });
    h.push_str("<h2>Languages</h2>");
    // the chart: code lines per language, one bar each
    let mut bars: Vec<(String, u64, String)> = langs
        .iter()
        .take(CHART_LANGUAGES)
        .map(|(name, t)| {
            let color = linguist().color(name).unwrap_or("#8c959f").to_owned();
            ((*name).clone(), t.code, color)
        })
        .collect();
    let other: u64 = langs
        .iter()
        .skip(CHART_LANGUAGES)
        .map(|(_, t)| t.code)
        .sum();
    if other > 0 {
        bars.push(("other".into(), other, "#d0d7de".into()));
    }
    let max = bars.iter().map(|b| b.1).max().unwrap_or(0).max(1);
    let row = 24;
    let height = row * bars.len().max(1) + 8;
    let _ = write!(
        h,
        "<svg id=\"chart\" role=\"img\" aria-label=\"code lines by language\" width=\"100%\" \
         viewBox=\"0 0 900 {height}\" xmlns=\"http://www.w3.org/2000/svg\">"
    );
    for (i, (name, code, color)) in bars.iter().enumerate() {
        let y = i * row + 4;
        let w = ((*code as f64 / max as f64) * 560.0).round().max(1.0);
        let name = escape(name);
        let color = escape(color);
        let _ = write!(
            h,
            "<g class=\"bar\"><title>{name}: {code} code lines</title>\
             <text x=\"0\" y=\"{ty}\" font-size=\"13\">{name}</text>\
             <rect x=\"170\" y=\"{y}\" width=\"{w}\" height=\"18\" rx=\"3\" fill=\"{color}\"></rect>\
             <text x=\"{tx}\" y=\"{ty}\" font-size=\"12\">{codes}</text></g>",
            ty = y + 14,
            tx = 176.0 + w,
            codes = thousands(*code),
        );
    }
    h.push_str("</svg>");
    h.push_str(
        "<table id=\"languages\"><tr><th>language</th><th class=\"n\">files</th><th class=\"n\">code</th>\
         <th class=\"n\">comment</th><th class=\"n\">blank</th><th class=\"n\">bytes</th></tr>",
    );
    for (name, t) in &langs {
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            escape(name),
            thousands(t.files),
            thousands(t.code),
            thousands(t.comment),
            thousands(t.blank),
            thousands(t.bytes)
        );
    }
    h.push_str("</table>");
}

fn hotspots(h: &mut String, s: &ProjectSummary) {
    h.push_str(
        "<h2>Complexity hotspots</h2><table id=\"hotspots\"><tr><th>file</th><th>language</th>\
         <th class=\"n\">cyclomatic</th><th>most complex function</th><th class=\"n\">code lines</th></tr>",
    );
    for spot in &s.hotspots {
        let worst = spot
            .worst_function
            .as_ref()
            .map(|f| {
                format!(
                    "<code>{}</code> (line {}, {})",
                    escape(&f.name),
                    f.line,
                    f.cyclomatic
                )
            })
            .unwrap_or_default();
        let _ = write!(
            h,
            "<tr><td><code>{}</code></td><td>{}</td><td class=\"n\">{}</td><td>{worst}</td>\
             <td class=\"n\">{}</td></tr>",
            escape(&spot.path),
            escape(spot.language.as_deref().unwrap_or("")),
            thousands(spot.cyclomatic),
            thousands(spot.code),
        );
    }
    h.push_str("</table>");
}

fn licenses(h: &mut String, s: &ProjectSummary) {
    h.push_str("<h2>Licenses</h2>");
    if s.licenses.is_empty() {
        h.push_str("<p id=\"licenses\">No license detected.</p>");
        return;
    }
    h.push_str(
        "<table id=\"licenses\"><tr><th>SPDX</th><th class=\"n\">files</th><th>found in</th></tr>",
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
    h.push_str("</table>");
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
         document for lines).</p><table id=\"secrets\"><tr><th>rule</th><th class=\"n\">findings</th></tr>",
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
    h.push_str("</table>");
}
