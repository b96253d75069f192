//! The license's signed record (电子证照签名记录): a tagged `COSE_Sign1`
//! (RFC 9052 §4.2, CBOR tag 18) over the [`LicenseClaims`], signed by the
//! issuing seal's key with ES256 (ECDSA P-256 / SHA-256, RFC 9053 §2.1).
//!
//! - protected header: `{1 (alg): -7 (ES256)}` only;
//! - unprotected header: `{4 (kid): h'…'}`, the first 8 bytes of SHA-256 of
//!   the seal certificate's DER, as the EU digital COVID certificate does
//!   (HCERT §3.3.1); the kid picks candidate certificates, it proves nothing
//!   (a reader also accepts it in the protected header, RFC 9052 §3.1, but
//!   never in both);
//! - payload: the claims (see [`super::claims`]), embedded;
//! - external AAD: empty.
//!
//! The same bytes go into the QR code (see [`super::qr`]), so a verifier
//! needs only the trust bundle's seal certificates. Checking expiry, status
//! and the certificate chain is the verifier's business, not this module's.
//!
//! What this module does check when a record is read: the header rules of
//! RFC 9052 §3 (see [`super::cose_headers`]), ES256 in the protected header,
//! and — once a seal certificate's key verifies the signature — that this
//! certificate is the one the claims name ([`SealIdentity`]): the signed
//! `iss` and `sc` claims are the record's own, integrity-protected
//! reference to its signer, as the unprotected `kid` is not.

use coset::{CoseSign1, CoseSign1Builder, HeaderBuilder, TaggedCborSerializable, iana};
use ring::digest::{SHA256, digest};
use ring::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
use x509_parser::oid_registry::{OID_EC_P256, OID_KEY_TYPE_EC_PUBLIC_KEY};

use super::claims::{ClaimsError, LicenseClaims};
use super::cose_headers::{HeaderError, check_sign1_headers};
use crate::keystore::{KeyAlgorithm, SignError, Signer};
use crate::memo::Memo;

/// Length of a key identifier.
pub const KID_LEN: usize = 8;

/// Why a record could not be made, read or verified.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// The claims are invalid.
    #[error(transparent)]
    Claims(#[from] ClaimsError),
    /// The bytes are not a tagged COSE_Sign1 with an embedded payload.
    #[error("not a tagged COSE_Sign1 message: {0}")]
    Malformed(String),
    /// The protected header does not say ES256 (the algorithm found is named).
    #[error(
        "the record's algorithm is {0}: a license record is signed with ES256 (-7) named in its protected header"
    )]
    Algorithm(String),
    /// The header buckets break RFC 9052 §3 (a label repeated, in both
    /// buckets, or `crit`); the label is named.
    #[error(transparent)]
    Header(#[from] HeaderError),
    /// The kid is missing or not 8 bytes.
    #[error("the record's key identifier must be {KID_LEN} bytes")]
    KeyId,
    /// The signing key is not ECDSA P-256.
    #[error("a license record is signed with an ECDSA P-256 key, not {0}")]
    SignerAlgorithm(KeyAlgorithm),
    /// The signer does not hold the key of the certificate given.
    #[error("the signing key does not match the seal certificate")]
    CertificateMismatch,
    /// A certificate could not be read or has no P-256 key.
    #[error("certificate unusable for a license record: {0}")]
    Certificate(String),
    /// The key store failed.
    #[error(transparent)]
    Signing(#[from] SignError),
    /// No candidate certificate has the record's kid.
    #[error("no known seal certificate has the key identifier {}", hex::encode(.0))]
    UnknownKey([u8; KID_LEN]),
    /// A certificate with the kid exists, but the signature does not verify.
    #[error("the signature does not verify")]
    BadSignature,
    /// The signature verifies, but with the certificate of another
    /// department or seal than the claims name.
    #[error(transparent)]
    Signer(#[from] SignerMismatch),
}

/// id-at-organizationIdentifier (X.520, 2.5.4.97).
const ORGANIZATION_IDENTIFIER: &[u64] = &[2, 5, 4, 97];
/// id-at-serialNumber (X.520, 2.5.4.5).
const SERIAL_NUMBER: &[u64] = &[2, 5, 4, 5];
/// The ETSI EN 319 412-1 §5.1.4 prefix of an organizationIdentifier that
/// carries a Chinese national trade register number (here the USCC).
const USCC_PREFIX: &str = "NTRCN-";

/// Who a seal certificate certifies, as a record's claims must name it (see
/// [`crate::pki`] for the profile): the department's USCC, from the
/// subject's organizationIdentifier `NTRCN-<USCC>`, and the seal code, from
/// the subject's serialNumber. Each is `None` unless the subject has exactly
/// one such attribute of that form.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SealIdentity {
    /// The department's USCC (统一社会信用代码).
    pub uscc: Option<String>,
    /// The seal code (印章编码).
    pub seal_code: Option<String>,
}

/// The claims name another signer than the seal certificate that verified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignerMismatch {
    /// `iss` is not the certificate's department.
    #[error(
        "the record names department {claimed} as issuer (iss), but it is signed with a seal certificate of {}",
        certified_as(.certified, "department ", "no department (no organizationIdentifier NTRCN-<USCC>)")
    )]
    Issuer {
        /// The USCC of the claims.
        claimed: String,
        /// The USCC of the certificate, if it names one.
        certified: Option<String>,
    },
    /// `sc` is not the certificate's seal code.
    #[error(
        "the record names seal code {claimed} (sc), but the seal certificate that signed it has {}",
        certified_as(.certified, "seal code ", "no seal code (serialNumber)")
    )]
    SealCode {
        /// The seal code of the claims.
        claimed: String,
        /// The seal code of the certificate, if it names one.
        certified: Option<String>,
    },
}

fn certified_as(value: &Option<String>, prefix: &str, none: &str) -> String {
    value
        .as_ref()
        .map_or_else(|| none.to_string(), |v| format!("{prefix}{v}"))
}

impl SealIdentity {
    /// Reads the subject of a seal certificate (DER).
    pub fn of_certificate(certificate_der: &[u8]) -> Result<SealIdentity, RecordError> {
        use x509_parser::der_parser::oid::Oid;
        let (_, cert) = x509_parser::parse_x509_certificate(certificate_der)
            .map_err(|e| RecordError::Certificate(e.to_string()))?;
        let only = |arc: &[u64]| -> Option<String> {
            let oid = Oid::from(arc).ok()?;
            let mut values = cert.subject().iter_by_oid(&oid);
            let first = values.next()?.as_str().ok()?.to_string();
            values.next().is_none().then_some(first)
        };
        Ok(SealIdentity {
            uscc: only(ORGANIZATION_IDENTIFIER)
                .and_then(|v| v.strip_prefix(USCC_PREFIX).map(str::to_string)),
            seal_code: only(SERIAL_NUMBER),
        })
    }

    /// Checks that `claims` name this department as issuer and this seal.
    pub fn check(&self, claims: &LicenseClaims) -> Result<(), SignerMismatch> {
        let issuer = claims.issuer().as_str();
        if self.uscc.as_deref() != Some(issuer) {
            return Err(SignerMismatch::Issuer {
                claimed: issuer.to_string(),
                certified: self.uscc.clone(),
            });
        }
        if self.seal_code.as_deref() != Some(claims.seal_code.as_str()) {
            return Err(SignerMismatch::SealCode {
                claimed: claims.seal_code.clone(),
                certified: self.seal_code.clone(),
            });
        }
        Ok(())
    }
}

/// The key identifier of a seal certificate: SHA-256(DER)[..8].
pub fn certificate_kid(certificate_der: &[u8]) -> [u8; KID_LEN] {
    let mut kid = [0u8; KID_LEN];
    kid.copy_from_slice(&digest(&SHA256, certificate_der).as_ref()[..KID_LEN]);
    kid
}

/// The uncompressed P-256 point of a certificate's SubjectPublicKeyInfo.
pub fn p256_public_key(certificate_der: &[u8]) -> Result<Vec<u8>, RecordError> {
    let (rest, cert) = x509_parser::parse_x509_certificate(certificate_der)
        .map_err(|e| RecordError::Certificate(e.to_string()))?;
    if !rest.is_empty() {
        return Err(RecordError::Certificate(
            "bytes after the certificate".into(),
        ));
    }
    let spki = cert.public_key();
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.as_oid().ok());
    if spki.algorithm.algorithm != OID_KEY_TYPE_EC_PUBLIC_KEY || curve != Some(OID_EC_P256) {
        return Err(RecordError::Certificate(
            "the key is not ECDSA P-256".into(),
        ));
    }
    Ok(spki.subject_public_key.data.to_vec())
}

/// Signs `claims` with the seal key `signer`, whose certificate is
/// `seal_certificate_der`, and returns the tagged COSE_Sign1 bytes.
pub fn sign_record(
    claims: &LicenseClaims,
    signer: &dyn Signer,
    seal_certificate_der: &[u8],
) -> Result<Vec<u8>, RecordError> {
    if signer.algorithm() != KeyAlgorithm::EcdsaP256 {
        return Err(RecordError::SignerAlgorithm(signer.algorithm()));
    }
    // A record signed with a key other than the certificate's would never
    // verify. A seal signs many records: its certificate is parsed once.
    static KEYS: Memo<Vec<u8>, Vec<u8>> = Memo::new(256);
    let certified = KEYS.get_or_try(seal_certificate_der.to_vec(), || {
        p256_public_key(seal_certificate_der)
    })?;
    if certified != signer.public_key() {
        return Err(RecordError::CertificateMismatch);
    }
    let sign1 = CoseSign1Builder::new()
        .protected(
            HeaderBuilder::new()
                .algorithm(iana::Algorithm::ES256)
                .build(),
        )
        .unprotected(
            HeaderBuilder::new()
                .key_id(certificate_kid(seal_certificate_der).to_vec())
                .build(),
        )
        .payload(claims.to_cbor()?)
        .try_create_signature(b"", |tbs| signer.sign_fixed(tbs))?
        .build();
    sign1
        .to_tagged_vec()
        .map_err(|e| RecordError::Malformed(e.to_string()))
}

/// A record read but not yet verified: its claims must not be trusted until
/// [`OpenedRecord::verify_with`] succeeds.
#[derive(Clone, Debug)]
pub struct OpenedRecord {
    kid: [u8; KID_LEN],
    claims: LicenseClaims,
    to_be_signed: Vec<u8>,
    signature: Vec<u8>,
}

impl OpenedRecord {
    /// The key identifier, to find the seal certificate.
    pub fn kid(&self) -> &[u8; KID_LEN] {
        &self.kid
    }

    /// The claims, unverified.
    pub fn unverified_claims(&self) -> &LicenseClaims {
        &self.claims
    }

    /// Verifies the signature with the public key of `certificate_der`
    /// (whatever its kid; see [`verify_record`] for the kid-guided search).
    pub fn verify_with(&self, certificate_der: &[u8]) -> Result<(), RecordError> {
        self.verify_with_key(&p256_public_key(certificate_der)?)
    }

    /// Verifies the signature with an uncompressed P-256 point (the key of
    /// [`p256_public_key`], read once per certificate by a verifier).
    pub fn verify_with_key(&self, public_key: &[u8]) -> Result<(), RecordError> {
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, public_key)
            .verify(&self.to_be_signed, &self.signature)
            .map_err(|_| RecordError::BadSignature)
    }

    /// The claims, once verified.
    pub fn into_claims(self) -> LicenseClaims {
        self.claims
    }
}

/// Reads a tagged COSE_Sign1 license record without verifying it.
pub fn open_record(bytes: &[u8]) -> Result<OpenedRecord, RecordError> {
    check_sign1_headers(bytes).map_err(|e| match e {
        HeaderError::Structure(why) => RecordError::Malformed(why),
        other => RecordError::Header(other),
    })?;
    let sign1 =
        CoseSign1::from_tagged_slice(bytes).map_err(|e| RecordError::Malformed(e.to_string()))?;
    let protected = &sign1.protected.header;
    // `crit` and labels in both buckets were refused above (RFC 9052 §3, §3.1).
    match &protected.alg {
        Some(coset::Algorithm::Assigned(iana::Algorithm::ES256)) => {}
        Some(other) => return Err(RecordError::Algorithm(format!("{other:?}"))),
        None if sign1.unprotected.alg.is_some() => {
            return Err(RecordError::Algorithm(
                "named only in the unprotected header".into(),
            ));
        }
        None => return Err(RecordError::Algorithm("missing".into())),
    }
    // The kid may be in either bucket (RFC 9052 §3.1), never in both.
    let kid = if protected.key_id.is_empty() {
        &sign1.unprotected.key_id
    } else {
        &protected.key_id
    };
    let kid: [u8; KID_LEN] = kid.as_slice().try_into().map_err(|_| RecordError::KeyId)?;
    let payload = sign1
        .payload
        .as_deref()
        .ok_or_else(|| RecordError::Malformed("detached payload".into()))?;
    let claims = LicenseClaims::from_cbor(payload)?;
    Ok(OpenedRecord {
        kid,
        claims,
        to_be_signed: sign1.tbs_data(b""),
        signature: sign1.signature,
    })
}

/// Verifies a record against the seal certificates a verifier trusts: every
/// candidate whose kid matches is tried (kids can collide), the certificate
/// that verifies must be the one the claims name ([`SealIdentity::check`]),
/// and the claims are returned with the index of that certificate.
pub fn verify_record(
    bytes: &[u8],
    candidate_certificates: &[Vec<u8>],
) -> Result<(LicenseClaims, usize), RecordError> {
    let record = open_record(bytes)?;
    let mut matched = false;
    for (index, der) in candidate_certificates.iter().enumerate() {
        if certificate_kid(der) != record.kid {
            continue;
        }
        matched = true;
        if record.verify_with(der).is_ok() {
            SealIdentity::of_certificate(der)?.check(&record.claims)?;
            return Ok((record.into_claims(), index));
        }
    }
    if matched {
        Err(RecordError::BadSignature)
    } else {
        Err(RecordError::UnknownKey(record.kid))
    }
}

#[cfg(test)]
#[path = "record_tests.rs"]
mod tests;
