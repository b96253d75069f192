//! A license record (COSE_Sign1, RFC 9052) and its claims (CBOR).
//!
//! Each input is tried twice: as a whole record sent by anyone, against the
//! seeds' trust bundle; and as the claims payload of a record signed by a
//! seal the verifier trusts (the checks after the signature: issuer, seal,
//! expiry, status). Decoded claims must encode and decode to themselves.
#![no_main]

use govseal::license::claims::LicenseClaims;
use govseal::verify::verify_license_record;
use govseal_fuzz::OwnPki;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let report = verify_license_record(
        data,
        govseal_fuzz::bundle(),
        &govseal_fuzz::bundle_options(),
    );
    govseal_fuzz::render(&report);
    govseal_fuzz::keep_if_passed(&report, data, "license_record");

    let Ok(claims) = LicenseClaims::from_cbor(data) else {
        return;
    };
    let again = claims.to_cbor().expect("decoded claims encode");
    assert_eq!(
        LicenseClaims::from_cbor(&again).expect("re-encoded claims decode"),
        claims,
        "claims change in a decode/encode round trip"
    );
    let pki = OwnPki::get();
    let record = pki.sign_cose(data, &*pki.seal, &pki.seal_der);
    govseal_fuzz::render(&verify_license_record(&record, &pki.store, &pki.options()));
});
