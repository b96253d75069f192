//! The verification engine on real govseal output: stamped PDFs pass, and
//! each attack class on PDF signatures (Mladenov et al., NDSS 2019; Mainka
//! et al., NDSS 2021) does not. Also `govseal verify` exit codes.

use crate::common;

use std::process::Command;

use common::attacks::{append_update, check, find, sig, stamped, write};
use common::spawn_app;
use common::stamping::{department_with_seal, plain_pdf};
use govseal::verify::{Indication, SubIndication, TrustStore, verify_pdf};
use serde_json::Value;

use time::OffsetDateTime;

#[tokio::test]
async fn stamped_pdfs_pass_and_every_attack_class_fails() {
    let app = spawn_app().await;
    let first = department_with_seal(&app, "福州市行政审批局").await;
    let second = department_with_seal(&app, "福州市卫生健康委员会").await;
    let once = stamped(&app, &first, plain_pdf("Approval"), "200").await;

    // B-LT by govseal: TOTAL-PASSED, signer and time-stamp reported.
    let report = check(&app, &once);
    assert_eq!(
        report.indication,
        Indication::TotalPassed,
        "{}",
        report.summary()
    );
    let s = &report.signatures[0];
    assert_eq!(report.document.revisions, 3, "original, signature, DSS");
    assert!(
        !s.covers_whole_document,
        "the DSS update follows the signature"
    );
    assert!(s.timestamp.as_ref().is_some_and(|t| t.valid), "{s:?}");
    assert!(s.signer.as_ref().unwrap().subject.contains("CN="), "{s:?}");
    assert_eq!(
        s.revision,
        Some(1),
        "signature covers the revision after the original"
    );

    // Joint approval: both signatures pass; the first is covered by later revisions.
    let twice = stamped(&app, &second, once.clone(), "400").await;
    let report = check(&app, &twice);
    assert_eq!(
        report.indication,
        Indication::TotalPassed,
        "{}",
        report.summary()
    );
    assert_eq!(report.signatures.len(), 2);
    assert!(!report.signatures[0].covers_whole_document);

    // Incremental saving attack: the page's content stream replaced after stamping.
    let (doc, _, page, contents) = common::attacks::ids(&once);
    let text = "BT /F1 14 Tf 72 760 Td (Rejected) Tj ET";
    let isa = append_update(
        &once,
        &[(
            contents.0,
            format!("<< /Length {} >>\nstream\n{text}\nendstream", text.len()),
        )],
    );
    let report = check(&app, &isa);
    assert_ne!(
        report.indication,
        Indication::TotalPassed,
        "{}",
        report.summary()
    );
    assert_eq!(
        sig(&report, 0),
        (
            Indication::Indeterminate,
            Some(SubIndication::SigConstraintsFailure)
        )
    );
    assert!(
        report.signatures[0]
            .findings
            .iter()
            .any(|f| f.contains(&format!("object {} 0 R", contents.0))),
        "{:?}",
        report.signatures[0].findings
    );

    // Shadow attack (hide-and-replace): a new annotation over the page.
    let mut page_dict = doc.get_dictionary(page).unwrap().clone();
    let annots = page_dict.get(b"Annots").unwrap().clone();
    let mut annots = match annots {
        lopdf::Object::Reference(id) => doc.get_object(id).unwrap().as_array().unwrap().clone(),
        other => other.as_array().unwrap().clone(),
    };
    let size = doc.trailer.get(b"Size").unwrap().as_i64().unwrap() as u32;
    annots.push(lopdf::Object::Reference((size, 0)));
    page_dict.set("Annots", annots);
    let page_bytes = write(&lopdf::Object::Dictionary(page_dict));
    let shadow = append_update(
        &once,
        &[
            (page.0, page_bytes),
            (
                size,
                "<< /Type /Annot /Subtype /FreeText /Rect [72 700 300 800] /Contents (Rejected) >>"
                    .into(),
            ),
        ],
    );
    let report = check(&app, &shadow);
    assert_ne!(
        report.indication,
        Indication::TotalPassed,
        "{}",
        report.summary()
    );
    assert!(
        report.signatures[0]
            .findings
            .iter()
            .any(|f| f.contains("not a signature")),
        "{}",
        report.summary()
    );

    // A flipped byte inside the signed range: HASH_FAILURE.
    let mut flipped = once.clone();
    let at = find(&flipped, b"(Approval)");
    flipped[at + 1] = b'B';
    assert_eq!(
        sig(&check(&app, &flipped), 0),
        (Indication::TotalFailed, Some(SubIndication::HashFailure))
    );

    // Signature wrapping: a /ByteRange that leaves bytes unsigned.
    let info = &govseal::pdf::signatures(&once).unwrap()[0];
    let [_, a, b, c] = info.byte_range;
    let mut wrapped = once.clone();
    let at = find(&wrapped, b"/ByteRange");
    let end = at + wrapped[at..].iter().position(|&x| x == b']').unwrap() + 1;
    let old = String::from_utf8_lossy(&wrapped[at..end]).to_string();
    let mut new = format!("/ByteRange [0 {a} {b} {}", c - 40);
    while new.len() + 1 < old.len() {
        new.push(' ');
    }
    new.push(']');
    assert_eq!(new.len(), old.len());
    wrapped[at..end].copy_from_slice(new.as_bytes());
    let report = check(&app, &wrapped);
    assert_ne!(
        report.indication,
        Indication::TotalPassed,
        "{}",
        report.summary()
    );

    // Universal signature forgery: empty /Contents, and a CMS from another document.
    let mut empty = once.clone();
    for byte in &mut empty[a + 1..b - 1] {
        *byte = b'0';
    }
    let report = check(&app, &empty);
    assert_eq!(
        report.indication,
        Indication::TotalFailed,
        "{}",
        report.summary()
    );
    let other = stamped(&app, &first, plain_pdf("Other"), "200").await;
    let other_info = &govseal::pdf::signatures(&other).unwrap()[0];
    let [_, oa, ob, _] = other_info.byte_range;
    assert_eq!(ob - oa, b - a, "same placeholder size");
    let mut foreign = once.clone();
    foreign[a..b].copy_from_slice(&other[oa..ob]);
    assert_eq!(
        sig(&check(&app, &foreign), 0),
        (Indication::TotalFailed, Some(SubIndication::HashFailure))
    );

    // A bundle with another root: NO_CERTIFICATE_CHAIN_FOUND.
    let other_root = rcgen::generate_simple_self_signed(vec!["x".into()]).unwrap();
    let wrong = TrustStore::from_parts(vec![other_root.cert.der().to_vec()], vec![], vec![]);
    let report = verify_pdf(&once, &wrong, OffsetDateTime::now_utc());
    assert_eq!(
        sig(&report, 0),
        (
            Indication::Indeterminate,
            Some(SubIndication::NoCertificateChainFound)
        )
    );

    // Garbage is a FORMAT_FAILURE report, not a panic.
    let report = check(&app, b"%PDF-1.7\n garbage");
    assert_eq!(report.sub_indication, Some(SubIndication::FormatFailure));

    // The CLI: exit codes 0, 1 and 2, JSON on request.
    let dir = app.dir.path();
    let cli = |file: &str, pdf: &[u8], extra: &[&str]| {
        let path = dir.join(file);
        std::fs::write(&path, pdf).unwrap();
        Command::new(env!("CARGO_BIN_EXE_govseal"))
            .arg("verify")
            .arg(&path)
            .arg("--trust")
            .arg(app.certs())
            .args(extra)
            .output()
            .unwrap()
    };
    let ok = cli("ok.pdf", &once, &["--json"]);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    let json: Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert_eq!(json["indication"], "TOTAL-PASSED");
    assert_eq!(json["signatures"][0]["indication"], "TOTAL-PASSED");
    let bad = cli("flipped.pdf", &flipped, &[]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stdout).contains("HASH_FAILURE"));
    let isa_out = cli("isa.pdf", &isa, &[]);
    assert_eq!(
        isa_out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&isa_out.stdout)
    );
}
