//! The upload page (`GET /verify`, `POST /verify`): a person picks a stamped
//! PDF in a plain `multipart/form-data` form (no JavaScript) and reads its
//! validation report — the same engine and rate limit as `POST /v1/verify`.

use axum::extract::multipart::MultipartRejection;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Multipart, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Html;
use serde::Deserialize;

use super::html::{Lang, Tone, escape, page, rows, verdict};
use crate::http::AppState;
use crate::http::verify::current_trust_store;
use crate::verify::{Indication, Report, SignatureReport, verify_pdf};

/// The `?lang=` query of the pages.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LangQuery {
    /// `en` for English; Chinese otherwise.
    #[param(value_type = String, required = false)]
    pub lang: Option<String>,
}

/// The upload form (documentation only).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// The PDF to verify (50 MB at most).
    #[schema(value_type = String, format = Binary, content_media_type = "application/pdf")]
    file: Vec<u8>,
}

fn title(lang: Lang) -> &'static str {
    lang.pick("签章文件验证", "Verify a stamped PDF")
}

fn form(lang: Lang) -> String {
    let action = match lang {
        Lang::Zh => "/verify",
        Lang::En => "/verify?lang=en",
    };
    format!(
        "<form method=\"post\" action=\"{action}\" enctype=\"multipart/form-data\">\
<label for=\"file\">{label}</label><input type=\"file\" id=\"file\" name=\"file\" accept=\"application/pdf,.pdf\" required>\
<button type=\"submit\">{button}</button></form>\
<p>{api} <a href=\"/openapi.json\">POST /v1/verify</a> (JSON, ETSI EN 319 102-1)</p>",
        label = escape(lang.pick(
            "选择要验证的 PDF 文件（最大 50 MB）",
            "Choose the PDF to verify (up to 50 MB)"
        )),
        button = escape(lang.pick("验证", "Verify")),
        api = escape(lang.pick("程序接口：", "For programs:")),
    )
}

fn switch(lang: Lang) -> &'static str {
    lang.pick("/verify?lang=en", "/verify")
}

/// The language of a page's `?lang=` query, or a 400 page for a query
/// that does not parse (e.g. `lang` given twice).
pub(crate) fn page_lang(
    query: Result<Query<LangQuery>, QueryRejection>,
) -> Result<Lang, (StatusCode, Html<String>)> {
    match query {
        Ok(Query(q)) => Ok(Lang::from_query(q.lang.as_deref())),
        Err(_) => Err(unreadable(
            Lang::Zh,
            StatusCode::BAD_REQUEST,
            "网址的查询参数无效。",
            "The address's query string is malformed.",
        )),
    }
}

/// A request a page cannot read (a malformed address, a body that is not a
/// form), answered as a page: people, not programs, read these.
pub(crate) fn unreadable(
    lang: Lang,
    status: StatusCode,
    zh: &str,
    en: &str,
) -> (StatusCode, Html<String>) {
    let body = verdict(Tone::Warn, lang.pick(zh, en), "");
    (status, Html(page(lang, title(lang), switch(lang), &body)))
}

/// The upload page: a form to pick a stamped PDF and have it verified.
#[utoipa::path(get, path = "/verify", tag = "pages", operation_id = "verify_page",
    params(LangQuery),
    responses(
        (status = 200, description = "the upload form", content_type = "text/html", body = String),
        (status = 400, description = "the query string is malformed", content_type = "text/html", body = String)))]
pub async fn form_page(
    query: Result<Query<LangQuery>, QueryRejection>,
) -> (StatusCode, Html<String>) {
    let lang = match page_lang(query) {
        Ok(lang) => lang,
        Err(refused) => return refused,
    };
    (
        StatusCode::OK,
        Html(page(lang, title(lang), switch(lang), &form(lang))),
    )
}

/// A page that says what went wrong with the upload, with the form again.
fn problem(lang: Lang, status: StatusCode, zh: &str, en: &str) -> (StatusCode, Html<String>) {
    let body = verdict(Tone::Warn, lang.pick(zh, en), "") + &form(lang);
    (status, Html(page(lang, title(lang), switch(lang), &body)))
}

/// Reads the `file` part of the form, validates it and shows the report,
/// as `POST /v1/verify` does for programs (same engine, same limits).
#[utoipa::path(post, path = "/verify", tag = "pages", operation_id = "verify_page_submit",
    params(LangQuery),
    request_body(content = inline(UploadForm), content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "the validation report as a page (whatever the verdict)", content_type = "text/html", body = String),
        (status = 400, description = "no file chosen, an incomplete upload, or a malformed query string", content_type = "text/html", body = String),
        (status = 413, description = "the file is over 50 MB", content_type = "text/html", body = String),
        (status = 415, description = "the body is not multipart/form-data", content_type = "text/html", body = String)))]
pub async fn submit(
    State(state): State<AppState>,
    query: Result<Query<LangQuery>, QueryRejection>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> (StatusCode, Html<String>) {
    // Rate and concurrency limits were applied before the upload was read
    // (see crate::http::limits).
    let lang = match page_lang(query) {
        Ok(lang) => lang,
        Err(refused) => return refused,
    };
    let mut multipart = match multipart {
        Ok(multipart) => multipart,
        Err(_) if !crate::http::error::is_multipart_form(&headers) => {
            return problem(
                lang,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "请通过页面上的表单上传 PDF 文件（multipart/form-data）。",
                "Upload the PDF with the form on this page (multipart/form-data).",
            );
        }
        Err(_) => return upload_failed(lang, StatusCode::BAD_REQUEST),
    };
    let mut pdf = None;
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) if field.name() == Some("file") => match field.bytes().await {
                Ok(bytes) => pdf = Some(bytes),
                Err(e) => return upload_failed(lang, e.status()),
            },
            Ok(Some(_)) => continue,
            Ok(None) => break,
            Err(e) => return upload_failed(lang, e.status()),
        }
    }
    let Some(pdf) = pdf.filter(|b| !b.is_empty()) else {
        return problem(
            lang,
            StatusCode::BAD_REQUEST,
            "请选择一个 PDF 文件。",
            "Choose a PDF file.",
        );
    };
    let store = match current_trust_store(&state).await {
        Ok(store) => store,
        Err(e) => return internal(lang, &e.message),
    };
    let report = match tokio::task::spawn_blocking(move || {
        verify_pdf(&pdf, &store, time::OffsetDateTime::now_utc())
    })
    .await
    {
        Ok(report) => report,
        Err(e) => return internal(lang, &e.to_string()),
    };
    let body = report_html(lang, &report)
        + &format!(
            "<h2>{}</h2>",
            escape(lang.pick("再验证一个文件", "Verify another file"))
        )
        + &form(lang);
    (
        StatusCode::OK,
        Html(page(lang, title(lang), switch(lang), &body)),
    )
}

fn upload_failed(lang: Lang, status: StatusCode) -> (StatusCode, Html<String>) {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        problem(
            lang,
            status,
            "文件太大（最大 50 MB）。",
            "The file is too large (50 MB at most).",
        )
    } else {
        problem(
            lang,
            StatusCode::BAD_REQUEST,
            "上传不完整，请重试。",
            "The upload was incomplete; try again.",
        )
    }
}

fn internal(lang: Lang, detail: &str) -> (StatusCode, Html<String>) {
    tracing::error!(error = %detail, "verification page failed");
    problem(
        lang,
        StatusCode::INTERNAL_SERVER_ERROR,
        "服务暂时无法验证，请稍后再试。",
        "The service cannot verify right now; try again later.",
    )
}

/// What an indication means to a person.
fn indication_words(lang: Lang, indication: Indication) -> (Tone, &'static str) {
    match indication {
        Indication::TotalPassed => (Tone::Good, lang.pick("有效", "Valid")),
        Indication::TotalFailed => (Tone::Bad, lang.pick("无效", "Not valid")),
        Indication::Indeterminate => (Tone::Warn, lang.pick("无法确定", "Cannot be decided")),
    }
}

/// The report in readable HTML: the overall verdict, then one card per
/// signature with its signer, time, revision and findings.
pub fn report_html(lang: Lang, report: &Report) -> String {
    let (tone, word) = indication_words(lang, report.indication);
    let detail = format!(
        "{} {} · {} {} · {} {}",
        report.indication.as_str(),
        report.sub_indication.map(|s| s.as_str()).unwrap_or(""),
        report.signatures.len(),
        lang.pick("个签名", "signature(s)"),
        report.document.revisions,
        lang.pick("个修订版本", "revision(s)"),
    );
    let mut out = verdict(tone, word, &detail);
    if !report.document.findings.is_empty() {
        out.push_str("<div class=\"card\"><ul>");
        for f in &report.document.findings {
            out.push_str(&format!("<li>{}</li>", escape(f)));
        }
        out.push_str("</ul></div>");
    }
    for (i, s) in report.signatures.iter().enumerate() {
        out.push_str(&signature_html(lang, i + 1, s));
    }
    out.push_str(&format!(
        "<p>{} {}</p>",
        escape(lang.pick("验证时间：", "Validated at:")),
        escape(&report.validation_time)
    ));
    out
}

fn signature_html(lang: Lang, n: usize, s: &SignatureReport) -> String {
    let (_, word) = indication_words(lang, s.indication);
    let status = match s.sub_indication {
        Some(sub) => format!("{word} ({} / {})", s.indication.as_str(), sub.as_str()),
        None => format!("{word} ({})", s.indication.as_str()),
    };
    let signer = s
        .signer
        .as_ref()
        .map(|p| {
            let name = p.common_name.clone().unwrap_or_else(|| p.subject.clone());
            match &p.organization {
                Some(o) => format!("{name} / {o}"),
                None => name,
            }
        })
        .unwrap_or_else(|| {
            lang.pick("未找到签名证书", "signing certificate not found")
                .into()
        });
    let time = match &s.timestamp {
        Some(t) => format!(
            "{} ({})",
            t.gen_time,
            if t.valid {
                lang.pick("可信时间戳", "trusted time-stamp")
            } else {
                lang.pick("时间戳无效", "time-stamp not valid")
            }
        ),
        None => match &s.claimed_signing_time {
            Some(m) => format!(
                "{m} ({})",
                lang.pick("声称时间，无时间戳", "claimed, no time-stamp")
            ),
            None => "—".into(),
        },
    };
    let revision = match s.revision {
        Some(r) if s.covers_whole_document => format!(
            "{} {}",
            r + 1,
            lang.pick("（覆盖整个文件）", "(covers the whole file)")
        ),
        Some(r) => format!(
            "{} {}",
            r + 1,
            lang.pick("（之后文件还有修改）", "(the file was updated after it)")
        ),
        None => "—".into(),
    };
    let kind = if s.kind == "document-timestamp" {
        lang.pick("文档时间戳", "Document time-stamp")
    } else {
        lang.pick("签名", "Signature")
    };
    let mut out = format!(
        "<div class=\"card\"><h2>{} {n} · {}</h2>",
        escape(kind),
        escape(&s.field)
    );
    out.push_str(&rows([
        (lang.pick("结果", "Result"), status),
        (lang.pick("签署方", "Signer"), signer),
        (lang.pick("签署时间", "Signing time"), time),
        (lang.pick("修订版本", "Revision"), revision),
    ]));
    out.push_str("<ul>");
    for f in &s.findings {
        out.push_str(&format!("<li>{}</li>", escape(f)));
    }
    out.push_str("</ul></div>");
    out
}
