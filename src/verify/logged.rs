//! Is this artefact on the record? (可留痕、可追查) — the offline check behind
//! `govseal verify --require-logged`.
//!
//! The input is the artefact's bytes (a stamped PDF, a license's COSE
//! record), a C2SP tlog-proof bundle (<https://c2sp.org/tlog-proof>, as
//! served in `tlog_proof` by `GET /v1/log/proof/inclusion`), and from the
//! trust bundle the log's verifier key (`log-key.txt`) and, if present, its
//! latest checkpoint (`checkpoint.txt`). The artefact counts as logged when:
//!
//! 1. the proof's checkpoint is signed by the trusted log key (C2SP
//!    signed-note, Ed25519);
//! 2. the entry embedded in the proof is leaf `index` of that tree
//!    (RFC 9162 §2.1.3.2);
//! 3. the entry decodes canonically and its artefact hash is SHA-256 of the
//!    bytes being verified;
//! 4. when the bundle has a witness policy (`witnesses.txt`, C2SP
//!    tlog-policy), the proof's checkpoint carries valid cosignatures
//!    (C2SP tlog-cosignature `cosignature/v1`) from enough witnesses to meet
//!    its quorum — each witness cosigns only checkpoints consistent with what
//!    it saw before, so a split view needs the quorum to collude;
//! 5. the proof's tree does not contradict the bundle's checkpoint: two
//!    signed checkpoints of one size must have the same root (a different
//!    root is a split view, RFC 9162 §8.2). When the sizes differ, the
//!    relation would need a consistency proof (RFC 9162 §2.1.4), which a
//!    tlog-proof does not carry; the report says which tree the proof is
//!    against so an auditor can ask the log for one.
//!
//! Anything else is a finding, and the artefact is not proven logged.

use serde::{Deserialize, Serialize};

use crate::log::{
    Checkpoint, LogEntry, VerifierKey, WitnessPolicy, checkpoint, verify_embedded_bundle,
};

/// What the log check found; `logged` is true only if every step passed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogInclusion {
    /// The artefact is proven to be an entry of a checkpoint signed by the trusted log key.
    pub logged: bool,
    /// The log's origin line.
    pub origin: Option<String>,
    /// The entry's leaf index.
    pub leaf_index: Option<u64>,
    /// The size of the tree the proof leads to.
    pub tree_size: Option<u64>,
    /// The size of the trust bundle's checkpoint, if the bundle carries one.
    pub bundle_tree_size: Option<u64>,
    /// The entry's kind (`stamp`, `license-issued`, …).
    pub entry_kind: Option<String>,
    /// The entry's subject (stamp id, license identifier, certificate serial).
    pub subject_id: Option<String>,
    /// When the entry was recorded, Unix seconds.
    pub entry_time: Option<i64>,
    /// The witnesses (by policy name) whose valid cosignature the proof's checkpoint carries.
    #[serde(default)]
    pub witnessed_by: Vec<String>,
    /// What was checked (✓) and what failed (✗), in order.
    pub findings: Vec<String>,
}

/// The log side of a trust bundle.
#[derive(Clone, Debug, Default)]
pub struct LogTrust {
    /// The C2SP verifier key text of the log.
    pub verifier_key: Option<String>,
    /// The latest signed checkpoint note known to the bundle.
    pub checkpoint: Option<String>,
    /// The witness policy (C2SP tlog-policy text), if the bundle has one.
    pub witness_policy: Option<String>,
}

impl LogTrust {
    /// Reads `log-key.txt`, `checkpoint.txt` and `witnesses.txt` from a bundle directory;
    /// missing files are `None` (the check then says what is missing).
    pub fn load(dir: &std::path::Path) -> LogTrust {
        let read = |name: &str| {
            std::fs::read_to_string(dir.join(name))
                .ok()
                .filter(|t| !t.trim().is_empty())
        };
        LogTrust {
            verifier_key: read("log-key.txt").map(|k| k.trim().to_string()),
            checkpoint: read("checkpoint.txt"),
            witness_policy: read("witnesses.txt"),
        }
    }
}

/// Checks that `artefact` is in the log, as [the module](self) describes.
pub fn check_logged(artefact: &[u8], proof: Option<&str>, trust: &LogTrust) -> LogInclusion {
    let mut report = LogInclusion {
        logged: false,
        origin: None,
        leaf_index: None,
        tree_size: None,
        bundle_tree_size: None,
        entry_kind: None,
        subject_id: None,
        entry_time: None,
        witnessed_by: Vec::new(),
        findings: Vec::new(),
    };
    let fail = |mut report: LogInclusion, why: String| {
        report.findings.push(format!("✗ {why}"));
        report
    };
    let Some(key_text) = trust.verifier_key.as_deref() else {
        return fail(
            report,
            "the trust bundle has no log verifier key (log-key.txt)".into(),
        );
    };
    let key = match VerifierKey::parse(key_text) {
        Ok(key) => key,
        Err(e) => return fail(report, format!("the bundle's log key is unusable: {e}")),
    };
    let bundle_checkpoint = match trust.checkpoint.as_deref() {
        None => None,
        Some(note) => match checkpoint::open_with(note, &key) {
            Ok(c) => Some(c),
            Err(e) => {
                return fail(
                    report,
                    format!("the bundle's checkpoint is not signed by its log key: {e}"),
                );
            }
        },
    };
    report.bundle_tree_size = bundle_checkpoint.as_ref().map(|c| c.size);
    let Some(proof) = proof else {
        return fail(
            report,
            "no inclusion proof was given (a c2sp.org/tlog-proof from GET /v1/log/proof/inclusion)"
                .into(),
        );
    };
    let (proven, entry_bytes) = match verify_embedded_bundle(proof, key_text) {
        Ok(ok) => ok,
        Err(e) => return fail(report, format!("the inclusion proof does not verify: {e}")),
    };
    report.origin = Some(proven.origin.clone());
    report.tree_size = Some(proven.size);
    report.findings.push(format!(
        "✓ checkpoint of {} (tree size {}) signed by the log key",
        proven.origin, proven.size
    ));
    let entry = match LogEntry::decode(&entry_bytes) {
        Ok(entry) => entry,
        Err(e) => return fail(report, format!("the logged entry is not canonical: {e}")),
    };
    let index = crate::log::ProofBundle::parse(proof).map(|b| b.index).ok();
    report.leaf_index = index;
    report.entry_kind = Some(entry.kind.as_str().to_string());
    report.subject_id = Some(entry.subject_id.clone());
    report.entry_time = Some(entry.time);
    report.findings.push(format!(
        "✓ entry {} ({} {}) is included in that tree (RFC 9162 §2.1.3.2)",
        index.map(|i| i.to_string()).unwrap_or_default(),
        entry.kind.as_str(),
        entry.subject_id
    ));
    let digest = ring::digest::digest(&ring::digest::SHA256, artefact);
    if digest.as_ref() != entry.artefact_sha256 {
        return fail(
            report,
            format!(
                "the logged entry is for another artefact: it records SHA-256 {}, this file has {}",
                hex::encode(entry.artefact_sha256),
                hex::encode(digest.as_ref())
            ),
        );
    }
    report
        .findings
        .push("✓ the entry records this artefact's SHA-256".into());
    if let Some(policy) = trust.witness_policy.as_deref() {
        let note = crate::log::ProofBundle::parse(proof)
            .map(|b| b.checkpoint_note)
            .unwrap_or_default();
        match witnessed(policy, &key, &note) {
            Ok((names, finding)) => {
                report.witnessed_by = names;
                report.findings.push(finding);
            }
            Err((names, why)) => {
                report.witnessed_by = names;
                return fail(report, why);
            }
        }
    }
    if let Some(bundle) = &bundle_checkpoint {
        if let Err(why) = agrees(&proven, bundle) {
            return fail(report, why);
        }
        report.findings.push(relation(&proven, bundle));
    }
    report.logged = true;
    report
}

/// Checks the proof's checkpoint `note` against the bundle's witness
/// `policy`: the witnesses that validly cosigned, and a finding.
fn witnessed(
    policy: &str,
    log_key: &VerifierKey,
    note: &str,
) -> Result<(Vec<String>, String), (Vec<String>, String)> {
    let policy = WitnessPolicy::parse(policy).map_err(|e| {
        (
            Vec::new(),
            format!("the bundle's witness policy (witnesses.txt) is unusable: {e}"),
        )
    })?;
    let mut logs = policy.logs().peekable();
    if logs.peek().is_some() && !logs.any(|k| k == log_key) {
        return Err((
            Vec::new(),
            "the bundle's witness policy names other logs than the bundle's log key".into(),
        ));
    }
    let outcome = policy.evaluate(note);
    let names = outcome.cosigned.iter().map(|(n, _)| n.clone()).collect();
    let mut parts = Vec::new();
    if !outcome.cosigned.is_empty() {
        let who: Vec<String> = outcome
            .cosigned
            .iter()
            .map(|(name, t)| format!("{name} ({})", unix_time(*t)))
            .collect();
        parts.push(format!("cosigned by {}", who.join(", ")));
    }
    if !outcome.missing.is_empty() {
        parts.push(format!(
            "no cosignature from {}",
            outcome.missing.join(", ")
        ));
    }
    for (name, why) in &outcome.invalid {
        parts.push(format!("the cosignature of {name} does not verify ({why})"));
    }
    let detail = parts.join("; ");
    if outcome.satisfied {
        Ok((
            names,
            format!(
                "✓ witnessed: the checkpoint meets the witness policy {} (C2SP tlog-cosignature): {detail}",
                outcome.quorum
            ),
        ))
    } else {
        Err((
            names,
            format!(
                "the checkpoint does not meet the bundle's witness policy {}: {detail}. \
                 Witnesses cosign only a history consistent with what they saw, so this tree \
                 may be a view shown to this verifier alone (split view); if the log is merely \
                 waiting for cosignatures, fetch the proof again",
                outcome.quorum
            ),
        ))
    }
}

fn unix_time(t: u64) -> String {
    i64::try_from(t)
        .ok()
        .and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok())
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| t.to_string())
}

/// Two checkpoints of one log must not contradict each other.
fn agrees(proven: &Checkpoint, bundle: &Checkpoint) -> Result<(), String> {
    if proven.origin != bundle.origin {
        return Err(format!(
            "the proof is from log {:?}, the trust bundle's checkpoint from {:?}",
            proven.origin, bundle.origin
        ));
    }
    if proven.size == bundle.size && proven.root != bundle.root {
        return Err(format!(
            "split view: the log signed two different trees of size {} (RFC 9162 §8.2)",
            proven.size
        ));
    }
    Ok(())
}

fn relation(proven: &Checkpoint, bundle: &Checkpoint) -> String {
    use std::cmp::Ordering::*;
    match proven.size.cmp(&bundle.size) {
        Equal => "✓ the proof is against the trust bundle's own checkpoint".into(),
        Less => format!(
            "• the proof is against tree size {}, older than the bundle's {}; \
             GET /v1/log/proof/consistency?first={}&second={} links them",
            proven.size, bundle.size, proven.size, bundle.size
        ),
        Greater => format!(
            "• the proof is against tree size {}, newer than the bundle's {}; \
             GET /v1/log/proof/consistency?first={}&second={} links them",
            proven.size, bundle.size, bundle.size, proven.size
        ),
    }
}

#[cfg(test)]
#[path = "logged_tests.rs"]
mod tests;
