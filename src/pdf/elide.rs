//! Reading a signed PDF without decoding its signature values.
//!
//! A signature dictionary's `/Contents` is a hex string (ISO 32000-1
//! §12.8.1) reserved large enough for the CMS and its validation data —
//! often most of a stamped document's bytes — and a general PDF parser
//! decodes it digit by digit every time the document is read; a verifier
//! reads each document several times (the last revision, then each signed
//! revision to compare). The verifier takes the signature values from the
//! bytes excluded by `/ByteRange` anyway, so the parser need not see them.
//!
//! [`Elided`] is a copy of the file in which every long hex string after a
//! `/Contents` key — `/Contents`, optional white space, `<`, at least
//! [`MIN_DIGITS`] hex digits and nothing else, `>` — is replaced, in place
//! and at the same length, by a short hex string that stands for it (a keyed
//! SHA-256 of its bytes) followed by spaces. Offsets and the cross-reference
//! table are untouched, so the copy parses as the original does, with each
//! such string read as its stand-in:
//!
//! - two strings are equal in the copy exactly when they are equal in the
//!   file (up to a 128-bit hash collision under a key an attacker does not
//!   know), so comparing revisions sees every change it saw before;
//! - [`Elided::signature_value`] gives the decoded bytes back for a
//!   signature whose `/Contents` stands for the very bytes its `/ByteRange`
//!   excludes, and nothing else, so the verifier's checks that the excluded
//!   bytes are that signature's `/Contents` are unchanged.
//!
//! A hex string that does not have this shape (white space inside, too
//! short, cut by the end of a revision) is left as it is and parsed as
//! before.

use std::borrow::Cow;
use std::sync::OnceLock;

use lopdf::Document;
use ring::digest::{Context, SHA256};
use ring::rand::{SecureRandom, SystemRandom};

use super::PdfError;
use super::update::load;

/// Shorter hex strings are left to the parser (a CMS signature is longer).
pub const MIN_DIGITS: usize = 512;

/// Bytes of the stand-in's hash.
const STAND_IN: usize = 16;

/// A copy of a PDF with its signature values replaced by stand-ins.
pub struct Elided<'a> {
    original: &'a [u8],
    copy: Vec<u8>,
    /// `<`…`>` of each replaced string, in file order, with its stand-in.
    regions: Vec<(usize, usize, [u8; STAND_IN])>,
}

impl<'a> Elided<'a> {
    /// Finds and replaces the signature values of `original`.
    pub fn new(original: &'a [u8]) -> Elided<'a> {
        let mut copy = original.to_vec();
        let mut regions = Vec::new();
        for key in memchr::memmem::find_iter(original, b"/Contents") {
            let Some((start, end)) = hex_value_after(original, key + b"/Contents".len()) else {
                continue;
            };
            let stand_in = stand_in(&original[start..end]);
            let slot = &mut copy[start..end];
            slot.fill(b' ');
            slot[0] = b'<';
            hex::encode_to_slice(stand_in, &mut slot[1..1 + 2 * STAND_IN])
                .expect("the region is longer than the stand-in");
            slot[1 + 2 * STAND_IN] = b'>';
            regions.push((start, end, stand_in));
        }
        Elided {
            original,
            copy,
            regions,
        }
    }

    /// The whole document, parsed from the copy.
    pub fn load(&self) -> Result<Document, PdfError> {
        load(&self.copy)
    }

    /// The document as it was at byte `end` (a revision), parsed from the
    /// copy unless `end` cuts a replaced string, then from the original.
    pub fn load_prefix(&self, end: usize) -> Result<Document, PdfError> {
        let end = end.min(self.original.len());
        if self.regions.iter().any(|&(s, e, _)| s < end && end < e) {
            return load(&self.original[..end]);
        }
        load(&self.copy[..end])
    }

    /// The decoded signature value for a `/Contents` read from the copy as
    /// `value`, if it stands for exactly the bytes `[gap_start, gap_end)`
    /// (a `/ByteRange`'s excluded bytes); otherwise `value` itself.
    pub fn signature_value<'v>(
        &self,
        value: &'v [u8],
        gap_start: usize,
        gap_end: usize,
    ) -> Cow<'v, [u8]> {
        let found = self
            .regions
            .binary_search_by_key(&gap_start, |&(s, _, _)| s)
            .ok()
            .map(|i| self.regions[i])
            .filter(|&(_, e, stand_in)| e == gap_end && value == stand_in);
        match found {
            Some((s, e, _)) => match hex::decode(&self.original[s + 1..e - 1]) {
                Ok(bytes) => Cow::Owned(bytes),
                Err(_) => Cow::Borrowed(value),
            },
            None => Cow::Borrowed(value),
        }
    }
}

/// The `<`…`>` span of a hex string of at least [`MIN_DIGITS`] digits and
/// nothing else, after optional white space at `from`.
fn hex_value_after(bytes: &[u8], from: usize) -> Option<(usize, usize)> {
    let is_space = |b: &u8| matches!(b, b'\0' | b'\t' | b'\n' | b'\x0c' | b'\r' | b' ');
    let start = from
        + bytes
            .get(from..)?
            .iter()
            .take_while(|b| is_space(b))
            .count();
    if bytes.get(start) != Some(&b'<') {
        return None;
    }
    let digits = bytes[start + 1..]
        .iter()
        .take_while(|b| b.is_ascii_hexdigit())
        .count();
    let end = start + 1 + digits;
    (digits >= MIN_DIGITS && bytes.get(end) == Some(&b'>')).then_some((start, end + 1))
}

/// A keyed hash of `region`: the key is drawn once per process, so a file
/// cannot carry a stand-in that matches a string it does not hold.
fn stand_in(region: &[u8]) -> [u8; STAND_IN] {
    static KEY: OnceLock<[u8; 32]> = OnceLock::new();
    let key = KEY.get_or_init(|| {
        let mut key = [0u8; 32];
        SystemRandom::new()
            .fill(&mut key)
            .expect("the system random generator works");
        key
    });
    let mut ctx = Context::new(&SHA256);
    ctx.update(key);
    ctx.update(region);
    let mut out = [0u8; STAND_IN];
    out.copy_from_slice(&ctx.finish().as_ref()[..STAND_IN]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex_string(fill: u8, digits: usize) -> Vec<u8> {
        let mut s = vec![b'<'];
        s.extend(std::iter::repeat_n(fill, digits));
        s.push(b'>');
        s
    }

    #[test]
    fn long_contents_strings_are_replaced_in_place_and_given_back_for_their_gap() {
        let value = hex_string(b'a', 600);
        let mut pdf = b"%PDF-1.7\n1 0 obj << /Contents ".to_vec();
        let start = pdf.len();
        pdf.extend(&value);
        let end = pdf.len();
        pdf.extend(b" /Other <");
        pdf.extend(std::iter::repeat_n(b'b', 600));
        pdf.extend(b"> /Contents <abcd> /Contents <");
        pdf.extend(std::iter::repeat_n(b'c', 600));
        pdf.extend(b" > >> endobj\n");
        let elided = Elided::new(&pdf);
        assert_eq!(elided.copy.len(), pdf.len(), "offsets are kept");
        assert_eq!(
            elided.regions.len(),
            1,
            "only the well-formed long /Contents"
        );
        let (s, e, stand_in) = elided.regions[0];
        assert_eq!((s, e), (start, end));
        assert_eq!(elided.copy[..start], pdf[..start]);
        assert_eq!(elided.copy[end..], pdf[end..]);
        assert_eq!(
            elided.signature_value(&stand_in, start, end).as_ref(),
            vec![0xaa; 300].as_slice()
        );
        // Another gap, or another value, gets nothing back.
        assert_eq!(
            elided.signature_value(&stand_in, start, end - 1).as_ref(),
            stand_in
        );
        assert_eq!(
            elided.signature_value(b"other", start, end).as_ref(),
            b"other"
        );
    }

    #[test]
    fn equal_strings_get_equal_stand_ins_and_different_ones_different() {
        let a = stand_in(&hex_string(b'a', 600));
        assert_eq!(a, stand_in(&hex_string(b'a', 600)));
        assert_ne!(a, stand_in(&hex_string(b'A', 600)));
        assert_ne!(a, stand_in(&hex_string(b'a', 602)));
    }

    /// A real document: the parser reads the stand-in where the value was
    /// and every other object as before.
    #[test]
    fn the_parser_reads_stand_ins_in_place_of_the_values() {
        use lopdf::{Dictionary, Object, StringFormat};
        let mut doc = Document::with_version("1.7");
        let value = vec![0x30u8; 400];
        let mut sig = Dictionary::new();
        sig.set("Type", Object::Name(b"Sig".to_vec()));
        sig.set(
            "Contents",
            Object::String(value.clone(), StringFormat::Hexadecimal),
        );
        let id = doc.add_object(sig);
        let mut catalog = Dictionary::new();
        catalog.set("Type", Object::Name(b"Catalog".to_vec()));
        catalog.set("Sig", Object::Reference(id));
        let root = doc.add_object(catalog);
        doc.trailer.set("Root", Object::Reference(root));
        let mut bytes = Vec::new();
        doc.save_to(&mut bytes).unwrap();

        let elided = Elided::new(&bytes);
        assert_eq!(elided.regions.len(), 1);
        let (start, end, stand_in) = elided.regions[0];
        let read = elided.load().unwrap();
        let contents = |doc: &Document| {
            doc.get_dictionary(id)
                .unwrap()
                .get(b"Contents")
                .unwrap()
                .as_str()
                .unwrap()
                .to_vec()
        };
        assert_eq!(contents(&read), stand_in);
        assert_eq!(
            read.get_dictionary(root).unwrap().get(b"Sig").unwrap(),
            &Object::Reference(id)
        );
        assert_eq!(
            elided
                .signature_value(&contents(&read), start, end)
                .as_ref(),
            value.as_slice()
        );
        assert_eq!(
            contents(&elided.load_prefix(bytes.len()).unwrap()),
            stand_in
        );
    }
}
