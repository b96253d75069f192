//! `POST /v1/licenses/{id}/renew` and `/amend`: a new version of a license
//! that supersedes the old one (see [`crate::license::versions`]); the
//! status snapshot and the trust bundle are re-published afterwards, so an
//! offline verifier with a fresh bundle refuses the old version's QR code.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, ApiJson, ApiPath, ErrorBody};
use super::licenses::{context, created, idempotency_key, republish};
use crate::license::lifecycle::LicenseView;
use crate::license::versions::{self, AmendRequest, RenewRequest};

/// Renews a license (换发/延续): a new version (same serial, version + 1,
/// new check character) with new record, QR and PDF, in force now, its term
/// continuing from the old end of validity (or from now if that has passed)
/// by the type's validity unless dates are given. The old version becomes
/// `superseded` and is listed so in the status snapshot. Expired licenses
/// may be renewed; revoked, suspended and superseded ones may not.
#[utoipa::path(post, path = "/v1/licenses/{id}/renew", tag = "licenses", operation_id = "renew_license",
    params(("id" = String, Path, description = "license identifier (GB/T 36904) of the version to renew"),
        ("Idempotency-Key" = Option<String>, Header, description = "repeat a request safely: the same key and body return the same new version")),
    request_body = RenewRequest,
    responses((status = 201, description = "the new version; `supersedes` and `links.supersedes` name the old one", body = LicenseView),
        (status = 403, description = "another department's license or seal, no licenses:issue scope, or the department may no longer issue the type", body = ErrorBody),
        (status = 404, description = "no such license (`not_found`)", body = ErrorBody),
        (status = 409, description = "the license is revoked, suspended or already superseded (`license_status`), or the seal cannot sign (`seal_not_active`, `seal_not_valid_now`)", body = ErrorBody),
        (status = 422, description = "a date is invalid or in the past, or the Idempotency-Key was used with another body", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn renew(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<RenewRequest>,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers)?;
    let done = versions::renew(&context(&state), &caller, &id, input, key).await?;
    tracing::info!(license = %done.view.id, supersedes = %id, actor = %caller.actor(), replayed = done.replayed, "license renewed");
    republish(&state).await;
    Ok(created(done))
}

/// Amends a license (变更): a new version with changed field values and/or
/// holder name, validated as at issue, same dates. The old version becomes
/// `superseded`. Revoked, suspended, expired and superseded licenses may
/// not be amended (an expired one may be renewed).
#[utoipa::path(post, path = "/v1/licenses/{id}/amend", tag = "licenses", operation_id = "amend_license",
    params(("id" = String, Path, description = "license identifier (GB/T 36904) of the version to amend"),
        ("Idempotency-Key" = Option<String>, Header, description = "repeat a request safely: the same key and body return the same new version")),
    request_body = AmendRequest,
    responses((status = 201, description = "the new version; `supersedes` and `links.supersedes` name the old one", body = LicenseView),
        (status = 403, description = "another department's license or seal, no licenses:issue scope, or the department may no longer issue the type", body = ErrorBody),
        (status = 404, description = "no such license (`not_found`)", body = ErrorBody),
        (status = 409, description = "the license is revoked, suspended, expired or already superseded (`license_status`), or the seal cannot sign (`seal_not_active`, `seal_not_valid_now`)", body = ErrorBody),
        (status = 422, description = "a field is unknown, missing or invalid (named in the message), nothing changes, or the Idempotency-Key was used with another body", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn amend(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<AmendRequest>,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers)?;
    let done = versions::amend(&context(&state), &caller, &id, input, key).await?;
    tracing::info!(license = %done.view.id, supersedes = %id, actor = %caller.actor(), replayed = done.replayed, "license amended");
    republish(&state).await;
    Ok(created(done))
}
