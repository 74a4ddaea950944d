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
//! Not reproduced: gitleaks' decoding of base64, hex and percent-encoded segments
//! (`--max-decode-depth`), commit allowlists (there are no commits here), and composite
//! (`required`) rules — the default rule set has none.
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

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RuleData {
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
}

#[derive(Deserialize, Default)]
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
}

struct Rules {
    rules: Vec<Rule>,
    global: Allowlist,
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

fn build(pattern: &str) -> Regex {
    RegexBuilder::new(&re2(pattern))
        .unicode(false)
        .size_limit(64 << 20)
        .dfa_size_limit(RULE_DFA_BYTES)
        .build()
        .unwrap_or_else(|e| panic!("gitleaks regex compiles (unit-tested): {pattern}: {e}"))
}

fn build_path(pattern: &str) -> regex::Regex {
    regex::Regex::new(pattern)
        .unwrap_or_else(|e| panic!("gitleaks path regex compiles (unit-tested): {pattern}: {e}"))
}

fn allowlist(a: AllowlistData) -> Allowlist {
    Allowlist {
        and: a.condition.as_deref() == Some("AND"),
        target: match a.regex_target.as_deref() {
            Some("match") => Target::Match,
            Some("line") => Target::Line,
            _ => Target::Secret,
        },
        regexes: a.regexes.iter().map(|r| build(r)).collect(),
        paths: a.paths.iter().map(|p| build_path(p)).collect(),
        stopwords: a.stopwords.iter().map(|w| w.to_lowercase()).collect(),
    }
}

fn rules() -> &'static Rules {
    static R: OnceLock<Rules> = OnceLock::new();
    R.get_or_init(|| {
        let file: RuleFile = serde_json::from_str(include_str!("../data/gitleaks.json"))
            .expect("data/gitleaks.json is valid (unit-tested)");
        let mut keyword_rule = Vec::new();
        let mut keywords = Vec::new();
        let rules: Vec<Rule> = file
            .rules
            .into_iter()
            .enumerate()
            .map(|(i, r)| {
                for k in &r.keywords {
                    keywords.push(k.to_lowercase());
                    keyword_rule.push(i);
                }
                Rule {
                    regex: r.regex.as_deref().map(build),
                    secret_group: r.secret_group,
                    entropy: r.entropy,
                    has_keywords: !r.keywords.is_empty(),
                    path: r.path.as_deref().map(build_path),
                    allowlists: r.allowlists.into_iter().map(allowlist).collect(),
                    id: r.id,
                }
            })
            .collect();
        Rules {
            rules,
            global: allowlist(file.allowlist),
            keywords: AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(&keywords)
                .expect("keywords build"),
            keyword_rule,
        }
    })
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

/// What `path` decides (see [`PathProfile`]).
pub fn path_profile(path: &str) -> PathProfile {
    let r = rules();
    if r.global.paths.iter().any(|p| p.is_match(path)) {
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
pub fn path_findings(profile: &PathProfile) -> Vec<SecretFinding> {
    let r = rules();
    profile
        .path_rules
        .iter()
        .map(|i| &r.rules[usize::from(*i)])
        .filter(|rule| rule.regex.is_none())
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

/// Scans a text as gitleaks scans a file whose path gave `profile`; one finding per
/// rule and line, sorted by line. Each finding's `fingerprint` holds, for now, the
/// SHA-256 of its line: [`fingerprint`] makes the finding's from it and the path.
pub fn scan(text: &str, profile: &PathProfile) -> Vec<SecretFinding> {
    if profile.skipped {
        return Vec::new();
    }
    let r = rules();
    let bytes = text.as_bytes();
    let runs = r.runs(bytes);
    // where lines start, found once the first match needs it (most files have none)
    let mut line_starts: Vec<usize> = Vec::new();
    let mut out: Vec<SecretFinding> = Vec::new();
    for (i, rule) in r.rules.iter().enumerate() {
        let Some(regex) = &rule.regex else { continue };
        if !runs[i] {
            continue;
        }
        if rule.path.is_some() && !profile.path_rules.contains(&(i as u16)) {
            continue;
        }
        // a rule allowlist that allows by path alone (OR) skips the file for the rule
        let path_allowed = |j: usize| profile.allowlisted.contains(&(i as u16, j as u8));
        if rule
            .allowlists
            .iter()
            .enumerate()
            .any(|(j, a)| !a.and && path_allowed(j))
        {
            continue;
        }
        for m in regex.find_iter(bytes) {
            if line_starts.is_empty() {
                line_starts = std::iter::once(0)
                    .chain(newlines(bytes).map(|i| i + 1))
                    .collect();
            }
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
            if r.global.allows(secret, matched, line, false) {
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
            let line_no = first_line as u64;
            if out
                .iter()
                .any(|f| f.line == line_no && f.rule_id == rule.id)
            {
                continue;
            }
            out.push(SecretFinding {
                rule_id: rule.id.clone(),
                line: line_no,
                fingerprint: Some(hex(&Sha256::digest(line))),
                acknowledged: false,
            });
        }
    }
    out.sort_by(|a, b| a.line.cmp(&b.line).then_with(|| a.rule_id.cmp(&b.rule_id)));
    out
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
    let r = rules();
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
