//! A stamping upload (`POST /v1/stamp`): the bytes pass the handler's
//! `%PDF-` check, then the signing engine prepares the signature field
//! and placeholder exactly as `seal::stamping::stamp` → `pades::sign` does
//! (a seal appearance on page 1), writes a CMS into it and appends the DSS
//! (B-LT). The CMS is a stand-in: its bytes never matter to the engine.
#![no_main]

use std::sync::OnceLock;

use govseal::pdf::{SignatureKind, SignatureRequest, append_dss, prepare};
use govseal::seal::SealAppearance;
use libfuzzer_sys::fuzz_target;

fn appearance() -> &'static [u8] {
    static PDF: OnceLock<Vec<u8>> = OnceLock::new();
    PDF.get_or_init(|| {
        SealAppearance {
            department_name: "福州市行政审批局".into(),
            seal_name: "行政审批专用章".into(),
            seal_code: Some("3501020012345".into()),
            diameter_mm: 42.0,
        }
        .to_pdf()
        .expect("seal appearance")
    })
}

fuzz_target!(|data: &[u8]| {
    // The HTTP handler refuses anything else before the engine sees it.
    if !data[..data.len().min(1024)]
        .windows(5)
        .any(|w| w == b"%PDF-")
    {
        return;
    }
    let half = 42.0 * 72.0 / 25.4 / 2.0;
    let request = SignatureRequest {
        field_name: "Seal-3501020012345-0f1e2d3c".into(),
        page: 1,
        rect: Some([200.0 - half, 150.0 - half, 200.0 + half, 150.0 + half]),
        appearance: Some(appearance().to_vec()),
        reason: Some("同意".into()),
        name: Some("福州市行政审批局行政审批专用章".into()),
        location: None,
        signing_time: govseal_fuzz::validation_time(),
        kind: SignatureKind::Cades,
        contents_capacity: 4096,
    };
    let Ok(prepared) = prepare(data, &request) else {
        return;
    };
    std::hint::black_box(prepared.digest());
    let signed = prepared
        .finish(&[0x30; 512])
        .expect("a CMS within the capacity fits");
    // What B-LT appends; the engine parses its own output again here.
    let _ = std::hint::black_box(append_dss(&signed, &[vec![0x30; 64]], &[]));
});
