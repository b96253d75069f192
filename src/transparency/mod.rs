//! The transparency log at work (可留痕、可追查): business actions record their
//! events here, in their own transaction; the sequencer turns pending entries
//! into leaves of the Merkle tree and signs checkpoints; proofs and audits read
//! the stored tree. The pure algorithms live in [`crate::log`].
//!
//! - [`key`]: the log's Ed25519 checkpoint key and origin;
//! - [`sequencer`]: pending entries → leaves, nodes and a signed checkpoint;
//! - [`proofs`]: RFC 9162 §2.1.3 / §2.1.4 proofs and C2SP tlog-proof bundles
//!   over the stored tree;
//! - [`witnessing`]: submit checkpoints to witnesses (C2SP tlog-witness) and
//!   keep their cosignatures;
//! - [`audit`]: recompute everything from the entries and cross-check the
//!   business tables;
//! - [`records`] and [`coverage`]: which tables and columns entries commit
//!   to, and the one-time backfill when a table is first covered.

pub mod audit;
mod audit_links;
pub mod coverage;
mod error;
pub mod key;
pub mod nodes;
pub mod proofs;
pub mod records;
pub mod sequencer;
pub mod witnessing;

use std::collections::BTreeMap;

use crate::keystore::CommitmentKey;
use crate::log::{EntryKind, LogEntry};
use crate::store::{self, Connection, StoreError};

pub use error::TransparencyError;
pub use key::LogKey;
pub use sequencer::{sequence, sequence_all};

/// One event to record.
pub struct Event<'a> {
    /// What happened.
    pub kind: EntryKind,
    /// Certificate serial, seal id, stamp record id or license identifier.
    pub subject_id: &'a str,
    /// The department's USCC, if any.
    pub department_uscc: Option<&'a str>,
    /// The artefact (certificate DER, stamped PDF, COSE record): its SHA-256 is logged.
    pub artefact: &'a [u8],
    /// Who did it.
    pub actor: &'a str,
    /// Further facts (nothing personal: they are published as is).
    pub details: &'a [(&'a str, &'a str)],
    /// The table whose row `subject_id` names, read back after the action
    /// and committed to (a version-2 entry), with the key for its personal
    /// columns; a table with personal columns but no key open gives a
    /// version-1 entry (which the audit refuses for tables logged only in
    /// version 2).
    pub record: Option<(&'a records::Table, Option<&'a CommitmentKey>)>,
}

/// Logs that each of `departments` was linked to `parent` (a license type's
/// issuers, a service item's handlers): one admin entry per link, subject
/// `parent department`, committing to the link row of `table`.
pub async fn record_department_links(
    conn: &mut Connection,
    kind: EntryKind,
    table: &'static records::Table,
    parent_detail: &str,
    parent: &str,
    departments: &[String],
) -> Result<(), StoreError> {
    for department_id in departments {
        let uscc = crate::store::departments::get(conn, department_id)
            .await?
            .map(|d| d.uscc);
        record(
            conn,
            Event {
                kind,
                subject_id: &format!("{parent} {department_id}"),
                department_uscc: uscc.as_deref(),
                artefact: department_id.as_bytes(),
                actor: "admin",
                details: &[(parent_detail, parent)],
                record: Some((table, None)),
            },
        )
        .await?;
    }
    Ok(())
}

/// SHA-256 of an artefact.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, data).as_ref());
    out
}

/// Records `event` in the caller's transaction (unsequenced until the sequencer runs).
pub async fn record(conn: &mut Connection, event: Event<'_>) -> Result<String, StoreError> {
    let record = match event.record {
        Some((table, key)) if key.is_some() || !table.has_personal() => {
            Some(records::snapshot(conn, table, event.subject_id, key).await?)
        }
        _ => None,
    };
    let entry = LogEntry {
        kind: event.kind,
        subject_id: event.subject_id.to_string(),
        department_id: event.department_uscc.map(str::to_string),
        artefact_sha256: sha256(event.artefact),
        time: store::now_unix(),
        actor: event.actor.to_string(),
        details: event
            .details
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>(),
        record,
    };
    store::log::append(conn, &entry).await
}
