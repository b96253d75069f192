//! The document-level facts a PAdES verifier reads: where each revision ends
//! (ISO 32000-1 §7.5.6, every incremental update closes with `startxref` and
//! `%%EOF`) and the validation data of the `/DSS` (ETSI EN 319 142-1 §5.4.2).

use lopdf::{Document, Object};

/// Larger `/DSS` entries are not read.
const MAX_DSS_ENTRY: usize = 4 * 1024 * 1024;
/// At most this many certificates (or CRLs) are read from the `/DSS`...
const MAX_DSS_ITEMS: usize = 1000;
/// ...and at most this many bytes of them in all.
const MAX_DSS_BYTES: usize = 32 * 1024 * 1024;

/// The end of every revision: after each `%%EOF` that closes a `startxref`.
pub(super) fn revision_ends(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = find(&bytes[from..], b"%%EOF") {
        let at = from + i;
        let eof = at + 5;
        // `startxref`, the offset, `%%EOF`: nothing else in between.
        let before = bytes[..at].trim_ascii_end();
        let digits = before
            .iter()
            .rev()
            .take_while(|b| b.is_ascii_digit())
            .count();
        let keyword = before[..before.len() - digits].trim_ascii_end();
        if digits > 0 && keyword.ends_with(b"startxref") {
            let eol = match &bytes[eof..] {
                [b'\r', b'\n', ..] => eof + 2,
                [b'\n' | b'\r', ..] => eof + 1,
                _ => eof,
            };
            out.push((eof, eol));
        }
        from = eof;
    }
    out
}

/// Object numbers that the classic cross-reference table of the revision
/// ending at `eof` lists more than once. ISO 32000-1 §7.5.4 has each object
/// once per section; with two entries readers may take different contents
/// for the same object (one the signed bytes, one new ones), so a verifier
/// must not pick one. Cross-reference streams are not read here.
pub(super) fn duplicate_xref_entries(bytes: &[u8], eof: usize) -> Vec<u32> {
    let before = bytes[..eof.saturating_sub(5)].trim_ascii_end();
    let digits = before
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_digit())
        .count();
    let offset = std::str::from_utf8(&before[before.len() - digits..])
        .ok()
        .and_then(|d| d.parse::<usize>().ok());
    let Some(section) = offset.and_then(|o| bytes.get(o..eof)) else {
        return Vec::new();
    };
    let mut tokens = section
        .split(u8::is_ascii_whitespace)
        .filter(|t| !t.is_empty())
        .map(|t| std::str::from_utf8(t).unwrap_or(""));
    if tokens.next() != Some("xref") {
        return overlapping_stream_index(section);
    }
    let (mut seen, mut twice) = (std::collections::HashSet::new(), Vec::new());
    let mut reported = std::collections::HashSet::new();
    while let (Some(Ok(start)), Some(Ok(count))) = (
        tokens.next().map(str::parse::<u32>),
        tokens.next().map(str::parse::<u32>),
    ) {
        for number in start..start.saturating_add(count) {
            if tokens.by_ref().take(3).count() < 3 {
                return twice;
            }
            if !seen.insert(number) && reported.insert(number) {
                twice.push(number);
            }
        }
    }
    twice
}

/// For a cross-reference stream (ISO 32000-1 §7.5.8.2), the object numbers
/// that its `/Index` subsections list more than once (overlapping ranges):
/// the same ambiguity as a classic table listing an object twice.
fn overlapping_stream_index(section: &[u8]) -> Vec<u32> {
    let dict = &section[..find(section, b"stream")
        .unwrap_or(section.len())
        .min(64 * 1024)];
    let Some(at) = find(dict, b"/Index") else {
        return Vec::new();
    };
    let rest = &dict[at + 6..];
    let Some(open) = rest.iter().position(|&b| b == b'[') else {
        return Vec::new();
    };
    let close = rest.iter().position(|&b| b == b']').unwrap_or(rest.len());
    if close < open {
        return Vec::new();
    }
    let numbers: Vec<u64> = rest[open + 1..close]
        .split(u8::is_ascii_whitespace)
        .filter_map(|t| std::str::from_utf8(t).ok()?.parse().ok())
        .collect();
    let mut ranges: Vec<(u64, u64)> = numbers
        .chunks_exact(2)
        .map(|p| (p[0], p[0].saturating_add(p[1])))
        .filter(|(start, end)| end > start)
        .collect();
    ranges.sort_unstable();
    let mut twice = Vec::new();
    let mut reach = 0u64;
    for (start, end) in ranges {
        if start < reach {
            twice.push(u32::try_from(start).unwrap_or(u32::MAX));
        }
        reach = reach.max(end);
    }
    twice
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Certificates and CRLs of the final `/DSS` (EN 319 142-1 §5.4.2).
pub(super) fn dss(doc: &Document) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let read = |key: &[u8]| -> Vec<Vec<u8>> {
        let Ok(catalog) = doc.catalog() else {
            return Vec::new();
        };
        let Ok((_, Object::Dictionary(dss))) = catalog.get(b"DSS").and_then(|o| doc.dereference(o))
        else {
            return Vec::new();
        };
        let Ok((_, Object::Array(items))) = dss.get(key).and_then(|o| doc.dereference(o)) else {
            return Vec::new();
        };
        let mut left = MAX_DSS_BYTES;
        items
            .iter()
            .take(MAX_DSS_ITEMS)
            .filter_map(|item| match doc.dereference(item) {
                Ok((_, Object::Stream(s))) => {
                    let entry = s
                        .get_plain_content_with_limit(MAX_DSS_ENTRY.min(left))
                        .ok()?;
                    left -= entry.len();
                    Some(entry)
                }
                _ => None,
            })
            .collect()
    };
    (read(b"Certs"), read(b"CRLs"))
}

#[cfg(test)]
mod tests {
    use super::revision_ends;

    #[test]
    fn revisions_end_at_eof_markers_after_startxref_only() {
        let pdf = b"%PDF-1.7\nstartxref\n9\n%%EOF\nstream %%EOF endstream\nstartxref\n40\n%%EOF";
        let ends = revision_ends(pdf);
        assert_eq!(ends.len(), 2, "the %%EOF inside a stream is not a revision");
        assert_eq!(ends[0].1, ends[0].0 + 1);
        assert_eq!(ends[1], (pdf.len(), pdf.len()));
    }
}
