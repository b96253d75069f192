//! The object graph of a document: what its trailer reaches (ISO 32000-1
//! §7.3.10 indirect references, §7.5.5 the trailer). A reader shows only
//! what the trailer reaches, so "what a revision shows" is this set.
//!
//! References that do not resolve (yet) are part of it too: ISO 32000-1
//! §7.3.10 makes a reference to a missing object mean `null`, but a later
//! incremental update (§7.5.6) may define that object, and then every
//! reader shows it. A verifier that only follows references which resolve
//! misses content planted that way.

use std::collections::HashSet;

use lopdf::{Dictionary, Document, Object, ObjectId};

/// What a set of roots reaches.
#[derive(Debug, Default)]
pub(crate) struct Reach {
    /// Every object id reached, whether or not the document defines it.
    pub(crate) ids: HashSet<ObjectId>,
    /// The reached ids the document does not define, in the order found.
    pub(crate) dangling: Vec<ObjectId>,
}

impl Reach {
    pub(crate) fn contains(&self, id: ObjectId) -> bool {
        self.ids.contains(&id)
    }
}

/// Entries not followed: `(dictionary, key)` pairs whose values are pruned,
/// e.g. the catalog's `/DSS`, whose validation data shows nothing.
pub(crate) type Prune<'p> = &'p dyn Fn(Option<ObjectId>, &Dictionary, &[u8]) -> bool;

/// Everything `roots` reach in `doc`, each object visited once (linear in
/// the size of the reached graph). `prune(holder, dict, key)` stops at
/// `dict`'s `key`, where `holder` is the indirect object `dict` belongs to.
pub(crate) fn reach(doc: &Document, roots: &[ObjectId], prune: Prune<'_>) -> Reach {
    let mut out = Reach::default();
    let mut pending: Vec<ObjectId> = Vec::new();
    for &id in roots {
        if out.ids.insert(id) {
            pending.push(id);
        }
    }
    // Direct objects nested in the current indirect one, with its id.
    let mut nested: Vec<&Object> = Vec::new();
    while let Some(id) = pending.pop() {
        let Some(object) = doc.objects.get(&id) else {
            out.dangling.push(id);
            continue;
        };
        nested.push(object);
        while let Some(o) = nested.pop() {
            let dict = match o {
                Object::Reference(target) => {
                    if out.ids.insert(*target) {
                        pending.push(*target);
                    }
                    continue;
                }
                Object::Array(items) => {
                    nested.extend(items.iter());
                    continue;
                }
                Object::Dictionary(d) => d,
                Object::Stream(s) => &s.dict,
                _ => continue,
            };
            for (key, value) in dict.iter() {
                if !prune(Some(id), dict, key) {
                    nested.push(value);
                }
            }
        }
    }
    out
}

/// Prunes nothing.
pub(crate) fn follow_all(_: Option<ObjectId>, _: &Dictionary, _: &[u8]) -> bool {
    false
}

/// Refuses a document that a signature could not protect (what the
/// verifier's change analysis would have to trust): a reference to an
/// object that does not exist, which a later update may define (ISO
/// 32000-1 §7.3.10), and an information dictionary (§14.3.3) that is not a
/// plain dictionary or that the document's content also uses — it may be
/// rewritten after signing, so it must show nothing.
pub(crate) fn check_protectable(doc: &Document) -> Result<(), super::PdfError> {
    use super::PdfError::Unprotectable;
    let root = doc
        .trailer
        .get(b"Root")
        .and_then(Object::as_reference)
        .map_err(|_| super::PdfError::Structure("the trailer has no /Root reference"))?;
    let content = reach(doc, &[root], &follow_all);
    if let Some(&(n, g)) = content.dangling.first() {
        return Err(Unprotectable(format!(
            "it references object {n} {g} R, which does not exist ({} such reference(s)); re-save the file to repair it",
            content.dangling.len()
        )));
    }
    match doc.trailer.get(b"Info") {
        Err(_) => {}
        Ok(Object::Reference(id)) => {
            if content.contains(*id) {
                return Err(Unprotectable(format!(
                    "its information dictionary {} {} R is also part of the document's content",
                    id.0, id.1
                )));
            }
            match doc.objects.get(id) {
                Some(Object::Dictionary(info)) => {
                    let inner = reach(doc, &[*id], &follow_all);
                    if let Some(&(n, g)) = inner.dangling.first() {
                        return Err(Unprotectable(format!(
                            "its information dictionary references object {n} {g} R, which does not exist"
                        )));
                    }
                    if inner.ids.iter().any(|i| i != id && content.contains(*i))
                        || info
                            .iter()
                            .any(|(_, v)| matches!(v, Object::Array(_) | Object::Dictionary(_)))
                    {
                        return Err(Unprotectable(format!(
                            "its information dictionary {} {} R is not a plain dictionary of text entries",
                            id.0, id.1
                        )));
                    }
                }
                _ => {
                    return Err(Unprotectable(format!(
                        "its information dictionary {} {} R is not a dictionary",
                        id.0, id.1
                    )));
                }
            }
        }
        Ok(_) => {
            return Err(Unprotectable(
                "the trailer's /Info is not a reference to a dictionary".into(),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dangling_references_are_reached_and_cycles_end() {
        let mut doc = Document::with_version("1.7");
        let mut a = Dictionary::new();
        a.set("Next", Object::Reference((2, 0)));
        a.set("Missing", Object::Array(vec![Object::Reference((9, 0))]));
        let mut b = Dictionary::new();
        b.set("Back", Object::Reference((1, 0)));
        doc.objects.insert((1, 0), Object::Dictionary(a));
        doc.objects.insert((2, 0), Object::Dictionary(b));
        let r = reach(&doc, &[(1, 0)], &follow_all);
        assert_eq!(r.ids.len(), 3);
        assert_eq!(r.dangling, vec![(9, 0)]);
        let pruned = reach(&doc, &[(1, 0)], &|_, _, k| k == b"Missing");
        assert_eq!(pruned.ids.len(), 2);
        assert!(pruned.dangling.is_empty());
    }
}
