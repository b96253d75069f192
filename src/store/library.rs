//! The license library's tables (migration 0008): service items and their
//! handling departments, versioned use lists, consent codes and the record
//! of every use. Every SQL statement of the library is here.

use super::{Connection, StoreError};

/// A service item (事项).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ItemRow {
    /// Its code, e.g. `330000-FW-0001`.
    pub code: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// When it was published.
    pub created_at: i64,
}

/// One version of a use list entry (用证清单).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct UseEntryRow {
    /// Row id.
    pub id: String,
    /// The service item.
    pub item_code: String,
    /// The license type it may use.
    pub type_code: String,
    /// 1, 2, …: the highest is in force.
    pub version: i64,
    /// JSON array of the released field keys.
    pub fields_json: String,
    /// 1 if a release needs the holder's consent.
    pub consent_required: i64,
    /// The legal basis, as text.
    pub legal_basis: String,
    /// 0 once withdrawn.
    pub active: i64,
    /// When this version was made.
    pub created_at: i64,
}

/// A consent code (用证码), without the code itself.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ConsentRow {
    /// Row id.
    pub id: String,
    /// SHA-256 (hex) of the code.
    pub code_sha256: String,
    /// `resident` or `uscc`.
    pub holder_id_type: String,
    /// The holder's identifier.
    pub holder_id: String,
    /// The service item it is for.
    pub item_code: String,
    /// The one department it is for, if bound to one.
    pub department_id: Option<String>,
    /// JSON array of license type codes.
    pub license_types: String,
    /// `client:<id>` or `holder:<subject>`.
    pub created_by: String,
    /// Creation time.
    pub created_at: i64,
    /// Expiry.
    pub expires_at: i64,
    /// When it was used.
    pub used_at: Option<i64>,
    /// The use that consumed it.
    pub used_by: Option<String>,
    /// When it was revoked.
    pub revoked_at: Option<i64>,
}

/// A use of the library, granted or refused.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct UseRow {
    /// Row id.
    pub id: String,
    /// `granted` or `refused`.
    pub outcome: String,
    /// A refusal's error code.
    pub refusal: Option<String>,
    /// The using department.
    pub department_id: String,
    /// Its API client.
    pub client_id: String,
    /// The official who asked.
    pub operator: String,
    /// The service item.
    pub item_code: String,
    /// Why.
    pub reason: String,
    /// `resident` or `uscc`.
    pub holder_id_type: String,
    /// The holder's identifier.
    pub holder_id: String,
    /// The consent that allowed it.
    pub consent_id: Option<String>,
    /// JSON array of the use list entry ids in force.
    pub use_list_json: String,
    /// JSON array of the licenses released.
    pub licenses_json: String,
    /// When.
    pub created_at: i64,
    /// Until when the originals may be fetched.
    pub pdf_until: Option<i64>,
}

/// Stores a service item and its departments.
pub async fn insert_item(
    conn: &mut Connection,
    item: &ItemRow,
    departments: &[String],
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO service_items (code, name_zh, name_en, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(&item.code)
    .bind(&item.name_zh)
    .bind(&item.name_en)
    .bind(item.created_at)
    .execute(&mut *conn)
    .await
    .map_err(|e| StoreError::duplicate_as(e, "service item"))?;
    for department in departments {
        sqlx::query(
            "INSERT INTO service_item_departments (item_code, department_id) VALUES ($1, $2)",
        )
        .bind(&item.code)
        .bind(department)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// A service item.
pub async fn get_item(conn: &mut Connection, code: &str) -> Result<Option<ItemRow>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT code, name_zh, name_en, created_at FROM service_items WHERE code = $1",
    )
    .bind(code)
    .fetch_optional(conn)
    .await?)
}

/// Every service item, by code.
pub async fn list_items(conn: &mut Connection) -> Result<Vec<ItemRow>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT code, name_zh, name_en, created_at FROM service_items ORDER BY code LIMIT 10000",
    )
    .fetch_all(conn)
    .await?)
}

/// The departments handling a service item.
pub async fn item_departments(
    conn: &mut Connection,
    code: &str,
) -> Result<Vec<String>, StoreError> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT department_id FROM service_item_departments WHERE item_code = $1 ORDER BY department_id",
    )
    .bind(code)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|(d,)| d).collect())
}

const USE_ENTRY_COLUMNS: &str = "id, item_code, type_code, version, fields_json, consent_required, legal_basis, active, created_at";

/// The version a new use list entry for (item, type) gets.
pub async fn next_use_version(
    conn: &mut Connection,
    item: &str,
    type_code: &str,
) -> Result<i64, StoreError> {
    let (max,): (Option<i64>,) = sqlx::query_as(
        "SELECT MAX(version) FROM use_list_entries WHERE item_code = $1 AND type_code = $2",
    )
    .bind(item)
    .bind(type_code)
    .fetch_one(conn)
    .await?;
    Ok(max.unwrap_or(0) + 1)
}

/// Stores a use list entry version (a concurrent one with the same version
/// is a [`StoreError::Duplicate`]).
pub async fn insert_use_entry(conn: &mut Connection, e: &UseEntryRow) -> Result<(), StoreError> {
    let sql = format!(
        "INSERT INTO use_list_entries ({USE_ENTRY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&e.id)
        .bind(&e.item_code)
        .bind(&e.type_code)
        .bind(e.version)
        .bind(&e.fields_json)
        .bind(e.consent_required)
        .bind(&e.legal_basis)
        .bind(e.active)
        .bind(e.created_at)
        .execute(conn)
        .await
        .map_err(|e| StoreError::duplicate_as(e, "use list version"))?;
    Ok(())
}

/// The use list of an item in force now: for each license type its newest
/// version, if that version is active.
pub async fn use_list_in_force(
    conn: &mut Connection,
    item: &str,
) -> Result<Vec<UseEntryRow>, StoreError> {
    let sql = format!(
        "SELECT {USE_ENTRY_COLUMNS} FROM use_list_entries e WHERE item_code = $1 AND active = 1 \
         AND version = (SELECT MAX(version) FROM use_list_entries n \
                        WHERE n.item_code = e.item_code AND n.type_code = e.type_code) \
         ORDER BY type_code"
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(item)
        .fetch_all(conn)
        .await?)
}

const CONSENT_COLUMNS: &str = "id, code_sha256, holder_id_type, holder_id, item_code, department_id, license_types, created_by, created_at, expires_at, used_at, used_by, revoked_at";

/// Stores a consent.
pub async fn insert_consent(conn: &mut Connection, c: &ConsentRow) -> Result<(), StoreError> {
    let sql = format!(
        "INSERT INTO consents ({CONSENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&c.id)
        .bind(&c.code_sha256)
        .bind(&c.holder_id_type)
        .bind(&c.holder_id)
        .bind(&c.item_code)
        .bind(&c.department_id)
        .bind(&c.license_types)
        .bind(&c.created_by)
        .bind(c.created_at)
        .bind(c.expires_at)
        .bind(c.used_at)
        .bind(&c.used_by)
        .bind(c.revoked_at)
        .execute(conn)
        .await
        .map_err(|e| StoreError::duplicate_as(e, "consent code"))?;
    Ok(())
}

/// The consent whose code hashes to `code_sha256`.
pub async fn consent_by_code(
    conn: &mut Connection,
    code_sha256: &str,
) -> Result<Option<ConsentRow>, StoreError> {
    let sql = format!("SELECT {CONSENT_COLUMNS} FROM consents WHERE code_sha256 = $1");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(code_sha256)
        .fetch_optional(conn)
        .await?)
}

/// A consent by id.
pub async fn get_consent(
    conn: &mut Connection,
    id: &str,
) -> Result<Option<ConsentRow>, StoreError> {
    let sql = format!("SELECT {CONSENT_COLUMNS} FROM consents WHERE id = $1");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await?)
}

/// Marks a consent used by `use_id` if it is still unused, unrevoked and
/// unexpired at `now` (checked in the statement, so a code is used once even
/// by concurrent requests). Returns whether it was.
pub async fn consume_consent(
    conn: &mut Connection,
    id: &str,
    use_id: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE consents SET used_at = $1, used_by = $2 WHERE id = $3 AND used_at IS NULL \
         AND revoked_at IS NULL AND expires_at > $1",
    )
    .bind(now)
    .bind(use_id)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Revokes an unused, unrevoked consent. Returns whether it was.
pub async fn revoke_consent(conn: &mut Connection, id: &str, now: i64) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE consents SET revoked_at = $1 WHERE id = $2 AND used_at IS NULL AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

const USE_COLUMNS: &str = "id, outcome, refusal, department_id, client_id, operator, item_code, reason, holder_id_type, holder_id, consent_id, use_list_json, licenses_json, created_at, pdf_until";

/// Stores a use with the licenses it released (`(license id, issuer)`).
pub async fn insert_use(
    conn: &mut Connection,
    u: &UseRow,
    licenses: &[(String, String)],
) -> Result<(), StoreError> {
    let sql = format!(
        "INSERT INTO license_uses ({USE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&u.id)
        .bind(&u.outcome)
        .bind(&u.refusal)
        .bind(&u.department_id)
        .bind(&u.client_id)
        .bind(&u.operator)
        .bind(&u.item_code)
        .bind(&u.reason)
        .bind(&u.holder_id_type)
        .bind(&u.holder_id)
        .bind(&u.consent_id)
        .bind(&u.use_list_json)
        .bind(&u.licenses_json)
        .bind(u.created_at)
        .bind(u.pdf_until)
        .execute(&mut *conn)
        .await?;
    for (license_id, issuer) in licenses {
        sqlx::query(
            "INSERT INTO license_use_licenses (use_id, license_id, issuer_department_id, created_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(&u.id)
        .bind(license_id)
        .bind(issuer)
        .bind(u.created_at)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// A use by id.
pub async fn get_use(conn: &mut Connection, id: &str) -> Result<Option<UseRow>, StoreError> {
    let sql = format!("SELECT {USE_COLUMNS} FROM license_uses WHERE id = $1");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await?)
}

/// The issuing departments of the licenses a use released.
pub async fn use_issuers(conn: &mut Connection, use_id: &str) -> Result<Vec<String>, StoreError> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT DISTINCT issuer_department_id FROM license_use_licenses WHERE use_id = $1",
    )
    .bind(use_id)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|(d,)| d).collect())
}

/// What to list of the uses; every set filter must hold.
#[derive(Clone, Debug, Default)]
pub struct UseFilter {
    /// Uses that released this license.
    pub license_id: Option<String>,
    /// Uses about this holder.
    pub holder_id: Option<String>,
    /// Uses by this department.
    pub department_id: Option<String>,
    /// Uses for this service item.
    pub item_code: Option<String>,
    /// Uses that released a license of this type.
    pub type_code: Option<String>,
    /// From this time (inclusive).
    pub from: Option<i64>,
    /// Before this time.
    pub to: Option<i64>,
    /// Only uses by, or releasing a license issued by, this department
    /// (what a department client may see).
    pub visible_to: Option<String>,
    /// At most this many, newest first.
    pub limit: i64,
}

/// The uses matching `filter`, newest first.
pub async fn query_uses(conn: &mut Connection, f: &UseFilter) -> Result<Vec<UseRow>, StoreError> {
    let mut sql = format!("SELECT {USE_COLUMNS} FROM license_uses u WHERE 1 = 1");
    let mut texts: Vec<&str> = Vec::new();
    let mut numbers: Vec<i64> = Vec::new();
    // Values are bound, never spliced; `?` marks where. Text binds come
    // first ($1…), then the numbers.
    let text_filters: [(&Option<String>, &str); 5] = [
        (
            &f.license_id,
            " AND EXISTS (SELECT 1 FROM license_use_licenses l WHERE l.use_id = u.id AND l.license_id = ?)",
        ),
        (&f.holder_id, " AND u.holder_id = ?"),
        (&f.department_id, " AND u.department_id = ?"),
        (&f.item_code, " AND u.item_code = ?"),
        (
            &f.type_code,
            " AND EXISTS (SELECT 1 FROM license_use_licenses l JOIN licenses c ON c.id = l.license_id \
             WHERE l.use_id = u.id AND c.type_code = ?)",
        ),
    ];
    for (value, clause) in text_filters {
        if let Some(value) = value {
            texts.push(value);
            sql.push_str(&clause.replace('?', &format!("${}", texts.len())));
        }
    }
    if let Some(department) = &f.visible_to {
        texts.push(department);
        let n = texts.len();
        sql.push_str(&format!(
            " AND (u.department_id = ${n} OR EXISTS (SELECT 1 FROM license_use_licenses l \
             WHERE l.use_id = u.id AND l.issuer_department_id = ${n}))"
        ));
    }
    let first_number = texts.len();
    for (value, clause) in [
        (f.from, " AND u.created_at >= "),
        (f.to, " AND u.created_at < "),
    ] {
        if let Some(value) = value {
            numbers.push(value);
            sql.push_str(&format!("{clause}${}", first_number + numbers.len()));
        }
    }
    numbers.push(f.limit);
    sql.push_str(&format!(
        " ORDER BY u.created_at DESC, u.id LIMIT ${}",
        first_number + numbers.len()
    ));
    let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql));
    for value in texts {
        query = query.bind(value);
    }
    for value in numbers {
        query = query.bind(value);
    }
    Ok(query.fetch_all(conn).await?)
}
