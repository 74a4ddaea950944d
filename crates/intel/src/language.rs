//! Language detection from `(path, bytes)`, in the order GitHub Linguist uses, on
//! Linguist's own data (`data/linguist.json`, generated from the `linguist-languages`
//! package by `data/gen-linguist.mjs`):
//!
//! 1. file name (`Makefile`, `CMakeLists.txt`, `.bashrc` ...);
//! 2. extension, longest first (`.h.in` before `.in`), case-insensitive;
//! 3. for extensionless files: shebang (`#!/usr/bin/env python3`), then an Emacs or Vim
//!    modeline;
//! 4. when an extension names several languages: a shebang naming one of them, then
//!    content heuristics (`heuristics.rs`, after Linguist's `heuristics.yml`), then the
//!    most common of the candidates.
//!
//! Why not `hyperpolyglot` (a Rust port of Linguist): its detectors are private and its
//! one entry point opens the file (this crate does no I/O), it compiles a PCRE pattern
//! per match, and its data is from 2020.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;

use crate::heuristics;

/// How a language was chosen; reported so that a consumer can weigh the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Filename,
    Extension,
    Shebang,
    Modeline,
    Heuristic,
    /// Several candidates and no heuristic decided: the most common one.
    Default,
    /// The repository's `.gitattributes` named it (`linguist-language`).
    Attribute,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Filename => "filename",
            Method::Extension => "extension",
            Method::Shebang => "shebang",
            Method::Modeline => "modeline",
            Method::Heuristic => "heuristic",
            Method::Default => "default",
            Method::Attribute => "gitattributes",
        }
    }
}

/// Linguist's language types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Programming,
    Markup,
    Data,
    Prose,
}

#[derive(Debug, Deserialize)]
struct Entry {
    name: String,
    #[serde(rename = "type")]
    kind: Kind,
    #[serde(default)]
    color: Option<String>,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    extensions: Vec<String>,
    #[serde(default)]
    filenames: Vec<String>,
    #[serde(default)]
    interpreters: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Data {
    source: String,
    languages: Vec<Entry>,
}

/// Linguist's tables, indexed.
#[derive(Debug)]
pub struct Linguist {
    source: String,
    entries: Vec<Entry>,
    by_name: HashMap<String, usize>,
    by_alias: HashMap<String, usize>,
    by_filename: HashMap<String, Vec<usize>>,
    by_extension: HashMap<String, Vec<usize>>,
    by_interpreter: HashMap<String, Vec<usize>>,
}

/// A detected language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Detected {
    /// Linguist's name: `Rust`, `C++`, `Shell`, `Objective-C` ...
    pub name: &'static str,
    pub kind: Kind,
    pub method: Method,
}

static LINGUIST: OnceLock<Linguist> = OnceLock::new();

/// Linguist's data, parsed once.
pub fn linguist() -> &'static Linguist {
    LINGUIST.get_or_init(|| {
        let data: Data = serde_json::from_str(include_str!("../data/linguist.json"))
            .expect("data/linguist.json is valid (checked by a unit test)");
        Linguist::new(data)
    })
}

impl Linguist {
    fn new(data: Data) -> Self {
        let mut l = Linguist {
            source: data.source,
            entries: Vec::new(),
            by_name: HashMap::new(),
            by_alias: HashMap::new(),
            by_filename: HashMap::new(),
            by_extension: HashMap::new(),
            by_interpreter: HashMap::new(),
        };
        for (i, e) in data.languages.iter().enumerate() {
            l.by_name.insert(e.name.clone(), i);
            l.by_alias.insert(e.name.to_lowercase(), i);
            for a in &e.aliases {
                l.by_alias.insert(a.to_lowercase(), i);
            }
            for f in &e.filenames {
                l.by_filename.entry(f.clone()).or_default().push(i);
            }
            for x in &e.extensions {
                l.by_extension.entry(x.to_lowercase()).or_default().push(i);
            }
            for x in &e.interpreters {
                l.by_interpreter.entry(x.clone()).or_default().push(i);
            }
        }
        l.entries = data.languages;
        l
    }

    /// Which release of Linguist's data this is (`linguist-languages@9.5.0`).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Every language name.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|e| e.name.as_str())
    }

    /// Languages a file name names exactly.
    pub fn by_filename(&self, name: &str) -> Vec<&str> {
        self.names_of(self.by_filename.get(name))
    }

    /// Languages an extension (with its dot, any case) names.
    pub fn by_extension(&self, ext: &str) -> Vec<&str> {
        self.names_of(self.by_extension.get(&ext.to_lowercase()))
    }

    /// Languages an interpreter (`python3` is looked up as `python3`, then `python`).
    pub fn by_interpreter(&self, interpreter: &str) -> Vec<&str> {
        let found = self.by_interpreter.get(interpreter).or_else(|| {
            let base = interpreter.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
            self.by_interpreter.get(base)
        });
        self.names_of(found)
    }

    /// The display colour Linguist gives a language, for charts.
    pub fn color(&self, name: &str) -> Option<&str> {
        let i = *self.by_name.get(name)?;
        self.entries[i].color.as_deref()
    }

    /// A language's Linguist type; a name Linguist does not know counts as programming.
    pub fn kind(&self, name: &str) -> Kind {
        self.by_name
            .get(name)
            .map_or(Kind::Programming, |i| self.entries[*i].kind)
    }

    fn by_alias(&self, alias: &str) -> Option<&str> {
        let i = *self.by_alias.get(&alias.to_lowercase())?;
        Some(self.entries[i].name.as_str())
    }

    fn names_of(&self, ids: Option<&Vec<usize>>) -> Vec<&str> {
        ids.map(|v| v.iter().map(|i| self.entries[*i].name.as_str()).collect())
            .unwrap_or_default()
    }
}

/// The extensions of a file name, longest first: `a.tar.gz` → `.tar.gz`, `.gz`.
/// A leading dot (`.bashrc`) is part of the name, not an extension.
pub fn extensions(file_name: &str) -> impl Iterator<Item = &str> {
    let start = usize::from(file_name.starts_with('.'));
    file_name
        .char_indices()
        .skip(start)
        .filter(|(_, c)| *c == '.')
        .map(move |(i, _)| &file_name[i..])
}

/// Detects the language of a file from its path and (text) content.
pub fn detect(path: &str, text: &str) -> Option<Detected> {
    let l = linguist();
    let file_name = path.rsplit('/').next().unwrap_or(path);
    // every name below comes from `l`'s own tables, so it lives as long as `l`
    let found = |name: &'static str, method| {
        Some(Detected {
            name,
            kind: l.kind(name),
            method,
        })
    };
    if let [name] = l.by_filename(file_name)[..] {
        return found(name, Method::Filename);
    }
    let mut candidates: Vec<&str> = Vec::new();
    let mut extension = "";
    for ext in extensions(file_name) {
        candidates = l.by_extension(ext);
        if !candidates.is_empty() {
            extension = ext;
            break;
        }
    }
    match candidates[..] {
        [name] => return found(name, Method::Extension),
        [] => {
            // extensionless (or unknown extension): what the file says about itself
            if let Some(name) = shebang(text).and_then(|i| l.by_interpreter(i).first().copied()) {
                return found(name, Method::Shebang);
            }
            if extension.is_empty()
                && let Some(name) = modeline(text).and_then(|m| l.by_alias(m))
            {
                return found(name, Method::Modeline);
            }
            return None;
        }
        _ => {}
    }
    if let Some(interpreter) = shebang(text) {
        let named = l.by_interpreter(interpreter);
        if let Some(name) = candidates.iter().find(|c| named.contains(c)) {
            return found(name, Method::Shebang);
        }
    }
    if let Some((name, matched)) = heuristics::decide(&extension.to_lowercase(), &candidates, text)
    {
        return found(
            name,
            if matched {
                Method::Heuristic
            } else {
                Method::Default
            },
        );
    }
    let name = heuristics::most_common(&candidates);
    found(name, Method::Default)
}

/// The language a `linguist-language` attribute names: a Linguist name exactly
/// (`Objective-C`), else a name or alias in any case (`perl`, `cpp`); `None` for a name
/// Linguist does not know.
pub fn by_attribute(value: &str) -> Option<Detected> {
    let l = linguist();
    let name = match l.by_name.get_key_value(value) {
        Some((name, _)) => name.as_str(),
        None => l.by_alias(value)?,
    };
    Some(Detected {
        name,
        kind: l.kind(name),
        method: Method::Attribute,
    })
}

/// The interpreter a `#!` line names: `#!/usr/bin/env -S python3 -u` → `python3`.
pub fn shebang(text: &str) -> Option<&str> {
    let line = text.strip_prefix("#!")?.lines().next()?;
    let mut words = line.split_whitespace();
    let first = words.next()?;
    let interpreter = if first.ends_with("/env") {
        words.find(|w| !w.starts_with('-') && !w.contains('='))?
    } else {
        first.rsplit('/').next()?
    };
    Some(interpreter)
}

/// The language an Emacs (`-*- mode: ruby -*-`, `-*- python -*-`) or Vim
/// (`vim: set ft=perl:`, `vi: syntax=c`) modeline names, in the first or last 5 lines.
pub fn modeline(text: &str) -> Option<&str> {
    let lines: Vec<&str> = text.lines().collect();
    let n = lines.len();
    let near = lines
        .iter()
        .take(5)
        .chain(lines.iter().skip(n.saturating_sub(5).max(5)));
    for line in near {
        if let Some(rest) = line.split("-*-").nth(1) {
            for part in rest.split(';') {
                let part = part.trim();
                let value = match part.split_once(':') {
                    Some((k, v)) if k.trim().eq_ignore_ascii_case("mode") => v.trim(),
                    Some(_) => continue,
                    None => part,
                };
                if !value.is_empty() {
                    return Some(value);
                }
            }
        }
        for marker in ["vim:", "vi:", "ex:"] {
            if let Some(rest) = line.split(marker).nth(1) {
                for setting in rest.split([' ', ':']) {
                    let setting = setting.trim();
                    for key in ["ft=", "filetype=", "syntax=", "syn="] {
                        if let Some(v) = setting.strip_prefix(key)
                            && !v.is_empty()
                        {
                            return Some(v);
                        }
                    }
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests;
