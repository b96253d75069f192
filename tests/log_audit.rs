//! `govseal log audit` against every lifecycle action (issue 16): an
//! untouched database audits clean after each one, on SQLite and (with
//! `GOVSEAL_TEST_DATABASE_URL`) PostgreSQL.

use crate::common;

use common::licenses::{business_license, define_business_license, issuer};
use common::{TestApp, spawn_app};
use serde_json::{Value, json};

/// Runs `govseal log audit` on the app's database: (exit code, stdout + stderr).
pub(crate) fn audit(app: &TestApp) -> (i32, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_govseal"))
        .args([
            "log",
            "audit",
            "--database-url",
            &app.database_url,
            "--data",
        ])
        .arg(app.dir.path().join("data"))
        .arg("--log-key")
        .arg(app.certs().join("log-key.txt"))
        .env(
            "GOVSEAL_MASTER_KEY",
            "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
        )
        .output()
        .expect("run govseal");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

async fn issue_license(app: &TestApp, token: &str, seal_id: &str) -> String {
    let r = app
        .post("/v1/licenses", Some(token), &business_license(seal_id))
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let v: Value = r.json().await.unwrap();
    v["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_clean_database_audits_clean_after_every_lifecycle_action() {
    let app = spawn_app().await;
    let d = issuer(&app, "福州市市场监督管理局").await;
    define_business_license(&app, &[&d.id]).await;
    let lifecycle = issue_license(&app, &d.token, &d.seal_id).await;
    let renewed = issue_license(&app, &d.token, &d.seal_id).await;
    let amended = issue_license(&app, &d.token, &d.seal_id).await;
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
    let other = app.create_department("福州市自然资源和规划局").await;
    let other_id = other["id"].as_str().unwrap().to_string();
    let other_token = app.create_client(&other_id, &["seals:manage"]).await;
    let clients: Value = app
        .get(
            &format!("/v1/departments/{other_id}/clients"),
            Some(&app.admin_token),
        )
        .await
        .json()
        .await
        .unwrap();
    let client_id = clients
        .as_array()
        .or(clients["clients"].as_array())
        .and_then(|c| c.first())
        .and_then(|c| c["id"].as_str())
        .unwrap_or_else(|| panic!("a client in {clients}"))
        .to_string();
    // What the department certificate's revocation must cascade to.
    let r = app
        .post(
            "/v1/seals",
            Some(&other_token),
            &json!({ "department_id": other_id, "type": "contract" }),
        )
        .await;
    assert_eq!(r.status(), 201);
    let other_seal = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let other_token2 = app.create_client(&other_id, &["seals:manage"]).await;
    let (code, out) = audit(&app);
    assert_eq!(code, 0, "after set-up: {out}");

    let admin = app.admin_token.clone();
    // (action, path, token, body, expected HTTP status)
    let actions: Vec<(&str, String, &str, Value, u16)> = vec![
        (
            "license suspend",
            format!("/v1/licenses/{lifecycle}/suspend"),
            &d.token,
            json!({"reason": "核查中"}),
            200,
        ),
        (
            "license reinstate",
            format!("/v1/licenses/{lifecycle}/reinstate"),
            &d.token,
            json!({}),
            200,
        ),
        (
            "license revoke",
            format!("/v1/licenses/{lifecycle}/revoke"),
            &d.token,
            json!({"reason": "以欺骗手段取得"}),
            200,
        ),
        (
            "license renew",
            format!("/v1/licenses/{renewed}/renew"),
            &d.token,
            json!({}),
            201,
        ),
        (
            "license amend",
            format!("/v1/licenses/{amended}/amend"),
            &d.token,
            json!({"fields": {"addr": "福建省福州市台江区工业路1号"}}),
            201,
        ),
        (
            "seal suspend",
            format!("/v1/seals/{seal}/suspend"),
            &d.token,
            json!({}),
            200,
        ),
        (
            "seal reinstate",
            format!("/v1/seals/{seal}/reinstate"),
            &d.token,
            json!({}),
            200,
        ),
        (
            "seal revoke",
            format!("/v1/seals/{seal}/revoke"),
            &d.token,
            json!({}),
            200,
        ),
        (
            "client revoke",
            format!("/v1/departments/{other_id}/clients/{client_id}/revoke"),
            &admin,
            json!({}),
            200,
        ),
        (
            "department certificate revoke",
            format!("/v1/departments/{other_id}/certificate/revoke"),
            &admin,
            json!({"reason": "keyCompromise"}),
            200,
        ),
        (
            "department certificate renew",
            format!("/v1/departments/{other_id}/certificate"),
            &admin,
            json!({}),
            201,
        ),
        (
            "client create",
            format!("/v1/departments/{other_id}/clients"),
            &admin,
            json!({"name": "新审批系统", "scopes": ["stamp"]}),
            201,
        ),
    ];
    for (action, path, token, body, status) in actions {
        let r = app.post(&path, Some(token), &body).await;
        assert_eq!(
            r.status(),
            status,
            "{action}: {}",
            r.text().await.unwrap_or_default()
        );
        let (code, out) = audit(&app);
        assert_eq!(code, 0, "the audit after {action} must pass: {out}");
        assert!(out.contains("log audit passed"), "{action}: {out}");
    }
    // The cascade (issue 17): the revoked department's seal was suspended
    // and its remaining client revoked, in the revocation's transaction.
    let seal: Value = app
        .get(&format!("/v1/seals/{other_seal}"), Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(seal["status"], "suspended", "{seal}");
    let r = app
        .get(&format!("/v1/seals/{other_seal}"), Some(&other_token2))
        .await;
    assert_eq!(
        r.status(),
        401,
        "a client of a revoked department is revoked"
    );
    let kinds: Vec<String> = sqlx::query_scalar(
        "SELECT kind FROM log_entries WHERE kind IN ('seal-changed', 'client-revoked') \
         AND entry IS NOT NULL ORDER BY created_at, id",
    )
    .fetch_all(&app.state.db.pool)
    .await
    .unwrap();
    assert!(
        kinds.iter().filter(|k| *k == "client-revoked").count() >= 2
            && kinds.iter().any(|k| k == "seal-changed"),
        "the cascade is logged: {kinds:?}"
    );
}

async fn exec(app: &TestApp, sql: &str) {
    let done = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(&app.state.db.pool)
        .await
        .expect(sql);
    assert!(done.rows_affected() > 0, "{sql} changed nothing");
}

/// A license (revoked), a seal and a stamp, all logged; audits clean.
async fn recorded_app() -> (TestApp, String, String, String) {
    let app = spawn_app().await;
    let d = issuer(&app, "福州市市场监督管理局").await;
    define_business_license(&app, &[&d.id]).await;
    let license = issue_license(&app, &d.token, &d.seal_id).await;
    let r = app
        .post(
            &format!("/v1/licenses/{license}/revoke"),
            Some(&d.token),
            &json!({"reason": "以欺骗手段取得"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let stamper = app.create_client(&d.id, &["stamp"]).await;
    let form = reqwest::multipart::Form::new()
        .part(
            "file",
            reqwest::multipart::Part::bytes(common::stamping::plain_pdf("Approval"))
                .file_name("doc.pdf")
                .mime_str("application/pdf")
                .unwrap(),
        )
        .text("seal_id", d.seal_id.clone())
        .text("page", "1")
        .text("x", "300")
        .text("y", "300")
        .text("operator", "王小明")
        .text("level", "B-B");
    let r = app
        .http
        .post(format!("{}/v1/stamp", app.url))
        .bearer_auth(&stamper)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "stamp");
    let stamp = r.headers()["govseal-stamp-id"]
        .to_str()
        .unwrap()
        .to_string();
    // The license library's tables: an item, its use list, a consent, a
    // refused and a granted use (of a second, valid license).
    issue_license(&app, &d.token, &d.seal_id).await;
    let lib = common::library::publish(&app, &d).await;
    common::library::trace(&app, &lib).await;
    let (code, out) = audit(&app);
    assert_eq!(code, 0, "{out}");
    (app, license, d.seal_id, stamp)
}

#[tokio::test]
async fn every_tampered_business_column_fails_the_audit_naming_it() {
    // (what the audit must name, the tampering)
    let cases: &[(&str, &str)] = &[
        (
            "column input_sha256",
            "UPDATE stamps SET input_sha256 = 'ab' || input_sha256",
        ),
        ("column operator", "UPDATE stamps SET operator = '李四'"),
        ("column level", "UPDATE stamps SET level = 'B-LTA'"),
        ("column page", "UPDATE stamps SET page = page + 1"),
        ("column output_pdf", "UPDATE stamps SET output_pdf = X'00'"),
        (
            "column output_sha256",
            "UPDATE stamps SET output_sha256 = 'not hex'",
        ),
        (
            "column created_at",
            "UPDATE stamps SET created_at = created_at - 1",
        ),
        ("column pdf", "UPDATE licenses SET pdf = X'00'"),
        (
            "column holder_id",
            "UPDATE licenses SET holder_id = '91350100M000100Y43'",
        ),
        (
            "column holder_name",
            "UPDATE licenses SET holder_name = '某某公司'",
        ),
        ("column status", "UPDATE licenses SET status = 'valid'"),
        (
            "column status_reason",
            "UPDATE licenses SET status_reason = '无'",
        ),
        ("column status", "UPDATE seals SET status = 'suspended'"),
        ("column name", "UPDATE seals SET name = '合同专用章'"),
        ("names no row of stamps", "DELETE FROM stamps"),
    ];
    for (named, sql) in cases {
        let (app, _, _, _) = recorded_app().await;
        // A blob literal is X'00' in SQLite, a bit string in PostgreSQL.
        let sql = match app.state.db.backend {
            govseal::store::Backend::Postgres => sql.replace("X'00'", "'\\x00'::bytea"),
            govseal::store::Backend::Sqlite => sql.to_string(),
        };
        let sql = sql.as_str();
        exec(&app, sql).await;
        let (code, out) = audit(&app);
        assert_eq!(code, 1, "{sql}: {out}");
        assert!(out.contains(named), "{sql} must be named ({named}): {out}");
    }
}

#[tokio::test]
async fn a_seal_inserted_off_the_books_is_named() {
    let (app, _, seal, _) = recorded_app().await;
    exec(
        &app,
        &format!(
            "INSERT INTO seals (id, department_id, seal_type, name, code, certificate_id, status, valid_from, valid_until, created_at, updated_at) \
             SELECT 'forged-seal', department_id, seal_type, name, 'forged-code', certificate_id, status, valid_from, valid_until, created_at, updated_at \
             FROM seals WHERE id = '{seal}'"
        ),
    )
    .await;
    let (code, out) = audit(&app);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("seals row \"forged-seal\""), "{out}");
}

/// Collects every string in a JSON value (keys and values).
fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|v| strings(v, out)),
        Value::Object(o) => o.iter().for_each(|(k, v)| {
            out.push(k.clone());
            strings(v, out);
        }),
        _ => {}
    }
}

#[tokio::test]
async fn the_public_log_publishes_no_personal_data_in_clear() {
    use base64::Engine as _;
    let app = spawn_app().await;
    let d = issuer(&app, "福州市市场监督管理局").await;
    define_business_license(&app, &[&d.id]).await;
    let license = issue_license(&app, &d.token, &d.seal_id).await;
    for (action, body) in [
        ("suspend", json!({"reason": "核查中：群众举报"})),
        ("reinstate", json!({})),
        ("revoke", json!({"reason": "以欺骗手段取得"})),
    ] {
        let r = app
            .post(
                &format!("/v1/licenses/{license}/{action}"),
                Some(&d.token),
                &body,
            )
            .await;
        assert_eq!(r.status(), 200, "{action}");
    }
    let stamper = app.create_client(&d.id, &["stamp"]).await;
    let form = reqwest::multipart::Form::new()
        .part(
            "file",
            reqwest::multipart::Part::bytes(common::stamping::plain_pdf("Approval"))
                .file_name("doc.pdf")
                .mime_str("application/pdf")
                .unwrap(),
        )
        .text("seal_id", d.seal_id.clone())
        .text("page", "1")
        .text("x", "300")
        .text("y", "300")
        .text("operator", "王小明")
        .text("reason", "同意王小明的申请")
        .text("level", "B-B");
    let r = app
        .http
        .post(format!("{}/v1/stamp", app.url))
        .bearer_auth(&stamper)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "stamp: {}", r.text().await.unwrap());
    let key = govseal::transparency::key::load(&app.state.db, &app.state.keys)
        .await
        .expect("load")
        .expect("key");
    govseal::transparency::sequence_all(&app.state.db, &key, 4096)
        .await
        .expect("sequence");

    let r = app.get("/v1/log/entries?start=0&end=1000", None).await;
    assert_eq!(r.status(), 200);
    let listed: Value = r.json().await.unwrap();
    let entries = listed.as_array().expect("an array");
    let mut texts = Vec::new();
    strings(&listed, &mut texts);
    let mut v2 = 0;
    for e in entries {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(e["entry"].as_str().expect("entry"))
            .expect("base64");
        texts.push(String::from_utf8_lossy(&bytes).into_owned());
        v2 += usize::from(bytes[0] == 2);
    }
    // The stamp, the license's issuance and its three status changes at least.
    assert!(v2 >= 5, "{v2} version-2 entries in {listed}");
    for personal in [
        "王小明",                                   // the stamp's operator
        "同意王小明的申请",                         // the stamp's free-text reason
        "福州市鼓楼区闽江智慧城市科技服务有限公司", // the holder's name
        "91110000600037341L",                       // the holder's ID
        "林晓明",                                   // a field value: the legal representative
        "核查中",                                   // the suspension's reason
        "以欺骗手段取得",                           // the revocation's reason
    ] {
        assert!(
            !texts.iter().any(|t| t.contains(personal)),
            "GET /v1/log/entries publishes {personal:?} in clear"
        );
    }
}

#[tokio::test]
async fn the_audit_uses_the_servers_development_master_key_and_never_creates_one() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = common::fresh_database_url(dir.path()).await;
    let data = dir.path().join("data");
    let mut config = govseal::config::Config::new(data.clone());
    config.certs_dir = dir.path().join("certs");
    config.database_url = Some(database_url.clone());
    config.master_key = None; // the server writes a development master.key
    let prepared = govseal::server::prepare(config).await.expect("prepare");
    drop(prepared);
    let master = std::fs::read(data.join("master.key")).expect("the development key file");

    let run = |data: &std::path::Path| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_govseal"))
            .args(["log", "audit", "--database-url", &database_url, "--data"])
            .arg(data)
            .env_remove("GOVSEAL_MASTER_KEY")
            .output()
            .expect("run govseal");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code().unwrap_or(-1), text)
    };
    let (code, out) = run(&data);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("log audit passed"), "{out}");
    assert!(
        !out.contains("not checked"),
        "the dev key opens the secret: {out}"
    );
    assert_eq!(
        std::fs::read(data.join("master.key")).unwrap(),
        master,
        "the development key is untouched"
    );

    // Elsewhere, without any master key: the audit still runs, says what it
    // skips, and writes no key file.
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let (code, out) = run(&elsewhere);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("personal columns are not checked"), "{out}");
    assert!(
        !elsewhere.join("master.key").exists(),
        "no key file created"
    );
}

/// Runs `sql` with foreign keys not enforced (a tamperer with database
/// access can do the same), on one connection.
async fn exec_unchecked(app: &TestApp, sql: &str) {
    use govseal::store::Backend;
    let mut conn = app.state.db.pool.acquire().await.expect("connection");
    let (off, on) = match app.state.db.backend {
        Backend::Sqlite => ("PRAGMA foreign_keys = OFF", "PRAGMA foreign_keys = ON"),
        Backend::Postgres => (
            "SET session_replication_role = replica",
            "RESET session_replication_role",
        ),
    };
    sqlx::query(off).execute(&mut *conn).await.expect(off);
    let done = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(&mut *conn)
        .await
        .expect(sql);
    sqlx::query(on).execute(&mut *conn).await.expect(on);
    assert_eq!(done.rows_affected(), 1, "{sql}");
}

#[tokio::test]
async fn every_column_of_every_covered_table_is_checked() {
    use govseal::transparency::records::{COVERED, Column};
    let (app, license, seal, stamp) = recorded_app().await;
    let blob = match app.state.db.backend {
        govseal::store::Backend::Postgres => "'\\x00'::bytea",
        govseal::store::Backend::Sqlite => "X'00'",
    };
    let tampered = |column: &str, kind: Column| match kind {
        Column::Integer => format!("COALESCE({column}, 0) + 1"),
        Column::Real => format!("{column} + 1"),
        Column::Text | Column::Personal => format!("COALESCE({column}, '') || 'x'"),
        Column::Blob => blob.to_string(),
    };
    let mut checked = 0;
    for table in COVERED {
        let key = match table.name {
            "stamps" => stamp.clone(),
            "licenses" => license.clone(),
            "seals" => seal.clone(),
            _ => {
                let sql = format!(
                    "SELECT ({}) AS k FROM {} ORDER BY 1 LIMIT 1",
                    table.key, table.name
                );
                sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                    .fetch_one(&app.state.db.pool)
                    .await
                    .unwrap_or_else(|e| panic!("a row of {}: {e}", table.name))
            }
        };
        let row = format!("({}) = '{key}'", table.key);
        let key_parts = table.key_parts();
        for &(column, kind) in table.columns {
            let set = format!(
                "UPDATE {} SET {column} = {} WHERE {row}",
                table.name,
                tampered(column, kind)
            );
            // Keep the value, tamper, audit, and put the value back.
            let backup = format!("tamper_backup_{checked}");
            // (CREATE TABLE AS reports no changed rows on SQLite.)
            let create = format!(
                "CREATE TABLE {backup} AS SELECT {column} AS v FROM {} WHERE {row}",
                table.name
            );
            sqlx::query(sqlx::AssertSqlSafe(create.clone()))
                .execute(&app.state.db.pool)
                .await
                .expect(&create);
            exec_unchecked(&app, &set).await;
            let (code, out) = audit(&app);
            assert_eq!(code, 1, "{set}: {out}");
            // A column that is part of a composite key moves the row: the
            // audit names the row (no entry for it, an entry naming none).
            let named = if key_parts.contains(&column) {
                table.name.to_string()
            } else {
                format!("column {column}")
            };
            assert!(out.contains(&named), "{set} must be named ({named}): {out}");
            let restore_where = if key_parts.contains(&column) {
                format!("{column} = (SELECT {} FROM {backup})", tampered("v", kind))
            } else {
                row.clone()
            };
            exec_unchecked(
                &app,
                &format!(
                    "UPDATE {} SET {column} = (SELECT v FROM {backup}) WHERE {restore_where}",
                    table.name
                ),
            )
            .await;
            checked += 1;
        }

        // A row deleted: its entries name a row that is not there.
        let backup = format!("row_backup_{}", table.name);
        let create = format!(
            "CREATE TABLE {backup} AS SELECT * FROM {} WHERE {row}",
            table.name
        );
        sqlx::query(sqlx::AssertSqlSafe(create.clone()))
            .execute(&app.state.db.pool)
            .await
            .expect(&create);
        let delete = format!("DELETE FROM {} WHERE {row}", table.name);
        exec_unchecked(&app, &delete).await;
        let (code, out) = audit(&app);
        assert_eq!(code, 1, "{delete}: {out}");
        let named = format!("names no row of {}", table.name);
        assert!(
            out.contains(&named),
            "{delete} must be named ({named}): {out}"
        );
        exec_unchecked(
            &app,
            &format!("INSERT INTO {} SELECT * FROM {backup}", table.name),
        )
        .await;

        // A row inserted behind the log's back (a copy with every text
        // column changed, so unique constraints hold): it has no entry.
        let mut names = Vec::new();
        let mut values = Vec::new();
        if key_parts.len() == 1 {
            names.push(table.key.to_string());
            values.push(format!("{} || '-forged'", table.key));
        }
        for &(column, kind) in table.columns {
            names.push(column.to_string());
            values.push(match kind {
                Column::Text | Column::Personal => format!("COALESCE({column}, '') || 'x'"),
                _ => column.to_string(),
            });
        }
        let insert = format!(
            "INSERT INTO {table_name} ({}) SELECT {} FROM {table_name} WHERE {row}",
            names.join(", "),
            values.join(", "),
            table_name = table.name
        );
        exec_unchecked(&app, &insert).await;
        let (code, out) = audit(&app);
        assert_eq!(code, 1, "{insert}: {out}");
        let named = format!("{} row", table.name);
        assert!(
            out.contains(&named) && out.contains("off the books"),
            "{insert} must be named ({named}): {out}"
        );
        let forged = if key_parts.len() > 1 {
            format!(
                "({}) = '{}'",
                table.key,
                key.split(' ')
                    .zip(&key_parts)
                    .map(|(value, part)| {
                        let text = table.columns.iter().any(|&(name, kind)| {
                            name == *part && matches!(kind, Column::Text | Column::Personal)
                        });
                        if text {
                            format!("{value}x")
                        } else {
                            value.to_string()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            )
        } else {
            format!("{} = '{key}-forged'", table.key)
        };
        exec_unchecked(&app, &format!("DELETE FROM {} WHERE {forged}", table.name)).await;
        let (code, out) = audit(&app);
        assert_eq!(code, 0, "{} restored: {out}", table.name);
    }
    assert_eq!(
        checked,
        COVERED.iter().map(|t| t.columns.len()).sum::<usize>()
    );
}

#[tokio::test]
async fn rows_from_before_coverage_are_backfilled_once_and_only_once() {
    let app = spawn_app().await;
    let d = app.create_department("福州市行政审批局").await;
    let id = d["id"].as_str().unwrap();
    // A row the log does not know: as a department written before the log
    // covered departments would be.
    exec_unchecked(
        &app,
        &format!(
            "INSERT INTO departments (id, name, uscc, parent_id, certificate_id, created_at) \
             SELECT 'old-department', name || '（旧）', '{}', parent_id, certificate_id, created_at \
             FROM departments WHERE id = '{id}'",
            common::random_uscc()
        ),
    )
    .await;
    let (code, out) = audit(&app);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("departments row \"old-department\" has no department-created entry")
            && out.contains("starting the server once"),
        "{out}"
    );

    // A restart does not absorb it: the backfill already ran on this database.
    let TestApp {
        dir, database_url, ..
    } = app;
    let app = common::spawn_app_in(dir, database_url).await;
    let (code, out) = audit(&app);
    assert_eq!(code, 1, "a later row stays off the books: {out}");

    // A database from before coverage version 2 is brought onto the log once.
    exec_unchecked(
        &app,
        "DELETE FROM settings WHERE name = 'log_coverage_version'",
    )
    .await;
    let TestApp {
        dir, database_url, ..
    } = app;
    let app = common::spawn_app_in(dir, database_url).await;
    let (code, out) = audit(&app);
    assert_eq!(code, 0, "{out}");
    let actors: Vec<String> = sqlx::query_scalar(
        "SELECT subject_id FROM log_entries WHERE kind = 'department-created' ORDER BY subject_id",
    )
    .fetch_all(&app.state.db.pool)
    .await
    .unwrap();
    assert_eq!(
        actors.iter().filter(|s| *s == "old-department").count(),
        1,
        "{actors:?}"
    );
}
