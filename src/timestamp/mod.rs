//! govseal's time-stamping authority (时间戳服务): the RFC 3161 Time-Stamp
//! Protocol without the transport.
//!
//! [`TimeStampAuthority::respond`] turns a DER `TimeStampReq` (§2.4.1) into a
//! DER `TimeStampResp` (§2.4.2) and never fails: bad requests get a
//! `rejection` with the `failInfo` §2.4.2 names. [`TimeStampAuthority::stamp`]
//! makes a token directly, e.g. for a PAdES signature time-stamp
//! (ETSI EN 319 122-1 §5.3). The token is a CMS `SignedData` (RFC 3161 §2.4.2)
//! encapsulating a `TSTInfo`, signed with content-type, message-digest and
//! signing-certificate-v2 (RFC 5816 §2.2.1) by [`crate::cms`]'s builder.
//!
//! The TSA certificate must carry the critical extended key usage
//! id-kp-timeStamping alone (§2.3): see [`crate::pki::CertificateRole::TimeStamping`].

mod asn1;
mod respond;
mod token;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use der::asn1::{GeneralizedTime, Int, OctetString, Uint};
use der::{Decode, Encode};
use ring::rand::{SecureRandom, SystemRandom};
use spki::AlgorithmIdentifierOwned;
use time::OffsetDateTime;
use x509_cert::Certificate;

use crate::cms::{self, CmsError, DigestAlgorithm, Encapsulated};
use crate::keystore::Signer;
use const_oid::ObjectIdentifier;

pub use asn1::{
    Accuracy, FailureInfo, MessageImprint, PkiStatus, PkiStatusInfo, TimeStampReq, TimeStampResp,
    TstInfo,
};
pub use token::{TimeStampTokenInfo, parse_token};

/// Why a time-stamp could not be made or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TimestampError {
    /// The hash algorithm is not SHA-256, SHA-384 or SHA-512.
    #[error("unsupported hash algorithm {0}")]
    UnsupportedHash(ObjectIdentifier),
    /// The hashed message's length does not match its algorithm.
    #[error("hashed message is {len} bytes, {algorithm:?} gives {}", algorithm.output_len())]
    ImprintLength {
        /// The algorithm.
        algorithm: DigestAlgorithm,
        /// The length given.
        len: usize,
    },
    /// The time cannot be written as a `GeneralizedTime` (before 1970 or after 9999).
    #[error("time {0} cannot be a GeneralizedTime")]
    Time(OffsetDateTime),
    /// The nonce is not a valid INTEGER encoding.
    #[error("nonce is not a valid INTEGER")]
    Nonce,
    /// The TSA certificate does not belong to the signer.
    #[error("the TSA certificate's public key is not the signer's")]
    KeyMismatch,
    /// No randomness for the serial number.
    #[error("no randomness for a serial number")]
    Random,
    /// The token is not a `SignedData` encapsulating a `TSTInfo`.
    #[error("not a time-stamp token: {0}")]
    NotAToken(&'static str),
    /// Decoding or encoding failed.
    #[error("{what}: {source}")]
    Der {
        /// Which structure.
        what: &'static str,
        /// The complaint.
        source: der::Error,
    },
    /// Building or reading the CMS failed.
    #[error(transparent)]
    Cms(#[from] CmsError),
}

fn der_error(what: &'static str) -> impl FnOnce(der::Error) -> TimestampError {
    move |source| TimestampError::Der { what, source }
}

/// A time-stamping authority: a key, its certificate and chain, a policy.
pub struct TimeStampAuthority {
    signer: Arc<dyn Signer>,
    certificate_der: Vec<u8>,
    chain: Vec<Vec<u8>>,
    policy: ObjectIdentifier,
}

impl TimeStampAuthority {
    /// A TSA signing with `signer`, whose certificate is `certificate_der`;
    /// `chain` (issuing CA and up, DER) is embedded with it when asked for.
    /// Fails if the certificate is not the signer's.
    pub fn new(
        signer: Arc<dyn Signer>,
        certificate_der: Vec<u8>,
        chain: Vec<Vec<u8>>,
        policy: ObjectIdentifier,
    ) -> Result<Self, TimestampError> {
        let certificate =
            Certificate::from_der(&certificate_der).map_err(der_error("TSA certificate"))?;
        let key = certificate
            .tbs_certificate()
            .subject_public_key_info()
            .subject_public_key
            .raw_bytes();
        if key != signer.public_key() {
            return Err(TimestampError::KeyMismatch);
        }
        cms::key_digest(signer.algorithm())?;
        Ok(TimeStampAuthority {
            signer,
            certificate_der,
            chain,
            policy,
        })
    }

    /// The TSA policy written into every `TSTInfo`.
    pub fn policy(&self) -> ObjectIdentifier {
        self.policy
    }

    /// The TSA certificate (DER).
    pub fn certificate(&self) -> &[u8] {
        &self.certificate_der
    }

    /// Makes a `TimeStampToken` (DER `ContentInfo`) over `hashed_message`.
    ///
    /// `nonce` is the INTEGER's content octets (two's complement, as in a
    /// request). With `include_certificates` the token carries the TSA
    /// certificate and its chain (RFC 3161 §2.4.1 `certReq`). `gen_time` is
    /// truncated to whole seconds; the accuracy is one second.
    pub fn stamp(
        &self,
        hash_algorithm: ObjectIdentifier,
        hashed_message: &[u8],
        nonce: Option<&[u8]>,
        include_certificates: bool,
        gen_time: OffsetDateTime,
    ) -> Result<Vec<u8>, TimestampError> {
        let imprint = MessageImprint {
            hash_algorithm: AlgorithmIdentifierOwned {
                oid: hash_algorithm,
                parameters: None,
            },
            hashed_message: OctetString::new(hashed_message).map_err(der_error("imprint"))?,
        };
        let nonce = nonce
            .map(Int::new)
            .transpose()
            .map_err(|_| TimestampError::Nonce)?;
        self.token(imprint, nonce, include_certificates, gen_time)
    }

    /// An upper bound on the length of this TSA's tokens with certificates
    /// and without a nonce (RFC 3161 §2.4.2), as PAdES signing asks for
    /// them: its certificate and chain; twice its issuer's name and serial
    /// (the signer identifier and the ESS signing certificate, RFC 5035),
    /// each shorter than the certificate itself; and 1 KB for the TSTInfo
    /// (policy, SHA-512 imprint at most, 128-bit serial, time, accuracy),
    /// the other signed attributes and the signature.
    pub fn token_len_bound(&self) -> usize {
        3 * self.certificate_der.len() + self.chain.iter().map(Vec::len).sum::<usize>() + 1024
    }

    /// The token for an imprint already checked or to be checked here.
    fn token(
        &self,
        imprint: MessageImprint,
        nonce: Option<Int>,
        include_certificates: bool,
        gen_time: OffsetDateTime,
    ) -> Result<Vec<u8>, TimestampError> {
        check_imprint(&imprint)?;
        let seconds =
            u64::try_from(gen_time.unix_timestamp()).map_err(|_| TimestampError::Time(gen_time))?;
        let gen_time = GeneralizedTime::from_unix_duration(std::time::Duration::from_secs(seconds))
            .map_err(|_| TimestampError::Time(gen_time))?;
        let tst_info = TstInfo {
            version: 1,
            policy: self.policy,
            message_imprint: imprint,
            serial_number: random_serial()?,
            gen_time,
            accuracy: Some(Accuracy {
                seconds: Some(1),
                millis: None,
                micros: None,
            }),
            ordering: false,
            nonce,
            tsa: None,
            extensions: None,
        }
        .to_der()
        .map_err(der_error("TSTInfo"))?;

        let digest_algorithm = cms::key_digest(self.signer.algorithm())?;
        let mut certificates: Vec<&[u8]> = Vec::new();
        if include_certificates {
            certificates.push(&self.certificate_der);
            certificates.extend(self.chain.iter().map(Vec::as_slice));
        }
        Ok(cms::build_signed_data(
            Encapsulated {
                content_type: cms::oid::TST_INFO,
                content: Some(&tst_info),
                digest: &digest_algorithm.digest(&tst_info),
                digest_algorithm,
            },
            &*self.signer,
            &self.certificate_der,
            &certificates,
        )?)
    }
}

/// The imprint's algorithm is supported and its hash has that algorithm's length.
fn check_imprint(imprint: &MessageImprint) -> Result<DigestAlgorithm, TimestampError> {
    let oid = imprint.hash_algorithm.oid;
    let algorithm = DigestAlgorithm::from_oid(&oid).ok_or(TimestampError::UnsupportedHash(oid))?;
    let len = imprint.hashed_message.as_bytes().len();
    if len != algorithm.output_len() {
        return Err(TimestampError::ImprintLength { algorithm, len });
    }
    Ok(algorithm)
}

/// A random positive serial number of 16 octets (RFC 3161 §2.4.2: up to 160 bits).
fn random_serial() -> Result<Int, TimestampError> {
    let mut bytes = [0u8; 16];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| TimestampError::Random)?;
    bytes[0] = (bytes[0] & 0x7f) | 0x01;
    Ok(Uint::new(&bytes)
        .map_err(der_error("serial number"))?
        .into())
}
