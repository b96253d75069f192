//! The log key (日志密钥): a dedicated Ed25519 key that signs checkpoints as
//! C2SP signed notes (<https://c2sp.org/signed-note>, Ed25519 signature type
//! 0x01), sealed in the key store like every other private key.
//!
//! It is created on the first start and named in `settings`: `log_key_id`
//! (the sealed key), `log_origin` (the checkpoint origin line and key name,
//! `<public host>/govseal-log`) and `log_verifier_key` (the public verifier
//! key text, `<name>+<key ID>+<base64 key>`, published in the trust bundle).
//! Several processes starting at once agree through `put_if_absent`.

use std::sync::Arc;

use super::TransparencyError;
use crate::keystore::{KeyAlgorithm, KeyStore, Signer};
use crate::log::checkpoint;
use crate::store::{self, Database, settings};

/// Settings naming the log key.
const KEY_ID: &str = "log_key_id";
const ORIGIN: &str = "log_origin";
const VERIFIER_KEY: &str = "log_verifier_key";

/// The opened log key.
#[derive(Clone)]
pub struct LogKey {
    /// The checkpoint origin line, also the key name.
    pub origin: String,
    /// Signs checkpoints.
    pub signer: Arc<dyn Signer>,
    /// The verifier key text for this key.
    pub verifier_key: String,
}

impl std::fmt::Debug for LogKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogKey")
            .field("origin", &self.origin)
            .field("verifier_key", &self.verifier_key)
            .finish_non_exhaustive()
    }
}

/// The origin line for an installation at `public_url`: its host (and port)
/// and path without the scheme, then `/govseal-log`.
pub fn origin_for(public_url: &str) -> String {
    let rest = public_url
        .split_once("://")
        .map_or(public_url, |(_, rest)| rest)
        .trim_end_matches('/');
    let host = if rest.is_empty() { "govseal" } else { rest };
    format!("{host}/govseal-log")
}

/// Opens the log key, creating it first if this database has none.
pub async fn open_or_create(
    db: &Database,
    keys: &KeyStore,
    public_url: &str,
) -> Result<LogKey, TransparencyError> {
    let mut conn = db.pool.acquire().await.map_err(store::StoreError::from)?;
    if settings::get(&mut conn, KEY_ID).await?.is_none() {
        let (sealed, _) = keys.generate(&store::new_id(), KeyAlgorithm::Ed25519)?;
        store::keys::insert(&mut conn, &sealed).await?;
        // Another process may have won: then its key is the log key and ours stays unused.
        settings::put_if_absent(&mut conn, KEY_ID, &sealed.id).await?;
        settings::put_if_absent(&mut conn, ORIGIN, &origin_for(public_url)).await?;
    }
    drop(conn);
    let key = load(db, keys).await?.ok_or(TransparencyError::NoLogKey)?;
    let mut conn = db.pool.acquire().await.map_err(store::StoreError::from)?;
    let stored = settings::put_if_absent(&mut conn, VERIFIER_KEY, &key.verifier_key).await?;
    if stored != key.verifier_key {
        return Err(TransparencyError::Inconsistent(
            "the published log verifier key does not match the log key".into(),
        ));
    }
    Ok(key)
}

/// Opens the existing log key, if any.
pub async fn load(db: &Database, keys: &KeyStore) -> Result<Option<LogKey>, TransparencyError> {
    let mut conn = db.pool.acquire().await.map_err(store::StoreError::from)?;
    let Some(id) = settings::get(&mut conn, KEY_ID).await? else {
        return Ok(None);
    };
    let sealed = store::keys::get(&mut conn, &id)
        .await?
        .ok_or_else(|| TransparencyError::Inconsistent(format!("log key {id} is missing")))?;
    let origin = settings::get(&mut conn, ORIGIN)
        .await?
        .ok_or_else(|| TransparencyError::Inconsistent("the log origin is not set".into()))?;
    let signer = keys.open(&sealed)?;
    let verifier_key = checkpoint::verifier_key(&origin, signer.public_key())?;
    Ok(Some(LogKey {
        origin,
        signer,
        verifier_key,
    }))
}

/// Setting holding the sealed commitment secret (base64), see [`crate::keystore::CommitmentKey`].
const COMMITMENT_KEY: &str = "log_commitment_key";

/// Opens the installation's commitment key (creating it on first start) and
/// installs it in `keys` for the log's writers.
pub async fn open_or_create_commitment_key(
    db: &Database,
    keys: &KeyStore,
) -> Result<Arc<crate::keystore::CommitmentKey>, TransparencyError> {
    use base64::Engine as _;
    let mut conn = db.pool.acquire().await.map_err(store::StoreError::from)?;
    let stored = match settings::get(&mut conn, COMMITMENT_KEY).await? {
        Some(text) => text,
        None => {
            let sealed = keys.new_commitment_secret()?;
            let text = base64::engine::general_purpose::STANDARD.encode(sealed);
            // Another process may have won: then its secret is the one.
            settings::put_if_absent(&mut conn, COMMITMENT_KEY, &text).await?
        }
    };
    let key = open_commitment_key(keys, &stored)?;
    Ok(keys.install_commitment_key(key))
}

/// Opens the existing commitment key, if any (the audit: it never creates one).
pub async fn load_commitment_key(
    db: &Database,
    keys: &KeyStore,
) -> Result<Option<crate::keystore::CommitmentKey>, TransparencyError> {
    let mut conn = db.pool.acquire().await.map_err(store::StoreError::from)?;
    settings::get(&mut conn, COMMITMENT_KEY)
        .await?
        .map(|text| open_commitment_key(keys, &text))
        .transpose()
}

fn open_commitment_key(
    keys: &KeyStore,
    text: &str,
) -> Result<crate::keystore::CommitmentKey, TransparencyError> {
    use base64::Engine as _;
    let sealed = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|_| {
            TransparencyError::Inconsistent("the sealed commitment key is not base64".into())
        })?;
    Ok(keys.open_commitment_key(&sealed)?)
}

/// The published verifier key text, read without the master key (audits, trust bundle).
pub async fn published_verifier_key(
    conn: &mut store::Connection,
) -> Result<Option<String>, TransparencyError> {
    Ok(settings::get(conn, VERIFIER_KEY).await?)
}

#[cfg(test)]
mod tests {
    use super::origin_for;

    #[test]
    fn origin_drops_the_scheme_and_trailing_slash() {
        assert_eq!(
            origin_for("https://seal.gov.example/"),
            "seal.gov.example/govseal-log"
        );
        assert_eq!(
            origin_for("http://127.0.0.1:8080"),
            "127.0.0.1:8080/govseal-log"
        );
        assert_eq!(origin_for(""), "govseal/govseal-log");
    }
}
