//! Signed-note checkpoints (C2SP signed-note and tlog-checkpoint): a note
//! against the seeds' log key, a verifier key text (`log-key.txt`), and —
//! since only the log key's signature leads to it — a checkpoint body
//! signed by a log key of our own. A parsed body writes back to itself; a
//! note we signed opens to its text.
#![no_main]

use govseal::log::checkpoint::{self, Checkpoint};
use govseal::log::note::{VerifierKey, open_note, sign_note};
use govseal_fuzz::OwnPki;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(text) = govseal_fuzz::text(data) else {
        return;
    };
    if let Some(key) = govseal_fuzz::bundle_log().verifier_key.as_deref() {
        let _ = std::hint::black_box(checkpoint::open(text, key));
    }
    let _ = std::hint::black_box(VerifierKey::parse(text));
    if let Ok(parsed) = Checkpoint::parse_body(text) {
        assert_eq!(parsed.body().expect("a parsed checkpoint has a body"), text);
    }
    let pki = OwnPki::get();
    if let Ok(note) = sign_note(text, pki.log_name, &*pki.log) {
        let key = VerifierKey::parse(&pki.log_key_text).expect("own key");
        assert_eq!(
            open_note(&note, &key).expect("a note we signed opens"),
            text
        );
        let _ = std::hint::black_box(checkpoint::open(&note, &pki.log_key_text));
    }
});
