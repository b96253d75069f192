//! Resource limits for reading untrusted PDFs.
//!
//! A PDF is a graph of compressed streams: a 140 KB file can hold 200 object
//! streams (ISO 32000-1 §7.5.7) that each inflate to 255 MiB, and a per-stream
//! limit alone lets them all through. So every load runs against a budget
//! for the whole *document* (and, for a verifier that parses each signed
//! revision too, for the whole verification): decompressed object-stream
//! bytes and objects. Exceeding it is an error that names the limit, never
//! a partial document.

use std::cell::Cell;

use lopdf::{Object, ObjectId};

/// Decompressed bytes of object streams allowed per verification or upload.
pub const MAX_DECOMPRESSED_BYTES: usize = 128 * 1024 * 1024;
/// Largest single decompressed stream (object or cross-reference stream).
pub const MAX_STREAM_BYTES: usize = 32 * 1024 * 1024;
/// Objects allowed per verification or upload (over every revision parsed).
pub const MAX_OBJECTS: usize = 2_000_000;

/// What is left of a budget; shared by the loads of one verification.
#[derive(Debug, Clone)]
pub struct Budget {
    decompressed: usize,
    objects: usize,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            decompressed: MAX_DECOMPRESSED_BYTES,
            objects: MAX_OBJECTS,
        }
    }
}

/// The limit a load ran into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exceeded {
    /// More than [`MAX_DECOMPRESSED_BYTES`] of object streams.
    Decompressed,
    /// More than [`MAX_OBJECTS`] objects.
    Objects,
}

impl std::fmt::Display for Exceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Exceeded::Decompressed => write!(
                f,
                "its object streams decompress to more than {} MiB in all (resource limit)",
                MAX_DECOMPRESSED_BYTES / (1024 * 1024)
            ),
            Exceeded::Objects => write!(
                f,
                "it has more than {MAX_OBJECTS} objects in all revisions (resource limit)"
            ),
        }
    }
}

thread_local! {
    /// The budget of the load running on this thread (lopdf calls the
    /// filter on the loading thread: its `rayon` feature is off).
    static REMAINING: Cell<(usize, usize)> = const { Cell::new((0, 0)) };
    static EXCEEDED: Cell<Option<Exceeded>> = const { Cell::new(None) };
}

/// Runs `load` with `budget` charged for what lopdf's filter sees.
pub(crate) fn charged<T>(budget: &mut Budget, load: impl FnOnce() -> T) -> (T, Option<Exceeded>) {
    REMAINING.with(|r| r.set((budget.decompressed, budget.objects)));
    EXCEEDED.with(|e| e.set(None));
    let out = load();
    let (decompressed, objects) = REMAINING.with(Cell::get);
    budget.decompressed = decompressed;
    budget.objects = objects;
    (out, EXCEEDED.with(Cell::take))
}

/// lopdf's load filter: counts objects, and inflates object streams itself
/// against the remaining budget, handing lopdf the plain content (so each is
/// inflated once). Over budget, the object is dropped and the load marked.
pub(crate) fn filter(id: ObjectId, object: &mut Object) -> Option<(ObjectId, Object)> {
    if EXCEEDED.with(Cell::get).is_some() {
        return None;
    }
    let (mut decompressed, objects) = REMAINING.with(Cell::get);
    let Some(objects) = objects.checked_sub(1) else {
        EXCEEDED.with(|e| e.set(Some(Exceeded::Objects)));
        return None;
    };
    if let Object::Stream(stream) = object
        && stream.dict.has_type(b"ObjStm")
        && stream.dict.has(b"Filter")
    {
        let cap = decompressed.min(MAX_STREAM_BYTES);
        match stream.decompressed_content_with_limit(cap) {
            Ok(plain) => {
                decompressed -= plain.len();
                stream.set_plain_content(plain);
            }
            Err(lopdf::Error::Decompress(lopdf::DecompressError::MemoryLimitExceeded {
                ..
            })) => {
                EXCEEDED.with(|e| e.set(Some(Exceeded::Decompressed)));
                REMAINING.with(|r| r.set((0, objects)));
                return None;
            }
            // A broken stream stays as it is: lopdf reports or skips it.
            Err(_) => {}
        }
    }
    REMAINING.with(|r| r.set((decompressed, objects)));
    // lopdf keeps a top-level object as the filter left it and ignores what
    // is returned, but takes a member of an object stream from the returned
    // value. Members are never streams (§7.5.7), so streams need no copy.
    match object {
        Object::Stream(_) => Some((id, Object::Null)),
        other => Some((id, other.clone())),
    }
}
