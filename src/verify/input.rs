//! What a verifier was handed, told apart by its first bytes: a PDF
//! (ISO 32000-1 §7.5.2 header `%PDF-`, allowed within the first 1024 bytes),
//! a license record (a tagged COSE_Sign1 starts with CBOR tag 18, 0xd2,
//! RFC 9052 §2), text holding a license QR text, or a photo of a license QR
//! code (PNG signature, ISO/IEC 15948 §5.2; JPEG SOI marker, ISO/IEC
//! 10918-1 §B.1.1.3, read by [`super::photo`]); anything else is
//! FORMAT_FAILURE.

use time::OffsetDateTime;

use super::license::{LicenseOptions, verify_license_record, verify_license_text};
use super::license_input::record_from_text;
use super::pdf::{rfc3339, verify_pdf};
use super::photo;
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

/// Verifies whatever `bytes` are (a PDF, a license record, a QR text, a
/// photo of a QR code) at `options.at`.
pub fn verify_bytes(bytes: &[u8], store: &TrustStore, options: &LicenseOptions) -> Report {
    match input_kind(bytes) {
        InputKind::Pdf => verify_pdf(bytes, store, options.at),
        InputKind::LicenseRecord => verify_license_record(bytes, store, options),
        InputKind::QrText => match std::str::from_utf8(bytes) {
            Ok(text) => verify_license_text(text, store, options),
            Err(_) => unknown(options.at),
        },
        InputKind::Image => verify_photo(bytes, store, options),
        InputKind::Unknown => unknown(options.at),
    }
}

/// Verifies the license QR code in a PNG or JPEG photo as its QR text.
pub fn verify_photo(bytes: &[u8], store: &TrustStore, options: &LicenseOptions) -> Report {
    match qr_text_from_photo(bytes, store, options) {
        Ok(text) => verify_license_text(&text, store, options),
        Err(report) => *report,
    }
}

/// The license QR text in a photo: of several QR codes, the first that is a
/// govseal license QR text for `store`, else the first read (its report
/// will say why it is not one). No QR code, or an image refused or
/// undecodable, is TOTAL-FAILED / FORMAT_FAILURE.
pub fn qr_text_from_photo(
    bytes: &[u8],
    store: &TrustStore,
    options: &LicenseOptions,
) -> Result<String, Box<Report>> {
    let is_license = |text: &str| record_from_text(text, store.public_url()).is_ok();
    photo::qr_text(bytes, is_license).map_err(|e| {
        let mut report = Report::unreadable(
            rfc3339(options.at),
            DocumentReport::default(),
            format!("no license QR code read from the image: {e}"),
        );
        report.revocation_data = Some(super::freshness::revocation_data(store, options.at));
        Box::new(report)
    })
}

fn unknown(at: OffsetDateTime) -> Report {
    Report::unreadable(
        rfc3339(at),
        DocumentReport::default(),
        "neither a PDF, a license record nor a license QR text".into(),
    )
}
