//! `/v1/departments`: departments, their certificates and API clients (admin).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use super::AppState;
use super::auth::Admin;
use super::error::{ApiError, ApiJson, ApiPath, ErrorBody};
use crate::authority::RevocationReasonName;
use crate::department::{
    self, ClientCreated, ClientView, DepartmentView, NewClient, NewDepartment,
};

/// Creates a department and issues its organisation certificate.
#[utoipa::path(post, path = "/v1/departments", tag = "departments", operation_id = "create_department",
    request_body = NewDepartment,
    responses(
        (status = 201, description = "created", body = DepartmentView),
        (status = 400, description = "malformed JSON", body = ErrorBody),
        (status = 401, description = "missing or wrong token", body = ErrorBody),
        (status = 403, description = "not the admin", body = ErrorBody),
        (status = 409, description = "a department with this USCC exists", body = ErrorBody),
        (status = 413, description = "body too large", body = ErrorBody),
        (status = 422, description = "invalid field (e.g. USCC check character)", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    _admin: Admin,
    ApiJson(input): ApiJson<NewDepartment>,
) -> Result<(StatusCode, Json<DepartmentView>), ApiError> {
    let view =
        department::create_department(&state.db, &state.keys, &state.authority, input).await?;
    tracing::info!(department = %view.id, uscc = %view.uscc, "department created");
    state.refresh_bundle().await;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Lists departments.
#[utoipa::path(get, path = "/v1/departments", tag = "departments", operation_id = "list_departments",
    responses((status = 200, description = "every department", body = Vec<DepartmentView>)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    _admin: Admin,
) -> Result<Json<Vec<DepartmentView>>, ApiError> {
    Ok(Json(department::list_departments(&state.db).await?))
}

/// One department with its current certificate.
#[utoipa::path(get, path = "/v1/departments/{id}", tag = "departments", operation_id = "get_department",
    params(("id" = String, Path, description = "department id")),
    responses((status = 200, description = "the department", body = DepartmentView),
        (status = 403, description = "a client of another department (`forbidden`)", body = ErrorBody),
        (status = 404, description = "no such department (`not_found`)", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    super::auth::Caller(caller): super::auth::Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<DepartmentView>, ApiError> {
    if let crate::access::Principal::Client { department_id, .. } = &caller
        && department_id != &id
    {
        return Err(ApiError::forbidden(
            "a client may only read its own department",
        ));
    }
    Ok(Json(department::get_department(&state.db, &id).await?))
}

/// Why a certificate is revoked.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeRequest {
    /// RFC 5280 reason; default `unspecified`.
    #[serde(default)]
    pub reason: Option<RevocationReasonName>,
}

/// Revokes the department's organisation certificate; the next CRL of the issuing CA lists it.
#[utoipa::path(post, path = "/v1/departments/{id}/certificate/revoke", tag = "departments", operation_id = "revoke_department_certificate",
    params(("id" = String, Path, description = "department id")),
    request_body = RevokeRequest,
    responses((status = 200, description = "the department with its revoked certificate", body = DepartmentView),
        (status = 404, description = "no such department (`not_found`)", body = ErrorBody),
        (status = 409, description = "the certificate is already revoked (`already_revoked`)", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn revoke_certificate(
    State(state): State<AppState>,
    _admin: Admin,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<RevokeRequest>,
) -> Result<Json<DepartmentView>, ApiError> {
    let reason = input.reason.unwrap_or(RevocationReasonName::Unspecified);
    let view = department::revoke_department_certificate(
        &state.db,
        &state.keys,
        &state.authority,
        &id,
        reason,
    )
    .await?;
    tracing::info!(department = %id, serial = %view.certificate_serial, "department certificate revoked");
    state.refresh_bundle().await;
    Ok(Json(view))
}

/// Issues a new organisation certificate for the department.
#[utoipa::path(post, path = "/v1/departments/{id}/certificate", tag = "departments", operation_id = "renew_department_certificate",
    params(("id" = String, Path, description = "department id")),
    responses((status = 201, description = "the department with its new certificate", body = DepartmentView),
        (status = 404, description = "no such department (`not_found`)", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn renew_certificate(
    State(state): State<AppState>,
    _admin: Admin,
    ApiPath(id): ApiPath<String>,
) -> Result<(StatusCode, Json<DepartmentView>), ApiError> {
    let view =
        department::renew_department_certificate(&state.db, &state.keys, &state.authority, &id)
            .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Creates an API client; the response holds its secret token, shown only once.
#[utoipa::path(post, path = "/v1/departments/{id}/clients", tag = "clients", operation_id = "create_client",
    params(("id" = String, Path, description = "department id")),
    request_body = NewClient,
    responses((status = 201, description = "the client and its token (shown only this once)", body = ClientCreated),
        (status = 404, description = "no such department (`not_found`)", body = ErrorBody),
        (status = 422, description = "an invalid name or an unknown scope (`invalid_field`)", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_client(
    State(state): State<AppState>,
    _admin: Admin,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<NewClient>,
) -> Result<(StatusCode, Json<ClientCreated>), ApiError> {
    let created = department::create_client(&state.db, &state.keys, &id, input).await?;
    tracing::info!(department = %id, client = %created.client.id, "API client created");
    Ok((StatusCode::CREATED, Json(created)))
}

/// Lists a department's API clients (never their tokens).
#[utoipa::path(get, path = "/v1/departments/{id}/clients", tag = "clients", operation_id = "list_clients",
    params(("id" = String, Path, description = "department id")),
    responses((status = 200, description = "the department's clients", body = Vec<ClientView>),
        (status = 404, description = "no such department (`not_found`)", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_clients(
    State(state): State<AppState>,
    _admin: Admin,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Vec<ClientView>>, ApiError> {
    Ok(Json(department::list_clients(&state.db, &id).await?))
}

/// Revokes an API client: its token stops working at once.
#[utoipa::path(post, path = "/v1/departments/{id}/clients/{client_id}/revoke", tag = "clients", operation_id = "revoke_client",
    params(("id" = String, Path, description = "department id"), ("client_id" = String, Path, description = "client id")),
    responses((status = 200, description = "the revoked client", body = ClientView),
        (status = 404, description = "no such department or client (`not_found`)", body = ErrorBody),
        (status = 409, description = "the client is already revoked (`already_revoked`)", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn revoke_client(
    State(state): State<AppState>,
    _admin: Admin,
    ApiPath((id, client_id)): ApiPath<(String, String)>,
) -> Result<Json<ClientView>, ApiError> {
    let view = department::revoke_client(&state.db, &state.keys, &id, &client_id).await?;
    tracing::info!(department = %id, client = %client_id, "API client revoked");
    Ok(Json(view))
}
