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
    assert_eq!(codes, [1, 2, 3, 4, 5, 6, 7]);
    for kind in EntryKind::ALL {
        assert_eq!(EntryKind::from_code(kind.code()), Some(kind));
    }
    assert_eq!(EntryKind::from_code(0), None);
    assert_eq!(EntryKind::from_code(8), None);
}

#[test]
fn non_canonical_bytes_are_rejected() {
    let golden = hex::decode(GOLDEN).unwrap();
    let with = |at: usize, byte: u8| {
        let mut bytes = golden.clone();
        bytes[at] = byte;
        LogEntry::decode(&bytes)
    };
    assert_eq!(with(0, 2), Err(EntryError::UnsupportedVersion(2)));
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
