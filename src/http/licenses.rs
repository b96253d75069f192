//! `/v1/license-types`, `/v1/licenses` and `/v1/license-status`: defining
//! license types, issuing licenses, fetching their forms (record, PDF, QR),
//! changing their status, and the signed status snapshot.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, ApiJson, ApiPath, ApiQuery, ErrorBody};
use crate::access::Principal;
use crate::license::issue::{self, IssueRequest, LicenseContext};
use crate::license::lifecycle::{self, LicenseView, PublishedSnapshot, StatusChange};
use crate::license::qr::{qr_png, qr_svg, qr_url};
use crate::license::types::LicenseTypeDefinition;
use crate::outcome::ActionError;
use crate::store::licenses::Artefact;

/// Defines a license type (platform operator only).
#[utoipa::path(post, path = "/v1/license-types", tag = "licenses", operation_id = "create_license_type",
    request_body = LicenseTypeDefinition,
    responses((status = 201, description = "the defined type", body = LicenseTypeDefinition),
        (status = 403, description = "not the admin (`forbidden`)", body = ErrorBody),
        (status = 409, description = "the code exists (`duplicate_license_type`)", body = ErrorBody),
        (status = 422, description = "a field of the definition is invalid (named in the message)", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_type(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiJson(input): ApiJson<LicenseTypeDefinition>,
) -> Result<(StatusCode, Json<LicenseTypeDefinition>), ApiError> {
    let created = crate::license::catalogue::create_type(&state.db, &caller, input).await?;
    tracing::info!(code = %created.code, "license type defined");
    // The bundle's authorised issuers list names the new type.
    state.refresh_bundle().await;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Issues a license: the signed record, the sealed PDF with its QR code and
/// the row are made in one transaction, and the issuance is logged.
#[utoipa::path(post, path = "/v1/licenses", tag = "licenses", operation_id = "issue_license",
    request_body = IssueRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "repeat a request safely: the same key and body return the same license")),
    responses((status = 201, description = "the issued license (`Idempotent-Replayed: true` when it answers a repeated key)", body = LicenseView),
        (status = 403, description = "a seal of another department, no licenses:issue scope, or a department not allowed to issue the type", body = ErrorBody),
        (status = 404, description = "unknown license type", body = ErrorBody),
        (status = 409, description = "the seal is suspended, revoked or expired", body = ErrorBody),
        (status = 422, description = "a field is missing or invalid (named in the message), or the Idempotency-Key was used with another body", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn issue(
    State(state): State<AppState>,
    Caller(caller): Caller,
    headers: HeaderMap,
    ApiJson(input): ApiJson<IssueRequest>,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers)?;
    let issued = issue::issue(&context(&state), &caller, input, key).await?;
    tracing::info!(license = %issued.view.id, actor = %caller.actor(), replayed = issued.replayed, "license issued");
    Ok(created(issued))
}

/// The `Idempotency-Key` header, if any.
pub(super) fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ActionError> {
    headers
        .get("idempotency-key")
        .map(|v| {
            v.to_str()
                .map(str::to_string)
                .map_err(|_| ActionError::invalid("Idempotency-Key", "must be ASCII"))
        })
        .transpose()
}

/// What the license use cases need from the server.
pub(super) fn context(state: &AppState) -> LicenseContext<'_> {
    LicenseContext {
        db: &state.db,
        keys: &state.keys,
        authority: &state.authority,
        tsa: state.tsa.clone(),
        public_url: &state.config.public_url,
    }
}

/// 201 with the license, marked `Idempotent-Replayed: true` when it answers a repeated key.
pub(super) fn created(issued: issue::Issued) -> Response {
    let mut response = (StatusCode::CREATED, Json(issued.view)).into_response();
    if issued.replayed {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    response
}

/// Re-signs and publishes the status snapshot and the trust bundle after a
/// committed status change (see [`AppState::snapshot_changed`]).
pub(super) async fn republish(state: &AppState) {
    state.snapshot_changed().await;
}

/// Query of the holder listing.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HolderQuery {
    /// The holder's resident ID or USCC.
    pub holder_id: String,
}

/// A holder's licenses (those of the caller's department; all for the admin).
#[utoipa::path(get, path = "/v1/licenses", tag = "licenses", operation_id = "list_licenses", params(HolderQuery),
    responses((status = 200, description = "the holder's licenses the caller may see", body = Vec<LicenseView>)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiQuery(query): ApiQuery<HolderQuery>,
) -> Result<Json<Vec<LicenseView>>, ApiError> {
    Ok(Json(
        lifecycle::by_holder(&state.db, &caller, &query.holder_id).await?,
    ))
}

/// One license.
#[utoipa::path(get, path = "/v1/licenses/{id}", tag = "licenses", operation_id = "get_license",
    params(("id" = String, Path, description = "license identifier (GB/T 36904)")),
    responses((status = 200, description = "the license", body = LicenseView), (status = 403, description = "a license of another department, or no licenses scope (`forbidden`)", body = ErrorBody), (status = 404, description = "no such license (`not_found`)", body = ErrorBody), (status = 422, description = "not a license identifier (`invalid_field`)", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<LicenseView>, ApiError> {
    let mut conn = state.db.pool.acquire().await.map_err(ActionError::from)?;
    let row = lifecycle::load(&mut conn, &caller, &id).await?;
    Ok(Json(lifecycle::view(&mut conn, row).await?))
}

async fn artefact(
    state: &AppState,
    caller: &Principal,
    id: &str,
    which: Artefact,
) -> Result<Vec<u8>, ApiError> {
    let mut conn = state.db.pool.acquire().await.map_err(ActionError::from)?;
    lifecycle::load(&mut conn, caller, id).await?;
    crate::store::licenses::artefact(&mut conn, id, which)
        .await
        .map_err(ActionError::from)?
        .ok_or_else(|| ApiError::not_found(format!("license {id} not found")))
}

/// The signed record: a tagged COSE_Sign1 (RFC 9052) by the seal's key.
#[utoipa::path(get, path = "/v1/licenses/{id}/record", tag = "licenses", operation_id = "get_license_record",
    params(("id" = String, Path, description = "license identifier")),
    responses((status = 200, description = "the tagged COSE_Sign1 record", content_type = "application/cose", body = inline(super::openapi::Binary)), (status = 403, description = "a license of another department, or no licenses scope (`forbidden`)", body = ErrorBody), (status = 404, description = "no such license (`not_found`)", body = ErrorBody), (status = 422, description = "not a license identifier (`invalid_field`)", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn record(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let bytes = artefact(&state, &caller, &id, Artefact::Record).await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "application/cose; cose-type=\"cose-sign1\"",
        )],
        bytes,
    )
        .into_response())
}

/// The license certificate PDF, sealed and signed (PAdES B-LT).
#[utoipa::path(get, path = "/v1/licenses/{id}/pdf", tag = "licenses", operation_id = "get_license_pdf",
    params(("id" = String, Path, description = "license identifier")),
    responses((status = 200, description = "the sealed license certificate (PAdES B-LT)", content_type = "application/pdf", body = inline(super::openapi::Binary)), (status = 403, description = "a license of another department, or no licenses scope (`forbidden`)", body = ErrorBody), (status = 404, description = "no such license (`not_found`)", body = ErrorBody), (status = 422, description = "not a license identifier (`invalid_field`)", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn pdf(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let bytes = artefact(&state, &caller, &id, Artefact::Pdf).await?;
    Ok(([(header::CONTENT_TYPE, "application/pdf")], bytes).into_response())
}

async fn qr_text(state: &AppState, caller: &Principal, id: &str) -> Result<String, ApiError> {
    let record = artefact(state, caller, id, Artefact::Record).await?;
    Ok(qr_url(&state.config.public_url, &record))
}

/// The QR code (PNG, 8 pixels a module): the URL of the verification page carrying the signed summary.
#[utoipa::path(get, path = "/v1/licenses/{id}/qr.png", tag = "licenses", operation_id = "get_license_qr_png",
    params(("id" = String, Path, description = "license identifier")),
    responses((status = 200, description = "the QR code, PNG", content_type = "image/png", body = inline(super::openapi::Binary)), (status = 403, description = "a license of another department, or no licenses scope (`forbidden`)", body = ErrorBody), (status = 404, description = "no such license (`not_found`)", body = ErrorBody), (status = 422, description = "not a license identifier (`invalid_field`)", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn qr_png_image(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let text = qr_text(&state, &caller, &id).await?;
    let png = qr_png(&text, 8).map_err(ApiError::internal)?;
    Ok(([(header::CONTENT_TYPE, "image/png")], png).into_response())
}

/// The QR code as SVG.
#[utoipa::path(get, path = "/v1/licenses/{id}/qr.svg", tag = "licenses", operation_id = "get_license_qr_svg",
    params(("id" = String, Path, description = "license identifier")),
    responses((status = 200, description = "the QR code, SVG", content_type = "image/svg+xml", body = String), (status = 403, description = "a license of another department, or no licenses scope (`forbidden`)", body = ErrorBody), (status = 404, description = "no such license (`not_found`)", body = ErrorBody), (status = 422, description = "not a license identifier (`invalid_field`)", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn qr_svg_image(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let text = qr_text(&state, &caller, &id).await?;
    let svg = qr_svg(&text).map_err(ApiError::internal)?;
    Ok(([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response())
}

/// The body of a status change.
#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusBody {
    /// Why (required to revoke).
    #[serde(default)]
    pub reason: Option<String>,
}

async fn change(
    state: AppState,
    caller: Principal,
    id: String,
    change: StatusChange,
) -> Result<Json<LicenseView>, ApiError> {
    let view = lifecycle::change(&state.db, &state.keys, &caller, &id, change).await?;
    tracing::info!(license = %id, status = %view.status, actor = %caller.actor(), "license status changed");
    republish(&state).await;
    Ok(Json(view))
}

/// Suspends a license (valid → suspended).
#[utoipa::path(post, path = "/v1/licenses/{id}/suspend", tag = "licenses", operation_id = "suspend_license",
    params(("id" = String, Path, description = "license identifier")), request_body = StatusBody,
    responses((status = 200, description = "the suspended license", body = LicenseView), (status = 403, description = "a license of another department, or no licenses scope (`forbidden`)", body = ErrorBody), (status = 404, description = "no such license (`not_found`)", body = ErrorBody), (status = 409, description = "the license's status does not allow this change (`license_status`)", body = ErrorBody),
        (status = 422, description = "not a license identifier, or an invalid field (`invalid_field`)", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn suspend(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<StatusBody>,
) -> Result<Json<LicenseView>, ApiError> {
    change(state, caller, id, StatusChange::Suspend(body.reason)).await
}

/// Reinstates a suspended license.
#[utoipa::path(post, path = "/v1/licenses/{id}/reinstate", tag = "licenses", operation_id = "reinstate_license",
    params(("id" = String, Path, description = "license identifier")), request_body = StatusBody,
    responses((status = 200, description = "the valid license", body = LicenseView), (status = 403, description = "a license of another department, or no licenses scope (`forbidden`)", body = ErrorBody), (status = 404, description = "no such license (`not_found`)", body = ErrorBody), (status = 409, description = "the license's status does not allow this change (`license_status`)", body = ErrorBody),
        (status = 422, description = "not a license identifier, or an invalid field (`invalid_field`)", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn reinstate(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(_body): ApiJson<StatusBody>,
) -> Result<Json<LicenseView>, ApiError> {
    change(state, caller, id, StatusChange::Reinstate).await
}

/// Revokes a license (terminal); `reason` is required.
#[utoipa::path(post, path = "/v1/licenses/{id}/revoke", tag = "licenses", operation_id = "revoke_license",
    params(("id" = String, Path, description = "license identifier")), request_body = StatusBody,
    responses((status = 200, description = "the revoked license", body = LicenseView), (status = 403, description = "a license of another department, or no licenses scope (`forbidden`)", body = ErrorBody), (status = 404, description = "no such license (`not_found`)", body = ErrorBody), (status = 409, description = "the license's status does not allow this change (`license_status`)", body = ErrorBody),
        (status = 422, description = "not a license identifier, no `reason`, or an invalid field (`invalid_field`)", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn revoke(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<StatusBody>,
) -> Result<Json<LicenseView>, ApiError> {
    let reason = body
        .reason
        .ok_or_else(|| ActionError::invalid("reason", "is required to revoke"))?;
    change(state, caller, id, StatusChange::Revoke(reason)).await
}

/// The license status snapshot (revoked and suspended identifiers,
/// this-update, next-update), signed by the issuing CA as a COSE_Sign1 when
/// a status changes and re-signed on a schedule well before next-update;
/// served from memory. The same is published as `certs/license-status.{cose,json}`.
#[utoipa::path(get, path = "/v1/license-status", tag = "trust", operation_id = "get_license_status",
    responses((status = 200, description = "the signed status snapshot", body = PublishedSnapshot)))]
pub async fn status_snapshot(
    State(state): State<AppState>,
) -> Result<Json<PublishedSnapshot>, ApiError> {
    Ok(Json(state.published.current().snapshot.clone()))
}
