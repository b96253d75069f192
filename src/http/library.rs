//! The license library (电子证照库) over HTTP: `/v1/service-items` (the
//! operator's service items and use lists), `/v1/consents` (holders'
//! one-time consent codes) and `/v1/license-uses` (using licenses, and the
//! trace of every use and refusal).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, ApiJson, ErrorBody};
use crate::library::consent::{self, ConsentView, CreatedConsent, NewConsent};
use crate::library::items::{self, ItemView, NewItem, NewUse, UseEntryView};
use crate::library::uses::{self, UseGranted, UseRequest, UseView};
use crate::outcome::ActionError;
use crate::store::library::UseFilter;

/// Publishes a service item (platform operator only).
#[utoipa::path(post, path = "/v1/service-items", tag = "library", operation_id = "create_service_item",
    request_body = NewItem,
    responses((status = 201, description = "published", body = ItemView),
        (status = 401, description = "no or unknown token", body = ErrorBody),
        (status = 403, description = "not the platform operator", body = ErrorBody),
        (status = 409, description = "the code exists", body = ErrorBody),
        (status = 422, description = "a field is invalid (named in the message)", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_item(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiJson(input): ApiJson<NewItem>,
) -> Result<(StatusCode, Json<ItemView>), ApiError> {
    let item = items::create_item(&state.db, &caller, input).await?;
    tracing::info!(item = %item.code, "service item published");
    Ok((StatusCode::CREATED, Json(item)))
}

/// Every service item with its departments and use list in force.
#[utoipa::path(get, path = "/v1/service-items", tag = "library", operation_id = "list_service_items",
    responses((status = 200, description = "the service items", body = Vec<ItemView>),
        (status = 401, description = "no or unknown token", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_items(
    State(state): State<AppState>,
    Caller(_caller): Caller,
) -> Result<Json<Vec<ItemView>>, ApiError> {
    Ok(Json(items::list_items(&state.db).await?))
}

/// One service item.
#[utoipa::path(get, path = "/v1/service-items/{code}", tag = "library", operation_id = "get_service_item",
    params(("code" = String, Path, description = "service item code")),
    responses((status = 200, description = "the service item", body = ItemView),
        (status = 401, description = "no or unknown token", body = ErrorBody),
        (status = 404, description = "no such item", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_item(
    State(state): State<AppState>,
    Caller(_caller): Caller,
    Path(code): Path<String>,
) -> Result<Json<ItemView>, ApiError> {
    Ok(Json(items::get_item(&state.db, &code).await?))
}

/// Adds a license type to an item's use list, or replaces its entry by a
/// new version (platform operator only). `active: false` withdraws it.
#[utoipa::path(post, path = "/v1/service-items/{code}/uses", tag = "library", operation_id = "add_use_list_entry",
    params(("code" = String, Path, description = "service item code")),
    request_body = NewUse,
    responses((status = 201, description = "the new use list entry version", body = UseEntryView),
        (status = 401, description = "no or unknown token", body = ErrorBody),
        (status = 403, description = "not the platform operator", body = ErrorBody),
        (status = 404, description = "no such item", body = ErrorBody),
        (status = 409, description = "a concurrent change of the same entry", body = ErrorBody),
        (status = 422, description = "unknown license type or field (named in the message)", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn add_use(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(code): Path<String>,
    ApiJson(input): ApiJson<NewUse>,
) -> Result<(StatusCode, Json<UseEntryView>), ApiError> {
    let entry = items::add_use(&state.db, &caller, &code, input).await?;
    tracing::info!(item = %code, license_type = %entry.license_type, version = entry.version, "use list changed");
    Ok((StatusCode::CREATED, Json(entry)))
}

/// Creates a holder's one-time consent code (用证码), by a holder-facing
/// app client (scope `consents:create`) that authenticated the holder.
#[utoipa::path(post, path = "/v1/consents", tag = "library", operation_id = "create_consent",
    request_body = NewConsent,
    responses((status = 201, description = "the code: give it to the using department", body = CreatedConsent),
        (status = 401, description = "no or unknown token", body = ErrorBody),
        (status = 403, description = "no consents:create scope", body = ErrorBody),
        (status = 422, description = "a field is invalid (named in the message)", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_consent(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiJson(input): ApiJson<NewConsent>,
) -> Result<(StatusCode, Json<CreatedConsent>), ApiError> {
    let created = consent::create(&state.db, &state.keys, &caller, input).await?;
    tracing::info!(consent = %created.id, "consent code created");
    Ok((StatusCode::CREATED, Json(created)))
}

/// Revokes an unused consent code (its creator, or the operator).
#[utoipa::path(post, path = "/v1/consents/{id}/revoke", tag = "library", operation_id = "revoke_consent",
    params(("id" = String, Path, description = "consent id")),
    responses((status = 200, description = "revoked", body = ConsentView),
        (status = 401, description = "no or unknown token", body = ErrorBody),
        (status = 404, description = "no such consent of this caller", body = ErrorBody),
        (status = 409, description = "already used or revoked", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn revoke_consent(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<Json<ConsentView>, ApiError> {
    Ok(Json(
        consent::revoke(&state.db, &state.keys, &caller, &id).await?,
    ))
}

/// Uses a holder's licenses for a service item: judged against the use list
/// in force and the holder's consent; a grant releases only the listed
/// fields, each license with its signed record. Every use and every refusal
/// is recorded and logged.
#[utoipa::path(post, path = "/v1/license-uses", tag = "library", operation_id = "use_licenses",
    request_body = UseRequest,
    responses((status = 201, description = "granted: the licenses released", body = UseGranted),
        (status = 401, description = "no or unknown token", body = ErrorBody),
        (status = 403, description = "`forbidden` (no licenses:use scope), `not_on_use_list` (the department does not handle the item, or no use list), `consent_required`, `consent_invalid` (another holder's, item's or department's code); refusals are recorded", body = ErrorBody),
        (status = 409, description = "`consent_used_or_expired`: the code was used, revoked or expired (recorded)", body = ErrorBody),
        (status = 422, description = "a field is invalid (named in the message); nothing is recorded", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn use_licenses(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiJson(input): ApiJson<UseRequest>,
) -> Result<(StatusCode, Json<UseGranted>), ApiError> {
    let granted = uses::use_licenses(&state.db, &state.keys, &caller, input).await?;
    tracing::info!(license_use = %granted.id, released = granted.licenses.len(), actor = %caller.actor(), "licenses used");
    Ok((StatusCode::CREATED, Json(granted)))
}

/// Filters of the use listing.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct UseQuery {
    /// Uses that released this license.
    pub license_id: Option<String>,
    /// Uses about this holder (resident ID or USCC).
    pub holder: Option<String>,
    /// Uses by this department.
    pub department_id: Option<String>,
    /// Uses for this service item.
    pub service_item: Option<String>,
    /// Uses that released a license of this type.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub license_type: Option<String>,
    /// From (inclusive): Unix seconds or RFC 3339.
    pub from: Option<String>,
    /// To (exclusive): Unix seconds or RFC 3339.
    pub to: Option<String>,
    /// At most this many (1–10000, default 1000), newest first.
    pub limit: Option<String>,
    /// `json` (default) or `csv` (operator only).
    pub format: Option<String>,
}

fn time_param(name: &str, value: Option<&str>) -> Result<Option<i64>, ActionError> {
    let Some(value) = value else { return Ok(None) };
    if let Ok(seconds) = value.parse::<i64>() {
        return Ok(Some(seconds));
    }
    time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339)
        .map(|t| Some(t.unix_timestamp()))
        .map_err(|_| ActionError::invalid(name, "must be Unix seconds or an RFC 3339 time"))
}

impl UseQuery {
    fn filter(&self) -> Result<UseFilter, ActionError> {
        let limit = match self.limit.as_deref() {
            None => 1000,
            Some(text) => text
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=10_000).contains(n))
                .ok_or_else(|| ActionError::invalid("limit", "must be 1 to 10000"))?,
        };
        Ok(UseFilter {
            license_id: self.license_id.clone(),
            holder_id: self.holder.clone(),
            department_id: self.department_id.clone(),
            item_code: self.service_item.clone(),
            type_code: self.license_type.clone(),
            from: time_param("from", self.from.as_deref())?,
            to: time_param("to", self.to.as_deref())?,
            visible_to: None,
            limit,
        })
    }
}

/// The trace of uses: the operator sees all (and may export CSV), a
/// department its own uses and the uses of licenses it issued, a holder's
/// app the uses about one holder.
#[utoipa::path(get, path = "/v1/license-uses", tag = "library", operation_id = "list_license_uses",
    params(UseQuery),
    responses((status = 200, description = "the uses, newest first (CSV with format=csv)",
            content((Vec<UseView> = "application/json"), (String = "text/csv"))),
        (status = 401, description = "no or unknown token", body = ErrorBody),
        (status = 403, description = "the caller may not list uses", body = ErrorBody),
        (status = 422, description = "a filter is invalid (named in the message)", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_uses(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Query(query): Query<UseQuery>,
) -> Result<Response, ApiError> {
    let filter = query.filter()?;
    match query.format.as_deref() {
        None | Some("json") => {
            Ok(Json(uses::list(&state.db, &caller, filter).await?).into_response())
        }
        Some("csv") => {
            let csv = uses::export_csv(&state.db, &caller, filter).await?;
            Ok((
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                    (
                        header::CONTENT_DISPOSITION,
                        "attachment; filename=\"license-uses.csv\"",
                    ),
                ],
                csv,
            )
                .into_response())
        }
        Some(_) => Err(ActionError::invalid("format", "must be json or csv").into()),
    }
}

/// One use record.
#[utoipa::path(get, path = "/v1/license-uses/{id}", tag = "library", operation_id = "get_license_use",
    params(("id" = String, Path, description = "use id")),
    responses((status = 200, description = "the use", body = UseView),
        (status = 401, description = "no or unknown token", body = ErrorBody),
        (status = 404, description = "no such use visible to the caller", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_use(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<Json<UseView>, ApiError> {
    Ok(Json(uses::get(&state.db, &caller, &id).await?))
}

/// The original PDF of a license a use released: to the using department,
/// within 15 minutes of the use.
#[utoipa::path(get, path = "/v1/license-uses/{id}/licenses/{license_id}/pdf", tag = "library",
    operation_id = "get_license_use_pdf",
    params(("id" = String, Path, description = "use id"), ("license_id" = String, Path, description = "license identifier")),
    responses((status = 200, description = "the sealed license PDF", content_type = "application/pdf", body = inline(super::openapi::Binary)),
        (status = 401, description = "no or unknown token", body = ErrorBody),
        (status = 403, description = "no licenses:use scope", body = ErrorBody),
        (status = 404, description = "no such use of the caller's department, or the use did not release the license", body = ErrorBody),
        (status = 409, description = "`use_window_closed`: make a new use", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn use_pdf(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((id, license_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let bytes = uses::pdf(&state.db, &caller, &id, &license_id).await?;
    Ok(([(header::CONTENT_TYPE, "application/pdf")], bytes).into_response())
}
