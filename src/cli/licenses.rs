//! `govseal licenses import`: issue licenses for existing (paper) licenses
//! from a CSV file, in process against the installation's database, through
//! the same issuance use case as `POST /v1/licenses` (one transaction per
//! license with its log entry). The columns are documented in
//! [`crate::license::import`].

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use futures_util::StreamExt as _;

use super::Installation;
use super::exit;
use crate::access::Principal;
use crate::license::import::{FIXED_COLUMNS, ImportHeader};
use crate::license::issue::{self, LicenseContext};
use crate::outcome::ActionError;
use crate::store::{self, Database};

#[derive(Subcommand, Debug)]
pub(super) enum LicensesCommand {
    /// Issue licenses from a CSV file (UTF-8, header row).
    ///
    /// Columns: holder_name, holder_id_type (resident|uscc), holder_id,
    /// valid_from and valid_until (YYYY-MM-DD, optional), and one column per
    /// field key of the license type; an empty cell is an absent value.
    /// Runs in process against the installation's database (--data /
    /// --database-url), as the platform operator, with the same checks,
    /// transaction and log entry as POST /v1/licenses.
    ///
    /// A row that fails is reported (line number and what is wrong) on stderr
    /// and in --errors, and the run goes on. Re-running the same file is safe:
    /// each row's idempotency key is derived from the type and a SHA-256 of
    /// the row, so rows already imported are reported as such, not issued again.
    ///
    /// Exit code: 0 when no row failed, 1 when some row failed, 65 when the
    /// type is unknown or the header cannot be used, 66 when the file cannot
    /// be read (nothing imported then); see `govseal --help`.
    Import(ImportArgs),
}

#[derive(Args, Debug)]
pub(super) struct ImportArgs {
    /// The CSV file.
    file: PathBuf,
    /// The license type code.
    #[arg(long = "type")]
    type_code: String,
    /// The seal that signs every license (of a department that may issue the type).
    #[arg(long)]
    seal: String,
    /// Also write the failed rows to this CSV file (columns: line, field, error).
    #[arg(long)]
    errors: Option<PathBuf>,
    /// How many licenses are issued at once.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    jobs: u16,
    #[command(flatten)]
    installation: Installation,
}

pub(super) async fn run(command: LicensesCommand) -> anyhow::Result<u8> {
    match command {
        LicensesCommand::Import(args) => import(args).await,
    }
}

/// The outcome of one row.
enum RowOutcome {
    Imported,
    AlreadyImported,
    Failed { field: String, message: String },
}

fn failure(e: ActionError) -> RowOutcome {
    let (field, message) = match e {
        ActionError::Invalid { field, message } => (field, message),
        ActionError::NotFound(what) => (String::new(), format!("{what} not found")),
        ActionError::Conflict { message, .. }
        | ActionError::Forbidden(message)
        | ActionError::Denied { message, .. } => (String::new(), message),
        ActionError::Internal(e) => (String::new(), format!("internal error: {e:#}")),
    };
    RowOutcome::Failed { field, message }
}

async fn import(args: ImportArgs) -> anyhow::Result<u8> {
    let config = args.installation.config();
    let db = Database::connect(&config.database_url())
        .await
        .context("opening the database")?;
    let keys = crate::server::open_key_store(&config)?;
    crate::transparency::key::open_or_create_commitment_key(&db, &keys)
        .await
        .context("opening the log's commitment key")?;
    let authority = crate::authority::load(&db, &keys)
        .await
        .context("loading the PKI")?
        .context("this database has no PKI: run `govseal init` or `govseal serve` first")?;
    let tsa = Arc::new(crate::server::timestamp_authority(&authority)?);

    let definition = {
        let mut conn = db.pool.acquire().await?;
        match store::licenses::get_type(&mut conn, &args.type_code).await? {
            Some(row) => crate::license::lifecycle::definition(&row)?,
            None => {
                eprintln!("error: no license type {}", args.type_code);
                return Ok(exit::DATA);
            }
        }
    };
    let mut reader = match csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(&args.file)
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: reading {}: {e}", args.file.display());
            return Ok(exit::NO_INPUT);
        }
    };
    let header = match reader
        .headers()
        .map_err(|e| e.to_string())
        .and_then(|h| ImportHeader::new(h.iter(), &definition).map_err(|e| e.to_string()))
    {
        Ok(h) => h,
        Err(e) => {
            eprintln!(
                "error: {}: header: {e} (columns: {} and the type's field keys)",
                args.file.display(),
                FIXED_COLUMNS.join(", ")
            );
            return Ok(exit::DATA);
        }
    };
    // Count the rows first so the progress bar has a length.
    let total = csv::ReaderBuilder::new()
        .from_path(&args.file)?
        .byte_records()
        .count() as u64;
    let progress = indicatif::ProgressBar::with_draw_target(
        Some(total),
        indicatif::ProgressDrawTarget::stderr(),
    );
    progress.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} rows  {per_sec}  eta {eta}  {msg}",
        )
        .expect("template"),
    );
    if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        progress.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }

    let mut errors = match &args.errors {
        Some(path) => {
            let mut w = csv::Writer::from_path(path)
                .with_context(|| format!("creating {}", path.display()))?;
            w.write_record(["line", "field", "error"])?;
            Some(w)
        }
        None => None,
    };
    let ctx = LicenseContext {
        db: &db,
        keys: &keys,
        authority: &authority,
        tsa,
        public_url: &config.public_url,
    };
    let caller = Principal::Admin;
    let started = std::time::Instant::now();
    let (ctx, caller, header, args_ref) = (&ctx, &caller, &header, &args);
    let rows = reader.records().map(|record| async move {
        let (line, outcome) = match record {
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                (
                    line,
                    RowOutcome::Failed {
                        field: String::new(),
                        message: format!("not valid CSV: {e}"),
                    },
                )
            }
            Ok(record) => {
                let line = record.position().map_or(0, |p| p.line());
                let outcome = match header.request(
                    &args_ref.type_code,
                    &args_ref.seal,
                    &record.iter().collect::<Vec<_>>(),
                ) {
                    Err(e) => RowOutcome::Failed {
                        field: String::new(),
                        message: e.to_string(),
                    },
                    Ok((request, key)) => match issue::issue(ctx, caller, request, Some(key)).await
                    {
                        Ok(issued) if issued.replayed => RowOutcome::AlreadyImported,
                        Ok(_) => RowOutcome::Imported,
                        Err(e) => failure(e),
                    },
                };
                (line, outcome)
            }
        };
        (line, outcome)
    });
    let mut results = futures_util::stream::iter(rows).buffer_unordered(usize::from(args.jobs));
    let (mut imported, mut already, mut failed) = (0u64, 0u64, 0u64);
    while let Some((line, outcome)) = results.next().await {
        progress.inc(1);
        match outcome {
            RowOutcome::Imported => imported += 1,
            RowOutcome::AlreadyImported => already += 1,
            RowOutcome::Failed { field, message } => {
                failed += 1;
                let what = if field.is_empty() {
                    message.clone()
                } else {
                    format!("{field}: {message}")
                };
                progress.suspend(|| eprintln!("line {line}: {what}"));
                if let Some(w) = errors.as_mut() {
                    w.write_record([line.to_string().as_str(), &field, &message])?;
                }
            }
        }
        progress.set_message(format!("{failed} failed"));
    }
    progress.finish_and_clear();
    if let Some(mut w) = errors {
        w.flush()?;
    }
    // Give the new log entries their checkpoint now (a running server's sequencer would too).
    let log_key = crate::transparency::key::open_or_create(&db, &keys, &config.public_url).await?;
    crate::transparency::sequence_all(&db, &log_key, crate::server::SEQUENCER_BATCH).await?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "imported {imported}, skipped as already imported {already}, failed {failed} \
         ({} rows in {seconds:.1} s, {:.0} rows/s)",
        imported + already + failed,
        (imported + already + failed) as f64 / seconds.max(1e-9)
    );
    Ok(if failed > 0 {
        exit::FAILED
    } else {
        exit::SUCCESS
    })
}
