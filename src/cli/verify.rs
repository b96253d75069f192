//! `govseal verify`: no database, no server, no network. The input is a
//! PDF, a license record (COSE_Sign1), a text file holding a license QR text,
//! or the QR text itself (`--qr TEXT`, or a positional argument that is a
//! URL); the kind is told from the bytes ([`crate::verify::input_kind`]).

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;

use crate::verify::{
    LicenseOptions, MAX_DOCUMENT_BYTES, TrustStore, verify_bytes, verify_license_text,
};

#[derive(Args, Debug)]
pub(super) struct VerifyArgs {
    /// The file to validate (PDF, COSE record, text file with a QR text), or a QR URL.
    #[arg(required_unless_present = "qr")]
    input: Option<String>,
    /// A license QR text (the URL `<public-url>/v/<payload>` or the payload).
    #[arg(long, conflicts_with = "input")]
    qr: Option<String>,
    /// The trust bundle directory (root.pem, issuing-ca.pem, crl/, seals/, license-status.cose).
    #[arg(long, default_value = "./certs")]
    trust: PathBuf,
    /// Print the full report as JSON instead of the summary.
    #[arg(long)]
    json: bool,
    /// Validation time (RFC 3339), default now.
    #[arg(long, value_parser = super::parse_time)]
    at: Option<time::OffsetDateTime>,
    /// Accept a license status snapshot past its next-update (the report says so).
    #[arg(long)]
    allow_stale: bool,
}

pub(super) fn run(args: VerifyArgs) -> anyhow::Result<i32> {
    let store = TrustStore::load(&args.trust)
        .with_context(|| format!("loading the trust bundle {}", args.trust.display()))?;
    let options = LicenseOptions {
        at: args.at.unwrap_or_else(time::OffsetDateTime::now_utc),
        allow_stale: args.allow_stale,
    };
    let report = match (&args.qr, &args.input) {
        (Some(text), _) => verify_license_text(text, &store, &options),
        (None, Some(input)) if looks_like_url(input) => {
            verify_license_text(input, &store, &options)
        }
        (None, Some(input)) => {
            let path = PathBuf::from(input);
            let size = std::fs::metadata(&path)
                .with_context(|| format!("reading {}", path.display()))?
                .len();
            if size > MAX_DOCUMENT_BYTES as u64 {
                anyhow::bail!(
                    "{} is larger than {MAX_DOCUMENT_BYTES} bytes",
                    path.display()
                );
            }
            let bytes =
                std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            verify_bytes(&bytes, &store, &options)
        }
        (None, None) => anyhow::bail!("give a file, a QR URL or --qr TEXT"),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.summary());
    }
    Ok(report.indication.exit_code())
}

/// A positional argument that is a URL rather than a file name.
fn looks_like_url(s: &str) -> bool {
    (s.starts_with("https://") || s.starts_with("http://")) && !std::path::Path::new(s).exists()
}
