//! `tributary-publisher watch`: keeps the branches listed in a watch file indexed.
//!
//! One worker per watched branch (project, branch). A worker sleeps on a `Notify`, so
//! any number of triggers — polls that saw a new head, webhooks, the start-up catch-up —
//! coalesce into one pending run; a push during a run makes exactly one more run, with
//! the newest head. A run fetches the branch into the repository's bare mirror, diffs
//! the last indexed commit (the cursor) against the new head, and publishes only the
//! difference (a full run without a cursor, or when the head does not descend from it);
//! the cursor advances only after every event of the run was acknowledged.

mod config;
pub use config::WatchFile;
mod cursor;
pub(crate) mod delivery;
mod mirror;
pub mod webhook;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::{RunTarget, Settings};
use crate::error::{PublishError, WatchFileError};
use crate::internal_events::{WatchPolled, WatchRunFinished, WatchTargets};
use config::{RepoSpec, Target};
use cursor::CursorStore;
use mirror::Mirror;
use tributary_events::ProjectName;
use webhook::{Hooks, Push, Secrets};

/// How the watcher runs; every run is made with `settings` (Kafka, storage,
/// strategies, limits) and a target of its own.
#[derive(Debug, Clone)]
pub struct WatchConfig {
    pub file: PathBuf,
    pub state_dir: PathBuf,
    /// Where webhooks are received; `None` for polling only.
    pub listen: Option<SocketAddr>,
    /// How often the watch file's modification time is checked.
    pub reload_check: Duration,
    /// Longest wait between retries of a failing repository.
    pub max_backoff: Duration,
    pub settings: Settings,
}

/// Starts watching; returns once `cancel` fires and every worker has stopped. A run in
/// flight is cancelled, its cursor not advanced (the next start redoes it).
pub async fn watch(
    cfg: WatchConfig,
    reload: Arc<Notify>,
    cancel: CancellationToken,
) -> Result<Option<SocketAddr>, PublishError> {
    let (watcher, addr) = Watcher::start(cfg, cancel.clone()).await?;
    let w = watcher.clone();
    let token = cancel.clone();
    watcher
        .tracker
        .spawn(async move { w.reload_loop(reload, token).await });
    cancel.cancelled().await;
    watcher.tracker.close();
    watcher.tracker.wait().await;
    Ok(addr)
}

struct TargetState {
    spec: RepoSpec,
    notify: Notify,
    /// When the oldest push not yet published arrived (push-to-publish latency).
    pushed_at: Mutex<Option<Instant>>,
    cancel: CancellationToken,
}

/// The running watcher; tests drive it through [`Watcher::start`].
pub struct Watcher {
    cfg: WatchConfig,
    file: RwLock<Arc<WatchFile>>,
    secrets: RwLock<Secrets>,
    targets: Mutex<HashMap<Target, Arc<TargetState>>>,
    pollers: Mutex<HashMap<String, CancellationToken>>,
    /// One fetch at a time per mirror (branches of one repository share it).
    fetching: Mutex<HashMap<PathBuf, Arc<tokio::sync::Mutex<()>>>>,
    cursors: CursorStore,
    tracker: TaskTracker,
    cancel: CancellationToken,
}

impl std::fmt::Debug for Watcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watcher")
            .field("file", &self.cfg.file)
            .finish_non_exhaustive()
    }
}

fn read_file(path: &PathBuf) -> Result<(WatchFile, Option<SystemTime>), PublishError> {
    let text = std::fs::read_to_string(path).map_err(|source| PublishError::Io {
        path: path.display().to_string(),
        source,
    })?;
    let mtime = std::fs::metadata(path).and_then(|m| m.modified()).ok();
    Ok((WatchFile::parse(&text)?, mtime))
}

fn resolve_secrets(file: &WatchFile) -> Secrets {
    let get = |r: &Option<String>, name: &str| {
        let r = tributary_events::v2::CredentialRef::try_from(r.clone()?).ok()?;
        match tributary_content::git::resolve_secret(&r) {
            Ok(s) if !s.is_empty() => Some(s.into_bytes()),
            Ok(_) | Err(_) => {
                tracing::warn!(
                    provider = name,
                    "webhook secret unavailable: its deliveries are refused"
                );
                None
            }
        }
    };
    Secrets {
        github: get(&file.webhooks.github_secret, "github"),
        gitlab: get(&file.webhooks.gitlab_token, "gitlab"),
        gitea: get(&file.webhooks.gitea_secret, "gitea"),
    }
}

impl Watcher {
    /// What fetching a repository with `credential` authenticates with.
    fn auth(
        &self,
        credential: Option<&crate::config::GitCredential>,
    ) -> tributary_content::git::GitAuth {
        tributary_content::git::GitAuth {
            secret: credential.map(|c| c.secret.clone()),
            host_keys: self.cfg.settings.git_host_keys.clone(),
        }
    }

    /// Loads the watch file and cursors, starts the webhook listener, a worker per
    /// branch and a poller per repository, and triggers a catch-up run for each branch.
    pub async fn start(
        cfg: WatchConfig,
        cancel: CancellationToken,
    ) -> Result<(Arc<Self>, Option<SocketAddr>), PublishError> {
        let (file, _) = read_file(&cfg.file)?;
        let cursors = CursorStore::open(&cfg.state_dir)?;
        let watcher = Arc::new(Watcher {
            secrets: RwLock::new(resolve_secrets(&file)),
            file: RwLock::new(Arc::new(file)),
            targets: Mutex::new(HashMap::new()),
            pollers: Mutex::new(HashMap::new()),
            fetching: Mutex::new(HashMap::new()),
            cursors,
            tracker: TaskTracker::new(),
            cancel,
            cfg,
        });
        let addr = match watcher.cfg.listen {
            None => None,
            Some(addr) => {
                let listener = tokio::net::TcpListener::bind(addr)
                    .await
                    .map_err(|source| PublishError::Io {
                        path: addr.to_string(),
                        source,
                    })?;
                let local = listener.local_addr().ok();
                let app = webhook::router(watcher.clone() as Arc<dyn Hooks>);
                let stop = watcher.cancel.clone();
                watcher.tracker.spawn(async move {
                    let _ = axum::serve(listener, app)
                        .with_graceful_shutdown(async move { stop.cancelled().await })
                        .await;
                });
                tracing::info!(addr = ?local, "receiving webhooks");
                local
            }
        };
        watcher.apply();
        Ok((watcher, addr))
    }

    /// Starts and stops workers and pollers to match the current watch file.
    fn apply(self: &Arc<Self>) {
        let file = self.file.read().expect("file lock").clone();
        let wanted = file.targets();
        let mut targets = self.targets.lock().expect("targets lock");
        targets.retain(|t, state| {
            let keep = wanted.get(t) == Some(&state.spec);
            if !keep {
                tracing::info!(project = %t.0, branch = %t.1, "no longer watched");
                state.cancel.cancel();
            }
            keep
        });
        for (t, spec) in wanted {
            if targets.contains_key(&t) {
                continue;
            }
            let state = Arc::new(TargetState {
                spec,
                notify: Notify::new(),
                pushed_at: Mutex::new(None),
                cancel: self.cancel.child_token(),
            });
            // catch up at once: a new branch has no cursor, a restart may have missed pushes
            state.notify.notify_one();
            let w = self.clone();
            let (target, s) = (t.clone(), state.clone());
            self.tracker.spawn(async move { w.worker(target, s).await });
            targets.insert(t, state);
        }
        WatchTargets {
            repositories: file.repositories.len(),
            branches: targets.len(),
        }
        .emit();
        drop(targets);
        let mut pollers = self.pollers.lock().expect("pollers lock");
        pollers.retain(|url, token| {
            let keep =
                file.poll_interval_secs > 0 && file.repositories.iter().any(|r| &r.url == url);
            if !keep {
                token.cancel();
            }
            keep
        });
        if file.poll_interval_secs > 0 {
            for r in &file.repositories {
                if pollers.contains_key(&r.url) {
                    continue;
                }
                let token = self.cancel.child_token();
                pollers.insert(r.url.clone(), token.clone());
                let w = self.clone();
                let url = r.url.clone();
                self.tracker
                    .spawn(async move { w.poller(url, token).await });
            }
        }
    }

    /// Re-reads the watch file when `reload` fires or its modification time changes,
    /// until `cancel`. [`watch`] runs it; tests drive it directly.
    pub async fn reload_loop(self: Arc<Self>, reload: Arc<Notify>, cancel: CancellationToken) {
        let mut last = std::fs::metadata(&self.cfg.file)
            .and_then(|m| m.modified())
            .ok();
        loop {
            tokio::select! {
                () = cancel.cancelled() => return,
                () = reload.notified() => {}
                () = tokio::time::sleep(self.cfg.reload_check) => {
                    let now = std::fs::metadata(&self.cfg.file).and_then(|m| m.modified()).ok();
                    if now == last {
                        continue;
                    }
                }
            }
            match read_file(&self.cfg.file) {
                Ok((file, mtime)) => {
                    last = mtime;
                    *self.secrets.write().expect("secrets lock") = resolve_secrets(&file);
                    *self.file.write().expect("file lock") = Arc::new(file);
                    tracing::info!(file = %self.cfg.file.display(), "watch file reloaded");
                    self.apply();
                }
                Err(e) => {
                    last = std::fs::metadata(&self.cfg.file)
                        .and_then(|m| m.modified())
                        .ok();
                    tracing::warn!(error = %tributary_runtime::chain(&e), "watch file not reloaded; keeping the previous one");
                }
            }
        }
    }

    /// Wakes a branch's worker; `pushed` marks when the push happened.
    pub fn trigger(&self, project: &str, branch: &str, pushed: Option<Instant>) -> bool {
        let targets = self.targets.lock().expect("targets lock");
        let Some(state) = targets.get(&(project.to_owned(), branch.to_owned())) else {
            return false;
        };
        if let Some(at) = pushed {
            let mut p = state.pushed_at.lock().expect("pushed lock");
            p.get_or_insert(at);
        }
        state.notify.notify_one();
        true
    }

    async fn poller(self: Arc<Self>, url: String, cancel: CancellationToken) {
        let mut failures: u32 = 0;
        loop {
            let file = self.file.read().expect("file lock").clone();
            let base = Duration::from_secs(file.poll_interval_secs.max(1));
            let wait = backoff(base, failures, self.cfg.max_backoff);
            tokio::select! {
                () = cancel.cancelled() => return,
                () = tokio::time::sleep(jitter(wait)) => {}
            }
            let Some(spec) = file.repositories.iter().find(|r| r.url == url).cloned() else {
                return;
            };
            let auth = self.auth(spec.credentials().ok().flatten().as_ref());
            let mirror = Mirror::new(&self.cfg.state_dir, &url, auth);
            let heads = tokio::task::spawn_blocking(move || mirror.remote_heads()).await;
            match heads {
                Ok(Ok(heads)) => {
                    failures = 0;
                    WatchPolled { ok: true }.emit();
                    for b in &spec.branches {
                        let Some(head) = heads.get(b) else { continue };
                        if self.cursors.get(&spec.project, b).as_deref() != Some(head.as_str()) {
                            self.trigger(&spec.project, b, None);
                        }
                    }
                }
                Ok(Err(e)) => {
                    failures = failures.saturating_add(1);
                    WatchPolled { ok: false }.emit();
                    tracing::warn!(project = %spec.project, error = %tributary_runtime::chain(&e), failures, "poll failed; backing off");
                }
                Err(_) => return,
            }
        }
    }

    async fn worker(self: Arc<Self>, target: Target, state: Arc<TargetState>) {
        let mut failures: u32 = 0;
        loop {
            tokio::select! {
                () = state.cancel.cancelled() => return,
                () = state.notify.notified() => {}
            }
            match self.run_once(&target, &state).await {
                Ok(()) => failures = 0,
                Err(e) => {
                    failures = failures.saturating_add(1);
                    let wait = backoff(Duration::from_secs(5), failures, self.cfg.max_backoff);
                    tracing::warn!(project = %target.0, branch = %target.1, error = %tributary_runtime::chain(&e), retry_in = ?wait, "indexing failed");
                    // retry after the backoff, or at once when a new trigger arrives
                    tokio::select! {
                        () = state.cancel.cancelled() => return,
                        () = state.notify.notified() => {}
                        () = tokio::time::sleep(wait) => {}
                    }
                    state.notify.notify_one();
                }
            }
        }
    }

    /// Fetches the branch and publishes what changed since the cursor.
    async fn run_once(&self, target: &Target, state: &TargetState) -> Result<(), PublishError> {
        let (project, branch) = target;
        let spec = &state.spec;
        let creds = spec.credentials()?;
        let mirror = Mirror::new(&self.cfg.state_dir, &spec.url, self.auth(creds.as_ref()));
        let lock = self
            .fetching
            .lock()
            .expect("fetch locks")
            .entry(mirror.dir.clone())
            .or_default()
            .clone();
        let guard = lock.lock().await;
        let m = mirror.clone();
        let b = branch.clone();
        let head = tokio::task::spawn_blocking(move || m.fetch(&b))
            .await
            .map_err(|_| PublishError::TaskPanicked("mirror fetch"))??;
        drop(guard);
        let cursor = self.cursors.get(project, branch);
        if cursor.as_deref() == Some(head.as_str()) {
            state.pushed_at.lock().expect("pushed lock").take();
            return Ok(());
        }
        let pushed_at = *state.pushed_at.lock().expect("pushed lock");
        let target = RunTarget {
            git_ref: Some(head.clone()),
            git_url: Some(spec.url.clone()),
            git_credentials: creds,
            git_url_fetched: true,
            base_commit: cursor.clone(),
            ..RunTarget::new(
                ProjectName::new(project.clone()).map_err(|source| WatchFileError::Project {
                    url: spec.url.clone(),
                    source,
                })?,
                mirror.dir.display().to_string(),
            )
        };
        let started = Instant::now();
        let report = crate::run(&self.cfg.settings, target, state.cancel.child_token()).await?;
        if report.cancelled {
            return Ok(());
        }
        if !report.ok() || !report.completed {
            return Err(PublishError::RunUndelivered {
                run_id: report.run_id,
                project: project.clone(),
                branch: branch.clone(),
                summary: report.summary(),
            });
        }
        self.cursors.advance(project, branch, &head)?;
        // pushes that arrived during the run are still pending: keep their time
        let mut p = state.pushed_at.lock().expect("pushed lock");
        if p.is_some_and(|at| Some(at) == pushed_at) {
            *p = None;
        }
        WatchRunFinished {
            project,
            branch,
            commit: &head,
            delta: report.delta,
            files: report.files.total(),
            deleted: report.deleted,
            elapsed: started.elapsed(),
            push_to_publish: pushed_at.map(|at| at.elapsed()),
        }
        .emit();
        Ok(())
    }

    /// The cursor of a branch (tests and operators).
    pub fn cursor(&self, project: &str, branch: &str) -> Option<String> {
        self.cursors.get(project, branch)
    }
}

impl Hooks for Watcher {
    fn secrets(&self) -> Secrets {
        self.secrets.read().expect("secrets lock").clone()
    }

    fn push(&self, push: &Push) -> bool {
        let file = self.file.read().expect("file lock").clone();
        let urls: Vec<&str> = push.urls.iter().map(String::as_str).collect();
        let Some(repo) = file.find_by_url(&urls) else {
            return false;
        };
        let Some(branch) = &push.branch else {
            return false;
        };
        self.trigger(&repo.project, branch, Some(Instant::now()))
    }
}

/// `base · 2^failures`, at most `max`.
pub fn backoff(base: Duration, failures: u32, max: Duration) -> Duration {
    base.saturating_mul(2u32.saturating_pow(failures.min(16)))
        .min(max.max(base))
}

/// ±10 % so that hundreds of repositories do not poll in step.
fn jitter(d: Duration) -> Duration {
    let r = (uuid::Uuid::new_v4().as_u128() % 2001) as f64 / 10_000.0 - 0.1;
    d.mul_f64(1.0 + r)
}

#[cfg(test)]
mod tests;
