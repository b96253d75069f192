//! Self-contained, offline-verifiable proofs that an entry is in the log, in
//! the C2SP tlog-proof format (<https://c2sp.org/tlog-proof>):
//!
//! ```text
//! c2sp.org/tlog-proof@v1
//! extra <base64 of the log entry>        (optional)
//! index <leaf index, decimal>
//! <base64 inclusion proof hash, leaf's sibling first>
//! ...
//!
//! <signed checkpoint note, verbatim>
//! ```
//!
//! govseal puts the canonical [log entry](super::entry) in the `extra` line,
//! so a verifier holding only the bundle and the log's verifier key can see
//! what was logged. The spec warns that `extra` is not authenticated: here it
//! is trusted only after `leaf_hash(extra)` is proven included under the
//! signed checkpoint (RFC 9162 §2.1.3.2).

use std::fmt::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::checkpoint::{
    self, Checkpoint, CheckpointError, parse_base64_hash, parse_canonical_decimal,
};
use super::merkle::{Hash, leaf_hash};
use super::verify::{ProofError, verify_inclusion};

/// The first line of every proof bundle.
pub const HEADER: &str = "c2sp.org/tlog-proof@v1";

/// A tree of at most 2^64 leaves has inclusion proofs of at most 64 hashes.
const MAX_PROOF_HASHES: usize = 64;

/// A proof bundle is malformed or does not prove the entry's inclusion.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    /// The text breaks the tlog-proof format.
    #[error("malformed tlog proof: {0}")]
    Malformed(&'static str),
    /// The checkpoint is malformed or not signed by the log key.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// The inclusion proof does not lead to the checkpoint's root.
    #[error("the entry is not proven included in the checkpointed tree: {0}")]
    Proof(#[from] ProofError),
    /// The bundle carries a different entry than the one being verified.
    #[error("the entry embedded in the proof differs from the entry being verified")]
    EntryMismatch,
    /// The bundle has no embedded entry to verify.
    #[error("the proof carries no entry")]
    NoEntry,
}

/// A parsed (not yet verified) tlog proof.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProofBundle {
    /// The logged entry's bytes (the `extra` line), when embedded.
    pub entry: Option<Vec<u8>>,
    /// The leaf index of the entry.
    pub index: u64,
    /// The inclusion proof, from the leaf's sibling up.
    pub proof: Vec<Hash>,
    /// The signed checkpoint note the proof leads to.
    pub checkpoint_note: String,
}

impl ProofBundle {
    /// The bundle's text.
    pub fn to_text(&self) -> String {
        let mut text = format!("{HEADER}\n");
        if let Some(entry) = &self.entry {
            let _ = writeln!(text, "extra {}", STANDARD.encode(entry));
        }
        let _ = writeln!(text, "index {}", self.index);
        for hash in &self.proof {
            let _ = writeln!(text, "{}", STANDARD.encode(hash));
        }
        text.push('\n');
        text.push_str(&self.checkpoint_note);
        text
    }

    /// Parses a bundle strictly, without checking any signature or proof.
    pub fn parse(text: &str) -> Result<Self, BundleError> {
        let mut rest = text;
        let mut next_line = |what: &'static str| -> Result<&str, BundleError> {
            let (line, tail) = rest.split_once('\n').ok_or(BundleError::Malformed(what))?;
            rest = tail;
            Ok(line)
        };
        if next_line("no header line")? != HEADER {
            return Err(BundleError::Malformed(
                "the first line must be c2sp.org/tlog-proof@v1",
            ));
        }
        let mut line = next_line("no index line")?;
        let mut entry = None;
        if let Some(extra) = line.strip_prefix("extra ") {
            let bytes = STANDARD
                .decode(extra)
                .map_err(|_| BundleError::Malformed("the extra data is not standard base64"))?;
            if STANDARD.encode(&bytes) != extra {
                return Err(BundleError::Malformed(
                    "the extra data is not canonical base64",
                ));
            }
            entry = Some(bytes);
            line = next_line("no index line")?;
        }
        let index = line
            .strip_prefix("index ")
            .and_then(parse_canonical_decimal)
            .ok_or(BundleError::Malformed(
                "expected 'index <canonical decimal>'",
            ))?;
        let mut proof = Vec::new();
        loop {
            let line = next_line("no blank line before the checkpoint")?;
            if line.is_empty() {
                break;
            }
            if proof.len() == MAX_PROOF_HASHES {
                return Err(BundleError::Malformed("too many proof hashes"));
            }
            proof.push(parse_base64_hash(line).ok_or(BundleError::Malformed(
                "a proof hash is not 32 bytes of canonical standard base64",
            ))?);
        }
        if rest.is_empty() {
            return Err(BundleError::Malformed("no checkpoint after the proof"));
        }
        Ok(ProofBundle {
            entry,
            index,
            proof,
            checkpoint_note: rest.to_string(),
        })
    }

    /// Checks the checkpoint's signature by `verifier_key` and that
    /// `leaf_hash(entry)` is leaf `index` of the checkpointed tree.
    pub fn verify(&self, entry: &[u8], verifier_key: &str) -> Result<Checkpoint, BundleError> {
        if self
            .entry
            .as_deref()
            .is_some_and(|embedded| embedded != entry)
        {
            return Err(BundleError::EntryMismatch);
        }
        let checkpoint = checkpoint::open(&self.checkpoint_note, verifier_key)?;
        verify_inclusion(
            &leaf_hash(entry),
            self.index,
            checkpoint.size,
            &self.proof,
            &checkpoint.root,
        )?;
        Ok(checkpoint)
    }
}

/// Verifies a tlog proof `text` for `entry_bytes` against the log's
/// `verifier_key`, returning the checkpoint it proves inclusion under.
pub fn verify_bundle(
    text: &str,
    entry_bytes: &[u8],
    verifier_key: &str,
) -> Result<Checkpoint, BundleError> {
    ProofBundle::parse(text)?.verify(entry_bytes, verifier_key)
}

/// Verifies a tlog proof that embeds its entry, returning the checkpoint and
/// the (now authenticated) entry bytes.
pub fn verify_embedded_bundle(
    text: &str,
    verifier_key: &str,
) -> Result<(Checkpoint, Vec<u8>), BundleError> {
    let bundle = ProofBundle::parse(text)?;
    let entry = bundle.entry.clone().ok_or(BundleError::NoEntry)?;
    let checkpoint = bundle.verify(&entry, verifier_key)?;
    Ok((checkpoint, entry))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use super::*;
    use crate::keystore::{KeyAlgorithm, KeyStore, MasterKey, Signer};
    use crate::log::entry::{EntryKind, LogEntry};
    use crate::log::memory_tree::MemoryTree;
    use crate::log::note::NoteError;

    const ORIGIN: &str = "seal.gov.example/log";

    fn log_key() -> Arc<dyn Signer> {
        let store = KeyStore::new(MasterKey::from_text(&"11".repeat(32)).unwrap());
        store.generate("log", KeyAlgorithm::Ed25519).unwrap().1
    }

    fn entry(n: u8) -> Vec<u8> {
        LogEntry {
            kind: EntryKind::LicenseIssued,
            subject_id: format!("license-{n}"),
            department_id: None,
            artefact_sha256: [n; 32],
            time: 1_700_000_000 + i64::from(n),
            actor: "issuer".to_string(),
            details: BTreeMap::new(),
            record: None,
        }
        .encode()
        .unwrap()
    }

    /// A signed 13-leaf log, its verifier key, and the bundle for leaf 5.
    fn logged() -> (String, ProofBundle) {
        let signer = log_key();
        let entries: Vec<_> = (0..13).map(entry).collect();
        let tree = MemoryTree::from_entries(&entries);
        let cp = Checkpoint {
            origin: ORIGIN.to_string(),
            size: 13,
            root: tree.root(13).unwrap(),
            extensions: Vec::new(),
        };
        let bundle = ProofBundle {
            entry: Some(entries[5].clone()),
            index: 5,
            proof: tree.inclusion_proof(5, 13).unwrap(),
            checkpoint_note: checkpoint::sign(&cp, ORIGIN, &*signer).unwrap(),
        };
        let key = checkpoint::verifier_key(ORIGIN, signer.public_key()).unwrap();
        (key, bundle)
    }

    #[test]
    fn bundle_text_has_the_tlog_proof_layout_and_verifies() {
        let (key, bundle) = logged();
        let text = bundle.to_text();
        let mut expected = format!(
            "c2sp.org/tlog-proof@v1\nextra {}\nindex 5\n",
            STANDARD.encode(entry(5))
        );
        for hash in &bundle.proof {
            expected += &format!("{}\n", STANDARD.encode(hash));
        }
        expected += &format!("\n{}", bundle.checkpoint_note);
        assert_eq!(text, expected);
        assert_eq!(bundle.proof.len(), 4);
        assert_eq!(ProofBundle::parse(&text).unwrap(), bundle);

        let cp = verify_bundle(&text, &entry(5), &key).unwrap();
        assert_eq!((cp.origin.as_str(), cp.size), (ORIGIN, 13));
        let (cp2, embedded) = verify_embedded_bundle(&text, &key).unwrap();
        assert_eq!(cp2, cp);
        assert_eq!(LogEntry::decode(&embedded).unwrap().subject_id, "license-5");
    }

    #[test]
    fn wrong_entry_index_proof_or_key_fails() {
        let (key, bundle) = logged();
        let text = bundle.to_text();
        assert!(matches!(
            verify_bundle(&text, &entry(6), &key),
            Err(BundleError::EntryMismatch)
        ));
        let bare = ProofBundle {
            entry: None,
            ..bundle.clone()
        };
        assert!(matches!(
            verify_bundle(&bare.to_text(), &entry(6), &key),
            Err(BundleError::Proof(ProofError::RootMismatch))
        ));
        assert!(matches!(
            verify_embedded_bundle(&bare.to_text(), &key),
            Err(BundleError::NoEntry)
        ));
        let moved = ProofBundle {
            index: 4,
            ..bundle.clone()
        };
        assert!(matches!(
            verify_bundle(&moved.to_text(), &entry(5), &key),
            Err(BundleError::Proof(_))
        ));
        let mut flipped = bundle.clone();
        flipped.proof[2][7] ^= 0x40;
        assert!(matches!(
            verify_bundle(&flipped.to_text(), &entry(5), &key),
            Err(BundleError::Proof(ProofError::RootMismatch))
        ));
        let other_key = checkpoint::verifier_key(ORIGIN, log_key().public_key()).unwrap();
        assert!(matches!(
            verify_bundle(&text, &entry(5), &other_key),
            Err(BundleError::Checkpoint(CheckpointError::Note(
                NoteError::NotSignedByKey(_)
            )))
        ));
        let grown = text.replacen("\n13\n", "\n14\n", 1);
        assert!(matches!(
            verify_bundle(&grown, &entry(5), &key),
            Err(BundleError::Checkpoint(CheckpointError::Note(
                NoteError::BadSignature(_)
            )))
        ));
    }

    #[test]
    fn malformed_bundles_are_rejected() {
        let (_, bundle) = logged();
        let text = bundle.to_text();
        let first_hash = STANDARD.encode(bundle.proof[0]);
        for bad in [
            text.replacen("@v1", "@v2", 1),
            text.replacen("index 5", "index 05", 1),
            text.replacen("index 5", "index  5", 1),
            text.replacen("index 5", "5", 1),
            text.replacen("extra ", "extra =", 1),
            text.replacen(&first_hash, &STANDARD.encode([0u8; 31]), 1),
            text.replacen(&first_hash, first_hash.trim_end_matches('='), 1),
            text.split_once("\n\n").unwrap().0.to_string(),
            format!("{}\n\n", text.split_once("\n\n").unwrap().0),
        ] {
            assert!(
                matches!(ProofBundle::parse(&bad), Err(BundleError::Malformed(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn the_spec_example_parses() {
        // The example of c2sp.org/tlog-proof (signatures shortened there, so
        // only the layout can be checked).
        let text = "c2sp.org/tlog-proof@v1\n\
            extra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6kYXJ3aW4tYXJ\n\
            index 73894\n\
            gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=\n\
            B95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=\n\
            EKNzoDWG8LGC0Yp9o+sv3qllpMP9uHQ9B20KNL+Q1zs=\n\
            RoopEkOdqkYqMB4MJXrbt/hMjOxsVn0IrWjpz1ZMMes=\n\
            AHCioX9nLjsrse6YhjRRmk1WUEirVOLLRoOQ6vfO5vk=\n\
            \n\
            example.com/fancylog\n\
            109482\n\
            sFodV/vSp5O8n9a8QpW6PRY97tfOSW5bsc2Xl/EQi08=\n\
            \n\
            \u{2014} example.com/fancylog hI2DJw1roloI=\n";
        let bundle = ProofBundle::parse(text).unwrap();
        assert_eq!(bundle.index, 73894);
        assert_eq!(bundle.proof.len(), 5);
        assert!(
            bundle
                .entry
                .as_deref()
                .unwrap()
                .starts_with(b"age-v1.2.1-darwin-arm64.tar.gz")
        );
        assert!(
            bundle
                .checkpoint_note
                .starts_with("example.com/fancylog\n109482\n")
        );
        assert_eq!(bundle.to_text(), text);
    }
}
