//! Log checkpoints (<https://c2sp.org/tlog-checkpoint>): the signed statement
//! "the log named *origin* has *size* leaves with root *hash*".
//!
//! The body is a [signed note](super::note)'s text:
//!
//! ```text
//! <origin>\n
//! <tree size, decimal, no leading zeros>\n
//! <root hash, standard base64 with padding>\n
//! [<extension line>\n]...
//! ```
//!
//! Parsing is strict: a non-canonical number or hash, an empty line, or a
//! root that is not 32 bytes is rejected rather than guessed at, so one tree
//! state has exactly one checkpoint text. Which origin to expect is the
//! caller's decision: [`open`] returns it.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::merkle::Hash;
use super::note::{self, NoteError, VerifierKey};
use crate::keystore::Signer;

/// A checkpoint could not be signed or opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// The note around the checkpoint is malformed or its signature fails.
    #[error(transparent)]
    Note(#[from] NoteError),
    /// The checkpoint body breaks the format.
    #[error("malformed checkpoint: {0}")]
    Malformed(&'static str),
}

/// A log's signed tree head (检查点).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's identity, conventionally a schema-less URL.
    pub origin: String,
    /// The number of leaves.
    pub size: u64,
    /// The root hash of the tree of `size` leaves.
    pub root: Hash,
    /// Optional extension lines, in order, without their newlines.
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// The note text of this checkpoint.
    pub fn body(&self) -> Result<String, CheckpointError> {
        check_line(&self.origin, ORIGIN)?;
        let mut body = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            STANDARD.encode(self.root)
        );
        for extension in &self.extensions {
            check_line(extension, EXTENSION)?;
            body.push_str(extension);
            body.push('\n');
        }
        Ok(body)
    }

    /// Parses a checkpoint body (a note's text, final newline included).
    pub fn parse_body(text: &str) -> Result<Self, CheckpointError> {
        let text = text.strip_suffix('\n').ok_or(CheckpointError::Malformed(
            "the body must end with a newline",
        ))?;
        let mut lines = text.split('\n');
        let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next())
        else {
            return Err(CheckpointError::Malformed(
                "expected origin, size and root hash lines",
            ));
        };
        check_line(origin, ORIGIN)?;
        let extensions = lines
            .map(|line| check_line(line, EXTENSION).map(|()| line.to_string()))
            .collect::<Result<_, _>>()?;
        Ok(Checkpoint {
            origin: origin.to_string(),
            size: parse_canonical_decimal(size).ok_or(CheckpointError::Malformed(
                "the tree size is not a canonical decimal number",
            ))?,
            root: parse_base64_hash(root).ok_or(CheckpointError::Malformed(
                "the root hash is not 32 bytes of canonical standard base64",
            ))?,
            extensions,
        })
    }
}

/// Signs `checkpoint` with the log key `signer` under `key_name`, returning
/// the signed note text.
pub fn sign(
    checkpoint: &Checkpoint,
    key_name: &str,
    signer: &dyn Signer,
) -> Result<String, CheckpointError> {
    Ok(note::sign_note(&checkpoint.body()?, key_name, signer)?)
}

/// The verifier key text for the log key, `<name>+<hex key ID>+<base64 key>`.
pub fn verifier_key(key_name: &str, public_key: &[u8]) -> Result<String, CheckpointError> {
    Ok(VerifierKey::new(key_name, public_key)?.to_string())
}

/// Checks the signature of `note_text` by the key `verifier_key_text` and
/// parses the checkpoint it signs.
pub fn open(note_text: &str, verifier_key_text: &str) -> Result<Checkpoint, CheckpointError> {
    let key = VerifierKey::parse(verifier_key_text)?;
    open_with(note_text, &key)
}

/// [`open`] with an already parsed verifier key.
pub fn open_with(note_text: &str, key: &VerifierKey) -> Result<Checkpoint, CheckpointError> {
    Checkpoint::parse_body(note::open_note(note_text, key)?)
}

const ORIGIN: LineRule = LineRule {
    empty: "the origin is empty",
    control: "the origin has a control character",
};
const EXTENSION: LineRule = LineRule {
    empty: "an extension line is empty",
    control: "an extension line has a control character",
};

/// What to say when a body line is empty or holds a control character.
struct LineRule {
    empty: &'static str,
    control: &'static str,
}

fn check_line(line: &str, rule: LineRule) -> Result<(), CheckpointError> {
    if line.is_empty() {
        return Err(CheckpointError::Malformed(rule.empty));
    }
    if line.chars().any(char::is_control) {
        return Err(CheckpointError::Malformed(rule.control));
    }
    Ok(())
}

/// Parses ASCII decimal with no sign and no leading zeros, within `u64`.
pub fn parse_canonical_decimal(text: &str) -> Option<u64> {
    let canonical = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    if canonical { text.parse().ok() } else { None }
}

/// Parses a hash in standard base64 with padding, canonically encoded.
pub fn parse_base64_hash(text: &str) -> Option<Hash> {
    let hash = Hash::try_from(STANDARD.decode(text).ok()?.as_slice()).ok()?;
    (STANDARD.encode(hash) == text).then_some(hash)
}
