//! Finding the signatures in a PDF (ISO 32000-1 §12.7.4.5, §12.8.1): every
//! signature field of the interactive form with its signature dictionary.
//! This reads only; the verifier builds its checks on it.

use std::collections::HashSet;

use lopdf::{Dictionary, Document, Object, ObjectId};

use super::PdfError;
use super::serialize::decode_text_string;
use super::update::load;

/// One signature dictionary found in a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureInfo {
    /// Fully qualified field name (§12.7.3.2), parts joined by `.`.
    pub field_name: String,
    /// `/Type`: `Sig` or `DocTimeStamp` (absent in some older files).
    pub sig_type: Option<String>,
    /// `/SubFilter`, e.g. `ETSI.CAdES.detached` or `ETSI.RFC3161`.
    pub sub_filter: Option<String>,
    /// `/ByteRange`: offset and length of the two signed byte ranges.
    pub byte_range: [usize; 4],
    /// `/Contents`: the CMS (or time-stamp token), without the zero padding.
    pub contents: Vec<u8>,
    /// `/M`, the claimed signing time, as written (a PDF date string).
    pub signing_time: Option<String>,
    /// Offset of the end of the revision the signature covers
    /// (end of the second byte range).
    pub revision_end: usize,
}

/// Lists the signatures of `pdf` in the order of their fields.
pub fn signatures(pdf: &[u8]) -> Result<Vec<SignatureInfo>, PdfError> {
    signatures_in(&load(pdf)?)
}

/// Lists the signatures of an already parsed document.
pub fn signatures_in(doc: &Document) -> Result<Vec<SignatureInfo>, PdfError> {
    let mut found = Vec::new();
    for field in signature_fields(doc)? {
        let Some(value) = field.dict.get(b"V").ok() else {
            continue;
        };
        let Ok((_, Object::Dictionary(sig))) = doc.dereference(value) else {
            continue;
        };
        found.push(describe(doc, field.name, sig)?);
    }
    Ok(found)
}

fn describe(
    doc: &Document,
    field_name: String,
    sig: &Dictionary,
) -> Result<SignatureInfo, PdfError> {
    let name = |key: &[u8]| {
        sig.get(key)
            .and_then(Object::as_name)
            .ok()
            .map(|n| String::from_utf8_lossy(n).into_owned())
    };
    let invalid = PdfError::Structure("a signature's /ByteRange is not four non-negative integers");
    let ranges = sig
        .get(b"ByteRange")
        .and_then(|o| doc.dereference(o))
        .and_then(|(_, o)| o.as_array())
        .map_err(|_| PdfError::Structure("a signature has no /ByteRange"))?;
    if ranges.len() != 4 {
        return Err(invalid);
    }
    let mut byte_range = [0usize; 4];
    for (slot, item) in byte_range.iter_mut().zip(ranges) {
        let value = item
            .as_i64()
            .map_err(|_| PdfError::Structure("a signature's /ByteRange holds a non-integer"))?;
        *slot = usize::try_from(value)
            .map_err(|_| PdfError::Structure("a signature's /ByteRange is negative"))?;
    }
    let contents = sig
        .get(b"Contents")
        .and_then(Object::as_str)
        .map_err(|_| PdfError::Structure("a signature has no /Contents string"))?;
    Ok(SignatureInfo {
        field_name,
        sig_type: name(b"Type"),
        sub_filter: name(b"SubFilter"),
        byte_range,
        contents: trim_der(contents).to_vec(),
        signing_time: sig
            .get(b"M")
            .and_then(Object::as_str)
            .ok()
            .map(decode_text_string),
        revision_end: byte_range[2].saturating_add(byte_range[3]),
    })
}

/// Cuts the zero padding after a DER value by reading its length header.
fn trim_der(bytes: &[u8]) -> &[u8] {
    let total = (|| {
        let first = *bytes.get(1)?;
        if first < 0x80 {
            return Some(2 + usize::from(first));
        }
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 {
            return None;
        }
        let len = bytes
            .get(2..2 + count)?
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        Some(2 + count + len)
    })();
    match total {
        Some(total) if total <= bytes.len() => &bytes[..total],
        _ => bytes,
    }
}

/// A terminal form field and its fully qualified name.
pub(crate) struct Field<'d> {
    pub(crate) name: String,
    pub(crate) dict: &'d Dictionary,
}

/// Every terminal field with `/FT /Sig` (the field type is inheritable).
pub(crate) fn signature_fields(doc: &Document) -> Result<Vec<Field<'_>>, PdfError> {
    Ok(all_fields(doc)?
        .into_iter()
        .filter(|(_, is_sig)| *is_sig)
        .map(|(field, _)| field)
        .collect())
}

/// Every terminal field of the form, with whether it is a signature field.
pub(crate) fn all_fields(doc: &Document) -> Result<Vec<(Field<'_>, bool)>, PdfError> {
    let mut out = Vec::new();
    let Ok(catalog) = doc.catalog() else {
        return Err(PdfError::Structure("the document has no catalog"));
    };
    let Ok((_, Object::Dictionary(form))) =
        catalog.get(b"AcroForm").and_then(|o| doc.dereference(o))
    else {
        return Ok(out);
    };
    let Ok((_, Object::Array(roots))) = form.get(b"Fields").and_then(|o| doc.dereference(o)) else {
        return Ok(out);
    };
    // (node, parent name, inherited /FT is Sig, depth)
    let mut stack: Vec<(&Object, String, bool, usize)> = roots
        .iter()
        .rev()
        .map(|o| (o, String::new(), false, 0))
        .collect();
    let mut seen: HashSet<ObjectId> = HashSet::new();
    while let Some((node, parent, parent_sig, depth)) = stack.pop() {
        if let Object::Reference(id) = node
            && !seen.insert(*id)
        {
            continue;
        }
        let Ok((_, Object::Dictionary(dict))) = doc.dereference(node) else {
            continue;
        };
        let part = dict
            .get(b"T")
            .and_then(Object::as_str)
            .ok()
            .map(decode_text_string);
        let name = match (parent.is_empty(), part) {
            (_, None) => parent.clone(),
            (true, Some(part)) => part,
            (false, Some(part)) => format!("{parent}.{part}"),
        };
        let is_sig = match dict.get(b"FT").and_then(Object::as_name) {
            Ok(ft) => ft == b"Sig",
            Err(_) => parent_sig,
        };
        let kids = dict
            .get(b"Kids")
            .and_then(|o| doc.dereference(o))
            .and_then(|(_, o)| o.as_array());
        // Kids without /T are widgets of this field, not sub-fields.
        let field_kids: Vec<&Object> = kids
            .map(|kids| {
                kids.iter()
                    .filter(|k| matches!(doc.dereference(k), Ok((_, Object::Dictionary(d))) if d.has(b"T")))
                    .collect()
            })
            .unwrap_or_default();
        if field_kids.is_empty() || depth >= 32 {
            out.push((Field { name, dict }, is_sig));
        } else {
            stack.extend(
                field_kids
                    .into_iter()
                    .rev()
                    .map(|k| (k, name.clone(), is_sig, depth + 1)),
            );
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::trim_der;

    #[test]
    fn trims_padding_by_der_length() {
        assert_eq!(trim_der(&[0x30, 0x02, 1, 2, 0, 0]), &[0x30, 0x02, 1, 2]);
        assert_eq!(
            trim_der(&[0x30, 0x81, 0x01, 9, 0, 0]),
            &[0x30, 0x81, 0x01, 9]
        );
        assert_eq!(
            trim_der(&[0x30, 0x82, 0x01, 0x00, 0]),
            &[0x30, 0x82, 0x01, 0x00, 0]
        );
    }
}
