use std::collections::BTreeMap;
use std::sync::Arc;

use super::*;
use crate::keystore::{KeyAlgorithm, KeyStore, MasterKey, Signer};
use crate::log::{EntryKind, MemoryTree, ProofBundle};

const ORIGIN: &str = "seal.gov.example/log";

fn signer(seed: &str) -> Arc<dyn Signer> {
    let store = KeyStore::new(MasterKey::from_text(&seed.repeat(32)).unwrap());
    store.generate("log", KeyAlgorithm::Ed25519).unwrap().1
}

fn artefact(n: u8) -> Vec<u8> {
    format!("%PDF-1.7 stamped document {n}").into_bytes()
}

fn entry(n: u8) -> Vec<u8> {
    LogEntry {
        kind: EntryKind::Stamp,
        subject_id: format!("stamp-{n}"),
        department_id: Some("91350100M000100Y43".into()),
        artefact_sha256: crate::transparency::sha256(&artefact(n)),
        time: 1_700_000_000 + i64::from(n),
        actor: "client".into(),
        details: BTreeMap::new(),
        record: None,
    }
    .encode()
    .unwrap()
}

/// A log of `size` entries signed by `key`: the checkpoint note and the
/// tlog-proof for leaf `index`.
fn log(key: &dyn Signer, size: u8, index: u8) -> (String, String) {
    let entries: Vec<_> = (0..size).map(entry).collect();
    let tree = MemoryTree::from_entries(&entries);
    let cp = Checkpoint {
        origin: ORIGIN.into(),
        size: u64::from(size),
        root: tree.root(u64::from(size)).unwrap(),
        extensions: Vec::new(),
    };
    let note = checkpoint::sign(&cp, ORIGIN, key).unwrap();
    let proof = ProofBundle {
        entry: Some(entries[usize::from(index)].clone()),
        index: u64::from(index),
        proof: tree
            .inclusion_proof(u64::from(index), u64::from(size))
            .unwrap(),
        checkpoint_note: note.clone(),
    };
    (note, proof.to_text())
}

fn trust(key: &dyn Signer, checkpoint: Option<String>) -> LogTrust {
    LogTrust {
        verifier_key: Some(checkpoint::verifier_key(ORIGIN, key.public_key()).unwrap()),
        checkpoint,
        witness_policy: None,
    }
}

fn failures(r: &LogInclusion) -> Vec<&String> {
    r.findings.iter().filter(|f| f.starts_with('✗')).collect()
}

#[test]
fn a_logged_artefact_passes_against_the_bundle_checkpoint() {
    let key = signer("11");
    let (note, proof) = log(&*key, 9, 6);
    let r = check_logged(&artefact(6), Some(&proof), &trust(&*key, Some(note)));
    assert!(r.logged, "{:?}", r.findings);
    assert_eq!(
        (r.leaf_index, r.tree_size, r.bundle_tree_size),
        (Some(6), Some(9), Some(9))
    );
    assert_eq!(r.entry_kind.as_deref(), Some("stamp"));
    assert_eq!(r.subject_id.as_deref(), Some("stamp-6"));
    assert!(failures(&r).is_empty());
}

#[test]
fn an_older_bundle_checkpoint_is_reported_not_contradicted() {
    let key = signer("11");
    let (older, _) = log(&*key, 5, 0);
    let (_, proof) = log(&*key, 9, 7);
    let r = check_logged(&artefact(7), Some(&proof), &trust(&*key, Some(older)));
    assert!(r.logged, "{:?}", r.findings);
    assert!(
        r.findings
            .iter()
            .any(|f| f.contains("newer than the bundle's 5"))
    );
}

#[test]
fn another_file_is_not_logged_by_someone_elses_proof() {
    let key = signer("11");
    let (note, proof) = log(&*key, 9, 6);
    let r = check_logged(&artefact(5), Some(&proof), &trust(&*key, Some(note)));
    assert!(!r.logged);
    assert!(
        failures(&r)[0].contains("another artefact"),
        "{:?}",
        r.findings
    );
}

#[test]
fn a_proof_under_another_log_key_fails() {
    let key = signer("11");
    let rogue = signer("22");
    let (_, proof) = log(&*rogue, 9, 6);
    let r = check_logged(&artefact(6), Some(&proof), &trust(&*key, None));
    assert!(!r.logged);
    assert!(
        failures(&r)[0].contains("does not verify"),
        "{:?}",
        r.findings
    );
}

#[test]
fn a_tampered_proof_fails() {
    let key = signer("11");
    let (_, proof) = log(&*key, 9, 6);
    // Claim the entry sits at another index: the audit path no longer leads to the root.
    let moved = proof.replace("index 6\n", "index 4\n");
    let r = check_logged(&artefact(6), Some(&moved), &trust(&*key, None));
    assert!(!r.logged, "{:?}", r.findings);
}

#[test]
fn a_split_view_is_detected() {
    let key = signer("11");
    let (_, proof) = log(&*key, 9, 6);
    // The log (its key) also signed a different tree of the same size.
    let entries: Vec<_> = (10..19).map(entry).collect();
    let other = Checkpoint {
        origin: ORIGIN.into(),
        size: 9,
        root: MemoryTree::from_entries(&entries).root(9).unwrap(),
        extensions: Vec::new(),
    };
    let fork = checkpoint::sign(&other, ORIGIN, &*key).unwrap();
    let r = check_logged(&artefact(6), Some(&proof), &trust(&*key, Some(fork)));
    assert!(!r.logged);
    assert!(failures(&r)[0].contains("split view"), "{:?}", r.findings);
}

#[test]
fn missing_key_or_proof_says_what_is_missing() {
    let key = signer("11");
    let r = check_logged(&artefact(1), None, &trust(&*key, None));
    assert!(!r.logged);
    assert!(failures(&r)[0].contains("no inclusion proof"));
    let r = check_logged(&artefact(1), Some("garbage"), &LogTrust::default());
    assert!(failures(&r)[0].contains("no log verifier key"));
    let r = check_logged(&artefact(1), Some("garbage"), &trust(&*key, None));
    assert!(failures(&r)[0].contains("does not verify"));
}

/// `proof` with `lines` appended to its checkpoint note.
fn cosigned(proof: &str, lines: &[String]) -> String {
    let mut text = proof.to_string();
    for line in lines {
        text.push_str(line);
    }
    text
}

#[test]
fn a_witness_policy_requires_its_quorum_of_valid_cosignatures() {
    use crate::log::cosignature::cosign;
    let key = signer("11");
    let (w1, w2) = (signer("21"), signer("22"));
    let vkey = |name: &str, s: &Arc<dyn Signer>| {
        crate::log::CosignerKey::new(name, s.public_key())
            .unwrap()
            .to_string()
    };
    let policy = format!(
        "log {}\nwitness one {}\nwitness two {}\ngroup both 2 one two\nquorum both\n",
        checkpoint::verifier_key(ORIGIN, key.public_key()).unwrap(),
        vkey("w1.example", &w1),
        vkey("w2.example", &w2)
    );
    let (note, proof) = log(&*key, 9, 6);
    let body = &note[..note.rfind("\n\n").unwrap() + 1];
    let line1 = cosign(body, "w1.example", 1_700_000_000, &*w1).unwrap();
    let line2 = cosign(body, "w2.example", 1_700_000_001, &*w2).unwrap();
    let mut trust = trust(&*key, Some(note.clone()));
    trust.witness_policy = Some(policy.clone());

    let r = check_logged(
        &artefact(6),
        Some(&cosigned(&proof, &[line1.clone(), line2.clone()])),
        &trust,
    );
    assert!(r.logged, "{:?}", r.findings);
    assert_eq!(r.witnessed_by, vec!["one", "two"]);

    let r = check_logged(
        &artefact(6),
        Some(&cosigned(&proof, std::slice::from_ref(&line1))),
        &trust,
    );
    assert!(!r.logged);
    assert!(
        failures(&r)[0].contains("no cosignature from two"),
        "{:?}",
        r.findings
    );

    // A cosignature over another tree of the same size does not count.
    use base64::Engine as _;
    let forged_body = format!(
        "{ORIGIN}\n9\n{}\n",
        base64::engine::general_purpose::STANDARD.encode([0u8; 32])
    );
    let stale = cosign(&forged_body, "w2.example", 5, &*w2).unwrap();
    let r = check_logged(
        &artefact(6),
        Some(&cosigned(&proof, &[line1.clone(), stale])),
        &trust,
    );
    assert!(!r.logged);
    assert!(
        failures(&r)[0].contains("the cosignature of two does not verify"),
        "{:?}",
        r.findings
    );

    // A policy for another log is refused rather than applied.
    trust.witness_policy = Some(policy.replacen("log ", "log x", 1));
    let r = check_logged(
        &artefact(6),
        Some(&cosigned(&proof, &[line1, line2])),
        &trust,
    );
    assert!(!r.logged);
    assert!(
        failures(&r)[0].contains("unusable") || failures(&r)[0].contains("other logs"),
        "{:?}",
        r.findings
    );
}
