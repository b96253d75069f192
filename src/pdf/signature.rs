//! Preparing a signature (ISO 32000-1 §12.8.1, ETSI EN 319 142-1 §5.3): an
//! incremental update with a signature field, its widget on a page, and a
//! signature dictionary whose `/Contents` is a zero-filled hex placeholder
//! and whose `/ByteRange` covers every byte except that placeholder.

use lopdf::{Dictionary, Object, ObjectId};
use ring::digest;
use time::OffsetDateTime;

use super::PdfError;
use super::appearance::{form_dictionary, import_appearance, inherited, rect_of};
use super::inspect::all_fields;
use super::serialize::{text_string, write_literal, write_name, write_object};
use super::update::{Successor, Update};

/// The largest CMS space that may be reserved.
const MAX_CAPACITY: usize = 1024 * 1024;
/// Wide enough for any offset below 10 GB.
const BYTE_RANGE_PLACEHOLDER: &[u8] = b"[0 0000000000 0000000000 0000000000]";

/// What kind of signature dictionary to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureKind {
    /// A PAdES signature: `/Type /Sig`, `/SubFilter /ETSI.CAdES.detached`.
    Cades,
    /// A document time-stamp: `/Type /DocTimeStamp`, `/SubFilter /ETSI.RFC3161`;
    /// `/Contents` receives an RFC 3161 TimeStampToken. The time comes from the
    /// token, so `/M`, `/Name`, `/Reason` and `/Location` are not written.
    DocumentTimestamp,
}

/// Where and how to sign.
#[derive(Debug, Clone)]
pub struct SignatureRequest {
    /// Partial name of the new signature field (`/T`); must not exist yet.
    pub field_name: String,
    /// Page that carries the widget, numbered from 1.
    pub page: u32,
    /// Widget rectangle `[x1 y1 x2 y2]` in default user space; `None` makes
    /// the signature invisible.
    pub rect: Option<[f32; 4]>,
    /// A one-page PDF drawn into `rect` (aspect ratio kept, centred).
    pub appearance: Option<Vec<u8>>,
    /// `/Reason`.
    pub reason: Option<String>,
    /// `/Name`.
    pub name: Option<String>,
    /// `/Location`.
    pub location: Option<String>,
    /// Written as `/M` (PAdES puts the claimed signing time here, not in the CMS).
    pub signing_time: OffsetDateTime,
    /// Signature or document time-stamp.
    pub kind: SignatureKind,
    /// Bytes reserved for the CMS in `/Contents` (written as twice as many hex digits).
    pub contents_capacity: usize,
}

impl SignatureRequest {
    /// An invisible signature on page 1 without reason, name or location:
    /// what a document time-stamp (ETSI EN 319 142-1 §5.4.3) needs.
    pub fn invisible(
        field_name: &str,
        kind: SignatureKind,
        signing_time: OffsetDateTime,
        contents_capacity: usize,
    ) -> Self {
        SignatureRequest {
            field_name: field_name.to_string(),
            page: 1,
            rect: None,
            appearance: None,
            reason: None,
            name: None,
            location: None,
            signing_time,
            kind,
            contents_capacity,
        }
    }
}

/// A document with a signature placeholder, waiting for its CMS.
#[derive(Debug, Clone)]
pub struct PreparedSignature {
    bytes: Vec<u8>,
    byte_range: [usize; 4],
    capacity: usize,
    successor: Successor,
}

impl PreparedSignature {
    /// The document with the zero-filled placeholder.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// `/ByteRange` as written: `[0, a, b, c]`.
    pub fn byte_range(&self) -> [usize; 4] {
        self.byte_range
    }

    /// The bytes the signature covers: both ranges, concatenated.
    pub fn signed_data(&self) -> Vec<u8> {
        let [a, b, c, d] = self.byte_range;
        [&self.bytes[a..a + b], &self.bytes[c..c + d]].concat()
    }

    /// SHA-256 over the two byte ranges: the CMS message digest.
    pub fn digest(&self) -> [u8; 32] {
        let [a, b, c, d] = self.byte_range;
        let mut ctx = digest::Context::new(&digest::SHA256);
        ctx.update(&self.bytes[a..a + b]);
        ctx.update(&self.bytes[c..c + d]);
        let mut out = [0u8; 32];
        out.copy_from_slice(ctx.finish().as_ref());
        out
    }

    /// Writes the DER `cms` into `/Contents` and returns the signed document.
    pub fn finish(self, cms: &[u8]) -> Result<Vec<u8>, PdfError> {
        Ok(self.finish_continuing(cms)?.0)
    }

    /// [`Self::finish`], and the document's state after it, to append
    /// another update (the DSS) without parsing the signed bytes again.
    pub(crate) fn finish_continuing(self, cms: &[u8]) -> Result<(Vec<u8>, Successor), PdfError> {
        if cms.len() > self.capacity {
            return Err(PdfError::SignatureTooLarge {
                needed: cms.len(),
                capacity: self.capacity,
            });
        }
        let mut bytes = self.bytes;
        let start = self.byte_range[1] + 1; // after '<'
        super::serialize::hex_upper_into(&mut bytes[start..start + 2 * cms.len()], cms);
        Ok((bytes, self.successor))
    }
}

/// Appends the signature field, widget and placeholder signature dictionary.
pub fn prepare(pdf: &[u8], request: &SignatureRequest) -> Result<PreparedSignature, PdfError> {
    let name = &request.field_name;
    if name.is_empty() || name.contains('.') {
        return Err(PdfError::InvalidFieldName(name.clone()));
    }
    let capacity = request.contents_capacity;
    if capacity == 0 || capacity > MAX_CAPACITY {
        return Err(PdfError::InvalidCapacity(capacity));
    }
    let mut update = Update::new(pdf)?;
    super::graph::check_protectable(&update.doc)?;
    if all_fields(&update.doc)?
        .iter()
        .any(|(field, _)| &field.name == name)
    {
        return Err(PdfError::FieldExists(name.clone()));
    }
    let pages = update.doc.get_pages();
    let page_id = *pages.get(&request.page).ok_or(PdfError::PageOutOfRange {
        page: request.page,
        count: pages.len(),
    })?;
    let rect = match request.rect {
        Some(rect) => Some(check_rect(&update, page_id, request.page, rect)?),
        None => None,
    };

    let sig_id = update.allocate();
    let widget_id = update.allocate();
    let mut widget = Dictionary::new();
    widget.set("Type", Object::Name(b"Annot".to_vec()));
    widget.set("Subtype", Object::Name(b"Widget".to_vec()));
    widget.set("FT", Object::Name(b"Sig".to_vec()));
    widget.set("T", text_string(name));
    widget.set("V", Object::Reference(sig_id));
    widget.set("F", Object::Integer(4));
    widget.set("P", Object::Reference(page_id));
    let [x1, y1, x2, y2] = rect.unwrap_or([0.0; 4]);
    widget.set(
        "Rect",
        [x1, y1, x2, y2]
            .iter()
            .map(|v| Object::Real(*v))
            .collect::<Vec<_>>(),
    );
    if rect.is_some() {
        let appearance = match &request.appearance {
            Some(pdf) => import_appearance(&mut update, pdf, x2 - x1, y2 - y1)?,
            None => empty_form(&mut update, x2 - x1, y2 - y1),
        };
        let mut ap = Dictionary::new();
        ap.set("N", Object::Reference(appearance));
        widget.set("AP", ap);
    }
    update.set(widget_id, Object::Dictionary(widget));
    add_annotation(&mut update, page_id, widget_id)?;
    add_field(&mut update, widget_id)?;

    let (body, contents_at, range_at) = signature_dictionary(request);
    update.set_raw(sig_id, body);
    let written = update.write();
    let body_start = *written
        .body_offsets
        .get(&sig_id)
        .ok_or(PdfError::Structure("signature dictionary was not written"))?;
    let (mut bytes, successor) = (written.bytes, written.successor);
    let gap_start = body_start + contents_at;
    let gap_end = gap_start + 2 * capacity + 2;
    let byte_range = [0, gap_start, gap_end, bytes.len() - gap_end];
    let mut patched =
        format!("[0 {} {} {}]", byte_range[1], byte_range[2], byte_range[3]).into_bytes();
    if patched.len() > BYTE_RANGE_PLACEHOLDER.len() {
        return Err(PdfError::Structure(
            "the document is too large for a /ByteRange",
        ));
    }
    patched.resize(BYTE_RANGE_PLACEHOLDER.len(), b' ');
    let at = body_start + range_at;
    bytes[at..at + patched.len()].copy_from_slice(&patched);
    Ok(PreparedSignature {
        bytes,
        byte_range,
        capacity,
        successor,
    })
}

/// The signature dictionary's bytes, with the offsets of the `/Contents`
/// hex string's `<` and of the `/ByteRange` array.
fn signature_dictionary(request: &SignatureRequest) -> (Vec<u8>, usize, usize) {
    let mut out = b"<<".to_vec();
    let entry = |out: &mut Vec<u8>, key: &[u8], value: &Object| {
        write_name(out, key);
        out.push(b' ');
        write_object(out, value);
    };
    let name = |n: &[u8]| Object::Name(n.to_vec());
    match request.kind {
        SignatureKind::Cades => {
            entry(&mut out, b"Type", &name(b"Sig"));
            entry(&mut out, b"Filter", &name(b"Adobe.PPKLite"));
            entry(&mut out, b"SubFilter", &name(b"ETSI.CAdES.detached"));
            write_name(&mut out, b"M");
            out.push(b' ');
            write_literal(&mut out, pdf_date(request.signing_time).as_bytes());
            for (key, value) in [
                (&b"Name"[..], &request.name),
                (b"Reason", &request.reason),
                (b"Location", &request.location),
            ] {
                if let Some(value) = value {
                    entry(&mut out, key, &text_string(value));
                }
            }
        }
        SignatureKind::DocumentTimestamp => {
            entry(&mut out, b"Type", &name(b"DocTimeStamp"));
            entry(&mut out, b"Filter", &name(b"Adobe.PPKLite"));
            entry(&mut out, b"SubFilter", &name(b"ETSI.RFC3161"));
        }
    }
    out.extend_from_slice(b"/ByteRange ");
    let range_at = out.len();
    out.extend_from_slice(BYTE_RANGE_PLACEHOLDER);
    out.extend_from_slice(b"/Contents ");
    let contents_at = out.len();
    out.push(b'<');
    out.resize(out.len() + 2 * request.contents_capacity, b'0');
    out.extend_from_slice(b">>>");
    (out, contents_at, range_at)
}

/// A PDF date (ISO 32000-1 §7.9.4): `D:YYYYMMDDHHmmSS+HH'mm'`.
fn pdf_date(t: OffsetDateTime) -> String {
    let offset = t.offset();
    let sign = if offset.is_negative() { '-' } else { '+' };
    format!(
        "D:{:04}{:02}{:02}{:02}{:02}{:02}{sign}{:02}'{:02}'",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        offset.whole_hours().unsigned_abs(),
        offset.minutes_past_hour().unsigned_abs(),
    )
}

fn check_rect(
    update: &Update<'_>,
    page_id: ObjectId,
    page: u32,
    rect: [f32; 4],
) -> Result<[f32; 4], PdfError> {
    let [x1, y1, x2, y2] = rect;
    if rect.iter().any(|v| !v.is_finite()) || x1 >= x2 || y1 >= y2 {
        return Err(PdfError::InvalidRect(rect));
    }
    let media_box = inherited(&update.doc, page_id, b"MediaBox")
        .and_then(|b| rect_of(&update.doc, b))
        .ok_or(PdfError::Structure("the page has no valid /MediaBox"))?;
    const SLACK: f32 = 0.01;
    if x1 < media_box[0] - SLACK
        || y1 < media_box[1] - SLACK
        || x2 > media_box[2] + SLACK
        || y2 > media_box[3] + SLACK
    {
        return Err(PdfError::RectOutsidePage {
            rect,
            page,
            media_box,
        });
    }
    Ok(rect)
}

fn empty_form(update: &mut Update<'_>, width: f32, height: f32) -> ObjectId {
    let form = form_dictionary(width, height);
    let id = update.allocate();
    update.set(id, Object::Stream(lopdf::Stream::new(form, Vec::new())));
    id
}

/// Adds the widget to the page's `/Annots`, which may be an indirect array.
fn add_annotation(
    update: &mut Update<'_>,
    page_id: ObjectId,
    widget_id: ObjectId,
) -> Result<(), PdfError> {
    let mut page = update
        .get(page_id)?
        .as_dict()
        .cloned()
        .map_err(|_| PdfError::Structure("a page is not a dictionary"))?;
    let not_array = PdfError::Structure("a page's /Annots is not an array");
    match page.get(b"Annots").ok().cloned() {
        Some(Object::Reference(annots_id)) => {
            let mut annots = update
                .get(annots_id)?
                .as_array()
                .cloned()
                .map_err(|_| not_array)?;
            annots.push(Object::Reference(widget_id));
            update.set(annots_id, Object::Array(annots));
        }
        Some(Object::Array(mut annots)) => {
            annots.push(Object::Reference(widget_id));
            page.set("Annots", annots);
            update.set(page_id, Object::Dictionary(page));
        }
        Some(Object::Null) | None => {
            page.set("Annots", vec![Object::Reference(widget_id)]);
            update.set(page_id, Object::Dictionary(page));
        }
        Some(_) => return Err(not_array),
    }
    Ok(())
}

/// Adds the field to `/AcroForm /Fields`, creating the form if needed, and
/// sets `/SigFlags 3` (SignaturesExist | AppendOnly, §12.7.2).
fn add_field(update: &mut Update<'_>, field_id: ObjectId) -> Result<(), PdfError> {
    let catalog_id = update.catalog_id()?;
    let mut catalog = update.catalog()?;
    let not_dict = PdfError::Structure("/AcroForm is not a dictionary");
    let (form_id, mut form) = match catalog.get(b"AcroForm").ok().cloned() {
        Some(Object::Reference(id)) => (
            Some(id),
            update.get(id)?.as_dict().cloned().map_err(|_| not_dict)?,
        ),
        Some(Object::Dictionary(form)) => (None, form),
        Some(Object::Null) | None => (None, Dictionary::new()),
        Some(_) => return Err(not_dict),
    };
    let not_array = PdfError::Structure("/AcroForm /Fields is not an array");
    match form.get(b"Fields").ok().cloned() {
        Some(Object::Reference(fields_id)) => {
            let mut fields = update
                .get(fields_id)?
                .as_array()
                .cloned()
                .map_err(|_| not_array)?;
            fields.push(Object::Reference(field_id));
            update.set(fields_id, Object::Array(fields));
        }
        Some(Object::Array(mut fields)) => {
            fields.push(Object::Reference(field_id));
            form.set("Fields", fields);
        }
        Some(Object::Null) | None => form.set("Fields", vec![Object::Reference(field_id)]),
        Some(_) => return Err(not_array),
    }
    form.set("SigFlags", Object::Integer(3));
    match form_id {
        Some(id) => update.set(id, Object::Dictionary(form)),
        None => {
            catalog.set("AcroForm", form);
            update.set(catalog_id, Object::Dictionary(catalog));
        }
    }
    Ok(())
}
