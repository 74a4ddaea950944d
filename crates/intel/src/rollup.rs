//! The project rollup: file documents of one run folded into its summary. Pure: the
//! caller gathers the documents (the consumer reads them back from the output topic).

use std::collections::{BTreeMap, HashMap};

use time::OffsetDateTime;
use tributary_events::intelligence::{
    Churn, ChurnHotspot, DOC_TYPE_PROJECT_SUMMARY, Dependencies, Dependency, DuplicateGroup,
    FileIntelligence, FlagCounts, FolderTokens, FunctionHotspot, Functions, Hotspot,
    INTELLIGENCE_SCHEMA_VERSION, InventoryEntry, LanguageTotals, LicenseCount, ProjectSummary,
    ProjectUniqueLines, SecretLocation, Shares,
};
use tributary_events::v2::IndexRunCompleted;

/// Hotspots listed per summary.
pub const HOTSPOTS: usize = 10;
/// Function hotspots listed per summary.
pub const FUNCTION_HOTSPOTS: usize = 20;
/// McCabe's threshold: a function above it is counted as complex.
const COMPLEX_FUNCTION: u64 = 10;
/// Packages listed per summary (all are counted).
pub const INVENTORY_LISTED: usize = 3_000;
/// Manifest and lockfile entries a fold keeps.
const INVENTORY_KEPT: usize = 50_000;
/// Files named per package.
const INVENTORY_FILES: usize = 3;
/// Secret findings whose places a summary lists (all are counted).
pub const SECRET_FINDINGS: usize = 1_000;
/// Token folders listed per summary.
pub const TOKEN_FOLDERS: usize = 50;
/// Distinct folders a fold tallies; later ones are summed as one.
const FOLDERS_TALLIED: usize = 2_000;
/// The name that sum goes by.
pub const OTHER_FOLDERS: &str = "(other folders)";
/// Example paths kept per license.
const LICENSE_EXAMPLES: usize = 3;
/// Duplicate groups listed per summary.
pub const DUPLICATE_GROUPS: usize = 20;
/// Paths kept per duplicate group.
const DUPLICATE_PATHS: usize = 10;

/// Folds a run's documents into its summary. `dead` is the number of its files that
/// were dead-lettered; `complete` whether every announced file is accounted for.
pub fn summarise<'a>(
    run: &IndexRunCompleted,
    docs: impl IntoIterator<Item = &'a FileIntelligence>,
    dead: u64,
    complete: bool,
    generated_at: OffsetDateTime,
) -> ProjectSummary {
    let mut rollup = Rollup::default();
    for d in docs {
        rollup.add(d);
    }
    rollup.finish(run, dead, complete, generated_at)
}

/// A summary being folded one document at a time: what it holds does not grow with the
/// number of files (the languages, licenses and rules seen, the current hotspots), so
/// a run of any size is summarised without keeping its documents.
#[derive(Debug, Default)]
pub struct Rollup {
    totals: LanguageTotals,
    languages: BTreeMap<String, LanguageTotals>,
    flags: FlagCounts,
    hot: Vec<Hotspot>,
    functions: u64,
    complex_functions: u64,
    hot_functions: Vec<FunctionHotspot>,
    licenses: HashMap<String, LicenseCount>,
    secrets: BTreeMap<String, u64>,
    cyclomatic: u64,
    symbols: u64,
    tokens: u64,
    tokens_by_encoding: BTreeMap<String, u64>,
    /// folder → (files, tokens), bounded by `FOLDERS_TALLIED`
    folders: HashMap<String, (u64, u64)>,
    /// every manifest and lockfile entry: (its file's folder, from a lockfile, the
    /// entry, its file), bounded by `INVENTORY_KEPT`
    dependencies: Vec<(String, bool, Dependency, String)>,
    dependencies_left_out: u64,
    files_with_secrets: u64,
    secrets_acknowledged: u64,
    /// the first `SECRET_FINDINGS` findings' places
    secret_findings: Vec<SecretLocation>,
    generated_bytes: u64,
    vendored_bytes: u64,
    /// Every non-empty file's checksum, with its size, count and first paths: the one
    /// part of the fold that grows with the files (about 80 bytes a distinct file).
    by_content: HashMap<tributary_events::Sha256Hex, Copies>,
    /// The union of the documents' unique-line samples (bounded: `uniq::MAX_SAMPLE`).
    unique_lines: crate::uniq::ProjectLines,
    /// Files with history, counted, with the current churn hotspots (bounded like `hot`).
    churn: Option<Churn>,
}

#[derive(Debug)]
struct Copies {
    size: u64,
    files: u64,
    paths: Vec<String>,
}

/// A share or rate as summaries give it: four decimal places.
pub(crate) fn four_places(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// Hotspot order: the most complex first, then the largest, then by path.
fn hotter(a: &Hotspot, b: &Hotspot) -> std::cmp::Ordering {
    b.cyclomatic
        .cmp(&a.cyclomatic)
        .then_with(|| b.code.cmp(&a.code))
        .then_with(|| a.path.cmp(&b.path))
}

/// Churn hotspot order: the highest score first, then the most changed, then by path.
fn hotter_churn(a: &ChurnHotspot, b: &ChurnHotspot) -> std::cmp::Ordering {
    b.score
        .cmp(&a.score)
        .then_with(|| b.commits.cmp(&a.commits))
        .then_with(|| a.path.cmp(&b.path))
}

/// Function hotspot order: the most complex first, then the longest, then by place.
fn hotter_function(a: &FunctionHotspot, b: &FunctionHotspot) -> std::cmp::Ordering {
    b.cyclomatic
        .cmp(&a.cyclomatic)
        .then_with(|| b.lines.cmp(&a.lines))
        .then_with(|| a.path.cmp(&b.path))
        .then_with(|| a.line.cmp(&b.line))
}

impl Rollup {
    /// Folds in one file's document (each file once: the caller drops repeats).
    pub fn add(&mut self, d: &FileIntelligence) {
        let lang = self
            .languages
            .entry(d.language.clone().unwrap_or_else(|| "unknown".into()))
            .or_default();
        for t in [&mut self.totals, lang] {
            t.files += 1;
            t.bytes += d.size;
            t.code += d.lines.code;
            t.comment += d.lines.comment;
            t.blank += d.lines.blank;
        }
        let f = d.flags;
        let flags = &mut self.flags;
        flags.binary += u64::from(f.binary);
        flags.generated += u64::from(f.generated);
        flags.vendored += u64::from(f.vendored);
        flags.minified += u64::from(f.minified);
        flags.documentation += u64::from(f.documentation);
        flags.test += u64::from(f.test);
        self.generated_bytes += if f.generated { d.size } else { 0 };
        self.vendored_bytes += if f.vendored { d.size } else { 0 };
        if d.size > 0 {
            let copies = self.by_content.entry(d.checksum).or_insert(Copies {
                size: d.size,
                files: 0,
                paths: Vec::new(),
            });
            copies.files += 1;
            if copies.paths.len() < DUPLICATE_PATHS {
                copies.paths.push(d.path.to_string());
            }
        }
        if let Some(u) = &d.unique_lines {
            self.unique_lines.add_document(d.lines.total(), u);
        }
        let file_cc = d.complexity.as_ref().map_or(0, |c| c.cyclomatic);
        self.cyclomatic += file_cc;
        self.symbols += d.symbols.len() as u64;
        if let Some(t) = &d.tokens {
            self.tokens += t.count;
            for (name, n) in [("o200k_base", t.o200k_base), ("cl100k_base", t.cl100k_base)] {
                if let Some(n) = n {
                    *self.tokens_by_encoding.entry(name.to_owned()).or_default() += n;
                }
            }
            let path = d.path.as_str();
            let mut dirs = path.match_indices('/').map(|(i, _)| &path[..i]).take(2);
            let (first, second) = (dirs.next(), dirs.next());
            for folder in [Some(first.unwrap_or(".")), second].into_iter().flatten() {
                let tally =
                    if self.folders.contains_key(folder) || self.folders.len() < FOLDERS_TALLIED {
                        self.folders.entry(folder.to_owned()).or_default()
                    } else {
                        self.folders.entry(OTHER_FOLDERS.to_owned()).or_default()
                    };
                tally.0 += 1;
                tally.1 += t.count;
            }
        }
        if d.secrets.iter().any(|s| !s.acknowledged) {
            self.files_with_secrets += 1;
        }
        for s in &d.secrets {
            if s.acknowledged {
                self.secrets_acknowledged += 1;
                continue;
            }
            *self.secrets.entry(s.rule_id.clone()).or_default() += 1;
            if self.secret_findings.len() < SECRET_FINDINGS {
                self.secret_findings.push(SecretLocation {
                    rule_id: s.rule_id.clone(),
                    path: d.path.to_string(),
                    line: s.line,
                    fingerprint: s.fingerprint.clone(),
                });
            }
        }
        if let Some(l) = &d.license {
            let entry = self
                .licenses
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
        if !d.dependencies.is_empty() {
            let path = d.path.as_str();
            let (folder, name) = path.rsplit_once('/').unwrap_or(("", path));
            let lockfile = crate::deps::kind(name).is_some_and(crate::deps::Kind::is_lockfile);
            for dep in &d.dependencies {
                if self.dependencies.len() >= INVENTORY_KEPT {
                    self.dependencies_left_out += 1;
                    continue;
                }
                self.dependencies
                    .push((folder.to_owned(), lockfile, dep.clone(), path.to_owned()));
            }
        }
        let listed = d.complexity.as_ref().map_or(&[][..], |c| &c.functions[..]);
        self.functions += listed.len() as u64;
        self.complex_functions += listed
            .iter()
            .filter(|f| f.cyclomatic > COMPLEX_FUNCTION)
            .count() as u64;
        // generated, vendored and test code is not where the project's risk lives
        let risky = !f.generated && !f.vendored && !f.test;
        if risky {
            for func in listed {
                self.hot_functions.push(FunctionHotspot {
                    path: d.path.to_string(),
                    language: d.language.clone(),
                    name: func.name.clone(),
                    line: func.line,
                    cyclomatic: func.cyclomatic,
                    lines: func.lines,
                    parameters: func.parameters,
                });
                if self.hot_functions.len() >= 4 * FUNCTION_HOTSPOTS {
                    self.hot_functions.sort_by(hotter_function);
                    self.hot_functions.truncate(FUNCTION_HOTSPOTS);
                }
            }
        }
        if let Some(h) = &d.history {
            let c = self.churn.get_or_insert_with(|| Churn {
                window_days: h.window_days,
                ..Churn::default()
            });
            c.files += 1;
            c.files_changed += u64::from(h.commits > 0);
            c.file_changes += u64::from(h.commits);
            let score = file_cc.saturating_mul(u64::from(h.commits));
            if risky && score > 0 {
                c.hotspots.push(ChurnHotspot {
                    path: d.path.to_string(),
                    commits: h.commits,
                    cyclomatic: file_cc,
                    score,
                    last_commit: h.last_commit.clone(),
                });
                if c.hotspots.len() >= 4 * HOTSPOTS {
                    c.hotspots.sort_by(hotter_churn);
                    c.hotspots.truncate(HOTSPOTS);
                }
            }
        }
        if risky && d.lines.code > 0 {
            self.hot.push(Hotspot {
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
            // kept bounded: the order is total, so cutting early loses no top entry
            if self.hot.len() >= 4 * HOTSPOTS {
                self.hot.sort_by(hotter);
                self.hot.truncate(HOTSPOTS);
            }
        }
    }

    /// The summary of what was folded in.
    pub fn finish(
        mut self,
        run: &IndexRunCompleted,
        dead: u64,
        complete: bool,
        generated_at: OffsetDateTime,
    ) -> ProjectSummary {
        self.hot.sort_by(hotter);
        self.hot.truncate(HOTSPOTS);
        self.hot_functions.sort_by(hotter_function);
        self.hot_functions.truncate(FUNCTION_HOTSPOTS);
        let functions = (self.functions > 0).then_some(Functions {
            count: self.functions,
            cyclomatic_over_10: self.complex_functions,
            hotspots: self.hot_functions,
        });
        let mut token_folders: Vec<FolderTokens> = self
            .folders
            .into_iter()
            .map(|(folder, (files, tokens))| FolderTokens {
                folder,
                files,
                tokens,
            })
            .collect();
        token_folders.sort_by(|a, b| {
            b.tokens
                .cmp(&a.tokens)
                .then_with(|| a.folder.cmp(&b.folder))
        });
        token_folders.truncate(TOKEN_FOLDERS);
        let dependencies = inventory(self.dependencies, self.dependencies_left_out);
        let mut licenses: Vec<LicenseCount> = self.licenses.into_values().collect();
        licenses.sort_by(|a, b| b.files.cmp(&a.files).then_with(|| a.spdx.cmp(&b.spdx)));
        let (totals, flags) = (self.totals, self.flags);
        let share = |part: u64, whole: u64| {
            if whole == 0 {
                0.0
            } else {
                four_places(part as f64 / whole as f64)
            }
        };
        let shares = Shares {
            generated_files: share(flags.generated, totals.files),
            generated_bytes: share(self.generated_bytes, totals.bytes),
            vendored_files: share(flags.vendored, totals.files),
            vendored_bytes: share(self.vendored_bytes, totals.bytes),
        };
        let duplicates = duplicates(self.by_content);
        let unique_lines = self.unique_lines.estimate().map(|e| ProjectUniqueLines {
            relative_standard_error: four_places(e.relative_standard_error),
            dryness: four_places(e.dryness),
            ..e
        });
        let churn = self.churn.map(|mut c| {
            c.hotspots.sort_by(hotter_churn);
            c.hotspots.truncate(HOTSPOTS);
            c
        });
        ProjectSummary {
            schema_version: INTELLIGENCE_SCHEMA_VERSION.to_owned(),
            doc_type: DOC_TYPE_PROJECT_SUMMARY.to_owned(),
            project: run.project.clone(),
            run_id: run.run_id,
            commit: run.commit.clone(),
            complete,
            expected_files: run.files.total(),
            deleted_files: run.deleted,
            // the manifest lists publisher failures as skipped with reason `failed`
            publisher_failed: run.skipped_by_reason.get("failed").copied().unwrap_or(0),
            skipped_by_reason: run
                .skipped_by_reason
                .iter()
                .filter(|(reason, _)| reason.as_str() != "failed")
                .map(|(r, n)| (r.clone(), *n))
                .collect(),
            totals,
            languages: self.languages,
            hotspots: self.hot,
            flags,
            cyclomatic: self.cyclomatic,
            symbols: self.symbols,
            tokens: self.tokens,
            tokens_by_encoding: self.tokens_by_encoding,
            token_folders,
            licenses,
            secrets: self.secrets,
            files_with_secrets: self.files_with_secrets,
            secrets_acknowledged: self.secrets_acknowledged,
            secret_findings: {
                let mut f = self.secret_findings;
                f.sort_by(|a, b| a.path.cmp(&b.path).then(a.line.cmp(&b.line)));
                f
            },
            shares,
            dead_lettered: dead,
            generated_at,
            // priced by the consumer, which knows what the run did
            cost: None,
            portfolio_id: run.portfolio_id,
            duplicates,
            dependencies,
            truncated: Vec::new(),
            functions,
            unique_lines,
            churn,
        }
    }
}

/// The inventory: lockfile entries completed by the manifests in their folder (a
/// manifest that names a package makes it direct and gives its scope), manifest entries
/// no lockfile beside them resolves, each package once by purl.
fn inventory(
    entries: Vec<(String, bool, Dependency, String)>,
    left_out: u64,
) -> Option<Dependencies> {
    if entries.is_empty() && left_out == 0 {
        return None;
    }
    // what each folder's manifests name: (folder, unversioned purl) → scope
    let mut named: HashMap<(String, String), Option<String>> = HashMap::new();
    let mut locked: std::collections::HashSet<(String, String)> = Default::default();
    for (folder, lockfile, d, _) in &entries {
        let key = (folder.clone(), crate::deps::unversioned(&d.purl).to_owned());
        if *lockfile {
            locked.insert(key);
        } else {
            named.entry(key).or_insert_with(|| d.scope.clone());
        }
    }
    let mut by_purl: BTreeMap<String, InventoryEntry> = BTreeMap::new();
    for (folder, lockfile, mut d, path) in entries {
        let key = (folder, crate::deps::unversioned(&d.purl).to_owned());
        if lockfile {
            if let Some(scope) = named.get(&key) {
                d.direct = Some(true);
                d.scope = d.scope.or_else(|| scope.clone());
            }
        } else if locked.contains(&key) {
            // the lockfile beside it has the resolved entry
            continue;
        }
        match by_purl.get_mut(&d.purl) {
            Some(e) => {
                let was = &mut e.dependency;
                was.direct = match (was.direct, d.direct) {
                    (Some(a), Some(b)) => Some(a || b),
                    (a, b) => a.or(b),
                };
                was.scope = was.scope.take().or(d.scope);
                if e.files.len() < INVENTORY_FILES && !e.files.contains(&path) {
                    e.files.push(path);
                }
            }
            None => {
                by_purl.insert(
                    d.purl.clone(),
                    InventoryEntry {
                        dependency: d,
                        files: vec![path],
                    },
                );
            }
        }
    }
    let by_ecosystem = crate::deps::by_ecosystem(by_purl.keys().map(String::as_str));
    let mut list: Vec<InventoryEntry> = by_purl.into_values().collect();
    let packages = list.len() as u64;
    let direct = list
        .iter()
        .filter(|e| e.dependency.direct == Some(true))
        .count() as u64;
    // direct first; the sort is stable, so by purl within each
    list.sort_by_key(|e| e.dependency.direct != Some(true));
    list.truncate(INVENTORY_LISTED);
    Some(Dependencies {
        packages,
        direct,
        by_ecosystem,
        list,
        left_out,
    })
}

/// The groups of identical files, the most wasteful first; `None` when there is none.
fn duplicates(
    by_content: HashMap<tributary_events::Sha256Hex, Copies>,
) -> Option<tributary_events::intelligence::Duplicates> {
    let mut groups: Vec<DuplicateGroup> = by_content
        .into_iter()
        .filter(|(_, c)| c.files > 1)
        .map(|(checksum, mut c)| {
            c.paths.sort();
            DuplicateGroup {
                checksum,
                size: c.size,
                files: c.files,
                paths: c.paths,
            }
        })
        .collect();
    if groups.is_empty() {
        return None;
    }
    let wasted = |g: &DuplicateGroup| g.size * (g.files - 1);
    let out = tributary_events::intelligence::Duplicates {
        groups: groups.len() as u64,
        duplicate_files: groups.iter().map(|g| g.files - 1).sum(),
        duplicate_bytes: groups.iter().map(wasted).sum(),
        largest: Vec::new(),
    };
    groups.sort_by(|a, b| {
        wasted(b)
            .cmp(&wasted(a))
            .then_with(|| a.paths.cmp(&b.paths))
    });
    groups.truncate(DUPLICATE_GROUPS);
    Some(tributary_events::intelligence::Duplicates {
        largest: groups,
        ..out
    })
}

#[cfg(test)]
pub(crate) mod tests;
