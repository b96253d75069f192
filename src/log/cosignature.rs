//! Witness cosignatures (<https://c2sp.org/tlog-cosignature>, Ed25519
//! `cosignature/v1`): a witness's signed statement that, at a given time,
//! the checkpoint is the largest consistent tree it has seen of that log.
//!
//! A cosignature is a [signed-note](super::note) signature line on the
//! checkpoint, `— <witness name> base64(key ID ‖ timestamp ‖ signature)`:
//!
//! - key ID = `SHA-256(name ‖ 0x0A ‖ 0x04 ‖ public key)[..4]` (signature
//!   type 0x04, tlog-cosignature §"Format");
//! - timestamp = POSIX seconds, `u64` big-endian, never zero;
//! - signature = Ed25519 over `"cosignature/v1\ntime <timestamp>\n"` followed
//!   by the checkpoint's note text (tlog-cosignature §"Ed25519 signed
//!   message").
//!
//! Which witnesses a verifier requires is a [`policy`](super::witness_policy)
//! (c2sp.org/tlog-policy); this module signs and checks single lines.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::digest::{Context, SHA256};
use ring::signature::{ED25519, UnparsedPublicKey};

use super::note::{NoteError, VerifierKey};
use crate::keystore::{KeyAlgorithm, Signer};

/// The signature type byte of timestamped Ed25519 cosignatures (signed-note
/// §"Signature types", tlog-cosignature §"Format").
pub const COSIGNATURE_TYPE: u8 = 0x04;

const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// key ID (4) ‖ timestamp (8) ‖ Ed25519 signature (64).
const SIGNATURE_LEN: usize = 4 + 8 + 64;

/// A cosignature could not be made or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CosignatureError {
    /// Key names and signing reuse the signed-note rules.
    #[error(transparent)]
    Note(#[from] NoteError),
    /// The verifier key text is not a type 0x04 Ed25519 key.
    #[error("malformed witness key: {0}")]
    MalformedKey(&'static str),
    /// The timestamp is zero or above 2^63 − 1.
    #[error("a cosignature timestamp must be between 1 and 2^63 - 1")]
    BadTimestamp,
}

/// A witness (cosigner) verifier key: a name and an Ed25519 public key,
/// written `<name>+<hex key ID>+<base64(0x04 ‖ key)>`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CosignerKey {
    name: String,
    public_key: [u8; 32],
}

impl CosignerKey {
    /// A cosigner key for `public_key` (32 bytes) under `name`.
    pub fn new(name: &str, public_key: &[u8]) -> Result<Self, CosignatureError> {
        // The signed-note name rules, checked by building a note key.
        let key = VerifierKey::new(name, public_key)?;
        Ok(CosignerKey {
            name: key.name().to_string(),
            public_key: *key.public_key(),
        })
    }

    /// Parses `<name>+<8 hex digits>+<base64(0x04 ‖ key)>`, checking the key ID.
    pub fn parse(text: &str) -> Result<Self, CosignatureError> {
        let mut parts = text.splitn(3, '+');
        let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(CosignatureError::MalformedKey("expected <name>+<id>+<key>"));
        };
        if id.len() != 8 || !id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(CosignatureError::MalformedKey(
                "the key ID must be 8 lowercase hex digits",
            ));
        }
        let key = STANDARD
            .decode(key)
            .map_err(|_| CosignatureError::MalformedKey("the key is not base64"))?;
        let Some((&COSIGNATURE_TYPE, public_key)) = key.split_first() else {
            return Err(CosignatureError::MalformedKey(
                "not a cosignature/v1 key (signature type 0x04)",
            ));
        };
        let parsed = CosignerKey::new(name, public_key)?;
        if hex::encode(parsed.key_id()) != id {
            return Err(CosignatureError::Note(NoteError::KeyIdMismatch));
        }
        Ok(parsed)
    }

    /// The witness's name (the signature line's key name).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The raw Ed25519 public key.
    pub fn public_key(&self) -> &[u8; 32] {
        &self.public_key
    }

    /// `SHA-256(name ‖ 0x0A ‖ 0x04 ‖ key)[..4]`.
    pub fn key_id(&self) -> [u8; 4] {
        let mut context = Context::new(&SHA256);
        context.update(self.name.as_bytes());
        context.update(b"\n");
        context.update(&[COSIGNATURE_TYPE]);
        context.update(&self.public_key);
        let mut id = [0u8; 4];
        id.copy_from_slice(&context.finish().as_ref()[..4]);
        id
    }

    /// Checks one note signature line against this key and the note text
    /// `body` it was found on.
    pub fn check_line(&self, line: &str, body: &str) -> LineCheck {
        let Some((name, blob)) = parse_line(line) else {
            return LineCheck::OtherKey;
        };
        if name != self.name || blob.len() < 4 || blob[..4] != self.key_id() {
            return LineCheck::OtherKey;
        }
        if blob.len() != SIGNATURE_LEN {
            return LineCheck::Invalid("the cosignature is not 76 bytes");
        }
        let timestamp = u64::from_be_bytes(blob[4..12].try_into().expect("8 bytes"));
        if timestamp == 0 || timestamp > i64::MAX as u64 {
            return LineCheck::Invalid("the cosignature timestamp is zero or too large");
        }
        match UnparsedPublicKey::new(&ED25519, self.public_key)
            .verify(&message(timestamp, body), &blob[12..])
        {
            Ok(()) => LineCheck::Valid { timestamp },
            Err(_) => LineCheck::Invalid("the Ed25519 signature does not verify"),
        }
    }
}

impl fmt::Display for CosignerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut key = vec![COSIGNATURE_TYPE];
        key.extend_from_slice(&self.public_key);
        write!(
            f,
            "{}+{}+{}",
            self.name,
            hex::encode(self.key_id()),
            STANDARD.encode(key)
        )
    }
}

/// What one signature line says about one witness key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LineCheck {
    /// The line is by another key (or not a signature line): ignored.
    OtherKey,
    /// A valid cosignature made at `timestamp` (POSIX seconds).
    Valid {
        /// When the witness cosigned.
        timestamp: u64,
    },
    /// The line names this key but does not verify.
    Invalid(&'static str),
}

/// The signed message: `cosignature/v1\ntime <t>\n` then the note text.
pub fn message(timestamp: u64, body: &str) -> Vec<u8> {
    format!("cosignature/v1\ntime {timestamp}\n{body}").into_bytes()
}

/// Cosigns the checkpoint note text `body` (final newline included, no
/// signature lines) at `timestamp`, returning the signature line with its
/// newline.
pub fn cosign(
    body: &str,
    name: &str,
    timestamp: u64,
    signer: &dyn Signer,
) -> Result<String, CosignatureError> {
    if timestamp == 0 || timestamp > i64::MAX as u64 {
        return Err(CosignatureError::BadTimestamp);
    }
    if signer.algorithm() != KeyAlgorithm::Ed25519 {
        return Err(NoteError::WrongAlgorithm(signer.algorithm()).into());
    }
    if !body.ends_with('\n') {
        return Err(NoteError::Malformed("the text must end with a newline").into());
    }
    let key = CosignerKey::new(name, signer.public_key())?;
    let signature = signer
        .sign(&message(timestamp, body))
        .map_err(NoteError::from)?;
    let mut blob = key.key_id().to_vec();
    blob.extend_from_slice(&timestamp.to_be_bytes());
    blob.extend_from_slice(&signature);
    Ok(format!(
        "{SIGNATURE_PREFIX}{name} {}\n",
        STANDARD.encode(blob)
    ))
}

/// Splits a signed note into its text (final newline included) and its
/// signature lines (without newlines).
pub fn split_note(note: &str) -> Result<(&str, Vec<&str>), NoteError> {
    let split = note
        .rfind("\n\n")
        .ok_or(NoteError::Malformed("no blank line before the signatures"))?;
    let (text, signatures) = (&note[..=split], &note[split + 2..]);
    if signatures.is_empty() || !signatures.ends_with('\n') {
        return Err(NoteError::Malformed(
            "the signature block must end with a newline",
        ));
    }
    Ok((text, signatures.lines().collect()))
}

/// `— <name> <base64>` → the name and the decoded bytes.
fn parse_line(line: &str) -> Option<(&str, Vec<u8>)> {
    let rest = line.strip_prefix(SIGNATURE_PREFIX)?;
    let (name, encoded) = rest.split_once(' ')?;
    Some((name, STANDARD.decode(encoded.trim_end_matches('\n')).ok()?))
}

#[cfg(test)]
#[path = "cosignature_tests.rs"]
mod tests;
