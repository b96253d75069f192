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
    Indication, InputKind, LicenseOptions, MAX_DOCUMENT_BYTES, Report, TrustStore, input_kind,
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
    /// The trust bundle directory (root.pem, issuing-ca.pem, crl/, seals/,
    /// license-status.cose). Repeat it, or name a directory whose
    /// subdirectories are bundles, to recognise other installations'
    /// licenses and seals (互认): the input passes if it passes under one
    /// bundle; otherwise the report of a bundle that recognised its signer
    /// and failed it is shown, else the first bundle's.
    #[arg(long, default_value = "./certs")]
    trust: Vec<PathBuf>,
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

/// The input, read once whatever the number of bundles.
enum Input {
    /// A QR text (URL or payload) given on the command line.
    Text(String),
    /// A file's bytes.
    File(Vec<u8>),
}

/// The bundle directories `--trust` names: each directory holding a
/// `root.pem` is a bundle; another directory contributes its subdirectories
/// that are bundles, in name order.
fn bundles(trust: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    for dir in trust {
        if dir.join("root.pem").is_file() || !dir.is_dir() {
            found.push(dir.clone());
            continue;
        }
        let mut inner: Vec<PathBuf> = std::fs::read_dir(dir)
            .with_context(|| format!("reading {}", dir.display()))
            .map_err(|e| coded(exit::NO_INPUT, e))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| path.join("root.pem").is_file())
            .collect();
        inner.sort();
        if inner.is_empty() {
            // Let loading it say what is missing.
            found.push(dir.clone());
        }
        found.extend(inner);
    }
    Ok(found)
}

fn read_input(args: &VerifyArgs) -> anyhow::Result<Input> {
    match (&args.qr, &args.input) {
        (Some(text), _) => Ok(Input::Text(text.clone())),
        (None, Some(input)) if looks_like_url(input) => Ok(Input::Text(input.clone())),
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
            Ok(Input::File(
                std::fs::read(&path)
                    .with_context(reading)
                    .map_err(|e| coded(exit::NO_INPUT, e))?,
            ))
        }
        (None, None) => Err(coded(
            exit::USAGE,
            anyhow::anyhow!("give a file, a QR URL or --qr TEXT"),
        )),
    }
}

/// The report under one trust store, and the artefact whose log entry
/// `--require-logged` looks for (the PDF or the COSE record).
fn verify_under(input: &Input, store: &TrustStore, options: &LicenseOptions) -> (Report, Vec<u8>) {
    match input {
        Input::Text(text) => (
            verify_license_text(text, store, options),
            record_from_text(text, None).unwrap_or_default(),
        ),
        Input::File(bytes) => match input_kind(bytes) {
            InputKind::QrText => (
                verify_bytes(bytes, store, options),
                record_from_text(&String::from_utf8_lossy(bytes), None).unwrap_or_default(),
            ),
            // A photo: its QR text is verified (and logged) as a QR text.
            InputKind::Image => match qr_text_from_photo(bytes, store, options) {
                Ok(text) => (
                    verify_license_text(&text, store, options),
                    record_from_text(&text, None).unwrap_or_default(),
                ),
                Err(report) => (*report, Vec::new()),
            },
            _ => (verify_bytes(bytes, store, options), bytes.clone()),
        },
    }
}

/// Which of several bundles' reports stands: a pass, else a failure (a
/// bundle that knew the signer and refused), else the first.
fn rank(indication: Indication) -> u8 {
    match indication {
        Indication::TotalPassed => 0,
        Indication::TotalFailed => 1,
        Indication::Indeterminate => 2,
    }
}

pub(super) fn run(args: VerifyArgs) -> anyhow::Result<u8> {
    let options = LicenseOptions {
        at: args.at.unwrap_or_else(time::OffsetDateTime::now_utc),
        allow_stale: args.allow_stale,
    };
    let input = read_input(&args)?;
    let mut best: Option<(Report, Vec<u8>, PathBuf)> = None;
    let bundles = bundles(&args.trust)?;
    for dir in &bundles {
        let store = TrustStore::load(dir)
            .with_context(|| format!("loading the trust bundle {}", dir.display()))
            .map_err(|e| coded(exit::NO_INPUT, e))?;
        let (report, artefact) = verify_under(&input, &store, &options);
        if best
            .as_ref()
            .is_none_or(|(kept, ..)| rank(report.indication) < rank(kept.indication))
        {
            best = Some((report, artefact, dir.clone()));
        }
    }
    let Some((mut report, artefact, bundle)) = best else {
        return Err(coded(exit::USAGE, anyhow::anyhow!("no trust bundle given")));
    };
    if bundles.len() > 1 {
        eprintln!("trust bundle: {}", bundle.display());
    }
    if args.require_logged {
        report.require_logged(logged(&args, &artefact, &bundle)?);
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
fn logged(
    args: &VerifyArgs,
    artefact: &[u8],
    bundle: &std::path::Path,
) -> anyhow::Result<LogInclusion> {
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
        &LogTrust::load(bundle),
    ))
}
