use ring::rand::{SecureRandom, SystemRandom};

use super::test_pki::{TestPki, openssl, text, tool_available};
use super::*;
use crate::keystore::KeyAlgorithm;

fn random_bytes(len: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; len];
    SystemRandom::new().fill(&mut bytes).expect("randomness");
    bytes
}

fn sha256(data: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, data).as_ref());
    out
}

fn sign_test_content(pki: &TestPki, data: &[u8]) -> Vec<u8> {
    sign_detached(
        &sha256(data),
        &*pki.seal.signer,
        &pki.seal.certificate.der,
        std::slice::from_ref(&pki.issuing.certificate.der),
    )
    .expect("sign")
}

#[test]
fn parse_round_trip_gives_back_what_was_signed() {
    let pki = TestPki::new(KeyAlgorithm::EcdsaP256);
    let data = random_bytes(1000);
    let cms = sign_test_content(&pki, &data);
    let parsed = parse(&cms).expect("parse");

    assert_eq!(parsed.content_type, oid::DATA);
    assert_eq!(parsed.content_type_attribute, oid::DATA);
    assert!(parsed.encapsulated_content.is_none(), "detached");
    assert_eq!(parsed.message_digest, sha256(&data));
    assert_eq!(parsed.digest_algorithm, oid::SHA256);
    assert_eq!(parsed.signature_algorithm, oid::ECDSA_WITH_SHA256);
    assert!(!parsed.has_signing_time);
    assert!(parsed.timestamp_token.is_none());
    assert_eq!(parsed.certificates.len(), 2);
    assert!(parsed.certificates.contains(&pki.issuing.certificate.der));
    assert_eq!(
        parsed.signer_certificate(),
        Some(pki.seal.certificate.der.as_slice())
    );
    let hash = parsed
        .signing_certificate
        .clone()
        .expect("signing-certificate-v2");
    assert_eq!(hash.algorithm, oid::SHA256);
    assert_eq!(hash.hash, sha256(&pki.seal.certificate.der));
    // The signed attributes are a SET (0x31) and the signature covers them.
    assert_eq!(parsed.signed_attributes.first(), Some(&0x31));
    parsed
        .verify_signature(&pki.seal.certificate.der)
        .expect("signature verifies");
    assert!(
        parsed
            .verify_signature(&pki.issuing.certificate.der)
            .is_err()
    );
    assert_eq!(signature_value(&cms).expect("signature"), parsed.signature);
}

#[test]
fn signed_attributes_are_exactly_the_three_pades_needs() {
    let pki = TestPki::new(KeyAlgorithm::EcdsaP256);
    let cms = sign_test_content(&pki, b"attributes");
    let parsed = parse(&cms).expect("parse");
    let attrs = <der::asn1::SetOfVec<x509_cert::attr::Attribute> as der::Decode>::from_der(
        &parsed.signed_attributes,
    )
    .expect("attributes");
    let mut oids: Vec<_> = attrs.iter().map(|a| a.oid).collect();
    oids.sort();
    let mut expected = vec![
        oid::CONTENT_TYPE,
        oid::MESSAGE_DIGEST,
        oid::SIGNING_CERTIFICATE_V2,
    ];
    expected.sort();
    assert_eq!(oids, expected);
}

#[test]
fn timestamp_attribute_is_added_and_signature_survives() {
    let pki = TestPki::new(KeyAlgorithm::EcdsaP256);
    let cms = sign_test_content(&pki, b"b-t");
    // Any ContentInfo will do as a token here; the timestamp module tests real ones.
    let token = sign_test_content(&pki, b"token stand-in");
    let stamped = add_signature_timestamp(&cms, &token).expect("add token");
    let before = parse(&cms).expect("parse");
    let after = parse(&stamped).expect("parse stamped");
    assert_eq!(after.timestamp_token.as_deref(), Some(token.as_slice()));
    assert_eq!(after.signed_attributes, before.signed_attributes);
    assert_eq!(after.signature, before.signature);
    after
        .verify_signature(&pki.seal.certificate.der)
        .expect("still verifies");
    assert!(add_signature_timestamp(&cms, b"\x30\x03\x02\x01\x01").is_err());
}

#[test]
fn an_unencoded_signature_gives_the_same_der_as_the_decode_and_add_route() {
    let pki = TestPki::new(KeyAlgorithm::EcdsaP256);
    let token = sign_test_content(&pki, b"token stand-in");
    let mut signature = DetachedSignature::sign(
        DigestAlgorithm::Sha256,
        &sha256(b"b-t"),
        &*pki.seal.signer,
        &pki.seal.certificate.der,
        std::slice::from_ref(&pki.issuing.certificate.der),
    )
    .expect("sign");
    let b_b = signature.to_der().expect("der");
    assert_eq!(
        signature.signature_value().expect("value"),
        signature_value(&b_b).expect("value").as_slice()
    );
    signature.add_timestamp(&token).expect("add");
    assert_eq!(
        signature.to_der().expect("der"),
        add_signature_timestamp(&b_b, &token).expect("add")
    );
    assert!(signature.add_timestamp(b"\x30\x03\x02\x01\x01").is_err());
}

#[test]
fn p384_keys_sign_sha384_and_refuse_sha256() {
    let pki = TestPki::new(KeyAlgorithm::EcdsaP384);
    let data = b"p-384";
    let digest = DigestAlgorithm::Sha384.digest(data);
    let certificate = &pki.seal.certificate.der;
    let cms = sign_detached_with(
        DigestAlgorithm::Sha384,
        &digest,
        &*pki.seal.signer,
        certificate,
        &[],
    )
    .expect("sign");
    let parsed = parse(&cms).expect("parse");
    assert_eq!(parsed.signature_algorithm, oid::ECDSA_WITH_SHA384);
    assert_eq!(parsed.digest_algorithm, oid::SHA384);
    parsed.verify_signature(certificate).expect("verifies");
    let refused = sign_detached(&sha256(data), &*pki.seal.signer, certificate, &[]);
    assert!(matches!(refused, Err(CmsError::DigestMismatch { .. })));
}

#[test]
fn garbage_is_an_error_not_a_panic() {
    for input in [&b""[..], b"\x30\x00", b"\x30\x80\x00\x00", &[0xff; 64]] {
        assert!(parse(input).is_err());
        assert!(signature_value(input).is_err());
    }
}

#[test]
fn openssl_verifies_the_detached_signature() {
    if !tool_available("openssl_verifies_the_detached_signature", "openssl") {
        return;
    }
    let pki = TestPki::new(KeyAlgorithm::EcdsaP256);
    let dir = tempfile::tempdir().expect("tempdir");
    let data = random_bytes(4096);
    let cms = sign_test_content(&pki, &data);
    std::fs::write(dir.path().join("sig.der"), &cms).expect("write");
    std::fs::write(dir.path().join("data.bin"), &data).expect("write");
    std::fs::write(dir.path().join("root.pem"), pki.root.certificate.pem()).expect("write");
    let mut flipped = data.clone();
    flipped[100] ^= 0x01;
    std::fs::write(dir.path().join("flipped.bin"), &flipped).expect("write");

    let verify = |content: &str| {
        openssl(
            dir.path(),
            &[
                "cms",
                "-verify",
                "-binary",
                "-inform",
                "DER",
                "-in",
                "sig.der",
                "-content",
                content,
                "-CAfile",
                "root.pem",
                "-purpose",
                "any",
                "-out",
                "/dev/null",
            ],
        )
    };
    let good = verify("data.bin");
    assert!(good.status.success(), "openssl rejected: {}", text(&good));
    let bad = verify("flipped.bin");
    assert!(!bad.status.success(), "openssl accepted altered content");

    let print = openssl(
        dir.path(),
        &[
            "cms", "-cmsout", "-print", "-inform", "DER", "-in", "sig.der",
        ],
    );
    let printed = text(&print);
    assert!(print.status.success(), "{printed}");
    assert!(printed.contains("messageDigest"), "{printed}");
    assert!(
        printed.contains("id-smime-aa-signingCertificateV2"),
        "{printed}"
    );
    assert!(
        !printed.contains("signingTime"),
        "signing-time present: {printed}"
    );
}

#[test]
fn openssl_verifies_p384_signatures() {
    if !tool_available("openssl_verifies_p384_signatures", "openssl") {
        return;
    }
    let pki = TestPki::new(KeyAlgorithm::EcdsaP384);
    let dir = tempfile::tempdir().expect("tempdir");
    let data = random_bytes(512);
    let cms = sign_detached_with(
        DigestAlgorithm::Sha384,
        &DigestAlgorithm::Sha384.digest(&data),
        &*pki.seal.signer,
        &pki.seal.certificate.der,
        std::slice::from_ref(&pki.issuing.certificate.der),
    )
    .expect("sign");
    std::fs::write(dir.path().join("sig.der"), &cms).expect("write");
    std::fs::write(dir.path().join("data.bin"), &data).expect("write");
    std::fs::write(dir.path().join("root.pem"), pki.root.certificate.pem()).expect("write");
    let out = openssl(
        dir.path(),
        &[
            "cms",
            "-verify",
            "-binary",
            "-inform",
            "DER",
            "-in",
            "sig.der",
            "-content",
            "data.bin",
            "-CAfile",
            "root.pem",
            "-purpose",
            "any",
            "-out",
            "/dev/null",
        ],
    );
    assert!(out.status.success(), "openssl rejected: {}", text(&out));
}
