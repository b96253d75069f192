//! Witnesses (issue 16, 互认): two `govseal witness` processes on loopback
//! cosign the log's checkpoints (C2SP tlog-witness, tlog-cosignature); the
//! trust bundle carries their keys and a 2-of-2 policy (C2SP tlog-policy);
//! `govseal verify --require-logged` enforces it offline. A split view — a
//! second checkpoint of the same size with another root, signed by the log
//! key — is refused by the witnesses and detected by the verifier.

use crate::common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::stamping::{Department, department_with_seal, plain_pdf, stamp};
use common::{ADMIN_TOKEN, TestApp};
use govseal::config::Config;
use govseal::log::{Checkpoint, MemoryTree, ProofBundle, checkpoint, leaf_hash};
use serde_json::Value;

const MASTER_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

/// A `govseal witness` child process, killed on drop.
struct WitnessProcess {
    child: Child,
    url: String,
    vkey: String,
    name: String,
    _dir: tempfile::TempDir,
}

impl Drop for WitnessProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn govseal() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_govseal"));
    command.env("GOVSEAL_MASTER_KEY", MASTER_KEY);
    command
}

fn start_witness(name: &str, log_vkey: &str) -> WitnessProcess {
    let dir = tempfile::tempdir().unwrap();
    let key = govseal()
        .args(["witness", "key", "--name", name, "--data"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        key.status.success(),
        "{}",
        String::from_utf8_lossy(&key.stderr)
    );
    let vkey = String::from_utf8(key.stdout).unwrap().trim().to_string();
    let mut child = govseal()
        .args([
            "witness",
            "--listen",
            "127.0.0.1:0",
            "--log-key",
            log_vkey,
            "--data",
        ])
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    assert_eq!(
        first,
        format!("witness {vkey}"),
        "the witness reuses its key"
    );
    let second = lines.next().unwrap().unwrap();
    let url = second.strip_prefix("listening on ").unwrap().to_string();
    WitnessProcess {
        child,
        url,
        vkey,
        name: name.to_string(),
        _dir: dir,
    }
}

fn config(dir: &Path, database_url: &str, addr: SocketAddr) -> Config {
    let mut config = Config::new(dir.join("data"));
    config.certs_dir = dir.join("certs");
    config.database_url = Some(database_url.to_string());
    config.public_url = format!("http://{addr}");
    config.listen = addr;
    config.admin_token = Some(ADMIN_TOKEN.into());
    config.master_key = Some(MASTER_KEY.into());
    config
}

/// A log whose checkpoints two witnesses cosign under a 2-of-2 policy.
struct Witnessed {
    app: TestApp,
    witnesses: Vec<WitnessProcess>,
    log_vkey: String,
    dept: Department,
}

async fn witnessed_log() -> Witnessed {
    let dir = tempfile::tempdir().unwrap();
    let database_url = common::fresh_database_url(dir.path()).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // The log exists first (its key is made on the first start); then the
    // departments' witnesses are set up with its key; then the log is
    // configured with them and restarted.
    let first = govseal::server::prepare(config(dir.path(), &database_url, addr))
        .await
        .unwrap();
    let log_vkey = first.log_key.verifier_key.clone();
    drop(first);
    let witnesses = vec![
        start_witness("witness.finance.gov.example/w1", &log_vkey),
        start_witness("witness.audit.gov.example/w2", &log_vkey),
    ];
    let policy = dir.path().join("witnesses.policy");
    std::fs::write(
        &policy,
        format!(
            "# both departments must cosign\n\
             witness finance {} {}\n\
             witness audit {} {}\n\
             group both 2 finance audit\n\
             quorum both\n",
            witnesses[0].vkey, witnesses[0].url, witnesses[1].vkey, witnesses[1].url
        ),
    )
    .unwrap();
    let mut config = config(dir.path(), &database_url, addr);
    config.witnesses = Some(policy);
    let prepared = govseal::server::prepare(config).await.unwrap();
    let state = prepared.state.clone();
    tokio::spawn(async move { govseal::server::serve(prepared, listener).await.unwrap() });
    let app = TestApp {
        url: format!("http://{addr}"),
        admin_token: ADMIN_TOKEN.into(),
        dir,
        http: reqwest::Client::new(),
        database_url,
        state,
    };
    let dept = department_with_seal(&app, "福州市市场监督管理局").await;
    Witnessed {
        app,
        witnesses,
        log_vkey,
        dept,
    }
}

/// Stamps a PDF; returns the stamp id and the stamped bytes.
async fn stamp_one(app: &TestApp, dept: &Department, text: &str) -> (String, Vec<u8>) {
    let r = stamp(
        app,
        &dept.token,
        plain_pdf(text),
        &[
            ("seal_id", &dept.seal_id),
            ("page", "1"),
            ("x", "100"),
            ("y", "150"),
        ],
        None,
    )
    .await;
    assert_eq!(r.status(), 200);
    let id = r.headers()["govseal-stamp-id"]
        .to_str()
        .unwrap()
        .to_string();
    (id, r.bytes().await.unwrap().to_vec())
}

/// The inclusion proof of `subject`, once its checkpoint is witnessed.
async fn witnessed_proof(app: &TestApp, subject: &str) -> Value {
    for _ in 0..150 {
        let r = app
            .get(&format!("/v1/log/proof/inclusion?subject={subject}"), None)
            .await;
        let status = r.status();
        let body: Value = r.json().await.unwrap();
        // Until the background sequencer reaches it: 404 not_yet_sequenced.
        if status == 404 && body["error"]["code"] == "not_yet_sequenced" {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        assert_eq!(status, 200, "{body}");
        if body["witnessed"] == true {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the witnesses never cosigned a checkpoint covering {subject}");
}

fn cosignature_lines(note: &str) -> Vec<&str> {
    note.lines()
        .filter(|l| l.starts_with('\u{2014}'))
        .skip(1) // the log's own signature comes first
        .collect()
}

fn verify(trust: &Path, file: &Path, proof: &str) -> (Option<i32>, Value, Output) {
    let proof_path = file.with_extension("tlog-proof");
    std::fs::write(&proof_path, proof).unwrap();
    let out = govseal()
        .arg("verify")
        .arg(file)
        .arg("--trust")
        .arg(trust)
        .args(["--require-logged", "--json", "--log-proof"])
        .arg(&proof_path)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code(), report, out)
}

fn findings(report: &Value) -> String {
    report["transparency"]["findings"].to_string()
}

#[tokio::test]
async fn checkpoints_carry_two_cosignatures_and_verify_enforces_the_policy_offline() {
    let w = witnessed_log().await;
    let (id, stamped) = stamp_one(&w.app, &w.dept, "witnessed document").await;
    let proof = witnessed_proof(&w.app, &id).await;
    let tlog_proof = proof["tlog_proof"].as_str().unwrap().to_string();
    let lines = cosignature_lines(proof["checkpoint"].as_str().unwrap());
    assert_eq!(lines.len(), 2, "{}", proof["checkpoint"]);
    for witness in &w.witnesses {
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with(&format!("\u{2014} {} ", witness.name))),
            "{lines:?}"
        );
    }
    // The published checkpoint catches up with the cosignatures.
    let mut published = String::new();
    for _ in 0..100 {
        published = w
            .app
            .get("/v1/log/checkpoint", None)
            .await
            .text()
            .await
            .unwrap();
        if cosignature_lines(&published).len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(cosignature_lines(&published).len(), 2, "{published}");

    // Each witness serves what it cosigned (tlog-witness monitor retrieval).
    let origin = published.lines().next().unwrap();
    let origin_hash = hex::encode(ring::digest::digest(
        &ring::digest::SHA256,
        origin.as_bytes(),
    ));
    for witness in &w.witnesses {
        let served = reqwest::get(format!("{}/{origin_hash}/checkpoint", witness.url))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            published.starts_with(
                served
                    .lines()
                    .take(3)
                    .collect::<Vec<_>>()
                    .join("\n")
                    .as_str()
            ),
            "{served}"
        );
        assert!(served.contains(&format!("\u{2014} {} ", witness.name)));
    }

    // A log that lost track of its cosignatures (a restore, a crash between
    // the witness's answer and the commit) asks from size 0, is told the
    // witnesses' size by a 409, and gets them again from there.
    sqlx::query("DELETE FROM log_cosignatures")
        .execute(&w.app.state.db.pool)
        .await
        .unwrap();
    let mut recovered = String::new();
    for _ in 0..100 {
        recovered = w
            .app
            .get("/v1/log/checkpoint", None)
            .await
            .text()
            .await
            .unwrap();
        if cosignature_lines(&recovered).len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(cosignature_lines(&recovered).len(), 2, "{recovered}");

    let work = tempfile::tempdir().unwrap();
    let trust = work.path().join("bundle");
    common::copy_bundle(&w.app, &trust);
    let policy = std::fs::read_to_string(trust.join("witnesses.txt")).unwrap();
    assert!(
        policy.starts_with(&format!("log {}\n", w.log_vkey)),
        "{policy}"
    );
    assert!(policy.contains(&w.witnesses[0].vkey) && policy.contains("quorum both"));
    let doc = work.path().join("doc.pdf");
    std::fs::write(&doc, &stamped).unwrap();

    // Both cosignatures: logged.
    let (code, report, out) = verify(&trust, &doc, &tlog_proof);
    assert_eq!(code, Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(report["transparency"]["logged"], true);
    assert_eq!(
        report["transparency"]["witnessed_by"],
        serde_json::json!(["finance", "audit"])
    );
    assert!(findings(&report).contains("witnessed"), "{report}");
    // People read the same in the summary.
    let human = govseal()
        .arg("verify")
        .arg(&doc)
        .arg("--trust")
        .arg(&trust)
        .args(["--require-logged", "--log-proof"])
        .arg(doc.with_extension("tlog-proof"))
        .output()
        .unwrap();
    let summary = String::from_utf8_lossy(&human.stdout);
    assert!(
        summary
            .contains("✓ witnessed: the checkpoint meets the witness policy 2 of (finance, audit)"),
        "{summary}"
    );

    // One cosignature dropped: 1 of 2 is not the quorum, and the report names who is missing.
    let audit_line = tlog_proof
        .lines()
        .find(|l| l.starts_with(&format!("\u{2014} {} ", w.witnesses[1].name)))
        .unwrap()
        .to_string();
    let one_short = tlog_proof.replace(&format!("{audit_line}\n"), "");
    let (code, report, _) = verify(&trust, &doc, &one_short);
    assert_eq!(code, Some(2), "{report}");
    assert_eq!(report["transparency"]["logged"], false);
    assert!(
        findings(&report).contains("no cosignature from audit"),
        "{report}"
    );
    assert!(
        findings(&report).contains("cosigned by finance"),
        "{report}"
    );

    // A cosignature altered in one bit: it does not verify and does not count.
    let (name, blob) = audit_line.rsplit_once(' ').unwrap();
    let mut bytes = STANDARD.decode(blob).unwrap();
    bytes[40] ^= 1;
    let tampered = tlog_proof.replace(&audit_line, &format!("{name} {}", STANDARD.encode(bytes)));
    let (code, report, _) = verify(&trust, &doc, &tampered);
    assert_eq!(code, Some(2), "{report}");
    assert!(
        findings(&report).contains("the cosignature of audit does not verify"),
        "{report}"
    );

    // The bundle's policy decides: with "1 of 2" the one-short proof passes.
    std::fs::write(
        trust.join("witnesses.txt"),
        policy.replace("group both 2 ", "group both 1 "),
    )
    .unwrap();
    let (code, report, _) = verify(&trust, &doc, &one_short);
    assert_eq!(code, Some(0), "{report}");

    // A witness that is down blocks nothing: stamping and sequencing go on,
    // and the new checkpoint carries the other witness's cosignature only.
    let Witnessed {
        app,
        mut witnesses,
        dept,
        ..
    } = w;
    drop(witnesses.pop()); // the audit department's witness stops
    let (id2, stamped2) = stamp_one(&app, &dept, "while a witness is down").await;
    let mut proof2 = Value::Null;
    for _ in 0..100 {
        proof2 = app
            .get(&format!("/v1/log/proof/inclusion?subject={id2}"), None)
            .await
            .json()
            .await
            .unwrap();
        // Until the sequencer reaches it there is no checkpoint (404).
        if proof2["checkpoint"]
            .as_str()
            .is_some_and(|note| cosignature_lines(note).len() == 1)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(proof2["witnessed"], false, "{proof2}");
    let lines = cosignature_lines(proof2["checkpoint"].as_str().unwrap());
    assert_eq!(lines.len(), 1, "{proof2}");
    assert!(lines[0].starts_with(&format!("\u{2014} {} ", witnesses[0].name)));
    let doc2 = work.path().join("doc2.pdf");
    std::fs::write(&doc2, &stamped2).unwrap();
    let proof2 = proof2["tlog_proof"].as_str().unwrap();
    let (code, report, _) = verify(&trust, &doc2, proof2);
    assert_eq!(
        code,
        Some(0),
        "1 of 2 is enough under the edited policy: {report}"
    );
    std::fs::write(trust.join("witnesses.txt"), &policy).unwrap();
    let (code, report, _) = verify(&trust, &doc2, proof2);
    assert_eq!(code, Some(2), "2 of 2 is not met: {report}");
    assert!(
        findings(&report).contains("no cosignature from audit"),
        "{report}"
    );
}

#[tokio::test]
async fn a_split_view_is_refused_by_the_witnesses_and_detected_by_the_verifier() {
    let w = witnessed_log().await;
    let (id, stamped) = stamp_one(&w.app, &w.dept, "the real history").await;
    let real = witnessed_proof(&w.app, &id).await;
    let real_note = real["checkpoint"].as_str().unwrap().to_string();
    let size = real["tree_size"].as_u64().unwrap();
    let index = real["leaf_index"].as_u64().unwrap();

    // The operator rewrites one other entry and signs a second tree of the
    // same size with the log key: a view to show one verifier alone.
    let entries: Vec<Value> = w
        .app
        .get(&format!("/v1/log/entries?start=0&end={size}"), None)
        .await
        .json()
        .await
        .unwrap();
    let mut leaves: Vec<Vec<u8>> = entries
        .iter()
        .map(|e| STANDARD.decode(e["entry"].as_str().unwrap()).unwrap())
        .collect();
    let victim = if index == 0 { 1 } else { 0 };
    leaves[victim].push(0);
    let forged_tree = MemoryTree::from_leaf_hashes(leaves.iter().map(|l| leaf_hash(l)));
    let log_key = govseal::transparency::key::load(&w.app.state.db, &w.app.state.keys)
        .await
        .unwrap()
        .unwrap();
    let forged = Checkpoint {
        origin: log_key.origin.clone(),
        size,
        root: forged_tree.root(size).unwrap(),
        extensions: vec![],
    };
    let real_checkpoint = checkpoint::open(&real_note, &w.log_vkey).unwrap();
    assert_ne!(forged.root, real_checkpoint.root);
    let forged_note = checkpoint::sign(&forged, &log_key.origin, &*log_key.signer).unwrap();

    // Both witnesses refuse to cosign it.
    let http = reqwest::Client::new();
    for witness in &w.witnesses {
        // Where they stand: the real tree's size (or larger), told by 409.
        let r = http
            .post(format!("{}/add-checkpoint", witness.url))
            .body(format!("old 0\n\n{forged_note}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 409, "{}", witness.name);
        assert_eq!(r.headers()["content-type"], "text/x.tlog.size");
        let held: u64 = r.text().await.unwrap().trim().parse().unwrap();
        assert_eq!(held, size, "{}", witness.name);
        let r = http
            .post(format!("{}/add-checkpoint", witness.url))
            .body(format!("old {held}\n\n{forged_note}"))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        assert_eq!(status, 422, "{}: {text}", witness.name);
        assert!(text.contains("split view"), "{text}");
        // And a note not signed by the log's key is forbidden outright.
        let unsigned = forged_note.replace(
            forged_note.lines().last().unwrap(),
            &format!("\u{2014} {} AAAAAAAA", log_key.origin),
        );
        let r = http
            .post(format!("{}/add-checkpoint", witness.url))
            .body(format!("old {held}\n\n{unsigned}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
    }

    // The verifier holding the bundle detects it.
    let work = tempfile::tempdir().unwrap();
    let trust = work.path().join("bundle");
    common::copy_bundle(&w.app, &trust);
    let doc = work.path().join("doc.pdf");
    std::fs::write(&doc, &stamped).unwrap();
    let entry = leaves[usize::try_from(index).unwrap()].clone();
    let forged_proof = |note: String| {
        ProofBundle {
            entry: Some(entry.clone()),
            index,
            proof: forged_tree.inclusion_proof(index, size).unwrap(),
            checkpoint_note: note,
        }
        .to_text()
    };
    // (the genuine proof passes, so what fails below fails for the forgery)
    let (code, _, out) = verify(&trust, &doc, real["tlog_proof"].as_str().unwrap());
    assert_eq!(code, Some(0), "{}", String::from_utf8_lossy(&out.stdout));

    // The forged checkpoint alone: signed by the log, but no witness saw it.
    let (code, report, _) = verify(&trust, &doc, &forged_proof(forged_note.clone()));
    assert_eq!(code, Some(2), "{report}");
    assert_eq!(report["transparency"]["logged"], false);
    assert!(
        findings(&report).contains("signed by the log key"),
        "{report}"
    );
    assert!(
        findings(&report).contains("no cosignature from finance, audit"),
        "{report}"
    );
    assert!(findings(&report).contains("split view"), "{report}");

    // With the real checkpoint's cosignatures pasted on: they sign the other root.
    let mut pasted = forged_note.clone();
    for line in cosignature_lines(&real_note) {
        pasted.push_str(line);
        pasted.push('\n');
    }
    let (code, report, _) = verify(&trust, &doc, &forged_proof(pasted));
    assert_eq!(code, Some(2), "{report}");
    assert!(
        findings(&report).contains("the cosignature of finance does not verify")
            && findings(&report).contains("the cosignature of audit does not verify"),
        "{report}"
    );
    assert_eq!(
        report["transparency"]["witnessed_by"],
        serde_json::json!([])
    );

    // `govseal log audit` re-checks the stored cosignatures too.
    let audit = |app: &TestApp| {
        let out = govseal()
            .args([
                "log",
                "audit",
                "--database-url",
                &app.database_url,
                "--data",
            ])
            .arg(app.dir.path().join("data"))
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code(), text)
    };
    let (code, text) = audit(&w.app);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("witness cosignatures: ") && text.contains(" verified"),
        "{text}"
    );
    sqlx::query("UPDATE log_cosignatures SET cosigned_at = cosigned_at + 1 WHERE size = $1")
        .bind(i64::try_from(size).unwrap())
        .execute(&w.app.state.db.pool)
        .await
        .unwrap();
    let (code, text) = audit(&w.app);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains(&format!(
            "log audit FAILED: cosignature of checkpoint {size} by "
        )),
        "{text}"
    );
}

#[tokio::test]
async fn a_witness_policy_the_log_cannot_use_stops_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = common::fresh_database_url(dir.path()).await;
    let addr: SocketAddr = "127.0.0.1:9".parse().unwrap();
    let vkey = govseal::log::CosignerKey::new("w1.example", &[7u8; 32])
        .unwrap()
        .to_string();
    let other_log = govseal::log::VerifierKey::new("other.example/log", &[8u8; 32])
        .unwrap()
        .to_string();
    let cases = [
        (
            format!("witness a {vkey}\nquorum a\n"),
            "gives no witness a URL",
        ),
        (
            format!("witness a {vkey} https://w1.example\nquorum a\n"),
            "only http://",
        ),
        (
            format!("witness a {vkey} http://w1.example\n"),
            "no quorum line",
        ),
        (
            format!("log {other_log}\nwitness a {vkey} http://w1.example\nquorum a\n"),
            "not this log's",
        ),
    ];
    for (text, expected) in cases {
        let policy = dir.path().join("policy");
        std::fs::write(&policy, &text).unwrap();
        let mut config = config(dir.path(), &database_url, addr);
        config.witnesses = Some(policy);
        let Err(error) = govseal::server::prepare(config).await else {
            panic!("{text}: started");
        };
        assert!(format!("{error:#}").contains(expected), "{text}: {error:#}");
    }
}
