//! The tables the log covers, and the one-time entries that bring rows
//! written before a table was covered onto the log (issue 16: "entries
//! already written stay verifiable; new actions write the new version").
//!
//! Departments, API clients, license types, their issuers and CRLs were not
//! logged before coverage version 2. On the first start of a version that
//! covers them, every such row without its creation entry gets one, with the
//! actor `migration` and a `backfilled` detail, so the log says plainly that
//! the entry was written after the fact. A setting records that the backfill
//! ran; it never runs again, so a row added later behind the service's back
//! stays an audit failure.

use sqlx::Row;

use super::records::{self, Table};
use super::{Event, TransparencyError, record};
use crate::keystore::KeyStore;
use crate::log::EntryKind;
use crate::store::{Database, StoreError, settings};

/// The setting naming the coverage version this database was brought to.
const COVERAGE_SETTING: &str = "log_coverage_version";

/// The current coverage version.
const COVERAGE_VERSION: &str = "2";

/// Tables first covered by version 2, with the kind of their creation entry.
const BACKFILLED: [(&Table, EntryKind); 5] = [
    (&records::DEPARTMENTS, EntryKind::DepartmentCreated),
    (&records::API_CLIENTS, EntryKind::ClientCreated),
    (&records::LICENSE_TYPES, EntryKind::LicenseTypeCreated),
    (
        &records::LICENSE_TYPE_ISSUERS,
        EntryKind::LicenseTypeIssuerAdded,
    ),
    (&records::CRLS, EntryKind::CrlIssued),
];

/// Brings the database to the current coverage version, once; returns how
/// many entries were backfilled. Safe when several processes start together
/// on one database: the first to claim the setting does the work, in the
/// same transaction.
pub async fn backfill_once(db: &Database, keys: &KeyStore) -> Result<u64, TransparencyError> {
    let mut tx = db.begin().await?;
    if settings::get(&mut tx, COVERAGE_SETTING).await?.is_some() {
        return Ok(0);
    }
    let claim = crate::store::new_id();
    if settings::put_if_absent(&mut tx, COVERAGE_SETTING, &claim).await? != claim {
        return Ok(0); // another process did it
    }
    settings::put(&mut tx, db.backend, COVERAGE_SETTING, COVERAGE_VERSION).await?;
    let commitments = keys.commitment_key();
    let mut written = 0;
    for (table, kind) in BACKFILLED {
        let der = if table.columns.iter().any(|(name, _)| *name == "der") {
            ", der"
        } else {
            ""
        };
        let sql = format!(
            "SELECT {key} AS record_key{der} FROM {name} WHERE ({key}) NOT IN \
             (SELECT subject_id FROM log_entries WHERE kind = $1)",
            key = table.key,
            name = table.name,
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(kind.as_str())
            .fetch_all(&mut *tx)
            .await
            .map_err(StoreError::from)?;
        for row in rows {
            let key: String = row.try_get("record_key").map_err(StoreError::from)?;
            let artefact: Vec<u8> = row.try_get("der").unwrap_or_default();
            record(
                &mut tx,
                Event {
                    kind,
                    subject_id: &key,
                    department_uscc: None,
                    artefact: &artefact,
                    actor: "migration",
                    details: &[("backfilled", "written before the log covered this table")],
                    record: Some((table, commitments.as_deref())),
                },
            )
            .await?;
            written += 1;
        }
    }
    tx.commit().await.map_err(StoreError::from)?;
    Ok(written)
}
