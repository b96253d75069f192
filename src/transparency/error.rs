//! Why a transparency-log use case failed.

use crate::keystore::KeyStoreError;
use crate::log::{CheckpointError, EntryError, MissingNode, TreeError};
use crate::store::StoreError;

/// A log operation could not complete.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransparencyError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The log key could not be generated or opened.
    #[error(transparent)]
    Keys(#[from] KeyStoreError),
    /// A checkpoint could not be signed or opened.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// A stored entry is not in the canonical encoding.
    #[error("log entry {index} is not a canonical entry: {source}")]
    Entry {
        /// The leaf index (or row position) of the entry.
        index: u64,
        /// What is wrong with its bytes.
        source: EntryError,
    },
    /// A complete subtree node that must exist is not stored.
    #[error(transparent)]
    MissingNode(#[from] MissingNode),
    /// A leaf beyond the tree was asked for.
    #[error("leaf index {index} is outside the log's tree of size {size}")]
    IndexOutOfRange {
        /// The requested leaf.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// A tree size the log has not (yet) reached or a decreasing pair of sizes.
    #[error("tree sizes {first} and {second} do not fit a log of size {size}")]
    BadSizes {
        /// The earlier size.
        first: u64,
        /// The later size.
        second: u64,
        /// The log's signed size.
        size: u64,
    },
    /// The stored state contradicts itself (e.g. nodes and root disagree).
    #[error("the stored log is inconsistent: {0}")]
    Inconsistent(String),
    /// No log key has been created yet (the service has never started).
    #[error("this database has no log key yet; start `govseal serve` once")]
    NoLogKey,
}

impl From<sqlx::Error> for TransparencyError {
    fn from(e: sqlx::Error) -> Self {
        TransparencyError::Store(StoreError::Database(e))
    }
}

impl From<TreeError<MissingNode>> for TransparencyError {
    fn from(e: TreeError<MissingNode>) -> Self {
        match e {
            TreeError::IndexOutOfRange { index, size } => {
                TransparencyError::IndexOutOfRange { index, size }
            }
            TreeError::SizeDecreases { old, new } => TransparencyError::BadSizes {
                first: old,
                second: new,
                size: new,
            },
            TreeError::Source(missing) => TransparencyError::MissingNode(missing),
        }
    }
}
