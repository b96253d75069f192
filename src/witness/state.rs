//! The witness's memory: for each log (by origin), the latest checkpoint it
//! cosigned. It is the whole of what keeps a log honest towards this
//! witness, so it is written before a cosignature leaves
//! (c2sp.org/tlog-witness: "The witness MUST persist the new checkpoint
//! before responding"), atomically (a temporary file, fsync, rename, fsync of
//! the directory), and a lock file keeps a second witness process off the
//! same directory.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use crate::log::Hash;

/// The state file's name in the witness data directory.
pub const STATE_FILE: &str = "witness-state.json";
const LOCK_FILE: &str = "witness.lock";

/// The latest cosigned checkpoint of one log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogState {
    /// Tree size.
    pub size: u64,
    /// Root hash, standard base64.
    pub root: String,
    /// The checkpoint note as received, with this witness's cosignature appended.
    pub note: String,
    /// When it was cosigned, POSIX seconds.
    pub cosigned_at: u64,
}

impl LogState {
    /// The root hash.
    pub fn root_hash(&self) -> Option<Hash> {
        Hash::try_from(STANDARD.decode(&self.root).ok()?.as_slice()).ok()
    }
}

/// Every log's latest cosigned checkpoint, by origin.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct State {
    /// By origin line.
    pub logs: BTreeMap<String, LogState>,
}

/// The state on disk, with the directory lock held for as long as it lives.
#[derive(Debug)]
pub struct StateFile {
    path: PathBuf,
    _lock: File,
}

impl StateFile {
    /// Locks `dir` and reads its state (empty if there is none yet).
    pub fn open(dir: &Path) -> anyhow::Result<(StateFile, State)> {
        use anyhow::Context as _;
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let lock_path = dir.join(LOCK_FILE);
        let lock = File::create(&lock_path)
            .with_context(|| format!("creating {}", lock_path.display()))?;
        lock.try_lock().map_err(|_| {
            anyhow::anyhow!(
                "another witness process holds {}; two witnesses on one state could cosign a split view",
                lock_path.display()
            )
        })?;
        let path = dir.join(STATE_FILE);
        let state = match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .with_context(|| format!("{} is not a witness state file", path.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => State::default(),
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        Ok((StateFile { path, _lock: lock }, state))
    }

    /// Replaces the state on disk atomically and durably.
    pub fn save(&self, state: &State) -> std::io::Result<()> {
        let tmp = self.path.with_extension("json.tmp");
        let mut file = File::create(&tmp)?;
        file.write_all(&serde_json::to_vec_pretty(state)?)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, &self.path)?;
        if let Some(dir) = self.path.parent() {
            File::open(dir)?.sync_all()?;
        }
        Ok(())
    }
}

/// A root hash in the state file's encoding.
pub fn encode_root(root: &Hash) -> String {
    STANDARD.encode(root)
}
