//! RSA signatures and time-stamps made by tools govseal did not write verify
//! TOTAL-PASSED against a trust store holding their root: OpenSSL's TSA
//! (`openssl ts -reply`: plain `rsaEncryption` as the signature algorithm
//! and ESS signing-certificate v1, RFC 3161 §2.4.2) for signature and
//! document time-stamps, and pyHanko signing with an RSA key, PAdES B-T and
//! a document time-stamp through that TSA over HTTP (RFC 3161 §3.4).
//!
//! pyHanko's RSASSA-PSS (`--prefer-pss`) uses the largest salt (222 octets
//! for RSA-2048 with SHA-256), which ring cannot verify: govseal says
//! INDETERMINATE / CRYPTO_CONSTRAINTS_FAILURE and names the salt, where
//! pyHanko says INTACT; a pyHanko DSA signature is INDETERMINATE too.
//! Skipped visibly when a tool is missing (see `common::interop`).

use crate::common;

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::interop::available;
use common::openssl_rsa::{OpensslTsa, http_tsa, openssl, openssl_rsa_pki, run};
use common::rcgen_pki::TestPki;
use common::stamping::plain_pdf;
use govseal::cms::{EssAttribute, oid};
use govseal::verify::{Indication, Report, SubIndication, TrustStore, verify_pdf};
use time::OffsetDateTime;

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
fn a_pyhanko_pss_signature_with_the_largest_salt_is_indeterminate_not_forged() {
    let test = "a_pyhanko_pss_signature_with_the_largest_salt_is_indeterminate_not_forged";
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
    assert!(
        findings(&report, 0).contains("1.2.840.113549.1.1.10")
            && findings(&report, 0).contains("salt of 222 octets"),
        "{}",
        findings(&report, 0)
    );

    // pyHanko itself calls the signature intact: govseal makes no claim of forgery.
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
