//! `govseal verify`: no database, no server, no network. The input is a
//! PDF, a license record (COSE_Sign1), a text file holding a license QR text,
//! a PNG or JPEG photo of a license QR code, or the QR text itself
//! (`--qr TEXT`, or a positional argument that is a URL); the kind is told
//! from the bytes ([`crate::verify::input_kind`]).

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;

use super::exit::{self, coded};
use crate::verify::logged::{LogInclusion, LogTrust, check_logged};
use crate::verify::{
    Indication, InputKind, LicenseOptions, MAX_DOCUMENT_BYTES, TrustStore, input_kind,
    qr_text_from_photo, record_from_text, verify_bytes, verify_license_text,
};

#[derive(Args, Debug)]
pub(super) struct VerifyArgs {
    /// The file to validate (PDF, COSE record, text file with a QR text, PNG/JPEG photo of a QR code), or a QR URL.
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
    /// Also require proof that the input is on the transparency log: the
    /// inclusion proof (--log-proof) must verify against the bundle's log key
    /// (log-key.txt) and agree with its checkpoint (checkpoint.txt), the
    /// logged entry must record the SHA-256 of the PDF or license record, and
    /// if the bundle has a witness policy (witnesses.txt) the proof's
    /// checkpoint must carry enough valid witness cosignatures to meet it.
    /// Not proven → INDETERMINATE / SIG_CONSTRAINTS_FAILURE.
    #[arg(long)]
    require_logged: bool,
    /// The c2sp.org/tlog-proof file for --require-logged (the `tlog_proof`
    /// of GET /v1/log/proof/inclusion?subject=<stamp id or license id>);
    /// default: FILE.tlog-proof beside FILE.
    #[arg(long = "log-proof", requires = "require_logged")]
    log_proof: Option<PathBuf>,
}

pub(super) fn run(args: VerifyArgs) -> anyhow::Result<u8> {
    let store = TrustStore::load(&args.trust)
        .with_context(|| format!("loading the trust bundle {}", args.trust.display()))
        .map_err(|e| coded(exit::NO_INPUT, e))?;
    let options = LicenseOptions {
        at: args.at.unwrap_or_else(time::OffsetDateTime::now_utc),
        allow_stale: args.allow_stale,
    };
    // What the log entry's artefact hash covers: the PDF or the COSE record.
    let artefact: Vec<u8>;
    let mut report = match (&args.qr, &args.input) {
        (Some(text), _) => {
            artefact = record_from_text(text, None).unwrap_or_default();
            verify_license_text(text, &store, &options)
        }
        (None, Some(input)) if looks_like_url(input) => {
            artefact = record_from_text(input, None).unwrap_or_default();
            verify_license_text(input, &store, &options)
        }
        (None, Some(input)) => {
            let path = PathBuf::from(input);
            let reading = || format!("reading {}", path.display());
            let size = std::fs::metadata(&path)
                .with_context(reading)
                .map_err(|e| coded(exit::NO_INPUT, e))?
                .len();
            if size > MAX_DOCUMENT_BYTES as u64 {
                return Err(coded(
                    exit::DATA,
                    anyhow::anyhow!(
                        "{} is larger than {MAX_DOCUMENT_BYTES} bytes",
                        path.display()
                    ),
                ));
            }
            let bytes = std::fs::read(&path)
                .with_context(reading)
                .map_err(|e| coded(exit::NO_INPUT, e))?;
            match input_kind(&bytes) {
                InputKind::QrText => {
                    artefact = record_from_text(&String::from_utf8_lossy(&bytes), None)
                        .unwrap_or_default();
                    verify_bytes(&bytes, &store, &options)
                }
                // A photo: its QR text is verified (and logged) as a QR text.
                InputKind::Image => match qr_text_from_photo(&bytes, &store, &options) {
                    Ok(text) => {
                        artefact = record_from_text(&text, None).unwrap_or_default();
                        verify_license_text(&text, &store, &options)
                    }
                    Err(report) => {
                        artefact = Vec::new();
                        *report
                    }
                },
                _ => {
                    artefact = bytes.clone();
                    verify_bytes(&bytes, &store, &options)
                }
            }
        }
        (None, None) => {
            return Err(coded(
                exit::USAGE,
                anyhow::anyhow!("give a file, a QR URL or --qr TEXT"),
            ));
        }
    };
    if args.require_logged {
        report.require_logged(logged(&args, &artefact)?);
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.summary());
    }
    Ok(match report.indication {
        Indication::TotalPassed => exit::SUCCESS,
        Indication::TotalFailed => exit::FAILED,
        Indication::Indeterminate => exit::INDETERMINATE,
    })
}

/// A positional argument that is a URL rather than a file name.
fn looks_like_url(s: &str) -> bool {
    (s.starts_with("https://") || s.starts_with("http://")) && !std::path::Path::new(s).exists()
}

/// The transparency-log check of `verify --require-logged`.
fn logged(args: &VerifyArgs, artefact: &[u8]) -> anyhow::Result<LogInclusion> {
    let default = args.input.as_ref().map(|input| {
        let mut name = std::ffi::OsString::from(input);
        name.push(".tlog-proof");
        PathBuf::from(name)
    });
    let proof = match (&args.log_proof, default) {
        (Some(path), _) => Some(
            std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))
                .map_err(|e| coded(exit::NO_INPUT, e))?,
        ),
        (None, Some(beside)) => std::fs::read_to_string(beside).ok(),
        (None, None) => None,
    };
    Ok(check_logged(
        artefact,
        proof.as_deref(),
        &LogTrust::load(&args.trust),
    ))
}
