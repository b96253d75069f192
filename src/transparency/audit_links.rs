//! The audit's second half: "no record without its entry, no entry without
//! its record" (issue 6). Each business table is merge-joined with the log
//! entries about it, both streamed in byte order of their key, so memory
//! stays bounded however many rows there are:
//!
//! - every `stamps` row has a `stamp` entry whose artefact hash is its `output_sha256`;
//! - every `certificates` row has a `certificate-issued` entry whose artefact
//!   hash is SHA-256 of its `der`, and a revoked one a `certificate-revoked` entry;
//! - every `seals` row has a `seal-created` entry;
//! - every `licenses` row has a `license-issued` entry whose artefact hash is
//!   SHA-256 of its signed record (COSE_Sign1);
//! - every entry of those kinds names a row that exists.

use futures_util::TryStreamExt as _;
use sqlx::Row;

use super::TransparencyError;
use super::audit::{Finding, finding};
use crate::log::{Hash, LogEntry};
use crate::store::{Backend, Database, StoreError};

/// One business table and the entries that must match it.
struct Link {
    /// Table name, for messages.
    table: &'static str,
    /// `key`, and `der` / `output_sha256` / `revoked` where checked.
    rows: &'static str,
    /// Entry kinds about this table's rows.
    kinds: &'static [&'static str],
    /// The kind that must exist for every row.
    creation: &'static str,
    /// The column `key` comes from (to order by it).
    key_column: &'static str,
}

const LINKS: [Link; 4] = [
    Link {
        table: "stamps",
        rows: "SELECT id AS key, output_sha256 FROM stamps",
        kinds: &["stamp"],
        creation: "stamp",
        key_column: "id",
    },
    Link {
        table: "certificates",
        rows: "SELECT serial_hex AS key, der, revoked_at FROM certificates",
        kinds: &["certificate-issued", "certificate-revoked"],
        creation: "certificate-issued",
        key_column: "serial_hex",
    },
    Link {
        table: "seals",
        rows: "SELECT id AS key FROM seals",
        kinds: &["seal-created", "seal-changed"],
        creation: "seal-created",
        key_column: "id",
    },
    Link {
        table: "licenses",
        rows: "SELECT id AS key, record AS der FROM licenses",
        kinds: &["license-issued", "license-status-changed"],
        creation: "license-issued",
        key_column: "id",
    },
];

/// A business row as the audit sees it.
struct Record {
    key: String,
    artefact: Option<Hash>,
    revoked: bool,
}

fn record(row: &sqlx::any::AnyRow) -> Result<Record, TransparencyError> {
    let artefact = if let Ok(hex_hash) = row.try_get::<String, _>("output_sha256") {
        hex::decode(&hex_hash)
            .ok()
            .and_then(|h| Hash::try_from(h.as_slice()).ok())
    } else if let Ok(der) = row.try_get::<Vec<u8>, _>("der") {
        Some(super::sha256(&der))
    } else {
        None
    };
    let revoked = row
        .try_get::<Option<i64>, _>("revoked_at")
        .ok()
        .flatten()
        .is_some();
    Ok(Record {
        key: row.try_get("key")?,
        artefact,
        revoked,
    })
}

/// What entries were seen for the current business row.
#[derive(Default)]
struct Seen {
    created: Option<u64>,
    revoked: bool,
}

/// Runs every link; returns how many business rows matched.
pub(super) async fn check(db: &Database) -> Result<Result<u64, Finding>, TransparencyError> {
    let mut total = 0;
    for link in &LINKS {
        match check_link(db, link).await? {
            Ok(rows) => total += rows,
            Err(f) => return Ok(Err(f)),
        }
    }
    Ok(Ok(total))
}

async fn check_link(db: &Database, link: &Link) -> Result<Result<u64, Finding>, TransparencyError> {
    // Byte order on both sides, so the merge below agrees with the database.
    let collate = match db.backend {
        Backend::Postgres => " COLLATE \"C\"",
        Backend::Sqlite => "",
    };
    let kinds = link
        .kinds
        .iter()
        .map(|k| format!("'{k}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut business_conn = db.pool.acquire().await.map_err(StoreError::from)?;
    let mut entries_conn = db.pool.acquire().await.map_err(StoreError::from)?;
    let business_sql = format!("{} ORDER BY {}{collate}", link.rows, link.key_column);
    let entries_sql = format!(
        "SELECT id, leaf_index, subject_id, entry FROM log_entries WHERE kind IN ({kinds}) \
         ORDER BY subject_id{collate}, leaf_index"
    );
    let mut business = sqlx::query(sqlx::AssertSqlSafe(business_sql)).fetch(&mut *business_conn);
    let mut entries = sqlx::query(sqlx::AssertSqlSafe(entries_sql)).fetch(&mut *entries_conn);

    let mut current = business.try_next().await?.map(|r| record(&r)).transpose()?;
    let mut seen = Seen::default();
    let mut matched = 0;
    while let Some(row) = entries.try_next().await? {
        let index: Option<i64> = row.try_get("leaf_index")?;
        let index = index.map(super::nodes::to_u64).transpose()?;
        let subject: String = row.try_get("subject_id")?;
        let bytes: Vec<u8> = row.try_get("entry")?;
        let entry = match LogEntry::decode(&bytes) {
            Ok(entry) => entry,
            Err(e) => return Ok(Err(finding(index, format!("not canonical: {e}")))),
        };
        while current.as_ref().is_some_and(|r| r.key < subject) {
            if let Some(r) = current.take() {
                if let Some(f) = finish(link, &r, &seen) {
                    return Ok(Err(f));
                }
                matched += 1;
            }
            current = business.try_next().await?.map(|r| record(&r)).transpose()?;
            seen = Seen::default();
        }
        let Some(r) = current.as_ref().filter(|r| r.key == subject) else {
            let id: String = row.try_get("id")?;
            return Ok(Err(finding(
                index,
                format!(
                    "{} of {subject:?} (row {id}) names no row of {}",
                    entry.kind.as_str(),
                    link.table
                ),
            )));
        };
        let kind = entry.kind.as_str();
        if let Some(expected) = r.artefact {
            // Only the creation entry logs the row's artefact (stamped PDF,
            // certificate DER, COSE record); a status change logs a digest
            // of the change itself, so it is never compared with the row.
            if kind == link.creation && entry.artefact_sha256 != expected {
                return Ok(Err(finding(
                    index,
                    format!(
                        "{kind} of {subject:?} logs artefact SHA-256 {} but {} holds {}",
                        hex::encode(entry.artefact_sha256),
                        link.table,
                        hex::encode(expected)
                    ),
                )));
            }
        }
        if kind == link.creation {
            seen.created = Some(index.unwrap_or(u64::MAX));
        }
        if kind == "certificate-revoked" {
            seen.revoked = true;
        }
    }
    if let Some(r) = current.take() {
        if let Some(f) = finish(link, &r, &seen) {
            return Ok(Err(f));
        }
        matched += 1;
    }
    // Rows after the last entry have no entry at all: the first is named.
    if let Some(row) = business.try_next().await? {
        let r = record(&row)?;
        if let Some(f) = finish(link, &r, &Seen::default()) {
            return Ok(Err(f));
        }
    }
    Ok(Ok(matched))
}

/// Checks a business row once all its entries were seen.
fn finish(link: &Link, row: &Record, seen: &Seen) -> Option<Finding> {
    if seen.created.is_none() {
        return Some(finding(
            None,
            format!(
                "{} row {:?} has no {} entry in the log (recorded off the books)",
                link.table, row.key, link.creation
            ),
        ));
    }
    if row.revoked && !seen.revoked {
        return Some(finding(
            None,
            format!(
                "certificate {:?} is revoked but the log has no revocation entry",
                row.key
            ),
        ));
    }
    None
}
