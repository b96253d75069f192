//! Installation-wide settings (name → text).

use sqlx::Row;

use super::{Backend, Connection, StoreError};

/// Reads a setting.
pub async fn get(conn: &mut Connection, name: &str) -> Result<Option<String>, StoreError> {
    let row = sqlx::query("SELECT value FROM settings WHERE name = $1")
        .bind(name)
        .fetch_optional(conn)
        .await?;
    Ok(row.map(|r| r.try_get("value")).transpose()?)
}

/// Writes a setting, replacing any earlier value.
pub async fn put(
    conn: &mut Connection,
    backend: Backend,
    name: &str,
    value: &str,
) -> Result<(), StoreError> {
    let sql = match backend {
        Backend::Sqlite => {
            "INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value"
        }
        Backend::Postgres => {
            "INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value"
        }
    };
    sqlx::query(sql)
        .bind(name)
        .bind(value)
        .execute(conn)
        .await?;
    Ok(())
}

/// Writes a setting only if it is absent; returns the value now stored
/// (another process may have won the race).
pub async fn put_if_absent(
    conn: &mut Connection,
    name: &str,
    value: &str,
) -> Result<String, StoreError> {
    sqlx::query("INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
        .bind(name)
        .bind(value)
        .execute(&mut *conn)
        .await?;
    Ok(get(conn, name).await?.unwrap_or_else(|| value.to_string()))
}
