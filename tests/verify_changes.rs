//! The change model of issue 15: every attack family an adversarial review
//! found passing, built in code, and the legitimate later revisions that
//! must keep passing. Documents are signed by govseal's stamper over HTTP
//! and by a signer that is not govseal's (`raw_sign`), which signs inputs
//! govseal's stamper refuses. `pyhanko_differential` puts pyHanko's verdict
//! next to govseal's for every family.

use crate::common;

use std::path::Path;

use common::TestApp;
use common::attacks::{append_revision, append_update, check, find, ids, stamped, write};
use common::costly::object_stream_bomb;
use common::raw_sign::{RawSignature, sign_raw};
use common::rcgen_pki::TestPki;
use common::spawn_app;
use common::stamping::{department_with_seal, plain_pdf, stamp};
use govseal::verify::{Indication, ModificationLevel, Report, TrustStore, verify_pdf};
use lopdf::{Document, Object};
use time::OffsetDateTime;

use Indication::{TotalFailed, TotalPassed};

fn content_stream(text: &str) -> String {
    let ops = format!("BT /F1 14 Tf 72 760 Td ({text}) Tj ET");
    format!("<< /Length {} >>\nstream\n{ops}\nendstream", ops.len())
}

/// A stream whose dictionary claims a bookkeeping role, drawing `text`.
fn disguised_stream(kind: &str, text: &str) -> String {
    let ops = format!("BT /F1 14 Tf 72 760 Td ({text}) Tj ET");
    let claim = match kind {
        "XRef" => "/Type /XRef /Size 1 /W [1 1 1]",
        _ => "/Type /ObjStm /N 0 /First 0",
    };
    format!(
        "<< {claim} /Length {} >>\nstream\n{ops}\nendstream",
        ops.len()
    )
}

fn next_id(doc: &Document) -> u32 {
    doc.trailer.get(b"Size").unwrap().as_i64().unwrap() as u32
}

/// A test PKI and a trust store with only it.
fn outside_signer() -> (TestPki, TrustStore, tempfile::TempDir) {
    let pki = TestPki::new(&|_| {}, None);
    let dir = tempfile::tempdir().unwrap();
    pki.write_bundle(dir.path());
    let store = TrustStore::load(dir.path()).unwrap();
    (pki, store, dir)
}

fn verify(pdf: &[u8], store: &TrustStore) -> Report {
    verify_pdf(pdf, store, OffsetDateTime::now_utc())
}

/// Asserts the report is not TOTAL-PASSED and some failed finding of some
/// signature (or of the document) contains `text`.
#[track_caller]
fn refused(report: &Report, text: &str) {
    assert_ne!(report.indication, TotalPassed, "{}", report.summary());
    let all: Vec<&String> = report
        .signatures
        .iter()
        .flat_map(|s| &s.findings)
        .chain(&report.document.findings)
        .collect();
    assert!(
        all.iter().any(|f| f.starts_with('✗') && f.contains(text)),
        "no failure finding with {text:?} in:\n{}",
        all.iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[track_caller]
fn passes(report: &Report) {
    assert_eq!(
        report.indication,
        TotalPassed,
        "{}\n{:#?}",
        report.summary(),
        report
            .signatures
            .iter()
            .map(|s| &s.findings)
            .collect::<Vec<_>>()
    );
}

/// One attacked document, what govseal must say about it, and what
/// pyHanko 0.38 says (recorded; `pyhanko_differential` checks it).
struct Case {
    family: &'static str,
    pdf: Vec<u8>,
    /// A failed finding govseal must give.
    finding: String,
    /// pyHanko's bottom line on the document, as recorded.
    pyhanko_accepts: bool,
    /// Where the two differ, why govseal is the stricter one.
    why: &'static str,
}

/// The trust bundle of `app` with `pki`'s root and CRL added.
fn combined_bundle(app: &TestApp, pki: &TestPki) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    common::copy_bundle(app, dir.path());
    let pem = pem::encode(&pem::Pem::new("CERTIFICATE", pki.root.clone()));
    let mut roots = std::fs::read_to_string(dir.path().join("root.pem")).unwrap();
    roots.push_str(&pem);
    std::fs::write(dir.path().join("root.pem"), roots).unwrap();
    std::fs::create_dir_all(dir.path().join("crl")).unwrap();
    std::fs::write(dir.path().join("crl/outside.crl"), &pki.crls[0]).unwrap();
    dir
}

fn form_xobject(id: u32) -> (u32, String) {
    let ops = "1 1 1 rg 0 0 595 842 re f 0 0 0 rg BT /F1 40 Tf 80 400 Td (CANCELLED) Tj ET";
    (
        id,
        format!(
            "<< /Type /XObject /Subtype /Form /BBox [0 0 595 842] /Length {} >>\nstream\n{ops}\nendstream",
            ops.len()
        ),
    )
}

/// The page and catalog of `signed` with `field` added to `/Annots` and
/// `/AcroForm /Fields` (as a later update writes them).
fn with_new_field(signed: &[u8], field: u32) -> Vec<(u32, String)> {
    let (doc, root, page, _) = ids(signed);
    let resolve = |o: &Object| -> Vec<Object> {
        match o {
            Object::Array(a) => a.clone(),
            Object::Reference(r) => doc.get_object(*r).unwrap().as_array().unwrap().clone(),
            _ => unreachable!(),
        }
    };
    let mut p = doc.get_dictionary(page).unwrap().clone();
    let mut annots = p.get(b"Annots").map(resolve).unwrap_or_default();
    annots.push(Object::Reference((field, 0)));
    p.set("Annots", annots);
    let mut catalog = doc.get_dictionary(root).unwrap().clone();
    let mut form = match catalog.get(b"AcroForm").unwrap() {
        Object::Reference(r) => doc.get_dictionary(*r).unwrap().clone(),
        Object::Dictionary(d) => d.clone(),
        _ => unreachable!(),
    };
    let mut fields = resolve(form.get(b"Fields").unwrap());
    fields.push(Object::Reference((field, 0)));
    form.set("Fields", fields);
    catalog.set("AcroForm", Object::Dictionary(form));
    vec![
        (page.0, write(&Object::Dictionary(p))),
        (root.0, write(&Object::Dictionary(catalog))),
    ]
}

/// Every attack family of issue 15 on the change model, built in code.
/// govseal stamps; `pki` signs what govseal refuses to stamp.
async fn attack_cases(app: &TestApp, pki: &TestPki) -> Vec<Case> {
    let dept = department_with_seal(app, "福州市不动产登记中心").await;
    let mut cases = Vec::new();
    let plain = plain_pdf("Title deed");
    let (doc, root, page, contents) = ids(&plain);
    let signed = stamped(app, &dept, plain.clone(), "200").await;

    // 1. A signed object redefined as a stream that calls itself bookkeeping.
    for (family, kind) in [
        ("1 /Type /XRef", "XRef"),
        ("1 /Type /ObjStm /N 0", "ObjStm"),
    ] {
        cases.push(Case {
            family,
            pdf: append_update(
                &signed,
                &[(contents.0, disguised_stream(kind, "Deed void"))],
            ),
            finding: format!("object {} 0 R (stream): changed after signing", contents.0),
            pyhanko_accepts: false,
            why: "",
        });
    }

    // 1, on govseal's own license PDF (cross-reference and object streams).
    let issuer = common::licenses::issuer(app, "福州市市场监督管理局").await;
    common::licenses::define_business_license(app, &[&issuer.id]).await;
    let r = app
        .post(
            "/v1/licenses",
            Some(&issuer.token),
            &common::licenses::business_license(&issuer.seal_id),
        )
        .await;
    assert_eq!(r.status(), 201);
    let license: serde_json::Value = r.json().await.unwrap();
    let license_pdf = app
        .get(
            &format!("/v1/licenses/{}/pdf", license["id"].as_str().unwrap()),
            Some(&issuer.token),
        )
        .await
        .bytes()
        .await
        .unwrap()
        .to_vec();
    let license_doc = Document::load_mem(&license_pdf).unwrap();
    let license_page = *license_doc.get_pages().get(&1).unwrap();
    let license_contents = match license_doc
        .get_dictionary(license_page)
        .unwrap()
        .get(b"Contents")
        .unwrap()
    {
        Object::Reference(r) => *r,
        Object::Array(a) => a[0].as_reference().unwrap(),
        _ => unreachable!(),
    };
    cases.push(Case {
        family: "1 /Type /XRef on a license PDF",
        pdf: append_update(
            &license_pdf,
            &[(license_contents.0, disguised_stream("XRef", "Licence void"))],
        ),
        finding: format!(
            "object {} 0 R (stream): changed after signing",
            license_contents.0
        ),
        pyhanko_accepts: false,
        why: "",
    });

    // 2. The signed /DSS /VRI, or the signed /Info, names the page content.
    let dss = next_id(&doc);
    let mut catalog = doc.get_dictionary(root).unwrap().clone();
    catalog.set("DSS", Object::Reference((dss, 0)));
    let with_dss = append_update(
        &plain,
        &[
            (root.0, write(&Object::Dictionary(catalog))),
            (dss, format!("<< /VRI << /ABCD {} 0 R >> >>", contents.0)),
        ],
    );
    let dss_signed = stamped(app, &dept, with_dss, "200").await;
    cases.push(Case {
        family: "2 /DSS /VRI names the content",
        pdf: append_update(&dss_signed, &[(contents.0, content_stream("Deed void"))]),
        finding: format!("object {} 0 R (stream): changed after signing", contents.0),
        pyhanko_accepts: false,
        why: "",
    });
    let with_info = with_info_as(&plain, contents.0);
    let info_signed = sign_raw(&with_info, pki, &RawSignature::default());
    cases.push(Case {
        family: "2 /Info names the content",
        pdf: append_update(&info_signed, &[(contents.0, content_stream("Deed void"))]),
        finding: format!("object {} 0 R (stream): changed after signing", contents.0),
        pyhanko_accepts: false,
        why: "",
    });

    // 3. A dangling reference of the signed page, defined after signing.
    let planted = next_id(&doc) + 5;
    let mut page_dict = doc.get_dictionary(page).unwrap().clone();
    page_dict.set(
        "Contents",
        Object::Array(vec![
            Object::Reference(contents),
            Object::Reference((planted, 0)),
        ]),
    );
    let trap = append_update(&plain, &[(page.0, write(&Object::Dictionary(page_dict)))]);
    let trap_signed = sign_raw(&trap, pki, &RawSignature::default());
    cases.push(Case {
        family: "3 dangling reference defined later",
        pdf: append_update(&trap_signed, &[(planted, content_stream("Deed void"))]),
        finding: format!(
            "object {planted} 0 R (stream): the signed revision references it but it was defined only after signing"
        ),
        pyhanko_accepts: true,
        why: "pyHanko sees only a new object (LTA_UPDATES); the signed page already referenced it, so defining it adds content to the page",
    });

    // 4. Signature fields that are not signatures.
    let next = next_id(&Document::load_mem(&signed).unwrap());
    let mut objects = with_new_field(&signed, next);
    objects.push((
        next,
        format!(
            "<< /Type /Annot /Subtype /Widget /FT /Sig /T (Cover) /F 4 /Rect [0 0 595 842] /P {} 0 R /AP << /N {} 0 R >> >>",
            page.0,
            next + 1
        ),
    ));
    objects.push(form_xobject(next + 1));
    cases.push(Case {
        family: "4a unsigned field, page-covering widget",
        pdf: append_update(&signed, &objects),
        finding: "an unsigned signature field with a visible appearance".into(),
        pyhanko_accepts: true,
        why: "pyHanko calls a new empty signature field form filling; an appearance that covers the page shows content nobody signed",
    });

    // (b) An empty field of the signed revision later gets a full-page /AP.
    let empty = next_id(&doc);
    let mut catalog = doc.get_dictionary(root).unwrap().clone();
    catalog.set(
        "AcroForm",
        Object::Dictionary(
            lopdf::dictionary! { "Fields" => vec![Object::Reference((empty, 0))], "SigFlags" => 3 },
        ),
    );
    let mut page_dict = doc.get_dictionary(page).unwrap().clone();
    page_dict.set("Annots", vec![Object::Reference((empty, 0))]);
    let with_field = append_update(
        &plain,
        &[
            (root.0, write(&Object::Dictionary(catalog))),
            (page.0, write(&Object::Dictionary(page_dict))),
            (
                empty,
                format!(
                    "<< /Type /Annot /Subtype /Widget /FT /Sig /T (Reviewer) /F 4 /Rect [0 0 595 842] /P {} 0 R >>",
                    page.0
                ),
            ),
        ],
    );
    let field_signed = stamped(app, &dept, with_field, "200").await;
    let next_f = next_id(&Document::load_mem(&field_signed).unwrap());
    cases.push(Case {
        family: "4b empty field gets a full-page /AP",
        pdf: append_update(
            &field_signed,
            &[
                (
                    empty,
                    format!(
                        "<< /Type /Annot /Subtype /Widget /FT /Sig /T (Reviewer) /F 4 /Rect [0 0 595 842] /P {} 0 R /AP << /N {next_f} 0 R >> >>",
                        page.0
                    ),
                ),
                form_xobject(next_f),
            ],
        ),
        finding: format!(
            "object {empty} 0 R (/Annot): an unsigned signature field with a visible appearance"
        ),
        pyhanko_accepts: false,
        why: "",
    });

    // (c) A new field whose /V is a stream.
    let mut objects = with_new_field(&signed, next);
    objects.push((
        next,
        format!(
            "<< /Type /Annot /Subtype /Widget /FT /Sig /T (Stream) /F 4 /Rect [0 0 595 842] /P {} 0 R /V {} 0 R /AP << /N {} 0 R >> >>",
            page.0,
            next + 1,
            next + 1
        ),
    ));
    objects.push(form_xobject(next + 1));
    cases.push(Case {
        family: "4c /V is a stream",
        pdf: append_update(&signed, &objects),
        finding: "signature field \"Stream\": its /V is a stream, not a signature dictionary".into(),
        pyhanko_accepts: true,
        why: "pyHanko skips a signature field whose /V is not a signature dictionary and calls the update form filling; a field that pretends to be signed is a forgery to report",
    });

    // (d) A second field copying the first's /ByteRange and /Contents.
    let first = govseal::pdf::signatures(&signed).unwrap()[0].clone();
    let [_, a, b, _] = first.byte_range;
    let contents_hex = String::from_utf8_lossy(&signed[a..b]).to_string();
    let br = first.byte_range.map(|x| x.to_string()).join(" ");
    let mut objects = with_new_field(&signed, next);
    objects.push((
        next,
        format!(
            "<< /Type /Annot /Subtype /Widget /FT /Sig /T (Copy) /F 4 /Rect [0 0 595 842] /P {} 0 R /V {} 0 R /AP << /N {} 0 R >> >>",
            page.0,
            next + 1,
            next + 2
        ),
    ));
    objects.push((
        next + 1,
        format!(
            "<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /Reason (Deed cancelled) /Name (Director) /ByteRange [{br}] /Contents {contents_hex} >>"
        ),
    ));
    objects.push(form_xobject(next + 2));
    cases.push(Case {
        family: "4d copied /ByteRange and /Contents",
        pdf: append_update(&signed, &objects),
        finding: "not part of the revision it signs".into(),
        pyhanko_accepts: false,
        why: "",
    });
    cases
}

/// Every family is refused by the verifier API, `POST /v1/verify`, the
/// upload page and `govseal verify`, naming the object and why.
#[tokio::test]
async fn every_attack_family_is_refused_everywhere() {
    let app = spawn_app().await;
    let (pki, _, _dir) = outside_signer();
    let bundle = combined_bundle(&app, &pki);
    let store = TrustStore::load(bundle.path()).unwrap();
    let cases = attack_cases(&app, &pki).await;
    assert_eq!(cases.len(), 10);
    for case in &cases {
        let report = verify(&case.pdf, &store);
        refused(&report, &case.finding);
        let r = app
            .http
            .post(format!("{}/v1/verify", app.url))
            .header("content-type", "application/pdf")
            .body(case.pdf.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", case.family);
        let json: serde_json::Value = r.json().await.unwrap();
        assert_ne!(
            json["indication"], "TOTAL-PASSED",
            "{}: {json}",
            case.family
        );
        let page = app
            .http
            .post(format!("{}/verify", app.url))
            .multipart(reqwest::multipart::Form::new().part(
                "file",
                reqwest::multipart::Part::bytes(case.pdf.clone()).file_name("doc.pdf"),
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200, "{}", case.family);
        let html = page.text().await.unwrap();
        assert!(
            !html.contains("有效 VALID"),
            "{}: the page says VALID",
            case.family
        );
        let path = bundle.path().join("case.pdf");
        std::fs::write(&path, &case.pdf).unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_govseal"))
            .arg("verify")
            .arg(&path)
            .arg("--trust")
            .arg(bundle.path())
            .output()
            .unwrap();
        assert!(
            matches!(out.status.code(), Some(1 | 2)),
            "{}: exit {:?}",
            case.family,
            out.status.code()
        );
    }
}

/// pyHanko's verdict next to govseal's, family by family. Where pyHanko
/// accepts, the table says why govseal does not.
#[tokio::test]
async fn pyhanko_differential() {
    if !common::interop::available("pyhanko_differential", &["python3", "pyhanko"]) {
        return;
    }
    let app = spawn_app().await;
    let (pki, _, _dir) = outside_signer();
    let bundle = combined_bundle(&app, &pki);
    let store = TrustStore::load(bundle.path()).unwrap();
    let root_pem = bundle.path().join("root.pem");
    let mut table =
        String::from("| family | pyHanko | govseal | why they differ |\n|---|---|---|---|\n");
    let mut wrong = Vec::new();
    for case in attack_cases(&app, &pki).await {
        let report = verify(&case.pdf, &store);
        let verdict = pyhanko_verdict(
            &case.pdf,
            &[&root_pem, &bundle.path().join("issuing-ca.pem")],
        );
        let accepts = pyhanko_accepts(&verdict);
        table.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            case.family,
            if accepts { "accepts" } else { "rejects" },
            report.indication.as_str(),
            case.why
        ));
        assert_ne!(report.indication, TotalPassed, "{}", case.family);
        if accepts != case.pyhanko_accepts {
            wrong.push(format!(
                "{}: pyHanko now {}: {verdict}",
                case.family,
                if accepts { "accepts" } else { "rejects" }
            ));
        }
        if accepts && case.why.is_empty() {
            wrong.push(format!(
                "{}: pyHanko accepts, say why govseal does not: {verdict}",
                case.family
            ));
        }
    }
    eprintln!("{table}");
    assert!(
        wrong.is_empty(),
        "the recorded pyHanko verdicts changed:\n{}",
        wrong.join("\n")
    );
}

/// govseal's stamper refuses uploads it could not protect, naming the object.
#[tokio::test]
async fn stamping_refuses_what_a_signature_cannot_protect() {
    let app = spawn_app().await;
    let dept = department_with_seal(&app, "福州市卫生健康委员会").await;
    let plain = plain_pdf("Licence to practise");
    let (doc, _, page, contents) = ids(&plain);
    let planted = next_id(&doc) + 5;
    let mut page_dict = doc.get_dictionary(page).unwrap().clone();
    page_dict.set(
        "Contents",
        Object::Array(vec![
            Object::Reference(contents),
            Object::Reference((planted, 0)),
        ]),
    );
    let trap = append_update(&plain, &[(page.0, write(&Object::Dictionary(page_dict)))]);
    let with_info = with_info_as(&plain, contents.0);
    for (pdf, text) in [
        (trap, format!("object {planted} 0 R, which does not exist")),
        (
            with_info,
            format!(
                "information dictionary {} 0 R is also part of the document's content",
                contents.0
            ),
        ),
    ] {
        let body = upload_refused(&app, &dept, pdf).await;
        assert!(body.contains(&text), "{body}");
    }
}

/// Signed elsewhere, a dangling reference defined under another generation
/// number is seen too; the untouched documents pass.
#[tokio::test]
async fn dangling_references_under_any_generation() {
    let (pki, store, _dir) = outside_signer();
    let plain = plain_pdf("Licence to practise");
    let (doc, _, page, contents) = ids(&plain);
    let planted = next_id(&doc) + 5;
    let mut page_dict = doc.get_dictionary(page).unwrap().clone();
    page_dict.set(
        "Contents",
        Object::Array(vec![
            Object::Reference(contents),
            Object::Reference((planted, 0)),
        ]),
    );
    let trap = append_update(&plain, &[(page.0, write(&Object::Dictionary(page_dict)))]);
    let signed = sign_raw(&trap, &pki, &RawSignature::default());
    passes(&verify(&signed, &store));
    let regenerated = append_revision(
        &signed,
        &[((planted, 3), content_stream("Licence revoked"))],
        &[],
    );
    refused(
        &verify(&regenerated, &store),
        &format!("object {planted} 3 R was defined after signing"),
    );
}

/// Allowed later changes are reported at their level: a hidden empty
/// signature field is form filling, not a failure.
#[tokio::test]
async fn an_invisible_empty_signature_field_may_be_added() {
    let app = spawn_app().await;
    let dept = department_with_seal(&app, "福州市交通运输局").await;
    let signed = stamped(&app, &dept, plain_pdf("Road transport permit"), "200").await;
    let (doc, _, page, _) = ids(&signed);
    let next = next_id(&doc);
    for flags in ["/F 2 /Rect [0 0 595 842]", "/F 4 /Rect [10 10 10 10]"] {
        let mut objects = with_new_field(&signed, next);
        objects.push((
            next,
            format!(
                "<< /Type /Annot /Subtype /Widget /FT /Sig /T (Later) {flags} /P {} 0 R /AP << /N {} 0 R >> >>",
                page.0,
                next + 1
            ),
        ));
        objects.push(form_xobject(next + 1));
        let report = check(&app, &append_update(&signed, &objects));
        passes(&report);
        assert_eq!(
            report.signatures[0].modification_level,
            ModificationLevel::FormFilling
        );
    }
}

/// A certification signature with /DocMDP /P 1 allows no later signature;
/// with /P 2 it does (ISO 32000-1 §12.8.2.2, Table 254).
#[tokio::test]
async fn docmdp_permissions_are_honoured() {
    let app = spawn_app().await;
    let dept = department_with_seal(&app, "福州市财政局").await;
    let (pki, _, _dir) = outside_signer();
    let both = pki.trusted_with(&TrustStore::load(&app.certs()).unwrap());
    for p in [1, 2] {
        let certified = sign_raw(
            &plain_pdf("Budget approval"),
            &pki,
            &RawSignature {
                field: "Certification",
                sig_extra: &format!(
                    "/Reference [<< /Type /SigRef /TransformMethod /DocMDP /TransformParams << /Type /TransformParams /P {p} /V /1.2 >> >>]"
                ),
                catalog_extra: &[("Perms", "<< /DocMDP {sig} >>")],
                ..RawSignature::default()
            },
        );
        passes(&verify(&certified, &both));
        let countersigned = stamped(&app, &dept, certified, "300").await;
        let report = verify(&countersigned, &both);
        if p == 1 {
            refused(&report, "/DocMDP /P 1 allows no changes");
            assert_eq!(
                report.signatures[1].indication,
                TotalPassed,
                "{}",
                report.summary()
            );
        } else {
            passes(&report);
            assert_eq!(
                report.signatures[0].modification_level,
                ModificationLevel::FormFilling
            );
        }
    }
}

/// A /ByteRange integer that does not fit 64 bits is a named failure, not a
/// signature that disappears.
#[tokio::test]
async fn an_absurd_byte_range_is_a_named_failure() {
    let app = spawn_app().await;
    let dept = department_with_seal(&app, "福州市审计局").await;
    let signed = stamped(&app, &dept, plain_pdf("Audit report"), "200").await;
    // The stamper writes a 36-byte `[0 a b c]`: the forgery keeps its length.
    let at = find(&signed, b"/ByteRange ") + b"/ByteRange ".len();
    let mut forged = signed.clone();
    let absurd = format!("{:<35}]", "[0 18446744073709551617 0 0");
    forged[at..at + 36].copy_from_slice(absurd.as_bytes());
    let report = check(&app, &forged);
    assert_ne!(report.indication, TotalPassed, "{}", report.summary());
    assert_eq!(report.indication, TotalFailed, "{}", report.summary());
    refused(&report, "/ByteRange [0 18446744073709551617 0 0");
}

/// The legitimate later revisions: another vendor's signature under a
/// govseal stamp, govseal's B-LTA document time-stamp, and pyHanko adding a
/// signature to a govseal stamp (refreshing the XMP /Metadata on the way).
#[tokio::test]
async fn legitimate_later_revisions_pass() {
    let app = spawn_app().await;
    let dept = department_with_seal(&app, "福州市民政局").await;
    let (pki, _, _dir) = outside_signer();
    let both = pki.trusted_with(&TrustStore::load(&app.certs()).unwrap());
    let first = sign_raw(
        &plain_pdf("Marriage registration"),
        &pki,
        &RawSignature::default(),
    );
    let second = stamped(&app, &dept, first, "300").await;
    let report = verify(&second, &both);
    passes(&report);
    assert_eq!(
        report.signatures[0].modification_level,
        ModificationLevel::FormFilling
    );
    assert_eq!(
        report.signatures[1].modification_level,
        ModificationLevel::LtaUpdates
    );
    let lta =
        common::attacks::stamped_at_level(&app, &dept, plain_pdf("Adoption"), "200", "B-LTA").await;
    let report = check(&app, &lta);
    passes(&report);
    assert_eq!(
        report.signatures[0].modification_level,
        ModificationLevel::LtaUpdates
    );
}

/// pyHanko signs a govseal stamp (refreshing /Metadata): both verify.
#[tokio::test]
async fn a_pyhanko_countersignature_verifies() {
    if !common::interop::available(
        "a_pyhanko_countersignature_verifies",
        &["pyhanko", "python3"],
    ) {
        return;
    }
    let app = spawn_app().await;
    let dept = department_with_seal(&app, "福州市教育局").await;
    let stampedpdf = stamped(&app, &dept, plain_pdf("School licence"), "200").await;
    let (pki, _, dir) = outside_signer();
    let countersigned = pyhanko_sign(dir.path(), &pki, &stampedpdf);
    assert!(
        find_opt(&countersigned, b"/Metadata").is_some(),
        "pyHanko writes XMP metadata"
    );
    let both = pki.trusted_with(&TrustStore::load(&app.certs()).unwrap());
    let report = verify(&countersigned, &both);
    passes(&report);
    assert_eq!(report.signatures.len(), 2, "{}", report.summary());
}

/// pyHanko's later revisions of a govseal stamp: a document time-stamp from
/// govseal's TSA, an empty signature field, then a signature in that field.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pyhanko_timestamps_fields_and_signatures_verify() {
    if !common::interop::available(
        "pyhanko_timestamps_fields_and_signatures_verify",
        &["pyhanko"],
    ) {
        return;
    }
    let app = spawn_app().await;
    let dept = department_with_seal(&app, "福州市司法局").await;
    let first = stamped(&app, &dept, plain_pdf("Notarial certificate"), "200").await;
    let (pki, _, dir) = outside_signer();
    let both = pki.trusted_with(&TrustStore::load(&app.certs()).unwrap());
    let run = |args: &[&str], input: &[u8]| -> Vec<u8> {
        std::fs::write(dir.path().join("in.pdf"), input).unwrap();
        let out = std::process::Command::new("pyhanko")
            .current_dir(dir.path())
            .args(args)
            .args(["in.pdf", "out.pdf"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pyhanko {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::read(dir.path().join("out.pdf")).unwrap()
    };
    let tsa = format!("{}/v1/tsa", app.url);
    let root = app.certs().join("root.pem");
    let issuing = app.certs().join("issuing-ca.pem");
    let (root, issuing) = (root.to_str().unwrap(), issuing.to_str().unwrap());
    let timestamped = tokio::task::block_in_place(|| {
        run(
            &[
                "sign",
                "timestamp",
                "--timestamp-url",
                &tsa,
                "--trust",
                root,
                "--trust-replace",
                "--other-certs",
                issuing,
            ],
            &first,
        )
    });
    let report = verify(&timestamped, &both);
    passes(&report);
    assert_eq!(report.signatures.len(), 2);
    assert_eq!(report.signatures[1].kind, "document-timestamp");
    let with_field = run(
        &["sign", "addfields", "--field", "1/0,0,0,0/Approver"],
        &timestamped,
    );
    let report = verify(&with_field, &both);
    passes(&report);
    let key = pem::encode(&pem::Pem::new("PRIVATE KEY", pki.key.0.serialize_der()));
    std::fs::write(dir.path().join("key.pem"), key).unwrap();
    std::fs::write(
        dir.path().join("leaf.pem"),
        pem::encode(&pem::Pem::new("CERTIFICATE", pki.leaf.clone())),
    )
    .unwrap();
    let signed = run(
        &[
            "sign",
            "addsig",
            "--field",
            "Approver",
            "pemder",
            "--key",
            "key.pem",
            "--cert",
            "leaf.pem",
            "--no-pass",
        ],
        &with_field,
    );
    let report = verify(&signed, &both);
    passes(&report);
    assert_eq!(report.signatures.len(), 3, "{}", report.summary());
    assert_eq!(
        report.signatures[0].modification_level,
        ModificationLevel::FormFilling
    );
}

fn find_opt(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// `pyhanko sign addsig pemder` with the PKI's leaf and key.
fn pyhanko_sign(dir: &Path, pki: &TestPki, pdf: &[u8]) -> Vec<u8> {
    let pem = |label: &str, der: &[u8]| pem::encode(&pem::Pem::new(label, der.to_vec()));
    std::fs::write(dir.join("leaf.pem"), pem("CERTIFICATE", &pki.leaf)).unwrap();
    std::fs::write(
        dir.join("key.pem"),
        pem("PRIVATE KEY", &pki.key.0.serialize_der()),
    )
    .unwrap();
    std::fs::write(dir.join("in.pdf"), pdf).unwrap();
    let out = std::process::Command::new("pyhanko")
        .current_dir(dir)
        .args([
            "sign",
            "addsig",
            "--field",
            "PyHanko",
            "pemder",
            "--key",
            "key.pem",
            "--cert",
            "leaf.pem",
            "--no-pass",
            "in.pdf",
            "out.pdf",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pyhanko: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read(dir.join("out.pdf")).unwrap()
}

/// pyHanko's verdict (tests/interop/pyhanko_verdict.py) on `pdf`.
pub fn pyhanko_verdict(pdf: &[u8], roots: &[&Path]) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("doc.pdf");
    std::fs::write(&file, pdf).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/pyhanko_verdict.py");
    let out = std::process::Command::new("python3")
        .arg(script)
        .arg(&file)
        .args(roots)
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// pyHanko accepts the document if every signature's bottom line holds.
fn pyhanko_accepts(verdict: &serde_json::Value) -> bool {
    verdict["signatures"]
        .as_array()
        .is_some_and(|s| !s.is_empty() && s.iter().all(|x| x["bottom_line"] == true))
}

/// Inputs whose cost a naive verifier multiplies are refused by a named
/// limit or judged in linear time (figures: `cargo bench --bench verify`).
#[tokio::test]
async fn resource_limits_are_named() {
    let app = spawn_app().await;
    // 200 object streams of 16 MiB each: 3.2 GiB inflated from a small file.
    let bomb = object_stream_bomb(200, 16 * 1024 * 1024);
    assert!(bomb.len() < 400 * 1024, "{} bytes", bomb.len());
    let report = check(&app, &bomb);
    assert_eq!(
        report.indication,
        Indication::Indeterminate,
        "{}",
        report.summary()
    );
    refused(&report, "resource limit");
    refused(&report, "object streams decompress to more than");
    // Stamping refuses it too (422 naming the limit), without inflating it.
    let dept = department_with_seal(&app, "福州市应急管理局").await;
    assert!(
        upload_refused(&app, &dept, bomb)
            .await
            .contains("resource limit")
    );

    // More signature fields with a value than the limit.
    let signed = stamped(&app, &dept, plain_pdf("Many fields"), "200").await;
    let many =
        common::costly::many_signature_fields(&signed, govseal::verify::MAX_SIGNATURES as u32);
    let report = check(&app, &many);
    assert_eq!(
        report.indication,
        Indication::Indeterminate,
        "{}",
        report.summary()
    );
    refused(
        &report,
        "signature fields with a value, more than the limit",
    );
    // As many as the limit allows: each is judged, all fail as copies.
    let copies =
        common::costly::many_signature_fields(&signed, govseal::verify::MAX_SIGNATURES as u32 - 1);
    let report = check(&app, &copies);
    assert_eq!(report.signatures.len(), govseal::verify::MAX_SIGNATURES);
    assert_eq!(report.indication, TotalFailed, "{}", report.summary());
    // A huge /Annots and a cross-reference table listing one object many times.
    let annots = common::costly::many_annotations(&signed, 160_000);
    passes(&check(&app, &annots));
    let twice = common::costly::duplicate_xref_entries(&signed, 20_000);
    refused(
        &check(&app, &twice),
        "more than once in its cross-reference table",
    );
}

/// `plain` with a later revision whose trailer `/Info` is object `target`
/// (and one unrelated new object: lopdf reads an empty section as damage).
fn with_info_as(plain: &[u8], target: u32) -> Vec<u8> {
    let next = next_id(&Document::load_mem(plain).unwrap());
    append_revision(
        plain,
        &[((next, 0), "<< >>".into())],
        &[("Info", format!("{target} 0 R"))],
    )
}

/// A later cross-reference *stream* whose `/Index` lists an object twice,
/// and objects appended after the last `%%EOF` without a revision.
#[tokio::test]
async fn ambiguous_xref_streams_and_trailing_objects() {
    let app = spawn_app().await;
    let dept = department_with_seal(&app, "福州市医疗保障局").await;
    let signed = stamped(&app, &dept, plain_pdf("Insurance card"), "200").await;
    let (doc, root, _, contents) = ids(&signed);
    // Trailing objects after the last %%EOF.
    let mut trailing = signed.clone();
    trailing.extend_from_slice(
        format!(
            "{} 0 obj\n{}\nendobj\n",
            contents.0,
            content_stream("Card void")
        )
        .as_bytes(),
    );
    refused(
        &check(&app, &trailing),
        "after its last %%EOF, outside any revision",
    );
    // NUL padding is white space (ISO 32000-1 Table 1).
    let mut padded = signed.clone();
    padded.extend_from_slice(&[0u8; 16]);
    passes(&check(&app, &padded));
    // A cross-reference stream whose /Index lists the content stream twice.
    let size = next_id(&doc);
    let body = content_stream("Card void");
    let mut out = signed.clone();
    let at_obj = out.len();
    out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", contents.0).as_bytes());
    let xref_at = out.len();
    let entry = |offset: usize| {
        let mut e = vec![1u8];
        e.extend_from_slice(&(offset as u32).to_be_bytes());
        e.push(0);
        e
    };
    let mut rows = entry(at_obj);
    rows.extend(entry(at_obj));
    rows.extend(entry(xref_at));
    let prev = {
        let p = signed.windows(9).rposition(|w| w == b"startxref").unwrap() + 9;
        String::from_utf8_lossy(&signed[p..])
            .trim_start()
            .chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
    };
    out.extend_from_slice(
        format!(
            "{size} 0 obj\n<< /Type /XRef /Size {} /Root {} 0 R /Prev {prev} /W [1 4 1] /Index [{} 1 {} 1 {size} 1] /Length {} >>\nstream\n",
            size + 1,
            root.0,
            contents.0,
            contents.0,
            rows.len()
        )
        .as_bytes(),
    );
    out.extend_from_slice(&rows);
    out.extend_from_slice(format!("\nendstream\nendobj\nstartxref\n{xref_at}\n%%EOF\n").as_bytes());
    refused(
        &check(&app, &out),
        &format!("lists object {} more than once", contents.0),
    );
}

/// With a text field in the signed form, new default resources or a new
/// default appearance would restyle it in readers that redraw fields.
#[tokio::test]
async fn default_resources_of_a_form_with_fields_may_not_change() {
    let app = spawn_app().await;
    let dept = department_with_seal(&app, "福州市税务局").await;
    let plain = plain_pdf("Tax receipt");
    let (doc, root, page, _) = ids(&plain);
    let field = next_id(&doc);
    let mut page_dict = doc.get_dictionary(page).unwrap().clone();
    page_dict.set("Annots", vec![Object::Reference((field, 0))]);
    let mut catalog = doc.get_dictionary(root).unwrap().clone();
    catalog.set(
        "AcroForm",
        lopdf::dictionary! { "Fields" => vec![Object::Reference((field, 0))] },
    );
    let form = append_update(
        &plain,
        &[
            (root.0, write(&Object::Dictionary(catalog))),
            (page.0, write(&Object::Dictionary(page_dict))),
            (
                field,
                format!(
                    "<< /Type /Annot /Subtype /Widget /FT /Tx /T (amount) /V (100 yuan) /Rect [72 600 300 630] /P {} 0 R /F 4 >>",
                    page.0
                ),
            ),
        ],
    );
    let signed = stamped(&app, &dept, form, "300").await;
    passes(&check(&app, &signed));
    let (doc, root, _, _) = ids(&signed);
    let mut catalog = doc.get_dictionary(root).unwrap().clone();
    let mut acroform = match catalog.get(b"AcroForm").unwrap() {
        Object::Reference(r) => doc.get_dictionary(*r).unwrap().clone(),
        Object::Dictionary(d) => d.clone(),
        _ => unreachable!(),
    };
    acroform.set("DA", Object::string_literal("/ZaDb 40 Tf 1 0 0 rg"));
    let restyled = match catalog.get(b"AcroForm").unwrap() {
        Object::Reference(r) => {
            append_update(&signed, &[(r.0, write(&Object::Dictionary(acroform)))])
        }
        _ => {
            catalog.set("AcroForm", Object::Dictionary(acroform));
            append_update(&signed, &[(root.0, write(&Object::Dictionary(catalog)))])
        }
    };
    refused(&check(&app, &restyled), "the form's /DR or /DA changed");
}

/// A later cross-reference entry that points where no such object is: one
/// reader skips it, another reconstructs the file and may show something
/// else. No verdict rests on one reader's recovery (found by fuzzing).
#[tokio::test]
async fn an_entry_that_cannot_be_parsed_is_no_valid_document() {
    let app = spawn_app().await;
    let dept = department_with_seal(&app, "福州市文化和旅游局").await;
    let signed = stamped(&app, &dept, plain_pdf("Performance permit"), "200").await;
    let next = next_id(&Document::load_mem(&signed).unwrap());
    let updated = append_update(&signed, &[(next, "<< /Note (later) >>".into())]);
    passes(&check(&app, &updated));
    // The new entry's offset now points into the first revision's header.
    let line = format!("{next} 1\n");
    let at = updated
        .windows(line.len())
        .rposition(|w| w == line.as_bytes())
        .unwrap()
        + line.len();
    let mut broken = updated.clone();
    broken[at..at + 10].copy_from_slice(b"0000000003");
    let report = check(&app, &broken);
    assert_eq!(report.indication, TotalFailed, "{}", report.summary());
    refused(
        &report,
        &format!(
            "object {next} 0 R, which the cross-reference data places at offset 3, cannot be parsed"
        ),
    );
}

/// Stamps `pdf` on page 1 and expects 422; the error body.
async fn upload_refused(
    app: &TestApp,
    dept: &common::stamping::Department,
    pdf: Vec<u8>,
) -> String {
    let fields = [
        ("seal_id", dept.seal_id.as_str()),
        ("page", "1"),
        ("x", "200"),
        ("y", "150"),
    ];
    let r = stamp(app, &dept.token, pdf, &fields, None).await;
    assert_eq!(r.status(), 422);
    r.text().await.unwrap()
}
