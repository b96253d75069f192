//! Sealed private keys (see [`crate::keystore`]): only ciphertext is stored.

use sqlx::Row;

use super::{Connection, StoreError, now_unix};
use crate::keystore::{KeyAlgorithm, SealedKey};

/// Stores a sealed key.
pub async fn insert(conn: &mut Connection, key: &SealedKey) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO keys (id, algorithm, public_key, sealed_private_key, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&key.id)
    .bind(key.algorithm.as_str())
    .bind(&key.public_key)
    .bind(&key.sealed_private_key)
    .bind(now_unix())
    .execute(conn)
    .await?;
    Ok(())
}

/// Loads a sealed key by id.
pub async fn get(conn: &mut Connection, id: &str) -> Result<Option<SealedKey>, StoreError> {
    let row =
        sqlx::query("SELECT id, algorithm, public_key, sealed_private_key FROM keys WHERE id = $1")
            .bind(id)
            .fetch_optional(conn)
            .await?;
    let Some(row) = row else { return Ok(None) };
    let algorithm: String = row.try_get("algorithm")?;
    Ok(Some(SealedKey {
        id: row.try_get("id")?,
        algorithm: KeyAlgorithm::parse(&algorithm).ok_or_else(|| {
            sqlx::Error::Decode(format!("unknown key algorithm {algorithm}").into())
        })?,
        public_key: row.try_get("public_key")?,
        sealed_private_key: row.try_get("sealed_private_key")?,
    }))
}
