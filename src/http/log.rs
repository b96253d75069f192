//! `/v1/log/*`: the public transparency log — the latest signed checkpoint
//! (C2SP tlog-checkpoint), entries, inclusion proofs (RFC 9162 §2.1.3) with a
//! C2SP tlog-proof bundle, and consistency proofs (RFC 9162 §2.1.4).
//! Hashes are standard base64, as in RFC 9162 §5.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use super::AppState;
use super::error::{ApiError, ApiQuery, ErrorBody};
use crate::log::WitnessPolicy;
use crate::log::{Hash, LogEntry};
use crate::transparency::TransparencyError;
use crate::transparency::proofs::{self, EntryLookup};
use crate::transparency::witnessing;

/// Most entries one `GET /v1/log/entries` returns.
pub const MAX_ENTRIES_PER_PAGE: u64 = 1000;

impl From<TransparencyError> for ApiError {
    fn from(e: TransparencyError) -> Self {
        match e {
            TransparencyError::IndexOutOfRange { .. } | TransparencyError::BadSizes { .. } => {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "beyond_tree",
                    e.to_string(),
                )
            }
            other => ApiError::internal(other),
        }
    }
}

fn bad_parameter(name: &str, what: &str) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "invalid_parameter",
        format!("query parameter {name}: {what}"),
    )
}

/// The largest index or size the log can hold (a SQL `BIGINT`).
const MAX_POSITION: u64 = i64::MAX as u64;

fn number(name: &str, value: Option<&str>) -> Result<Option<u64>, ApiError> {
    value
        .map(|v| {
            v.parse::<u64>()
                .ok()
                .filter(|n| *n <= MAX_POSITION)
                .ok_or_else(|| bad_parameter(name, "expected a non-negative integer below 2^63"))
        })
        .transpose()
}

fn required(name: &str, value: Option<&str>) -> Result<u64, ApiError> {
    number(name, value)?.ok_or_else(|| bad_parameter(name, "required"))
}

/// The latest signed checkpoint, as a C2SP signed note (text/plain), with the
/// witnesses' cosignatures received so far (C2SP tlog-cosignature).
#[utoipa::path(get, path = "/v1/log/checkpoint", tag = "log", operation_id = "get_log_checkpoint",
    responses((status = 200, description = "the C2SP signed note", content_type = "text/plain", body = String),
        (status = 404, description = "the log has no checkpoint yet (`not_found`)", body = ErrorBody)))]
pub async fn checkpoint(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let mut conn = state.db.pool.acquire().await.map_err(ApiError::internal)?;
    let latest = proofs::latest_checkpoint(&mut conn)
        .await?
        .ok_or_else(|| ApiError::not_found("the log has no checkpoint yet"))?;
    Ok((
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        latest.note,
    ))
}

// The query structs below read numbers as text and parse them in the
// handler, so that a bad one is answered 400 `invalid_parameter` naming it;
// the document types them as what they are.

/// The range of entries to list.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EntriesQuery {
    /// First leaf index (inclusive); default 0.
    #[param(value_type = u64, required = false, maximum = 9223372036854775807_u64)]
    pub start: Option<String>,
    /// Last leaf index (exclusive), not below `start`; default and at most
    /// `start` + 1000.
    #[param(value_type = u64, required = false, maximum = 9223372036854775807_u64)]
    pub end: Option<String>,
}

/// One logged entry, raw and decoded.
#[derive(Serialize, utoipa::ToSchema)]
pub struct EntryView {
    /// Leaf index.
    pub index: u64,
    /// The canonical entry bytes, base64; its leaf hash is SHA-256(0x00 ‖ bytes).
    pub entry: String,
    /// Kind, e.g. `stamp`, `certificate-issued`.
    pub kind: String,
    /// Certificate serial, seal id, stamp id or license identifier.
    pub subject_id: String,
    /// The department's USCC.
    pub department_id: Option<String>,
    /// SHA-256 of the artefact, hex.
    pub artefact_sha256: String,
    /// Unix seconds.
    pub time: i64,
    /// Who did it.
    pub actor: String,
    /// Further facts.
    pub details: std::collections::BTreeMap<String, String>,
}

fn view(index: u64, bytes: &[u8]) -> Result<EntryView, ApiError> {
    let entry = LogEntry::decode(bytes)
        .map_err(|source| ApiError::internal(TransparencyError::Entry { index, source }))?;
    Ok(EntryView {
        index,
        entry: STANDARD.encode(bytes),
        kind: entry.kind.as_str().into(),
        subject_id: entry.subject_id,
        department_id: entry.department_id,
        artefact_sha256: hex::encode(entry.artefact_sha256),
        time: entry.time,
        actor: entry.actor,
        details: entry.details,
    })
}

/// Logged entries with indices in `[start, end)`.
#[utoipa::path(get, path = "/v1/log/entries", tag = "log", operation_id = "list_log_entries", params(EntriesQuery),
    responses((status = 200, description = "the sequenced entries in the range (fewer, or none, past the tree's end)", body = Vec<EntryView>),
        (status = 400, description = "a parameter is not a non-negative integer, or `end` is below `start` (`invalid_parameter`)", body = ErrorBody)))]
pub async fn entries(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<EntriesQuery>,
) -> Result<Json<Vec<EntryView>>, ApiError> {
    let start = number("start", query.start.as_deref())?.unwrap_or(0);
    let page_end = start.saturating_add(MAX_ENTRIES_PER_PAGE).min(MAX_POSITION);
    let end = number("end", query.end.as_deref())?.unwrap_or(page_end);
    if end < start {
        return Err(bad_parameter("end", "must not be below start"));
    }
    let end = end.min(page_end);
    let mut conn = state.db.pool.acquire().await.map_err(ApiError::internal)?;
    let rows = proofs::entries(&mut conn, start, end).await?;
    Ok(Json(
        rows.iter()
            .map(|(index, bytes)| view(*index, bytes))
            .collect::<Result<_, _>>()?,
    ))
}

/// Which entry to prove, and optionally against which tree size.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InclusionQuery {
    /// Leaf index.
    #[param(value_type = u64, required = false, maximum = 9223372036854775807_u64)]
    pub index: Option<String>,
    /// Tree size (default: the latest checkpoint's).
    #[param(value_type = u64, required = false, maximum = 9223372036854775807_u64)]
    pub size: Option<String>,
    /// Or: the subject (certificate serial, seal id, stamp id); its first entry is proven.
    #[param(value_type = String, required = false)]
    pub subject: Option<String>,
    /// Or: the leaf hash, 64 hex digits.
    #[param(value_type = String, required = false, pattern = "^[0-9a-fA-F]{64}$")]
    pub leaf_hash: Option<String>,
}

/// An inclusion proof.
#[derive(Serialize, utoipa::ToSchema)]
pub struct InclusionProof {
    /// Leaf index.
    pub leaf_index: u64,
    /// Tree size the proof is for.
    pub tree_size: u64,
    /// The audit path, leaf's sibling first, base64 hashes (RFC 9162 §2.1.3.1).
    pub inclusion_path: Vec<String>,
    /// The entry.
    pub entry: EntryView,
    /// The signed checkpoint the proof leads to (signed note text, with the
    /// witnesses' cosignatures): the newest one, or with witnesses configured
    /// the newest that meets their policy.
    pub checkpoint: String,
    /// A C2SP tlog-proof bundle of the entry against that checkpoint, checkable offline.
    pub tlog_proof: String,
    /// Whether that checkpoint carries the cosignatures the published witness
    /// policy requires (always true without witnesses). False for a fresh
    /// entry whose checkpoint the witnesses have not cosigned yet: ask again
    /// in a few seconds.
    pub witnessed: bool,
}

fn b64(hashes: &[Hash]) -> Vec<String> {
    hashes.iter().map(|h| STANDARD.encode(h)).collect()
}

/// 404 `not_yet_sequenced` with `Retry-After: 1`: the entry is recorded
/// but no checkpoint covers it yet.
fn not_yet_sequenced() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_yet_sequenced",
        "the entry is recorded but not yet in a signed checkpoint; the sequencer adds it within \
         about a second: retry after Retry-After",
    )
}

/// The inclusion proof of an entry, by `index`, `subject` or `leaf_hash`.
/// An entry recorded but not yet sequenced answers 404 `not_yet_sequenced`
/// with `Retry-After`; the background sequencer adds it within about a second.
#[utoipa::path(get, path = "/v1/log/proof/inclusion", tag = "log", operation_id = "get_inclusion_proof", params(InclusionQuery),
    responses((status = 200, description = "the proof", body = InclusionProof),
        (status = 400, description = "not exactly one of `index`, `subject`, `leaf_hash`, or a malformed one (`invalid_parameter`)", body = ErrorBody),
        (status = 404, description = "no such entry (`not_found`), or not yet in a checkpoint (`not_yet_sequenced`, with Retry-After)", body = ErrorBody),
        (status = 422, description = "`size` is beyond the tree or below the entry (`beyond_tree`)", body = ErrorBody)))]
pub async fn inclusion(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<InclusionQuery>,
) -> Result<axum::response::Response, ApiError> {
    let lookup = match (&query.index, &query.subject, &query.leaf_hash) {
        (Some(index), None, None) => EntryLookup::Index(required("index", Some(index))?),
        (None, Some(subject), None) => EntryLookup::Subject(subject.clone()),
        (None, None, Some(hash)) => EntryLookup::LeafHash(
            hex::decode(hash)
                .ok()
                .and_then(|h| Hash::try_from(h.as_slice()).ok())
                .ok_or_else(|| bad_parameter("leaf_hash", "expected 64 hex digits"))?,
        ),
        _ => {
            return Err(bad_parameter(
                "index",
                "give exactly one of index, subject or leaf_hash",
            ));
        }
    };
    let mut conn = state.db.pool.acquire().await.map_err(ApiError::internal)?;
    // A GET never sequences (that takes the log key and the write lock): the
    // background sequencer adds pending entries within about a second.
    let found = proofs::find_entry(&mut conn, &lookup)
        .await?
        .ok_or_else(|| ApiError::not_found("no such log entry"))?;
    let Some(index) = found.index else {
        let mut response = not_yet_sequenced().into_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
        return Ok(response);
    };
    let mut proof = proofs::entry_proof(&mut conn, index)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no log entry at index {index}")))?;
    // With witnesses configured, prove against the newest checkpoint that
    // meets their policy, as verifiers holding the trust bundle require.
    let mut witnessed = true;
    if let Some(text) = witnessing::published_policy(&mut conn).await?
        && let Ok(policy) = WitnessPolicy::parse(&text)
        && !policy.evaluate(&proof.checkpoint.note).satisfied
    {
        witnessed = false;
        if let Some(checkpoint) =
            witnessing::newest_witnessed_checkpoint(&mut conn, &policy, index).await?
            && let Some(older) = proofs::entry_proof_against(&mut conn, index, checkpoint).await?
        {
            proof = older;
            witnessed = true;
        }
    }
    let (tree_size, path) = match number("size", query.size.as_deref())? {
        Some(size) if size != proof.checkpoint.size => {
            (size, proofs::inclusion(&mut conn, index, size).await?)
        }
        _ => (proof.checkpoint.size, proof.path.clone()),
    };
    Ok(Json(InclusionProof {
        leaf_index: index,
        tree_size,
        inclusion_path: b64(&path),
        entry: view(index, &proof.entry)?,
        checkpoint: proof.checkpoint.note.clone(),
        tlog_proof: proof.bundle_text(),
        witnessed,
    })
    .into_response())
}

/// The two tree sizes.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConsistencyQuery {
    /// The earlier tree size.
    #[param(value_type = u64, required = true, maximum = 9223372036854775807_u64)]
    pub first: Option<String>,
    /// The later tree size (at most the latest checkpoint's).
    #[param(value_type = u64, required = true, maximum = 9223372036854775807_u64)]
    pub second: Option<String>,
}

/// A consistency proof.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ConsistencyProof {
    /// The earlier size.
    pub first: u64,
    /// The later size.
    pub second: u64,
    /// The proof hashes, base64 (RFC 9162 §2.1.4.1).
    pub consistency_path: Vec<String>,
}

/// The consistency proof between two tree sizes.
#[utoipa::path(get, path = "/v1/log/proof/consistency", tag = "log", operation_id = "get_consistency_proof", params(ConsistencyQuery),
    responses((status = 200, description = "the proof", body = ConsistencyProof),
        (status = 400, description = "`first` or `second` missing or not a non-negative integer (`invalid_parameter`)", body = ErrorBody),
        (status = 422, description = "the sizes are out of order or beyond the tree (`beyond_tree`)", body = ErrorBody)))]
pub async fn consistency(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ConsistencyQuery>,
) -> Result<Json<ConsistencyProof>, ApiError> {
    let first = required("first", query.first.as_deref())?;
    let second = required("second", query.second.as_deref())?;
    let mut conn = state.db.pool.acquire().await.map_err(ApiError::internal)?;
    let path = proofs::consistency(&mut conn, first, second).await?;
    Ok(Json(ConsistencyProof {
        first,
        second,
        consistency_path: b64(&path),
    }))
}
