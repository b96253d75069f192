//! `GET /v/{payload}`: the citizen's verification page for a license QR code.
//! The QR text is `<public-url>/v/<payload>` (see
//! [`crate::license::qr::payload`]), so a phone camera opens this page.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Html;

use super::html::Lang;
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
    let _ = (&state, MAX_TEXT_BYTES, payload);
    let _ = lang;
    todo!("calls the verification engine")
}
