//! The witness's own Ed25519 key, sealed by the key store like every govseal
//! private key: AES-256-GCM under the master key (`GOVSEAL_MASTER_KEY`, or
//! the development key file `master.key` in the witness's data directory),
//! stored in `witness-key.json` (mode 0600) with its name and public key in
//! clear. It is created on first use; its name cannot change afterwards (the
//! key ID commits to it).

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use crate::keystore::{KeyAlgorithm, KeyStore, MasterKey, SealedKey, Signer};
use crate::log::CosignerKey;

/// The key file's name in the witness data directory.
pub const KEY_FILE: &str = "witness-key.json";

#[derive(Serialize, Deserialize)]
struct KeyFile {
    name: String,
    id: String,
    algorithm: String,
    public_key: String,
    sealed_private_key: String,
}

/// The opened witness key.
pub struct WitnessKey {
    /// The cosigner name and public key.
    pub verifier: CosignerKey,
    /// Signs cosignatures.
    pub signer: Arc<dyn Signer>,
}

/// The master key for `dir`: `GOVSEAL_MASTER_KEY` if given, else the
/// development key file (created on first use, with a warning).
pub fn master_key(dir: &Path, from_env: Option<&str>) -> anyhow::Result<MasterKey> {
    if let Some(text) = from_env {
        return Ok(MasterKey::from_text(text)?);
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let (key, created) = MasterKey::development_file(dir)?;
    tracing::warn!(
        dir = %dir.display(),
        created,
        "GOVSEAL_MASTER_KEY is not set: the witness key is sealed with a development key file. \
         Set GOVSEAL_MASTER_KEY (32 bytes, base64) in production."
    );
    Ok(key)
}

/// Opens the witness key in `dir`, creating it under `name` if there is none.
/// A `name` that differs from the stored key's is refused.
pub fn open_or_create(
    dir: &Path,
    name: Option<&str>,
    keys: &KeyStore,
) -> anyhow::Result<WitnessKey> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(KEY_FILE);
    if path.exists() {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let file: KeyFile = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a witness key file", path.display()))?;
        if let Some(name) = name
            && name != file.name
        {
            anyhow::bail!(
                "this witness's key is named {:?}, not {name:?} (the key ID commits to the name; \
                 use a new data directory for a new witness)",
                file.name
            );
        }
        let sealed = SealedKey {
            id: file.id,
            algorithm: KeyAlgorithm::parse(&file.algorithm)
                .filter(|a| *a == KeyAlgorithm::Ed25519)
                .context("the witness key is not Ed25519")?,
            public_key: STANDARD.decode(&file.public_key).context("public key")?,
            sealed_private_key: STANDARD
                .decode(&file.sealed_private_key)
                .context("sealed key")?,
        };
        let signer = keys.open(&sealed)?;
        let verifier = CosignerKey::new(&file.name, signer.public_key())?;
        return Ok(WitnessKey { verifier, signer });
    }
    let name = name.context(
        "this witness has no key yet: give --name <schema-less URL naming it, \
         e.g. witness.finance.gov.example/w1>",
    )?;
    // Check the name before generating anything.
    CosignerKey::new(name, &[0u8; 32])?;
    let (sealed, signer) = keys.generate(&crate::store::new_id(), KeyAlgorithm::Ed25519)?;
    let file = KeyFile {
        name: name.to_string(),
        id: sealed.id.clone(),
        algorithm: sealed.algorithm.as_str().to_string(),
        public_key: STANDARD.encode(&sealed.public_key),
        sealed_private_key: STANDARD.encode(&sealed.sealed_private_key),
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut out = options
        .open(&path)
        .with_context(|| format!("creating {}", path.display()))?;
    std::io::Write::write_all(&mut out, serde_json::to_string_pretty(&file)?.as_bytes())?;
    out.sync_all()?;
    let verifier = CosignerKey::new(name, signer.public_key())?;
    Ok(WitnessKey { verifier, signer })
}
