//! PDF verification (`govseal verify FILE.pdf`, `POST /v1/verify`, the
//! upload page): any bytes against the seeds' trust bundle.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let report = govseal::verify::verify_pdf(
        data,
        govseal_fuzz::bundle(),
        govseal_fuzz::validation_time(),
    );
    govseal_fuzz::render(&report);
    govseal_fuzz::keep_if_passed(&report, data, "verify_pdf");
});
