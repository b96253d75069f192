//! License fixtures shared by tests and benches: a department allowed to
//! issue licenses with an approval seal, the 12-field business license type
//! (营业执照) with realistic Chinese text, and an issuance body for it.

use serde_json::{Value, json};

use super::TestApp;

/// The business license type: the SAMR's USCC followed by 001.
pub const TYPE_CODE: &str = "11100000000013127D001";

/// A department with a licensing client and an approval seal.
pub struct Issuer {
    /// The department's id.
    pub id: String,
    /// The seal.
    pub seal_id: String,
    /// The client's token (seals:manage, licenses:issue, licenses:manage).
    pub token: String,
    /// The seal certificate (PEM).
    pub seal_pem: String,
}

/// Creates a department, a licensing client and an approval seal.
pub async fn issuer(app: &TestApp, name: &str) -> Issuer {
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
    Issuer {
        id,
        seal_id: seal["id"].as_str().unwrap().to_string(),
        token,
        seal_pem: seal["certificate_pem"].as_str().unwrap().to_string(),
    }
}

/// The 12-field business license type definition issued by `issuers`.
pub fn business_license_type(issuers: &[&str]) -> Value {
    let f = |key: &str, zh: &str, en: &str, ty: &str| json!({"key": key, "label_zh": zh, "label_en": en, "type": ty, "required": true, "on_qr": true});
    let mut kind = f("type", "类型", "Type", "enum");
    kind["values"] = json!(["有限责任公司（自然人投资或控股）", "个体工商户"]);
    json!({
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
    })
}

/// Defines the business license type (as the platform operator).
pub async fn define_business_license(app: &TestApp, issuers: &[&str]) {
    let r = app
        .post(
            "/v1/license-types",
            Some(&app.admin_token),
            &business_license_type(issuers),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
}

/// A `POST /v1/licenses` body for a business license signed by `seal_id`.
pub fn business_license(seal_id: &str) -> Value {
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
