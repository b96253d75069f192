//! What the public GETs serve: the trust bundle with its signed license
//! status snapshot, built and signed **here, not in a GET handler** — when
//! a status, certificate, seal or license type changes (the changing
//! handler calls [`AppState::snapshot_changed`] after its commit) and on a
//! schedule ([`run_refresher`], every `GOVSEAL_SNAPSHOT_REFRESH_SECS`, well
//! before the snapshot's next-update), then kept in memory. GET handlers only
//! read it, and read the database; none of them signs, writes a file or
//! takes a write lock.
//!
//! Several instances sharing one database each sign their own snapshot; an
//! instance learns of another's change at its next scheduled rebuild.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use base64::Engine as _;

use super::AppState;
use crate::authority::{Authority, TrustBundle, write_trust_bundle};
use crate::license::lifecycle::{self, PublishedSnapshot};
use crate::store::Database;

/// One published state: the bundle and the snapshot it carries.
#[derive(Clone, Debug)]
pub struct Publication {
    /// The trust bundle as written to `certs/bundle.json`.
    pub bundle: TrustBundle,
    /// The status snapshot (the same signed bytes as in the bundle).
    pub snapshot: PublishedSnapshot,
}

/// The current publication, and the lock that orders rebuilds.
#[derive(Debug)]
pub struct Published {
    current: RwLock<Arc<Publication>>,
    rebuilding: tokio::sync::Mutex<()>,
    /// Rebuilds asked for so far.
    requested: AtomicU64,
    /// The number of requests the current publication answers: every
    /// rebuild asked for up to it read the database after its change.
    completed: AtomicU64,
}

impl Published {
    /// Starts with `initial`.
    pub fn new(initial: Publication) -> Self {
        Published {
            current: RwLock::new(Arc::new(initial)),
            rebuilding: tokio::sync::Mutex::new(()),
            requested: AtomicU64::new(0),
            completed: AtomicU64::new(0),
        }
    }

    /// What is served now.
    pub fn current(&self) -> Arc<Publication> {
        self.current
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Signs a new snapshot, reassembles the bundle, writes it to
    /// `certs_dir` and serves it. Rebuilds run one at a time, each reading
    /// the database after the previous one finished, so the last change
    /// committed is the one served. A burst of changes shares rebuilds: a
    /// caller whose request a rebuild that started after it already
    /// answered returns at once.
    pub async fn rebuild(
        &self,
        db: &Database,
        authority: &Authority,
        certs_dir: &Path,
    ) -> anyhow::Result<()> {
        let mine = self.requested.fetch_add(1, Ordering::SeqCst) + 1;
        let _one_at_a_time = self.rebuilding.lock().await;
        if self.completed.load(Ordering::SeqCst) >= mine {
            return Ok(());
        }
        // Every request counted here was made after its change committed,
        // and the database is read below: this rebuild answers them all.
        let answers = self.requested.load(Ordering::SeqCst);
        let publication = build(db, authority).await?;
        write_trust_bundle(certs_dir, &publication.bundle)?;
        metrics::gauge!("govseal_license_status_next_update_seconds")
            .set(publication.snapshot.snapshot.next_update as f64);
        *self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(publication);
        self.completed.store(answers, Ordering::SeqCst);
        Ok(())
    }
}

/// Signs a status snapshot and assembles the trust bundle around it.
pub async fn build(db: &Database, authority: &Authority) -> anyhow::Result<Publication> {
    let (snapshot, cose) = lifecycle::snapshot(db, authority).await?;
    let mut bundle = authority.trust_bundle(db).await?;
    let cose_base64 = base64::engine::general_purpose::STANDARD.encode(&cose);
    // The bundle signed a snapshot of its own a moment later; publish one.
    let status = bundle
        .license_status
        .as_mut()
        .ok_or_else(|| anyhow::anyhow!("the trust bundle carries no status snapshot"))?;
    status.revoked.clone_from(&snapshot.revoked);
    status.suspended.clone_from(&snapshot.suspended);
    status.this_update = snapshot.this_update;
    status.next_update = snapshot.next_update;
    status.cose_base64.clone_from(&cose_base64);
    Ok(Publication {
        bundle,
        snapshot: PublishedSnapshot {
            snapshot,
            cose_base64,
        },
    })
}

impl AppState {
    /// Call after committing a change that the trust bundle or the status
    /// snapshot shows (a license's status, a new version, a certificate, a
    /// seal, a license type): signs and publishes the new state before the
    /// handler answers, so the caller's next GET sees it. A failure is
    /// logged; the scheduled rebuild retries.
    pub async fn snapshot_changed(&self) {
        if let Err(e) = self
            .published
            .rebuild(&self.db, &self.authority, &self.config.certs_dir)
            .await
        {
            tracing::warn!(error = %format!("{e:#}"), "could not publish the trust bundle and status snapshot");
        }
    }
}

/// How long a snapshot is current, as a `Duration`.
fn snapshot_validity() -> Duration {
    Duration::from_secs(
        crate::license::snapshot::VALIDITY
            .whole_seconds()
            .unsigned_abs(),
    )
}

/// Rebuilds the publication every `config.snapshot_refresh` (at most a
/// quarter of the snapshot's validity, so it is re-signed well before its
/// next-update; CRLs past half their validity are re-signed on the way).
pub async fn run_refresher(state: AppState) {
    let period = state
        .config
        .snapshot_refresh
        .clamp(Duration::from_secs(1), snapshot_validity() / 4);
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        state.snapshot_changed().await;
    }
}
