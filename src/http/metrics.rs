//! Prometheus metrics (text exposition format 0.0.4) at `GET /metrics`, for
//! the admin token only: requests by route (the matched path, never the raw
//! URL, so a scanner cannot explode the label set) and status, latency
//! histograms, rate-limit and busy rejections, anonymous verifications and
//! authenticated requests in flight, the CPU pool's queue, the log's size
//! and the age of its last checkpoint, and the next-update of each CRL and
//! of the license status snapshot.
//!
//! One recorder per process (the `metrics` facade is global): several
//! servers in one process (the tests) share it.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use super::AppState;
use super::auth::Admin;
use super::error::{ApiError, ErrorBody};
use crate::authority::CaName;

/// Latency buckets, seconds.
const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

/// The process's recorder, installed on first use; `None` if another
/// recorder was installed first (metrics are then that recorder's).
pub fn recorder() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let installed = PrometheusBuilder::new()
                .set_buckets(BUCKETS)
                .and_then(PrometheusBuilder::install_recorder);
            match installed {
                Ok(handle) => Some(handle),
                Err(e) => {
                    tracing::warn!(error = %e, "metrics recorder not installed; /metrics will answer 503");
                    None
                }
            }
        })
        .as_ref()
}

/// Counts each request and times it, by method, matched route and status.
pub async fn track(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let method = request.method().as_str().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("govseal_http_requests_total",
        "method" => method.clone(), "route" => route.clone(), "status" => status)
    .increment(1);
    metrics::histogram!("govseal_http_request_duration_seconds",
        "method" => method, "route" => route)
    .record(started.elapsed().as_secs_f64());
    response
}

/// Reads the gauges that are states rather than events (all by reads).
async fn sample(state: &AppState) -> anyhow::Result<()> {
    metrics::gauge!("govseal_cpu_pool_queue_depth").set(crate::cpu::queue_depth() as f64);
    metrics::gauge!("govseal_rate_limit_tracked_addresses")
        .set(state.admission.tracked_addresses() as f64);
    let published = state.published.current();
    metrics::gauge!("govseal_license_status_next_update_seconds")
        .set(published.snapshot.snapshot.next_update as f64);
    let mut conn = state.db.pool.acquire().await?;
    for ca in CaName::ALL {
        if let Some(crl) = crate::store::certificates::latest_crl(&mut conn, ca.as_str()).await? {
            metrics::gauge!("govseal_crl_next_update_seconds", "ca" => ca.as_str())
                .set(crl.next_update as f64);
        }
    }
    let row: (Option<i64>, Option<i64>) =
        sqlx::query_as("SELECT MAX(size), MAX(created_at) FROM log_checkpoints")
            .fetch_one(&mut *conn)
            .await?;
    if let (Some(size), Some(created_at)) = row {
        metrics::gauge!("govseal_log_size").set(size as f64);
        metrics::gauge!("govseal_log_checkpoint_age_seconds")
            .set((crate::store::now_unix() - created_at).max(0) as f64);
    }
    let (pending,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM log_entries WHERE leaf_index IS NULL")
            .fetch_one(&mut *conn)
            .await?;
    metrics::gauge!("govseal_log_pending_entries").set(pending as f64);
    Ok(())
}

/// Prometheus metrics (text format); the admin token only.
#[utoipa::path(get, path = "/metrics", tag = "operations", operation_id = "metrics",
    responses(
        (status = 200, description = "Prometheus text exposition format 0.0.4", content_type = "text/plain", body = String),
        (status = 403, description = "not the admin (`forbidden`)", body = ErrorBody),
        (status = 503, description = "another metrics recorder is installed in this process (`metrics_unavailable`)", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn metrics(State(state): State<AppState>, _admin: Admin) -> Result<Response, ApiError> {
    let handle = recorder().ok_or_else(|| {
        ApiError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "metrics_unavailable",
            "another metrics recorder is installed in this process",
        )
    })?;
    sample(&state)
        .await
        .map_err(|e| ApiError::internal(format!("{e:#}")))?;
    handle.run_upkeep();
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
        .into_response())
}
