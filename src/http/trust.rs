//! Public endpoints: the trust bundle, CRLs, health. They read: the bundle
//! is signed when something changes ([`super::published`]), CRLs when a
//! certificate is revoked or by the refresher before they go stale.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde::Serialize;

use super::AppState;
use super::error::{ApiError, ApiPath, ErrorBody};
use crate::authority::{CaName, TrustBundle};

/// The trust bundle: root, issuing CA and TSA certificates, current CRLs,
/// seal certificates, the signed status snapshot and issuers list, and the
/// latest log checkpoint.
#[utoipa::path(get, path = "/v1/trust", tag = "trust", operation_id = "get_trust_bundle",
    responses((status = 200, description = "the trust bundle", body = TrustBundle)))]
pub async fn bundle(State(state): State<AppState>) -> Result<Json<TrustBundle>, ApiError> {
    let mut bundle = state.published.current().bundle.clone();
    // The sequencer signs checkpoints between rebuilds: the latest one is read.
    let mut conn = state.db.pool.acquire().await.map_err(ApiError::internal)?;
    if let Some(latest) = crate::transparency::proofs::latest_checkpoint(&mut conn)
        .await
        .map_err(ApiError::internal)?
    {
        bundle.log_checkpoint = Some(latest.note);
    }
    Ok(Json(bundle))
}

/// The current CRL of a CA (`root` or `issuing-ca`), DER (RFC 5280 §5).
#[utoipa::path(get, path = "/v1/crl/{ca}", tag = "trust", operation_id = "get_crl",
    params(("ca" = String, Path, description = "`root` or `issuing-ca` (a `.crl` suffix is allowed)")),
    responses((status = 200, description = "the CRL, DER", content_type = "application/pkix-crl", body = inline(super::openapi::Binary)),
        (status = 404, description = "no such CA (`not_found`)", body = ErrorBody)))]
pub async fn crl(
    State(state): State<AppState>,
    ApiPath(ca): ApiPath<String>,
) -> Result<impl IntoResponse, ApiError> {
    let ca: CaName = ca
        .parse()
        .map_err(|_| ApiError::not_found(format!("no CA named {ca:?}; use root or issuing-ca")))?;
    let mut conn = state.db.pool.acquire().await.map_err(ApiError::internal)?;
    let crl = crate::store::certificates::latest_crl(&mut conn, ca.as_str())
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::internal(format!("no CRL of {} is stored", ca.as_str())))?;
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
#[utoipa::path(get, path = "/healthz", tag = "trust", operation_id = "health",
    responses((status = 200, description = "the service and its database answer", body = Health),
        (status = 503, description = "the database does not answer (`unavailable`), or too many requests at once (`busy`)", body = ErrorBody)))]
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
