//! `POST /v1/verify`: the offline verification engine ([`crate::verify`]) over
//! HTTP for anyone — no credential, rate-limited per client address and
//! bounded in concurrency by the admission layer ([`super::limits`]) before
//! the body is read.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};

use super::AppState;
use super::error::{ApiBytes, ApiError, ErrorBody};
use crate::authority::CaName;
use crate::verify::photo::MAX_IMAGE_BYTES;
use crate::verify::{
    LicenseOptions, Report, TrustStore, verify_license_record, verify_license_text, verify_pdf,
    verify_photo,
};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Pdf,
    Record,
    Text,
    Image,
}

/// The store a license needs: the published bundle with its seal
/// certificates, its signed status snapshot and authorised issuers list (made
/// when they change, see [`super::published`]), the current CRLs, and the
/// public URL. The QR page uses it too, so the API and the page judge a
/// license alike. Reads only.
pub(crate) async fn license_store(state: &AppState) -> Result<TrustStore, ApiError> {
    use base64::Engine as _;
    let published = state.published.current();
    let bundle = &published.bundle;
    let b64 = base64::engine::general_purpose::STANDARD;
    let seals = bundle
        .seals
        .iter()
        .filter_map(|s| pem::parse(&s.pem).ok().map(pem::Pem::into_contents))
        .collect();
    let authority = &state.authority;
    let mut store = TrustStore::from_parts(
        vec![authority.root.certificate.der.clone()],
        vec![
            authority.issuing.certificate.der.clone(),
            authority.tsa.certificate.der.clone(),
        ],
        current_crls(state).await?,
    )
    .with_seals(seals)
    .with_public_url(&authority.public_url)
    .with_memo(state.verify_memo.clone());
    if let Some(status) = &bundle.license_status {
        let cose = b64
            .decode(&status.cose_base64)
            .map_err(ApiError::internal)?;
        store = store.with_license_status(&cose);
    }
    if let Some(issuers) = &bundle.license_issuers {
        let cose = b64
            .decode(&issuers.cose_base64)
            .map_err(ApiError::internal)?;
        store = store.with_license_issuers(&cose);
    }
    Ok(store)
}

/// The newest CRL of each CA, as stored (a revocation publishes one in its
/// own transaction; the refresher re-signs them before they go stale). Reads only.
pub(crate) async fn current_crls(state: &AppState) -> Result<Vec<Vec<u8>>, ApiError> {
    let mut conn = state.db.pool.acquire().await.map_err(ApiError::internal)?;
    let mut crls = Vec::new();
    for ca in CaName::ALL {
        let crl = crate::store::certificates::latest_crl(&mut conn, ca.as_str())
            .await
            .map_err(ApiError::internal)?
            .ok_or_else(|| ApiError::internal(format!("no CRL of {} is stored", ca.as_str())))?;
        crls.push(crl.der);
    }
    Ok(crls)
}

/// Largest PDF accepted for verification over HTTP.
pub const MAX_VERIFY_BYTES: usize = 50 * 1024 * 1024;

/// The trust anchors, CA certificates and fresh CRLs of this installation,
/// as a verifier of its own output needs them (also used by the pages). Reads only.
pub async fn current_trust_store(state: &AppState) -> Result<TrustStore, ApiError> {
    let authority = &state.authority;
    let store = TrustStore::from_parts(
        vec![authority.root.certificate.der.clone()],
        vec![
            authority.issuing.certificate.der.clone(),
            authority.tsa.certificate.der.clone(),
        ],
        current_crls(state).await?,
    )
    .with_memo(state.verify_memo.clone());
    Ok(store)
}

/// Validates every signature of an uploaded PDF (body `application/pdf`)
/// against this installation's trust bundle and current CRLs, or a license
/// (its record, its QR text, or a PNG/JPEG photo of its QR code), and
/// returns the ETSI EN 319 102-1 report. Verification failures — an image
/// with no QR code included — are reports, not errors.
#[utoipa::path(post, path = "/v1/verify", tag = "trust", operation_id = "verify",
    request_body(
        description = "a PDF (application/pdf), a license record (COSE_Sign1, application/cose), a license QR text (text/plain, `<public-url>/v/<payload>`), or a PNG or JPEG photo of a license QR code (image/png, image/jpeg; at most 20 MiB and 40 megapixels)",
        content(
            (inline(super::openapi::Binary) = "application/pdf"),
            (inline(super::openapi::Binary) = "application/cose"),
            (String = "text/plain"),
            (inline(super::openapi::Binary) = "image/png"),
            (inline(super::openapi::Binary) = "image/jpeg"))),
    responses(
        (status = 200, description = "the validation report (TOTAL-PASSED, TOTAL-FAILED or INDETERMINATE)", body = Object),
        (status = 413, description = "the body is over the limit of its kind (`payload_too_large`)", body = ErrorBody),
        (status = 415, description = "not one of the media types above (`unsupported_media_type`)", body = ErrorBody),
        (status = 503, description = "too many verifications at once (`busy`); retry after `Retry-After` seconds", body = ErrorBody,
            headers(("Retry-After" = u64, description = "seconds to wait before trying again")))))]
pub async fn verify(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiBytes(body): ApiBytes,
) -> Result<Json<Report>, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let kind = if content_type.starts_with("application/pdf") {
        Kind::Pdf
    } else if content_type.starts_with("application/cose") {
        Kind::Record
    } else if content_type.starts_with("text/plain") {
        Kind::Text
    } else if ["image/png", "image/jpeg", "image/jpg"]
        .iter()
        .any(|t| content_type.starts_with(t))
    {
        Kind::Image
    } else {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send a PDF (Content-Type: application/pdf), a license record (application/cose), \
             a license QR text (text/plain) or a photo of its QR code (image/png, image/jpeg) \
             as the body",
        ));
    };
    if kind == Kind::Image {
        if body.len() > MAX_IMAGE_BYTES {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "a photo of a license QR code is at most 20 MiB",
            ));
        }
        let store = license_store(&state).await?;
        let options = LicenseOptions::now();
        let report = tokio::task::spawn_blocking(move || verify_photo(&body, &store, &options))
            .await
            .map_err(ApiError::internal)?;
        return Ok(Json(report));
    }
    if kind != Kind::Pdf {
        if body.len() > crate::license::qr::MAX_RECORD_BYTES {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "a license record or QR text is at most 16 KiB",
            ));
        }
        let store = license_store(&state).await?;
        let options = LicenseOptions::now();
        let check = |store: &TrustStore| match kind {
            Kind::Record => verify_license_record(&body, store, &options),
            _ => verify_license_text(&String::from_utf8_lossy(&body), store, &options),
        };
        let report = recognised(check(&store), &state.foreign_trust.stores(), check);
        return Ok(Json(report));
    }
    let store = current_trust_store(&state).await?;
    let foreign = state.foreign_trust.stores();
    let report = tokio::task::spawn_blocking(move || {
        let now = time::OffsetDateTime::now_utc();
        let home = verify_pdf(&body, &store, now);
        recognised(home, &foreign, |store| verify_pdf(&body, store, now))
    })
    .await
    .map_err(ApiError::internal)?;
    Ok(Json(report))
}

/// Mutual recognition (互认): the home report, unless it did not pass and
/// another installation's bundle (`GOVSEAL_FOREIGN_TRUST`) judges better —
/// a pass under one bundle stands, else a bundle's failure (it knew the
/// signer and refused) over "indeterminate" (it did not).
pub(crate) fn recognised(
    home: Report,
    foreign: &[TrustStore],
    check: impl Fn(&TrustStore) -> Report,
) -> Report {
    use crate::verify::Indication;
    let rank = |r: &Report| match r.indication {
        Indication::TotalPassed => 0,
        Indication::TotalFailed => 1,
        Indication::Indeterminate => 2,
    };
    let mut best = home;
    for store in foreign {
        if rank(&best) == 0 {
            break;
        }
        let report = check(store);
        if rank(&report) < rank(&best) {
            best = report;
        }
    }
    best
}
