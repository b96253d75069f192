//! The document security store (ETSI EN 319 142-1 §5.4.2, ISO 32000-2
//! §12.8.4.3): certificates and CRLs kept in the PDF so that its signatures
//! can be validated long after signing without a network (PAdES B-LT).
//!
//! `/VRI` entries are optional and not written; an existing `/DSS` (and its
//! `/VRI`, `/OCSPs`) is kept and extended.

use std::collections::HashSet;

use lopdf::{Dictionary, Object, Stream};
use ring::digest;

use super::PdfError;
use super::update::{Successor, Update};
use crate::memo::Memo;

/// Existing DSS streams larger than this are not decoded for de-duplication.
const MAX_ENTRY: usize = 4 * 1024 * 1024;

/// Appends an incremental update that adds `certificates` (DER) to `/DSS
/// /Certs` and `crls` (DER) to `/DSS /CRLs`, skipping any already present.
/// If nothing is new, the input is returned unchanged.
pub fn append_dss(
    pdf: &[u8],
    certificates: &[Vec<u8>],
    crls: &[Vec<u8>],
) -> Result<Vec<u8>, PdfError> {
    add_dss(Update::new(pdf)?, pdf, certificates, crls)
}

/// [`append_dss`] to `pdf`, just written by an update that left `state`.
pub(crate) fn append_dss_continuing(
    pdf: &[u8],
    state: Successor,
    certificates: &[Vec<u8>],
    crls: &[Vec<u8>],
) -> Result<Vec<u8>, PdfError> {
    add_dss(Update::continuing(pdf, state), pdf, certificates, crls)
}

fn add_dss(
    mut update: Update<'_>,
    pdf: &[u8],
    certificates: &[Vec<u8>],
    crls: &[Vec<u8>],
) -> Result<Vec<u8>, PdfError> {
    let catalog_id = update.catalog_id()?;
    let mut catalog = update.catalog()?;
    let not_dict = PdfError::Structure("/DSS is not a dictionary");
    let (dss_id, mut dss) = match catalog.get(b"DSS").ok().cloned() {
        Some(Object::Reference(id)) => (
            Some(id),
            update.get(id)?.as_dict().cloned().map_err(|_| not_dict)?,
        ),
        Some(Object::Dictionary(dss)) => (None, dss),
        Some(Object::Null) | None => (None, Dictionary::new()),
        Some(_) => return Err(not_dict),
    };
    let mut added = false;
    for (key, items) in [(&b"Certs"[..], certificates), (b"CRLs", crls)] {
        added |= merge(&mut update, &mut dss, key, items)?;
    }
    if !added {
        return Ok(pdf.to_vec());
    }
    match dss_id {
        Some(id) => update.set(id, Object::Dictionary(dss)),
        None => {
            dss.set("Type", Object::Name(b"DSS".to_vec()));
            let id = update.allocate();
            update.set(id, Object::Dictionary(dss));
            catalog.set("DSS", Object::Reference(id));
            update.set(catalog_id, Object::Dictionary(catalog));
        }
    }
    Ok(update.write().bytes)
}

/// Adds the new `items` to the array `dss[key]`; true if any was added.
fn merge(
    update: &mut Update<'_>,
    dss: &mut Dictionary,
    key: &[u8],
    items: &[Vec<u8>],
) -> Result<bool, PdfError> {
    let not_array = PdfError::Structure("a /DSS entry is not an array");
    let mut entries = match dss.get(key).ok() {
        Some(obj) => update
            .resolve(obj)?
            .as_array()
            .cloned()
            .map_err(|_| not_array)?,
        None => Vec::new(),
    };
    let mut seen: HashSet<Vec<u8>> = HashSet::new();
    for entry in &entries {
        if let Ok(Object::Stream(stream)) = update.resolve(entry)
            && let Ok(data) = stream.decompressed_content_with_limit(MAX_ENTRY)
        {
            seen.insert(digest::digest(&digest::SHA256, &data).as_ref().to_vec());
        }
    }
    // The same CA certificates and CRLs go into every signature's DSS.
    static DEFLATED: Memo<Vec<u8>, Vec<u8>> = Memo::new(64);
    let mut added = false;
    for item in items {
        let key = digest::digest(&digest::SHA256, item).as_ref().to_vec();
        if !seen.insert(key.clone()) {
            continue;
        }
        let deflated = DEFLATED.get_or_insert_with(key, || super::flate::deflate(item, 6));
        let mut dict = Dictionary::new();
        dict.set("Filter", Object::Name(b"FlateDecode".to_vec()));
        let stream = Stream::new(dict, deflated);
        let id = update.allocate();
        update.set(id, Object::Stream(stream));
        entries.push(Object::Reference(id));
        added = true;
    }
    if added {
        dss.set(key, entries);
    }
    Ok(added)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{A4, Align, DocumentBuilder, TextStyle};
    use crate::pdf::{SignatureKind, SignatureRequest, prepare};

    fn notice() -> Vec<u8> {
        let mut document = DocumentBuilder::new().expect("font");
        document
            .add_page(A4)
            .text(100.0, 700.0, Align::Left, TextStyle::new(16.0), "审批通知")
            .expect("text");
        document.finish().expect("pdf")
    }

    fn request(field: &str) -> SignatureRequest {
        let time = time::macros::datetime!(2026-12-02 10:30:00 +08:00);
        SignatureRequest::invisible(field, SignatureKind::Cades, time, 64)
    }

    #[test]
    fn a_dss_after_a_signature_is_the_same_without_parsing_again() {
        let (certificates, crls) = (vec![vec![0x30, 3, 1, 2, 3]], vec![vec![0x30, 1, 9]]);
        let mut pdf = notice();
        // Twice: the second time, the DSS already holds everything and both
        // ways return the signed document unchanged.
        for field in ["First", "Second"] {
            let cms = [0x30, 0x02, 0x05, 0x00];
            let parsed = {
                let signed = prepare(&pdf, &request(field))
                    .expect("prepare")
                    .finish(&cms);
                append_dss(&signed.expect("finish"), &certificates, &crls).expect("dss")
            };
            let (signed, state) = prepare(&pdf, &request(field))
                .expect("prepare")
                .finish_continuing(&cms)
                .expect("finish");
            let continued =
                append_dss_continuing(&signed, state, &certificates, &crls).expect("dss");
            assert_eq!(continued, parsed, "{field}");
            pdf = continued;
        }
    }
}
