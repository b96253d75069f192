//! Documents whose verification cost a naive verifier multiplies (issue 15,
//! "bounded cost"), for the tests and for `cargo bench --bench verify`:
//! object streams that inflate to far more than the file, pages with huge
//! annotation arrays, many signature fields, cross-reference tables that
//! list objects many times.

use lopdf::{Document, Object};

use super::attacks::{append_update, ids, write};
use super::stamping::plain_pdf;

fn next_id(doc: &Document) -> u32 {
    doc.trailer.get(b"Size").unwrap().as_i64().unwrap() as u32
}

/// A one-page PDF whose extra objects live in `streams` object streams,
/// each inflating to `inflated` bytes through two /FlateDecode layers
/// (ISO 32000-1 §7.5.7): a small file, a huge document.
pub fn object_stream_bomb(streams: usize, inflated: usize) -> Vec<u8> {
    use miniz_oxide::deflate::compress_to_vec_zlib;
    let plain = plain_pdf("Bomb");
    let doc = Document::load_mem(&plain).unwrap();
    let first = next_id(&doc);
    // The index names one object at offset 0; the rest is padding spaces.
    let mut body = format!("{first} 0 ").into_bytes();
    let header = body.len();
    body.extend_from_slice(b"null");
    body.resize(inflated, b' ');
    let once = compress_to_vec_zlib(&body, 9);
    let twice = compress_to_vec_zlib(&once, 9);
    let mut objects = Vec::new();
    for i in 0..streams {
        let id = first + 1 + i as u32;
        let mut obj = format!(
            "<< /Type /ObjStm /N 1 /First {header} /Filter [/FlateDecode /FlateDecode] /Length {} >>\nstream\n",
            twice.len()
        )
        .into_bytes();
        obj.extend_from_slice(&twice);
        obj.extend_from_slice(b"\nendstream");
        objects.push((id, obj));
    }
    // Raw bytes: append_update takes text, so write this update by hand.
    let mut out = plain.clone();
    let mut xref = String::from("xref\n");
    for (id, obj) in &objects {
        xref.push_str(&format!("{id} 1\n{:010} 00000 n\r\n", out.len()));
        out.extend_from_slice(format!("{id} 0 obj\n").as_bytes());
        out.extend_from_slice(obj);
        out.extend_from_slice(b"\nendobj\n");
    }
    let prev = {
        let at = plain.windows(9).rposition(|w| w == b"startxref").unwrap() + 9;
        String::from_utf8_lossy(&plain[at..])
            .trim_start()
            .chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
    };
    let root = doc.trailer.get(b"Root").unwrap().as_reference().unwrap();
    let at = out.len();
    out.extend_from_slice(xref.as_bytes());
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root {} 0 R /Prev {prev} >>\nstartxref\n{at}\n%%EOF\n",
            first + 1 + streams as u32,
            root.0
        )
        .as_bytes(),
    );
    out
}

/// `signed` with a later update giving page 1 `n` more annotation
/// references (to one hidden, empty signature field): the change analysis
/// must stay linear in `n`.
pub fn many_annotations(signed: &[u8], n: usize) -> Vec<u8> {
    let (doc, root, page, _) = ids(signed);
    let field = next_id(&doc);
    let mut p = doc.get_dictionary(page).unwrap().clone();
    let mut annots = match p.get(b"Annots") {
        Ok(Object::Array(a)) => a.clone(),
        Ok(Object::Reference(r)) => doc.get_object(*r).unwrap().as_array().unwrap().clone(),
        _ => Vec::new(),
    };
    annots.extend(std::iter::repeat_n(Object::Reference((field, 0)), n));
    p.set("Annots", annots);
    let mut catalog = doc.get_dictionary(root).unwrap().clone();
    let mut form = match catalog.get(b"AcroForm") {
        Ok(Object::Reference(r)) => doc.get_dictionary(*r).unwrap().clone(),
        Ok(Object::Dictionary(d)) => d.clone(),
        _ => lopdf::Dictionary::new(),
    };
    let mut fields = match form.get(b"Fields") {
        Ok(Object::Array(a)) => a.clone(),
        Ok(Object::Reference(r)) => doc.get_object(*r).unwrap().as_array().unwrap().clone(),
        _ => Vec::new(),
    };
    fields.push(Object::Reference((field, 0)));
    form.set("Fields", fields);
    catalog.set("AcroForm", Object::Dictionary(form));
    append_update(
        signed,
        &[
            (page.0, write(&Object::Dictionary(p))),
            (root.0, write(&Object::Dictionary(catalog))),
            (
                field,
                format!(
                    "<< /Type /Annot /Subtype /Widget /FT /Sig /T (Later) /F 2 /Rect [0 0 0 0] /P {} 0 R >>",
                    page.0
                ),
            ),
        ],
    )
}

/// `signed` with one later update whose cross-reference table lists the
/// page's content stream `n` times (each entry pointing at the same bytes).
pub fn duplicate_xref_entries(signed: &[u8], n: usize) -> Vec<u8> {
    let (doc, _, _, contents) = ids(signed);
    let ops = "BT /F1 14 Tf 72 760 Td (x) Tj ET";
    let body = format!("<< /Length {} >>\nstream\n{ops}\nendstream", ops.len());
    let objects: Vec<((u32, u16), String)> =
        (0..n).map(|_| ((contents.0, 0), body.clone())).collect();
    let _ = doc;
    super::attacks::append_revision(signed, &objects, &[])
}

/// `signed` with `n` more signature fields whose signature dictionaries copy
/// the first signature's `/ByteRange` and `/Contents` (each must be
/// checked, none may cost a parse of its own).
pub fn many_signature_fields(signed: &[u8], n: u32) -> Vec<u8> {
    let first = govseal::pdf::signatures(signed).unwrap()[0].clone();
    let [_, a, b, _] = first.byte_range;
    let contents = String::from_utf8_lossy(&signed[a..b]).to_string();
    let br = first.byte_range.map(|x| x.to_string()).join(" ");
    let (doc, root, _, _) = ids(signed);
    let next = next_id(&doc);
    let mut catalog = doc.get_dictionary(root).unwrap().clone();
    let mut form = match catalog.get(b"AcroForm") {
        Ok(Object::Reference(r)) => doc.get_dictionary(*r).unwrap().clone(),
        Ok(Object::Dictionary(d)) => d.clone(),
        _ => lopdf::Dictionary::new(),
    };
    let mut fields = match form.get(b"Fields") {
        Ok(Object::Array(a)) => a.clone(),
        Ok(Object::Reference(r)) => doc.get_object(*r).unwrap().as_array().unwrap().clone(),
        _ => Vec::new(),
    };
    fields.extend((0..n).map(|i| Object::Reference((next + i, 0))));
    form.set("Fields", fields);
    catalog.set("AcroForm", Object::Dictionary(form));
    let mut objects = vec![(root.0, write(&Object::Dictionary(catalog)))];
    for i in 0..n {
        objects.push((
            next + i,
            format!(
                "<< /FT /Sig /T (F{i}) /V << /Type /Sig /SubFilter /ETSI.CAdES.detached /ByteRange [{br}] /Contents {contents} >> >>"
            ),
        ));
    }
    append_update(signed, &objects)
}
