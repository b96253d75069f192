//! A signer that is not govseal's stamper: it signs whatever document it is
//! given, as other vendors' tools do, so that the verifier can be tested on
//! signed revisions govseal would refuse to stamp (dangling references, an
//! `/Info` that is also content, certification signatures, empty fields).
//!
//! One incremental update (ISO 32000-1 §7.5.6) adds a signature dictionary
//! with a `/ByteRange` and `/Contents` placeholder (§12.8.1), a merged
//! field/widget on page 1, and the field in `/AcroForm /Fields`; the byte
//! range is then patched in place and the CMS made by govseal's CMS engine
//! with the test PKI's key.

use lopdf::{Dictionary, Document, Object, ObjectId};

use super::attacks::{append_update, write};
use super::rcgen_pki::TestPki;

/// Hex digits reserved for the CMS.
const CONTENTS_HEX: usize = 16_384;

/// What to sign and how.
pub struct RawSignature<'a> {
    /// Field name (`/T`).
    pub field: &'a str,
    /// Sign this existing, empty signature field instead of adding one.
    pub existing_field: Option<ObjectId>,
    /// Extra entries of the signature dictionary, PDF syntax.
    pub sig_extra: &'a str,
    /// Extra entries of the field dictionary, PDF syntax.
    pub field_extra: &'a str,
    /// Extra catalog entries as (key, value in PDF syntax); `{sig}` in a
    /// value is replaced by the signature dictionary's reference.
    pub catalog_extra: &'a [(&'a str, &'a str)],
}

impl Default for RawSignature<'_> {
    fn default() -> Self {
        RawSignature {
            field: "RawSignature",
            existing_field: None,
            sig_extra: "",
            field_extra: "",
            catalog_extra: &[],
        }
    }
}

fn resolve<'d>(doc: &'d Document, o: &'d Object) -> &'d Object {
    match o {
        Object::Reference(id) => doc.get_object(*id).unwrap(),
        other => other,
    }
}

/// Signs `pdf` with `pki` (B-B, `/SubFilter /ETSI.CAdES.detached`).
pub fn sign_raw(pdf: &[u8], pki: &TestPki, how: &RawSignature<'_>) -> Vec<u8> {
    let doc = Document::load_mem(pdf).unwrap();
    let size = doc.trailer.get(b"Size").unwrap().as_i64().unwrap() as u32;
    let root = doc.trailer.get(b"Root").unwrap().as_reference().unwrap();
    let page = *doc.get_pages().get(&1).unwrap();
    let sig = size;
    let mut objects: Vec<(u32, String)> = Vec::new();
    objects.push((
        sig,
        format!(
            "<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached \
             /M (D:20260101000000Z) {} /ByteRange [0 0000000000 0000000000 0000000000] /Contents <{}> >>",
            how.sig_extra,
            "0".repeat(CONTENTS_HEX)
        ),
    ));
    let mut catalog = doc.get_dictionary(root).unwrap().clone();
    if let Some(field) = how.existing_field {
        let mut f = doc.get_dictionary(field).unwrap().clone();
        f.set("V", Object::Reference((sig, 0)));
        objects.push((
            field.0,
            format!(
                "{} {} >>",
                write(&Object::Dictionary(f)).trim_end_matches(">>"),
                how.field_extra
            ),
        ));
    } else {
        let field = size + 1;
        objects.push((
            field,
            format!(
                "<< /Type /Annot /Subtype /Widget /FT /Sig /T ({}) /V {sig} 0 R /F 132 \
                 /Rect [0 0 0 0] /P {} {} R {} >>",
                how.field, page.0, page.1, how.field_extra
            ),
        ));
        // The page's /Annots and the form's /Fields gain the field.
        let add = |array: &Object| -> Object {
            let mut items = resolve(&doc, array).as_array().cloned().unwrap_or_default();
            items.push(Object::Reference((field, 0)));
            Object::Array(items)
        };
        let mut page_dict = doc.get_dictionary(page).unwrap().clone();
        match page_dict.get(b"Annots").ok().cloned() {
            Some(Object::Reference(id)) => {
                objects.push((id.0, write(&add(&Object::Reference(id)))));
            }
            Some(a) => {
                page_dict.set("Annots", add(&a));
                objects.push((page.0, write(&Object::Dictionary(page_dict))));
            }
            None => {
                page_dict.set("Annots", Object::Array(vec![Object::Reference((field, 0))]));
                objects.push((page.0, write(&Object::Dictionary(page_dict))));
            }
        }
        match catalog.get(b"AcroForm").ok().cloned() {
            Some(Object::Reference(form_id)) => {
                let mut form = doc.get_dictionary(form_id).unwrap().clone();
                match form.get(b"Fields").ok().cloned() {
                    Some(Object::Reference(fid)) => {
                        objects.push((fid.0, write(&add(&Object::Reference(fid)))));
                    }
                    other => {
                        let empty = Object::Array(vec![]);
                        form.set("Fields", add(other.as_ref().unwrap_or(&empty)));
                        form.set("SigFlags", Object::Integer(3));
                        objects.push((form_id.0, write(&Object::Dictionary(form))));
                    }
                }
            }
            Some(Object::Dictionary(mut form)) => {
                let empty = Object::Array(vec![]);
                let fields = form.get(b"Fields").ok().cloned().unwrap_or(empty);
                form.set("Fields", add(&fields));
                form.set("SigFlags", Object::Integer(3));
                catalog.set("AcroForm", Object::Dictionary(form));
            }
            _ => {
                let mut form = Dictionary::new();
                form.set("Fields", Object::Array(vec![Object::Reference((field, 0))]));
                form.set("SigFlags", Object::Integer(3));
                catalog.set("AcroForm", Object::Dictionary(form));
            }
        }
    }
    let mut catalog_text = write(&Object::Dictionary(catalog));
    if !how.catalog_extra.is_empty() {
        catalog_text = catalog_text.trim_end_matches(">>").to_string();
        for (k, v) in how.catalog_extra {
            catalog_text.push_str(&format!(
                " /{k} {}",
                v.replace("{sig}", &format!("{sig} 0 R"))
            ));
        }
        catalog_text.push_str(" >>");
    }
    if catalog_text
        != write(&Object::Dictionary(
            doc.get_dictionary(root).unwrap().clone(),
        ))
        || !how.catalog_extra.is_empty()
    {
        objects.push((root.0, catalog_text));
    }
    let mut out = append_update(pdf, &objects);
    // Patch the byte range around the placeholder, then sign it.
    let marker = format!("<{}>", "0".repeat(CONTENTS_HEX));
    let a = out
        .windows(marker.len())
        .rposition(|w| w == marker.as_bytes())
        .unwrap();
    let b = a + marker.len();
    let range = format!("[0 {a:010} {b:010} {:010}]", out.len() - b);
    let placeholder = b"[0 0000000000 0000000000 0000000000]";
    let slot = out
        .windows(placeholder.len())
        .rposition(|w| w == placeholder)
        .unwrap();
    out[slot..slot + placeholder.len()].copy_from_slice(range.as_bytes());
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(&out[..a]);
    ctx.update(&out[b..]);
    let digest: [u8; 32] = ctx.finish().as_ref().try_into().unwrap();
    let cms =
        govseal::cms::sign_detached(&digest, &pki.key, &pki.leaf, &pki.intermediates).unwrap();
    let hex = hex::encode(&cms);
    out[a + 1..a + 1 + hex.len()].copy_from_slice(hex.as_bytes());
    out
}
