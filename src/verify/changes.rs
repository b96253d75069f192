//! What changed after a signature, judged by what the signed revision shows
//! (ISO 32000-1 §7.5.6 incremental updates; ISO 32000-2 §12.8.2.2 DocMDP;
//! ETSI EN 319 142-1 §5.4 on what later revisions may add).
//!
//! The model, in three steps:
//!
//! 1. **What the signed revision shows** is every object its catalog reaches
//!    ([`crate::pdf::graph`]), *including references that do not resolve
//!    yet*, but not through the catalog's `/DSS` and `/Metadata` nor the
//!    trailer's `/Info`: those show nothing. Call it the signed core.
//! 2. **Every object of the signed core that is different in the final
//!    document** — changed, deleted, or defined although the signed
//!    revision only referenced it — is judged by the role it played in the
//!    *signed* revision (catalog, form, field list, page, page annotations,
//!    empty signature field), never by what the new object says it is: a
//!    page's content stream that a later update calls `/Type /XRef` is still
//!    the page's content. Whatever has no such role may not change.
//! 3. **What a role may gain**: the catalog only `/AcroForm`, `/DSS`,
//!    `/Metadata`, `/Extensions`; the form only fields and `/SigFlags`,
//!    `/DR`, `/DA`; pages and field lists only signature fields. A new
//!    signature field is accepted if its `/V` is a signature (or document
//!    time-stamp) that verifies over a later revision and belongs to this
//!    field, or if it is unsigned and shows nothing (hidden, zero-area or
//!    empty appearance). An empty signature field of the signed revision
//!    may receive its signature the same way, unless this signature locks
//!    it (`/Lock`, FieldMDP). A certification signature with `/DocMDP /P 1`
//!    allows validation data and document time-stamps only.
//!
//! Objects outside the signed core (cross-reference and object streams,
//! the DSS, the information dictionary, XMP metadata, unreferenced objects)
//! may change freely: no reader shows them. Anything else is reported,
//! naming the object and why, and the strongest kind of change is reported
//! as a modification level as pyHanko does. This defeats the incremental
//! saving and shadow attacks (Mladenov et al., NDSS 2019; Mainka et al.,
//! NDSS 2021) without a list of exemptions to outwit.

use std::collections::{HashMap, HashSet};

use lopdf::{Dictionary, Document, Object, ObjectId};

use super::report::ModificationLevel;
use crate::pdf::graph::{self, Reach};
use crate::pdf::{FieldLock, SignatureInfo};

/// A later signature that verified (digest and signature value), with the
/// field that holds it and the revision it covers.
#[derive(Debug, Clone)]
pub(crate) struct LaterSignature {
    pub(crate) field: Option<ObjectId>,
    pub(crate) value: ObjectId,
    pub(crate) revision: usize,
    pub(crate) document_timestamp: bool,
}

/// The judgement of everything that changed after one signature.
#[derive(Debug, Default)]
pub(crate) struct Analysis {
    pub(crate) level: ModificationLevel,
    /// Each disallowed change, naming the object and why.
    pub(crate) disallowed: Vec<String>,
}

impl Analysis {
    fn allow(&mut self, level: ModificationLevel) {
        self.level = self.level.max(level);
    }

    fn refuse(&mut self, level: ModificationLevel, why: String) {
        self.level = self.level.max(level);
        self.disallowed.push(why);
    }
}

/// What the signature being judged permits.
pub(crate) struct Permissions<'a> {
    /// `/DocMDP /P` of a certification signature.
    pub(crate) doc_mdp: Option<u8>,
    /// Fields it locks.
    pub(crate) locks: Option<&'a FieldLock>,
    /// The revision it covers.
    pub(crate) revision: usize,
}

impl<'a> Permissions<'a> {
    pub(crate) fn of(sig: &'a SignatureInfo, revision: usize) -> Self {
        Permissions {
            doc_mdp: sig.doc_mdp,
            locks: sig.locks.as_ref(),
            revision,
        }
    }
}

/// Judges the final document `last` against the signed revision `signed`.
pub(crate) fn analyse(
    signed: &Document,
    last: &Document,
    permissions: &Permissions<'_>,
    later: &[LaterSignature],
) -> Analysis {
    let mut out = Analysis::default();
    let root_of = |doc: &Document| doc.trailer.get(b"Root").and_then(Object::as_reference).ok();
    let (Some(root), true) = (root_of(signed), root_of(signed) == root_of(last)) else {
        out.refuse(
            ModificationLevel::Other,
            "the trailer's /Root now names another catalog".into(),
        );
        return out;
    };
    let judge = Judge::new(signed, last, root, permissions, later);
    judge.core_changes(&mut out);
    judge.outside_core(&mut out);
    out
}

/// The catalog's entries that show nothing.
fn hidden_from_catalog(root: ObjectId) -> impl Fn(Option<ObjectId>, &Dictionary, &[u8]) -> bool {
    move |holder, _, key| holder == Some(root) && matches!(key, b"DSS" | b"Metadata")
}

struct Judge<'a> {
    signed: &'a Document,
    last: &'a Document,
    root: ObjectId,
    core: Reach,
    permissions: &'a Permissions<'a>,
    later: HashMap<ObjectId, &'a LaterSignature>,
    acroform: Option<ObjectId>,
    fields: Option<ObjectId>,
    pages: HashSet<ObjectId>,
    annots: HashSet<ObjectId>,
    /// Signature fields of the signed revision without a value, by name.
    empty_fields: HashMap<ObjectId, String>,
    /// The signed revision has fields other than signature fields.
    has_other_fields: bool,
}

impl<'a> Judge<'a> {
    fn new(
        signed: &'a Document,
        last: &'a Document,
        root: ObjectId,
        permissions: &'a Permissions<'a>,
        later: &'a [LaterSignature],
    ) -> Self {
        let core = graph::reach(signed, &[root], &hidden_from_catalog(root));
        let catalog = signed.get_dictionary(root).ok();
        let acroform = catalog.and_then(|c| c.get(b"AcroForm").and_then(Object::as_reference).ok());
        let fields = catalog
            .and_then(|c| c.get(b"AcroForm").ok())
            .and_then(|f| dict(signed, f))
            .and_then(|f| f.get(b"Fields").and_then(Object::as_reference).ok());
        let mut pages = HashSet::new();
        let mut annots = HashSet::new();
        for &id in &core.ids {
            if let Some(Object::Dictionary(d)) = signed.objects.get(&id)
                && type_is(d, b"Page")
            {
                pages.insert(id);
                if let Ok(a) = d.get(b"Annots").and_then(Object::as_reference) {
                    annots.insert(a);
                }
            }
        }
        let all_fields = crate::pdf::inspect_fields(signed);
        let has_other_fields = all_fields.iter().any(|(_, _, is_sig, _)| !is_sig);
        let empty_fields = all_fields
            .into_iter()
            .filter(|(_, _, is_sig, has_value)| *is_sig && !*has_value)
            .filter_map(|(id, name, _, _)| Some((id?, name)))
            .collect();
        Judge {
            signed,
            last,
            root,
            core,
            permissions,
            later: later
                .iter()
                .filter(|l| l.revision > permissions.revision)
                .map(|l| (l.value, l))
                .collect(),
            acroform,
            fields,
            pages,
            annots,
            empty_fields,
            has_other_fields,
        }
    }

    /// Step 2: every object of the signed core that differs.
    fn core_changes(&self, out: &mut Analysis) {
        let mut ids: Vec<ObjectId> = self.core.ids.iter().copied().collect();
        ids.sort_unstable();
        let last_numbers: Option<HashMap<u32, u16>> = (!self.core.dangling.is_empty())
            .then(|| self.last.objects.keys().map(|&(n, g)| (n, g)).collect());
        for id in ids {
            let (old, new) = (self.signed.objects.get(&id), self.last.objects.get(&id));
            let at = |o: Option<&Object>| {
                format!(
                    "object {} {} R{}",
                    id.0,
                    id.1,
                    o.map(describe).unwrap_or_default()
                )
            };
            match (old, new) {
                (None, None) => {
                    let redefined = last_numbers
                        .as_ref()
                        .and_then(|m| m.get(&id.0))
                        .filter(|&&g| {
                            self.signed.objects.get(&(id.0, g)) != self.last.objects.get(&(id.0, g))
                        });
                    if let Some(g) = redefined {
                        out.refuse(
                            ModificationLevel::Other,
                            format!(
                                "{}: the signed revision references it, and object {} {g} R was defined after signing",
                                at(None),
                                id.0
                            ),
                        );
                    }
                }
                (None, Some(n)) => out.refuse(
                    ModificationLevel::Other,
                    format!(
                        "{}: the signed revision references it but it was defined only after signing",
                        at(Some(n))
                    ),
                ),
                (Some(o), None) => out.refuse(
                    ModificationLevel::Other,
                    format!("{} was deleted", at(Some(o))),
                ),
                (Some(o), Some(n)) if o == n => {}
                (Some(o), Some(n)) => {
                    if let Err((level, why)) = self.changed(id, o, n, out) {
                        out.refuse(level, format!("{}: {why}", at(Some(o))));
                    }
                }
            }
        }
    }

    /// What changed outside the signed core: validation data, metadata.
    fn outside_core(&self, out: &mut Analysis) {
        let info = |d: &Document| d.trailer.get(b"Info").ok().cloned();
        if info(self.signed) != info(self.last) {
            out.allow(ModificationLevel::LtaUpdates);
        }
        let mut roots = vec![self.root];
        roots.extend(info(self.signed).and_then(|i| i.as_reference().ok()));
        let all = graph::reach(self.signed, &roots, &graph::follow_all);
        let changed = all.ids.iter().any(|id| {
            !self.core.contains(*id) && self.signed.objects.get(id) != self.last.objects.get(id)
        });
        if changed {
            out.allow(ModificationLevel::LtaUpdates);
        }
    }

    /// Judges a changed object of the signed core by its role there.
    fn changed(
        &self,
        id: ObjectId,
        old: &Object,
        new: &Object,
        out: &mut Analysis,
    ) -> Result<(), (ModificationLevel, String)> {
        use ModificationLevel::{Annotations, Other};
        let other = |why: &str| (Other, why.to_string());
        let pair = (old.as_dict().ok(), new.as_dict().ok());
        if id == self.root {
            let (Some(o), Some(n)) = pair else {
                return Err(other("the catalog is not a dictionary"));
            };
            only_keys(
                o,
                n,
                &[b"AcroForm", b"DSS", b"Metadata", b"Extensions", b"Version"],
                "catalog",
            )?;
            if [&b"DSS"[..], b"Metadata", b"Extensions", b"Version"]
                .iter()
                .any(|k| o.get(k).ok() != n.get(k).ok())
            {
                out.allow(ModificationLevel::LtaUpdates);
            }
            return match (o.get(b"AcroForm").ok(), n.get(b"AcroForm").ok()) {
                (a, Some(b)) if a != Some(b) => {
                    let none = Object::Dictionary(Dictionary::new());
                    self.form(a.unwrap_or(&none), b, out)
                }
                (Some(_), None) => Err(other("the catalog lost its /AcroForm")),
                _ => Ok(()),
            };
        }
        if Some(id) == self.acroform {
            return self.form(old, new, out);
        }
        if Some(id) == self.fields {
            return self.grows(old, new, "/Fields", out, |j, e, o| j.new_field(e, o));
        }
        if self.annots.contains(&id) {
            return self.grows(old, new, "/Annots", out, |j, e, o| j.new_widget(e, o));
        }
        if self.pages.contains(&id) {
            let (Some(o), Some(n)) = pair else {
                return Err(other("the page is no longer a dictionary"));
            };
            only_keys(o, n, &[b"Annots"], "page")?;
            let empty = Object::Array(Vec::new());
            return match (o.get(b"Annots").ok(), n.get(b"Annots").ok()) {
                (a, Some(b)) => self.grows(a.unwrap_or(&empty), b, "/Annots", out, |j, e, o| {
                    j.new_widget(e, o)
                }),
                (_, None) => Err(other("the page lost its /Annots")),
            };
        }
        if let Some(name) = self.empty_fields.get(&id) {
            let (Some(o), Some(n)) = pair else {
                return Err(other("the signature field is no longer a dictionary"));
            };
            only_keys(o, n, &[b"V", b"AP", b"AS"], "empty signature field")?;
            if self.permissions.locks.is_some_and(|l| l.locks(name)) {
                return Err(other(&format!(
                    "field {name:?} is locked by this signature (/Lock, FieldMDP) and was changed"
                )));
            }
            return self.field_value(Some(id), n, out);
        }
        let level = if pair.1.is_some_and(is_annotation) {
            Annotations
        } else {
            Other
        };
        Err((level, "changed after signing".into()))
    }

    /// The interactive form dictionary (ISO 32000-1 §12.7.2, Table 218).
    fn form(
        &self,
        old: &Object,
        new: &Object,
        out: &mut Analysis,
    ) -> Result<(), (ModificationLevel, String)> {
        let (Some(o), Some(n)) = (dict(self.signed, old), dict(self.last, new)) else {
            return Err((
                ModificationLevel::Other,
                "/AcroForm is not a dictionary".into(),
            ));
        };
        only_keys(o, n, &[b"Fields", b"SigFlags", b"DR", b"DA"], "/AcroForm")?;
        // Default resources and appearance only serve fields without an
        // appearance of their own; with other fields (or /NeedAppearances)
        // a reader may redraw them with new fonts (§12.7.3.3).
        let defaults_changed = [&b"DR"[..], b"DA"]
            .iter()
            .any(|k| o.get(k).ok() != n.get(k).ok());
        if defaults_changed && (self.has_other_fields || o.has(b"NeedAppearances")) {
            return Err((
                ModificationLevel::FormFilling,
                "the form's /DR or /DA changed, and a reader may redraw its fields with them"
                    .into(),
            ));
        }
        let empty = Object::Array(Vec::new());
        let (a, b) = (
            o.get(b"Fields").unwrap_or(&empty),
            n.get(b"Fields").unwrap_or(&empty),
        );
        if a == b {
            return Ok(());
        }
        self.grows(a, b, "/Fields", out, |j, e, o| j.new_field(e, o))
    }

    /// `new` keeps every element of `old`; each added one must pass `added`.
    fn grows(
        &self,
        old: &Object,
        new: &Object,
        what: &str,
        out: &mut Analysis,
        added: impl Fn(&Self, &Object, &mut Analysis) -> Result<(), (ModificationLevel, String)>,
    ) -> Result<(), (ModificationLevel, String)> {
        let other = |why: String| (ModificationLevel::Other, why);
        let old =
            array(self.signed, old).ok_or_else(|| other(format!("{what} was not an array")))?;
        let new = array(self.last, new).ok_or_else(|| other(format!("{what} is not an array")))?;
        let prefix = new.len() >= old.len() && old.iter().zip(new).all(|(a, b)| a == b);
        let fresh: Vec<&Object> = if prefix {
            new[old.len()..].iter().collect()
        } else {
            // Not a prefix: only references can be matched, in a set.
            let kept: HashSet<ObjectId> =
                new.iter().filter_map(|o| o.as_reference().ok()).collect();
            if let Some(lost) = old
                .iter()
                .find(|o| o.as_reference().map_or(true, |r| !kept.contains(&r)))
            {
                return Err(other(format!("{what} lost {}", show(lost))));
            }
            let had: HashSet<ObjectId> = old.iter().filter_map(|o| o.as_reference().ok()).collect();
            new.iter()
                .filter(|o| o.as_reference().map_or(true, |r| !had.contains(&r)))
                .collect()
        };
        for element in fresh {
            added(self, element, out).map_err(|(level, why)| {
                (level, format!("{what} gained {}: {why}", show(element)))
            })?;
        }
        Ok(())
    }

    /// An element added to `/Fields`: a signature field.
    fn new_field(
        &self,
        element: &Object,
        out: &mut Analysis,
    ) -> Result<(), (ModificationLevel, String)> {
        let Some(field) = dict(self.last, element) else {
            return Err((ModificationLevel::Other, "not a dictionary".into()));
        };
        if !is_sig_field(field) {
            return Err((
                ModificationLevel::FormFilling,
                "not a signature field".into(),
            ));
        }
        self.field_value(element.as_reference().ok(), field, out)
    }

    /// An element added to a page's `/Annots`: a widget of a signature field.
    fn new_widget(
        &self,
        element: &Object,
        out: &mut Analysis,
    ) -> Result<(), (ModificationLevel, String)> {
        let Some(widget) = dict(self.last, element) else {
            return Err((ModificationLevel::Other, "not a dictionary".into()));
        };
        let is_widget =
            widget.get(b"Subtype").and_then(Object::as_name).ok() == Some(b"Widget".as_slice());
        if is_widget && is_sig_field(widget) {
            return self.field_value(element.as_reference().ok(), widget, out);
        }
        let parent = widget.get(b"Parent").ok();
        match parent.and_then(|p| dict(self.last, p)) {
            Some(field) if is_widget && is_sig_field(field) => {
                self.field_value(parent.and_then(|p| p.as_reference().ok()), field, out)?;
                // The widget's own appearance shows too.
                if field.has(b"V") || !visible(self.last, widget) {
                    Ok(())
                } else {
                    Err((
                        ModificationLevel::Other,
                        "a widget of an unsigned signature field with a visible appearance".into(),
                    ))
                }
            }
            _ => Err((
                ModificationLevel::Annotations,
                "not a signature widget".into(),
            )),
        }
    }

    /// A signature field in the final document (new, or empty when signed):
    /// its value must be a later signature that verifies and belongs to it;
    /// without one it must show nothing.
    fn field_value(
        &self,
        field_id: Option<ObjectId>,
        field: &Dictionary,
        out: &mut Analysis,
    ) -> Result<(), (ModificationLevel, String)> {
        let other = |why: &str| (ModificationLevel::Other, why.to_string());
        let Ok(value) = field.get(b"V") else {
            if self.permissions.doc_mdp == Some(1) {
                return Err(other(
                    "a field was added although /DocMDP /P 1 allows no changes",
                ));
            }
            if visible_widgets(self.last, field) {
                return Err(other(
                    "an unsigned signature field with a visible appearance (a signature field shows something only when signed)",
                ));
            }
            out.allow(ModificationLevel::FormFilling);
            return Ok(());
        };
        let later = value
            .as_reference()
            .ok()
            .and_then(|v| self.later.get(&v))
            .filter(|l| l.field.is_none() || l.field == field_id);
        match later {
            None => Err(other(
                "its /V is not a signature that verifies over a later revision and belongs to this field",
            )),
            Some(l) if l.document_timestamp => {
                out.allow(ModificationLevel::LtaUpdates);
                Ok(())
            }
            Some(_) if self.permissions.doc_mdp == Some(1) => Err(other(
                "a signature was added although this certification signature's /DocMDP /P 1 allows no changes",
            )),
            Some(_) => {
                out.allow(ModificationLevel::FormFilling);
                Ok(())
            }
        }
    }
}

/// Whether the field, or any of its widget kids, shows something.
fn visible_widgets(doc: &Document, field: &Dictionary) -> bool {
    if (field.has(b"Rect") || field.has(b"AP")) && visible(doc, field) {
        return true;
    }
    let kids = field
        .get(b"Kids")
        .ok()
        .and_then(|k| array(doc, k))
        .unwrap_or(&[]);
    kids.iter()
        .take(64)
        .any(|k| dict(doc, k).is_none_or(|w| visible(doc, w)))
        || kids.len() > 64
}

/// Whether an annotation shows anything (ISO 32000-1 §12.5.3 flags, §12.5.5
/// appearance streams): not hidden, not zero-area, with a non-empty normal
/// appearance.
fn visible(doc: &Document, annot: &Dictionary) -> bool {
    const HIDDEN: i64 = 1 << 1;
    const NO_VIEW: i64 = 1 << 5;
    let flags = annot.get(b"F").and_then(Object::as_i64).unwrap_or(0);
    if flags & (HIDDEN | NO_VIEW) != 0 {
        return false;
    }
    let area = annot
        .get(b"Rect")
        .ok()
        .and_then(|r| array(doc, r))
        .filter(|r| r.len() == 4)
        .and_then(|r| {
            let v: Vec<f32> = r.iter().filter_map(|x| x.as_float().ok()).collect();
            (v.len() == 4).then(|| ((v[2] - v[0]) * (v[3] - v[1])).abs())
        });
    if area == Some(0.0) {
        return false;
    }
    let Some(normal) = annot
        .get(b"AP")
        .ok()
        .and_then(|ap| dict(doc, ap))
        .and_then(|ap| ap.get(b"N").ok())
    else {
        return false;
    };
    // A stream that cannot be decoded within 64 KiB counts as showing something.
    let stream_shows = |s: &lopdf::Stream| {
        s.get_plain_content_with_limit(64 * 1024)
            .map_or(true, |c| !c.iter().all(u8::is_ascii_whitespace))
    };
    match doc.dereference(normal) {
        Ok((_, Object::Stream(s))) => stream_shows(s),
        Ok((_, Object::Dictionary(states))) => {
            states.len() > 64
                || states.iter().any(|(_, v)| match doc.dereference(v) {
                    Ok((_, Object::Stream(s))) => stream_shows(s),
                    _ => false,
                })
        }
        _ => false,
    }
}

fn only_keys(
    old: &Dictionary,
    new: &Dictionary,
    allowed: &[&[u8]],
    what: &str,
) -> Result<(), (ModificationLevel, String)> {
    let keys = old.iter().map(|(k, _)| k).chain(new.iter().map(|(k, _)| k));
    for key in keys {
        if old.get(key).ok() != new.get(key).ok() && !allowed.contains(&key.as_slice()) {
            return Err((
                ModificationLevel::Other,
                format!(
                    "the {what}'s /{} changed after signing",
                    String::from_utf8_lossy(key)
                ),
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

fn array<'d>(doc: &'d Document, o: &'d Object) -> Option<&'d [Object]> {
    match o {
        Object::Reference(id) => doc.objects.get(id)?.as_array().ok().map(Vec::as_slice),
        Object::Array(a) => Some(a),
        _ => None,
    }
}

fn type_is(d: &Dictionary, name: &[u8]) -> bool {
    d.get(b"Type").and_then(Object::as_name).ok() == Some(name)
}

fn is_sig_field(d: &Dictionary) -> bool {
    d.get(b"FT").and_then(Object::as_name).ok() == Some(b"Sig".as_slice())
}

fn is_annotation(d: &Dictionary) -> bool {
    type_is(d, b"Annot") || (d.has(b"Subtype") && d.has(b"Rect"))
}

fn describe(o: &Object) -> String {
    let d = match o {
        Object::Dictionary(d) => d,
        Object::Stream(s) => &s.dict,
        _ => return String::new(),
    };
    let name = |k: &[u8]| d.get(k).and_then(Object::as_name).ok();
    match (name(b"Type"), name(b"Subtype")) {
        // A stream's /Type is what it claims to be, not what it was signed as.
        (Some(_), _) | (None, Some(_)) if matches!(o, Object::Stream(_)) => " (stream)".into(),
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
