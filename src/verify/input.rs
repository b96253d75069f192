//! What a verifier was handed, told apart by its first bytes: a PDF
//! (ISO 32000-1 §7.5.2 header `%PDF-`, allowed within the first 1024 bytes),
//! a license record (a tagged COSE_Sign1 starts with CBOR tag 18, 0xd2,
//! RFC 9052 §2), or text holding a license QR text; anything else is
//! FORMAT_FAILURE.

use time::OffsetDateTime;

use super::license::{LicenseOptions, verify_license_record, verify_license_text};
use super::pdf::{rfc3339, verify_pdf};
use super::report::{DocumentReport, Report};
use super::trust::TrustStore;

/// The kind of input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputKind {
    /// A PDF document.
    Pdf,
    /// A license record (COSE_Sign1 bytes).
    LicenseRecord,
    /// A license QR text or URL.
    QrText,
    /// A PNG or JPEG image (of a QR code).
    Image,
    /// None of these.
    Unknown,
}

/// Tells the kind of `bytes`.
pub fn input_kind(bytes: &[u8]) -> InputKind {
    let head = &bytes[..bytes.len().min(1024)];
    if head.windows(5).any(|w| w == b"%PDF-") {
        InputKind::Pdf
    } else if bytes.first() == Some(&0xd2) {
        InputKind::LicenseRecord
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") || bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        InputKind::Image
    } else if bytes.len() <= crate::license::qr::MAX_TEXT_BYTES
        && std::str::from_utf8(bytes).is_ok()
    {
        InputKind::QrText
    } else {
        InputKind::Unknown
    }
}

/// Verifies whatever `bytes` are (a PDF, a license record, a QR text) at
/// `options.at`. Images are decoded by the caller (see the CLI).
pub fn verify_bytes(bytes: &[u8], store: &TrustStore, options: &LicenseOptions) -> Report {
    match input_kind(bytes) {
        InputKind::Pdf => verify_pdf(bytes, store, options.at),
        InputKind::LicenseRecord => verify_license_record(bytes, store, options),
        InputKind::QrText => match std::str::from_utf8(bytes) {
            Ok(text) => verify_license_text(text, store, options),
            Err(_) => unknown(options.at),
        },
        InputKind::Image => Report::unreadable(
            rfc3339(options.at),
            DocumentReport::default(),
            "an image: decode its QR code first (govseal verify photo.png)".into(),
        ),
        InputKind::Unknown => unknown(options.at),
    }
}

fn unknown(at: OffsetDateTime) -> Report {
    Report::unreadable(
        rfc3339(at),
        DocumentReport::default(),
        "neither a PDF, a license record nor a license QR text".into(),
    )
}
