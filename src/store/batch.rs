//! Group commit: writes that arrive together share one transaction.
//!
//! SQLite has one write lock per database. When every issuance opens its own
//! `BEGIN IMMEDIATE`, concurrent issuances queue on that lock through
//! SQLite's busy handler, which sleeps and retries rather than queueing, and
//! the lock holder pays a commit (and its WAL frames) per license. Here the
//! writes of one process queue in memory instead: one task at a time takes
//! everything queued, runs each piece of work in one transaction, commits
//! once, and only then answers each caller. This is the "group commit" of
//! database engines, done one level up.
//!
//! If a piece of work fails, the whole transaction is rolled back and each
//! piece is run again alone, in a transaction of its own: the one that fails
//! is answered with its own error and leaves nothing behind, the others
//! commit. (Savepoints around each piece would spare the re-runs, but cost
//! two more statements and a sub-journal for every piece of every batch,
//! while failures — a reused Idempotency-Key racing its twin — are rare.)
//! Work is therefore a function that may run twice; it must only write
//! through the connection it is given. If a commit fails, every caller of
//! that transaction gets the failure and nothing of it is written.
//!
//! The batch runs in a task of its own, so a caller that gives up (an HTTP
//! client that disconnects) cannot cut a batch short for the others.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio::sync::oneshot;

use super::{Connection, Database, StoreError};

/// The future of one piece of batched work, borrowing the batch's connection.
pub type BatchFuture<'c, T> = Pin<Box<dyn Future<Output = T> + Send + 'c>>;

/// At most this many pieces of work per transaction.
const MAX_BATCH: usize = 64;

/// The work waiting for the next transaction, and whether a task runs batches.
#[derive(Default)]
pub struct BatchWriter {
    queue: Mutex<Queue>,
}

impl BatchWriter {
    /// The queue, locked (a panic elsewhere does not stop the writer).
    fn queue(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl std::fmt::Debug for BatchWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let queue = self.queue();
        f.debug_struct("BatchWriter")
            .field("queued", &queue.jobs.len())
            .field("running", &queue.running)
            .finish()
    }
}

#[derive(Default)]
struct Queue {
    jobs: Vec<Box<dyn Job>>,
    running: bool,
}

/// One caller's work, type-erased.
trait Job: Send {
    /// Runs the work on the batch's transaction; true if it succeeded.
    fn run<'c>(&'c mut self, conn: &'c mut Connection) -> BatchFuture<'c, bool>;
    /// Forgets the outcome of a run whose transaction was rolled back.
    fn forget(&mut self);
    /// Answers the caller with the outcome of the last run, now that its
    /// transaction's fate is known.
    fn answer(self: Box<Self>, committed: Result<(), &StoreError>);
}

struct Pending<T, E, F> {
    work: F,
    outcome: Option<Result<T, E>>,
    reply: oneshot::Sender<Result<T, E>>,
}

impl<T, E, F> Job for Pending<T, E, F>
where
    F: for<'c> Fn(&'c mut Connection) -> BatchFuture<'c, Result<T, E>> + Send,
    T: Send,
    E: From<StoreError> + Send,
{
    fn run<'c>(&'c mut self, conn: &'c mut Connection) -> BatchFuture<'c, bool> {
        Box::pin(async move {
            let outcome = (self.work)(conn).await;
            let succeeded = outcome.is_ok();
            self.outcome = Some(outcome);
            succeeded
        })
    }

    fn forget(&mut self) {
        self.outcome = None;
    }

    fn answer(self: Box<Self>, committed: Result<(), &StoreError>) {
        let answer = match (self.outcome, committed) {
            // Its own failure: its transaction was rolled back.
            (Some(Err(e)), _) => Err(e),
            (Some(Ok(value)), Ok(())) => Ok(value),
            (_, Err(e)) => Err(E::from(StoreError::Batch(e.to_string()))),
            (None, Ok(())) => Err(E::from(StoreError::Batch("the work was not run".into()))),
        };
        // A caller that has gone away does not want its answer.
        let _ = self.reply.send(answer);
    }
}

impl Database {
    /// Runs `work` in a transaction shared with the other writes queued at
    /// the same time (see the module documentation) and answers once that
    /// transaction has committed: `Ok` only if `work` succeeded and the
    /// commit did. `work` gets the transaction's connection; on SQLite it
    /// holds the write lock (`BEGIN IMMEDIATE`). It may be run a second
    /// time, alone, if another piece of work of its batch failed.
    pub async fn write_batched<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: for<'c> Fn(&'c mut Connection) -> BatchFuture<'c, Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = Box::new(Pending {
            work,
            outcome: None,
            reply,
        });
        let start = {
            let mut queue = self.batches.queue();
            queue.jobs.push(job);
            !std::mem::replace(&mut queue.running, true)
        };
        if start {
            // The guard exists before the task: a task dropped unpolled (the
            // runtime shutting down) still clears the flag and the queue.
            let running = Running {
                db: self.clone(),
                armed: true,
            };
            tokio::spawn(run_batches(running));
        }
        answer.await.unwrap_or_else(|_| {
            Err(E::from(StoreError::Batch(
                "the batch writer stopped".into(),
            )))
        })
    }
}

/// Clears the running flag when the batch task ends abnormally (a panic, the
/// runtime shutting down): the work still queued is dropped, so its callers
/// get an error instead of waiting forever, and the next write starts a new
/// task. A task that ends because the queue is empty disarms it, having
/// cleared the flag itself under the lock: by the time this guard drops,
/// another task may already be running.
struct Running {
    db: Database,
    armed: bool,
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.armed {
            let mut queue = self.db.batches.queue();
            queue.running = false;
            queue.jobs.clear();
        }
    }
}

/// Runs batches until the queue is empty.
async fn run_batches(mut running: Running) {
    loop {
        let jobs: Vec<Box<dyn Job>> = {
            let mut queue = running.db.batches.queue();
            if queue.jobs.is_empty() {
                queue.running = false;
                running.armed = false;
                return;
            }
            let take = queue.jobs.len().min(MAX_BATCH);
            queue.jobs.drain(..take).collect()
        };
        run_batch(&running.db, jobs).await;
    }
}

/// Runs `jobs` in one transaction and answers them; if one fails, rolls
/// back and runs each alone.
async fn run_batch(db: &Database, mut jobs: Vec<Box<dyn Job>>) {
    let together = run_together(db, &mut jobs).await;
    match together {
        Ok(true) => answer_all(jobs, Ok(())),
        Ok(false) if jobs.len() > 1 => {
            for mut job in jobs {
                // Its outcome in the rolled-back transaction no longer holds.
                job.forget();
                let alone = run_together(db, std::slice::from_mut(&mut job)).await;
                job.answer(alone.as_ref().map(|_| ()));
            }
        }
        // A lone job that failed was rolled back: its own error answers it.
        Ok(false) => answer_all(jobs, Ok(())),
        Err(e) => answer_all(jobs, Err(&e)),
    }
}

fn answer_all(jobs: Vec<Box<dyn Job>>, committed: Result<(), &StoreError>) {
    for job in jobs {
        job.answer(committed);
    }
}

/// One transaction over `jobs`: committed if every job succeeded (true),
/// rolled back at the first that failed (false).
async fn run_together(db: &Database, jobs: &mut [Box<dyn Job>]) -> Result<bool, StoreError> {
    let mut tx = db.begin().await?;
    for job in jobs.iter_mut() {
        if !job.run(&mut tx).await {
            tx.rollback().await?;
            return Ok(false);
        }
    }
    tx.commit().await?;
    Ok(true)
}
