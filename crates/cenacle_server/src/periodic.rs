//! The server's background jobs that run on a beat until shutdown.

use cenacle_core::{Conn, Context, CoreError, ScopedBoxFuture};
use std::{fmt::Display, future::Future, time::Duration};
use tokio::{sync::watch, task::JoinHandle, time::Instant};

/// When a job's first run comes.
#[derive(Clone, Copy, Debug)]
pub enum FirstRun {
    /// As the server starts, then every period.
    AtOnce,
    /// One period after the start: for a job too costly to repeat at every restart.
    AfterOnePeriod,
}

/// Spawns `job` to run every `every`, on a clone of `state`, until `stop` changes (or its
/// sender goes). A run is never cut short: the stop is seen between runs, so a job that should
/// stop sooner checks `stop` itself. Runs never overlap; one that overran the beat is followed
/// by the missed ones at once (`tokio::time::interval`'s default). The job logs its own
/// failures.
pub fn spawn_every<S, F, Fut>(
    every: Duration,
    first: FirstRun,
    mut stop: watch::Receiver<bool>,
    state: S,
    mut job: F,
) -> JoinHandle<()>
where
    S: Clone + Send + 'static,
    F: FnMut(S) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    tokio::spawn(async move {
        let start = match first {
            FirstRun::AtOnce => Instant::now(),
            FirstRun::AfterOnePeriod => Instant::now() + every,
        };
        let mut tick = tokio::time::interval_at(start, every);
        loop {
            tokio::select! {
                _ = tick.tick() => job(state.clone()).await,
                _ = stop.changed() => break,
            }
        }
    })
}

/// Runs one step of a job, `action`, in its own transaction and logs its failure (see
/// `log_failure`): a failed step is left for the next beat without holding back the job's
/// other steps.
pub async fn run_logged<'a, R, F>(ctx: &Context, what: &str, action: F)
where
    F: for<'r> FnOnce(&'r mut Conn) -> ScopedBoxFuture<'a, 'r, Result<R, CoreError>> + Send + 'a,
    R: Send + 'a,
{
    log_failure(what, ctx.transaction(action).await);
}

/// Logs a job step's failure as an error, "`what` failed" (`what` names the step: "settling
/// bounties"); a success says nothing.
pub fn log_failure<T, E: Display>(what: &str, result: Result<T, E>) {
    if let Err(err) = result {
        tracing::error!(error = %err, "{what} failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    };

    const LONG: Duration = Duration::from_secs(3600);
    const PATIENCE: Duration = Duration::from_secs(10);

    async fn count(runs: Arc<AtomicUsize>) {
        runs.fetch_add(1, Ordering::SeqCst);
    }

    #[tokio::test]
    async fn a_job_first_run_at_once_runs_before_its_period() {
        let (stop_tx, stop_rx) = watch::channel(false);
        let (ran_tx, mut ran_rx) = tokio::sync::mpsc::unbounded_channel();
        let task = spawn_every(LONG, FirstRun::AtOnce, stop_rx, ran_tx, |ran| async move {
            let _ = ran.send(());
        });
        tokio::time::timeout(PATIENCE, ran_rx.recv())
            .await
            .expect("the first run comes at once")
            .expect("the job ran");
        stop_tx.send(true).unwrap();
        tokio::time::timeout(PATIENCE, task)
            .await
            .expect("a stop ends the task")
            .unwrap();
    }

    #[tokio::test]
    async fn a_job_first_run_after_one_period_waits_for_it_and_a_stop_ends_it() {
        let (stop_tx, stop_rx) = watch::channel(false);
        let runs = Arc::new(AtomicUsize::new(0));
        let task = spawn_every(LONG, FirstRun::AfterOnePeriod, stop_rx, runs.clone(), count);
        tokio::task::yield_now().await;
        stop_tx.send(true).unwrap();
        tokio::time::timeout(PATIENCE, task)
            .await
            .expect("a stop ends the task")
            .unwrap();
        assert_eq!(runs.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn a_dropped_stop_sender_ends_the_task() {
        let (stop_tx, stop_rx) = watch::channel(false);
        let runs = Arc::new(AtomicUsize::new(0));
        let task = spawn_every(LONG, FirstRun::AfterOnePeriod, stop_rx, runs.clone(), count);
        drop(stop_tx);
        tokio::time::timeout(PATIENCE, task)
            .await
            .expect("losing the sender ends the task")
            .unwrap();
    }
}
