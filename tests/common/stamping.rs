//! Stamping helpers shared by the integration tests: a plain PDF, a
//! department with a seal and a stamping client, and the multipart request.

use serde_json::{Value, json};

use super::TestApp;

/// A one-page A4 PDF with a classic cross-reference table, written with pdf-writer.
pub fn plain_pdf(text: &str) -> Vec<u8> {
    use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str};
    let mut pdf = Pdf::new();
    let (catalog, pages, page, font, content) = (
        Ref::new(1),
        Ref::new(2),
        Ref::new(3),
        Ref::new(4),
        Ref::new(5),
    );
    pdf.catalog(catalog).pages(pages);
    pdf.pages(pages).kids([page]).count(1);
    let mut p = pdf.page(page);
    p.media_box(Rect::new(0.0, 0.0, 595.0, 842.0))
        .parent(pages)
        .contents(content);
    p.resources().fonts().pair(Name(b"F1"), font);
    p.finish();
    pdf.type1_font(font).base_font(Name(b"Helvetica"));
    let mut c = Content::new();
    c.begin_text()
        .set_font(Name(b"F1"), 14.0)
        .next_line(72.0, 760.0)
        .show(Str(text.as_bytes()))
        .end_text();
    pdf.stream(content, &c.finish());
    pdf.finish()
}

/// A department with an approval seal and a client that may stamp with it.
pub struct Department {
    /// The seal.
    pub seal_id: String,
    /// The client's token (scopes seals:manage and stamp).
    pub token: String,
}

/// Creates a department, a stamping client and an approval seal.
pub async fn department_with_seal(app: &TestApp, name: &str) -> Department {
    let d = app.create_department(name).await;
    let id = d["id"].as_str().unwrap().to_string();
    let token = app.create_client(&id, &["seals:manage", "stamp"]).await;
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
        seal_id: seal["id"].as_str().unwrap().to_string(),
        token,
    }
}

/// `POST /v1/stamp` with `pdf` and the form `fields`.
pub async fn stamp(
    app: &TestApp,
    token: &str,
    pdf: Vec<u8>,
    fields: &[(&str, &str)],
    key: Option<&str>,
) -> reqwest::Response {
    let mut form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(pdf)
            .file_name("doc.pdf")
            .mime_str("application/pdf")
            .unwrap(),
    );
    for (k, v) in fields {
        form = form.text(k.to_string(), v.to_string());
    }
    let mut req = app
        .http
        .post(format!("{}/v1/stamp", app.url))
        .bearer_auth(token)
        .multipart(form);
    if let Some(k) = key {
        req = req.header("Idempotency-Key", k);
    }
    req.send().await.unwrap()
}
