//! A throw-away PKI for tests (root → issuing CA → seal and TSA certificates)
//! and the helper that runs OpenSSL or skips when it is missing.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;

use time::{Duration, OffsetDateTime};

use crate::keystore::{KeyAlgorithm, KeyStore, MasterKey, Signer};
use crate::pki::{
    CertificateRole, IssuedCertificate, Subject, issue_certificate, self_signed_root,
};

/// A certificate and its key.
pub(crate) struct Party {
    pub signer: Arc<dyn Signer>,
    pub certificate: IssuedCertificate,
}

/// Root, issuing CA, a seal and a TSA.
pub(crate) struct TestPki {
    pub root: Party,
    pub issuing: Party,
    pub seal: Party,
    pub tsa: Party,
}

fn key(store: &KeyStore, id: &str, algorithm: KeyAlgorithm) -> Arc<dyn Signer> {
    store.generate(id, algorithm).expect("generate key").1
}

fn subject(name: &str) -> Subject {
    Subject {
        common_name: name.to_string(),
        organization: Some("govseal test".to_string()),
        ..Subject::default()
    }
}

impl TestPki {
    /// A PKI whose end-entity keys have `algorithm`, valid from an hour ago.
    pub fn new(algorithm: KeyAlgorithm) -> TestPki {
        let store = KeyStore::new(MasterKey::from_text(&"11".repeat(32)).expect("master key"));
        let start = OffsetDateTime::now_utc() - Duration::hours(1);
        let year = Duration::days(365);
        let root_key = key(&store, "root", KeyAlgorithm::EcdsaP256);
        let root = self_signed_root(&*root_key, &subject("测试根 Test Root"), start, year)
            .expect("root certificate");
        let issuing_key = key(&store, "issuing", KeyAlgorithm::EcdsaP256);
        let issue = |key: &Arc<dyn Signer>, role, name: &str| {
            issue_certificate(
                &root.der,
                &*root_key,
                &**key,
                role,
                &subject(name),
                start,
                year,
                None,
            )
        };
        let issuing = issue(&issuing_key, CertificateRole::IssuingCa, "Test Issuing CA")
            .expect("issuing CA certificate");
        let by_issuing = |key: &Arc<dyn Signer>, role, name: &str| {
            issue_certificate(
                &issuing.der,
                &*issuing_key,
                &**key,
                role,
                &subject(name),
                start,
                year,
                None,
            )
        };
        let seal_key = key(&store, "seal", algorithm);
        let seal = by_issuing(&seal_key, CertificateRole::Seal, "测试行政审批专用章")
            .expect("seal certificate");
        let tsa_key = key(&store, "tsa", algorithm);
        let tsa = by_issuing(&tsa_key, CertificateRole::TimeStamping, "Test TSA")
            .expect("TSA certificate");
        TestPki {
            root: Party {
                signer: root_key,
                certificate: root,
            },
            issuing: Party {
                signer: issuing_key,
                certificate: issuing,
            },
            seal: Party {
                signer: seal_key,
                certificate: seal,
            },
            tsa: Party {
                signer: tsa_key,
                certificate: tsa,
            },
        }
    }
}

/// True if `tool` runs. Otherwise prints a SKIP line and returns false, or
/// panics when `GOVSEAL_INTEROP=require`.
pub(crate) fn tool_available(test: &str, tool: &str) -> bool {
    let found = Command::new(tool).arg("version").output().is_ok();
    if found {
        return true;
    }
    let message = format!("{test}: {tool} not found");
    if std::env::var("GOVSEAL_INTEROP").as_deref() == Ok("require") {
        panic!("{message} (GOVSEAL_INTEROP=require)");
    }
    eprintln!("SKIPPED {message}");
    false
}

/// Runs `openssl` with `args` in `dir`.
pub(crate) fn openssl(dir: &Path, args: &[&str]) -> Output {
    Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run openssl")
}

/// Both streams of `output`, for assertion messages.
pub(crate) fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}
