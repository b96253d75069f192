//! Which columns of which business tables a version-2 log entry commits to,
//! and how a stored row becomes a [`Record`] (issue 16). The writer and the
//! audit both read the row back with the same query and build the record
//! with the same function, so the two cannot drift apart.
//!
//! Blobs enter as their SHA-256; personal data (holder names and ID numbers,
//! operator names, free-text reasons, the license's field values) as
//! HMAC-SHA-256 under the installation's [`CommitmentKey`].

use std::collections::BTreeMap;

use sqlx::Row;

use crate::keystore::CommitmentKey;
use crate::log::{Record, Value};
use crate::store::{Connection, StoreError};

/// How a column is read and logged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    /// `BIGINT`, possibly NULL.
    Integer,
    /// `DOUBLE PRECISION`.
    Real,
    /// `TEXT`, possibly NULL, published as is.
    Text,
    /// `BLOB`/`BYTEA`: its SHA-256.
    Blob,
    /// `TEXT`, possibly NULL, personal: its HMAC.
    Personal,
}

/// A business table as the log sees it.
#[derive(Debug)]
pub struct Table {
    /// Its name.
    pub name: &'static str,
    /// The SQL expression whose value is the entries' subject: the primary
    /// key column, or for a composite key its columns joined by a space.
    pub key: &'static str,
    /// Every other business column.
    pub columns: &'static [(&'static str, Column)],
}

use Column::{Blob, Integer, Personal, Real, Text};

/// Stamps (用印记录): the stamped PDF itself by its hash.
pub const STAMPS: Table = Table {
    name: "stamps",
    key: "id",
    columns: &[
        ("department_id", Text),
        ("seal_id", Text),
        ("actor", Text),
        ("operator", Personal),
        ("reason", Personal),
        ("level", Text),
        ("page", Integer),
        ("x", Real),
        ("y", Real),
        ("size_mm", Real),
        ("input_sha256", Text),
        ("output_sha256", Text),
        ("output_pdf", Blob),
        ("idempotency_key", Text),
        ("request_sha256", Text),
        ("created_at", Integer),
    ],
};

/// Licenses (电子证照), every version.
pub const LICENSES: Table = Table {
    name: "licenses",
    key: "id",
    columns: &[
        ("type_code", Text),
        ("department_id", Text),
        ("seal_id", Text),
        ("holder_name", Personal),
        ("holder_id_type", Text),
        ("holder_id", Personal),
        ("fields_json", Personal),
        ("status", Text),
        ("status_reason", Personal),
        ("valid_from", Integer),
        ("valid_until", Integer),
        ("issued_at", Integer),
        ("updated_at", Integer),
        ("record", Blob),
        ("pdf", Blob),
        ("actor", Text),
        ("idempotency_key", Text),
        ("request_sha256", Text),
        ("supersedes", Text),
        ("superseded_by", Text),
    ],
};

/// Seals (电子印章).
pub const SEALS: Table = Table {
    name: "seals",
    key: "id",
    columns: &[
        ("department_id", Text),
        ("seal_type", Text),
        ("name", Text),
        ("code", Text),
        ("certificate_id", Text),
        ("status", Text),
        ("valid_from", Integer),
        ("valid_until", Integer),
        ("created_at", Integer),
        ("updated_at", Integer),
    ],
};

/// Certificates (数字证书) of the authority, departments, seals and the TSA.
pub const CERTIFICATES: Table = Table {
    name: "certificates",
    key: "serial_hex",
    columns: &[
        ("id", Text),
        ("role", Text),
        ("issuer_id", Text),
        ("subject", Text),
        ("key_id", Text),
        ("der", Blob),
        ("not_before", Integer),
        ("not_after", Integer),
        ("revoked_at", Integer),
        ("revocation_reason", Text),
        ("created_at", Integer),
    ],
};

/// Departments (部门), each with its organisation certificate.
pub const DEPARTMENTS: Table = Table {
    name: "departments",
    key: "id",
    columns: &[
        ("name", Text),
        ("uscc", Text),
        ("parent_id", Text),
        ("certificate_id", Text),
        ("created_at", Integer),
    ],
};

/// API clients of departments: scopes and revocation. The token's hash is
/// committed to like personal data: the public log gives nothing to guess at.
pub const API_CLIENTS: Table = Table {
    name: "api_clients",
    key: "id",
    columns: &[
        ("department_id", Text),
        ("name", Text),
        ("scopes", Text),
        ("token_hash", Personal),
        ("created_at", Integer),
        ("revoked_at", Integer),
    ],
};

/// License types (证照类型) and their field definitions.
pub const LICENSE_TYPES: Table = Table {
    name: "license_types",
    key: "code",
    columns: &[
        ("name_zh", Text),
        ("name_en", Text),
        ("validity_days", Integer),
        ("fields_json", Text),
        ("created_at", Integer),
    ],
};

/// Which departments may issue which license type; subject `type department`.
pub const LICENSE_TYPE_ISSUERS: Table = Table {
    name: "license_type_issuers",
    key: "type_code || ' ' || department_id",
    columns: &[("type_code", Text), ("department_id", Text)],
};

/// Certificate revocation lists issued; subject `ca number`.
pub const CRLS: Table = Table {
    name: "crls",
    key: "ca || ' ' || number",
    columns: &[
        ("ca", Text),
        ("number", Integer),
        ("der", Blob),
        ("this_update", Integer),
        ("next_update", Integer),
    ],
};

/// Service items (事项) of the license library.
pub const SERVICE_ITEMS: Table = Table {
    name: "service_items",
    key: "code",
    columns: &[
        ("name_zh", Text),
        ("name_en", Text),
        ("created_at", Integer),
    ],
};

/// Which departments handle which service item; subject `item department`.
pub const SERVICE_ITEM_DEPARTMENTS: Table = Table {
    name: "service_item_departments",
    key: "item_code || ' ' || department_id",
    columns: &[("item_code", Text), ("department_id", Text)],
};

/// Use list (用证清单) entries, every version.
pub const USE_LIST_ENTRIES: Table = Table {
    name: "use_list_entries",
    key: "id",
    columns: &[
        ("item_code", Text),
        ("type_code", Text),
        ("version", Integer),
        ("fields_json", Text),
        ("consent_required", Integer),
        ("legal_basis", Text),
        ("active", Integer),
        ("created_at", Integer),
    ],
};

/// Holders' consent codes (用证码): the holder and the code's hash are
/// personal.
pub const CONSENTS: Table = Table {
    name: "consents",
    key: "id",
    columns: &[
        ("code_sha256", Personal),
        ("holder_id_type", Text),
        ("holder_id", Personal),
        ("item_code", Text),
        ("department_id", Text),
        ("license_types", Text),
        ("created_by", Personal),
        ("created_at", Integer),
        ("expires_at", Integer),
        ("used_at", Integer),
        ("used_by", Text),
        ("revoked_at", Integer),
    ],
};

/// Every use of the license library and every refusal.
pub const LICENSE_USES: Table = Table {
    name: "license_uses",
    key: "id",
    columns: &[
        ("outcome", Text),
        ("refusal", Text),
        ("department_id", Text),
        ("client_id", Text),
        ("operator", Personal),
        ("item_code", Text),
        ("reason", Personal),
        ("holder_id_type", Text),
        ("holder_id", Personal),
        ("consent_id", Text),
        ("use_list_json", Text),
        ("licenses_json", Text),
        ("created_at", Integer),
        ("pdf_until", Integer),
    ],
};

/// Every table the log covers, in the order the audit checks them.
pub const COVERED: [&Table; 14] = [
    &STAMPS,
    &CERTIFICATES,
    &SEALS,
    &LICENSES,
    &DEPARTMENTS,
    &API_CLIENTS,
    &LICENSE_TYPES,
    &LICENSE_TYPE_ISSUERS,
    &CRLS,
    &SERVICE_ITEMS,
    &SERVICE_ITEM_DEPARTMENTS,
    &USE_LIST_ENTRIES,
    &CONSENTS,
    &LICENSE_USES,
];

impl Table {
    /// The columns that make up the key (its own column, or the parts of a
    /// composite key).
    pub fn key_parts(&self) -> Vec<&'static str> {
        self.key
            .split("||")
            .map(str::trim)
            .filter(|part| !part.starts_with('\''))
            .collect()
    }

    /// Whether any column is personal (its commitment needs the key).
    pub fn has_personal(&self) -> bool {
        self.columns.iter().any(|&(_, kind)| kind == Personal)
    }

    /// `SELECT key, columns… FROM table` (the caller adds WHERE / ORDER BY).
    pub fn select(&self) -> String {
        self.select_with("")
    }

    /// [`Table::select`] with `extra` (`, expression AS name…`) after the key.
    pub fn select_with(&self, extra: &str) -> String {
        let mut sql = format!("SELECT {} AS record_key{extra}", self.key);
        for (name, _) in self.columns {
            sql.push_str(", ");
            sql.push_str(name);
        }
        sql.push_str(" FROM ");
        sql.push_str(self.name);
        sql
    }
}

/// A stored value that cannot be read as its column's type.
#[derive(Debug, thiserror::Error)]
#[error("{table} row {key:?} column {column}: {reason}")]
pub struct Unreadable {
    /// The table.
    pub table: &'static str,
    /// The row.
    pub key: String,
    /// The column.
    pub column: &'static str,
    /// What is wrong.
    pub reason: String,
}

/// The record of one row as read by [`Table::select`]. Without
/// `commitments` the personal columns that hold a value are left out (the
/// audit then checks every other column, and that the NULL ones are NULL).
pub fn from_row(
    table: &Table,
    row: &sqlx::any::AnyRow,
    commitments: Option<&CommitmentKey>,
) -> Result<Record, Unreadable> {
    let key: String = row.try_get("record_key").map_err(|e| Unreadable {
        table: table.name,
        key: String::new(),
        column: table.key,
        reason: e.to_string(),
    })?;
    let mut columns = BTreeMap::new();
    for &(name, kind) in table.columns {
        let unreadable = |e: sqlx::Error| Unreadable {
            table: table.name,
            key: key.clone(),
            column: name,
            reason: e.to_string(),
        };
        let value = match kind {
            Integer => row
                .try_get::<Option<i64>, _>(name)
                .map_err(unreadable)?
                .map_or(Value::Null, Value::Integer),
            Real => Value::Real(row.try_get::<f64, _>(name).map_err(unreadable)?.to_bits()),
            Text => row
                .try_get::<Option<String>, _>(name)
                .map_err(unreadable)?
                .map_or(Value::Null, Value::Text),
            Blob => Value::Blob(super::sha256(
                &row.try_get::<Vec<u8>, _>(name).map_err(unreadable)?,
            )),
            Personal => {
                // Without the key a NULL is still checked (it needs no
                // secret); only a value's commitment is left out.
                match (
                    row.try_get::<Option<String>, _>(name).map_err(unreadable)?,
                    commitments,
                ) {
                    (None, _) => Value::Null,
                    (Some(text), Some(commitments)) => {
                        Value::Personal(commitments.commit(text.as_bytes()))
                    }
                    (Some(_), None) => continue,
                }
            }
        };
        columns.insert(name.to_string(), value);
    }
    Ok(Record {
        table: table.name.to_string(),
        key,
        columns,
    })
}

/// Reads row `key` of `table` back, in the caller's transaction, as a record.
/// `commitments` may be `None` only for a table without personal columns.
pub async fn snapshot(
    conn: &mut Connection,
    table: &Table,
    key: &str,
    commitments: Option<&CommitmentKey>,
) -> Result<Record, StoreError> {
    let sql = format!("{} WHERE ({}) = $1", table.select(), table.key);
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(key)
        .fetch_one(conn)
        .await?;
    from_row(table, &row, commitments)
        .map_err(|e| StoreError::Database(sqlx::Error::Decode(e.to_string().into())))
}
