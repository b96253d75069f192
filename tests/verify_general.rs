//! The verifier is a general PAdES validator and judges revocation by proven
//! time (ETSI EN 319 102-1 §5.2.6, §5.5):
//!
//! - a PDF signed by pyHanko under a foreign OpenSSL root passes when that
//!   root (and its CRL) is the trust bundle, and fails to chain otherwise;
//! - a govseal seal revoked *after* a trusted signature time-stamp still
//!   passes, while a B-B signature (no proof of existence) by the same
//!   revoked seal does not.

use crate::common;

use std::path::Path;
use std::process::Command;

use common::attacks::stamped_at_level;
use common::interop::available;
use common::spawn_app;
use common::stamping::{department_with_seal, plain_pdf};
use govseal::verify::{Indication, SubIndication, TrustStore, verify_pdf};
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

/// A root CA with a CRL and a signer certificate, all by OpenSSL.
fn foreign_pki(d: &Path) {
    std::fs::write(
        d.join("leaf.ext"),
        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n",
    )
    .unwrap();
    for name in ["root", "signer"] {
        openssl(
            d,
            &[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-out",
                &format!("{name}.key"),
            ],
        );
    }
    openssl(
        d,
        &[
            "req",
            "-x509",
            "-new",
            "-subj",
            "/O=Foreign Authority/CN=Foreign Root",
            "-days",
            "30",
            "-key",
            "root.key",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
            "-addext",
            "subjectKeyIdentifier=hash",
            "-out",
            "root.pem",
        ],
    );
    openssl(
        d,
        &[
            "req",
            "-new",
            "-subj",
            "/O=Foreign Bank/CN=Foreign Signer",
            "-key",
            "signer.key",
            "-out",
            "signer.csr",
        ],
    );
    openssl(
        d,
        &[
            "x509",
            "-req",
            "-days",
            "30",
            "-set_serial",
            "4242",
            "-in",
            "signer.csr",
            "-CA",
            "root.pem",
            "-CAkey",
            "root.key",
            "-extfile",
            "leaf.ext",
            "-out",
            "signer.pem",
        ],
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
}

#[tokio::test]
async fn a_pyhanko_signature_under_a_foreign_root_validates() {
    if !available(
        "a_pyhanko_signature_under_a_foreign_root_validates",
        &["openssl", "pyhanko"],
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    foreign_pki(d);
    std::fs::write(
        d.join("plain.pdf"),
        plain_pdf("a contract signed elsewhere"),
    )
    .unwrap();
    run(Command::new("pyhanko").current_dir(d).args([
        "sign",
        "addsig",
        "--field",
        "1/100,600,250,750/BankSignature",
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
    let now = OffsetDateTime::now_utc();

    let foreign = TrustStore::load(&d.join("bundle")).expect("foreign bundle");
    let report = verify_pdf(&signed, &foreign, now);
    assert_eq!(
        report.indication,
        Indication::TotalPassed,
        "{}",
        report.summary()
    );
    assert_eq!(report.signatures.len(), 1);
    let signer = report.signatures[0].signer.as_ref().expect("signer");
    assert_eq!(signer.common_name.as_deref(), Some("Foreign Signer"));
    assert!(report.signatures[0].covers_whole_document);

    // The same file against govseal's own bundle: no chain to a trusted root.
    let app = spawn_app().await;
    let ours = TrustStore::load(&app.certs()).expect("govseal bundle");
    let report = verify_pdf(&signed, &ours, now);
    assert_eq!(report.indication, Indication::Indeterminate);
    assert_eq!(
        report.signatures[0].sub_indication,
        Some(SubIndication::NoCertificateChainFound),
        "{}",
        report.summary()
    );

    // And the CLI agrees, offline.
    let out = Command::new(env!("CARGO_BIN_EXE_govseal"))
        .arg("verify")
        .arg(d.join("signed.pdf"))
        .arg("--trust")
        .arg(d.join("bundle"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[tokio::test]
async fn a_seal_revoked_after_a_trusted_time_stamp_still_passes() {
    let app = spawn_app().await;
    let dept = department_with_seal(&app, "福州市自然资源和规划局").await;
    let mut signed = Vec::new();
    for (level, x) in [("B-LT", "100"), ("B-B", "300")] {
        let pdf = plain_pdf(&format!("signed at {level}"));
        signed.push(stamped_at_level(&app, &dept, pdf, x, level).await);
    }
    let before = TrustStore::load(&app.certs()).unwrap();
    let now = OffsetDateTime::now_utc();
    for pdf in &signed {
        let report = verify_pdf(pdf, &before, now);
        assert_eq!(
            report.indication,
            Indication::TotalPassed,
            "{}",
            report.summary()
        );
    }

    // Revocation strictly after the time-stamp's genTime (both have one-second precision).
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let r = app
        .post_owned(
            format!("/v1/seals/{}/revoke", dept.seal_id),
            dept.token.clone(),
        )
        .await;
    assert_eq!(r["status"], "revoked");
    let crl = app
        .get("/v1/crl/issuing-ca", None)
        .await
        .bytes()
        .await
        .unwrap();
    let work = tempfile::tempdir().unwrap();
    for name in ["root.pem", "issuing-ca.pem", "tsa.pem"] {
        std::fs::copy(app.certs().join(name), work.path().join(name)).unwrap();
    }
    std::fs::create_dir_all(work.path().join("crl")).unwrap();
    std::fs::copy(
        app.certs().join("crl/root.crl"),
        work.path().join("crl/root.crl"),
    )
    .unwrap();
    std::fs::write(work.path().join("crl/issuing-ca.crl"), &crl).unwrap();
    let after = TrustStore::load(work.path()).unwrap();
    let later = OffsetDateTime::now_utc() + time::Duration::seconds(1);

    let time_stamped = verify_pdf(&signed[0], &after, later);
    assert_eq!(
        time_stamped.indication,
        Indication::TotalPassed,
        "a trusted time-stamp before the revocation proves the signature existed: {}",
        time_stamped.summary()
    );
    assert!(time_stamped.signatures[0].timestamp.is_some());

    let bare = verify_pdf(&signed[1], &after, later);
    assert_ne!(
        bare.indication,
        Indication::TotalPassed,
        "{}",
        bare.summary()
    );
    assert!(
        matches!(
            bare.signatures[0].sub_indication,
            Some(SubIndication::RevokedNoPoe | SubIndication::Revoked)
        ),
        "{}",
        bare.summary()
    );
}
