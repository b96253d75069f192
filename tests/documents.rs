//! Where stamped PDFs are kept (issue 17, storage): with SQLite as files in
//! the document store, durable before the row that names them, replayed
//! from there, re-hashed by the audit; with PostgreSQL (shared by several
//! processes) in the database.

use crate::common;

use common::spawn_app;
use common::stamping::{department_with_seal, plain_pdf, stamp};

#[tokio::test]
async fn stamped_pdfs_are_kept_where_the_backend_wants_them_and_audited() {
    let app = spawn_app().await;
    let d = department_with_seal(&app, "福州市行政审批局").await;
    let fields = [
        ("seal_id", d.seal_id.as_str()),
        ("page", "1"),
        ("x", "300"),
        ("y", "300"),
    ];
    let r = stamp(
        &app,
        &d.token,
        plain_pdf("Approval"),
        &fields,
        Some("doc-1"),
    )
    .await;
    assert_eq!(r.status(), 200);
    let id = r.headers()["govseal-stamp-id"]
        .to_str()
        .unwrap()
        .to_string();
    let first = r.bytes().await.unwrap().to_vec();
    let (in_database, output_sha256): (Vec<u8>, String) =
        sqlx::query_as("SELECT output_pdf, output_sha256 FROM stamps WHERE id = $1")
            .bind(&id)
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
    let file = app
        .dir
        .path()
        .join("data/documents")
        .join(&output_sha256[..2])
        .join(format!("{output_sha256}.pdf"));
    let files = app.state.config.document_store().is_some();
    assert_eq!(
        files,
        matches!(app.state.db.backend, govseal::store::Backend::Sqlite),
        "files with SQLite, the database with PostgreSQL"
    );
    if files {
        assert!(in_database.is_empty(), "the row holds no PDF bytes");
        assert_eq!(std::fs::read(&file).unwrap(), first);
    } else {
        assert_eq!(in_database, first);
        assert!(!file.exists());
    }

    // The idempotent replay gives the same bytes back, from wherever they are.
    let r = stamp(
        &app,
        &d.token,
        plain_pdf("Approval"),
        &fields,
        Some("doc-1"),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["govseal-stamp-id"].to_str().unwrap(), id);
    assert_eq!(r.bytes().await.unwrap().to_vec(), first);
    let (code, out) = crate::log_audit::audit(&app);
    assert_eq!(code, 0, "{out}");
    if !files {
        return;
    }

    // A stamped PDF altered on disk is named by the audit.
    let mut altered = first.clone();
    let last = altered.len() - 10;
    altered[last] ^= 1;
    std::fs::write(&file, &altered).unwrap();
    let (code, out) = crate::log_audit::audit(&app);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(&id) && out.contains("altered"), "{out}");

    // So is one that is gone (no retention is configured).
    std::fs::remove_file(&file).unwrap();
    let (code, out) = crate::log_audit::audit(&app);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("missing from the document store"), "{out}");

    // And a replay says plainly that the PDF is no longer kept.
    let r = stamp(
        &app,
        &d.token,
        plain_pdf("Approval"),
        &fields,
        Some("doc-1"),
    )
    .await;
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("document_expired"));
}
