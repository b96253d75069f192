//! Departments (部门): organisations with a USCC and an organisation certificate.

use super::{Connection, StoreError};

/// A stored department.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct DepartmentRow {
    /// Row id.
    pub id: String,
    /// Name in Chinese.
    pub name: String,
    /// Unified social credit code.
    pub uscc: String,
    /// The parent department, if any.
    pub parent_id: Option<String>,
    /// The current organisation certificate.
    pub certificate_id: String,
    /// Creation time (Unix seconds).
    pub created_at: i64,
}

/// Stores a department; a second department with the same USCC is a duplicate.
pub async fn insert(conn: &mut Connection, d: &DepartmentRow) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO departments (id, name, uscc, parent_id, certificate_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&d.id)
    .bind(&d.name)
    .bind(&d.uscc)
    .bind(&d.parent_id)
    .bind(&d.certificate_id)
    .bind(d.created_at)
    .execute(conn)
    .await
    .map_err(|e| StoreError::duplicate_as(e, "uscc"))?;
    Ok(())
}

/// Loads a department.
pub async fn get(conn: &mut Connection, id: &str) -> Result<Option<DepartmentRow>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT id, name, uscc, parent_id, certificate_id, created_at FROM departments WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?)
}

/// Whether a department with this USCC exists.
pub async fn uscc_exists(conn: &mut Connection, uscc: &str) -> Result<bool, StoreError> {
    Ok(sqlx::query("SELECT 1 FROM departments WHERE uscc = $1")
        .bind(uscc)
        .fetch_optional(conn)
        .await?
        .is_some())
}

/// Every department, oldest first.
pub async fn list(conn: &mut Connection) -> Result<Vec<DepartmentRow>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT id, name, uscc, parent_id, certificate_id, created_at FROM departments ORDER BY created_at, id",
    )
    .fetch_all(conn)
    .await?)
}

/// Points the department at a new organisation certificate.
pub async fn set_certificate(
    conn: &mut Connection,
    id: &str,
    certificate_id: &str,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE departments SET certificate_id = $1 WHERE id = $2")
        .bind(certificate_id)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}
