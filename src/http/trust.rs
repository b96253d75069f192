//! Public endpoints: the trust bundle, CRLs, health.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use serde::Serialize;

use super::AppState;
use super::error::{ApiError, ErrorBody};
use crate::authority::{CaName, TrustBundle};

/// The trust bundle: root, issuing CA and TSA certificates and current CRLs.
#[utoipa::path(get, path = "/v1/trust", tag = "trust",
    responses((status = 200, body = TrustBundle)))]
pub async fn bundle(State(state): State<AppState>) -> Result<Json<TrustBundle>, ApiError> {
    Ok(Json(
        state
            .authority
            .trust_bundle(&state.db)
            .await
            .map_err(ApiError::internal)?,
    ))
}

/// The current CRL of a CA (`root` or `issuing-ca`), DER (RFC 5280 §5).
#[utoipa::path(get, path = "/v1/crl/{ca}", tag = "trust",
    params(("ca" = String, Path, description = "`root` or `issuing-ca` (a `.crl` suffix is allowed)")),
    responses((status = 200, content_type = "application/pkix-crl", body = Vec<u8>), (status = 404, body = ErrorBody)))]
pub async fn crl(
    State(state): State<AppState>,
    Path(ca): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let ca: CaName = ca
        .parse()
        .map_err(|_| ApiError::not_found(format!("no CA named {ca:?}; use root or issuing-ca")))?;
    let crl = state
        .authority
        .fresh_crl(&state.db, ca)
        .await
        .map_err(ApiError::internal)?;
    Ok(([(header::CONTENT_TYPE, "application/pkix-crl")], crl.der))
}

/// Health.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok` when the database answers.
    pub status: String,
    /// `sqlite` or `postgres`.
    pub database: String,
    /// Version of govseal.
    pub version: String,
}

/// Liveness and database reachability.
#[utoipa::path(get, path = "/healthz", tag = "trust",
    responses((status = 200, body = Health), (status = 503, body = ErrorBody)))]
pub async fn health(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    sqlx::query("SELECT 1")
        .execute(&state.db.pool)
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "health check: database unreachable");
            ApiError::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the database does not answer",
            )
        })?;
    Ok(Json(Health {
        status: "ok".into(),
        database: format!("{:?}", state.db.backend).to_lowercase(),
        version: env!("CARGO_PKG_VERSION").into(),
    }))
}
