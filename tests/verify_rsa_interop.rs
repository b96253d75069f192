//! RSA signatures and time-stamps made by tools govseal did not write verify
//! TOTAL-PASSED against a trust store holding their root: OpenSSL's TSA
//! (`openssl ts -reply`: plain `rsaEncryption` as the signature algorithm
//! and ESS signing-certificate v1, RFC 3161 §2.4.2) for signature and
//! document time-stamps, and pyHanko signing with an RSA key. Skipped
//! visibly when a tool is missing (see `common::interop`).

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::interop::available;
use common::rcgen_pki::TestPki;
use common::stamping::plain_pdf;
use govseal::cms::{EssAttribute, oid};
use govseal::pades::TimeStamper;
use govseal::verify::{Indication, Report, TrustStore, verify_pdf};
use time::OffsetDateTime;

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("run tool");
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn openssl(dir: &Path, args: &[&str]) {
    run(Command::new("openssl").current_dir(dir).args(args));
}

/// An RSA key and a certificate for it, issued by `root` (or self-signed
/// when `root` is None) with the extensions in `ext`; `pss` has the root
/// sign it with RSASSA-PSS (SHA-256, MGF1-SHA-256, 32-octet salt).
fn rsa_certificate(d: &Path, name: &str, bits: &str, root: Option<&str>, ext: &str, pss: bool) {
    openssl(
        d,
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            &format!("rsa_keygen_bits:{bits}"),
            "-out",
            &format!("{name}.key"),
        ],
    );
    std::fs::write(d.join(format!("{name}.ext")), ext).unwrap();
    let subject = format!("/O=Foreign RSA Authority/CN=OpenSSL {name}");
    let (key, cert, ext) = (
        format!("{name}.key"),
        format!("{name}.pem"),
        format!("{name}.ext"),
    );
    match root {
        None => openssl(
            d,
            &[
                "req",
                "-x509",
                "-new",
                "-subj",
                &subject,
                "-days",
                "30",
                "-key",
                &key,
                "-sha384",
                "-extensions",
                "v3",
                "-config",
                &ext,
                "-out",
                &cert,
            ],
        ),
        Some(root) => {
            let csr = format!("{name}.csr");
            openssl(
                d,
                &["req", "-new", "-subj", &subject, "-key", &key, "-out", &csr],
            );
            let (serial, root_pem, root_key) = (
                format!("0x{}", hex::encode(name)),
                format!("{root}.pem"),
                format!("{root}.key"),
            );
            let mut args: Vec<&str> = vec![
                "x509",
                "-req",
                "-days",
                "30",
                "-sha256",
                "-set_serial",
                &serial,
                "-in",
                &csr,
                "-CA",
                &root_pem,
                "-CAkey",
                &root_key,
                "-extfile",
                &ext,
                "-extensions",
                "v3",
                "-out",
                &cert,
            ];
            if pss {
                args.extend([
                    "-sigopt",
                    "rsa_padding_mode:pss",
                    "-sigopt",
                    "rsa_pss_saltlen:digest",
                ]);
            }
            openssl(d, &args);
        }
    }
}

/// An OpenSSL RSA PKI in `d`: root (RSA-3072, SHA-384), signer (RSA-2048,
/// certificate signed with RSASSA-PSS) and TSA (RSA-2048), the root's CRL,
/// and `bundle/` with the root and CRL.
fn openssl_rsa_pki(d: &Path) {
    let v3 = |lines: &str| {
        format!("[req]\ndistinguished_name = dn\n[dn]\n[v3]\nsubjectKeyIdentifier = hash\n{lines}")
    };
    rsa_certificate(
        d,
        "root",
        "3072",
        None,
        &v3("basicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign\n"),
        false,
    );
    rsa_certificate(
        d,
        "signer",
        "2048",
        Some("root"),
        &v3(
            "basicConstraints = CA:FALSE\nkeyUsage = critical,digitalSignature,nonRepudiation\n\
             authorityKeyIdentifier = keyid\n",
        ),
        true,
    );
    rsa_certificate(
        d,
        "tsa",
        "2048",
        Some("root"),
        &v3(
            "basicConstraints = CA:FALSE\nkeyUsage = critical,digitalSignature,nonRepudiation\n\
             extendedKeyUsage = critical,timeStamping\nauthorityKeyIdentifier = keyid\n",
        ),
        false,
    );
    std::fs::write(
        d.join("ca.cnf"),
        "[ca]\ndefault_ca = c\n[c]\ndatabase = index.txt\ncrlnumber = crlnumber\n\
         default_md = sha256\ndefault_crl_days = 30\n",
    )
    .unwrap();
    std::fs::write(d.join("index.txt"), "").unwrap();
    std::fs::write(d.join("crlnumber"), "01\n").unwrap();
    openssl(
        d,
        &[
            "ca",
            "-config",
            "ca.cnf",
            "-gencrl",
            "-keyfile",
            "root.key",
            "-cert",
            "root.pem",
            "-out",
            "root.crl.pem",
        ],
    );
    std::fs::create_dir_all(d.join("bundle/crl")).unwrap();
    std::fs::copy(d.join("root.pem"), d.join("bundle/root.pem")).unwrap();
    openssl(
        d,
        &[
            "crl",
            "-in",
            "root.crl.pem",
            "-outform",
            "DER",
            "-out",
            "bundle/crl/root.crl",
        ],
    );
    // The TSA's configuration (openssl-ts(1)): SHA-256, ESS v1 with SHA-1 as
    // OpenSSL writes by default.
    std::fs::write(
        d.join("tsa.cnf"),
        "[tsa]\ndefault_tsa = t\n[t]\nserial = tsaserial\ncrypto_device = builtin\n\
         signer_digest = sha256\ndefault_policy = 1.2.3.4.1\ndigests = sha256, sha384, sha512\n\
         accuracy = secs:1\nordering = no\ntsa_name = no\ness_cert_id_chain = no\n\
         ess_cert_id_alg = sha1\ncerts = root.pem\n",
    )
    .unwrap();
    std::fs::write(d.join("tsaserial"), "01\n").unwrap();
}

/// OpenSSL's `ts -reply` as govseal's [`TimeStamper`].
struct OpensslTsa {
    dir: PathBuf,
    count: AtomicUsize,
}

impl TimeStamper for OpensslTsa {
    fn timestamp(&self, sha256_digest: &[u8; 32]) -> Result<Vec<u8>, String> {
        let n = self.count.fetch_add(1, Ordering::SeqCst);
        let (query, token) = (format!("q{n}.tsq"), format!("t{n}.der"));
        openssl(
            &self.dir,
            &[
                "ts",
                "-query",
                "-digest",
                &hex::encode(sha256_digest),
                "-sha256",
                "-cert",
                "-no_nonce",
                "-out",
                &query,
            ],
        );
        openssl(
            &self.dir,
            &[
                "ts",
                "-reply",
                "-queryfile",
                &query,
                "-signer",
                "tsa.pem",
                "-inkey",
                "tsa.key",
                "-config",
                "tsa.cnf",
                "-token_out",
                "-out",
                &token,
            ],
        );
        std::fs::read(self.dir.join(token)).map_err(|e| e.to_string())
    }
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
