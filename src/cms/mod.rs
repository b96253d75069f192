//! CMS `SignedData` (RFC 5652 §5) in the profile PAdES baseline signatures
//! need (ETSI EN 319 142-1 §6.3, building on the CAdES baseline of
//! ETSI EN 319 122-1 §6).
//!
//! What a PAdES B-B signature's CMS looks like here:
//! - detached: `eContentType` id-data and no `eContent` (RFC 5652 §5.2);
//! - one `SignerInfo` identified by issuer and serial number (§5.3), digest
//!   SHA-256 and `ecdsa-with-SHA256` (SHA-384 throughout for P-384 keys,
//!   RFC 5753 §2.1.1 / RFC 5758 §3.2);
//! - signed attributes exactly content-type (§11.1), message-digest (§11.2)
//!   and signing-certificate-v2 (RFC 5035 §3), and **no** signing-time: the
//!   PAdES baseline puts the claimed time in the signature dictionary's `/M`
//!   (EN 319 142-1 §6.3: the signing-time attribute shall not be present);
//! - the certificates field carries the signer's certificate and its chain.
//!
//! B-T adds the signature time-stamp as the unsigned attribute
//! id-aa-timeStampToken (RFC 3161 Appendix A, EN 319 122-1 §5.3), whose
//! message imprint is the hash of the signature value ([`signature_value`]).
//!
//! The same builder makes the RFC 3161 time-stamp tokens of
//! [`crate::timestamp`], which encapsulate a `TSTInfo` instead of nothing.
//!
//! Reading ([`parse`], [`ParsedSignedData::verify_signature`]) accepts more
//! than govseal writes, as a verifier of other signers must: RSA signers
//! with RSASSA-PKCS1-v1_5 or RSASSA-PSS (RFC 8017 §8.2 / §8.1, RFC 4055,
//! RFC 5754 §3.2; PSS with any salt length, the hash length by ring and
//! others by `pss`), ECDSA with either SHA-2 hash on either curve, and the
//! ESS signing-certificate v1 (RFC 2634 §5.4) beside v2; `algorithm` says
//! exactly which, and anything else is [`CmsError::UnsupportedAlgorithm`].

mod algorithm;
mod attributes;
mod parse;
mod pss;
mod signed_data;

#[cfg(test)]
pub(crate) mod test_pki;
#[cfg(test)]
mod tests;

use const_oid::ObjectIdentifier;

pub use algorithm::RsassaPssParams;
pub use attributes::{
    EssCertId, EssCertIdV2, IssuerSerial, SigningCertificate, SigningCertificateV2,
};
pub use parse::{CertificateHash, EssAttribute, ParsedSignedData, SignerId, parse};
pub use signed_data::{
    DetachedSignature, add_signature_timestamp, sign_detached, sign_detached_with, signature_value,
};
pub(crate) use signed_data::{Encapsulated, build_signed_data, key_digest};

/// Object identifiers used by CMS, ESS and RFC 3161.
pub mod oid {
    use const_oid::ObjectIdentifier;

    /// id-data (RFC 5652 §4).
    pub const DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
    /// id-signedData (RFC 5652 §5.1).
    pub const SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
    /// id-contentType (RFC 5652 §11.1).
    pub const CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
    /// id-messageDigest (RFC 5652 §11.2).
    pub const MESSAGE_DIGEST: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
    /// id-signingTime (RFC 5652 §11.3) — never written by govseal.
    pub const SIGNING_TIME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");
    /// id-aa-signingCertificate (RFC 2634 §5.4), the ESS v1 attribute naming
    /// the certificate by its SHA-1 hash, as RFC 3161 §2.4.2 tokens do.
    pub const SIGNING_CERTIFICATE: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.12");
    /// id-aa-signingCertificateV2 (RFC 5035 §3).
    pub const SIGNING_CERTIFICATE_V2: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");
    /// id-aa-timeStampToken (RFC 3161 Appendix A).
    pub const TIME_STAMP_TOKEN: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.14");
    /// id-ct-TSTInfo (RFC 3161 §2.4.2).
    pub const TST_INFO: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
    /// ecdsa-with-SHA256 (RFC 5758 §3.2).
    pub const ECDSA_WITH_SHA256: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
    /// ecdsa-with-SHA384 (RFC 5758 §3.2).
    pub const ECDSA_WITH_SHA384: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
    /// ecdsa-with-SHA512 (RFC 5758 §3.2); ring cannot verify it.
    pub const ECDSA_WITH_SHA512: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4");
    /// id-ecPublicKey (RFC 5480 §2.1.1).
    pub const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
    /// secp256r1, NIST P-256 (RFC 5480 §2.1.1.1).
    pub const SECP256R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
    /// secp384r1, NIST P-384 (RFC 5480 §2.1.1.1).
    pub const SECP384R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
    /// rsaEncryption (RFC 8017 Appendix A.1): an RSA key, and as a CMS
    /// signature algorithm PKCS#1 v1.5 with the digestAlgorithm's hash (RFC 3370 §3.2).
    pub const RSA_ENCRYPTION: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
    /// id-mgf1 (RFC 8017 Appendix B.2.1, RFC 4055 §3.1).
    pub const MGF1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.8");
    /// id-RSASSA-PSS (RFC 4055 §3.1).
    pub const RSASSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
    /// sha256WithRSAEncryption (RFC 4055 §5).
    pub const SHA256_WITH_RSA: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
    /// sha384WithRSAEncryption (RFC 4055 §5).
    pub const SHA384_WITH_RSA: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
    /// sha512WithRSAEncryption (RFC 4055 §5).
    pub const SHA512_WITH_RSA: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");
    /// id-sha1 (RFC 3370 §2.1): only to identify certificates in ESS v1
    /// attributes (RFC 2634 §5.4), never to verify a signature.
    pub const SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
    /// id-sha256 (RFC 5754 §2.2).
    pub const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
    /// id-sha384 (RFC 5754 §2.3).
    pub const SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
    /// id-sha512 (RFC 5754 §2.4).
    pub const SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");
}

/// Why a CMS structure could not be made or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CmsError {
    /// The input is not valid DER for the expected structure.
    #[error("malformed {what}: {source}")]
    Malformed {
        /// Which structure was being decoded.
        what: &'static str,
        /// The decoder's complaint.
        source: der::Error,
    },
    /// Encoding failed (a value out of range for its ASN.1 type).
    #[error("cannot encode {what}: {source}")]
    Encoding {
        /// Which structure was being encoded.
        what: &'static str,
        /// The encoder's complaint.
        source: der::Error,
    },
    /// The `ContentInfo` does not hold a `SignedData`.
    #[error("content type {0} is not id-signedData")]
    NotSignedData(ObjectIdentifier),
    /// The `SignedData` has no `SignerInfo`.
    #[error("SignedData has no SignerInfo")]
    NoSigner,
    /// A required signed attribute is absent or appears more than once.
    #[error("signed attribute {0} missing or not single-valued")]
    Attribute(ObjectIdentifier),
    /// CMS signatures are made with ECDSA keys only (Ed25519 would need RFC 8419).
    #[error("key algorithm {0} cannot sign CMS")]
    UnsupportedKey(crate::keystore::KeyAlgorithm),
    /// The digest does not fit the key: RFC 5753 §2.1.1 pairs the digest with
    /// the signature's hash, and OpenSSL verifies with the digest algorithm.
    #[error("key {key} signs with {expected:?}, not {given:?}")]
    DigestMismatch {
        /// The key's algorithm.
        key: crate::keystore::KeyAlgorithm,
        /// The digest algorithm that key needs.
        expected: DigestAlgorithm,
        /// The digest algorithm given.
        given: DigestAlgorithm,
    },
    /// A digest has the wrong length for its algorithm.
    #[error("digest is {len} bytes, {algorithm:?} needs {}", algorithm.output_len())]
    DigestLength {
        /// The algorithm.
        algorithm: DigestAlgorithm,
        /// The length given.
        len: usize,
    },
    /// The signature algorithm, its parameters, a hash or the signer's key is
    /// one this verifier cannot check: the signature is neither valid nor
    /// proven forged (ETSI EN 319 102-1 §5.2.7, CRYPTO_CONSTRAINTS_FAILURE).
    #[error(
        "unsupported algorithm {}: {why}",
        crate::cms::algorithm::describe(algorithm)
    )]
    UnsupportedAlgorithm {
        /// The algorithm (signature, or hash) that cannot be verified.
        algorithm: ObjectIdentifier,
        /// What about it is not supported.
        why: String,
    },
    /// The signature does not verify under the certificate's key.
    #[error("signature does not verify: {0}")]
    BadSignature(&'static str),
    /// The key store refused to sign.
    #[error(transparent)]
    Sign(#[from] crate::keystore::SignError),
}

impl CmsError {
    pub(crate) fn malformed(what: &'static str) -> impl FnOnce(der::Error) -> CmsError {
        move |source| CmsError::Malformed { what, source }
    }

    pub(crate) fn encoding(what: &'static str) -> impl FnOnce(der::Error) -> CmsError {
        move |source| CmsError::Encoding { what, source }
    }
}

/// The SHA-2 digests govseal uses in CMS and accepts in time-stamp requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DigestAlgorithm {
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl DigestAlgorithm {
    /// The algorithm's object identifier.
    pub fn oid(self) -> ObjectIdentifier {
        match self {
            DigestAlgorithm::Sha256 => oid::SHA256,
            DigestAlgorithm::Sha384 => oid::SHA384,
            DigestAlgorithm::Sha512 => oid::SHA512,
        }
    }

    /// The algorithm an object identifier names, if it is one of these.
    pub fn from_oid(oid: &ObjectIdentifier) -> Option<Self> {
        [Self::Sha256, Self::Sha384, Self::Sha512]
            .into_iter()
            .find(|a| a.oid() == *oid)
    }

    /// Output length in bytes.
    pub fn output_len(self) -> usize {
        self.ring().output_len()
    }

    /// Hashes `data`.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        ring::digest::digest(self.ring(), data).as_ref().to_vec()
    }

    fn ring(self) -> &'static ring::digest::Algorithm {
        match self {
            DigestAlgorithm::Sha256 => &ring::digest::SHA256,
            DigestAlgorithm::Sha384 => &ring::digest::SHA384,
            DigestAlgorithm::Sha512 => &ring::digest::SHA512,
        }
    }
}
