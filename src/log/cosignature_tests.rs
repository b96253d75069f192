use ring::signature::{Ed25519KeyPair, KeyPair as _};

use super::*;
use crate::keystore::SignError;
use crate::log::witness_policy::WitnessPolicy;

/// A deterministic Ed25519 signer (RFC 8032 §7.1 test 1 key) for known answers.
struct SeedSigner(Ed25519KeyPair);

impl Signer for SeedSigner {
    fn algorithm(&self) -> KeyAlgorithm {
        KeyAlgorithm::Ed25519
    }
    fn public_key(&self) -> &[u8] {
        self.0.public_key().as_ref()
    }
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        Ok(self.0.sign(message).as_ref().to_vec())
    }
    fn sign_fixed(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        self.sign(message)
    }
}

fn seed_signer(seed_hex: &str) -> SeedSigner {
    let seed = hex::decode(seed_hex).unwrap();
    SeedSigner(Ed25519KeyPair::from_seed_unchecked(&seed).unwrap())
}

const RFC8032_SEED: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
const BODY: &str =
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
const NAME: &str = "witness.example.com/w1";
// Computed independently with OpenSSL (`openssl pkeyutl -sign -rawin`) over
// the tlog-cosignature example message and Python's hashlib for the key ID.
const KAT_VKEY: &str =
    "witness.example.com/w1+7e6f4aaa+BNdamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea";
const KAT_LINE: &str = "\u{2014} witness.example.com/w1 fm9KqgAAAABkGFDL+TPmh4BYuAjsYRoqMJCWb/gWJaeRF/kmm5tlCr9sJ57DLErur7K0yDXc2ArN+TIuotuB/HbuL3AJsp3bv/aNCQ==\n";

#[test]
fn known_answer_matches_openssl() {
    let signer = seed_signer(RFC8032_SEED);
    let key = CosignerKey::new(NAME, signer.public_key()).unwrap();
    assert_eq!(key.to_string(), KAT_VKEY);
    assert_eq!(CosignerKey::parse(KAT_VKEY).unwrap(), key);
    let line = cosign(BODY, NAME, 1_679_315_147, &signer).unwrap();
    assert_eq!(line, KAT_LINE);
    assert_eq!(
        String::from_utf8(message(1_679_315_147, BODY)).unwrap(),
        format!("cosignature/v1\ntime 1679315147\n{BODY}")
    );
    assert_eq!(
        key.check_line(line.trim_end(), BODY),
        LineCheck::Valid {
            timestamp: 1_679_315_147
        }
    );
}

#[test]
fn a_cosignature_does_not_verify_for_another_body_time_or_key() {
    let signer = seed_signer(RFC8032_SEED);
    let key = CosignerKey::parse(KAT_VKEY).unwrap();
    let other_root = BODY.replace("CsUY", "DsUY");
    assert!(matches!(
        key.check_line(KAT_LINE.trim_end(), &other_root),
        LineCheck::Invalid(_)
    ));
    // The timestamp is signed: changing it breaks the signature.
    let later = cosign(BODY, NAME, 1_679_315_148, &signer).unwrap();
    let mut blob = STANDARD
        .decode(later.trim_end().rsplit(' ').next().unwrap())
        .unwrap();
    blob[11] ^= 1;
    let forged = format!("\u{2014} {NAME} {}", STANDARD.encode(blob));
    assert!(matches!(
        key.check_line(&forged, BODY),
        LineCheck::Invalid(_)
    ));
    // Another witness's key: not ours to judge.
    let other = seed_signer(&"42".repeat(32));
    let other_line = cosign(BODY, "witness.example.com/w2", 5, &other).unwrap();
    assert_eq!(
        key.check_line(other_line.trim_end(), BODY),
        LineCheck::OtherKey
    );
    // A log signature (type 0x01 key ID) is not a cosignature.
    let note = crate::log::note::sign_note(BODY, NAME, &signer).unwrap();
    let (_, lines) = split_note(&note).unwrap();
    assert_eq!(key.check_line(lines[0], BODY), LineCheck::OtherKey);
}

#[test]
fn zero_timestamps_and_log_keys_are_refused() {
    let signer = seed_signer(RFC8032_SEED);
    assert!(matches!(
        cosign(BODY, NAME, 0, &signer),
        Err(CosignatureError::BadTimestamp)
    ));
    let log_vkey = crate::log::VerifierKey::new(NAME, signer.public_key())
        .unwrap()
        .to_string();
    assert!(matches!(
        CosignerKey::parse(&log_vkey),
        Err(CosignatureError::MalformedKey(_))
    ));
    let tampered_id = KAT_VKEY.replace("+7e6f4aaa+", "+7e6f4aab+");
    assert!(CosignerKey::parse(&tampered_id).is_err());
}

fn witness(seed: u8, name: &str) -> (SeedSigner, CosignerKey) {
    let signer = seed_signer(&format!("{seed:02x}").repeat(32));
    let key = CosignerKey::new(name, signer.public_key()).unwrap();
    (signer, key)
}

fn note_with(lines: &[String]) -> String {
    let log = seed_signer(&"01".repeat(32));
    let mut note = crate::log::note::sign_note(BODY, "example.com/behind-the-sofa", &log).unwrap();
    for line in lines {
        note.push_str(line);
    }
    note
}

#[test]
fn policy_counts_distinct_valid_witnesses() {
    let (s1, k1) = witness(0x11, "w1.example");
    let (s2, k2) = witness(0x22, "w2.example");
    let (s3, k3) = witness(0x33, "w3.example");
    let policy = WitnessPolicy::parse(&format!(
        "# two of three\nwitness a {k1} http://127.0.0.1:1/\nwitness b {k2}\n\twitness c {k3}\n\
         group g 2 a b c\nquorum g\n"
    ))
    .unwrap();
    let one = cosign(BODY, "w1.example", 10, &s1).unwrap();
    let two = cosign(BODY, "w2.example", 11, &s2).unwrap();
    // One witness twice is still one witness.
    let outcome = policy.evaluate(&note_with(&[one.clone(), one.clone()]));
    assert!(!outcome.satisfied);
    assert_eq!(outcome.cosigned, vec![("a".to_string(), 10)]);
    assert_eq!(outcome.missing, vec!["b".to_string(), "c".to_string()]);
    assert_eq!(outcome.quorum, "2 of (a, b, c)");
    let outcome = policy.evaluate(&note_with(&[one.clone(), two.clone()]));
    assert!(outcome.satisfied, "{outcome:?}");
    // A cosignature over another root from a known witness is a finding and does not count.
    let stale = cosign(&BODY.replace("CsUY", "DsUY"), "w3.example", 12, &s3).unwrap();
    let outcome = policy.evaluate(&note_with(&[one.clone(), stale]));
    assert!(!outcome.satisfied);
    assert_eq!(outcome.invalid.len(), 1);
    assert_eq!(outcome.invalid[0].0, "c");
    // Unknown witnesses are ignored.
    let (s4, _) = witness(0x44, "w4.example");
    let unknown = cosign(BODY, "w4.example", 13, &s4).unwrap();
    let outcome = policy.evaluate(&note_with(&[one, unknown]));
    assert!(!outcome.satisfied);
    assert!(outcome.invalid.is_empty());
    assert_eq!(
        policy.witnesses()[0].url.as_deref(),
        Some("http://127.0.0.1:1")
    );
}

#[test]
fn nested_groups_and_quorum_none() {
    let (s1, k1) = witness(0x11, "w1.example");
    let (_, k2) = witness(0x22, "w2.example");
    let (s3, k3) = witness(0x33, "w3.example");
    let policy = WitnessPolicy::parse(&format!(
        "witness a {k1}\nwitness b {k2}\nwitness c {k3}\ngroup ab any a b\ngroup all-of all ab c\nquorum all-of\n"
    ))
    .unwrap();
    let a = cosign(BODY, "w1.example", 10, &s1).unwrap();
    let c = cosign(BODY, "w3.example", 10, &s3).unwrap();
    assert!(
        !policy
            .evaluate(&note_with(std::slice::from_ref(&a)))
            .satisfied
    );
    assert!(policy.evaluate(&note_with(&[a, c])).satisfied);
    let none = WitnessPolicy::parse(&format!("witness a {k1}\nquorum none\n")).unwrap();
    assert!(none.evaluate(&note_with(&[])).satisfied);
    assert!(!none.requires_cosignatures());
    // The text form parses back to the same policy.
    assert_eq!(WitnessPolicy::parse(&policy.to_text(None)).unwrap(), policy);
}

#[test]
fn malformed_policies_are_refused_with_the_line() {
    let (_, k1) = witness(0x11, "w1.example");
    let cases = [
        (format!("witness a {k1}\n"), 0),
        (format!("witness a {k1}\nwitness b {k1}\nquorum a\n"), 2),
        (format!("witness a {k1}\ngroup g 2 a\nquorum g\n"), 2),
        (format!("witness a {k1}\ngroup g 01 a\nquorum g\n"), 2),
        (format!("witness a {k1}\ngroup g any a a\nquorum g\n"), 2),
        ("quorum x\n".to_string(), 1),
        (format!("witness a {k1}\nquorum a\nquorum a\n"), 3),
        ("witness a notakey\nquorum none\n".to_string(), 1),
        ("frobnicate\nquorum none\n".to_string(), 1),
        (format!("witness none {k1}\nquorum none\n"), 1),
    ];
    for (text, line) in cases {
        let err = WitnessPolicy::parse(&text).unwrap_err();
        assert_eq!(err.line, line, "{text:?}: {err}");
    }
}
