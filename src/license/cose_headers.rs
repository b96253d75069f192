//! The header rules of RFC 9052 §3 that a COSE library does not enforce for
//! us, checked on the bytes of a tagged `COSE_Sign1` (RFC 9052 §4.2) before
//! anything else is read from it:
//!
//! - a label appears at most once in a header map: RFC 9052 §3 requires
//!   unique labels and a message with a repeated one to be rejected as
//!   malformed;
//! - a label appears in the protected or in the unprotected bucket, never in
//!   both: RFC 9052 §3 says applications SHOULD verify this, and otherwise
//!   take the protected value. This verifier refuses such a message instead:
//!   a library that merges the buckets or takes the first one found may read
//!   an attacker's unprotected `alg` or `kid` where the signer put a
//!   protected one, so two verifiers would read one record differently;
//! - `crit` (label 2): RFC 9052 §3.1 puts it in the protected bucket only,
//!   and a critical label the verifier does not understand fails the
//!   message. Records and snapshots of this project define no critical
//!   extension, so a `crit` in either bucket is refused.
//!
//! A violation is the record's format failing (ETSI EN 319 102-1
//! TOTAL-FAILED / FORMAT_FAILURE), with the label named.

use ciborium::Value;
use ciborium_ll::Header;

use super::cbor;

/// The CBOR tag of a `COSE_Sign1` (RFC 9052 §2).
const COSE_SIGN1_TAG: u64 = 18;

/// Why the headers break RFC 9052 §3; the message names the label.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HeaderError {
    /// Not a tagged four-element array whose first two elements are a byte
    /// string and a map.
    #[error("not a tagged COSE_Sign1 structure: {0}")]
    Structure(String),
    /// A label appears in both buckets.
    #[error(
        "the header label {0} appears in both the protected and the unprotected header (RFC 9052 §3)"
    )]
    InBothBuckets(String),
    /// A label appears twice in one bucket.
    #[error("the header label {label} appears twice in the {bucket} header (RFC 9052 §3)")]
    Repeated {
        /// The label.
        label: String,
        /// `protected` or `unprotected`.
        bucket: &'static str,
    },
    /// `crit` is present.
    #[error(
        "the {0} header has a crit (2) parameter: it must be protected (RFC 9052 §3.1), and the COSE messages of this project have no critical headers"
    )]
    Critical(&'static str),
    /// A label is neither an integer nor a text string (RFC 9052 §3: `label = int / tstr`).
    #[error("a {0} header label is neither an integer nor a text string (RFC 9052 §3)")]
    LabelType(&'static str),
}

/// Checks the header buckets of the tagged `COSE_Sign1` in `bytes`. Only
/// the tag, the array's head and the two header buckets are read, not the
/// payload (a status snapshot's may be large): the COSE library reads the
/// rest.
pub fn check_sign1_headers(bytes: &[u8]) -> Result<(), HeaderError> {
    let malformed = |why: &str| HeaderError::Structure(why.to_string());
    let cbor = |e: cbor::CborError| HeaderError::Structure(e.to_string());
    let (head, rest) = cbor::read_head(bytes).map_err(cbor)?;
    if head != Header::Tag(COSE_SIGN1_TAG) {
        return Err(malformed("no CBOR tag 18"));
    }
    let (head, rest) = cbor::read_head(rest).map_err(cbor)?;
    if head != Header::Array(Some(4)) {
        return Err(malformed("not an array of four elements"));
    }
    let (protected, rest) = cbor::read_first(rest).map_err(cbor)?;
    let (unprotected, _) = cbor::read_first(rest).map_err(cbor)?;
    let (Value::Bytes(protected), Value::Map(unprotected)) = (protected, unprotected) else {
        return Err(malformed(
            "not [protected bstr, unprotected map, payload, signature]",
        ));
    };
    // An empty protected header is a zero-length byte string (RFC 9052 §3).
    let protected = if protected.is_empty() {
        Vec::new()
    } else {
        match cbor::read(&protected) {
            Ok(Value::Map(entries)) => entries,
            Ok(_) => return Err(malformed("the protected header is not a map")),
            Err(e) => return Err(HeaderError::Structure(format!("protected header: {e}"))),
        }
    };
    let protected = labels(&protected, "protected")?;
    let unprotected = labels(&unprotected, "unprotected")?;
    if let Some(both) = protected.iter().find(|l| unprotected.contains(l)) {
        return Err(HeaderError::InBothBuckets(both.to_string()));
    }
    for (bucket, labels) in [("protected", &protected), ("unprotected", &unprotected)] {
        if labels.contains(&Label::Int(2)) {
            return Err(HeaderError::Critical(bucket));
        }
    }
    Ok(())
}

/// A header label (RFC 9052 §3: `label = int / tstr`).
#[derive(Clone, Debug, PartialEq, Eq)]
enum Label {
    Int(i128),
    Text(String),
}

impl std::fmt::Display for Label {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Names from the IANA "COSE Header Parameters" registry (RFC 9052 §3.1).
        let name = |n: i128| match n {
            1 => Some("alg"),
            2 => Some("crit"),
            3 => Some("content type"),
            4 => Some("kid"),
            5 => Some("IV"),
            6 => Some("Partial IV"),
            7 => Some("counter signature"),
            _ => None,
        };
        match self {
            Label::Text(t) => write!(f, "{t:?}"),
            Label::Int(n) => match name(*n) {
                Some(name) => write!(f, "{n} ({name})"),
                None => write!(f, "{n}"),
            },
        }
    }
}

/// The labels of one bucket, each once; a map has few entries, so a linear
/// search is cheaper than a set.
fn labels(entries: &[(Value, Value)], bucket: &'static str) -> Result<Vec<Label>, HeaderError> {
    let mut out: Vec<Label> = Vec::with_capacity(entries.len());
    for (key, _) in entries {
        let label = match key {
            // CBOR's integers (major types 0 and 1, RFC 8949 §3.1); `ciborium`
            // reads a larger bignum (tag 2 or 3) as a tag, which is no label.
            Value::Integer(n) => Label::Int(i128::from(*n)),
            Value::Text(t) => Label::Text(t.clone()),
            _ => return Err(HeaderError::LabelType(bucket)),
        };
        if out.contains(&label) {
            return Err(HeaderError::Repeated {
                label: label.to_string(),
                bucket,
            });
        }
        out.push(label);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ciborium::Value;

    /// A tagged COSE_Sign1 with the given header maps (the signature is not
    /// checked here, only the structure).
    fn sign1(protected: Vec<(Value, Value)>, unprotected: Vec<(Value, Value)>) -> Vec<u8> {
        let mut p = Vec::new();
        if !protected.is_empty() {
            ciborium::into_writer(&Value::Map(protected), &mut p).unwrap();
        }
        let value = Value::Tag(
            18,
            Box::new(Value::Array(vec![
                Value::Bytes(p),
                Value::Map(unprotected),
                Value::Bytes(b"payload".to_vec()),
                Value::Bytes(vec![0; 64]),
            ])),
        );
        let mut out = Vec::new();
        ciborium::into_writer(&value, &mut out).unwrap();
        out
    }

    fn int(i: i64) -> Value {
        Value::Integer(i.into())
    }

    #[test]
    fn accepts_alg_protected_and_kid_unprotected() {
        let ok = sign1(
            vec![(int(1), int(-7))],
            vec![(int(4), Value::Bytes(vec![1; 8]))],
        );
        assert_eq!(check_sign1_headers(&ok), Ok(()));
        assert_eq!(check_sign1_headers(&sign1(vec![], vec![])), Ok(()));
    }

    #[test]
    fn refuses_a_label_in_both_buckets_naming_it() {
        let kid = || (int(4), Value::Bytes(vec![1; 8]));
        let both = sign1(vec![(int(1), int(-7)), kid()], vec![kid()]);
        let e = check_sign1_headers(&both).unwrap_err();
        assert_eq!(e, HeaderError::InBothBuckets("4 (kid)".into()));
        assert!(e.to_string().contains("4 (kid)"), "{e}");
        let alg = sign1(vec![(int(1), int(-7))], vec![(int(1), int(-35))]);
        assert_eq!(
            check_sign1_headers(&alg),
            Err(HeaderError::InBothBuckets("1 (alg)".into()))
        );
        let private = sign1(
            vec![(int(1), int(-7)), (int(-65537), int(0))],
            vec![(int(-65537), int(1))],
        );
        assert_eq!(
            check_sign1_headers(&private),
            Err(HeaderError::InBothBuckets("-65537".into()))
        );
        let text = sign1(
            vec![(Value::Text("x".into()), int(0))],
            vec![(Value::Text("x".into()), int(0))],
        );
        assert_eq!(
            check_sign1_headers(&text),
            Err(HeaderError::InBothBuckets("\"x\"".into()))
        );
    }

    #[test]
    fn refuses_a_repeated_label_crit_and_odd_labels() {
        let twice = sign1(vec![(int(1), int(-7)), (int(1), int(-7))], vec![]);
        assert_eq!(
            check_sign1_headers(&twice),
            Err(HeaderError::Repeated {
                label: "1 (alg)".into(),
                bucket: "protected"
            })
        );
        let crit = sign1(
            vec![(int(1), int(-7)), (int(2), Value::Array(vec![int(-65537)]))],
            vec![],
        );
        assert_eq!(
            check_sign1_headers(&crit),
            Err(HeaderError::Critical("protected"))
        );
        let unprotected_crit = sign1(
            vec![(int(1), int(-7))],
            vec![(int(2), Value::Array(vec![int(1)]))],
        );
        assert_eq!(
            check_sign1_headers(&unprotected_crit),
            Err(HeaderError::Critical("unprotected"))
        );
        let bytes_label = sign1(vec![], vec![(Value::Bytes(vec![1]), int(0))]);
        assert_eq!(
            check_sign1_headers(&bytes_label),
            Err(HeaderError::LabelType("unprotected"))
        );
        assert!(matches!(
            check_sign1_headers(b"\x84\x40\xa0\xf6\x40"),
            Err(HeaderError::Structure(_))
        ));
    }

    /// The CBOR reader's refusals (`cbor`), as the structure failing.
    #[test]
    fn refuses_indefinite_lengths_longer_heads_and_bignum_labels() {
        // tag 18, [h'A10126' (alg: ES256), {4: h'01'}, h'', h'']
        let ok = b"\xd2\x84\x43\xa1\x01\x26\xa1\x04\x41\x01\x40\x40";
        assert_eq!(check_sign1_headers(ok), Ok(()));
        for bad in [
            &b"\xd2\x84\x43\xa1\x01\x26\xbf\x04\x41\x01\xff\x40\x40"[..],
            b"\xd2\x84\x5f\x43\xa1\x01\x26\xff\xa1\x04\x41\x01\x40\x40",
            b"\xd2\x9f\x43\xa1\x01\x26\xa1\x04\x41\x01\x40\x40\xff",
            b"\xd8\x12\x84\x43\xa1\x01\x26\xa1\x04\x41\x01\x40\x40",
            b"\xd2\x84\x43\xa1\x01\x26\xa1\x18\x04\x41\x01\x40\x40",
            b"\xd2\x84\x44\xa1\x01\x38\x06\xa1\x04\x41\x01\x40\x40",
            b"\xd2\x84\x43\xa1\x01\x26\xa1\xc2\x41\x04\x41\x01\x40\x40",
        ] {
            assert!(
                matches!(check_sign1_headers(bad), Err(HeaderError::Structure(_))),
                "{bad:02x?}: {:?}",
                check_sign1_headers(bad)
            );
        }
        // A bignum (2^64, tag 2) is not a label.
        let bignum = Value::Tag(2, Box::new(Value::Bytes(vec![1, 0, 0, 0, 0, 0, 0, 0, 0])));
        let big = sign1(vec![], vec![(bignum, int(0))]);
        assert_eq!(
            check_sign1_headers(&big),
            Err(HeaderError::LabelType("unprotected"))
        );
    }
}
