//! File history from the repository's tree deltas: for each path, the commits that
//! changed it within a window of days before the indexed commit (churn) and the newest
//! commit that changed it.
//!
//! Each commit's tree is compared with its parent's (names only: no file content is
//! read or diffed); a merge changes nothing of its own, as `git log` shows it. The fold
//! is kept per project, repository and ref in the history folder (watch mode: under its
//! state folder), with the commit it reached: the next run walks only the commits since
//! — a tree delta each — and drops what fell out of the window. Without a kept fold
//! (a first run, a force-push, a one-off `publish` without `--history-dir`) the walk
//! covers the window, then goes on only as far as needed to find the last commit of
//! files the window did not touch, never past `max_commits` commits. A shallow clone
//! (remote sources are fetched at depth 1) has no history: its files carry none.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::Digest as _;
use time::OffsetDateTime;
use tributary_events::v2::FileHistory;

use crate::config::{RunTarget, Settings};

/// Bumped when the kept fold's meaning changes: an older one is rebuilt.
const STATE_VERSION: u32 = 1;

/// What a run asks of the history.
#[derive(Debug, Clone)]
pub struct HistoryRequest {
    pub settings: HistorySettings,
    /// The project, repository and ref the fold belongs to (its name in `dir`).
    pub key: String,
}

impl HistoryRequest {
    /// `None` when history is off.
    pub fn for_run(settings: &Settings, target: &RunTarget) -> Option<Self> {
        (settings.history.window_days > 0).then(|| HistoryRequest {
            settings: settings.history.clone(),
            key: format!(
                "{}\n{}\n{}",
                target.project,
                target.repo,
                target.git_ref.as_deref().unwrap_or("HEAD")
            ),
        })
    }

    fn file(&self) -> Option<PathBuf> {
        let dir = self.settings.dir.as_ref()?;
        let id = hex::encode(sha2::Sha256::digest(self.key.as_bytes()));
        Some(dir.join(format!("{}.json", &id[..32])))
    }
}

/// History settings of the publisher.
#[derive(Debug, Clone)]
pub struct HistorySettings {
    /// 0: no history.
    pub window_days: u32,
    /// Commits read at most in one run.
    pub max_commits: usize,
    /// Where folds are kept between runs; `None`: not kept.
    pub dir: Option<PathBuf>,
}

/// One path's fold.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
struct PathState {
    /// The newest commit that changed the path, and its commit time (seconds).
    last: Option<(String, i64)>,
    /// Commit times of the commits within the window that changed it.
    times: Vec<i64>,
}

/// The fold as it is kept.
#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    version: u32,
    key: String,
    window_days: u32,
    /// The commit the fold reached.
    tip: String,
    paths: HashMap<String, PathState>,
}

/// The files' histories at one commit.
#[derive(Debug, Default)]
pub struct History {
    window_days: u32,
    paths: HashMap<String, PathState>,
}

impl History {
    /// What the history says of `path`; `None` when there is no history.
    pub fn get(&self, path: &str) -> Option<FileHistory> {
        if self.window_days == 0 {
            return None;
        }
        let state = self.paths.get(path);
        Some(FileHistory {
            commits: state.map_or(0, |s| s.times.len() as u32),
            window_days: self.window_days,
            last_commit: state.and_then(|s| s.last.as_ref().map(|(c, _)| c.clone())),
            last_changed_at: state
                .and_then(|s| s.last.as_ref())
                .and_then(|(_, t)| OffsetDateTime::from_unix_timestamp(*t).ok()),
        })
    }

    /// The history at `commit` of the repository in `repo_dir`: folded on from the
    /// kept fold when it reached an ancestor, else from the window; an empty history
    /// (files carry none) when the repository cannot say (shallow, unreadable), with
    /// a warning.
    pub fn load(repo_dir: &Path, commit: git2::Oid, request: &HistoryRequest) -> History {
        match fold(repo_dir, commit, request) {
            Ok(Some(h)) => h,
            Ok(None) => History::default(),
            Err(e) => {
                tracing::warn!(error = %e.message(), "files go without their history: the repository's history could not be read");
                History::default()
            }
        }
    }
}

fn read_state(request: &HistoryRequest) -> Option<State> {
    let file = request.file()?;
    let bytes = std::fs::read(&file).ok()?;
    match serde_json::from_slice::<State>(&bytes) {
        Ok(s)
            if s.version == STATE_VERSION
                && s.key == request.key
                && s.window_days == request.settings.window_days =>
        {
            Some(s)
        }
        Ok(_) => None,
        Err(e) => {
            tracing::warn!(file = %file.display(), error = %e, "a kept history fold is unreadable; it is rebuilt");
            None
        }
    }
}

fn write_state(request: &HistoryRequest, state: &State) {
    let Some(file) = request.file() else { return };
    let written = (|| -> std::io::Result<()> {
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = file.with_extension("json.tmp");
        std::fs::write(
            &tmp,
            serde_json::to_vec(state).map_err(std::io::Error::other)?,
        )?;
        std::fs::rename(&tmp, &file)
    })();
    if let Err(e) = written {
        tracing::warn!(file = %file.display(), error = %e, "the history fold could not be kept; the next run walks the window again");
    }
}

/// The paths a commit changed against its parent (the empty tree for a root commit);
/// nothing for a merge.
fn changed_paths(
    repo: &git2::Repository,
    commit: &git2::Commit<'_>,
) -> Result<Vec<String>, git2::Error> {
    if commit.parent_count() > 1 {
        return Ok(Vec::new());
    }
    let tree = commit.tree()?;
    let parent_tree = match commit.parent_count() {
        0 => None,
        _ => Some(commit.parent(0)?.tree()?),
    };
    let mut opts = git2::DiffOptions::new();
    opts.skip_binary_check(true).ignore_submodules(true);
    let diff = repo.diff_tree_to_tree(parent_tree.as_ref(), Some(&tree), Some(&mut opts))?;
    Ok(diff
        .deltas()
        .filter_map(|d| {
            d.new_file()
                .path()
                .or_else(|| d.old_file().path())
                .and_then(|p| p.to_str())
                .map(str::to_owned)
        })
        .collect())
}

fn fold(
    repo_dir: &Path,
    commit: git2::Oid,
    request: &HistoryRequest,
) -> Result<Option<History>, git2::Error> {
    let repo = git2::Repository::open(repo_dir)?;
    if repo.is_shallow() {
        tracing::info!("a shallow clone has no history: files go without theirs");
        return Ok(None);
    }
    let head = repo.find_commit(commit)?;
    let since = head.time().seconds() - i64::from(request.settings.window_days) * 86_400;
    // the kept fold, when it reached this commit or one of its ancestors
    let kept = read_state(request).and_then(|s| {
        let tip = git2::Oid::from_str(&s.tip).ok()?;
        (tip == commit || repo.graph_descendant_of(commit, tip).unwrap_or(false))
            .then_some((tip, s))
    });
    let incremental = kept.is_some();
    let kept_tip = kept.as_ref().map(|(tip, _)| *tip);
    let mut paths: HashMap<String, PathState> = kept.map(|(_, s)| s.paths).unwrap_or_default();
    let mut walk = repo.revwalk()?;
    walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::TIME)?;
    walk.push(commit)?;
    if let Some(tip) = kept_tip {
        walk.hide(tip)?;
    }
    // a first fold goes past the window only for the last commits of files the window
    // left without one
    let mut unknown: HashSet<String> = HashSet::new();
    if !incremental {
        let tree = head.tree()?;
        tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
            if entry.kind() == Some(git2::ObjectType::Blob) {
                unknown.insert(format!("{dir}{}", entry.name().unwrap_or("")));
            }
            git2::TreeWalkResult::Ok
        })?;
    }
    // new commits come newest first: the first to change a path is its last commit
    let mut seen_now: HashSet<String> = HashSet::new();
    for (read, oid) in walk.enumerate() {
        if read >= request.settings.max_commits {
            tracing::warn!(
                commits = read,
                "history: the walk stopped at its bound; older changes are not counted"
            );
            break;
        }
        let c = repo.find_commit(oid?)?;
        let t = c.time().seconds();
        if t < since && (incremental || unknown.is_empty()) {
            break;
        }
        for path in changed_paths(&repo, &c)? {
            let state = paths.entry(path.clone()).or_default();
            if seen_now.insert(path.clone()) {
                // this run's newest change wins over the kept one
                state.last = Some((c.id().to_string(), t));
                unknown.remove(&path);
            }
            if t >= since {
                state.times.push(t);
            }
        }
    }
    // what fell out of the window, and paths with nothing left to say
    for s in paths.values_mut() {
        s.times.retain(|t| *t >= since);
    }
    paths.retain(|_, s| s.last.is_some() || !s.times.is_empty());
    let state = State {
        version: STATE_VERSION,
        key: request.key.clone(),
        window_days: request.settings.window_days,
        tip: commit.to_string(),
        paths,
    };
    write_state(request, &state);
    Ok(Some(History {
        window_days: request.settings.window_days,
        paths: state.paths,
    }))
}

#[cfg(test)]
mod tests;
