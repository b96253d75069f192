//! A transparency log witness (见证者, 互认: departments keep each other
//! honest), speaking the C2SP tlog-witness protocol
//! (<https://c2sp.org/tlog-witness>).
//!
//! A witness knows some logs (origin and verifier key) and remembers, for
//! each, the latest checkpoint it cosigned ([`state`]). It cosigns a new
//! checkpoint only if it is signed by the log and provably an extension of
//! that remembered tree (RFC 9162 §2.1.4 consistency proof), so a log that
//! shows two different trees of one size to two audiences cannot get both
//! cosigned by the same witness, and a verifier that requires k witnesses'
//! cosignatures (c2sp.org/tlog-policy) cannot be shown a split view unless k
//! witnesses collude.
//!
//! Routes:
//!
//! - `POST /add-checkpoint` (tlog-witness §"add-checkpoint"): 200 with the
//!   cosignature line (C2SP tlog-cosignature, `cosignature/v1`); 400 malformed
//!   or old size above the checkpoint's; 403 not signed by the log's key; 404
//!   unknown origin; 409 (`text/x.tlog.size`, the size this witness holds) when
//!   `old` is not that size; 422 when the consistency proof fails, a size-0
//!   checkpoint has another root than the empty tree's, or the checkpoint has
//!   the witness's size but another root (a split view).
//! - `GET /{hex SHA-256 of the origin}/checkpoint` (§"Monitor Retrieval
//!   Mechanism"): the latest cosigned checkpoint with this witness's
//!   cosignature, 404 if none.

pub mod key;
pub mod request;
pub mod state;

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, State as AxumState};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::sync::Mutex;

use crate::keystore::Signer;
use crate::log::cosignature::{self, split_note};
use crate::log::{Checkpoint, CosignerKey, NoteError, VerifierKey, empty_root, note};
use state::{LogState, State, StateFile};

/// Largest add-checkpoint body: 63 proof lines and a checkpoint with a
/// hundred signature lines fit many times over.
pub const BODY_LIMIT: usize = 64 * 1024;

/// Why a checkpoint was not cosigned, with its HTTP status.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// 400: the request breaks the format.
    #[error("{0}")]
    Malformed(String),
    /// 403: no valid signature by the log's key.
    #[error("{0}")]
    NotSignedByLog(String),
    /// 404: this witness does not witness that log.
    #[error("this witness does not witness the log {0:?}")]
    UnknownLog(String),
    /// 409: the client's `old` is not the size this witness holds.
    #[error("this witness last cosigned size {0}")]
    OldSizeMismatch(u64),
    /// 422: not consistent with what this witness cosigned.
    #[error("{0}")]
    Inconsistent(String),
    /// 500: the state could not be persisted (nothing was cosigned).
    #[error("{0}")]
    Internal(String),
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let text = |status: StatusCode, message: String| {
            (
                status,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                format!("{message}\n"),
            )
                .into_response()
        };
        match self {
            Refusal::OldSizeMismatch(size) => (
                StatusCode::CONFLICT,
                [(header::CONTENT_TYPE, "text/x.tlog.size")],
                format!("{size}\n"),
            )
                .into_response(),
            Refusal::Malformed(m) => text(StatusCode::BAD_REQUEST, m),
            Refusal::NotSignedByLog(m) => text(StatusCode::FORBIDDEN, m),
            e @ Refusal::UnknownLog(_) => text(StatusCode::NOT_FOUND, e.to_string()),
            Refusal::Inconsistent(m) => text(StatusCode::UNPROCESSABLE_ENTITY, m),
            Refusal::Internal(m) => {
                tracing::error!(error = %m, "witness state could not be saved");
                text(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal error".to_string(),
                )
            }
        }
    }
}

/// A running witness: its key, the logs it knows, and its state.
pub struct Witness {
    key: CosignerKey,
    signer: Arc<dyn Signer>,
    logs: HashMap<String, VerifierKey>,
    /// Check and update happen under this lock, so two submissions cannot
    /// both be judged against the same old state (tlog-witness's race).
    state: Mutex<(StateFile, State)>,
}

impl Witness {
    /// A witness with `key`, witnessing `logs` (each log's origin is its
    /// verifier key's name), over the state in `state`.
    pub fn new(key: key::WitnessKey, logs: Vec<VerifierKey>, state: (StateFile, State)) -> Witness {
        Witness {
            key: key.verifier,
            signer: key.signer,
            logs: logs
                .into_iter()
                .map(|k| (k.name().to_string(), k))
                .collect(),
            state: Mutex::new(state),
        }
    }

    /// This witness's verifier key (type 0x04).
    pub fn verifier_key(&self) -> &CosignerKey {
        &self.key
    }

    /// Judges an add-checkpoint request body; returns the cosignature line.
    pub async fn add_checkpoint(&self, body: &str) -> Result<String, Refusal> {
        let malformed = |e: &dyn std::fmt::Display| Refusal::Malformed(e.to_string());
        let request = request::parse(body).map_err(|e| malformed(&e))?;
        let (text, _) = split_note(request.note).map_err(|e| malformed(&e))?;
        let checkpoint = Checkpoint::parse_body(text).map_err(|e| malformed(&e))?;
        let log_key = self
            .logs
            .get(&checkpoint.origin)
            .ok_or_else(|| Refusal::UnknownLog(checkpoint.origin.clone()))?;
        note::open_note(request.note, log_key).map_err(|e| match e {
            NoteError::NotSignedByKey(_) | NoteError::BadSignature(_) => {
                Refusal::NotSignedByLog(e.to_string())
            }
            other => malformed(&other),
        })?;
        if request.old > checkpoint.size {
            return Err(Refusal::Malformed(format!(
                "old size {} is above the checkpoint's size {}",
                request.old, checkpoint.size
            )));
        }
        let mut guard = self.state.lock().await;
        let (file, state) = &mut *guard;
        let known = state.logs.get(&checkpoint.origin);
        let known_size = known.map_or(0, |s| s.size);
        if request.old != known_size {
            return Err(Refusal::OldSizeMismatch(known_size));
        }
        check_consistency(known, &checkpoint, &request.proof)?;
        let now = time::OffsetDateTime::now_utc().unix_timestamp().max(1) as u64;
        let line = cosignature::cosign(text, self.key.name(), now, &*self.signer)
            .map_err(|e| Refusal::Internal(e.to_string()))?;
        let mut next = state.clone();
        next.logs.insert(
            checkpoint.origin.clone(),
            LogState {
                size: checkpoint.size,
                root: state::encode_root(&checkpoint.root),
                note: format!("{}{line}", request.note),
                cosigned_at: now,
            },
        );
        file.save(&next)
            .map_err(|e| Refusal::Internal(e.to_string()))?;
        *state = next;
        tracing::info!(origin = %checkpoint.origin, size = checkpoint.size, "cosigned");
        Ok(line)
    }

    /// The latest cosigned checkpoint of the log whose origin hashes to
    /// `origin_sha256_hex`.
    pub async fn latest(&self, origin_sha256_hex: &str) -> Option<String> {
        let guard = self.state.lock().await;
        guard
            .1
            .logs
            .iter()
            .find(|(origin, _)| {
                hex::encode(ring::digest::digest(
                    &ring::digest::SHA256,
                    origin.as_bytes(),
                )) == origin_sha256_hex
            })
            .map(|(_, s)| s.note.clone())
    }
}

/// tlog-witness's consistency rules, from the state `known` (none: the empty tree).
fn check_consistency(
    known: Option<&LogState>,
    checkpoint: &Checkpoint,
    proof: &[crate::log::Hash],
) -> Result<(), Refusal> {
    if checkpoint.size == 0 && checkpoint.root != empty_root() {
        return Err(Refusal::Inconsistent(
            "a checkpoint of size 0 must have the empty tree's root".into(),
        ));
    }
    let Some(known) = known.filter(|k| k.size > 0) else {
        return if proof.is_empty() {
            Ok(())
        } else {
            Err(Refusal::Inconsistent(
                "old size 0 needs an empty consistency proof".into(),
            ))
        };
    };
    let known_root = known
        .root_hash()
        .ok_or_else(|| Refusal::Internal("the stored root is corrupt".into()))?;
    if known.size == checkpoint.size {
        if known_root != checkpoint.root {
            return Err(Refusal::Inconsistent(format!(
                "split view: this witness cosigned another root for tree size {}",
                known.size
            )));
        }
        if !proof.is_empty() {
            return Err(Refusal::Inconsistent(
                "a proof between equal sizes must be empty".into(),
            ));
        }
        return Ok(());
    }
    crate::log::verify_consistency(
        known.size,
        checkpoint.size,
        &known_root,
        &checkpoint.root,
        proof,
    )
    .map_err(|e| {
        Refusal::Inconsistent(format!(
            "the checkpoint of size {} is not proven consistent with the size {} this witness cosigned: {e}",
            checkpoint.size, known.size
        ))
    })
}

/// The witness's HTTP routes.
pub fn router(witness: Arc<Witness>) -> Router {
    Router::new()
        .route("/add-checkpoint", post(add_checkpoint))
        .route("/{origin_hash}/checkpoint", get(latest_checkpoint))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(witness)
}

async fn add_checkpoint(
    AxumState(witness): AxumState<Arc<Witness>>,
    body: String,
) -> Result<impl IntoResponse, Refusal> {
    match witness.add_checkpoint(&body).await {
        Ok(line) => Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], line)),
        Err(refusal) => {
            // A validly signed checkpoint that contradicts what this witness
            // cosigned is evidence of log misbehaviour: keep it in the log
            // (tlog-witness allows recording it, never cosigning it).
            if let Refusal::Inconsistent(reason) = &refusal {
                tracing::warn!(%reason, request = %body, "refused an inconsistent checkpoint");
            }
            Err(refusal)
        }
    }
}

async fn latest_checkpoint(
    AxumState(witness): AxumState<Arc<Witness>>,
    Path(origin_hash): Path<String>,
) -> Response {
    match witness.latest(&origin_hash).await {
        Some(note) => ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], note).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            "this witness has cosigned no checkpoint of that log\n",
        )
            .into_response(),
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
