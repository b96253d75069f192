//! Storage: one code path for SQLite (embedded default) and PostgreSQL
//! through sqlx's `Any` driver. Migrations live in `migrations/sqlite` and
//! `migrations/postgres`, chosen by the URL scheme.
//!
//! Store functions take a connection (`&mut AnyConnection`, which a
//! transaction dereferences to), so a use case owns its transaction.

pub mod batch;
pub mod certificates;
pub mod clients;
pub mod departments;
pub mod documents;
pub mod keys;
pub mod licenses;
pub mod log;
pub mod seals;
pub mod serials;
pub mod settings;

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

pub use sqlx::AnyConnection as Connection;

/// Which database engine is behind the pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// SQLite (one file, embedded).
    Sqlite,
    /// PostgreSQL (several govseal processes can share it).
    Postgres,
}

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint was violated (a duplicate).
    #[error("duplicate {0}")]
    Duplicate(String),
    /// The URL names no supported database.
    #[error("unsupported database URL (use sqlite://… or postgres://…)")]
    UnsupportedUrl,
    /// Anything else from the database.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    /// A migration failed.
    #[error(transparent)]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// The shared transaction of a batched write failed (see [`batch`]).
    #[error("the batched transaction failed: {0}")]
    Batch(String),
}

impl StoreError {
    /// Maps a unique-constraint violation to [`StoreError::Duplicate`] naming `what`.
    pub fn duplicate_as(err: sqlx::Error, what: &str) -> StoreError {
        match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::Duplicate(what.to_string())
            }
            _ => StoreError::Database(err),
        }
    }
}

/// A connection pool and the engine behind it.
#[derive(Clone, Debug)]
pub struct Database {
    /// The pool.
    pub pool: AnyPool,
    /// The engine.
    pub backend: Backend,
    /// License serials reserved by this process and not yet used.
    pub serials: std::sync::Arc<serials::SerialBlocks>,
    /// Writes waiting to share a transaction ([`Database::write_batched`]).
    pub batches: std::sync::Arc<batch::BatchWriter>,
}

impl Database {
    /// Connects to `url` and runs the migrations for its engine.
    pub async fn connect(url: &str) -> Result<Database, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl);
        };
        let options = AnyConnectOptions::from_str(url)?;
        let mut pool_options = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(30));
        if backend == Backend::Sqlite {
            // One writer at a time: WAL lets readers go on; busy_timeout queues writers.
            // An embedded database's connection does not go stale: no ping
            // (a round trip to the connection's thread) before each use.
            pool_options = pool_options
                .max_connections(8)
                .test_before_acquire(false)
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA busy_timeout = 10000").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                        Ok(())
                    })
                });
        } else {
            pool_options = pool_options.max_connections(16);
        }
        let pool = pool_options.connect_with(options).await?;
        match backend {
            Backend::Sqlite => sqlx::migrate!("migrations/sqlite").run(&pool).await?,
            Backend::Postgres => sqlx::migrate!("migrations/postgres").run(&pool).await?,
        }
        Ok(Database {
            pool,
            backend,
            serials: Default::default(),
            batches: Default::default(),
        })
    }

    /// Starts a transaction. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so concurrent writers queue instead of failing
    /// with SQLITE_BUSY half-way.
    pub async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        match self.backend {
            Backend::Sqlite => Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?),
            Backend::Postgres => Ok(self.pool.begin().await?),
        }
    }
}

/// Now, as Unix seconds (how every time is stored).
pub fn now_unix() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// A new random identifier.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
