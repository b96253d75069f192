//! Verification figures (issue 5): `cargo bench --bench verify`.
//!
//! Every rate is measured on one thread (one core), as the median of several
//! rounds, next to a baseline measured in the same run — the machine is
//! shared and noisy, so the ratios are the figures to compare:
//!
//! - **baseline**: a bare ring ECDSA P-256 signature verification, the
//!   floor of any license check (its COSE signature is one such).
//! - **license QR**: [`verify_license_text`] on the text of a 12-field
//!   business license's QR code — decompression, COSE_Sign1, `kid` lookup,
//!   the seal's chain to the root, the signed status snapshot, expiry.
//! - **stamped PDF**: [`verify_pdf`] on a one-page PDF stamped at PAdES B-LT
//!   — ByteRange, digest, CMS, signing-certificate-v2, chain with the DSS
//!   CRLs, the RFC 3161 time-stamp and its TSA chain, change analysis of the
//!   DSS revision.
//! - **adversarial** (`GOVSEAL_BENCH_ONLY=adversarial` runs only this): the
//!   cost families of issue 15 at four sizes each — object streams that
//!   inflate far beyond the file, a page with a huge `/Annots`, many
//!   signature fields, a cross-reference table listing one object many
//!   times — as time per input MB, to show linear growth (or a flat cost
//!   where a budget cuts the work short).
//! - **pyHanko** (if installed): `benches/pyhanko_validate.py` validates the
//!   same file in one long-lived Python process with
//!   `validate_pdf_ltv_signature` (PAdES-LT, revocation from the DSS), so its
//!   start-up is not counted against it.

#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;
use std::process::Command;
use std::time::Instant;

use common::licenses::{business_license, define_business_license, issuer};
use common::stamping::{department_with_seal, plain_pdf, stamp};
use govseal::license::qr::qr_url;
use govseal::verify::{Indication, LicenseOptions, TrustStore, verify_license_text, verify_pdf};
use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair,
    UnparsedPublicKey,
};
use serde_json::Value;

const ROUNDS: usize = 7;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Runs `f` `n` times per round; the median rate per second.
fn rate(n: usize, mut f: impl FnMut()) -> f64 {
    f(); // warm caches
    median(
        (0..ROUNDS)
            .map(|_| {
                let started = Instant::now();
                for _ in 0..n {
                    f();
                }
                n as f64 / started.elapsed().as_secs_f64()
            })
            .collect(),
    )
}

/// Bare ECDSA P-256 verifications per second on one core.
fn ring_verify_rate(n: usize) -> f64 {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let key =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();
    let message = [7u8; 600];
    let signature = key.sign(&rng, &message).unwrap();
    let public = UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, key.public_key().as_ref());
    rate(n, || {
        public
            .verify(black_box(&message), black_box(signature.as_ref()))
            .unwrap()
    })
}

/// pyHanko's validations per second of `pdf`, or why it could not run.
fn pyhanko_rate(pdf: &std::path::Path, certs: &std::path::Path, n: usize) -> Result<f64, String> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/pyhanko_validate.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(pdf)
        .arg(certs)
        .arg(n.to_string())
        .arg(ROUNDS.to_string())
        .output()
        .map_err(|e| format!("python3: {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
    }
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .map_err(|e| format!("pyhanko_validate.py printed no rate: {e}"))
}

/// Median seconds of `rounds` runs of `f`.
fn seconds(rounds: usize, mut f: impl FnMut()) -> f64 {
    median(
        (0..rounds)
            .map(|_| {
                let started = Instant::now();
                f();
                started.elapsed().as_secs_f64()
            })
            .collect(),
    )
}

/// The adversarial families at four sizes each, as time per input MB.
fn adversarial(signed: &[u8], store: &TrustStore, quick: bool) {
    use common::costly::{duplicate_xref_entries, many_annotations, object_stream_bomb};
    let at = time::OffsetDateTime::now_utc();
    let rounds = if quick { 1 } else { 5 };
    let report = |family: &str, size: String, pdf: &[u8]| {
        let mut last = None;
        let t = seconds(rounds, || {
            last = Some(verify_pdf(black_box(pdf), store, at))
        });
        let r = last.unwrap();
        let mb = pdf.len() as f64 / 1e6;
        println!(
            "adversarial {family:<28} {size:>10}: {:>9} bytes, {:>8.1} ms, {:>8.1} ms/MB — {}",
            pdf.len(),
            t * 1e3,
            t * 1e3 / mb,
            r.indication.as_str()
        );
    };
    let scale = if quick { 1 } else { 4 };
    for streams in [25, 50, 100, 200] {
        let pdf = object_stream_bomb(streams / scale.min(streams), 16 * 1024 * 1024);
        report("object streams × 16 MiB", format!("{streams}"), &pdf);
    }
    for n in [20_000, 40_000, 80_000, 160_000] {
        let pdf = many_annotations(signed, n / scale);
        report("annotation references", format!("{n}"), &pdf);
    }
    for n in [10_000, 20_000, 40_000, 80_000] {
        let pdf = duplicate_xref_entries(signed, n / scale);
        report("xref entries for one object", format!("{n}"), &pdf);
    }
    for n in [12u32, 25, 50, 100] {
        let pdf = common::costly::many_signature_fields(signed, n);
        report("signature fields", format!("{n}"), &pdf);
    }
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` runs this too: keep it quick then.
    let quick = !std::env::args().any(|a| a == "--bench");
    let only = std::env::var("GOVSEAL_BENCH_ONLY").unwrap_or_default();
    let scale = if quick { 1 } else { 100 };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let app = runtime.block_on(common::spawn_app());
    let (qr_text, pdf) = runtime.block_on(async {
        let d = issuer(&app, "福州市鼓楼区市场监督管理局").await;
        define_business_license(&app, &[&d.id]).await;
        let r = app
            .post(
                "/v1/licenses",
                Some(&d.token),
                &business_license(&d.seal_id),
            )
            .await;
        assert_eq!(r.status(), 201);
        let view: Value = r.json().await.unwrap();
        let id = view["id"].as_str().unwrap();
        let record = app
            .get(&format!("/v1/licenses/{id}/record"), Some(&d.token))
            .await
            .bytes()
            .await
            .unwrap();
        let qr = qr_url(&app.state.config.public_url, &record);

        let dept = department_with_seal(&app, "福州市行政审批局").await;
        let r = stamp(
            &app,
            &dept.token,
            plain_pdf("Approval"),
            &[
                ("seal_id", &dept.seal_id),
                ("page", "1"),
                ("x", "200"),
                ("y", "150"),
            ],
            None,
        )
        .await;
        assert_eq!(r.status(), 200);
        (qr, r.bytes().await.unwrap().to_vec())
    });
    let store = TrustStore::load(&app.certs()).expect("trust bundle");
    let options = LicenseOptions::now();

    // Each figure is only meaningful if the verification succeeds.
    let report = verify_license_text(&qr_text, &store, &options);
    assert_eq!(
        report.indication,
        Indication::TotalPassed,
        "{}",
        report.summary()
    );
    let report = verify_pdf(&pdf, &store, options.at);
    assert_eq!(
        report.indication,
        Indication::TotalPassed,
        "{}",
        report.summary()
    );

    if only == "adversarial" || only.is_empty() {
        adversarial(&pdf, &store, quick);
        if only == "adversarial" {
            return;
        }
    }

    let ring = ring_verify_rate(20 * scale);
    println!("baseline: ring ECDSA P-256 verify {ring:.0}/s on one core");
    let qr = rate(10 * scale, || {
        black_box(verify_license_text(black_box(&qr_text), &store, &options));
    });
    println!(
        "license QR ({} characters) verified offline: {qr:.0}/s on one core = {:.2} × ring verify",
        qr_text.len(),
        qr / ring
    );
    let at = options.at;
    let pdf_rate = rate(2 * scale, || {
        black_box(verify_pdf(black_box(&pdf), &store, at));
    });
    println!(
        "stamped PDF (B-LT, {} bytes) verified in process: {pdf_rate:.0}/s on one core = {:.3} × ring verify",
        pdf.len(),
        pdf_rate / ring
    );

    let path = app.dir.path().join("bench-stamped.pdf");
    std::fs::write(&path, &pdf).unwrap();
    match pyhanko_rate(&path, &app.certs(), if quick { 1 } else { 20 }) {
        Ok(py) => println!(
            "pyHanko adesverify (in one Python process) on the same file: {py:.1}/s; govseal / pyHanko = {:.0}×",
            pdf_rate / py
        ),
        Err(why) => println!("pyHanko: SKIPPED ({why})"),
    }
}
