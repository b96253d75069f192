//! Issuing certificates through the key store (RFC 5280 §4.1).

use rcgen::{CertificateParams, CrlDistributionPoint, Issuer, SerialNumber};
use ring::rand::{SecureRandom, SystemRandom};
use rustls_pki_types::CertificateDer;
use time::{Duration, OffsetDateTime};

use super::profile::{CertificateRole, Subject, apply_role};
use crate::keystore::{RcgenSigner, Signer};

/// A certificate just issued.
#[derive(Clone, Debug)]
pub struct IssuedCertificate {
    /// DER encoding.
    pub der: Vec<u8>,
    /// The serial number, lower-case hex of its positive big-endian bytes.
    pub serial_hex: String,
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity.
    pub not_after: OffsetDateTime,
}

impl IssuedCertificate {
    /// PEM encoding.
    pub fn pem(&self) -> String {
        certificate_pem(&self.der)
    }
}

/// PEM of a DER certificate (RFC 7468 §5, LF line endings).
pub fn certificate_pem(der: &[u8]) -> String {
    pem::encode_config(
        &pem::Pem::new("CERTIFICATE", der.to_vec()),
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    )
}

/// Why a certificate or CRL could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    /// rcgen refused the parameters or the signer failed.
    #[error("certificate generation failed: {0}")]
    Generation(#[from] rcgen::Error),
    /// No randomness for the serial number.
    #[error("no randomness for a serial number")]
    Random,
    /// The validity window is empty.
    #[error("validity must be positive")]
    Validity,
}

/// A random positive serial of 16 octets (RFC 5280 §4.1.2.2: ≤ 20 octets, positive, unique).
fn random_serial() -> Result<(SerialNumber, String), PkiError> {
    let mut bytes = [0u8; 16];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| PkiError::Random)?;
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    Ok((SerialNumber::from_slice(&bytes), hex::encode(bytes)))
}

fn params(
    role: CertificateRole,
    subject: &Subject,
    not_before: OffsetDateTime,
    validity: Duration,
    crl_url: Option<&str>,
) -> Result<(CertificateParams, String), PkiError> {
    if validity <= Duration::ZERO {
        return Err(PkiError::Validity);
    }
    let mut params = CertificateParams::default();
    let not_before = not_before.replace_nanosecond(0).unwrap_or(not_before);
    params.not_before = not_before;
    params.not_after = not_before + validity;
    let (serial, serial_hex) = random_serial()?;
    params.serial_number = Some(serial);
    params.distinguished_name = subject.distinguished_name();
    params.key_identifier_method = rcgen::KeyIdMethod::Sha256;
    if let Some(url) = crl_url {
        params.crl_distribution_points = vec![CrlDistributionPoint {
            uris: vec![url.to_string()],
        }];
    }
    apply_role(&mut params, role);
    Ok((params, serial_hex))
}

/// Makes the self-signed root certificate of an installation.
pub fn self_signed_root(
    signer: &dyn Signer,
    subject: &Subject,
    not_before: OffsetDateTime,
    validity: Duration,
) -> Result<IssuedCertificate, PkiError> {
    let (params, serial_hex) = params(CertificateRole::Root, subject, not_before, validity, None)?;
    let cert = params.self_signed(&RcgenSigner(signer))?;
    Ok(IssuedCertificate {
        der: cert.der().to_vec(),
        serial_hex,
        not_before: params.not_before,
        not_after: params.not_after,
    })
}

/// Issues a certificate for `subject_key` in `role`, signed by the CA whose
/// certificate is `issuer_der` and whose key is `issuer_key`. `crl_url` becomes
/// the CRL distribution point (RFC 5280 §4.2.1.13) of the new certificate.
#[allow(clippy::too_many_arguments)] // each argument is a distinct part of RFC 5280 §4.1
pub fn issue_certificate(
    issuer_der: &[u8],
    issuer_key: &dyn Signer,
    subject_key: &dyn Signer,
    role: CertificateRole,
    subject: &Subject,
    not_before: OffsetDateTime,
    validity: Duration,
    crl_url: Option<&str>,
) -> Result<IssuedCertificate, PkiError> {
    let (params, serial_hex) = params(role, subject, not_before, validity, crl_url)?;
    let issuer =
        Issuer::from_ca_cert_der(&CertificateDer::from(issuer_der), RcgenSigner(issuer_key))?;
    let cert = params.signed_by(&RcgenSigner(subject_key), &issuer)?;
    Ok(IssuedCertificate {
        der: cert.der().to_vec(),
        serial_hex,
        not_before: params.not_before,
        not_after: params.not_after,
    })
}
