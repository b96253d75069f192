//! `POST /v1/tsa`: govseal's time-stamping authority over HTTP (RFC 3161 §3.4).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::{ApiBytes, ApiError, ErrorBody};

/// RFC 3161 time-stamping over HTTP (RFC 3161 §3.4): the body is a DER
/// TimeStampReq (`application/timestamp-query`), the answer a DER
/// TimeStampResp (`application/timestamp-reply`). Usable with `openssl ts`.
/// Public under its own per-client rate limit, or for callers with a token
/// only (`GOVSEAL_TSA_ACCESS=clients`).
#[utoipa::path(post, path = "/v1/tsa", tag = "trust", operation_id = "timestamp",
    request_body(content = inline(super::openapi::Binary), content_type = "application/timestamp-query"),
    responses(
        (status = 200, description = "TimeStampResp (granted, or a rejection status for a bad request)", content_type = "application/timestamp-reply", body = inline(super::openapi::Binary)),
        (status = 401, description = "GOVSEAL_TSA_ACCESS=clients and no valid token", body = ErrorBody),
        (status = 415, description = "the body is not `application/timestamp-query` (`unsupported_media_type`)", body = ErrorBody)),
    security((), ("bearer" = [])))]
pub async fn tsa(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiBytes(body): ApiBytes,
) -> Result<Response, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !content_type.starts_with("application/timestamp-query") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send a DER TimeStampReq with Content-Type: application/timestamp-query",
        ));
    }
    let authority = state.timestamp_authority.clone();
    let reply = tokio::task::spawn_blocking(move || authority.respond(&body))
        .await
        .map_err(ApiError::internal)?;
    Ok((
        [(header::CONTENT_TYPE, "application/timestamp-reply")],
        reply,
    )
        .into_response())
}
