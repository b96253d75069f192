//! The installation's PKI (统一身份认证): certificate profiles for every role
//! and the operations that issue certificates and CRLs through the key store.
//!
//! Profiles follow RFC 5280 §4.2 (extensions) and are linted with pkilint;
//! the TSA profile follows RFC 3161 §2.3; subjects carry the department's
//! USCC as `organizationIdentifier` in the ETSI EN 319 412-1 §5.1.4 form
//! `NTRCN-<USCC>`.

mod crl;
mod issue;
mod profile;

pub use crl::{RevocationReason, RevokedEntry, sign_crl};
pub use issue::{
    IssuedCertificate, PkiError, certificate_pem, issue_certificate, self_signed_root,
};
pub use profile::{CertificateRole, Subject};
