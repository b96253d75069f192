//! Service configuration: typed, from the command line and the environment.
//! A secret that production needs and that is missing stops start-up with the
//! variable's name (see [`Config::check_production`]).

use std::net::SocketAddr;
use std::path::PathBuf;

/// Everything `govseal serve` needs.
#[derive(Clone, Debug)]
pub struct Config {
    /// Data directory (SQLite database, development master key).
    pub data_dir: PathBuf,
    /// Where the public trust bundle is written.
    pub certs_dir: PathBuf,
    /// Listen address.
    pub listen: SocketAddr,
    /// Public base URL (QR codes, CRL distribution points).
    pub public_url: String,
    /// Database URL; default `sqlite://<data>/govseal.db`.
    pub database_url: Option<String>,
    /// `GOVSEAL_ADMIN_TOKEN`, if set.
    pub admin_token: Option<String>,
    /// `GOVSEAL_MASTER_KEY`, if set.
    pub master_key: Option<String>,
    /// Production mode: refuse development fallbacks for secrets.
    pub production: bool,
    /// `GOVSEAL_WITNESSES`: the witness policy file (C2SP tlog-policy with witness URLs).
    pub witnesses: Option<PathBuf>,
    /// Where stamped PDFs are kept; default: files for SQLite, the database
    /// for PostgreSQL (shared by several processes).
    pub document_storage: Option<crate::store::documents::DocumentStorage>,
    /// Stamped PDFs in the file store older than this many days are deleted.
    pub document_retention_days: Option<u32>,
}

/// A configuration that must not start.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Production needs this variable.
    #[error("{0} must be set when GOVSEAL_PRODUCTION=1")]
    MissingSecret(&'static str),
    /// The admin token is too short to be a secret.
    #[error("GOVSEAL_ADMIN_TOKEN must be at least 24 characters")]
    WeakAdminToken,
}

impl Config {
    /// A configuration for `data_dir` with defaults for everything else.
    pub fn new(data_dir: PathBuf) -> Self {
        Config {
            certs_dir: PathBuf::from("certs"),
            data_dir,
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: "http://127.0.0.1:8080".into(),
            database_url: None,
            admin_token: None,
            master_key: None,
            production: false,
            witnesses: None,
            document_storage: None,
            document_retention_days: None,
        }
    }

    /// The document store, when stamped PDFs are kept as files (see
    /// [`crate::store::documents`]).
    pub fn document_store(&self) -> Option<crate::store::documents::DocumentStore> {
        use crate::store::documents::{DocumentStorage, DocumentStore};
        let sqlite = self.database_url().starts_with("sqlite:");
        let storage = self.document_storage.unwrap_or(if sqlite {
            DocumentStorage::Files
        } else {
            DocumentStorage::Database
        });
        (storage == DocumentStorage::Files).then(|| {
            DocumentStore::new(
                &self.data_dir,
                self.document_retention_days
                    .map(|days| std::time::Duration::from_secs(u64::from(days) * 86_400)),
            )
        })
    }

    /// The database URL to use.
    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("govseal.db").display()
            )
        })
    }

    /// Refuses development fallbacks in production, and weak tokens anywhere.
    pub fn check_production(&self) -> Result<(), ConfigError> {
        if let Some(token) = &self.admin_token
            && token.len() < 24
        {
            return Err(ConfigError::WeakAdminToken);
        }
        if self.production {
            if self.master_key.is_none() {
                return Err(ConfigError::MissingSecret("GOVSEAL_MASTER_KEY"));
            }
            if self.admin_token.is_none() {
                return Err(ConfigError::MissingSecret("GOVSEAL_ADMIN_TOKEN"));
            }
        }
        Ok(())
    }
}
