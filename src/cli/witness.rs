//! `govseal witness`: run a transparency log witness (C2SP tlog-witness), or
//! print its verifier key.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Args, Subcommand};

use super::exit;
use crate::keystore::KeyStore;
use crate::log::VerifierKey;
use crate::witness::{self, Witness, key, state::StateFile};

/// `govseal witness [run options]` or `govseal witness key`.
#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub(super) struct WitnessArgs {
    #[command(subcommand)]
    command: Option<WitnessCommand>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Subcommand, Debug)]
enum WitnessCommand {
    /// Print the witness's verifier key (<name>+<key ID>+<base64(0x04 ‖ key)>),
    /// creating the key under --name if the data directory has none yet.
    Key(KeyArgs),
}

#[derive(Args, Debug)]
struct KeyArgs {
    /// The witness's data directory (key, state).
    #[arg(
        long = "data",
        env = "GOVSEAL_WITNESS_DATA",
        default_value = "./witness"
    )]
    data_dir: PathBuf,
    /// The witness's name, a schema-less URL (e.g. witness.finance.gov.example/w1);
    /// needed only when the key is created.
    #[arg(long)]
    name: Option<String>,
}

#[derive(Args, Debug)]
struct RunArgs {
    /// The witness's data directory: witness-key.json, witness-state.json.
    #[arg(
        long = "data",
        env = "GOVSEAL_WITNESS_DATA",
        default_value = "./witness"
    )]
    data_dir: PathBuf,
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "GOVSEAL_WITNESS_LISTEN", default_value = "127.0.0.1:8090")]
    listen: std::net::SocketAddr,
    /// The witness's name, a schema-less URL (e.g. witness.finance.gov.example/w1);
    /// needed only when the key is created.
    #[arg(long)]
    name: Option<String>,
    /// A log to witness: its verifier key text (<origin>+<key ID>+<base64>, as in
    /// a govseal trust bundle's log-key.txt) or a file holding it. Repeat for
    /// several logs.
    #[arg(long = "log-key", required = true)]
    log_keys: Vec<String>,
}

/// Without a key in `dir`, `--name` is needed to make one.
fn require_name(dir: &std::path::Path, name: Option<&str>) -> anyhow::Result<()> {
    if let Some(name) = name {
        crate::log::CosignerKey::new(name, &[0u8; 32])
            .map_err(|e| exit::coded(exit::USAGE, anyhow::anyhow!("--name: {e}")))?;
    }
    if name.is_none() && !dir.join(key::KEY_FILE).exists() {
        return Err(exit::coded(
            exit::USAGE,
            anyhow::anyhow!(
                "{} has no witness key yet: give --name <schema-less URL naming the witness, \
                 e.g. witness.finance.gov.example/w1>",
                dir.display()
            ),
        ));
    }
    Ok(())
}

pub(super) async fn run(args: WitnessArgs) -> anyhow::Result<u8> {
    match args.command {
        Some(WitnessCommand::Key(args)) => {
            require_name(&args.data_dir, args.name.as_deref())?;
            let keys = key_store(&args.data_dir)?;
            let key = key::open_or_create(&args.data_dir, args.name.as_deref(), &keys)?;
            println!("{}", key.verifier);
            Ok(exit::SUCCESS)
        }
        None => serve(args.run).await,
    }
}

fn key_store(dir: &std::path::Path) -> anyhow::Result<KeyStore> {
    let from_env = std::env::var("GOVSEAL_MASTER_KEY")
        .ok()
        .filter(|t| !t.is_empty());
    Ok(KeyStore::new(key::master_key(dir, from_env.as_deref())?))
}

async fn serve(args: RunArgs) -> anyhow::Result<u8> {
    let mut logs = Vec::new();
    for text in &args.log_keys {
        let path = std::path::Path::new(text);
        let vkey = if path.is_file() {
            std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?
                .trim()
                .to_string()
        } else {
            text.trim().to_string()
        };
        let key = VerifierKey::parse(&vkey)
            .with_context(|| format!("--log-key {text:?} is not a log verifier key"))
            .map_err(|e| exit::coded(exit::USAGE, e))?;
        logs.push(key);
    }
    require_name(&args.data_dir, args.name.as_deref())?;
    let keys = key_store(&args.data_dir)?;
    let key = key::open_or_create(&args.data_dir, args.name.as_deref(), &keys)?;
    let state = StateFile::open(&args.data_dir)?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    let address = listener.local_addr()?;
    let witness = Arc::new(Witness::new(key, logs, state));
    println!("witness {}", witness.verifier_key());
    println!("listening on http://{address}");
    tracing::info!(%address, key = %witness.verifier_key(), "witness listening");
    axum::serve(listener, witness::router(witness))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("serving HTTP")?;
    Ok(exit::SUCCESS)
}
