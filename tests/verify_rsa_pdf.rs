//! Whole PDFs from other signers verify through `verify_pdf`: RSA signers
//! under an RSA root (the chain is really validated), RFC 3161 tokens from
//! RSA TSAs with `sha256WithRSAEncryption` or plain `rsaEncryption` and ESS
//! signing-certificate v1 or v2, as signature and as document time-stamps.
//! A tampered RSA signature is TOTAL-FAILED / SIG_CRYPTO_FAILURE; an
//! algorithm the verifier cannot check is INDETERMINATE /
//! CRYPTO_CONSTRAINTS_FAILURE (ETSI EN 319 102-1 §5.2.7) naming its OID,
//! never a forgery.

use crate::common;

use common::attacks::{find, sig};
use common::foreign_cms::{Ess, Scheme, flip_last_of, token, unsupported_algorithms};
use common::rcgen_pki::TestPki;
use common::rsa_pki::{RsaPki, sign_pdf};
use common::stamping::plain_pdf;
use govseal::cms::{DigestAlgorithm, EssAttribute, oid};
use govseal::pades::TimeStamper;
use govseal::verify::{Indication, Report, SubIndication, verify_pdf};
use time::OffsetDateTime;

use DigestAlgorithm::{Sha256, Sha384, Sha512};
use Indication::{Indeterminate, TotalFailed, TotalPassed};

fn findings(report: &Report, i: usize) -> String {
    report.signatures[i].findings.join("\n")
}

#[track_caller]
fn assert_passed(report: &Report) {
    assert_eq!(report.indication, TotalPassed, "{}", report.summary());
    for (i, s) in report.signatures.iter().enumerate() {
        assert_eq!(s.indication, TotalPassed, "{}", findings(report, i));
    }
}

#[test]
fn rsa_signed_pdfs_under_an_rsa_root_are_total_passed() {
    let pki = RsaPki::new();
    let store = pki.trust_store(None);
    let now = OffsetDateTime::now_utc();
    let cases = [
        // B-T: PKCS#1 SHA-256, time-stamped by an RSA TSA as OpenSSL does it
        // (rsaEncryption, ESS v1).
        (
            Scheme::Pkcs1,
            Sha256,
            Some((Scheme::RsaEncryption, Ess::V1)),
        ),
        (Scheme::Pss, Sha512, None),
        (
            Scheme::RsaEncryption,
            Sha384,
            Some((Scheme::Pkcs1, Ess::V2)),
        ),
    ];
    for (scheme, hash, tsa) in cases {
        let case = format!("{scheme:?} {hash:?} TSA {tsa:?}");
        let tsa = tsa.map(|(scheme, ess)| pki.tsa(scheme, ess));
        let pdf = sign_pdf(
            &plain_pdf("signed with RSA"),
            &pki.signing(scheme, hash),
            tsa.as_ref().map(|t| t as &dyn TimeStamper),
        );
        let report = verify_pdf(&pdf, &store, now);
        assert_passed(&report);
        let s = &report.signatures[0];
        assert_eq!(
            s.signer.as_ref().and_then(|p| p.common_name.as_deref()),
            Some("Foreign RSA Signer"),
            "{case}"
        );
        assert!(
            findings(&report, 0).contains("✓ certificate chain to a trust anchor valid"),
            "{case}: {}",
            findings(&report, 0)
        );
        match &tsa {
            Some(_) => {
                let ts = s.timestamp.as_ref().expect("a signature time-stamp");
                assert!(ts.valid, "{case}: {}", findings(&report, 0));
                assert!(ts.tsa.as_deref().unwrap().contains("Foreign RSA TSA"));
                assert!(
                    findings(&report, 0).contains("✓ signature time-stamp valid"),
                    "{case}: {}",
                    findings(&report, 0)
                );
            }
            None => assert!(s.timestamp.is_none()),
        }

        // The RSA chain is really checked: without its root there is none.
        let elsewhere = TestPki::new(&|_| {}, None);
        let report = verify_pdf(&pdf, &elsewhere.trusted_with(&store_without_roots()), now);
        assert_eq!(
            sig(&report, 0),
            (Indeterminate, Some(SubIndication::NoCertificateChainFound)),
            "{case}: {}",
            report.summary()
        );
    }
}

fn store_without_roots() -> govseal::verify::TrustStore {
    govseal::verify::TrustStore::from_parts(Vec::new(), Vec::new(), Vec::new())
}

/// `pdf` with the first signature's CMS replaced by `cms` of the same length
/// (it sits in `/Contents` as upper-case hex).
fn with_cms(pdf: &[u8], cms: &[u8]) -> Vec<u8> {
    let old = govseal::pdf::signatures(pdf).unwrap()[0].contents.clone();
    assert_eq!(old.len(), cms.len());
    let at = find(pdf, hex::encode_upper(&old).as_bytes());
    let mut out = pdf.to_vec();
    out[at..at + 2 * cms.len()].copy_from_slice(hex::encode_upper(cms).as_bytes());
    out
}

#[test]
fn a_tampered_rsa_signature_is_total_failed_sig_crypto_failure() {
    let pki = RsaPki::new();
    let pdf = sign_pdf(
        &plain_pdf("tampered"),
        &pki.signing(Scheme::Pss, Sha256),
        None,
    );
    let signature = govseal::pdf::signatures(&pdf).unwrap()[0].contents.clone();
    let value = govseal::cms::signature_value(&signature).unwrap();
    let altered = with_cms(&pdf, &flip_last_of(&signature, &value));

    let report = verify_pdf(&altered, &pki.trust_store(None), OffsetDateTime::now_utc());
    assert_eq!(
        sig(&report, 0),
        (TotalFailed, Some(SubIndication::SigCryptoFailure)),
        "{}",
        report.summary()
    );
    assert!(findings(&report, 0).contains("✓ the message digest matches"));
}

#[test]
fn an_unsupported_signature_algorithm_is_indeterminate_crypto_constraints_failure() {
    let pki = RsaPki::new();
    let store = pki.trust_store(None);
    for (what, algorithm, named) in unsupported_algorithms() {
        let mut signing = pki.signing(Scheme::Pkcs1, Sha256);
        signing.algorithm = algorithm;
        let pdf = sign_pdf(&plain_pdf(what), &signing, None);
        let report = verify_pdf(&pdf, &store, OffsetDateTime::now_utc());
        assert_eq!(
            sig(&report, 0),
            (Indeterminate, Some(SubIndication::CryptoConstraintsFailure)),
            "{what}: {}",
            report.summary()
        );
        assert_eq!(report.indication, Indeterminate, "{what}");
        assert!(
            report.signatures[0]
                .findings
                .iter()
                .any(|f| f.starts_with('✗') && f.contains(named)),
            "{what}: no finding names {named}:\n{}",
            findings(&report, 0)
        );
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(
            json["signatures"][0]["sub_indication"],
            "CRYPTO_CONSTRAINTS_FAILURE"
        );
    }
}

#[test]
fn an_unsupported_digest_algorithm_is_indeterminate_crypto_constraints_failure() {
    // SHA-224 in place of SHA-256 in digestAlgorithms and the SignerInfo:
    // the OIDs differ in their last octet only, so the DER stays valid.
    let pki = RsaPki::new();
    let pdf = sign_pdf(
        &plain_pdf("SHA-224"),
        &pki.signing(Scheme::Pkcs1, Sha256),
        None,
    );
    let cms = govseal::pdf::signatures(&pdf).unwrap()[0].contents.clone();
    let sha256 = [6, 9, 0x60, 0x86, 0x48, 1, 0x65, 3, 4, 2, 1];
    let mut sha224 = cms.clone();
    let mut replaced = 0;
    let mut at = 0;
    while let Some(i) = sha224[at..].windows(sha256.len()).position(|w| w == sha256) {
        at += i + sha256.len();
        sha224[at - 1] = 4;
        replaced += 1;
    }
    assert_eq!(replaced, 2, "digestAlgorithms and the SignerInfo");
    let report = verify_pdf(
        &with_cms(&pdf, &sha224),
        &pki.trust_store(None),
        OffsetDateTime::now_utc(),
    );
    assert_eq!(
        sig(&report, 0),
        (Indeterminate, Some(SubIndication::CryptoConstraintsFailure)),
        "{}",
        report.summary()
    );
    assert!(
        findings(&report, 0).contains("2.16.840.1.101.3.4.2.4"),
        "{}",
        findings(&report, 0)
    );
}

#[test]
fn rsa_tsa_tokens_validate_as_signature_and_document_time_stamps() {
    let rsa = RsaPki::new();
    let seal = TestPki::new(&|_| {}, None);
    let store = seal.trusted_with(&rsa.trust_store(None));
    for scheme in [Scheme::Pkcs1, Scheme::RsaEncryption] {
        for ess in [Ess::V1, Ess::V2] {
            let case = format!("{scheme:?} {ess:?}");
            let tsa = rsa.tsa(scheme, ess);
            // govseal's PAdES engine, an ECDSA seal, the RSA TSA's signature
            // time-stamp (B-T), then the RSA TSA's document time-stamp.
            let signed = seal.sign(&plain_pdf(&case), Some(&tsa));
            let pdf = govseal::pades::document_timestamp(
                &signed,
                "DocTimeStamp",
                Some(&tsa as &dyn TimeStamper),
            )
            .expect("document time-stamp");
            let report = verify_pdf(&pdf, &store, OffsetDateTime::now_utc());
            assert_eq!(report.signatures.len(), 2, "{case}");
            assert_passed(&report);
            let signature = &report.signatures[0];
            assert!(
                signature.timestamp.as_ref().is_some_and(|t| t.valid),
                "{case}: {}",
                findings(&report, 0)
            );
            assert!(findings(&report, 0).contains("✓ signature time-stamp valid"));
            let document = &report.signatures[1];
            assert_eq!(document.kind, "document-timestamp", "{case}");
            assert_eq!(
                document
                    .signer
                    .as_ref()
                    .and_then(|s| s.common_name.as_deref()),
                Some("Foreign RSA TSA"),
                "{case}"
            );
            assert!(
                findings(&report, 1).contains("✓ document time-stamp valid"),
                "{case}: {}",
                findings(&report, 1)
            );

            // What the token says about itself.
            let token = govseal::pdf::signatures(&pdf).unwrap()[1].contents.clone();
            let info = govseal::timestamp::parse_token(&token).unwrap();
            let expected = match scheme {
                Scheme::RsaEncryption => oid::RSA_ENCRYPTION,
                _ => oid::SHA256_WITH_RSA,
            };
            assert_eq!(info.signed_data.signature_algorithm, expected, "{case}");
            let named = info.signed_data.check_signing_certificate(rsa.tsa).unwrap();
            let expected = match ess {
                Ess::V1 => EssAttribute::V1,
                Ess::V2 => EssAttribute::V2,
            };
            assert_eq!(named, vec![expected], "{case}");
        }
    }
}

#[test]
fn a_token_whose_ess_attribute_names_another_certificate_is_refused() {
    let rsa = RsaPki::new();
    let seal = TestPki::new(&|_| {}, None);
    let store = seal.trusted_with(&rsa.trust_store(None));
    for ess in [Ess::V1, Ess::V2] {
        let mut tsa = rsa.tsa(Scheme::RsaEncryption, ess);
        tsa.0.ess_names = Some(rsa.signer.to_vec());

        let token_der = token(&tsa.0, &[7; 32], OffsetDateTime::now_utc());
        let info = govseal::timestamp::parse_token(&token_der).unwrap();
        let err = info.verify_signature(rsa.tsa).unwrap_err().to_string();
        assert!(err.contains("names another certificate"), "{ess:?}: {err}");

        let pdf = govseal::pades::document_timestamp(
            &seal.sign(&plain_pdf("stamped"), None),
            "DocTimeStamp",
            Some(&tsa as &dyn TimeStamper),
        )
        .unwrap();
        let report = verify_pdf(&pdf, &store, OffsetDateTime::now_utc());
        // (How the signature before it fares is the change model's business:
        // a later field whose value does not verify is not an allowed change.)
        assert_eq!(report.indication, TotalFailed, "{}", report.summary());
        assert_eq!(
            sig(&report, 1),
            (TotalFailed, Some(SubIndication::SigCryptoFailure)),
            "{ess:?}: {}",
            report.summary()
        );
        assert!(
            findings(&report, 1).contains("names another certificate"),
            "{}",
            findings(&report, 1)
        );
    }
}

#[test]
fn a_time_stamp_with_an_unsupported_algorithm_is_not_a_forgery() {
    let rsa = RsaPki::new();
    let seal = TestPki::new(&|_| {}, None);
    let store = seal.trusted_with(&rsa.trust_store(None));
    let mut tsa = rsa.tsa(Scheme::Pkcs1, Ess::V2);
    tsa.0.algorithm = unsupported_algorithms().remove(0).1;

    // As a document time-stamp: INDETERMINATE, naming the algorithm.
    let pdf = govseal::pades::document_timestamp(
        &seal.sign(&plain_pdf("stamped"), None),
        "DocTimeStamp",
        Some(&tsa as &dyn TimeStamper),
    )
    .unwrap();
    let report = verify_pdf(&pdf, &store, OffsetDateTime::now_utc());
    assert_eq!(
        sig(&report, 1),
        (Indeterminate, Some(SubIndication::CryptoConstraintsFailure)),
        "{}",
        report.summary()
    );
    assert!(findings(&report, 1).contains("1.3.6.1.4.1.99999.42"));

    // As a signature time-stamp it only gives no proof of existence.
    let pdf = seal.sign(&plain_pdf("time-stamped"), Some(&tsa));
    let report = verify_pdf(&pdf, &store, OffsetDateTime::now_utc());
    assert_passed(&report);
    assert!(
        findings(&report, 0).contains("not used as proof of existence")
            && findings(&report, 0).contains("1.3.6.1.4.1.99999.42"),
        "{}",
        findings(&report, 0)
    );
    assert!(!report.signatures[0].timestamp.as_ref().unwrap().valid);
}

#[test]
fn pss_naming_another_mgf1_hash_or_trailer_field_is_indeterminate() {
    // RFC 4055 §3.1 parameters this verifier does not check: MGF1 over
    // another hash than the message's, or a trailer field other than 1.
    let pki = RsaPki::new();
    let store = pki.trust_store(None);
    let id = |h: DigestAlgorithm| spki::AlgorithmIdentifierOwned {
        oid: h.oid(),
        parameters: Some(der::Any::null()),
    };
    for (mgf, trailer, named) in [(Sha512, None, "MGF1"), (Sha256, Some(2), "trailer")] {
        let params = govseal::cms::RsassaPssParams {
            hash_algorithm: Some(id(Sha256)),
            mask_gen_algorithm: Some(spki::AlgorithmIdentifierOwned {
                oid: oid::MGF1,
                parameters: Some(der::Any::encode_from(&id(mgf)).unwrap()),
            }),
            salt_length: Some(222),
            trailer_field: trailer,
        };
        let mut signing = pki.signing(Scheme::Pss, Sha256);
        signing.algorithm = spki::AlgorithmIdentifierOwned {
            oid: oid::RSASSA_PSS,
            parameters: Some(der::Any::encode_from(&params).unwrap()),
        };
        let pdf = sign_pdf(&plain_pdf(named), &signing, None);
        let report = verify_pdf(&pdf, &store, OffsetDateTime::now_utc());
        assert_eq!(
            sig(&report, 0),
            (Indeterminate, Some(SubIndication::CryptoConstraintsFailure)),
            "{named}: {}",
            report.summary()
        );
        let found = findings(&report, 0);
        assert!(
            found.contains("1.2.840.113549.1.1.10") && found.contains(named),
            "{found}"
        );
    }
}
