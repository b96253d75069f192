//! Building attacked PDFs for the verification tests: stamping through the
//! API, validating in-process, and appending hand-written incremental
//! updates (ISO 32000-1 §7.5.6) the way an attacker would.

use govseal::verify::{Indication, Report, SubIndication, TrustStore, verify_pdf};
use time::OffsetDateTime;

use super::TestApp;
use super::stamping::{Department, stamp};

/// Stamps `pdf` with the department's seal at B-LT (the default level).
pub async fn stamped(app: &TestApp, dept: &Department, pdf: Vec<u8>, x: &str) -> Vec<u8> {
    stamped_at_level(app, dept, pdf, x, "B-LT").await
}

/// Stamps `pdf` with the department's seal at a PAdES `level` (`B-B`, `B-LT`, …).
pub async fn stamped_at_level(
    app: &TestApp,
    dept: &Department,
    pdf: Vec<u8>,
    x: &str,
    level: &str,
) -> Vec<u8> {
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
    assert_eq!(r.status(), 200, "stamping at {level}");
    r.bytes().await.unwrap().to_vec()
}

/// Validates `pdf` now against the server's published trust bundle.
pub fn check(app: &TestApp, pdf: &[u8]) -> Report {
    check_at(app, pdf, OffsetDateTime::now_utc())
}

/// Validates `pdf` at `at` against the server's published trust bundle.
pub fn check_at(app: &TestApp, pdf: &[u8], at: OffsetDateTime) -> Report {
    let store = TrustStore::load(&app.certs()).expect("trust bundle");
    verify_pdf(pdf, &store, at)
}

/// The position of the first `needle` in `hay`.
pub fn find(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len())
        .position(|w| w == needle)
        .expect("needle")
}

/// The indication and sub-indication of signature `i`.
pub fn sig(report: &Report, i: usize) -> (Indication, Option<SubIndication>) {
    (
        report.signatures[i].indication,
        report.signatures[i].sub_indication,
    )
}

/// Appends an incremental update with the given raw objects (generation 0,
/// classic xref), keeping the trailer's `/Root`.
pub fn append_update(pdf: &[u8], objects: &[(u32, String)]) -> Vec<u8> {
    let objects: Vec<((u32, u16), String)> = objects
        .iter()
        .map(|(num, body)| ((*num, 0), body.clone()))
        .collect();
    append_revision(pdf, &objects, &[])
}

/// Appends an incremental update with the given raw objects, each written
/// as `num gen obj` with its own xref subsection (an object listed twice gets
/// two entries), and a trailer with `/Size`, `/Root`, `/Prev` of the previous
/// one, then `trailer` entries (which replace a key of the same name, e.g.
/// `("Root", "9 0 R")`, or add one, e.g. `("Info", "8 0 R")`).
pub fn append_revision(
    pdf: &[u8],
    objects: &[((u32, u16), String)],
    trailer: &[(&str, String)],
) -> Vec<u8> {
    let doc = lopdf::Document::load_mem(pdf).unwrap();
    let old_size = doc.trailer.get(b"Size").unwrap().as_i64().unwrap();
    let size = objects
        .iter()
        .map(|((num, _), _)| i64::from(*num) + 1)
        .fold(old_size, i64::max);
    let root = doc.trailer.get(b"Root").unwrap().as_reference().unwrap();
    let at = pdf.windows(9).rposition(|w| w == b"startxref").unwrap() + 9;
    let prev: String = String::from_utf8_lossy(&pdf[at..])
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let mut out = pdf.to_vec();
    if !out.ends_with(b"\n") && !out.ends_with(b"\r") {
        out.push(b'\n');
    }
    let mut xref = String::from("xref\n");
    for ((num, generation), body) in objects {
        xref.push_str(&format!("{num} 1\n{:010} {generation:05} n\r\n", out.len()));
        out.extend_from_slice(format!("{num} {generation} obj\n{body}\nendobj\n").as_bytes());
    }
    let mut entries = vec![
        ("Size", size.to_string()),
        ("Root", format!("{} {} R", root.0, root.1)),
        ("Prev", prev),
    ];
    for (key, value) in trailer {
        match entries.iter_mut().find(|(k, _)| k == key) {
            Some(entry) => entry.1 = value.clone(),
            None => entries.push((key, value.clone())),
        }
    }
    let entries: Vec<String> = entries.iter().map(|(k, v)| format!("/{k} {v}")).collect();
    let xref_at = out.len();
    out.extend_from_slice(xref.as_bytes());
    out.extend_from_slice(
        format!(
            "trailer\n<< {} >>\nstartxref\n{xref_at}\n%%EOF\n",
            entries.join(" ")
        )
        .as_bytes(),
    );
    out
}

/// A minimal PDF object writer for the attack updates.
pub fn write(o: &lopdf::Object) -> String {
    use lopdf::Object::*;
    match o {
        Null => "null".into(),
        Boolean(b) => b.to_string(),
        Integer(i) => i.to_string(),
        Real(r) => r.to_string(),
        Name(n) => format!("/{}", std::string::String::from_utf8_lossy(n)),
        String(s, _) => format!("<{}>", hex::encode(s)),
        Reference((n, g)) => format!("{n} {g} R"),
        Array(a) => format!("[{}]", a.iter().map(write).collect::<Vec<_>>().join(" ")),
        Dictionary(d) => format!(
            "<< {} >>",
            d.iter()
                .map(|(k, v)| format!("/{} {}", std::string::String::from_utf8_lossy(k), write(v)))
                .collect::<Vec<_>>()
                .join(" ")
        ),
        other => panic!("cannot write {other:?}"),
    }
}

/// The object ids of the catalog, the first page and its content stream.
pub fn ids(
    pdf: &[u8],
) -> (
    lopdf::Document,
    lopdf::ObjectId,
    lopdf::ObjectId,
    lopdf::ObjectId,
) {
    let doc = lopdf::Document::load_mem(pdf).unwrap();
    let root = doc.trailer.get(b"Root").unwrap().as_reference().unwrap();
    let page = *doc.get_pages().get(&1).unwrap();
    let contents = doc
        .get_dictionary(page)
        .unwrap()
        .get(b"Contents")
        .unwrap()
        .as_reference()
        .unwrap();
    (doc, root, page, contents)
}
