//! The fuzz targets' seeds (`fuzz/seeds/<target>/`) and the trust bundle
//! they verify against (`fuzz/fixtures/trust`), made by the project itself
//! through the real server: stamped PDFs, a license record, its QR text and
//! claims, a status snapshot listing a suspended license, a checkpoint, tlog
//! proofs and their entries, and an import CSV.
//!
//! Ignored in the test suite (it rewrites files in the repository); run it
//! when a format changes and commit the result:
//!
//! ```sh
//! cargo test --test integration fuzz_seeds -- --ignored
//! ```

use crate::common;

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::licenses::{business_license, define_business_license, issuer};
use common::stamping::{department_with_seal, plain_pdf, stamp};
use govseal::verify::{Indication, LicenseOptions, TrustStore, verify_license_text, verify_pdf};
use serde_json::{Value, json};

fn write(dir: &Path, target: &str, name: &str, bytes: &[u8]) {
    let dir = dir.join("seeds").join(target);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), bytes).unwrap();
}

/// The embedded payload of a tagged COSE_Sign1.
fn cose_payload(cose: &[u8]) -> Vec<u8> {
    use coset::TaggedCborSerializable as _;
    coset::CoseSign1::from_tagged_slice(cose)
        .unwrap()
        .payload
        .unwrap()
}

/// The `extra` (embedded entry) of a tlog-proof.
fn proof_entry(proof: &str) -> Vec<u8> {
    let line = proof
        .lines()
        .find_map(|l| l.strip_prefix("extra "))
        .unwrap();
    STANDARD.decode(line).unwrap()
}

/// `pdf` stamped at `level` with the seal centred at (`x`, 150): the
/// stamped PDF and its stamp id.
async fn stamped(
    app: &common::TestApp,
    dept: &common::stamping::Department,
    pdf: Vec<u8>,
    level: &str,
    x: &str,
) -> (Vec<u8>, String) {
    let r = stamp(
        app,
        &dept.token,
        pdf,
        &[
            ("seal_id", &dept.seal_id),
            ("page", "1"),
            ("x", x),
            ("y", "150"),
            ("level", level),
        ],
        None,
    )
    .await;
    assert_eq!(r.status(), 200);
    let id = r.headers()["govseal-stamp-id"]
        .to_str()
        .unwrap()
        .to_string();
    (r.bytes().await.unwrap().to_vec(), id)
}

#[tokio::test]
#[ignore = "rewrites fuzz/seeds and fuzz/fixtures; run on purpose"]
async fn write_fuzz_seeds() {
    let fuzz = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    for old in [fuzz.join("seeds"), fuzz.join("fixtures")] {
        let _ = std::fs::remove_dir_all(old);
    }
    let app = common::spawn_app().await;

    // Stamped PDFs: B-B, B-LT (the default), and a second seal on the B-LT one.
    let dept = department_with_seal(&app, "福州市行政审批局").await;
    let plain = plain_pdf("Approval 准予行政许可");
    let (b_b, _) = stamped(&app, &dept, plain.clone(), "B-B", "150").await;
    let (b_lt, b_lt_id) = stamped(&app, &dept, plain.clone(), "B-LT", "200").await;
    let (twice, _) = stamped(&app, &dept, b_lt.clone(), "B-LT", "400").await;
    write(&fuzz, "verify_pdf", "stamped-b-b.pdf", &b_b);
    write(&fuzz, "verify_pdf", "stamped-b-lt.pdf", &b_lt);
    write(&fuzz, "verify_pdf", "stamped-twice.pdf", &twice);
    write(&fuzz, "stamp_input", "plain.pdf", &plain);
    write(&fuzz, "stamp_input", "stamped-b-b.pdf", &b_b);

    // A license: its record, claims and QR text; a second one suspended,
    // so that the status snapshot lists it.
    let d = issuer(&app, "福州市鼓楼区市场监督管理局").await;
    define_business_license(&app, &[&d.id]).await;
    let mut license_ids = Vec::new();
    for _ in 0..2 {
        let r = app
            .post(
                "/v1/licenses",
                Some(&d.token),
                &business_license(&d.seal_id),
            )
            .await;
        assert_eq!(r.status(), 201);
        let view: Value = r.json().await.unwrap();
        license_ids.push(view["id"].as_str().unwrap().to_string());
    }
    let record = app
        .get(
            &format!("/v1/licenses/{}/record", license_ids[0]),
            Some(&d.token),
        )
        .await
        .bytes()
        .await
        .unwrap()
        .to_vec();
    let qr = govseal::license::qr::qr_url(&app.state.config.public_url, &record);
    write(&fuzz, "license_record", "record.cose", &record);
    write(
        &fuzz,
        "license_record",
        "claims.cbor",
        &cose_payload(&record),
    );
    write(&fuzz, "license_qr", "qr-url.txt", qr.as_bytes());
    let r = app
        .post(
            &format!("/v1/licenses/{}/suspend", license_ids[1]),
            Some(&d.token),
            &json!({"reason": "核查中"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let snapshot = std::fs::read(app.certs().join("license-status.cose")).unwrap();
    write(&fuzz, "status_snapshot", "snapshot.cose", &snapshot);
    write(
        &fuzz,
        "status_snapshot",
        "payload.cbor",
        &cose_payload(&snapshot),
    );

    // The log: a checkpoint, its body, the log key, tlog proofs and entries.
    let mut proofs = Vec::new();
    app.sequenced().await;
    for subject in [&b_lt_id, &license_ids[0]] {
        let r = app
            .get(&format!("/v1/log/proof/inclusion?subject={subject}"), None)
            .await;
        assert_eq!(r.status(), 200);
        let body: Value = r.json().await.unwrap();
        proofs.push(body["tlog_proof"].as_str().unwrap().to_string());
    }
    for (name, proof) in ["stamp", "license"].iter().zip(&proofs) {
        write(
            &fuzz,
            "proof_bundle",
            &format!("{name}.tlog-proof"),
            proof.as_bytes(),
        );
        write(
            &fuzz,
            "proof_bundle",
            &format!("{name}-entry.bin"),
            &proof_entry(proof),
        );
    }
    let checkpoint = app
        .get("/v1/log/checkpoint", None)
        .await
        .text()
        .await
        .unwrap();
    for _ in 0..100 {
        let published =
            std::fs::read_to_string(app.certs().join("checkpoint.txt")).unwrap_or_default();
        if published == checkpoint {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let body = &checkpoint[..=checkpoint.rfind("\n\n").unwrap()];
    write(&fuzz, "checkpoint", "checkpoint.txt", checkpoint.as_bytes());
    write(&fuzz, "checkpoint", "body.txt", body.as_bytes());
    let log_key = std::fs::read(app.certs().join("log-key.txt")).unwrap();
    write(&fuzz, "checkpoint", "log-key.txt", &log_key);

    // An import file: good rows, a bad check character, a quoted comma, a
    // missing cell, an extra cell.
    let csv = "holder_name,holder_id_type,holder_id,valid_from,valid_until,name,type,cap,est,addr\n\
         福州甲餐饮有限公司,uscc,91350100M000100Y43,2024-01-01,2028-12-31,福州甲餐饮有限公司,个体工商户,120,2019-03-18,福州市鼓楼区五四路1号\n\
         林晓明,resident,11010519491231002X,,,林晓明,,,,\"福州市台江区, 八一七中路3号\"\n\
         福州乙餐饮有限公司,uscc,91350100M000100Y44,,,福州乙餐饮有限公司,,80.5,2019-02-30,\n\
         福州丙餐饮有限公司,uscc,91110000600037341L,,,,,,,福州市仓山区4号,多余\n";
    write(&fuzz, "import_csv", "rows.csv", csv.as_bytes());

    // The bundle the targets verify against, and the time at which it is current.
    let at = time::OffsetDateTime::now_utc();
    common::copy_bundle(&app, &fuzz.join("fixtures").join("trust"));
    let at_text = at
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    std::fs::write(
        fuzz.join("fixtures").join("validation-time.txt"),
        format!("{at_text}\n"),
    )
    .unwrap();
    drop(app);

    // The seeds reach the end of the verifier: they pass against the fixture.
    let store = TrustStore::load(&fuzz.join("fixtures").join("trust")).unwrap();
    for pdf in [&b_b, &b_lt, &twice] {
        let report = verify_pdf(pdf, &store, at);
        assert_eq!(
            report.indication,
            Indication::TotalPassed,
            "{}",
            report.summary()
        );
    }
    let options = LicenseOptions {
        at,
        allow_stale: false,
    };
    let report = verify_license_text(&qr, &store, &options);
    assert_eq!(
        report.indication,
        Indication::TotalPassed,
        "{}",
        report.summary()
    );
}
