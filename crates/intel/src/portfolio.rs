//! The portfolio rollup: project summaries folded into one view across projects —
//! languages, licenses (copyleft flagged, by SPDX's own list), secrets by rule and by
//! project, the most complex files, generated and vendored shares, and when each project
//! was last indexed. Pure, like the project rollup: the caller gathers the summaries.

use std::collections::BTreeMap;

use time::OffsetDateTime;
use tributary_events::intelligence::{
    DOC_TYPE_PORTFOLIO_SUMMARY, Freshness, INTELLIGENCE_SCHEMA_VERSION, PackageUse,
    PackageVersions, PortfolioDependencies, PortfolioFunctionHotspot, PortfolioHotspot,
    PortfolioLanguage, PortfolioLicense, PortfolioSummary, ProjectSummary, Shares,
};
use uuid::Uuid;

/// Hotspots (files, and functions) listed per portfolio.
pub const HOTSPOTS: usize = 20;
/// Packages listed per portfolio list (most used, versions in use).
pub const PACKAGES: usize = 50;

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
        function_hotspots: Vec::new(),
        dependencies: None,
    };
    // purl → projects using it; unversioned purl → versions
    let mut uses: BTreeMap<&str, u64> = BTreeMap::new();
    let mut versions: BTreeMap<&str, (std::collections::BTreeSet<&str>, u64)> = BTreeMap::new();
    let mut inventories = false;
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
        if let Some(f) = &s.functions {
            p.function_hotspots
                .extend(f.hotspots.iter().map(|h| PortfolioFunctionHotspot {
                    project: s.project.clone(),
                    function: h.clone(),
                }));
        }
        if let Some(d) = &s.dependencies {
            inventories = true;
            let mut seen = std::collections::BTreeSet::new();
            for e in &d.list {
                let purl = e.dependency.purl.as_str();
                *uses.entry(purl).or_default() += 1;
                if let Some(v) = e.dependency.version.as_deref() {
                    let package = crate::deps::unversioned(purl);
                    let entry = versions.entry(package).or_default();
                    entry.0.insert(v);
                    if seen.insert(package) {
                        entry.1 += 1;
                    }
                }
            }
        }
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
            crate::rollup::four_places(part / whole)
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
    p.function_hotspots.sort_by(|a, b| {
        b.function
            .cyclomatic
            .cmp(&a.function.cyclomatic)
            .then_with(|| b.function.lines.cmp(&a.function.lines))
            .then_with(|| a.project.cmp(&b.project))
            .then_with(|| a.function.path.cmp(&b.function.path))
            .then_with(|| a.function.line.cmp(&b.function.line))
    });
    p.function_hotspots.truncate(HOTSPOTS);
    if inventories {
        let by_ecosystem = crate::deps::by_ecosystem(uses.keys().copied());
        let mut most_used: Vec<PackageUse> = uses
            .iter()
            .map(|(purl, n)| PackageUse {
                purl: (*purl).to_owned(),
                projects: *n,
            })
            .collect();
        // most projects first; by purl among equals (the map's order, kept by a stable sort)
        most_used.sort_by_key(|u| std::cmp::Reverse(u.projects));
        most_used.truncate(PACKAGES);
        let mut versions_in_use: Vec<PackageVersions> = versions
            .into_iter()
            .filter(|(_, (v, _))| v.len() > 1)
            .map(|(package, (v, projects))| PackageVersions {
                package: package.to_owned(),
                versions: v.into_iter().take(20).map(str::to_owned).collect(),
                projects,
            })
            .collect();
        versions_in_use.sort_by_key(|v| std::cmp::Reverse(v.versions.len()));
        versions_in_use.truncate(PACKAGES);
        p.dependencies = Some(PortfolioDependencies {
            packages: uses.len() as u64,
            by_ecosystem,
            most_used,
            versions_in_use,
        });
    }
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
