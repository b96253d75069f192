//! Issued certificates, their revocation state, the authority's current
//! CA/TSA certificates and the CRLs published for each CA.

use sqlx::Row;

use super::{Connection, StoreError, now_unix};

/// A stored certificate.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CertificateRow {
    /// Row id.
    pub id: String,
    /// Role name (see [`crate::pki::CertificateRole::as_str`]).
    pub role: String,
    /// The issuing CA's certificate row (None for the root).
    pub issuer_id: Option<String>,
    /// Serial number (hex).
    pub serial_hex: String,
    /// Subject common name, for people.
    pub subject: String,
    /// The key this certificate certifies.
    pub key_id: String,
    /// DER.
    pub der: Vec<u8>,
    /// Validity start (Unix seconds).
    pub not_before: i64,
    /// Validity end (Unix seconds).
    pub not_after: i64,
    /// Revocation time, if revoked.
    pub revoked_at: Option<i64>,
    /// Revocation reason (RFC 5280 reason name), if revoked.
    pub revocation_reason: Option<String>,
}

const COLUMNS: &str = "id, role, issuer_id, serial_hex, subject, key_id, der, not_before, not_after, revoked_at, revocation_reason";

/// Stores a new certificate.
pub async fn insert(conn: &mut Connection, c: &CertificateRow) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO certificates (id, role, issuer_id, serial_hex, subject, key_id, der, not_before, not_after, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&c.id)
    .bind(&c.role)
    .bind(&c.issuer_id)
    .bind(&c.serial_hex)
    .bind(&c.subject)
    .bind(&c.key_id)
    .bind(&c.der)
    .bind(c.not_before)
    .bind(c.not_after)
    .bind(now_unix())
    .execute(conn)
    .await
    .map_err(|e| StoreError::duplicate_as(e, "certificate serial"))?;
    Ok(())
}

/// Loads a certificate by id.
pub async fn get(conn: &mut Connection, id: &str) -> Result<Option<CertificateRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM certificates WHERE id = $1");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await?)
}

/// Every certificate with `role`, revoked ones included, by serial.
pub async fn with_role(
    conn: &mut Connection,
    role: &str,
) -> Result<Vec<CertificateRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM certificates WHERE role = $1 ORDER BY serial_hex");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(role)
        .fetch_all(conn)
        .await?)
}

/// Marks a certificate revoked; returns false if it already was (or does not exist).
pub async fn revoke(
    conn: &mut Connection,
    id: &str,
    at: i64,
    reason: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE certificates SET revoked_at = $1, revocation_reason = $2 WHERE id = $3 AND revoked_at IS NULL",
    )
    .bind(at)
    .bind(reason)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Every revoked certificate issued by `issuer_id` that has not yet expired.
pub async fn revoked_by_issuer(
    conn: &mut Connection,
    issuer_id: &str,
) -> Result<Vec<CertificateRow>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM certificates WHERE issuer_id = $1 AND revoked_at IS NOT NULL ORDER BY revoked_at, serial_hex"
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(issuer_id)
        .fetch_all(conn)
        .await?)
}

/// Sets the authority's current certificate for `role`.
pub async fn set_authority(
    conn: &mut Connection,
    role: &str,
    certificate_id: &str,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO authority (role, certificate_id) VALUES ($1, $2)")
        .bind(role)
        .bind(certificate_id)
        .execute(conn)
        .await
        .map_err(|e| StoreError::duplicate_as(e, "authority role"))?;
    Ok(())
}

/// The authority's current certificate for `role`.
pub async fn authority(
    conn: &mut Connection,
    role: &str,
) -> Result<Option<CertificateRow>, StoreError> {
    let sql = format!(
        "SELECT {} FROM certificates c JOIN authority a ON a.certificate_id = c.id WHERE a.role = $1",
        COLUMNS
            .split(", ")
            .map(|c| format!("c.{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(role)
        .fetch_optional(conn)
        .await?)
}

/// A published CRL.
#[derive(Clone, Debug)]
pub struct CrlRow {
    /// CRL number.
    pub number: i64,
    /// DER.
    pub der: Vec<u8>,
    /// thisUpdate (Unix seconds).
    pub this_update: i64,
    /// nextUpdate (Unix seconds).
    pub next_update: i64,
}

/// The newest CRL of `ca`.
pub async fn latest_crl(conn: &mut Connection, ca: &str) -> Result<Option<CrlRow>, StoreError> {
    let row = sqlx::query(
        "SELECT number, der, this_update, next_update FROM crls WHERE ca = $1 ORDER BY number DESC LIMIT 1",
    )
    .bind(ca)
    .fetch_optional(conn)
    .await?;
    row.map(|r| {
        Ok(CrlRow {
            number: r.try_get("number")?,
            der: r.try_get("der")?,
            this_update: r.try_get("this_update")?,
            next_update: r.try_get("next_update")?,
        })
    })
    .transpose()
}

/// Stores a CRL. The primary key (ca, number) makes two processes that race
/// for the same number fail instead of publishing two CRLs with one number.
pub async fn insert_crl(conn: &mut Connection, ca: &str, crl: &CrlRow) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO crls (ca, number, der, this_update, next_update) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(ca)
    .bind(crl.number)
    .bind(&crl.der)
    .bind(crl.this_update)
    .bind(crl.next_update)
    .execute(conn)
    .await
    .map_err(|e| StoreError::duplicate_as(e, "CRL number"))?;
    Ok(())
}

/// Row count helper for tests and health checks.
pub async fn count(conn: &mut Connection) -> Result<i64, StoreError> {
    Ok(sqlx::query("SELECT COUNT(*) AS n FROM certificates")
        .fetch_one(conn)
        .await?
        .try_get("n")?)
}
