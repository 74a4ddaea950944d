//! License detection: `SPDX-License-Identifier:` lines (parsed as SPDX expressions), and
//! license texts and standard headers matched against the SPDX license list with
//! askalono's algorithm, over the prebuilt store of every SPDX license text and header
//! that the `spdx` crate carries, held in a compact inverted index (`index`).

use std::hash::{Hash, Hasher};
use std::num::NonZeroUsize;
use std::sync::{Mutex, OnceLock};

use spdx::detection::Store;

mod index;
mod preproc;

use index::{Index, Kind, Sample};

/// Below this score a text is not called a license.
const TEXT_THRESHOLD: f32 = 0.8;
/// Headers are short and share words with each other; demand more.
const HEADER_THRESHOLD: f32 = 0.85;
/// Licenses looked for in one license file, one after the other (askalono's default).
const MAX_PASSES: usize = 10;
/// The part of a license file matched: every SPDX license text fits (the longest, the
/// GPL-3.0 family, is ~35 KB); what comes after in a longer file (a Debian `copyright`
/// file listing hundreds of files and licenses) is not read. Locating licenses inside a
/// text costs a normalisation of the text per candidate boundary, so this is what keeps
/// one file from costing seconds.
const MAX_LICENSE_FILE_BYTES: usize = 64 * 1024;
/// Lines of a source file searched for an identifier or a header.
const HEAD_LINES: usize = 60;
/// A comment block shorter than this is not a license header (a one-line pointer
/// to a LICENSE file is not a license).
const MIN_HEADER_WORDS: usize = 20;
/// Distinct headers remembered.
const MEMO_ENTRIES: usize = 4096;

/// How a license was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// An `SPDX-License-Identifier:` line.
    SpdxIdentifier,
    /// The whole file is a license text (LICENSE, COPYING ...).
    LicenseText,
    /// A standard license header at the top of a source file.
    Header,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::SpdxIdentifier => "spdx_identifier",
            Method::LicenseText => "license_text",
            Method::Header => "header",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// An SPDX identifier or expression (`MIT`, `Apache-2.0 OR MIT`).
    pub spdx: String,
    /// 0.0 to 1.0; 1.0 for an explicit identifier.
    pub confidence: f64,
    pub method: Method,
}

/// The license index, built once from the `spdx` crate's store (decompressing and
/// indexing take about half a second; the store is dropped once indexed). A daemon
/// calls [`warm_up`] at start so the first license file does not pay for it.
fn index() -> Option<&'static Index> {
    static INDEX: OnceLock<Option<Index>> = OnceLock::new();
    INDEX
        .get_or_init(|| {
            let store = Store::load_inline().ok()?;
            Index::build(&store, |name, has_headers| {
                has_headers || TEXTS_IN_HEADERS.contains(&name)
            })
        })
        .as_ref()
}

/// Builds the license index now rather than on the first license met; returns the
/// bytes it holds, or `None` if the SPDX store could not be loaded.
pub fn warm_up() -> Option<usize> {
    index().map(Index::heap_bytes)
}

/// Licenses whose full text often sits in a source file's header comment.
const TEXTS_IN_HEADERS: [&str; 10] = [
    "MIT",
    "BSD-2-Clause",
    "BSD-3-Clause",
    "ISC",
    "Zlib",
    "0BSD",
    "BSL-1.0",
    "Unlicense",
    "MIT-0",
    "X11",
];

/// Whether a file name is conventionally a license file.
pub fn is_license_file(file_name: &str) -> bool {
    let upper = file_name.to_ascii_uppercase();
    let stem = upper.split('.').next().unwrap_or_default();
    ["LICENSE", "LICENCE", "COPYING", "UNLICENSE", "COPYRIGHT"]
        .iter()
        .any(|p| {
            stem == *p || stem.starts_with(&format!("{p}-")) || stem.starts_with(&format!("{p}_"))
        })
}

/// Finds the license a file declares or is; `license_file`: whether its name is a
/// license file's ([`is_license_file`]). `diagnostics` gets what went wrong.
pub fn detect(license_file: bool, text: &str, diagnostics: &mut Vec<String>) -> Option<Found> {
    let head = head(text);
    if let Some(found) = identifier(head, diagnostics) {
        return Some(found);
    }
    let mentions = license_file || {
        let lower = head.to_ascii_lowercase();
        lower.contains("license") || lower.contains("licence")
    };
    if !mentions {
        return None;
    }
    let Some(index) = index() else {
        diagnostics.push("license: the SPDX store could not be loaded".into());
        return None;
    };
    if license_file {
        let mut end = text.len().min(MAX_LICENSE_FILE_BYTES);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let text = &text[..end];
        let m = index.scan(&Sample::new(text), TEXT_THRESHOLD, MAX_PASSES)?;
        return Some(Found {
            spdx: index.name(m).to_owned(),
            confidence: round(m.score),
            method: Method::LicenseText,
        });
    }
    header(index, leading_comment(text))
}

/// A standard header in the file's leading comment block. Matching costs milliseconds
/// and a repository repeats one header in thousands of files, so results are memoised
/// by the block's text with digits dropped (copyright years differ, headers do not).
fn header(index: &Index, block: &str) -> Option<Found> {
    if block.split_whitespace().count() < MIN_HEADER_WORDS {
        return None;
    }
    let key = {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        for c in block.chars().filter(|c| !c.is_ascii_digit()) {
            c.hash(&mut h);
        }
        h.finish()
    };
    static MEMO: OnceLock<Mutex<lru::LruCache<u64, Option<Found>>>> = OnceLock::new();
    let memo = MEMO.get_or_init(|| {
        Mutex::new(lru::LruCache::new(
            NonZeroUsize::new(MEMO_ENTRIES).expect("non-zero"),
        ))
    });
    if let Some(hit) = memo.lock().ok().and_then(|mut m| m.get(&key).cloned()) {
        return hit;
    }
    let found = index
        .analyze(&Sample::new(block).grams(), true)
        .filter(|m| {
            m.score >= HEADER_THRESHOLD && matches!(index.kind(*m), Kind::Header | Kind::Original)
        })
        .map(|m| Found {
            spdx: index.name(m).to_owned(),
            confidence: round(m.score),
            method: Method::Header,
        });
    if let Ok(mut m) = memo.lock() {
        m.put(key, found.clone());
    }
    found
}

/// The comment block a file starts with (after a shebang and blank lines): line
/// comments (`//`, `#`, `--`, `;`, `%`), block comments (`/* */`, `<!-- -->`) and a
/// leading Python docstring. At most `HEAD_LINES` lines.
pub fn leading_comment(text: &str) -> &str {
    const BLOCKS: [(&str, &str); 4] = [
        ("/*", "*/"),
        ("<!--", "-->"),
        ("\"\"\"", "\"\"\""),
        ("'''", "'''"),
    ];
    let mut end = 0;
    let mut closing: Option<&str> = None;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        if i >= HEAD_LINES {
            break;
        }
        let t = line.trim();
        let keep = if let Some(close) = closing {
            if t.contains(close) {
                closing = None;
            }
            true
        } else if t.is_empty() || (i == 0 && t.starts_with("#!")) {
            true
        } else if let Some((open, close)) = BLOCKS.iter().find(|(open, _)| t.starts_with(open)) {
            if !t[open.len()..].contains(close) {
                closing = Some(close);
            }
            true
        } else {
            ["//", "#", "--", ";", "%", "*"]
                .iter()
                .any(|p| t.starts_with(p))
        };
        if !keep {
            break;
        }
        end += line.len();
    }
    &text[..end]
}

fn round(score: f32) -> f64 {
    (f64::from(score) * 1000.0).round() / 1000.0
}

fn head(text: &str) -> &str {
    let end = text
        .match_indices('\n')
        .nth(HEAD_LINES - 1)
        .map_or(text.len(), |(i, _)| i);
    &text[..end]
}

/// An `SPDX-License-Identifier:` line in the head of the file.
fn identifier(head: &str, diagnostics: &mut Vec<String>) -> Option<Found> {
    const TAG: &str = "SPDX-License-Identifier:";
    let at = head.find(TAG)?;
    let rest = head[at + TAG.len()..].lines().next().unwrap_or_default();
    // comment closers and trailing punctuation are not part of the expression
    let expr = rest
        .split("*/")
        .next()
        .unwrap_or_default()
        .split("-->")
        .next()
        .unwrap_or_default()
        .trim()
        .trim_end_matches(['"', '\'', ',', ';'])
        .trim();
    match spdx::Expression::parse_mode(expr, spdx::ParseMode::LAX) {
        Ok(e) => Some(Found {
            spdx: spdx::Expression::canonicalize(expr)
                .ok()
                .flatten()
                .unwrap_or_else(|| e.to_string()),
            confidence: 1.0,
            method: Method::SpdxIdentifier,
        }),
        Err(_) => {
            diagnostics
                .push("license: an SPDX-License-Identifier line is not a valid expression".into());
            None
        }
    }
}

#[cfg(test)]
mod tests;
