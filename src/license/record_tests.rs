//! Tests of the signed license record, including pycose as an independent verifier.

use coset::{CoseSign1Builder, HeaderBuilder, TaggedCborSerializable, iana};

use super::*;
use crate::license::testkit;

/// Changes one payload byte inside a date, so the CBOR stays well-formed and
/// only the signature can tell.
fn tamper(record: &[u8]) -> Vec<u8> {
    let needle = b"2019-03-18";
    let at = record
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("date in payload");
    let mut out = record.to_vec();
    out[at + 9] = b'9';
    out
}

#[test]
fn signs_and_verifies_against_the_matching_candidate() {
    let claims = testkit::business_license_claims();
    let (signer, cert) = testkit::seal();
    let (_, other_cert) = testkit::seal();
    let record = sign_record(&claims, &*signer, &cert).unwrap();

    let (verified, index) = verify_record(&record, &[other_cert.clone(), cert.clone()]).unwrap();
    assert_eq!(verified, claims);
    assert_eq!(index, 1);

    // COSE_Sign1 tag 18, protected header exactly {1: -7}, kid from the certificate.
    assert_eq!(record[0], 0xd2);
    assert_eq!(&record[1..6], &[0x84, 0x43, 0xa1, 0x01, 0x26]);
    let opened = open_record(&record).unwrap();
    assert_eq!(opened.kid(), &certificate_kid(&cert));
    assert_eq!(opened.unverified_claims(), &claims);

    assert!(matches!(
        verify_record(&record, &[other_cert]),
        Err(RecordError::UnknownKey(kid)) if kid == certificate_kid(&cert)
    ));
}

#[test]
fn a_changed_payload_byte_fails() {
    let (signer, cert) = testkit::seal();
    let record = sign_record(&testkit::business_license_claims(), &*signer, &cert).unwrap();
    let tampered = tamper(&record);
    // Still readable, so the failure is the signature's.
    assert_eq!(
        open_record(&tampered)
            .unwrap()
            .unverified_claims()
            .field("est"),
        Some("2019-03-19")
    );
    assert!(matches!(
        verify_record(&tampered, std::slice::from_ref(&cert)),
        Err(RecordError::BadSignature)
    ));
    let mut bad_signature = record.clone();
    let last = bad_signature.len() - 1;
    bad_signature[last] ^= 1;
    assert!(matches!(
        verify_record(&bad_signature, &[cert]),
        Err(RecordError::BadSignature)
    ));
}

#[test]
fn a_signature_by_another_department_or_seal_than_the_claims_name_is_refused() {
    let (signer, cert) = testkit::seal();
    let identity = SealIdentity::of_certificate(&cert).unwrap();
    assert_eq!(identity.uscc.as_deref(), Some(testkit::ISSUER_USCC));
    assert_eq!(identity.seal_code.as_deref(), Some("3501020012345"));
    let mut other_code = testkit::business_license_claims();
    other_code.seal_code = "3501020000001".into();
    let record = sign_record(&other_code, &*signer, &cert).unwrap();
    let err = verify_record(&record, std::slice::from_ref(&cert)).unwrap_err();
    assert!(
        matches!(&err, RecordError::Signer(SignerMismatch::SealCode { claimed, certified })
            if claims_and_certified(claimed, certified) == ("3501020000001", "3501020012345")),
        "{err}"
    );
    let mut other_issuer = testkit::business_license_claims();
    let issuer: crate::identity::Uscc = testkit::HOLDER_USCC.parse().unwrap();
    other_issuer.license_id =
        super::super::identifier::LicenseId::new(testkit::TYPE_CODE, &issuer, 1, 1).unwrap();
    let record = sign_record(&other_issuer, &*signer, &cert).unwrap();
    let err = verify_record(&record, &[cert]).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains(testkit::HOLDER_USCC) && message.contains(testkit::ISSUER_USCC),
        "{message}"
    );
}

fn claims_and_certified<'a>(claimed: &'a str, certified: &'a Option<String>) -> (&'a str, &'a str) {
    (claimed, certified.as_deref().unwrap_or_default())
}

#[test]
fn refuses_a_certificate_of_another_key() {
    let (signer, _) = testkit::seal();
    let (_, other_cert) = testkit::seal();
    assert!(matches!(
        sign_record(&testkit::business_license_claims(), &*signer, &other_cert),
        Err(RecordError::CertificateMismatch)
    ));
}

#[test]
fn refuses_other_algorithms_untagged_and_garbage() {
    let claims = testkit::business_license_claims();
    let (signer, cert) = testkit::seal();
    let kid = certificate_kid(&cert).to_vec();
    let build = |alg: iana::Algorithm, kid: Vec<u8>| {
        CoseSign1Builder::new()
            .protected(HeaderBuilder::new().algorithm(alg).build())
            .unprotected(HeaderBuilder::new().key_id(kid).build())
            .payload(claims.to_cbor().unwrap())
            .try_create_signature(b"", |tbs| signer.sign_fixed(tbs))
            .unwrap()
            .build()
    };
    let es384 = build(iana::Algorithm::ES384, kid.clone());
    assert!(matches!(
        open_record(&es384.to_tagged_vec().unwrap()),
        Err(RecordError::Algorithm(_))
    ));
    let long_kid = build(iana::Algorithm::ES256, vec![0; 32]);
    assert!(matches!(
        open_record(&long_kid.clone().to_tagged_vec().unwrap()),
        Err(RecordError::KeyId)
    ));
    let untagged = coset::CborSerializable::to_vec(build(iana::Algorithm::ES256, kid)).unwrap();
    assert!(matches!(
        open_record(&untagged),
        Err(RecordError::Malformed(_))
    ));
    assert!(matches!(
        open_record(b"not cbor"),
        Err(RecordError::Malformed(_))
    ));
}

#[test]
fn pycose_verifies_the_record_and_rejects_a_changed_byte() {
    if !testkit::interop_available("record/pycose", &[testkit::PYCOSE]) {
        return;
    }
    let (signer, cert) = testkit::seal();
    let record = sign_record(&testkit::business_license_claims(), &*signer, &cert).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (good, bad, pem) = (
        dir.path().join("record.cose"),
        dir.path().join("tampered.cose"),
        dir.path().join("seal.pem"),
    );
    std::fs::write(&good, &record).unwrap();
    std::fs::write(&bad, tamper(&record)).unwrap();
    std::fs::write(&pem, testkit::pem(&cert)).unwrap();

    let (ok, out) = testkit::run("check-cose.py", &[&good, &pem]);
    assert!(ok && out.contains("check-cose: PASS"), "{out}");
    // pycose decodes the claims as we wrote them.
    assert!(out.contains(testkit::HOLDER_USCC), "{out}");
    assert!(out.contains("闽江智慧城市"), "{out}");

    let (ok, out) = testkit::run("check-cose.py", &[&bad, &pem]);
    assert!(!ok && out.contains("check-cose: FAIL"), "{out}");
}
