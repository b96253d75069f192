//! Seals over HTTP: creation with a seal certificate, scoping, lifecycle.

use crate::common;

use common::{expect_error, interop, spawn_app};
use serde_json::{Value, json};

#[tokio::test]
async fn a_department_client_creates_and_manages_its_own_seals_only() {
    let app = spawn_app().await;
    let d = app.create_department("福州市行政审批局").await;
    let id = d["id"].as_str().unwrap();
    let other = app.create_department("福州市财政局").await;
    let manager = app.create_client(id, &["seals:manage", "stamp"]).await;
    let stamper = app.create_client(id, &["stamp"]).await;

    let r = app
        .post(
            "/v1/seals",
            Some(&manager),
            &json!({ "department_id": id, "type": "approval" }),
        )
        .await;
    assert_eq!(r.status(), 201);
    let seal: Value = r.json().await.unwrap();
    assert_eq!(seal["name"], "行政审批专用章");
    assert_eq!(seal["status"], "active");
    let code = seal["code"].as_str().unwrap();
    assert_eq!(code.len(), 13);
    assert!(code.chars().all(|c| c.is_ascii_digit()));
    let der = pem::parse(seal["certificate_pem"].as_str().unwrap())
        .unwrap()
        .into_contents();
    let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
    let ku = cert.key_usage().unwrap().unwrap().value;
    assert!(ku.digital_signature() && ku.non_repudiation());
    assert!(
        cert.subject().to_string().contains(code),
        "seal code in the subject serialNumber"
    );

    // Without seals:manage, or for another department: 403; unknown type: 422.
    expect_error(
        app.post(
            "/v1/seals",
            Some(&stamper),
            &json!({ "department_id": id, "type": "official" }),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    expect_error(
        app.post(
            "/v1/seals",
            Some(&manager),
            &json!({ "department_id": other["id"], "type": "official" }),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    expect_error(
        app.post(
            "/v1/seals",
            Some(&manager),
            &json!({ "department_id": id, "type": "round" }),
        )
        .await,
        422,
        "invalid_field",
    )
    .await;
    expect_error(
        app.post("/v1/seals", Some(&manager), &json!({ "department_id": id, "type": "official", "valid_until": "2020-01-01T00:00:00Z" })).await,
        422,
        "invalid_field",
    )
    .await;

    // Lifecycle: suspend → reinstate → revoke (terminal, onto the CRL).
    let sid = seal["id"].as_str().unwrap();
    let post = |path: String| app.post_owned(path, manager.clone());
    assert_eq!(
        post(format!("/v1/seals/{sid}/suspend")).await["status"],
        "suspended"
    );
    assert_eq!(
        post(format!("/v1/seals/{sid}/reinstate")).await["status"],
        "active"
    );
    assert_eq!(
        post(format!("/v1/seals/{sid}/revoke")).await["status"],
        "revoked"
    );
    expect_error(
        app.post(
            &format!("/v1/seals/{sid}/reinstate"),
            Some(&manager),
            &json!({}),
        )
        .await,
        409,
        "invalid_seal_state",
    )
    .await;
    let crl = app
        .get("/v1/crl/issuing-ca", None)
        .await
        .bytes()
        .await
        .unwrap();
    let (_, crl) = x509_parser::parse_x509_crl(&crl).unwrap();
    let serial = seal["certificate_serial"].as_str().unwrap();
    assert!(
        crl.iter_revoked_certificates()
            .any(|r| hex::encode(r.raw_serial()) == serial)
    );
}

#[tokio::test]
async fn seal_certificates_pass_check_cert() {
    if !interop::available("seal check-cert", &["openssl", "lint_pkix_cert"]) {
        return;
    }
    let app = spawn_app().await;
    let d = app.create_department("福州市市场监督管理局").await;
    let r = app
        .post(
            "/v1/seals",
            Some(&app.admin_token),
            &json!({ "department_id": d["id"], "type": "official" }),
        )
        .await;
    let seal: Value = r.json().await.unwrap();
    let leaf = app.certs().join("seal.pem");
    std::fs::write(&leaf, seal["certificate_pem"].as_str().unwrap()).unwrap();
    let (ok, out) = interop::run(
        "check-cert.sh",
        &[
            &leaf,
            &app.certs().join("root.pem"),
            &app.certs().join("issuing-ca.pem"),
        ],
        &[],
    );
    assert!(ok, "{out}");
}

#[tokio::test]
async fn the_appearance_preview_is_a_red_seal_in_svg_and_pdf() {
    let app = spawn_app().await;
    let d = app.create_department("福州市行政审批局").await;
    let r = app
        .post(
            "/v1/seals",
            Some(&app.admin_token),
            &json!({ "department_id": d["id"], "type": "approval" }),
        )
        .await;
    let seal: Value = r.json().await.unwrap();
    let sid = seal["id"].as_str().unwrap();
    let svg = app
        .get(
            &format!("/v1/seals/{sid}/appearance"),
            Some(&app.admin_token),
        )
        .await;
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    let svg = svg.text().await.unwrap();
    assert!(
        svg.starts_with("<svg") || svg.starts_with("<?xml"),
        "{}",
        &svg[..80]
    );
    assert!(
        svg.contains("#db1414") && svg.contains("<circle") && svg.contains("<path"),
        "drawn in seal red"
    );
    let pdf = app
        .get(
            &format!("/v1/seals/{sid}/appearance?format=pdf&size=40"),
            Some(&app.admin_token),
        )
        .await;
    assert_eq!(pdf.status(), 200);
    let pdf = pdf.bytes().await.unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    std::fs::write(app.dir.path().join("seal.pdf"), &pdf).unwrap();
    if std::env::var_os("GOVSEAL_KEEP_SEAL").is_some() {
        std::fs::write("/tmp/govseal-seal-preview.pdf", &pdf).unwrap();
    }
    expect_error(
        app.get(
            &format!("/v1/seals/{sid}/appearance?size=80"),
            Some(&app.admin_token),
        )
        .await,
        422,
        "invalid_field",
    )
    .await;
    expect_error(
        app.get(
            &format!("/v1/seals/{sid}/appearance?format=gif"),
            Some(&app.admin_token),
        )
        .await,
        422,
        "invalid_field",
    )
    .await;
}
