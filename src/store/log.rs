//! Transparency-log rows (see `migrations/*/0003_log.sql`).

use super::{Connection, StoreError, new_id, now_unix};
use crate::log::LogEntry;

/// Appends `entry` unsequenced, in the caller's transaction: the business
/// record and its log entry commit or roll back together. Returns the row id.
pub async fn append(conn: &mut Connection, entry: &LogEntry) -> Result<String, StoreError> {
    let bytes = entry
        .encode()
        .map_err(|e| StoreError::Database(sqlx::Error::Encode(e.to_string().into())))?;
    let leaf = crate::log::leaf_hash(&bytes);
    let id = new_id();
    sqlx::query(
        "INSERT INTO log_entries (id, kind, subject_id, entry, leaf_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&id)
    .bind(entry.kind.as_str())
    .bind(&entry.subject_id)
    .bind(bytes)
    .bind(leaf.to_vec())
    .bind(now_unix())
    .execute(conn)
    .await?;
    Ok(id)
}
