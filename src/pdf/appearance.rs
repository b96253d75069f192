//! Visible signature appearances (ISO 32000-1 §12.5.5, §12.7.4.5).
//!
//! The seal picture arrives as a small one-page PDF. Its page is imported as a
//! Form XObject (§8.10): the content streams are concatenated, `/BBox` is the
//! page's media box, and the resources are deep-copied with every referenced
//! object renumbered into the target document. The widget's normal appearance
//! is then a small form that draws that XObject scaled into the rectangle,
//! keeping its aspect ratio and centred.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use lopdf::{Dictionary, Document, Object, ObjectId, Stream};
use ring::digest;

use super::PdfError;
use super::update::Update;
use crate::memo::Memo;

/// Decoded page content larger than this is refused (decompression bombs).
const MAX_CONTENT: usize = 16 * 1024 * 1024;

/// Imports page 1 of `appearance_pdf` and returns the id of the widget's
/// `/AP /N` form, sized `width` × `height`.
///
/// The picture is parsed and its content deflated once per distinct
/// appearance (a seal signs many documents with the same drawing), then
/// placed into each update by renumbering its objects.
pub(crate) fn import_appearance(
    update: &mut Update<'_>,
    appearance_pdf: &[u8],
    width: f32,
    height: f32,
) -> Result<ObjectId, PdfError> {
    static PICTURES: Memo<Vec<u8>, Arc<Picture>> = Memo::new(64);
    let key = digest::digest(&digest::SHA256, appearance_pdf)
        .as_ref()
        .to_vec();
    let picture = PICTURES.get_or_try(key, || Picture::from_pdf(appearance_pdf).map(Arc::new))?;
    Ok(picture.place(update, width, height))
}

/// A one-page PDF's page as a Form XObject (§8.10) that does not belong to
/// any document yet: its resources reference `objects` by local numbers
/// (`n` is `objects[n - 1]`).
struct Picture {
    media_box: [f32; 4],
    /// The page's content streams, concatenated and deflated.
    content: Vec<u8>,
    resources: Object,
    objects: Vec<Object>,
}

impl Picture {
    fn from_pdf(appearance_pdf: &[u8]) -> Result<Picture, PdfError> {
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

        let mut local = Local(Vec::new());
        let resources = match inherited(&source, page_id, b"Resources") {
            Some(res) => copy_into(&mut local, &source, res),
            None => Object::Dictionary(Dictionary::new()),
        };
        Ok(Picture {
            media_box,
            content: super::flate::deflate(&content, 6),
            resources,
            objects: local.0,
        })
    }

    /// Adds the picture and a form that draws it into `width` × `height`,
    /// keeping its aspect ratio and centred; returns the form's id.
    fn place(&self, update: &mut Update<'_>, width: f32, height: f32) -> ObjectId {
        let ids: Vec<ObjectId> = self.objects.iter().map(|_| update.allocate()).collect();
        for (object, &id) in self.objects.iter().zip(&ids) {
            update.set(id, relocate(object, &ids));
        }
        let media_box = self.media_box;
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
        picture.set("Resources", relocate(&self.resources, &ids));
        picture.set("Filter", Object::Name(b"FlateDecode".to_vec()));
        let picture_id = update.allocate();
        update.set(
            picture_id,
            Object::Stream(Stream::new(picture, self.content.clone())),
        );

        let (bw, bh) = (media_box[2] - media_box[0], media_box[3] - media_box[1]);
        let scale = (width / bw).min(height / bh);
        let dx = (width - bw * scale) / 2.0 - media_box[0] * scale;
        let dy = (height - bh * scale) / 2.0 - media_box[1] * scale;
        let draw = format!("q {scale:.6} 0 0 {scale:.6} {dx:.4} {dy:.4} cm /Seal Do Q\n");
        let mut xobjects = Dictionary::new();
        xobjects.set("Seal", Object::Reference(picture_id));
        let mut res = Dictionary::new();
        res.set("XObject", xobjects);
        let mut form = form_dictionary(width, height);
        form.set("Resources", res);
        let form_id = update.allocate();
        // One line of operators: not worth a filter.
        update.set(
            form_id,
            Object::Stream(Stream::new(form, draw.into_bytes())),
        );
        form_id
    }
}

/// A Form XObject's dictionary (§8.10.2) with the box `0 0 width height`.
pub(crate) fn form_dictionary(width: f32, height: f32) -> Dictionary {
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
    form
}

/// `object` with each local reference `n` replaced by `ids[n - 1]`.
fn relocate(object: &Object, ids: &[ObjectId]) -> Object {
    match object {
        Object::Reference((n, _)) => {
            let at = (*n as usize).wrapping_sub(1);
            ids.get(at)
                .map_or(Object::Null, |id| Object::Reference(*id))
        }
        Object::Array(items) => Object::Array(items.iter().map(|i| relocate(i, ids)).collect()),
        Object::Dictionary(dict) => Object::Dictionary(relocate_dict(dict, ids)),
        Object::Stream(stream) => Object::Stream(Stream::new(
            relocate_dict(&stream.dict, ids),
            stream.content.clone(),
        )),
        other => other.clone(),
    }
}

fn relocate_dict(dict: &Dictionary, ids: &[ObjectId]) -> Dictionary {
    let mut out = Dictionary::new();
    for (key, value) in dict.iter() {
        out.set(key.clone(), relocate(value, ids));
    }
    out
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

/// Objects numbered 1, 2, … in the order they are allocated.
struct Local(Vec<Object>);

impl Local {
    fn allocate(&mut self) -> ObjectId {
        self.0.push(Object::Null);
        (self.0.len() as u32, 0)
    }

    fn set(&mut self, (n, _): ObjectId, object: Object) {
        self.0[n as usize - 1] = object;
    }
}

/// Deep-copies `obj` from `source` into `target`: every object it reaches
/// through references gets a new number. Iterative, so deep reference chains
/// cannot exhaust the stack.
fn copy_into(target: &mut Local, source: &Document, obj: &Object) -> Object {
    let mut map: HashMap<ObjectId, ObjectId> = HashMap::new();
    let mut queue: VecDeque<(ObjectId, ObjectId)> = VecDeque::new();
    let root = renumber(obj, target, &mut map, &mut queue);
    while let Some((old, new)) = queue.pop_front() {
        let copied = match source.get_object(old) {
            Ok(original) => renumber(original, target, &mut map, &mut queue),
            Err(_) => Object::Null,
        };
        target.set(new, copied);
    }
    root
}

fn renumber(
    obj: &Object,
    target: &mut Local,
    map: &mut HashMap<ObjectId, ObjectId>,
    queue: &mut VecDeque<(ObjectId, ObjectId)>,
) -> Object {
    match obj {
        Object::Reference(old) => {
            let new = match map.get(old) {
                Some(new) => *new,
                None => {
                    let new = target.allocate();
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
                .map(|i| renumber(i, target, map, queue))
                .collect(),
        ),
        Object::Dictionary(dict) => Object::Dictionary(renumber_dict(dict, target, map, queue)),
        Object::Stream(stream) => {
            let dict = renumber_dict(&stream.dict, target, map, queue);
            Object::Stream(Stream::new(dict, stream.content.clone()))
        }
        other => other.clone(),
    }
}

fn renumber_dict(
    dict: &Dictionary,
    target: &mut Local,
    map: &mut HashMap<ObjectId, ObjectId>,
    queue: &mut VecDeque<(ObjectId, ObjectId)>,
) -> Dictionary {
    let mut out = Dictionary::new();
    for (key, value) in dict.iter() {
        // The page tree is not part of the picture; /Length is rewritten anyway.
        if key.as_slice() == b"Parent" || key.as_slice() == b"Length" {
            continue;
        }
        out.set(key.clone(), renumber(value, target, map, queue));
    }
    out
}
