//! `GET /v/{payload}`: the citizen's verification page for a license QR code.
//! The QR text is `<public-url>/v/<payload>` (see
//! [`crate::license::qr::qr_url`]), so a phone camera opens this page.
//!
//! The answer comes from the one license verification engine
//! ([`crate::verify::verify_license_text`]), given the same trust data as
//! `POST /v1/verify`: this server's CA certificates and current CRLs, every
//! seal certificate, and the status snapshot and authorised issuers list
//! signed when they last changed (a status change re-signs them before its
//! request is answered, so a revocation shows at once). The page only reads.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Html;

use super::html::{Tone, page, verdict};
use super::license_view::{FieldLabel, Freshness, LicensePage, Verdict};
use super::upload::{LangQuery, page_lang, unreadable};
use crate::http::AppState;
use crate::http::verify::license_store;
use crate::license::qr::MAX_TEXT_BYTES;
use crate::verify::{
    Indication, LicenseOptions, LicenseStatus, Report, SubIndication, record_from_text,
    verify_license_text,
};

/// The citizen's page a license's QR code opens: whether the license in
/// `payload` is genuine and valid, checked against this server's trust data.
/// A license that is not genuine is a page too (200), not an error.
#[utoipa::path(get, path = "/v/{payload}", tag = "pages", operation_id = "license_page",
    params(("payload" = String, Path, description = "the QR code's payload: the signed license record (its COSE_Sign1, zlib-compressed when shorter, in base64url without padding); anything else shows as not genuine"),
        LangQuery),
    responses(
        (status = 200, description = "the verdict: valid, revoked, suspended, expired, superseded or not genuine", content_type = "text/html", body = String),
        (status = 400, description = "the path is not UTF-8 once percent-decoded, or the query string is malformed", content_type = "text/html", body = String),
        (status = 414, description = "the payload is too long", content_type = "text/html", body = String)))]
pub async fn show(
    State(state): State<AppState>,
    payload: Result<Path<String>, PathRejection>,
    query: Result<Query<LangQuery>, QueryRejection>,
) -> (StatusCode, Html<String>) {
    let lang = match page_lang(query) {
        Ok(lang) => lang,
        Err(refused) => return refused,
    };
    let Ok(Path(payload)) = payload else {
        return unreadable(
            lang,
            StatusCode::BAD_REQUEST,
            "二维码内容无效。",
            "The QR code's content is malformed.",
        );
    };
    let switch = format!("/v/{payload}{}", lang.pick("?lang=en", ""));
    if payload.len() > MAX_TEXT_BYTES {
        let body = verdict(
            Tone::Bad,
            lang.pick("无法验证·非真实", "Not genuine — cannot verify"),
            lang.pick("二维码内容过长。", "The QR code's content is too long."),
        );
        return (
            StatusCode::URI_TOO_LONG,
            Html(page(lang, "电子证照验证", "/verify", &body)),
        );
    }
    match build(&state, &payload).await {
        Ok(view) => (StatusCode::OK, Html(view.render(lang, &switch))),
        Err(e) => {
            tracing::error!(error = %e, "license page failed");
            let body = verdict(
                Tone::Warn,
                lang.pick("服务暂时无法验证", "Cannot verify right now"),
                lang.pick("请稍后再试。", "Please try again later."),
            );
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Html(page(lang, "电子证照验证", &switch, &body)),
            )
        }
    }
}

async fn build(state: &AppState, payload: &str) -> anyhow::Result<LicensePage> {
    let store = license_store(state)
        .await
        .map_err(|e| anyhow::anyhow!(e.message))?;
    let options = LicenseOptions::now();
    let text = payload.to_string();
    let (report, store) = tokio::task::spawn_blocking(move || {
        let report = verify_license_text(&text, &store, &options);
        (report, store)
    })
    .await?;
    // The claims, for display: verified ones if the engine says so, otherwise
    // shown only under a warning that they are not to be trusted.
    let claims = record_from_text(payload, store.public_url())
        .ok()
        .and_then(|cose| crate::license::record::open_record(&cose).ok())
        .map(|r| r.into_claims());
    let verified = report.license.as_ref().is_some_and(|l| {
        claims
            .as_ref()
            .is_some_and(|c| c.license_id.as_str() == l.license_id)
    });
    let (type_name, labels) = match (&claims, verified) {
        (Some(c), true) => labels(state, c.type_code()).await?,
        _ => (None, Vec::new()),
    };
    let seal_name = report
        .signatures
        .first()
        .and_then(|s| s.signer.as_ref())
        .and_then(|s| s.common_name.clone())
        .filter(|_| verified);
    let snapshot = report
        .revocation_data
        .as_ref()
        .and_then(|d| d.license_status.as_ref())
        .and_then(|s| {
            s.this_update.clone().map(|this_update| Freshness {
                this_update,
                next_update: s.next_update.clone(),
                age_seconds: s.age_seconds,
                stale: s.stale,
            })
        });
    let superseded_by = report.license.as_ref().filter(|_| verified).and_then(|l| {
        l.superseded_by
            .clone()
            .map(|by| (by, l.current_version.clone()))
    });
    Ok(LicensePage {
        superseded_by,
        verdict: verdict_of(&report, verified),
        reasons: reasons(&report),
        claims,
        claims_verified: verified,
        type_name,
        labels,
        seal_name,
        snapshot,
        now: options.at,
    })
}

/// The engine's answer in a person's words.
fn verdict_of(report: &Report, verified: bool) -> Verdict {
    let Some(license) = report.license.as_ref().filter(|_| verified) else {
        // The engine leaves the license out for a department not authorised
        // for the type; the only SIG_CONSTRAINTS_FAILURE of a license.
        let sub = report.signatures.first().and_then(|s| s.sub_indication);
        return if sub == Some(SubIndication::SigConstraintsFailure) {
            Verdict::NotAuthorised
        } else {
            Verdict::NotGenuine
        };
    };
    match (license.status, report.indication) {
        (LicenseStatus::Valid, Indication::TotalPassed) => Verdict::Valid,
        (LicenseStatus::Revoked, _) => Verdict::Revoked,
        (LicenseStatus::Suspended, _) => Verdict::Suspended,
        (LicenseStatus::Superseded, _) => Verdict::Superseded,
        (LicenseStatus::Expired | LicenseStatus::NotYetValid, _) => Verdict::Expired,
        (LicenseStatus::Unknown | LicenseStatus::Valid, _) => Verdict::TryLater,
    }
}

/// What the engine found, for the "why" list (the ETSI names included).
fn reasons(report: &Report) -> Vec<String> {
    let mut out = Vec::new();
    let mut status = report.indication.as_str().to_string();
    if let Some(sub) = report
        .sub_indication
        .or_else(|| report.signatures.first().and_then(|s| s.sub_indication))
    {
        status = format!("{status} / {}", sub.as_str());
    }
    out.push(status);
    out.extend(report.document.findings.iter().cloned());
    for s in &report.signatures {
        out.extend(s.findings.iter().filter(|f| f.starts_with('✗')).cloned());
    }
    out
}

/// The license type's names and field labels, if this server defines it.
async fn labels(
    state: &AppState,
    type_code: &str,
) -> anyhow::Result<(Option<(String, String)>, Vec<FieldLabel>)> {
    let mut conn = state.db.pool.acquire().await?;
    let Some(row) = crate::store::licenses::get_type(&mut conn, type_code).await? else {
        return Ok((None, Vec::new()));
    };
    let definition = crate::license::lifecycle::definition(&row)
        .map_err(|e| anyhow::anyhow!("license type {type_code}: {e:?}"))?;
    let labels = definition
        .fields
        .into_iter()
        .map(|f| FieldLabel {
            code: f.key,
            zh: f.label_zh,
            en: f.label_en,
        })
        .collect();
    Ok((Some((definition.name_zh, definition.name_en)), labels))
}
