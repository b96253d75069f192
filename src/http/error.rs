//! The one mapping from failures to HTTP responses. A 4xx body says what to
//! fix, as `{ "error": { "code", "message" } }`; a 500 says nothing and the
//! detail goes to the log.

use axum::Json;
use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Multipart, Request};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::outcome::ActionError;

/// An error response.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable machine-readable code.
    pub code: &'static str,
    /// What is wrong, for people.
    pub message: String,
}

/// The JSON error body.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// The error detail.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable code, e.g. `invalid_field`, `duplicate_uscc`, `unauthorized`.
    pub code: String,
    /// Human-readable explanation naming what to fix.
    pub message: String,
}

impl ApiError {
    /// A new error.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    /// 401 for a missing or wrong credential.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// 403 for a caller without the right.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 500; the detail is logged, not returned.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; it has been logged",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.into(),
                message: self.message,
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

impl From<ActionError> for ApiError {
    fn from(e: ActionError) -> Self {
        match e {
            ActionError::Invalid { .. } => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
                e.to_string(),
            ),
            ActionError::NotFound(what) => ApiError::not_found(format!("{what} not found")),
            ActionError::Conflict { code, message } => {
                ApiError::new(StatusCode::CONFLICT, code, message)
            }
            ActionError::Forbidden(message) => ApiError::forbidden(message),
            ActionError::Denied { code, message } => {
                ApiError::new(StatusCode::FORBIDDEN, code, message)
            }
            ActionError::Internal(err) => ApiError::internal(format!("{err:#}")),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::JsonDataError(e) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
                format!(
                    "the JSON does not match the expected shape: {}",
                    e.body_text()
                ),
            ),
            JsonRejection::JsonSyntaxError(e) => ApiError::new(
                StatusCode::BAD_REQUEST,
                "malformed_json",
                format!("malformed JSON: {}", e.body_text()),
            ),
            JsonRejection::MissingJsonContentType(_) => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with Content-Type: application/json",
            ),
            JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                payload_too_large()
            }
            other => ApiError::new(other.status(), "bad_request", other.body_text()),
        }
    }
}

/// `axum::Json` with our error body on rejection.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

/// 413 `payload_too_large`, the answer to every body over its limit.
fn payload_too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        "the request body is too large",
    )
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        // The only query rejection: the query string does not deserialize
        // (a required parameter missing, a value of the wrong type, a repeat).
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_parameter",
            format!("query string: {}", r.body_text()),
        )
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        match r {
            // A route whose handler asks for parameters it does not have: our bug.
            PathRejection::MissingPathParams(e) => ApiError::internal(e.body_text()),
            // A segment that does not decode (e.g. `%FF` is not UTF-8) or parse.
            other => ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_path",
                format!("path: {}", other.body_text()),
            ),
        }
    }
}

impl From<BytesRejection> for ApiError {
    fn from(r: BytesRejection) -> Self {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            payload_too_large()
        } else {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "unreadable_body",
                format!("the request body could not be read: {}", r.body_text()),
            )
        }
    }
}

/// `axum::extract::Query` with our error body (400 `invalid_parameter`) on rejection.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// `axum::extract::Path` with our error body (400 `invalid_path`) on rejection.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

/// The whole body as bytes, with our error body (413, 400) on rejection.
pub struct ApiBytes(pub axum::body::Bytes);

impl<S: Send + Sync> FromRequest<S> for ApiBytes {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        axum::body::Bytes::from_request(request, state)
            .await
            .map(ApiBytes)
            .map_err(ApiError::from)
    }
}

/// `axum::extract::Multipart` with our error body on rejection: 415
/// `unsupported_media_type` unless the body is declared
/// `multipart/form-data`, 400 `malformed_multipart` when its boundary is
/// missing or invalid.
pub struct ApiMultipart(pub Multipart);

/// Whether a request declares a `multipart/form-data` body.
pub fn is_multipart_form(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("multipart/form-data"))
}

impl<S: Send + Sync> FromRequest<S> for ApiMultipart {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        if !is_multipart_form(request.headers()) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as multipart/form-data (Content-Type: multipart/form-data; boundary=…)",
            ));
        }
        Multipart::from_request(request, state)
            .await
            .map(ApiMultipart)
            .map_err(|r| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "malformed_multipart",
                    format!("multipart/form-data: {}", r.body_text()),
                )
            })
    }
}

/// Wraps a 413 from the body-limit layer (which has no JSON body) into ours;
/// a 413 that already says why (JSON, or a page's HTML) is left alone.
pub async fn json_errors_for_limits(response: Response) -> Response {
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE
        && response
            .headers()
            .get(header::CONTENT_TYPE)
            .is_none_or(|v| {
                !v.to_str()
                    .is_ok_and(|t| t.starts_with("application/json") || t.starts_with("text/html"))
            })
    {
        return payload_too_large().into_response();
    }
    response
}
