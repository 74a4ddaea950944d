//! The repository's `.gitattributes`, read with the tree, for GitHub Linguist's
//! overrides: `linguist-language`, `linguist-vendored`, `linguist-generated` and
//! `linguist-documentation` travel with each file (`linguist` on the wire) and the
//! consumer applies them. Patterns, macros and precedence are git's, through
//! `gix-attributes` (the gitoxide crate that implements them): a deeper file's patterns
//! win over a shallower one's, a later line over an earlier one, macros are read from
//! the top-level file only. Only the repository's own files count, never `.git/info`
//! or the user's global attributes, so a run reads the same attributes on any machine.
//!
//! A repository is input like any other: a `.gitattributes` larger than
//! [`MAX_FILE_BYTES`] is left out (git itself ignores huge ones), at most
//! [`MAX_TOTAL_BYTES`] of them are read, and parsing is lenient (a line it cannot read
//! is skipped).

use std::path::{Path, PathBuf};

use gix_attributes::search::{MetadataCollection, Outcome};
use gix_attributes::{Search, StateRef};
use tributary_events::v2::{Linguist, MAX_LANGUAGE_NAME};

use super::source::Kind;

/// A `.gitattributes` larger than this is left out.
pub const MAX_FILE_BYTES: usize = 1 << 20;
/// At most this much of all `.gitattributes` together is read.
pub const MAX_TOTAL_BYTES: usize = 16 << 20;
const FILE_NAME: &str = ".gitattributes";
const NAMES: [&str; 4] = [
    "linguist-language",
    "linguist-vendored",
    "linguist-generated",
    "linguist-documentation",
];

/// The attribute patterns of one source.
#[derive(Default)]
pub struct Attributes {
    search: Search,
    collection: MetadataCollection,
    /// Whether any `.gitattributes` was read (most repositories have none: no lookups).
    any: bool,
}

impl std::fmt::Debug for Attributes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attributes")
            .field("any", &self.any)
            .finish()
    }
}

/// Why `.gitattributes` files were not read (the run goes on without them).
#[derive(Debug, thiserror::Error)]
pub enum AttributesError {
    #[error("cannot read the repository's .gitattributes: {0}")]
    Git(#[from] git2::Error),
}

impl Attributes {
    /// Builds the patterns from `(folder, bytes)` pairs: the folder each file is in,
    /// relative to the root (`""` for the top), in any order.
    pub fn from_files(mut files: Vec<(String, Vec<u8>)>) -> Self {
        // shallow first: the search tries later lists first, so deeper files win
        files.sort_by(|a, b| {
            let depth = |d: &str| {
                if d.is_empty() {
                    0
                } else {
                    d.split('/').count()
                }
            };
            depth(&a.0).cmp(&depth(&b.0)).then_with(|| a.0.cmp(&b.0))
        });
        let mut attrs = Attributes::default();
        let mut total = 0usize;
        for (folder, bytes) in files {
            if bytes.len() > MAX_FILE_BYTES || total + bytes.len() > MAX_TOTAL_BYTES {
                tracing::warn!(
                    folder = %folder.escape_debug(),
                    bytes = bytes.len(),
                    "a .gitattributes left out: larger than the publisher reads"
                );
                continue;
            }
            total += bytes.len();
            let top = folder.is_empty();
            let source = PathBuf::from(if top {
                FILE_NAME.to_owned()
            } else {
                format!("{folder}/{FILE_NAME}")
            });
            // the source's folder, relative to the root `""`, is where its patterns apply
            attrs.search.add_patterns_buffer(
                &bytes,
                source,
                Some(Path::new("")),
                &mut attrs.collection,
                top, // macros only from the top-level file, as git reads them
            );
            attrs.any = true;
        }
        attrs
    }

    /// Reads the `.gitattributes` of what `kind` walks: a folder's files, or those in a
    /// commit's tree (a delta's new commit). Blocking.
    pub fn load(kind: &Kind) -> Result<Self, AttributesError> {
        let files = match kind {
            Kind::Folder { root } => folder_files(root),
            Kind::Commit {
                repo_dir, commit, ..
            } => commit_files(repo_dir, *commit)?,
        };
        Ok(Self::from_files(files))
    }

    /// What the attributes say about `path` (relative, `/`-separated).
    pub fn linguist(&self, path: &str) -> Linguist {
        let mut out = Linguist::default();
        if !self.any {
            return out;
        }
        let mut outcome = Outcome::default();
        outcome.initialize_with_selection(&self.collection, NAMES);
        self.search.pattern_matching_relative_path(
            path.into(),
            gix_attributes::glob::pattern::Case::Sensitive,
            Some(false),
            &mut outcome,
        );
        for m in outcome.iter_selected() {
            let flag = match m.assignment.state {
                StateRef::Set => Some(true),
                StateRef::Unset => Some(false),
                // `linguist-vendored=true` / `=false`, as Linguist also reads them
                StateRef::Value(v) => match v.as_bstr().to_string().as_str() {
                    "true" => Some(true),
                    "false" => Some(false),
                    _ => None,
                },
                StateRef::Unspecified => None,
            };
            match m.assignment.name.as_str() {
                "linguist-language" => {
                    if let StateRef::Value(v) = m.assignment.state {
                        let name = v.as_bstr().to_string();
                        // kept only when it can travel (the consumer checks the name)
                        if !name.is_empty()
                            && name.chars().count() <= MAX_LANGUAGE_NAME
                            && !name.chars().any(char::is_control)
                        {
                            out.language = Some(name);
                        }
                    }
                }
                "linguist-vendored" => out.vendored = flag,
                "linguist-generated" => out.generated = flag,
                "linguist-documentation" => out.documentation = flag,
                _ => {}
            }
        }
        out
    }
}

/// A folder's `.gitattributes` files, walked as the publisher walks it (its ignore
/// files obeyed, `.git` skipped, links not followed).
fn folder_files(root: &Path) -> Vec<(String, Vec<u8>)> {
    let walker = super::walk::folder_walker(root).build();
    let mut files = Vec::new();
    for entry in walker.flatten() {
        if entry.file_name() != FILE_NAME || !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let Some(folder) = entry
            .path()
            .parent()
            .and_then(|p| p.strip_prefix(root).ok())
            .and_then(Path::to_str)
        else {
            continue;
        };
        let too_large = entry
            .metadata()
            .map_or(true, |m| m.len() > MAX_FILE_BYTES as u64);
        if too_large {
            tracing::warn!(
                folder,
                "a .gitattributes left out: larger than the publisher reads"
            );
            continue;
        }
        match std::fs::read(entry.path()) {
            Ok(bytes) => files.push((folder.to_owned(), bytes)),
            Err(e) => tracing::warn!(folder, error = %e, "a .gitattributes could not be read"),
        }
    }
    files
}

/// The `.gitattributes` blobs of a commit's tree.
fn commit_files(repo_dir: &Path, commit: git2::Oid) -> Result<Vec<(String, Vec<u8>)>, git2::Error> {
    let repo = git2::Repository::open(repo_dir)?;
    let tree = repo.find_commit(commit)?.tree()?;
    let odb = repo.odb()?;
    let mut found = Vec::new();
    tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
        if entry.kind() == Some(git2::ObjectType::Blob)
            && entry.name_bytes() == FILE_NAME.as_bytes()
        {
            found.push((dir.trim_end_matches('/').to_owned(), entry.id()));
        }
        git2::TreeWalkResult::Ok
    })?;
    let mut files = Vec::new();
    for (folder, id) in found {
        let (size, _) = odb.read_header(id)?;
        if size > MAX_FILE_BYTES {
            tracing::warn!(folder = %folder.escape_debug(), "a .gitattributes left out: larger than the publisher reads");
            continue;
        }
        files.push((folder, repo.find_blob(id)?.content().to_vec()));
    }
    Ok(files)
}

#[cfg(test)]
mod tests;
