//! The document store: stamped PDFs as content-addressed files under the
//! data directory (`documents/ab/abcdef….pdf`, named by their SHA-256), so
//! the database holds rows, not megabytes (issue 17: large blobs in SQLite's
//! WAL made checkpoints, and with them the stamping tail, slow).
//!
//! A file is written to a temporary name, fsync'd, renamed into place and
//! its directory fsync'd *before* the transaction that references it
//! commits, so a committed row never points at a file a crash lost. A
//! transaction that fails after the write leaves an unreferenced file, which
//! is harmless (its name is its content) and goes with the retention.
//! `govseal log audit` re-hashes every referenced file.
//!
//! With PostgreSQL shared by several processes, stamped PDFs stay in the
//! database (`GOVSEAL_DOCUMENT_STORE=database`), where every process sees them.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Where stamped documents are kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocumentStorage {
    /// In the `stamps.output_pdf` column.
    Database,
    /// As files under `<data>/documents`; the column holds no bytes.
    Files,
}

impl DocumentStorage {
    /// Parses `GOVSEAL_DOCUMENT_STORE` (`files` or `database`).
    pub fn parse(text: &str) -> Option<DocumentStorage> {
        match text.trim() {
            "files" => Some(DocumentStorage::Files),
            "database" => Some(DocumentStorage::Database),
            _ => None,
        }
    }
}

/// A document the store cannot give back.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    /// Reading or writing failed.
    #[error("document store {path}: {source}")]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// The name is not a SHA-256 in hex.
    #[error("not a document name: {0:?}")]
    BadName(String),
}

/// Content-addressed files under one directory.
#[derive(Clone, Debug)]
pub struct DocumentStore {
    root: PathBuf,
    /// Files older than this may be deleted by [`DocumentStore::prune`].
    retention: Option<Duration>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DocumentError + '_ {
    move |source| DocumentError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl DocumentStore {
    /// The store under `<data_dir>/documents`.
    pub fn new(data_dir: &Path, retention: Option<Duration>) -> DocumentStore {
        DocumentStore {
            root: data_dir.join("documents"),
            retention,
        }
    }

    /// The configured retention.
    pub fn retention(&self) -> Option<Duration> {
        self.retention
    }

    /// The file of the document whose SHA-256 is `sha256_hex`.
    pub fn path(&self, sha256_hex: &str) -> Result<PathBuf, DocumentError> {
        if sha256_hex.len() != 64
            || !sha256_hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(DocumentError::BadName(sha256_hex.to_string()));
        }
        Ok(self
            .root
            .join(&sha256_hex[..2])
            .join(format!("{sha256_hex}.pdf")))
    }

    /// Stores `bytes` under `sha256_hex` (the caller's hash of them) durably:
    /// written, fsync'd, renamed into place, directory fsync'd.
    pub fn put(&self, sha256_hex: &str, bytes: &[u8]) -> Result<(), DocumentError> {
        let path = self.path(sha256_hex)?;
        let dir = path.parent().unwrap_or(&self.root).to_path_buf();
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        if path.exists() {
            return Ok(()); // same name, same content
        }
        let tmp = dir.join(format!(
            ".{sha256_hex}.{}.tmp",
            uuid::Uuid::new_v4().simple()
        ));
        let mut file = std::fs::File::create(&tmp).map_err(io(&tmp))?;
        file.write_all(bytes).map_err(io(&tmp))?;
        file.sync_all().map_err(io(&tmp))?;
        drop(file);
        std::fs::rename(&tmp, &path).map_err(io(&path))?;
        std::fs::File::open(&dir)
            .and_then(|d| d.sync_all())
            .map_err(io(&dir))?;
        Ok(())
    }

    /// The document, or `None` if there is no such file (never stored here,
    /// or deleted by the retention).
    pub fn get(&self, sha256_hex: &str) -> Result<Option<Vec<u8>>, DocumentError> {
        let path = self.path(sha256_hex)?;
        match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(&path)(e)),
        }
    }

    /// Deletes documents older than the retention (by file time); returns
    /// how many. Without a retention, nothing.
    pub fn prune(&self, now: SystemTime) -> Result<u64, DocumentError> {
        let Some(retention) = self.retention else {
            return Ok(0);
        };
        let cutoff = now.checked_sub(retention).unwrap_or(SystemTime::UNIX_EPOCH);
        let mut deleted = 0;
        let shards = match std::fs::read_dir(&self.root) {
            Ok(shards) => shards,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(io(&self.root)(e)),
        };
        for shard in shards {
            let shard = shard.map_err(io(&self.root))?.path();
            if !shard.is_dir() {
                continue;
            }
            for file in std::fs::read_dir(&shard).map_err(io(&shard))? {
                let file = file.map_err(io(&shard))?.path();
                let modified = file
                    .metadata()
                    .and_then(|m| m.modified())
                    .map_err(io(&file))?;
                if modified < cutoff {
                    std::fs::remove_file(&file).map_err(io(&file))?;
                    deleted += 1;
                }
            }
        }
        Ok(deleted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha(bytes: &[u8]) -> String {
        hex::encode(ring::digest::digest(&ring::digest::SHA256, bytes))
    }

    #[test]
    fn documents_are_stored_by_hash_read_back_and_pruned_by_age() {
        let dir = tempfile::tempdir().unwrap();
        let store = DocumentStore::new(dir.path(), Some(Duration::from_secs(3600)));
        let pdf = b"%PDF-1.7 stamped".to_vec();
        let name = sha(&pdf);
        store.put(&name, &pdf).unwrap();
        store.put(&name, &pdf).unwrap(); // idempotent
        assert_eq!(store.get(&name).unwrap(), Some(pdf));
        assert!(
            store
                .path(&name)
                .unwrap()
                .starts_with(dir.path().join("documents"))
        );
        assert_eq!(store.get(&sha(b"other")).unwrap(), None);
        assert!(matches!(
            store.get("../../etc/passwd"),
            Err(DocumentError::BadName(_))
        ));
        assert_eq!(
            store.prune(SystemTime::now()).unwrap(),
            0,
            "young files stay"
        );
        let later = SystemTime::now() + Duration::from_secs(7200);
        assert_eq!(store.prune(later).unwrap(), 1);
        assert_eq!(store.get(&name).unwrap(), None);
    }
}
