//! The durable cursor: the last indexed commit per (project, branch), in one JSON file
//! written atomically (temporary file, fsync, rename, fsync of the folder). It advances
//! only after every event of a run was acknowledged, so a restart neither re-publishes
//! finished work nor skips a commit.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::PublishError;

#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    /// `project` → `branch` → commit SHA.
    cursors: BTreeMap<String, BTreeMap<String, String>>,
}

#[derive(Debug)]
pub struct CursorStore {
    path: PathBuf,
    state: std::sync::Mutex<State>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> PublishError + '_ {
    move |source| PublishError::Io {
        path: path.display().to_string(),
        source,
    }
}

impl CursorStore {
    /// Opens (or starts) the cursor file in `dir`. A corrupt file is an error, not a
    /// silent fresh start (that would re-publish everything).
    pub fn open(dir: &Path) -> Result<Self, PublishError> {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let path = dir.join("cursors.json");
        let state = match std::fs::read(&path) {
            Ok(b) => serde_json::from_slice(&b).map_err(|source| PublishError::CorruptCursor {
                path: path.display().to_string(),
                source,
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => State::default(),
            Err(e) => return Err(io(&path)(e)),
        };
        Ok(CursorStore {
            path,
            state: std::sync::Mutex::new(state),
        })
    }

    pub fn get(&self, project: &str, branch: &str) -> Option<String> {
        let s = self.state.lock().expect("cursor lock");
        s.cursors.get(project)?.get(branch).cloned()
    }

    /// Records `commit` as indexed and writes the file before returning.
    pub fn advance(&self, project: &str, branch: &str, commit: &str) -> Result<(), PublishError> {
        let mut s = self.state.lock().expect("cursor lock");
        s.cursors
            .entry(project.to_owned())
            .or_default()
            .insert(branch.to_owned(), commit.to_owned());
        let bytes = serde_json::to_vec_pretty(&*s).expect("state serializes");
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let tmp = dir.join(format!(".cursors.json.{}", std::process::id()));
        let mut f = std::fs::File::create(&tmp).map_err(io(&tmp))?;
        f.write_all(&bytes).map_err(io(&tmp))?;
        f.sync_all().map_err(io(&tmp))?;
        std::fs::rename(&tmp, &self.path).map_err(io(&self.path))?;
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}
