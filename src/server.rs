//! Start-up: open the database, the key store and the PKI (creating them on
//! first start), settle the admin credential, publish the trust bundle, serve.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use tokio::net::TcpListener;

use crate::access;
use crate::authority::{self, AuthorityError, InitOptions, write_trust_bundle};
use crate::config::{Config, ExposeSecret as _, SecretString};
use crate::http::{self, AppState};
use crate::keystore::{KeyStore, MasterKey, MasterKeySource};
use crate::store::{self, Database};
use crate::timestamp::TimeStampAuthority;
use crate::transparency::{self, LogKey};

/// A prepared service.
pub struct Prepared {
    /// The state handlers share.
    pub state: AppState,
    /// An admin token generated on this start, to be shown once.
    pub new_admin_token: Option<SecretString>,
    /// Whether this start created the PKI.
    pub created_pki: bool,
    /// The transparency log's checkpoint key.
    pub log_key: LogKey,
    /// Submits checkpoints to the configured witnesses, if any.
    pub witnesses: Option<Arc<transparency::witnessing::Submitter>>,
}

/// Opens the key store with `GOVSEAL_MASTER_KEY`, or the development key file.
pub fn open_key_store(config: &Config) -> anyhow::Result<KeyStore> {
    let master = match &config.master_key {
        Some(text) => MasterKey::from_text(text.expose_secret())?,
        None => {
            let (key, created) = MasterKey::development_file(&config.data_dir)?;
            if let MasterKeySource::DevelopmentFile(path) = key.source() {
                tracing::warn!(
                    file = %path.display(),
                    created,
                    "GOVSEAL_MASTER_KEY is not set: private keys are sealed with a development key file. \
                     Set GOVSEAL_MASTER_KEY (32 bytes, base64) in production."
                );
            }
            key
        }
    };
    Ok(KeyStore::new(master))
}

/// Opens the key store with the master key the server uses, never creating
/// one: `GOVSEAL_MASTER_KEY`, else the development key file already in the
/// data directory, else `None` (read-only tools such as `govseal log audit`).
pub fn open_existing_key_store(config: &Config) -> anyhow::Result<Option<KeyStore>> {
    let master = match &config.master_key {
        Some(text) => Some(MasterKey::from_text(text.expose_secret())?),
        None => MasterKey::existing_development_file(&config.data_dir)?,
    };
    Ok(master.map(KeyStore::new))
}

/// Opens (or creates) everything the service needs.
pub async fn prepare(config: Config) -> anyhow::Result<Prepared> {
    config.check_production()?;
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating data directory {}", config.data_dir.display()))?;
    let db = Database::connect(&config.database_url())
        .await
        .context("opening the database")?;
    let keys = open_key_store(&config)?;
    let (authority, created_pki) = match authority::load(&db, &keys)
        .await
        .context("loading the PKI")?
    {
        Some(a) => (a, false),
        None => {
            match authority::initialize(&db, &keys, &InitOptions::new(&config.public_url)).await {
                Ok(a) => {
                    tracing::info!("created a new PKI: root CA, issuing CA and TSA");
                    (a, true)
                }
                Err(AuthorityError::AlreadyInitialized) => (
                    authority::load(&db, &keys)
                        .await?
                        .context("PKI vanished after a concurrent set-up")?,
                    false,
                ),
                Err(e) => return Err(e).context("creating the PKI"),
            }
        }
    };
    let (admin_token_hash, new_admin_token) = admin_credential(&db, &config).await?;
    let log_key = transparency::key::open_or_create(&db, &keys, &config.public_url)
        .await
        .context("opening the transparency log key")?;
    transparency::key::open_or_create_commitment_key(&db, &keys)
        .await
        .context("opening the log's commitment key")?;
    let backfilled = transparency::coverage::backfill_once(&db, &keys)
        .await
        .context("bringing earlier rows onto the transparency log")?;
    if backfilled > 0 {
        tracing::info!(
            entries = backfilled,
            "logged rows written before the log covered their tables"
        );
    }
    // Entries recorded while no server ran (e.g. the PKI just created) get their checkpoint now.
    transparency::sequence_all(&db, &log_key, SEQUENCER_BATCH)
        .await
        .context("sequencing the transparency log")?;
    let witnesses = transparency::witnessing::configure(
        &db,
        config.witnesses.as_deref(),
        &log_key.verifier_key,
    )
    .await
    .context("configuring the log's witnesses")?;
    let timestamp_authority = Arc::new(timestamp_authority(&authority)?);
    let publication = http::published::build(&db, &authority)
        .await
        .context("signing the status snapshot and assembling the trust bundle")?;
    write_trust_bundle(&config.certs_dir, &publication.bundle)?;
    let foreign_trust = http::foreign::ForeignTrust::load(config.foreign_trust.clone())?;
    let state = AppState {
        foreign_trust: Arc::new(foreign_trust),
        verify_memo: Default::default(),
        admission: Arc::new(http::limits::Admission::new(&config)),
        published: Arc::new(http::published::Published::new(publication)),
        tsa: timestamp_authority.clone(),
        timestamp_authority,
        db: db.clone(),
        keys: Arc::new(keys),
        authority: Arc::new(authority),
        config: Arc::new(config),
        admin_token_hash,
    };
    Ok(Prepared {
        state,
        new_admin_token,
        created_pki,
        log_key,
        witnesses,
    })
}

/// Most entries one sequencer transaction takes (one checkpoint per batch).
pub const SEQUENCER_BATCH: u32 = 4096;

/// How often the background sequencer looks for pending entries.
pub const SEQUENCER_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

/// Sequences pending log entries every [`SEQUENCER_INTERVAL`], and publishes
/// each new checkpoint as `certs/checkpoint.txt`. Errors are logged and retried.
async fn run_sequencer(db: Database, key: LogKey, certs_dir: std::path::PathBuf) {
    let mut ticker = tokio::time::interval(SEQUENCER_INTERVAL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        match transparency::sequence_all(&db, &key, SEQUENCER_BATCH).await {
            Ok(Some(checkpoint)) => {
                tracing::debug!(size = checkpoint.size, "new log checkpoint");
                if let Err(e) = publish_checkpoint(&db, &certs_dir).await {
                    tracing::warn!(error = %e, "could not publish the log checkpoint");
                }
            }
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, "sequencing the transparency log failed"),
        }
    }
}

async fn publish_checkpoint(db: &Database, certs_dir: &std::path::Path) -> anyhow::Result<()> {
    let mut conn = db.pool.acquire().await?;
    if let Some(latest) = transparency::proofs::latest_checkpoint(&mut conn).await? {
        std::fs::create_dir_all(certs_dir)?;
        let path = certs_dir.join("checkpoint.txt");
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, latest.note)?;
        std::fs::rename(&tmp, &path)?;
    }
    Ok(())
}

/// govseal's TSA policy (RFC 3161 §2.4.2 `policy`). An installation with a
/// registered policy OID should configure its own; this one sits under the
/// national license arc used by [`crate::license::identifier`].
pub const TSA_POLICY: &str = "1.2.156.3005.2.9.1";

/// The TSA over the authority's TSA key, certificate and chain.
pub fn timestamp_authority(
    authority: &crate::authority::Authority,
) -> anyhow::Result<TimeStampAuthority> {
    Ok(TimeStampAuthority::new(
        authority.tsa.signer.clone(),
        authority.tsa.certificate.der.clone(),
        vec![
            authority.issuing.certificate.der.clone(),
            authority.root.certificate.der.clone(),
        ],
        TSA_POLICY.parse().context("TSA policy OID")?,
    )?)
}

/// The admin token's hash: from `GOVSEAL_ADMIN_TOKEN`, or generated once and
/// stored only as a hash (the token itself is returned to be shown once).
async fn admin_credential(
    db: &Database,
    config: &Config,
) -> anyhow::Result<(String, Option<SecretString>)> {
    if let Some(token) = &config.admin_token {
        return Ok((access::token_hash(token.expose_secret()), None));
    }
    let mut conn = db.pool.acquire().await?;
    if let Some(hash) = store::settings::get(&mut conn, "admin_token_sha256").await? {
        return Ok((hash, None));
    }
    let token = access::new_token().map_err(|_| anyhow::anyhow!("no randomness"))?;
    let hash = access::token_hash(&token);
    let stored = store::settings::put_if_absent(&mut conn, "admin_token_sha256", &hash).await?;
    Ok(if stored == hash {
        (hash, Some(SecretString::from(token)))
    } else {
        (stored, None)
    })
}

/// Serves on `listener` until the process is asked to stop.
pub async fn serve(prepared: Prepared, listener: TcpListener) -> anyhow::Result<()> {
    let sequencer = tokio::spawn(run_sequencer(
        prepared.state.db.clone(),
        prepared.log_key,
        prepared.state.config.certs_dir.clone(),
    ));
    let witnessing = prepared.witnesses.clone().map(|submitter| {
        let (db, certs) = (
            prepared.state.db.clone(),
            prepared.state.config.certs_dir.clone(),
        );
        tokio::spawn(submitter.run(db, certs, SEQUENCER_INTERVAL))
    });
    // Installed before the first request so every request is counted.
    let _ = http::metrics::recorder();
    let refresher = tokio::spawn(http::published::run_refresher(prepared.state.clone()));
    let housekeeping = tokio::spawn(limiter_housekeeping(prepared.state.admission.clone()));
    let retention = prepared
        .state
        .config
        .document_store()
        .filter(|documents| documents.retention().is_some())
        .map(|documents| tokio::spawn(run_retention(documents)));
    let app = http::router(prepared.state);
    let served = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .context("serving HTTP");
    sequencer.abort();
    if let Some(task) = witnessing {
        task.abort();
    }
    refresher.abort();
    housekeeping.abort();
    if let Some(retention) = retention {
        retention.abort();
    }
    served
}

/// Lets the rate limiters forget refilled buckets, every
/// [`http::limits::HOUSEKEEPING_INTERVAL`].
async fn limiter_housekeeping(admission: Arc<http::limits::Admission>) {
    let mut ticker = tokio::time::interval(http::limits::HOUSEKEEPING_INTERVAL);
    loop {
        ticker.tick().await;
        admission.housekeeping();
    }
}

/// Deletes stamped PDFs past the retention from the document store, hourly.
async fn run_retention(documents: crate::store::documents::DocumentStore) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        tick.tick().await;
        let store = documents.clone();
        match tokio::task::spawn_blocking(move || store.prune(std::time::SystemTime::now())).await {
            Ok(Ok(0)) => {}
            Ok(Ok(deleted)) => tracing::info!(deleted, "stamped PDFs past the retention deleted"),
            Ok(Err(e)) => tracing::warn!(error = %e, "document retention"),
            Err(e) => tracing::warn!(error = %e, "document retention task"),
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
