//! Tests of the license claims' CBOR encoding.

use super::*;
use crate::license::testkit;

#[test]
fn round_trips_and_derives_type_and_version() {
    let claims = testkit::business_license_claims();
    let bytes = claims.to_cbor().unwrap();
    let back = LicenseClaims::from_cbor(&bytes).unwrap();
    assert_eq!(back, claims);
    assert_eq!(back.type_code(), testkit::TYPE_CODE);
    assert_eq!(back.version(), 1);
    assert_eq!(back.field("name"), claims.field("name"));
    // Deterministic: encoding twice gives the same bytes.
    assert_eq!(back.to_cbor().unwrap(), bytes);
}

#[test]
fn outer_map_is_in_deterministic_order() {
    let bytes = testkit::business_license_claims().to_cbor().unwrap();
    let Value::Map(entries) = ciborium::from_reader::<Value, _>(&bytes[..]).unwrap() else {
        panic!("not a map")
    };
    let encoded: Vec<Vec<u8>> = entries
        .iter()
        .map(|(k, _)| {
            let mut out = Vec::new();
            ciborium::into_writer(k, &mut out).unwrap();
            out
        })
        .collect();
    let mut sorted = encoded.clone();
    sorted.sort();
    assert_eq!(encoded, sorted);
}

fn edit(claims: &LicenseClaims, f: impl FnOnce(&mut Vec<(Value, Value)>)) -> Vec<u8> {
    let bytes = claims.to_cbor().unwrap();
    let Value::Map(mut entries) = ciborium::from_reader::<Value, _>(&bytes[..]).unwrap() else {
        panic!("not a map")
    };
    f(&mut entries);
    let mut out = Vec::new();
    ciborium::into_writer(&Value::Map(entries), &mut out).unwrap();
    out
}

#[test]
fn refuses_contradictions_duplicates_and_unmasked_ids() {
    let claims = testkit::business_license_claims();
    let other_iss = edit(&claims, |m| m[0].1 = text("91110000000000000L"));
    let err = LicenseClaims::from_cbor(&other_iss).unwrap_err();
    assert!(
        matches!(
            err,
            ClaimsError::IssuerMismatch | ClaimsError::Invalid("iss")
        ),
        "{err:?}"
    );

    let duplicated = edit(&claims, |m| m.push((text(STATUS), text("valid"))));
    assert!(matches!(
        LicenseClaims::from_cbor(&duplicated),
        Err(ClaimsError::DuplicateKey(_))
    ));

    let unmasked = edit(&claims, |m| {
        for (k, v) in m.iter_mut() {
            if k.as_text() == Some(HOLDER_ID) {
                *v = text("11010519491231002X");
            }
        }
    });
    assert_eq!(
        LicenseClaims::from_cbor(&unmasked),
        Err(ClaimsError::Invalid(HOLDER_ID))
    );

    let missing = edit(&claims, |m| {
        m.retain(|(k, _)| k.as_text() != Some(SEAL_CODE))
    });
    assert_eq!(
        LicenseClaims::from_cbor(&missing),
        Err(ClaimsError::Missing(SEAL_CODE))
    );

    let mut trailing = claims.to_cbor().unwrap();
    trailing.push(0);
    assert!(matches!(
        LicenseClaims::from_cbor(&trailing),
        Err(ClaimsError::Cbor(_))
    ));
    assert_eq!(LicenseClaims::from_cbor(&[0x80]), Err(ClaimsError::NotAMap));
}

#[test]
fn masks_resident_ids_and_keeps_usccs_whole() {
    let resident: ResidentId = "11010519491231002X".parse().unwrap();
    assert_eq!(
        MaskedHolderId::from(&resident).as_str(),
        "110***********002X"
    );
    let uscc: Uscc = testkit::ISSUER_USCC.parse().unwrap();
    assert_eq!(MaskedHolderId::from(&uscc).as_str(), testkit::ISSUER_USCC);
    assert!(MaskedHolderId::parse("110***********002X").is_some());
    assert!(MaskedHolderId::parse("11010519491231002X").is_none());
}

#[test]
fn refuses_duplicate_field_codes_when_writing() {
    let mut claims = testkit::business_license_claims();
    claims.fields.push(("name".into(), "另一个".into()));
    assert_eq!(
        claims.to_cbor(),
        Err(ClaimsError::DuplicateKey("name".into()))
    );
}

/// What the CBOR reader refuses (`cbor`), in the claims: lengths that are
/// indefinite or longer than needed, bytes after the map, nesting beyond its
/// limit, and a float key written twice.
#[test]
fn refuses_claims_not_in_the_preferred_serialization() {
    let bytes = testkit::business_license_claims().to_cbor().unwrap();
    assert!(LicenseClaims::from_cbor(&bytes).is_ok());
    let entries = bytes[0] & 0x1f;
    assert!(entries < 24, "a map head of one byte");

    let mut indefinite = bytes.clone();
    indefinite[0] = 0xbf;
    indefinite.push(0xff);
    let mut longer = vec![0xb8, entries];
    longer.extend(&bytes[1..]);
    let mut trailing = bytes.clone();
    trailing.push(0xf6);
    for bad in [&indefinite, &longer, &trailing] {
        assert!(
            matches!(LicenseClaims::from_cbor(bad), Err(ClaimsError::Cbor(_))),
            "{:?}",
            LicenseClaims::from_cbor(bad)
        );
    }

    let claims = testkit::business_license_claims();
    let deep = edit(&claims, |m| {
        let mut value = Value::Null;
        for _ in 0..cbor::MAX_DEPTH {
            value = Value::Array(vec![value]);
        }
        m.push((text("zz"), value));
    });
    assert!(matches!(
        LicenseClaims::from_cbor(&deep),
        Err(ClaimsError::Cbor(_))
    ));

    let nan_twice = edit(&claims, |m| {
        m.push((Value::Float(f64::NAN), Value::Null));
        m.push((Value::Float(f64::NAN), Value::Null));
    });
    assert!(matches!(
        LicenseClaims::from_cbor(&nan_twice),
        Err(ClaimsError::DuplicateKey(_))
    ));
}
