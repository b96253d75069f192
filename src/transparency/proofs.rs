//! Reading the log: the latest signed checkpoint, entries, and proofs over
//! the stored tree — inclusion (RFC 9162 §2.1.3.1), consistency (§2.1.4.1)
//! and self-contained C2SP tlog-proof bundles (<https://c2sp.org/tlog-proof>).
//!
//! Proofs are always given against a *signed* tree size, so a client can
//! check them with nothing but the checkpoint and the log's verifier key.

use sqlx::Row;

use super::TransparencyError;
use super::nodes::{self, hash_column, to_i64, to_u64};
use crate::log::{Hash, ProofBundle, consistency_proof, inclusion_proof};
use crate::store::Connection;

/// A stored signed checkpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedCheckpoint {
    /// Tree size.
    pub size: u64,
    /// Root hash.
    pub root: Hash,
    /// The signed note text.
    pub note: String,
}

/// A stored entry and, once sequenced, its leaf index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredEntry {
    /// The leaf index, `None` while pending.
    pub index: Option<u64>,
    /// The canonical entry bytes.
    pub bytes: Vec<u8>,
}

/// The proof that an entry is in the log, against the latest checkpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryProof {
    /// The leaf index.
    pub index: u64,
    /// The entry bytes.
    pub entry: Vec<u8>,
    /// The audit path, from the leaf's sibling up.
    pub path: Vec<Hash>,
    /// The checkpoint the path leads to.
    pub checkpoint: SignedCheckpoint,
}

impl EntryProof {
    /// The C2SP tlog-proof bundle text, with the entry embedded.
    pub fn bundle_text(&self) -> String {
        ProofBundle {
            entry: Some(self.entry.clone()),
            index: self.index,
            proof: self.path.clone(),
            checkpoint_note: self.checkpoint.note.clone(),
        }
        .to_text()
    }
}

fn checkpoint_row(row: &sqlx::any::AnyRow) -> Result<SignedCheckpoint, TransparencyError> {
    Ok(SignedCheckpoint {
        size: to_u64(row.try_get("size")?)?,
        root: hash_column(row, "root")?,
        note: row.try_get("note")?,
    })
}

/// The newest checkpoint, if the log has one, with the witnesses'
/// cosignatures received so far appended to its note (C2SP tlog-cosignature).
pub async fn latest_checkpoint(
    conn: &mut Connection,
) -> Result<Option<SignedCheckpoint>, TransparencyError> {
    match latest_log_checkpoint(conn).await? {
        Some(checkpoint) => Ok(Some(
            super::witnessing::with_cosignatures(conn, checkpoint).await?,
        )),
        None => Ok(None),
    }
}

/// The newest checkpoint as the log signed it, without cosignatures.
pub async fn latest_log_checkpoint(
    conn: &mut Connection,
) -> Result<Option<SignedCheckpoint>, TransparencyError> {
    let row =
        sqlx::query("SELECT size, root, note FROM log_checkpoints ORDER BY size DESC LIMIT 1")
            .fetch_optional(conn)
            .await?;
    row.as_ref().map(checkpoint_row).transpose()
}

/// The checkpoint of tree size `size`, with its cosignatures, if one was signed.
pub async fn checkpoint_at(
    conn: &mut Connection,
    size: u64,
) -> Result<Option<SignedCheckpoint>, TransparencyError> {
    let row = sqlx::query("SELECT size, root, note FROM log_checkpoints WHERE size = $1")
        .bind(to_i64(size)?)
        .fetch_optional(&mut *conn)
        .await?;
    match row.as_ref().map(checkpoint_row).transpose()? {
        Some(checkpoint) => Ok(Some(
            super::witnessing::with_cosignatures(conn, checkpoint).await?,
        )),
        None => Ok(None),
    }
}

/// The newest checkpoint, or an error naming that the log is still empty.
async fn require_checkpoint(conn: &mut Connection) -> Result<SignedCheckpoint, TransparencyError> {
    latest_checkpoint(conn)
        .await?
        .ok_or(TransparencyError::IndexOutOfRange { index: 0, size: 0 })
}

/// The entry at leaf `index`.
pub async fn entry_at(
    conn: &mut Connection,
    index: u64,
) -> Result<Option<StoredEntry>, TransparencyError> {
    let row = sqlx::query("SELECT entry FROM log_entries WHERE leaf_index = $1")
        .bind(to_i64(index)?)
        .fetch_optional(conn)
        .await?;
    row.map(|row| {
        Ok(StoredEntry {
            index: Some(index),
            bytes: row.try_get("entry")?,
        })
    })
    .transpose()
}

/// How to find an entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EntryLookup {
    /// By its leaf index.
    Index(u64),
    /// The first entry about this subject (certificate serial, seal id, stamp id, …).
    Subject(String),
    /// By its RFC 9162 leaf hash.
    LeafHash(Hash),
}

/// Finds an entry (sequenced or pending).
pub async fn find_entry(
    conn: &mut Connection,
    lookup: &EntryLookup,
) -> Result<Option<StoredEntry>, TransparencyError> {
    let query = match lookup {
        EntryLookup::Index(index) => return entry_at(conn, *index).await,
        EntryLookup::Subject(subject) => sqlx::query(
            "SELECT leaf_index, entry FROM log_entries WHERE subject_id = $1 \
             ORDER BY leaf_index IS NULL, leaf_index, created_at, id LIMIT 1",
        )
        .bind(subject.clone()),
        EntryLookup::LeafHash(hash) => sqlx::query(
            "SELECT leaf_index, entry FROM log_entries WHERE leaf_hash = $1 \
             ORDER BY leaf_index IS NULL, leaf_index LIMIT 1",
        )
        .bind(hash.to_vec()),
    };
    let row = query.fetch_optional(conn).await?;
    row.map(|row| {
        let index: Option<i64> = row.try_get("leaf_index")?;
        Ok(StoredEntry {
            index: index.map(to_u64).transpose()?,
            bytes: row.try_get("entry")?,
        })
    })
    .transpose()
}

/// Sequenced entries with indices in `[start, end)`, in order.
pub async fn entries(
    conn: &mut Connection,
    start: u64,
    end: u64,
) -> Result<Vec<(u64, Vec<u8>)>, TransparencyError> {
    let rows = sqlx::query(
        "SELECT leaf_index, entry FROM log_entries \
         WHERE leaf_index >= $1 AND leaf_index < $2 ORDER BY leaf_index",
    )
    .bind(to_i64(start)?)
    .bind(to_i64(end)?)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| Ok((to_u64(row.try_get("leaf_index")?)?, row.try_get("entry")?)))
        .collect()
}

/// The inclusion proof of leaf `index` in the tree of `size` leaves;
/// `size` must not exceed the latest signed size.
pub async fn inclusion(
    conn: &mut Connection,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, TransparencyError> {
    let signed = require_checkpoint(conn).await?.size;
    if size > signed || index >= size {
        return Err(TransparencyError::IndexOutOfRange { index, size });
    }
    nodes::compute(conn, |source| inclusion_proof(source, index, size)).await
}

/// The consistency proof between tree sizes `first ≤ second ≤` the latest signed size.
pub async fn consistency(
    conn: &mut Connection,
    first: u64,
    second: u64,
) -> Result<Vec<Hash>, TransparencyError> {
    let size = latest_checkpoint(conn).await?.map_or(0, |c| c.size);
    if first > second || second > size {
        return Err(TransparencyError::BadSizes {
            first,
            second,
            size,
        });
    }
    nodes::compute(conn, |source| consistency_proof(source, first, second)).await
}

/// The proof for a sequenced entry against the latest checkpoint.
pub async fn entry_proof(
    conn: &mut Connection,
    index: u64,
) -> Result<Option<EntryProof>, TransparencyError> {
    let checkpoint = require_checkpoint(conn).await?;
    entry_proof_against(conn, index, checkpoint).await
}

/// The proof for a sequenced entry against a given signed `checkpoint`.
pub async fn entry_proof_against(
    conn: &mut Connection,
    index: u64,
    checkpoint: SignedCheckpoint,
) -> Result<Option<EntryProof>, TransparencyError> {
    if index >= checkpoint.size {
        return Ok(None);
    }
    let Some(entry) = entry_at(conn, index).await? else {
        return Ok(None);
    };
    let size = checkpoint.size;
    let path = nodes::compute(conn, |source| inclusion_proof(source, index, size)).await?;
    Ok(Some(EntryProof {
        index,
        entry: entry.bytes,
        path,
        checkpoint,
    }))
}
