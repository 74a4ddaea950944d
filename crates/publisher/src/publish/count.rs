//! How many items a run's walk will hand over, counted ahead on a thread of its own for
//! the progress display: names, modes and tree entries only, no file is read. The count
//! follows the walkers' rules (the filter, symbolic links, submodules and invalid names
//! count, since they are reported as skipped; directories and special files do not), so
//! that progress reaches 100 % when the walk ends. It is an estimate all the same: a
//! folder can change while it is walked.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::filter::Filter;
use super::source::Kind;

/// The count, published once complete.
#[derive(Debug, Default)]
pub struct Expected {
    items: AtomicU64,
    done: AtomicBool,
}

impl Expected {
    /// The number of items the walk will hand over, once counted.
    pub fn total(&self) -> Option<u64> {
        self.done
            .load(Ordering::Acquire)
            .then(|| self.items.load(Ordering::Relaxed))
    }

    fn finish(&self, items: u64) {
        self.items.store(items, Ordering::Relaxed);
        self.done.store(true, Ordering::Release);
    }
}

/// Starts counting what walking `kind` will hand over; the total appears in the returned
/// [`Expected`] when the count is done (never, if it fails: progress then shows no
/// total).
pub fn spawn_count(kind: Kind, filter: Filter) -> Arc<Expected> {
    let expected = Arc::new(Expected::default());
    let out = expected.clone();
    let spawned = std::thread::Builder::new()
        .name("tributary-count".into())
        .spawn(move || {
            let counted = match &kind {
                Kind::Folder { root } => Some(count_folder(root, &filter)),
                Kind::Commit {
                    repo_dir,
                    commit,
                    base,
                    ..
                } => count_commit(repo_dir, *commit, *base, &filter).ok(),
            };
            if let Some(n) = counted {
                out.finish(n);
            }
        });
    if let Err(e) = spawned {
        tracing::debug!(error = %e, "no thread to count the run's files; progress shows no total");
    }
    expected
}

fn count_folder(root: &Path, filter: &Filter) -> u64 {
    let walker = super::walk::folder_walker(root).build();
    let mut n = 0;
    for entry in walker {
        let Ok(entry) = entry else {
            n += 1; // reported as a failure
            continue;
        };
        let Some(ft) = entry.file_type() else {
            continue;
        };
        if ft.is_dir() || !(ft.is_file() || ft.is_symlink()) {
            continue;
        }
        let rel = entry.path().strip_prefix(root).unwrap_or(entry.path());
        match rel.to_str() {
            None => n += 1,
            Some(rel) if filter.accepts(rel) => n += 1,
            Some(_) => {}
        }
    }
    n
}

fn count_commit(
    repo_dir: &Path,
    commit: git2::Oid,
    base: Option<git2::Oid>,
    filter: &Filter,
) -> Result<u64, git2::Error> {
    let repo = git2::Repository::open(repo_dir)?;
    let tree_of = |id| repo.find_commit(id).and_then(|c| c.tree());
    let new = tree_of(commit)?;
    if let Some(base) = base {
        let old = tree_of(base)?;
        let diff = repo.diff_tree_to_tree(Some(&old), Some(&new), None)?;
        let n = diff
            .deltas()
            .filter(|d| {
                let file = match d.status() {
                    git2::Delta::Deleted => d.old_file(),
                    git2::Delta::Added | git2::Delta::Modified | git2::Delta::Typechange => {
                        d.new_file()
                    }
                    _ => return false,
                };
                filter.accepts(&String::from_utf8_lossy(
                    file.path_bytes().unwrap_or_default(),
                ))
            })
            .count();
        return Ok(n as u64);
    }
    let mut n = 0u64;
    new.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
        if let Some(git2::ObjectType::Blob | git2::ObjectType::Commit) = entry.kind() {
            match entry.name() {
                Ok(name) if !filter.accepts(&format!("{dir}{name}")) => {}
                _ => n += 1,
            }
        }
        git2::TreeWalkResult::Ok
    })?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The count equals what the walk hands over: files, symlinks and invalid names
    /// count; filtered files, ignored files and `.git` do not.
    #[tokio::test]
    async fn a_folder_is_counted_as_the_walk_sees_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        for (p, text) in [
            ("a.rs", "fn a() {}"),
            ("src/b.rs", "fn b() {}"),
            ("src/c.txt", "c"),
            ("target/out.bin", "x"),
            (".gitignore", "target/\n"),
            (".git/HEAD", "ref: refs/heads/main"),
        ] {
            let path = root.join(p);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, text).expect("write");
        }
        std::os::unix::fs::symlink("a.rs", root.join("link.rs")).expect("symlink");
        let all = Filter::new(&[], &[]).expect("filter");
        assert_eq!(
            count_folder(root, &all),
            5,
            "a.rs, src/b.rs, src/c.txt, .gitignore, link.rs"
        );
        let rust = Filter::new(&["**/*.rs".to_owned()], &[]).expect("filter");
        assert_eq!(count_folder(root, &rust), 3);
        let no_src = Filter::new(&[], &["src".to_owned()]).expect("filter");
        assert_eq!(count_folder(root, &no_src), 3);

        let expected = spawn_count(
            Kind::Folder {
                root: root.to_path_buf(),
            },
            all,
        );
        for _ in 0..500 {
            if expected.total().is_some() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert_eq!(expected.total(), Some(5));
    }
}
