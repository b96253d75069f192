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
pub mod library;
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
    /// This process's turn to write (SQLite): see [`WriteTransaction`].
    writer: std::sync::Arc<tokio::sync::Mutex<()>>,
}

/// The longest a write waits for its turn before failing (as SQLite's own
/// busy timeout would have).
const WRITER_WAIT: Duration = Duration::from_secs(30);

/// A write transaction. On SQLite it also holds this process's writer turn:
/// writers queue in arrival order on an async mutex before `BEGIN IMMEDIATE`
/// instead of polling SQLite's busy handler, whose sleeps grow to 100 ms
/// and let late arrivals overtake — the source of stamping's p99 of
/// hundreds of milliseconds under load (issue 17). It dereferences to the
/// connection, so store functions take it as `&mut Connection`.
pub struct WriteTransaction {
    // Dropped first: an uncommitted transaction rolls back before the turn passes.
    tx: sqlx::Transaction<'static, sqlx::Any>,
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl std::ops::Deref for WriteTransaction {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTransaction {
    fn deref_mut(&mut self) -> &mut Connection {
        &mut self.tx
    }
}

impl WriteTransaction {
    /// Commits, then gives the turn to the next writer.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }

    /// Rolls back, then gives the turn to the next writer.
    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        self.tx.rollback().await
    }
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
            writer: Default::default(),
        })
    }

    /// Starts a transaction. On SQLite it waits for this process's writer
    /// turn ([`WriteTransaction`]) and takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so concurrent writers queue instead of failing
    /// with SQLITE_BUSY half-way; another process writing to the same file
    /// is still waited for by SQLite's busy timeout.
    pub async fn begin(&self) -> Result<WriteTransaction, StoreError> {
        match self.backend {
            Backend::Sqlite => {
                let turn = tokio::time::timeout(WRITER_WAIT, self.writer.clone().lock_owned())
                    .await
                    .map_err(|_| sqlx::Error::PoolTimedOut)?;
                Ok(WriteTransaction {
                    tx: self.pool.begin_with("BEGIN IMMEDIATE").await?,
                    _turn: Some(turn),
                })
            }
            Backend::Postgres => Ok(WriteTransaction {
                tx: self.pool.begin().await?,
                _turn: None,
            }),
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
