//! How old the revocation data of a trust bundle is at the validation time:
//! each CRL's thisUpdate / nextUpdate (RFC 5280 §5.1.2.4–5) and the license
//! status snapshot's this-update / next-update, so a verifier with no
//! network is told how current its answer is (ETSI EN 319 102-1 §5.2.5).

use time::OffsetDateTime;
use x509_parser::prelude::FromDer;
use x509_parser::revocation_list::CertificateRevocationList;

use super::license_report::{CrlFreshness, RevocationData, SnapshotFreshness};
use super::pdf::rfc3339;
use super::status::SnapshotState;
use super::trust::TrustStore;

/// A CRL's issuer and dates, read once per trust store.
#[derive(Debug)]
pub(crate) struct CrlDates {
    issuer: String,
    this_update: OffsetDateTime,
    /// The dates as the report writes them (RFC 3339), formatted once.
    this_update_text: String,
    next_update_text: Option<String>,
}

/// The issuer and dates of each readable CRL of `crls`.
pub(crate) fn crl_dates(crls: &[Vec<u8>]) -> Vec<CrlDates> {
    crls.iter()
        .filter_map(|der| {
            let (_, crl) = CertificateRevocationList::from_der(der).ok()?;
            let this_update =
                OffsetDateTime::from_unix_timestamp(crl.last_update().timestamp()).ok()?;
            let next_update = crl
                .next_update()
                .and_then(|t| OffsetDateTime::from_unix_timestamp(t.timestamp()).ok());
            Some(CrlDates {
                issuer: crl.issuer().to_string(),
                this_update,
                this_update_text: rfc3339(this_update),
                next_update_text: next_update.map(rfc3339),
            })
        })
        .collect()
}

/// The freshness of `store`'s CRLs and license status snapshot at `at`.
pub fn revocation_data(store: &TrustStore, at: OffsetDateTime) -> RevocationData {
    let crls = store
        .crl_dates()
        .iter()
        .map(|crl| CrlFreshness {
            issuer: crl.issuer.clone(),
            this_update: crl.this_update_text.clone(),
            next_update: crl.next_update_text.clone(),
            age_seconds: (at - crl.this_update).whole_seconds(),
        })
        .collect();
    let license_status = Some(match store.license_status() {
        SnapshotState::Verified(s) => SnapshotFreshness {
            this_update: Some(rfc3339(s.this_update)),
            next_update: Some(rfc3339(s.next_update)),
            age_seconds: Some((at - s.this_update).whole_seconds()),
            stale: at > s.next_update,
            revoked: s.revoked.len(),
            suspended: s.suspended.len(),
            problem: None,
        },
        other => SnapshotFreshness {
            this_update: None,
            next_update: None,
            age_seconds: None,
            stale: false,
            revoked: 0,
            suspended: 0,
            problem: Some(match other {
                SnapshotState::Invalid(why) => why.clone(),
                _ => "the trust bundle has no license status snapshot".into(),
            }),
        },
    });
    RevocationData {
        crls,
        license_status,
    }
}
