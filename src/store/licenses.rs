//! License types, issued licenses and the serial counter per (type, issuer).
//! Field definitions and values are stored as JSON text: they are read and
//! written whole, never queried by part.

use sqlx::{FromRow, Row};

use super::{Connection, StoreError};

/// A stored license type.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct LicenseTypeRow {
    /// Type code (USCC + 3 digits).
    pub code: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// Default validity in days (0: long-term).
    pub validity_days: i64,
    /// The field definitions, JSON.
    pub fields_json: String,
    /// Creation time.
    pub created_at: i64,
}

/// Stores a type and its issuers; a second type with the same code is a duplicate.
pub async fn insert_type(
    conn: &mut Connection,
    t: &LicenseTypeRow,
    issuers: &[String],
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO license_types (code, name_zh, name_en, validity_days, fields_json, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&t.code)
    .bind(&t.name_zh)
    .bind(&t.name_en)
    .bind(t.validity_days)
    .bind(&t.fields_json)
    .bind(t.created_at)
    .execute(&mut *conn)
    .await
    .map_err(|e| StoreError::duplicate_as(e, "license type code"))?;
    for department_id in issuers {
        sqlx::query("INSERT INTO license_type_issuers (type_code, department_id) VALUES ($1, $2)")
            .bind(&t.code)
            .bind(department_id)
            .execute(&mut *conn)
            .await
            .map_err(|e| StoreError::duplicate_as(e, "issuer"))?;
    }
    Ok(())
}

/// Loads a type.
pub async fn get_type(
    conn: &mut Connection,
    code: &str,
) -> Result<Option<LicenseTypeRow>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT code, name_zh, name_en, validity_days, fields_json, created_at FROM license_types WHERE code = $1",
    )
    .bind(code)
    .fetch_optional(conn)
    .await?)
}

/// The departments allowed to issue a type.
pub async fn type_issuers(conn: &mut Connection, code: &str) -> Result<Vec<String>, StoreError> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT department_id FROM license_type_issuers WHERE type_code = $1 ORDER BY department_id",
    )
    .bind(code)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|(d,)| d).collect())
}

/// Every (type code, issuing department's USCC) pair, sorted: what the
/// authorised issuers list publishes.
pub async fn issuer_usccs(conn: &mut Connection) -> Result<Vec<(String, String)>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT i.type_code, d.uscc FROM license_type_issuers i \
         JOIN departments d ON d.id = i.department_id ORDER BY i.type_code, d.uscc",
    )
    .fetch_all(conn)
    .await?)
}

/// A type, and whether `department_id` may issue it, in one query.
pub async fn get_type_for_issuer(
    conn: &mut Connection,
    code: &str,
    department_id: &str,
) -> Result<Option<(LicenseTypeRow, bool)>, StoreError> {
    let row = sqlx::query(
        "SELECT code, name_zh, name_en, validity_days, fields_json, created_at, \
         (SELECT COUNT(*) FROM license_type_issuers i WHERE i.type_code = t.code AND i.department_id = $2) AS issuer \
         FROM license_types t WHERE t.code = $1",
    )
    .bind(code)
    .bind(department_id)
    .fetch_optional(conn)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let issuer: i64 = row.try_get("issuer")?;
    Ok(Some((LicenseTypeRow::from_row(&row)?, issuer > 0)))
}

/// A stored license (without its record and PDF).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct LicenseRow {
    /// The GB/T 36904 identifier.
    pub id: String,
    /// Type code.
    pub type_code: String,
    /// Issuing department.
    pub department_id: String,
    /// The seal that signed.
    pub seal_id: String,
    /// Holder's name.
    pub holder_name: String,
    /// `resident` or `uscc`.
    pub holder_id_type: String,
    /// Holder's identifier, in full.
    pub holder_id: String,
    /// Field values, JSON array of `[key, value]` in display order.
    pub fields_json: String,
    /// `valid`, `suspended`, `revoked` (expiry is computed from `valid_until`).
    pub status: String,
    /// Why it was revoked or suspended.
    pub status_reason: Option<String>,
    /// Validity start.
    pub valid_from: i64,
    /// Validity end; none for a long-term license.
    pub valid_until: Option<i64>,
    /// Time of issue.
    pub issued_at: i64,
    /// Last status change.
    pub updated_at: i64,
    /// Who issued it.
    pub actor: String,
    /// The caller's Idempotency-Key.
    pub idempotency_key: Option<String>,
    /// SHA-256 of the request, to refuse a reused key with another body.
    pub request_sha256: String,
    /// The version this one replaces (renewal or amendment), if any.
    pub supersedes: Option<String>,
    /// The version that replaced this one (status `superseded`), if any.
    pub superseded_by: Option<String>,
}

const COLUMNS: &str = "id, type_code, department_id, seal_id, holder_name, holder_id_type, holder_id, fields_json, status, status_reason, valid_from, valid_until, issued_at, updated_at, actor, idempotency_key, request_sha256, supersedes, superseded_by";

/// Stores an issued license with its record and PDF.
pub async fn insert(
    conn: &mut Connection,
    l: &LicenseRow,
    record: &[u8],
    pdf: &[u8],
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO licenses (id, type_code, department_id, seal_id, holder_name, holder_id_type, holder_id, fields_json, status, status_reason, valid_from, valid_until, issued_at, updated_at, actor, idempotency_key, request_sha256, supersedes, superseded_by, record, pdf) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)",
    )
    .bind(&l.id)
    .bind(&l.type_code)
    .bind(&l.department_id)
    .bind(&l.seal_id)
    .bind(&l.holder_name)
    .bind(&l.holder_id_type)
    .bind(&l.holder_id)
    .bind(&l.fields_json)
    .bind(&l.status)
    .bind(&l.status_reason)
    .bind(l.valid_from)
    .bind(l.valid_until)
    .bind(l.issued_at)
    .bind(l.updated_at)
    .bind(&l.actor)
    .bind(&l.idempotency_key)
    .bind(&l.request_sha256)
    .bind(&l.supersedes)
    .bind(&l.superseded_by)
    .bind(record)
    .bind(pdf)
    .execute(conn)
    .await
    .map_err(|e| StoreError::duplicate_as(e, "idempotency key"))?;
    Ok(())
}

/// Marks `id` superseded by `by`, if its stored status is still one of
/// `from` (checked in the same statement, so two concurrent new versions of
/// one license cannot both succeed: the second finds 0 rows). Returns
/// whether the row changed.
pub async fn supersede(
    conn: &mut Connection,
    id: &str,
    by: &str,
    from: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE licenses SET status = 'superseded', superseded_by = $1, updated_at = $2 \
         WHERE id = $3 AND status = $4 AND superseded_by IS NULL",
    )
    .bind(by)
    .bind(now)
    .bind(id)
    .bind(from)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Every superseded license with its successor, sorted by identifier.
pub async fn superseded_pairs(conn: &mut Connection) -> Result<Vec<(String, String)>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT id, superseded_by FROM licenses WHERE status = 'superseded' AND superseded_by IS NOT NULL ORDER BY id",
    )
    .fetch_all(conn)
    .await?)
}

/// Loads a license.
pub async fn get(conn: &mut Connection, id: &str) -> Result<Option<LicenseRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM licenses WHERE id = $1");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await?)
}

/// The license an actor issued with an idempotency key.
pub async fn by_idempotency_key(
    conn: &mut Connection,
    actor: &str,
    key: &str,
) -> Result<Option<LicenseRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM licenses WHERE actor = $1 AND idempotency_key = $2");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(actor)
        .bind(key)
        .fetch_optional(conn)
        .await?)
}

/// A holder's licenses, newest first.
pub async fn by_holder(
    conn: &mut Connection,
    holder_id: &str,
) -> Result<Vec<LicenseRow>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM licenses WHERE holder_id = $1 ORDER BY issued_at DESC, id LIMIT 1000"
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(holder_id)
        .fetch_all(conn)
        .await?)
}

/// The signed record (`record`) or the PDF (`pdf`) of a license.
pub async fn artefact(
    conn: &mut Connection,
    id: &str,
    which: Artefact,
) -> Result<Option<Vec<u8>>, StoreError> {
    let sql = match which {
        Artefact::Record => "SELECT record FROM licenses WHERE id = $1",
        Artefact::Pdf => "SELECT pdf FROM licenses WHERE id = $1",
    };
    let row: Option<(Vec<u8>,)> = sqlx::query_as(sql).bind(id).fetch_optional(conn).await?;
    Ok(row.map(|(b,)| b))
}

/// Which stored artefact.
#[derive(Clone, Copy, Debug)]
pub enum Artefact {
    /// The COSE_Sign1 record.
    Record,
    /// The signed PDF.
    Pdf,
}

/// Sets a license's status if its stored status is still `from` (checked in
/// the same statement, so of two concurrent changes read from one status
/// only the first applies, and nothing leaves `revoked`). Returns whether
/// the row changed.
pub async fn set_status(
    conn: &mut Connection,
    id: &str,
    from: &str,
    status: &str,
    reason: Option<&str>,
    now: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE licenses SET status = $1, status_reason = $2, updated_at = $3 \
         WHERE id = $4 AND status = $5 AND status <> 'revoked'",
    )
    .bind(status)
    .bind(reason)
    .bind(now)
    .bind(id)
    .bind(from)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Seal certificates revoked for key compromise (serial hex), each with the
/// SHA-256 of every license record its seal issued; sorted by serial.
pub async fn compromised_seal_records(
    conn: &mut Connection,
) -> Result<Vec<(String, Vec<[u8; 32]>)>, StoreError> {
    let rows: Vec<(String, Option<Vec<u8>>)> = sqlx::query_as(
        "SELECT c.serial_hex, l.record FROM certificates c \
         JOIN seals s ON s.certificate_id = c.id \
         LEFT JOIN licenses l ON l.seal_id = s.id \
         WHERE c.revocation_reason IN ('keyCompromise', 'cACompromise') \
         ORDER BY c.serial_hex",
    )
    .fetch_all(conn)
    .await?;
    let mut out: Vec<(String, Vec<[u8; 32]>)> = Vec::new();
    for (serial, record) in rows {
        if out.last().is_none_or(|(last, _)| *last != serial) {
            out.push((serial, Vec::new()));
        }
        if let (Some(record), Some((_, hashes))) = (record, out.last_mut()) {
            let mut hash = [0u8; 32];
            hash.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, &record).as_ref());
            hashes.push(hash);
        }
    }
    Ok(out)
}

/// Identifiers of licenses with `status`, sorted.
pub async fn ids_with_status(
    conn: &mut Connection,
    status: &str,
) -> Result<Vec<String>, StoreError> {
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT id FROM licenses WHERE status = $1 ORDER BY id")
            .bind(status)
            .fetch_all(conn)
            .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// A holder's licenses of `types` that are in force at `now` (status
/// `valid`, within their validity), for the license library; at most 100.
pub async fn in_force_for_holder(
    conn: &mut Connection,
    holder_id_type: &str,
    holder_id: &str,
    types: &[String],
    now: i64,
) -> Result<Vec<LicenseRow>, StoreError> {
    if types.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (0..types.len()).map(|i| format!("${}", i + 4)).collect();
    let sql = format!(
        "SELECT {COLUMNS} FROM licenses WHERE holder_id = $1 AND holder_id_type = $2 \
         AND status = 'valid' AND valid_from <= $3 AND (valid_until IS NULL OR valid_until > $3) \
         AND type_code IN ({}) ORDER BY type_code, issued_at DESC, id LIMIT 100",
        placeholders.join(", ")
    );
    let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(holder_id)
        .bind(holder_id_type)
        .bind(now);
    for t in types {
        query = query.bind(t);
    }
    Ok(query.fetch_all(conn).await?)
}
