//! API clients of departments: only the SHA-256 of each secret token is stored.

use super::{Connection, StoreError};

/// A stored API client.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ClientRow {
    /// Row id.
    pub id: String,
    /// The department it acts for.
    pub department_id: String,
    /// A name for people ("审批系统").
    pub name: String,
    /// Space-separated scopes.
    pub scopes: String,
    /// Creation time.
    pub created_at: i64,
    /// Revocation time, if revoked.
    pub revoked_at: Option<i64>,
}

const COLUMNS: &str = "id, department_id, name, scopes, created_at, revoked_at";

/// Stores a client with its token hash.
pub async fn insert(
    conn: &mut Connection,
    c: &ClientRow,
    token_hash: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO api_clients (id, department_id, name, scopes, token_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&c.id)
    .bind(&c.department_id)
    .bind(&c.name)
    .bind(&c.scopes)
    .bind(token_hash)
    .bind(c.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Finds the active client whose token hashes to `token_hash`.
pub async fn by_token_hash(
    conn: &mut Connection,
    token_hash: &str,
) -> Result<Option<ClientRow>, StoreError> {
    let sql =
        format!("SELECT {COLUMNS} FROM api_clients WHERE token_hash = $1 AND revoked_at IS NULL");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(token_hash)
        .fetch_optional(conn)
        .await?)
}

/// Loads a client of a department.
pub async fn get(
    conn: &mut Connection,
    department_id: &str,
    id: &str,
) -> Result<Option<ClientRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM api_clients WHERE department_id = $1 AND id = $2");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(department_id)
        .bind(id)
        .fetch_optional(conn)
        .await?)
}

/// A department's clients.
pub async fn list(
    conn: &mut Connection,
    department_id: &str,
) -> Result<Vec<ClientRow>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM api_clients WHERE department_id = $1 ORDER BY created_at, id"
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(department_id)
        .fetch_all(conn)
        .await?)
}

/// Revokes a client; false if it was already revoked.
pub async fn revoke(conn: &mut Connection, id: &str, at: i64) -> Result<bool, StoreError> {
    let done =
        sqlx::query("UPDATE api_clients SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(at)
            .bind(id)
            .execute(conn)
            .await?;
    Ok(done.rows_affected() == 1)
}
