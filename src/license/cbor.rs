//! The strict reading of one CBOR data item (RFC 8949) for the license
//! verifier — a license record's claims and COSE headers — over `ciborium`,
//! which decodes; this module refuses what `ciborium` reads but a record
//! must not hold:
//!
//! - **anything after the item** ([`read`]);
//! - **any encoding but the preferred one** (RFC 8949 §4.1, the part of
//!   §4.2.1's core deterministic encoding that concerns each item): the
//!   bytes read must be exactly what `ciborium` writes for the value read.
//!   That refuses indefinite lengths (§3.2.2, §3.2.3), arguments longer
//!   than needed, floats wider than their value needs, and items `ciborium`
//!   reads as something else (a bignum, tag 2 or 3, that fits an integer;
//!   `undefined` read as null). Map keys are not required to be sorted: a
//!   license's field map keeps its type's display order;
//! - **nesting deeper than [`MAX_DEPTH`]** arrays, maps and tags
//!   (`ciborium`'s recursion limit, before the stack grows);
//! - text that is not UTF-8 (§3.1, major type 3), reserved additional
//!   information (28–30) and simple values other than `false`, `true` and
//!   `null` (`ciborium` refuses these).
//!
//! Lengths are never trusted for allocation: `ciborium` reads strings in
//! chunks and grows arrays and maps one item at a time, so a length beyond
//! the input ends in [`CborError::Truncated`], not an allocation.
//!
//! A map's duplicate keys are left to the caller, which names them in its
//! own terms (RFC 8949 §5.6); [`same_item`] is the equality to use.

use ciborium::Value;
use ciborium_ll::{Decoder, Encoder, Header};

/// At most this many arrays, maps and tags nest.
pub const MAX_DEPTH: usize = 16;

/// Why the bytes are not one data item as a record holds it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CborError {
    /// The input ends inside an item.
    #[error("the input ends inside an item")]
    Truncated,
    /// Bytes follow the item.
    #[error("bytes after the item")]
    Trailing,
    /// An indefinite length, or a reserved additional information value.
    #[error("indefinite or reserved length at byte {0}")]
    Length(usize),
    /// A text string is not UTF-8.
    #[error("a text string is not UTF-8")]
    Utf8,
    /// Nesting deeper than [`MAX_DEPTH`].
    #[error("nested deeper than {MAX_DEPTH}")]
    TooDeep,
    /// Well-formed, but not in the preferred serialization.
    #[error("not in the preferred serialization (RFC 8949 §4.1) at byte {0}")]
    NotPreferred(usize),
    /// Well-formed, but not a value a record holds (an unassigned simple
    /// value, an integer beyond 128 bits).
    #[error("{0}")]
    Unsupported(String),
}

/// Reads `bytes` as exactly one data item.
pub fn read(bytes: &[u8]) -> Result<Value, CborError> {
    let (value, rest) = read_first(bytes)?;
    if !rest.is_empty() {
        return Err(CborError::Trailing);
    }
    Ok(value)
}

/// Reads the first data item of `bytes`; returns it and the bytes after it.
pub fn read_first(bytes: &[u8]) -> Result<(Value, &[u8]), CborError> {
    let mut rest = bytes;
    let value: Value = ciborium::de::from_reader_with_recursion_limit(&mut rest, MAX_DEPTH)
        .map_err(|e| decoding_error(bytes, e))?;
    let item = &bytes[..bytes.len() - rest.len()];
    let mut again = Vec::with_capacity(item.len());
    ciborium::into_writer(&value, &mut again).map_err(|e| CborError::Unsupported(e.to_string()))?;
    if again != item {
        let at = item
            .iter()
            .zip(&again)
            .position(|(a, b)| a != b)
            .unwrap_or(item.len().min(again.len()));
        return Err(match item.get(at) {
            Some(initial) if initial & 0x1f == 31 => CborError::Length(at),
            _ => CborError::NotPreferred(at),
        });
    }
    Ok((value, rest))
}

/// Reads only the head of the first data item of `bytes` (RFC 8949 §3): a
/// tag's number, an array's length… and the bytes after the head — to look
/// into a large structure without reading all of it. Indefinite lengths and
/// heads longer than needed are refused as by [`read`].
pub fn read_head(bytes: &[u8]) -> Result<(Header, &[u8]), CborError> {
    let mut rest = bytes;
    let mut decoder = Decoder::from(&mut rest);
    let header = decoder
        .pull()
        .map_err(|e| decoding_error(bytes, e.into()))?;
    let used = decoder.offset();
    if let Header::Break
    | Header::Bytes(None)
    | Header::Text(None)
    | Header::Array(None)
    | Header::Map(None) = header
    {
        return Err(CborError::Length(0));
    }
    let mut again = Vec::with_capacity(used);
    Encoder::from(&mut again)
        .push(header)
        .map_err(|e| CborError::Unsupported(format!("{e:?}")))?;
    if again != bytes[..used] {
        return Err(CborError::NotPreferred(0));
    }
    Ok((header, &bytes[used..]))
}

/// Whether two items are the same data item (RFC 8949 §2), as a map's keys
/// must not be (§5.6): floats by their bits (two NaNs written alike are one
/// key, 0.0 and −0.0 are two), everything else by value.
pub fn same_item(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Float(a), Value::Float(b)) => a.to_bits() == b.to_bits(),
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(a, b)| same_item(a, b))
        }
        (Value::Map(a), Value::Map(b)) => {
            a.len() == b.len()
                && a.iter()
                    .zip(b)
                    .all(|((ak, av), (bk, bv))| same_item(ak, bk) && same_item(av, bv))
        }
        (Value::Tag(t, a), Value::Tag(u, b)) => t == u && same_item(a, b),
        _ => a == b,
    }
}

/// The integer, if `value` is one that fits an `i64`.
pub fn as_i64(value: &Value) -> Option<i64> {
    value.as_integer().and_then(|i| i64::try_from(i).ok())
}

fn decoding_error(bytes: &[u8], e: ciborium::de::Error<std::io::Error>) -> CborError {
    use ciborium::de::Error;
    let at = match &e {
        Error::Io(_) => return CborError::Truncated,
        Error::RecursionLimitExceeded => return CborError::TooDeep,
        Error::Syntax(at) => Some(*at),
        Error::Semantic(at, _) => *at,
    };
    match at.and_then(|at| Some((at, *bytes.get(at)?))) {
        Some((at, initial)) if initial & 0x1f >= 28 => CborError::Length(at),
        Some((_, initial)) if matches!(e, Error::Syntax(_)) && initial >> 5 == 3 => CborError::Utf8,
        _ => CborError::Unsupported(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cbor(value: &Value) -> Vec<u8> {
        let mut bytes = Vec::new();
        ciborium::into_writer(value, &mut bytes).unwrap();
        bytes
    }

    /// Every item ciborium writes reads back as the same structure.
    #[test]
    fn reads_what_ciborium_writes() {
        let value = Value::Map(vec![
            (Value::Integer(1.into()), Value::Text("统一".into())),
            (Value::Integer((-300).into()), Value::Bytes(vec![1, 2, 3])),
            (
                Value::Text("a".into()),
                Value::Array(vec![
                    Value::Integer(u64::MAX.into()),
                    Value::Tag(1, Box::new(Value::Integer(1_700_000_000.into()))),
                    Value::Bool(true),
                    Value::Null,
                    Value::Float(1.5),
                ]),
            ),
        ]);
        let Value::Map(entries) = read(&cbor(&value)).unwrap() else {
            panic!("not a map")
        };
        assert_eq!(
            entries[0],
            (Value::Integer(1.into()), Value::Text("统一".into()))
        );
        assert_eq!(as_i64(&entries[1].0), Some(-300));
        assert_eq!(entries[1].1, Value::Bytes(vec![1, 2, 3]));
        let Value::Array(items) = &entries[2].1 else {
            panic!("not an array")
        };
        assert_eq!(items[0], Value::Integer(u64::MAX.into()));
        assert_eq!(as_i64(&items[0]), None);
        assert_eq!(
            items[1],
            Value::Tag(1, Box::new(Value::Integer(1_700_000_000.into())))
        );
        assert_eq!(items[2], Value::Bool(true));
        assert_eq!(items[3], Value::Null);
        assert_eq!(items[4], Value::Float(1.5));
        // The most negative integer of major type 1.
        assert_eq!(
            read(&[0x3b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
            Ok(Value::Integer(
                (-1 - i128::from(u64::MAX)).try_into().unwrap()
            ))
        );
    }

    #[test]
    fn reads_a_head_or_a_first_item_and_returns_the_rest() {
        // Tag 18 around [h'', {}, …]: the head, then the items one by one.
        let bytes = [0xd2, 0x84, 0x40, 0xa0, 0xf6, 0x41, 0x07];
        let (head, rest) = read_head(&bytes).unwrap();
        assert_eq!(head, Header::Tag(18));
        let (head, rest) = read_head(rest).unwrap();
        assert_eq!(head, Header::Array(Some(4)));
        let (first, rest) = read_first(rest).unwrap();
        assert_eq!(first, Value::Bytes(vec![]));
        let (second, rest) = read_first(rest).unwrap();
        assert_eq!(second, Value::Map(vec![]));
        assert_eq!(rest, &[0xf6, 0x41, 0x07]);
        assert_eq!(read_head(&[0x9f]), Err(CborError::Length(0)), "indefinite");
        assert_eq!(read_head(&[0xff]), Err(CborError::Length(0)), "break");
        assert_eq!(read_head(&[0x19, 0x01]), Err(CborError::Truncated));
        assert_eq!(read_first(&[0x82, 0x01]), Err(CborError::Truncated));
        assert_eq!(
            read_head(&[0xd8, 0x12, 0x84]),
            Err(CborError::NotPreferred(0)),
            "tag 18 in two bytes"
        );
        assert_eq!(read_head(&[0x1c]), Err(CborError::Length(0)), "reserved");
    }

    #[test]
    fn refuses_malformed_input_without_panicking() {
        assert_eq!(read(&[]), Err(CborError::Truncated));
        assert_eq!(read(&[0x01, 0x02]), Err(CborError::Trailing));
        assert_eq!(read(&[0x5f, 0xff]), Err(CborError::Length(0)), "indefinite");
        assert_eq!(read(&[0x1c]), Err(CborError::Length(0)), "reserved");
        assert_eq!(read(&[0x62, 0xff, 0xfe]), Err(CborError::Utf8));
        // A length far beyond the input allocates nothing.
        assert_eq!(
            read(&[0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
            Err(CborError::Truncated)
        );
        assert_eq!(
            read(&[0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
            Err(CborError::Truncated)
        );
        assert_eq!(read(&[0x78, 0x05, b'a']), Err(CborError::Truncated));
        let deep = vec![0x81; MAX_DEPTH + 2];
        assert_eq!(read(&deep), Err(CborError::TooDeep));
        // Every prefix of a valid item is refused, none panics.
        let bytes = cbor(&Value::Map(vec![(
            Value::Text("k".into()),
            Value::Array(vec![Value::Integer(70000.into())]),
        )]));
        assert!(read(&bytes).is_ok());
        for cut in 0..bytes.len() {
            assert_eq!(
                read(&bytes[..cut]),
                Err(CborError::Truncated),
                "cut at {cut}"
            );
        }
    }

    /// What `ciborium` alone would read, and this reader refuses.
    #[test]
    fn refuses_what_ciborium_reads_but_a_record_must_not_hold() {
        let laxer = |bytes: &[u8]| {
            ciborium::from_reader::<Value, _>(bytes).expect("ciborium reads it");
        };
        // Indefinite lengths, each major type that has them (RFC 8949 §3.2).
        for (bytes, at) in [
            (&[0x9f, 0x01, 0xff][..], 0),
            (&[0xbf, 0x01, 0x02, 0xff][..], 0),
            (&[0x5f, 0x41, 0x61, 0xff][..], 0),
            (&[0x7f, 0x61, 0x61, 0xff][..], 0),
            (&[0x81, 0x9f, 0xff][..], 1),
        ] {
            laxer(bytes);
            assert_eq!(read(bytes), Err(CborError::Length(at)), "{bytes:02x?}");
        }
        // Arguments and floats longer than needed, a bignum that fits an
        // integer, `undefined` read as null.
        for bytes in [
            &[0x18, 0x01][..],
            &[0x19, 0x00, 0x01],
            &[0x1b, 0, 0, 0, 0, 0, 0, 0, 0x01],
            &[0x38, 0x00],
            &[0x58, 0x01, 0x00],
            &[0x78, 0x01, b'a'],
            &[0x98, 0x00],
            &[0xb8, 0x00],
            &[0xd8, 0x01, 0x00],
            &[0xfa, 0x3f, 0xc0, 0x00, 0x00],
            &[0xfb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0],
            &[0xc2, 0x41, 0x01],
            &[0xc3, 0x41, 0x01],
            &[0xf7],
        ] {
            laxer(bytes);
            assert_eq!(read(bytes), Err(CborError::NotPreferred(0)), "{bytes:02x?}");
        }
        // Deep below one item: the position of the first longer head.
        assert_eq!(
            read(&[0xa1, 0x61, b'k', 0x81, 0x19, 0x00, 0x07]),
            Err(CborError::NotPreferred(4))
        );
        // Trailing bytes, which `ciborium::from_reader` leaves unread.
        laxer(&[0x01, 0x00]);
        assert_eq!(read(&[0x01, 0x00]), Err(CborError::Trailing));
        // Nesting: MAX_DEPTH containers read, one more does not.
        let mut nested = vec![0x81; MAX_DEPTH - 1];
        nested.push(0x80);
        assert!(read(&nested).is_ok());
        nested.insert(0, 0xc1);
        assert_eq!(read(&nested), Err(CborError::TooDeep));
        // Refused by ciborium already: an unassigned simple value, a simple
        // value in two bytes below 32 (RFC 8949 §3.3).
        assert!(matches!(read(&[0xf0]), Err(CborError::Unsupported(_))));
        assert!(read(&[0xf8, 0x10]).is_err());
    }

    #[test]
    fn same_item_is_equality_with_floats_by_their_bits() {
        let nan = Value::Float(f64::NAN);
        assert!(same_item(&nan, &nan.clone()));
        assert!(!same_item(&Value::Float(0.0), &Value::Float(-0.0)));
        assert!(same_item(
            &Value::Array(vec![nan.clone(), Value::Text("a".into())]),
            &Value::Array(vec![nan, Value::Text("a".into())])
        ));
        assert!(!same_item(
            &Value::Integer(1.into()),
            &Value::Tag(1, Box::new(Value::Integer(1.into())))
        ));
    }
}
