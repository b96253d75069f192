//! The license status snapshot (`license-status.cose` in a trust bundle,
//! `GET /v1/license-status`): its COSE envelope against the seeds' bundle,
//! and — since only a CA's signature leads to it — its CBOR payload signed
//! by a CA of our own. A verified snapshot must answer lookups.
#![no_main]

use govseal::verify::SnapshotState;
use govseal::verify::status::verify_snapshot;
use govseal_fuzz::OwnPki;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let store = govseal_fuzz::bundle();
    std::hint::black_box(verify_snapshot(
        data,
        store.anchors(),
        store.intermediates(),
    ));

    let pki = OwnPki::get();
    let cose = pki.sign_cose(data, &*pki.root, &pki.root_der);
    if let SnapshotState::Verified(snapshot) =
        verify_snapshot(&cose, std::slice::from_ref(&pki.root_der), &[])
    {
        assert!(snapshot.next_update >= snapshot.this_update);
        let ids = snapshot.revoked.iter().chain(&snapshot.suspended);
        let old = snapshot.superseded.iter().map(|(old, _)| old);
        for id in ids.chain(old).take(32) {
            std::hint::black_box(snapshot.status_of(id));
            std::hint::black_box(snapshot.current_version(id));
        }
    }
});
