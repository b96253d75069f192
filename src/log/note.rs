//! C2SP signed notes (<https://c2sp.org/signed-note>) with Ed25519 keys, as
//! the Go reference implementation `golang.org/x/mod/sumdb/note` writes them.
//!
//! A note is its text (UTF-8, no ASCII control character but newline, ending
//! in a newline), a blank line, then one line per signature:
//! `— <key name> <base64(key ID ‖ signature)>\n` (U+2014, then a space). The
//! signature covers the text exactly, final newline included. The key ID is
//! the first four bytes of `SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ public key)`,
//! 0x01 being the Ed25519 signature type. A verifier key is written
//! `<name>+<hex key ID>+<base64(0x01 ‖ public key)>`.
//!
//! Signing goes through [`Signer`], so the log key never leaves the key store.
//! Opening checks one trusted key: signatures by other keys (witness
//! cosignatures, say) are skipped as the spec requires, but the note must
//! carry a valid signature by the trusted key.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::digest::{Context, SHA256};
use ring::signature::{ED25519, UnparsedPublicKey};

use crate::keystore::{KeyAlgorithm, SignError, Signer};

/// The signature type byte of Ed25519 keys (signed-note §"Signature types").
pub const ED25519_SIGNATURE_TYPE: u8 = 0x01;

/// The most signature lines a note may carry, as in the Go implementation.
const MAX_SIGNATURES: usize = 100;

const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// A note could not be signed or opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NoteError {
    /// The note (or the text to sign) breaks the format.
    #[error("malformed signed note: {0}")]
    Malformed(&'static str),
    /// A key name is empty or contains a space or `+`.
    #[error("invalid key name {0:?}: it must be non-empty, with no spaces and no '+'")]
    InvalidKeyName(String),
    /// The verifier key text is not `<name>+<hex id>+<base64 key>`.
    #[error("malformed verifier key: {0}")]
    MalformedVerifierKey(&'static str),
    /// The verifier key's ID is not the one its name and key produce.
    #[error("the verifier key ID does not match its name and public key")]
    KeyIdMismatch,
    /// The note has no signature by the trusted key.
    #[error("the note has no signature by key {0}")]
    NotSignedByKey(String),
    /// The trusted key's signature does not verify: the note was altered.
    #[error("the signature by key {0} does not verify")]
    BadSignature(String),
    /// The signer is not an Ed25519 key.
    #[error("signed notes need an Ed25519 key, not {0}")]
    WrongAlgorithm(KeyAlgorithm),
    /// The key store failed to sign.
    #[error(transparent)]
    Sign(#[from] SignError),
}

/// An Ed25519 note verifier key: a name and a public key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifierKey {
    name: String,
    public_key: [u8; 32],
}

impl VerifierKey {
    /// A verifier key for `public_key` (32 bytes) under `name`.
    pub fn new(name: &str, public_key: &[u8]) -> Result<Self, NoteError> {
        check_key_name(name)?;
        let public_key = <[u8; 32]>::try_from(public_key)
            .map_err(|_| NoteError::MalformedVerifierKey("an Ed25519 key is 32 bytes"))?;
        Ok(VerifierKey {
            name: name.to_string(),
            public_key,
        })
    }

    /// Parses `<name>+<8 hex digits>+<base64(0x01 ‖ key)>`, checking the key ID.
    pub fn parse(text: &str) -> Result<Self, NoteError> {
        let mut parts = text.splitn(3, '+');
        let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(NoteError::MalformedVerifierKey(
                "expected <name>+<id>+<key>",
            ));
        };
        if id.len() != 8 || !id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(NoteError::MalformedVerifierKey(
                "the key ID must be 8 lowercase hex digits",
            ));
        }
        let key = STANDARD
            .decode(key)
            .map_err(|_| NoteError::MalformedVerifierKey("the key is not base64"))?;
        let Some((&ED25519_SIGNATURE_TYPE, public_key)) = key.split_first() else {
            return Err(NoteError::MalformedVerifierKey("not an Ed25519 key"));
        };
        let verifier = VerifierKey::new(name, public_key)?;
        if hex::encode(verifier.key_id()) != id {
            return Err(NoteError::KeyIdMismatch);
        }
        Ok(verifier)
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The raw 32-byte Ed25519 public key.
    pub fn public_key(&self) -> &[u8; 32] {
        &self.public_key
    }

    /// The 4-byte key ID that prefixes this key's signatures.
    pub fn key_id(&self) -> [u8; 4] {
        key_id(&self.name, &self.public_key)
    }
}

impl fmt::Display for VerifierKey {
    /// The verifier key text, `<name>+<hex key ID>+<base64(0x01 ‖ key)>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut key = vec![ED25519_SIGNATURE_TYPE];
        key.extend_from_slice(&self.public_key);
        let id = hex::encode(self.key_id());
        write!(f, "{}+{id}+{}", self.name, STANDARD.encode(key))
    }
}

/// The key ID of an Ed25519 key: `SHA-256(name ‖ 0x0A ‖ 0x01 ‖ key)[..4]`.
pub fn key_id(key_name: &str, public_key: &[u8; 32]) -> [u8; 4] {
    let mut context = Context::new(&SHA256);
    context.update(key_name.as_bytes());
    context.update(b"\n");
    context.update(&[ED25519_SIGNATURE_TYPE]);
    context.update(public_key);
    let digest = context.finish();
    let mut id = [0u8; 4];
    id.copy_from_slice(&digest.as_ref()[..4]);
    id
}

/// Signs `text` with `signer` (an Ed25519 key) under `key_name`, returning
/// the note: the text, a blank line and the signature line.
pub fn sign_note(text: &str, key_name: &str, signer: &dyn Signer) -> Result<String, NoteError> {
    check_text(text)?;
    if !text.ends_with('\n') {
        return Err(NoteError::Malformed("the text must end with a newline"));
    }
    if signer.algorithm() != KeyAlgorithm::Ed25519 {
        return Err(NoteError::WrongAlgorithm(signer.algorithm()));
    }
    let key = VerifierKey::new(key_name, signer.public_key())?;
    let signature = signer.sign(text.as_bytes())?;
    let mut blob = key.key_id().to_vec();
    blob.extend_from_slice(&signature);
    Ok(format!(
        "{text}\n{SIGNATURE_PREFIX}{key_name} {}\n",
        STANDARD.encode(blob)
    ))
}

/// Opens a note signed by `key`, returning its text (final newline included).
pub fn open_note<'a>(note: &'a str, key: &VerifierKey) -> Result<&'a str, NoteError> {
    check_text(note)?;
    let split = note
        .rfind("\n\n")
        .ok_or(NoteError::Malformed("no blank line before the signatures"))?;
    let (text, signatures) = (&note[..=split], &note[split + 2..]);
    if signatures.is_empty() || !signatures.ends_with('\n') {
        return Err(NoteError::Malformed(
            "the signature block must end with a newline",
        ));
    }
    let mut verified = false;
    for (count, line) in signatures.lines().enumerate() {
        if count >= MAX_SIGNATURES {
            return Err(NoteError::Malformed("too many signatures"));
        }
        let line = line
            .strip_prefix(SIGNATURE_PREFIX)
            .ok_or(NoteError::Malformed(
                "a signature line must start with '— '",
            ))?;
        let (name, encoded) = line.split_once(' ').ok_or(NoteError::Malformed(
            "a signature line needs a name and a signature",
        ))?;
        check_key_name(name)?;
        let blob = STANDARD
            .decode(encoded)
            .map_err(|_| NoteError::Malformed("a signature is not base64"))?;
        if blob.len() < 5 {
            return Err(NoteError::Malformed("a signature is too short"));
        }
        let (id, signature) = blob.split_at(4);
        if name != key.name || id != key.key_id() {
            continue; // Another key's signature: not ours to judge.
        }
        if verified {
            return Err(NoteError::Malformed("the key signed the note twice"));
        }
        UnparsedPublicKey::new(&ED25519, key.public_key)
            .verify(text.as_bytes(), signature)
            .map_err(|_| NoteError::BadSignature(key.name.clone()))?;
        verified = true;
    }
    if !verified {
        return Err(NoteError::NotSignedByKey(key.to_string()));
    }
    Ok(text)
}

/// A key name is non-empty, with no Unicode space and no `+`.
fn check_key_name(name: &str) -> Result<(), NoteError> {
    if name.is_empty() || name.contains('+') || name.chars().any(char::is_whitespace) {
        return Err(NoteError::InvalidKeyName(name.to_string()));
    }
    Ok(())
}

/// Note text is UTF-8 (given by `&str`) with no ASCII control character but newline.
fn check_text(text: &str) -> Result<(), NoteError> {
    if text.is_empty() {
        return Err(NoteError::Malformed("the text is empty"));
    }
    if text.chars().any(|c| c < ' ' && c != '\n') {
        return Err(NoteError::Malformed(
            "control characters other than newline",
        ));
    }
    Ok(())
}
