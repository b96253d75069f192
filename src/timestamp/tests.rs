use der::Decode;
use time::{Duration, OffsetDateTime};
use x509_parser::prelude::{FromDer, X509Certificate};

use super::*;
use crate::cms::test_pki::{TestPki, openssl, text, tool_available};
use crate::keystore::KeyAlgorithm;

const POLICY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.156.99999.1.3161");

fn authority(pki: &TestPki) -> TimeStampAuthority {
    TimeStampAuthority::new(
        pki.tsa.signer.clone(),
        pki.tsa.certificate.der.clone(),
        vec![pki.issuing.certificate.der.clone()],
        POLICY,
    )
    .expect("authority")
}

fn status_of(response_der: &[u8]) -> (PkiStatus, Option<FailureInfo>, bool) {
    let response = TimeStampResp::from_der(response_der).expect("a DER TimeStampResp");
    let fail = response
        .status
        .fail_info
        .as_ref()
        .and_then(FailureInfo::from_bit_string);
    (
        response.status.status,
        fail,
        response.time_stamp_token.is_some(),
    )
}

fn request(algorithm: ObjectIdentifier, hash: &[u8], cert_req: bool) -> Vec<u8> {
    der::Encode::to_der(&TimeStampReq {
        version: 1,
        message_imprint: MessageImprint {
            hash_algorithm: spki::AlgorithmIdentifierOwned {
                oid: algorithm,
                parameters: None,
            },
            hashed_message: der::asn1::OctetString::new(hash).expect("octets"),
        },
        req_policy: None,
        nonce: Some(der::asn1::Int::new(&[0x01, 0x02, 0x03]).expect("nonce")),
        cert_req,
        extensions: None,
    })
    .expect("encode request")
}

#[test]
fn tsa_certificate_has_the_rfc3161_profile() {
    let pki = TestPki::new(KeyAlgorithm::EcdsaP256);
    let (_, cert) = X509Certificate::from_der(&pki.tsa.certificate.der).expect("parse");
    let eku = cert
        .extended_key_usage()
        .expect("well-formed")
        .expect("EKU present");
    assert!(eku.critical, "RFC 3161 §2.3: EKU must be critical");
    assert!(eku.value.time_stamping);
    assert!(!eku.value.server_auth && !eku.value.client_auth && eku.value.other.is_empty());
    let ku = cert.key_usage().expect("well-formed").expect("KU present");
    assert!(ku.value.digital_signature() && ku.value.non_repudiation());
}

#[test]
fn a_token_says_what_was_asked_and_verifies() {
    let pki = TestPki::new(KeyAlgorithm::EcdsaP256);
    let tsa = authority(&pki);
    let hash = DigestAlgorithm::Sha384.digest(b"document");
    let now = OffsetDateTime::now_utc();
    let token = tsa
        .stamp(cms::oid::SHA384, &hash, Some(&[0x00, 0xff]), true, now)
        .expect("stamp");
    let info = parse_token(&token).expect("parse");
    assert_eq!(info.gen_time.unix_timestamp(), now.unix_timestamp());
    assert_eq!(info.hash_algorithm, cms::oid::SHA384);
    assert_eq!(info.hashed_message, hash);
    assert_eq!(info.policy, POLICY);
    assert_eq!(info.nonce.as_deref(), Some(&[0x00, 0xff][..]));
    assert_eq!(info.accuracy, Some(Duration::seconds(1)));
    assert!(!info.serial.is_empty() && info.serial.len() <= 20 && info.serial[0] < 0x80);
    assert_eq!(info.certificates.len(), 2);
    assert!(info.certificates.contains(&pki.tsa.certificate.der));
    assert!(!info.signed_data.has_signing_time);
    info.verify_signature(&pki.tsa.certificate.der)
        .expect("verifies");
    assert!(info.verify_signature(&pki.seal.certificate.der).is_err());

    let bare = tsa
        .stamp(cms::oid::SHA384, &hash, None, false, now)
        .expect("stamp");
    let bare = parse_token(&bare).expect("parse");
    assert!(bare.certificates.is_empty() && bare.nonce.is_none());
    assert_ne!(bare.serial, info.serial, "serials are unique");
}

#[test]
fn stamping_refuses_bad_imprints_and_foreign_certificates() {
    let pki = TestPki::new(KeyAlgorithm::EcdsaP256);
    let tsa = authority(&pki);
    let now = OffsetDateTime::now_utc();
    let sha1 = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
    assert!(matches!(
        tsa.stamp(sha1, &[0; 20], None, false, now),
        Err(TimestampError::UnsupportedHash(_))
    ));
    assert!(matches!(
        tsa.stamp(cms::oid::SHA256, &[0; 31], None, false, now),
        Err(TimestampError::ImprintLength { .. })
    ));
    let mismatch = TimeStampAuthority::new(
        pki.seal.signer.clone(),
        pki.tsa.certificate.der.clone(),
        vec![],
        POLICY,
    );
    assert!(matches!(mismatch, Err(TimestampError::KeyMismatch)));
}

#[test]
fn responses_grant_or_reject_and_never_panic() {
    let pki = TestPki::new(KeyAlgorithm::EcdsaP256);
    let tsa = authority(&pki);
    let sha256 = DigestAlgorithm::Sha256.digest(b"x");
    let granted = tsa.respond(&request(cms::oid::SHA256, &sha256, true));
    assert_eq!(status_of(&granted), (PkiStatus::Granted, None, true));

    let cases: [(Vec<u8>, FailureInfo); 5] = [
        (b"not a request".to_vec(), FailureInfo::BadDataFormat),
        (Vec::new(), FailureInfo::BadDataFormat),
        (
            request(
                ObjectIdentifier::new_unwrap("1.3.14.3.2.26"),
                &[0; 20],
                false,
            ),
            FailureInfo::BadAlg,
        ),
        (
            request(cms::oid::SHA512, &sha256, false),
            FailureInfo::BadDataFormat,
        ),
        (
            {
                let mut req = TimeStampReq::from_der(&request(cms::oid::SHA256, &sha256, false))
                    .expect("decode");
                req.req_policy = Some(ObjectIdentifier::new_unwrap("1.2.3.4"));
                der::Encode::to_der(&req).expect("encode")
            },
            FailureInfo::UnacceptedPolicy,
        ),
    ];
    for (req, expected) in cases {
        assert_eq!(
            status_of(&tsa.respond(&req)),
            (PkiStatus::Rejection, Some(expected), false)
        );
    }
}

#[test]
fn a_signature_timestamp_makes_pades_b_t() {
    let pki = TestPki::new(KeyAlgorithm::EcdsaP256);
    let tsa = authority(&pki);
    let digest: [u8; 32] = ring::digest::digest(&ring::digest::SHA256, b"pdf byte ranges")
        .as_ref()
        .try_into()
        .expect("32 bytes");
    let cms_der = cms::sign_detached(
        &digest,
        &*pki.seal.signer,
        &pki.seal.certificate.der,
        std::slice::from_ref(&pki.issuing.certificate.der),
    )
    .expect("sign");
    let imprint = DigestAlgorithm::Sha256.digest(&cms::signature_value(&cms_der).expect("value"));
    let token = tsa
        .stamp(
            cms::oid::SHA256,
            &imprint,
            None,
            true,
            OffsetDateTime::now_utc(),
        )
        .expect("stamp");
    let b_t = cms::add_signature_timestamp(&cms_der, &token).expect("add");

    let parsed = cms::parse(&b_t).expect("parse");
    let embedded = parsed.timestamp_token.as_deref().expect("token embedded");
    let info = parse_token(embedded).expect("token parses");
    assert_eq!(
        info.hashed_message,
        DigestAlgorithm::Sha256.digest(&parsed.signature)
    );
    info.verify_signature(&pki.tsa.certificate.der)
        .expect("token verifies");
    parsed
        .verify_signature(&pki.seal.certificate.der)
        .expect("signature intact");
}

#[test]
fn openssl_ts_verifies_our_responses() {
    if !tool_available("openssl_ts_verifies_our_responses", "openssl") {
        return;
    }
    let pki = TestPki::new(KeyAlgorithm::EcdsaP256);
    let tsa = authority(&pki);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path();
    std::fs::write(path.join("data.bin"), b"approval notice 2026-001").expect("write");
    std::fs::write(path.join("other.bin"), b"approval notice 2026-002").expect("write");
    std::fs::write(path.join("root.pem"), pki.root.certificate.pem()).expect("write");
    let untrusted = pki.tsa.certificate.pem() + &pki.issuing.certificate.pem();
    std::fs::write(path.join("untrusted.pem"), untrusted).expect("write");

    let query = openssl(
        path,
        &[
            "ts", "-query", "-data", "data.bin", "-sha256", "-cert", "-out", "req.tsq",
        ],
    );
    assert!(query.status.success(), "{}", text(&query));
    let request = std::fs::read(path.join("req.tsq")).expect("read query");
    std::fs::write(path.join("resp.tsr"), tsa.respond(&request)).expect("write");

    let reply = openssl(path, &["ts", "-reply", "-in", "resp.tsr", "-text"]);
    assert!(
        text(&reply).contains("Status: Granted."),
        "{}",
        text(&reply)
    );

    let verify = |args: &[&str]| {
        let mut all = vec!["ts", "-verify", "-in", "resp.tsr"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["-CAfile", "root.pem", "-untrusted", "untrusted.pem"]);
        openssl(path, &all)
    };
    let ok = verify(&["-data", "data.bin"]);
    assert!(text(&ok).contains("Verification: OK"), "{}", text(&ok));
    let with_nonce = verify(&["-queryfile", "req.tsq"]);
    assert!(
        text(&with_nonce).contains("Verification: OK"),
        "{}",
        text(&with_nonce)
    );
    let other = verify(&["-data", "other.bin"]);
    assert!(
        !other.status.success(),
        "other data verified: {}",
        text(&other)
    );
    assert!(!text(&other).contains("Verification: OK"));

    // A SHA-1 query is refused with badAlg, as `openssl ts -reply` reports it.
    let sha1 = openssl(
        path,
        &[
            "ts", "-query", "-data", "data.bin", "-sha1", "-out", "sha1.tsq",
        ],
    );
    assert!(sha1.status.success(), "{}", text(&sha1));
    let request = std::fs::read(path.join("sha1.tsq")).expect("read query");
    std::fs::write(path.join("sha1.tsr"), tsa.respond(&request)).expect("write");
    let reply = openssl(path, &["ts", "-reply", "-in", "sha1.tsr", "-text"]);
    let printed = text(&reply);
    assert!(printed.contains("Status: Rejected"), "{printed}");
    assert!(
        printed.contains("unrecognized or unsupported algorithm"),
        "{printed}"
    );
}

#[test]
fn openssl_verifies_a_b_t_signature_and_its_embedded_token() {
    if !tool_available(
        "openssl_verifies_a_b_t_signature_and_its_embedded_token",
        "openssl",
    ) {
        return;
    }
    let pki = TestPki::new(KeyAlgorithm::EcdsaP256);
    let tsa = authority(&pki);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path();
    let data = b"stamped approval, byte ranges".to_vec();
    let digest: [u8; 32] = ring::digest::digest(&ring::digest::SHA256, &data)
        .as_ref()
        .try_into()
        .expect("32 bytes");
    let cms_der = cms::sign_detached(
        &digest,
        &*pki.seal.signer,
        &pki.seal.certificate.der,
        std::slice::from_ref(&pki.issuing.certificate.der),
    )
    .expect("sign");
    let imprint = DigestAlgorithm::Sha256.digest(&cms::signature_value(&cms_der).expect("value"));
    let token = tsa
        .stamp(
            cms::oid::SHA256,
            &imprint,
            None,
            true,
            OffsetDateTime::now_utc(),
        )
        .expect("stamp");
    let b_t = cms::add_signature_timestamp(&cms_der, &token).expect("add");
    let embedded = cms::parse(&b_t)
        .expect("parse")
        .timestamp_token
        .expect("token");

    std::fs::write(path.join("sig.der"), &b_t).expect("write");
    std::fs::write(path.join("data.bin"), &data).expect("write");
    std::fs::write(path.join("token.der"), &embedded).expect("write");
    std::fs::write(path.join("root.pem"), pki.root.certificate.pem()).expect("write");
    let untrusted = pki.tsa.certificate.pem() + &pki.issuing.certificate.pem();
    std::fs::write(path.join("untrusted.pem"), untrusted).expect("write");

    let signature = openssl(
        path,
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
    assert!(signature.status.success(), "{}", text(&signature));

    let verify_token = |digest_hex: &str| {
        openssl(
            path,
            &[
                "ts",
                "-verify",
                "-in",
                "token.der",
                "-token_in",
                "-digest",
                digest_hex,
                "-CAfile",
                "root.pem",
                "-untrusted",
                "untrusted.pem",
            ],
        )
    };
    let ok = verify_token(&hex::encode(&imprint));
    assert!(text(&ok).contains("Verification: OK"), "{}", text(&ok));
    let wrong = verify_token(&hex::encode(DigestAlgorithm::Sha256.digest(b"other")));
    assert!(
        !text(&wrong).contains("Verification: OK"),
        "{}",
        text(&wrong)
    );
}

#[test]
fn tokens_stay_within_the_announced_bound() {
    for algorithm in [KeyAlgorithm::EcdsaP256, KeyAlgorithm::EcdsaP384] {
        let pki = TestPki::new(algorithm);
        let tsa = authority(&pki);
        let hash = DigestAlgorithm::Sha512.digest(b"document");
        let longest = (0..64)
            .map(|_| {
                tsa.stamp(
                    cms::oid::SHA512,
                    &hash,
                    None,
                    true,
                    OffsetDateTime::now_utc(),
                )
                .expect("stamp")
                .len()
            })
            .max()
            .unwrap_or(0);
        let bound = tsa.token_len_bound();
        assert!(longest <= bound, "{algorithm:?}: {longest} > {bound}");
        // A bound, not a guess: within three kilobytes of the real size.
        assert!(
            bound - longest <= 3072,
            "{algorithm:?}: {longest} ≪ {bound}"
        );
    }
}
