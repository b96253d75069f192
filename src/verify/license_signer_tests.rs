//! Licenses signed by the wrong department or seal, of a type the signer
//! may not issue, or with COSE headers RFC 9052 §3 refuses: real keys and
//! certificates of one installation (root → issuing CA → two departments'
//! seals), real signatures, the engine's verdict and findings.

use coset::{CoseSign1Builder, HeaderBuilder, TaggedCborSerializable, iana};
use time::OffsetDateTime;

use super::tests::{OTHER_SEAL_CODE, OTHER_USCC, Pki, claims, empty_snapshot, pki, verdict};
use super::*;
use crate::identity::Uscc;
use crate::license::identifier::LicenseId;
use crate::license::issuers::AuthorisedIssuers;
use crate::license::record::{certificate_kid, sign_record};
use crate::license::testkit::{ISSUER_USCC, TYPE_CODE};
use crate::verify::issuers::IssuersState;
use crate::verify::report::{Indication, SubIndication};

fn failed_findings(r: &Report) -> Vec<String> {
    r.signatures
        .iter()
        .flat_map(|s| s.findings.iter())
        .filter(|f| f.starts_with('✗'))
        .cloned()
        .collect()
}

/// The other department's seal key signing `claims` with its own certificate.
fn signed_by_other(p: &Pki, claims: &LicenseClaims) -> Vec<u8> {
    sign_record(claims, &*p.other_key, &p.other_seal).unwrap()
}

#[test]
fn a_license_of_department_a_signed_with_department_bs_seal_fails_naming_both() {
    let p = pki();
    let store = p.store(None, &empty_snapshot());
    let now = LicenseOptions::now();
    let c = claims(&p);
    // Genuine: A's claims, A's seal.
    let r = verify_license_record(&p.record(&c), &store, &now);
    assert_eq!(
        verdict(&r),
        (Indication::TotalPassed, None),
        "{}",
        r.summary()
    );
    // The same claims re-signed by B's seal key: the signature verifies with
    // B's certificate, which the bundle trusts, but B is not the issuer named.
    let r = verify_license_record(&signed_by_other(&p, &c), &store, &now);
    assert_eq!(
        verdict(&r),
        (
            Indication::TotalFailed,
            Some(SubIndication::SigCryptoFailure)
        ),
        "{}",
        r.summary()
    );
    let failed = failed_findings(&r);
    assert!(
        failed
            .iter()
            .any(|f| f.contains(ISSUER_USCC) && f.contains(OTHER_USCC)),
        "{failed:?}"
    );
    assert!(
        r.license.is_none(),
        "claims not attributable to their signer"
    );
    assert!(!r.summary().contains("有效 VALID"), "{}", r.summary());
    // Also through the QR text, and with B's seal code written into A's claims.
    let mut with_b_code = c.clone();
    with_b_code.seal_code = OTHER_SEAL_CODE.into();
    let text = crate::license::qr::qr_url(
        "https://zw.example.gov.cn",
        &signed_by_other(&p, &with_b_code),
    );
    let r = verify_license_text(&text, &store, &now);
    assert_eq!(
        verdict(&r),
        (
            Indication::TotalFailed,
            Some(SubIndication::SigCryptoFailure)
        ),
        "{}",
        r.summary()
    );
}

#[test]
fn a_claimed_seal_code_other_than_the_certificates_fails_naming_both() {
    let p = pki();
    let store = p.store(None, &empty_snapshot());
    let mut c = claims(&p);
    c.seal_code = "3501020000001".into();
    let r = verify_license_record(&p.record(&c), &store, &LicenseOptions::now());
    assert_eq!(
        verdict(&r),
        (
            Indication::TotalFailed,
            Some(SubIndication::SigCryptoFailure)
        ),
        "{}",
        r.summary()
    );
    let failed = failed_findings(&r);
    assert!(
        failed
            .iter()
            .any(|f| f.contains("3501020000001") && f.contains("3501020012345")),
        "{failed:?}"
    );
    assert!(r.license.is_none());
}

#[test]
fn a_department_not_authorised_for_the_type_is_not_passed() {
    let p = pki();
    let store = p.store(None, &empty_snapshot());
    let now = LicenseOptions::now();
    // B issues a business license in its own name, with its own seal: every
    // signature and name is consistent, but the bundle's list says only A
    // may issue that type.
    let other: Uscc = OTHER_USCC.parse().unwrap();
    let mut c = claims(&p);
    c.license_id = LicenseId::new(TYPE_CODE, &other, 7, 1).unwrap();
    c.seal_code = OTHER_SEAL_CODE.into();
    let record = signed_by_other(&p, &c);
    let r = verify_license_record(&record, &store, &now);
    assert_eq!(
        verdict(&r),
        (
            Indication::Indeterminate,
            Some(SubIndication::SigConstraintsFailure)
        ),
        "{}",
        r.summary()
    );
    let failed = failed_findings(&r);
    assert!(
        failed.iter().any(|f| f.contains(TYPE_CODE)
            && f.contains(OTHER_USCC)
            && f.contains("not authorised")),
        "{failed:?}"
    );
    assert!(r.license.is_none());
    // A list that authorises B too lets the same record pass.
    let both = AuthorisedIssuers::new(
        [
            (TYPE_CODE.to_string(), ISSUER_USCC.to_string()),
            (TYPE_CODE.to_string(), OTHER_USCC.to_string()),
        ],
        OffsetDateTime::now_utc(),
    )
    .sign(&*p.ca_key, &p.ca)
    .unwrap();
    let allowed = store.clone().with_license_issuers(&both);
    let r = verify_license_record(&record, &allowed, &now);
    assert_eq!(
        verdict(&r),
        (Indication::TotalPassed, None),
        "{}",
        r.summary()
    );
    // A type the list does not know.
    let unknown = AuthorisedIssuers::new(
        [("11100000000013127D002".to_string(), ISSUER_USCC.to_string())],
        OffsetDateTime::now_utc(),
    )
    .sign(&*p.ca_key, &p.ca)
    .unwrap();
    let r = verify_license_record(
        &p.record(&claims(&p)),
        &store.clone().with_license_issuers(&unknown),
        &now,
    );
    assert_eq!(
        verdict(&r),
        (
            Indication::Indeterminate,
            Some(SubIndication::SigConstraintsFailure)
        ),
        "{}",
        r.summary()
    );
    assert!(
        failed_findings(&r)
            .iter()
            .any(|f| f.contains(TYPE_CODE) && f.contains(ISSUER_USCC)),
        "{:?}",
        failed_findings(&r)
    );
}

#[test]
fn a_missing_or_forged_issuers_list_is_reported_not_trusted() {
    let p = pki();
    let c = claims(&p);
    let record = p.record(&c);
    let now = LicenseOptions::now();
    let store = p.store(None, &empty_snapshot());
    // Signed by a seal key, not the CA: refused, so nothing is authorised.
    let forged = AuthorisedIssuers::new(
        [(TYPE_CODE.to_string(), ISSUER_USCC.to_string())],
        OffsetDateTime::now_utc(),
    )
    .sign(&*p.other_key, &p.ca)
    .unwrap();
    let bad = store.clone().with_license_issuers(&forged);
    assert!(matches!(bad.license_issuers(), IssuersState::Invalid(_)));
    let r = verify_license_record(&record, &bad, &now);
    assert_eq!(
        verdict(&r),
        (Indication::Indeterminate, Some(SubIndication::TryLater)),
        "{}",
        r.summary()
    );
    let missing = TrustStore::from_parts(
        store.anchors().to_vec(),
        store.intermediates().to_vec(),
        store.crls().to_vec(),
    )
    .with_seals(store.seals().to_vec())
    .with_license_status(&empty_snapshot().sign(&*p.ca_key, &p.ca).unwrap());
    let r = verify_license_record(&record, &missing, &now);
    assert_eq!(
        verdict(&r),
        (Indication::Indeterminate, Some(SubIndication::TryLater)),
        "{}",
        r.summary()
    );
    assert!(
        failed_findings(&r)
            .iter()
            .any(|f| f.contains("license-issuers.cose")),
        "{:?}",
        failed_findings(&r)
    );
}

/// A record signed by A's seal whose headers are built by hand.
fn with_headers(p: &Pki, protected: HeaderBuilder, unprotected: HeaderBuilder) -> Vec<u8> {
    CoseSign1Builder::new()
        .protected(protected.build())
        .unprotected(unprotected.build())
        .payload(claims(p).to_cbor().unwrap())
        .try_create_signature(b"", |tbs| p.seal_key.sign_fixed(tbs))
        .unwrap()
        .build()
        .to_tagged_vec()
        .unwrap()
}

#[test]
fn header_labels_in_both_buckets_crit_and_other_algorithms_are_format_failures() {
    let p = pki();
    let store = p.store(None, &empty_snapshot());
    let now = LicenseOptions::now();
    let kid = certificate_kid(&p.seal).to_vec();
    let es256 = || HeaderBuilder::new().algorithm(iana::Algorithm::ES256);
    // The kid protected alone is fine (RFC 9052 §3.1 allows either bucket).
    let protected_kid = with_headers(&p, es256().key_id(kid.clone()), HeaderBuilder::new());
    let r = verify_license_record(&protected_kid, &store, &now);
    assert_eq!(
        verdict(&r),
        (Indication::TotalPassed, None),
        "{}",
        r.summary()
    );
    let cases = [
        (
            "4 (kid)",
            with_headers(
                &p,
                es256().key_id(kid.clone()),
                HeaderBuilder::new().key_id(kid.clone()),
            ),
        ),
        (
            "1 (alg)",
            with_headers(
                &p,
                es256(),
                HeaderBuilder::new()
                    .algorithm(iana::Algorithm::ES256)
                    .key_id(kid.clone()),
            ),
        ),
        (
            "3 (content type)",
            with_headers(
                &p,
                es256().content_format(iana::CoapContentFormat::Cbor),
                HeaderBuilder::new()
                    .content_format(iana::CoapContentFormat::Cbor)
                    .key_id(kid.clone()),
            ),
        ),
        (
            "crit (2)",
            with_headers(
                &p,
                es256().add_critical(iana::HeaderParameter::Alg),
                HeaderBuilder::new().key_id(kid.clone()),
            ),
        ),
        (
            "ES384",
            with_headers(
                &p,
                HeaderBuilder::new().algorithm(iana::Algorithm::ES384),
                HeaderBuilder::new().key_id(kid.clone()),
            ),
        ),
        (
            "missing",
            with_headers(
                &p,
                HeaderBuilder::new(),
                HeaderBuilder::new().key_id(kid.clone()),
            ),
        ),
    ];
    for (label, record) in cases {
        let r = verify_license_record(&record, &store, &now);
        assert_eq!(
            verdict(&r),
            (Indication::TotalFailed, Some(SubIndication::FormatFailure)),
            "{label}: {}",
            r.summary()
        );
        assert!(
            r.document.findings.iter().any(|f| f.contains(label)),
            "{label}: {:?}",
            r.document.findings
        );
        assert!(r.license.is_none());
    }
}
