//! Tests of signed notes and checkpoints, anchored on the Go reference
//! implementation's published example key and note.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::signature::{Ed25519KeyPair, KeyPair as _};

use super::checkpoint::{self, Checkpoint, CheckpointError};
use super::note::{self, NoteError, VerifierKey};
use crate::keystore::{KeyAlgorithm, KeyStore, MasterKey, SignError, Signer};

// From golang.org/x/mod/sumdb/note's note_test.go.
const GO_VERIFIER_KEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const GO_SIGNER_KEY: &str =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const GO_TEXT: &str = "If you think cryptography is the answer to your problem,\n\
                       then you don't know what your problem is.\n";
const GO_NOTE: &str = "If you think cryptography is the answer to your problem,\n\
    then you don't know what your problem is.\n\
    \n\
    \u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

/// An Ed25519 signer over a known seed (the Go example's private key).
struct SeedSigner {
    pair: Ed25519KeyPair,
}

impl SeedSigner {
    fn go_example() -> Self {
        let encoded = GO_SIGNER_KEY.splitn(5, '+').nth(4).unwrap();
        let key = STANDARD.decode(encoded).unwrap();
        assert_eq!(key[0], 0x01, "Ed25519 private key type");
        SeedSigner {
            pair: Ed25519KeyPair::from_seed_unchecked(&key[1..]).unwrap(),
        }
    }
}

impl Signer for SeedSigner {
    fn algorithm(&self) -> KeyAlgorithm {
        KeyAlgorithm::Ed25519
    }
    fn public_key(&self) -> &[u8] {
        self.pair.public_key().as_ref()
    }
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        Ok(self.pair.sign(message).as_ref().to_vec())
    }
    fn sign_fixed(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        self.sign(message)
    }
}

fn keystore_key(algorithm: KeyAlgorithm) -> Arc<dyn Signer> {
    let store = KeyStore::new(MasterKey::from_text(&"11".repeat(32)).unwrap());
    store.generate("log", algorithm).unwrap().1
}

fn example_checkpoint() -> Checkpoint {
    Checkpoint {
        origin: "seal.gov.example/log".to_string(),
        size: 8,
        root: hex::decode("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")
            .unwrap()
            .try_into()
            .unwrap(),
        extensions: Vec::new(),
    }
}

/// The key ID computed straight from the spec's words, sharing no code with `note`.
fn independent_key_id(name: &str, public_key: &[u8]) -> String {
    let mut input = name.as_bytes().to_vec();
    input.push(b'\n');
    input.push(0x01);
    input.extend_from_slice(public_key);
    hex::encode(&ring::digest::digest(&ring::digest::SHA256, &input).as_ref()[..4])
}

#[test]
fn go_reference_key_and_note_are_reproduced_byte_for_byte() {
    let signer = SeedSigner::go_example();
    assert_eq!(
        independent_key_id("PeterNeumann", signer.public_key()),
        "c74f20a3"
    );
    let key = VerifierKey::new("PeterNeumann", signer.public_key()).unwrap();
    assert_eq!(hex::encode(key.key_id()), "c74f20a3");
    assert_eq!(key.to_string(), GO_VERIFIER_KEY);
    assert_eq!(VerifierKey::parse(GO_VERIFIER_KEY).unwrap(), key);
    // Ed25519 is deterministic, so signing must give Go's note exactly.
    assert_eq!(
        note::sign_note(GO_TEXT, "PeterNeumann", &signer).unwrap(),
        GO_NOTE
    );
    assert_eq!(note::open_note(GO_NOTE, &key).unwrap(), GO_TEXT);
    let altered = GO_NOTE.replace("cryptography", "cryptographY");
    assert!(matches!(
        note::open_note(&altered, &key),
        Err(NoteError::BadSignature(_))
    ));
}

#[test]
fn hand_built_checkpoint_note_opens_and_is_what_sign_writes() {
    // Assembled from the spec's rules with ring directly.
    let signer = SeedSigner::go_example();
    let body = "seal.gov.example/log\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n";
    let mut blob = hex::decode(independent_key_id("PeterNeumann", signer.public_key())).unwrap();
    blob.extend_from_slice(signer.pair.sign(body.as_bytes()).as_ref());
    let note_text = format!("{body}\n\u{2014} PeterNeumann {}\n", STANDARD.encode(blob));

    let opened = checkpoint::open(&note_text, GO_VERIFIER_KEY).unwrap();
    assert_eq!(opened, example_checkpoint());
    assert_eq!(
        checkpoint::sign(&example_checkpoint(), "PeterNeumann", &signer).unwrap(),
        note_text
    );
}

#[test]
fn keystore_signed_checkpoint_round_trips() {
    let signer = keystore_key(KeyAlgorithm::Ed25519);
    let verifier = checkpoint::verifier_key("seal.gov.example/log", signer.public_key()).unwrap();
    let (name, id) = verifier.split_once('+').unwrap();
    assert_eq!(name, "seal.gov.example/log");
    assert_eq!(&id[..8], independent_key_id(name, signer.public_key()));

    let mut cp = example_checkpoint();
    cp.extensions = vec!["timestamp 1700000000".to_string(), "区块 1".to_string()];
    let note_text = checkpoint::sign(&cp, "seal.gov.example/log", &*signer).unwrap();
    assert!(note_text.starts_with(&cp.body().unwrap()));
    assert_eq!(checkpoint::open(&note_text, &verifier).unwrap(), cp);
}

#[test]
fn tampered_checkpoints_fail() {
    let signer = keystore_key(KeyAlgorithm::Ed25519);
    let verifier = checkpoint::verifier_key("log", signer.public_key()).unwrap();
    let note_text = checkpoint::sign(&example_checkpoint(), "log", &*signer).unwrap();
    for (from, to) in [
        ("\n8\n", "\n9\n"),
        ("Xcna", "Ycna"),
        ("seal.gov.example/log", "seal.gov.example/lag"),
        ("\n\n\u{2014}", "\nextra\n\n\u{2014}"),
    ] {
        let tampered = note_text.replacen(from, to, 1);
        assert_ne!(tampered, note_text);
        assert!(
            matches!(
                checkpoint::open(&tampered, &verifier),
                Err(CheckpointError::Note(NoteError::BadSignature(_)))
            ),
            "{from:?} -> {to:?}"
        );
    }
}

#[test]
fn only_the_trusted_key_counts() {
    let signer = keystore_key(KeyAlgorithm::Ed25519);
    let witness = keystore_key(KeyAlgorithm::Ed25519);
    let verifier = checkpoint::verifier_key("log", signer.public_key()).unwrap();
    let note_text = checkpoint::sign(&example_checkpoint(), "log", &*signer).unwrap();

    // A witness cosignature is skipped; the log's own signature still counts.
    let body = example_checkpoint().body().unwrap();
    let witnessed = note::sign_note(&body, "witness", &*witness).unwrap();
    let witness_line = witnessed.rsplit_once("\n\n").unwrap().1;
    let cosigned = format!("{note_text}{witness_line}");
    assert_eq!(
        checkpoint::open(&cosigned, &verifier).unwrap(),
        example_checkpoint()
    );

    // Same name, other key: the key ID differs, so the note is unsigned for us.
    let impostor = checkpoint::verifier_key("log", witness.public_key()).unwrap();
    assert!(matches!(
        checkpoint::open(&note_text, &impostor),
        Err(CheckpointError::Note(NoteError::NotSignedByKey(_)))
    ));
    // A verifier key whose ID does not match its key is refused.
    let wrong_id = format!("log+00000000+{}", verifier.splitn(3, '+').nth(2).unwrap());
    assert!(matches!(
        checkpoint::open(&note_text, &wrong_id),
        Err(CheckpointError::Note(NoteError::KeyIdMismatch))
    ));
    // The same signature twice is malformed.
    let twice = format!("{note_text}{}", note_text.rsplit_once("\n\n").unwrap().1);
    assert!(matches!(
        checkpoint::open(&twice, &verifier),
        Err(CheckpointError::Note(NoteError::Malformed(_)))
    ));
    // ECDSA keys cannot sign notes.
    let ecdsa = keystore_key(KeyAlgorithm::EcdsaP256);
    assert!(matches!(
        checkpoint::sign(&example_checkpoint(), "log", &*ecdsa),
        Err(CheckpointError::Note(NoteError::WrongAlgorithm(
            KeyAlgorithm::EcdsaP256
        )))
    ));
}

#[test]
fn malformed_notes_and_verifier_keys_are_rejected() {
    let signer = SeedSigner::go_example();
    let key = VerifierKey::parse(GO_VERIFIER_KEY).unwrap();
    let (text, signature_line) = GO_NOTE.split_once("\n\n").unwrap();
    for bad in [
        format!("{text}\n{signature_line}"), // no blank line
        GO_NOTE.trim_end().to_string(),      // no final newline
        GO_NOTE.replace('\u{2014}', "-"),    // not an em dash
        GO_NOTE.replace("PeterNeumann x", "PeterNeumann  x"), // not base64
        GO_NOTE.replace("you think", "you\tthink"), // control character
        format!("{GO_NOTE}\n"),              // empty signature line
    ] {
        assert!(
            matches!(note::open_note(&bad, &key), Err(NoteError::Malformed(_))),
            "{bad:?}"
        );
    }
    assert!(note::sign_note("no newline", "PeterNeumann", &signer).is_err());
    assert!(matches!(
        note::sign_note(GO_TEXT, "Peter Neumann", &signer),
        Err(NoteError::InvalidKeyName(_))
    ));
    for bad_key in [
        GO_VERIFIER_KEY.replace("c74f20a3", "C74F20A3"),
        GO_VERIFIER_KEY.replace("+ARpc", "+Apc"),
        GO_VERIFIER_KEY.replace("+ARpc", "+AhRpc"),
        GO_VERIFIER_KEY.replace("PeterNeumann", "PeterNewmann"),
        "PeterNeumann+c74f20a3".to_string(),
    ] {
        assert!(VerifierKey::parse(&bad_key).is_err(), "{bad_key:?}");
    }
}

#[test]
fn non_canonical_bodies_are_rejected_even_when_signed() {
    let signer = SeedSigner::go_example();
    let root = "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=";
    let bodies = [
        format!("log\n08\n{root}\n"),
        format!("log\n+8\n{root}\n"),
        format!("log\n 8\n{root}\n"),
        format!("log\n18446744073709551616\n{root}\n"),
        format!("log\n8\n{}\n", root.trim_end_matches('=')),
        format!("log\n8\n{}\n", root.replace("Qyg=", "Qyh=")), // non-canonical final bits
        format!("log\n8\n{}\n", STANDARD.encode([0u8; 31])),
        format!("log\n8\n{root}\n\nextension\n"),
        "log\n8\n".to_string(),
        format!("\n8\n{root}\n"),
    ];
    for body in bodies {
        let note_text = note::sign_note(&body, "PeterNeumann", &signer);
        let result = note_text
            .map_err(CheckpointError::from)
            .and_then(|n| checkpoint::open(&n, GO_VERIFIER_KEY));
        assert!(result.is_err(), "{body:?}");
    }
    let good = note::sign_note(&format!("log\n0\n{root}\n"), "PeterNeumann", &signer).unwrap();
    assert_eq!(checkpoint::open(&good, GO_VERIFIER_KEY).unwrap().size, 0);
}
