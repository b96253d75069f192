//! `GET /v/{payload}`: the citizen's verification page for a license QR code.
//! The QR text is `<public-url>/v/<payload>` (see
//! [`crate::license::qr::qr_url`]), so a phone camera opens this page.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Html;

use super::html::{Lang, Tone, page, verdict};
use super::upload::LangQuery;
use crate::http::AppState;
use crate::license::qr::MAX_TEXT_BYTES;

/// Shows whether the license in `payload` is genuine and valid.
pub async fn show(
    State(state): State<AppState>,
    Path(payload): Path<String>,
    Query(q): Query<LangQuery>,
) -> (StatusCode, Html<String>) {
    let lang = Lang::from_query(q.lang.as_deref());
    let _ = state;
    if payload.len() > MAX_TEXT_BYTES {
        return (StatusCode::URI_TOO_LONG, Html(String::new()));
    }
    // The license verification engine (crate::verify) is not merged yet.
    let body = verdict(
        Tone::Warn,
        lang.pick("暂时无法验证", "Cannot verify yet"),
        "",
    );
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Html(page(lang, "电子证照验证", "?lang=en", &body)),
    )
}
