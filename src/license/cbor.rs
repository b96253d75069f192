//! A borrowing reader of one CBOR data item (RFC 8949 §3), for the claims
//! of a license record: text and byte strings point into the input, so a
//! verifier reads a QR code's claims without copying each string twice.
//!
//! Only definite lengths are accepted: a record is written in the
//! deterministic encoding of RFC 8949 §4.2.1, which has no indefinite-length
//! items. Nesting is limited to [`MAX_DEPTH`], lengths are checked against
//! the bytes left before anything is allocated, and text strings must be
//! UTF-8 (§3.1, major type 3), so any input gives an item or an error.

/// Deeper nesting is refused.
pub const MAX_DEPTH: usize = 16;

/// One data item.
#[derive(Clone, Debug, PartialEq)]
pub enum Item<'a> {
    /// Major type 0.
    Unsigned(u64),
    /// Major type 1: the value is −1 − n.
    Negative(u64),
    /// Major type 2.
    Bytes(&'a [u8]),
    /// Major type 3.
    Text(&'a str),
    /// Major type 4.
    Array(Vec<Item<'a>>),
    /// Major type 5, entries in the order written.
    Map(Vec<(Item<'a>, Item<'a>)>),
    /// Major type 6: tag number and tagged item.
    Tag(u64, Box<Item<'a>>),
    /// Major type 7: simple values and floats, by additional information
    /// and argument (not interpreted).
    Simple(u8, u64),
}

impl<'a> Item<'a> {
    /// The text, if this is a text string.
    pub fn as_text(&self) -> Option<&'a str> {
        match self {
            Item::Text(s) => Some(s),
            _ => None,
        }
    }

    /// The integer, if this is one that fits an `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Item::Unsigned(n) => i64::try_from(n).ok(),
            Item::Negative(n) => i64::try_from(n).ok().map(|n| -1 - n),
            _ => None,
        }
    }
}

/// Why the bytes are not one well-formed data item.
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
}

/// Reads `bytes` as exactly one data item.
pub fn read(bytes: &[u8]) -> Result<Item<'_>, CborError> {
    let mut reader = Reader { bytes, at: 0 };
    let item = reader.item(0)?;
    if reader.at != bytes.len() {
        return Err(CborError::Trailing);
    }
    Ok(item)
}

/// Reads the first data item of `bytes`; returns it and the bytes after it.
pub fn read_first(bytes: &[u8]) -> Result<(Item<'_>, &[u8]), CborError> {
    let mut reader = Reader { bytes, at: 0 };
    let item = reader.item(0)?;
    Ok((item, &bytes[reader.at..]))
}

/// Reads only the head of the first data item of `bytes` (RFC 8949 §3): its
/// major type and argument (the tag number of a tag, the length of an
/// array), and the bytes after the head — to look into a large structure
/// without reading all of it. Indefinite lengths are refused as by [`read`].
pub fn read_head(bytes: &[u8]) -> Result<(u8, u64, &[u8]), CborError> {
    let mut reader = Reader { bytes, at: 0 };
    let (major, _, argument) = reader.head()?;
    Ok((major, argument, &bytes[reader.at..]))
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], CborError> {
        let end = self.at.checked_add(n).ok_or(CborError::Truncated)?;
        let out = self.bytes.get(self.at..end).ok_or(CborError::Truncated)?;
        self.at = end;
        Ok(out)
    }

    /// The initial byte's major type, additional information and argument
    /// (RFC 8949 §3).
    fn head(&mut self) -> Result<(u8, u8, u64), CborError> {
        let start = self.at;
        let initial = self.take(1)?[0];
        let (major, info) = (initial >> 5, initial & 0x1f);
        let argument = match info {
            0..=23 => u64::from(info),
            24..=27 => {
                let n = 1 << (info - 24);
                self.take(n)?
                    .iter()
                    .fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
            }
            _ => return Err(CborError::Length(start)),
        };
        Ok((major, info, argument))
    }

    /// A count of items that must each take at least one byte.
    fn count(&self, n: u64) -> Result<usize, CborError> {
        usize::try_from(n)
            .ok()
            .filter(|&n| n <= self.bytes.len() - self.at)
            .ok_or(CborError::Truncated)
    }

    fn item(&mut self, depth: usize) -> Result<Item<'a>, CborError> {
        if depth > MAX_DEPTH {
            return Err(CborError::TooDeep);
        }
        let (major, info, argument) = self.head()?;
        Ok(match major {
            0 => Item::Unsigned(argument),
            1 => Item::Negative(argument),
            2 => Item::Bytes(self.take(self.count(argument)?)?),
            3 => {
                let bytes = self.take(self.count(argument)?)?;
                Item::Text(std::str::from_utf8(bytes).map_err(|_| CborError::Utf8)?)
            }
            4 => {
                let n = self.count(argument)?;
                let mut items = Vec::with_capacity(n.min(64));
                for _ in 0..n {
                    items.push(self.item(depth + 1)?);
                }
                Item::Array(items)
            }
            5 => {
                let n = self.count(argument)?;
                let mut entries = Vec::with_capacity(n.min(64));
                for _ in 0..n {
                    let key = self.item(depth + 1)?;
                    entries.push((key, self.item(depth + 1)?));
                }
                Item::Map(entries)
            }
            6 => Item::Tag(argument, Box::new(self.item(depth + 1)?)),
            _ => Item::Simple(info, argument),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every item ciborium writes reads back as the same structure.
    #[test]
    fn reads_what_ciborium_writes() {
        use ciborium::Value;
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
        let mut bytes = Vec::new();
        ciborium::into_writer(&value, &mut bytes).unwrap();
        let Item::Map(entries) = read(&bytes).unwrap() else {
            panic!("not a map")
        };
        assert_eq!(entries[0], (Item::Unsigned(1), Item::Text("统一")));
        assert_eq!(entries[1].0.as_i64(), Some(-300));
        assert_eq!(entries[1].1, Item::Bytes(&[1, 2, 3]));
        let Item::Array(items) = &entries[2].1 else {
            panic!("not an array")
        };
        assert_eq!(items[0], Item::Unsigned(u64::MAX));
        assert_eq!(items[0].as_i64(), None);
        assert_eq!(
            items[1],
            Item::Tag(1, Box::new(Item::Unsigned(1_700_000_000)))
        );
        assert_eq!(items[2], Item::Simple(21, 21));
        assert_eq!(items[3], Item::Simple(22, 22));
        assert!(matches!(items[4], Item::Simple(25..=27, _)));
    }

    #[test]
    fn reads_a_head_or_a_first_item_and_returns_the_rest() {
        // Tag 18 around [h'', {}, …]: the head, then the items one by one.
        let bytes = [0xd2, 0x84, 0x40, 0xa0, 0xf6, 0x41, 0x07];
        let (major, tag, rest) = read_head(&bytes).unwrap();
        assert_eq!((major, tag), (6, 18));
        let (major, len, rest) = read_head(rest).unwrap();
        assert_eq!((major, len), (4, 4));
        let (first, rest) = read_first(rest).unwrap();
        assert_eq!(first, Item::Bytes(&[]));
        let (second, rest) = read_first(rest).unwrap();
        assert_eq!(second, Item::Map(vec![]));
        assert_eq!(rest, &[0xf6, 0x41, 0x07]);
        assert_eq!(read_head(&[0x9f]), Err(CborError::Length(0)), "indefinite");
        assert_eq!(read_head(&[0x19, 0x01]), Err(CborError::Truncated));
        assert_eq!(read_first(&[0x82, 0x01]), Err(CborError::Truncated));
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
        assert_eq!(read(&[0x78, 0x05, b'a']), Err(CborError::Truncated));
        let deep = vec![0x81; MAX_DEPTH + 2];
        assert_eq!(read(&deep), Err(CborError::TooDeep));
        // Every prefix of a valid item is refused, none panics.
        let mut bytes = Vec::new();
        ciborium::into_writer(
            &ciborium::Value::Map(vec![(
                ciborium::Value::Text("k".into()),
                ciborium::Value::Array(vec![ciborium::Value::Integer(70000.into())]),
            )]),
            &mut bytes,
        )
        .unwrap();
        assert!(read(&bytes).is_ok());
        for cut in 0..bytes.len() {
            assert_eq!(
                read(&bytes[..cut]),
                Err(CborError::Truncated),
                "cut at {cut}"
            );
        }
    }
}
