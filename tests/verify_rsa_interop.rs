//! RSA signatures and time-stamps made by tools govseal did not write verify
//! TOTAL-PASSED against a trust store holding their root: OpenSSL's TSA
//! (`openssl ts -reply`: plain `rsaEncryption` as the signature algorithm
//! and ESS signing-certificate v1, RFC 3161 §2.4.2) for signature and
//! document time-stamps, and pyHanko signing with an RSA key, PAdES B-T and
//! a document time-stamp through that TSA over HTTP (RFC 3161 §3.4).
//!
//! RSASSA-PSS as pyHanko (`--prefer-pss`) and `openssl cms -sign -keyopt
//! rsa_padding_mode:pss` make it, with the largest salt (222 octets for
//! RSA-2048 with SHA-256), verifies TOTAL-PASSED as pyHanko says INTACT; the
//! same signature altered is TOTAL-FAILED / SIG_CRYPTO_FAILURE; OpenSSL's
//! PSS with MGF1 over another hash than the message's, and a pyHanko DSA
//! signature, are INDETERMINATE / CRYPTO_CONSTRAINTS_FAILURE.
//! Skipped visibly when a tool is missing (see `common::interop`).

use crate::common;

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::interop::available;
use common::openssl_rsa::{OpensslTsa, http_tsa, openssl, openssl_rsa_pki, run};
use common::rcgen_pki::TestPki;
use common::stamping::plain_pdf;
use der::{Decode, Encode};
use govseal::cms::{DigestAlgorithm, EssAttribute, RsassaPssParams, oid};
use govseal::pdf::{SignatureKind, SignatureRequest};
use govseal::verify::{Indication, Report, SubIndication, TrustStore, verify_pdf};
use time::OffsetDateTime;

/// The hash, MGF1 hash and salt length of the RSASSA-PSS parameters of
/// signature `i` of `pdf` (RFC 4055 §3.1).
fn pss_parameters(pdf: &[u8], i: usize) -> (DigestAlgorithm, DigestAlgorithm, u32) {
    let cms = govseal::pdf::signatures(pdf).unwrap()[i].contents.clone();
    let parsed = govseal::cms::parse(&cms).unwrap();
    assert_eq!(parsed.signature_algorithm, oid::RSASSA_PSS);
    let params =
        RsassaPssParams::from_der(parsed.signature_parameters.as_deref().unwrap()).unwrap();
    let hash = params.hash_algorithm.unwrap().oid;
    let mgf = params.mask_gen_algorithm.unwrap();
    assert_eq!(mgf.oid, oid::MGF1);
    let mgf_hash =
        spki::AlgorithmIdentifierOwned::from_der(&mgf.parameters.unwrap().to_der().unwrap())
            .unwrap()
            .oid;
    assert_eq!(params.trailer_field.unwrap_or(1), 1);
    (
        DigestAlgorithm::from_oid(&hash).unwrap(),
        DigestAlgorithm::from_oid(&mgf_hash).unwrap(),
        params.salt_length.unwrap_or(20),
    )
}

/// `pdf` with one bit of the last octet of signature `i`'s signature value
/// flipped where it sits in `/Contents` (hex, either case).
fn flip_signature_bit(pdf: &[u8], i: usize) -> Vec<u8> {
    let cms = govseal::pdf::signatures(pdf).unwrap()[i].contents.clone();
    let value = govseal::cms::signature_value(&cms).unwrap();
    let tail = &value[value.len() - 16..];
    let mut out = pdf.to_vec();
    for hex in [hex::encode_upper(tail), hex::encode(tail)] {
        if let Some(at) = out.windows(hex.len()).position(|w| w == hex.as_bytes()) {
            // The low bit of the last hex digit: 0↔1, …, 8↔9, A↔B, …, E↔F.
            let last = at + hex.len() - 1;
            out[last] = match out[last] {
                c @ (b'0'..=b'9') => b'0' + ((c - b'0') ^ 1),
                c @ (b'a'..=b'f') => b'a' + ((c - b'a' + 10) ^ 1) - 10,
                c @ (b'A'..=b'F') => b'A' + ((c - b'A' + 10) ^ 1) - 10,
                c => panic!("not a hex digit: {c}"),
            };
            return out;
        }
    }
    panic!("the signature value is not in /Contents");
}

#[track_caller]
fn assert_forged(pdf: &[u8], bundle: &TrustStore) {
    let report = verify_pdf(pdf, bundle, OffsetDateTime::now_utc());
    assert_eq!(
        (
            report.signatures[0].indication,
            report.signatures[0].sub_indication
        ),
        (
            Indication::TotalFailed,
            Some(SubIndication::SigCryptoFailure)
        ),
        "{}",
        report.summary()
    );
    assert!(
        findings(&report, 0).contains("✓ the message digest matches"),
        "{}",
        findings(&report, 0)
    );
}

fn findings(report: &Report, i: usize) -> String {
    report.signatures[i].findings.join("\n")
}

#[track_caller]
fn assert_passed(report: &Report) {
    assert_eq!(
        report.indication,
        Indication::TotalPassed,
        "{}",
        report.summary()
    );
}

/// The token of signature `i`'s `/Contents` (a document time-stamp): it is
/// what OpenSSL writes, rsaEncryption and ESS v1.
fn assert_openssl_token(pdf: &[u8], i: usize, tsa_pem: &Path) {
    let token = govseal::pdf::signatures(pdf).unwrap()[i].contents.clone();
    let info = govseal::timestamp::parse_token(&token).unwrap();
    assert_eq!(info.signed_data.signature_algorithm, oid::RSA_ENCRYPTION);
    let pem = std::fs::read_to_string(tsa_pem).unwrap();
    let der = pem::parse(pem).unwrap().into_contents();
    assert_eq!(
        info.signed_data.check_signing_certificate(&der).unwrap(),
        vec![EssAttribute::V1]
    );
}

#[test]
fn openssl_rsa_time_stamps_validate_as_signature_and_document_time_stamps() {
    let test = "openssl_rsa_time_stamps_validate_as_signature_and_document_time_stamps";
    if !available(test, &["openssl"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    openssl_rsa_pki(d);
    let tsa = OpensslTsa {
        dir: d.to_path_buf(),
        count: AtomicUsize::new(0),
    };
    let seal = TestPki::new(&|_| {}, None);
    let signed = seal.sign(&plain_pdf("time-stamped by OpenSSL"), Some(&tsa));
    let pdf = govseal::pades::document_timestamp(&signed, "DocTimeStamp", Some(&tsa)).unwrap();
    assert_eq!(tsa.count.load(Ordering::SeqCst), 2);

    let store = seal.trusted_with(&TrustStore::load(&d.join("bundle")).unwrap());
    // genTime has one-second precision and may be this very second.
    let at = OffsetDateTime::now_utc() + time::Duration::seconds(1);
    let report = verify_pdf(&pdf, &store, at);
    assert_passed(&report);
    assert!(
        report.signatures[0]
            .timestamp
            .as_ref()
            .is_some_and(|t| t.valid),
        "{}",
        findings(&report, 0)
    );
    assert_eq!(report.signatures[1].kind, "document-timestamp");
    assert_openssl_token(&pdf, 1, &d.join("tsa.pem"));
}

#[test]
fn a_pyhanko_rsa_signature_under_an_openssl_rsa_root_validates() {
    let test = "a_pyhanko_rsa_signature_under_an_openssl_rsa_root_validates";
    if !available(test, &["openssl", "pyhanko"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    openssl_rsa_pki(d);
    std::fs::write(d.join("plain.pdf"), plain_pdf("signed by pyHanko with RSA")).unwrap();
    run(Command::new("pyhanko").current_dir(d).args([
        "sign",
        "addsig",
        "--field",
        "1/100,600,250,750/RsaSignature",
        "pemder",
        "--no-pass",
        "--key",
        "signer.key",
        "--cert",
        "signer.pem",
        "plain.pdf",
        "signed.pdf",
    ]));
    let signed = std::fs::read(d.join("signed.pdf")).unwrap();
    let bundle = TrustStore::load(&d.join("bundle")).unwrap();
    let report = verify_pdf(&signed, &bundle, OffsetDateTime::now_utc());
    assert_passed(&report);
    let signer = report.signatures[0].signer.as_ref().expect("signer");
    assert_eq!(signer.common_name.as_deref(), Some("OpenSSL signer"));
    let cms = govseal::pdf::signatures(&signed).unwrap()[0]
        .contents
        .clone();
    let algorithm = govseal::cms::parse(&cms).unwrap().signature_algorithm;
    assert!(
        [oid::SHA256_WITH_RSA, oid::RSA_ENCRYPTION].contains(&algorithm),
        "pyHanko signed with {algorithm}"
    );

    // OpenSSL's TSA adds a document time-stamp over pyHanko's signature.
    let tsa = OpensslTsa {
        dir: d.to_path_buf(),
        count: AtomicUsize::new(0),
    };
    let pdf = govseal::pades::document_timestamp(&signed, "DocTimeStamp", Some(&tsa)).unwrap();
    let at = OffsetDateTime::now_utc() + time::Duration::seconds(1);
    let report = verify_pdf(&pdf, &bundle, at);
    assert_passed(&report);
    assert_eq!(report.signatures.len(), 2);
    assert_openssl_token(&pdf, 1, &d.join("tsa.pem"));
}

#[test]
fn pyhanko_b_t_and_a_pyhanko_document_time_stamp_from_an_openssl_rsa_tsa_validate() {
    let test = "pyhanko_b_t_and_a_pyhanko_document_time_stamp_from_an_openssl_rsa_tsa_validate";
    if !available(test, &["openssl", "pyhanko"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    openssl_rsa_pki(d);
    let url = http_tsa(d);
    std::fs::write(d.join("plain.pdf"), plain_pdf("PAdES B-T by pyHanko")).unwrap();
    run(Command::new("pyhanko").current_dir(d).args([
        "sign",
        "addsig",
        "--use-pades",
        "--timestamp-url",
        &url,
        "--field",
        "1/100,600,250,750/RsaSignature",
        "pemder",
        "--no-pass",
        "--key",
        "signer.key",
        "--cert",
        "signer.pem",
        "plain.pdf",
        "b-t.pdf",
    ]));
    run(Command::new("pyhanko").current_dir(d).args([
        "sign",
        "timestamp",
        "--trust-replace",
        "--trust",
        "root.pem",
        "--timestamp-url",
        &url,
        "b-t.pdf",
        "stamped.pdf",
    ]));
    let pdf = std::fs::read(d.join("stamped.pdf")).unwrap();
    let bundle = TrustStore::load(&d.join("bundle")).unwrap();
    let at = OffsetDateTime::now_utc() + time::Duration::seconds(1);
    let report = verify_pdf(&pdf, &bundle, at);
    assert_passed(&report);
    assert_eq!(report.signatures.len(), 2, "{}", report.summary());
    assert_eq!(
        report.signatures[0].sub_filter.as_deref(),
        Some("ETSI.CAdES.detached")
    );
    assert!(
        report.signatures[0]
            .timestamp
            .as_ref()
            .is_some_and(|t| t.valid),
        "{}",
        findings(&report, 0)
    );
    assert_eq!(report.signatures[1].kind, "document-timestamp");
    assert_openssl_token(&pdf, 1, &d.join("tsa.pem"));
}

#[test]
fn a_pyhanko_pss_signature_with_the_largest_salt_validates() {
    let test = "a_pyhanko_pss_signature_with_the_largest_salt_validates";
    if !available(test, &["openssl", "pyhanko"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    openssl_rsa_pki(d);
    std::fs::write(d.join("plain.pdf"), plain_pdf("RSASSA-PSS by pyHanko")).unwrap();
    run(Command::new("pyhanko").current_dir(d).args([
        "sign",
        "addsig",
        "--prefer-pss",
        "--field",
        "RsaSignature",
        "pemder",
        "--no-pass",
        "--key",
        "signer.key",
        "--cert",
        "signer.pem",
        "plain.pdf",
        "signed.pdf",
    ]));
    let pdf = std::fs::read(d.join("signed.pdf")).unwrap();
    let bundle = TrustStore::load(&d.join("bundle")).unwrap();
    let report = verify_pdf(&pdf, &bundle, OffsetDateTime::now_utc());
    assert_passed(&report);
    // The largest salt, which ring alone cannot verify.
    assert_eq!(
        pss_parameters(&pdf, 0),
        (DigestAlgorithm::Sha256, DigestAlgorithm::Sha256, 222)
    );
    assert_forged(&flip_signature_bit(&pdf, 0), &bundle);

    // pyHanko agrees: the signature is intact.
    let out = Command::new("pyhanko")
        .current_dir(d)
        .args([
            "sign",
            "validate",
            "--trust-replace",
            "--trust",
            "root.pem",
            "signed.pdf",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("INTACT"), "{text}");
}

#[test]
fn a_pyhanko_dsa_signature_is_indeterminate_not_forged() {
    let test = "a_pyhanko_dsa_signature_is_indeterminate_not_forged";
    if !available(test, &["openssl", "pyhanko"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    openssl(
        d,
        &[
            "genpkey",
            "-genparam",
            "-algorithm",
            "DSA",
            "-pkeyopt",
            "dsa_paramgen_bits:2048",
            "-out",
            "dsa.params",
        ],
    );
    openssl(
        d,
        &["genpkey", "-paramfile", "dsa.params", "-out", "dsa.key"],
    );
    openssl(
        d,
        &[
            "req",
            "-x509",
            "-new",
            "-key",
            "dsa.key",
            "-subj",
            "/CN=DSA signer",
            "-days",
            "2",
            "-sha256",
            "-out",
            "dsa.pem",
        ],
    );
    std::fs::write(d.join("plain.pdf"), plain_pdf("DSA by pyHanko")).unwrap();
    run(Command::new("pyhanko").current_dir(d).args([
        "sign",
        "addsig",
        "--field",
        "DsaSignature",
        "pemder",
        "--no-pass",
        "--key",
        "dsa.key",
        "--cert",
        "dsa.pem",
        "plain.pdf",
        "signed.pdf",
    ]));
    let pdf = std::fs::read(d.join("signed.pdf")).unwrap();
    let pem = std::fs::read_to_string(d.join("dsa.pem")).unwrap();
    let root = pem::parse(pem).unwrap().into_contents();
    let store = TrustStore::from_parts(vec![root], Vec::new(), Vec::new());
    let report = verify_pdf(&pdf, &store, OffsetDateTime::now_utc());
    assert_eq!(
        (
            report.signatures[0].indication,
            report.signatures[0].sub_indication
        ),
        (
            Indication::Indeterminate,
            Some(SubIndication::CryptoConstraintsFailure)
        ),
        "{}",
        report.summary()
    );
    // dsa-with-sha256 by a key of type id-dsa: both named.
    let found = findings(&report, 0);
    assert!(
        found.contains("2.16.840.1.101.3.4.3.2") && found.contains("1.2.840.10040.4.1"),
        "{found}"
    );
}

/// `plain` signed with `openssl cms -sign` and the `-keyopt`s given, by the
/// OpenSSL signer of [`openssl_rsa_pki`] in `d`, as a `/ETSI.CAdES.detached`
/// signature; `-cades` adds the signing-certificate-v2 attribute PAdES
/// requires. OpenSSL's CMS also carries a signing-time attribute (a note,
/// not a failure).
fn openssl_cms_signed(d: &Path, plain: &[u8], keyopts: &[&str]) -> Vec<u8> {
    let prepared = govseal::pdf::prepare(
        plain,
        &SignatureRequest::invisible(
            "OpensslSignature",
            SignatureKind::Cades,
            OffsetDateTime::now_utc(),
            16 * 1024,
        ),
    )
    .unwrap();
    std::fs::write(d.join("ranges.bin"), prepared.signed_data()).unwrap();
    let mut args = vec![
        "cms",
        "-sign",
        "-cades",
        "-binary",
        "-in",
        "ranges.bin",
        "-signer",
        "signer.pem",
        "-inkey",
        "signer.key",
        "-md",
        "sha256",
        "-outform",
        "DER",
        "-out",
        "cms.der",
    ];
    for keyopt in keyopts {
        args.extend(["-keyopt", keyopt]);
    }
    openssl(d, &args);
    prepared
        .finish(&std::fs::read(d.join("cms.der")).unwrap())
        .unwrap()
}

#[test]
fn an_openssl_cms_pss_signature_with_the_largest_salt_validates() {
    let test = "an_openssl_cms_pss_signature_with_the_largest_salt_validates";
    if !available(test, &["openssl"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    openssl_rsa_pki(d);
    let bundle = TrustStore::load(&d.join("bundle")).unwrap();
    let plain = plain_pdf("RSASSA-PSS by openssl cms");

    let pdf = openssl_cms_signed(d, &plain, &["rsa_padding_mode:pss"]);
    assert_eq!(
        pss_parameters(&pdf, 0),
        (DigestAlgorithm::Sha256, DigestAlgorithm::Sha256, 222)
    );
    let report = verify_pdf(&pdf, &bundle, OffsetDateTime::now_utc());
    assert_passed(&report);
    assert_eq!(
        report.signatures[0]
            .signer
            .as_ref()
            .and_then(|s| s.common_name.as_deref()),
        Some("OpenSSL signer")
    );
    assert_forged(&flip_signature_bit(&pdf, 0), &bundle);

    // A salt of 100 octets: any salt length the parameters state is honoured.
    let pdf = openssl_cms_signed(
        d,
        &plain,
        &[
            "rsa_padding_mode:pss",
            "rsa_pss_saltlen:100",
            "rsa_mgf1_md:sha256",
        ],
    );
    assert_eq!(
        pss_parameters(&pdf, 0),
        (DigestAlgorithm::Sha256, DigestAlgorithm::Sha256, 100)
    );
    assert_passed(&verify_pdf(&pdf, &bundle, OffsetDateTime::now_utc()));

    // MGF1 over SHA-384 for a SHA-256 signature: not verified, not forged.
    let pdf = openssl_cms_signed(d, &plain, &["rsa_padding_mode:pss", "rsa_mgf1_md:sha384"]);
    assert_eq!(
        pss_parameters(&pdf, 0),
        (DigestAlgorithm::Sha256, DigestAlgorithm::Sha384, 222)
    );
    let report = verify_pdf(&pdf, &bundle, OffsetDateTime::now_utc());
    assert_eq!(
        (
            report.signatures[0].indication,
            report.signatures[0].sub_indication
        ),
        (
            Indication::Indeterminate,
            Some(SubIndication::CryptoConstraintsFailure)
        ),
        "{}",
        report.summary()
    );
    let found = findings(&report, 0);
    assert!(
        found.contains("1.2.840.113549.1.1.10") && found.contains("MGF1"),
        "{found}"
    );
}
