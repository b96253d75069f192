//! Visible signature appearances (ISO 32000-1 §12.5.5, §12.7.4.5).
//!
//! The seal picture arrives as a small one-page PDF. Its page is imported as a
//! Form XObject (§8.10): the content streams are concatenated, `/BBox` is the
//! page's media box, and the resources are deep-copied with every referenced
//! object renumbered into the target document. The widget's normal appearance
//! is then a small form that draws that XObject scaled into the rectangle,
//! keeping its aspect ratio and centred.

use std::collections::{HashMap, VecDeque};

use lopdf::{Dictionary, Document, Object, ObjectId, Stream};

use super::PdfError;
use super::update::Update;

/// Decoded page content larger than this is refused (decompression bombs).
const MAX_CONTENT: usize = 16 * 1024 * 1024;

/// Imports page 1 of `appearance_pdf` and returns the id of the widget's
/// `/AP /N` form, sized `width` × `height`.
pub(crate) fn import_appearance(
    update: &mut Update<'_>,
    appearance_pdf: &[u8],
    width: f32,
    height: f32,
) -> Result<ObjectId, PdfError> {
    let source =
        super::update::load(appearance_pdf).map_err(|e| PdfError::Appearance(e.to_string()))?;
    let pages = source.get_pages();
    if pages.len() != 1 {
        return Err(PdfError::Appearance(format!(
            "it must have exactly one page, it has {}",
            pages.len()
        )));
    }
    let page_id = *pages
        .values()
        .next()
        .ok_or(PdfError::Appearance("it has no page".into()))?;
    let media_box = inherited(&source, page_id, b"MediaBox")
        .and_then(|b| rect_of(&source, b))
        .ok_or(PdfError::Appearance(
            "its page has no valid /MediaBox".into(),
        ))?;
    let (bw, bh) = (media_box[2] - media_box[0], media_box[3] - media_box[1]);
    if bw <= 0.0 || bh <= 0.0 {
        return Err(PdfError::Appearance("its page's /MediaBox is empty".into()));
    }

    let mut content = Vec::new();
    for id in source.get_page_contents(page_id) {
        let stream = source
            .get_object(id)
            .and_then(Object::as_stream)
            .map_err(|_| PdfError::Appearance("a page content stream is missing".into()))?;
        let data = stream
            .decompressed_content_with_limit(MAX_CONTENT)
            .map_err(|e| {
                PdfError::Appearance(format!("a page content stream cannot be decoded: {e}"))
            })?;
        content.extend_from_slice(&data);
        content.push(b'\n');
    }

    let resources = match inherited(&source, page_id, b"Resources") {
        Some(res) => copy_into(update, &source, res),
        None => Object::Dictionary(Dictionary::new()),
    };
    let mut picture = Dictionary::new();
    picture.set("Type", Object::Name(b"XObject".to_vec()));
    picture.set("Subtype", Object::Name(b"Form".to_vec()));
    picture.set(
        "BBox",
        media_box
            .iter()
            .map(|v| Object::Real(*v))
            .collect::<Vec<_>>(),
    );
    picture.set("Resources", resources);
    let picture_id = update.allocate();
    update.set(picture_id, flate_stream(picture, &content));

    // Fit the picture into the widget, preserving its aspect ratio.
    let scale = (width / bw).min(height / bh);
    let dx = (width - bw * scale) / 2.0 - media_box[0] * scale;
    let dy = (height - bh * scale) / 2.0 - media_box[1] * scale;
    let draw = format!("q {scale:.6} 0 0 {scale:.6} {dx:.4} {dy:.4} cm /Seal Do Q\n");
    let mut xobjects = Dictionary::new();
    xobjects.set("Seal", Object::Reference(picture_id));
    let mut res = Dictionary::new();
    res.set("XObject", xobjects);
    let mut form = Dictionary::new();
    form.set("Type", Object::Name(b"XObject".to_vec()));
    form.set("Subtype", Object::Name(b"Form".to_vec()));
    form.set(
        "BBox",
        vec![
            Object::Integer(0),
            Object::Integer(0),
            Object::Real(width),
            Object::Real(height),
        ],
    );
    form.set("Resources", res);
    let form_id = update.allocate();
    update.set(form_id, flate_stream(form, draw.as_bytes()));
    Ok(form_id)
}

fn flate_stream(mut dict: Dictionary, data: &[u8]) -> Object {
    dict.set("Filter", Object::Name(b"FlateDecode".to_vec()));
    Object::Stream(Stream::new(dict, super::flate::deflate(data, 6)))
}

/// An inheritable page attribute (§7.7.3.4), looked up through `/Parent`.
pub(crate) fn inherited<'d>(
    doc: &'d Document,
    page_id: ObjectId,
    key: &[u8],
) -> Option<&'d Object> {
    let mut node = doc.get_dictionary(page_id).ok()?;
    for _ in 0..64 {
        if let Ok(value) = node.get(key) {
            return Some(value);
        }
        let parent = node.get(b"Parent").and_then(Object::as_reference).ok()?;
        node = doc.get_dictionary(parent).ok()?;
    }
    None
}

/// A rectangle `[x1 y1 x2 y2]`, normalised so that x1 ≤ x2 and y1 ≤ y2.
pub(crate) fn rect_of(doc: &Document, obj: &Object) -> Option<[f32; 4]> {
    let (_, obj) = doc.dereference(obj).ok()?;
    let items = obj.as_array().ok()?;
    if items.len() != 4 {
        return None;
    }
    let mut v = [0f32; 4];
    for (slot, item) in v.iter_mut().zip(items) {
        *slot = doc.dereference(item).ok()?.1.as_float().ok()?;
    }
    Some([
        v[0].min(v[2]),
        v[1].min(v[3]),
        v[0].max(v[2]),
        v[1].max(v[3]),
    ])
}

/// Deep-copies `obj` from `source` into the update: every object it reaches
/// through references gets a new number. Iterative, so deep reference chains
/// cannot exhaust the stack.
fn copy_into(update: &mut Update<'_>, source: &Document, obj: &Object) -> Object {
    let mut map: HashMap<ObjectId, ObjectId> = HashMap::new();
    let mut queue: VecDeque<(ObjectId, ObjectId)> = VecDeque::new();
    let root = renumber(obj, update, &mut map, &mut queue);
    while let Some((old, new)) = queue.pop_front() {
        let copied = match source.get_object(old) {
            Ok(original) => renumber(original, update, &mut map, &mut queue),
            Err(_) => Object::Null,
        };
        update.set(new, copied);
    }
    root
}

fn renumber(
    obj: &Object,
    update: &mut Update<'_>,
    map: &mut HashMap<ObjectId, ObjectId>,
    queue: &mut VecDeque<(ObjectId, ObjectId)>,
) -> Object {
    match obj {
        Object::Reference(old) => {
            let new = match map.get(old) {
                Some(new) => *new,
                None => {
                    let new = update.allocate();
                    map.insert(*old, new);
                    queue.push_back((*old, new));
                    new
                }
            };
            Object::Reference(new)
        }
        Object::Array(items) => Object::Array(
            items
                .iter()
                .map(|i| renumber(i, update, map, queue))
                .collect(),
        ),
        Object::Dictionary(dict) => Object::Dictionary(renumber_dict(dict, update, map, queue)),
        Object::Stream(stream) => {
            let dict = renumber_dict(&stream.dict, update, map, queue);
            Object::Stream(Stream::new(dict, stream.content.clone()))
        }
        other => other.clone(),
    }
}

fn renumber_dict(
    dict: &Dictionary,
    update: &mut Update<'_>,
    map: &mut HashMap<ObjectId, ObjectId>,
    queue: &mut VecDeque<(ObjectId, ObjectId)>,
) -> Dictionary {
    let mut out = Dictionary::new();
    for (key, value) in dict.iter() {
        // The page tree is not part of the picture; /Length is rewritten anyway.
        if key.as_slice() == b"Parent" || key.as_slice() == b"Length" {
            continue;
        }
        out.set(key.clone(), renumber(value, update, map, queue));
    }
    out
}
