//! Licenses that must never verify TOTAL-PASSED (issue 15, family 5), built
//! against a running installation with two departments and their seals:
//! a license of department A re-signed with department B's seal key, a
//! claimed seal code that is not the signing seal's, a type B is not
//! authorised to issue, and a COSE label in both header buckets. Each is
//! checked by the offline CLI with a copy of the bundle, by
//! `POST /v1/verify` (record and QR text) and by the QR page `GET /v/…`.
//! The signatures are real: the attacker holds a real seal key of the
//! installation (department B's), taken from the key store.

use crate::common;

use std::path::Path;
use std::process::Command;

use common::licenses::{self, Issuer};
use common::{TestApp, spawn_app};
use coset::{CoseSign1Builder, HeaderBuilder, TaggedCborSerializable, iana};
use govseal::keystore::Signer;
use govseal::license::claims::LicenseClaims;
use govseal::license::identifier::LicenseId;
use govseal::license::record::{certificate_kid, open_record, sign_record};
use serde_json::{Value, json};

/// A second license type, defined later for both departments.
const SECOND_TYPE: &str = "11100000000013127D002";

/// The seal key (a real signer from the installation's key store) and the
/// seal certificate (DER) of `issuer`'s seal, with its seal code.
async fn seal_key(app: &TestApp, issuer: &Issuer) -> (std::sync::Arc<dyn Signer>, Vec<u8>, String) {
    let mut conn = app.state.db.pool.acquire().await.unwrap();
    let seal = govseal::store::seals::get(&mut conn, &issuer.seal_id)
        .await
        .unwrap()
        .unwrap();
    let cert = govseal::store::certificates::get(&mut conn, &seal.certificate_id)
        .await
        .unwrap()
        .unwrap();
    let sealed = govseal::store::keys::get(&mut conn, &cert.key_id)
        .await
        .unwrap()
        .unwrap();
    (app.state.keys.open(&sealed).unwrap(), cert.der, seal.code)
}

async fn uscc_of(app: &TestApp, issuer: &Issuer) -> String {
    let d: Value = app
        .get(
            &format!("/v1/departments/{}", issuer.id),
            Some(&app.admin_token),
        )
        .await
        .json()
        .await
        .unwrap();
    d["uscc"].as_str().unwrap().to_string()
}

/// Issues the business license through the API; returns its record.
async fn issue(app: &TestApp, issuer: &Issuer, body: Value) -> Vec<u8> {
    let r = app.post("/v1/licenses", Some(&issuer.token), &body).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let view: Value = r.json().await.unwrap();
    let id = view["id"].as_str().unwrap();
    let r = app
        .get(&format!("/v1/licenses/{id}/record"), Some(&issuer.token))
        .await;
    assert_eq!(r.status(), 200);
    r.bytes().await.unwrap().to_vec()
}

/// Runs `govseal verify --json` on a record file and on its QR text; both
/// must agree; returns exit code, report and the record file's path.
fn cli(trust: &Path, app: &TestApp, record: &[u8], name: &str) -> (i32, Value) {
    let path = trust.parent().unwrap().join(format!("{name}.cose"));
    std::fs::write(&path, record).unwrap();
    let qr = govseal::license::qr::qr_url(&app.url, record);
    let mut out = Vec::new();
    for arg in [path.to_str().unwrap().to_string(), qr] {
        let o = Command::new(env!("CARGO_BIN_EXE_govseal"))
            .args(["verify", &arg, "--trust"])
            .arg(trust)
            .arg("--json")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&o.stdout);
        let report: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{e}: {text} {}", String::from_utf8_lossy(&o.stderr)));
        out.push((o.status.code().unwrap(), report));
    }
    assert_eq!(out[0].0, out[1].0, "record file and QR text agree");
    assert_eq!(out[0].1["indication"], out[1].1["indication"]);
    out.remove(0)
}

async fn post_verify(app: &TestApp, content_type: &str, body: Vec<u8>) -> Value {
    let r = app
        .http
        .post(format!("{}/v1/verify", app.url))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

/// The QR page for `record`: its HTML.
async fn page(app: &TestApp, record: &[u8]) -> String {
    let qr = govseal::license::qr::qr_url(&app.url, record);
    let path = &qr[app.url.len()..];
    let r = app.get(path, None).await;
    assert_eq!(r.status(), 200);
    r.text().await.unwrap()
}

fn verdict(r: &Value) -> (String, String) {
    let sub = r["sub_indication"]
        .as_str()
        .or(r["signatures"][0]["sub_indication"].as_str())
        .unwrap_or("");
    (r["indication"].as_str().unwrap().into(), sub.into())
}

/// Every text the report says about what failed.
fn failures(r: &Value) -> String {
    let mut out = String::new();
    for f in r["document"]["findings"]
        .as_array()
        .into_iter()
        .chain(r["signatures"][0]["findings"].as_array())
        .flatten()
    {
        let f = f.as_str().unwrap();
        if f.starts_with('✗') {
            out.push_str(f);
            out.push('\n');
        }
    }
    out
}

/// Asserts the attack fails the same way through the CLI, both forms of
/// `POST /v1/verify` and the page, and that the findings name `names`.
async fn refused(
    app: &TestApp,
    trust: &Path,
    record: &[u8],
    name: &str,
    expected: (i32, &str, &str),
    names: &[&str],
) {
    let (code, sub_code) = (expected.0, (expected.1.to_string(), expected.2.to_string()));
    let (exit, r) = cli(trust, app, record, name);
    assert_eq!(
        (exit, verdict(&r)),
        (code, sub_code.clone()),
        "{name} CLI: {r}"
    );
    let why = failures(&r);
    for n in names {
        assert!(
            why.contains(n),
            "{name}: the CLI's findings name {n}: {why}"
        );
    }
    assert!(r["license"].is_null(), "{name}: no license section: {r}");
    let r = post_verify(app, "application/cose", record.to_vec()).await;
    assert_eq!(verdict(&r), sub_code, "{name} POST record: {r}");
    let why = failures(&r);
    for n in names {
        assert!(why.contains(n), "{name}: POST /v1/verify names {n}: {why}");
    }
    let qr = govseal::license::qr::qr_url(&app.url, record);
    let r = post_verify(app, "text/plain", qr.into_bytes()).await;
    assert_eq!(verdict(&r), sub_code, "{name} POST QR text: {r}");
    let html = page(app, record).await;
    let headline = if expected.2 == "SIG_CONSTRAINTS_FAILURE" {
        "无权签发此类证照"
    } else {
        "无法验证·非真实"
    };
    assert!(
        !html.contains("真实有效") && html.contains(headline),
        "{name}: the page must not say valid, but {headline}"
    );
}

#[tokio::test]
async fn licenses_of_the_wrong_department_seal_type_or_headers_never_pass() {
    let app = spawn_app().await;
    let a = licenses::issuer(&app, "福州市鼓楼区市场监督管理局").await;
    let b = licenses::issuer(&app, "福州市台江区市场监督管理局").await;
    licenses::define_business_license(&app, &[&a.id]).await;
    let (uscc_a, uscc_b) = (uscc_of(&app, &a).await, uscc_of(&app, &b).await);

    // The bundle publishes, signed, who may issue the type.
    let bundle: Value = app.get("/v1/trust", None).await.json().await.unwrap();
    assert_eq!(
        bundle["license_issuers"]["types"],
        json!([{"code": licenses::TYPE_CODE, "issuers": [uscc_a]}]),
        "{}",
        bundle["license_issuers"]
    );
    assert!(app.certs().join("license-issuers.cose").is_file());
    let api: Value = app.get("/openapi.json", None).await.json().await.unwrap();
    for schema in ["BundleLicenseIssuers", "TypeIssuers"] {
        assert!(
            api["components"]["schemas"][schema].is_object(),
            "OpenAPI documents {schema}"
        );
    }
    // And the service itself refuses B (403): the attacks below are made
    // with B's seal key outside the service.
    let r = app
        .post(
            "/v1/licenses",
            Some(&b.token),
            &licenses::business_license(&b.seal_id),
        )
        .await;
    assert_eq!(r.status(), 403);

    let genuine = issue(&app, &a, licenses::business_license(&a.seal_id)).await;
    let claims: LicenseClaims = open_record(&genuine).unwrap().into_claims();
    let (key_a, cert_a, code_a) = seal_key(&app, &a).await;
    let (key_b, cert_b, code_b) = seal_key(&app, &b).await;
    assert_eq!(claims.seal_code, code_a);

    let work = tempfile::tempdir().unwrap();
    let trust = work.path().join("bundle");
    common::copy_bundle(&app, &trust);
    let (exit, r) = cli(&trust, &app, &genuine, "genuine");
    assert_eq!(exit, 0, "{r}");
    let r = post_verify(&app, "application/cose", genuine.clone()).await;
    assert_eq!(r["indication"], "TOTAL-PASSED", "{r}");
    assert!(page(&app, &genuine).await.contains("真实有效"));

    // 1. A's license re-signed with B's seal key (B's certificate, B's kid).
    let resigned = sign_record(&claims, &*key_b, &cert_b).unwrap();
    refused(
        &app,
        &trust,
        &resigned,
        "re-signed by B",
        (1, "TOTAL-FAILED", "SIG_CRYPTO_FAILURE"),
        &[&uscc_a, &uscc_b],
    )
    .await;

    // 2. A's seal signs claims naming another seal code (here B's).
    let mut other_code = claims.clone();
    other_code.seal_code = code_b.clone();
    let wrong_code = sign_record(&other_code, &*key_a, &cert_a).unwrap();
    refused(
        &app,
        &trust,
        &wrong_code,
        "seal code",
        (1, "TOTAL-FAILED", "SIG_CRYPTO_FAILURE"),
        &[&code_a, &code_b],
    )
    .await;

    // 3. B issues the business license in its own name with its own seal:
    //    names and signature agree, but B may not issue that type.
    let mut own = claims.clone();
    own.license_id = LicenseId::new(licenses::TYPE_CODE, &uscc_b.parse().unwrap(), 900, 1).unwrap();
    own.seal_code = code_b.clone();
    own.issuer_name = "福州市台江区市场监督管理局".into();
    let unauthorised = sign_record(&own, &*key_b, &cert_b).unwrap();
    refused(
        &app,
        &trust,
        &unauthorised,
        "unauthorised type",
        (2, "INDETERMINATE", "SIG_CONSTRAINTS_FAILURE"),
        &[licenses::TYPE_CODE, &uscc_b],
    )
    .await;

    // 4. A's genuine claims and key, the kid in both header buckets.
    let kid = certificate_kid(&cert_a).to_vec();
    let doubled = CoseSign1Builder::new()
        .protected(
            HeaderBuilder::new()
                .algorithm(iana::Algorithm::ES256)
                .key_id(kid.clone())
                .build(),
        )
        .unprotected(HeaderBuilder::new().key_id(kid).build())
        .payload(claims.to_cbor().unwrap())
        .try_create_signature(b"", |tbs| key_a.sign_fixed(tbs))
        .unwrap()
        .build()
        .to_tagged_vec()
        .unwrap();
    refused(
        &app,
        &trust,
        &doubled,
        "kid twice",
        (1, "TOTAL-FAILED", "FORMAT_FAILURE"),
        &["4 (kid)"],
    )
    .await;

    // A type defined later for both: the bundle is refreshed, so B's license
    // of that type passes with the new copy; the old copy cannot know it.
    let mut second = licenses::business_license_type(&[&a.id, &b.id]);
    second["code"] = json!(SECOND_TYPE);
    let r = app
        .post("/v1/license-types", Some(&app.admin_token), &second)
        .await;
    assert_eq!(r.status(), 201);
    let mut body = licenses::business_license(&b.seal_id);
    body["type"] = json!(SECOND_TYPE);
    let of_b = issue(&app, &b, body).await;
    let fresh = work.path().join("fresh");
    common::copy_bundle(&app, &fresh);
    let (exit, r) = cli(&fresh, &app, &of_b, "second-type-fresh");
    assert_eq!(exit, 0, "{r}");
    let (exit, r) = cli(&trust, &app, &of_b, "second-type-old");
    assert_eq!(
        (exit, verdict(&r)),
        (
            2,
            ("INDETERMINATE".into(), "SIG_CONSTRAINTS_FAILURE".into())
        ),
        "{r}"
    );
    assert!(failures(&r).contains(SECOND_TYPE), "{r}");
    let r = post_verify(&app, "application/cose", of_b.clone()).await;
    assert_eq!(r["indication"], "TOTAL-PASSED", "{r}");
    // B's licenses of the first type remain refused with the fresh copy too.
    let (exit, _) = cli(&fresh, &app, &unauthorised, "unauthorised-fresh");
    assert_eq!(exit, 2);
}

/// Issue 17, key compromise: once a seal certificate is revoked for
/// keyCompromise, a record of that seal passes only if the CA's snapshot
/// lists it among the records the issuer really made; a record forged with
/// the stolen key and backdated to before the revocation is INDETERMINATE /
/// REVOKED_NO_POE, through the CLI, `POST /v1/verify` and the QR page.
#[tokio::test]
async fn a_record_forged_with_a_compromised_seal_key_has_no_proof_of_existence() {
    let app = spawn_app().await;
    let a = licenses::issuer(&app, "福州市市场监督管理局").await;
    licenses::define_business_license(&app, &[&a.id]).await;
    let genuine = issue(&app, &a, licenses::business_license(&a.seal_id)).await;
    let claims: LicenseClaims = open_record(&genuine).unwrap().into_claims();
    let (key, cert, _) = seal_key(&app, &a).await;
    // Revocation times are whole seconds: revoke in a later one.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;

    let r = app
        .post(
            &format!("/v1/seals/{}/revoke", a.seal_id),
            Some(&a.token),
            &json!({"reason": "keyCompromise"}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());

    // The thief signs a new license, backdated to the genuine one's issue time.
    let uscc = uscc_of(&app, &a).await;
    let mut forged = claims.clone();
    forged.license_id =
        LicenseId::new(licenses::TYPE_CODE, &uscc.parse().unwrap(), 777, 1).unwrap();
    forged.holder_name = "冒名公司".into();
    let forged = sign_record(&forged, &*key, &cert).unwrap();

    let work = tempfile::tempdir().unwrap();
    let trust = work.path().join("bundle");
    common::copy_bundle(&app, &trust);

    let (exit, r) = cli(&trust, &app, &genuine, "genuine");
    assert_eq!(exit, 0, "the genuine record is listed: {r}");
    assert!(
        r.to_string()
            .contains("lists this record among those the seal issued before"),
        "{r}"
    );

    let (exit, r) = cli(&trust, &app, &forged, "forged");
    assert_eq!(
        (exit, verdict(&r)),
        (2, ("INDETERMINATE".into(), "REVOKED_NO_POE".into())),
        "{r}"
    );
    assert!(failures(&r).contains("compromised"), "{r}");
    let r = post_verify(&app, "application/cose", forged.clone()).await;
    assert_eq!(
        verdict(&r),
        ("INDETERMINATE".into(), "REVOKED_NO_POE".into()),
        "{r}"
    );
    let html = page(&app, &forged).await;
    assert!(!html.contains("真实有效"), "the page must not say valid");
    let r = post_verify(&app, "application/cose", genuine.clone()).await;
    assert_eq!(r["indication"], "TOTAL-PASSED", "{r}");

    // A bundle from before the revocation's snapshot does not help a forger:
    // without the list, no record of the seal passes once the CRL says
    // keyCompromise.
    std::fs::remove_file(trust.join("license-status.cose")).unwrap();
    let (_, r) = cli(&trust, &app, &forged, "forged-no-snapshot");
    assert_ne!(r["indication"], "TOTAL-PASSED", "{r}");
}
