//! `govseal log audit` against every lifecycle action (issue 16): an
//! untouched database audits clean after each one, on SQLite and (with
//! `GOVSEAL_TEST_DATABASE_URL`) PostgreSQL.

use crate::common;

use common::licenses::{business_license, define_business_license, issuer};
use common::{TestApp, spawn_app};
use serde_json::{Value, json};

/// Runs `govseal log audit` on the app's database: (exit code, stdout + stderr).
pub(crate) fn audit(app: &TestApp) -> (i32, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_govseal"))
        .args([
            "log",
            "audit",
            "--database-url",
            &app.database_url,
            "--data",
        ])
        .arg(app.dir.path().join("data"))
        .arg("--log-key")
        .arg(app.certs().join("log-key.txt"))
        .output()
        .expect("run govseal");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

async fn issue_license(app: &TestApp, token: &str, seal_id: &str) -> String {
    let r = app
        .post("/v1/licenses", Some(token), &business_license(seal_id))
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let v: Value = r.json().await.unwrap();
    v["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_clean_database_audits_clean_after_every_lifecycle_action() {
    let app = spawn_app().await;
    let d = issuer(&app, "福州市市场监督管理局").await;
    define_business_license(&app, &[&d.id]).await;
    let lifecycle = issue_license(&app, &d.token, &d.seal_id).await;
    let renewed = issue_license(&app, &d.token, &d.seal_id).await;
    let amended = issue_license(&app, &d.token, &d.seal_id).await;
    let r = app
        .post(
            "/v1/seals",
            Some(&d.token),
            &json!({ "department_id": d.id, "type": "contract" }),
        )
        .await;
    assert_eq!(r.status(), 201);
    let seal = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let other = app.create_department("福州市自然资源和规划局").await;
    let other_id = other["id"].as_str().unwrap().to_string();
    let other_token = app.create_client(&other_id, &["seals:manage"]).await;
    let clients: Value = app
        .get(
            &format!("/v1/departments/{other_id}/clients"),
            Some(&app.admin_token),
        )
        .await
        .json()
        .await
        .unwrap();
    let client_id = clients
        .as_array()
        .or(clients["clients"].as_array())
        .and_then(|c| c.first())
        .and_then(|c| c["id"].as_str())
        .unwrap_or_else(|| panic!("a client in {clients}"))
        .to_string();
    let (code, out) = audit(&app);
    assert_eq!(code, 0, "after set-up: {out}");

    let admin = app.admin_token.clone();
    // (action, path, token, body, expected HTTP status)
    let actions: Vec<(&str, String, &str, Value, u16)> = vec![
        (
            "license suspend",
            format!("/v1/licenses/{lifecycle}/suspend"),
            &d.token,
            json!({"reason": "核查中"}),
            200,
        ),
        (
            "license reinstate",
            format!("/v1/licenses/{lifecycle}/reinstate"),
            &d.token,
            json!({}),
            200,
        ),
        (
            "license revoke",
            format!("/v1/licenses/{lifecycle}/revoke"),
            &d.token,
            json!({"reason": "以欺骗手段取得"}),
            200,
        ),
        (
            "license renew",
            format!("/v1/licenses/{renewed}/renew"),
            &d.token,
            json!({}),
            201,
        ),
        (
            "license amend",
            format!("/v1/licenses/{amended}/amend"),
            &d.token,
            json!({"fields": {"addr": "福建省福州市台江区工业路1号"}}),
            201,
        ),
        (
            "seal suspend",
            format!("/v1/seals/{seal}/suspend"),
            &d.token,
            json!({}),
            200,
        ),
        (
            "seal reinstate",
            format!("/v1/seals/{seal}/reinstate"),
            &d.token,
            json!({}),
            200,
        ),
        (
            "seal revoke",
            format!("/v1/seals/{seal}/revoke"),
            &d.token,
            json!({}),
            200,
        ),
        (
            "department certificate revoke",
            format!("/v1/departments/{other_id}/certificate/revoke"),
            &admin,
            json!({"reason": "keyCompromise"}),
            200,
        ),
        (
            "client revoke",
            format!("/v1/departments/{other_id}/clients/{client_id}/revoke"),
            &admin,
            json!({}),
            200,
        ),
    ];
    for (action, path, token, body, status) in actions {
        let r = app.post(&path, Some(token), &body).await;
        assert_eq!(
            r.status(),
            status,
            "{action}: {}",
            r.text().await.unwrap_or_default()
        );
        let (code, out) = audit(&app);
        assert_eq!(code, 0, "the audit after {action} must pass: {out}");
        assert!(out.contains("log audit passed"), "{action}: {out}");
    }
    drop(other_token);
}
