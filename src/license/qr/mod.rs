//! The license's QR code (二维码): a URL of the installation's public
//! verification page that carries the signed record, so a phone camera opens
//! the page and an offline verifier takes the record out of the URL.
//!
//! - Text: `<public-url>/v/<payload>`, where the payload is the record's
//!   COSE_Sign1 bytes (see [`super::record`]), zlib-compressed (RFC 1950) when
//!   that makes them shorter, in base64url without padding (RFC 4648 §5) —
//!   the transport of the EU DCC (HCERT §3.1) with base64url instead of
//!   base45, because a URL path must keep its lower case letters.
//! - Symbol: QR code (ISO/IEC 18004:2015), error correction level M (§5.1,
//!   ~15 % of codewords recoverable), at most version 25 ([`MAX_VERSION`],
//!   117 × 117 modules) so it prints legibly at about 3 cm on an A4 license,
//!   with the 4-module quiet zone of §6.3.8.
//!
//! Budget: version 25-M holds 997 bytes in byte mode (ISO/IEC 18004 Table 7),
//! and every character of the URL is one byte: the public URL, `/v/`, then
//! 4/3 of the compressed record. The record costs ≈ 95 incompressible bytes
//! (tag, headers, 8-byte kid, 64-byte signature); Chinese text is 3 bytes a
//! character in UTF-8 and barely compresses. The reference 12-field business
//! license (20-character company name, 30-character address, 60-character
//! business scope, see the tests) signs to 953 bytes, 683 compressed, and a
//! 948-character URL under a 35-character public URL: version 25 with ≈ 49
//! bytes, about 12 Chinese characters, to spare. A license type must keep its
//! QR summary to about that much text (business scopes longer than a line do
//! not belong on the QR); [`QrError::TooLarge`] refuses anything bigger.

mod encode;
mod image;
mod mask;
mod payload;
#[cfg(test)]
mod tests;

pub use image::{MAX_MODULE_PX, qr_pdf_content, qr_png, qr_svg};
pub use payload::{MAX_RECORD_BYTES, MAX_TEXT_BYTES, payload_from_text, qr_payload, qr_url};

/// The largest QR version govseal prints.
pub const MAX_VERSION: u8 = 25;
/// The quiet zone around the symbol, in modules (ISO/IEC 18004 §6.3.8).
pub const QUIET_ZONE: usize = 4;

/// Why a QR payload could not be made or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QrError {
    /// The text needs a QR version above [`MAX_VERSION`].
    #[error("the QR code would be version {version}; at most {MAX_VERSION} prints legibly")]
    TooLarge {
        /// the version the text needs at level M
        version: u8,
    },
    /// The text does not fit in any QR code at level M.
    #[error("the text does not fit in any QR code at error correction level M")]
    BeyondQr,
    /// The text to read is longer than any QR code holds.
    #[error("the text is {len} bytes; a QR payload is at most {MAX_TEXT_BYTES}")]
    TextTooLong {
        /// bytes given
        len: usize,
    },
    /// Nothing after the last `/`.
    #[error("no payload in the text")]
    NoPayload,
    /// The payload is not base64url.
    #[error("the payload is not base64url")]
    Base64,
    /// The payload inflates beyond [`MAX_RECORD_BYTES`].
    #[error("the payload inflates beyond {MAX_RECORD_BYTES} bytes")]
    InflatesTooFar,
    /// The payload is neither a record nor a zlib stream of one.
    #[error("the payload is not a signed license record")]
    NotARecord,
    /// Module size out of range.
    #[error("module size must be 1 to {MAX_MODULE_PX} pixels")]
    ModuleSize,
    /// Position or size not finite and positive.
    #[error("the QR code's position and size must be finite, and its size positive")]
    Placement,
    /// The PNG encoder failed.
    #[error("PNG encoding failed: {0}")]
    Png(String),
}

/// The modules of a QR symbol, without quiet zone.
#[derive(Clone, Debug)]
pub struct QrMatrix {
    width: usize,
    /// Row `y`, bit `x`: whether the module in column `x` is dark.
    rows: Vec<u128>,
    version: u8,
}

impl QrMatrix {
    /// Encodes `text` at level M, in byte mode (ISO/IEC 18004 §7.4.5), in
    /// the smallest version that holds it, with the mask of lowest penalty
    /// (§7.8.3, see `mask`).
    pub fn encode(text: &str) -> Result<Self, QrError> {
        let (version, symbol) = match mask::encode(text.as_bytes(), MAX_VERSION) {
            Ok(encoded) => encoded,
            Err(Some(version)) => return Err(QrError::TooLarge { version }),
            Err(None) => return Err(QrError::BeyondQr),
        };
        Ok(QrMatrix {
            width: usize::from(version) * 4 + 17,
            rows: symbol.into_rows(),
            version,
        })
    }

    /// The QR version (1–25).
    pub fn version(&self) -> u8 {
        self.version
    }

    /// Modules per side, without quiet zone.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Modules per side with the quiet zone on both sides.
    pub fn width_with_quiet_zone(&self) -> usize {
        self.width + 2 * QUIET_ZONE
    }

    /// Whether the module in column `x`, row `y` (from the top left) is dark.
    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        x < self.width && y < self.width && self.rows[y] >> x & 1 == 1
    }

    /// The rows from the top, as bit sets: bit `x` of row `y` is the module
    /// in column `x` (a symbol up to version 25 is at most 117 modules wide).
    pub fn rows(&self) -> &[u128] {
        &self.rows
    }

    /// Horizontal runs of dark modules as `(row, first column, length)`, so
    /// drawings need one rectangle per run instead of one per module.
    pub fn dark_runs(&self) -> Vec<(usize, usize, usize)> {
        let mut runs = Vec::new();
        for (y, &row) in self.rows.iter().enumerate() {
            let mut x = 0;
            while x < self.width {
                let rest = row >> x;
                if rest == 0 {
                    break;
                }
                x += rest.trailing_zeros() as usize;
                let len = (!(row >> x)).trailing_zeros() as usize;
                runs.push((y, x, len));
                x += len;
            }
        }
        runs
    }
}
