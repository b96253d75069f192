//! A license QR text (`govseal verify --qr TEXT`, a scanned QR URL on the
//! citizen page, a text file): the URL prefix, base45/zlib payload and the
//! COSE record inside, against the seeds' trust bundle.
#![no_main]

use govseal::verify::{record_from_text, verify_license_text};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let store = govseal_fuzz::bundle();
    let report = verify_license_text(&text, store, &govseal_fuzz::bundle_options());
    govseal_fuzz::render(&report);
    govseal_fuzz::keep_if_passed(&report, data, "license_qr");
    let _ = std::hint::black_box(record_from_text(&text, store.public_url()));
});
