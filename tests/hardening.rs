//! The service under abuse (issue 17): limits that answer before a body is
//! read, client addresses believed only from trusted proxies, an
//! authenticated budget an anonymous flood cannot take, GETs without side
//! effects, metrics for the operator only, and secrets kept out of `Debug`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use govseal::config::{Config, Rate};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::common::licenses::{business_license, define_business_license, issuer};
use crate::common::stamping::{department_with_seal, plain_pdf, stamp};
use crate::common::{TestApp, expect_error, spawn_app, spawn_app_with};

fn fields(seal_id: &str) -> [(&str, &str); 5] {
    [
        ("seal_id", seal_id),
        ("page", "1"),
        ("x", "300"),
        ("y", "300"),
        ("level", "B-B"),
    ]
}

fn rate(per_minute: u32, burst: u32) -> Rate {
    Rate { per_minute, burst }
}

/// Sends the head of a request announcing `content_length` bytes and none
/// of the body; returns what the server answered within `wait` (empty if
/// it is still waiting for the body).
async fn head_only(
    app: &TestApp,
    path: &str,
    extra: &str,
    content_length: u64,
    wait: Duration,
) -> String {
    let address = app.url.trim_start_matches("http://");
    let mut tcp = tokio::net::TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/pdf\r\n\
         Content-Length: {content_length}\r\n{extra}\r\n"
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    let deadline = Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, tcp.read(&mut buffer)).await {
            Ok(Ok(0)) | Err(_) => break,
            Ok(Ok(n)) => {
                answer.extend_from_slice(&buffer[..n]);
                if answer.windows(4).any(|w| w == b"\r\n\r\n") && answer.ends_with(b"}") {
                    break;
                }
            }
            Ok(Err(_)) => break,
        }
    }
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn the_limiter_answers_429_with_retry_after_before_a_huge_body_is_read() {
    let app = spawn_app_with(|c| {
        c.limits.verify = rate(6, 2);
        c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    let from = |ip: &str| format!("X-Forwarded-For: {ip}\r\n");
    // Two cheap requests empty the bucket of 198.51.100.1.
    for _ in 0..2 {
        let r = app
            .http
            .post(format!("{}/v1/verify", app.url))
            .header("x-forwarded-for", "198.51.100.1")
            .header("content-type", "text/plain")
            .body("not a license")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "a report");
    }
    // A 40 MB upload announced, not one byte of it sent: the answer comes at once.
    let started = Instant::now();
    let answer = head_only(
        &app,
        "/v1/verify",
        &from("198.51.100.1"),
        40_000_000,
        Duration::from_secs(10),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 429"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(5));
    let lower = answer.to_ascii_lowercase();
    let retry: u64 = lower
        .lines()
        .find_map(|l| l.strip_prefix("retry-after:"))
        .expect("Retry-After")
        .trim()
        .parse()
        .expect("seconds");
    assert!(
        (1..=10).contains(&retry),
        "Retry-After {retry}: 6 a minute refill one every 10 s"
    );
    assert!(answer.contains("\"code\":\"rate_limited\""), "{answer}");

    // The same head from an address with tokens left is admitted, and the
    // handler waits for the body: no answer. So the 429 above came before
    // any body was read.
    let answer = head_only(
        &app,
        "/v1/verify",
        &from("198.51.100.2"),
        40_000_000,
        Duration::from_secs(1),
    )
    .await;
    assert!(
        answer.is_empty(),
        "the admitted request waits for its body: {answer}"
    );

    // The upload page answers people in HTML, with Retry-After.
    for _ in 0..2 {
        let form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(b"%PDF-1.7".to_vec()).file_name("a.pdf"),
        );
        app.http
            .post(format!("{}/verify", app.url))
            .header("x-forwarded-for", "198.51.100.3")
            .multipart(form)
            .send()
            .await
            .unwrap();
    }
    let r = app
        .http
        .post(format!("{}/verify", app.url))
        .header("x-forwarded-for", "198.51.100.3")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    assert!(r.text().await.unwrap().contains("<!DOCTYPE html>"));
}

async fn trust_status(app: &TestApp, forwarded_for: &str) -> u16 {
    app.http
        .get(format!("{}/v1/trust", app.url))
        .header("x-forwarded-for", forwarded_for)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn only_a_trusted_proxy_chooses_the_client_address() {
    let behind_proxy = spawn_app_with(|c| {
        c.limits.reads = rate(1, 3);
        c.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
    })
    .await;
    for _ in 0..3 {
        assert_eq!(trust_status(&behind_proxy, "203.0.113.1").await, 200);
    }
    assert_eq!(trust_status(&behind_proxy, "203.0.113.1").await, 429);
    // Another citizen behind the same proxy has a bucket of their own.
    assert_eq!(trust_status(&behind_proxy, "203.0.113.2").await, 200);
    // Writing a fresh address in front does not escape: the proxy appended
    // the real one, and the rightmost untrusted hop is the client.
    assert_eq!(
        trust_status(&behind_proxy, "198.51.100.77, 203.0.113.1").await,
        429
    );
    // RFC 7239 Forwarded is read too.
    let r = behind_proxy
        .http
        .get(format!("{}/v1/trust", behind_proxy.url))
        .header("forwarded", "for=203.0.113.1;proto=https")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);

    // Without trusted proxies the header is the client's own claim: ignored.
    let direct = spawn_app_with(|c| c.limits.reads = rate(1, 3)).await;
    for i in 0..3 {
        assert_eq!(trust_status(&direct, &format!("203.0.113.{i}")).await, 200);
    }
    assert_eq!(trust_status(&direct, "203.0.113.99").await, 429);
}

#[tokio::test]
async fn stamping_is_served_while_an_anonymous_flood_is_refused() {
    let app = spawn_app_with(|c| {
        c.limits.verify = rate(100_000, 100_000);
        c.limits.verify_concurrency = 1;
        c.limits.public_concurrency = 4;
        c.limits.queue_wait = Duration::from_millis(50);
        c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    let d = department_with_seal(&app, "福州市行政审批局").await;
    // Something worth verifying: a stamped PDF, re-verified by every flooder.
    let r = stamp(
        &app,
        &d.token,
        plain_pdf("flood"),
        &fields(&d.seal_id),
        None,
    )
    .await;
    assert_eq!(r.status(), 200);
    let stamped = r.bytes().await.unwrap().to_vec();

    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut flood = Vec::new();
    for n in 0..48 {
        let (http, url, body, stop) = (
            app.http.clone(),
            app.url.clone(),
            stamped.clone(),
            stop.clone(),
        );
        flood.push(tokio::spawn(async move {
            let mut statuses = BTreeMap::<u16, u32>::new();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                // A distributed flood: every request from another address.
                let r = http
                    .post(format!("{url}/v1/verify"))
                    .header(
                        "x-forwarded-for",
                        format!("10.{}.{}.1", n, statuses.values().sum::<u32>() % 250),
                    )
                    .header("content-type", "application/pdf")
                    .body(body.clone())
                    .send()
                    .await;
                if let Ok(r) = r {
                    let status = r.status().as_u16();
                    if status == 503 {
                        assert_eq!(r.headers()["retry-after"], "1", "503 says when to retry");
                    }
                    *statuses.entry(status).or_default() += 1;
                }
            }
            statuses
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut slowest = Duration::ZERO;
    for i in 0..8 {
        let started = Instant::now();
        let r = stamp(
            &app,
            &d.token,
            plain_pdf(&format!("during the flood {i}")),
            &fields(&d.seal_id),
            None,
        )
        .await;
        slowest = slowest.max(started.elapsed());
        assert_eq!(r.status(), 200, "authenticated stamping during the flood");
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut statuses = BTreeMap::<u16, u32>::new();
    for task in flood {
        for (status, n) in task.await.unwrap() {
            *statuses.entry(status).or_default() += n;
        }
    }
    println!("flood answers: {statuses:?}; slowest stamp during it: {slowest:?}");
    assert!(
        statuses.get(&503).copied().unwrap_or(0) > 0,
        "the flood hit the limits: {statuses:?}"
    );
    assert!(
        statuses.get(&200).copied().unwrap_or(0) > 0,
        "some verifications were served: {statuses:?}"
    );
    assert!(
        slowest < Duration::from_secs(10),
        "stamping kept going: {slowest:?}"
    );
}

/// Every file under `dir` with its modification time and length.
fn files(dir: &Path) -> BTreeMap<PathBuf, (SystemTime, u64)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let entry = entry.unwrap();
            let meta = entry.metadata().unwrap();
            if meta.is_dir() {
                stack.push(entry.path());
            } else {
                out.insert(entry.path(), (meta.modified().unwrap(), meta.len()));
            }
        }
    }
    out
}

/// The row count of every table of the database.
async fn row_counts(app: &TestApp) -> BTreeMap<String, i64> {
    use sqlx::Row as _;
    let pool = &app.state.db.pool;
    let list = match app.state.db.backend {
        govseal::store::Backend::Sqlite => {
            "SELECT name AS t FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        }
        govseal::store::Backend::Postgres => {
            "SELECT tablename::text AS t FROM pg_tables WHERE schemaname = current_schema()"
        }
    };
    let tables: Vec<String> = sqlx::query(list)
        .fetch_all(pool)
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get("t").unwrap())
        .collect();
    assert!(tables.len() > 10, "{tables:?}");
    let mut counts = BTreeMap::new();
    for table in tables {
        let n: i64 = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) AS n FROM {table}"
        )))
        .fetch_one(pool)
        .await
        .unwrap()
        .try_get("n")
        .unwrap();
        counts.insert(table, n);
    }
    counts
}

#[tokio::test]
async fn public_gets_sign_nothing_write_nothing_and_never_sequence() {
    let app = spawn_app().await;
    let i = issuer(&app, "福州市市场监督管理局").await;
    define_business_license(&app, &[&i.id]).await;
    let mut ids = Vec::new();
    for _ in 0..2 {
        let r = app
            .post(
                "/v1/licenses",
                Some(&i.token),
                &business_license(&i.seal_id),
            )
            .await;
        assert_eq!(r.status(), 201);
        let v: Value = r.json().await.unwrap();
        ids.push(v["id"].as_str().unwrap().to_string());
    }
    let r = app
        .post(
            &format!("/v1/licenses/{}/suspend", ids[1]),
            Some(&i.token),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), 200);
    // The status change published a snapshot before it answered.
    let snapshot: Value = app
        .get("/v1/license-status", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(snapshot["suspended"], json!([ids[1]]));
    let record = app
        .get(&format!("/v1/licenses/{}/record", ids[0]), Some(&i.token))
        .await
        .bytes()
        .await
        .unwrap();
    let qr = govseal::license::qr::qr_url(&app.url, &record);
    let payload = qr.rsplit('/').next().unwrap().to_string();
    app.sequenced().await;
    // Let a sequencer tick that may have begun finish its files.
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let files_before = files(app.dir.path());
    let rows_before = row_counts(&app).await;
    let gets = [
        "/v1/license-status".to_string(),
        format!("/v/{payload}"),
        format!("/v/{payload}?lang=en"),
        "/v1/trust".into(),
        "/v1/crl/root".into(),
        "/v1/crl/issuing-ca".into(),
        "/v1/log/checkpoint".into(),
        "/v1/log/entries?start=0&end=5".into(),
        "/v1/log/proof/inclusion?index=0".into(),
        "/v1/log/proof/inclusion?subject=unknown".into(),
        "/v1/log/proof/consistency?first=1&second=2".into(),
        "/verify".into(),
        "/healthz".into(),
    ];
    let mut snapshots = std::collections::BTreeSet::new();
    for round in 0..6 {
        for path in &gets {
            let r = app.get(path, None).await;
            let expected = if path.ends_with("subject=unknown") {
                404
            } else {
                200
            };
            assert_eq!(r.status(), expected, "GET {path}");
            if path == "/v1/license-status" {
                let v: Value = r.json().await.unwrap();
                snapshots.insert(v["cose_base64"].as_str().unwrap().to_string());
            }
        }
        // The verification API reads the same published data.
        let r = app
            .http
            .post(format!("{}/v1/verify", app.url))
            .header("content-type", "text/plain")
            .body(qr.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "round {round}");
        let report: Value = r.json().await.unwrap();
        assert_eq!(report["indication"], "TOTAL-PASSED", "{report}");
    }
    assert_eq!(
        snapshots.len(),
        1,
        "the snapshot is served, not re-signed, on a GET"
    );
    assert_eq!(row_counts(&app).await, rows_before, "no GET wrote a row");
    assert_eq!(files(app.dir.path()), files_before, "no GET wrote a file");

    // An entry recorded but not yet under a checkpoint is not sequenced by
    // the GET: 404 not_yet_sequenced with Retry-After (the sequencer ticks
    // every second, so one of a few tries lands before it).
    let mut refused = false;
    for _ in 0..5 {
        let d = app.create_department("福州市测试局").await;
        let serial = d["certificate_serial"].as_str().unwrap();
        let r = app
            .get(&format!("/v1/log/proof/inclusion?subject={serial}"), None)
            .await;
        if r.status() == 404 {
            assert_eq!(r.headers()["retry-after"], "1");
            expect_error(r, 404, "not_yet_sequenced").await;
            refused = true;
            break;
        }
    }
    assert!(refused, "an unsequenced entry was proven by a GET");
    app.sequenced().await;
}

#[tokio::test]
async fn each_status_change_is_published_before_it_is_answered_even_in_a_burst() {
    let app = spawn_app().await;
    let i = issuer(&app, "福州市鼓楼区市场监督管理局").await;
    define_business_license(&app, &[&i.id]).await;
    let mut ids = Vec::new();
    for _ in 0..8 {
        let r = app
            .post(
                "/v1/licenses",
                Some(&i.token),
                &business_license(&i.seal_id),
            )
            .await;
        assert_eq!(r.status(), 201);
        let v: Value = r.json().await.unwrap();
        ids.push(v["id"].as_str().unwrap().to_string());
    }
    let changes: Vec<_> = ids
        .iter()
        .map(|id| {
            let (http, url, token, id) = (
                app.http.clone(),
                app.url.clone(),
                i.token.clone(),
                id.clone(),
            );
            tokio::spawn(async move {
                let r = http
                    .post(format!("{url}/v1/licenses/{id}/suspend"))
                    .bearer_auth(&token)
                    .json(&json!({}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
                // Answered: the served snapshot already lists it.
                let snapshot: Value = http
                    .get(format!("{url}/v1/license-status"))
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                assert!(
                    snapshot["suspended"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|s| s == &id),
                    "{id} not in {snapshot}"
                );
            })
        })
        .collect();
    for change in changes {
        change.await.unwrap();
    }
    // The files in certs/ say the same.
    let published: Value =
        serde_json::from_slice(&std::fs::read(app.certs().join("license-status.json")).unwrap())
            .unwrap();
    assert_eq!(published["suspended"].as_array().unwrap().len(), ids.len());
}

#[tokio::test]
async fn metrics_are_for_the_admin_and_describe_the_service() {
    let app = spawn_app_with(|c| c.limits.pages = rate(1, 1)).await;
    let d = department_with_seal(&app, "福州市大数据管理局").await;
    expect_error(app.get("/metrics", None).await, 401, "unauthorized").await;
    expect_error(app.get("/metrics", Some(&d.token)).await, 403, "forbidden").await;
    // A rate-limited QR page, and a 404 under a random path.
    for _ in 0..2 {
        app.get("/v/HC1-some-payload-with-a-unique-value-9z", None)
            .await;
    }
    app.get("/no/such/path/4f1d2a", None).await;
    app.get("/v1/trust", None).await;
    let r = app.get("/metrics", Some(&app.admin_token)).await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = r.text().await.unwrap();
    for needle in [
        r#"govseal_http_requests_total{method="GET",route="/v1/trust",status="200"}"#,
        r#"route="/v/{payload}",status="429""#,
        r#"govseal_http_request_duration_seconds_bucket{method="GET",route="/v1/trust",le="0.1"}"#,
        r#"govseal_rate_limited_total{kind="page"}"#,
        "govseal_cpu_pool_queue_depth",
        "govseal_log_size",
        "govseal_log_checkpoint_age_seconds",
        r#"govseal_crl_next_update_seconds{ca="issuing-ca"}"#,
        "govseal_license_status_next_update_seconds",
        "govseal_rate_limit_tracked_addresses",
    ] {
        assert!(text.contains(needle), "{needle} missing from\n{text}");
    }
    // Routes, never raw URLs: a scanner cannot grow the label set.
    assert!(!text.contains("unique-value-9z") && !text.contains("4f1d2a"));
    assert!(text.contains(r#"route="unmatched""#));
    let api: Value = app.get("/openapi.json", None).await.json().await.unwrap();
    assert!(api["paths"]["/metrics"]["get"].is_object());
    assert!(api["paths"]["/v1/verify"]["post"]["responses"]["429"].is_object());
}

#[tokio::test]
async fn the_tsa_can_be_reserved_for_department_clients() {
    let app = spawn_app_with(|c| c.tsa_access = govseal::config::TsaAccess::Clients).await;
    let d = department_with_seal(&app, "福州市档案馆").await;
    let request = |token: Option<&str>| {
        let mut r = app
            .http
            .post(format!("{}/v1/tsa", app.url))
            .header("content-type", "application/timestamp-query")
            .body(vec![0x30, 0x00]);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send()
    };
    expect_error(request(None).await.unwrap(), 401, "unauthorized").await;
    expect_error(
        request(Some("gsk_not-a-token")).await.unwrap(),
        401,
        "unauthorized",
    )
    .await;
    let r = request(Some(&d.token)).await.unwrap();
    assert_eq!(
        r.status(),
        200,
        "a client's request is answered (a rejection TimeStampResp for this one)"
    );
    assert_eq!(r.headers()["content-type"], "application/timestamp-reply");

    // Public by default, under its own limit.
    let public = spawn_app_with(|c| c.limits.tsa = rate(1, 1)).await;
    let post = || {
        public
            .http
            .post(format!("{}/v1/tsa", public.url))
            .header("content-type", "application/timestamp-query")
            .body(vec![0x30, 0x00])
            .send()
    };
    assert_eq!(post().await.unwrap().status(), 200);
    let r = post().await.unwrap();
    assert!(r.headers().contains_key("retry-after"));
    expect_error(r, 429, "rate_limited").await;
}

#[test]
fn config_debug_shows_no_secret() {
    let mut config = Config::new("/srv/govseal".into());
    let admin = "admin-token-that-must-not-leak-0123456789";
    let master = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
    config.admin_token = Some(admin.into());
    config.master_key = Some(master.into());
    config.database_url = Some("postgres://govseal:db-password-x7@db.internal:5432/govseal".into());
    let shown = format!("{config:?} {config:#?}");
    for secret in [admin, master, "db-password-x7"] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
    assert!(shown.contains("REDACTED"));
    assert!(
        shown.contains("db.internal"),
        "the rest stays visible: {shown}"
    );
}
