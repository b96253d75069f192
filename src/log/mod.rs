//! The transparency log (透明日志): every certificate, seal change, stamp and
//! license event is a leaf of an append-only Merkle tree, so an auditor can
//! prove that nothing was issued off the books.
//!
//! This module is the pure core, with no I/O:
//!
//! - [`merkle`]: RFC 9162 §2.1 hashing and proof generation over any
//!   [`NodeSource`], plus [`completed_nodes`] for incremental storage;
//! - [`verify`]: inclusion and consistency proof verification (RFC 9162
//!   §2.1.3.2, §2.1.4.2);
//! - [`MemoryTree`] and [`CompactRange`]: in-memory trees for audits, tests
//!   and batch appends;
//! - [`note`] and [`checkpoint`]: C2SP signed notes and the log's signed
//!   checkpoints (tree size and root), signed through the key store;
//! - [`entry`]: the canonical bytes of a log entry (the leaf data);
//! - [`proof_bundle`]: C2SP tlog-proof bundles that let anyone check offline
//!   that an entry was logged;
//! - [`cosignature`] and [`witness_policy`]: witness cosignatures (C2SP
//!   tlog-cosignature) and the k-of-n policy a verifier requires of them
//!   (C2SP tlog-policy).
//!
//! Storage and HTTP live elsewhere and call into these functions.

pub mod checkpoint;
pub mod compact_range;
pub mod cosignature;
pub mod entry;
pub mod memory_tree;
pub mod merkle;
pub mod note;
pub mod proof_bundle;
pub mod record;
pub mod verify;
pub mod witness_policy;

#[cfg(test)]
mod checkpoint_tests;
#[cfg(test)]
mod entry_tests;
#[cfg(test)]
mod merkle_tests;

pub use checkpoint::{Checkpoint, CheckpointError};
pub use compact_range::{CompactRange, CompactRangeError};
pub use cosignature::{CosignatureError, CosignerKey};
pub use entry::{EntryError, EntryKind, LogEntry};
pub use memory_tree::{MemoryTree, MissingNode};
pub use merkle::{
    Hash, Node, NodeSource, TreeError, completed_nodes, consistency_proof, empty_root,
    inclusion_proof, leaf_hash, node_hash, root,
};
pub use note::{NoteError, VerifierKey};
pub use proof_bundle::{BundleError, ProofBundle, verify_bundle, verify_embedded_bundle};
pub use record::{Record, Value};
pub use verify::{ProofError, verify_consistency, verify_inclusion};
pub use witness_policy::{PolicyError, PolicyOutcome, WitnessPolicy};
