//! Writing an incremental update (ISO 32000-1 §7.5.6): the original bytes are
//! kept unchanged and new or replaced objects, a cross-reference section and a
//! trailer with `/Prev` are appended.
//!
//! The new section has the same form as the last one: a classic `xref` table
//! after a classic table, a cross-reference stream (§7.5.8) after a stream, so
//! readers that only understand one form of a file keep working. Entries are
//! grouped into one subsection per run of consecutive object numbers, and new
//! objects are numbered consecutively so that the runs stay few.

use std::collections::{BTreeMap, BTreeSet};

use lopdf::{Dictionary, Document, LoadOptions, Object, ObjectId, StringFormat};
use ring::digest;

use super::PdfError;
use super::limits::{self, Budget};
use super::serialize::write_object;

/// The body of one object in the update.
pub(crate) enum Body {
    /// Serialised by [`write_object`].
    Object(Object),
    /// Bytes written verbatim (used for the signature dictionary, whose
    /// placeholders must sit at known offsets).
    Raw(Vec<u8>),
}

/// An incremental update being built on top of a loaded document.
pub(crate) struct Update<'a> {
    original: &'a [u8],
    /// The document as it stands before the update.
    pub(crate) doc: Document,
    objects: BTreeMap<ObjectId, Body>,
    next_number: u32,
    prev_xref: usize,
    prev_is_stream: bool,
    /// Objects whose current body was written as raw bytes by an earlier
    /// update of this chain (see [`Successor`]): not readable as objects.
    opaque: BTreeSet<ObjectId>,
}

/// The bytes of a written update and where each object's body starts.
pub(crate) struct Written {
    pub(crate) bytes: Vec<u8>,
    pub(crate) body_offsets: BTreeMap<ObjectId, usize>,
    /// The document as the update left it, to start another update on the
    /// written bytes without parsing them again.
    pub(crate) successor: Successor,
}

/// The state of a document after an update, for [`Update::continuing`]: the
/// objects as they now stand, the trailer, and where the new cross-reference
/// section is.
#[derive(Clone)]
pub(crate) struct Successor {
    doc: Document,
    opaque: BTreeSet<ObjectId>,
    next_number: u32,
    xref: usize,
    is_stream: bool,
}

impl std::fmt::Debug for Successor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Successor")
            .field("objects", &self.doc.objects.len())
            .field("xref", &self.xref)
            .finish_non_exhaustive()
    }
}

/// Loads `bytes` as a PDF that can be extended, rejecting what cannot be,
/// within a fresh [`Budget`].
pub(crate) fn load(bytes: &[u8]) -> Result<Document, PdfError> {
    load_within(bytes, &mut Budget::default())
}

/// Loads `bytes` charging `budget` (shared by the loads of one verification).
pub(crate) fn load_within(bytes: &[u8], budget: &mut Budget) -> Result<Document, PdfError> {
    let head = &bytes[..bytes.len().min(1024)];
    if !head.windows(5).any(|w| w == b"%PDF-") {
        return Err(PdfError::NotPdf);
    }
    let options = LoadOptions {
        filter: Some(limits::filter),
        max_decompressed_size: Some(limits::MAX_STREAM_BYTES),
        ..LoadOptions::default()
    };
    let (loaded, exceeded) =
        limits::charged(budget, || Document::load_mem_with_options(bytes, options));
    if let Some(limit) = exceeded {
        return Err(PdfError::TooComplex(limit.to_string()));
    }
    let doc = match loaded {
        Ok(doc) => doc,
        Err(_) if find_last(bytes, b"/Encrypt").is_some() => return Err(PdfError::Encrypted),
        Err(lopdf::Error::Decompress(lopdf::DecompressError::MemoryLimitExceeded { .. })) => {
            return Err(PdfError::TooComplex(format!(
                "a stream decompresses to more than {} MiB (resource limit)",
                limits::MAX_STREAM_BYTES / (1024 * 1024)
            )));
        }
        Err(err) => return Err(err.into()),
    };
    if doc.trailer.has(b"Encrypt") || doc.encryption_state.is_some() {
        return Err(PdfError::Encrypted);
    }
    if doc.xref_recovery.is_some() {
        return Err(PdfError::DamagedXref);
    }
    unparsed_entries(&doc, bytes)?;
    Ok(doc)
}

/// For an object that did not parse: its `/ByteRange`, quoted, when it
/// holds an integer beyond 64 bits (a signature that must not silently
/// disappear, but fail naming why).
fn byte_range_hint(text: &[u8]) -> String {
    let Some(at) = text.windows(10).position(|w| w == b"/ByteRange") else {
        return String::new();
    };
    let rest = &text[at..];
    let end = rest
        .iter()
        .position(|&b| b == b']')
        .map_or(rest.len().min(80), |e| e + 1)
        .min(120);
    let quoted = String::from_utf8_lossy(&rest[..end]).into_owned();
    let huge = quoted
        .split(|c: char| !c.is_ascii_digit())
        .any(|digits| digits.len() > 19);
    if huge {
        format!(": it holds {quoted}, and a /ByteRange holds only integers that fit in 64 bits")
    } else {
        String::new()
    }
}

/// Refuses a document whose cross-reference data names an object that
/// cannot be parsed where it says (ISO 32000-1 §7.5.4, §7.5.8). A lenient
/// reader skips such an object, another reconstructs the file and may find
/// different content there: no verdict about what the document shows may
/// rest on one reader's way of recovering.
fn unparsed_entries(doc: &Document, bytes: &[u8]) -> Result<(), PdfError> {
    use lopdf::xref::XrefEntry;
    for (&number, entry) in &doc.reference_table.entries {
        let (id, place) = match *entry {
            XrefEntry::Normal { offset, generation } => {
                ((number, generation), format!("at offset {offset}"))
            }
            XrefEntry::Compressed { container, .. } => {
                ((number, 0), format!("in object stream {container}"))
            }
            _ => continue,
        };
        if !doc.objects.contains_key(&id) {
            let text = match *entry {
                XrefEntry::Normal { offset, .. } => usize::try_from(offset)
                    .ok()
                    .and_then(|o| bytes.get(o..bytes.len().min(o.saturating_add(4096)))),
                _ => None,
            };
            return Err(PdfError::Malformed(format!(
                "object {} {} R, which the cross-reference data places {place}, cannot be parsed{}",
                id.0,
                id.1,
                text.map(byte_range_hint).unwrap_or_default()
            )));
        }
    }
    Ok(())
}

impl<'a> Update<'a> {
    /// Starts an update of `original`.
    pub(crate) fn new(original: &'a [u8]) -> Result<Self, PdfError> {
        let doc = load(original)?;
        let prev_xref = last_startxref(original).ok_or(PdfError::DamagedXref)?;
        let at = original.get(prev_xref..).ok_or(PdfError::DamagedXref)?;
        let at = &at[at.iter().take_while(|b| b.is_ascii_whitespace()).count()..];
        let prev_is_stream = !at.starts_with(b"xref");
        let size = doc
            .trailer
            .get(b"Size")
            .and_then(Object::as_i64)
            .unwrap_or(0);
        let size = u32::try_from(size)
            .map_err(|_| PdfError::Structure("trailer /Size is out of range"))?;
        let next_number = size.max(doc.max_id.saturating_add(1)).max(1);
        Ok(Update {
            original,
            doc,
            objects: BTreeMap::new(),
            next_number,
            prev_xref,
            prev_is_stream,
            opaque: BTreeSet::new(),
        })
    }

    /// Starts an update of `written`, the bytes of the update that left
    /// `state` (with placeholders filled in place, offsets unchanged).
    pub(crate) fn continuing(written: &'a [u8], state: Successor) -> Self {
        Update {
            original: written,
            doc: state.doc,
            objects: BTreeMap::new(),
            next_number: state.next_number,
            prev_xref: state.xref,
            prev_is_stream: state.is_stream,
            opaque: state.opaque,
        }
    }

    /// Allocates a fresh object number.
    pub(crate) fn allocate(&mut self) -> ObjectId {
        let id = (self.next_number, 0);
        self.next_number += 1;
        id
    }

    /// Adds or replaces an object in the update.
    pub(crate) fn set(&mut self, id: ObjectId, object: Object) {
        self.objects.insert(id, Body::Object(object));
    }

    /// Adds an object whose serialised body is given.
    pub(crate) fn set_raw(&mut self, id: ObjectId, body: Vec<u8>) {
        self.objects.insert(id, Body::Raw(body));
    }

    /// The current state of an object: as changed by this update, or as in the document.
    pub(crate) fn get(&self, id: ObjectId) -> Result<&Object, PdfError> {
        match self.objects.get(&id) {
            Some(Body::Object(obj)) => Ok(obj),
            Some(Body::Raw(_)) => Err(PdfError::Structure("object is not editable")),
            None if self.opaque.contains(&id) => Err(PdfError::Structure("object is not editable")),
            None => self.doc.get_object(id).map_err(PdfError::from),
        }
    }

    /// Resolves a reference (one level) against the current state.
    pub(crate) fn resolve<'o>(&'o self, obj: &'o Object) -> Result<&'o Object, PdfError> {
        match obj {
            Object::Reference(id) => self.get(*id),
            other => Ok(other),
        }
    }

    /// The catalog's object id (trailer `/Root`).
    pub(crate) fn catalog_id(&self) -> Result<ObjectId, PdfError> {
        self.doc
            .trailer
            .get(b"Root")
            .and_then(Object::as_reference)
            .map_err(|_| PdfError::Structure("the trailer has no /Root reference"))
    }

    /// A copy of the current catalog dictionary.
    pub(crate) fn catalog(&self) -> Result<Dictionary, PdfError> {
        let id = self.catalog_id()?;
        self.get(id)?
            .as_dict()
            .cloned()
            .map_err(|_| PdfError::Structure("the catalog is not a dictionary"))
    }

    /// Appends the update to the original bytes.
    pub(crate) fn write(mut self) -> Written {
        let xref_stream_id = self.prev_is_stream.then(|| self.allocate());
        let mut out = Vec::with_capacity(self.original.len() + 8192);
        out.extend_from_slice(self.original);
        if !matches!(out.last(), Some(b'\n' | b'\r')) {
            out.push(b'\n');
        }
        let mut offsets = BTreeMap::new();
        let mut body_offsets = BTreeMap::new();
        let mut fresh = self.fresh_id_digest();
        for (&(num, generation), body) in &self.objects {
            offsets.insert((num, generation), out.len());
            out.extend_from_slice(format!("{num} {generation} obj\n").as_bytes());
            let start = out.len();
            body_offsets.insert((num, generation), start);
            match body {
                Body::Object(obj) => {
                    write_object(&mut out, obj);
                    fresh.update(&out[start..]);
                }
                Body::Raw(raw) => {
                    out.extend_from_slice(raw);
                    fresh.update(raw);
                }
            }
            out.extend_from_slice(b"\nendobj\n");
        }
        let mut trailer = Dictionary::new();
        trailer.set("Size", Object::Integer(i64::from(self.next_number)));
        for key in [&b"Root"[..], b"Info"] {
            if let Ok(value) = self.doc.trailer.get(key) {
                trailer.set(key, value.clone());
            }
        }
        trailer.set("ID", self.file_id(fresh.finish().as_ref()[..16].to_vec()));
        let written_trailer = trailer.clone();
        trailer.set("Prev", Object::Integer(self.prev_xref as i64));
        let xref_offset = out.len();
        match xref_stream_id {
            Some(id) => {
                offsets.insert(id, xref_offset);
                write_xref_stream(&mut out, id, trailer, &offsets);
            }
            None => write_xref_table(&mut out, trailer, &offsets),
        }
        out.extend_from_slice(format!("startxref\n{xref_offset}\n%%EOF\n").as_bytes());
        let mut doc = self.doc;
        let mut opaque = self.opaque;
        for (id, body) in self.objects {
            match body {
                Body::Object(object) => {
                    opaque.remove(&id);
                    doc.objects.insert(id, object);
                }
                Body::Raw(_) => {
                    doc.objects.remove(&id);
                    opaque.insert(id);
                }
            }
        }
        doc.trailer = written_trailer;
        doc.max_id = self.next_number.saturating_sub(1);
        Written {
            bytes: out,
            body_offsets,
            successor: Successor {
                doc,
                opaque,
                next_number: self.next_number,
                xref: xref_offset,
                is_stream: self.prev_is_stream,
            },
        }
    }

    /// The start of the digest that makes the second `/ID` element: the
    /// original's length, its previous `/ID` (or, in a file that has none,
    /// the whole original) and its last kilobyte, then the new objects as
    /// written. Once a file has an `/ID`, the cost of an update does not
    /// grow with the size of the document it extends.
    fn fresh_id_digest(&self) -> digest::Context {
        let mut fresh = digest::Context::new(&digest::SHA256);
        fresh.update(&(self.original.len() as u64).to_be_bytes());
        match self.doc.trailer.get(b"ID").and_then(Object::as_array) {
            Ok(ids) if !ids.is_empty() => {
                for id in ids {
                    if let Object::String(bytes, _) = id {
                        fresh.update(&(bytes.len() as u64).to_be_bytes());
                        fresh.update(bytes);
                    }
                }
            }
            _ => fresh.update(self.original),
        }
        fresh.update(&self.original[self.original.len().saturating_sub(1024)..]);
        fresh
    }

    /// `/ID` (§14.4): the first element is kept (or, in a file that had
    /// none, is `fresh` too), the second is `fresh`, which changes with
    /// every revision.
    fn file_id(&self, fresh: Vec<u8>) -> Object {
        let first = match self.doc.trailer.get(b"ID").and_then(Object::as_array) {
            Ok(ids) => match ids.first() {
                Some(Object::String(bytes, _)) => bytes.clone(),
                _ => fresh.clone(),
            },
            Err(_) => fresh.clone(),
        };
        Object::Array(vec![
            Object::String(first, StringFormat::Hexadecimal),
            Object::String(fresh, StringFormat::Hexadecimal),
        ])
    }
}

/// Runs of consecutive object numbers: (first number, ids in the run).
fn runs(offsets: &BTreeMap<ObjectId, usize>) -> Vec<(u32, Vec<(ObjectId, usize)>)> {
    let mut runs: Vec<(u32, Vec<(ObjectId, usize)>)> = Vec::new();
    for (&id, &offset) in offsets {
        match runs.last_mut() {
            Some((first, entries)) if *first + entries.len() as u32 == id.0 => {
                entries.push((id, offset))
            }
            _ => runs.push((id.0, vec![(id, offset)])),
        }
    }
    runs
}

fn write_xref_table(out: &mut Vec<u8>, trailer: Dictionary, offsets: &BTreeMap<ObjectId, usize>) {
    out.extend_from_slice(b"xref\n");
    for (first, entries) in runs(offsets) {
        out.extend_from_slice(format!("{first} {}\n", entries.len()).as_bytes());
        for ((_, generation), offset) in entries {
            // Each entry is exactly 20 bytes (§7.5.4).
            out.extend_from_slice(format!("{offset:010} {generation:05} n\r\n").as_bytes());
        }
    }
    out.extend_from_slice(b"trailer\n");
    write_object(out, &Object::Dictionary(trailer));
    out.push(b'\n');
}

fn write_xref_stream(
    out: &mut Vec<u8>,
    id: ObjectId,
    mut dict: Dictionary,
    offsets: &BTreeMap<ObjectId, usize>,
) {
    let max_offset = offsets.values().copied().max().unwrap_or(0) as u64;
    let width = if max_offset <= u64::from(u32::MAX) {
        4
    } else {
        8
    };
    let mut index = Vec::new();
    let mut data = Vec::new();
    for (first, entries) in runs(offsets) {
        index.push(Object::Integer(i64::from(first)));
        index.push(Object::Integer(entries.len() as i64));
        for ((_, generation), offset) in entries {
            data.push(1u8);
            data.extend_from_slice(&(offset as u64).to_be_bytes()[8 - width..]);
            data.extend_from_slice(&generation.to_be_bytes());
        }
    }
    dict.set("Type", Object::Name(b"XRef".to_vec()));
    dict.set(
        "W",
        vec![
            Object::Integer(1),
            Object::Integer(width as i64),
            Object::Integer(2),
        ],
    );
    dict.set("Index", index);
    dict.set("Filter", Object::Name(b"FlateDecode".to_vec()));
    let compressed = super::flate::deflate(&data, 6);
    out.extend_from_slice(format!("{} {} obj\n", id.0, id.1).as_bytes());
    write_object(out, &Object::Stream(lopdf::Stream::new(dict, compressed)));
    out.extend_from_slice(b"\nendobj\n");
}

/// The offset after the last `startxref` keyword.
fn last_startxref(bytes: &[u8]) -> Option<usize> {
    let at = find_last(bytes, b"startxref")? + b"startxref".len();
    let rest = &bytes[at..];
    let rest = &rest[rest.iter().take_while(|b| b.is_ascii_whitespace()).count()..];
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()
}

pub(crate) fn find_last(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{A4, DocumentBuilder};

    fn ids(pdf: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let doc = load(pdf).expect("parses");
        let ids = doc
            .trailer
            .get(b"ID")
            .and_then(Object::as_array)
            .expect("/ID");
        let s = |o: &Object| o.as_str().expect("string").to_vec();
        (s(&ids[0]), s(&ids[1]))
    }

    fn updated(pdf: &[u8], text: &str) -> Vec<u8> {
        let mut update = Update::new(pdf).expect("update");
        let id = update.allocate();
        update.set(id, Object::string_literal(text));
        update.write().bytes
    }

    #[test]
    fn the_second_id_changes_with_every_revision_and_the_first_stays() {
        let mut document = DocumentBuilder::new().expect("font");
        document.add_page(A4);
        let original = document.finish().expect("pdf");
        let (a, b) = (updated(&original, "a"), updated(&original, "b"));
        let (a_first, a_second) = ids(&a);
        let (b_first, b_second) = ids(&b);
        assert_eq!(a_first.len(), 16);
        assert_ne!(a_second, b_second, "different updates, different /ID");
        // A document without /ID gets its first element from its first update.
        assert_eq!(a_first, a_second);
        assert_ne!(b_first, a_first);
        let (c_first, c_second) = ids(&updated(&a, "c"));
        assert_eq!(c_first, a_first, "the first element is kept");
        assert_ne!(c_second, a_second);
        // The same update of another revision is told apart by what it extends.
        assert_ne!(ids(&updated(&b, "c")).1, c_second);
    }
}
