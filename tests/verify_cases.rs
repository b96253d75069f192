//! Every ETSI EN 319 102-1 sub-indication the PDF verifier emits, on real
//! artefacts (govseal stamps, and PDFs signed by govseal's PAdES engine
//! under a PKI made here with rcgen), and the shadow attacks of Mainka et
//! al. (NDSS 2021) beyond "hide" and the incremental saving attack variants
//! of Mladenov et al. (NDSS 2019). `tests/verify.rs` has the classic attack
//! classes; this file adds what they leave out.

use crate::common;

use std::process::Command;

use common::TestApp;
use common::attacks::{
    append_revision, append_update, check, check_at, find, ids, sig, stamped, stamped_at_level,
    write,
};
use common::rcgen_pki::TestPki;
use common::spawn_app;
use common::stamping::{department_with_seal, plain_pdf};
use govseal::verify::{Indication, Report, SubIndication, TrustStore, verify_pdf};
use lopdf::{Document, Object};
use rcgen::{ExtendedKeyUsagePurpose, IsCa, KeyUsagePurpose};
use serde_json::Value;
use time::{Duration, OffsetDateTime};

use Indication::{Indeterminate, TotalFailed, TotalPassed};

/// The first signature's CMS as stored in `/Contents` (without the zero padding).
fn first_cms(pdf: &[u8]) -> Vec<u8> {
    govseal::pdf::signatures(pdf).unwrap()[0].contents.clone()
}

/// `pdf` with the first signature's `/Contents` replaced by `cms`, hex in
/// the same placeholder (so the byte range and the digest are unchanged).
fn with_cms(pdf: &[u8], cms: &[u8]) -> Vec<u8> {
    let [_, a, b, _] = govseal::pdf::signatures(pdf).unwrap()[0].byte_range;
    let hex = hex::encode(cms);
    let mut out = pdf.to_vec();
    let slot = &mut out[a + 1..b - 1];
    assert!(hex.len() <= slot.len(), "the CMS fits the placeholder");
    slot.fill(b'0');
    slot[..hex.len()].copy_from_slice(hex.as_bytes());
    out
}

/// `cms` with the lowest bit of the last byte of `part` flipped.
fn flip_last_bit_of(cms: &[u8], part: &[u8]) -> Vec<u8> {
    let mut out = cms.to_vec();
    out[find(cms, part) + part.len() - 1] ^= 1;
    out
}

/// The validity of the first signature's signing certificate.
fn signer_validity(pdf: &[u8]) -> (OffsetDateTime, OffsetDateTime) {
    use x509_parser::prelude::FromDer;
    let cms = govseal::cms::parse(&first_cms(pdf)).unwrap();
    let der = cms.signer_certificate().unwrap();
    let (_, cert) = x509_parser::certificate::X509Certificate::from_der(der).unwrap();
    let time = |t: &x509_parser::time::ASN1Time| {
        OffsetDateTime::from_unix_timestamp(t.timestamp()).unwrap()
    };
    let v = cert.validity();
    (time(&v.not_before), time(&v.not_after))
}

fn findings(report: &Report, i: usize) -> String {
    report.signatures[i].findings.join("\n")
}

/// Asserts signature 0's verdict and that a failure finding contains `text`.
#[track_caller]
fn assert_verdict(report: &Report, expected: (Indication, Option<SubIndication>), text: &str) {
    assert_eq!(sig(report, 0), expected, "{}", report.summary());
    assert_eq!(report.indication, expected.0, "{}", report.summary());
    assert!(
        report.signatures[0]
            .findings
            .iter()
            .any(|f| f.starts_with('✗') && f.contains(text)),
        "no failure finding with {text:?} in:\n{}",
        findings(report, 0)
    );
}

/// Runs `govseal verify --json FILE --trust DIR EXTRA…`; exit code and report.
fn cli(app: &TestApp, trust: &std::path::Path, pdf: &[u8], extra: &[&str]) -> (i32, Value) {
    let path = app.dir.path().join(format!("{}.pdf", uuid::Uuid::new_v4()));
    std::fs::write(&path, pdf).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_govseal"))
        .arg("verify")
        .arg(&path)
        .arg("--trust")
        .arg(trust)
        .arg("--json")
        .args(extra)
        .output()
        .unwrap();
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&out.stderr));
    });
    (out.status.code().unwrap(), report)
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

#[tokio::test]
async fn an_altered_signature_value_or_signed_attribute_is_sig_crypto_failure() {
    let app = spawn_app().await;
    let dept = department_with_seal(&app, "福州市市场监督管理局").await;
    let pdf = stamped(&app, &dept, plain_pdf("Licence granted"), "200").await;
    let cms = first_cms(&pdf);
    let parsed = govseal::cms::parse(&cms).unwrap();
    assert_eq!(check(&app, &with_cms(&pdf, &cms)).indication, TotalPassed);

    // The signature value (ECDSA s) with one bit flipped: the document digest
    // still matches, the signature over the signed attributes does not.
    let altered = with_cms(&pdf, &flip_last_bit_of(&cms, &parsed.signature));
    let report = check(&app, &altered);
    assert_verdict(
        &report,
        (TotalFailed, Some(SubIndication::SigCryptoFailure)),
        "signature does not verify",
    );
    assert!(
        findings(&report, 0).contains("✓ the message digest matches the signed bytes"),
        "{}",
        findings(&report, 0)
    );

    // A signed attribute (the signing-certificate-v2 hash) altered: the same.
    let named = parsed.signing_certificate.as_ref().unwrap();
    let altered = with_cms(&pdf, &flip_last_bit_of(&cms, &named.hash));
    let report = check(&app, &altered);
    assert_verdict(
        &report,
        (TotalFailed, Some(SubIndication::SigCryptoFailure)),
        "signature does not verify",
    );
    assert!(findings(&report, 0).contains("✓ the message digest matches"));
}

#[tokio::test]
async fn outside_the_seal_certificate_validity_only_a_time_stamp_helps() {
    let app = spawn_app().await;
    let dept = department_with_seal(&app, "福州市住房和城乡建设局").await;
    let bare = stamped_at_level(&app, &dept, plain_pdf("B-B"), "100", "B-B").await;
    let lt = stamped(&app, &dept, plain_pdf("B-LT"), "300").await;
    let (not_before, not_after) = signer_validity(&bare);

    // Before notBefore: the certificate is not yet valid at the validation
    // time and no proof of existence can predate it (EN 319 102-1 Table 5:
    // OUT_OF_BOUNDS_NO_POE), with or without a time-stamp.
    let early = not_before - Duration::days(1);
    for pdf in [&bare, &lt] {
        assert_verdict(
            &check_at(&app, pdf, early),
            (Indeterminate, Some(SubIndication::OutOfBoundsNoPoe)),
            "NotYetValid",
        );
    }
    let (code, json) = cli(&app, &app.certs(), &bare, &["--at", &rfc3339(early)]);
    assert_eq!(code, 2, "{json}");
    assert_eq!(
        json["signatures"][0]["sub_indication"],
        "OUT_OF_BOUNDS_NO_POE"
    );
    assert_eq!(json["validation_time"], rfc3339(early));

    // After notAfter: a B-B signature has no proof it was made in time
    // (OUT_OF_BOUNDS_NO_POE); the B-LT one's time-stamp proves it existed
    // while the certificate was valid, and its chain is validated at that
    // time with the CRLs of its DSS (EN 319 102-1 §5.5, §5.6.2.4): it passes.
    let late = not_after + Duration::days(1);
    assert_verdict(
        &check_at(&app, &bare, late),
        (Indeterminate, Some(SubIndication::OutOfBoundsNoPoe)),
        "Expired",
    );
    let report = check_at(&app, &lt, late);
    assert_eq!(report.indication, TotalPassed, "{}", report.summary());
    let gen_time = &report.signatures[0].timestamp.as_ref().unwrap().gen_time;
    assert!(
        findings(&report, 0).contains(&format!(
            "certificate chain to a trust anchor valid at {gen_time}"
        )),
        "{}",
        findings(&report, 0)
    );
    let (code, json) = cli(&app, &app.certs(), &lt, &["--at", &rfc3339(late)]);
    assert_eq!(code, 0, "{json}");
}

#[tokio::test]
async fn a_time_stamp_before_the_certificate_or_after_its_expiry() {
    let app = spawn_app().await;
    let govseal_bundle = TrustStore::load(&app.certs()).unwrap();
    let tsa = app.state.tsa.clone();
    let now = OffsetDateTime::now_utc();

    // Signed and time-stamped a day before the certificate's notBefore: the
    // time-stamp proves the signature predates the certificate — FAILED /
    // NOT_YET_VALID (EN 319 102-1 §5.5.4: best-signature-time before issuance).
    let future = TestPki::new(
        &|p| {
            p.not_before = now + Duration::days(1);
            p.not_after = now + Duration::days(30);
        },
        None,
    );
    let pdf = future.sign(&plain_pdf("signed too early"), Some(&*tsa));
    let at = OffsetDateTime::now_utc();
    let report = verify_pdf(&pdf, &future.trusted_with(&govseal_bundle), at);
    assert!(report.signatures[0].timestamp.as_ref().unwrap().valid);
    assert_verdict(
        &report,
        (TotalFailed, Some(SubIndication::NotYetValid)),
        "NotYetValid",
    );

    // Time-stamped after the certificate expired: the time-stamp only proves
    // the signature existed then, not that it was made after expiry, so the
    // signing time cannot be placed inside the validity interval —
    // INDETERMINATE / OUT_OF_BOUNDS_NO_POE (EN 319 102-1 §5.5.4).
    let expired = TestPki::new(
        &|p| {
            p.not_before = now - Duration::days(10);
            p.not_after = now - Duration::days(1);
        },
        None,
    );
    let pdf = expired.sign(&plain_pdf("signed too late"), Some(&*tsa));
    let at = OffsetDateTime::now_utc();
    let report = verify_pdf(&pdf, &expired.trusted_with(&govseal_bundle), at);
    assert!(report.signatures[0].timestamp.as_ref().unwrap().valid);
    assert_verdict(
        &report,
        (Indeterminate, Some(SubIndication::OutOfBoundsNoPoe)),
        "Expired",
    );
}

#[tokio::test]
async fn certificates_that_break_a_chain_constraint() {
    let app = spawn_app().await;
    let pdf = plain_pdf("signed under a constrained PKI");
    let sane = TestPki::new(&|_| {}, Some(&|_| {}));
    let cases: [(&str, TestPki, &str); 4] = [
        (
            "a leaf that is a CA",
            TestPki::new(
                &|p| p.is_ca = IsCa::Ca(rcgen::BasicConstraints::Unconstrained),
                None,
            ),
            "CaUsedAsEndEntity",
        ),
        (
            "a time-stamping-only leaf",
            TestPki::new(
                &|p| p.extended_key_usages = vec![ExtendedKeyUsagePurpose::TimeStamping],
                None,
            ),
            "a time-stamping certificate cannot sign documents",
        ),
        (
            "a leaf for key encipherment only",
            TestPki::new(
                &|p| p.key_usages = vec![KeyUsagePurpose::KeyEncipherment],
                None,
            ),
            "key usage",
        ),
        (
            "an intermediate that is not a CA",
            TestPki::new(&|_| {}, Some(&|p| p.is_ca = IsCa::ExplicitNoCa)),
            "EndEntityUsedAsCa",
        ),
    ];
    let trust = |pki: &TestPki| {
        let dir = tempfile::tempdir().unwrap();
        pki.write_bundle(dir.path());
        dir
    };
    let dir = trust(&sane);
    let report = verify_pdf(
        &sane.sign(&pdf, None),
        &TrustStore::load(dir.path()).unwrap(),
        OffsetDateTime::now_utc(),
    );
    assert_eq!(report.indication, TotalPassed, "{}", report.summary());
    for (what, pki, text) in &cases {
        let dir = trust(pki);
        let signed = pki.sign(&pdf, None);
        let store = TrustStore::load(dir.path()).unwrap();
        let report = verify_pdf(&signed, &store, OffsetDateTime::now_utc());
        assert_eq!(
            sig(&report, 0),
            (Indeterminate, Some(SubIndication::ChainConstraintsFailure)),
            "{what}: {}",
            report.summary()
        );
        assert!(
            findings(&report, 0).contains(text),
            "{what}: {}",
            findings(&report, 0)
        );
        let (code, json) = cli(&app, dir.path(), &signed, &[]);
        assert_eq!(code, 2, "{what}: {json}");
        assert_eq!(
            json["signatures"][0]["sub_indication"],
            "CHAIN_CONSTRAINTS_FAILURE"
        );
    }
}

fn next_id(doc: &Document) -> u32 {
    doc.trailer.get(b"Size").unwrap().as_i64().unwrap() as u32
}

fn content_stream(text: &str) -> String {
    let ops = format!("BT /F1 14 Tf 72 760 Td ({text}) Tj ET");
    format!("<< /Length {} >>\nstream\n{ops}\nendstream", ops.len())
}

/// A PDF with a text field `amount` (a merged field and widget) on page 1.
fn form_pdf() -> Vec<u8> {
    let pdf = plain_pdf("Payment order");
    let (doc, root, page, _) = ids(&pdf);
    let field = next_id(&doc);
    let mut page_dict = doc.get_dictionary(page).unwrap().clone();
    page_dict.set("Annots", vec![Object::Reference((field, 0))]);
    let mut catalog = doc.get_dictionary(root).unwrap().clone();
    catalog.set(
        "AcroForm",
        lopdf::dictionary! { "Fields" => vec![Object::Reference((field, 0))] },
    );
    append_update(
        &pdf,
        &[
            (root.0, write(&Object::Dictionary(catalog))),
            (page.0, write(&Object::Dictionary(page_dict))),
            (
                field,
                format!(
                    "<< /Type /Annot /Subtype /Widget /FT /Tx /T (amount) /V (100 yuan) \
                     /Rect [72 600 300 630] /P {} 0 R /F 4 >>",
                    page.0
                ),
            ),
        ],
    )
}

#[tokio::test]
async fn shadow_replace_and_hide_and_replace_are_reported() {
    let app = spawn_app().await;
    let dept = department_with_seal(&app, "福州市财政局").await;
    let signed = stamped(&app, &dept, form_pdf(), "300").await;
    assert_eq!(check(&app, &signed).indication, TotalPassed);
    let (doc, root, page, _) = ids(&signed);
    let field = doc
        .objects
        .iter()
        .find(|(_, o)| {
            o.as_dict()
                .is_ok_and(|d| d.get(b"FT").ok() == Some(&Object::Name(b"Tx".to_vec())))
        })
        .map(|(id, _)| *id)
        .unwrap();
    let next = next_id(&doc);
    let expect = |pdf: &[u8], text: &str| {
        assert_verdict(
            &check(&app, pdf),
            (Indeterminate, Some(SubIndication::SigConstraintsFailure)),
            text,
        );
    };

    // Replace: the text field's value.
    let mut value = doc.get_dictionary(field).unwrap().clone();
    value.set("V", Object::string_literal("999999 yuan"));
    let replaced = append_update(&signed, &[(field.0, write(&Object::Dictionary(value)))]);
    expect(
        &replaced,
        &format!("object {} 0 R (/Annot): changed after signing", field.0),
    );

    // Replace: the page's font resources point to another font …
    let mut page_dict = doc.get_dictionary(page).unwrap().clone();
    page_dict.set(
        "Resources",
        lopdf::dictionary! { "Font" => lopdf::dictionary! { "F1" => Object::Reference((next, 0)) } },
    );
    let fonts = append_update(
        &signed,
        &[
            (page.0, write(&Object::Dictionary(page_dict))),
            (
                next,
                "<< /Type /Font /Subtype /Type1 /BaseFont /Symbol >>".into(),
            ),
        ],
    );
    expect(
        &fonts,
        &format!(
            "object {} 0 R (/Page): the page's /Resources changed after signing",
            page.0
        ),
    );
    // … or the font object itself is rewritten.
    let font = doc
        .objects
        .iter()
        .find(|(_, o)| o.as_dict().is_ok_and(|d| d.get(b"BaseFont").is_ok()))
        .map(|(id, _)| *id)
        .unwrap();
    let font_swap = append_update(
        &signed,
        &[(
            font.0,
            "<< /Type /Font /Subtype /Type1 /BaseFont /Symbol >>".into(),
        )],
    );
    expect(
        &font_swap,
        &format!("object {} 0 R (/Font): changed after signing", font.0),
    );

    // Hide-and-replace: a new catalog with a new page tree, named by /Root.
    let catalog = doc.get_dictionary(root).unwrap().clone();
    let (new_root, pages, new_page, new_contents) = (next, next + 1, next + 2, next + 3);
    let tree = |parent: u32| {
        [
            (
                pages,
                format!("<< /Type /Pages /Kids [{new_page} 0 R] /Count 1 >>"),
            ),
            (
                new_page,
                format!(
                    "<< /Type /Page /Parent {parent} 0 R /MediaBox [0 0 595 842] /Contents {new_contents} 0 R \
                     /Resources << /Font << /F1 {} 0 R >> >> >>",
                    font.0
                ),
            ),
            (new_contents, content_stream("Payment refused")),
        ]
    };
    let mut other = catalog.clone();
    other.set("Pages", Object::Reference((pages, 0)));
    let mut objects: Vec<((u32, u16), String)> =
        tree(pages).into_iter().map(|(n, b)| ((n, 0), b)).collect();
    objects.push(((new_root, 0), write(&Object::Dictionary(other.clone()))));
    let hidden = append_revision(&signed, &objects, &[("Root", format!("{new_root} 0 R"))]);
    expect(&hidden, "the trailer's /Root now names another catalog");
    // The same /Root object rewritten with /Pages naming the new page tree.
    let mut objects: Vec<(u32, String)> = tree(pages).into_iter().collect();
    objects.push((root.0, write(&Object::Dictionary(other))));
    let same_root = append_update(&signed, &objects);
    expect(
        &same_root,
        &format!(
            "object {} 0 R (/Catalog): the catalog's /Pages changed after signing",
            root.0
        ),
    );
}

#[tokio::test]
async fn incremental_saving_variants_and_an_allowed_info_update() {
    let app = spawn_app().await;
    let dept = department_with_seal(&app, "福州市档案馆").await;
    // The original has an information dictionary (trailer /Info).
    let plain = plain_pdf("Archive record");
    let info = next_id(&Document::load_mem(&plain).unwrap());
    let with_info = append_revision(
        &plain,
        &[(
            (info, 0),
            "<< /Title (Archive record) /Producer (test) >>".into(),
        )],
        &[("Info", format!("{info} 0 R"))],
    );
    let signed = stamped(&app, &dept, with_info, "200").await;
    let (doc, root, _, contents) = ids(&signed);
    assert_eq!(
        doc.trailer.get(b"Info").unwrap().as_reference().unwrap(),
        (info, 0),
        "the stamp keeps /Info"
    );
    assert_eq!(check(&app, &signed).indication, TotalPassed);
    let expect = |pdf: &[u8], text: &str| {
        assert_verdict(
            &check(&app, pdf),
            (Indeterminate, Some(SubIndication::SigConstraintsFailure)),
            text,
        );
    };
    let malicious = content_stream("Record destroyed");

    // Allowed: a later update that only changes the document information.
    let archived = append_revision(
        &signed,
        &[(
            (info, 0),
            "<< /Title (Archive record, archived) /Producer (archive) >>".into(),
        )],
        &[("Info", format!("{info} 0 R"))],
    );
    let report = check(&app, &archived);
    assert_eq!(report.indication, TotalPassed, "{}", report.summary());
    assert_eq!(report.document.revisions, 5);

    // The content stream rewritten under a new generation number: the
    // signed object 0 generation is gone.
    let regenerated = append_revision(&signed, &[((contents.0, 1), malicious.clone())], &[]);
    expect(&regenerated, &format!("object {} 0 R", contents.0));

    // The same object listed twice in one update's cross-reference table,
    // the original bytes next to new ones, in both orders: whichever entry a
    // reader takes, the verifier must not take the harmless one.
    let original = String::from_utf8_lossy(
        &signed[find(&signed, format!("\n{} 0 obj", contents.0).as_bytes()) + 1..],
    )
    .to_string();
    let original = original
        .split_once(" obj\n")
        .unwrap()
        .1
        .split_once("\nendobj")
        .unwrap()
        .0
        .to_string();
    for pair in [
        [original.clone(), malicious.clone()],
        [malicious.clone(), original.clone()],
    ] {
        let objects: Vec<((u32, u16), String)> = pair
            .into_iter()
            .map(|body| ((contents.0, 0), body))
            .collect();
        let twice = append_revision(&signed, &objects, &[]);
        expect(
            &twice,
            &format!(
                "revision 4 lists object {} more than once in its cross-reference table",
                contents.0
            ),
        );
    }

    // /Info pointed at the page's content stream, which is then rewritten:
    // the exemption for the information dictionary must not cover it.
    let info_content = append_revision(
        &signed,
        &[((contents.0, 0), malicious.clone())],
        &[("Info", format!("{} 0 R", contents.0))],
    );
    expect(
        &info_content,
        &format!("object {} 0 R (stream): changed after signing", contents.0),
    );

    // A new /DSS whose /Certs names the content stream, which is then
    // rewritten: nor must the exemption for validation data.
    let dss = next_id(&doc);
    let mut catalog = doc.get_dictionary(root).unwrap().clone();
    catalog.set("DSS", Object::Reference((dss, 0)));
    let dss_content = append_update(
        &signed,
        &[
            (root.0, write(&Object::Dictionary(catalog))),
            (dss, format!("<< /Certs {} 0 R >>", contents.0)),
            (contents.0, malicious),
        ],
    );
    expect(
        &dss_content,
        &format!("object {} 0 R (stream): changed after signing", contents.0),
    );
}

#[tokio::test]
async fn post_verify_reports_unreadable_and_truncated_pdfs() {
    let app = spawn_app().await;
    let dept = department_with_seal(&app, "福州市公安局").await;
    let signed = stamped(&app, &dept, plain_pdf("Residence permit"), "200").await;
    let post = |body: Vec<u8>| {
        app.http
            .post(format!("{}/v1/verify", app.url))
            .header("content-type", "application/pdf")
            .body(body)
            .send()
    };
    let r = post(signed.clone()).await.unwrap();
    assert_eq!(r.status(), 200);
    let json: Value = r.json().await.unwrap();
    assert_eq!(json["indication"], "TOTAL-PASSED", "{json}");

    for (what, body) in [
        ("garbage", b"this is not a PDF at all".to_vec()),
        (
            "a truncated stamped PDF",
            signed[..signed.len() / 2].to_vec(),
        ),
        ("an empty body", Vec::new()),
    ] {
        let r = post(body).await.unwrap();
        assert_eq!(r.status(), 200, "{what}: a report, not an error");
        let json: Value = r.json().await.unwrap();
        assert_eq!(json["indication"], "TOTAL-FAILED", "{what}: {json}");
        assert_eq!(json["sub_indication"], "FORMAT_FAILURE", "{what}: {json}");
        assert_eq!(json["signatures"], Value::Array(vec![]), "{what}: {json}");
        assert!(
            json["document"]["findings"][0]
                .as_str()
                .unwrap()
                .starts_with('✗'),
            "{what}: {json}"
        );
    }
}
