//! Validating RFC 3161 time-stamp tokens (RFC 3161 §2.4.2; ETSI EN 319 102-1
//! §5.4 time-stamp validation building block): the message imprint, the TSA's
//! CMS signature (ECDSA or RSA, [`crate::cms`]) with its ESS
//! signing-certificate, v1 (RFC 2634 §5.4) or v2 (RFC 5816), and the TSA's
//! chain validated at the token's own `genTime`.

use time::OffsetDateTime;

use super::chain::{self, ChainStatus, Purpose};
use super::trust::TrustStore;
use crate::cms::CmsError;
use crate::timestamp::{self, TimeStampTokenInfo};

/// Why a token is not valid.
#[derive(Debug)]
pub(crate) enum TokenError {
    /// Not a readable time-stamp token.
    Format(String),
    /// The imprint is not the hash of what it should time-stamp.
    Hash,
    /// The TSA certificate is not in the token, the document or the bundle.
    NoCertificate,
    /// The TSA signature does not verify.
    Crypto(String),
    /// An algorithm of the token (imprint hash, digest, signature, key) is
    /// one this verifier cannot check: no conclusion, not a forgery.
    Unsupported(String),
    /// The TSA certificate does not validate at genTime.
    Chain(ChainStatus),
}

impl std::fmt::Display for TokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenError::Format(why) => write!(f, "the time-stamp token cannot be read: {why}"),
            TokenError::Hash => f.write_str("the time-stamp's message imprint does not match"),
            TokenError::NoCertificate => f.write_str("the TSA certificate is not available"),
            TokenError::Crypto(why) => write!(f, "the TSA signature does not verify: {why}"),
            TokenError::Unsupported(why) => {
                write!(f, "the time-stamp cannot be checked: {why}")
            }
            TokenError::Chain(status) => write!(f, "the TSA certificate is not valid: {status:?}"),
        }
    }
}

/// A token that passed, with the TSA certificate.
pub(crate) struct ValidToken {
    pub(crate) info: TimeStampTokenInfo,
    pub(crate) tsa_certificate: Vec<u8>,
}

/// The digest algorithm of ring for a CMS / TSP digest OID.
pub(crate) fn ring_digest(
    oid: &const_oid::ObjectIdentifier,
) -> Option<&'static ring::digest::Algorithm> {
    match crate::cms::DigestAlgorithm::from_oid(oid)? {
        crate::cms::DigestAlgorithm::Sha256 => Some(&ring::digest::SHA256),
        crate::cms::DigestAlgorithm::Sha384 => Some(&ring::digest::SHA384),
        crate::cms::DigestAlgorithm::Sha512 => Some(&ring::digest::SHA512),
    }
}

/// Parses a token, for reporting even when it does not validate.
pub(crate) fn parse(token: &[u8]) -> Result<TimeStampTokenInfo, TokenError> {
    timestamp::parse_token(token).map_err(|e| TokenError::Format(e.to_string()))
}

/// Checks `info`: `imprint` computes the expected hash for an algorithm;
/// the TSA certificate is looked up among the token's, `extra_certs` and the
/// bundle's; its chain is validated at `genTime` (or `at` if earlier).
pub(crate) fn validate(
    info: TimeStampTokenInfo,
    imprint: impl Fn(&'static ring::digest::Algorithm) -> Vec<u8>,
    store: &TrustStore,
    extra_certs: &[Vec<u8>],
    extra_crls: &[Vec<u8>],
    at: OffsetDateTime,
) -> Result<ValidToken, TokenError> {
    let algorithm = ring_digest(&info.hash_algorithm).ok_or_else(|| {
        TokenError::Unsupported(format!(
            "unsupported imprint hash algorithm {}",
            info.hash_algorithm
        ))
    })?;
    if imprint(algorithm) != info.hashed_message {
        return Err(TokenError::Hash);
    }
    let mut signed_data = info.signed_data.clone();
    signed_data.certificates.extend(extra_certs.iter().cloned());
    signed_data
        .certificates
        .extend(store.intermediates().iter().cloned());
    let tsa_certificate = signed_data
        .signer_certificate()
        .ok_or(TokenError::NoCertificate)?
        .to_vec();
    info.verify_signature(&tsa_certificate)
        .map_err(|e| match e {
            timestamp::TimestampError::UnsupportedHash(_)
            | timestamp::TimestampError::Cms(CmsError::UnsupportedAlgorithm { .. }) => {
                TokenError::Unsupported(e.to_string())
            }
            e => TokenError::Crypto(e.to_string()),
        })?;
    let mut certs = info.certificates.clone();
    certs.extend(extra_certs.iter().cloned());
    let when = info.gen_time.min(at);
    match chain::validate(
        store,
        &tsa_certificate,
        &certs,
        extra_crls,
        when,
        Purpose::TimeStamping,
    ) {
        ChainStatus::Valid | ChainStatus::ValidRevokedLater(_) => Ok(ValidToken {
            info,
            tsa_certificate,
        }),
        other => Err(TokenError::Chain(other)),
    }
}
