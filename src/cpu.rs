//! One thread per core for CPU-bound work of short, even length (rendering
//! and signing a license), fed from one queue. (Stamping an uploaded PDF,
//! whose size the client chooses, stays on `spawn_blocking`: it must not
//! hold up the licenses queued behind it.)
//!
//! An async task hands its work over and awaits the answer; each pool thread
//! takes the next piece of work as soon as it finishes the last, so the
//! cores never wait on a hand-over between the runtime and a thread — with a
//! semaphore in front of `spawn_blocking`, every license paid three thread
//! wake-ups (the permit, the blocking thread, the join) during which its core
//! sat idle. Work beyond the cores waits in the queue, not as runnable
//! threads competing with the database and HTTP threads.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::OnceLock;

use tokio::sync::oneshot;

type Work = Box<dyn FnOnce() + Send>;

/// The work could not be done: it panicked, or the pool is gone.
#[derive(Debug, thiserror::Error)]
#[error("the CPU pool did not finish the work (it panicked or the pool stopped)")]
pub struct CpuPoolError;

/// Runs `work` on the pool and waits for its result.
pub async fn run<T, F>(work: F) -> Result<T, CpuPoolError>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let (reply, answer) = oneshot::channel();
    let job: Work = Box::new(move || {
        // A caller that has gone away (a client that timed out) does not
        // want the work done, nor its answer.
        if !reply.is_closed() {
            let _ = reply.send(work());
        }
    });
    queue().send(job).map_err(|_| CpuPoolError)?;
    answer.await.map_err(|_| CpuPoolError)
}

/// Pieces of work waiting for a pool thread (for the metrics).
pub fn queue_depth() -> usize {
    queue().len()
}

/// The queue, with its threads started on first use.
fn queue() -> &'static flume::Sender<Work> {
    static QUEUE: OnceLock<flume::Sender<Work>> = OnceLock::new();
    QUEUE.get_or_init(|| {
        let (sender, receiver) = flume::unbounded::<Work>();
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        for n in 0..cores {
            let receiver = receiver.clone();
            let started = std::thread::Builder::new()
                .name(format!("govseal-cpu-{n}"))
                .spawn(move || {
                    while let Ok(work) = receiver.recv() {
                        // A panic drops the reply (the caller gets CpuPoolError)
                        // and leaves the thread serving.
                        let _ = catch_unwind(AssertUnwindSafe(work));
                    }
                });
            if let Err(e) = started {
                tracing::error!(error = %e, "could not start a CPU pool thread");
            }
        }
        sender
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn answers_each_caller_and_survives_a_panic() {
        let answers: Vec<_> = (0..32u64).map(|i| run(move || i * i)).collect();
        for (i, answer) in answers.into_iter().enumerate() {
            assert_eq!(answer.await.unwrap(), (i * i) as u64);
        }
        assert!(run(|| panic!("a defect in the work")).await.is_err());
        // The pool still serves after the panic, on every thread.
        let after: Vec<_> = (0..8).map(|i| run(move || i + 1)).collect();
        for (i, answer) in after.into_iter().enumerate() {
            assert_eq!(answer.await.unwrap(), i + 1);
        }
    }
}
