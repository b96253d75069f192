//! Electronic seals (电子印章) and stamp records.

use sqlx::{FromRow, Row};

use super::certificates::CertificateRow;
use super::departments::DepartmentRow;
use super::{Connection, StoreError};

/// A stored seal.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SealRow {
    /// Row id.
    pub id: String,
    /// Owning department.
    pub department_id: String,
    /// Seal type (see [`crate::seal::registry::SealType`]).
    pub seal_type: String,
    /// Seal name, e.g. 行政审批专用章.
    pub name: String,
    /// 13-digit seal code.
    pub code: String,
    /// Current seal certificate.
    pub certificate_id: String,
    /// `active`, `suspended` or `revoked`.
    pub status: String,
    /// Validity start (Unix seconds).
    pub valid_from: i64,
    /// Validity end (Unix seconds).
    pub valid_until: i64,
    /// Creation time.
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
}

const COLUMNS: &str = "id, department_id, seal_type, name, code, certificate_id, status, valid_from, valid_until, created_at, updated_at";

/// Stores a seal.
pub async fn insert(conn: &mut Connection, s: &SealRow) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO seals (id, department_id, seal_type, name, code, certificate_id, status, valid_from, valid_until, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&s.id)
    .bind(&s.department_id)
    .bind(&s.seal_type)
    .bind(&s.name)
    .bind(&s.code)
    .bind(&s.certificate_id)
    .bind(&s.status)
    .bind(s.valid_from)
    .bind(s.valid_until)
    .bind(s.created_at)
    .bind(s.updated_at)
    .execute(conn)
    .await
    .map_err(|e| StoreError::duplicate_as(e, "seal code"))?;
    Ok(())
}

/// A seal with its department and its current certificate: what signing
/// with it needs.
#[derive(Clone, Debug)]
pub struct SealWithOwner {
    /// The seal.
    pub seal: SealRow,
    /// Its department.
    pub department: DepartmentRow,
    /// Its current certificate (revoked or not).
    pub certificate: CertificateRow,
}

/// Loads a seal with its department and certificate, in one query.
pub async fn get_with_owner(
    conn: &mut Connection,
    id: &str,
) -> Result<Option<SealWithOwner>, StoreError> {
    let seal_columns = COLUMNS
        .split(", ")
        .map(|c| format!("s.{c} AS {c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT {seal_columns}, \
         d.name AS d_name, d.uscc AS d_uscc, d.parent_id AS d_parent_id, \
         d.certificate_id AS d_certificate_id, d.created_at AS d_created_at, \
         c.role AS c_role, c.issuer_id AS c_issuer_id, c.serial_hex AS c_serial_hex, \
         c.subject AS c_subject, c.key_id AS c_key_id, c.der AS c_der, \
         c.not_before AS c_not_before, c.not_after AS c_not_after, \
         c.revoked_at AS c_revoked_at, c.revocation_reason AS c_revocation_reason \
         FROM seals s \
         JOIN departments d ON d.id = s.department_id \
         JOIN certificates c ON c.id = s.certificate_id \
         WHERE s.id = $1"
    );
    let Some(row) = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await?
    else {
        return Ok(None);
    };
    let seal = SealRow::from_row(&row)?;
    let department = DepartmentRow {
        id: seal.department_id.clone(),
        name: row.try_get("d_name")?,
        uscc: row.try_get("d_uscc")?,
        parent_id: row.try_get("d_parent_id")?,
        certificate_id: row.try_get("d_certificate_id")?,
        created_at: row.try_get("d_created_at")?,
    };
    let certificate = CertificateRow {
        id: seal.certificate_id.clone(),
        role: row.try_get("c_role")?,
        issuer_id: row.try_get("c_issuer_id")?,
        serial_hex: row.try_get("c_serial_hex")?,
        subject: row.try_get("c_subject")?,
        key_id: row.try_get("c_key_id")?,
        der: row.try_get("c_der")?,
        not_before: row.try_get("c_not_before")?,
        not_after: row.try_get("c_not_after")?,
        revoked_at: row.try_get("c_revoked_at")?,
        revocation_reason: row.try_get("c_revocation_reason")?,
    };
    Ok(Some(SealWithOwner {
        seal,
        department,
        certificate,
    }))
}

/// Loads a seal.
pub async fn get(conn: &mut Connection, id: &str) -> Result<Option<SealRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM seals WHERE id = $1");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await?)
}

/// A department's seals.
pub async fn list(conn: &mut Connection, department_id: &str) -> Result<Vec<SealRow>, StoreError> {
    let sql =
        format!("SELECT {COLUMNS} FROM seals WHERE department_id = $1 ORDER BY created_at, id");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(department_id)
        .fetch_all(conn)
        .await?)
}

/// Changes a seal's status if it is currently `from`; returns whether it changed.
pub async fn set_status(
    conn: &mut Connection,
    id: &str,
    from: &[&str],
    to: &str,
    at: i64,
) -> Result<bool, StoreError> {
    let mut changed = false;
    for f in from {
        let done = sqlx::query(
            "UPDATE seals SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4",
        )
        .bind(to)
        .bind(at)
        .bind(id)
        .bind(*f)
        .execute(&mut *conn)
        .await?;
        changed |= done.rows_affected() == 1;
    }
    Ok(changed)
}

/// A stamp record.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct StampRow {
    /// Row id (returned to the caller as the record id).
    pub id: String,
    /// Department that stamped.
    pub department_id: String,
    /// Seal used.
    pub seal_id: String,
    /// The API client (or admin) that called.
    pub actor: String,
    /// The person who pressed "stamp".
    pub operator: Option<String>,
    /// Reason written into the signature.
    pub reason: Option<String>,
    /// PAdES level.
    pub level: String,
    /// Page (1-based).
    pub page: i64,
    /// Seal centre x (points).
    pub x: f64,
    /// Seal centre y (points).
    pub y: f64,
    /// Seal diameter (mm).
    pub size_mm: f64,
    /// SHA-256 of the uploaded PDF.
    pub input_sha256: String,
    /// SHA-256 of the stamped PDF.
    pub output_sha256: String,
    /// The caller's Idempotency-Key.
    pub idempotency_key: Option<String>,
    /// SHA-256 over the request (file and parameters), to detect a reused key.
    pub request_sha256: String,
    /// Time.
    pub created_at: i64,
}

const STAMP_COLUMNS: &str = "id, department_id, seal_id, actor, operator, reason, level, page, x, y, size_mm, input_sha256, output_sha256, idempotency_key, request_sha256, created_at";

/// Stores a stamp record with the stamped PDF.
pub async fn insert_stamp(
    conn: &mut Connection,
    s: &StampRow,
    output_pdf: &[u8],
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO stamps (id, department_id, seal_id, actor, operator, reason, level, page, x, y, size_mm, input_sha256, output_sha256, output_pdf, idempotency_key, request_sha256, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
    )
    .bind(&s.id)
    .bind(&s.department_id)
    .bind(&s.seal_id)
    .bind(&s.actor)
    .bind(&s.operator)
    .bind(&s.reason)
    .bind(&s.level)
    .bind(s.page)
    .bind(s.x)
    .bind(s.y)
    .bind(s.size_mm)
    .bind(&s.input_sha256)
    .bind(&s.output_sha256)
    .bind(output_pdf)
    .bind(&s.idempotency_key)
    .bind(&s.request_sha256)
    .bind(s.created_at)
    .execute(conn)
    .await
    .map_err(|e| StoreError::duplicate_as(e, "idempotency key"))?;
    Ok(())
}

/// The stamp an actor made with an idempotency key, with its output.
pub async fn stamp_by_idempotency_key(
    conn: &mut Connection,
    actor: &str,
    key: &str,
) -> Result<Option<(StampRow, Vec<u8>)>, StoreError> {
    let sql =
        format!("SELECT {STAMP_COLUMNS} FROM stamps WHERE actor = $1 AND idempotency_key = $2");
    let row: Option<StampRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(actor)
        .bind(key)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let (pdf,): (Vec<u8>,) = sqlx::query_as("SELECT output_pdf FROM stamps WHERE id = $1")
        .bind(&row.id)
        .fetch_one(conn)
        .await?;
    Ok(Some((row, pdf)))
}

/// Loads a stamp record (without the PDF).
pub async fn get_stamp(conn: &mut Connection, id: &str) -> Result<Option<StampRow>, StoreError> {
    let sql = format!("SELECT {STAMP_COLUMNS} FROM stamps WHERE id = $1");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await?)
}
