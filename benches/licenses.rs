//! License issuance figures (issue 4): `cargo bench --bench licenses`.
//!
//! - **baseline**: one bare ring ECDSA P-256 signature, measured in the same
//!   run (every license costs at least three: the COSE record, the PAdES
//!   CMS signature and its RFC 3161 time-stamp).
//! - **in-process issuance** of the 12-field business license on SQLite
//!   (holder, representative and address varied, see `varied`):
//!   the `issue` use case as `POST /v1/licenses` calls it — validation, COSE
//!   record, QR, the A4 certificate PDF, PAdES B-LT with time-stamp and
//!   validation data, the database commit with its log entry — with 1, 4,
//!   16 (as many as the HTTP load below) and 64 issuances in flight (a bulk
//!   issuer: more issuances share each commit).
//! - **HTTP**: `POST /v1/licenses` over loopback against the same server,
//!   16 connections, for `GOVSEAL_LOAD_SECS` (default 60) seconds: rate per
//!   10-second window, latency median and 99th percentile, errors.
//!
//! Figures are medians of several rounds; the machine is shared and noisy,
//! so compare the ratios to the baseline rather than the absolute rates.
//! `GOVSEAL_BENCH_ONLY=inprocess|http` runs one part;
//! `GOVSEAL_BENCH_IN_FLIGHT=16` (a comma-separated list) picks the in-process
//! concurrencies.

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::licenses::{business_license, define_business_license, issuer};
use govseal::access::Principal;
use govseal::license::issue::{self, IssueRequest, LicenseContext};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};

const ROUNDS: usize = 5;
const PER_ROUND: usize = 400;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Bare ECDSA P-256 signatures per second on one core.
fn ring_sign_rate() -> f64 {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let key =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();
    let rates = (0..ROUNDS)
        .map(|_| {
            let started = Instant::now();
            for i in 0..2_000u32 {
                std::hint::black_box(key.sign(&rng, &i.to_be_bytes()).unwrap());
            }
            2_000.0 / started.elapsed().as_secs_f64()
        })
        .collect();
    median(rates)
}

/// The request with the holder, its representative and address changed by
/// `n` (400 combinations of districts, trades and names), so that each
/// certificate sets its own characters as real ones do.
fn varied(request: &IssueRequest, n: u64) -> IssueRequest {
    const DISTRICTS: [&str; 10] = [
        "鼓楼区",
        "台江区",
        "仓山区",
        "晋安区",
        "马尾区",
        "长乐区",
        "闽侯县",
        "连江县",
        "罗源县",
        "闽清县",
    ];
    const TRADES: [&str; 10] = [
        "智慧城市科技服务",
        "海峡物流供应链管理",
        "榕城餐饮管理",
        "闽江建筑工程",
        "华侨医疗器械",
        "东南电子商务",
        "福鼎白茶贸易",
        "三坊七巷文化旅游",
        "乌龙江水产养殖",
        "平潭新能源汽车销售",
    ];
    const PEOPLE: [&str; 4] = ["林晓明", "陈淑芬", "黄志强", "郑雅婷"];
    let (d, t, p) = (
        DISTRICTS[(n % 10) as usize],
        TRADES[(n / 10 % 10) as usize],
        PEOPLE[(n / 100 % 4) as usize],
    );
    let mut request = request.clone();
    let name = format!("福州市{d}{t}有限公司");
    request.holder.name = name.clone();
    request.fields.insert("name".into(), name.into());
    request.fields.insert("rep".into(), p.into());
    request.fields.insert(
        "addr".into(),
        format!(
            "福建省福州市{d}五四路{}号{t}大厦{}层",
            100 + n % 97,
            1 + n % 30
        )
        .into(),
    );
    request
}

/// Licenses per second issued in process with `in_flight` concurrent issuances.
async fn issuance_rate(app: &common::TestApp, request: &IssueRequest, in_flight: usize) -> f64 {
    let state = Arc::new(app.state.clone());
    let mut rates = Vec::new();
    for _ in 0..ROUNDS {
        let next = Arc::new(AtomicU64::new(0));
        let started = Instant::now();
        let workers: Vec<_> = (0..in_flight)
            .map(|_| {
                let (state, next, request) = (state.clone(), next.clone(), request.clone());
                tokio::spawn(async move {
                    let ctx = LicenseContext {
                        db: &state.db,
                        keys: &state.keys,
                        authority: &state.authority,
                        tsa: state.tsa.clone(),
                        public_url: &state.config.public_url,
                    };
                    loop {
                        let n = next.fetch_add(1, Ordering::Relaxed);
                        if n >= PER_ROUND as u64 {
                            break;
                        }
                        issue::issue(&ctx, &Principal::Admin, varied(&request, n), None)
                            .await
                            .expect("issue");
                    }
                })
            })
            .collect();
        for w in workers {
            w.await.unwrap();
        }
        rates.push(PER_ROUND as f64 / started.elapsed().as_secs_f64());
    }
    median(rates)
}

/// `POST /v1/licenses` over loopback for `secs` seconds with `connections`.
async fn http_load(app: &common::TestApp, token: &str, body: serde_json::Value, secs: u64) {
    const CONNECTIONS: usize = 16;
    const WINDOW: Duration = Duration::from_secs(10);
    let url = format!("{}/v1/licenses", app.url);
    let body = Arc::new(serde_json::to_vec(&body).unwrap());
    let started = Instant::now();
    let deadline = started + Duration::from_secs(secs);
    let workers: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            let (url, body, token) = (url.clone(), body.clone(), token.to_string());
            let http = reqwest::Client::new();
            tokio::spawn(async move {
                let (mut done, mut errors) = (Vec::new(), 0u64);
                while Instant::now() < deadline {
                    let sent = Instant::now();
                    let r = http
                        .post(&url)
                        .bearer_auth(&token)
                        .header("content-type", "application/json")
                        .body(body.as_ref().clone())
                        .send()
                        .await;
                    match r {
                        Ok(r) if r.status() == 201 => {
                            let _ = r.bytes().await;
                            done.push((sent.duration_since(started), sent.elapsed()));
                        }
                        Ok(r) => {
                            errors += 1;
                            if errors == 1 {
                                eprintln!(
                                    "HTTP {}: {}",
                                    r.status(),
                                    r.text().await.unwrap_or_default()
                                );
                            }
                        }
                        Err(e) => {
                            errors += 1;
                            if errors == 1 {
                                eprintln!("request failed: {e}");
                            }
                        }
                    }
                }
                (done, errors)
            })
        })
        .collect();
    let (mut done, mut errors) = (Vec::new(), 0);
    for w in workers {
        let (d, e) = w.await.unwrap();
        done.extend(d);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let windows = (secs as u128).div_ceil(WINDOW.as_secs() as u128) as usize;
    let mut per_window = vec![0u64; windows.max(1)];
    for (at, _) in &done {
        let w = (at.as_millis() / WINDOW.as_millis()) as usize;
        if let Some(n) = per_window.get_mut(w) {
            *n += 1;
        }
    }
    let mut latencies: Vec<f64> = done.iter().map(|(_, l)| l.as_secs_f64() * 1e3).collect();
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p) as usize];
    println!(
        "http: {} licenses in {elapsed:.1} s over {CONNECTIONS} connections = {:.0}/s, {errors} errors; latency median {:.1} ms, p99 {:.1} ms",
        done.len(),
        done.len() as f64 / elapsed,
        pct(0.5),
        pct(0.99)
    );
    let windows: Vec<String> = per_window
        .iter()
        .map(|n| format!("{:.0}", *n as f64 / WINDOW.as_secs_f64()))
        .collect();
    println!("http: per 10 s window (/s): {}", windows.join(" "));
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` runs this too: keep it quick then.
    let quick = !std::env::args().any(|a| a == "--bench");
    let only = std::env::var("GOVSEAL_BENCH_ONLY").unwrap_or_default();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let app = common::spawn_app().await;
        let d = issuer(&app, "福州市鼓楼区市场监督管理局").await;
        define_business_license(&app, &[&d.id]).await;
        let body = business_license(&d.seal_id);
        let request: IssueRequest = serde_json::from_value(body.clone()).unwrap();
        if quick {
            let ctx = LicenseContext {
                db: &app.state.db,
                keys: &app.state.keys,
                authority: &app.state.authority,
                tsa: app.state.tsa.clone(),
                public_url: &app.state.config.public_url,
            };
            issue::issue(&ctx, &Principal::Admin, request, None)
                .await
                .expect("issue");
            println!("licenses bench: smoke run passed (use cargo bench for figures)");
            return;
        }
        if only.is_empty() || only == "inprocess" {
            let ring = ring_sign_rate();
            println!("baseline: ring ECDSA P-256 sign {ring:.0}/s on one core");
            let levels = std::env::var("GOVSEAL_BENCH_IN_FLIGHT").unwrap_or_else(|_| "1,4,16,64".into());
            for in_flight in levels.split(',').filter_map(|n| n.trim().parse::<usize>().ok()) {
                let rate = issuance_rate(&app, &request, in_flight).await;
                println!(
                    "in-process issuance, {in_flight} in flight: {rate:.0} licenses/s (median of {ROUNDS} × {PER_ROUND}); ring sign / issuance = {:.1}",
                    ring / rate
                );
            }
        }
        if only.is_empty() || only == "http" {
            let secs = std::env::var("GOVSEAL_LOAD_SECS")
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(60);
            http_load(&app, &d.token, body, secs).await;
        }
    });
}
