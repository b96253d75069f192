use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::*;
use crate::keystore::{KeyAlgorithm, KeyStore, MasterKey};
use crate::log::cosignature::LineCheck;
use crate::log::{MemoryTree, checkpoint, leaf_hash};

const ORIGIN: &str = "seal.gov.example/govseal-log";

struct Fixture {
    _dir: tempfile::TempDir,
    witness: Witness,
    log: Arc<dyn Signer>,
    tree: MemoryTree,
}

fn keys() -> KeyStore {
    KeyStore::new(MasterKey::from_text(&"22".repeat(32)).unwrap())
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let keys = keys();
    let key = key::open_or_create(dir.path(), Some("w1.gov.example"), &keys).unwrap();
    let (_, log) = keys.generate("log", KeyAlgorithm::Ed25519).unwrap();
    let log_key = VerifierKey::new(ORIGIN, log.public_key()).unwrap();
    let state = StateFile::open(dir.path()).unwrap();
    let mut tree = MemoryTree::new();
    for n in 0..20u8 {
        tree.push(leaf_hash(&[n]));
    }
    Fixture {
        witness: Witness::new(key, vec![log_key], state),
        _dir: dir,
        log,
        tree,
    }
}

impl Fixture {
    fn note(&self, size: u64) -> String {
        self.note_with_root(size, self.tree.root(size).unwrap())
    }

    fn note_with_root(&self, size: u64, root: crate::log::Hash) -> String {
        let cp = Checkpoint {
            origin: ORIGIN.into(),
            size,
            root,
            extensions: vec![],
        };
        checkpoint::sign(&cp, ORIGIN, &*self.log).unwrap()
    }

    fn body(&self, old: u64, size: u64) -> String {
        let proof = if old == 0 {
            vec![]
        } else {
            self.tree.consistency_proof(old, size).unwrap()
        };
        request_body(old, &proof, &self.note(size))
    }
}

fn request_body(old: u64, proof: &[crate::log::Hash], note: &str) -> String {
    let mut body = format!("old {old}\n");
    for hash in proof {
        body.push_str(&format!("{}\n", STANDARD.encode(hash)));
    }
    body.push('\n');
    body.push_str(note);
    body
}

#[tokio::test]
async fn cosigns_consistent_checkpoints_and_remembers_them() {
    let f = fixture();
    let line = f.witness.add_checkpoint(&f.body(0, 5)).await.unwrap();
    let body = f.note(5);
    let text = &body[..body.rfind("\n\n").unwrap() + 1];
    assert!(matches!(
        f.witness.verifier_key().check_line(line.trim_end(), text),
        LineCheck::Valid { .. }
    ));
    let line = f.witness.add_checkpoint(&f.body(5, 13)).await.unwrap();
    assert!(line.starts_with("\u{2014} w1.gov.example "));
    // The same checkpoint again is fine (same size, same root).
    f.witness.add_checkpoint(&f.body(13, 13)).await.unwrap();
    let origin_hash = hex::encode(ring::digest::digest(
        &ring::digest::SHA256,
        ORIGIN.as_bytes(),
    ));
    let latest = f.witness.latest(&origin_hash).await.unwrap();
    assert!(latest.starts_with(&f.note(13)));
    assert!(f.witness.latest("00").await.is_none());
}

#[tokio::test]
async fn refuses_split_views_stale_sizes_and_bad_proofs() {
    let f = fixture();
    f.witness.add_checkpoint(&f.body(0, 8)).await.unwrap();
    // Same size, another root: a split view.
    let forged = f.note_with_root(8, [7u8; 32]);
    let refusal = f
        .witness
        .add_checkpoint(&request_body(8, &[], &forged))
        .await
        .unwrap_err();
    assert!(
        matches!(refusal, Refusal::Inconsistent(ref m) if m.contains("split view")),
        "{refusal:?}"
    );
    // A client that does not know the witness's size learns it (409).
    let refusal = f.witness.add_checkpoint(&f.body(0, 13)).await.unwrap_err();
    assert!(
        matches!(refusal, Refusal::OldSizeMismatch(8)),
        "{refusal:?}"
    );
    // A larger tree that does not extend the cosigned one.
    let other = f.note_with_root(13, [9u8; 32]);
    let proof = f.tree.consistency_proof(8, 13).unwrap();
    let refusal = f
        .witness
        .add_checkpoint(&request_body(8, &proof, &other))
        .await
        .unwrap_err();
    assert!(matches!(refusal, Refusal::Inconsistent(_)), "{refusal:?}");
    // A wrong proof for the right tree.
    let mut bad = proof.clone();
    bad[0][0] ^= 1;
    let refusal = f
        .witness
        .add_checkpoint(&request_body(8, &bad, &f.note(13)))
        .await
        .unwrap_err();
    assert!(matches!(refusal, Refusal::Inconsistent(_)), "{refusal:?}");
    // Old above the checkpoint's size.
    let refusal = f
        .witness
        .add_checkpoint(&request_body(9, &[], &f.note(8)))
        .await
        .unwrap_err();
    assert!(matches!(refusal, Refusal::Malformed(_)), "{refusal:?}");
    // Nothing above changed the state: the real size 13 is still accepted from 8.
    f.witness.add_checkpoint(&f.body(8, 13)).await.unwrap();
}

#[tokio::test]
async fn refuses_unknown_logs_and_unsigned_checkpoints() {
    let f = fixture();
    let (_, stranger) = keys().generate("x", KeyAlgorithm::Ed25519).unwrap();
    let cp = Checkpoint {
        origin: "other.example/log".into(),
        size: 3,
        root: f.tree.root(3).unwrap(),
        extensions: vec![],
    };
    let unknown = checkpoint::sign(&cp, "other.example/log", &*stranger).unwrap();
    assert!(matches!(
        f.witness
            .add_checkpoint(&request_body(0, &[], &unknown))
            .await,
        Err(Refusal::UnknownLog(_))
    ));
    let cp = Checkpoint {
        origin: ORIGIN.into(),
        ..cp
    };
    let wrong_key = checkpoint::sign(&cp, ORIGIN, &*stranger).unwrap();
    assert!(matches!(
        f.witness
            .add_checkpoint(&request_body(0, &[], &wrong_key))
            .await,
        Err(Refusal::NotSignedByLog(_))
    ));
    let empty_tree_lie = f.note_with_root(0, [1u8; 32]);
    assert!(matches!(
        f.witness
            .add_checkpoint(&request_body(0, &[], &empty_tree_lie))
            .await,
        Err(Refusal::Inconsistent(_))
    ));
    assert!(matches!(
        f.witness.add_checkpoint("old 0\n\nnot a note").await,
        Err(Refusal::Malformed(_))
    ));
}

#[tokio::test]
async fn concurrent_submissions_cannot_roll_the_state_back() {
    let f = Arc::new(fixture());
    let (a, b) = (f.body(0, 10), f.body(0, 12));
    let (fa, fb) = (f.clone(), f.clone());
    let (ra, rb) = tokio::join!(
        async move { fa.witness.add_checkpoint(&a).await },
        async move { fb.witness.add_checkpoint(&b).await }
    );
    // Exactly one wins from old 0; the other learns the winner's size.
    assert!(ra.is_ok() ^ rb.is_ok(), "{ra:?} {rb:?}");
    let loser = ra.err().or(rb.err()).unwrap();
    assert!(matches!(loser, Refusal::OldSizeMismatch(10 | 12)));
}

#[tokio::test]
async fn state_survives_a_restart_and_the_directory_is_locked() {
    let dir = tempfile::tempdir().unwrap();
    let keys = keys();
    let key = key::open_or_create(dir.path(), Some("w1.gov.example"), &keys).unwrap();
    let vkey = key.verifier.to_string();
    let (_, log) = keys.generate("log", KeyAlgorithm::Ed25519).unwrap();
    let log_key = VerifierKey::new(ORIGIN, log.public_key()).unwrap();
    let mut tree = MemoryTree::new();
    for n in 0..4u8 {
        tree.push(leaf_hash(&[n]));
    }
    let cp = Checkpoint {
        origin: ORIGIN.into(),
        size: 4,
        root: tree.root(4).unwrap(),
        extensions: vec![],
    };
    let note = checkpoint::sign(&cp, ORIGIN, &*log).unwrap();
    {
        let witness = Witness::new(
            key,
            vec![log_key.clone()],
            StateFile::open(dir.path()).unwrap(),
        );
        assert!(
            StateFile::open(dir.path()).is_err(),
            "second process must be locked out"
        );
        witness
            .add_checkpoint(&request_body(0, &[], &note))
            .await
            .unwrap();
    }
    let key = key::open_or_create(dir.path(), None, &keys).unwrap();
    assert_eq!(key.verifier.to_string(), vkey);
    assert!(key::open_or_create(dir.path(), Some("w2.gov.example"), &keys).is_err());
    let witness = Witness::new(key, vec![log_key], StateFile::open(dir.path()).unwrap());
    assert!(matches!(
        witness.add_checkpoint(&request_body(0, &[], &note)).await,
        Err(Refusal::OldSizeMismatch(4))
    ));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join(key::KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
