//! CMS signatures from other signers verify (RFC 5652 §5.6): RSA-2048/3072/
//! 4096 with RSASSA-PKCS1-v1_5 and RSASSA-PSS (RFC 8017 §8.2 / §8.1) over
//! SHA-256/384/512, named `shaNNNWithRSAEncryption`, plain `rsaEncryption`
//! or `id-RSASSA-PSS` (RFC 4055), and ECDSA with a hash other than its
//! curve's. Another key or an altered signature is a forgery; an algorithm
//! the verifier cannot check is unsupported, naming its OID.
//! `verify_rsa_pdf` takes the same signers through whole PDFs.

use crate::common;

use common::foreign_cms::{
    Ess, RsaKey, Scheme, Signing, flip_last_of, rsa_algorithm, signed_data, unsupported_algorithms,
};
use common::rsa_pki::self_signed;
use govseal::cms::{CmsError, DigestAlgorithm, EssAttribute, oid};
use spki::AlgorithmIdentifierOwned;

use DigestAlgorithm::{Sha256, Sha384, Sha512};

fn digest_of(data: &[u8], hash: DigestAlgorithm) -> Vec<u8> {
    hash.digest(data)
}

fn detached(signing: &Signing<'_>, data: &[u8]) -> Vec<u8> {
    signed_data(signing, oid::DATA, None, &digest_of(data, signing.digest))
}

#[test]
fn rsa_cms_signatures_verify_for_every_size_scheme_and_hash() {
    let keys: Vec<(usize, RsaKey)> = [2048, 3072, 4096]
        .into_iter()
        .map(|bits| (bits, RsaKey::fixture(bits)))
        .collect();
    let certs: Vec<Vec<u8>> = keys
        .iter()
        .map(|(bits, key)| self_signed(key, &format!("RSA-{bits}")))
        .collect();
    let data = b"the signed bytes of a PDF";
    let mut checked = 0;
    for (i, (bits, key)) in keys.iter().enumerate() {
        for scheme in [Scheme::Pkcs1, Scheme::RsaEncryption, Scheme::Pss] {
            for hash in [Sha256, Sha384, Sha512] {
                let case = format!("RSA-{bits} {scheme:?} {hash:?}");
                let cms = detached(&key.signing(scheme, hash, &certs[i]), data);
                let parsed = govseal::cms::parse(&cms).expect(&case);
                assert_eq!(
                    parsed.signature_algorithm,
                    rsa_algorithm(scheme, hash).oid,
                    "{case}"
                );
                assert_eq!(parsed.signature.len() * 8, *bits, "{case}");
                parsed
                    .verify_signature(&certs[i])
                    .unwrap_or_else(|e| panic!("{case}: {e}"));
                assert_eq!(
                    parsed.check_signing_certificate(&certs[i]).unwrap(),
                    vec![EssAttribute::V2],
                    "{case}"
                );

                // The same bytes under another key, and an altered signature, are forgeries.
                let other = &certs[(i + 1) % certs.len()];
                assert!(
                    matches!(
                        parsed.verify_signature(other),
                        Err(CmsError::BadSignature(_))
                    ),
                    "{case}: another key"
                );
                let altered = govseal::cms::parse(&flip_last_of(&cms, &parsed.signature)).unwrap();
                assert!(
                    matches!(
                        altered.verify_signature(&certs[i]),
                        Err(CmsError::BadSignature(_))
                    ),
                    "{case}: altered signature"
                );
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 27);
}

#[test]
fn pkcs1_and_pss_are_not_interchangeable() {
    // A PKCS#1 v1.5 signature labelled PSS (and the reverse) must not verify:
    // the verifier takes the padding from the algorithm identifier.
    let key = RsaKey::fixture(2048);
    let cert = self_signed(&key, "RSA-2048");
    for (made, named) in [(Scheme::Pkcs1, Scheme::Pss), (Scheme::Pss, Scheme::Pkcs1)] {
        let mut signing = key.signing(made, Sha256, &cert);
        signing.algorithm = rsa_algorithm(named, Sha256);
        let parsed = govseal::cms::parse(&detached(&signing, b"data")).unwrap();
        assert!(
            matches!(
                parsed.verify_signature(&cert),
                Err(CmsError::BadSignature(_))
            ),
            "{made:?} named {named:?}"
        );
    }
}

/// An ECDSA signature over `message` hashed with `hash`, by OpenSSL (ring
/// signs each curve with its own hash only).
fn openssl_ecdsa(key: &rcgen::KeyPair, hash: &str, message: &[u8]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("key.pem"), key.serialize_pem()).unwrap();
    std::fs::write(dir.path().join("message"), message).unwrap();
    let out = std::process::Command::new("openssl")
        .current_dir(dir.path())
        .args([
            "dgst", hash, "-sign", "key.pem", "-out", "sig.der", "message",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read(dir.path().join("sig.der")).unwrap()
}

#[test]
fn ecdsa_takes_its_curve_from_the_key_and_its_hash_from_the_algorithm() {
    let test = "ecdsa_takes_its_curve_from_the_key_and_its_hash_from_the_algorithm";
    if !common::interop::available(test, &["openssl"]) {
        return;
    }
    let cases = [
        (
            &rcgen::PKCS_ECDSA_P256_SHA256,
            "-sha384",
            oid::ECDSA_WITH_SHA384,
        ),
        (
            &rcgen::PKCS_ECDSA_P384_SHA384,
            "-sha256",
            oid::ECDSA_WITH_SHA256,
        ),
    ];
    for (curve, hash, algorithm) in cases {
        let key = rcgen::KeyPair::generate_for(curve).unwrap();
        let cert = rcgen::CertificateParams::default()
            .self_signed(&key)
            .unwrap()
            .der()
            .to_vec();
        let signing = Signing {
            certificate: &cert,
            certificates: vec![cert.clone()],
            digest: Sha256,
            algorithm: AlgorithmIdentifierOwned {
                oid: algorithm,
                parameters: None,
            },
            sign: Box::new(|m| openssl_ecdsa(&key, hash, m)),
            ess: Some(Ess::V2),
            ess_names: None,
        };
        let cms = detached(&signing, b"data");
        let parsed = govseal::cms::parse(&cms).unwrap();
        parsed
            .verify_signature(&cert)
            .unwrap_or_else(|e| panic!("{curve:?} with {algorithm}: {e}"));
        let altered = govseal::cms::parse(&flip_last_of(&cms, &parsed.signature)).unwrap();
        assert!(matches!(
            altered.verify_signature(&cert),
            Err(CmsError::BadSignature(_))
        ));

        // ecdsa-with-SHA512 is not one ring verifies: unsupported, not forged.
        let mut sha512 = signing;
        sha512.algorithm.oid = oid::ECDSA_WITH_SHA512;
        sha512.sign = Box::new(|m| openssl_ecdsa(&key, "-sha512", m));
        let parsed = govseal::cms::parse(&detached(&sha512, b"data")).unwrap();
        let err = parsed.verify_signature(&cert).unwrap_err();
        assert!(
            matches!(err, CmsError::UnsupportedAlgorithm { .. })
                && err.to_string().contains("1.2.840.10045.4.3.4"),
            "{err}"
        );
    }
}

#[test]
fn unsupported_algorithms_are_named_and_not_called_forgeries() {
    let key = RsaKey::fixture(2048);
    let cert = self_signed(&key, "RSA-2048");
    for (what, algorithm, named) in unsupported_algorithms() {
        let mut signing = key.signing(Scheme::Pkcs1, Sha256, &cert);
        signing.algorithm = algorithm;
        let parsed = govseal::cms::parse(&detached(&signing, b"data")).unwrap();
        match parsed.verify_signature(&cert) {
            Err(e @ CmsError::UnsupportedAlgorithm { .. }) => {
                assert!(e.to_string().contains(named), "{what}: {e}")
            }
            other => panic!("{what}: {other:?}"),
        }
    }
}

/// id-RSASSA-PSS for `hash` with MGF1 over `mgf`, a salt of `salt` octets
/// and trailer field `trailer` (RFC 4055 §3.1).
fn pss_algorithm(
    hash: DigestAlgorithm,
    mgf: DigestAlgorithm,
    salt: u32,
    trailer: Option<u32>,
) -> AlgorithmIdentifierOwned {
    let id = |h: DigestAlgorithm| AlgorithmIdentifierOwned {
        oid: h.oid(),
        parameters: Some(der::Any::null()),
    };
    let params = govseal::cms::RsassaPssParams {
        hash_algorithm: Some(id(hash)),
        mask_gen_algorithm: Some(AlgorithmIdentifierOwned {
            oid: oid::MGF1,
            parameters: Some(der::Any::encode_from(&id(mgf)).unwrap()),
        }),
        salt_length: Some(salt),
        trailer_field: trailer,
    };
    AlgorithmIdentifierOwned {
        oid: oid::RSASSA_PSS,
        parameters: Some(der::Any::encode_from(&params).unwrap()),
    }
}

#[test]
fn pss_parameters_that_misstate_the_salt_or_padding_are_forgeries() {
    // ring signs PSS with a salt as long as the hash; the parameters claim
    // another salt, so the RSASSA-PSS module checks it, and refuses it.
    let key = RsaKey::fixture(3072);
    let cert = self_signed(&key, "RSA-3072");
    for (made, hash, salt) in [
        (Scheme::Pss, Sha256, 0),
        (Scheme::Pss, Sha256, 31),
        (Scheme::Pss, Sha256, 33),
        (Scheme::Pss, Sha384, 334),
        (Scheme::Pss, Sha512, 20),
        (Scheme::Pss, Sha256, 100_000),
        (Scheme::Pkcs1, Sha256, 222),
    ] {
        let case = format!("{made:?} {hash:?} named with a salt of {salt}");
        let mut signing = key.signing(made, hash, &cert);
        signing.algorithm = pss_algorithm(hash, hash, salt, None);
        let parsed = govseal::cms::parse(&detached(&signing, b"data")).unwrap();
        match parsed.verify_signature(&cert) {
            Err(CmsError::BadSignature(why)) => assert!(why.contains("RFC 8017"), "{case}: {why}"),
            other => panic!("{case}: {other:?}"),
        }
    }
    // The salt it was made with still verifies, through ring.
    let mut signing = key.signing(Scheme::Pss, Sha384, &cert);
    signing.algorithm = pss_algorithm(Sha384, Sha384, 48, Some(1));
    let parsed = govseal::cms::parse(&detached(&signing, b"data")).unwrap();
    parsed.verify_signature(&cert).unwrap();
}

#[test]
fn pss_with_another_mgf1_hash_or_trailer_field_is_unsupported() {
    let key = RsaKey::fixture(2048);
    let cert = self_signed(&key, "RSA-2048");
    for (algorithm, why) in [
        (pss_algorithm(Sha256, Sha384, 222, None), "MGF1"),
        (pss_algorithm(Sha512, Sha256, 32, None), "MGF1"),
        (pss_algorithm(Sha256, Sha256, 222, Some(2)), "trailer"),
        (pss_algorithm(Sha256, Sha256, 32, Some(2)), "trailer"),
    ] {
        let mut signing = key.signing(Scheme::Pss, Sha256, &cert);
        signing.algorithm = algorithm;
        let parsed = govseal::cms::parse(&detached(&signing, b"data")).unwrap();
        match parsed.verify_signature(&cert) {
            Err(e @ CmsError::UnsupportedAlgorithm { .. }) => {
                let text = e.to_string();
                assert!(
                    text.contains("1.2.840.113549.1.1.10") && text.contains(why),
                    "{text}"
                );
            }
            other => panic!("{why}: {other:?}"),
        }
    }
}
