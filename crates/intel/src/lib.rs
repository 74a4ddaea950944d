//! tributary-intel: analysers from `(path, bytes)` to file intelligence, and the project
//! rollup and report built from file documents. This crate does no I/O: it never opens a
//! file, a socket or the environment; everything it knows comes in as arguments or is
//! compiled in (Linguist's language data, the SPDX license store, grammars, rules).
//!
//! [`analyse`] never fails and never panics on any input: what an analyser could not do
//! is a diagnostic in the result.

pub mod deps;
pub mod flags;
pub mod heuristics;
pub mod language;
mod license;
#[cfg(feature = "jemalloc")]
pub mod parser_memory;
pub mod portfolio;
pub mod report;
pub mod rollup;
pub mod sarif;
pub mod sbom;
pub mod secrets;
pub mod syntax;
pub mod tokens;
pub mod uniq;

use std::borrow::Cow;
use std::path::Path;

use serde::{Deserialize, Serialize};

use tributary_events::RelPath;
use tributary_events::intelligence::{
    Complexity, Dependency, Flags, License, Lines, SecretFinding, Symbol, TokenEstimate,
    UniqueLines,
};
use tributary_events::v2::Linguist;

pub use syntax::SyntaxLimits;

/// The token estimate's method, named in every document.
pub const TOKEN_METHOD: &str = "utf8_chars_div_4";

/// Tunables of the analysers.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    pub syntax: SyntaxLimits,
    pub tokens: TokenEncodings,
    /// The secret rules: gitleaks' defaults unless a configuration names others.
    pub secrets: secrets::SecretRules,
}

/// The encodings a file's tokens are counted under; none: the `utf8_chars_div_4`
/// estimate. `o200k_base` costs ~13 % of the analysis' time, both ~43 %
/// (benches/analyse.sh), so `o200k_base` alone by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenEncodings {
    pub o200k_base: bool,
    pub cl100k_base: bool,
}

impl Default for TokenEncodings {
    fn default() -> Self {
        TokenEncodings {
            o200k_base: true,
            cl100k_base: false,
        }
    }
}

impl TokenEncodings {
    pub const NONE: TokenEncodings = TokenEncodings {
        o200k_base: false,
        cl100k_base: false,
    };

    /// The encodings on, `o200k_base` first.
    pub fn iter(self) -> impl Iterator<Item = tokens::Encoding> {
        [
            (self.o200k_base, tokens::Encoding::O200kBase),
            (self.cl100k_base, tokens::Encoding::Cl100kBase),
        ]
        .into_iter()
        .filter_map(|(on, e)| on.then_some(e))
    }

    /// A comma-separated list of tiktoken's names (`o200k_base,cl100k_base`), or `none`.
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut out = TokenEncodings::NONE;
        if list.trim() == "none" {
            return Ok(out);
        }
        for name in list.split(',').map(str::trim) {
            match tokens::Encoding::parse(name) {
                Some(tokens::Encoding::O200kBase) => out.o200k_base = true,
                Some(tokens::Encoding::Cl100kBase) => out.cl100k_base = true,
                None => {
                    return Err(format!(
                        "unknown token encoding {name:?}: o200k_base, cl100k_base or none"
                    ));
                }
            }
        }
        Ok(out)
    }

    /// Counts `text`'s tokens under these encodings.
    pub fn count(self, text: &str) -> TokenEstimate {
        let o200k_base = self
            .o200k_base
            .then(|| tokens::Encoding::O200kBase.count(text));
        let cl100k_base = self
            .cl100k_base
            .then(|| tokens::Encoding::Cl100kBase.count(text));
        let (count, method) = match (o200k_base, cl100k_base) {
            (Some(n), _) => (n, "o200k_base"),
            (None, Some(n)) => (n, "cl100k_base"),
            (None, None) => ((text.chars().count() as u64).div_ceil(4), TOKEN_METHOD),
        };
        TokenEstimate {
            count,
            method: method.to_owned(),
            o200k_base,
            cl100k_base,
        }
    }
}

impl Options {
    /// The analysis revision and these limits, as a string: with a file's path and
    /// bytes, everything a whole [`Analysis`] depends on (the start of every
    /// [`Prepared::memo_key`]).
    pub fn revision_key(&self) -> String {
        let l = &self.syntax;
        format!(
            "r{rev}|{max_bytes},{max_ms},{max_symbols},t{o}{c},s{secrets}",
            rev = ANALYSIS_REVISION,
            max_bytes = l.max_bytes,
            max_ms = l.max_parse_ms,
            max_symbols = l.max_symbols,
            o = u8::from(self.tokens.o200k_base),
            c = u8::from(self.tokens.cl100k_base),
            secrets = self.secrets.key(),
        )
    }
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
    /// Why each flag that is set is set (and why an attribute unset one): flag name →
    /// the rule.
    pub flag_reasons: flags::FlagReasons,
    pub tokens: Option<TokenEstimate>,
    /// The packages the file names, when it is a manifest or lockfile ([`deps`]).
    pub dependencies: Vec<Dependency>,
    /// scc's unique lines, with their sample ([`uniq`]); `None` for binary files.
    pub unique_lines: Option<UniqueLines>,
    pub diagnostics: Vec<String>,
}

/// Builds now what the analysers otherwise build on first use (the license index, about
/// half a second; the token encodings `options` counts with, 30 ms), so a daemon's first files do not wait for it and its memory settles
/// before it takes load. Returns the bytes the license index holds; `None` if the SPDX
/// store could not be loaded (every license match then says so as a diagnostic).
pub fn warm_up(options: &Options) -> Option<usize> {
    for e in options.tokens.iter() {
        e.warm_up();
    }
    license::warm_up()
}

/// Analyses one file with default limits.
pub fn analyse(path: &RelPath, bytes: &[u8]) -> Analysis {
    analyse_with(path, bytes, &Options::default())
}

/// Analyses one file: [`prepare`], [`Prepared::compute`], [`Prepared::finish`].
pub fn analyse_with(path: &RelPath, bytes: &[u8], options: &Options) -> Analysis {
    let prepared = prepare(path, bytes, options);
    let computed = prepared.compute();
    prepared.finish(computed)
}

/// Revision of what the analysers produce. Part of every [`Prepared::memo_key`] and
/// [`Options::revision_key`], so a cache of [`Computed`] results or of whole analyses
/// never serves one made by other analysers: bump it with any change that alters an
/// analyser's output for the same input — language detection and flags included (a
/// test fingerprints the analyses of a fixed corpus and names this constant when the
/// fingerprint moves).
pub const ANALYSIS_REVISION: u32 = 10;

/// The cheap, path-dependent part of an analysis — binary or text, language, the line
/// counter's grammar, flags, whether the name is a license file's — done before the
/// expensive, content-only part ([`Prepared::compute`]), whose result depends on
/// nothing but the bytes and [`Prepared::memo_key`].
#[derive(Debug)]
pub struct Prepared<'a> {
    path: String,
    bytes: &'a [u8],
    text: Cow<'a, str>,
    binary: bool,
    detected: Option<language::Detected>,
    tokei: Option<tokei::LanguageType>,
    flags: Flags,
    flag_reasons: flags::FlagReasons,
    license_file: bool,
    /// The manifest or lockfile format the name says the file is.
    dependency_file: Option<deps::Kind>,
    /// What the path decides for the secret rules.
    secret_paths: secrets::PathProfile,
    options: Options,
    /// What the path-dependent part has to say (an attribute it could not follow).
    notes: Vec<String>,
}

/// The expensive, content-only part of an analysis: the same for the same bytes and
/// the same [`Prepared::memo_key`], wherever the file is. Serializable, to be kept.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Computed {
    pub lines: Lines,
    pub complexity: Option<Complexity>,
    pub symbols: Vec<Symbol>,
    pub imports: Vec<String>,
    pub license: Option<License>,
    pub secrets: Vec<SecretFinding>,
    pub tokens: Option<TokenEstimate>,
    #[serde(default)]
    pub dependencies: Vec<Dependency>,
    #[serde(default)]
    pub unique_lines: Option<UniqueLines>,
    pub diagnostics: Vec<String>,
    /// False when the result depends on more than the bytes and the key (a parse that
    /// ran out of time under load): not to be kept.
    #[serde(skip, default = "yes")]
    pub cacheable: bool,
}

fn yes() -> bool {
    true
}

/// The path-dependent part of an analysis.
pub fn prepare<'a>(path: &RelPath, bytes: &'a [u8], options: &Options) -> Prepared<'a> {
    prepare_with(path, bytes, options, &Linguist::default())
}

/// [`prepare`] with the repository's `.gitattributes` overrides: `linguist-language`
/// names the language (a name Linguist does not know is noted and detection goes on as
/// usual); `linguist-vendored`, `linguist-generated` and `linguist-documentation` set or
/// unset those flags whatever the path and content suggest.
pub fn prepare_with<'a>(
    path: &RelPath,
    bytes: &'a [u8],
    options: &Options,
    attributes: &Linguist,
) -> Prepared<'a> {
    let path_str = path.as_str();
    let file_name = path_str.rsplit('/').next().unwrap_or(path_str);
    let license_file = license::is_license_file(file_name);
    let mut notes = Vec::new();
    // the repository's attributes have the last word, and say so
    let apply = |(mut f, mut reasons): (Flags, flags::FlagReasons)| {
        for (name, attribute, flag) in [
            ("vendored", attributes.vendored, &mut f.vendored),
            ("generated", attributes.generated, &mut f.generated),
            (
                "documentation",
                attributes.documentation,
                &mut f.documentation,
            ),
        ] {
            if let Some(value) = attribute {
                *flag = value;
                let sign = if value { "" } else { "-" };
                reasons.insert(
                    name.to_owned(),
                    format!("gitattributes: {sign}linguist-{name}"),
                );
            }
        }
        (f, reasons)
    };
    if flags::is_binary(bytes) {
        let (flags, flag_reasons) = apply(flags::flags_with_reasons(path_str, bytes, "", None));
        return Prepared {
            path: path_str.to_owned(),
            bytes,
            text: Cow::Borrowed(""),
            binary: true,
            detected: None,
            tokei: None,
            flags,
            flag_reasons,
            license_file,
            dependency_file: None,
            secret_paths: secrets::path_profile(path_str, options.secrets),
            options: *options,
            notes,
        };
    }
    let text = String::from_utf8_lossy(bytes);
    let named = attributes.language.as_deref().and_then(|value| {
        let found = language::by_attribute(value);
        if found.is_none() {
            notes.push(format!(
                "gitattributes: linguist-language={} is not a language Linguist knows; detected as usual",
                value.escape_debug()
            ));
        }
        found
    });
    let detected = named.or_else(|| language::detect(path_str, &text));
    let (flags, flag_reasons) = apply(flags::flags_with_reasons(
        path_str,
        bytes,
        &text,
        detected.map(|d| d.kind),
    ));
    Prepared {
        path: path_str.to_owned(),
        bytes,
        tokei: tokei_type(path, detected),
        text,
        binary: false,
        detected,
        flags,
        flag_reasons,
        license_file,
        dependency_file: deps::kind(file_name),
        secret_paths: secrets::path_profile(path_str, options.secrets),
        options: *options,
        notes,
    }
}

impl Prepared<'_> {
    /// Whether the file is binary (nothing of it is computed).
    pub fn is_binary(&self) -> bool {
        self.binary
    }

    /// Everything besides the bytes that [`Prepared::compute`] depends on, as one
    /// string: the analysis revision, the limits, the language, the line counter's
    /// grammar, whether the file is outlined and whether its name is a license file's.
    pub fn memo_key(&self) -> String {
        format!(
            "{options}|{lang}|{tokei}|{outline}|{license}|{deps}|{secret_paths}",
            options = self.options.revision_key(),
            lang = if self.binary {
                "(binary)"
            } else {
                self.detected.map_or("", |d| d.name)
            },
            tokei = self.tokei.map_or("", |t| t.name()),
            outline = u8::from(self.outlined()),
            license = u8::from(self.license_file),
            deps = self
                .dependency_file
                .map_or(String::new(), |k| format!("{k:?}")),
            secret_paths = self.secret_paths.key(),
        )
    }

    /// Generated and minified files are not worth an outline.
    fn outlined(&self) -> bool {
        self.detected.is_some() && !self.flags.generated
    }

    /// The expensive part: lines, syntax, license, secrets, tokens.
    pub fn compute(&self) -> Computed {
        if self.binary {
            return Computed {
                cacheable: true,
                ..Computed::default()
            };
        }
        let mut diagnostics = Vec::new();
        let text: &str = &self.text;
        if matches!(self.text, Cow::Owned(_)) {
            diagnostics.push("text: not UTF-8; invalid sequences replaced for analysis".into());
        }
        // tokei decodes files and drops a UTF-8 byte-order mark before counting
        let body = self
            .bytes
            .strip_prefix(b"\xEF\xBB\xBF")
            .unwrap_or(self.bytes);
        let lines = match self.tokei {
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
            None => plain_lines(self.bytes),
        };
        let syntax = match self.detected {
            Some(d) if self.outlined() => syntax::analyse(d.name, text, &self.options.syntax),
            _ => None,
        };
        let mut cacheable = true;
        let (symbols, imports, complexity) = match syntax {
            Some(s) => {
                cacheable = !s.abandoned;
                diagnostics.extend(s.diagnostics);
                (s.symbols, s.imports, s.complexity)
            }
            None => (Vec::new(), Vec::new(), None),
        };
        let license = license::detect(self.license_file, text, &mut diagnostics).map(|f| License {
            spdx: f.spdx,
            confidence: f.confidence,
            method: Some(f.method.as_str().to_owned()),
        });
        Computed {
            lines,
            complexity,
            symbols,
            imports,
            license,
            secrets: secrets::scan(text, &self.secret_paths, self.options.secrets),
            tokens: Some(self.options.tokens.count(text)),
            dependencies: match self.dependency_file.map(|k| deps::read(k, text)) {
                Some(Ok(found)) => {
                    if found.left_out > 0 {
                        diagnostics.push(format!(
                            "dependencies: {} entries left out (control characters or over 512 bytes)",
                            found.left_out
                        ));
                    }
                    found.dependencies
                }
                Some(Err(why)) => {
                    diagnostics.push(why);
                    Vec::new()
                }
                None => Vec::new(),
            },
            unique_lines: Some({
                let found = uniq::file_lines(self.bytes);
                UniqueLines {
                    count: found.count,
                    sample: found.encoded_sample(),
                    sample_bits: (found.bits != uniq::SAMPLE_BITS).then_some(found.bits),
                }
            }),
            diagnostics,
            cacheable,
        }
    }

    /// The analysis: this file's path-dependent part with `computed` (by
    /// [`Prepared::compute`] for these bytes and key, now or before).
    /// The content's secret findings with the path's own (rules on a path alone), each
    /// given its fingerprint, which names the path.
    fn path_secrets(&self, mut found: Vec<SecretFinding>) -> Vec<SecretFinding> {
        found.extend(secrets::path_findings(
            &self.secret_paths,
            self.options.secrets,
        ));
        for f in &mut found {
            secrets::fingerprint(f, &self.path);
        }
        found
    }

    pub fn finish(self, computed: Computed) -> Analysis {
        if self.binary {
            let secrets = self.path_secrets(Vec::new());
            return Analysis {
                language: None,
                language_method: None,
                lines: Lines::default(),
                complexity: None,
                symbols: Vec::new(),
                imports: Vec::new(),
                license: None,
                secrets,
                flags: self.flags,
                flag_reasons: self.flag_reasons,
                tokens: None,
                dependencies: Vec::new(),
                unique_lines: None,
                diagnostics: self.notes,
            };
        }
        let secrets = self.path_secrets(computed.secrets);
        let mut diagnostics = self.notes;
        diagnostics.extend(computed.diagnostics);
        Analysis {
            language: self.detected.map(|d| d.name),
            language_method: self.detected.map(|d| d.method),
            lines: computed.lines,
            complexity: computed.complexity,
            symbols: computed.symbols,
            imports: computed.imports,
            license: computed.license,
            secrets,
            flags: self.flags,
            flag_reasons: self.flag_reasons,
            tokens: computed.tokens,
            dependencies: computed.dependencies,
            unique_lines: computed.unique_lines,
            diagnostics,
        }
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
            language::Method::Heuristic
                | language::Method::Shebang
                | language::Method::Modeline
                | language::Method::Attribute
        )
    });
    // dialects of one language (assembly flavours): tokei's choice for the path knows the
    // dialect's comments better than the family's generic grammar
    let dialects = |p: tokei::LanguageType, n: tokei::LanguageType| {
        p.name().contains("Assembly") && n.name().contains("Assembly")
    };
    match (by_path, by_name) {
        (Some(p), Some(n)) if evidence && !same_syntax(p, n) && !dialects(p, n) => Some(n),
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
