//! Other installations' trust bundles (`GOVSEAL_FOREIGN_TRUST`), for mutual
//! recognition (互认) in `POST /v1/verify`. A bundle directory is re-read
//! when it or its `seals/` or `crl/` subdirectory changed (another
//! installation's bundle is replaced by atomic renames, which change the
//! directory's modification time), so new seals, CRLs and status snapshots
//! are taken without a restart. Reads only.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use crate::verify::TrustStore;

/// What was last read: each bundle's fingerprint, and the stores.
type Reading = (Vec<Option<SystemTime>>, Arc<Vec<TrustStore>>);

/// The foreign bundles and what was last read of them.
#[derive(Debug, Default)]
pub struct ForeignTrust {
    dirs: Vec<PathBuf>,
    read: Mutex<Reading>,
}

/// The newest modification time of a bundle directory and the
/// subdirectories that change.
fn fingerprint(dir: &std::path::Path) -> Option<SystemTime> {
    ["", "seals", "crl"]
        .iter()
        .filter_map(|sub| std::fs::metadata(dir.join(sub)).ok()?.modified().ok())
        .max()
}

impl ForeignTrust {
    /// Reads the bundles once; a bundle that cannot be read is an error.
    pub fn load(dirs: Vec<PathBuf>) -> anyhow::Result<ForeignTrust> {
        let trust = ForeignTrust {
            dirs,
            read: Mutex::default(),
        };
        let (prints, stores) = trust.read_all()?;
        *trust.read.lock().map_err(|_| anyhow::anyhow!("poisoned"))? = (prints, Arc::new(stores));
        Ok(trust)
    }

    fn read_all(&self) -> anyhow::Result<(Vec<Option<SystemTime>>, Vec<TrustStore>)> {
        let prints = self.dirs.iter().map(|d| fingerprint(d)).collect();
        let mut stores = Vec::new();
        for dir in &self.dirs {
            stores.push(TrustStore::load(dir).map_err(|e| {
                anyhow::anyhow!("loading the foreign trust bundle {}: {e}", dir.display())
            })?);
        }
        Ok((prints, stores))
    }

    /// The stores, re-read if a bundle changed since (a bundle that has
    /// become unreadable keeps its last good reading).
    pub fn stores(&self) -> Arc<Vec<TrustStore>> {
        if self.dirs.is_empty() {
            return Arc::default();
        }
        let prints: Vec<_> = self.dirs.iter().map(|d| fingerprint(d)).collect();
        let Ok(mut read) = self.read.lock() else {
            return Arc::default();
        };
        if read.0 != prints {
            match self.read_all() {
                Ok((prints, stores)) => *read = (prints, Arc::new(stores)),
                Err(e) => {
                    tracing::warn!(error = %e, "a foreign trust bundle changed and cannot be read; keeping the last reading")
                }
            }
        }
        read.1.clone()
    }
}
