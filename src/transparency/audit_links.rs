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
//! - every `departments`, `api_clients`, `license_types`, the license
//!   library's `service_items`, `service_item_departments`, `use_list_entries`,
//!   `consents`, `license_uses`,
//!   `license_type_issuers` and `crls` row has its creation entry (a CRL's
//!   artefact hash is SHA-256 of its DER);
//! - every entry of those kinds names a row that exists;
//! - every row is re-derived as a [`Record`] and must equal the record of
//!   its last entry when that entry is version 2, naming the first column
//!   that differs; a value that cannot be read is a failure. Tables logged
//!   before version 2 existed (stamps, certificates, seals, licenses) may
//!   still end in a version-1 entry: then a seal's or license's status must
//!   be the one its last logged change says. Tables covered since version 2
//!   must end in a version-2 entry.

use futures_util::TryStreamExt as _;
use sqlx::Row;

use super::TransparencyError;
use super::audit::{Finding, finding};
use super::records::{self, Table};
use crate::keystore::CommitmentKey;
use crate::log::{Hash, LogEntry, Record};
use crate::store::documents::DocumentStore;
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
    /// The column holding the artefact the creation entry logs (for messages).
    artefact_column: &'static str,
    /// The table whose rows version-2 entries commit to; `rows` is then the
    /// extra select list after the key.
    record: Option<&'static Table>,
    /// The kind that must exist for a row whose `revoked_at` is set (checked
    /// also for version-1 entries, which carry no record).
    revocation: Option<&'static str>,
    /// Whether the table was logged in version 1, so a row's last entry may
    /// be a version-1 entry without a record.
    legacy: bool,
}

const LINKS: [Link; 14] = [
    Link {
        table: "stamps",
        rows: ", id AS key",
        kinds: &["stamp"],
        creation: "stamp",
        key_column: "id",
        artefact_column: "output_sha256",
        record: Some(&records::STAMPS),
        revocation: None,
        legacy: true,
    },
    Link {
        table: "certificates",
        rows: ", serial_hex AS key",
        kinds: &["certificate-issued", "certificate-revoked"],
        creation: "certificate-issued",
        key_column: "serial_hex",
        artefact_column: "der",
        record: Some(&records::CERTIFICATES),
        revocation: Some("certificate-revoked"),
        legacy: true,
    },
    Link {
        table: "seals",
        rows: ", id AS key",
        kinds: &["seal-created", "seal-changed"],
        creation: "seal-created",
        key_column: "id",
        artefact_column: "",
        record: Some(&records::SEALS),
        revocation: None,
        legacy: true,
    },
    Link {
        table: "licenses",
        rows: ", id AS key, record AS der",
        kinds: &["license-issued", "license-status-changed"],
        creation: "license-issued",
        key_column: "id",
        artefact_column: "record",
        record: Some(&records::LICENSES),
        revocation: None,
        legacy: true,
    },
    Link {
        table: "departments",
        rows: ", id AS key",
        kinds: &["department-created", "department-changed"],
        creation: "department-created",
        key_column: "id",
        artefact_column: "",
        record: Some(&records::DEPARTMENTS),
        revocation: None,
        legacy: false,
    },
    Link {
        table: "api_clients",
        rows: ", id AS key",
        kinds: &["client-created", "client-revoked"],
        creation: "client-created",
        key_column: "id",
        artefact_column: "",
        record: Some(&records::API_CLIENTS),
        revocation: None,
        legacy: false,
    },
    Link {
        table: "license_types",
        rows: ", code AS key",
        kinds: &["license-type-created"],
        creation: "license-type-created",
        key_column: "code",
        artefact_column: "",
        record: Some(&records::LICENSE_TYPES),
        revocation: None,
        legacy: false,
    },
    Link {
        table: "license_type_issuers",
        rows: ", (type_code || ' ' || department_id) AS key",
        kinds: &["license-type-issuer-added"],
        creation: "license-type-issuer-added",
        key_column: "(type_code || ' ' || department_id)",
        artefact_column: "",
        record: Some(&records::LICENSE_TYPE_ISSUERS),
        revocation: None,
        legacy: false,
    },
    Link {
        table: "crls",
        rows: ", (ca || ' ' || number) AS key",
        kinds: &["crl-issued"],
        creation: "crl-issued",
        key_column: "(ca || ' ' || number)",
        artefact_column: "der",
        record: Some(&records::CRLS),
        revocation: None,
        legacy: false,
    },
    Link {
        table: "service_items",
        rows: ", code AS key",
        kinds: &["service-item-created"],
        creation: "service-item-created",
        key_column: "code",
        artefact_column: "",
        record: Some(&records::SERVICE_ITEMS),
        revocation: None,
        legacy: false,
    },
    Link {
        table: "service_item_departments",
        rows: ", (item_code || ' ' || department_id) AS key",
        kinds: &["service-item-department-added"],
        creation: "service-item-department-added",
        key_column: "(item_code || ' ' || department_id)",
        artefact_column: "",
        record: Some(&records::SERVICE_ITEM_DEPARTMENTS),
        revocation: None,
        legacy: false,
    },
    Link {
        table: "use_list_entries",
        rows: ", id AS key",
        kinds: &["use-list-changed"],
        creation: "use-list-changed",
        key_column: "id",
        artefact_column: "",
        record: Some(&records::USE_LIST_ENTRIES),
        revocation: None,
        legacy: false,
    },
    Link {
        table: "consents",
        rows: ", id AS key",
        kinds: &["consent-created", "consent-changed"],
        creation: "consent-created",
        key_column: "id",
        artefact_column: "",
        record: Some(&records::CONSENTS),
        revocation: None,
        legacy: false,
    },
    Link {
        table: "license_uses",
        rows: ", id AS key",
        kinds: &["license-used"],
        creation: "license-used",
        key_column: "id",
        artefact_column: "",
        record: Some(&records::LICENSE_USES),
        revocation: None,
        legacy: false,
    },
];

/// A business row as the audit sees it.
struct Business {
    key: String,
    artefact: Option<Hash>,
    revoked: bool,
    /// The row re-derived as a record (tables with version-2 entries).
    derived: Option<Result<Record, records::Unreadable>>,
    /// A stamp's `output_sha256` that is not a SHA-256 in hex.
    unparseable: Option<String>,
    /// What is wrong with a stamped PDF kept in the document store.
    document: Option<String>,
}

/// A stamp whose PDF is in the document store (the row holds no bytes): the
/// file must exist and hash to `output_sha256`, unless the retention
/// deleted it.
fn check_document(
    row: &sqlx::any::AnyRow,
    documents: Option<&DocumentStore>,
) -> Result<Option<String>, TransparencyError> {
    let Ok(in_database) = row.try_get::<Vec<u8>, _>("output_pdf") else {
        return Ok(None);
    };
    if !in_database.is_empty() {
        return Ok(None);
    }
    let key: String = row.try_get("key")?;
    let expected: String = row.try_get("output_sha256")?;
    let Some(documents) = documents else {
        return Ok(Some(format!(
            "stamps row {key:?} column output_pdf is empty, and this audit has no document store to find the PDF in"
        )));
    };
    match documents.get(&expected) {
        Ok(Some(pdf)) => {
            let found = hex::encode(super::sha256(&pdf));
            Ok((found != expected).then(|| {
                format!(
                    "stamps row {key:?}: the stored document hashes to {found}, column output_sha256 says {expected} (the stamped PDF file was altered)"
                )
            }))
        }
        Ok(None) => {
            let created: i64 = row.try_get("created_at")?;
            let expired = documents.retention().is_some_and(|retention| {
                crate::store::now_unix() - created > retention.as_secs() as i64
            });
            Ok((!expired).then(|| {
                format!(
                    "stamps row {key:?}: its stamped PDF {expected} is missing from the document store"
                )
            }))
        }
        Err(e) => Ok(Some(format!("stamps row {key:?}: {e}"))),
    }
}

fn record(
    link: &Link,
    row: &sqlx::any::AnyRow,
    commitments: Option<&CommitmentKey>,
    documents: Option<&DocumentStore>,
) -> Result<Business, TransparencyError> {
    let mut unparseable = None;
    let artefact = if let Ok(hex_hash) = row.try_get::<String, _>("output_sha256") {
        let parsed = hex::decode(&hex_hash)
            .ok()
            .and_then(|h| Hash::try_from(h.as_slice()).ok());
        if parsed.is_none() {
            unparseable = Some(hex_hash);
        }
        parsed
    } else if let Ok(der) = row.try_get::<Vec<u8>, _>("der") {
        Some(super::sha256(&der))
    } else {
        None
    };
    let revoked = link.revocation.is_some()
        && row
            .try_get::<Option<i64>, _>("revoked_at")
            .ok()
            .flatten()
            .is_some();
    Ok(Business {
        key: row.try_get("key")?,
        artefact,
        revoked,
        derived: link
            .record
            .map(|table| records::from_row(table, row, commitments)),
        unparseable,
        document: check_document(row, documents)?,
    })
}

/// What entries were seen for the current business row.
#[derive(Default)]
struct Seen {
    created: Option<u64>,
    revoked: bool,
    /// The row's last entry and its leaf index.
    last: Option<(Option<u64>, LogEntry)>,
}

/// Runs every link; returns how many business rows matched.
pub(super) async fn check(
    db: &Database,
    commitments: Option<&CommitmentKey>,
    documents: Option<&DocumentStore>,
) -> Result<Result<u64, Finding>, TransparencyError> {
    let mut total = 0;
    for link in &LINKS {
        match check_link(db, link, commitments, documents).await? {
            Ok(rows) => total += rows,
            Err(f) => return Ok(Err(f)),
        }
    }
    Ok(Ok(total))
}

async fn check_link(
    db: &Database,
    link: &Link,
    commitments: Option<&CommitmentKey>,
    documents: Option<&DocumentStore>,
) -> Result<Result<u64, Finding>, TransparencyError> {
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
    let rows = match link.record {
        Some(table) => table.select_with(link.rows),
        None => link.rows.to_string(),
    };
    let business_sql = format!("{rows} ORDER BY {}{collate}", link.key_column);
    // Within a subject: sequenced entries in leaf order, then pending ones
    // in the order the sequencer will give them.
    let entries_sql = format!(
        "SELECT id, leaf_index, subject_id, entry FROM log_entries WHERE kind IN ({kinds}) \
         ORDER BY subject_id{collate}, CASE WHEN leaf_index IS NULL THEN 1 ELSE 0 END, \
         leaf_index, created_at, id"
    );
    let mut business = sqlx::query(sqlx::AssertSqlSafe(business_sql)).fetch(&mut *business_conn);
    let mut entries = sqlx::query(sqlx::AssertSqlSafe(entries_sql)).fetch(&mut *entries_conn);

    let mut current = business
        .try_next()
        .await?
        .map(|r| record(link, &r, commitments, documents))
        .transpose()?;
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
            current = business
                .try_next()
                .await?
                .map(|r| record(link, &r, commitments, documents))
                .transpose()?;
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
                        "{kind} of {subject:?} logs artefact SHA-256 {} but {} row {subject:?} \
                         column {} holds {}",
                        hex::encode(entry.artefact_sha256),
                        link.table,
                        link.artefact_column,
                        hex::encode(expected)
                    ),
                )));
            }
        }
        if kind == link.creation {
            seen.created = Some(index.unwrap_or(u64::MAX));
        }
        if Some(kind) == link.revocation {
            seen.revoked = true;
        }
        seen.last = Some((index, entry));
    }
    if let Some(r) = current.take() {
        if let Some(f) = finish(link, &r, &seen) {
            return Ok(Err(f));
        }
        matched += 1;
    }
    // Rows after the last entry have no entry at all: the first is named.
    if let Some(row) = business.try_next().await? {
        let r = record(link, &row, commitments, documents)?;
        if let Some(f) = finish(link, &r, &Seen::default()) {
            return Ok(Err(f));
        }
    }
    Ok(Ok(matched))
}

/// Checks a business row once all its entries were seen.
fn finish(link: &Link, row: &Business, seen: &Seen) -> Option<Finding> {
    if seen.created.is_none() {
        let hint = if link.legacy {
            ""
        } else {
            "; a database from before the log covered this table is brought onto it by starting the server once"
        };
        return Some(finding(
            None,
            format!(
                "{} row {:?} has no {} entry in the log (recorded off the books{hint})",
                link.table, row.key, link.creation
            ),
        ));
    }
    // A revocation without its entry: a version-2 record names the column
    // (below); a version-1 entry has only this check.
    let revoked_off_the_books = (row.revoked && !seen.revoked).then(|| {
        finding(
            None,
            format!(
                "certificate {:?} is revoked but the log has no revocation entry",
                row.key
            ),
        )
    });
    let Some((index, last)) = seen.last.as_ref() else {
        return revoked_off_the_books;
    };
    if let Some(value) = &row.unparseable {
        return Some(finding(
            *index,
            format!(
                "{} row {:?} column output_sha256 is not a SHA-256 ({value:?})",
                link.table, row.key
            ),
        ));
    }
    let Some(derived) = row.derived.as_ref() else {
        return revoked_off_the_books;
    };
    let derived = match derived {
        Ok(derived) => derived,
        Err(unreadable) => {
            return Some(finding(*index, format!("cannot read {unreadable}")));
        }
    };
    let document = || row.document.clone().map(|message| finding(*index, message));
    match &last.record {
        Some(logged) => compare(*index, last, logged, derived)
            .or(revoked_off_the_books)
            .or_else(document),
        None if link.legacy => revoked_off_the_books
            .or_else(|| legacy_status(link, *index, last, derived))
            .or_else(document),
        None => Some(finding(
            *index,
            format!(
                "{} of {} row {:?} commits to no record (a version-1 entry where version 2 is required)",
                last.kind.as_str(),
                link.table,
                row.key
            ),
        )),
    }
}

/// The row as it stands against the record its last (version-2) entry logged.
fn compare(
    index: Option<u64>,
    last: &LogEntry,
    logged: &Record,
    derived: &Record,
) -> Option<Finding> {
    if logged.table != derived.table || logged.key != derived.key {
        return Some(finding(
            index,
            format!(
                "{} logs {} row {:?}, the audit read {} row {:?}",
                last.kind.as_str(),
                logged.table,
                logged.key,
                derived.table,
                derived.key
            ),
        ));
    }
    for (name, value) in &logged.columns {
        let now = derived.columns.get(name);
        if now.is_none() && matches!(value, crate::log::Value::Personal(_)) {
            continue; // no commitment key: personal columns are not checked
        }
        if now != Some(value) {
            return Some(finding(
                index,
                format!(
                    "{} row {:?} column {name} is {} but the {} entry logged {value}",
                    derived.table,
                    derived.key,
                    now.map_or("missing".to_string(), ToString::to_string),
                    last.kind.as_str()
                ),
            ));
        }
    }
    if let Some(name) = derived
        .columns
        .keys()
        .find(|n| !logged.columns.contains_key(*n))
    {
        return Some(finding(
            index,
            format!(
                "{} row {:?} column {name} is not in the {} entry's record",
                derived.table,
                derived.key,
                last.kind.as_str()
            ),
        ));
    }
    None
}

/// A row whose last entry is version 1: its status must be the last logged one.
fn legacy_status(
    link: &Link,
    index: Option<u64>,
    last: &LogEntry,
    derived: &Record,
) -> Option<Finding> {
    let logged = match last.details.get("status") {
        Some(status) => status.as_str(),
        None if link.table == "licenses" => "valid",
        None if link.table == "seals" => "active",
        None => return None,
    };
    match derived.columns.get("status") {
        Some(crate::log::Value::Text(now)) if now == logged => None,
        now => Some(finding(
            index,
            format!(
                "{} row {:?} column status is {} but its last logged status is {logged:?}",
                link.table,
                derived.key,
                now.map_or("missing".to_string(), ToString::to_string)
            ),
        )),
    }
}
