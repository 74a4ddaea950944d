//! The analysis pool: a fixed number of threads for the CPU-bound analysers. Not
//! tokio's blocking pool, which grows to hundreds of threads under load — each keeping
//! its own parsers and allocator caches — and so lets memory grow with the load.

use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{mpsc, oneshot};

type Job = Box<dyn FnOnce() + Send>;

/// Runs closures on `threads` dedicated threads, at most that many at once; a caller
/// waits (asynchronously) for a free thread.
#[derive(Debug, Clone)]
pub struct AnalysisPool {
    jobs: mpsc::Sender<Job>,
}

/// The job panicked (the analysers never should; the file is dead-lettered).
#[derive(Debug)]
pub struct Panicked;

impl AnalysisPool {
    pub fn new(threads: usize) -> Self {
        let threads = threads.max(1);
        let (jobs, rx) = mpsc::channel::<Job>(threads);
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..threads {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("tributary-analyse-{i}"))
                .spawn(move || {
                    loop {
                        // one thread waits for the next job while the others work
                        let job = rx
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .blocking_recv();
                        match job {
                            Some(job) => job(),
                            None => return, // the pool was dropped
                        }
                    }
                })
                .expect("spawn an analysis thread");
        }
        Self { jobs }
    }

    /// Runs `f` on a pool thread and returns its result.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Panicked> {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move || {
            let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
            let _ = tx.send(out.map_err(|_| Panicked));
        });
        self.jobs.send(job).await.map_err(|_| Panicked)?;
        rx.await.map_err(|_| Panicked)?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn jobs_run_on_the_fixed_threads_and_a_panic_is_an_error() {
        let pool = AnalysisPool::new(2);
        let names: Vec<String> =
            futures::future::join_all((0..20).map(|_| {
                pool.run(|| std::thread::current().name().unwrap_or_default().to_owned())
            }))
            .await
            .into_iter()
            .map(|r| r.expect("ran"))
            .collect();
        let distinct: std::collections::BTreeSet<_> = names.iter().collect();
        assert!(distinct.len() <= 2, "{distinct:?}");
        assert!(names.iter().all(|n| n.starts_with("tributary-analyse-")));
        assert!(pool.run(|| panic!("an analyser bug")).await.is_err());
        assert_eq!(pool.run(|| 41 + 1).await.expect("still serving"), 42);
    }
}
