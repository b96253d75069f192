//! The OpenAPI document at `/openapi.json` is valid (openapi-spec-validator,
//! PyPI), and what it promises about errors holds: every extractor
//! rejection answers the `{"error":{"code","message"}}` envelope with a
//! precise status, never axum's `text/plain`. The live-server run of
//! schemathesis against the same document is `.ci/schemathesis.sh`.

use crate::common;

use common::{expect_error, interop, spawn_app};
use serde_json::Value;

#[tokio::test]
async fn the_served_document_passes_openapi_spec_validator() {
    if !interop::tools_available(
        "openapi-spec-validator",
        &["python:openapi_spec_validator"],
        "python3 -m pip install openapi-spec-validator",
    ) {
        return;
    }
    let app = spawn_app().await;
    let r = app.get("/openapi.json", None).await;
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    // The pages people open are part of the API too.
    for path in ["/v/{payload}", "/verify"] {
        assert!(doc["paths"][path].is_object(), "{path} is documented");
    }
    let file = app.dir.path().join("openapi.json");
    std::fs::write(&file, &text).unwrap();
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(
            "import json, sys\n\
             from openapi_spec_validator import validate\n\
             validate(json.load(open(sys.argv[1], encoding='utf-8')))\n\
             print('openapi-spec-validator: OK')",
        )
        .arg(&file)
        .output()
        .expect("run python3");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "openapi-spec-validator:\n{report}");
    assert!(report.contains("openapi-spec-validator: OK"), "{report}");
}

/// The JSON error body, checking the content type first.
async fn envelope(r: reqwest::Response, status: u16, code: &str) -> String {
    let content_type = r.headers()["content-type"].to_str().unwrap().to_string();
    assert!(
        content_type.starts_with("application/json"),
        "{status} {code}: content-type {content_type}"
    );
    expect_error(r, status, code).await
}

#[tokio::test]
async fn extractor_rejections_answer_the_json_envelope() {
    let app = spawn_app().await;
    let admin = app.admin_token.clone();
    // Query: a required parameter missing, a value of the wrong type.
    let message = envelope(
        app.get("/v1/licenses", Some(&admin)).await,
        400,
        "invalid_parameter",
    )
    .await;
    assert!(message.contains("holder_id"), "{message}");
    let d = app.create_department("福州市行政审批局").await;
    let seal = app
        .post(
            "/v1/seals",
            Some(&admin),
            &serde_json::json!({ "department_id": d["id"], "type": "approval" }),
        )
        .await;
    assert_eq!(seal.status(), 201);
    let seal: Value = seal.json().await.unwrap();
    let appearance = format!(
        "/v1/seals/{}/appearance?size=big",
        seal["id"].as_str().unwrap()
    );
    envelope(
        app.get(&appearance, Some(&admin)).await,
        400,
        "invalid_parameter",
    )
    .await;
    // Path: a segment that is not UTF-8 once decoded.
    envelope(
        app.get("/v1/seals/%FF%FE", Some(&admin)).await,
        400,
        "invalid_path",
    )
    .await;
    // Multipart: no multipart content type at all, then a broken boundary.
    let stamp = |content_type: &'static str| {
        app.http
            .post(format!("{}/v1/stamp", app.url))
            .bearer_auth(&admin)
            .header("content-type", content_type)
            .body("%PDF-1.7")
            .send()
    };
    envelope(
        stamp("application/pdf").await.unwrap(),
        415,
        "unsupported_media_type",
    )
    .await;
    envelope(
        stamp("multipart/form-data").await.unwrap(),
        400,
        "malformed_multipart",
    )
    .await;
    // JSON: the wrong content type, malformed, the wrong shape.
    let json = |content_type: &'static str, body: &'static str| {
        app.http
            .post(format!("{}/v1/departments", app.url))
            .bearer_auth(&admin)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    envelope(
        json("text/plain", "{}").await.unwrap(),
        415,
        "unsupported_media_type",
    )
    .await;
    envelope(
        json("application/json", "{").await.unwrap(),
        400,
        "malformed_json",
    )
    .await;
    envelope(
        json("application/json", "[]").await.unwrap(),
        422,
        "invalid_field",
    )
    .await;
    // A log position the database cannot hold is a bad parameter, not a 500.
    envelope(
        app.get("/v1/log/entries?start=9223372036854775808", None)
            .await,
        400,
        "invalid_parameter",
    )
    .await;
    let r = app
        .get("/v1/log/entries?start=9223372036854775807", None)
        .await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn the_pages_answer_unreadable_requests_as_pages() {
    let app = spawn_app().await;
    for (request, status) in [
        (
            app.http
                .post(format!("{}/verify", app.url))
                .header("content-type", "application/pdf")
                .body("%PDF-1.7"),
            415,
        ),
        (
            app.http.get(format!("{}/verify?lang=en&lang=zh", app.url)),
            400,
        ),
        (app.http.get(format!("{}/v/%FF%FE", app.url)), 400),
    ] {
        let r = request.send().await.unwrap();
        assert_eq!(r.status().as_u16(), status);
        let content_type = r.headers()["content-type"].to_str().unwrap().to_string();
        assert!(content_type.starts_with("text/html"), "{content_type}");
    }
}
