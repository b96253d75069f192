//! The QR text: `<public-url>/v/<base64url(zlib(record) or record)>`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::cell::RefCell;

use miniz_oxide::inflate::TINFLStatus;
use miniz_oxide::inflate::core::inflate_flags::{
    TINFL_FLAG_PARSE_ZLIB_HEADER, TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF,
};
use miniz_oxide::inflate::core::{DecompressorOxide, decompress};

use super::QrError;

/// The largest record a payload may inflate to; refuses zip bombs.
pub const MAX_RECORD_BYTES: usize = 16 * 1024;
/// The longest text [`payload_from_text`] reads: a version 40 QR code holds
/// at most 2,953 bytes.
pub const MAX_TEXT_BYTES: usize = 4 * 1024;

/// The first byte of a tagged COSE_Sign1: major type 6, tag 18 (RFC 9052 §2).
const COSE_SIGN1_TAG: u8 = 0xd2;
/// The deflate level; the record is small, so the best compression is cheap.
const ZLIB_LEVEL: u8 = 9;

/// The payload part of the QR text for a record's COSE bytes: zlib-compressed
/// only if that is shorter, then base64url without padding.
pub fn qr_payload(cose: &[u8]) -> String {
    let compressed = crate::pdf::flate::deflate(cose, ZLIB_LEVEL);
    if compressed.len() < cose.len() {
        URL_SAFE_NO_PAD.encode(compressed)
    } else {
        URL_SAFE_NO_PAD.encode(cose)
    }
}

/// The QR text: the verification page `<public_url>/v/<payload>`.
pub fn qr_url(public_url: &str, cose: &[u8]) -> String {
    format!(
        "{}/v/{}",
        public_url.trim_end_matches('/'),
        qr_payload(cose)
    )
}

/// The record's COSE bytes from a scanned QR text: the URL, or the bare
/// payload, with or without trailing `/`, padding or white space. The bytes
/// are not verified here (see [`crate::license::record::verify_record`]).
pub fn payload_from_text(text: &str) -> Result<Vec<u8>, QrError> {
    let text = text.trim();
    if text.len() > MAX_TEXT_BYTES {
        return Err(QrError::TextTooLong { len: text.len() });
    }
    let text = text.trim_end_matches('/');
    let payload = text.rsplit('/').next().unwrap_or(text);
    let payload = payload.trim_end_matches('=');
    if payload.is_empty() {
        return Err(QrError::NoPayload);
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| QrError::Base64)?;
    let record = if is_zlib(&bytes) {
        inflate(&bytes)?
    } else {
        bytes
    };
    if record.first() != Some(&COSE_SIGN1_TAG) {
        return Err(QrError::NotARecord);
    }
    Ok(record)
}

thread_local! {
    /// One decompressor and output buffer per thread, reused: a fresh
    /// decompressor is an 11 KB zeroed allocation for every QR code read.
    static INFLATER: RefCell<Option<(Box<DecompressorOxide>, Vec<u8>)>> = const { RefCell::new(None) };
}

/// Inflates a zlib stream (RFC 1950, Adler-32 checked) of at most
/// [`MAX_RECORD_BYTES`] bytes.
fn inflate(zlib: &[u8]) -> Result<Vec<u8>, QrError> {
    INFLATER.with(|cell| {
        let mut slot = cell.borrow_mut();
        let (decompressor, output) =
            slot.get_or_insert_with(|| (Box::default(), vec![0; MAX_RECORD_BYTES]));
        decompressor.init();
        let flags = TINFL_FLAG_PARSE_ZLIB_HEADER | TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF;
        let (status, _, written) = decompress(decompressor, zlib, output, 0, flags);
        match status {
            TINFLStatus::Done => Ok(output[..written].to_vec()),
            TINFLStatus::HasMoreOutput => Err(QrError::InflatesTooFar),
            _ => Err(QrError::NotARecord),
        }
    })
}

/// A zlib header (RFC 1950 §2.2): deflate with a window ≤ 32 KiB, no preset
/// dictionary, and the header check. A tagged COSE_Sign1 starts with 0xd2, so
/// the two cannot be confused.
fn is_zlib(bytes: &[u8]) -> bool {
    match bytes {
        [cmf, flg, ..] => {
            cmf & 0x0f == 8
                && cmf >> 4 <= 7
                && flg & 0x20 == 0
                && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0
        }
        _ => false,
    }
}
