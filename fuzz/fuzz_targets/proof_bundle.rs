//! c2sp.org/tlog-proof bundles (`govseal verify --require-logged
//! --log-proof FILE`): the bundle text as `verify` checks it against the
//! seeds' trust bundle, and — since only a proof that verifies leads to
//! it — the logged entry, embedded in a one-leaf tree signed by a log key of
//! our own. A parsed bundle writes back to itself; a decoded entry encodes
//! to its bytes.
#![no_main]

use govseal::log::checkpoint::{self, Checkpoint};
use govseal::log::{LogEntry, ProofBundle, leaf_hash};
use govseal::verify::logged::{LogTrust, check_logged};
use govseal_fuzz::OwnPki;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(text) = govseal_fuzz::text(data) {
        if let Ok(bundle) = ProofBundle::parse(text) {
            assert_eq!(
                bundle.to_text(),
                text,
                "a parsed bundle writes back to itself"
            );
        }
        std::hint::black_box(check_logged(
            b"%PDF-",
            Some(text),
            govseal_fuzz::bundle_log(),
        ));
    }

    let Ok(entry) = LogEntry::decode(data) else {
        return;
    };
    assert_eq!(entry.encode().expect("a decoded entry encodes"), data);
    let pki = OwnPki::get();
    let tree = Checkpoint {
        origin: pki.log_name.into(),
        size: 1,
        root: leaf_hash(data),
        extensions: Vec::new(),
    };
    let note = checkpoint::sign(&tree, pki.log_name, &*pki.log).expect("sign checkpoint");
    let proof = ProofBundle {
        entry: Some(data.to_vec()),
        index: 0,
        proof: Vec::new(),
        checkpoint_note: note,
    }
    .to_text();
    let trust = LogTrust {
        verifier_key: Some(pki.log_key_text.clone()),
        checkpoint: None,
        witness_policy: None,
    };
    let report = check_logged(b"%PDF-", Some(&proof), &trust);
    assert!(report.entry_kind.is_some(), "{:?}", report.findings);
});
