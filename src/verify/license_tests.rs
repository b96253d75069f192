//! License verification against a real PKI: root → issuing CA → seal,
//! CRLs of both CAs, a snapshot signed by the issuing CA, records signed
//! with the seal key.

use std::sync::Arc;

use time::{Duration, OffsetDateTime};

use super::*;
use crate::keystore::{KeyAlgorithm, KeyStore, MasterKey, Signer};
use crate::license::claims::LicenseClaims;
use crate::license::issuers::AuthorisedIssuers;
use crate::license::qr::qr_url;
use crate::license::record::sign_record;
use crate::license::snapshot::StatusSnapshot;
use crate::license::testkit::{ISSUER_USCC, TYPE_CODE, business_license_claims};
use crate::pki::{self, CertificateRole, RevokedEntry, Subject};
use crate::verify::report::{Indication, SubIndication};
use crate::verify::trust::TrustStore;

const URL: &str = "https://zw.example.gov.cn";
/// The seal code of the issuing bureau's seal in the claims of the testkit.
const SEAL_CODE: &str = "3501020012345";
/// Another department of the same installation, with a seal of its own,
/// not authorised to issue the business license.
pub(super) const OTHER_USCC: &str = "11350100MB01234565";
pub(super) const OTHER_SEAL_CODE: &str = "3501020099999";

pub(super) struct Pki {
    pub(super) root: Vec<u8>,
    pub(super) ca: Vec<u8>,
    pub(super) ca_key: Arc<dyn Signer>,
    pub(super) root_key: Arc<dyn Signer>,
    pub(super) seal: Vec<u8>,
    pub(super) seal_serial: String,
    pub(super) seal_key: Arc<dyn Signer>,
    /// The other department's seal certificate and key.
    pub(super) other_seal: Vec<u8>,
    pub(super) other_key: Arc<dyn Signer>,
    pub(super) now: OffsetDateTime,
}

pub(super) fn pki() -> Pki {
    let store = KeyStore::new(MasterKey::from_text(&"22".repeat(32)).unwrap());
    let key = |n: &str| store.generate(n, KeyAlgorithm::EcdsaP256).unwrap().1;
    let (root_key, ca_key, seal_key, other_key) =
        (key("root"), key("ca"), key("seal"), key("other"));
    let now = OffsetDateTime::now_utc() - Duration::days(30);
    let subject = |cn: &str| Subject {
        common_name: cn.into(),
        ..Default::default()
    };
    let root =
        pki::self_signed_root(&*root_key, &subject("root"), now, Duration::days(3650)).unwrap();
    let ca = pki::issue_certificate(
        &root.der,
        &*root_key,
        &*ca_key,
        CertificateRole::IssuingCa,
        &subject("issuing"),
        now,
        Duration::days(3650),
        None,
    )
    .unwrap();
    let seal_of = |key: &Arc<dyn Signer>, organization: &str, uscc: &str, code: &str| {
        pki::issue_certificate(
            &ca.der,
            &*ca_key,
            &**key,
            CertificateRole::Seal,
            &Subject {
                common_name: "行政审批专用章".into(),
                organization: Some(organization.into()),
                uscc: Some(uscc.into()),
                serial_number: Some(code.into()),
                ..Default::default()
            },
            now,
            Duration::days(3650),
            None,
        )
        .unwrap()
    };
    let seal = seal_of(&seal_key, "某局", ISSUER_USCC, SEAL_CODE);
    let other_seal = seal_of(&other_key, "另一局", OTHER_USCC, OTHER_SEAL_CODE);
    Pki {
        root: root.der,
        ca: ca.der,
        ca_key,
        root_key,
        seal: seal.der,
        seal_serial: seal.serial_hex,
        seal_key,
        other_seal: other_seal.der,
        other_key,
        now,
    }
}

impl Pki {
    /// The bundle's authorised issuers list: only the testkit's bureau may
    /// issue the business license.
    pub(super) fn issuers(&self) -> Vec<u8> {
        AuthorisedIssuers::new(
            [(TYPE_CODE.to_string(), ISSUER_USCC.to_string())],
            OffsetDateTime::now_utc(),
        )
        .sign(&*self.ca_key, &self.ca)
        .unwrap()
    }

    pub(super) fn store(
        &self,
        revoked_seal_at: Option<OffsetDateTime>,
        snapshot: &StatusSnapshot,
    ) -> TrustStore {
        let t = OffsetDateTime::now_utc();
        let root_crl = pki::sign_crl(
            &self.root,
            &*self.root_key,
            1,
            t,
            t + Duration::days(7),
            &[],
        )
        .unwrap();
        let revoked: Vec<RevokedEntry> = revoked_seal_at
            .map(|at| RevokedEntry {
                serial_hex: self.seal_serial.clone(),
                revoked_at: at,
                reason: None,
            })
            .into_iter()
            .collect();
        let ca_crl = pki::sign_crl(
            &self.ca,
            &*self.ca_key,
            1,
            t,
            t + Duration::days(7),
            &revoked,
        )
        .unwrap();
        TrustStore::from_parts(
            vec![self.root.clone()],
            vec![self.ca.clone()],
            vec![root_crl, ca_crl],
        )
        .with_seals(vec![self.seal.clone(), self.other_seal.clone()])
        .with_license_status(&snapshot.sign(&*self.ca_key, &self.ca).unwrap())
        .with_license_issuers(&self.issuers())
        .with_public_url(URL)
    }

    pub(super) fn record(&self, claims: &LicenseClaims) -> Vec<u8> {
        sign_record(claims, &*self.seal_key, &self.seal).unwrap()
    }
}

pub(super) fn claims(p: &Pki) -> LicenseClaims {
    let mut c = business_license_claims();
    c.issued_at = (p.now + Duration::days(1)).replace_nanosecond(0).unwrap();
    c.valid_from = Some(c.issued_at);
    c.expires_at = Some(c.issued_at + Duration::days(365));
    c
}

pub(super) fn verdict(r: &Report) -> (Indication, Option<SubIndication>) {
    (
        r.indication,
        r.sub_indication
            .or(r.signatures.first().and_then(|s| s.sub_indication)),
    )
}

pub(super) fn empty_snapshot() -> StatusSnapshot {
    StatusSnapshot::new(vec![], vec![], OffsetDateTime::now_utc())
}

#[test]
fn a_genuine_license_passes_with_its_claims_and_freshness() {
    let p = pki();
    let c = claims(&p);
    let store = p.store(None, &empty_snapshot());
    let r = verify_license_text(&qr_url(URL, &p.record(&c)), &store, &LicenseOptions::now());
    assert_eq!(
        verdict(&r),
        (Indication::TotalPassed, None),
        "{}",
        r.summary()
    );
    let l = r.license.as_ref().unwrap();
    assert_eq!(l.license_id, c.license_id.as_str());
    assert_eq!(l.status, LicenseStatus::Valid);
    assert_eq!(l.fields.len(), 12);
    let data = r.revocation_data.as_ref().unwrap();
    assert_eq!(data.crls.len(), 2);
    assert!(!data.license_status.as_ref().unwrap().stale);
    assert_eq!(
        r.signatures[0]
            .signer
            .as_ref()
            .unwrap()
            .common_name
            .as_deref(),
        Some("行政审批专用章")
    );
    assert!(r.summary().contains("有效"), "{}", r.summary());
}

#[test]
fn a_superseded_version_is_revoked_and_names_its_successors() {
    let p = pki();
    let c = claims(&p);
    let id = c.license_id.as_str().to_string();
    let version = |v: u16| {
        let l = &c.license_id;
        crate::license::identifier::LicenseId::new(
            l.type_code(),
            l.issuer(),
            l.serial().parse().unwrap(),
            v,
        )
        .unwrap()
        .to_string()
    };
    let (v2, v3) = (version(2), version(3));
    let snapshot = StatusSnapshot::new(vec![], vec![], OffsetDateTime::now_utc())
        .with_superseded(vec![(id.clone(), v2.clone()), (v2.clone(), v3.clone())]);
    let store = p.store(None, &snapshot);
    let record = p.record(&c);
    for options in [
        LicenseOptions::now(),
        // Terminal, like a revocation: a stale snapshot does not soften it.
        LicenseOptions {
            at: OffsetDateTime::now_utc() + Duration::days(2),
            allow_stale: false,
        },
    ] {
        let r = verify_license_record(&record, &store, &options);
        assert_eq!(
            verdict(&r),
            (Indication::TotalFailed, Some(SubIndication::Revoked)),
            "{}",
            r.summary()
        );
        let l = r.license.as_ref().unwrap();
        assert_eq!(l.status, LicenseStatus::Superseded);
        assert_eq!(l.superseded_by.as_deref(), Some(v2.as_str()));
        assert_eq!(l.current_version.as_deref(), Some(v3.as_str()));
        assert!(
            r.signatures[0]
                .findings
                .iter()
                .any(|f| f.starts_with('✗') && f.contains(&format!("superseded by {v2}"))),
            "{:?}",
            r.signatures[0].findings
        );
        assert!(r.summary().contains(&v3), "{}", r.summary());
    }
    // The successor itself is not listed: it passes.
    let mut newer = claims(&p);
    newer.license_id = v3.parse().unwrap();
    let r = verify_license_record(&p.record(&newer), &store, &LicenseOptions::now());
    assert_eq!(
        verdict(&r),
        (Indication::TotalPassed, None),
        "{}",
        r.summary()
    );
    let freshness = r.revocation_data.unwrap().license_status.unwrap();
    assert_eq!(
        freshness.revoked, 0,
        "superseded versions are not counted as revoked"
    );
}

#[test]
fn revoked_suspended_expired_and_stale() {
    let p = pki();
    let c = claims(&p);
    let id = c.license_id.as_str().to_string();
    let record = p.record(&c);
    let now = LicenseOptions::now();
    let revoked = p.store(
        None,
        &StatusSnapshot::new(vec![id.clone()], vec![], OffsetDateTime::now_utc()),
    );
    let r = verify_license_record(&record, &revoked, &now);
    assert_eq!(
        verdict(&r),
        (Indication::TotalFailed, Some(SubIndication::Revoked))
    );
    assert_eq!(r.license.unwrap().status, LicenseStatus::Revoked);
    let suspended = p.store(
        None,
        &StatusSnapshot::new(vec![], vec![id], OffsetDateTime::now_utc()),
    );
    let r = verify_license_record(&record, &suspended, &now);
    assert_eq!(
        verdict(&r),
        (Indication::Indeterminate, Some(SubIndication::TryLater))
    );
    assert_eq!(r.license.unwrap().status, LicenseStatus::Suspended);
    let store = p.store(None, &empty_snapshot());
    let later = LicenseOptions {
        at: OffsetDateTime::now_utc() + Duration::days(2),
        allow_stale: false,
    };
    let r = verify_license_record(&record, &store, &later);
    assert_eq!(
        verdict(&r),
        (Indication::Indeterminate, Some(SubIndication::TryLater)),
        "{}",
        r.summary()
    );
    assert!(r.revocation_data.unwrap().license_status.unwrap().stale);
    let r = verify_license_record(
        &record,
        &store,
        &LicenseOptions {
            allow_stale: true,
            ..later
        },
    );
    assert_eq!(
        verdict(&r),
        (Indication::TotalPassed, None),
        "{}",
        r.summary()
    );
    let mut old = claims(&p);
    old.expires_at = Some(old.issued_at + Duration::days(2));
    let r = verify_license_record(&p.record(&old), &store, &now);
    assert_eq!(
        verdict(&r),
        (Indication::TotalFailed, Some(SubIndication::Expired))
    );
}

#[test]
fn forged_unknown_and_malformed_inputs() {
    let p = pki();
    let c = claims(&p);
    let store = p.store(None, &empty_snapshot());
    let now = LicenseOptions::now();
    let mut forged = p.record(&c);
    let at = forged.len() / 2;
    forged[at] ^= 1;
    let r = verify_license_record(&forged, &store, &now);
    assert_eq!(r.indication, Indication::TotalFailed, "{}", r.summary());
    assert!(r.license.is_none());
    // Signed by a key whose certificate is not in the bundle.
    let other = pki();
    let r = verify_license_record(&other.record(&c), &store, &now);
    assert_eq!(
        verdict(&r),
        (
            Indication::Indeterminate,
            Some(SubIndication::NoSigningCertificateFound)
        )
    );
    // Wrong prefix, not a payload, garbage.
    let payload = crate::license::qr::qr_payload(&p.record(&c));
    for text in [
        format!("https://evil.example.com/v/{payload}"),
        format!("{URL}/x/{payload}"),
        "hello world".into(),
        "https://example.com/".into(),
        "\u{0}\u{1}".into(),
        "A".repeat(100_000),
    ] {
        let r = verify_license_text(&text, &store, &now);
        assert_eq!(
            verdict(&r),
            (Indication::TotalFailed, Some(SubIndication::FormatFailure)),
            "{text:.60}"
        );
    }
    assert_eq!(
        verify_license_text(&payload, &store, &now).indication,
        Indication::TotalPassed
    );
    for garbage in [&b""[..], &[0xd2], &[0xd2, 0x84, 0x40], &[0xff; 64]] {
        let r = verify_license_record(garbage, &store, &now);
        assert_eq!(
            verdict(&r),
            (Indication::TotalFailed, Some(SubIndication::FormatFailure))
        );
    }
}

#[test]
fn seal_revoked_before_issue_fails_and_after_issue_passes() {
    let p = pki();
    let c = claims(&p);
    let record = p.record(&c);
    let now = LicenseOptions::now();
    let before = p.store(Some(c.issued_at - Duration::hours(1)), &empty_snapshot());
    let r = verify_license_record(&record, &before, &now);
    assert_eq!(
        verdict(&r),
        (Indication::TotalFailed, Some(SubIndication::Revoked)),
        "{}",
        r.summary()
    );
    let after = p.store(Some(c.issued_at + Duration::hours(1)), &empty_snapshot());
    let r = verify_license_record(&record, &after, &now);
    assert_eq!(r.indication, Indication::TotalPassed, "{}", r.summary());
}

#[test]
fn a_bad_or_missing_snapshot_is_reported_not_trusted() {
    let p = pki();
    let c = claims(&p);
    let record = p.record(&c);
    let now = LicenseOptions::now();
    let store = p.store(None, &empty_snapshot());
    // Signed by the seal key instead of the CA: refused.
    let forged = empty_snapshot().sign(&*p.seal_key, &p.ca).unwrap();
    let bad = store.clone().with_license_status(&forged);
    assert!(matches!(bad.license_status(), SnapshotState::Invalid(_)));
    let r = verify_license_record(&record, &bad, &now);
    assert_eq!(
        verdict(&r),
        (Indication::Indeterminate, Some(SubIndication::TryLater))
    );
    let missing = TrustStore::from_parts(
        store.anchors().to_vec(),
        store.intermediates().to_vec(),
        store.crls().to_vec(),
    )
    .with_seals(vec![p.seal.clone()]);
    let r = verify_license_record(&record, &missing, &now);
    assert_eq!(
        verdict(&r),
        (Indication::Indeterminate, Some(SubIndication::TryLater))
    );
    assert!(
        r.revocation_data
            .unwrap()
            .license_status
            .unwrap()
            .problem
            .is_some()
    );
}
