//! The project rollup: file documents of one run folded into its summary. Pure: the
//! caller gathers the documents (the consumer reads them back from the output topic).

use std::collections::{BTreeMap, HashMap};

use time::OffsetDateTime;
use tributary_events::intelligence::{
    DOC_TYPE_PROJECT_SUMMARY, FileIntelligence, FlagCounts, Hotspot, INTELLIGENCE_SCHEMA_VERSION,
    LanguageTotals, LicenseCount, ProjectSummary, Shares,
};
use tributary_events::v2::IndexRunCompleted;

/// Hotspots listed per summary.
pub const HOTSPOTS: usize = 10;
/// Example paths kept per license.
const LICENSE_EXAMPLES: usize = 3;

/// Folds a run's documents into its summary. `dead` is the number of its files that
/// were dead-lettered; `complete` whether every announced file is accounted for.
pub fn summarise<'a>(
    run: &IndexRunCompleted,
    docs: impl IntoIterator<Item = &'a FileIntelligence>,
    dead: u64,
    complete: bool,
    generated_at: OffsetDateTime,
) -> ProjectSummary {
    let mut totals = LanguageTotals::default();
    let mut languages: BTreeMap<String, LanguageTotals> = BTreeMap::new();
    let mut flags = FlagCounts::default();
    let mut hot: Vec<Hotspot> = Vec::new();
    let mut licenses: HashMap<String, LicenseCount> = HashMap::new();
    let mut secrets: BTreeMap<String, u64> = BTreeMap::new();
    let (mut cyclomatic, mut symbols, mut tokens, mut files_with_secrets) = (0, 0, 0, 0);
    let (mut generated_bytes, mut vendored_bytes) = (0u64, 0u64);
    for d in docs {
        let lang = languages
            .entry(d.language.clone().unwrap_or_else(|| "unknown".into()))
            .or_default();
        for t in [&mut totals, lang] {
            t.files += 1;
            t.bytes += d.size;
            t.code += d.lines.code;
            t.comment += d.lines.comment;
            t.blank += d.lines.blank;
        }
        let f = d.flags;
        flags.binary += u64::from(f.binary);
        flags.generated += u64::from(f.generated);
        flags.vendored += u64::from(f.vendored);
        flags.minified += u64::from(f.minified);
        flags.documentation += u64::from(f.documentation);
        flags.test += u64::from(f.test);
        generated_bytes += if f.generated { d.size } else { 0 };
        vendored_bytes += if f.vendored { d.size } else { 0 };
        let file_cc = d.complexity.as_ref().map_or(0, |c| c.cyclomatic);
        cyclomatic += file_cc;
        symbols += d.symbols.len() as u64;
        tokens += d.tokens.as_ref().map_or(0, |t| t.count);
        if !d.secrets.is_empty() {
            files_with_secrets += 1;
        }
        for s in &d.secrets {
            *secrets.entry(s.rule_id.clone()).or_default() += 1;
        }
        if let Some(l) = &d.license {
            let entry = licenses
                .entry(l.spdx.clone())
                .or_insert_with(|| LicenseCount {
                    spdx: l.spdx.clone(),
                    files: 0,
                    examples: Vec::new(),
                });
            entry.files += 1;
            let is_text = l.method.as_deref() == Some("license_text");
            if is_text {
                entry.examples.insert(0, d.path.to_string());
            } else {
                entry.examples.push(d.path.to_string());
            }
            entry.examples.truncate(LICENSE_EXAMPLES);
        }
        // generated, vendored and test code is not where the project's risk lives
        if !f.generated && !f.vendored && !f.test && d.lines.code > 0 {
            hot.push(Hotspot {
                path: d.path.to_string(),
                code: d.lines.code,
                cyclomatic: file_cc,
                worst_function: d.complexity.as_ref().and_then(|c| {
                    c.functions
                        .iter()
                        .max_by(|a, b| a.cyclomatic.cmp(&b.cyclomatic).then(b.line.cmp(&a.line)))
                        .cloned()
                }),
                language: d.language.clone(),
            });
        }
    }
    hot.sort_by(|a, b| {
        b.cyclomatic
            .cmp(&a.cyclomatic)
            .then_with(|| b.code.cmp(&a.code))
            .then_with(|| a.path.cmp(&b.path))
    });
    hot.truncate(HOTSPOTS);
    let mut licenses: Vec<LicenseCount> = licenses.into_values().collect();
    licenses.sort_by(|a, b| b.files.cmp(&a.files).then_with(|| a.spdx.cmp(&b.spdx)));
    let share = |part: u64, whole: u64| {
        if whole == 0 {
            0.0
        } else {
            ((part as f64 / whole as f64) * 10_000.0).round() / 10_000.0
        }
    };
    let shares = Shares {
        generated_files: share(flags.generated, totals.files),
        generated_bytes: share(generated_bytes, totals.bytes),
        vendored_files: share(flags.vendored, totals.files),
        vendored_bytes: share(vendored_bytes, totals.bytes),
    };
    ProjectSummary {
        schema_version: INTELLIGENCE_SCHEMA_VERSION.to_owned(),
        doc_type: DOC_TYPE_PROJECT_SUMMARY.to_owned(),
        project: run.project.clone(),
        run_id: run.run_id,
        commit: run.commit.clone(),
        complete,
        expected_files: run.files.total(),
        deleted_files: run.deleted,
        totals,
        languages,
        hotspots: hot,
        flags,
        cyclomatic,
        symbols,
        tokens,
        licenses,
        secrets,
        files_with_secrets,
        shares,
        dead_lettered: dead,
        generated_at,
    }
}

#[cfg(test)]
mod tests;
