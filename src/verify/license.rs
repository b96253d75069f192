//! License verification (电子证照验证): a license's signed record — the
//! tagged `COSE_Sign1` of [`crate::license::record`], as bytes or inside a QR
//! text — against a trust bundle, with no network.
//!
//! Checks, in order (the first TOTAL-FAILED wins, else the first INDETERMINATE):
//!
//! | check | failure → indication / sub-indication |
//! |-------|----------------------------------------|
//! | QR text: prefix `<public_url>/v/`, base64url, zlib, size limits | TOTAL-FAILED / FORMAT_FAILURE |
//! | COSE_Sign1 structure, `alg` ES256 (protected), no `crit`, no label twice nor in both header buckets, 8-byte `kid` (RFC 9052 §4.2, §3, §3.1) | TOTAL-FAILED / FORMAT_FAILURE, naming the label |
//! | a seal certificate of the bundle has the `kid` (EN 319 102-1 §5.2.2) | INDETERMINATE / NO_SIGNING_CERTIFICATE_FOUND |
//! | the ES256 signature verifies with one of them (RFC 9052 §4.4) | TOTAL-FAILED / SIG_CRYPTO_FAILURE |
//! | that certificate is the one the claims name: organizationIdentifier `NTRCN-<iss>`, serialNumber = `sc` | TOTAL-FAILED / SIG_CRYPTO_FAILURE, naming both values |
//! | the signed authorised issuers list lets the department issue the license type | not listed, or type unknown to the list: INDETERMINATE / SIG_CONSTRAINTS_FAILURE, naming both; no list, or one not signed by the seal certificate's CA: INDETERMINATE / TRY_LATER |
//! | seal certificate chain to the root with the CRLs, at issued-at (RFC 5280 §6, EN 319 102-1 §5.2.6) | revoked before issue: TOTAL-FAILED / REVOKED; expired or not yet valid at issue: TOTAL-FAILED / EXPIRED, NOT_YET_VALID; no path: INDETERMINATE / NO_CERTIFICATE_CHAIN_FOUND; constraints: INDETERMINATE / CHAIN_CONSTRAINTS_FAILURE; CRL missing or expired: INDETERMINATE / TRY_LATER |
//! | the snapshot lists the license as superseded by a newer version (renewal, amendment) | TOTAL-FAILED / REVOKED, with a finding naming the new version |
//! | the snapshot lists the license as revoked, or the record says revoked | TOTAL-FAILED / REVOKED |
//! | validation time past `exp` | TOTAL-FAILED / EXPIRED |
//! | validation time before `nbf`, or issued after the validation time | TOTAL-FAILED / NOT_YET_VALID |
//! | no snapshot, or one not signed by the seal certificate's CA | INDETERMINATE / TRY_LATER |
//! | snapshot past next-update (unless `allow_stale`) | INDETERMINATE / TRY_LATER |
//! | the snapshot lists the license as suspended | INDETERMINATE / TRY_LATER (EN 319 102-1 treats a suspended certificate so: the status may change) |
//!
//! Revocation is terminal, so a revoked license is TOTAL-FAILED even with a
//! stale snapshot. So is supersession: EN 319 102-1 has no sub-indication
//! for "replaced", and a superseded version is withdrawn by its issuer just
//! as a revoked one is (the snapshot lists it in `"r"` too), so it is
//! REVOKED, and the finding and the report's `superseded_by` say by what. A seal certificate revoked *after* the license was issued
//! does not invalidate it (the license's own status is in the snapshot); the
//! report says so. The issued-at time is the signer's claim, not a proof of
//! existence: that is why the license status snapshot, signed by the CA, is
//! required for TOTAL-PASSED.
//!
//! Who signed and who may issue what are checked by [`super::license_signer`],
//! which says why their failures get the indications above.

use time::{Duration, OffsetDateTime};

use super::chain::{self, ChainStatus};
use super::freshness;
use super::license_input;
use super::license_report::{LicenseField, LicenseReport, LicenseStatus};
use super::license_signer::{check_authorised, check_issuer};
use super::pdf::rfc3339;
use super::report::{DocumentReport, Indication, Report, SignatureReport, SubIndication};
use super::seal_index::SealEntry;
use super::status::{ListedStatus, SnapshotState};
use super::trust::TrustStore;
use crate::license::claims::{LicenseClaims, StatusAtIssue};
use crate::license::record::{OpenedRecord, RecordError, open_record};

/// Clock skew tolerated between the issuer and the verifier.
const SKEW: Duration = Duration::minutes(5);

/// How to verify a license.
#[derive(Clone, Copy, Debug)]
pub struct LicenseOptions {
    /// The validation time (now, or `--at`).
    pub at: OffsetDateTime,
    /// Accept a snapshot past its next-update (the report still says so).
    pub allow_stale: bool,
}

impl LicenseOptions {
    /// Now, refusing stale snapshots.
    pub fn now() -> LicenseOptions {
        LicenseOptions {
            at: OffsetDateTime::now_utc(),
            allow_stale: false,
        }
    }
}

/// Verifies a QR text: the URL `<public_url>/v/<payload>` or the bare payload.
pub fn verify_license_text(text: &str, store: &TrustStore, options: &LicenseOptions) -> Report {
    match license_input::record_from_text(text, store.public_url()) {
        Ok(cose) => verify_license_record(&cose, store, options),
        Err(why) => unreadable(store, options, why),
    }
}

/// Verifies a license record (tagged COSE_Sign1 bytes).
pub fn verify_license_record(cose: &[u8], store: &TrustStore, options: &LicenseOptions) -> Report {
    if cose.len() > crate::license::qr::MAX_RECORD_BYTES {
        return unreadable(store, options, "the record is too large".into());
    }
    let record = match open_record(cose) {
        Ok(r) => r,
        Err(e) => return unreadable(store, options, format!("not a license record: {e}")),
    };
    let mut check = Check::default();
    let signature = check_signature(&record, store, &mut check);
    let claims = record.unverified_claims();
    let mut license = None;
    let mut signer = None;
    if let Some(seal) = signature {
        signer = seal.signer.clone();
        let attributable = check_issuer(seal, claims, &mut check)
            && check_authorised(seal, claims, store, &mut check);
        let mut record_sha256 = [0u8; 32];
        record_sha256.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, cose).as_ref());
        check_chain(seal, claims, store, options, &record_sha256, &mut check);
        let status = check_status(seal, claims, store, options, &mut check);
        let mut report = license_report(claims, status, record.kid());
        if status == LicenseStatus::Superseded
            && let Some(snapshot) = store.license_status().verified()
        {
            let id = claims.license_id.as_str();
            report.superseded_by = snapshot.superseded_by(id).map(str::to_string);
            let current = snapshot.current_version(id);
            if Some(current) != report.superseded_by.as_deref() {
                report.current_version = Some(current.to_string());
            }
        }
        license = attributable.then_some(report);
    }
    let (indication, sub_indication) = check.verdict();
    let report = SignatureReport {
        field: "license-record".into(),
        kind: "cose-sign1".into(),
        sub_filter: None,
        indication,
        sub_indication,
        signer,
        claimed_signing_time: signature.map(|_| rfc3339(claims.issued_at)),
        timestamp: None,
        revision: None,
        covers_whole_document: true,
        modification_level: super::report::ModificationLevel::None,
        findings: check.findings,
    };
    let mut out = Report::new(rfc3339(options.at), DocumentReport::default(), vec![report]);
    out.license = license;
    out.revocation_data = Some(freshness::revocation_data(store, options.at));
    out
}

fn unreadable(store: &TrustStore, options: &LicenseOptions, why: String) -> Report {
    let mut report = Report::unreadable(rfc3339(options.at), DocumentReport::default(), why);
    report.revocation_data = Some(freshness::revocation_data(store, options.at));
    report
}

/// The findings and the failed checks, in the order of the module table.
#[derive(Default)]
pub(super) struct Check {
    findings: Vec<String>,
    failures: Vec<(Indication, SubIndication)>,
}

impl Check {
    pub(super) fn ok(&mut self, what: String) {
        self.findings.push(format!("✓ {what}"));
    }
    pub(super) fn note(&mut self, what: String) {
        self.findings.push(format!("• {what}"));
    }
    pub(super) fn fail(&mut self, indication: Indication, sub: SubIndication, what: String) {
        self.findings.push(format!("✗ {what}"));
        self.failures.push((indication, sub));
    }
    fn verdict(&self) -> (Indication, Option<SubIndication>) {
        let first = |wanted| self.failures.iter().find(|(i, _)| *i == wanted);
        match first(Indication::TotalFailed).or_else(|| first(Indication::Indeterminate)) {
            Some((i, s)) => (*i, Some(*s)),
            None => (Indication::TotalPassed, None),
        }
    }
}

/// The seal certificate whose key verifies the record: every certificate
/// with the record's kid is tried (kids can collide, HCERT §3.3.1).
fn check_signature<'a>(
    record: &OpenedRecord,
    store: &'a TrustStore,
    check: &mut Check,
) -> Option<&'a SealEntry> {
    let mut matched = 0;
    for seal in store.seal_index() {
        if seal.kid != *record.kid() {
            continue;
        }
        matched += 1;
        let verified = match &seal.key {
            Ok(key) => record.verify_with_key(key),
            Err(why) => Err(RecordError::Certificate(why.clone())),
        };
        match verified {
            Ok(()) => {
                check.ok(format!(
                    "COSE_Sign1 ES256 signature verifies with seal certificate kid {}",
                    hex::encode(record.kid())
                ));
                return Some(seal);
            }
            Err(RecordError::BadSignature) => {}
            Err(e) => check.note(format!("a certificate with this kid is unusable: {e}")),
        }
    }
    if matched == 0 {
        check.fail(
            Indication::Indeterminate,
            SubIndication::NoSigningCertificateFound,
            format!(
                "no seal certificate of the trust bundle has the key identifier {}",
                hex::encode(record.kid())
            ),
        );
    } else {
        check.fail(
            Indication::TotalFailed,
            SubIndication::SigCryptoFailure,
            "the signature does not verify: the record was altered or forged".into(),
        );
    }
    None
}

fn check_chain(
    seal: &SealEntry,
    claims: &LicenseClaims,
    store: &TrustStore,
    options: &LicenseOptions,
    record_sha256: &[u8; 32],
    check: &mut Check,
) {
    use Indication::{Indeterminate, TotalFailed};
    let at = claims.issued_at;
    let when = rfc3339(at);
    let status = match &seal.constraints {
        Ok(()) => chain::validate_path(store, &seal.der, &[], &[], at),
        Err(why) => ChainStatus::Constraints(why.clone()),
    };
    match status {
        ChainStatus::Valid => check.ok(format!(
            "seal certificate chains to the root, unrevoked, at issue ({when})"
        )),
        ChainStatus::ValidRevokedLater(r) if chain::revoked_for_compromise(store, &seal.der) => {
            check_existence_before_compromise(seal, store, record_sha256, r, &when, check);
        }
        ChainStatus::ValidRevokedLater(r) => check.note(format!(
            "seal certificate valid at issue ({when}); it was revoked later, on {} — the license's own status is in the snapshot",
            rfc3339(r)
        )),
        ChainStatus::Revoked(r) => check.fail(
            TotalFailed,
            SubIndication::Revoked,
            format!(
                "the seal certificate was revoked{} before the license was issued ({when})",
                r.map(|r| format!(" on {}", rfc3339(r))).unwrap_or_default()
            ),
        ),
        ChainStatus::Expired => check.fail(
            TotalFailed,
            SubIndication::Expired,
            format!("a certificate of the seal's chain had expired at issue ({when})"),
        ),
        ChainStatus::NotYetValid => check.fail(
            TotalFailed,
            SubIndication::NotYetValid,
            format!("a certificate of the seal's chain was not yet valid at issue ({when})"),
        ),
        ChainStatus::NoChain(why) => {
            check.fail(Indeterminate, SubIndication::NoCertificateChainFound, why)
        }
        ChainStatus::Constraints(why) => check.fail(
            Indeterminate,
            SubIndication::ChainConstraintsFailure,
            format!("seal certificate chain: {why}"),
        ),
        ChainStatus::RevocationUnknown(why) => check.fail(
            Indeterminate,
            SubIndication::TryLater,
            format!("seal certificate revocation status: {why}"),
        ),
    }
    if at > options.at + SKEW {
        check.fail(
            TotalFailed,
            SubIndication::NotYetValid,
            format!("the license was issued ({when}) after the validation time"),
        );
    }
}

/// A record of a seal whose key was compromised claims an issue time before
/// the revocation; anyone holding the key could have made it later. It
/// passes only if the CA's snapshot lists its hash among the records the
/// issuer's database holds from that seal (EN 319 102-1 §5.6.2.1: without
/// proof of existence before the revocation, INDETERMINATE / REVOKED_NO_POE).
fn check_existence_before_compromise(
    seal: &SealEntry,
    store: &TrustStore,
    record_sha256: &[u8; 32],
    revoked_at: OffsetDateTime,
    when: &str,
    check: &mut Check,
) {
    use x509_parser::prelude::{FromDer, X509Certificate};
    let revoked = rfc3339(revoked_at);
    let serial = X509Certificate::from_der(&seal.der)
        .map(|(_, c)| hex::encode(c.raw_serial()))
        .unwrap_or_default();
    let listed = match store.license_status() {
        SnapshotState::Verified(s) if seal.certified_by_snapshot_signer => {
            s.issued_before_compromise(&serial, record_sha256)
        }
        _ => None,
    };
    match listed {
        Some(true) => check.ok(format!(
            "the seal's key was compromised (certificate revoked on {revoked}); the CA's status snapshot lists this record among those the seal issued before, so it existed then"
        )),
        Some(false) => check.fail(
            Indication::Indeterminate,
            SubIndication::RevokedNoPoe,
            format!(
                "the seal's key was compromised (certificate revoked on {revoked}) and this record, which claims to be issued on {when}, is not among the records the CA's status snapshot lists for that seal: it may have been made with the stolen key"
            ),
        ),
        None => check.fail(
            Indication::Indeterminate,
            SubIndication::RevokedNoPoe,
            format!(
                "the seal's key was compromised (certificate revoked on {revoked}); nothing proves this record, which claims to be issued on {when}, existed before: the trust bundle's status snapshot does not list that seal's records (fetch a newer bundle)"
            ),
        ),
    }
}

/// The license's own status: validity window, then the snapshot.
fn check_status(
    seal: &SealEntry,
    claims: &LicenseClaims,
    store: &TrustStore,
    options: &LicenseOptions,
    check: &mut Check,
) -> LicenseStatus {
    use Indication::{Indeterminate, TotalFailed};
    let at = options.at;
    let id = claims.license_id.as_str();
    let mut status = LicenseStatus::Valid;
    let snapshot = match store.license_status() {
        SnapshotState::Verified(s) if seal.certified_by_snapshot_signer => Some(s),
        SnapshotState::Verified(_) => {
            check.fail(
                Indeterminate,
                SubIndication::TryLater,
                "the status snapshot is not signed by the CA of the seal certificate".into(),
            );
            None
        }
        SnapshotState::Missing => {
            check.fail(
                Indeterminate,
                SubIndication::TryLater,
                "the trust bundle has no license status snapshot".into(),
            );
            None
        }
        SnapshotState::Invalid(why) => {
            check.fail(
                Indeterminate,
                SubIndication::TryLater,
                format!("the license status snapshot is not usable: {why}"),
            );
            None
        }
    };
    let listed = snapshot.map(|s| s.status_of(id));
    if let (Some(snapshot), Some(ListedStatus::Superseded)) = (snapshot, listed) {
        let by = snapshot.superseded_by(id).unwrap_or_default();
        let current = snapshot.current_version(id);
        let newest = if current == by {
            String::new()
        } else {
            format!("; the current version is {current}")
        };
        check.fail(
            TotalFailed,
            SubIndication::Revoked,
            format!("license {id} is superseded by {by} (已被新版本取代){newest}"),
        );
        return LicenseStatus::Superseded;
    }
    if listed == Some(ListedStatus::Revoked) || claims.status == StatusAtIssue::Revoked {
        check.fail(
            TotalFailed,
            SubIndication::Revoked,
            format!("license {id} is revoked"),
        );
        return LicenseStatus::Revoked;
    }
    if let Some(exp) = claims.expires_at.filter(|exp| at > *exp) {
        check.fail(
            TotalFailed,
            SubIndication::Expired,
            format!("the license expired on {}", rfc3339(exp)),
        );
        status = LicenseStatus::Expired;
    } else if claims.status == StatusAtIssue::Expired {
        check.fail(
            TotalFailed,
            SubIndication::Expired,
            "the record says expired".into(),
        );
        status = LicenseStatus::Expired;
    }
    if let Some(nbf) = claims.valid_from.filter(|nbf| at < *nbf) {
        check.fail(
            TotalFailed,
            SubIndication::NotYetValid,
            format!("the license is valid from {}", rfc3339(nbf)),
        );
        status = LicenseStatus::NotYetValid;
    }
    let Some(snapshot) = snapshot else {
        return if status == LicenseStatus::Valid {
            LicenseStatus::Unknown
        } else {
            status
        };
    };
    let age = at - snapshot.this_update;
    if at > snapshot.next_update && !options.allow_stale {
        check.fail(
            Indeterminate,
            SubIndication::TryLater,
            format!(
                "the license status snapshot is stale: next update was due {} (fetch a fresh trust bundle, or allow stale data)",
                rfc3339(snapshot.next_update)
            ),
        );
        if status == LicenseStatus::Valid {
            status = LicenseStatus::Unknown;
        }
    } else if at > snapshot.next_update {
        check.note(format!(
            "stale license status snapshot accepted: next update was due {}",
            rfc3339(snapshot.next_update)
        ));
    } else {
        check.ok(format!(
            "license status snapshot of {} ({} h old) verifies",
            rfc3339(snapshot.this_update),
            age.whole_hours()
        ));
    }
    if listed == Some(ListedStatus::Suspended) || claims.status == StatusAtIssue::Suspended {
        check.fail(
            Indeterminate,
            SubIndication::TryLater,
            format!("license {id} is suspended"),
        );
        return LicenseStatus::Suspended;
    }
    if status == LicenseStatus::Valid {
        check.ok(format!("license {id} is neither revoked nor suspended"));
    }
    status
}

fn license_report(claims: &LicenseClaims, status: LicenseStatus, kid: &[u8]) -> LicenseReport {
    LicenseReport {
        license_id: claims.license_id.as_str().into(),
        type_code: claims.type_code().into(),
        version: claims.version(),
        holder_name: claims.holder_name.clone(),
        holder_id: claims.holder_id.as_str().into(),
        issuer: claims.issuer().as_str().into(),
        issuer_name: claims.issuer_name.clone(),
        seal_code: claims.seal_code.clone(),
        issued_at: rfc3339(claims.issued_at),
        valid_from: claims.valid_from.map(rfc3339),
        expires_at: claims.expires_at.map(rfc3339),
        status_at_issue: claims.status.as_str().into(),
        status,
        superseded_by: None,
        current_version: None,
        fields: claims
            .fields
            .iter()
            .map(|(code, value)| LicenseField {
                code: code.clone(),
                value: value.clone(),
            })
            .collect(),
        kid: hex::encode(kid),
    }
}

#[cfg(test)]
#[path = "license_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "license_signer_tests.rs"]
mod signer_tests;
