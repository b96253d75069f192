//! `POST /v1/stamp`: stamping an uploaded PDF (multipart).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, ApiJson, ApiMultipart, ErrorBody};
use crate::outcome::ActionError;
use crate::pades::Level;
use crate::seal::stamping::{self, NoticeRequest, StampRequest, StampingContext};

/// The multipart form of a stamping request (documentation only).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct StampForm {
    /// The PDF to stamp.
    #[schema(value_type = String, format = Binary, content_media_type = "application/pdf")]
    file: Vec<u8>,
    /// The seal to use (it must belong to the client's department).
    seal_id: String,
    /// Page, from 1.
    page: u32,
    /// Seal centre, points from the page's left edge.
    x: f32,
    /// Seal centre, points from the page's bottom edge.
    y: f32,
    /// Seal diameter in mm, 30–50 (default 42).
    size: Option<f32>,
    /// Reason written into the signature (`/Reason`).
    reason: Option<String>,
    /// The person who pressed "stamp" (recorded with the stamp).
    operator: Option<String>,
    /// `B-B`, `B-T`, `B-LT` (default) or `B-LTA`.
    level: Option<String>,
}

fn invalid(field: &str, message: impl std::fmt::Display) -> ApiError {
    ActionError::invalid(field, message).into()
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "the upload is too large (50 MB at most)",
        )
    } else {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_multipart",
            e.body_text(),
        )
    }
}

fn number<T: std::str::FromStr>(field: &str, text: &str) -> Result<T, ApiError> {
    text.trim()
        .parse()
        .map_err(|_| invalid(field, format!("{text:?} is not a number")))
}

/// Stamps a PDF: the seal is drawn at (x, y) on the page and the document is
/// signed (PAdES) by the seal's key as an incremental update. The response
/// is the stamped PDF; its record id is in the `Govseal-Stamp-Id` header.
#[utoipa::path(post, path = "/v1/stamp", tag = "stamping", operation_id = "stamp_pdf",
    request_body(content = StampForm, content_type = "multipart/form-data"),
    params(("Idempotency-Key" = Option<String>, Header, description = "repeat a request safely: the same key returns the same stamped PDF")),
    responses(
        (status = 200, description = "the stamped PDF (header Govseal-Stamp-Id holds the record id)", content_type = "application/pdf", body = inline(super::openapi::Binary),
            headers(("Govseal-Stamp-Id" = String, description = "the stamp's record id"))),
        (status = 400, description = "the multipart body is malformed (`malformed_multipart`)", body = ErrorBody),
        (status = 403, description = "a seal of another department, or no stamp scope (`forbidden`)", body = ErrorBody),
        (status = 404, description = "no such seal (`not_found`)", body = ErrorBody),
        (status = 409, description = "seal suspended, revoked or expired; Idempotency-Key reused", body = ErrorBody),
        (status = 413, description = "the upload is over 50 MB (`payload_too_large`)", body = ErrorBody),
        (status = 415, description = "the body is not multipart/form-data (`unsupported_media_type`)", body = ErrorBody),
        (status = 422, description = "a field is missing or invalid, or the PDF cannot be stamped (`invalid_field`)", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn stamp(
    State(state): State<AppState>,
    Caller(caller): Caller,
    headers: HeaderMap,
    ApiMultipart(mut form): ApiMultipart,
) -> Result<Response, ApiError> {
    let mut file: Option<Bytes> = None;
    let mut fields = std::collections::HashMap::new();
    while let Some(field) = form.next_field().await.map_err(multipart_error)? {
        let name = field.name().unwrap_or_default().to_string();
        let data = field.bytes().await.map_err(multipart_error)?;
        if name == "file" {
            file = Some(data);
        } else {
            let text = String::from_utf8(data.to_vec())
                .map_err(|_| invalid(&name, "must be UTF-8 text"))?;
            fields.insert(name, text);
        }
    }
    let file =
        file.ok_or_else(|| invalid("file", "the PDF is missing (multipart field `file`)"))?;
    if !file[..file.len().min(1024)]
        .windows(5)
        .any(|w| w == b"%PDF-")
    {
        return Err(invalid(
            "file",
            "not a PDF (no %PDF- header in the first 1024 bytes)",
        ));
    }
    let required = |name: &str| {
        fields
            .get(name)
            .cloned()
            .ok_or_else(|| invalid(name, "is required"))
    };
    let request = StampRequest {
        seal_id: required("seal_id")?,
        page: number("page", &required("page")?)?,
        x: number("x", &required("x")?)?,
        y: number("y", &required("y")?)?,
        size_mm: fields.get("size").map(|s| number("size", s)).transpose()?,
        reason: fields.get("reason").cloned().filter(|s| !s.is_empty()),
        operator: fields.get("operator").cloned().filter(|s| !s.is_empty()),
        level: fields
            .get("level")
            .map(|l| l.parse::<Level>().map_err(|e| invalid("level", e)))
            .transpose()?
            .unwrap_or(Level::BLT),
        idempotency_key: idempotency_key(&headers)?,
    };
    let documents = state.config.document_store();
    let ctx = StampingContext {
        db: &state.db,
        keys: &state.keys,
        authority: &state.authority,
        tsa: state.tsa.clone(),
        documents: documents.as_ref(),
    };
    let stamped = stamping::stamp(&ctx, &caller, file.to_vec(), request).await?;
    tracing::info!(stamp = %stamped.record_id, actor = %caller.actor(), replayed = stamped.replayed, "document stamped");
    Ok(pdf_response(stamped))
}

/// Renders an approval notice (审批决定书: title, 文号, addressee, body, issuer,
/// date) as an A4 PDF in Chinese and stamps it, the seal over the date. The
/// response is the stamped PDF, as for `/v1/stamp`.
#[utoipa::path(post, path = "/v1/notices", tag = "stamping", operation_id = "stamp_notice",
    request_body = NoticeRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "repeat a request safely")),
    responses(
        (status = 200, description = "the stamped notice (header Govseal-Stamp-Id holds the record id)", content_type = "application/pdf", body = inline(super::openapi::Binary),
            headers(("Govseal-Stamp-Id" = String, description = "the stamp's record id"))),
        (status = 403, description = "a seal of another department, or no stamp scope (`forbidden`)", body = ErrorBody),
        (status = 404, description = "no such seal (`not_found`)", body = ErrorBody),
        (status = 409, description = "seal suspended, revoked or expired; Idempotency-Key reused", body = ErrorBody),
        (status = 422, description = "a field is missing or invalid (e.g. a character the font cannot draw)", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn notice(
    State(state): State<AppState>,
    Caller(caller): Caller,
    headers: HeaderMap,
    ApiJson(input): ApiJson<NoticeRequest>,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers)?;
    let documents = state.config.document_store();
    let ctx = StampingContext {
        db: &state.db,
        keys: &state.keys,
        authority: &state.authority,
        tsa: state.tsa.clone(),
        documents: documents.as_ref(),
    };
    let stamped = stamping::stamp_notice(&ctx, &caller, input, key).await?;
    tracing::info!(stamp = %stamped.record_id, actor = %caller.actor(), "approval notice rendered and stamped");
    Ok(pdf_response(stamped))
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    headers
        .get("idempotency-key")
        .map(|v| {
            v.to_str()
                .map(str::to_string)
                .map_err(|_| invalid("Idempotency-Key", "must be ASCII"))
        })
        .transpose()
}

fn pdf_response(stamped: stamping::Stamped) -> Response {
    let mut response = (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/pdf")],
        stamped.pdf,
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&stamped.record_id) {
        response.headers_mut().insert("govseal-stamp-id", v);
    }
    if stamped.replayed {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    response
}
