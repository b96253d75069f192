//! Certificate revocation lists (RFC 5280 §5).

use rcgen::{
    CertificateRevocationListParams, Issuer, KeyIdMethod, RevokedCertParams, SerialNumber,
};
use rustls_pki_types::CertificateDer;
use time::OffsetDateTime;

use super::issue::PkiError;
use crate::keystore::{RcgenSigner, Signer};

pub use rcgen::RevocationReason;

/// One revoked certificate.
#[derive(Clone, Debug)]
pub struct RevokedEntry {
    /// Serial number as hex.
    pub serial_hex: String,
    /// When it was revoked.
    pub revoked_at: OffsetDateTime,
    /// The reason code (RFC 5280 §5.3.1).
    pub reason: Option<RevocationReason>,
}

/// Signs a CRL for the CA `issuer_der`/`issuer_key` with CRL number `number`
/// (RFC 5280 §5.2.3: monotonically increasing).
pub fn sign_crl(
    issuer_der: &[u8],
    issuer_key: &dyn Signer,
    number: u64,
    this_update: OffsetDateTime,
    next_update: OffsetDateTime,
    revoked: &[RevokedEntry],
) -> Result<Vec<u8>, PkiError> {
    let issuer =
        Issuer::from_ca_cert_der(&CertificateDer::from(issuer_der), RcgenSigner(issuer_key))?;
    let revoked_certs = revoked
        .iter()
        .filter_map(|r| {
            Some(RevokedCertParams {
                serial_number: SerialNumber::from_slice(&hex::decode(&r.serial_hex).ok()?),
                revocation_time: r.revoked_at.replace_nanosecond(0).unwrap_or(r.revoked_at),
                reason_code: r.reason,
                invalidity_date: None,
            })
        })
        .collect();
    let params = CertificateRevocationListParams {
        this_update: this_update.replace_nanosecond(0).unwrap_or(this_update),
        next_update: next_update.replace_nanosecond(0).unwrap_or(next_update),
        crl_number: SerialNumber::from_slice(&number.to_be_bytes()),
        issuing_distribution_point: None,
        revoked_certs,
        key_identifier_method: KeyIdMethod::Sha256,
    };
    Ok(params.signed_by(&issuer)?.der().to_vec())
}
