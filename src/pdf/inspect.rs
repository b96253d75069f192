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
    /// The signature field's object, if it is an indirect object.
    pub field_id: Option<ObjectId>,
    /// The signature dictionary's object (`/V`), if it is an indirect object.
    pub value_id: Option<ObjectId>,
    /// `/DocMDP` access permissions `/P` (1, 2 or 3) of a certification
    /// signature (ISO 32000-1 §12.8.2.2, Table 254); `None` if it is not one.
    pub doc_mdp: Option<u8>,
    /// Fields this signature locks (`/Lock` of the field, or a `/FieldMDP`
    /// reference, ISO 32000-1 §12.8.2.4, Table 233).
    pub locks: Option<FieldLock>,
}

/// Which fields a signature locks (ISO 32000-1 Table 233 `/Action`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldLock {
    /// Every field.
    All,
    /// Only these fully qualified names.
    Include(Vec<String>),
    /// Every field but these.
    Exclude(Vec<String>),
}

impl FieldLock {
    /// Whether the field named `name` is locked.
    pub fn locks(&self, name: &str) -> bool {
        match self {
            FieldLock::All => true,
            FieldLock::Include(names) => names.iter().any(|n| n == name),
            FieldLock::Exclude(names) => !names.iter().any(|n| n == name),
        }
    }
}

/// A signature field whose value cannot be read as a signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadableSignature {
    /// Fully qualified field name.
    pub field_name: String,
    /// What is wrong, naming the value.
    pub why: String,
}

/// Lists the signatures of `pdf` in the order of their fields.
pub fn signatures(pdf: &[u8]) -> Result<Vec<SignatureInfo>, PdfError> {
    signatures_in(&load(pdf)?)
}

/// Lists the signatures of an already parsed document.
pub fn signatures_in(doc: &Document) -> Result<Vec<SignatureInfo>, PdfError> {
    signature_entries(doc)?
        .into_iter()
        .map(|entry| entry.map_err(|e| PdfError::Malformed(format!("{}: {}", e.field_name, e.why))))
        .collect()
}

/// Every signature field that has a value (`/V`), in field order: the
/// signature, or why its value is not one. A verifier reports the latter
/// instead of skipping it (a field whose `/V` is a stream is not unsigned).
pub fn signature_entries(
    doc: &Document,
) -> Result<Vec<Result<SignatureInfo, UnreadableSignature>>, PdfError> {
    let mut found = Vec::new();
    for field in signature_fields(doc)? {
        let Some(value) = field.dict.get(b"V").ok() else {
            continue;
        };
        let value_id = value.as_reference().ok();
        let entry = match doc.dereference(value) {
            Ok((_, Object::Dictionary(sig))) => describe(doc, field.name.clone(), sig)
                .map(|mut info| {
                    info.field_id = field.id;
                    info.value_id = value_id;
                    info.locks = field_lock(doc, field.dict).or(info.locks);
                    info
                })
                .map_err(|e| e.to_string()),
            Ok((_, Object::Null)) => continue,
            Ok((_, other)) => Err(format!(
                "its /V is {}, not a signature dictionary",
                kind_of(other)
            )),
            Err(_) => Err("its /V names an object that does not exist".into()),
        };
        found.push(entry.map_err(|why| UnreadableSignature {
            field_name: field.name,
            why,
        }));
    }
    Ok(found)
}

fn kind_of(o: &Object) -> &'static str {
    match o {
        Object::Stream(_) => "a stream",
        Object::Array(_) => "an array",
        Object::String(..) => "a string",
        Object::Name(_) => "a name",
        Object::Integer(_) | Object::Real(_) => "a number",
        Object::Boolean(_) => "a boolean",
        _ => "not a dictionary",
    }
}

/// The `/Lock` dictionary of a signature field (ISO 32000-1 Table 232, 233).
fn field_lock(doc: &Document, field: &Dictionary) -> Option<FieldLock> {
    let (_, lock) = doc.dereference(field.get(b"Lock").ok()?).ok()?;
    lock_of(doc, lock.as_dict().ok()?)
}

fn lock_of(doc: &Document, lock: &Dictionary) -> Option<FieldLock> {
    let names = || -> Vec<String> {
        lock.get(b"Fields")
            .ok()
            .and_then(|o| doc.dereference(o).ok())
            .and_then(|(_, o)| o.as_array().ok())
            .map(|a| {
                a.iter()
                    .filter_map(|n| n.as_str().ok().map(decode_text_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    match lock.get(b"Action").and_then(Object::as_name).ok()? {
        b"All" => Some(FieldLock::All),
        b"Include" => Some(FieldLock::Include(names())),
        b"Exclude" => Some(FieldLock::Exclude(names())),
        _ => None,
    }
}

/// `/DocMDP` `/P` and `/FieldMDP` locks from a signature's `/Reference`
/// array of signature reference dictionaries (ISO 32000-1 Table 253).
fn references(doc: &Document, sig: &Dictionary) -> (Option<u8>, Option<FieldLock>) {
    let (mut p, mut lock) = (None, None);
    let Some((_, Object::Array(refs))) = sig
        .get(b"Reference")
        .ok()
        .and_then(|o| doc.dereference(o).ok())
    else {
        return (p, lock);
    };
    for r in refs.iter().take(16) {
        let Some(r) = doc.dereference(r).ok().and_then(|(_, o)| o.as_dict().ok()) else {
            continue;
        };
        let params = r
            .get(b"TransformParams")
            .ok()
            .and_then(|o| doc.dereference(o).ok())
            .and_then(|(_, o)| o.as_dict().ok());
        match r.get(b"TransformMethod").and_then(Object::as_name).ok() {
            Some(b"DocMDP") => {
                // Table 254: /P defaults to 2; only 1, 2 and 3 are defined,
                // so any other value is read as the strictest, 1.
                let value = params
                    .and_then(|d| d.get(b"P").and_then(Object::as_i64).ok())
                    .unwrap_or(2);
                p = Some(
                    u8::try_from(value)
                        .ok()
                        .filter(|v| (1..=3).contains(v))
                        .unwrap_or(1),
                );
            }
            Some(b"FieldMDP") => lock = params.and_then(|d| lock_of(doc, d)),
            _ => {}
        }
    }
    (p, lock)
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
        let value = item.as_i64().map_err(|_| {
            PdfError::Malformed(format!(
                "the signature's /ByteRange holds {}, not an integer that fits in 64 bits",
                crate::pdf::serialize::display_object(item)
            ))
        })?;
        *slot = usize::try_from(value).map_err(|_| {
            PdfError::Malformed(format!(
                "the signature's /ByteRange holds {value}, a negative number"
            ))
        })?;
    }
    let (doc_mdp, locks) = references(doc, sig);
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
        field_id: None,
        value_id: None,
        doc_mdp,
        locks,
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
    /// The field's object, if it is an indirect one.
    pub(crate) id: Option<ObjectId>,
}

/// Every terminal field as (object, name, is a signature field, has `/V`).
pub fn inspect_fields(doc: &Document) -> Vec<(Option<ObjectId>, String, bool, bool)> {
    all_fields(doc)
        .map(|fields| {
            fields
                .into_iter()
                .map(|(f, is_sig)| (f.id, f.name, is_sig, f.dict.has(b"V")))
                .collect()
        })
        .unwrap_or_default()
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
            let id = node.as_reference().ok();
            out.push((Field { name, dict, id }, is_sig));
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
