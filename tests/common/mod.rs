//! Test harness: the real server on port 0 with a fresh database (SQLite in a
//! temporary directory, or a new PostgreSQL database when
//! `GOVSEAL_TEST_DATABASE_URL` is set), and helpers for interop tools.
#![allow(dead_code)]

pub mod attacks;
pub mod costly;
pub mod foreign_cms;
pub mod interop;
pub mod library;
pub mod licenses;
pub mod openssl_rsa;
pub mod raw_sign;
pub mod rcgen_pki;
pub mod rsa_pki;
pub mod stamping;

use std::net::SocketAddr;
use std::path::PathBuf;

use govseal::config::Config;
use serde_json::{Value, json};

/// A running test server.
pub struct TestApp {
    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub url: String,
    /// The admin token.
    pub admin_token: String,
    /// The data and certs directories live here.
    pub dir: tempfile::TempDir,
    /// HTTP client.
    pub http: reqwest::Client,
    /// The database URL the server uses.
    pub database_url: String,
    /// The server's state (for direct checks).
    pub state: govseal::http::AppState,
}

pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789abcdef";

/// A fresh database URL: a new PostgreSQL database if `GOVSEAL_TEST_DATABASE_URL`
/// is set, otherwise SQLite in `dir`.
pub async fn fresh_database_url(dir: &std::path::Path) -> String {
    match std::env::var("GOVSEAL_TEST_DATABASE_URL") {
        Ok(base) if !base.is_empty() => {
            use sqlx::Connection as _;
            let name = format!("govseal_test_{}", uuid::Uuid::new_v4().simple());
            let mut conn = sqlx::postgres::PgConnection::connect(&base)
                .await
                .expect("connect to GOVSEAL_TEST_DATABASE_URL");
            sqlx::Executor::execute(
                &mut conn,
                sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")),
            )
            .await
            .expect("create test database");
            let (prefix, _) = base.rsplit_once('/').expect("database URL has a path");
            format!("{prefix}/{name}")
        }
        _ => format!("sqlite://{}?mode=rwc", dir.join("govseal.db").display()),
    }
}

/// Starts a server with a fresh database.
pub async fn spawn_app() -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let database_url = fresh_database_url(dir.path()).await;
    spawn_app_in(dir, database_url).await
}

/// Starts a server with a fresh database and the configuration changed by `configure`.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Config)) -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let database_url = fresh_database_url(dir.path()).await;
    spawn_app_configured(dir, database_url, configure).await
}

/// Starts a server over an existing directory and database (e.g. to test a restart).
pub async fn spawn_app_in(dir: tempfile::TempDir, database_url: String) -> TestApp {
    spawn_app_configured(dir, database_url, |_| {}).await
}

/// Starts a server over `dir` and `database_url`, configured by `configure`.
pub async fn spawn_app_configured(
    dir: tempfile::TempDir,
    database_url: String,
    configure: impl FnOnce(&mut Config),
) -> TestApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr: SocketAddr = listener.local_addr().expect("addr");
    let url = format!("http://{addr}");
    let mut config = Config::new(dir.path().join("data"));
    config.certs_dir = dir.path().join("certs");
    config.database_url = Some(database_url.clone());
    config.public_url = url.clone();
    config.listen = addr;
    config.admin_token = Some(ADMIN_TOKEN.into());
    config.master_key = Some("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=".into());
    configure(&mut config);
    let prepared = govseal::server::prepare(config)
        .await
        .expect("prepare server");
    let state = prepared.state.clone();
    tokio::spawn(async move {
        govseal::server::serve(prepared, listener)
            .await
            .expect("serve");
    });
    TestApp {
        url,
        admin_token: ADMIN_TOKEN.into(),
        dir,
        http: reqwest::Client::new(),
        database_url,
        state,
    }
}

/// Makes a valid USCC from a 17-character body.
pub fn uscc(body17: &str) -> String {
    let check = govseal::identity::Uscc::check_character(body17).expect("valid body");
    format!("{body17}{check}")
}

/// A fresh random valid USCC.
pub fn random_uscc() -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    let r = uuid::Uuid::new_v4();
    let body: String = std::iter::once('1')
        .chain(std::iter::once('1'))
        .chain(
            r.as_bytes()
                .iter()
                .take(15)
                .map(|b| ALPHABET[(*b as usize) % 31] as char),
        )
        .collect();
    uscc(&body)
}

impl TestApp {
    /// Waits until the background sequencer has put every recorded log
    /// entry under a signed checkpoint (GETs never sequence).
    pub async fn sequenced(&self) {
        use sqlx::Row as _;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let pending: i64 =
                sqlx::query("SELECT COUNT(*) AS n FROM log_entries WHERE leaf_index IS NULL")
                    .fetch_one(&self.state.db.pool)
                    .await
                    .expect("count pending entries")
                    .try_get("n")
                    .expect("count");
            if pending == 0 {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{pending} log entries still pending after 20 s"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    /// The certs directory.
    pub fn certs(&self) -> PathBuf {
        self.dir.path().join("certs")
    }

    /// POST JSON with a bearer token.
    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> reqwest::Response {
        let mut req = self.http.post(format!("{}{path}", self.url)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.expect("request")
    }

    /// GET with an optional bearer token.
    pub async fn get(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut req = self.http.get(format!("{}{path}", self.url));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.expect("request")
    }

    /// Creates a department and returns its JSON.
    pub async fn create_department(&self, name: &str) -> Value {
        let r = self
            .post(
                "/v1/departments",
                Some(&self.admin_token),
                &json!({ "name": name, "uscc": random_uscc() }),
            )
            .await;
        assert_eq!(r.status(), 201, "create department");
        r.json().await.expect("json")
    }

    /// Creates an API client with `scopes` and returns its token.
    pub async fn create_client(&self, department_id: &str, scopes: &[&str]) -> String {
        let r = self
            .post(
                &format!("/v1/departments/{department_id}/clients"),
                Some(&self.admin_token),
                &json!({ "name": "测试系统", "scopes": scopes }),
            )
            .await;
        assert_eq!(r.status(), 201, "create client");
        let v: Value = r.json().await.expect("json");
        v["token"].as_str().expect("token").to_string()
    }
}

/// Asserts the error body shape and code, returning the message.
pub async fn expect_error(r: reqwest::Response, status: u16, code: &str) -> String {
    assert_eq!(r.status().as_u16(), status, "status");
    let v: Value = r.json().await.expect("error body is JSON");
    assert_eq!(v["error"]["code"], code, "error code in {v}");
    v["error"]["message"].as_str().expect("message").to_string()
}

impl TestApp {
    /// POST `{}` with a token, expecting 200, returning the JSON.
    pub async fn post_owned(&self, path: String, token: String) -> Value {
        let r = self.post(&path, Some(&token), &json!({})).await;
        assert_eq!(r.status(), 200, "POST {path}");
        r.json().await.expect("json")
    }
}

/// A copy of the published trust bundle (`certs/`, with its subdirectories),
/// as a verifier would carry it away from the server.
pub fn copy_bundle(app: &TestApp, to: &std::path::Path) {
    fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let target = to.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                copy_dir(&entry.path(), &target);
            } else {
                std::fs::copy(entry.path(), target).unwrap();
            }
        }
    }
    copy_dir(&app.certs(), to);
}
