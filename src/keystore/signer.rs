//! The signing abstraction every engine uses.

use std::fmt;

/// Algorithms a govseal key can have.
///
/// ECDSA signatures come in two encodings: DER `Ecdsa-Sig-Value` (RFC 5480 §2.2,
/// used by X.509, CRLs and CMS) and fixed-size `r‖s` (RFC 9053 §2.1, used by
/// COSE). A [`Signer`] offers both.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyAlgorithm {
    /// ECDSA over NIST P-256 with SHA-256 (the default).
    EcdsaP256,
    /// ECDSA over NIST P-384 with SHA-384.
    EcdsaP384,
    /// Ed25519 (RFC 8032), used by the transparency log's note signatures.
    Ed25519,
}

impl KeyAlgorithm {
    /// The stable name used in storage and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyAlgorithm::EcdsaP256 => "ecdsa-p256",
            KeyAlgorithm::EcdsaP384 => "ecdsa-p384",
            KeyAlgorithm::Ed25519 => "ed25519",
        }
    }

    /// Parses [`KeyAlgorithm::as_str`] back.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ecdsa-p256" | "p256" | "P-256" => Some(KeyAlgorithm::EcdsaP256),
            "ecdsa-p384" | "p384" | "P-384" => Some(KeyAlgorithm::EcdsaP384),
            "ed25519" | "Ed25519" => Some(KeyAlgorithm::Ed25519),
            _ => None,
        }
    }

    /// The rcgen signature algorithm for certificates signed by this key.
    pub fn rcgen_algorithm(self) -> &'static rcgen::SignatureAlgorithm {
        match self {
            KeyAlgorithm::EcdsaP256 => &rcgen::PKCS_ECDSA_P256_SHA256,
            KeyAlgorithm::EcdsaP384 => &rcgen::PKCS_ECDSA_P384_SHA384,
            KeyAlgorithm::Ed25519 => &rcgen::PKCS_ED25519,
        }
    }
}

impl fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Signing failed inside the key store (or, later, the HSM).
#[derive(Debug, thiserror::Error)]
#[error("signing failed: {0}")]
pub struct SignError(pub String);

/// A private key that can sign but never reveals itself.
pub trait Signer: Send + Sync {
    /// The key's algorithm.
    fn algorithm(&self) -> KeyAlgorithm;

    /// The raw public key: an uncompressed SEC1 point for ECDSA, 32 bytes for Ed25519.
    fn public_key(&self) -> &[u8];

    /// Signs `message` (hashing it with the algorithm's hash). ECDSA signatures
    /// are DER `Ecdsa-Sig-Value`, as X.509 and CMS (RFC 5753 §3.1.1... RFC 5480) want.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignError>;

    /// Signs `message` with ECDSA signatures as fixed-size `r‖s`, as COSE
    /// (RFC 9053 §2.1) and JWS want. Ed25519 signatures are the same either way.
    fn sign_fixed(&self, message: &[u8]) -> Result<Vec<u8>, SignError>;

    /// The DER SubjectPublicKeyInfo (RFC 5280 §4.1.2.7).
    fn subject_public_key_info(&self) -> Vec<u8> {
        use rcgen::PublicKeyData;
        RcgenSigner(self).subject_public_key_info()
    }
}

/// Adapts a [`Signer`] to rcgen's signing-key traits, so certificates and CRLs
/// are signed through the key store.
pub struct RcgenSigner<'a, S: ?Sized>(pub &'a S);

impl<S: Signer + ?Sized> rcgen::PublicKeyData for RcgenSigner<'_, S> {
    fn der_bytes(&self) -> &[u8] {
        self.0.public_key()
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        self.0.algorithm().rcgen_algorithm()
    }
}

impl<S: Signer + ?Sized> rcgen::SigningKey for RcgenSigner<'_, S> {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        self.0.sign(msg).map_err(|_| rcgen::Error::RemoteKeyError)
    }
}
