//! Building and amending `SignedData` (RFC 5652 §5.1–5.4).

use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use der::asn1::{OctetString, SetOfVec};
use der::{Any, Decode, Encode};
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;

use super::attributes::{SigningCertificateV2, signed_attributes, timestamp_attribute};
use super::{CmsError, DigestAlgorithm, oid};
use crate::keystore::{KeyAlgorithm, Signer};
use const_oid::ObjectIdentifier;

/// What a `SignedData` encapsulates (RFC 5652 §5.2).
pub(crate) struct Encapsulated<'a> {
    /// `eContentType`.
    pub content_type: ObjectIdentifier,
    /// `eContent`, or `None` for a detached signature.
    pub content: Option<&'a [u8]>,
    /// The digest of the content (encapsulated or detached).
    pub digest: &'a [u8],
    /// The algorithm of `digest`; must be the key's signature hash.
    pub digest_algorithm: DigestAlgorithm,
}

/// The digest a key signs CMS with (RFC 5753 §2.1.1): SHA-256 for P-256,
/// SHA-384 for P-384.
pub(crate) fn key_digest(key: KeyAlgorithm) -> Result<DigestAlgorithm, CmsError> {
    key_algorithms(key).map(|(_, digest)| digest)
}

/// The signature algorithm and digest a key signs CMS with (RFC 5753 §2.1.1).
fn key_algorithms(key: KeyAlgorithm) -> Result<(ObjectIdentifier, DigestAlgorithm), CmsError> {
    match key {
        KeyAlgorithm::EcdsaP256 => Ok((oid::ECDSA_WITH_SHA256, DigestAlgorithm::Sha256)),
        KeyAlgorithm::EcdsaP384 => Ok((oid::ECDSA_WITH_SHA384, DigestAlgorithm::Sha384)),
        KeyAlgorithm::Ed25519 => Err(CmsError::UnsupportedKey(key)),
    }
}

/// An AlgorithmIdentifier with absent parameters, as RFC 5754 §2 (SHA-2) and
/// RFC 5758 §3.2 (ECDSA) require.
fn algorithm(oid: ObjectIdentifier) -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid,
        parameters: None,
    }
}

/// A certificate decoded from DER; each is decoded once per process (the
/// seal, CA and TSA certificates go into every signature).
fn certificate(der_bytes: &[u8]) -> Result<Certificate, CmsError> {
    static DECODED: crate::memo::Memo<Vec<u8>, Certificate> = crate::memo::Memo::new(256);
    DECODED.get_or_try(der_bytes.to_vec(), || {
        Certificate::from_der(der_bytes).map_err(CmsError::malformed("certificate"))
    })
}

/// Builds a DER `ContentInfo` holding a `SignedData` with one signer.
///
/// `certificates` are embedded in the certificates field (signer's own first by
/// convention; DER sorts the SET anyway); an empty slice omits the field.
pub(crate) fn build_signed_data(
    content: Encapsulated<'_>,
    signer: &dyn Signer,
    signer_certificate_der: &[u8],
    certificates: &[&[u8]],
) -> Result<Vec<u8>, CmsError> {
    content_info(&signed_data(
        content,
        signer,
        signer_certificate_der,
        certificates,
    )?)
}

/// The `SignedData` of [`build_signed_data`], not yet encoded.
fn signed_data(
    content: Encapsulated<'_>,
    signer: &dyn Signer,
    signer_certificate_der: &[u8],
    certificates: &[&[u8]],
) -> Result<SignedData, CmsError> {
    let (signature_oid, key_digest) = key_algorithms(signer.algorithm())?;
    if content.digest_algorithm != key_digest {
        return Err(CmsError::DigestMismatch {
            key: signer.algorithm(),
            expected: key_digest,
            given: content.digest_algorithm,
        });
    }
    if content.digest.len() != key_digest.output_len() {
        return Err(CmsError::DigestLength {
            algorithm: key_digest,
            len: content.digest.len(),
        });
    }

    let signer_certificate = certificate(signer_certificate_der)?;
    let signing_certificate =
        SigningCertificateV2::for_certificate(signer_certificate_der, &signer_certificate)?;
    let signed_attrs =
        signed_attributes(content.content_type, content.digest, &signing_certificate)?;
    // RFC 5652 §5.4: the signature covers the DER of the attributes as a SET
    // (tag 0x31), not the [0] IMPLICIT form they take inside SignerInfo.
    let to_sign = signed_attrs
        .to_der()
        .map_err(CmsError::encoding("signed attributes"))?;
    let signature = signer.sign(&to_sign)?;

    let tbs = signer_certificate.tbs_certificate();
    let signer_info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: tbs.issuer().clone(),
            serial_number: tbs.serial_number().clone(),
        }),
        digest_alg: algorithm(key_digest.oid()),
        signed_attrs: Some(signed_attrs),
        signature_algorithm: algorithm(signature_oid),
        signature: OctetString::new(signature).map_err(CmsError::encoding("signature"))?,
        unsigned_attrs: None,
    };

    let certificates = if certificates.is_empty() {
        None
    } else {
        let choices = certificates
            .iter()
            .map(|c| certificate(c).map(CertificateChoices::Certificate))
            .collect::<Result<Vec<_>, _>>()?;
        Some(CertificateSet::try_from(choices).map_err(CmsError::encoding("certificates"))?)
    };
    let econtent = content
        .content
        .map(|c| OctetString::new(c).and_then(|o| Any::encode_from(&o)))
        .transpose()
        .map_err(CmsError::encoding("eContent"))?;
    let signed_data = SignedData {
        // RFC 5652 §5.1: v1 for id-data with plain certificates, v3 otherwise.
        version: if content.content_type == oid::DATA {
            CmsVersion::V1
        } else {
            CmsVersion::V3
        },
        digest_algorithms: SetOfVec::try_from(vec![algorithm(key_digest.oid())])
            .map_err(CmsError::encoding("digestAlgorithms"))?,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: content.content_type,
            econtent,
        },
        certificates,
        crls: None,
        signer_infos: SignerInfos::try_from(vec![signer_info])
            .map_err(CmsError::encoding("signerInfos"))?,
    };
    Ok(signed_data)
}

fn content_info(signed_data: &SignedData) -> Result<Vec<u8>, CmsError> {
    ContentInfo {
        content_type: oid::SIGNED_DATA,
        content: Any::encode_from(signed_data).map_err(CmsError::encoding("SignedData"))?,
    }
    .to_der()
    .map_err(CmsError::encoding("ContentInfo"))
}

/// Decodes a DER `ContentInfo` that must hold a `SignedData`.
pub(super) fn decode_signed_data(cms_der: &[u8]) -> Result<SignedData, CmsError> {
    let info = ContentInfo::from_der(cms_der).map_err(CmsError::malformed("ContentInfo"))?;
    if info.content_type != oid::SIGNED_DATA {
        return Err(CmsError::NotSignedData(info.content_type));
    }
    info.content
        .decode_as::<SignedData>()
        .map_err(CmsError::malformed("SignedData"))
}

/// Signs a detached content whose SHA-256 is `content_digest`, as a PAdES B-B
/// `/ETSI.CAdES.detached` signature needs (ETSI EN 319 142-1 §6.3).
///
/// Returns a DER `ContentInfo`. `extra_certificates` (the chain above the
/// signer, DER) go into the certificates field after the signer's. The key
/// must be P-256; a P-384 key signs SHA-384 digests via [`sign_detached_with`].
pub fn sign_detached(
    content_digest: &[u8; 32],
    signer: &dyn Signer,
    signer_certificate_der: &[u8],
    extra_certificates: &[Vec<u8>],
) -> Result<Vec<u8>, CmsError> {
    sign_detached_with(
        DigestAlgorithm::Sha256,
        content_digest,
        signer,
        signer_certificate_der,
        extra_certificates,
    )
}

/// [`sign_detached`] for a digest of any algorithm the key signs with
/// (SHA-256 for P-256, SHA-384 for P-384).
pub fn sign_detached_with(
    digest_algorithm: DigestAlgorithm,
    content_digest: &[u8],
    signer: &dyn Signer,
    signer_certificate_der: &[u8],
    extra_certificates: &[Vec<u8>],
) -> Result<Vec<u8>, CmsError> {
    DetachedSignature::sign(
        digest_algorithm,
        content_digest,
        signer,
        signer_certificate_der,
        extra_certificates,
    )?
    .to_der()
}

/// A detached signature (as [`sign_detached_with`] makes) before it is
/// encoded, so that its signature value can be time-stamped and the token
/// added (B-B to B-T) without decoding and encoding the DER again.
#[derive(Debug)]
pub struct DetachedSignature(SignedData);

impl DetachedSignature {
    /// Signs like [`sign_detached_with`].
    pub fn sign(
        digest_algorithm: DigestAlgorithm,
        content_digest: &[u8],
        signer: &dyn Signer,
        signer_certificate_der: &[u8],
        extra_certificates: &[Vec<u8>],
    ) -> Result<Self, CmsError> {
        let mut certificates: Vec<&[u8]> = vec![signer_certificate_der];
        certificates.extend(extra_certificates.iter().map(Vec::as_slice));
        Ok(DetachedSignature(signed_data(
            Encapsulated {
                content_type: oid::DATA,
                content: None,
                digest: content_digest,
                digest_algorithm,
            },
            signer,
            signer_certificate_der,
            &certificates,
        )?))
    }

    /// The signature octets, as [`signature_value`] reads them.
    pub fn signature_value(&self) -> Result<&[u8], CmsError> {
        Ok(first_signer(&self.0)?.signature.as_bytes())
    }

    /// Adds a signature time-stamp, as [`add_signature_timestamp`] does.
    pub fn add_timestamp(&mut self, timestamp_token_der: &[u8]) -> Result<(), CmsError> {
        insert_timestamp(&mut self.0, timestamp_token_der)
    }

    /// The DER `ContentInfo`.
    pub fn to_der(&self) -> Result<Vec<u8>, CmsError> {
        content_info(&self.0)
    }
}

fn first_signer(signed_data: &SignedData) -> Result<&SignerInfo, CmsError> {
    signed_data.signer_infos.0.get(0).ok_or(CmsError::NoSigner)
}

/// The signature octets of the first `SignerInfo`: what a signature
/// time-stamp's message imprint hashes (ETSI EN 319 122-1 §5.3, RFC 3161 App. A).
pub fn signature_value(cms_der: &[u8]) -> Result<Vec<u8>, CmsError> {
    let signed_data = decode_signed_data(cms_der)?;
    Ok(first_signer(&signed_data)?.signature.as_bytes().to_vec())
}

/// Adds `timestamp_token_der` (a DER `ContentInfo`) as the unsigned attribute
/// id-aa-timeStampToken of the first `SignerInfo`, turning B-B into B-T
/// (ETSI EN 319 122-1 §5.3). A token already there stays; the new one is added.
pub fn add_signature_timestamp(
    cms_der: &[u8],
    timestamp_token_der: &[u8],
) -> Result<Vec<u8>, CmsError> {
    let mut signed_data = decode_signed_data(cms_der)?;
    insert_timestamp(&mut signed_data, timestamp_token_der)?;
    content_info(&signed_data)
}

/// Adds the token as id-aa-timeStampToken to the first `SignerInfo`'s
/// unsigned attributes.
fn insert_timestamp(
    signed_data: &mut SignedData,
    timestamp_token_der: &[u8],
) -> Result<(), CmsError> {
    let attribute = timestamp_attribute(timestamp_token_der)?;
    let mut signers = std::mem::take(&mut signed_data.signer_infos.0).into_vec();
    let first = signers.first_mut().ok_or(CmsError::NoSigner)?;
    let mut unsigned = first.unsigned_attrs.take().unwrap_or_default();
    unsigned
        .insert(attribute)
        .map_err(CmsError::encoding("unsigned attributes"))?;
    first.unsigned_attrs = Some(unsigned);
    signed_data.signer_infos =
        SignerInfos::try_from(signers).map_err(CmsError::encoding("signerInfos"))?;
    Ok(())
}
