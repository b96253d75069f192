//! `govseal verify --require-logged` (issue 6): a stamped PDF checked offline,
//! with the server stopped, against a copy of the trust bundle and the
//! tlog-proof that the server handed out — and what happens when the proof
//! is missing, belongs to another document, or the document was altered.

use crate::common;

use std::path::Path;
use std::process::{Command, Output};

use common::spawn_app;
use common::stamping::{department_with_seal, plain_pdf, stamp};
use serde_json::Value;

fn verify(trust: &Path, file: &Path, extra: &[&str]) -> (Option<i32>, Value, Output) {
    let out = Command::new(env!("CARGO_BIN_EXE_govseal"))
        .arg("verify")
        .arg(file)
        .arg("--trust")
        .arg(trust)
        .arg("--require-logged")
        .arg("--json")
        .args(extra)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code(), report, out)
}

#[tokio::test]
async fn stamped_pdf_is_proven_logged_offline_with_the_server_stopped() {
    let app = spawn_app().await;
    let dept = department_with_seal(&app, "福州市市场监督管理局").await;
    let mut stamped = Vec::new();
    let mut ids = Vec::new();
    for (n, x) in ["100", "300"].iter().enumerate() {
        let pdf = plain_pdf(&format!("document {n}"));
        let r = stamp(
            &app,
            &dept.token,
            pdf,
            &[
                ("seal_id", &dept.seal_id),
                ("page", "1"),
                ("x", x),
                ("y", "150"),
            ],
            None,
        )
        .await;
        assert_eq!(r.status(), 200);
        ids.push(
            r.headers()["govseal-stamp-id"]
                .to_str()
                .unwrap()
                .to_string(),
        );
        stamped.push(r.bytes().await.unwrap().to_vec());
    }
    let mut proofs = Vec::new();
    app.sequenced().await;
    for id in &ids {
        let r = app
            .get(&format!("/v1/log/proof/inclusion?subject={id}"), None)
            .await;
        assert_eq!(r.status(), 200);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["entry"]["kind"], "stamp");
        proofs.push(body["tlog_proof"].as_str().unwrap().to_string());
    }
    // The published bundle gets the latest checkpoint from the sequencer; wait for it.
    let checkpoint = app
        .get("/v1/log/checkpoint", None)
        .await
        .text()
        .await
        .unwrap();
    for _ in 0..100 {
        let published =
            std::fs::read_to_string(app.certs().join("checkpoint.txt")).unwrap_or_default();
        if published == checkpoint {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let work = tempfile::tempdir().unwrap();
    let trust = work.path().join("bundle");
    common::copy_bundle(&app, &trust);
    drop(app); // offline from here on: no server, no database

    let doc = work.path().join("doc.pdf");
    std::fs::write(&doc, &stamped[0]).unwrap();
    let proof0 = work.path().join("doc.pdf.tlog-proof");
    std::fs::write(&proof0, &proofs[0]).unwrap();

    // Its own proof, found beside the file: logged, TOTAL-PASSED.
    let (code, report, out) = verify(&trust, &doc, &[]);
    assert_eq!(code, Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(report["indication"], "TOTAL-PASSED");
    assert_eq!(report["transparency"]["logged"], true);
    assert_eq!(report["transparency"]["entry_kind"], "stamp");
    assert_eq!(report["transparency"]["subject_id"], ids[0].as_str());

    // The human summary says so too.
    let human = Command::new(env!("CARGO_BIN_EXE_govseal"))
        .args(["verify", "--require-logged", "--trust"])
        .arg(&trust)
        .arg(&doc)
        .output()
        .unwrap();
    assert_eq!(human.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&human.stdout).contains("已留痕 logged"));

    // Another document's proof does not make this one logged.
    let other = work.path().join("other.tlog-proof");
    std::fs::write(&other, &proofs[1]).unwrap();
    let (code, report, _) = verify(&trust, &doc, &["--log-proof", other.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{report}");
    assert_eq!(report["indication"], "INDETERMINATE");
    assert_eq!(report["sub_indication"], "SIG_CONSTRAINTS_FAILURE");
    assert_eq!(report["transparency"]["logged"], false);
    assert!(
        report["transparency"]["findings"]
            .to_string()
            .contains("another artefact"),
        "{report}"
    );

    // No proof at all: not proven logged.
    let lonely = work.path().join("lonely.pdf");
    std::fs::write(&lonely, &stamped[1]).unwrap();
    let (code, report, _) = verify(&trust, &lonely, &[]);
    assert_eq!(code, Some(2), "{report}");
    assert!(
        report["transparency"]["findings"]
            .to_string()
            .contains("no inclusion proof")
    );

    // A forged proof (one hash of the audit path altered) is refused.
    let mut lines: Vec<String> = proofs[0].lines().map(str::to_string).collect();
    let hash_line = lines.iter().position(|l| l.starts_with("index ")).unwrap() + 1;
    let mut bytes = lines[hash_line].clone().into_bytes();
    bytes[0] = if bytes[0] == b'A' { b'B' } else { b'A' };
    lines[hash_line] = String::from_utf8(bytes).unwrap();
    let forged = work.path().join("forged.tlog-proof");
    std::fs::write(&forged, lines.join("\n") + "\n").unwrap();
    let (code, report, _) = verify(&trust, &doc, &["--log-proof", forged.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{report}");
    assert!(
        report["transparency"]["findings"]
            .to_string()
            .contains("does not verify")
    );

    // An altered document fails on its own signature, whatever the log says.
    let mut altered = stamped[0].clone();
    let at = altered
        .windows(10)
        .position(|w| w == b"document 0")
        .expect("the page text");
    altered[at + 9] = b'9';
    let bad = work.path().join("bad.pdf");
    std::fs::write(&bad, &altered).unwrap();
    let (code, report, _) = verify(&trust, &bad, &["--log-proof", proof0.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{report}");
    assert_eq!(report["transparency"]["logged"], false);
}
