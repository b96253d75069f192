//! A license QR text as a verifier reads it: `<public-url>/v/<payload>`
//! (see [`crate::license::qr`]), or the bare payload. The prefix is checked:
//! a QR code that is not a govseal verification URL — another site, another
//! path, a query where the payload should be — is refused, so a look-alike
//! URL cannot pass as a license. When the trust bundle names the
//! installation's public URL the prefix must be exactly `<public_url>/v/`.

use crate::license::qr::{MAX_TEXT_BYTES, payload_from_text};

/// The record's COSE bytes from a QR text, or why the text is not one.
pub fn record_from_text(text: &str, public_url: Option<&str>) -> Result<Vec<u8>, String> {
    let text = text.trim();
    if text.len() > MAX_TEXT_BYTES {
        return Err(format!(
            "the text is {} bytes; a license QR text is at most {MAX_TEXT_BYTES}",
            text.len()
        ));
    }
    let payload = match text.rfind("/v/") {
        Some(i) => {
            let prefix = &text[..i];
            check_prefix(prefix, public_url)?;
            &text[i + 3..]
        }
        None if text.contains(['/', ':', '?', '#', '.']) => {
            return Err("not a govseal license QR code: expected <public-url>/v/<payload>".into());
        }
        None => text,
    };
    let payload = payload.trim_end_matches('/');
    if payload.contains(['/', '?', '#']) || payload.chars().any(char::is_whitespace) {
        return Err("not a govseal license QR code: the payload has extra parts".into());
    }
    payload_from_text(payload).map_err(|e| format!("not a govseal license QR code: {e}"))
}

fn check_prefix(prefix: &str, public_url: Option<&str>) -> Result<(), String> {
    match public_url {
        Some(expected) if prefix == expected.trim_end_matches('/') => Ok(()),
        Some(expected) => Err(format!(
            "the QR code points to {prefix}/v/, not to this trust bundle's installation {expected}/v/"
        )),
        None => {
            let rest = prefix
                .strip_prefix("https://")
                .or_else(|| prefix.strip_prefix("http://"))
                .ok_or("not a govseal license QR code: the URL is not http(s)")?;
            let host = rest.split('/').next().unwrap_or_default();
            let plausible = !host.is_empty()
                && !rest.contains(['?', '#', '@'])
                && !rest.chars().any(char::is_whitespace);
            if plausible {
                Ok(())
            } else {
                Err("not a govseal license QR code: malformed URL".into())
            }
        }
    }
}
