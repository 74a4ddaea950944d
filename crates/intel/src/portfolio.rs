//! The portfolio rollup: project summaries folded into one view across projects —
//! languages, licenses (copyleft flagged, by SPDX's own list), secrets by rule and by
//! project, the most complex files, generated and vendored shares, and when each project
//! was last indexed. Pure, like the project rollup: the caller gathers the summaries.

use std::collections::BTreeMap;

use time::OffsetDateTime;
use tributary_events::intelligence::{
    DOC_TYPE_PORTFOLIO_SUMMARY, Freshness, INTELLIGENCE_SCHEMA_VERSION, PortfolioHotspot,
    PortfolioLanguage, PortfolioLicense, PortfolioSummary, ProjectSummary, Shares,
};
use uuid::Uuid;

/// Hotspots listed per portfolio.
pub const HOTSPOTS: usize = 20;

/// Whether an SPDX expression names a copyleft license (any of its ids, by SPDX's list:
/// GPL, AGPL, LGPL, MPL, EPL, EUPL, CDDL ...).
pub fn is_copyleft(spdx: &str) -> bool {
    spdx.split(|c: char| c.is_whitespace() || c == '(' || c == ')')
        .filter(|id| !matches!(*id, "" | "AND" | "OR" | "WITH"))
        .any(|id| {
            let id = id.trim_end_matches('+');
            spdx::license_id(id).is_some_and(|l| l.is_copyleft())
        })
}

/// Folds project summaries (one per project: the caller passes each project once) into
/// a portfolio summary.
pub fn fold(
    portfolio_id: Option<Uuid>,
    summaries: &[ProjectSummary],
    generated_at: OffsetDateTime,
) -> PortfolioSummary {
    let mut p = PortfolioSummary {
        schema_version: INTELLIGENCE_SCHEMA_VERSION.to_owned(),
        doc_type: DOC_TYPE_PORTFOLIO_SUMMARY.to_owned(),
        portfolio_id,
        generated_at,
        projects: summaries.len() as u64,
        complete_projects: summaries.iter().filter(|s| s.complete).count() as u64,
        totals: Default::default(),
        languages: BTreeMap::new(),
        licenses: BTreeMap::new(),
        copyleft_projects: Vec::new(),
        secrets: BTreeMap::new(),
        secrets_by_project: BTreeMap::new(),
        hotspots: Vec::new(),
        flags: Default::default(),
        shares: Shares::default(),
        dead_lettered: 0,
        freshness: Vec::new(),
    };
    let (mut generated_bytes, mut vendored_bytes) = (0f64, 0f64);
    for s in summaries {
        p.totals += s.totals;
        for (name, lt) in &s.languages {
            let l: &mut PortfolioLanguage = p.languages.entry(name.clone()).or_default();
            l.totals += *lt;
            l.projects += 1;
        }
        let mut copyleft = false;
        for lic in &s.licenses {
            let entry: &mut PortfolioLicense = p.licenses.entry(lic.spdx.clone()).or_default();
            entry.files += lic.files;
            entry.projects.push(s.project.clone());
            entry.copyleft = is_copyleft(&lic.spdx);
            copyleft |= entry.copyleft;
        }
        if copyleft {
            p.copyleft_projects.push(s.project.clone());
        }
        let mut found = 0;
        for (rule, n) in &s.secrets {
            *p.secrets.entry(rule.clone()).or_default() += n;
            found += n;
        }
        if found > 0 {
            p.secrets_by_project.insert(s.project.clone(), found);
        }
        p.hotspots
            .extend(s.hotspots.iter().map(|h| PortfolioHotspot {
                project: s.project.clone(),
                hotspot: h.clone(),
            }));
        p.flags += s.flags;
        // a project's byte shares back to bytes, to weigh them across projects
        generated_bytes += s.shares.generated_bytes * s.totals.bytes as f64;
        vendored_bytes += s.shares.vendored_bytes * s.totals.bytes as f64;
        p.dead_lettered += s.dead_lettered;
        p.freshness.push(Freshness {
            project: s.project.clone(),
            run_id: s.run_id,
            commit: s.commit.clone(),
            generated_at: s.generated_at,
            files: s.totals.files,
            complete: s.complete,
        });
    }
    let share = |part: f64, whole: f64| {
        if whole <= 0.0 {
            0.0
        } else {
            ((part / whole) * 10_000.0).round() / 10_000.0
        }
    };
    let (files, bytes) = (p.totals.files as f64, p.totals.bytes as f64);
    p.shares = Shares {
        generated_files: share(p.flags.generated as f64, files),
        generated_bytes: share(generated_bytes, bytes),
        vendored_files: share(p.flags.vendored as f64, files),
        vendored_bytes: share(vendored_bytes, bytes),
    };
    p.hotspots.sort_by(|a, b| {
        b.hotspot
            .cyclomatic
            .cmp(&a.hotspot.cyclomatic)
            .then_with(|| b.hotspot.code.cmp(&a.hotspot.code))
            .then_with(|| a.project.cmp(&b.project))
            .then_with(|| a.hotspot.path.cmp(&b.hotspot.path))
    });
    p.hotspots.truncate(HOTSPOTS);
    p.copyleft_projects.sort();
    for l in p.licenses.values_mut() {
        l.projects.sort();
    }
    // the stalest first: what most needs indexing again
    p.freshness.sort_by(|a, b| {
        a.generated_at
            .cmp(&b.generated_at)
            .then(a.project.cmp(&b.project))
    });
    p
}

#[cfg(test)]
mod tests;
