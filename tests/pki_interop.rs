//! Every certificate govseal issues passes OpenSSL's strict chain check and
//! pkilint's RFC 5280 lint (../shared/interop/check-cert.sh).

use crate::common;

use common::{interop, spawn_app};

#[tokio::test]
async fn root_issuing_tsa_and_department_certificates_pass_check_cert() {
    if !interop::available("check-cert", &["openssl", "lint_pkix_cert"]) {
        return;
    }
    let app = spawn_app().await;
    let d = app.create_department("福州市行政审批局").await;
    let certs = app.certs();
    let dept = certs.join("department.pem");
    std::fs::write(&dept, d["certificate_pem"].as_str().unwrap()).unwrap();
    let root = certs.join("root.pem");
    let issuing = certs.join("issuing-ca.pem");
    for leaf in [dept.as_path(), certs.join("tsa.pem").as_path()] {
        let (ok, out) = interop::run("check-cert.sh", &[leaf, &root, &issuing], &[]);
        assert!(ok, "check-cert.sh {}:\n{out}", leaf.display());
        assert!(out.contains("check-cert: PASS"), "{out}");
    }
    // The issuing CA itself, directly under the root.
    let (ok, out) = interop::run("check-cert.sh", &[&issuing, &root], &[]);
    assert!(ok, "check-cert.sh issuing CA:\n{out}");
    // The TSA certificate: EKU timeStamping only, critical (RFC 3161 §2.3).
    let out = std::process::Command::new("openssl")
        .args(["x509", "-noout", "-ext", "extendedKeyUsage", "-in"])
        .arg(certs.join("tsa.pem"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("critical") && text.contains("Time Stamping"),
        "{text}"
    );
}
