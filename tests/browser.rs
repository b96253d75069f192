//! The citizen page in a real browser: headless Debian Chromium loads
//! `/v/{payload}` from the running test server for a valid, a revoked and a
//! forged license QR, in Chinese and English, and the test reads what a
//! person would read (the rendered DOM's text). It also takes a phone-sized
//! screenshot (set `GOVSEAL_SCREENSHOT_OUT=docs/verify-page.png` to keep it).
//!
//! Skipped with a `SKIPPED` message when `/usr/bin/chromium` is missing,
//! unless `GOVSEAL_INTEROP=require`.

use crate::common;

use std::path::Path;
use std::time::Duration;

use common::{TestApp, spawn_app};
use serde_json::{Value, json};

const CHROMIUM: &str = "/usr/bin/chromium";
const TYPE_CODE: &str = "11100000000013127D001";
const HOLDER: &str = "福州市鼓楼区闽江智慧科技有限公司";
const ISSUER: &str = "福州市鼓楼区市场监督管理局";

fn chromium_available() -> bool {
    if Path::new(CHROMIUM).exists() {
        return true;
    }
    if std::env::var("GOVSEAL_INTEROP").as_deref() == Ok("require") {
        panic!("{CHROMIUM} is missing and GOVSEAL_INTEROP=require (apt-get install chromium)");
    }
    eprintln!("SKIPPED browser test: {CHROMIUM} not found (apt-get install chromium)");
    false
}

/// Runs headless Chromium with a fresh profile; kills it after a minute.
async fn chromium(args: &[String]) -> Vec<u8> {
    let profile = tempfile::tempdir().unwrap();
    let mut command = tokio::process::Command::new(CHROMIUM);
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(60), command.output())
        .await
        .expect("chromium finished within 60 s")
        .expect("chromium runs");
    assert!(
        output.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// The DOM after rendering, as Chromium serialises it.
async fn dom(url: &str) -> String {
    String::from_utf8(chromium(&["--dump-dom".into(), url.into()]).await).unwrap()
}

/// The text a person reads: the DOM without tags, entities decoded.
fn text(dom: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    let body = dom.split("<body>").nth(1).unwrap_or(dom);
    for c in body.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

async fn issue(app: &TestApp, token: &str, seal_id: &str, holder: &str) -> String {
    let body = json!({
        "type": TYPE_CODE, "seal_id": seal_id,
        "holder": {"name": holder, "id_type": "uscc", "id": "91110000600037341L"},
        "fields": {"name": holder, "rep": "林晓明", "addr": "福建省福州市鼓楼区五四路158号"}
    });
    let r = app.post("/v1/licenses", Some(token), &body).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let license: Value = r.json().await.unwrap();
    license["id"].as_str().unwrap().to_string()
}

async fn record(app: &TestApp, token: &str, id: &str) -> Vec<u8> {
    let r = app
        .get(&format!("/v1/licenses/{id}/record"), Some(token))
        .await;
    assert_eq!(r.status(), 200);
    r.bytes().await.unwrap().to_vec()
}

/// The record with its holder name replaced: the signature no longer matches.
fn forged(cose: &[u8], holder: &str) -> Vec<u8> {
    use coset::TaggedCborSerializable;
    let mut sign1 = coset::CoseSign1::from_tagged_slice(cose).unwrap();
    let mut claims =
        govseal::license::claims::LicenseClaims::from_cbor(sign1.payload.as_ref().unwrap())
            .unwrap();
    claims.holder_name = holder.into();
    sign1.payload = Some(claims.to_cbor().unwrap());
    sign1.to_tagged_vec().unwrap()
}

#[tokio::test]
async fn the_citizen_page_says_valid_revoked_or_not_genuine_in_a_browser() {
    if !chromium_available() {
        return;
    }
    let app = spawn_app().await;
    let d = app.create_department(ISSUER).await;
    let department = d["id"].as_str().unwrap().to_string();
    let token = app
        .create_client(
            &department,
            &["seals:manage", "licenses:issue", "licenses:manage"],
        )
        .await;
    let r = app
        .post(
            "/v1/seals",
            Some(&token),
            &json!({ "department_id": department, "type": "approval" }),
        )
        .await;
    assert_eq!(r.status(), 201);
    let seal_id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let f = |key: &str, zh: &str, en: &str| json!({"key": key, "label_zh": zh, "label_en": en, "type": "text", "required": true, "on_qr": true});
    let r = app
        .post(
            "/v1/license-types",
            Some(&app.admin_token),
            &json!({
                "code": TYPE_CODE, "name_zh": "营业执照", "name_en": "Business Licence",
                "issuers": [department], "validity_days": 0,
                "fields": [f("name", "名称", "Name"), f("rep", "法定代表人", "Legal representative"), f("addr", "住所", "Address")]
            }),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());

    let valid = issue(&app, &token, &seal_id, HOLDER).await;
    let revoked = issue(&app, &token, &seal_id, "福州市台江区某某商贸有限公司").await;
    let valid_url = govseal::license::qr::qr_url(&app.url, &record(&app, &token, &valid).await);
    let revoked_record = record(&app, &token, &revoked).await;
    let r = app
        .post(
            &format!("/v1/licenses/{revoked}/revoke"),
            Some(&token),
            &json!({"reason": "以欺骗手段取得"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let revoked_url = govseal::license::qr::qr_url(&app.url, &revoked_record);
    let script = "<script>document.title='pwned'</script>伪造公司";
    let forged_url = govseal::license::qr::qr_url(&app.url, &forged(&revoked_record, script));

    // Valid, in Chinese (the default) and in English.
    let page = text(&dom(&valid_url).await);
    assert!(page.contains("真实有效"), "{page}");
    assert!(page.contains(HOLDER), "{page}");
    assert!(page.contains(ISSUER), "{page}");
    assert!(page.contains(&valid), "{page}");
    assert!(
        page.contains("法定代表人") && page.contains("林晓明"),
        "{page}"
    );
    assert!(page.contains("吊销状态数据更新于"), "{page}");
    let page = text(&dom(&format!("{valid_url}?lang=en")).await);
    assert!(page.contains("Genuine and valid"), "{page}");
    assert!(page.contains("Legal representative"), "{page}");
    assert!(page.contains(HOLDER) && page.contains(ISSUER), "{page}");

    // Revoked after its QR was printed: the server's fresh status says so.
    let page = text(&dom(&revoked_url).await);
    assert!(page.contains("已吊销"), "{page}");
    assert!(!page.contains("真实有效"), "{page}");
    let page = text(&dom(&format!("{revoked_url}?lang=en")).await);
    assert!(page.contains("Revoked"), "{page}");

    // Forged: not genuine, and the script in its claims is shown as text.
    let forged_dom = dom(&forged_url).await;
    assert!(!forged_dom.contains("<script"), "{forged_dom}");
    assert!(!forged_dom.contains("pwned</title>"), "{forged_dom}");
    let page = text(&forged_dom);
    assert!(page.contains("无法验证·非真实"), "{page}");
    assert!(page.contains(script), "{page}");
    assert!(!page.contains("真实有效"), "{page}");

    // Garbage in the URL: a page that says so, never a 500.
    let page = text(&dom(&format!("{}/v/not-a-license", app.url)).await);
    assert!(page.contains("无法验证·非真实"), "{page}");

    // A phone-sized screenshot of the valid page.
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("verify-page.png");
    chromium(&[
        format!("--screenshot={}", png.display()),
        "--window-size=390,844".into(),
        "--hide-scrollbars".into(),
        valid_url.clone(),
    ])
    .await;
    let bytes = std::fs::read(&png).expect("screenshot written");
    assert!(bytes.starts_with(b"\x89PNG") && bytes.len() > 10_000);
    if let Ok(out) = std::env::var("GOVSEAL_SCREENSHOT_OUT") {
        std::fs::copy(&png, out).unwrap();
    }
}
