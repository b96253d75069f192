//! Authenticated stamping under an anonymous flood (issue 17):
//! `cargo bench --bench flood`.
//!
//! One server on loopback with the default limits (anonymous verifications:
//! half the cores; trusted proxy 127.0.0.1 so the flood can come from many
//! addresses, as a distributed one would, and per-address limits alone do
//! not stop it). Stamping one page at B-LT over 16 authenticated
//! connections for `GOVSEAL_LOAD_SECS` (default 20) seconds, first alone,
//! then while `GOVSEAL_FLOOD_CONNECTIONS` (default 64) anonymous
//! connections post adversarial PDFs (a stamped PDF with 20,000 annotation
//! references, and one with 10,000 cross-reference entries for one object)
//! to `POST /v1/verify`, each request from another address. Prints stamping
//! throughput, median, p99 and max latency of both runs, their ratio, and
//! how the flood was answered.

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::stamping::{department_with_seal, plain_pdf};

const STAMPERS: usize = 16;

struct Run {
    stamps: usize,
    errors: u64,
    seconds: f64,
    latencies_ms: Vec<f64>,
}

impl Run {
    fn percentile(&self, p: f64) -> f64 {
        let n = self.latencies_ms.len();
        if n == 0 {
            return f64::NAN;
        }
        self.latencies_ms[((n as f64 - 1.0) * p).round() as usize]
    }

    fn rate(&self) -> f64 {
        self.stamps as f64 / self.seconds
    }

    fn print(&self, label: &str) {
        println!(
            "{label}: {} stamps in {:.1} s over {STAMPERS} connections = {:.0}/s, {} errors; \
             latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            self.stamps,
            self.seconds,
            self.rate(),
            self.errors,
            self.percentile(0.5),
            self.percentile(0.99),
            self.latencies_ms.last().copied().unwrap_or(f64::NAN),
        );
    }
}

fn stamp_form(pdf: &[u8], seal_id: &str) -> reqwest::multipart::Form {
    reqwest::multipart::Form::new()
        .part(
            "file",
            reqwest::multipart::Part::bytes(pdf.to_vec())
                .file_name("doc.pdf")
                .mime_str("application/pdf")
                .unwrap(),
        )
        .text("seal_id", seal_id.to_string())
        .text("page", "1")
        .text("x", "300")
        .text("y", "300")
        .text("level", "B-LT")
}

async fn stamping(url: &str, token: &str, seal_id: &str, secs: u64) -> Run {
    let pdf = Arc::new(plain_pdf("Approval under load"));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(secs);
    let workers: Vec<_> = (0..STAMPERS)
        .map(|_| {
            let (url, token, seal_id, pdf) = (
                format!("{url}/v1/stamp"),
                token.to_string(),
                seal_id.to_string(),
                pdf.clone(),
            );
            let http = reqwest::Client::new();
            tokio::spawn(async move {
                let (mut latencies, mut errors) = (Vec::new(), 0u64);
                while Instant::now() < deadline {
                    let sent = Instant::now();
                    let r = http
                        .post(&url)
                        .bearer_auth(&token)
                        .multipart(stamp_form(&pdf, &seal_id))
                        .send()
                        .await;
                    match r {
                        Ok(r) if r.status() == 200 => {
                            let _ = r.bytes().await;
                            latencies.push(sent.elapsed().as_secs_f64() * 1e3);
                        }
                        Ok(r) => {
                            errors += 1;
                            if errors == 1 {
                                eprintln!("stamp: HTTP {}", r.status());
                            }
                        }
                        Err(e) => {
                            errors += 1;
                            if errors == 1 {
                                eprintln!("stamp failed: {e}");
                            }
                        }
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let (mut latencies_ms, mut errors) = (Vec::new(), 0);
    for w in workers {
        let (l, e) = w.await.unwrap();
        latencies_ms.extend(l);
        errors += e;
    }
    latencies_ms.sort_by(f64::total_cmp);
    Run {
        stamps: latencies_ms.len(),
        errors,
        seconds: started.elapsed().as_secs_f64(),
        latencies_ms,
    }
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` runs this too: keep it quick then.
    let quick = !std::env::args().any(|a| a == "--bench");
    let secs: u64 = if quick {
        2
    } else {
        std::env::var("GOVSEAL_LOAD_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(20)
    };
    let flooders: usize = std::env::var("GOVSEAL_FLOOD_CONNECTIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if quick { 8 } else { 64 });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let app = common::spawn_app_with(|c| {
            c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        })
        .await;
        println!("limits: {:?}", app.state.config.limits);
        let d = department_with_seal(&app, "福州市行政审批局").await;
        // Warm up (first CRL, first time-stamp, connections).
        let warm = stamping(&app.url, &d.token, &d.seal_id, 1).await;
        assert!(warm.stamps > 0, "stamping works");
        let alone = stamping(&app.url, &d.token, &d.seal_id, secs).await;
        alone.print("stamping alone        ");

        // The flood's documents: adversarial PDFs built on a real stamped one.
        let r = reqwest::Client::new()
            .post(format!("{}/v1/stamp", app.url))
            .bearer_auth(&d.token)
            .multipart(stamp_form(&plain_pdf("flood"), &d.seal_id))
            .send()
            .await
            .unwrap();
        let signed = r.bytes().await.unwrap().to_vec();
        let bodies = Arc::new(vec![
            common::costly::many_annotations(&signed, 20_000),
            common::costly::duplicate_xref_entries(&signed, 10_000),
        ]);
        println!(
            "flood: {flooders} connections, adversarial PDFs of {} and {} bytes",
            bodies[0].len(),
            bodies[1].len()
        );
        let stop = Arc::new(AtomicBool::new(false));
        let flood: Vec<_> = (0..flooders)
            .map(|n| {
                let (url, bodies, stop) = (
                    format!("{}/v1/verify", app.url),
                    bodies.clone(),
                    stop.clone(),
                );
                let http = reqwest::Client::new();
                tokio::spawn(async move {
                    let mut answers = BTreeMap::<u16, u64>::new();
                    let mut i = 0usize;
                    while !stop.load(Ordering::Relaxed) {
                        i += 1;
                        let r = http
                            .post(&url)
                            .header(
                                "x-forwarded-for",
                                format!("10.{}.{}.{}", n % 250, (i / 250) % 250, i % 250),
                            )
                            .header("content-type", "application/pdf")
                            .body(bodies[i % bodies.len()].clone())
                            .send()
                            .await;
                        let status = match r {
                            Ok(r) => {
                                let s = r.status().as_u16();
                                let _ = r.bytes().await;
                                s
                            }
                            Err(_) => 0,
                        };
                        *answers.entry(status).or_default() += 1;
                    }
                    answers
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(500)).await;
        let flooded = stamping(&app.url, &d.token, &d.seal_id, secs).await;
        stop.store(true, Ordering::Relaxed);
        let mut answers = BTreeMap::<u16, u64>::new();
        for f in flood {
            for (s, n) in f.await.unwrap() {
                *answers.entry(s).or_default() += n;
            }
        }
        flooded.print("stamping under flood  ");
        println!(
            "flood answers (status: count; 0 = connection error): {answers:?} over {:.1} s",
            flooded.seconds
        );
        println!(
            "under flood / alone: throughput {:.0}%, p99 {:.1} ms vs {:.1} ms",
            100.0 * flooded.rate() / alone.rate(),
            flooded.percentile(0.99),
            alone.percentile(0.99)
        );
    });
}
