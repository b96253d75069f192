//! License library fixtures: a using department, a holder-facing app, a
//! service item whose use list names the business license, and a trace of
//! one granted use and one refused use.

use serde_json::{Value, json};

use super::TestApp;
use super::licenses::{Issuer, TYPE_CODE};

/// The service item the fixtures publish.
pub const ITEM: &str = "FW-BDC-0001";
/// The business license's holder (a USCC).
pub const HOLDER: &str = "91110000600037341L";
/// The operator named in the fixtures' uses (personal data).
pub const OPERATOR: &str = "张办事员";
/// The reason given in the fixtures' uses (personal data).
pub const REASON: &str = "办理不动产转移登记（受理号 BDC-2026-0001）";

/// The using department and the holder's app.
pub struct Library {
    /// The department that handles the item.
    pub user_id: String,
    /// Its `licenses:use` client.
    pub user_token: String,
    /// A `consents:create` client (a holder-facing app).
    pub app_token: String,
}

/// Publishes the item (handled by a new department) and its use list entry
/// for the business license (`name`, `rep`, `holder_name`; consent required).
pub async fn publish(app: &TestApp, issuer: &Issuer) -> Library {
    let user = app.create_department("福州市不动产登记中心").await;
    let user_id = user["id"].as_str().unwrap().to_string();
    let user_token = app.create_client(&user_id, &["licenses:use"]).await;
    let app_token = app.create_client(&issuer.id, &["consents:create"]).await;
    let r = app
        .post(
            "/v1/service-items",
            Some(&app.admin_token),
            &json!({"code": ITEM, "name_zh": "不动产转移登记", "name_en": "Real estate transfer registration", "departments": [user_id]}),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let r = app
        .post(
            &format!("/v1/service-items/{ITEM}/uses"),
            Some(&app.admin_token),
            &use_entry(&["name", "rep", "holder_name"], "required"),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    Library {
        user_id,
        user_token,
        app_token,
    }
}

/// A use list entry body for the business license.
pub fn use_entry(fields: &[&str], consent: &str) -> Value {
    json!({"license_type": TYPE_CODE, "fields": fields, "consent": consent,
           "legal_basis": "《不动产登记暂行条例实施细则》第三十八条"})
}

/// A consent code of the holder for the item (created by the app).
pub async fn consent(app: &TestApp, lib: &Library, extra: Value) -> Value {
    let mut body = json!({"holder": {"id_type": "uscc", "id": HOLDER}, "service_item": ITEM,
                          "license_types": [TYPE_CODE]});
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    let r = app.post("/v1/consents", Some(&lib.app_token), &body).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    r.json().await.unwrap()
}

/// `POST /v1/license-uses` by `token`, with `consent_code` if given.
pub async fn use_licenses(app: &TestApp, token: &str, code: Option<&str>) -> reqwest::Response {
    let mut body = json!({"service_item": ITEM, "holder": {"id_type": "uscc", "id": HOLDER},
                          "reason": REASON, "operator": OPERATOR});
    if let Some(code) = code {
        body["consent_code"] = json!(code);
    }
    app.post("/v1/license-uses", Some(token), &body).await
}

/// One refused use (no consent) and one granted use (with a consent code);
/// returns the granted use's id.
pub async fn trace(app: &TestApp, lib: &Library) -> String {
    let r = use_licenses(app, &lib.user_token, None).await;
    assert_eq!(r.status(), 403, "{}", r.text().await.unwrap());
    let code = consent(app, lib, json!({})).await;
    let r = use_licenses(app, &lib.user_token, code["code"].as_str()).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let granted: Value = r.json().await.unwrap();
    granted["id"].as_str().unwrap().to_string()
}
