//! The installation's certificate authority at work: first-start set-up, the
//! CA and TSA signers held in memory, end-entity issuance, revocation and CRL
//! publication, and the public trust bundle written to `certs/`.
//!
//! This is the use-case layer over [`crate::pki`] (pure certificate
//! building), [`crate::keystore`] (keys) and [`crate::store`] (rows).

mod bundle;
mod crl;
mod setup;

use std::sync::Arc;

use time::{Duration, OffsetDateTime};

pub use crate::pki::certificate_pem;
pub use bundle::{TrustBundle, write_trust_bundle};
pub use crl::{CaName, RevocationReasonName};
pub use setup::{InitOptions, initialize, load};

use crate::keystore::{KeyAlgorithm, KeyStore, KeyStoreError, Signer};
use crate::log::EntryKind;
use crate::pki::{self, CertificateRole, PkiError, Subject};
use crate::store::{self, Connection, StoreError, certificates::CertificateRow};
use crate::transparency::{self, Event};

/// Why an authority operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AuthorityError {
    /// `init` on an installation that has a PKI.
    #[error("a PKI already exists in this database; refusing to overwrite it")]
    AlreadyInitialized,
    /// No PKI yet.
    #[error("no PKI has been created yet (run `govseal init` or start `govseal serve`)")]
    NotInitialized,
    /// Key store failure.
    #[error(transparent)]
    KeyStore(#[from] KeyStoreError),
    /// Certificate building failure.
    #[error(transparent)]
    Pki(#[from] PkiError),
    /// Storage failure.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Writing the trust bundle failed.
    #[error("writing the trust bundle to {path}: {source}")]
    Bundle {
        /// the file
        path: String,
        /// the I/O error
        source: std::io::Error,
    },
    /// Stored data is inconsistent.
    #[error("inconsistent PKI data: {0}")]
    Inconsistent(String),
}

/// A CA or TSA certificate with its signer.
#[derive(Clone)]
pub struct CertifiedKey {
    /// The certificate row.
    pub certificate: CertificateRow,
    /// The key, as a signer.
    pub signer: Arc<dyn Signer>,
}

impl std::fmt::Debug for CertifiedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertifiedKey")
            .field("certificate", &self.certificate.id)
            .finish()
    }
}

/// The loaded authority: root CA, issuing CA and TSA.
#[derive(Clone, Debug)]
pub struct Authority {
    /// The root CA.
    pub root: CertifiedKey,
    /// The issuing CA (issues departments, seals, the TSA).
    pub issuing: CertifiedKey,
    /// The time-stamping authority.
    pub tsa: CertifiedKey,
    /// Algorithm for new end-entity keys.
    pub algorithm: KeyAlgorithm,
    /// The public base URL (for CRL distribution points).
    pub public_url: String,
    /// The CRLs [`Authority::recent_crl`] read last (clones share them).
    pub recent_crls: crl::RecentCrls,
}

/// What an end-entity certificate is for.
pub struct EndEntityRequest<'a> {
    /// The role (department or seal).
    pub role: CertificateRole,
    /// Its subject.
    pub subject: &'a Subject,
    /// Its validity window.
    pub not_before: OffsetDateTime,
    /// How long it is valid.
    pub validity: Duration,
}

impl Authority {
    /// The CRL distribution point URL of a CA.
    pub fn crl_url(&self, ca: CaName) -> String {
        format!(
            "{}/v1/crl/{}",
            self.public_url.trim_end_matches('/'),
            ca.as_str()
        )
    }

    /// Generates a key and issues an end-entity certificate from the issuing CA,
    /// storing both in `conn`'s transaction. Returns the certificate row and the signer.
    pub async fn issue_end_entity(
        &self,
        conn: &mut Connection,
        keys: &KeyStore,
        request: EndEntityRequest<'_>,
    ) -> Result<(CertificateRow, Arc<dyn Signer>), AuthorityError> {
        let key_id = store::new_id();
        let (sealed, signer) = keys.generate(&key_id, self.algorithm)?;
        let issued = pki::issue_certificate(
            &self.issuing.certificate.der,
            &*self.issuing.signer,
            &*signer,
            request.role,
            request.subject,
            request.not_before,
            request.validity,
            Some(&self.crl_url(CaName::IssuingCa)),
        )?;
        store::keys::insert(conn, &sealed).await?;
        let row = CertificateRow {
            id: store::new_id(),
            role: request.role.as_str().to_string(),
            issuer_id: Some(self.issuing.certificate.id.clone()),
            serial_hex: issued.serial_hex,
            subject: request.subject.common_name.clone(),
            key_id,
            der: issued.der,
            not_before: issued.not_before.unix_timestamp(),
            not_after: issued.not_after.unix_timestamp(),
            revoked_at: None,
            revocation_reason: None,
        };
        store::certificates::insert(conn, &row).await?;
        log_issued(conn, &row, request.subject.uscc.as_deref()).await?;
        Ok((row, signer))
    }
}

/// Records a certificate's issuance in the transparency log.
pub(crate) async fn log_issued(
    conn: &mut Connection,
    row: &CertificateRow,
    uscc: Option<&str>,
) -> Result<(), StoreError> {
    transparency::record(
        conn,
        Event {
            kind: EntryKind::CertificateIssued,
            subject_id: &row.serial_hex,
            department_uscc: uscc,
            artefact: &row.der,
            actor: "authority",
            details: &[("role", &row.role), ("subject", &row.subject)],
            record: Some((&transparency::records::CERTIFICATES, None)),
        },
    )
    .await?;
    Ok(())
}
