//! The verifier's trust store: the anchors, the certificates that may help to
//! build a path, and the CRLs (RFC 5280 §6, §5) — read from a trust bundle
//! directory as govseal publishes it (`root.pem`, `issuing-ca.pem`,
//! `tsa.pem`, `crl/*.crl`) or from any directory laid out the same way.
//!
//! The trust anchors are the certificates in `root.pem` (ETSI EN 319 102-1
//! §5.2.5: the trust anchors are an input of X.509 certificate validation);
//! every other `*.pem`, `*.crt` or `*.cer` file holds candidate
//! intermediates, which confer no trust of their own.
//!
//! For licenses it also reads the seal certificates (`seals/*.pem`: the
//! signer candidates of license records, looked up by `kid`, RFC 9052 §3.1;
//! never anchors nor intermediates), the signed license status snapshot
//! (`license-status.cose`, verified here once, see [`super::status`]), the
//! signed list of which departments may issue which license type
//! (`license-issuers.cose`, see [`super::issuers`]) and the installation's
//! public URL (`public_url` in `bundle.json`), the only prefix a license QR
//! text may have.

use std::path::{Path, PathBuf};

use std::sync::{Arc, OnceLock};

use rustls_pki_types::TrustAnchor;

use super::chain::RevocationLists;
use super::freshness::{CrlDates, crl_dates};
use super::issuers::{IssuersState, verify_issuers};
use super::memo::SignatureMemo;
use super::seal_index::{self, SealEntry};
use super::status::{MAX_SNAPSHOT_BYTES, SnapshotState, verify_snapshot};
use crate::license::issuers::MAX_ISSUERS_BYTES;

/// Why a trust bundle directory could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrustError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The operating system's complaint.
        source: std::io::Error,
    },
    /// A file holds no certificate or CRL that can be decoded.
    #[error("{path} holds no usable {what}")]
    Empty {
        /// The file.
        path: PathBuf,
        /// `certificate` or `CRL`.
        what: &'static str,
    },
    /// The bundle names no trust anchor.
    #[error("no trust anchor: {0} is missing or empty")]
    NoAnchor(PathBuf),
}

/// Trust anchors, intermediates and CRLs, all DER; for licenses the seal
/// certificates, the status snapshot and the public URL.
#[derive(Clone, Debug, Default)]
pub struct TrustStore {
    anchors: Vec<Vec<u8>>,
    intermediates: Vec<Vec<u8>>,
    crls: Vec<Vec<u8>>,
    seals: Vec<Vec<u8>>,
    license_status: SnapshotState,
    license_issuers: IssuersState,
    public_url: Option<String>,
    /// Signatures of this bundle already verified (see [`super::memo`]).
    memo: SignatureMemo,
    /// What is derived from the parts above, at first use.
    derived: Arc<Derived>,
}

/// Facts read from a store's parts once, at first use: the parts never
/// change after the store is built (every `with_*` starts afresh).
#[derive(Default)]
struct Derived {
    /// The bundle's authentic CRLs.
    bundle_crls: OnceLock<RevocationLists>,
    /// The seal certificates with their kid, key and signer.
    seals: OnceLock<Vec<SealEntry>>,
    /// Each CRL's issuer and dates.
    crl_dates: OnceLock<Vec<CrlDates>>,
    /// The anchors as rustls-webpki reads them.
    anchors: OnceLock<Vec<TrustAnchor<'static>>>,
}

impl std::fmt::Debug for Derived {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Derived")
    }
}

impl TrustStore {
    /// A store from its parts (DER certificates and CRLs).
    pub fn from_parts(
        anchors: Vec<Vec<u8>>,
        intermediates: Vec<Vec<u8>>,
        crls: Vec<Vec<u8>>,
    ) -> TrustStore {
        TrustStore {
            anchors,
            intermediates,
            crls,
            ..Default::default()
        }
    }

    /// Adds seal certificates (DER): the signer candidates of license records.
    pub fn with_seals(mut self, seals: Vec<Vec<u8>>) -> TrustStore {
        self.seals.extend(seals);
        self.derived = Arc::default();
        self
    }

    /// Sets the license status snapshot from its COSE bytes, verifying it
    /// against this store's CA certificates (so call it after the CAs are in).
    pub fn with_license_status(mut self, cose: &[u8]) -> TrustStore {
        self.license_status = verify_snapshot(cose, &self.anchors, &self.intermediates);
        self.derived = Arc::default();
        self
    }

    /// Sets the authorised issuers list from its COSE bytes, verifying it
    /// against this store's CA certificates (so call it after the CAs are in).
    pub fn with_license_issuers(mut self, cose: &[u8]) -> TrustStore {
        self.license_issuers = verify_issuers(cose, &self.anchors, &self.intermediates);
        self.derived = Arc::default();
        self
    }

    /// Shares `memo` with other stores: a server builds a store per request
    /// (the CRLs and status snapshot change), and the signatures of its CA
    /// certificates, seal certificates and CRLs need verifying only once.
    /// Sharing is safe across bundles: the memo keeps only successes, keyed
    /// by algorithm, key, message and signature, never a verdict on trust.
    pub fn with_memo(mut self, memo: SignatureMemo) -> TrustStore {
        self.memo = memo;
        self.derived = Arc::default();
        self
    }

    /// Sets the public base URL that license QR texts must start with.
    pub fn with_public_url(mut self, url: &str) -> TrustStore {
        self.public_url = Some(url.trim_end_matches('/').to_string());
        self
    }

    /// Reads a bundle directory: anchors from `root.pem`, intermediates from
    /// the other certificate files at its top level, CRLs (DER or PEM) from
    /// `crl/`. A missing `crl/` is allowed (revocation will then be unknown
    /// unless the document carries CRLs).
    pub fn load(dir: &Path) -> Result<TrustStore, TrustError> {
        let root = dir.join("root.pem");
        let anchors = read_pem_certs(&root).map_err(|e| match e {
            TrustError::Io { .. } => TrustError::NoAnchor(root.clone()),
            other => other,
        })?;
        let mut intermediates = Vec::new();
        for path in list(dir)? {
            let is_cert = matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("pem" | "crt" | "cer")
            );
            if is_cert && path != root {
                intermediates.extend(read_pem_certs(&path)?);
            }
        }
        let mut crls = Vec::new();
        let crl_dir = dir.join("crl");
        if crl_dir.is_dir() {
            for path in list(&crl_dir)? {
                if matches!(
                    path.extension().and_then(|e| e.to_str()),
                    Some("crl" | "pem")
                ) {
                    crls.extend(read_crls(&path)?);
                }
            }
        }
        let mut seals = Vec::new();
        let seal_dir = dir.join("seals");
        if seal_dir.is_dir() {
            for path in list(&seal_dir)? {
                if path.extension().and_then(|e| e.to_str()) == Some("pem") {
                    seals.extend(read_pem_certs(&path)?);
                }
            }
        }
        let mut store = TrustStore {
            anchors,
            intermediates,
            crls,
            seals,
            ..Default::default()
        };
        let status = dir.join("license-status.cose");
        if status.is_file() {
            let len = std::fs::metadata(&status).map_err(io(&status))?.len();
            store.license_status = if len > MAX_SNAPSHOT_BYTES as u64 {
                SnapshotState::Invalid("license-status.cose is too large".into())
            } else {
                let bytes = std::fs::read(&status).map_err(io(&status))?;
                verify_snapshot(&bytes, &store.anchors, &store.intermediates)
            };
        }
        let issuers = dir.join("license-issuers.cose");
        if issuers.is_file() {
            let len = std::fs::metadata(&issuers).map_err(io(&issuers))?.len();
            store.license_issuers = if len > MAX_ISSUERS_BYTES as u64 {
                IssuersState::Invalid("license-issuers.cose is too large".into())
            } else {
                let bytes = std::fs::read(&issuers).map_err(io(&issuers))?;
                verify_issuers(&bytes, &store.anchors, &store.intermediates)
            };
        }
        store.public_url = read_public_url(&dir.join("bundle.json"));
        Ok(store)
    }

    /// The bundle's authentic CRLs (those signed by one of its CAs), found
    /// and parsed once: anchors, intermediates and CRLs never change after
    /// the store is built.
    pub(crate) fn bundle_crls(&self) -> &RevocationLists {
        self.derived
            .bundle_crls
            .get_or_init(|| RevocationLists::of(self, &[], &[]))
    }

    /// The seal certificates with what verifying a record needs of them.
    pub(crate) fn seal_index(&self) -> &[SealEntry] {
        self.derived.seals.get_or_init(|| {
            seal_index::index(
                &self.seals,
                &self.license_status,
                &self.license_issuers,
                &self.memo,
            )
        })
    }

    /// Each CRL's issuer, thisUpdate and nextUpdate.
    pub(crate) fn crl_dates(&self) -> &[CrlDates] {
        self.derived.crl_dates.get_or_init(|| crl_dates(&self.crls))
    }

    /// The trust anchors as rustls-webpki reads them (unreadable ones left out).
    pub(crate) fn webpki_anchors(&self) -> &[TrustAnchor<'static>] {
        self.derived.anchors.get_or_init(|| {
            self.anchors
                .iter()
                .filter_map(|der| {
                    webpki::anchor_from_trusted_cert(&der.as_slice().into())
                        .ok()
                        .map(|a| a.to_owned())
                })
                .collect()
        })
    }

    /// The memo of signatures already verified against this bundle.
    pub(crate) fn memo(&self) -> &SignatureMemo {
        &self.memo
    }

    /// The trust anchors (DER).
    pub fn anchors(&self) -> &[Vec<u8>] {
        &self.anchors
    }

    /// Candidate intermediate certificates (DER).
    pub fn intermediates(&self) -> &[Vec<u8>] {
        &self.intermediates
    }

    /// CRLs (DER).
    pub fn crls(&self) -> &[Vec<u8>] {
        &self.crls
    }

    /// Seal certificates (DER), the signer candidates of license records.
    pub fn seals(&self) -> &[Vec<u8>] {
        &self.seals
    }

    /// The license status snapshot and whether it verified.
    pub fn license_status(&self) -> &SnapshotState {
        &self.license_status
    }

    /// The authorised issuers list and whether it verified.
    pub fn license_issuers(&self) -> &IssuersState {
        &self.license_issuers
    }

    /// The public base URL, without a trailing `/`, if the bundle names it.
    pub fn public_url(&self) -> Option<&str> {
        self.public_url.as_deref()
    }
}

/// `public_url` from `bundle.json`, if the file exists and names one.
fn read_public_url(path: &Path) -> Option<String> {
    const MAX_BUNDLE_JSON: u64 = 256 * 1024 * 1024;
    if std::fs::metadata(path).ok()?.len() > MAX_BUNDLE_JSON {
        return None;
    }
    #[derive(serde::Deserialize)]
    struct Partial {
        public_url: Option<String>,
    }
    let bytes = std::fs::read(path).ok()?;
    let partial: Partial = serde_json::from_slice(&bytes).ok()?;
    partial
        .public_url
        .map(|u| u.trim_end_matches('/').to_string())
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> TrustError + '_ {
    move |source| TrustError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The regular files of `dir`, sorted so that loading is deterministic.
fn list(dir: &Path) -> Result<Vec<PathBuf>, TrustError> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let path = entry.map_err(io(dir))?.path();
        if path.is_file() {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

fn read_pem_certs(path: &Path) -> Result<Vec<Vec<u8>>, TrustError> {
    let bytes = std::fs::read(path).map_err(io(path))?;
    let certs: Vec<Vec<u8>> = match pem::parse_many(&bytes) {
        Ok(blocks) if !blocks.is_empty() => blocks
            .into_iter()
            .filter(|b| b.tag() == "CERTIFICATE")
            .map(pem::Pem::into_contents)
            .collect(),
        _ if bytes.first() == Some(&0x30) => vec![bytes],
        _ => Vec::new(),
    };
    if certs.is_empty() {
        return Err(TrustError::Empty {
            path: path.to_path_buf(),
            what: "certificate",
        });
    }
    Ok(certs)
}

fn read_crls(path: &Path) -> Result<Vec<Vec<u8>>, TrustError> {
    let bytes = std::fs::read(path).map_err(io(path))?;
    if bytes.first() == Some(&0x30) {
        return Ok(vec![bytes]);
    }
    let crls: Vec<Vec<u8>> = pem::parse_many(&bytes)
        .unwrap_or_default()
        .into_iter()
        .filter(|b| b.tag() == "X509 CRL")
        .map(pem::Pem::into_contents)
        .collect();
    if crls.is_empty() {
        return Err(TrustError::Empty {
            path: path.to_path_buf(),
            what: "CRL",
        });
    }
    Ok(crls)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_anchor_intermediates_and_crls_and_requires_a_root() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            TrustStore::load(dir.path()),
            Err(TrustError::NoAnchor(_))
        ));
        let pem = |der: &[u8]| pem::encode(&pem::Pem::new("CERTIFICATE", der.to_vec()));
        std::fs::write(dir.path().join("root.pem"), pem(&[0x30, 1, 0])).unwrap();
        std::fs::write(dir.path().join("issuing-ca.pem"), pem(&[0x30, 1, 1])).unwrap();
        std::fs::create_dir(dir.path().join("crl")).unwrap();
        std::fs::write(dir.path().join("crl/root.crl"), [0x30, 1, 2]).unwrap();
        let store = TrustStore::load(dir.path()).unwrap();
        assert_eq!(store.anchors(), &[vec![0x30, 1, 0]]);
        assert_eq!(store.intermediates(), &[vec![0x30, 1, 1]]);
        assert_eq!(store.crls(), &[vec![0x30, 1, 2]]);
        std::fs::write(dir.path().join("tsa.pem"), "not a certificate").unwrap();
        assert!(matches!(
            TrustStore::load(dir.path()),
            Err(TrustError::Empty { .. })
        ));
    }
}
