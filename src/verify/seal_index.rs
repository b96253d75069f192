//! The seal certificates of a trust bundle, read once per store.
//!
//! A license record names its signer by `kid` (RFC 9052 §3.1), and every
//! verification needs the same facts about that seal certificate: its kid,
//! its P-256 public key, who it names (for the report), whether its own key
//! usage allows signing (RFC 5280 §4.2.1.3), which department and seal it
//! certifies (the USCC and seal code a record's claims must name), and
//! whether the CA that signed the license status snapshot, or the
//! authorised issuers list, certified it. None of these depend on the
//! validation time, so they are derived once when the store is first used
//! instead of parsing the certificate again for every QR code. What does
//! depend on time — the chain, the CRLs, the snapshot's dates, the license's
//! validity — is still evaluated on every verification.

use x509_parser::prelude::{FromDer, X509Certificate};

use super::chain::{self, Purpose};
use super::issuers::IssuersState;
use super::memo::SignatureMemo;
use super::report::Signer;
use super::status::SnapshotState;
use crate::license::record::{KID_LEN, SealIdentity, certificate_kid, p256_public_key};

/// One seal certificate of the bundle and what is known of it for good.
#[derive(Debug)]
pub(crate) struct SealEntry {
    /// The certificate (DER).
    pub(crate) der: Vec<u8>,
    /// First 8 bytes of SHA-256 of the certificate: the records' `kid`.
    pub(crate) kid: [u8; KID_LEN],
    /// The uncompressed P-256 point, or why the key cannot verify records.
    pub(crate) key: Result<Vec<u8>, String>,
    /// Who the certificate names, for the report.
    pub(crate) signer: Option<Signer>,
    /// The department and seal it certifies (empty if unreadable).
    pub(crate) identity: SealIdentity,
    /// The leaf checks of [`chain::check_leaf`] for signing.
    pub(crate) constraints: Result<(), String>,
    /// True if the CA certificate that signed the store's license status
    /// snapshot issued this certificate (same DN, its key verifies it).
    pub(crate) certified_by_snapshot_signer: bool,
    /// True if the CA certificate that signed the store's authorised issuers
    /// list issued this certificate.
    pub(crate) certified_by_issuers_signer: bool,
}

/// The entries of `seals`, in the store's order.
pub(crate) fn index(
    seals: &[Vec<u8>],
    snapshot: &SnapshotState,
    issuers: &IssuersState,
    memo: &SignatureMemo,
) -> Vec<SealEntry> {
    let snapshot_signer = match snapshot {
        SnapshotState::Verified(s) => Some(s.signer.as_slice()),
        _ => None,
    };
    let issuers_signer = issuers.verified().map(|v| v.signer.as_slice());
    seals
        .iter()
        .map(|der| SealEntry {
            der: der.clone(),
            kid: certificate_kid(der),
            key: p256_public_key(der).map_err(|e| e.to_string()),
            signer: chain::signer_of(der),
            identity: SealIdentity::of_certificate(der).unwrap_or_default(),
            constraints: chain::check_leaf(der, Purpose::Signing),
            certified_by_snapshot_signer: snapshot_signer
                .is_some_and(|ca| issued_by(der, ca, memo)),
            certified_by_issuers_signer: issuers_signer.is_some_and(|ca| issued_by(der, ca, memo)),
        })
        .collect()
}

/// True if `ca` (DER) certifies `seal` (DER): same DN and its key verifies
/// the seal certificate's signature (RFC 5280 §6.1.3 (a)(1)).
pub(crate) fn issued_by(seal: &[u8], ca: &[u8], memo: &SignatureMemo) -> bool {
    let (Ok((_, seal_cert)), Ok((_, ca))) = (
        X509Certificate::from_der(seal),
        X509Certificate::from_der(ca),
    ) else {
        return false;
    };
    seal_cert.issuer().as_raw() == ca.subject().as_raw()
        && memo.verified(&[b"certificate", ca.public_key().raw, seal], || {
            seal_cert.verify_signature(Some(ca.public_key())).is_ok()
        })
}
