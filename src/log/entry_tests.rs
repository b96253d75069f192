//! Tests of the canonical log entry encoding.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::entry::{EntryError, EntryKind, LogEntry};

fn golden_entry() -> LogEntry {
    LogEntry {
        kind: EntryKind::Stamp,
        subject_id: "doc-1".to_string(),
        department_id: Some("91350100M000100Y43".to_string()),
        artefact_sha256: [0xab; 32],
        time: 1_700_000_000,
        actor: "clerk@dept".to_string(),
        details: BTreeMap::from([
            ("reason".to_string(), "审批".to_string()),
            ("page".to_string(), "1".to_string()),
        ]),
        record: None,
    }
}

/// The golden entry's bytes, field by field as the module docs define them.
const GOLDEN: &str = concat!(
    "01",                                                               // version
    "05",                                                               // kind: stamp
    "000000006553f100",                                                 // time 1700000000
    "abababababababababababababababababababababababababababababababab", // artefact
    "00000005",
    "646f632d31", // "doc-1"
    "01",
    "00000012",
    "39313335303130304d303030313030593433", // "91350100M000100Y43"
    "0000000a",
    "636c65726b4064657074", // "clerk@dept"
    "00000002",             // two details, keys in byte order
    "00000004",
    "70616765", // "page"
    "00000001",
    "31", // "1"
    "00000006",
    "726561736f6e", // "reason"
    "00000006",
    "e5aea1e689b9", // "审批"
);

#[test]
fn golden_vector_is_byte_exact() {
    let entry = golden_entry();
    let bytes = entry.encode().unwrap();
    assert_eq!(hex::encode(&bytes), GOLDEN);
    assert_eq!(LogEntry::decode(&bytes).unwrap(), entry);
    assert_eq!(
        hex::encode(entry.leaf_hash().unwrap()),
        "e4465e3419d1f38c3bcdeb54d664c20e91c015910497681ad82c72db8b1de13d"
    );
}

#[test]
fn absent_department_and_negative_time() {
    let entry = LogEntry {
        kind: EntryKind::CertificateRevoked,
        department_id: None,
        time: -1,
        details: BTreeMap::new(),
        ..golden_entry()
    };
    let bytes = entry.encode().unwrap();
    assert_eq!(hex::encode(&bytes[..10]), "0102ffffffffffffffff");
    assert_eq!(bytes[10 + 32 + 4 + 5], 0, "department absent");
    assert_eq!(LogEntry::decode(&bytes).unwrap(), entry);
}

#[test]
fn kinds_have_distinct_stable_codes() {
    let codes: Vec<u8> = EntryKind::ALL.iter().map(|k| k.code()).collect();
    assert_eq!(codes, (1..=20).collect::<Vec<u8>>());
    for kind in EntryKind::ALL {
        assert_eq!(EntryKind::from_code(kind.code()), Some(kind));
    }
    assert_eq!(EntryKind::from_code(0), None);
    assert_eq!(EntryKind::from_code(21), None);
}

#[test]
fn non_canonical_bytes_are_rejected() {
    let golden = hex::decode(GOLDEN).unwrap();
    let with = |at: usize, byte: u8| {
        let mut bytes = golden.clone();
        bytes[at] = byte;
        LogEntry::decode(&bytes)
    };
    assert_eq!(with(0, 0), Err(EntryError::UnsupportedVersion(0)));
    assert_eq!(with(0, 3), Err(EntryError::UnsupportedVersion(3)));
    // Version 2 needs its record after the details.
    assert_eq!(with(0, 2), Err(EntryError::Truncated));
    assert_eq!(with(1, 0), Err(EntryError::UnknownKind(0)));
    let flag_at = 2 + 8 + 32 + 4 + 5;
    assert_eq!(with(flag_at, 2), Err(EntryError::InvalidPresenceFlag(2)));
    let subject_at = 2 + 8 + 32 + 4;
    assert_eq!(
        with(subject_at, 0xff),
        Err(EntryError::InvalidUtf8("subject ID"))
    );

    let mut trailing = golden.clone();
    trailing.push(0);
    assert_eq!(LogEntry::decode(&trailing), Err(EntryError::TrailingBytes));

    // Swap the two detail pairs: same content, wrong order.
    let page = hex::decode("00000004706167650000000131").unwrap();
    let reason = hex::decode("00000006726561736f6e00000006e5aea1e689b9").unwrap();
    let head = &golden[..golden.len() - page.len() - reason.len()];
    let swapped = [head, &reason, &page].concat();
    assert_eq!(LogEntry::decode(&swapped), Err(EntryError::UnsortedDetails));
    let repeated = [head, &page, &page].concat();
    assert_eq!(
        LogEntry::decode(&repeated),
        Err(EntryError::UnsortedDetails)
    );
}

fn arbitrary_entry() -> impl Strategy<Value = LogEntry> {
    (
        0..EntryKind::ALL.len(),
        ".{0,20}",
        proptest::option::of("[0-9A-Z]{18}"),
        any::<[u8; 32]>(),
        any::<i64>(),
        ".{0,12}",
        proptest::collection::btree_map(".{0,8}", ".{0,16}", 0..5),
    )
        .prop_map(
            |(kind, subject_id, department_id, artefact_sha256, time, actor, details)| LogEntry {
                kind: EntryKind::ALL[kind],
                subject_id,
                department_id,
                artefact_sha256,
                time,
                actor,
                details,
                record: None,
            },
        )
}

proptest! {
    #[test]
    fn every_entry_round_trips_and_every_prefix_is_refused(entry in arbitrary_entry()) {
        let bytes = entry.encode().unwrap();
        prop_assert_eq!(LogEntry::decode(&bytes).unwrap(), entry);
        for cut in 0..bytes.len() {
            prop_assert_eq!(LogEntry::decode(&bytes[..cut]), Err(EntryError::Truncated));
        }
    }

    #[test]
    fn different_entries_encode_differently(a in arbitrary_entry(), b in arbitrary_entry()) {
        prop_assume!(a != b);
        prop_assert_ne!(a.encode().unwrap(), b.encode().unwrap());
    }
}

/// A version-2 entry: the golden entry with a record of every value type.
fn record_entry() -> LogEntry {
    use super::record::{Record, Value};
    LogEntry {
        record: Some(Record {
            table: "stamps".into(),
            key: "s1".into(),
            columns: BTreeMap::from([
                ("a_null".to_string(), Value::Null),
                ("page".to_string(), Value::Integer(-2)),
                ("x".to_string(), Value::Real(1.5f64.to_bits())),
                ("level".to_string(), Value::Text("B-T".into())),
                ("output_pdf".to_string(), Value::Blob([7; 32])),
                ("operator".to_string(), Value::Personal([9; 32])),
            ]),
        }),
        ..golden_entry()
    }
}

#[test]
fn a_record_makes_version_two_and_round_trips_after_the_version_one_fields() {
    let v1 = golden_entry().encode().unwrap();
    let v2 = record_entry().encode().unwrap();
    assert_eq!(v2[0], 2);
    assert_eq!(v2[1..v1.len()], v1[1..], "version 1's fields, unchanged");
    assert_eq!(
        hex::encode(&v2[v1.len()..v1.len() + 19]),
        "000000067374616d7073000000027331000000",
        "table \"stamps\", key \"s1\", then the column count"
    );
    assert_eq!(LogEntry::decode(&v2).unwrap(), record_entry());
    for cut in 0..v2.len() {
        assert!(LogEntry::decode(&v2[..cut]).is_err(), "prefix {cut}");
    }
}

#[test]
fn unknown_tags_and_unsorted_columns_are_refused() {
    let v1 = golden_entry().encode().unwrap();
    let mut bytes = record_entry().encode().unwrap();
    // The first column is "a_null": name length 4 bytes + 6 bytes, then its tag.
    let tag = v1.len() + 4 + 6 + 4 + 2 + 4 + 4 + 6;
    assert_eq!(bytes[tag], 0);
    bytes[tag] = 9;
    assert_eq!(
        LogEntry::decode(&bytes),
        Err(EntryError::UnknownValueTag(9))
    );
    let mut bytes = record_entry().encode().unwrap();
    bytes[v1.len() + 4 + 6 + 4 + 2 + 4 + 4] = b'z'; // "a_null" → "z_null", after "x"
    assert_eq!(LogEntry::decode(&bytes), Err(EntryError::UnsortedColumns));
}
