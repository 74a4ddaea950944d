//! `--include` / `--exclude`, compiled once when the settings are validated, with
//! gitignore semantics (the `ignore` crate's matcher, the one ripgrep uses): a pattern
//! without a slash matches a file or folder of that name at any depth (`unicore`
//! excludes `lib/unicore/To/Age.pl`), a leading `/` anchors it at the root, a trailing
//! `/` matches folders only, `**` spans folders, `!` re-includes. A file is matched by
//! its own path or any of its folders'.

use ignore::gitignore::{Gitignore, GitignoreBuilder};

use crate::error::ConfigError;

#[derive(Debug, Clone)]
pub struct Filter {
    include: Option<Gitignore>,
    exclude: Gitignore,
}

fn compile(patterns: &[String]) -> Result<Gitignore, ConfigError> {
    let mut b = GitignoreBuilder::new("");
    for p in patterns {
        // the gitignore matcher takes a malformed glob (`a/[b`) as a literal name;
        // a typo is refused instead
        let glob = p.trim_start_matches('!').trim_matches('/');
        globset::Glob::new(glob).map_err(|source| ConfigError::Glob {
            glob: p.clone(),
            source,
        })?;
        b.add_line(None, p).map_err(|source| ConfigError::Pattern {
            pattern: p.clone(),
            source,
        })?;
    }
    b.build().map_err(|source| ConfigError::Pattern {
        pattern: patterns.join(" "),
        source,
    })
}

impl Filter {
    pub fn new(include: &[String], exclude: &[String]) -> Result<Self, ConfigError> {
        Ok(Self {
            include: if include.is_empty() {
                None
            } else {
                Some(compile(include)?)
            },
            exclude: compile(exclude)?,
        })
    }

    /// Whether the file at the relative `path` is indexed.
    pub fn accepts(&self, path: &str) -> bool {
        let hit = |g: &Gitignore| g.matched_path_or_any_parents(path, false).is_ignore();
        self.include.as_ref().is_none_or(hit) && !hit(&self.exclude)
    }
}

#[cfg(test)]
mod tests;
