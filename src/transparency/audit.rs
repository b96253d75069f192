//! `govseal log audit`: recompute the whole log from its entries and compare
//! with everything stored — leaf hashes (RFC 9162 §2.1.1), every complete
//! subtree node, `log_state`, and every checkpoint (C2SP tlog-checkpoint:
//! signature by the log key, origin, and root at its size) — then cross-check
//! the business tables against the log (see [`super::audit_links`]).
//!
//! Memory stays bounded: entries are streamed in index order into a
//! [`CompactRange`] (O(log n) hashes); the nodes they complete are compared
//! with storage a chunk at a time; checkpoints are streamed alongside. Two
//! checkpoints whose roots both equal the recomputed roots of one append-only
//! sequence are consistent by construction (RFC 9162 §2.1.4), so no separate
//! consistency proof is needed between them.

use std::collections::BTreeMap;

use futures_util::TryStreamExt as _;
use sqlx::Row;

use super::TransparencyError;
use super::nodes::{hash_column, to_i64, to_u64};
use crate::log::{CompactRange, LogEntry, Node, VerifierKey, checkpoint, leaf_hash};
use crate::store::Database;

/// Leaves whose completed nodes are compared with storage at once.
const NODE_CHUNK: u64 = 8192;

/// The first thing that does not match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The leaf index of the entry concerned, when there is one.
    pub entry: Option<u64>,
    /// What differs.
    pub message: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.entry {
            Some(index) => write!(f, "entry {index}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

pub(super) fn finding(entry: Option<u64>, message: impl Into<String>) -> Finding {
    Finding {
        entry,
        message: message.into(),
    }
}

/// What a clean audit checked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditSummary {
    /// Sequenced entries replayed.
    pub entries: u64,
    /// Stored nodes compared.
    pub nodes: u64,
    /// Checkpoints verified.
    pub checkpoints: u64,
    /// Entries still waiting for the sequencer.
    pub pending: u64,
    /// Business rows matched with their entries.
    pub business_rows: u64,
    /// The recomputed root (hex).
    pub root_hex: String,
}

/// Audits the log in `db`. Checkpoint signatures are checked with
/// `verifier_key` (from the trust bundle), or else with the key published in
/// the database's settings. Personal columns are checked against their
/// logged HMACs only with the installation's `commitments` key; stamped
/// PDFs kept as files are re-hashed from `documents`.
pub async fn audit(
    db: &Database,
    verifier_key: Option<&str>,
    commitments: Option<&crate::keystore::CommitmentKey>,
    documents: Option<&crate::store::documents::DocumentStore>,
) -> Result<Result<AuditSummary, Finding>, TransparencyError> {
    let mut conn = db
        .pool
        .acquire()
        .await
        .map_err(crate::store::StoreError::from)?;
    let key_text = match verifier_key {
        Some(key) => key.trim().to_string(),
        None => super::key::published_verifier_key(&mut conn)
            .await?
            .ok_or(TransparencyError::NoLogKey)?,
    };
    let key = VerifierKey::parse(&key_text).map_err(crate::log::CheckpointError::from)?;
    let state = sqlx::query("SELECT size, root FROM log_state WHERE id = 1")
        .fetch_one(&mut *conn)
        .await?;
    let size = to_u64(state.try_get("size")?)?;
    let state_root = hash_column(&state, "root")?;

    let mut entries_conn = db
        .pool
        .acquire()
        .await
        .map_err(crate::store::StoreError::from)?;
    let mut checkpoints_conn = db
        .pool
        .acquire()
        .await
        .map_err(crate::store::StoreError::from)?;
    let mut rows = sqlx::query(
        "SELECT leaf_index, kind, subject_id, entry, leaf_hash FROM log_entries \
         WHERE leaf_index IS NOT NULL AND leaf_index < $1 ORDER BY leaf_index",
    )
    .bind(to_i64(size)?)
    .fetch(&mut *entries_conn);
    let mut checkpoints = sqlx::query("SELECT size, root, note FROM log_checkpoints ORDER BY size")
        .fetch(&mut *checkpoints_conn);
    let mut next_checkpoint = checkpoints.try_next().await?;
    let mut summary = AuditSummary::default();
    let mut range = CompactRange::new();
    let mut chunk: BTreeMap<u8, Vec<Node>> = BTreeMap::new();

    while let Some(row) = rows.try_next().await? {
        let index = to_u64(row.try_get("leaf_index")?)?;
        if index != range.size() {
            return Ok(Err(finding(
                Some(range.size()),
                format!("missing from the log (the next stored entry is {index})"),
            )));
        }
        let bytes: Vec<u8> = row.try_get("entry")?;
        let leaf = leaf_hash(&bytes);
        if hash_column(&row, "leaf_hash")? != leaf {
            return Ok(Err(finding(
                Some(index),
                "its bytes do not hash to its stored leaf hash (the entry was altered)",
            )));
        }
        let entry = match LogEntry::decode(&bytes) {
            Ok(entry) => entry,
            Err(e) => return Ok(Err(finding(Some(index), format!("not canonical: {e}")))),
        };
        let kind: String = row.try_get("kind")?;
        let subject: String = row.try_get("subject_id")?;
        if kind != entry.kind.as_str() || subject != entry.subject_id {
            return Ok(Err(finding(
                Some(index),
                format!(
                    "its columns say {kind} of {subject:?}, its bytes say {} of {:?}",
                    entry.kind.as_str(),
                    entry.subject_id
                ),
            )));
        }
        for node in range.append(leaf) {
            chunk.entry(node.level).or_default().push(node);
        }
        if range.size().is_multiple_of(NODE_CHUNK)
            && let Some(f) = compare_nodes(&mut conn, &mut chunk, &mut summary).await?
        {
            return Ok(Err(f));
        }
        while let Some(cp) = next_checkpoint.as_ref() {
            let cp_size = to_u64(cp.try_get("size")?)?;
            if cp_size > range.size() {
                break;
            }
            if let Some(f) = check_checkpoint(cp, &key, &range)? {
                return Ok(Err(f));
            }
            summary.checkpoints += 1;
            next_checkpoint = checkpoints.try_next().await?;
        }
    }
    drop(rows);
    if let Some(f) = compare_nodes(&mut conn, &mut chunk, &mut summary).await? {
        return Ok(Err(f));
    }
    if range.size() != size {
        return Ok(Err(finding(
            Some(range.size()),
            format!("missing: the log state says {size} entries"),
        )));
    }
    if range.root() != state_root {
        return Ok(Err(finding(
            None,
            "log_state's root differs from the recomputed root",
        )));
    }
    let stored_nodes: i64 =
        sqlx::query("SELECT COUNT(*) AS n FROM log_nodes WHERE idx < ($1 >> level)")
            .bind(to_i64(size)?)
            .fetch_one(&mut *conn)
            .await?
            .try_get("n")?;
    if to_u64(stored_nodes)? != summary.nodes {
        return Ok(Err(finding(
            None,
            format!(
                "log_nodes holds {stored_nodes} nodes, the tree has {}",
                summary.nodes
            ),
        )));
    }
    if let Some(cp) = next_checkpoint {
        let cp_size: i64 = cp.try_get("size")?;
        return Ok(Err(finding(
            None,
            format!("a checkpoint claims size {cp_size}, beyond the log's {size} entries"),
        )));
    }
    drop(checkpoints);
    summary.entries = range.size();
    summary.root_hex = hex::encode(range.root());
    let pending: i64 =
        sqlx::query("SELECT COUNT(*) AS n FROM log_entries WHERE leaf_index IS NULL")
            .fetch_one(&mut *conn)
            .await?
            .try_get("n")?;
    summary.pending = to_u64(pending)?;
    match super::audit_links::check(db, commitments, documents).await? {
        Ok(rows) => summary.business_rows = rows,
        Err(f) => return Ok(Err(f)),
    }
    Ok(Ok(summary))
}

/// Verifies one stored checkpoint against the tree recomputed up to its size.
fn check_checkpoint(
    row: &sqlx::any::AnyRow,
    key: &VerifierKey,
    range: &CompactRange,
) -> Result<Option<Finding>, TransparencyError> {
    let size = range.size();
    let last = size.checked_sub(1);
    let note: String = row.try_get("note")?;
    let cp = match checkpoint::open_with(&note, key) {
        Ok(cp) => cp,
        Err(e) => {
            return Ok(Some(finding(
                last,
                format!("the checkpoint at size {size} does not verify with the log key: {e}"),
            )));
        }
    };
    if cp.origin != key.name() {
        return Ok(Some(finding(
            last,
            format!("the checkpoint at size {size} names origin {:?}", cp.origin),
        )));
    }
    if cp.size != size || hash_column(row, "root")? != cp.root {
        return Ok(Some(finding(
            last,
            format!("the checkpoint row at size {size} differs from its signed note"),
        )));
    }
    if cp.root != range.root() {
        return Ok(Some(finding(
            last,
            format!(
                "the signed checkpoint at size {size} has a root the entries do not give (history rewritten)"
            ),
        )));
    }
    Ok(None)
}

/// Compares the recomputed nodes of one chunk with storage, lowest level
/// first so that a changed leaf is named before the parents it changes.
async fn compare_nodes(
    conn: &mut crate::store::Connection,
    chunk: &mut BTreeMap<u8, Vec<Node>>,
    summary: &mut AuditSummary,
) -> Result<Option<Finding>, TransparencyError> {
    for (level, nodes) in std::mem::take(chunk) {
        let (Some(first), Some(last)) = (nodes.first(), nodes.last()) else {
            continue;
        };
        let stored = sqlx::query(
            "SELECT idx, hash FROM log_nodes WHERE level = $1 AND idx >= $2 AND idx <= $3 ORDER BY idx",
        )
        .bind(i32::from(level))
        .bind(to_i64(first.index)?)
        .bind(to_i64(last.index)?)
        .fetch_all(&mut *conn)
        .await?;
        let mut stored = stored.iter();
        for node in &nodes {
            let leaf = node.index << level;
            let found = match stored.next() {
                Some(row) => Some((to_u64(row.try_get("idx")?)?, hash_column(row, "hash")?)),
                None => None,
            };
            match found {
                Some((idx, hash)) if idx == node.index && hash == node.hash => {}
                Some((idx, _)) if idx == node.index => {
                    return Ok(Some(finding(
                        Some(leaf),
                        format!(
                            "the stored tree node ({level}, {idx}) differs from the recomputed one"
                        ),
                    )));
                }
                _ => {
                    return Ok(Some(finding(
                        Some(leaf),
                        format!(
                            "the tree node ({level}, {}) is missing from storage",
                            node.index
                        ),
                    )));
                }
            }
        }
        summary.nodes += nodes.len() as u64;
    }
    Ok(None)
}
