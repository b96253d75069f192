//! SQLite WAL checkpoints off the write path (SQLite, "Write-Ahead Logging"
//! §3.5 and §6, "Checkpointing" and automatic checkpoints).
//!
//! By default the connection whose commit takes the WAL past 1,000 pages
//! copies the WAL back into the database file — and syncs both — before its
//! `COMMIT` returns, while the batch writer ([`super::batch`]) waits on it. Here
//! the pool's connections turn automatic checkpoints off
//! (`PRAGMA wal_autocheckpoint = 0`) and one task runs passive checkpoints
//! instead (`PRAGMA wal_checkpoint(PASSIVE)`: it copies what no reader still
//! needs and never blocks readers or the writer). It checks every
//! [`BUSY_PERIOD`] while the WAL grows, and backs off to [`IDLE_PERIOD`] when
//! it does not. SQLite still checkpoints and removes the WAL when the last
//! connection closes.

use std::sync::{Arc, Weak};
use std::time::Duration;

use sqlx::{AnyPool, Row};

/// How often to checkpoint while writes arrive.
pub const BUSY_PERIOD: Duration = Duration::from_millis(200);
/// How often to look when nothing was written.
pub const IDLE_PERIOD: Duration = Duration::from_secs(5);

/// Keeps the checkpoint task running: the task stops once the last
/// [`super::Database`] clone holding this is dropped.
#[derive(Debug)]
pub struct Checkpointer(());

/// Starts the checkpoint task for `pool` (a SQLite pool whose connections
/// set `wal_autocheckpoint = 0`).
pub(crate) fn start(pool: AnyPool) -> Arc<Checkpointer> {
    let handle = Arc::new(Checkpointer(()));
    tokio::spawn(run(pool, Arc::downgrade(&handle)));
    handle
}

async fn run(pool: AnyPool, alive: Weak<Checkpointer>) {
    let mut period = BUSY_PERIOD;
    let mut last_frames = None;
    loop {
        tokio::time::sleep(period).await;
        if alive.upgrade().is_none() || pool.is_closed() {
            return;
        }
        // Columns: busy (0/1), frames in the WAL, frames checkpointed.
        let frames = match sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(&pool)
            .await
        {
            Ok(row) => row.try_get::<i64, _>(1).ok(),
            Err(e) => {
                tracing::warn!(error = %e, "WAL checkpoint failed");
                None
            }
        };
        period = if frames.is_some() && frames != last_frames {
            BUSY_PERIOD
        } else {
            (period * 2).min(IDLE_PERIOD)
        };
        last_frames = frames;
    }
}
