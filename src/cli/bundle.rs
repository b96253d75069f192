//! `govseal bundle export DIR`: a complete offline trust bundle for a
//! verifier to carry — root, CA and TSA certificates, the CRLs (refreshed if
//! due, RFC 5280 §5), every seal certificate, a freshly signed license status
//! snapshot, the log key and the latest checkpoint — assembled from the
//! database, not copied from `certs/`. The layout is that of
//! [`crate::authority::bundle`].

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, Subcommand};

use super::Installation;
use crate::authority::{self, write_trust_bundle};
use crate::server;
use crate::store::Database;

#[derive(Subcommand, Debug)]
pub(super) enum BundleCommand {
    /// Write a complete offline trust bundle into DIR (created if missing).
    Export(ExportArgs),
}

#[derive(Args, Debug)]
pub(super) struct ExportArgs {
    #[command(flatten)]
    installation: Installation,
    /// The directory to write.
    dir: PathBuf,
}

pub(super) async fn run(command: BundleCommand) -> anyhow::Result<u8> {
    let BundleCommand::Export(args) = command;
    let config = args.installation.config();
    let db = Database::connect(&config.database_url())
        .await
        .context("opening the database")?;
    let keys = server::open_key_store(&config)?;
    let authority = authority::load(&db, &keys)
        .await?
        .context("this installation has no PKI yet (run govseal init or serve)")?;
    let bundle = authority.trust_bundle(&db).await?;
    write_trust_bundle(&args.dir, &bundle)?;
    let status = bundle.license_status.as_ref();
    println!(
        "trust bundle written to {}: {} seal certificate(s), {} CRL(s), license status snapshot of {} \
         ({} revoked, {} suspended)",
        args.dir.display(),
        bundle.seals.len(),
        bundle.crls.len(),
        status
            .map(|s| s.this_update.to_string())
            .unwrap_or_else(|| "—".into()),
        status.map_or(0, |s| s.revoked.len()),
        status.map_or(0, |s| s.suspended.len()),
    );
    Ok(super::exit::SUCCESS)
}
