//! `/v1/seals`: a department's electronic seals.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::auth::Caller;
use super::departments::RevokeRequest;
use super::error::{ApiError, ApiJson, ApiPath, ApiQuery, ErrorBody};
use crate::authority::RevocationReasonName;
use crate::seal::registry::{self, NewSeal, SealChange, SealView};

/// Creates a seal with its own key pair and seal certificate.
#[utoipa::path(post, path = "/v1/seals", tag = "seals", operation_id = "create_seal",
    request_body = NewSeal,
    responses(
        (status = 201, description = "created", body = SealView),
        (status = 403, description = "not the admin or a seals:manage client of the department (`forbidden`)", body = ErrorBody),
        (status = 404, description = "no such department (`not_found`)", body = ErrorBody),
        (status = 409, description = "a seal code clash; retry (`seal_code_clash`)", body = ErrorBody),
        (status = 422, description = "an invalid field, e.g. an unknown seal type (`invalid_field`)", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiJson(input): ApiJson<NewSeal>,
) -> Result<(StatusCode, Json<SealView>), ApiError> {
    let view =
        registry::create_seal(&state.db, &state.keys, &state.authority, &caller, input).await?;
    tracing::info!(seal = %view.id, department = %view.department_id, code = %view.code, actor = %caller.actor(), "seal created");
    // The new seal certificate joins the trust bundle (certs/seals/).
    state.refresh_bundle().await;
    Ok((StatusCode::CREATED, Json(view)))
}

/// One seal.
#[utoipa::path(get, path = "/v1/seals/{id}", tag = "seals", operation_id = "get_seal",
    params(("id" = String, Path, description = "seal id")),
    responses((status = 200, description = "the seal", body = SealView), (status = 403, description = "not the admin or a seals:manage client of the seal's department (`forbidden`)", body = ErrorBody), (status = 404, description = "no such seal (`not_found`)", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<SealView>, ApiError> {
    Ok(Json(registry::get_seal(&state.db, &caller, &id).await?))
}

async fn change(
    state: AppState,
    caller: crate::access::Principal,
    id: String,
    change: SealChange,
) -> Result<Json<SealView>, ApiError> {
    let view = registry::change_seal(
        &state.db,
        &state.keys,
        &state.authority,
        &caller,
        &id,
        change,
    )
    .await?;
    tracing::info!(seal = %id, status = %view.status, actor = %caller.actor(), "seal status changed");
    // Any change may touch a seal certificate or a CRL: republish the bundle.
    state.refresh_bundle().await;
    Ok(Json(view))
}

/// Suspends a seal: it cannot stamp until reinstated; earlier stamps stay valid.
#[utoipa::path(post, path = "/v1/seals/{id}/suspend", tag = "seals", operation_id = "suspend_seal",
    params(("id" = String, Path, description = "seal id")),
    responses((status = 200, description = "the suspended seal", body = SealView), (status = 403, description = "not the admin or a seals:manage client of the seal's department (`forbidden`)", body = ErrorBody), (status = 404, description = "no such seal (`not_found`)", body = ErrorBody),
        (status = 409, description = "the seal's status does not allow this change (`invalid_seal_state`)", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn suspend(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<SealView>, ApiError> {
    change(state, caller, id, SealChange::Suspend).await
}

/// Reinstates a suspended seal.
#[utoipa::path(post, path = "/v1/seals/{id}/reinstate", tag = "seals", operation_id = "reinstate_seal",
    params(("id" = String, Path, description = "seal id")),
    responses((status = 200, description = "the active seal", body = SealView), (status = 403, description = "not the admin or a seals:manage client of the seal's department (`forbidden`)", body = ErrorBody), (status = 404, description = "no such seal (`not_found`)", body = ErrorBody),
        (status = 409, description = "the seal's status does not allow this change (`invalid_seal_state`)", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn reinstate(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<SealView>, ApiError> {
    change(state, caller, id, SealChange::Reinstate).await
}

/// Revokes a seal for good; its certificate goes onto the issuing CA's CRL.
#[utoipa::path(post, path = "/v1/seals/{id}/revoke", tag = "seals", operation_id = "revoke_seal",
    params(("id" = String, Path, description = "seal id")),
    request_body = RevokeRequest,
    responses((status = 200, description = "the revoked seal", body = SealView), (status = 403, description = "not the admin or a seals:manage client of the seal's department (`forbidden`)", body = ErrorBody), (status = 404, description = "no such seal (`not_found`)", body = ErrorBody),
        (status = 409, description = "the seal's status does not allow this change (`invalid_seal_state`)", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn revoke(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<RevokeRequest>,
) -> Result<Json<SealView>, ApiError> {
    let reason = input
        .reason
        .unwrap_or(RevocationReasonName::CessationOfOperation);
    change(state, caller, id, SealChange::Revoke(reason)).await
}

/// Options of the appearance preview.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AppearanceQuery {
    /// `svg` (default) or `pdf`.
    #[serde(default)]
    #[param(value_type = String, required = false, pattern = "^(svg|pdf)$")]
    pub format: Option<String>,
    /// Diameter in mm, 30–50 (default 42).
    #[serde(default)]
    #[param(value_type = f32, required = false, minimum = 30, maximum = 50)]
    pub size: Option<f32>,
}

/// The seal's appearance (印模): red ring, department name on the upper arc,
/// star, seal name and code — as SVG or as a one-page PDF.
#[utoipa::path(get, path = "/v1/seals/{id}/appearance", tag = "seals", operation_id = "get_seal_appearance",
    params(("id" = String, Path, description = "seal id"), AppearanceQuery),
    responses(
        (status = 200, description = "the appearance: SVG (`format=svg`) or a one-page PDF (`format=pdf`)",
            content((String = "image/svg+xml"), (inline(super::openapi::Binary) = "application/pdf"))),
        (status = 403, description = "not the admin or a seals:manage client of the seal's department (`forbidden`)", body = ErrorBody), (status = 404, description = "no such seal (`not_found`)", body = ErrorBody),
        (status = 422, description = "`size` out of range or an unknown `format` (`invalid_field`)", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn appearance(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<AppearanceQuery>,
) -> Result<Response, ApiError> {
    let size = query
        .size
        .unwrap_or(crate::seal::appearance::DEFAULT_DIAMETER_MM);
    if !(30.0..=50.0).contains(&size) {
        return Err(crate::outcome::ActionError::invalid(
            "size",
            "the seal diameter must be between 30 and 50 mm",
        )
        .into());
    }
    let look = registry::appearance(&state.db, &caller, &id, size).await?;
    let draw_error = |e: crate::seal::AppearanceError| {
        ApiError::from(crate::outcome::ActionError::invalid("seal", e))
    };
    match query.format.as_deref().unwrap_or("svg") {
        "svg" => Ok((
            [(header::CONTENT_TYPE, "image/svg+xml")],
            look.to_svg().map_err(draw_error)?,
        )
            .into_response()),
        "pdf" => Ok((
            [(header::CONTENT_TYPE, "application/pdf")],
            look.to_pdf().map_err(draw_error)?,
        )
            .into_response()),
        other => Err(crate::outcome::ActionError::invalid(
            "format",
            format!("{other:?}: use svg or pdf"),
        )
        .into()),
    }
}
