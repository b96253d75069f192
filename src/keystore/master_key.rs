//! The master key that seals every private key at rest (AES-256-GCM, NIST SP 800-38D).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use ring::aead::{AES_256_GCM, LessSafeKey, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

/// Where the master key came from: production deployments must use the environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MasterKeySource {
    /// `GOVSEAL_MASTER_KEY`.
    Environment,
    /// A development key file in the data directory.
    DevelopmentFile(PathBuf),
}

/// Why the master key could not be obtained.
#[derive(Debug, thiserror::Error)]
pub enum MasterKeyError {
    /// The variable is set but does not hold 32 bytes in base64 or hex.
    #[error("GOVSEAL_MASTER_KEY must be 32 bytes as base64 or 64 hex digits")]
    Malformed,
    /// The development key file is unreadable or malformed.
    #[error("master key file {path}: {reason}")]
    File {
        /// the file
        path: PathBuf,
        /// what is wrong
        reason: String,
    },
}

/// The AES-256-GCM key that seals private keys. It never leaves this module.
pub struct MasterKey {
    pub(super) aead: LessSafeKey,
    source: MasterKeySource,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MasterKey")
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

impl MasterKey {
    /// Parses a master key given as base64 (standard or URL-safe) or hex text.
    pub fn from_text(text: &str) -> Result<Self, MasterKeyError> {
        let text = text.trim();
        let bytes = Zeroizing::new(
            if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
                hex::decode(text).map_err(|_| MasterKeyError::Malformed)?
            } else {
                base64::engine::general_purpose::STANDARD
                    .decode(text)
                    .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text))
                    .map_err(|_| MasterKeyError::Malformed)?
            },
        );
        Self::from_bytes(&bytes, MasterKeySource::Environment)
    }

    fn from_bytes(bytes: &[u8], source: MasterKeySource) -> Result<Self, MasterKeyError> {
        if bytes.len() != 32 {
            return Err(MasterKeyError::Malformed);
        }
        let key = UnboundKey::new(&AES_256_GCM, bytes).map_err(|_| MasterKeyError::Malformed)?;
        Ok(MasterKey {
            aead: LessSafeKey::new(key),
            source,
        })
    }

    /// Loads the development key file `DIR/master.key`, creating it (mode 0600) if absent.
    /// Returns whether the file was created.
    pub fn development_file(dir: &Path) -> Result<(Self, bool), MasterKeyError> {
        if let Some(key) = Self::existing_development_file(dir)? {
            return Ok((key, false));
        }
        let path = dir.join("master.key");
        let file_err = |reason: String| MasterKeyError::File {
            path: path.clone(),
            reason,
        };
        let source = MasterKeySource::DevelopmentFile(path.clone());
        let mut bytes = Zeroizing::new([0u8; 32]);
        SystemRandom::new()
            .fill(&mut bytes[..])
            .map_err(|_| file_err("no randomness".into()))?;
        let text = Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(&bytes[..]));
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&path).map_err(|e| file_err(e.to_string()))?;
        file.write_all(text.as_bytes())
            .map_err(|e| file_err(e.to_string()))?;
        file.sync_all().map_err(|e| file_err(e.to_string()))?;
        Self::from_bytes(&bytes[..], source).map(|k| (k, true))
    }

    /// Loads the development key file `DIR/master.key` if it exists, never
    /// creating one (tools that must use the key the server used, such as
    /// `govseal log audit`).
    pub fn existing_development_file(dir: &Path) -> Result<Option<Self>, MasterKeyError> {
        let path = dir.join("master.key");
        let file_err = |reason: String| MasterKeyError::File {
            path: path.clone(),
            reason,
        };
        if !path.exists() {
            return Ok(None);
        }
        let text = Zeroizing::new(fs::read_to_string(&path).map_err(|e| file_err(e.to_string()))?);
        let bytes = Zeroizing::new(
            base64::engine::general_purpose::STANDARD
                .decode(text.trim())
                .map_err(|_| file_err("not base64".into()))?,
        );
        Self::from_bytes(&bytes, MasterKeySource::DevelopmentFile(path.clone()))
            .map(Some)
            .map_err(|_| file_err("not a 32-byte key".into()))
    }

    /// Where this key came from.
    pub fn source(&self) -> &MasterKeySource {
        &self.source
    }
}
