//! tributary-intel: analysers from `(path, bytes)` to file intelligence, and the project
//! rollup and report built from file documents. This crate does no I/O: it never opens a
//! file, a socket or the environment; everything it knows comes in as arguments or is
//! compiled in (Linguist's language data, the SPDX license store, grammars, rules).
//!
//! [`analyse`] never fails and never panics on any input: what an analyser could not do
//! is a diagnostic in the result.

pub mod flags;
mod heuristics;
pub mod language;
mod license;
pub mod report;
pub mod rollup;
mod secrets;
pub mod syntax;

use std::path::Path;

use tributary_events::RelPath;
use tributary_events::intelligence::{
    Complexity, Flags, License, Lines, SecretFinding, Symbol, TokenEstimate,
};

pub use syntax::SyntaxLimits;

/// The token estimate's method, named in every document.
pub const TOKEN_METHOD: &str = "utf8_chars_div_4";

/// Tunables of the analysers.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    pub syntax: SyntaxLimits,
}

/// What the analysers found in one file.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    /// GitHub Linguist's name, `None` when unknown or binary.
    pub language: Option<&'static str>,
    pub language_method: Option<language::Method>,
    pub lines: Lines,
    pub complexity: Option<Complexity>,
    pub symbols: Vec<Symbol>,
    pub imports: Vec<String>,
    pub license: Option<License>,
    pub secrets: Vec<SecretFinding>,
    pub flags: Flags,
    pub tokens: Option<TokenEstimate>,
    pub diagnostics: Vec<String>,
}

/// Builds now what the analysers otherwise build on first use (the license index, about
/// half a second), so a daemon's first files do not wait for it and its memory settles
/// before it takes load. Returns the bytes the license index holds; `None` if the SPDX
/// store could not be loaded (every license match then says so as a diagnostic).
pub fn warm_up() -> Option<usize> {
    license::warm_up()
}

/// Analyses one file with default limits.
pub fn analyse(path: &RelPath, bytes: &[u8]) -> Analysis {
    analyse_with(path, bytes, &Options::default())
}

/// Analyses one file.
pub fn analyse_with(path: &RelPath, bytes: &[u8], options: &Options) -> Analysis {
    let path_str = path.as_str();
    let mut diagnostics = Vec::new();
    if flags::is_binary(bytes) {
        return Analysis {
            language: None,
            language_method: None,
            lines: Lines::default(),
            complexity: None,
            symbols: Vec::new(),
            imports: Vec::new(),
            license: None,
            secrets: Vec::new(),
            flags: flags::flags(path_str, bytes, "", None),
            tokens: None,
            diagnostics,
        };
    }
    let text = String::from_utf8_lossy(bytes);
    if matches!(text, std::borrow::Cow::Owned(_)) {
        diagnostics.push("text: not UTF-8; invalid sequences replaced for analysis".into());
    }
    let detected = language::detect(path_str, &text);
    // tokei decodes files and drops a UTF-8 byte-order mark before counting
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let lines = match tokei_type(path, detected) {
        Some(lang) => {
            let stats = lang
                .parse_from_slice(body, &tokei::Config::default())
                .summarise();
            Lines {
                code: stats.code as u64,
                comment: stats.comments as u64,
                blank: stats.blanks as u64,
            }
        }
        None => plain_lines(bytes),
    };
    let flags = flags::flags(path_str, bytes, &text, detected.map(|d| d.kind));
    let syntax = match detected {
        // generated and minified files are not worth an outline
        Some(d) if !flags.generated => syntax::analyse(d.name, &text, &options.syntax),
        _ => None,
    };
    let (symbols, imports, complexity) = match syntax {
        Some(s) => {
            diagnostics.extend(s.diagnostics);
            (s.symbols, s.imports, s.complexity)
        }
        None => (Vec::new(), Vec::new(), None),
    };
    let file_name = path_str.rsplit('/').next().unwrap_or(path_str);
    let license = license::detect(file_name, &text, &mut diagnostics).map(|f| License {
        spdx: f.spdx,
        confidence: f.confidence,
        method: Some(f.method.as_str().to_owned()),
    });
    Analysis {
        language: detected.map(|d| d.name),
        language_method: detected.map(|d| d.method),
        lines,
        complexity,
        symbols,
        imports,
        license,
        secrets: secrets::scan(&text),
        flags,
        tokens: Some(TokenEstimate {
            count: (text.chars().count() as u64).div_ceil(4),
            method: TOKEN_METHOD.to_owned(),
        }),
        diagnostics,
    }
}

/// The tokei grammar that counts the file's lines: tokei's own choice for the path (so
/// counts equal tokei's over the original file), unless the detected language has a
/// different comment syntax (a MATLAB `.m` file is not Objective-C); for names tokei does
/// not know (extensionless scripts, Linguist's file names), the detected language's.
fn tokei_type(path: &RelPath, detected: Option<language::Detected>) -> Option<tokei::LanguageType> {
    // tokei's `from_path` falls back to opening the file for a shebang when there is no
    // extension. A leading NUL makes that open fail before any system call, so the
    // lookup stays pure.
    let unopenable = Path::new("\0").join(path.as_str());
    let by_path = tokei::LanguageType::from_path(&unopenable, &tokei::Config::default());
    let by_name = detected.and_then(|d| tokei::LanguageType::from_name(d.name));
    // only content evidence (a heuristic's pattern, a shebang) overrides tokei's choice
    let evidence = detected.is_some_and(|d| {
        matches!(
            d.method,
            language::Method::Heuristic | language::Method::Shebang | language::Method::Modeline
        )
    });
    match (by_path, by_name) {
        (Some(p), Some(n)) if evidence && !same_syntax(p, n) => Some(n),
        (Some(p), _) => Some(p),
        (None, n) => n,
    }
}

fn same_syntax(a: tokei::LanguageType, b: tokei::LanguageType) -> bool {
    a == b
        || (a.line_comments() == b.line_comments()
            && a.multi_line_comments() == b.multi_line_comments()
            && a.nested_comments() == b.nested_comments()
            && a.quotes() == b.quotes()
            && a.verbatim_quotes() == b.verbatim_quotes()
            && a.doc_quotes() == b.doc_quotes()
            && a.allows_nested() == b.allows_nested())
}

/// Lines of a file in no known language: blank or code.
fn plain_lines(bytes: &[u8]) -> Lines {
    let mut lines = Lines::default();
    for line in bytes.split(|b| *b == b'\n') {
        if line.iter().all(u8::is_ascii_whitespace) {
            lines.blank += 1;
        } else {
            lines.code += 1;
        }
    }
    // a trailing newline ends the last line; it does not start a new one
    if bytes.ends_with(b"\n") || bytes.is_empty() {
        lines.blank = lines.blank.saturating_sub(1);
    }
    lines
}

#[cfg(test)]
mod tests;
