//! The license library (issue 19), end to end over HTTP on SQLite and (with
//! `GOVSEAL_TEST_DATABASE_URL`) PostgreSQL: a service item and its use
//! list, a granted use with the holder's consent, refusals without it, with
//! a replayed, an expired, a revoked or another holder's consent, and from a
//! department outside the list; the use records each party sees, the CSV
//! export, the log entries of each, and a clean audit.

use std::collections::BTreeMap;

use crate::common;
use crate::log_audit::audit;

use base64::Engine as _;
use common::library::{self, HOLDER, ITEM, OPERATOR, REASON, consent, use_licenses};
use common::licenses::{TYPE_CODE, business_license, define_business_license, issuer};
use common::{TestApp, expect_error, spawn_app};
use serde_json::{Value, json};

async fn uses_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM license_uses")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap()
}

async fn json_of(r: reqwest::Response) -> Value {
    r.json().await.unwrap()
}

fn pem_der(pem: &str) -> Vec<u8> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap()
}

/// An app with an issuing department that issued one business license.
async fn issued() -> (TestApp, common::licenses::Issuer, String) {
    let app = spawn_app().await;
    let a = issuer(&app, "福州市市场监督管理局").await;
    define_business_license(&app, &[&a.id]).await;
    let r = app
        .post(
            "/v1/licenses",
            Some(&a.token),
            &business_license(&a.seal_id),
        )
        .await;
    assert_eq!(r.status(), 201);
    let license = json_of(r).await["id"].as_str().unwrap().to_string();
    (app, a, license)
}

#[tokio::test]
async fn a_listed_department_reuses_a_license_with_consent_and_every_party_sees_the_trace() {
    let (app, a, license) = issued().await;

    // Only the operator publishes; bad input is named.
    let item = json!({"code": "X-1", "name_zh": "事项", "name_en": "Item", "departments": [a.id]});
    expect_error(
        app.post("/v1/service-items", Some(&a.token), &item).await,
        403,
        "forbidden",
    )
    .await;
    let bad = json!({"code": "X-1", "name_zh": "事项", "name_en": "Item", "departments": ["nope"]});
    let m = expect_error(
        app.post("/v1/service-items", Some(&app.admin_token), &bad)
            .await,
        422,
        "invalid_field",
    )
    .await;
    assert!(m.contains("departments[0]"), "{m}");
    let lib = library::publish(&app, &a).await;
    expect_error(
        app.post(
            "/v1/service-items",
            Some(&app.admin_token),
            &json!({"code": ITEM, "name_zh": "重复", "name_en": "Dup", "departments": [lib.user_id]}),
        )
        .await,
        409,
        "duplicate_service_item",
    )
    .await;
    let m = expect_error(
        app.post(
            &format!("/v1/service-items/{ITEM}/uses"),
            Some(&app.admin_token),
            &library::use_entry(&["name", "salary"], "required"),
        )
        .await,
        422,
        "invalid_field",
    )
    .await;
    assert!(m.contains("fields[1]") && m.contains("salary"), "{m}");

    // Without consent: refused, and recorded.
    let before = uses_count(&app).await;
    expect_error(
        use_licenses(&app, &lib.user_token, None).await,
        403,
        "consent_required",
    )
    .await;
    assert_eq!(uses_count(&app).await, before + 1);

    // A malformed request is a 422 and records nothing.
    let r = app
        .post(
            "/v1/license-uses",
            Some(&lib.user_token),
            &json!({"service_item": ITEM, "holder": {"id_type": "uscc", "id": "91110000600037341X"},
                    "reason": REASON, "operator": OPERATOR}),
        )
        .await;
    let m = expect_error(r, 422, "invalid_field").await;
    assert!(m.contains("holder.id"), "{m}");
    assert_eq!(uses_count(&app).await, before + 1);

    // With the holder's consent: granted, minimised, signed.
    let code = consent(&app, &lib, json!({})).await;
    let text = code["code"].as_str().unwrap();
    assert_eq!(text.len(), 14, "{code}");
    assert!(code["qr_svg"].as_str().unwrap().starts_with("<svg"));
    let r = use_licenses(&app, &lib.user_token, Some(text)).await;
    assert_eq!(r.status(), 201);
    let granted = json_of(r).await;
    let released = &granted["licenses"].as_array().unwrap()[..];
    assert_eq!(released.len(), 1, "{granted}");
    assert_eq!(released[0]["id"], license.as_str());
    assert_eq!(released[0]["type"], TYPE_CODE);
    let fields: BTreeMap<String, String> =
        serde_json::from_value(released[0]["fields"].clone()).unwrap();
    assert_eq!(
        fields.keys().collect::<Vec<_>>(),
        ["holder_name", "name", "rep"],
        "only the listed fields leave the library"
    );
    assert!(
        !granted.to_string().contains("五四路158号"),
        "the address is not listed"
    );
    // The relying party checks the released fields against the signed record.
    let record = base64::engine::general_purpose::STANDARD
        .decode(released[0]["record"].as_str().unwrap())
        .unwrap();
    let (claims, _) =
        govseal::license::record::verify_record(&record, &[pem_der(&a.seal_pem)]).unwrap();
    assert_eq!(claims.license_id.as_str(), license);
    for key in released[0]["signed_fields"].as_array().unwrap() {
        let key = key.as_str().unwrap();
        let signed = if key == "holder_name" {
            claims.holder_name.clone()
        } else {
            claims
                .fields
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
                .unwrap()
        };
        assert_eq!(fields[key], signed, "{key}");
    }
    let use_id = granted["id"].as_str().unwrap().to_string();

    // The original, within the use, to the using department only.
    let pdf_path = format!("/v1/license-uses/{use_id}/licenses/{license}/pdf");
    let r = app.get(&pdf_path, Some(&lib.user_token)).await;
    assert_eq!(r.status(), 200);
    assert!(r.bytes().await.unwrap().starts_with(b"%PDF-"));
    expect_error(app.get(&pdf_path, Some(&a.token)).await, 403, "forbidden").await;

    // The same code again: refused (409) and recorded.
    let before = uses_count(&app).await;
    expect_error(
        use_licenses(&app, &lib.user_token, Some(text)).await,
        409,
        "consent_used_or_expired",
    )
    .await;
    // An expired code.
    let short = consent(&app, &lib, json!({"ttl_seconds": 1})).await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    expect_error(
        use_licenses(&app, &lib.user_token, short["code"].as_str()).await,
        409,
        "consent_used_or_expired",
    )
    .await;
    // A revoked code.
    let revoked = consent(&app, &lib, json!({})).await;
    let r = app
        .post(
            &format!("/v1/consents/{}/revoke", revoked["id"].as_str().unwrap()),
            Some(&lib.app_token),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(json_of(r).await["state"], "revoked");
    expect_error(
        use_licenses(&app, &lib.user_token, revoked["code"].as_str()).await,
        409,
        "consent_used_or_expired",
    )
    .await;
    // A department that does not handle the item, even with a valid code.
    let other = app.create_department("某区民政局").await;
    let other_id = other["id"].as_str().unwrap().to_string();
    let other_token = app.create_client(&other_id, &["licenses:use"]).await;
    let unused = consent(&app, &lib, json!({})).await;
    expect_error(
        use_licenses(&app, &other_token, unused["code"].as_str()).await,
        403,
        "not_on_use_list",
    )
    .await;
    // A consent bound to another department.
    let bound = consent(&app, &lib, json!({"department_id": lib.user_id})).await;
    let r = app
        .post(
            "/v1/consents",
            Some(&lib.app_token),
            &json!({"holder": {"id_type": "uscc", "id": HOLDER}, "service_item": ITEM,
                    "license_types": [TYPE_CODE], "department_id": other_id}),
        )
        .await;
    let m = expect_error(r, 422, "invalid_field").await;
    assert!(m.contains("department_id"), "{m}");
    // The unused codes still work for the right department (nothing changed).
    let r = use_licenses(&app, &lib.user_token, bound["code"].as_str()).await;
    assert_eq!(r.status(), 201);
    assert_eq!(uses_count(&app).await, before + 5);
    // Guessed or hostile codes: refused as unknown, recorded, nothing else.
    for guess in [
        "0000-0000-0000",
        "' OR 1=1 --",
        "ＡＢＣＤ-ＥＦＧＨ-ＪＫＭＮ",
    ] {
        expect_error(
            use_licenses(&app, &lib.user_token, Some(guess)).await,
            403,
            "consent_invalid",
        )
        .await;
    }
    assert_eq!(uses_count(&app).await, before + 8);

    // A client without licenses:use is refused before anything is judged.
    expect_error(use_licenses(&app, &a.token, None).await, 403, "forbidden").await;
    // Consent codes come only from consents:create clients.
    let r = app
        .post(
            "/v1/consents",
            Some(&lib.user_token),
            &json!({"holder": {"id_type": "uscc", "id": HOLDER}, "service_item": ITEM, "license_types": [TYPE_CODE]}),
        )
        .await;
    expect_error(r, 403, "forbidden").await;

    // The trace, as each party sees it.
    let all = json_of(app.get("/v1/license-uses", Some(&app.admin_token)).await).await;
    let all = all.as_array().unwrap();
    assert_eq!(all.len() as i64, uses_count(&app).await);
    let outcomes: Vec<(&str, &str)> = all
        .iter()
        .map(|u| {
            (
                u["outcome"].as_str().unwrap(),
                u["refusal"].as_str().unwrap_or(""),
            )
        })
        .collect();
    for expected in [
        ("refused", "consent_required"),
        ("granted", ""),
        ("refused", "consent_used_or_expired"),
        ("refused", "not_on_use_list"),
    ] {
        assert!(outcomes.contains(&expected), "{expected:?} in {outcomes:?}");
    }
    let granted_view = all.iter().find(|u| u["id"] == use_id.as_str()).unwrap();
    assert_eq!(granted_view["operator"], OPERATOR);
    assert_eq!(granted_view["reason"], REASON);
    assert_eq!(granted_view["department_id"], lib.user_id.as_str());
    assert_eq!(granted_view["service_item"], ITEM);
    assert_eq!(granted_view["licenses"][0]["id"], license.as_str());
    assert!(granted_view["consent_id"].is_string());

    // The issuer sees the uses of its license.
    let by_issuer = json_of(
        app.get(
            &format!("/v1/license-uses?license_id={license}"),
            Some(&a.token),
        )
        .await,
    )
    .await;
    let ids: Vec<&str> = by_issuer
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&use_id.as_str()), "{by_issuer}");
    let r = app
        .get(&format!("/v1/license-uses/{use_id}"), Some(&a.token))
        .await;
    assert_eq!(r.status(), 200);
    // The other department sees only its own refusal.
    let theirs = json_of(app.get("/v1/license-uses", Some(&other_token)).await).await;
    let theirs = theirs.as_array().unwrap();
    assert_eq!(theirs.len(), 1, "{theirs:?}");
    assert_eq!(theirs[0]["refusal"], "not_on_use_list");
    expect_error(
        app.get(&format!("/v1/license-uses/{use_id}"), Some(&other_token))
            .await,
        404,
        "not_found",
    )
    .await;
    // The holder's app sees who used the holder's licenses.
    let holder = json_of(
        app.get(
            &format!("/v1/license-uses?holder={HOLDER}"),
            Some(&lib.app_token),
        )
        .await,
    )
    .await;
    assert_eq!(holder.as_array().unwrap().len(), all.len());
    // The operator exports CSV, by item and period.
    let r = app
        .get(
            &format!("/v1/license-uses?format=csv&service_item={ITEM}&from=0&type={TYPE_CODE}"),
            Some(&app.admin_token),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = r.text().await.unwrap();
    // Python's csv module (a reader we did not write) reads it back.
    if common::interop::available("license use CSV", &["python3"]) {
        let path = app.dir.path().join("uses.csv");
        std::fs::write(&path, &csv).unwrap();
        let out = std::process::Command::new("python3")
            .args([
                "-c",
                "import csv,sys; rows=list(csv.DictReader(open(sys.argv[1], encoding='utf-8'))); \
                 print(len(rows), rows[0]['operator'], rows[0]['outcome'])",
            ])
            .arg(&path)
            .output()
            .unwrap();
        let printed = String::from_utf8_lossy(&out.stdout);
        assert_eq!(printed.trim(), format!("2 {OPERATOR} granted"), "{out:?}");
    }
    assert!(csv.starts_with("id,created_at,outcome,"), "{csv}");
    assert!(csv.contains(&use_id) && csv.contains(OPERATOR), "{csv}");
    assert_eq!(
        csv.lines().count(),
        3,
        "the granted uses of the type: {csv}"
    );
    expect_error(
        app.get("/v1/license-uses?format=csv", Some(&a.token)).await,
        403,
        "forbidden",
    )
    .await;
    expect_error(
        app.get("/v1/license-uses?from=yesterday", Some(&app.admin_token))
            .await,
        422,
        "invalid_field",
    )
    .await;

    // Every use and refusal, every consent and the use list are logged,
    // with nothing personal in clear; the audit re-derives them all.
    app.sequenced().await;
    let entries = json_of(app.get("/v1/log/entries?start=0&end=1000", None).await).await;
    let entries = entries.as_array().unwrap();
    let kinds = |kind: &str| entries.iter().filter(|e| e["kind"] == kind).count();
    assert_eq!(kinds("license-used") as i64, uses_count(&app).await);
    assert_eq!(kinds("service-item-created"), 1);
    assert_eq!(kinds("service-item-department-added"), 1);
    assert_eq!(kinds("use-list-changed"), 1);
    assert_eq!(kinds("consent-created"), 5);
    // Used twice (granted uses), revoked once.
    assert_eq!(kinds("consent-changed"), 3);
    let published = serde_json::to_string(entries).unwrap();
    for personal in [OPERATOR, REASON, HOLDER] {
        assert!(
            !published.contains(personal),
            "{personal} in the public log"
        );
    }
    let (code, out) = audit(&app);
    assert_eq!(code, 0, "{out}");
}

#[tokio::test]
async fn a_use_is_judged_against_the_use_list_version_in_force() {
    let (app, a, _) = issued().await;
    let lib = library::publish(&app, &a).await;
    let first = json_of(
        app.get(&format!("/v1/service-items/{ITEM}"), Some(&lib.user_token))
            .await,
    )
    .await;
    let v1 = first["uses"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(first["uses"][0]["version"], 1);

    // Version 2: a legal person's public license, no consent, one field.
    let r = app
        .post(
            &format!("/v1/service-items/{ITEM}/uses"),
            Some(&app.admin_token),
            &library::use_entry(&["name"], "not_required"),
        )
        .await;
    assert_eq!(r.status(), 201);
    let v2 = json_of(r).await;
    assert_eq!(v2["version"], 2);
    let r = use_licenses(&app, &lib.user_token, None).await;
    assert_eq!(r.status(), 201, "no consent needed under version 2");
    let granted = json_of(r).await;
    let fields = granted["licenses"][0]["fields"].as_object().unwrap();
    assert_eq!(fields.keys().collect::<Vec<_>>(), ["name"]);
    let view = json_of(
        app.get(
            &format!("/v1/license-uses/{}", granted["id"].as_str().unwrap()),
            Some(&app.admin_token),
        )
        .await,
    )
    .await;
    assert_eq!(
        view["use_list"],
        json!([v2["id"]]),
        "the version judged against"
    );
    assert_ne!(view["use_list"][0], v1.as_str());

    // Withdrawn: the item no longer lists the type.
    let mut withdraw = library::use_entry(&["name"], "not_required");
    withdraw["active"] = json!(false);
    let r = app
        .post(
            &format!("/v1/service-items/{ITEM}/uses"),
            Some(&app.admin_token),
            &withdraw,
        )
        .await;
    assert_eq!(r.status(), 201);
    expect_error(
        use_licenses(&app, &lib.user_token, None).await,
        403,
        "not_on_use_list",
    )
    .await;
    // A consent cannot name a type off the list.
    let r = app
        .post(
            "/v1/consents",
            Some(&lib.app_token),
            &json!({"holder": {"id_type": "uscc", "id": HOLDER}, "service_item": ITEM, "license_types": [TYPE_CODE]}),
        )
        .await;
    let m = expect_error(r, 422, "invalid_field").await;
    assert!(m.contains("license_types[0]"), "{m}");
    let (code, out) = audit(&app);
    assert_eq!(code, 0, "{out}");
}

#[tokio::test]
async fn concurrent_uses_of_one_consent_code_grant_exactly_one() {
    let (app, a, _) = issued().await;
    let lib = library::publish(&app, &a).await;
    let code = consent(&app, &lib, json!({})).await;
    let code = code["code"].as_str().unwrap().to_string();
    let tasks: Vec<_> =
        (0..20)
            .map(|_| {
                let (url, token, code) = (app.url.clone(), lib.user_token.clone(), code.clone());
                tokio::spawn(async move {
                    reqwest::Client::new()
                    .post(format!("{url}/v1/license-uses"))
                    .bearer_auth(token)
                    .json(&json!({"service_item": ITEM, "holder": {"id_type": "uscc", "id": HOLDER},
                                  "reason": REASON, "operator": OPERATOR, "consent_code": code}))
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
                })
            })
            .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|&&s| s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|&&s| s == 409).count(),
        19,
        "{statuses:?}"
    );
    let (code, out) = audit(&app);
    assert_eq!(code, 0, "{out}");
}

/// `govseal verify ARGS…`: (exit code, stdout + stderr).
fn verify(args: &[&std::ffi::OsStr]) -> (i32, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_govseal"))
        .arg("verify")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[tokio::test]
async fn two_installations_recognise_each_others_licenses() {
    // Two provinces, each its own PKI, on loopback.
    let foreign = spawn_app().await;
    let foreign_certs = foreign.certs();
    // The home service is configured with the foreign bundle (互认).
    let home = common::spawn_app_with(|c| c.foreign_trust = vec![foreign_certs.clone()]).await;
    let alone = spawn_app().await;
    let f = issuer(&foreign, "上海市市场监督管理局").await;
    define_business_license(&foreign, &[&f.id]).await;
    let r = foreign
        .post(
            "/v1/licenses",
            Some(&f.token),
            &business_license(&f.seal_id),
        )
        .await;
    assert_eq!(r.status(), 201);
    let license = json_of(r).await["id"].as_str().unwrap().to_string();
    let record = foreign
        .get(&format!("/v1/licenses/{license}/record"), Some(&f.token))
        .await
        .bytes()
        .await
        .unwrap();
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("license.cose");
    std::fs::write(&file, &record).unwrap();
    let home_certs = home.certs();
    // POST /v1/verify: the configured service recognises it, another does not.
    let post_record = |app: &TestApp| {
        app.http
            .post(format!("{}/v1/verify", app.url))
            .header("content-type", "application/cose")
            .body(record.to_vec())
            .send()
    };
    let report = json_of(post_record(&home).await.unwrap()).await;
    assert_eq!(report["indication"], "TOTAL-PASSED", "{report}");
    let report = json_of(post_record(&alone).await.unwrap()).await;
    assert_ne!(report["indication"], "TOTAL-PASSED", "{report}");
    let trust = std::ffi::OsStr::new("--trust");

    // The home bundle alone does not know the foreign seal.
    let (code, out) = verify(&[file.as_os_str(), trust, home_certs.as_os_str()]);
    assert_ne!(code, 0, "{out}");
    // Both bundles, home first: recognised (互认).
    let (code, out) = verify(&[
        file.as_os_str(),
        trust,
        home_certs.as_os_str(),
        trust,
        foreign_certs.as_os_str(),
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(&*foreign_certs.to_string_lossy()), "{out}");
    // A directory of bundles does the same.
    let bundles = work.path().join("bundles");
    std::fs::create_dir(&bundles).unwrap();
    for (name, from) in [("1-home", &home_certs), ("2-shanghai", &foreign_certs)] {
        let to = bundles.join(name);
        std::fs::create_dir(&to).unwrap();
        copy_dir(from, &to);
    }
    let (code, out) = verify(&[file.as_os_str(), trust, bundles.as_os_str()]);
    assert_eq!(code, 0, "{out}");

    // Revoked at home in Shanghai: the foreign bundle's failure stands, the
    // home bundle's "unknown signer" does not hide it.
    let r = foreign
        .post(
            &format!("/v1/licenses/{license}/revoke"),
            Some(&f.token),
            &json!({"reason": "以欺骗手段取得"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let (code, out) = verify(&[
        file.as_os_str(),
        trust,
        home_certs.as_os_str(),
        trust,
        foreign_certs.as_os_str(),
    ]);
    assert_eq!(code, 1, "TOTAL-FAILED, revoked: {out}");
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}
