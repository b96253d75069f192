//! What the fuzz targets share: the committed trust bundle the seeds were
//! made with, and a small PKI of their own made once per process.
//!
//! Two kinds of input reach govseal's parsers. Bytes an attacker sends as
//! they are (a PDF, a QR text, a COSE record, a tlog proof) are verified
//! against [`bundle`], the trust bundle of the installation that produced
//! the seeds in `seeds/` (`fixtures/trust`, written by the ignored test
//! `fuzz_seeds::write_fuzz_seeds`). But a parser behind a signature (a
//! snapshot's payload, a checkpoint's body, a logged entry) sees only what a
//! key holder signed, and random bytes never carry a valid signature; so the
//! targets also sign the fuzzer's bytes with [`OwnPki`]'s keys and verify
//! them against a store that trusts those keys. That is the "the signer is
//! compromised or careless" threat: the verifier must still not crash.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use coset::{CoseSign1Builder, HeaderBuilder, TaggedCborSerializable, iana};
use govseal::keystore::{KeyAlgorithm, KeyStore, MasterKey, Signer};
use govseal::license::record::certificate_kid;
use govseal::license::snapshot::StatusSnapshot;
use govseal::log::checkpoint;
use govseal::pki::{CertificateRole, Subject, issue_certificate, self_signed_root};
use govseal::verify::logged::LogTrust;
use govseal::verify::{LicenseOptions, TrustStore};
use time::{Duration, OffsetDateTime};

/// `fixtures/`, beside this crate's `Cargo.toml`.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// The validation time of [`bundle`]: when the seeds were made, so that
/// certificates, CRLs and the status snapshot are all current, and every run
/// sees the same verdicts.
pub fn validation_time() -> OffsetDateTime {
    static AT: OnceLock<OffsetDateTime> = OnceLock::new();
    *AT.get_or_init(|| {
        let path = fixtures().join("validation-time.txt");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (regenerate the seeds)", path.display()));
        OffsetDateTime::parse(text.trim(), &time::format_description::well_known::Rfc3339)
            .expect("validation-time.txt holds an RFC 3339 time")
    })
}

/// The trust bundle the seeds were made with (`fixtures/trust`).
pub fn bundle() -> &'static TrustStore {
    static STORE: OnceLock<TrustStore> = OnceLock::new();
    STORE.get_or_init(|| {
        let dir = fixtures().join("trust");
        TrustStore::load(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
    })
}

/// The log side of [`bundle`]: its log key and checkpoint.
pub fn bundle_log() -> &'static LogTrust {
    static LOG: OnceLock<LogTrust> = OnceLock::new();
    LOG.get_or_init(|| LogTrust::load(&fixtures().join("trust")))
}

/// License options at [`validation_time`].
pub fn bundle_options() -> LicenseOptions {
    LicenseOptions {
        at: validation_time(),
        allow_stale: false,
    }
}

/// A root CA, a seal certificate under it and an Ed25519 log key, made
/// once per process, with a trust store that trusts them.
pub struct OwnPki {
    /// The root CA's certificate (DER); it also signs status snapshots.
    pub root_der: Vec<u8>,
    /// The root CA's key.
    pub root: Arc<dyn Signer>,
    /// The seal certificate (DER).
    pub seal_der: Vec<u8>,
    /// The seal's key.
    pub seal: Arc<dyn Signer>,
    /// The log key (Ed25519).
    pub log: Arc<dyn Signer>,
    /// The log key's name.
    pub log_name: &'static str,
    /// The log's C2SP verifier key text.
    pub log_key_text: String,
    /// Root as anchor, the seal, an empty signed status snapshot.
    pub store: TrustStore,
    /// When the certificates and the snapshot are current.
    pub at: OffsetDateTime,
}

/// The issuer USCC the seal certificate names (a valid one).
pub const OWN_ISSUER_USCC: &str = "91350100M000100Y43";

/// The public URL of [`OwnPki::store`].
pub const OWN_PUBLIC_URL: &str = "https://seal.fuzz.example";

impl OwnPki {
    /// The process's PKI.
    pub fn get() -> &'static OwnPki {
        static PKI: OnceLock<OwnPki> = OnceLock::new();
        PKI.get_or_init(OwnPki::new)
    }

    fn new() -> OwnPki {
        let keys = KeyStore::new(MasterKey::from_text(&"42".repeat(32)).expect("master key"));
        let key = |id: &str, algorithm| keys.generate(id, algorithm).expect("key").1;
        let (root, seal, log) = (
            key("root", KeyAlgorithm::EcdsaP256),
            key("seal", KeyAlgorithm::EcdsaP256),
            key("log", KeyAlgorithm::Ed25519),
        );
        let at = OffsetDateTime::now_utc();
        let start = at - Duration::hours(1);
        let years = Duration::days(3650);
        let root_cert = self_signed_root(
            &*root,
            &Subject {
                common_name: "fuzz root".into(),
                organization: Some("govseal fuzz".into()),
                ..Subject::default()
            },
            start,
            years,
        )
        .expect("root certificate");
        let seal_cert = issue_certificate(
            &root_cert.der,
            &*root,
            &*seal,
            CertificateRole::Seal,
            &Subject {
                common_name: "行政审批专用章".into(),
                organization: Some("福州市行政审批局".into()),
                uscc: Some(OWN_ISSUER_USCC.into()),
                serial_number: Some("3501020012345".into()),
                ..Subject::default()
            },
            start,
            years,
            None,
        )
        .expect("seal certificate");
        let snapshot = StatusSnapshot::new(Vec::new(), Vec::new(), at)
            .sign(&*root, &root_cert.der)
            .expect("status snapshot");
        let store = TrustStore::from_parts(vec![root_cert.der.clone()], Vec::new(), Vec::new())
            .with_seals(vec![seal_cert.der.clone()])
            .with_license_status(&snapshot)
            .with_public_url(OWN_PUBLIC_URL);
        let log_name = "log.fuzz.example";
        let log_key_text = checkpoint::verifier_key(log_name, log.public_key()).expect("log key");
        OwnPki {
            root_der: root_cert.der,
            root,
            seal_der: seal_cert.der,
            seal,
            log,
            log_name,
            log_key_text,
            store,
            at,
        }
    }

    /// License options at [`OwnPki::at`].
    pub fn options(&self) -> LicenseOptions {
        LicenseOptions {
            at: self.at,
            allow_stale: false,
        }
    }

    /// A tagged COSE_Sign1 over `payload`, ES256 with `kid` = the
    /// certificate's key identifier, as govseal signs records and snapshots.
    pub fn sign_cose(&self, payload: &[u8], signer: &dyn Signer, certificate: &[u8]) -> Vec<u8> {
        CoseSign1Builder::new()
            .protected(
                HeaderBuilder::new()
                    .algorithm(iana::Algorithm::ES256)
                    .build(),
            )
            .unprotected(
                HeaderBuilder::new()
                    .key_id(certificate_kid(certificate).to_vec())
                    .build(),
            )
            .payload(payload.to_vec())
            .try_create_signature(b"", |tbs| signer.sign_fixed(tbs))
            .expect("sign")
            .build()
            .to_tagged_vec()
            .expect("encode COSE_Sign1")
    }
}

/// `data` as text the way a text-reading front end would see it: the
/// parsers take `&str`, and only valid UTF-8 gets that far.
pub fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// Renders `report` both ways the front ends do (the CLI's summary and
/// `--json`, the HTTP API's JSON): formatting must not fail either.
pub fn render(report: &govseal::verify::Report) {
    std::hint::black_box(report.summary());
    std::hint::black_box(serde_json::to_vec(report).expect("a report serialises"));
}

/// With `GOVSEAL_FUZZ_PASSED=DIR` set, a mutated input that still verifies
/// TOTAL-PASSED is written to `DIR` for a person to look at: most are
/// harmless (bytes the signature never covered), but issue 15 is about the
/// ones that are not. The seeds themselves, which pass on purpose, are not
/// written.
pub fn keep_if_passed(report: &govseal::verify::Report, data: &[u8], target: &str) {
    use govseal::verify::Indication;
    if report.indication != Indication::TotalPassed {
        return;
    }
    let Some(dir) = std::env::var_os("GOVSEAL_FUZZ_PASSED") else {
        return;
    };
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("seeds")
        .join(target);
    let is_seed = std::fs::read_dir(&seeds)
        .into_iter()
        .flatten()
        .flatten()
        .any(|e| std::fs::read(e.path()).is_ok_and(|seed| seed == data));
    if !is_seed {
        let dir = PathBuf::from(dir).join(target);
        let _ = std::fs::create_dir_all(&dir);
        let name = format!("passed-{:016x}", fnv1a(data));
        let _ = std::fs::write(dir.join(name), data);
    }
}

fn fnv1a(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}
