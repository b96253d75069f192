//! Concurrent status changes (issue 17, races): 200 suspend / reinstate /
//! revoke calls fired at once at one license and at one seal. Every
//! transition is a conditional update on the status it was read from, so
//! the final state is one the calls could reach in some order, revoked is
//! terminal, and the log holds exactly the transitions that happened, as an
//! unbroken chain. Runs on SQLite and (with `GOVSEAL_TEST_DATABASE_URL`)
//! PostgreSQL, where READ COMMITTED would let a read-then-write race through.

use crate::common;

use common::licenses::{business_license, define_business_license, issuer};
use common::spawn_app;
use govseal::log::LogEntry;
use serde_json::{Value, json};

const CALLS: usize = 200;

/// The action of call `i`: mostly suspend and reinstate, revokes late.
fn action(i: usize) -> &'static str {
    match i % 40 {
        39 => "revoke",
        n if n % 2 == 0 => "suspend",
        _ => "reinstate",
    }
}

/// Fires the calls concurrently; returns how many succeeded.
async fn fire(app: &common::TestApp, token: &str, base: &str, reason: &str) -> usize {
    let mut tasks = Vec::new();
    for i in 0..CALLS {
        let url = format!("{}{base}/{}", app.url, action(i));
        let http = app.http.clone();
        let token = token.to_string();
        let body = json!({ "reason": reason });
        tasks.push(tokio::spawn(async move {
            let r = http
                .post(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .expect("request");
            let status = r.status().as_u16();
            let body = r.text().await.unwrap_or_default();
            assert!(
                status == 200 || status == 409,
                "only success or a conflict, got {status}: {body}"
            );
            status == 200
        }));
    }
    let mut ok = 0;
    for t in tasks {
        if t.await.expect("task") {
            ok += 1;
        }
    }
    ok
}

/// The logged transitions of `subject` of `kind`, in log order: (from, to).
async fn transitions(app: &common::TestApp, kind: &str, subject: &str) -> Vec<(String, String)> {
    let key = govseal::transparency::key::load(&app.state.db, &app.state.keys)
        .await
        .expect("load")
        .expect("key");
    govseal::transparency::sequence_all(&app.state.db, &key, 4096)
        .await
        .expect("sequence");
    let rows: Vec<Vec<u8>> = sqlx::query_scalar(
        "SELECT entry FROM log_entries WHERE kind = $1 AND subject_id = $2 ORDER BY leaf_index",
    )
    .bind(kind)
    .bind(subject)
    .fetch_all(&app.state.db.pool)
    .await
    .expect("entries");
    rows.iter()
        .map(|bytes| {
            let e = LogEntry::decode(bytes).expect("canonical");
            (e.details["from"].clone(), e.details["status"].clone())
        })
        .collect()
}

/// The chain starts at `start`, each step leaves from where the last one
/// arrived, nothing leaves `revoked`, and it ends at `end`.
fn assert_chain(steps: &[(String, String)], start: &str, end: &str) {
    let mut at = start.to_string();
    for (i, (from, to)) in steps.iter().enumerate() {
        assert_eq!(from, &at, "step {i} of {steps:?}");
        assert_ne!(at, "revoked", "nothing leaves revoked: {steps:?}");
        at = to.clone();
    }
    assert_eq!(at, end, "{steps:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_status_changes_keep_one_consistent_logged_history() {
    let app = spawn_app().await;
    let d = issuer(&app, "福州市市场监督管理局").await;
    define_business_license(&app, &[&d.id]).await;
    let r = app
        .post(
            "/v1/licenses",
            Some(&d.token),
            &business_license(&d.seal_id),
        )
        .await;
    assert_eq!(r.status(), 201);
    let license = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app
        .post(
            "/v1/seals",
            Some(&d.token),
            &json!({ "department_id": d.id, "type": "contract" }),
        )
        .await;
    assert_eq!(r.status(), 201);
    let seal = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();

    let (license_base, seal_base) = (
        format!("/v1/licenses/{license}"),
        format!("/v1/seals/{seal}"),
    );
    let (license_ok, seal_ok) = tokio::join!(
        fire(&app, &d.token, &license_base, "并发测试"),
        fire(&app, &d.token, &seal_base, "superseded"),
    );

    let now: Value = app
        .get(&format!("/v1/licenses/{license}"), Some(&d.token))
        .await
        .json()
        .await
        .unwrap();
    let license_status = now["status"].as_str().unwrap().to_string();
    eprintln!("license: {license_ok} of {CALLS} changes applied, seal: {seal_ok}");
    let steps = transitions(&app, "license-status-changed", &license).await;
    assert_eq!(
        steps.len(),
        license_ok,
        "one entry per change that happened"
    );
    assert_chain(&steps, "valid", &license_status);

    let now: Value = app
        .get(&format!("/v1/seals/{seal}"), Some(&d.token))
        .await
        .json()
        .await
        .unwrap();
    let seal_status = now["status"].as_str().unwrap().to_string();
    let steps = transitions(&app, "seal-changed", &seal).await;
    assert_eq!(steps.len(), seal_ok, "one entry per change that happened");
    assert_chain(&steps, "active", &seal_status);

    // Revoked is terminal: once there, every later call is refused.
    for (base, status, reason) in [
        (&license_base, &license_status, "再试"),
        (&seal_base, &seal_status, "superseded"),
    ] {
        if status == "revoked" {
            for action in ["reinstate", "suspend", "revoke"] {
                let r = app
                    .post(
                        &format!("{base}/{action}"),
                        Some(&d.token),
                        &json!({ "reason": reason }),
                    )
                    .await;
                assert_eq!(r.status(), 409, "{base} {action} after revocation");
            }
        }
    }
    let (code, out) = crate::log_audit::audit(&app);
    assert_eq!(code, 0, "{out}");
}
