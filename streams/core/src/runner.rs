//! The one owner of every background loop on the event side: delivery
//! loops, pollers, sweepers, function instances.
//!
//! A service never calls `tokio::spawn` or `std::thread::spawn` for work
//! that outlives a request: it asks the [`Runner`], which names the task,
//! hands it a [`Stop`] signal, and on [`Runner::shutdown`] signals every
//! task, waits for each to finish within a grace period, and aborts what is
//! left. A task's loop must be bounded (it handles a bounded batch per turn)
//! and must check its `Stop` between turns; waiting for work it does with
//! [`Stop::wait`] beside its own wake-up, never by sleeping blind.
//!
//! Invariant: after `shutdown` returns, no task the runner started is
//! running (aborted async tasks are dropped at their next await point;
//! blocking tasks are joined or reported as stuck, since a thread cannot
//! be killed).

use std::future::Future;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Tells a task that Tarn is stopping. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Stop(watch::Receiver<bool>);

impl Stop {
    /// True once shutdown has begun.
    pub fn is_stopped(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once shutdown has begun (at once if it has).
    pub async fn wait(&mut self) {
        // An error means the runner is gone, which is a stop too.
        let _ = self.0.wait_for(|stopped| *stopped).await;
    }

    /// Sleeps for `duration` unless shutdown begins first; returns false
    /// if it did.
    pub async fn sleep(&mut self, duration: Duration) -> bool {
        tokio::select! {
            () = tokio::time::sleep(duration) => !self.is_stopped(),
            () = self.wait() => false,
        }
    }
}

enum Handle {
    Async(JoinHandle<()>),
    Blocking(JoinHandle<()>),
}

/// Owns, stops and joins background tasks.
pub struct Runner {
    stop: watch::Sender<bool>,
    tasks: Mutex<Vec<(&'static str, Handle)>>,
}

impl Default for Runner {
    fn default() -> Self {
        Runner::new()
    }
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("stopped", &*self.stop.borrow())
            .field("tasks", &self.lock().len())
            .finish()
    }
}

impl Runner {
    /// A runner with no tasks.
    pub fn new() -> Runner {
        let (stop, _) = watch::channel(false);
        Runner {
            stop,
            tasks: Mutex::new(Vec::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(&'static str, Handle)>> {
        self.tasks.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A stop signal, for code that is not a runner task but must notice
    /// shutdown (a long poll, say).
    pub fn stop_signal(&self) -> Stop {
        Stop(self.stop.subscribe())
    }

    /// True once shutdown has begun: no new task starts then.
    pub fn is_stopped(&self) -> bool {
        *self.stop.borrow()
    }

    /// Starts an async task on the current tokio runtime. Returns false
    /// (and starts nothing) once shutdown has begun.
    pub fn spawn<F, Fut>(&self, name: &'static str, task: F) -> bool
    where
        F: FnOnce(Stop) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let mut tasks = self.lock();
        if self.is_stopped() {
            return false;
        }
        tasks.retain(|(_, h)| !is_finished(h));
        let handle = tokio::spawn(task(self.stop_signal()));
        tasks.push((name, Handle::Async(handle)));
        true
    }

    /// Starts a task that blocks a thread (synchronous engine work, a
    /// child process wait). Returns false once shutdown has begun.
    pub fn spawn_blocking<F>(&self, name: &'static str, task: F) -> bool
    where
        F: FnOnce(Stop) + Send + 'static,
    {
        let mut tasks = self.lock();
        if self.is_stopped() {
            return false;
        }
        tasks.retain(|(_, h)| !is_finished(h));
        let stop = self.stop_signal();
        let handle = tokio::task::spawn_blocking(move || task(stop));
        tasks.push((name, Handle::Blocking(handle)));
        true
    }

    /// Tasks started and not yet finished.
    pub fn running(&self) -> usize {
        let mut tasks = self.lock();
        tasks.retain(|(_, h)| !is_finished(h));
        tasks.len()
    }

    /// Signals every task to stop, waits up to `grace` for them, then
    /// aborts the async ones still running. Returns the names of blocking
    /// tasks that did not finish in time (they cannot be aborted; a
    /// correct task never appears here).
    pub async fn shutdown(&self, grace: Duration) -> Vec<&'static str> {
        self.stop.send_replace(true);
        let tasks = std::mem::take(&mut *self.lock());
        let deadline = tokio::time::Instant::now() + grace;
        let mut stuck = Vec::new();
        for (name, handle) in tasks {
            match handle {
                Handle::Async(mut h) => {
                    if tokio::time::timeout_at(deadline, &mut h).await.is_err() {
                        tracing::warn!(
                            task = name,
                            "background task did not stop in time; aborted"
                        );
                        h.abort();
                        let _ = h.await;
                    }
                }
                Handle::Blocking(mut h) => {
                    if tokio::time::timeout_at(deadline, &mut h).await.is_err() {
                        tracing::error!(
                            task = name,
                            "blocking background task did not stop in time"
                        );
                        stuck.push(name);
                    }
                }
            }
        }
        stuck
    }
}

fn is_finished(h: &Handle) -> bool {
    match h {
        Handle::Async(h) | Handle::Blocking(h) => h.is_finished(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[tokio::test]
    async fn shutdown_stops_and_joins_every_task() {
        let runner = Runner::new();
        let turns = Arc::new(AtomicUsize::new(0));
        for _ in 0..3 {
            let turns = Arc::clone(&turns);
            assert!(runner.spawn("loop", move |mut stop| async move {
                while stop.sleep(Duration::from_millis(5)).await {
                    turns.fetch_add(1, Ordering::Relaxed);
                }
            }));
        }
        let blocking_done = Arc::new(AtomicUsize::new(0));
        let done = Arc::clone(&blocking_done);
        assert!(runner.spawn_blocking("blocking", move |stop| {
            while !stop.is_stopped() {
                std::thread::sleep(Duration::from_millis(2));
            }
            done.fetch_add(1, Ordering::Relaxed);
        }));
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert_eq!(runner.running(), 4);
        let stuck = runner.shutdown(Duration::from_secs(5)).await;
        assert!(stuck.is_empty());
        assert_eq!(runner.running(), 0);
        assert_eq!(blocking_done.load(Ordering::Relaxed), 1);
        assert!(turns.load(Ordering::Relaxed) > 0);
        // Nothing starts after shutdown.
        assert!(!runner.spawn("late", |_| async {}));
    }

    #[tokio::test]
    async fn a_task_that_ignores_stop_is_aborted_after_the_grace_period() {
        let runner = Runner::new();
        assert!(runner.spawn("deaf", |_| async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }));
        let started = std::time::Instant::now();
        let stuck = runner.shutdown(Duration::from_millis(50)).await;
        assert!(stuck.is_empty());
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(runner.running(), 0);
    }
}
