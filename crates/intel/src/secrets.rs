//! Secret detection in the style of gitleaks: each rule is a pattern with gitleaks' rule
//! id (so findings can be cross-referenced with gitleaks reports), optionally a minimum
//! Shannon entropy for the captured value, and stopwords that mark placeholders. A
//! finding is the rule id and the line — the matched value never leaves this module.
//!
//! gitleaks' own rule file is Go/TOML with look-arounds `regex` lacks and ships no Rust
//! crate; the rules below restate the well-known ones.

use std::sync::OnceLock;

use regex::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};
use tributary_events::intelligence::SecretFinding;

struct Rule {
    id: &'static str,
    pattern: &'static str,
    /// Minimum Shannon entropy (bits per character) of the secret capture group.
    entropy: f64,
}

/// The secret is capture group 1 when there is one, else the whole match.
const RULES: &[Rule] = &[
    Rule {
        id: "private-key",
        pattern: r"-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----",
        entropy: 0.0,
    },
    Rule {
        id: "aws-access-token",
        pattern: r"\b((?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b",
        entropy: 3.0,
    },
    Rule {
        id: "github-pat",
        pattern: r"\b(ghp_[0-9a-zA-Z]{36})\b",
        entropy: 3.0,
    },
    Rule {
        id: "github-fine-grained-pat",
        pattern: r"\b(github_pat_[0-9a-zA-Z_]{82})\b",
        entropy: 3.0,
    },
    Rule {
        id: "github-oauth",
        pattern: r"\b(gho_[0-9a-zA-Z]{36})\b",
        entropy: 3.0,
    },
    Rule {
        id: "github-app-token",
        pattern: r"\b((?:ghu|ghs)_[0-9a-zA-Z]{36})\b",
        entropy: 3.0,
    },
    Rule {
        id: "github-refresh-token",
        pattern: r"\b(ghr_[0-9a-zA-Z]{36})\b",
        entropy: 3.0,
    },
    Rule {
        id: "gitlab-pat",
        pattern: r"\b(glpat-[0-9a-zA-Z_-]{20,})\b",
        entropy: 3.0,
    },
    Rule {
        id: "gitlab-ptt",
        pattern: r"\b(glptt-[0-9a-f]{40})\b",
        entropy: 3.0,
    },
    Rule {
        id: "slack-bot-token",
        pattern: r"\b(xoxb-[0-9]{10,13}-[0-9]{10,13}[a-zA-Z0-9-]*)\b",
        entropy: 0.0,
    },
    Rule {
        id: "slack-user-token",
        pattern: r"\b(xox[pe](?:-[0-9]{10,13}){3}-[a-zA-Z0-9-]{28,34})\b",
        entropy: 0.0,
    },
    Rule {
        id: "slack-webhook-url",
        pattern: r"(hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/]{43,56})",
        entropy: 0.0,
    },
    Rule {
        id: "stripe-access-token",
        pattern: r"\b((?:sk|rk)_(?:test|live|prod)_[a-zA-Z0-9]{10,99})\b",
        entropy: 2.0,
    },
    Rule {
        id: "gcp-api-key",
        pattern: r"\b(AIza[0-9A-Za-z_-]{35})\b",
        entropy: 3.0,
    },
    Rule {
        id: "openai-api-key",
        pattern: r"\b(sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{58,74}T3BlbkFJ[A-Za-z0-9_-]{58,74}|sk-[a-zA-Z0-9]{20}T3BlbkFJ[a-zA-Z0-9]{20})\b",
        entropy: 3.0,
    },
    Rule {
        id: "anthropic-api-key",
        pattern: r"\b(sk-ant-(?:api03|admin01)-[a-zA-Z0-9_-]{93}AA)\b",
        entropy: 3.0,
    },
    Rule {
        id: "npm-access-token",
        pattern: r"\b(npm_[a-zA-Z0-9]{36})\b",
        entropy: 3.0,
    },
    Rule {
        id: "pypi-upload-token",
        pattern: r"\b(pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,})",
        entropy: 0.0,
    },
    Rule {
        id: "sendgrid-api-token",
        pattern: r"\b(SG\.[a-zA-Z0-9=_-]{22}\.[a-zA-Z0-9=_-]{43})\b",
        entropy: 3.0,
    },
    Rule {
        id: "twilio-api-key",
        pattern: r"\b(SK[0-9a-fA-F]{32})\b",
        entropy: 3.0,
    },
    Rule {
        id: "jwt",
        pattern: r"\b(ey[a-zA-Z0-9]{17,}\.ey[a-zA-Z0-9/_-]{17,}\.(?:[a-zA-Z0-9/_-]{10,}={0,2})?)",
        entropy: 3.0,
    },
    Rule {
        id: "generic-api-key",
        // on one line: a keyword, an assignment, a quoted value
        pattern: r#"(?i)(?:access|auth|api|credential|creds|key|passw(?:or)?d|secret|token)[\w.-]{0,20}["']?[ \t]{0,5}(?::|=>|:=|\|\|:|<=|=|\?=|,)[ \t]{0,5}["'`]([0-9a-z\-_.=+/]{10,150})["'`]"#,
        entropy: 3.5,
    },
];

/// Substrings that mark a value as a placeholder or an example, not a secret.
const STOPWORDS: &[&str] = &[
    "example",
    "xxxxxx",
    "placeholder",
    "changeme",
    "your_",
    "your-",
    "dummy",
    "sample",
    "redacted",
    "<",
    "${",
    "{{",
    "process.env",
    "getenv",
    "000000",
];

struct Compiled {
    set: RegexSet,
    rules: Vec<Regex>,
}

/// Lazy-DFA cache per regex and thread, at most (the regex crate's default is 2 MiB):
/// each analysis thread keeps a cache for the set and for every rule, and with the
/// default the rules' caches held 13 MB of a busy consumer (benches/README.md). These
/// ASCII-token rules need far fewer DFA states than that.
const RULE_DFA_BYTES: usize = 64 << 10;
const SET_DFA_BYTES: usize = 512 << 10;

fn compiled() -> &'static Compiled {
    static C: OnceLock<Compiled> = OnceLock::new();
    // ASCII classes and word boundaries: every rule is about ASCII tokens, and a Unicode
    // `\b` would keep the regex engine off its fast DFA on any non-ASCII text
    C.get_or_init(|| Compiled {
        set: RegexSetBuilder::new(RULES.iter().map(|r| r.pattern))
            .unicode(false)
            .dfa_size_limit(SET_DFA_BYTES)
            .build()
            .expect("secret rules compile"),
        rules: RULES
            .iter()
            .map(|r| {
                RegexBuilder::new(r.pattern)
                    .unicode(false)
                    .dfa_size_limit(RULE_DFA_BYTES)
                    .build()
                    .expect("secret rule compiles")
            })
            .collect(),
    })
}

/// The rule ids (tests).
#[cfg(test)]
fn rule_ids() -> impl Iterator<Item = &'static str> {
    RULES.iter().map(|r| r.id)
}

/// Shannon entropy in bits per character.
pub fn entropy(s: &str) -> f64 {
    let mut counts = [0u32; 256];
    for b in s.bytes() {
        counts[usize::from(b)] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|c| **c > 0)
        .map(|c| {
            let p = f64::from(*c) / n;
            -p * p.log2()
        })
        .sum()
}

/// The generic rule's value test, after gitleaks' allowlists: generated secrets mix
/// letters and digits; identifiers (`credentials_in_url`), package names and file
/// paths (`projects/a/91e3….bin`) do not count.
fn looks_random(value: &str) -> bool {
    let digits = value.bytes().any(|b| b.is_ascii_digit());
    let letters = value.bytes().any(|b| b.is_ascii_alphabetic());
    let path = value.contains('/')
        && value.rsplit_once('.').is_some_and(|(_, ext)| {
            (1..=5).contains(&ext.len()) && ext.bytes().all(|b| b.is_ascii_alphanumeric())
        });
    digits && letters && !path
}

/// Scans a text; one finding per rule and line, sorted by line.
pub fn scan(text: &str) -> Vec<SecretFinding> {
    let c = compiled();
    let hits = c.set.matches(text);
    if !hits.matched_any() {
        return Vec::new();
    }
    let mut out: Vec<SecretFinding> = Vec::new();
    for i in hits.iter() {
        let rule = &RULES[i];
        for caps in c.rules[i].captures_iter(text) {
            let whole = caps.get(0).expect("group 0 always exists");
            let secret = caps.get(1).unwrap_or(whole).as_str();
            if rule.entropy > 0.0 && entropy(secret) < rule.entropy {
                continue;
            }
            let lower = secret.to_ascii_lowercase();
            if STOPWORDS.iter().any(|w| lower.contains(w)) {
                continue;
            }
            if rule.id == "generic-api-key" && !looks_random(secret) {
                continue;
            }
            let line = text[..whole.start()]
                .bytes()
                .filter(|b| *b == b'\n')
                .count() as u64
                + 1;
            if !out.iter().any(|f| f.line == line && f.rule_id == rule.id) {
                out.push(SecretFinding {
                    rule_id: rule.id.to_owned(),
                    line,
                });
            }
        }
    }
    // a specific rule beats the generic one on the same line
    let specific: Vec<u64> = out
        .iter()
        .filter(|f| f.rule_id != "generic-api-key")
        .map(|f| f.line)
        .collect();
    out.retain(|f| f.rule_id != "generic-api-key" || !specific.contains(&f.line));
    out.sort_by(|a, b| a.line.cmp(&b.line).then_with(|| a.rule_id.cmp(&b.rule_id)));
    out
}

#[cfg(test)]
mod tests;
