//! The HTTP adapter: parse, call one use case, map errors. The whole API and
//! its OpenAPI document are assembled here.

pub mod auth;
pub mod client_address;
mod departments;
pub mod error;
pub mod foreign;
mod library;
mod license_versions;
mod licenses;
pub mod limits;
mod log;
pub mod metrics;
pub mod openapi;
pub mod pages;
pub mod published;
mod seals;
mod stamp;
mod trust;
mod tsa;
pub(crate) mod verify;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{get, post};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::authority::Authority;
use crate::config::Config;
use crate::keystore::KeyStore;
use crate::store::Database;
use crate::timestamp::TimeStampAuthority;

/// Largest JSON body accepted by the JSON endpoints.
pub const JSON_BODY_LIMIT: usize = 64 * 1024;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub db: Database,
    /// The key store.
    pub keys: Arc<KeyStore>,
    /// The loaded PKI.
    pub authority: Arc<Authority>,
    /// Configuration.
    pub config: Arc<Config>,
    /// SHA-256 (hex) of the admin token.
    pub admin_token_hash: String,
    /// The time-stamping authority (RFC 3161).
    pub timestamp_authority: Arc<TimeStampAuthority>,
    /// The same TSA, as the PAdES engine sees it.
    pub tsa: Arc<dyn crate::pades::TimeStamper>,
    /// Signatures already verified, shared by the trust stores of all requests.
    pub verify_memo: crate::verify::SignatureMemo,
    /// Rate limits and concurrency budgets, applied before any handler.
    pub admission: Arc<limits::Admission>,
    /// The trust bundle and status snapshot the public GETs serve.
    pub published: Arc<published::Published>,
    /// Other installations' trust stores (`GOVSEAL_FOREIGN_TRUST`), for
    /// `POST /v1/verify` (互认).
    pub foreign_trust: Arc<foreign::ForeignTrust>,
}

impl AppState {
    /// Re-signs and republishes the trust bundle after a change (see
    /// [`AppState::snapshot_changed`]).
    pub async fn refresh_bundle(&self) {
        self.snapshot_changed().await;
    }
}

/// The OpenAPI document of the whole API.
pub fn openapi() -> utoipa::openapi::OpenApi {
    openapi::openapi()
}

async fn openapi_json() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(openapi())
}

async fn fallback() -> error::ApiError {
    error::ApiError::not_found("no such endpoint; see /openapi.json")
}

/// The router with every route.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route(
            "/v1/departments",
            post(departments::create).get(departments::list),
        )
        .route("/v1/departments/{id}", get(departments::get))
        .route(
            "/v1/departments/{id}/certificate",
            post(departments::renew_certificate),
        )
        .route(
            "/v1/departments/{id}/certificate/revoke",
            post(departments::revoke_certificate),
        )
        .route(
            "/v1/departments/{id}/clients",
            post(departments::create_client).get(departments::list_clients),
        )
        .route(
            "/v1/departments/{id}/clients/{client_id}/revoke",
            post(departments::revoke_client),
        )
        .route("/v1/seals", post(seals::create))
        .route("/v1/seals/{id}", get(seals::get))
        .route("/v1/seals/{id}/suspend", post(seals::suspend))
        .route("/v1/seals/{id}/reinstate", post(seals::reinstate))
        .route("/v1/seals/{id}/revoke", post(seals::revoke))
        .route("/v1/seals/{id}/appearance", get(seals::appearance))
        .route("/v1/license-types", post(licenses::create_type))
        .route("/v1/licenses", post(licenses::issue).get(licenses::list))
        .route("/v1/licenses/{id}", get(licenses::get))
        .route("/v1/licenses/{id}/record", get(licenses::record))
        .route("/v1/licenses/{id}/pdf", get(licenses::pdf))
        .route("/v1/licenses/{id}/qr.png", get(licenses::qr_png_image))
        .route("/v1/licenses/{id}/qr.svg", get(licenses::qr_svg_image))
        .route("/v1/licenses/{id}/suspend", post(licenses::suspend))
        .route("/v1/licenses/{id}/reinstate", post(licenses::reinstate))
        .route("/v1/licenses/{id}/revoke", post(licenses::revoke))
        .route("/v1/licenses/{id}/renew", post(license_versions::renew))
        .route("/v1/licenses/{id}/amend", post(license_versions::amend))
        .route("/v1/license-status", get(licenses::status_snapshot))
        .route(
            "/v1/service-items",
            post(library::create_item).get(library::list_items),
        )
        .route("/v1/service-items/{code}", get(library::get_item))
        .route("/v1/service-items/{code}/uses", post(library::add_use))
        .route("/v1/consents", post(library::create_consent))
        .route("/v1/consents/{id}/revoke", post(library::revoke_consent))
        .route(
            "/v1/license-uses",
            post(library::use_licenses).get(library::list_uses),
        )
        .route("/v1/license-uses/{id}", get(library::get_use))
        .route(
            "/v1/license-uses/{id}/licenses/{license_id}/pdf",
            get(library::use_pdf),
        )
        .layer(DefaultBodyLimit::max(JSON_BODY_LIMIT));
    Router::new()
        .merge(api)
        .route("/v1/trust", get(trust::bundle))
        .route("/v1/crl/{ca}", get(trust::crl))
        .route("/healthz", get(trust::health))
        .route("/v1/log/checkpoint", get(log::checkpoint))
        .route("/v1/log/entries", get(log::entries))
        .route("/v1/log/proof/inclusion", get(log::inclusion))
        .route("/v1/log/proof/consistency", get(log::consistency))
        .route(
            "/v1/stamp",
            post(stamp::stamp).layer(DefaultBodyLimit::max(
                crate::seal::stamping::MAX_PDF_BYTES + 64 * 1024,
            )),
        )
        .route(
            "/v1/verify",
            post(verify::verify).layer(DefaultBodyLimit::max(verify::MAX_VERIFY_BYTES)),
        )
        .route(
            "/v1/notices",
            post(stamp::notice).layer(DefaultBodyLimit::max(256 * 1024)),
        )
        .route(
            "/v1/tsa",
            post(tsa::tsa).layer(DefaultBodyLimit::max(16 * 1024)),
        )
        .route("/v/{payload}", get(pages::license::show))
        .route(
            "/verify",
            get(pages::upload::form_page)
                .post(pages::upload::submit)
                .layer(DefaultBodyLimit::max(verify::MAX_VERIFY_BYTES + 64 * 1024)),
        )
        .route("/openapi.json", get(openapi_json))
        .route("/metrics", get(metrics::metrics))
        .fallback(fallback)
        // Inside routing (they see the matched path), before every handler
        // (so before any body is read): admission, then metrics around it.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            limits::admit,
        ))
        .layer(axum::middleware::from_fn(metrics::track))
        .layer(axum::middleware::map_response(
            error::json_errors_for_limits,
        ))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(60),
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
