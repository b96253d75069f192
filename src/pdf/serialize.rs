//! Serialisation of lopdf objects into PDF syntax (ISO 32000-1 §7.3).
//!
//! We write the bytes of an incremental update ourselves instead of using
//! lopdf's writer so that every byte offset (placeholders, xref entries) is
//! known exactly and the syntax stays conventional (`/ByteRange [..]`).

use lopdf::{Dictionary, Object, StringFormat};

/// Appends `obj` in PDF syntax. Streams get their `/Length` from the content.
pub(crate) fn write_object(out: &mut Vec<u8>, obj: &Object) {
    match obj {
        Object::Null => out.extend_from_slice(b"null"),
        Object::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Object::Integer(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Object::Real(r) => write_real(out, *r),
        Object::Name(name) => write_name(out, name),
        Object::String(bytes, StringFormat::Literal) => write_literal(out, bytes),
        Object::String(bytes, StringFormat::Hexadecimal) => write_hex(out, bytes),
        Object::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                write_object(out, item);
            }
            out.push(b']');
        }
        Object::Dictionary(dict) => write_dict(out, dict, None),
        Object::Stream(stream) => {
            write_dict(out, &stream.dict, Some(stream.content.len()));
            out.extend_from_slice(b"\nstream\n");
            out.extend_from_slice(&stream.content);
            out.extend_from_slice(b"\nendstream");
        }
        Object::Reference((num, generation)) => {
            out.extend_from_slice(format!("{num} {generation} R").as_bytes());
        }
    }
}

/// A short rendering of a scalar object for a message (at most 64 characters).
pub(crate) fn display_object(obj: &Object) -> String {
    let mut out = Vec::new();
    match obj {
        Object::Array(_) => return "an array".into(),
        Object::Dictionary(_) | Object::Stream(_) => return "a dictionary".into(),
        other => write_object(&mut out, other),
    }
    let mut text = String::from_utf8_lossy(&out).into_owned();
    if text.len() > 64 {
        text.truncate(text.floor_char_boundary(61));
        text.push_str("...");
    }
    text
}

/// Writes a dictionary; with `length`, any `/Length` is replaced by it.
fn write_dict(out: &mut Vec<u8>, dict: &Dictionary, length: Option<usize>) {
    out.extend_from_slice(b"<<");
    for (key, value) in dict.iter() {
        if length.is_some() && key.as_slice() == b"Length" {
            continue;
        }
        write_name(out, key);
        out.push(b' ');
        write_object(out, value);
    }
    if let Some(len) = length {
        out.extend_from_slice(format!("/Length {len}").as_bytes());
    }
    out.extend_from_slice(b">>");
}

fn write_real(out: &mut Vec<u8>, value: f32) {
    if !value.is_finite() {
        out.push(b'0');
        return;
    }
    let text = format!("{value:.4}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    out.extend_from_slice(
        if text == "-0" || text.is_empty() {
            "0"
        } else {
            text
        }
        .as_bytes(),
    );
}

/// Names escape delimiters and non-regular characters as `#xx` (§7.3.5).
pub(crate) fn write_name(out: &mut Vec<u8>, name: &[u8]) {
    out.push(b'/');
    for &b in name {
        let regular = (0x21..=0x7e).contains(&b) && !b"()<>[]{}/%#".contains(&b);
        if regular {
            out.push(b);
        } else {
            out.extend_from_slice(format!("#{b:02X}").as_bytes());
        }
    }
}

/// Literal strings escape `\`, `(`, `)` and CR (§7.3.4.2).
pub(crate) fn write_literal(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'(');
    for &b in bytes {
        match b {
            b'\\' | b'(' | b')' => out.extend_from_slice(&[b'\\', b]),
            b'\r' => out.extend_from_slice(b"\\r"),
            _ => out.push(b),
        }
    }
    out.push(b')');
}

pub(crate) fn write_hex(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'<');
    let start = out.len();
    out.resize(start + 2 * bytes.len(), 0);
    hex_upper_into(&mut out[start..], bytes);
    out.push(b'>');
}

/// Writes `bytes` as upper-case hexadecimal digits (§7.3.4.3) into the
/// first `2 × bytes.len()` bytes of `out`, which must be that long.
pub(crate) fn hex_upper_into(out: &mut [u8], bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    for (pair, byte) in out.chunks_exact_mut(2).zip(bytes) {
        pair[0] = DIGITS[usize::from(byte >> 4)];
        pair[1] = DIGITS[usize::from(byte & 0x0F)];
    }
}

/// A PDF text string (§7.9.2.2): printable ASCII as is, anything else as
/// UTF-16BE with a byte order mark.
pub(crate) fn text_string(text: &str) -> Object {
    if text.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        Object::String(text.as_bytes().to_vec(), StringFormat::Literal)
    } else {
        let mut bytes = vec![0xfe, 0xff];
        for unit in text.encode_utf16() {
            bytes.extend_from_slice(&unit.to_be_bytes());
        }
        Object::String(bytes, StringFormat::Hexadecimal)
    }
}

/// Decodes a PDF text string (UTF-16BE with BOM, UTF-8 with BOM, or
/// PDFDocEncoding approximated as Latin-1).
pub(crate) fn decode_text_string(bytes: &[u8]) -> String {
    if let Some(rest) = bytes.strip_prefix(&[0xfe, 0xff]) {
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16_lossy(&units)
    } else if let Some(rest) = bytes.strip_prefix(&[0xef, 0xbb, 0xbf]) {
        String::from_utf8_lossy(rest).into_owned()
    } else {
        bytes.iter().map(|&b| char::from(b)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(obj: &Object) -> String {
        let mut out = Vec::new();
        write_object(&mut out, obj);
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn writes_conventional_syntax() {
        let mut dict = Dictionary::new();
        dict.set("Type", Object::Name(b"Sig".to_vec()));
        dict.set(
            "Rect",
            vec![Object::Integer(1), Object::Real(2.5), Object::Real(-0.0)],
        );
        dict.set("T", Object::string_literal("a(b)\\c"));
        dict.set("P", Object::Reference((12, 0)));
        assert_eq!(
            text(&Object::Dictionary(dict)),
            "<</Type /Sig/Rect [1 2.5 0]/T (a\\(b\\)\\\\c)/P 12 0 R>>"
        );
        assert_eq!(text(&Object::Name(b"A B#".to_vec())), "/A#20B#23");
    }

    #[test]
    fn hex_strings_are_upper_case_pairs() {
        let mut out = Vec::new();
        write_hex(&mut out, &[0x00, 0x9f, 0xa5, 0xff]);
        assert_eq!(out, b"<009FA5FF>");
        let all: Vec<u8> = (0..=255).collect();
        let mut digits = vec![0; 512];
        hex_upper_into(&mut digits, &all);
        assert_eq!(digits, hex::encode_upper(&all).into_bytes());
    }

    #[test]
    fn stream_length_comes_from_content() {
        let mut dict = Dictionary::new();
        dict.set("Length", Object::Reference((9, 0)));
        let stream = lopdf::Stream::new(dict, b"abc".to_vec());
        assert_eq!(
            text(&Object::Stream(stream)),
            "<</Length 3>>\nstream\nabc\nendstream"
        );
    }

    #[test]
    fn text_strings_round_trip() {
        for s in ["Reason 1", "北京市市场监督管理局"] {
            let Object::String(bytes, _) = text_string(s) else {
                panic!("not a string")
            };
            assert_eq!(decode_text_string(&bytes), s);
        }
    }
}
