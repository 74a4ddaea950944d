//! Secret detection with gitleaks' own default rules: all of them (v8.30.1: 222), as
//! data (`data/gitleaks.json`, generated from gitleaks' `config/gitleaks.toml` by
//! `data/gen-gitleaks.py`; MIT, `data/GITLEAKS-LICENSE`), applied as gitleaks applies
//! them to a file: each rule's keywords as a prefilter, its regex (RE2 syntax, which the
//! `regex` crate reads as is — in bytes mode with ASCII classes, as RE2's are), the secret
//! from `secretGroup` or the first non-empty group, the entropy floor, the global
//! allowlist and the rule's own (paths, regexes against the secret, the match or the
//! line, stopwords, `AND` conditions), the `gitleaks:allow` comment, and rules that
//! match a path alone. An integration test compares the findings with gitleaks'.
//!
//! A gitleaks configuration of one's own (`.gitleaks.toml`: `[[rules]]`, `[[allowlists]]`,
//! `[extend] useDefault` and `disabledRules`) replaces or extends the defaults
//! ([`SecretRules::from_gitleaks_toml`]), composite rules included: a rule with
//! `[[rules.required]]` reports a finding only where each required rule also finds one
//! within `withinLines` lines and `withinColumns` columns (anywhere in the file when
//! neither is given), and a `skipReport` rule serves only as another's requirement.
//!
//! Not reproduced: gitleaks' decoding of base64, hex and percent-encoded segments
//! (`--max-decode-depth`), commit allowlists (there are no commits here), and
//! `[extend] path`/`url` (a configuration is one file here).
//!
//! A finding is the rule id, the line and a fingerprint; the matched value never leaves
//! this module.

use std::sync::OnceLock;

use aho_corasick::AhoCorasick;
use regex::bytes::{Regex, RegexBuilder};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tributary_events::intelligence::SecretFinding;

#[derive(Deserialize)]
struct RuleFile {
    allowlist: AllowlistData,
    rules: Vec<RuleData>,
}

/// Rules in one configuration, at most.
pub const MAX_RULES: usize = 2_000;

/// Why a gitleaks configuration was refused.
#[derive(Debug, thiserror::Error)]
pub enum SecretsConfigError {
    #[error("not a gitleaks configuration: {0}")]
    Toml(String),
    #[error("a rule has no id")]
    NoId,
    #[error("rule {0:?} has neither a regex nor a path")]
    Empty(String),
    #[error("rule {rule:?}: {what} does not compile: {message}")]
    Regex {
        rule: String,
        what: &'static str,
        message: String,
    },
    #[error("rule {rule:?} requires rule {required:?}, which the configuration does not have")]
    MissingRequired { rule: String, required: String },
    #[error("[extend] {0} is not supported: give every rule in the one file")]
    Extend(&'static str),
    #[error("the configuration has over {MAX_RULES} rules")]
    TooMany,
}

/// A gitleaks configuration file as written (its documented camelCase keys).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TomlConfig {
    extend: Option<TomlExtend>,
    #[serde(default)]
    rules: Vec<RuleData>,
    /// before gitleaks 8.25: one global allowlist
    allowlist: Option<AllowlistData>,
    #[serde(default)]
    allowlists: Vec<AllowlistData>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TomlExtend {
    #[serde(default)]
    use_default: bool,
    path: Option<String>,
    url: Option<String>,
    #[serde(default)]
    disabled_rules: Vec<String>,
}

#[derive(Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
struct RequiredData {
    id: String,
    within_lines: Option<u64>,
    within_columns: Option<u64>,
}

/// A rule as gitleaks' configuration writes it (and `data/gitleaks.json` keeps it).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RuleData {
    #[serde(default)]
    id: String,
    regex: Option<String>,
    #[serde(default)]
    secret_group: usize,
    #[serde(default)]
    entropy: f64,
    #[serde(default)]
    keywords: Vec<String>,
    path: Option<String>,
    #[serde(default)]
    allowlists: Vec<AllowlistData>,
    /// before gitleaks 8.25: one allowlist
    allowlist: Option<AllowlistData>,
    #[serde(default)]
    skip_report: bool,
    #[serde(default)]
    required: Vec<RequiredData>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(rename_all = "camelCase")]
struct AllowlistData {
    condition: Option<String>,
    regex_target: Option<String>,
    #[serde(default)]
    regexes: Vec<String>,
    #[serde(default)]
    paths: Vec<String>,
    #[serde(default)]
    stopwords: Vec<String>,
    /// a global allowlist for these rules only (gitleaks 8.25)
    #[serde(default)]
    target_rules: Vec<String>,
}

/// What an allowlist's regexes are tested against.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    Secret,
    Match,
    Line,
}

struct Allowlist {
    and: bool,
    target: Target,
    regexes: Vec<Regex>,
    paths: Vec<regex::Regex>,
    /// lowercase
    stopwords: Vec<String>,
}

struct Rule {
    id: String,
    regex: Option<Regex>,
    secret_group: usize,
    entropy: f64,
    has_keywords: bool,
    path: Option<regex::Regex>,
    allowlists: Vec<Allowlist>,
    /// only another rule's requirement, never reported on its own
    skip_report: bool,
    /// composite: a finding stands only with one of each of these near it
    required: Vec<Required>,
}

struct Required {
    rule: usize,
    within_lines: Option<u64>,
    within_columns: Option<u64>,
}

struct Rules {
    /// `default`, or the first 16 hex digits of the configuration's SHA-256: part of
    /// the analysis key
    key: String,
    rules: Vec<Rule>,
    global: Vec<Allowlist>,
    /// every rule's keywords, ASCII case-insensitive; `keyword_rule[k]` is keyword k's rule
    keywords: AhoCorasick,
    keyword_rule: Vec<usize>,
}

/// Lazy-DFA cache per regex and thread, at most: the regex crate's default. Less
/// starves gitleaks' generic rule — its `[\w.-]{0,50}?` prefix needs many states — and
/// the DFA thrashes: with 64 KiB it ran at 5.6 MB/s, with 2 MiB at 375 MB/s
/// (`benches/bin/secrets_profile.rs`). A rule's cache grows only as far as its states
/// do; rules whose keywords a file lacks never run, so most stay empty.
const RULE_DFA_BYTES: usize = 2 << 20;

/// RE2 reads a `{` that starts no repetition (`{{ x }}`) as a literal; the `regex`
/// crate refuses it. Such braces are escaped; everything else is RE2 as written.
fn re2(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut chars = pattern.char_indices().peekable();
    let mut class = false;
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                out.push(c);
                if let Some((_, next)) = chars.next() {
                    out.push(next);
                }
                continue;
            }
            '[' if !class => class = true,
            ']' if class => class = false,
            '{' if !class => {
                let rest = &pattern[i + 1..];
                let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
                let more = rest[digits..]
                    .strip_prefix(',')
                    .map_or(0, |a| a.bytes().take_while(u8::is_ascii_digit).count() + 1);
                if digits == 0 || !rest[digits + more..].starts_with('}') {
                    out.push_str("\\{");
                    continue;
                }
            }
            _ => {}
        }
        out.push(c);
    }
    out
}

fn build(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(&re2(pattern))
        .unicode(false)
        .size_limit(64 << 20)
        .dfa_size_limit(RULE_DFA_BYTES)
        .build()
}

fn build_path(pattern: &str) -> Result<regex::Regex, regex::Error> {
    regex::RegexBuilder::new(pattern)
        .size_limit(16 << 20)
        .build()
}

/// A configuration's regex that does not compile, named by rule and place.
fn bad_regex(rule: &str, what: &'static str) -> impl FnOnce(regex::Error) -> SecretsConfigError {
    let rule = rule.to_owned();
    move |e| SecretsConfigError::Regex {
        rule,
        what,
        message: e.to_string(),
    }
}

fn allowlist(rule: &str, a: AllowlistData) -> Result<Allowlist, SecretsConfigError> {
    Ok(Allowlist {
        and: a
            .condition
            .as_deref()
            .is_some_and(|c| c.eq_ignore_ascii_case("AND")),
        target: match a.regex_target.as_deref() {
            Some("match") => Target::Match,
            Some("line") => Target::Line,
            _ => Target::Secret,
        },
        regexes: a
            .regexes
            .iter()
            .map(|r| build(r).map_err(bad_regex(rule, "an allowlist regex")))
            .collect::<Result<_, _>>()?,
        paths: a
            .paths
            .iter()
            .map(|p| build_path(p).map_err(bad_regex(rule, "an allowlist path")))
            .collect::<Result<_, _>>()?,
        stopwords: a.stopwords.iter().map(|w| w.to_lowercase()).collect(),
    })
}

/// Compiles rules and global allowlists (each with the rules it is for; empty: all).
fn compile(
    key: String,
    data: Vec<RuleData>,
    global: Vec<(AllowlistData, Vec<String>)>,
) -> Result<Rules, SecretsConfigError> {
    if data.len() > MAX_RULES {
        return Err(SecretsConfigError::TooMany);
    }
    let index: std::collections::HashMap<String, usize> = data
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.clone(), i))
        .collect();
    let mut keyword_rule = Vec::new();
    let mut keywords = Vec::new();
    let mut rules = Vec::with_capacity(data.len());
    for (i, r) in data.iter().enumerate() {
        if r.id.is_empty() {
            return Err(SecretsConfigError::NoId);
        }
        if r.regex.is_none() && r.path.is_none() {
            return Err(SecretsConfigError::Empty(r.id.clone()));
        }
        for k in &r.keywords {
            keywords.push(k.to_lowercase());
            keyword_rule.push(i);
        }
        let required = r
            .required
            .iter()
            .map(|q| {
                index
                    .get(q.id.as_str())
                    .map(|&rule| Required {
                        rule,
                        within_lines: q.within_lines,
                        within_columns: q.within_columns,
                    })
                    .ok_or_else(|| SecretsConfigError::MissingRequired {
                        rule: r.id.clone(),
                        required: q.id.clone(),
                    })
            })
            .collect::<Result<_, _>>()?;
        rules.push(Rule {
            regex: r
                .regex
                .as_deref()
                .map(build)
                .transpose()
                .map_err(bad_regex(&r.id, "its regex"))?,
            secret_group: r.secret_group,
            entropy: r.entropy,
            has_keywords: !r.keywords.is_empty(),
            path: r
                .path
                .as_deref()
                .map(build_path)
                .transpose()
                .map_err(bad_regex(&r.id, "its path"))?,
            allowlists: Vec::new(),
            skip_report: r.skip_report,
            required,
            id: r.id.clone(),
        });
    }
    for (rule, r) in rules.iter_mut().zip(data) {
        for a in r.allowlists {
            rule.allowlists.push(allowlist(&r.id, a)?);
        }
    }
    let mut globals = Vec::new();
    for (a, targets) in global {
        if targets.is_empty() {
            globals.push(allowlist("(global allowlist)", a)?);
            continue;
        }
        // a global allowlist for some rules is theirs
        for t in &targets {
            if let Some(&i) = index.get(t.as_str()) {
                let compiled = allowlist(t, a.clone())?;
                rules[i].allowlists.push(compiled);
            }
        }
    }
    Ok(Rules {
        key,
        rules,
        global: globals,
        keywords: AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(&keywords)
            .map_err(|e| SecretsConfigError::Toml(format!("keywords: {e}")))?,
        keyword_rule,
    })
}

fn default_data() -> RuleFile {
    serde_json::from_str(include_str!("../data/gitleaks.json"))
        .expect("data/gitleaks.json is valid (unit-tested)")
}

fn rules() -> &'static Rules {
    static R: OnceLock<Rules> = OnceLock::new();
    R.get_or_init(|| {
        let file = default_data();
        compile(
            "default".into(),
            file.rules,
            vec![(file.allowlist, Vec::new())],
        )
        .expect("gitleaks' default rules compile (unit-tested)")
    })
}

/// The secret rules a consumer applies: gitleaks' defaults, or a gitleaks
/// configuration of one's own. Loaded once per process (and kept for its life, which
/// keeps [`crate::Options`] `Copy`).
#[derive(Clone, Copy)]
pub struct SecretRules(&'static Rules);

impl Default for SecretRules {
    fn default() -> Self {
        SecretRules(rules())
    }
}

impl std::fmt::Debug for SecretRules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretRules")
            .field("key", &self.0.key)
            .field("rules", &self.0.rules.len())
            .finish()
    }
}

impl SecretRules {
    /// `default`, or the configuration's digest: part of every analysis key.
    pub fn key(&self) -> &str {
        &self.0.key
    }

    /// Rules in the set.
    pub fn len(&self) -> usize {
        self.0.rules.len()
    }

    /// Whether the set has no rules (a configuration may disable every default).
    pub fn is_empty(&self) -> bool {
        self.0.rules.is_empty()
    }

    /// A gitleaks configuration (`.gitleaks.toml`): its rules and allowlists, on top of
    /// the defaults when `[extend] useDefault = true` (less `disabledRules`; a rule of a
    /// default's id is merged into it as gitleaks merges).
    pub fn from_gitleaks_toml(text: &str) -> Result<SecretRules, SecretsConfigError> {
        let config: TomlConfig =
            toml::from_str(text).map_err(|e| SecretsConfigError::Toml(e.message().to_owned()))?;
        let mut data: Vec<RuleData> = Vec::new();
        let mut global: Vec<(AllowlistData, Vec<String>)> = Vec::new();
        if let Some(extend) = &config.extend {
            if extend.path.is_some() {
                return Err(SecretsConfigError::Extend("path"));
            }
            if extend.url.is_some() {
                return Err(SecretsConfigError::Extend("url"));
            }
            if extend.use_default {
                let defaults = default_data();
                data = defaults
                    .rules
                    .into_iter()
                    .filter(|r| !extend.disabled_rules.contains(&r.id))
                    .collect();
                global.push((defaults.allowlist, Vec::new()));
            }
        }
        if config.rules.len() > MAX_RULES {
            return Err(SecretsConfigError::TooMany);
        }
        let defaults = data.len();
        for mut rule in config.rules {
            rule.allowlists.extend(rule.allowlist.take());
            match data
                .iter()
                .position(|d| d.id == rule.id && !rule.id.is_empty())
            {
                // a default rule of the same id takes what the new one sets, as gitleaks
                // merges: regex, path, entropy and secret group replaced, keywords and
                // allowlists added — and, as there, not its `required` or `skipReport`
                Some(i) if i < defaults => {
                    let base = &mut data[i];
                    if rule.regex.is_some() {
                        base.regex = rule.regex;
                    }
                    if rule.path.is_some() {
                        base.path = rule.path;
                    }
                    if rule.entropy != 0.0 {
                        base.entropy = rule.entropy;
                    }
                    if rule.secret_group != 0 {
                        base.secret_group = rule.secret_group;
                    }
                    base.keywords.extend(rule.keywords);
                    base.allowlists.extend(rule.allowlists);
                }
                // within the file, the last of an id wins
                Some(i) => data[i] = rule,
                None => data.push(rule),
            }
        }
        for a in config.allowlist.into_iter().chain(config.allowlists) {
            let targets = a.target_rules.clone();
            global.push((a, targets));
        }
        let digest = hex(&Sha256::digest(text.as_bytes()));
        let compiled = compile(digest[..16].to_owned(), data, global)?;
        Ok(SecretRules(Box::leak(Box::new(compiled))))
    }
}

impl Rules {
    /// Which rules run on `bytes`: a rule with keywords only if one is in them (ASCII
    /// case-insensitive), as gitleaks prefilters.
    fn runs(&self, bytes: &[u8]) -> Vec<bool> {
        let mut runs: Vec<bool> = self.rules.iter().map(|r| !r.has_keywords).collect();
        for m in self.keywords.find_overlapping_iter(bytes) {
            runs[self.keyword_rule[m.pattern().as_usize()]] = true;
        }
        runs
    }
}

/// The rule ids, in the rule file's order (tests).
#[cfg(test)]
fn rule_ids() -> impl Iterator<Item = &'static str> {
    rules().rules.iter().map(|r| r.id.as_str())
}

/// What a file's path decides before its content is read: whether the global allowlist
/// skips the file, which path rules apply, which allowlists' paths match. Part of the
/// analysis key, so a content-keyed result is reused only where the path decides alike.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PathProfile {
    skipped: bool,
    /// rules with a `path` that matches (path-only rules report the file)
    path_rules: Vec<u16>,
    /// (rule, allowlist) pairs whose `paths` match
    allowlisted: Vec<(u16, u8)>,
}

impl PathProfile {
    /// A short, stable rendering for cache keys.
    pub fn key(&self) -> String {
        if self.skipped {
            return "skip".into();
        }
        let mut k = String::new();
        for r in &self.path_rules {
            k.push_str(&format!("p{r}"));
        }
        for (r, a) in &self.allowlisted {
            k.push_str(&format!("a{r}.{a}"));
        }
        k
    }
}

/// What `path` decides under `set` (see [`PathProfile`]).
pub fn path_profile(path: &str, set: SecretRules) -> PathProfile {
    let r = set.0;
    if r.global
        .iter()
        .any(|g| g.paths.iter().any(|p| p.is_match(path)))
    {
        return PathProfile {
            skipped: true,
            ..PathProfile::default()
        };
    }
    let mut profile = PathProfile::default();
    for (i, rule) in r.rules.iter().enumerate() {
        if rule.path.as_ref().is_some_and(|p| p.is_match(path)) {
            profile.path_rules.push(i as u16);
        }
        for (j, a) in rule.allowlists.iter().enumerate() {
            if a.paths.iter().any(|p| p.is_match(path)) {
                profile.allowlisted.push((i as u16, j as u8));
            }
        }
    }
    profile
}

/// Findings of rules that match a path alone (gitleaks reports the file, at line 0 —
/// here line 1): a `.p12` key store, binary or not.
pub fn path_findings(profile: &PathProfile, set: SecretRules) -> Vec<SecretFinding> {
    let r = set.0;
    profile
        .path_rules
        .iter()
        .map(|i| &r.rules[usize::from(*i)])
        .filter(|rule| rule.regex.is_none() && !rule.skip_report && rule.required.is_empty())
        .map(|rule| SecretFinding {
            rule_id: rule.id.clone(),
            line: 1,
            fingerprint: None,
            acknowledged: false,
        })
        .collect()
}

/// Shannon entropy in bits per character, as gitleaks computes it (characters counted,
/// frequencies over the length in bytes).
pub fn entropy(s: &str) -> f64 {
    let mut counts: std::collections::HashMap<char, u32> = std::collections::HashMap::new();
    for c in s.chars() {
        *counts.entry(c).or_default() += 1;
    }
    // gitleaks divides by the length in bytes
    let n = s.len() as f64;
    counts
        .values()
        .map(|c| {
            let p = f64::from(*c) / n;
            -p * p.log2()
        })
        .sum()
}

impl Allowlist {
    /// Whether this allowlist lets the finding go (`path` matched: from the profile).
    fn allows(&self, secret: &[u8], matched: &[u8], line: &[u8], path: bool) -> bool {
        let target = match self.target {
            Target::Secret => secret,
            Target::Match => matched,
            Target::Line => line,
        };
        let regex = !target.is_empty() && self.regexes.iter().any(|r| r.is_match(target));
        let stopword = !secret.is_empty() && !self.stopwords.is_empty() && {
            let lower = String::from_utf8_lossy(secret).to_lowercase();
            self.stopwords.iter().any(|w| lower.contains(w.as_str()))
        };
        if self.and {
            let mut checks = Vec::new();
            if !self.paths.is_empty() {
                checks.push(path);
            }
            if !self.regexes.is_empty() {
                checks.push(regex);
            }
            if !self.stopwords.is_empty() {
                checks.push(stopword);
            }
            !checks.is_empty() && checks.iter().all(|c| *c)
        } else {
            regex || stopword
        }
    }
}

/// One rule's finding before composition: where it starts and its line's SHA-256.
struct Found {
    line: u64,
    /// byte offset of its start within its line
    column: u64,
    line_hash: String,
}

/// Scans a text as gitleaks scans a file whose path gave `profile`, under `set`; one
/// finding per rule and line, sorted by line. Each finding's `fingerprint` holds, for
/// now, the SHA-256 of its line: [`fingerprint`] makes the finding's from it and the
/// path.
pub fn scan(text: &str, profile: &PathProfile, set: SecretRules) -> Vec<SecretFinding> {
    if profile.skipped {
        return Vec::new();
    }
    let r = set.0;
    let bytes = text.as_bytes();
    let runs = r.runs(bytes);
    let mut scanner = Scanner {
        rules: r,
        bytes,
        profile,
        line_starts: Vec::new(),
    };
    // a composite's requirements, found once each when first needed: they run whatever
    // their keywords (gitleaks prefilters only the rules it reports)
    let mut required: std::collections::HashMap<usize, Vec<Found>> =
        std::collections::HashMap::new();
    let mut out: Vec<SecretFinding> = Vec::new();
    for (i, rule) in r.rules.iter().enumerate() {
        if rule.skip_report || rule.regex.is_none() || !runs[i] {
            continue;
        }
        for f in scanner.find(i) {
            // composite: each required rule has a finding near this one
            let stands = rule.required.iter().all(|q| {
                required
                    .entry(q.rule)
                    .or_insert_with(|| scanner.find(q.rule))
                    .iter()
                    .any(|g| {
                        q.within_lines.is_none_or(|n| f.line.abs_diff(g.line) <= n)
                            && q.within_columns
                                .is_none_or(|n| f.column.abs_diff(g.column) <= n)
                    })
            });
            if stands && !out.iter().any(|o| o.line == f.line && o.rule_id == rule.id) {
                out.push(SecretFinding {
                    rule_id: rule.id.clone(),
                    line: f.line,
                    fingerprint: Some(f.line_hash),
                    acknowledged: false,
                });
            }
        }
    }
    out.sort_by(|a, b| a.line.cmp(&b.line).then_with(|| a.rule_id.cmp(&b.rule_id)));
    out
}

/// One file's scan: its rules' findings, with where lines start.
struct Scanner<'a> {
    rules: &'a Rules,
    bytes: &'a [u8],
    profile: &'a PathProfile,
    /// where lines start, found once the first match needs it (most files have none)
    line_starts: Vec<usize>,
}

impl Scanner<'_> {
    /// Rule `i`'s findings, as gitleaks' detectRule makes them.
    fn find(&mut self, i: usize) -> Vec<Found> {
        let (r, bytes, profile) = (self.rules, self.bytes, self.profile);
        let rule = &r.rules[i];
        let mut out = Vec::new();
        let Some(regex) = &rule.regex else {
            return out;
        };
        if rule.path.is_some() && !profile.path_rules.contains(&(i as u16)) {
            return out;
        }
        // a rule allowlist that allows by path alone (OR) skips the file for the rule
        let path_allowed = |j: usize| profile.allowlisted.contains(&(i as u16, j as u8));
        if rule
            .allowlists
            .iter()
            .enumerate()
            .any(|(j, a)| !a.and && path_allowed(j))
        {
            return out;
        }
        for m in regex.find_iter(bytes) {
            if self.line_starts.is_empty() {
                self.line_starts = std::iter::once(0)
                    .chain(newlines(bytes).map(|i| i + 1))
                    .collect();
            }
            let line_starts = &self.line_starts;
            let line_of = |offset: usize| line_starts.partition_point(|s| *s <= offset);
            let raw = &bytes[m.start()..m.end()];
            // gitleaks trims newlines off the match and ends it there
            let matched = trim_newlines(raw);
            let start = m.start();
            let end = start + matched.len();
            let first_line = line_of(start);
            let last_line = line_of(end.saturating_sub(1).max(start));
            let line_start = line_starts[first_line - 1];
            let line_end = line_starts
                .get(last_line)
                .map_or(bytes.len(), |s| s.saturating_sub(1))
                .max(end);
            let line = &bytes[line_start..line_end];
            if contains(line, b"gitleaks:allow") {
                continue;
            }
            let secret = match regex.captures(matched) {
                Some(groups) if groups.len() >= 2 => {
                    if rule.secret_group > 0 {
                        match groups.get(rule.secret_group) {
                            Some(g) => g.as_bytes(),
                            None if rule.secret_group < groups.len() => &[][..],
                            None => continue,
                        }
                    } else {
                        groups
                            .iter()
                            .skip(1)
                            .flatten()
                            .map(|g| g.as_bytes())
                            .find(|g| !g.is_empty())
                            .unwrap_or(matched)
                    }
                }
                _ => matched,
            };
            if rule.entropy != 0.0 && entropy(&String::from_utf8_lossy(secret)) <= rule.entropy {
                continue;
            }
            if r.global
                .iter()
                .any(|g| g.allows(secret, matched, line, false))
            {
                continue;
            }
            if rule
                .allowlists
                .iter()
                .enumerate()
                .any(|(j, a)| a.allows(secret, matched, line, path_allowed(j)))
            {
                continue;
            }
            out.push(Found {
                line: first_line as u64,
                column: (start - line_start) as u64,
                line_hash: hex(&Sha256::digest(line)),
            });
        }
        out
    }
}

/// The finding's stable fingerprint: SHA-256 of its rule, the file's path and the
/// SHA-256 of its line (as [`scan`] left it), 32 hex digits. It survives the line
/// moving in the file; it changes when the line, the path or the rule does. Never the
/// value.
pub fn fingerprint(f: &mut SecretFinding, path: &str) {
    let line_hash = f.fingerprint.take().unwrap_or_default();
    let mut h = Sha256::new();
    h.update(f.rule_id.as_bytes());
    h.update([0]);
    h.update(path.as_bytes());
    h.update([0]);
    h.update(line_hash.as_bytes());
    let digest = hex(&h.finalize());
    f.fingerprint = Some(digest[..32].to_owned());
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn trim_newlines(b: &[u8]) -> &[u8] {
    let mut s = b;
    while let [b'\n', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b'\n'] = s {
        s = rest;
    }
    s
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn newlines(b: &[u8]) -> impl Iterator<Item = usize> + '_ {
    b.iter()
        .enumerate()
        .filter(|(_, c)| **c == b'\n')
        .map(|(i, _)| i)
}

#[cfg(test)]
mod tests;

/// Seconds each rule's regex takes over `texts` after the keyword prefilter, and its
/// matches; slowest first (`benches/bin/secrets_profile.rs`).
#[doc(hidden)]
pub fn rule_times(texts: &[&str]) -> Vec<(String, f64, usize)> {
    let r = SecretRules::default().0;
    let mut out: Vec<(String, f64, usize)> =
        r.rules.iter().map(|x| (x.id.clone(), 0.0, 0)).collect();
    for text in texts {
        let bytes = text.as_bytes();
        let runs = r.runs(bytes);
        for (i, rule) in r.rules.iter().enumerate() {
            let Some(regex) = rule.regex.as_ref().filter(|_| runs[i]) else {
                continue;
            };
            let t = std::time::Instant::now();
            out[i].2 += regex.find_iter(bytes).count();
            out[i].1 += t.elapsed().as_secs_f64();
        }
    }
    out.sort_by(|a, b| b.1.total_cmp(&a.1));
    out
}
