//! Offline verification of licenses: issued over HTTP, verified by the
//! `govseal verify` CLI (a separate process, no database, no network)
//! against a copy of the trust bundle; and `POST /v1/verify` with a record
//! and a QR text.

use crate::common;

use std::path::Path;
use std::process::Command;

use common::{TestApp, spawn_app};
use serde_json::{Value, json};

const TYPE_CODE: &str = "11100000000013127D001";

async fn setup(app: &TestApp) -> (String, String) {
    let d = app.create_department("福州市鼓楼区市场监督管理局").await;
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
    let f = |key: &str| json!({"key": key, "label_zh": key, "label_en": key, "type": "text", "required": true, "on_qr": true});
    let body = json!({
        "code": TYPE_CODE, "name_zh": "营业执照", "name_en": "Business Licence",
        "issuers": [id], "validity_days": 0, "fields": [f("name"), f("addr")]
    });
    let r = app
        .post("/v1/license-types", Some(&app.admin_token), &body)
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    (seal["id"].as_str().unwrap().to_string(), token)
}

/// Issues a license; returns its id and record bytes.
async fn issue(
    app: &TestApp,
    seal: &str,
    token: &str,
    valid_until: Option<&str>,
) -> (String, Vec<u8>) {
    let mut body = json!({
        "type": TYPE_CODE, "seal_id": seal,
        "holder": {"name": "福州某某科技有限公司", "id_type": "uscc", "id": "91110000600037341L"},
        "fields": {"name": "福州某某科技有限公司", "addr": "福建省福州市鼓楼区五四路158号"}
    });
    if let Some(until) = valid_until {
        body["valid_until"] = json!(until);
    }
    let r = app.post("/v1/licenses", Some(token), &body).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let view: Value = r.json().await.unwrap();
    let id = view["id"].as_str().unwrap().to_string();
    let r = app
        .get(&format!("/v1/licenses/{id}/record"), Some(token))
        .await;
    assert_eq!(r.status(), 200);
    (id, r.bytes().await.unwrap().to_vec())
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
    let sig = &r["signatures"][0];
    let sub = r["sub_indication"]
        .as_str()
        .or(sig["sub_indication"].as_str())
        .unwrap_or("");
    (r["indication"].as_str().unwrap().into(), sub.into())
}

#[tokio::test]
async fn licenses_verify_offline_with_a_copy_of_the_bundle() {
    let app = spawn_app().await;
    let (seal, token) = setup(&app).await;
    let (id, record) = issue(&app, &seal, &token, None).await;
    let (expiring, expiring_record) = issue(&app, &seal, &token, Some("2027-06-30")).await;
    let _ = expiring;
    let work = tempfile::tempdir().unwrap();
    let fresh = work.path().join("fresh");
    common::copy_bundle(&app, &fresh);
    assert!(std::fs::read_dir(fresh.join("seals")).unwrap().count() >= 1);
    let json: Value =
        serde_json::from_slice(&std::fs::read(fresh.join("bundle.json")).unwrap()).unwrap();
    assert!(
        json["license_status"]["cose_base64"].is_string(),
        "snapshot published at start-up"
    );

    let record_path = work.path().join("license.cose");
    std::fs::write(&record_path, &record).unwrap();
    let qr = govseal::license::qr::qr_url(&app.url, &record);
    let qr_path = work.path().join("qr.txt");
    std::fs::write(&qr_path, format!("{qr}\n")).unwrap();
    let rec = record_path.to_str().unwrap();

    // Valid: the record file, the QR text file, --qr, the URL as argument.
    for args in [
        vec![rec],
        vec![qr_path.to_str().unwrap()],
        vec!["--qr", &qr],
        vec![&qr],
    ] {
        let (code, r) = cli(&fresh, &args);
        assert_eq!(code, 0, "{args:?}: {r}");
        assert_eq!(r["license"]["license_id"], id.as_str());
        assert!(r["revocation_data"]["license_status"]["age_seconds"].is_i64());
    }
    // Human summary.
    let out = Command::new(env!("CARGO_BIN_EXE_govseal"))
        .args(["verify", rec, "--trust", fresh.to_str().unwrap()])
        .output()
        .unwrap();
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(
        summary.contains("有效 VALID") && summary.contains("证照状态快照"),
        "{summary}"
    );

    // Stale snapshot: two days later → TRY_LATER, unless --allow-stale.
    let later = (time::OffsetDateTime::now_utc() + time::Duration::days(2))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let (code, r) = cli(&fresh, &[rec, "--at", &later]);
    assert_eq!(
        (code, verdict(&r)),
        (2, ("INDETERMINATE".into(), "TRY_LATER".into())),
        "{r}"
    );
    let (code, r) = cli(&fresh, &[rec, "--at", &later, "--allow-stale"]);
    assert_eq!(code, 0, "{r}");

    // Expired: past valid_until.
    let exp_path = work.path().join("expiring.cose");
    std::fs::write(&exp_path, &expiring_record).unwrap();
    let (code, r) = cli(
        &fresh,
        &[
            exp_path.to_str().unwrap(),
            "--at",
            "2027-07-02T00:00:00Z",
            "--allow-stale",
        ],
    );
    assert_eq!(
        (code, verdict(&r)),
        (1, ("TOTAL-FAILED".into(), "EXPIRED".into())),
        "{r}"
    );

    // Forged: one byte of the record changed.
    let mut forged = record.clone();
    let n = forged.len() - 70;
    forged[n] ^= 0x01;
    std::fs::write(&record_path, &forged).unwrap();
    let (code, r) = cli(&fresh, &[rec]);
    assert_eq!(code, 1, "{r}");
    assert!(r["license"].is_null());
    std::fs::write(&record_path, &record).unwrap();

    // Wrong prefix.
    let payload = qr.rsplit('/').next().unwrap();
    let (code, r) = cli(
        &fresh,
        &["--qr", &format!("https://evil.example.com/v/{payload}")],
    );
    assert_eq!(
        (code, verdict(&r)),
        (1, ("TOTAL-FAILED".into(), "FORMAT_FAILURE".into()))
    );

    // Signed by a key whose certificate is not in the bundle: another installation.
    let other = spawn_app().await;
    let (other_seal, other_token) = setup(&other).await;
    let (_, foreign) = issue(&other, &other_seal, &other_token, None).await;
    std::fs::write(&record_path, &foreign).unwrap();
    let (code, r) = cli(&fresh, &[rec]);
    assert_eq!(
        (code, verdict(&r)),
        (
            2,
            (
                "INDETERMINATE".into(),
                "NO_SIGNING_CERTIFICATE_FOUND".into()
            )
        ),
        "{r}"
    );
    std::fs::write(&record_path, &record).unwrap();

    // Suspended, then revoked: a fresh bundle says so; the old copy does not know.
    let r = app
        .post(
            &format!("/v1/licenses/{id}/suspend"),
            Some(&token),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let suspended = work.path().join("suspended");
    common::copy_bundle(&app, &suspended);
    let (code, r) = cli(&suspended, &[rec]);
    assert_eq!(
        (code, verdict(&r)),
        (2, ("INDETERMINATE".into(), "TRY_LATER".into())),
        "{r}"
    );
    assert_eq!(r["license"]["status"], "suspended");
    let r = app
        .post(
            &format!("/v1/licenses/{id}/revoke"),
            Some(&token),
            &json!({"reason": "吊销"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let revoked = work.path().join("revoked");
    common::copy_bundle(&app, &revoked);
    let (code, r) = cli(&revoked, &["--qr", &qr]);
    assert_eq!(
        (code, verdict(&r)),
        (1, ("TOTAL-FAILED".into(), "REVOKED".into())),
        "{r}"
    );
    assert_eq!(
        cli(&fresh, &[rec]).0,
        0,
        "the old copy predates the revocation"
    );
}

#[tokio::test]
async fn post_verify_takes_a_record_and_a_qr_text() {
    let app = spawn_app().await;
    let (seal, token) = setup(&app).await;
    let (id, record) = issue(&app, &seal, &token, None).await;
    let http = reqwest::Client::new();
    let post = |ct: &'static str, body: Vec<u8>| {
        http.post(format!("{}/v1/verify", app.url))
            .header("content-type", ct)
            .body(body)
            .send()
    };
    let r: Value = post("application/cose", record.clone())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["indication"], "TOTAL-PASSED", "{r}");
    assert_eq!(r["license"]["license_id"], id.as_str());
    // The bundle's signatures verified for this request are remembered for
    // the next ones: every request's trust store shares the server's memo.
    assert!(app.state.verify_memo.remembered() > 0);
    let qr = govseal::license::qr::qr_url(&app.url, &record);
    let r: Value = post("text/plain", qr.into_bytes())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["indication"], "TOTAL-PASSED", "{r}");
    let r: Value = post("text/plain", b"https://evil.example/v/AAAA".to_vec())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["sub_indication"], "FORMAT_FAILURE");
    let r = post("application/cose", vec![0xd2; 100_000]).await.unwrap();
    assert_eq!(r.status(), 413);
    let r = post("image/gif", vec![1, 2, 3]).await.unwrap();
    assert_eq!(r.status(), 415);
}

#[tokio::test]
async fn bundle_export_writes_a_complete_offline_bundle_from_the_database() {
    let app = spawn_app().await;
    let (seal, token) = setup(&app).await;
    let (id, record) = issue(&app, &seal, &token, None).await;
    let r = app
        .post(
            &format!("/v1/licenses/{id}/suspend"),
            Some(&token),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let out_dir = tempfile::tempdir().unwrap();
    let dir = out_dir.path().join("bundle");
    // Without blocking the runtime: the app's tasks may hold locks the export waits for.
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_govseal"))
        .args([
            "bundle",
            "export",
            "--database-url",
            &app.database_url,
            "--data",
        ])
        .arg(app.dir.path().join("data"))
        .arg(&dir)
        .env(
            "GOVSEAL_MASTER_KEY",
            "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
        )
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for file in [
        "root.pem",
        "issuing-ca.pem",
        "tsa.pem",
        "crl/root.crl",
        "crl/issuing-ca.crl",
        "license-status.cose",
        "license-status.json",
        "license-issuers.cose",
        "log-key.txt",
        "checkpoint.txt",
        "bundle.json",
    ] {
        assert!(dir.join(file).is_file(), "{file} missing");
    }
    assert_eq!(std::fs::read_dir(dir.join("seals")).unwrap().count(), 1);
    let record_path = out_dir.path().join("license.cose");
    std::fs::write(&record_path, &record).unwrap();
    let (code, r) = cli(&dir, &[record_path.to_str().unwrap()]);
    assert_eq!(
        (code, verdict(&r)),
        (2, ("INDETERMINATE".into(), "TRY_LATER".into())),
        "{r}"
    );
    assert_eq!(r["license"]["status"], "suspended");
    let data = &r["revocation_data"];
    assert_eq!(data["crls"].as_array().unwrap().len(), 2, "{data}");
    assert!(data["crls"][0]["age_seconds"].as_i64().unwrap() < 600);
    assert!(data["license_status"]["age_seconds"].as_i64().unwrap() < 600);
    assert_eq!(data["license_status"]["suspended"], 1);
}
