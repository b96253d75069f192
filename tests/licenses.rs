//! Licenses over HTTP: type definition, issuance, the three forms (record,
//! PDF, QR) checked by tools we did not write (pycose via check-cose.py,
//! zbar via check-qr.sh, qpdf/pdfsig/pyHanko via check-pdf.sh), every
//! validation error, the lifecycle and the signed status snapshot.

use crate::common;

use common::{TestApp, expect_error, interop, spawn_app};
use serde_json::{Value, json};

struct Department {
    id: String,
    seal_id: String,
    token: String,
    seal_pem: String,
}

async fn department_with_seal(app: &TestApp, name: &str) -> Department {
    let d = app.create_department(name).await;
    let id = d["id"].as_str().unwrap().to_string();
    let token = app
        .create_client(&id, &["seals:manage", "licenses:issue", "licenses:manage"])
        .await;
    let r = app
        .post(
            "/v1/seals",
            Some(&token),
            &json!({ "department_id": id, "type": "approval" }),
        )
        .await;
    assert_eq!(r.status(), 201);
    let seal: Value = r.json().await.unwrap();
    Department {
        id,
        seal_id: seal["id"].as_str().unwrap().to_string(),
        token,
        seal_pem: seal["certificate_pem"].as_str().unwrap().to_string(),
    }
}

const TYPE_CODE: &str = "11100000000013127D001";

/// A 12-field business license type (营业执照) issued by `issuers`.
async fn define_business_license(app: &TestApp, issuers: &[&str]) {
    let f = |key: &str, zh: &str, en: &str, ty: &str| json!({"key": key, "label_zh": zh, "label_en": en, "type": ty, "required": true, "on_qr": true});
    let mut kind = f("type", "类型", "Type", "enum");
    kind["values"] = json!(["有限责任公司（自然人投资或控股）", "个体工商户"]);
    let body = json!({
        "code": TYPE_CODE, "name_zh": "营业执照", "name_en": "Business Licence",
        "issuers": issuers, "validity_days": 0,
        "fields": [
            f("name", "名称", "Name", "text"), f("uscc", "统一社会信用代码", "USCC", "text"), kind,
            f("rep", "法定代表人", "Legal representative", "text"), f("cap", "注册资本（万元）", "Capital", "number"),
            f("est", "成立日期", "Established", "date"), f("term", "营业期限", "Term", "text"),
            f("addr", "住所", "Address", "text"), f("scope", "经营范围", "Business scope", "text"),
            f("auth", "登记机关", "Registration authority", "text"), f("date", "核准日期", "Approved", "date"),
            f("regno", "注册号", "Registration no.", "text"),
        ]
    });
    let r = app
        .post("/v1/license-types", Some(&app.admin_token), &body)
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
}

fn license_body(seal_id: &str) -> Value {
    json!({
        "type": TYPE_CODE, "seal_id": seal_id,
        "holder": {"name": "福州市鼓楼区闽江智慧城市科技服务有限公司", "id_type": "uscc", "id": "91110000600037341L"},
        "fields": {
            "name": "福州市鼓楼区闽江智慧城市科技服务有限公司", "uscc": "91110000600037341L",
            "type": "有限责任公司（自然人投资或控股）", "rep": "林晓明", "cap": 500,
            "est": "2019-03-18", "term": "2019-03-18至2049-03-17",
            "addr": "福建省福州市鼓楼区五四路158号环球广场写字楼23层2301单元",
            "scope": "软件开发；信息系统集成服务；信息技术咨询服务；数据处理和存储支持服务；物联网技术服务；智能控制系统集成；网络与信息安全软件开发。",
            "auth": "福州市鼓楼区市场监督管理局", "date": "2024-05-20", "regno": "350102100045678"
        }
    })
}

async fn issue(app: &TestApp, d: &Department) -> Value {
    let r = app
        .post("/v1/licenses", Some(&d.token), &license_body(&d.seal_id))
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    r.json().await.unwrap()
}

async fn bytes(app: &TestApp, path: &str, token: &str, content_type: &str) -> Vec<u8> {
    let r = app.get(path, Some(token)).await;
    assert_eq!(r.status(), 200, "GET {path}");
    assert!(
        r.headers()[reqwest::header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with(content_type)
    );
    r.bytes().await.unwrap().to_vec()
}

#[tokio::test]
async fn a_twelve_field_license_is_issued_and_its_forms_verify() {
    let app = spawn_app().await;
    let d = department_with_seal(&app, "福州市鼓楼区市场监督管理局").await;
    define_business_license(&app, &[&d.id]).await;
    let license = issue(&app, &d).await;
    let id = license["id"].as_str().unwrap();
    let parsed: govseal::license::identifier::LicenseId = id.parse().unwrap();
    assert_eq!(parsed.type_code(), TYPE_CODE);
    assert_eq!(parsed.serial(), "00000001");
    assert_eq!(license["status"], "valid");
    assert_eq!(license["links"]["pdf"], format!("/v1/licenses/{id}/pdf"));

    let got: Value = app
        .get(&format!("/v1/licenses/{id}"), Some(&d.token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got["fields"]["cap"], "500");
    assert_eq!(got["holder"]["id"], "91110000600037341L");
    let listed: Value = app
        .get("/v1/licenses?holder_id=91110000600037341L", Some(&d.token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);

    let record = bytes(
        &app,
        &format!("/v1/licenses/{id}/record"),
        &d.token,
        "application/cose",
    )
    .await;
    let pdf = bytes(
        &app,
        &format!("/v1/licenses/{id}/pdf"),
        &d.token,
        "application/pdf",
    )
    .await;
    let png = bytes(
        &app,
        &format!("/v1/licenses/{id}/qr.png"),
        &d.token,
        "image/png",
    )
    .await;
    let svg = bytes(
        &app,
        &format!("/v1/licenses/{id}/qr.svg"),
        &d.token,
        "image/svg+xml",
    )
    .await;
    assert!(String::from_utf8(svg).unwrap().contains("<svg"));
    let (claims, _) =
        govseal::license::record::verify_record(&record, &[pem_der(&d.seal_pem)]).unwrap();
    assert_eq!(claims.license_id.as_str(), id);
    assert_eq!(claims.fields.len(), 12);
    let url = govseal::license::qr::qr_url(&app.url, &record);
    let version = govseal::license::qr::QrMatrix::encode(&url)
        .unwrap()
        .version();
    println!(
        "12-field license: record {} bytes, URL {} characters, QR version {version} (M)",
        record.len(),
        url.len()
    );
    assert!(version <= 25);

    if !interop::available(
        "license interop",
        &[
            "qpdf",
            "pdfsig",
            "pyhanko",
            "pdftoppm",
            "zbarimg",
            "python3",
            "python:pycose",
            "python:cbor2",
        ],
    ) {
        return;
    }
    let dir = app.dir.path();
    let write = |name: &str, data: &[u8]| {
        let p = dir.join(name);
        std::fs::write(&p, data).unwrap();
        p
    };
    let seal_pem = write("seal.pem", d.seal_pem.as_bytes());
    let (ok, out) = interop::run(
        "check-cose.py",
        &[&write("record.cose", &record), &seal_pem],
        &[],
    );
    assert!(ok && out.contains("check-cose: PASS"), "{out}");
    for (name, data) in [("license.pdf", &pdf), ("qr.png", &png)] {
        let (ok, scanned) = interop::run("check-qr.sh", &[&write(name, data)], &[]);
        assert!(ok, "{name}: {scanned}");
        assert_eq!(scanned.trim_end(), url, "{name}");
        let (ok, out) = interop::run(
            "check-cose.py",
            &[
                &write("scanned.txt", scanned.trim_end().as_bytes()),
                &seal_pem,
            ],
            &[],
        );
        assert!(ok && out.contains("check-cose: PASS"), "{name}: {out}");
    }
    let certs = app.certs();
    let (ok, out) = interop::run(
        "check-pdf.sh",
        &[
            &dir.join("license.pdf"),
            &certs.join("root.pem"),
            &certs.join("issuing-ca.pem"),
            &certs.join("tsa.pem"),
        ],
        &[("LTV", "1")],
    );
    assert!(ok && out.contains("check-pdf: PASS"), "{out}");
}

fn pem_der(pem: &str) -> Vec<u8> {
    use base64::Engine;
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap()
}

/// A change to a good request body.
type Mutation = Box<dyn Fn(&mut Value)>;

#[tokio::test]
async fn every_bad_input_is_refused_naming_the_field() {
    let app = spawn_app().await;
    let d = department_with_seal(&app, "福州市市场监督管理局").await;
    define_business_license(&app, &[&d.id]).await;
    let cases: Vec<(&str, Mutation)> = vec![
        (
            "fields.rep",
            Box::new(|b| {
                b["fields"].as_object_mut().unwrap().remove("rep");
            }),
        ),
        (
            "fields.colour",
            Box::new(|b| b["fields"]["colour"] = json!("红")),
        ),
        (
            "fields.est",
            Box::new(|b| b["fields"]["est"] = json!("2019-02-30")),
        ),
        (
            "fields.cap",
            Box::new(|b| b["fields"]["cap"] = json!("五百")),
        ),
        (
            "fields.type",
            Box::new(|b| b["fields"]["type"] = json!("合伙企业")),
        ),
        (
            "holder.id",
            Box::new(|b| b["holder"]["id"] = json!("91110000600037341M")),
        ),
        (
            "holder.id",
            Box::new(|b| {
                b["holder"] =
                    json!({"name": "张三", "id_type": "resident", "id": "110105194912310021"})
            }),
        ),
        (
            "seal_id",
            Box::new(|b| b["seal_id"] = json!("no-such-seal")),
        ),
        (
            "valid_until",
            Box::new(|b| b["valid_until"] = json!("2020-13-01")),
        ),
    ];
    for (field, mutate) in cases {
        let mut body = license_body(&d.seal_id);
        mutate(&mut body);
        let r = app.post("/v1/licenses", Some(&d.token), &body).await;
        let message = expect_error(r, 422, "invalid_field").await;
        assert!(message.starts_with(field), "{field}: {message}");
    }
    let mut body = license_body(&d.seal_id);
    body["type"] = json!("11100000000013127D002");
    expect_error(
        app.post("/v1/licenses", Some(&d.token), &body).await,
        404,
        "not_found",
    )
    .await;
    // A resident holder with a valid ID is accepted.
    let mut body = license_body(&d.seal_id);
    body["holder"] = json!({"name": "张三", "id_type": "resident", "id": "11010519491231002X"});
    assert_eq!(
        app.post("/v1/licenses", Some(&d.token), &body)
            .await
            .status(),
        201
    );
    // Bad type definitions.
    let bad = json!({"code": "11100000000013127D00X", "name_zh": "x", "name_en": "x", "issuers": [d.id], "validity_days": 1,
        "fields": [{"key": "a", "label_zh": "甲", "label_en": "A", "type": "text"}]});
    let message = expect_error(
        app.post("/v1/license-types", Some(&app.admin_token), &bad)
            .await,
        422,
        "invalid_field",
    )
    .await;
    assert!(message.starts_with("code"), "{message}");
    expect_error(
        app.post("/v1/license-types", Some(&d.token), &bad).await,
        403,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn other_departments_and_unusable_seals_are_refused() {
    let app = spawn_app().await;
    let a = department_with_seal(&app, "甲市场监督管理局").await;
    let b = department_with_seal(&app, "乙市场监督管理局").await;
    define_business_license(&app, &[&a.id]).await;
    // A's client with B's seal.
    let r = app
        .post("/v1/licenses", Some(&a.token), &license_body(&b.seal_id))
        .await;
    expect_error(r, 403, "forbidden").await;
    // B is not an issuer of the type.
    let r = app
        .post("/v1/licenses", Some(&b.token), &license_body(&b.seal_id))
        .await;
    expect_error(r, 403, "forbidden").await;
    // A suspended seal.
    app.post_owned(format!("/v1/seals/{}/suspend", a.seal_id), a.token.clone())
        .await;
    let r = app
        .post("/v1/licenses", Some(&a.token), &license_body(&a.seal_id))
        .await;
    expect_error(r, 409, "seal_not_active").await;
}

async fn snapshot(app: &TestApp) -> Value {
    let r = app.get("/v1/license-status", None).await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

#[tokio::test]
async fn lifecycle_changes_the_signed_snapshot() {
    let app = spawn_app().await;
    let d = department_with_seal(&app, "福州市市场监督管理局").await;
    define_business_license(&app, &[&d.id]).await;
    let id = issue(&app, &d).await["id"].as_str().unwrap().to_string();
    assert_eq!(snapshot(&app).await["suspended"], json!([]));

    let post = |action: &str, body: Value| {
        let path = format!("/v1/licenses/{id}/{action}");
        let app = &app;
        let token = d.token.clone();
        async move { app.post(&path, Some(&token), &body).await }
    };
    let r = post("suspend", json!({"reason": "核查中"})).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "suspended");
    let published: Value =
        serde_json::from_slice(&std::fs::read(app.certs().join("license-status.json")).unwrap())
            .unwrap();
    assert_eq!(published["suspended"], json!([id]));
    let s = snapshot(&app).await;
    assert_eq!(s["suspended"], json!([id]));
    assert!(s["next_update"].as_i64().unwrap() > s["this_update"].as_i64().unwrap());

    expect_error(post("suspend", json!({})).await, 409, "license_status").await;
    assert_eq!(post("reinstate", json!({})).await.status(), 200);
    assert_eq!(snapshot(&app).await["suspended"], json!([]));
    expect_error(post("revoke", json!({})).await, 422, "invalid_field").await;
    let r = post("revoke", json!({"reason": "以欺骗手段取得"})).await;
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "revoked");
    let s = snapshot(&app).await;
    assert_eq!(s["revoked"], json!([id]));
    assert_eq!(s["suspended"], json!([]));
    expect_error(post("reinstate", json!({})).await, 409, "license_status").await;

    // Another department's client cannot change it.
    let other = department_with_seal(&app, "另一部门").await;
    let r = app
        .post(
            &format!("/v1/licenses/{id}/suspend"),
            Some(&other.token),
            &json!({}),
        )
        .await;
    expect_error(r, 403, "forbidden").await;

    if interop::available(
        "license status snapshot",
        &["python3", "python:pycose", "python:cbor2"],
    ) {
        let (ok, out) = interop::run(
            "check-cose.py",
            &[
                &app.certs().join("license-status.cose"),
                &app.certs().join("issuing-ca.pem"),
            ],
            &[],
        );
        assert!(ok && out.contains("check-cose: PASS"), "{out}");
        assert!(out.contains(&id), "{out}");
    }
}

#[tokio::test]
async fn an_idempotency_key_replays_and_refuses_another_body() {
    let app = spawn_app().await;
    let d = department_with_seal(&app, "福州市市场监督管理局").await;
    define_business_license(&app, &[&d.id]).await;
    let send = |body: Value| {
        app.http
            .post(format!("{}/v1/licenses", app.url))
            .bearer_auth(&d.token)
            .header("Idempotency-Key", "import-row-1")
            .json(&body)
            .send()
    };
    let first = send(license_body(&d.seal_id)).await.unwrap();
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let again = send(license_body(&d.seal_id)).await.unwrap();
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<Value>().await.unwrap()["id"], first["id"]);
    let mut other = license_body(&d.seal_id);
    other["fields"]["rep"] = json!("王五");
    let message = expect_error(send(other).await.unwrap(), 422, "invalid_field").await;
    assert!(message.starts_with("Idempotency-Key"), "{message}");
    // Only one license was made; the next one takes serial 2.
    let next = issue(&app, &d).await;
    assert!(
        next["id"].as_str().unwrap().contains(".00000002.001."),
        "{next}"
    );
}

/// Runs `govseal log audit` without blocking the test's runtime (the app's
/// log sequencer must keep running meanwhile).
async fn audit(app: &TestApp) -> (i32, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_govseal"))
        .args([
            "log",
            "audit",
            "--database-url",
            &app.database_url,
            "--data",
        ])
        .arg(app.dir.path().join("data"))
        .output()
        .await
        .expect("run govseal");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[tokio::test]
async fn issued_licenses_are_on_the_log_and_an_altered_record_fails_the_audit() {
    let app = spawn_app().await;
    let d = department_with_seal(&app, "福州市市场监督管理局").await;
    define_business_license(&app, &[&d.id]).await;
    let license = issue(&app, &d).await;
    let id = license["id"].as_str().unwrap().to_string();
    govseal::transparency::sequence_all(
        &app.state.db,
        &govseal::transparency::key::load(&app.state.db, &app.state.keys)
            .await
            .unwrap()
            .unwrap(),
        4096,
    )
    .await
    .unwrap();
    let (code, out) = audit(&app).await;
    assert_eq!(code, 0, "{out}");
    // Rewrite the stored record behind the log's back.
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE licenses SET record = $1 WHERE id = '{id}'"
    )))
    .bind(b"forged".to_vec())
    .execute(&app.state.db.pool)
    .await
    .unwrap();
    let (code, out) = audit(&app).await;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("entry") || out.contains(&id), "{out}");
}

/// Two processes sharing one database (two pools, each with its own
/// reserved serials) hand out unique serials, each in increasing order,
/// without using more than one block each beyond what they hand out.
#[tokio::test]
async fn serials_reserved_in_blocks_are_unique_across_processes() {
    use govseal::store::{Database, serials::BLOCK};
    let dir = tempfile::tempdir().unwrap();
    let url = common::fresh_database_url(dir.path()).await;
    let (a, b) = (
        Database::connect(&url).await.unwrap(),
        Database::connect(&url).await.unwrap(),
    );
    let (code, issuer) = ("11350100MB0000000X001", "11350100MB0000000X");
    let take = |db: Database| async move {
        let mut got = Vec::new();
        for _ in 0..40 {
            got.push(db.serials.next(&db.pool, code, issuer).await.unwrap());
        }
        got
    };
    let (from_a, from_b) = tokio::join!(take(a.clone()), take(b.clone()));
    for got in [&from_a, &from_b] {
        assert!(got.windows(2).all(|w| w[0] < w[1]), "increasing: {got:?}");
    }
    let mut all: Vec<i64> = from_a.iter().chain(&from_b).copied().collect();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), 80, "unique");
    assert_eq!(all[0], 1);
    assert!(*all.last().unwrap() <= 80 + 2 * BLOCK);
    // Another type and issuer has its own counter.
    assert_eq!(
        a.serials
            .next(&a.pool, "11350100MB0000000X002", issuer)
            .await
            .unwrap(),
        1
    );
}
