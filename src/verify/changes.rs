//! What changed after a signature (ISO 32000-1 §7.5.6 incremental updates;
//! ETSI EN 319 142-1 §5.4 and ISO 32000-2 §12.8.2.2 on what later revisions
//! may add).
//!
//! The signed revision and the document as a reader sees it are compared
//! object by object. Allowed after signing: new objects of any kind (they are
//! invisible unless something visible references them), new signature
//! fields and their widgets added to `/AcroForm /Fields` and to page
//! `/Annots`, the `/DSS` and its arrays, the document information dictionary,
//! an empty signature field receiving its `/V`, and a catalog that changed
//! only in `/AcroForm`, `/DSS` or `/Extensions`. Everything else — a page's
//! content or resources, a new annotation that is not a signature widget, a
//! form value, a replaced or deleted object, another `/Root` — is reported.
//! This is what defeats the incremental saving and shadow attacks (Mladenov
//! et al., NDSS 2019; Mainka et al., NDSS 2021).

use lopdf::{Dictionary, Document, Object, ObjectId};

/// One disallowed change, naming the object.
pub(crate) type Change = String;

/// The disallowed changes between the signed revision and the final document.
pub(crate) fn disallowed(signed: &Document, last: &Document) -> Vec<Change> {
    let mut out = Vec::new();
    let root_s = signed
        .trailer
        .get(b"Root")
        .and_then(Object::as_reference)
        .ok();
    let root_f = last
        .trailer
        .get(b"Root")
        .and_then(Object::as_reference)
        .ok();
    if root_s != root_f {
        out.push("the trailer's /Root now names another catalog".to_string());
        return out;
    }
    // The information dictionary and the DSS may change, but only objects
    // that already had that role when signing: a later trailer or catalog
    // may point /Info or /DSS at any object (the page's content stream, a
    // font), and that must not exempt it (ISO 32000-1 §7.5.6 lets an update
    // redefine any object; only its role in the signed revision is trusted).
    let info_of = |doc: &Document| doc.trailer.get(b"Info").and_then(Object::as_reference).ok();
    let info = info_of(last).filter(|&id| info_of(signed) == Some(id));
    let special = Special::find(last);
    let signed_dss = Special::find(signed).dss;
    for (&id, new) in &last.objects {
        let dss = special.dss.contains(&id) && signed_dss.contains(&id);
        if is_bookkeeping(new) || Some(id) == info || dss {
            continue;
        }
        let Some(old) = signed.objects.get(&id) else {
            continue;
        };
        if old == new {
            continue;
        }
        if let Err(why) = check_changed(signed, last, &special, id, old, new) {
            out.push(format!(
                "object {} {} R{}: {why}",
                id.0,
                id.1,
                describe(new)
            ));
        }
    }
    for (&id, old) in &signed.objects {
        if !last.objects.contains_key(&id) && !is_bookkeeping(old) {
            out.push(format!(
                "object {} {} R{} was deleted",
                id.0,
                id.1,
                describe(old)
            ));
        }
    }
    out
}

/// Objects whose role decides what may change in them.
struct Special {
    catalog: Option<ObjectId>,
    acroform: Option<ObjectId>,
    fields: Option<ObjectId>,
    annots: Vec<ObjectId>,
    dss: Vec<ObjectId>,
}

impl Special {
    fn find(doc: &Document) -> Special {
        let catalog = doc.trailer.get(b"Root").and_then(Object::as_reference).ok();
        let cat = catalog.and_then(|id| doc.get_dictionary(id).ok());
        let reference = |d: Option<&Dictionary>, key: &[u8]| {
            d.and_then(|d| d.get(key).and_then(Object::as_reference).ok())
        };
        let acroform = reference(cat, b"AcroForm");
        let form = cat
            .and_then(|c| c.get(b"AcroForm").ok())
            .and_then(|o| dict(doc, o));
        let fields = reference(form, b"Fields");
        let annots = doc
            .objects
            .values()
            .filter_map(|o| o.as_dict().ok())
            .filter(|d| type_is(d, b"Page"))
            .filter_map(|d| d.get(b"Annots").and_then(Object::as_reference).ok())
            .collect();
        let mut dss = Vec::new();
        if let Some(id) = reference(cat, b"DSS") {
            dss.push(id);
        }
        if let Some(d) = cat
            .and_then(|c| c.get(b"DSS").ok())
            .and_then(|o| dict(doc, o))
        {
            for key in [&b"Certs"[..], b"CRLs", b"OCSPs", b"VRI"] {
                if let Ok(id) = d.get(key).and_then(Object::as_reference) {
                    dss.push(id);
                }
            }
            if let Some(vri) = d.get(b"VRI").ok().and_then(|o| dict(doc, o)) {
                dss.extend(vri.iter().filter_map(|(_, v)| v.as_reference().ok()));
            }
        }
        Special {
            catalog,
            acroform,
            fields,
            annots,
            dss,
        }
    }
}

fn check_changed(
    signed: &Document,
    last: &Document,
    special: &Special,
    id: ObjectId,
    old: &Object,
    new: &Object,
) -> Result<(), String> {
    let pair = (old.as_dict().ok(), new.as_dict().ok());
    if Some(id) == special.catalog {
        let (Some(o), Some(n)) = pair else {
            return Err("the catalog is not a dictionary".into());
        };
        only_keys(o, n, &[b"AcroForm", b"DSS", b"Extensions"], "catalog")?;
        let none = Object::Dictionary(Dictionary::new());
        return match (o.get(b"AcroForm").ok(), n.get(b"AcroForm").ok()) {
            (Some(a), Some(b)) if a != b => check_form(signed, last, a, b),
            (None, Some(b)) => check_form(signed, last, &none, b),
            (Some(_), None) => Err("the catalog lost its /AcroForm".into()),
            _ => Ok(()),
        };
    }
    if Some(id) == special.acroform {
        return check_form(signed, last, old, new);
    }
    if Some(id) == special.fields {
        return grows_by(signed, last, old, new, is_signature_field, "/Fields");
    }
    if special.annots.contains(&id) {
        return grows_by(signed, last, old, new, is_signature_widget, "/Annots");
    }
    match pair {
        (Some(o), Some(n)) if type_is(n, b"Page") => {
            only_keys(o, n, &[b"Annots"], "page")?;
            match (o.get(b"Annots").ok(), n.get(b"Annots").ok()) {
                (a, Some(b)) => {
                    let empty = Object::Array(Vec::new());
                    grows_by(
                        signed,
                        last,
                        a.unwrap_or(&empty),
                        b,
                        is_signature_widget,
                        "/Annots",
                    )
                }
                (_, None) => Err("the page lost its /Annots".into()),
            }
        }
        (Some(o), Some(n)) if is_sig_field_dict(o) && !o.has(b"V") => {
            only_keys(o, n, &[b"V", b"AP"], "empty signature field").map(|_| ())
        }
        _ => Err("changed after signing".into()),
    }
}

fn check_form(
    signed: &Document,
    last: &Document,
    old: &Object,
    new: &Object,
) -> Result<(), String> {
    let (Some(o), Some(n)) = (dict(signed, old), dict(last, new)) else {
        return Err("/AcroForm is not a dictionary".into());
    };
    only_keys(o, n, &[b"Fields", b"SigFlags", b"DR", b"DA"], "/AcroForm")?;
    let empty = Object::Array(Vec::new());
    let (a, b) = (
        o.get(b"Fields").unwrap_or(&empty),
        n.get(b"Fields").unwrap_or(&empty),
    );
    if a == b {
        return Ok(());
    }
    grows_by(signed, last, a, b, is_signature_field, "/Fields")
}

/// `new` keeps every element of `old` and adds only elements that pass `allowed`.
fn grows_by(
    signed: &Document,
    last: &Document,
    old: &Object,
    new: &Object,
    allowed: fn(&Document, &Object) -> bool,
    what: &str,
) -> Result<(), String> {
    let resolve = |doc: &Document, o: &Object| -> Option<Vec<Object>> {
        match o {
            Object::Reference(id) => doc.get_object(*id).ok()?.as_array().ok().cloned(),
            Object::Array(a) => Some(a.clone()),
            _ => None,
        }
    };
    let old = resolve(signed, old).ok_or_else(|| format!("{what} was not an array"))?;
    let new = resolve(last, new).ok_or_else(|| format!("{what} is not an array"))?;
    if let Some(lost) = old.iter().find(|o| !new.contains(o)) {
        return Err(format!("{what} lost {}", show(lost)));
    }
    match new.iter().find(|n| !old.contains(n) && !allowed(last, n)) {
        Some(added) => Err(format!(
            "{what} gained {}, which is not a signature",
            show(added)
        )),
        None => Ok(()),
    }
}

fn only_keys(
    old: &Dictionary,
    new: &Dictionary,
    allowed: &[&[u8]],
    what: &str,
) -> Result<(), String> {
    let keys = old.iter().map(|(k, _)| k).chain(new.iter().map(|(k, _)| k));
    for key in keys {
        if old.get(key).ok() != new.get(key).ok() && !allowed.contains(&key.as_slice()) {
            return Err(format!(
                "the {what}'s /{} changed after signing",
                String::from_utf8_lossy(key)
            ));
        }
    }
    Ok(())
}

fn dict<'d>(doc: &'d Document, o: &'d Object) -> Option<&'d Dictionary> {
    match o {
        Object::Reference(id) => doc.get_dictionary(*id).ok(),
        Object::Dictionary(d) => Some(d),
        _ => None,
    }
}

fn type_is(d: &Dictionary, name: &[u8]) -> bool {
    d.get(b"Type").and_then(Object::as_name).ok() == Some(name)
}

fn is_sig_field_dict(d: &Dictionary) -> bool {
    d.get(b"FT").and_then(Object::as_name).ok() == Some(b"Sig".as_slice())
}

fn is_signature_field(doc: &Document, o: &Object) -> bool {
    dict(doc, o).is_some_and(is_sig_field_dict)
}

fn is_signature_widget(doc: &Document, o: &Object) -> bool {
    let Some(d) = dict(doc, o) else {
        return false;
    };
    let widget = d.get(b"Subtype").and_then(Object::as_name).ok() == Some(b"Widget".as_slice());
    let field = is_sig_field_dict(d)
        || d.get(b"Parent")
            .ok()
            .and_then(|p| dict(doc, p))
            .is_some_and(is_sig_field_dict);
    widget && field
}

/// Cross-reference and object streams change with every update by design.
fn is_bookkeeping(o: &Object) -> bool {
    match o {
        Object::Stream(s) => type_is(&s.dict, b"XRef") || type_is(&s.dict, b"ObjStm"),
        _ => false,
    }
}

fn describe(o: &Object) -> String {
    let d = match o {
        Object::Dictionary(d) => d,
        Object::Stream(s) => &s.dict,
        _ => return String::new(),
    };
    let name = |k: &[u8]| d.get(k).and_then(Object::as_name).ok();
    match (name(b"Type"), name(b"Subtype")) {
        (Some(t), _) => format!(" (/{})", String::from_utf8_lossy(t)),
        (None, Some(s)) => format!(" (/{})", String::from_utf8_lossy(s)),
        _ if matches!(o, Object::Stream(_)) => " (stream)".into(),
        _ => String::new(),
    }
}

fn show(o: &Object) -> String {
    match o {
        Object::Reference((n, g)) => format!("{n} {g} R"),
        _ => "an inline object".into(),
    }
}
