//! Service configuration: typed, from the command line and the environment.
//! A secret that production needs and that is missing stops start-up with the
//! variable's name (see [`Config::check_production`]). Secrets are held as
//! [`SecretString`]: `Debug` prints them redacted and their memory is
//! zeroized when the configuration is dropped.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub use ipnet::IpNet;
pub use secrecy::{ExposeSecret, SecretString};

/// Everything `govseal serve` needs.
#[derive(Clone)]
pub struct Config {
    /// Data directory (SQLite database, development master key).
    pub data_dir: PathBuf,
    /// Where the public trust bundle is written.
    pub certs_dir: PathBuf,
    /// Listen address.
    pub listen: SocketAddr,
    /// Public base URL (QR codes, CRL distribution points).
    pub public_url: String,
    /// Database URL; default `sqlite://<data>/govseal.db`. It may carry a
    /// password, so it is shown redacted by `Debug`.
    pub database_url: Option<String>,
    /// `GOVSEAL_ADMIN_TOKEN`, if set.
    pub admin_token: Option<SecretString>,
    /// `GOVSEAL_MASTER_KEY`, if set.
    pub master_key: Option<SecretString>,
    /// Production mode: refuse development fallbacks for secrets.
    pub production: bool,
    /// `GOVSEAL_WITNESSES`: the witness policy file (C2SP tlog-policy with witness URLs).
    pub witnesses: Option<PathBuf>,
    /// `GOVSEAL_FOREIGN_TRUST`: other installations' trust bundle
    /// directories, whose licenses and stamped PDFs `POST /v1/verify`
    /// recognises (互认).
    pub foreign_trust: Vec<PathBuf>,
    /// Reverse proxies whose `Forwarded` / `X-Forwarded-For` is believed
    /// (`GOVSEAL_TRUSTED_PROXIES`); empty: the peer address is the client.
    pub trusted_proxies: Vec<IpNet>,
    /// Rate and concurrency limits of the public and authenticated routes.
    pub limits: Limits,
    /// Who may use `POST /v1/tsa` (`GOVSEAL_TSA_ACCESS`).
    pub tsa_access: TsaAccess,
    /// How often the served status snapshot and trust bundle are rebuilt
    /// and re-signed even when nothing changed (`GOVSEAL_SNAPSHOT_REFRESH_SECS`).
    pub snapshot_refresh: Duration,
    /// Where stamped PDFs are kept; default: files for SQLite, the database
    /// for PostgreSQL (shared by several processes).
    pub document_storage: Option<crate::store::documents::DocumentStorage>,
    /// Stamped PDFs in the file store older than this many days are deleted.
    pub document_retention_days: Option<u32>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("data_dir", &self.data_dir)
            .field("certs_dir", &self.certs_dir)
            .field("listen", &self.listen)
            .field("public_url", &self.public_url)
            .field(
                "database_url",
                &self.database_url.as_deref().map(redact_url_password),
            )
            .field("admin_token", &self.admin_token)
            .field("master_key", &self.master_key)
            .field("production", &self.production)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("limits", &self.limits)
            .field("tsa_access", &self.tsa_access)
            .field("snapshot_refresh", &self.snapshot_refresh)
            .field("document_storage", &self.document_storage)
            .field("document_retention_days", &self.document_retention_days)
            .finish()
    }
}

/// `scheme://user:password@host/…` with the password replaced by `[REDACTED]`.
fn redact_url_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) if userinfo.contains(':') => {
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:[REDACTED]@{host}{path}")
        }
        _ => url.to_string(),
    }
}

/// A per-client token bucket: `burst` requests at once, refilled at
/// `per_minute` a minute. Written `PER_MINUTE:BURST` (e.g. `60:20`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    /// Sustained requests a minute.
    pub per_minute: u32,
    /// Requests allowed at once.
    pub burst: u32,
}

impl std::str::FromStr for Rate {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad =
            || format!("{s:?} is not a rate: write PER_MINUTE:BURST, e.g. 60:20 (both at least 1)");
        let (per_minute, burst) = s.trim().split_once(':').ok_or_else(bad)?;
        let per_minute: u32 = per_minute.trim().parse().map_err(|_| bad())?;
        let burst: u32 = burst.trim().parse().map_err(|_| bad())?;
        if per_minute == 0 || burst == 0 {
            return Err(bad());
        }
        Ok(Rate { per_minute, burst })
    }
}

impl std::fmt::Display for Rate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.per_minute, self.burst)
    }
}

/// The limits applied before a request's body is read (see [`crate::http::limits`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Per client: `POST /v1/verify` and `POST /verify` (`GOVSEAL_RATE_VERIFY`).
    pub verify: Rate,
    /// Per client: `GET /v/{payload}` and `GET /verify` (`GOVSEAL_RATE_PAGES`).
    pub pages: Rate,
    /// Per client: public `POST /v1/tsa` (`GOVSEAL_RATE_TSA`).
    pub tsa: Rate,
    /// Per client: the other public routes and requests without a valid
    /// token (`GOVSEAL_RATE_READS`).
    pub reads: Rate,
    /// Anonymous verifications (API, upload page, QR page) running at once
    /// (`GOVSEAL_VERIFY_CONCURRENCY`).
    pub verify_concurrency: usize,
    /// Anonymous requests of any kind being served at once (`GOVSEAL_PUBLIC_CONCURRENCY`).
    pub public_concurrency: usize,
    /// Requests with a valid token being served at once; a separate budget
    /// that anonymous traffic cannot take (`GOVSEAL_AUTHENTICATED_CONCURRENCY`).
    pub authenticated_concurrency: usize,
    /// How long an anonymous request waits for a free slot before a 503
    /// (`GOVSEAL_QUEUE_WAIT_MS`).
    pub queue_wait: Duration,
    /// The share of its time, in percent (1–100), that a verification slot
    /// may be busy while authenticated requests are in flight: after a
    /// verification that took `t`, its slot then rests
    /// `t × (100 − duty) / duty` before the next one may use it. With
    /// [`Limits::verify_concurrency`] this bounds the CPU anonymous
    /// verification can take to `concurrency × duty / 100` cores
    /// (`GOVSEAL_VERIFY_DUTY_PERCENT`).
    pub verify_duty_percent: u8,
}

impl Default for Limits {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        Limits {
            verify: Rate {
                per_minute: 60,
                burst: 20,
            },
            pages: Rate {
                per_minute: 120,
                burst: 30,
            },
            tsa: Rate {
                per_minute: 120,
                burst: 20,
            },
            reads: Rate {
                per_minute: 600,
                burst: 120,
            },
            // Half the cores at most: the other half stays with departments' work.
            verify_concurrency: (cores / 2).max(1),
            public_concurrency: 128,
            authenticated_concurrency: 64,
            queue_wait: Duration::from_millis(1000),
            verify_duty_percent: 50,
        }
    }
}

/// Who may use the time-stamping authority over HTTP.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum TsaAccess {
    /// Anyone, under its own per-client rate limit.
    #[default]
    Public,
    /// Only callers with a valid token (admin or department clients).
    Clients,
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
    /// A concurrency limit of zero would refuse everything.
    #[error("{0} must be at least 1")]
    ZeroLimit(&'static str),
    /// The verification duty is a percentage of time.
    #[error("GOVSEAL_VERIFY_DUTY_PERCENT must be between 1 and 100")]
    DutyOutOfRange,
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
            foreign_trust: Vec::new(),
            trusted_proxies: Vec::new(),
            limits: Limits::default(),
            tsa_access: TsaAccess::default(),
            snapshot_refresh: Duration::from_secs(300),
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

    /// Refuses development fallbacks in production, weak tokens anywhere,
    /// and limits that would refuse every request.
    pub fn check_production(&self) -> Result<(), ConfigError> {
        if let Some(token) = &self.admin_token
            && token.expose_secret().len() < 24
        {
            return Err(ConfigError::WeakAdminToken);
        }
        for (value, name) in [
            (self.limits.verify_concurrency, "GOVSEAL_VERIFY_CONCURRENCY"),
            (self.limits.public_concurrency, "GOVSEAL_PUBLIC_CONCURRENCY"),
            (
                self.limits.authenticated_concurrency,
                "GOVSEAL_AUTHENTICATED_CONCURRENCY",
            ),
        ] {
            if value == 0 {
                return Err(ConfigError::ZeroLimit(name));
            }
        }
        if !(1..=100).contains(&self.limits.verify_duty_percent) {
            return Err(ConfigError::DutyOutOfRange);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_and_refuse_zero() {
        assert_eq!(
            "60:20".parse::<Rate>().unwrap(),
            Rate {
                per_minute: 60,
                burst: 20
            }
        );
        for bad in ["60", "0:5", "5:0", "a:b", "", "60:20:1"] {
            assert!(bad.parse::<Rate>().is_err(), "{bad}");
        }
    }

    #[test]
    fn database_passwords_are_redacted() {
        assert_eq!(
            redact_url_password("postgres://app:s3cr3t@db:5432/govseal"),
            "postgres://app:[REDACTED]@db:5432/govseal"
        );
        assert_eq!(
            redact_url_password("postgres://app@db/govseal"),
            "postgres://app@db/govseal"
        );
        assert_eq!(
            redact_url_password("sqlite:///tmp/a@b:c.db"),
            "sqlite:///tmp/a@b:c.db"
        );
    }
}
