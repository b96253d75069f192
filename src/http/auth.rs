//! Bearer-token authentication as axum extractors.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use super::AppState;
use super::error::ApiError;
use crate::access::{self, Principal};

/// Any authenticated caller.
pub struct Caller(pub Principal);

/// The platform operator; a department client gets 403.
pub struct Admin;

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        // The admission layer already checked the token.
        if let Some(super::limits::Authenticated(principal)) = parts.extensions.get() {
            return Ok(Caller(principal.clone()));
        }
        let value = parts.headers.get(header::AUTHORIZATION).ok_or_else(|| {
            ApiError::unauthorized("missing Authorization: Bearer <token> header")
        })?;
        let token = value
            .to_str()
            .ok()
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::unauthorized("the Authorization header must be 'Bearer <token>'")
            })?;
        let mut conn = state.db.pool.acquire().await.map_err(ApiError::internal)?;
        match access::authenticate(&mut conn, &state.admin_token_hash, token).await {
            Ok(Some(p)) => Ok(Caller(p)),
            Ok(None) => Err(ApiError::unauthorized("unknown or revoked token")),
            Err(e) => Err(ApiError::internal(e)),
        }
    }
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match Caller::from_request_parts(parts, state).await?.0 {
            Principal::Admin => Ok(Admin),
            Principal::Client { .. } => {
                Err(ApiError::forbidden("this endpoint needs the admin token"))
            }
        }
    }
}
