//! `/v1/seals`: a department's electronic seals.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::auth::Caller;
use super::departments::RevokeRequest;
use super::error::{ApiError, ApiJson, ErrorBody};
use crate::authority::RevocationReasonName;
use crate::seal::registry::{self, NewSeal, SealChange, SealView};

/// Creates a seal with its own key pair and seal certificate.
#[utoipa::path(post, path = "/v1/seals", tag = "seals",
    request_body = NewSeal,
    responses(
        (status = 201, description = "created", body = SealView),
        (status = 401, body = ErrorBody), (status = 403, description = "not the admin or a seals:manage client of the department", body = ErrorBody),
        (status = 422, body = ErrorBody)),
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
#[utoipa::path(get, path = "/v1/seals/{id}", tag = "seals",
    params(("id" = String, Path, description = "seal id")),
    responses((status = 200, body = SealView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
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
#[utoipa::path(post, path = "/v1/seals/{id}/suspend", tag = "seals",
    params(("id" = String, Path, description = "seal id")),
    responses((status = 200, body = SealView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn suspend(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<Json<SealView>, ApiError> {
    change(state, caller, id, SealChange::Suspend).await
}

/// Reinstates a suspended seal.
#[utoipa::path(post, path = "/v1/seals/{id}/reinstate", tag = "seals",
    params(("id" = String, Path, description = "seal id")),
    responses((status = 200, body = SealView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn reinstate(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<Json<SealView>, ApiError> {
    change(state, caller, id, SealChange::Reinstate).await
}

/// Revokes a seal for good; its certificate goes onto the issuing CA's CRL.
#[utoipa::path(post, path = "/v1/seals/{id}/revoke", tag = "seals",
    params(("id" = String, Path, description = "seal id")),
    request_body = RevokeRequest,
    responses((status = 200, body = SealView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn revoke(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<RevokeRequest>,
) -> Result<Json<SealView>, ApiError> {
    let reason = input
        .reason
        .unwrap_or(RevocationReasonName::CessationOfOperation);
    change(state, caller, id, SealChange::Revoke(reason)).await
}

/// Options of the appearance preview.
#[derive(serde::Deserialize, utoipa::IntoParams)]
pub struct AppearanceQuery {
    /// `svg` (default) or `pdf`.
    #[serde(default)]
    pub format: Option<String>,
    /// Diameter in mm, 30–50 (default 42).
    #[serde(default)]
    pub size: Option<f32>,
}

/// The seal's appearance (印模): red ring, department name on the upper arc,
/// star, seal name and code — as SVG or as a one-page PDF.
#[utoipa::path(get, path = "/v1/seals/{id}/appearance", tag = "seals",
    params(("id" = String, Path, description = "seal id"), AppearanceQuery),
    responses(
        (status = 200, description = "image/svg+xml or application/pdf", body = String),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn appearance(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    Query(query): Query<AppearanceQuery>,
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
