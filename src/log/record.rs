//! The record a version-2 log entry commits to (记录快照): one business row as
//! it stands after the action, so the audit can re-derive the entry from the
//! database and name the column that changed (issue 16).
//!
//! The encoding follows [`super::entry`]'s conventions (big-endian integers,
//! strings as `u32 length ‖ UTF-8`) and is canonical:
//!
//! | field   | encoding                                                       |
//! |---------|----------------------------------------------------------------|
//! | table   | string                                                         |
//! | key     | string (the row's primary key)                                 |
//! | columns | `u32` count, then per column name string ‖ tag `u8` ‖ value, names in strictly increasing byte order |
//!
//! | tag | value                                                                  |
//! |-----|------------------------------------------------------------------------|
//! | 0   | NULL (nothing follows)                                                 |
//! | 1   | integer, `i64`                                                         |
//! | 2   | real, IEEE 754 `f64` bits                                              |
//! | 3   | text, string                                                           |
//! | 4   | blob, 32-byte SHA-256 of its bytes (the blob itself is not logged)     |
//! | 5   | personal text, 32-byte HMAC-SHA-256 under the installation's secret    |

use std::collections::BTreeMap;

use super::entry::{EntryError, Reader, put_length, put_string};

/// One column's value as logged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// An integer (times are Unix seconds).
    Integer(i64),
    /// A real number, by its IEEE 754 bits (so equality is exact).
    Real(u64),
    /// Text published as is.
    Text(String),
    /// SHA-256 of a stored blob (PDF, COSE record, DER).
    Blob([u8; 32]),
    /// HMAC-SHA-256 of personal text (names, ID numbers, free-text reasons):
    /// a commitment the audit can check and the public cannot invert.
    Personal([u8; 32]),
}

impl Value {
    fn tag(&self) -> u8 {
        match self {
            Value::Null => 0,
            Value::Integer(_) => 1,
            Value::Real(_) => 2,
            Value::Text(_) => 3,
            Value::Blob(_) => 4,
            Value::Personal(_) => 5,
        }
    }
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Null => f.write_str("NULL"),
            Value::Integer(i) => write!(f, "{i}"),
            Value::Real(bits) => write!(f, "{}", f64::from_bits(*bits)),
            Value::Text(t) => write!(f, "{t:?}"),
            Value::Blob(h) => write!(f, "blob SHA-256 {}", hex::encode(h)),
            Value::Personal(h) => write!(f, "personal data HMAC {}", hex::encode(h)),
        }
    }
}

/// A business row as a log entry commits to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// The table.
    pub table: String,
    /// The row's primary key.
    pub key: String,
    /// Every business column, by name.
    pub columns: BTreeMap<String, Value>,
}

impl Record {
    /// Appends the canonical bytes of this record.
    pub(super) fn encode_into(&self, out: &mut Vec<u8>) -> Result<(), EntryError> {
        put_string(out, &self.table, "record table")?;
        put_string(out, &self.key, "record key")?;
        put_length(out, self.columns.len(), "record columns")?;
        for (name, value) in &self.columns {
            put_string(out, name, "column name")?;
            out.push(value.tag());
            match value {
                Value::Null => {}
                Value::Integer(i) => out.extend_from_slice(&i.to_be_bytes()),
                Value::Real(bits) => out.extend_from_slice(&bits.to_be_bytes()),
                Value::Text(t) => put_string(out, t, "column value")?,
                Value::Blob(h) | Value::Personal(h) => out.extend_from_slice(h),
            }
        }
        Ok(())
    }

    /// Reads a record written by [`Record::encode_into`].
    pub(super) fn decode_from(input: &mut Reader<'_>) -> Result<Self, EntryError> {
        let table = input.string("record table")?;
        let key = input.string("record key")?;
        let mut columns = BTreeMap::new();
        for _ in 0..input.u32()? {
            let name = input.string("column name")?;
            let value = match input.byte()? {
                0 => Value::Null,
                1 => Value::Integer(i64::from_be_bytes(input.array()?)),
                2 => Value::Real(u64::from_be_bytes(input.array()?)),
                3 => Value::Text(input.string("column value")?),
                4 => Value::Blob(input.array()?),
                5 => Value::Personal(input.array()?),
                tag => return Err(EntryError::UnknownValueTag(tag)),
            };
            if columns
                .last_key_value()
                .is_some_and(|(last, _): (&String, _)| *last >= name)
            {
                return Err(EntryError::UnsortedColumns);
            }
            columns.insert(name, value);
        }
        Ok(Record {
            table,
            key,
            columns,
        })
    }

    /// The first column (in name order) whose value differs from `other`'s,
    /// with both values; a column only one side has counts as differing.
    pub fn first_difference<'a>(
        &'a self,
        other: &'a Record,
    ) -> Option<(&'a str, Option<&'a Value>, Option<&'a Value>)> {
        let names: std::collections::BTreeSet<&String> =
            self.columns.keys().chain(other.columns.keys()).collect();
        names.into_iter().find_map(|name| {
            let (a, b) = (self.columns.get(name), other.columns.get(name));
            (a != b).then_some((name.as_str(), a, b))
        })
    }
}
