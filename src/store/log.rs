//! Transparency-log rows (see `migrations/*/0003_log.sql`).

use super::{Connection, StoreError, now_unix};
use crate::log::LogEntry;

/// A new log entry row id: a UUIDv7 (RFC 9562 §5.7), whose text sorts in
/// creation order (the timestamp comes first and, within one process, a
/// counter keeps ids of the same millisecond increasing). The sequencer gives
/// pending entries leaf indices in `(created_at, id)` order, and `created_at`
/// only has seconds: with random ids two actions on one subject within a
/// second (issue, then suspend) could be logged in the wrong order, and the
/// audit then compared the row with the earlier entry (issue 16).
pub fn new_entry_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Appends `entry` unsequenced, in the caller's transaction: the business
/// record and its log entry commit or roll back together. Returns the row id.
pub async fn append(conn: &mut Connection, entry: &LogEntry) -> Result<String, StoreError> {
    let bytes = entry
        .encode()
        .map_err(|e| StoreError::Database(sqlx::Error::Encode(e.to_string().into())))?;
    let leaf = crate::log::leaf_hash(&bytes);
    let id = new_entry_id();
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

#[cfg(test)]
mod tests {
    #[test]
    fn entry_ids_sort_in_creation_order() {
        let ids: Vec<String> = (0..10_000).map(|_| super::new_entry_id()).collect();
        assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "ids of one process strictly increase as text"
        );
    }
}
