//! Getting the log's checkpoints witnessed (互认): the log side of C2SP
//! tlog-witness (<https://c2sp.org/tlog-witness>).
//!
//! The operator lists the witnesses in a policy file (C2SP tlog-policy, see
//! [`crate::log::witness_policy`]) named by `GOVSEAL_WITNESSES`: each
//! `witness <name> <vkey> <url>` line says where to submit, the `group` and
//! `quorum` lines say how many cosignatures a verifier must require. The
//! policy is kept in `settings` (`witness_policy`) and published in the trust
//! bundle as `witnesses.txt`.
//!
//! A background task ([`Submitter::run`]) submits the latest checkpoint to
//! every witness that has not cosigned it, with the consistency proof from the
//! size that witness last cosigned (its newest row in `log_cosignatures`); a
//! 409 names the witness's real size and the request is repeated from there.
//! Returned cosignatures are verified against the witness key before they are
//! stored. Sequencing and stamping never wait for witnesses: a witness that is
//! down is retried with a growing pause, and checkpoints are served with
//! whatever cosignatures they have ([`with_cosignatures`]).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sqlx::Row;
use tokio::sync::Mutex;

use super::TransparencyError;
use super::nodes::{to_i64, to_u64};
use super::proofs::{self, SignedCheckpoint};
use crate::log::WitnessPolicy;
use crate::log::cosignature::LineCheck;
use crate::log::witness_policy::Witness;
use crate::store::{self, Connection, Database, settings};

/// The setting holding the published witness policy text (empty: none).
pub const POLICY_SETTING: &str = "witness_policy";

/// How long one add-checkpoint request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest pause before retrying a witness that failed.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// Appends the stored cosignatures of `checkpoint` to its note.
pub async fn with_cosignatures(
    conn: &mut Connection,
    mut checkpoint: SignedCheckpoint,
) -> Result<SignedCheckpoint, TransparencyError> {
    let rows = sqlx::query(
        "SELECT signature_line FROM log_cosignatures WHERE size = $1 ORDER BY witness_key",
    )
    .bind(to_i64(checkpoint.size)?)
    .fetch_all(conn)
    .await?;
    for row in rows {
        let line: String = row.try_get("signature_line")?;
        checkpoint.note.push_str(&line);
    }
    Ok(checkpoint)
}

/// The largest size `witness_key` has cosigned, as far as this log knows.
async fn last_cosigned(conn: &mut Connection, witness_key: &str) -> Result<u64, TransparencyError> {
    let row = sqlx::query(
        "SELECT size FROM log_cosignatures WHERE witness_key = $1 ORDER BY size DESC LIMIT 1",
    )
    .bind(witness_key)
    .fetch_optional(conn)
    .await?;
    row.map_or(Ok(0), |row| to_u64(row.try_get("size")?))
}

async fn store_cosignature(
    conn: &mut Connection,
    size: u64,
    witness_key: &str,
    line: &str,
    timestamp: u64,
) -> Result<(), TransparencyError> {
    sqlx::query(
        "INSERT INTO log_cosignatures (size, witness_key, signature_line, cosigned_at, created_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (size, witness_key) DO NOTHING",
    )
    .bind(to_i64(size)?)
    .bind(witness_key)
    .bind(line)
    .bind(i64::try_from(timestamp).unwrap_or(i64::MAX))
    .bind(store::now_unix())
    .execute(conn)
    .await?;
    Ok(())
}

/// The witness policy the installation publishes, if any.
pub async fn published_policy(conn: &mut Connection) -> Result<Option<String>, TransparencyError> {
    Ok(settings::get(conn, POLICY_SETTING)
        .await?
        .filter(|text| !text.trim().is_empty()))
}

/// Reads the policy file `path` (the `GOVSEAL_WITNESSES` file), publishes it
/// (with the log's own key as its `log` line) and returns a submitter; with
/// no file, withdraws any policy published before and returns `None`.
pub async fn configure(
    db: &Database,
    path: Option<&Path>,
    log_verifier_key: &str,
) -> anyhow::Result<Option<Arc<Submitter>>> {
    use anyhow::Context as _;
    let mut conn = db.pool.acquire().await.map_err(store::StoreError::from)?;
    let Some(path) = path else {
        if published_policy(&mut conn).await?.is_some() {
            settings::put(&mut conn, db.backend, POLICY_SETTING, "").await?;
        }
        return Ok(None);
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the witness policy {}", path.display()))?;
    let policy = WitnessPolicy::parse(&text)
        .with_context(|| format!("GOVSEAL_WITNESSES file {}", path.display()))?;
    if policy.witnesses().iter().all(|w| w.url.is_none()) {
        anyhow::bail!(
            "the witness policy {} gives no witness a URL (`witness <name> <vkey> <url>`): \
             there is nowhere to submit checkpoints",
            path.display()
        );
    }
    for witness in policy.witnesses() {
        let Some(url) = &witness.url else { continue };
        let parsed = reqwest::Url::parse(url)
            .with_context(|| format!("witness {}: {url:?} is not a URL", witness.name))?;
        if parsed.scheme() != "http" {
            anyhow::bail!(
                "witness {}: {url:?}: only http:// submission URLs are supported (nothing the \
                 witness sends is trusted without its signature; put a TLS proxy in front if \
                 the network needs one)",
                witness.name
            );
        }
    }
    let listed: Vec<String> = policy.logs().map(|key| key.to_string()).collect();
    if !listed.is_empty() && !listed.iter().any(|key| key == log_verifier_key) {
        anyhow::bail!(
            "the witness policy {} lists `log` keys but not this log's ({log_verifier_key})",
            path.display()
        );
    }
    let published = policy.to_text(Some(log_verifier_key));
    settings::put(&mut conn, db.backend, POLICY_SETTING, &published).await?;
    Ok(Some(Arc::new(Submitter::new(policy)?)))
}

/// Submits checkpoints to the policy's witnesses and stores their cosignatures.
pub struct Submitter {
    policy: WitnessPolicy,
    client: reqwest::Client,
    /// Per witness name: consecutive failures and when to try again.
    backoff: Mutex<HashMap<String, (u32, Instant)>>,
}

impl std::fmt::Debug for Submitter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Submitter")
            .field("witnesses", &self.policy.witnesses().len())
            .finish_non_exhaustive()
    }
}

impl Submitter {
    /// A submitter for `policy`'s witnesses that have a URL.
    pub fn new(policy: WitnessPolicy) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(Duration::from_secs(3))
            .build()?;
        Ok(Submitter {
            policy,
            client,
            backoff: Mutex::new(HashMap::new()),
        })
    }

    /// The policy.
    pub fn policy(&self) -> &WitnessPolicy {
        &self.policy
    }

    /// Offers the latest checkpoint to every witness that has not cosigned
    /// it (and is not pausing after a failure). Returns how many new
    /// cosignatures were stored; a witness's failure is logged, not returned.
    pub async fn round(&self, db: &Database) -> Result<usize, TransparencyError> {
        let mut conn = db.pool.acquire().await.map_err(store::StoreError::from)?;
        let Some(latest) = proofs::latest_log_checkpoint(&mut conn).await? else {
            return Ok(0);
        };
        drop(conn);
        let now = Instant::now();
        let due: Vec<&Witness> = {
            let backoff = self.backoff.lock().await;
            self.policy
                .witnesses()
                .iter()
                .filter(|w| w.url.is_some())
                .filter(|w| backoff.get(&w.name).is_none_or(|(_, at)| *at <= now))
                .collect()
        };
        let results =
            futures_util::future::join_all(due.iter().map(|w| self.submit(db, w, &latest))).await;
        let mut stored = 0;
        let mut backoff = self.backoff.lock().await;
        for (witness, result) in due.iter().zip(results) {
            match result {
                Ok(new) => {
                    stored += usize::from(new);
                    backoff.remove(&witness.name);
                }
                Err(why) => {
                    let failures = backoff.get(&witness.name).map_or(0, |(n, _)| *n) + 1;
                    let pause = Duration::from_secs(1u64 << failures.min(6)).min(MAX_BACKOFF);
                    backoff.insert(witness.name.clone(), (failures, Instant::now() + pause));
                    tracing::warn!(
                        witness = %witness.name,
                        size = latest.size,
                        failures,
                        retry_in_s = pause.as_secs(),
                        "the witness did not cosign the checkpoint: {why}"
                    );
                }
            }
        }
        Ok(stored)
    }

    /// Gets `witness`'s cosignature on `latest`; `Ok(false)` if it already had one.
    async fn submit(
        &self,
        db: &Database,
        witness: &Witness,
        latest: &SignedCheckpoint,
    ) -> Result<bool, String> {
        let url = format!(
            "{}/add-checkpoint",
            witness.url.as_deref().unwrap_or_default()
        );
        let witness_key = witness.key.to_string();
        // No database connection is held while a witness answers.
        let connection = || async { db.pool.acquire().await.map_err(|e| e.to_string()) };
        let mut old = last_cosigned(&mut *connection().await?, &witness_key)
            .await
            .map_err(|e| e.to_string())?;
        if old >= latest.size {
            return Ok(false);
        }
        let body_text = checkpoint_text(&latest.note)?;
        // One retry after a 409 (the witness names its size), one more in case
        // another govseal process moved it meanwhile.
        for _ in 0..3 {
            let proof = if old == 0 {
                Vec::new()
            } else {
                proofs::consistency(&mut *connection().await?, old, latest.size)
                    .await
                    .map_err(|e| e.to_string())?
            };
            let mut body = format!("old {old}\n");
            for hash in &proof {
                body.push_str(&STANDARD.encode(hash));
                body.push('\n');
            }
            body.push('\n');
            body.push_str(&latest.note);
            let response = self
                .client
                .post(&url)
                .body(body)
                .send()
                .await
                .map_err(|e| format!("POST {url}: {e}"))?;
            let status = response.status();
            let text = response.text().await.map_err(|e| e.to_string())?;
            match status.as_u16() {
                200 => {
                    for line in text.lines() {
                        if let LineCheck::Valid { timestamp } =
                            witness.key.check_line(line, body_text)
                        {
                            store_cosignature(
                                &mut *connection().await?,
                                latest.size,
                                &witness_key,
                                &format!("{line}\n"),
                                timestamp,
                            )
                            .await
                            .map_err(|e| e.to_string())?;
                            return Ok(true);
                        }
                    }
                    return Err(format!(
                        "the response holds no valid cosignature by {witness_key}"
                    ));
                }
                409 => {
                    let size = crate::log::checkpoint::parse_canonical_decimal(text.trim_end())
                        .ok_or_else(|| format!("409 with an unreadable size {text:?}"))?;
                    if size > latest.size {
                        return Err(format!(
                            "the witness has cosigned size {size}, larger than this log's {}: \
                             it has seen another history of this log",
                            latest.size
                        ));
                    }
                    if size == latest.size {
                        // Cosigned already (e.g. before a crash): ask again from there.
                        old = size;
                        continue;
                    }
                    old = size;
                }
                _ => return Err(format!("HTTP {status}: {}", text.trim())),
            }
        }
        Err("the witness's size kept changing".into())
    }

    /// Runs [`Submitter::round`] every `interval` for ever, writing the
    /// cosigned checkpoint to `certs_dir/checkpoint.txt` when cosignatures arrive.
    pub async fn run(self: Arc<Self>, db: Database, certs_dir: PathBuf, interval: Duration) {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            match self.round(&db).await {
                Ok(0) => {}
                Ok(_) => {
                    if let Err(e) = publish_checkpoint(&db, &certs_dir).await {
                        tracing::warn!(error = %e, "could not publish the cosigned checkpoint");
                    }
                }
                Err(e) => tracing::error!(error = %e, "witnessing round failed"),
            }
        }
    }
}

/// The text of a signed note (up to and including the blank line's first newline).
fn checkpoint_text(note: &str) -> Result<&str, String> {
    crate::log::cosignature::split_note(note)
        .map(|(text, _)| text)
        .map_err(|e| e.to_string())
}

/// Writes the latest checkpoint, with its cosignatures, to `certs_dir/checkpoint.txt`.
async fn publish_checkpoint(db: &Database, certs_dir: &Path) -> anyhow::Result<()> {
    let mut conn = db.pool.acquire().await?;
    if let Some(latest) = proofs::latest_checkpoint(&mut conn).await? {
        std::fs::create_dir_all(certs_dir)?;
        let path = certs_dir.join("checkpoint.txt");
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, latest.note)?;
        std::fs::rename(&tmp, &path)?;
    }
    Ok(())
}

/// The newest checkpoint that covers leaf `index` and meets `policy`, if any:
/// the proof a verifier holding the policy will accept.
pub async fn newest_witnessed_checkpoint(
    conn: &mut Connection,
    policy: &WitnessPolicy,
    index: u64,
) -> Result<Option<SignedCheckpoint>, TransparencyError> {
    let rows = sqlx::query(
        "SELECT DISTINCT size FROM log_cosignatures WHERE size > $1 ORDER BY size DESC LIMIT 16",
    )
    .bind(to_i64(index)?)
    .fetch_all(&mut *conn)
    .await?;
    for row in rows {
        let size = to_u64(row.try_get("size")?)?;
        if let Some(candidate) = proofs::checkpoint_at(conn, size).await?
            && policy.evaluate(&candidate.note).satisfied
        {
            return Ok(Some(candidate));
        }
    }
    Ok(None)
}

/// Re-checks every stored cosignature (part of `govseal log audit`): each
/// line must be a valid `cosignature/v1` by the witness key recorded in its
/// row, over the stored checkpoint of its size, with the recorded timestamp.
/// Returns the number checked, or a finding naming the first bad row.
pub async fn audit_cosignatures(db: &Database) -> Result<Result<u64, String>, TransparencyError> {
    use futures_util::TryStreamExt as _;
    let mut conn = db.pool.acquire().await.map_err(store::StoreError::from)?;
    let mut rows = sqlx::query(
        "SELECT c.size, c.witness_key, c.signature_line, c.cosigned_at, k.note \
         FROM log_cosignatures c JOIN log_checkpoints k ON k.size = c.size \
         ORDER BY c.size, c.witness_key",
    )
    .fetch(&mut *conn);
    let mut checked = 0;
    while let Some(row) = rows.try_next().await? {
        let size: i64 = row.try_get("size")?;
        let witness_key: String = row.try_get("witness_key")?;
        let line: String = row.try_get("signature_line")?;
        let cosigned_at: i64 = row.try_get("cosigned_at")?;
        let note: String = row.try_get("note")?;
        let finding =
            |why: &str| format!("cosignature of checkpoint {size} by {witness_key}: {why}");
        let key = crate::log::CosignerKey::parse(&witness_key)
            .map_err(|e| finding(&format!("the recorded witness key is unusable: {e}")));
        let text = checkpoint_text(&note).map_err(|e| finding(&e));
        let (key, text) = match (key, text) {
            (Ok(key), Ok(text)) => (key, text),
            (Err(why), _) | (_, Err(why)) => return Ok(Err(why)),
        };
        if !line.ends_with('\n') || line[..line.len() - 1].contains('\n') {
            return Ok(Err(finding("the stored line is not one signature line")));
        }
        match key.check_line(line.trim_end_matches('\n'), text) {
            LineCheck::Valid { timestamp } if i64::try_from(timestamp) == Ok(cosigned_at) => {}
            LineCheck::Valid { timestamp } => {
                return Ok(Err(finding(&format!(
                    "it was made at {timestamp}, the row says {cosigned_at}"
                ))));
            }
            LineCheck::OtherKey => return Ok(Err(finding("the line is by another key"))),
            LineCheck::Invalid(why) => return Ok(Err(finding(why))),
        }
        checked += 1;
    }
    Ok(Ok(checked))
}
