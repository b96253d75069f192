//! The sequencer (排序器): turns pending entries into leaves of the Merkle
//! tree and signs a checkpoint, in one transaction.
//!
//! Business use cases write entries unsequenced (`leaf_index` NULL) in their
//! own transaction. A sequencer run locks the log (PostgreSQL: `SELECT … FOR
//! UPDATE` on the single `log_state` row; SQLite: `BEGIN IMMEDIATE` already
//! serialises writers), gives up to `max_batch` pending entries consecutive
//! indices from the current size in `(created_at, id)` order, stores the
//! complete subtree nodes they finish (RFC 9162 §2.1.1 hashing, via
//! [`CompactRange`]), updates the size and root, and stores a checkpoint
//! signed as a C2SP signed note (<https://c2sp.org/tlog-checkpoint>). The lock
//! and the `UNIQUE` leaf index together mean several processes on one
//! database build one log with no gaps and no duplicates.

use sqlx::Row;

use super::nodes::{self, hash_column, to_i64, to_u64};
use super::{LogKey, TransparencyError};
use crate::log::{Checkpoint, CompactRange, checkpoint, leaf_hash};
use crate::store::{Backend, Database, now_unix};

/// Sequences up to `max_batch` pending entries. Returns the new checkpoint,
/// or `None` when nothing was pending.
pub async fn sequence(
    db: &Database,
    key: &LogKey,
    max_batch: u32,
) -> Result<Option<Checkpoint>, TransparencyError> {
    let mut tx = db.begin().await?;
    let lock = match db.backend {
        Backend::Postgres => "SELECT size, root FROM log_state WHERE id = 1 FOR UPDATE",
        Backend::Sqlite => "SELECT size, root FROM log_state WHERE id = 1",
    };
    let state = sqlx::query(lock)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| TransparencyError::Inconsistent("log_state has no row".into()))?;
    let size = to_u64(state.try_get("size")?)?;
    let stored_root = hash_column(&state, "root")?;

    let assigned = sqlx::query(
        "UPDATE log_entries SET leaf_index = batch.n FROM (\
           SELECT id, $1 + ROW_NUMBER() OVER (ORDER BY created_at, id) - 1 AS n \
           FROM log_entries WHERE leaf_index IS NULL ORDER BY created_at, id LIMIT $2\
         ) AS batch WHERE log_entries.id = batch.id",
    )
    .bind(to_i64(size)?)
    .bind(i64::from(max_batch))
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if assigned == 0 {
        return Ok(None);
    }

    let mut range =
        nodes::compute(&mut tx, |source| CompactRange::from_source(source, size)).await?;
    if range.root() != stored_root {
        return Err(TransparencyError::Inconsistent(format!(
            "the stored right edge of the tree of size {size} does not give the stored root"
        )));
    }
    let rows = sqlx::query(
        "SELECT leaf_index, entry FROM log_entries WHERE leaf_index >= $1 ORDER BY leaf_index",
    )
    .bind(to_i64(size)?)
    .fetch_all(&mut *tx)
    .await?;
    let mut completed = Vec::with_capacity(rows.len() * 2);
    for row in &rows {
        let index = to_u64(row.try_get("leaf_index")?)?;
        if index != range.size() {
            return Err(TransparencyError::Inconsistent(format!(
                "expected leaf {} but found {index}",
                range.size()
            )));
        }
        let entry: Vec<u8> = row.try_get("entry")?;
        completed.extend(range.append(leaf_hash(&entry)));
    }
    if range.size() != size + assigned {
        return Err(TransparencyError::Inconsistent(format!(
            "assigned {assigned} indices but read {} leaves",
            range.size() - size
        )));
    }
    nodes::insert_nodes(&mut tx, &completed).await?;

    let checkpoint = Checkpoint {
        origin: key.origin.clone(),
        size: range.size(),
        root: range.root(),
        extensions: Vec::new(),
    };
    let note = checkpoint::sign(&checkpoint, &key.origin, &*key.signer)?;
    let now = now_unix();
    sqlx::query("UPDATE log_state SET size = $1, root = $2, updated_at = $3 WHERE id = 1")
        .bind(to_i64(checkpoint.size)?)
        .bind(checkpoint.root.to_vec())
        .bind(now)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO log_checkpoints (size, root, note, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(to_i64(checkpoint.size)?)
    .bind(checkpoint.root.to_vec())
    .bind(note)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Some(checkpoint))
}

/// Sequences until nothing is pending; returns the last checkpoint made.
pub async fn sequence_all(
    db: &Database,
    key: &LogKey,
    max_batch: u32,
) -> Result<Option<Checkpoint>, TransparencyError> {
    let mut last = None;
    while let Some(checkpoint) = sequence(db, key, max_batch).await? {
        last = Some(checkpoint);
    }
    Ok(last)
}
