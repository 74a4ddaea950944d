//! Include/exclude globs, compiled once when the settings are validated.

use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::error::ConfigError;

/// Include/exclude globs, matched against the whole relative path (`*` crosses `/`).
#[derive(Debug, Clone)]
pub struct Filter {
    include: Option<GlobSet>,
    exclude: GlobSet,
}

impl Filter {
    pub fn new(include: &[String], exclude: &[String]) -> Result<Self, ConfigError> {
        let build = |globs: &[String]| -> Result<GlobSet, ConfigError> {
            let mut b = GlobSetBuilder::new();
            for g in globs {
                b.add(Glob::new(g).map_err(|source| ConfigError::Glob {
                    glob: g.clone(),
                    source,
                })?);
            }
            b.build().map_err(|source| ConfigError::Glob {
                glob: globs.join(" "),
                source,
            })
        };
        let include = if include.is_empty() {
            None
        } else {
            Some(build(include)?)
        };
        Ok(Self {
            include,
            exclude: build(exclude)?,
        })
    }

    pub fn accepts(&self, path: &str) -> bool {
        self.include.as_ref().is_none_or(|i| i.is_match(path)) && !self.exclude.is_match(path)
    }
}
