//! The foundation over HTTP: departments, API clients, the PKI, CRLs, errors.

use crate::common;

use common::{expect_error, random_uscc, spawn_app, spawn_app_in};
use serde_json::{Value, json};

#[tokio::test]
async fn a_department_gets_an_organisation_certificate_with_its_uscc() {
    let app = spawn_app().await;
    let uscc = random_uscc();
    let r = app
        .post(
            "/v1/departments",
            Some(&app.admin_token),
            &json!({ "name": "福州市行政审批局", "uscc": uscc }),
        )
        .await;
    assert_eq!(r.status(), 201);
    let d: Value = r.json().await.unwrap();
    let pem = d["certificate_pem"].as_str().unwrap();
    let der = pem::parse(pem).unwrap().into_contents();
    let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
    let subject = cert
        .subject()
        .to_string_with_registry(x509_parser::objects::oid_registry())
        .unwrap();
    assert!(subject.contains("福州市行政审批局"), "{subject}");
    assert!(
        cert.subject()
            .iter_attributes()
            .any(|a| a.as_str().ok() == Some(format!("NTRCN-{uscc}").as_str())),
        "organizationIdentifier NTRCN-{uscc} in {subject}"
    );
    let ku = cert.key_usage().unwrap().unwrap().value;
    assert!(ku.digital_signature() && ku.non_repudiation() && !ku.key_cert_sign());

    let r = app
        .get(
            &format!("/v1/departments/{}", d["id"].as_str().unwrap()),
            Some(&app.admin_token),
        )
        .await;
    assert_eq!(r.status(), 200);
    let again: Value = r.json().await.unwrap();
    assert_eq!(again["uscc"], uscc);
    assert_eq!(again["certificate_pem"], d["certificate_pem"]);
}

#[tokio::test]
async fn bad_input_gets_a_precise_error_and_changes_nothing() {
    let app = spawn_app().await;
    let admin = Some(app.admin_token.as_str());
    let good = random_uscc();
    let mut wrong_check = good.clone();
    let last = wrong_check.pop().unwrap();
    wrong_check.push(if last == '0' { '1' } else { '0' });

    let msg = expect_error(
        app.post(
            "/v1/departments",
            admin,
            &json!({ "name": "某局", "uscc": wrong_check }),
        )
        .await,
        422,
        "invalid_field",
    )
    .await;
    assert!(
        msg.starts_with("uscc:") && msg.contains("check character"),
        "{msg}"
    );
    expect_error(
        app.post(
            "/v1/departments",
            admin,
            &json!({ "name": "", "uscc": good }),
        )
        .await,
        422,
        "invalid_field",
    )
    .await;
    expect_error(
        app.post("/v1/departments", admin, &json!({ "name": "某局" }))
            .await,
        422,
        "invalid_field",
    )
    .await;

    // Malformed JSON → 400.
    let r = app
        .http
        .post(format!("{}/v1/departments", app.url))
        .bearer_auth(&app.admin_token)
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    expect_error(r, 400, "malformed_json").await;

    // Oversized body → 413.
    let huge = json!({ "name": "x".repeat(200_000), "uscc": good });
    expect_error(
        app.post("/v1/departments", admin, &huge).await,
        413,
        "payload_too_large",
    )
    .await;

    // Missing or wrong token → 401.
    expect_error(
        app.post(
            "/v1/departments",
            None,
            &json!({ "name": "某局", "uscc": good }),
        )
        .await,
        401,
        "unauthorized",
    )
    .await;
    expect_error(
        app.post(
            "/v1/departments",
            Some("gsk_not-a-real-token"),
            &json!({ "name": "某局", "uscc": good }),
        )
        .await,
        401,
        "unauthorized",
    )
    .await;

    // Nothing of the above created a department.
    let list: Vec<Value> = app
        .get("/v1/departments", admin)
        .await
        .json()
        .await
        .unwrap();
    assert!(list.is_empty(), "{list:?}");

    // Duplicate USCC → 409, and only one department exists.
    assert_eq!(
        app.post(
            "/v1/departments",
            admin,
            &json!({ "name": "甲局", "uscc": good })
        )
        .await
        .status(),
        201
    );
    expect_error(
        app.post(
            "/v1/departments",
            admin,
            &json!({ "name": "乙局", "uscc": good }),
        )
        .await,
        409,
        "duplicate_uscc",
    )
    .await;
    let list: Vec<Value> = app
        .get("/v1/departments", admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list.len(), 1);

    // Unknown department → 404; unknown route → 404 with the JSON body.
    expect_error(
        app.get("/v1/departments/nope", admin).await,
        404,
        "not_found",
    )
    .await;
    expect_error(app.get("/v1/nothing-here", admin).await, 404, "not_found").await;
}

#[tokio::test]
async fn clients_authenticate_are_scoped_and_revocable() {
    let app = spawn_app().await;
    let d = app.create_department("福州市市场监督管理局").await;
    let id = d["id"].as_str().unwrap();
    let other = app.create_department("福州市卫生健康委员会").await;

    let r = app
        .post(
            &format!("/v1/departments/{id}/clients"),
            Some(&app.admin_token),
            &json!({ "name": "审批系统", "scopes": ["stamp", "seals:manage"] }),
        )
        .await;
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    let token = created["token"].as_str().unwrap().to_string();
    let client_id = created["id"].as_str().unwrap().to_string();

    // The token authenticates: the client reads its own department ...
    assert_eq!(
        app.get(&format!("/v1/departments/{id}"), Some(&token))
            .await
            .status(),
        200
    );
    // ... but not another department's, and no admin endpoint.
    expect_error(
        app.get(
            &format!("/v1/departments/{}", other["id"].as_str().unwrap()),
            Some(&token),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    expect_error(
        app.post(
            "/v1/departments",
            Some(&token),
            &json!({ "name": "某局", "uscc": random_uscc() }),
        )
        .await,
        403,
        "forbidden",
    )
    .await;

    // Listing never shows the token, and the database holds only its hash.
    let list: Vec<Value> = app
        .get(
            &format!("/v1/departments/{id}/clients"),
            Some(&app.admin_token),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list.len(), 1);
    assert!(list[0].get("token").is_none());
    let stored: Vec<(String,)> = sqlx::query_as("SELECT token_hash FROM api_clients")
        .fetch_all(&app.state.db.pool)
        .await
        .unwrap();
    assert!(stored.iter().all(|(h,)| h != &token && h.len() == 64));

    // Unknown scopes are refused.
    expect_error(
        app.post(
            &format!("/v1/departments/{id}/clients"),
            Some(&app.admin_token),
            &json!({ "name": "x", "scopes": ["everything"] }),
        )
        .await,
        422,
        "invalid_field",
    )
    .await;

    // Revocation takes effect at once.
    let r = app
        .post(
            &format!("/v1/departments/{id}/clients/{client_id}/revoke"),
            Some(&app.admin_token),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), 200);
    expect_error(
        app.get(&format!("/v1/departments/{id}"), Some(&token))
            .await,
        401,
        "unauthorized",
    )
    .await;
}

#[tokio::test]
async fn a_revoked_department_certificate_is_on_the_next_crl() {
    let app = spawn_app().await;
    let d = app.create_department("福州市自然资源和规划局").await;
    let id = d["id"].as_str().unwrap();
    let serial = d["certificate_serial"].as_str().unwrap().to_string();

    let before = app.get("/v1/crl/issuing-ca", None).await;
    assert_eq!(before.headers()["content-type"], "application/pkix-crl");
    let before = before.bytes().await.unwrap();
    let (_, crl) = x509_parser::parse_x509_crl(&before).unwrap();
    assert!(
        crl.iter_revoked_certificates()
            .all(|r| hex::encode(r.raw_serial()) != serial)
    );
    let number_before = crl.crl_number().unwrap().clone();

    let r = app
        .post(
            &format!("/v1/departments/{id}/certificate/revoke"),
            Some(&app.admin_token),
            &json!({ "reason": "keyCompromise" }),
        )
        .await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["certificate_revoked"], true);
    // Revoking twice is a conflict.
    expect_error(
        app.post(
            &format!("/v1/departments/{id}/certificate/revoke"),
            Some(&app.admin_token),
            &json!({}),
        )
        .await,
        409,
        "already_revoked",
    )
    .await;

    let after = app
        .get("/v1/crl/issuing-ca", None)
        .await
        .bytes()
        .await
        .unwrap();
    let (_, crl) = x509_parser::parse_x509_crl(&after).unwrap();
    let entry = crl
        .iter_revoked_certificates()
        .find(|r| hex::encode(r.raw_serial()) == serial)
        .expect("revoked serial is on the CRL");
    assert_eq!(
        entry.reason_code().unwrap().1,
        x509_parser::x509::ReasonCode::KeyCompromise
    );
    assert!(crl.crl_number().unwrap() > &number_before);

    // The CRL is signed by the issuing CA.
    let bundle: Value = app.get("/v1/trust", None).await.json().await.unwrap();
    let issuing = pem::parse(bundle["issuing_ca"].as_str().unwrap())
        .unwrap()
        .into_contents();
    let (_, issuing) = x509_parser::parse_x509_certificate(&issuing).unwrap();
    crl.verify_signature(issuing.public_key())
        .expect("CRL signature verifies with the issuing CA key");
    // And the file in certs/ is the same CRL.
    assert_eq!(
        std::fs::read(app.certs().join("crl/issuing-ca.crl")).unwrap(),
        after.to_vec()
    );

    // A new certificate can be issued after revocation.
    let r = app
        .post(
            &format!("/v1/departments/{id}/certificate"),
            Some(&app.admin_token),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let renewed: Value = r.json().await.unwrap();
    assert_ne!(renewed["certificate_serial"], serial.as_str());
    assert_eq!(renewed["certificate_revoked"], false);
}

#[tokio::test]
async fn a_restart_reuses_the_pki_and_keys_are_sealed_at_rest() {
    let app = spawn_app().await;
    let root_before = std::fs::read_to_string(app.certs().join("root.pem")).unwrap();
    let d = app.create_department("福州市公安局").await;
    let database_url = app.database_url.clone();
    let state = app.state.clone();
    let dir = app.dir;

    // Private keys in the database are sealed: no PKCS#8 prefix anywhere.
    let sealed: Vec<(Vec<u8>,)> = sqlx::query_as("SELECT sealed_private_key FROM keys")
        .fetch_all(&state.db.pool)
        .await
        .unwrap();
    assert!(sealed.len() >= 4);
    for (blob,) in &sealed {
        assert!(
            !blob.windows(4).any(|w| w == [0x02, 0x01, 0x00, 0x30]),
            "key looks like clear PKCS#8"
        );
    }

    let again = spawn_app_in(dir, database_url).await;
    let root_after = std::fs::read_to_string(again.certs().join("root.pem")).unwrap();
    assert_eq!(
        root_before, root_after,
        "the second start keeps the root CA"
    );
    let r = again
        .get(
            &format!("/v1/departments/{}", d["id"].as_str().unwrap()),
            Some(&again.admin_token),
        )
        .await;
    assert_eq!(r.status(), 200);
    let n: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM authority")
        .fetch_one(&again.state.db.pool)
        .await
        .unwrap();
    assert_eq!(n.0, 3);
}

#[tokio::test]
async fn trust_bundle_health_and_openapi_are_public() {
    let app = spawn_app().await;
    let bundle: Value = app.get("/v1/trust", None).await.json().await.unwrap();
    for key in ["root", "issuing_ca", "tsa"] {
        assert!(
            bundle[key]
                .as_str()
                .unwrap()
                .starts_with("-----BEGIN CERTIFICATE-----"),
            "{key}"
        );
    }
    assert_eq!(bundle["crls"].as_array().unwrap().len(), 2);
    for f in [
        "root.pem",
        "issuing-ca.pem",
        "tsa.pem",
        "crl/root.crl",
        "crl/issuing-ca.crl",
        "bundle.json",
    ] {
        assert!(app.certs().join(f).is_file(), "certs/{f}");
    }
    let health: Value = app.get("/healthz", None).await.json().await.unwrap();
    assert_eq!(health["status"], "ok");
    let api: Value = app.get("/openapi.json", None).await.json().await.unwrap();
    for path in [
        "/v1/departments",
        "/v1/departments/{id}/clients",
        "/v1/trust",
        "/v1/crl/{ca}",
        "/healthz",
    ] {
        assert!(api["paths"].get(path).is_some(), "OpenAPI documents {path}");
    }
    assert!(api["components"]["securitySchemes"]["bearer"].is_object());
}
