//! The `govseal` command line.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use time::Duration;

use crate::authority::{self, AuthorityError, InitOptions, write_trust_bundle};
use crate::config::{Config, ExposeSecret as _, Limits, Rate, SecretString};
use crate::keystore::KeyAlgorithm;
use crate::server;
use crate::store::Database;

mod bundle;
pub mod exit;
mod licenses;
mod verify;
mod witness;
use verify::VerifyArgs;

/// govseal — unified electronic seal and e-license signing service (统一电子印章 / 电子证照).
#[derive(Parser, Debug)]
#[command(name = "govseal", version, about, long_about = None, after_help = exit::TABLE)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the HTTP service. The first start creates the database, the PKI and
    /// the trust bundle; later starts reuse them.
    Serve(ServeArgs),
    /// Create the PKI explicitly (root CA, issuing CA, TSA). Refuses to overwrite one.
    Init(InitArgs),
    /// Validate offline against a trust bundle (ETSI EN 319 102-1 report): a signed
    /// PDF, a license record (COSE), a file or argument holding a license QR text/URL.
    /// Exit code 0 TOTAL-PASSED, 1 TOTAL-FAILED, 2 INDETERMINATE; 64, 65, 66, 70 errors.
    #[command(after_help = exit::TABLE)]
    Verify(VerifyArgs),
    /// The offline trust bundle (信任包).
    Bundle {
        #[command(subcommand)]
        command: bundle::BundleCommand,
    },
    /// The transparency log (透明日志).
    Log {
        #[command(subcommand)]
        command: LogCommand,
    },
    /// Electronic licenses (电子证照): import from CSV.
    Licenses {
        #[command(subcommand)]
        command: licenses::LicensesCommand,
    },
    /// Run a transparency log witness (见证者, C2SP tlog-witness), or print its key.
    ///
    /// A witness cosigns a log's checkpoints only if each is signed by the log
    /// and consistent with the last one it cosigned, so a log cannot show two
    /// histories to two verifiers without the witnesses noticing (互认).
    ///
    /// On first start the witness creates its Ed25519 key under --name, sealed
    /// under GOVSEAL_MASTER_KEY (or a development master.key in --data), then
    /// prints `witness <verifier key>` and `listening on http://ADDR`. Put the
    /// verifier key and the URL in the log's witness policy (GOVSEAL_WITNESSES).
    /// It serves POST /add-checkpoint and GET /<hex sha256(origin)>/checkpoint.
    ///
    /// Example: govseal witness --data ./w1 --name witness.finance.gov.example/w1
    ///   --listen 0.0.0.0:8090 --log-key certs/log-key.txt
    Witness(witness::WitnessArgs),
}

#[derive(Subcommand, Debug)]
enum LogCommand {
    /// Recompute the whole log from its entries, check every stored node and
    /// signed checkpoint, and cross-check the business records. Exits 1 naming
    /// the first entry that does not match (see `govseal --help` for the others).
    Audit(AuditArgs),
}

#[derive(Args, Debug)]
struct AuditArgs {
    #[command(flatten)]
    installation: Installation,
    /// The log's verifier key file (e.g. certs/log-key.txt from a trust bundle
    /// you trust); default: the key published in the database.
    #[arg(long = "log-key")]
    log_key: Option<PathBuf>,
}

fn parse_time(s: &str) -> Result<time::OffsetDateTime, String> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map_err(|e| format!("{s:?} is not an RFC 3339 time (e.g. 2026-01-31T12:00:00Z): {e}"))
}

/// Where the installation keeps its data.
#[derive(Args, Debug, Clone)]
struct Installation {
    /// Data directory (SQLite database, development master key).
    #[arg(long = "data", env = "GOVSEAL_DATA_DIR", default_value = "./data")]
    data_dir: PathBuf,
    /// Where the public trust bundle is written.
    #[arg(long = "certs", env = "GOVSEAL_CERTS_DIR", default_value = "./certs")]
    certs_dir: PathBuf,
    /// Database URL (sqlite://… or postgres://…); default: SQLite in the data directory.
    #[arg(long = "database-url", env = "GOVSEAL_DATABASE_URL")]
    database_url: Option<String>,
    /// Public base URL of this installation (QR codes, CRL distribution points).
    #[arg(
        long = "public-url",
        env = "GOVSEAL_PUBLIC_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    public_url: String,
    /// Refuse development fallbacks: GOVSEAL_MASTER_KEY and GOVSEAL_ADMIN_TOKEN must be set.
    #[arg(long, env = "GOVSEAL_PRODUCTION", default_value_t = false)]
    production: bool,
    /// Witness policy file (C2SP tlog-policy: `witness <name> <vkey> <url>`,
    /// `group`, `quorum` lines): checkpoints are submitted to these witnesses
    /// and the policy is published in the trust bundle as witnesses.txt.
    #[arg(long, env = "GOVSEAL_WITNESSES")]
    witnesses: Option<PathBuf>,
    /// Other installations' trust bundle directories (repeat the option, or
    /// separate them with ',' in GOVSEAL_FOREIGN_TRUST): POST /v1/verify
    /// recognises their licenses and stamped PDFs (互认). Read at start-up;
    /// restart to take their newer CRLs and status snapshots.
    #[arg(
        long = "foreign-trust",
        env = "GOVSEAL_FOREIGN_TRUST",
        value_delimiter = ','
    )]
    foreign_trust: Vec<PathBuf>,
    /// Where stamped PDFs are kept: `files` (content-addressed under
    /// <data>/documents; the default with SQLite) or `database` (the default
    /// with PostgreSQL, so every process sharing it sees them).
    #[arg(long = "document-store", env = "GOVSEAL_DOCUMENT_STORE", value_parser = parse_storage)]
    document_storage: Option<crate::store::documents::DocumentStorage>,
    /// Delete stamped PDFs in the file store after this many days (default:
    /// keep them). Stamp records and their log entries stay.
    #[arg(
        long = "document-retention-days",
        env = "GOVSEAL_DOCUMENT_RETENTION_DAYS"
    )]
    document_retention_days: Option<u32>,
}

fn parse_storage(s: &str) -> Result<crate::store::documents::DocumentStorage, String> {
    crate::store::documents::DocumentStorage::parse(s)
        .ok_or_else(|| format!("{s:?}: use files or database"))
}

#[derive(Args, Debug)]
struct ServeArgs {
    #[command(flatten)]
    installation: Installation,
    /// Address to listen on.
    #[arg(long, env = "GOVSEAL_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Reverse proxies whose Forwarded / X-Forwarded-For is believed, as CIDRs
    /// or addresses, comma-separated (e.g. 10.0.0.0/8,192.168.1.10). The client
    /// is the rightmost address that is not one of them; default: none, the
    /// TCP peer is the client.
    #[arg(long, env = "GOVSEAL_TRUSTED_PROXIES", value_parser = parse_networks, default_value = "", hide_default_value = true)]
    trusted_proxies: Networks,
    /// Who may use POST /v1/tsa: anyone under its own rate limit (public), or
    /// only callers with a token (clients).
    #[arg(long, env = "GOVSEAL_TSA_ACCESS", value_enum, default_value_t = crate::config::TsaAccess::Public)]
    tsa_access: crate::config::TsaAccess,
    /// Per-client rate of POST /v1/verify and POST /verify, PER_MINUTE:BURST.
    #[arg(long, env = "GOVSEAL_RATE_VERIFY", default_value_t = Limits::default().verify)]
    rate_verify: Rate,
    /// Per-client rate of GET /v/{payload} and GET /verify, PER_MINUTE:BURST.
    #[arg(long, env = "GOVSEAL_RATE_PAGES", default_value_t = Limits::default().pages)]
    rate_pages: Rate,
    /// Per-client rate of public POST /v1/tsa, PER_MINUTE:BURST.
    #[arg(long, env = "GOVSEAL_RATE_TSA", default_value_t = Limits::default().tsa)]
    rate_tsa: Rate,
    /// Per-client rate of every other request without a valid token, PER_MINUTE:BURST.
    #[arg(long, env = "GOVSEAL_RATE_READS", default_value_t = Limits::default().reads)]
    rate_reads: Rate,
    /// Anonymous verifications (API, upload page, QR page) at once; default: half the cores.
    #[arg(long, env = "GOVSEAL_VERIFY_CONCURRENCY", default_value_t = Limits::default().verify_concurrency)]
    verify_concurrency: usize,
    /// Anonymous requests of any kind at once.
    #[arg(long, env = "GOVSEAL_PUBLIC_CONCURRENCY", default_value_t = Limits::default().public_concurrency)]
    public_concurrency: usize,
    /// Requests with a valid token at once (a budget anonymous traffic cannot take).
    #[arg(long, env = "GOVSEAL_AUTHENTICATED_CONCURRENCY", default_value_t = Limits::default().authenticated_concurrency)]
    authenticated_concurrency: usize,
    /// Milliseconds an anonymous request waits for a free slot before 503.
    #[arg(long, env = "GOVSEAL_QUEUE_WAIT_MS", default_value_t = 1000)]
    queue_wait_ms: u64,
    /// Percent of the time a verification slot may be busy while requests
    /// with a token are in flight (1-100): after a verification of t ms its
    /// slot then rests t × (100 − duty) / duty ms, so anonymous verification
    /// leaves departments all but concurrency × duty / 100 cores.
    #[arg(long, env = "GOVSEAL_VERIFY_DUTY_PERCENT", default_value_t = Limits::default().verify_duty_percent)]
    verify_duty_percent: u8,
    /// Seconds between scheduled re-signings of the status snapshot and trust
    /// bundle (besides every change); at most a quarter of its 24 h validity.
    #[arg(long, env = "GOVSEAL_SNAPSHOT_REFRESH_SECS", default_value_t = 300)]
    snapshot_refresh_secs: u64,
}

/// A comma-separated list of networks; empty items (and an empty list) are allowed.
#[derive(Clone, Debug, Default)]
struct Networks(Vec<crate::config::IpNet>);

fn parse_networks(s: &str) -> Result<Networks, String> {
    s.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(parse_network)
        .collect::<Result<_, _>>()
        .map(Networks)
}

fn parse_network(s: &str) -> Result<crate::config::IpNet, String> {
    let s = s.trim();
    s.parse::<crate::config::IpNet>()
        .or_else(|_| {
            s.parse::<std::net::IpAddr>()
                .map(crate::config::IpNet::from)
        })
        .map_err(|_| format!("{s:?} is neither a CIDR (10.0.0.0/8) nor an address"))
}

impl ServeArgs {
    fn config(&self) -> Config {
        let mut config = self.installation.config();
        config.listen = self.listen;
        config.trusted_proxies.clone_from(&self.trusted_proxies.0);
        config.tsa_access = self.tsa_access;
        config.limits = Limits {
            verify: self.rate_verify,
            pages: self.rate_pages,
            tsa: self.rate_tsa,
            reads: self.rate_reads,
            verify_concurrency: self.verify_concurrency,
            public_concurrency: self.public_concurrency,
            authenticated_concurrency: self.authenticated_concurrency,
            queue_wait: std::time::Duration::from_millis(self.queue_wait_ms),
            verify_duty_percent: self.verify_duty_percent,
        };
        config.snapshot_refresh = std::time::Duration::from_secs(self.snapshot_refresh_secs);
        config
    }
}

#[derive(Args, Debug)]
struct InitArgs {
    #[command(flatten)]
    installation: Installation,
    /// The authority's name, used in every CA subject.
    #[arg(long, default_value = "govseal 统一身份认证中心")]
    authority_name: String,
    /// Key algorithm: ecdsa-p256 or ecdsa-p384.
    #[arg(long, default_value = "ecdsa-p256", value_parser = parse_algorithm)]
    key_algorithm: KeyAlgorithm,
    /// Root CA validity in years.
    #[arg(long, default_value_t = 20)]
    root_validity_years: u16,
    /// Issuing CA validity in years.
    #[arg(long, default_value_t = 10)]
    issuing_validity_years: u16,
    /// TSA certificate validity in years.
    #[arg(long, default_value_t = 5)]
    tsa_validity_years: u16,
}

fn parse_algorithm(s: &str) -> Result<KeyAlgorithm, String> {
    match KeyAlgorithm::parse(s) {
        Some(a @ (KeyAlgorithm::EcdsaP256 | KeyAlgorithm::EcdsaP384)) => Ok(a),
        _ => Err(format!(
            "{s:?} is not a CA key algorithm; use ecdsa-p256 or ecdsa-p384"
        )),
    }
}

impl Installation {
    fn config(&self) -> Config {
        let mut c = Config::new(self.data_dir.clone());
        c.certs_dir = self.certs_dir.clone();
        c.database_url = self.database_url.clone();
        c.public_url = self.public_url.clone();
        c.production = self.production;
        c.witnesses = self.witnesses.clone();
        c.foreign_trust = self.foreign_trust.clone();
        c.document_storage = self.document_storage;
        c.document_retention_days = self.document_retention_days;
        c.admin_token = std::env::var("GOVSEAL_ADMIN_TOKEN")
            .ok()
            .filter(|t| !t.is_empty())
            .map(SecretString::from);
        c.master_key = std::env::var("GOVSEAL_MASTER_KEY")
            .ok()
            .filter(|t| !t.is_empty())
            .map(SecretString::from);
        c
    }
}

/// Runs the command line; returns the process exit code ([`exit`]); a
/// command that fails exits with [`exit::code_of`] its error.
pub async fn run() -> anyhow::Result<u8> {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // Help and version go to stdout with success; a usage error to
        // stderr with EX_USAGE, not clap's 2 (INDETERMINATE).
        Err(e) => {
            let _ = e.print();
            return Ok(if e.use_stderr() {
                exit::USAGE
            } else {
                exit::SUCCESS
            });
        }
    };
    match cli.command {
        Command::Verify(args) => verify::run(args),
        Command::Serve(args) => {
            let config = args.config();
            let listener = tokio::net::TcpListener::bind(config.listen)
                .await
                .with_context(|| format!("binding {}", config.listen))?;
            let prepared = server::prepare(config).await?;
            if let Some(token) = &prepared.new_admin_token {
                eprintln!(
                    "\n  Admin token (shown once, only its hash is stored):\n\n    {}\n\n  \
                     Set GOVSEAL_ADMIN_TOKEN to choose your own.\n",
                    token.expose_secret()
                );
            }
            tracing::info!(address = %listener.local_addr()?, "govseal listening");
            server::serve(prepared, listener).await?;
            Ok(exit::SUCCESS)
        }
        Command::Log {
            command: LogCommand::Audit(args),
        } => audit(args).await,
        Command::Licenses { command } => licenses::run(command).await,
        Command::Bundle { command } => bundle::run(command).await,
        Command::Witness(args) => witness::run(args).await,
        Command::Init(args) => {
            let config = args.installation.config();
            config.check_production()?;
            std::fs::create_dir_all(&config.data_dir)?;
            let db = Database::connect(&config.database_url()).await?;
            let keys = server::open_key_store(&config)?;
            let years = |y: u16| Duration::days(365 * i64::from(y));
            let options = InitOptions {
                authority_name: args.authority_name,
                algorithm: args.key_algorithm,
                root_validity: years(args.root_validity_years),
                issuing_validity: years(args.issuing_validity_years),
                tsa_validity: years(args.tsa_validity_years),
                public_url: config.public_url.clone(),
            };
            match authority::initialize(&db, &keys, &options).await {
                Ok(authority) => {
                    let bundle = authority.trust_bundle(&db).await?;
                    write_trust_bundle(&config.certs_dir, &bundle)?;
                    println!(
                        "PKI created; trust bundle written to {}",
                        config.certs_dir.display()
                    );
                    Ok(exit::SUCCESS)
                }
                Err(AuthorityError::AlreadyInitialized) => {
                    eprintln!(
                        "error: a PKI already exists in this database; refusing to overwrite it"
                    );
                    Ok(exit::FAILED)
                }
                Err(e) => Err(e.into()),
            }
        }
    }
}

async fn audit(args: AuditArgs) -> anyhow::Result<u8> {
    let config = args.installation.config();
    let db = Database::connect(&config.database_url())
        .await
        .context("opening the database")?;
    let key = args
        .log_key
        .as_ref()
        .map(|path| {
            std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))
                .map_err(|e| exit::coded(exit::NO_INPUT, e))
        })
        .transpose()?;
    // The commitment key needs the master key the server used (the
    // environment, or the development key file already in the data
    // directory; the audit never creates one). Without it the audit checks
    // every column but the personal ones.
    let commitments =
        match server::open_existing_key_store(&config).context("reading the master key")? {
            Some(keys) => crate::transparency::key::load_commitment_key(&db, &keys)
                .await
                .context(
                    "opening the log's commitment key (is this the master key the server uses?)",
                )?,
            None => {
                eprintln!(
                    "note: GOVSEAL_MASTER_KEY is not set and {} has no master.key; \
                 personal columns are not checked",
                    config.data_dir.display()
                );
                None
            }
        };
    let started = std::time::Instant::now();
    let documents = config.document_store();
    match crate::transparency::audit::audit(
        &db,
        key.as_deref(),
        commitments.as_ref(),
        documents.as_ref(),
    )
    .await?
    {
        Ok(summary) => {
            println!(
                "log audit passed: {} entries, {} tree nodes, {} checkpoints, {} business records, \
                 {} pending; root {} ({:.1} s)",
                summary.entries,
                summary.nodes,
                summary.checkpoints,
                summary.business_rows,
                summary.pending,
                summary.root_hex,
                started.elapsed().as_secs_f64()
            );
            match crate::transparency::witnessing::audit_cosignatures(&db).await? {
                Ok(0) => Ok(exit::SUCCESS),
                Ok(n) => {
                    println!("witness cosignatures: {n} verified");
                    Ok(exit::SUCCESS)
                }
                Err(finding) => {
                    eprintln!("log audit FAILED: {finding}");
                    Ok(exit::FAILED)
                }
            }
        }
        Err(finding) => {
            eprintln!("log audit FAILED: {finding}");
            Ok(exit::FAILED)
        }
    }
}
