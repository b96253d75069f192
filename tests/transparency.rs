//! The transparency log over HTTP: signed checkpoints, inclusion and
//! consistency proofs checked with the offline verifier functions, concurrent
//! appends, and `govseal log audit` against tampering.

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::{TestApp, spawn_app};
use govseal::log::{Hash, LogEntry, checkpoint, leaf_hash, verify_consistency, verify_inclusion};
use serde_json::Value;

fn hashes(v: &Value) -> Vec<Hash> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|h| {
            let bytes = STANDARD
                .decode(h.as_str().expect("string"))
                .expect("base64");
            Hash::try_from(bytes.as_slice()).expect("32 bytes")
        })
        .collect()
}

async fn verifier_key(app: &TestApp) -> String {
    std::fs::read_to_string(app.certs().join("log-key.txt"))
        .expect("log-key.txt in the trust bundle")
        .trim()
        .to_string()
}

async fn signed_checkpoint(app: &TestApp) -> (String, govseal::log::Checkpoint) {
    let r = app.get("/v1/log/checkpoint", None).await;
    assert_eq!(r.status(), 200);
    let note = r.text().await.expect("text");
    let cp = checkpoint::open(&note, &verifier_key(app).await).expect("checkpoint verifies");
    (note, cp)
}

async fn json(app: &TestApp, path: &str) -> Value {
    let r = app.get(path, None).await;
    assert_eq!(r.status(), 200, "GET {path}");
    r.json().await.expect("json")
}

#[tokio::test]
async fn proofs_over_http_verify_against_the_signed_checkpoint() {
    let app = spawn_app().await;
    let (_, first) = signed_checkpoint(&app).await;
    assert!(first.size >= 3, "the PKI certificates are logged at start");
    let department = app.create_department("市场监督管理局").await;
    let serial = department["certificate_serial"]
        .as_str()
        .expect("serial")
        .to_string();

    // The department's certificate entry, found by index, proven and checked offline.
    let proof = json(
        &app,
        &format!("/v1/log/proof/inclusion?index={}", first.size),
    )
    .await;
    let (_, latest) = signed_checkpoint(&app).await;
    assert!(
        latest.size > first.size,
        "the new certificate was sequenced on demand"
    );
    let entry = STANDARD
        .decode(proof["entry"]["entry"].as_str().expect("entry"))
        .expect("base64");
    let decoded = LogEntry::decode(&entry).expect("canonical entry");
    assert_eq!(decoded.kind.as_str(), "certificate-issued");
    assert_eq!(decoded.subject_id, serial);
    let by_subject = json(&app, &format!("/v1/log/proof/inclusion?subject={serial}")).await;
    assert_eq!(by_subject["leaf_index"].as_u64(), Some(first.size));
    let tree_size = proof["tree_size"].as_u64().expect("size");
    let cp = checkpoint::open(
        proof["checkpoint"].as_str().expect("note"),
        &verifier_key(&app).await,
    )
    .expect("signed");
    assert_eq!(cp.size, tree_size);
    let path = hashes(&proof["inclusion_path"]);
    verify_inclusion(&leaf_hash(&entry), first.size, tree_size, &path, &cp.root)
        .expect("inclusion proof verifies");
    // A wrong entry does not verify.
    let mut forged = entry.clone();
    forged[3] ^= 1;
    assert!(verify_inclusion(&leaf_hash(&forged), first.size, tree_size, &path, &cp.root).is_err());
    // The tlog-proof bundle is self-contained.
    let (bundle_cp, bundle_entry) = govseal::log::verify_embedded_bundle(
        proof["tlog_proof"].as_str().expect("bundle"),
        &verifier_key(&app).await,
    )
    .expect("bundle verifies");
    assert_eq!(bundle_entry, entry);
    assert_eq!(bundle_cp.size, tree_size);

    // Consistency between the first and the latest checkpoint.
    let c = json(
        &app,
        &format!(
            "/v1/log/proof/consistency?first={}&second={}",
            first.size, cp.size
        ),
    )
    .await;
    verify_consistency(
        first.size,
        cp.size,
        &first.root,
        &cp.root,
        &hashes(&c["consistency_path"]),
    )
    .expect("consistency proof verifies");

    // Entries list and errors.
    let listed = json(&app, "/v1/log/entries?start=0&end=2").await;
    assert_eq!(listed.as_array().map(Vec::len), Some(2));
    assert_eq!(listed[1]["index"], 1);
    common::expect_error(
        app.get("/v1/log/proof/inclusion?index=x", None).await,
        400,
        "invalid_parameter",
    )
    .await;
    common::expect_error(
        app.get("/v1/log/proof/inclusion?index=999999", None).await,
        404,
        "not_found",
    )
    .await;
    common::expect_error(
        app.get(
            &format!("/v1/log/proof/consistency?first=1&second={}", cp.size + 5),
            None,
        )
        .await,
        422,
        "beyond_tree",
    )
    .await;
}
