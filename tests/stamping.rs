//! Stamping over HTTP, checked by tools we did not write (qpdf, pdfsig,
//! pyHanko — ../shared/interop/check-pdf.sh — and OpenSSL for the TSA).

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::stamping::{department_with_seal, plain_pdf, stamp};
use common::{TestApp, expect_error, interop, spawn_app};
use serde_json::{Value, json};

/// The same document rewritten by qpdf with object streams and a cross-reference stream.
fn qpdf_xref_stream(dir: &Path, input: &[u8]) -> Vec<u8> {
    let a = dir.join("plain.pdf");
    let b = dir.join("xref-stream.pdf");
    std::fs::write(&a, input).unwrap();
    let st = Command::new("qpdf")
        .args(["--object-streams=generate"])
        .arg(&a)
        .arg(&b)
        .status()
        .unwrap();
    assert!(st.success());
    std::fs::read(b).unwrap()
}

fn check_pdf(app: &TestApp, pdf: &[u8], name: &str, ltv: bool) -> String {
    let path: PathBuf = app.dir.path().join(name);
    std::fs::write(&path, pdf).unwrap();
    let root = app.certs().join("root.pem");
    let issuing = app.certs().join("issuing-ca.pem");
    let tsa = app.certs().join("tsa.pem");
    let env: &[(&str, &str)] = if ltv { &[("LTV", "1")] } else { &[] };
    let (ok, out) = interop::run("check-pdf.sh", &[&path, &root, &issuing, &tsa], env);
    assert!(ok, "check-pdf.sh {name} (LTV={ltv}):\n{out}");
    out
}

/// B-LTA: poppler's pdfsig (22.x) cannot verify an RFC 3161 document
/// time-stamp ("Signature has not yet been verified"), so check-pdf.sh cannot
/// pass as a whole. Instead: the B-LT revision underneath passes check-pdf.sh
/// with LTV=1; the whole file passes qpdf and pyHanko's validation and offline
/// AdES validation; and the document time-stamp token verifies with
/// `openssl ts -verify` over exactly its byte ranges.
fn check_b_lta(app: &TestApp, pdf: &[u8]) {
    let sigs = govseal::pdf::signatures(pdf).expect("signatures");
    assert_eq!(sigs.len(), 2, "a signature and a document time-stamp");
    let doc_ts = sigs
        .iter()
        .find(|s| s.sub_filter.as_deref() == Some("ETSI.RFC3161"))
        .expect("doc time-stamp");
    let [a, b, c, d] = doc_ts.byte_range;
    assert_eq!(
        c + d,
        pdf.len(),
        "the document time-stamp covers the whole file"
    );
    // The B-LT document underneath: everything before the time-stamp's update.
    let cades = sigs
        .iter()
        .find(|s| s.sub_filter.as_deref() == Some("ETSI.CAdES.detached"))
        .expect("signature");
    let lt_end = pdf[..a + b]
        .windows(5)
        .rposition(|w| w == b"%%EOF")
        .map(|i| i + 5)
        .expect("%%EOF");
    assert!(lt_end >= cades.revision_end);
    let out = check_pdf(app, &pdf[..lt_end], "stamped-B-LTA-under.pdf", true);
    assert!(out.contains("check-pdf: PASS"), "{out}");
    // The whole file in qpdf and pyHanko.
    let path = app.dir.path().join("stamped-B-LTA.pdf");
    std::fs::write(&path, pdf).unwrap();
    let (_, out) = interop::run(
        "check-pdf.sh",
        &[
            &path,
            &app.certs().join("root.pem"),
            &app.certs().join("issuing-ca.pem"),
            &app.certs().join("tsa.pem"),
        ],
        &[("LTV", "1")],
    );
    for needle in [
        "qpdf: ok",
        "pyhanko validate: ok",
        "pyhanko adesverify (offline, LTV): ok",
    ] {
        assert!(out.contains(needle), "{needle}:\n{out}");
    }
    // The document time-stamp token, verified by OpenSSL over the signed bytes.
    let dir = app.dir.path();
    let data = dir.join("doc-ts-data.bin");
    std::fs::write(&data, [&pdf[a..a + b], &pdf[c..c + d]].concat()).unwrap();
    let token = dir.join("doc-ts-token.der");
    std::fs::write(&token, &doc_ts.contents).unwrap();
    let chain = dir.join("doc-ts-chain.pem");
    let mut pem = std::fs::read_to_string(app.certs().join("issuing-ca.pem")).unwrap();
    pem.push_str(&std::fs::read_to_string(app.certs().join("tsa.pem")).unwrap());
    std::fs::write(&chain, pem).unwrap();
    let out = Command::new("openssl")
        .args(["ts", "-verify", "-token_in", "-in"])
        .arg(&token)
        .arg("-data")
        .arg(&data)
        .arg("-CAfile")
        .arg(app.certs().join("root.pem"))
        .arg("-untrusted")
        .arg(&chain)
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Verification: OK"),
        "openssl ts -verify of the document time-stamp: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

const TOOLS: &[&str] = &[
    "qpdf", "pdfsig", "pyhanko", "certutil", "pdftoppm", "openssl",
];

#[tokio::test]
async fn a_stamped_pdf_validates_offline_in_pdfsig_and_pyhanko_at_every_level() {
    if !interop::available("stamping levels", TOOLS) {
        return;
    }
    let app = spawn_app().await;
    let dept = department_with_seal(&app, "福州市行政审批局").await;
    for (level, ltv) in [
        ("B-B", false),
        ("B-T", false),
        ("B-LT", true),
        ("B-LTA", true),
    ] {
        let r = stamp(
            &app,
            &dept.token,
            plain_pdf("Approval"),
            &[
                ("seal_id", &dept.seal_id),
                ("page", "1"),
                ("x", "450"),
                ("y", "150"),
                ("level", level),
                ("operator", "张三"),
                ("reason", "同意"),
            ],
            None,
        )
        .await;
        assert_eq!(r.status(), 200, "{level}");
        assert_eq!(r.headers()["content-type"], "application/pdf");
        assert!(r.headers().contains_key("govseal-stamp-id"));
        let pdf = r.bytes().await.unwrap().to_vec();
        if level == "B-LTA" {
            check_b_lta(&app, &pdf);
        } else {
            let out = check_pdf(&app, &pdf, &format!("stamped-{level}.pdf"), ltv);
            assert!(out.contains("check-pdf: PASS"), "{out}");
        }
        let has_dss = pdf.windows(4).any(|w| w == b"/DSS");
        assert_eq!(has_dss, ltv, "{level}: DSS present only from B-LT");
        let has_doc_ts = pdf.windows(13).any(|w| w == b"/ETSI.RFC3161");
        assert_eq!(
            has_doc_ts,
            level == "B-LTA",
            "{level}: document time-stamp only at B-LTA"
        );
    }
}

#[tokio::test]
async fn joint_approval_keeps_every_signature_valid_on_foreign_pdfs() {
    if !interop::available("joint approval", TOOLS) {
        return;
    }
    let app = spawn_app().await;
    let first = department_with_seal(&app, "福州市市场监督管理局").await;
    let second = department_with_seal(&app, "福州市卫生健康委员会").await;
    let inputs = [
        ("classic", plain_pdf("Joint approval")),
        (
            "xrefstream",
            qpdf_xref_stream(app.dir.path(), &plain_pdf("Joint")),
        ),
    ];
    for (kind, input) in inputs {
        let r = stamp(
            &app,
            &first.token,
            input,
            &[
                ("seal_id", &first.seal_id),
                ("page", "1"),
                ("x", "200"),
                ("y", "150"),
            ],
            None,
        )
        .await;
        assert_eq!(r.status(), 200, "{kind}: first stamp");
        let once = r.bytes().await.unwrap().to_vec();
        let r = stamp(
            &app,
            &second.token,
            once.clone(),
            &[
                ("seal_id", &second.seal_id),
                ("page", "1"),
                ("x", "400"),
                ("y", "150"),
            ],
            None,
        )
        .await;
        assert_eq!(r.status(), 200, "{kind}: second stamp");
        let twice = r.bytes().await.unwrap().to_vec();
        assert!(
            twice.starts_with(&once),
            "{kind}: the second stamp is an incremental update"
        );
        let out = check_pdf(&app, &twice, &format!("joint-{kind}.pdf"), true);
        assert!(
            out.contains("pdfsig: ok (2 signatures valid and trusted)")
                || out.contains("(3 signatures")
                || out.contains("(4 signatures"),
            "{out}"
        );
    }
}

#[tokio::test]
async fn a_pdf_signed_by_someone_else_stays_valid_after_stamping() {
    if !interop::available("foreign signature", &["openssl", "pyhanko", "pdfsig"]) {
        return;
    }
    let app = spawn_app().await;
    let dept = department_with_seal(&app, "福州市人力资源和社会保障局").await;
    let dir = app.dir.path();
    // A signer that has nothing to do with govseal: openssl key and self-signed cert, pyHanko signature.
    let key = dir.join("foreign-key.pem");
    let cert = dir.join("foreign-cert.pem");
    let st = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "30",
            "-subj",
            "/CN=Foreign Signer",
            "-addext",
            "keyUsage=critical,digitalSignature,nonRepudiation",
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let unsigned = dir.join("foreign-in.pdf");
    let signed = dir.join("foreign-signed.pdf");
    std::fs::write(&unsigned, plain_pdf("Signed elsewhere")).unwrap();
    let out = Command::new("pyhanko")
        .args([
            "sign",
            "addsig",
            "--field",
            "Foreign",
            "pemder",
            "--no-pass",
            "--key",
        ])
        .arg(&key)
        .arg("--cert")
        .arg(&cert)
        .arg(&unsigned)
        .arg(&signed)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pyhanko sign: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let foreign = std::fs::read(&signed).unwrap();

    let r = stamp(
        &app,
        &dept.token,
        foreign.clone(),
        &[
            ("seal_id", &dept.seal_id),
            ("page", "1"),
            ("x", "450"),
            ("y", "150"),
        ],
        None,
    )
    .await;
    assert_eq!(r.status(), 200);
    let stamped = r.bytes().await.unwrap().to_vec();
    assert!(stamped.starts_with(&foreign));
    let path = dir.join("foreign-stamped.pdf");
    std::fs::write(&path, &stamped).unwrap();
    let ps = Command::new("pdfsig").arg(&path).output().unwrap();
    let text = String::from_utf8_lossy(&ps.stdout);
    assert_eq!(
        text.matches("Signature Validation: Signature is Valid")
            .count(),
        2,
        "{text}"
    );
    // pyHanko: both signatures intact; ours trusted under govseal's root, theirs under their own.
    let out = Command::new("pyhanko")
        .args([
            "sign",
            "validate",
            "--pretty-print",
            "--no-revocation-check",
            "--trust",
        ])
        .arg(app.certs().join("root.pem"))
        .arg("--trust")
        .arg(&cert)
        .args(["--other-certs"])
        .arg(app.certs().join("issuing-ca.pem"))
        .arg("--other-certs")
        .arg(app.certs().join("tsa.pem"))
        .arg(&path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text.matches("The signature is cryptographically sound")
            .count(),
        2,
        "{text}"
    );
}

#[tokio::test]
async fn stamping_refuses_bad_requests_precisely_and_replays_idempotently() {
    let app = spawn_app().await;
    let mine = department_with_seal(&app, "福州市自然资源和规划局").await;
    let theirs = department_with_seal(&app, "福州市生态环境局").await;
    let pdf = plain_pdf("Refusals");
    let at = |seal: &str| {
        vec![
            ("seal_id", seal.to_string()),
            ("page", "1".into()),
            ("x", "300".into()),
            ("y", "300".into()),
        ]
    };
    let fields = |v: &Vec<(&'static str, String)>| {
        v.iter().map(|(k, v)| (*k, v.clone())).collect::<Vec<_>>()
    };
    let send = |token: String,
                body: Vec<u8>,
                f: Vec<(&'static str, String)>,
                key: Option<&'static str>| {
        let app = &app;
        async move {
            let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
            stamp(app, &token, body, &f, key).await
        }
    };

    // A seal of another department → 403.
    expect_error(
        send(
            mine.token.clone(),
            pdf.clone(),
            fields(&at(&theirs.seal_id)),
            None,
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    // Not a PDF, a truncated PDF, a page that does not exist → 422 naming the field.
    let m = expect_error(
        send(
            mine.token.clone(),
            b"hello".to_vec(),
            fields(&at(&mine.seal_id)),
            None,
        )
        .await,
        422,
        "invalid_field",
    )
    .await;
    assert!(m.starts_with("file:"), "{m}");
    let m = expect_error(
        send(
            mine.token.clone(),
            pdf[..pdf.len() / 2].to_vec(),
            fields(&at(&mine.seal_id)),
            None,
        )
        .await,
        422,
        "invalid_field",
    )
    .await;
    assert!(m.starts_with("file:"), "{m}");
    let mut page9 = at(&mine.seal_id);
    page9[1].1 = "9".into();
    let m = expect_error(
        send(mine.token.clone(), pdf.clone(), page9, None).await,
        422,
        "invalid_field",
    )
    .await;
    assert!(m.contains("page") || m.contains('9'), "{m}");
    let mut bad_level = at(&mine.seal_id);
    bad_level.push(("level", "B-XL".into()));
    expect_error(
        send(mine.token.clone(), pdf.clone(), bad_level, None).await,
        422,
        "invalid_field",
    )
    .await;
    let mut no_x = at(&mine.seal_id);
    no_x.remove(2);
    let m = expect_error(
        send(mine.token.clone(), pdf.clone(), no_x, None).await,
        422,
        "invalid_field",
    )
    .await;
    assert!(m.starts_with("x:"), "{m}");
    // No credential → 401.
    expect_error(
        send(
            "gsk_wrong".into(),
            pdf.clone(),
            fields(&at(&mine.seal_id)),
            None,
        )
        .await,
        401,
        "unauthorized",
    )
    .await;
    // Nothing was recorded by any of the above.
    let n: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM stamps")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(n.0, 0);

    // Idempotency: the same key returns the same document and record.
    let r1 = send(
        mine.token.clone(),
        pdf.clone(),
        fields(&at(&mine.seal_id)),
        Some("req-42"),
    )
    .await;
    assert_eq!(r1.status(), 200);
    let id1 = r1.headers()["govseal-stamp-id"]
        .to_str()
        .unwrap()
        .to_string();
    let b1 = r1.bytes().await.unwrap();
    let r2 = send(
        mine.token.clone(),
        pdf.clone(),
        fields(&at(&mine.seal_id)),
        Some("req-42"),
    )
    .await;
    assert_eq!(r2.status(), 200);
    assert_eq!(r2.headers()["govseal-stamp-id"].to_str().unwrap(), id1);
    assert_eq!(r2.bytes().await.unwrap(), b1);
    let mut moved = at(&mine.seal_id);
    moved[2].1 = "100".into();
    expect_error(
        send(mine.token.clone(), pdf.clone(), moved, Some("req-42")).await,
        409,
        "idempotency_key_reused",
    )
    .await;
    let n: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM stamps")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(n.0, 1);

    // A suspended seal cannot stamp.
    app.post_owned(
        format!("/v1/seals/{}/suspend", mine.seal_id),
        mine.token.clone(),
    )
    .await;
    expect_error(
        send(
            mine.token.clone(),
            pdf.clone(),
            fields(&at(&mine.seal_id)),
            None,
        )
        .await,
        409,
        "seal_not_active",
    )
    .await;
}

#[tokio::test]
async fn govseal_renders_an_approval_notice_and_stamps_it_over_the_date() {
    if !interop::available(
        "approval notice",
        &["qpdf", "pdfsig", "pyhanko", "certutil", "pdftotext"],
    ) {
        return;
    }
    let app = spawn_app().await;
    let dept = department_with_seal(&app, "福州市行政审批局").await;
    let body = json!({
        "seal_id": dept.seal_id,
        "title": "准予行政许可决定书",
        "document_number": "榕审批〔2026〕123号",
        "addressee": "福州某某科技有限公司：",
        "paragraphs": [
            "你单位于2026年11月20日提出的食品经营许可申请，经审查，符合《中华人民共和国行政许可法》和《食品经营许可和备案管理办法》的规定，本机关决定准予行政许可。",
            "许可事项：预包装食品销售（含冷藏冷冻食品）。有效期五年。"
        ],
        "date": "2026-11-23",
        "operator": "李四"
    });
    let send = |key: &'static str| {
        app.http
            .post(format!("{}/v1/notices", app.url))
            .bearer_auth(&dept.token)
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
    };
    let r = send("notice-1").await.unwrap();
    assert_eq!(r.status(), 200);
    let id = r.headers()["govseal-stamp-id"]
        .to_str()
        .unwrap()
        .to_string();
    let pdf = r.bytes().await.unwrap().to_vec();
    let out = check_pdf(&app, &pdf, "notice.pdf", true);
    assert!(out.contains("check-pdf: PASS"), "{out}");
    // The text is real, extractable Chinese.
    let path = app.dir.path().join("notice.pdf");
    if std::env::var_os("GOVSEAL_KEEP_SEAL").is_some() {
        std::fs::write("/tmp/govseal-notice.pdf", &pdf).unwrap();
    }
    let text = Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .unwrap();
    let text: String = String::from_utf8_lossy(&text.stdout)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    for needle in [
        "准予行政许可决定书",
        "榕审批〔2026〕123号",
        "福州某某科技有限公司",
        "食品经营许可申请",
        "福州市行政审批局",
    ] {
        assert!(text.contains(needle), "{needle} in {text}");
    }
    // The seal's widget is at the bottom right, over the date (lower half of the page, right of centre).
    let sigs = govseal::pdf::signatures(&pdf).unwrap();
    assert_eq!(sigs.len(), 1);
    let rect = widget_rect(&pdf);
    let (cx, cy) = ((rect[0] + rect[2]) / 2.0, (rect[1] + rect[3]) / 2.0);
    assert!(cx > 297.0 && cy < 600.0, "seal centre ({cx}, {cy})");
    // Replaying the same request returns the same document.
    let again = send("notice-1").await.unwrap();
    assert_eq!(again.status(), 200);
    assert_eq!(again.headers()["govseal-stamp-id"].to_str().unwrap(), id);
    // A character the font cannot draw is a 422, not a 500.
    let mut bad = body.clone();
    bad["title"] = json!("准予行政许可决定书😀");
    let r = app.post("/v1/notices", Some(&dept.token), &bad).await;
    expect_error(r, 422, "invalid_field").await;
}

/// The /Rect of the signature widget, read with lopdf.
fn widget_rect(pdf: &[u8]) -> [f32; 4] {
    let doc = lopdf::Document::load_mem(pdf).unwrap();
    for (_, object) in doc.objects.iter() {
        if let Ok(dict) = object.as_dict()
            && dict.get(b"FT").ok().and_then(|v| v.as_name().ok()) == Some(b"Sig".as_slice())
            && let Ok(rect) = dict.get(b"Rect").and_then(|r| r.as_array())
        {
            let n: Vec<f32> = rect.iter().map(|v| v.as_float().unwrap_or(0.0)).collect();
            return [n[0], n[1], n[2], n[3]];
        }
    }
    panic!("no signature widget");
}

#[tokio::test]
async fn an_oversized_upload_is_a_413_with_a_json_body() {
    let app = spawn_app().await;
    let dept = department_with_seal(&app, "福州市住房和城乡建设局").await;
    let mut huge = plain_pdf("Huge");
    huge.resize(51 * 1024 * 1024, b' ');
    let r = stamp(
        &app,
        &dept.token,
        huge,
        &[
            ("seal_id", &dept.seal_id),
            ("page", "1"),
            ("x", "300"),
            ("y", "300"),
        ],
        None,
    )
    .await;
    expect_error(r, 413, "payload_too_large").await;
    let n: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM stamps")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(n.0, 0);
}

#[tokio::test]
async fn the_public_verify_endpoint_reports_and_is_rate_limited() {
    let app = spawn_app().await;
    let dept = department_with_seal(&app, "福州市交通运输局").await;
    let r = stamp(
        &app,
        &dept.token,
        plain_pdf("Verify me"),
        &[
            ("seal_id", &dept.seal_id),
            ("page", "1"),
            ("x", "300"),
            ("y", "300"),
        ],
        None,
    )
    .await;
    assert_eq!(r.status(), 200);
    let stamped = r.bytes().await.unwrap().to_vec();
    let verify = |body: Vec<u8>, content_type: &'static str| {
        app.http
            .post(format!("{}/v1/verify", app.url))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let report: Value = verify(stamped.clone(), "application/pdf")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(report["indication"], "TOTAL-PASSED", "{report}");
    // One flipped byte inside the signed range: the hash no longer matches.
    let mut altered = stamped.clone();
    let at = altered.windows(8).position(|w| w == b"/MediaBo").unwrap();
    altered[at + 1] = b'm';
    let report: Value = verify(altered, "application/pdf")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(report["indication"], "TOTAL-FAILED", "{report}");
    assert_eq!(
        report["signatures"][0]["sub_indication"], "HASH_FAILURE",
        "{report}"
    );
    expect_error(
        verify(b"x".to_vec(), "image/gif").await.unwrap(),
        415,
        "unsupported_media_type",
    )
    .await;
    // The public endpoint is rate-limited per address (burst of 20).
    let mut limited = false;
    for _ in 0..25 {
        let r = verify(b"%PDF-1.7 not really".to_vec(), "application/pdf")
            .await
            .unwrap();
        if r.status() == 429 {
            expect_error(r, 429, "rate_limited").await;
            limited = true;
            break;
        }
    }
    assert!(limited, "the 21st request within a minute is refused");
}
