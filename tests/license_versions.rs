//! License versions over HTTP: renewal (换发) and amendment (变更) make
//! version + 1 with a valid check character and new forms, the old version
//! becomes `superseded` (GET, holder listing, signed snapshot), an offline
//! verifier with a fresh copy of the bundle refuses the old record and QR
//! and names the new version, the citizen page says 已换发; every refusal
//! (409/422/403), idempotent replay, and automatic expiry.

use crate::common;

use std::path::Path;
use std::process::Command;

use common::{TestApp, expect_error, interop, spawn_app};
use govseal::license::identifier::LicenseId;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

const TYPE_CODE: &str = "11100000000013127D001";
const HOLDER_ID: &str = "91110000600037341L";

struct Department {
    id: String,
    seal_id: String,
    token: String,
    seal_pem: String,
}

async fn seal(app: &TestApp, department_id: &str, token: &str) -> (String, String) {
    let r = app
        .post(
            "/v1/seals",
            Some(token),
            &json!({ "department_id": department_id, "type": "approval" }),
        )
        .await;
    assert_eq!(r.status(), 201);
    let seal: Value = r.json().await.unwrap();
    (
        seal["id"].as_str().unwrap().to_string(),
        seal["certificate_pem"].as_str().unwrap().to_string(),
    )
}

async fn department_with_seal(app: &TestApp, name: &str) -> Department {
    let d = app.create_department(name).await;
    let id = d["id"].as_str().unwrap().to_string();
    let token = app
        .create_client(&id, &["seals:manage", "licenses:issue", "licenses:manage"])
        .await;
    let (seal_id, seal_pem) = seal(app, &id, &token).await;
    Department {
        id,
        seal_id,
        token,
        seal_pem,
    }
}

/// A food business licence (食品经营许可证) valid 365 days, issued by `issuers`.
async fn define_type(app: &TestApp, issuers: &[&str]) {
    let f = |key: &str, zh: &str, ty: &str, required: bool| json!({"key": key, "label_zh": zh, "label_en": key, "type": ty, "required": required, "on_qr": true});
    let body = json!({
        "code": TYPE_CODE, "name_zh": "食品经营许可证", "name_en": "Food Business Licence",
        "issuers": issuers, "validity_days": 365,
        "fields": [f("name", "经营者名称", "text", true), f("addr", "经营场所", "text", true),
                   f("area", "经营面积", "number", false), f("note", "备注", "text", false)]
    });
    let r = app
        .post("/v1/license-types", Some(&app.admin_token), &body)
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
}

fn license_body(seal_id: &str) -> Value {
    json!({
        "type": TYPE_CODE, "seal_id": seal_id,
        "holder": {"name": "福州某某餐饮有限公司", "id_type": "uscc", "id": HOLDER_ID},
        "fields": {"name": "福州某某餐饮有限公司", "addr": "福建省福州市鼓楼区五四路158号", "area": 120}
    })
}

async fn issue_with(app: &TestApp, d: &Department, body: Value) -> Value {
    let r = app.post("/v1/licenses", Some(&d.token), &body).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    r.json().await.unwrap()
}

async fn issue(app: &TestApp, d: &Department) -> String {
    issue_with(app, d, license_body(&d.seal_id)).await["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// POST with an optional Idempotency-Key.
async fn post_keyed(
    app: &TestApp,
    path: &str,
    token: &str,
    key: Option<&str>,
    body: &Value,
) -> reqwest::Response {
    let mut req = app
        .http
        .post(format!("{}{path}", app.url))
        .bearer_auth(token)
        .json(body);
    if let Some(key) = key {
        req = req.header("Idempotency-Key", key);
    }
    req.send().await.unwrap()
}

async fn new_version(app: &TestApp, token: &str, id: &str, action: &str, body: Value) -> Value {
    let r = app
        .post(&format!("/v1/licenses/{id}/{action}"), Some(token), &body)
        .await;
    assert_eq!(r.status(), 201, "{action}: {}", r.text().await.unwrap());
    r.json().await.unwrap()
}

async fn get(app: &TestApp, token: &str, id: &str) -> Value {
    let r = app.get(&format!("/v1/licenses/{id}"), Some(token)).await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

async fn bytes(app: &TestApp, token: &str, path: &str) -> Vec<u8> {
    let r = app.get(path, Some(token)).await;
    assert_eq!(r.status(), 200, "GET {path}");
    r.bytes().await.unwrap().to_vec()
}

fn time(v: &Value) -> OffsetDateTime {
    OffsetDateTime::parse(v.as_str().unwrap(), &Rfc3339).unwrap()
}

/// Runs `govseal verify ARGS --trust DIR --json`; returns exit code and report.
fn cli(trust: &Path, args: &[&str]) -> (i32, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_govseal"))
        .arg("verify")
        .args(args)
        .arg("--trust")
        .arg(trust)
        .arg("--json")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let report: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{e}: {text} {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap(), report)
}

fn verdict(r: &Value) -> (String, String) {
    let sub = r["sub_indication"]
        .as_str()
        .or(r["signatures"][0]["sub_indication"].as_str())
        .unwrap_or("");
    (r["indication"].as_str().unwrap().into(), sub.into())
}

fn findings(r: &Value) -> String {
    r["signatures"][0]["findings"].to_string()
}

#[tokio::test]
async fn a_renewal_is_version_two_and_the_first_is_refused_offline_naming_it() {
    let app = spawn_app().await;
    let d = department_with_seal(&app, "福州市鼓楼区市场监督管理局").await;
    define_type(&app, &[&d.id]).await;
    let old = issue(&app, &d).await;
    let old_view = get(&app, &d.token, &old).await;
    let old_record = bytes(&app, &d.token, &format!("/v1/licenses/{old}/record")).await;

    // Renewal, with an Idempotency-Key.
    let path = format!("/v1/licenses/{old}/renew");
    let r = post_keyed(&app, &path, &d.token, Some("renew-1"), &json!({})).await;
    assert_eq!(r.status(), 201);
    let renewed: Value = r.json().await.unwrap();
    let new = renewed["id"].as_str().unwrap().to_string();
    let (old_id, new_id): (LicenseId, LicenseId) = (old.parse().unwrap(), new.parse().unwrap());
    assert_eq!(
        (new_id.type_code(), new_id.issuer(), new_id.serial()),
        (old_id.type_code(), old_id.issuer(), old_id.serial())
    );
    assert_eq!((old_id.version(), new_id.version()), (1, 2));
    assert!(new.contains(&format!(".{}.002.", old_id.serial())), "{new}");
    assert_eq!(renewed["version"], 2);
    assert_eq!(renewed["status"], "valid");
    assert_eq!(renewed["supersedes"], old.as_str());
    assert_eq!(
        renewed["links"]["supersedes"],
        format!("/v1/licenses/{old}")
    );
    assert_eq!(renewed["fields"], old_view["fields"]);
    // In force now, the term continuing from the old end of validity.
    let now = OffsetDateTime::now_utc();
    assert!((time(&renewed["valid_from"]) - now).abs() < time::Duration::minutes(2));
    assert_eq!(
        time(&renewed["valid_until"]) - time(&old_view["valid_until"]),
        time::Duration::days(365)
    );

    // The same key and body: the same new version, nothing made twice.
    let r = post_keyed(&app, &path, &d.token, Some("renew-1"), &json!({})).await;
    assert_eq!(r.status(), 201);
    assert_eq!(r.headers()["idempotent-replayed"], "true");
    assert_eq!(r.json::<Value>().await.unwrap()["id"], new.as_str());
    let r = post_keyed(
        &app,
        &path,
        &d.token,
        Some("renew-1"),
        &json!({"valid_until": "2099-12-31"}),
    )
    .await;
    let message = expect_error(r, 422, "invalid_field").await;
    assert!(message.starts_with("Idempotency-Key"), "{message}");
    // Without the key, renewing the old version again is a conflict naming the new one.
    let r = post_keyed(&app, &path, &d.token, None, &json!({})).await;
    let message = expect_error(r, 409, "license_status").await;
    assert!(
        message.contains(&format!("superseded by {new}")),
        "{message}"
    );

    // The old version: GET, listing, snapshot.
    let old_now = get(&app, &d.token, &old).await;
    assert_eq!(old_now["status"], "superseded");
    assert_eq!(old_now["superseded_by"], new.as_str());
    assert_eq!(
        old_now["links"]["superseded_by"],
        format!("/v1/licenses/{new}")
    );
    let listed: Value = app
        .get(
            &format!("/v1/licenses?holder_id={HOLDER_ID}"),
            Some(&d.token),
        )
        .await
        .json()
        .await
        .unwrap();
    let status_of = |id: &str| {
        listed
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["id"] == id)
            .map(|l| l["status"].clone())
    };
    assert_eq!(listed.as_array().unwrap().len(), 2, "{listed}");
    assert_eq!(status_of(&old), Some(json!("superseded")));
    assert_eq!(status_of(&new), Some(json!("valid")));
    let snapshot: Value = app
        .get("/v1/license-status", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        snapshot["superseded"],
        json!([{"id": old, "superseded_by": new}])
    );
    assert_eq!(snapshot["revoked"], json!([]));

    // Offline, with a copy of the bundle the server re-published.
    let work = tempfile::tempdir().unwrap();
    let trust = work.path().join("bundle");
    common::copy_bundle(&app, &trust);
    let new_record = bytes(&app, &d.token, &format!("/v1/licenses/{new}/record")).await;
    let new_pdf = bytes(&app, &d.token, &format!("/v1/licenses/{new}/pdf")).await;
    let write = |name: &str, data: &[u8]| {
        let p = work.path().join(name);
        std::fs::write(&p, data).unwrap();
        p
    };
    let old_path = write("old.cose", &old_record);
    let new_path = write("new.cose", &new_record);
    let old_qr = govseal::license::qr::qr_url(&app.url, &old_record);
    for args in [vec![old_path.to_str().unwrap()], vec!["--qr", &old_qr]] {
        let (code, r) = cli(&trust, &args);
        assert_eq!(
            (code, verdict(&r)),
            (1, ("TOTAL-FAILED".into(), "REVOKED".into())),
            "{r}"
        );
        assert_eq!(r["license"]["status"], "superseded");
        assert_eq!(r["license"]["superseded_by"], new.as_str());
        assert!(
            findings(&r).contains(&format!("superseded by {new}")),
            "{r}"
        );
    }
    let (code, r) = cli(&trust, &[new_path.to_str().unwrap()]);
    assert_eq!(code, 0, "{r}");
    assert_eq!(r["license"]["license_id"], new.as_str());
    assert_eq!(r["license"]["version"], 2);
    let new_qr = govseal::license::qr::qr_url(&app.url, &new_record);
    assert_eq!(cli(&trust, &["--qr", &new_qr]).0, 0);
    let out = Command::new(env!("CARGO_BIN_EXE_govseal"))
        .args(["verify", old_path.to_str().unwrap(), "--trust"])
        .arg(&trust)
        .output()
        .unwrap();
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(
        summary.contains("已被新版本取代") && summary.contains(&new),
        "{summary}"
    );

    // The citizen page of the old QR code.
    let page_path = old_qr.strip_prefix(&app.url).unwrap();
    let page = app.get(page_path, None).await.text().await.unwrap();
    assert!(page.contains("已换发") && page.contains(&new), "{page}");
    let page = app
        .get(&format!("{page_path}?lang=en"), None)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Superseded by a new version"), "{page}");
    let page = app
        .get(new_qr.strip_prefix(&app.url).unwrap(), None)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("真实有效"), "{page}");

    // The new forms, by tools we did not write.
    let (claims, _) =
        govseal::license::record::verify_record(&new_record, &[pem_der(&d.seal_pem)]).unwrap();
    assert_eq!(claims.license_id.as_str(), new);
    if !interop::available(
        "renewed license interop",
        &[
            "qpdf",
            "pdfsig",
            "pyhanko",
            "python3",
            "python:pycose",
            "python:cbor2",
        ],
    ) {
        return;
    }
    let seal_pem = write("seal.pem", d.seal_pem.as_bytes());
    let (ok, out) = interop::run("check-cose.py", &[&new_path, &seal_pem], &[]);
    assert!(ok && out.contains("check-cose: PASS"), "{out}");
    let pdf_path = write("renewed.pdf", &new_pdf);
    let certs = app.certs();
    let (ok, out) = interop::run(
        "check-pdf.sh",
        &[
            &pdf_path,
            &certs.join("root.pem"),
            &certs.join("issuing-ca.pem"),
            &certs.join("tsa.pem"),
        ],
        &[("LTV", "1")],
    );
    assert!(ok && out.contains("check-pdf: PASS"), "{out}");
    let (ok, out) = interop::run(
        "check-cose.py",
        &[
            &certs.join("license-status.cose"),
            &certs.join("issuing-ca.pem"),
        ],
        &[],
    );
    assert!(
        ok && out.contains("check-cose: PASS") && out.contains(&old),
        "{out}"
    );
}

fn pem_der(pem: &str) -> Vec<u8> {
    use base64::Engine;
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap()
}

#[tokio::test]
async fn an_amendment_is_validated_like_issuance_and_chains_versions() {
    let app = spawn_app().await;
    let d = department_with_seal(&app, "福州市市场监督管理局").await;
    define_type(&app, &[&d.id]).await;
    let v1 = issue(&app, &d).await;
    let v1_view = get(&app, &d.token, &v1).await;
    let v1_record = bytes(&app, &d.token, &format!("/v1/licenses/{v1}/record")).await;

    let v2 = new_version(
        &app,
        &d.token,
        &v1,
        "amend",
        json!({"fields": {"addr": "福建省福州市台江区工业路1号", "note": "变更经营场所"}}),
    )
    .await;
    let v2_id = v2["id"].as_str().unwrap().to_string();
    assert_eq!(v2_id.parse::<LicenseId>().unwrap().version(), 2);
    assert_eq!(v2["fields"]["addr"], "福建省福州市台江区工业路1号");
    assert_eq!(v2["fields"]["name"], v1_view["fields"]["name"], "kept");
    assert_eq!(v2["fields"]["area"], "120", "kept");
    assert_eq!(v2["valid_from"], v1_view["valid_from"], "same dates");
    assert_eq!(v2["valid_until"], v1_view["valid_until"], "same dates");
    assert_eq!(v2["holder"], v1_view["holder"]);

    // Refused exactly as issuance refuses, naming the field; nothing is made.
    let amend = |body: Value| {
        let path = format!("/v1/licenses/{v2_id}/amend");
        let (app, token) = (&app, d.token.clone());
        async move { app.post(&path, Some(&token), &body).await }
    };
    for (field, body) in [
        ("fields.colour", json!({"fields": {"colour": "红"}})),
        ("fields.name", json!({"fields": {"name": null}})),
        ("fields.area", json!({"fields": {"area": "一百"}})),
        ("fields.addr", json!({"fields": {"addr": 5}})),
        ("holder_name", json!({"holder_name": ""})),
        ("fields", json!({})),
        (
            "fields",
            json!({"fields": {"addr": "福建省福州市台江区工业路1号"}}),
        ),
        (
            "seal_id",
            json!({"fields": {"note": "x"}, "seal_id": "no-such-seal"}),
        ),
    ] {
        let message = expect_error(amend(body.clone()).await, 422, "invalid_field").await;
        assert!(message.starts_with(field), "{body}: {message}");
    }
    let r = amend(json!({"holder": {"name": "x"}})).await;
    assert_eq!(r.status(), 422, "unknown body keys are refused");
    // An optional field can be removed with null.
    let v3 = new_version(
        &app,
        &d.token,
        &v2_id,
        "amend",
        json!({"fields": {"note": null}, "holder_name": "福州某某餐饮管理有限公司"}),
    )
    .await;
    let v3_id = v3["id"].as_str().unwrap().to_string();
    assert!(v3["fields"].get("note").is_none(), "{v3}");
    assert_eq!(v3["holder"]["name"], "福州某某餐饮管理有限公司");
    assert_eq!(v3["holder"]["id"], HOLDER_ID);
    let v3_record = bytes(&app, &d.token, &format!("/v1/licenses/{v3_id}/record")).await;
    let (claims, _) =
        govseal::license::record::verify_record(&v3_record, &[pem_der(&d.seal_pem)]).unwrap();
    assert_eq!(claims.holder_name, "福州某某餐饮管理有限公司");
    assert_eq!(claims.license_id.version(), 3);

    // The first version names its successor and the current version.
    let message = expect_error(
        app.post(
            &format!("/v1/licenses/{v1}/amend"),
            Some(&d.token),
            &json!({"fields": {"note": "x"}}),
        )
        .await,
        409,
        "license_status",
    )
    .await;
    assert!(message.contains(&v2_id), "{message}");
    let r: Value = app
        .http
        .post(format!("{}/v1/verify", app.url))
        .header("content-type", "application/cose")
        .body(v1_record)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        verdict(&r),
        ("TOTAL-FAILED".into(), "REVOKED".into()),
        "{r}"
    );
    assert_eq!(r["license"]["superseded_by"], v2_id.as_str());
    assert_eq!(r["license"]["current_version"], v3_id.as_str());
    let snapshot: Value = app
        .get("/v1/license-status", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(snapshot["superseded"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn only_a_license_in_force_is_replaced_and_only_by_its_department() {
    let app = spawn_app().await;
    let d = department_with_seal(&app, "福州市市场监督管理局").await;
    let other = department_with_seal(&app, "厦门市市场监督管理局").await;
    define_type(&app, &[&d.id, &other.id]).await;
    let id = issue(&app, &d).await;
    let post = |path: String, token: String, body: Value| {
        let app = &app;
        async move { app.post(&path, Some(&token), &body).await }
    };
    let renew = |body: Value| post(format!("/v1/licenses/{id}/renew"), d.token.clone(), body);

    // Another department's client, and a client of the department without licenses:issue.
    expect_error(
        post(
            format!("/v1/licenses/{id}/renew"),
            other.token.clone(),
            json!({}),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    let manager = app.create_client(&d.id, &["licenses:manage"]).await;
    let message = expect_error(
        post(
            format!("/v1/licenses/{id}/amend"),
            manager,
            json!({"fields": {"note": "x"}}),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    assert!(message.contains("licenses:issue"), "{message}");
    // A seal of another department.
    expect_error(
        renew(json!({"seal_id": other.seal_id})).await,
        403,
        "forbidden",
    )
    .await;
    // Identifiers: malformed, unknown.
    expect_error(
        post(
            "/v1/licenses/1.2.3/renew".into(),
            d.token.clone(),
            json!({}),
        )
        .await,
        422,
        "invalid_field",
    )
    .await;
    let unknown = LicenseId::new(TYPE_CODE, id.parse::<LicenseId>().unwrap().issuer(), 999, 1)
        .unwrap()
        .to_string();
    expect_error(
        post(
            format!("/v1/licenses/{unknown}/renew"),
            d.token.clone(),
            json!({}),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    // Dates.
    for (field, body) in [
        ("valid_until", json!({"valid_until": "2021-02-30"})),
        ("valid_until", json!({"valid_until": "2021-01-31"})),
        (
            "valid_until",
            json!({"valid_from": "2098-01-01", "valid_until": "2097-12-31"}),
        ),
        ("valid_from", json!({"valid_from": "01/01/2027"})),
    ] {
        let message = expect_error(renew(body.clone()).await, 422, "invalid_field").await;
        assert!(message.starts_with(field), "{body}: {message}");
    }

    // The license's seal suspended: 409 unless another active seal is named.
    let (second_seal, _) = seal(&app, &d.id, &d.token).await;
    app.post_owned(format!("/v1/seals/{}/suspend", d.seal_id), d.token.clone())
        .await;
    let message = expect_error(renew(json!({})).await, 409, "seal_not_active").await;
    assert!(message.contains("seal_id"), "{message}");
    expect_error(
        renew(json!({"seal_id": d.seal_id})).await,
        409,
        "seal_not_active",
    )
    .await;

    // Suspended license: reinstate first.
    let r = post(
        format!("/v1/licenses/{id}/suspend"),
        d.token.clone(),
        json!({}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let message = expect_error(
        renew(json!({"seal_id": second_seal})).await,
        409,
        "license_status",
    )
    .await;
    assert!(message.contains("reinstate"), "{message}");
    let r = post(
        format!("/v1/licenses/{id}/reinstate"),
        d.token.clone(),
        json!({}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let renewed = new_version(
        &app,
        &d.token,
        &id,
        "renew",
        json!({"seal_id": second_seal}),
    )
    .await;
    assert_eq!(renewed["seal_id"], second_seal.as_str());
    let new = renewed["id"].as_str().unwrap().to_string();

    // Superseded: suspend, reinstate, revoke and a second renewal are conflicts.
    for action in ["suspend", "reinstate", "renew"] {
        expect_error(
            post(
                format!("/v1/licenses/{id}/{action}"),
                d.token.clone(),
                json!({}),
            )
            .await,
            409,
            "license_status",
        )
        .await;
    }
    expect_error(
        post(
            format!("/v1/licenses/{id}/revoke"),
            d.token.clone(),
            json!({"reason": "x"}),
        )
        .await,
        409,
        "license_status",
    )
    .await;

    // Revoked: terminal.
    let r = post(
        format!("/v1/licenses/{new}/revoke"),
        d.token.clone(),
        json!({"reason": "以欺骗手段取得"}),
    )
    .await;
    assert_eq!(r.status(), 200);
    for (action, body) in [
        ("renew", json!({"seal_id": second_seal})),
        (
            "amend",
            json!({"seal_id": second_seal, "fields": {"note": "x"}}),
        ),
    ] {
        let message = expect_error(
            post(
                format!("/v1/licenses/{new}/{action}"),
                d.token.clone(),
                body,
            )
            .await,
            409,
            "license_status",
        )
        .await;
        assert!(message.contains("revoked"), "{message}");
    }
    let snapshot: Value = app
        .get("/v1/license-status", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(snapshot["revoked"], json!([new]));
    assert_eq!(
        snapshot["superseded"],
        json!([{"id": id, "superseded_by": new}])
    );

    // The served OpenAPI document has the new endpoints.
    let api: Value = app.get("/openapi.json", None).await.json().await.unwrap();
    for path in ["/v1/licenses/{id}/renew", "/v1/licenses/{id}/amend"] {
        assert!(
            api["paths"][path]["post"].is_object(),
            "OpenAPI documents {path}"
        );
    }
    assert!(api["components"]["schemas"]["LicenseView"]["properties"]["superseded_by"].is_object());
}

#[tokio::test]
async fn expiry_is_automatic_and_an_expired_license_can_be_renewed_only() {
    let app = spawn_app().await;
    let d = department_with_seal(&app, "福州市市场监督管理局").await;
    define_type(&app, &[&d.id]).await;
    let mut body = license_body(&d.seal_id);
    body["valid_from"] = json!("2020-01-01");
    body["valid_until"] = json!("2020-12-31");
    let expired = issue_with(&app, &d, body).await;
    let id = expired["id"].as_str().unwrap().to_string();
    assert_eq!(expired["status"], "expired");
    assert_eq!(get(&app, &d.token, &id).await["status"], "expired");
    let listed: Value = app
        .get(
            &format!("/v1/licenses?holder_id={HOLDER_ID}"),
            Some(&d.token),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed[0]["status"], "expired", "{listed}");
    let record = bytes(&app, &d.token, &format!("/v1/licenses/{id}/record")).await;
    let verify = |record: Vec<u8>| {
        let app = &app;
        async move {
            app.http
                .post(format!("{}/v1/verify", app.url))
                .header("content-type", "application/cose")
                .body(record)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let r = verify(record.clone()).await;
    assert_eq!(
        verdict(&r),
        ("TOTAL-FAILED".into(), "EXPIRED".into()),
        "{r}"
    );
    assert_eq!(r["license"]["status"], "expired");

    for (action, body) in [
        ("suspend", json!({})),
        ("reinstate", json!({})),
        ("amend", json!({"fields": {"note": "x"}})),
    ] {
        let message = expect_error(
            app.post(
                &format!("/v1/licenses/{id}/{action}"),
                Some(&d.token),
                &body,
            )
            .await,
            409,
            "license_status",
        )
        .await;
        assert!(message.contains("expired"), "{action}: {message}");
    }

    // Renewed: a full term from now, since the old one has ended.
    let renewed = new_version(&app, &d.token, &id, "renew", json!({})).await;
    assert_eq!(renewed["status"], "valid");
    let from = time(&renewed["valid_from"]);
    assert!((from - OffsetDateTime::now_utc()).abs() < time::Duration::minutes(2));
    assert_eq!(
        time(&renewed["valid_until"]) - from,
        time::Duration::days(365)
    );
    let new = renewed["id"].as_str().unwrap();
    let r = verify(bytes(&app, &d.token, &format!("/v1/licenses/{new}/record")).await).await;
    assert_eq!(r["indication"], "TOTAL-PASSED", "{r}");
    assert_eq!(get(&app, &d.token, &id).await["status"], "superseded");
    let r = verify(record).await;
    assert_eq!(r["license"]["status"], "superseded", "{r}");
}
