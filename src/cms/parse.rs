//! Reading a `SignedData` back into the facts a verifier checks
//! (RFC 5652 §5.4 message digest and signature, RFC 5035 §5.4 signing
//! certificate, RFC 3161 Appendix A signature time-stamp).

use cms::cert::CertificateChoices;
use cms::signed_data::{SignedData, SignerIdentifier};
use der::asn1::OctetString;
use der::{Decode, Encode};
use x509_cert::Certificate;

use super::attributes::{SigningCertificateV2, single_value};
use super::signed_data::decode_signed_data;
use super::{CmsError, oid};
use const_oid::ObjectIdentifier;

/// How a `SignerInfo` names its certificate (RFC 5652 §5.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignerId {
    /// `issuerAndSerialNumber`: the issuer `Name` (DER) and the serial's
    /// big-endian magnitude bytes.
    IssuerAndSerial {
        /// DER of the issuer `Name`.
        issuer: Vec<u8>,
        /// The serial number, leading zeros stripped.
        serial: Vec<u8>,
    },
    /// `subjectKeyIdentifier`.
    SubjectKeyIdentifier(Vec<u8>),
}

/// The certificate hash of a signing-certificate-v2 attribute (RFC 5035 §4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateHash {
    /// Hash algorithm (SHA-256 when the DEFAULT was omitted).
    pub algorithm: ObjectIdentifier,
    /// Hash of the signer certificate's DER.
    pub hash: Vec<u8>,
}

/// A parsed `SignedData` and its first signer, as a verifier needs them.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ParsedSignedData {
    /// Certificates of the certificates field, DER, in encoded order.
    pub certificates: Vec<Vec<u8>>,
    /// `eContentType`.
    pub content_type: ObjectIdentifier,
    /// `eContent` if encapsulated (a `TSTInfo` in a time-stamp token), or
    /// `None` for a detached signature.
    pub encapsulated_content: Option<Vec<u8>>,
    /// The first signer's identifier.
    pub signer: SignerId,
    /// The signer's digest algorithm.
    pub digest_algorithm: ObjectIdentifier,
    /// The signer's signature algorithm.
    pub signature_algorithm: ObjectIdentifier,
    /// DER of the signed attributes as a SET (tag 0x31): the signed bytes.
    pub signed_attributes: Vec<u8>,
    /// The content-type attribute's value.
    pub content_type_attribute: ObjectIdentifier,
    /// The message-digest attribute's value.
    pub message_digest: Vec<u8>,
    /// Whether a signing-time attribute is present (PAdES forbids it).
    pub has_signing_time: bool,
    /// The first ESSCertIDv2 of the signing-certificate-v2 attribute, if any.
    pub signing_certificate: Option<CertificateHash>,
    /// The signature value.
    pub signature: Vec<u8>,
    /// The first id-aa-timeStampToken unsigned attribute (a DER `ContentInfo`).
    pub timestamp_token: Option<Vec<u8>>,
}

/// Parses a DER `ContentInfo` holding a `SignedData` with signed attributes.
pub fn parse(cms_der: &[u8]) -> Result<ParsedSignedData, CmsError> {
    let signed_data = decode_signed_data(cms_der)?;
    parse_signed_data(&signed_data)
}

fn octets(value: &der::Any, what: &'static str) -> Result<Vec<u8>, CmsError> {
    Ok(value
        .decode_as::<OctetString>()
        .map_err(CmsError::malformed(what))?
        .into_bytes()
        .into_vec())
}

fn parse_signed_data(signed_data: &SignedData) -> Result<ParsedSignedData, CmsError> {
    let info = signed_data
        .signer_infos
        .0
        .get(0)
        .ok_or(CmsError::NoSigner)?;
    let encode = CmsError::encoding;

    let mut certificates = Vec::new();
    for choice in signed_data.certificates.iter().flat_map(|set| set.0.iter()) {
        if let CertificateChoices::Certificate(cert) = choice {
            certificates.push(cert.to_der().map_err(encode("certificate"))?);
        }
    }

    let signer = match &info.sid {
        SignerIdentifier::IssuerAndSerialNumber(isn) => SignerId::IssuerAndSerial {
            issuer: isn.issuer.to_der().map_err(encode("issuer"))?,
            serial: isn.serial_number.as_bytes().to_vec(),
        },
        SignerIdentifier::SubjectKeyIdentifier(ski) => {
            SignerId::SubjectKeyIdentifier(ski.0.as_bytes().to_vec())
        }
    };

    // RFC 5652 §5.3: with signed attributes, content-type and message-digest are required.
    let attrs = info
        .signed_attrs
        .as_ref()
        .ok_or(CmsError::Attribute(oid::MESSAGE_DIGEST))?;
    let content_type_attribute = single_value(attrs, oid::CONTENT_TYPE)?
        .ok_or(CmsError::Attribute(oid::CONTENT_TYPE))?
        .decode_as::<ObjectIdentifier>()
        .map_err(CmsError::malformed("content-type attribute"))?;
    let message_digest = octets(
        single_value(attrs, oid::MESSAGE_DIGEST)?
            .ok_or(CmsError::Attribute(oid::MESSAGE_DIGEST))?,
        "message-digest attribute",
    )?;
    let signing_certificate = match single_value(attrs, oid::SIGNING_CERTIFICATE_V2)? {
        None => None,
        Some(value) => {
            let v2 = value
                .decode_as::<SigningCertificateV2>()
                .map_err(CmsError::malformed("signing-certificate-v2"))?;
            let first = v2
                .certs
                .first()
                .ok_or(CmsError::Attribute(oid::SIGNING_CERTIFICATE_V2))?;
            Some(CertificateHash {
                algorithm: first.hash_algorithm.as_ref().map_or(oid::SHA256, |a| a.oid),
                hash: first.cert_hash.as_bytes().to_vec(),
            })
        }
    };
    let has_signing_time = attrs.iter().any(|a| a.oid == oid::SIGNING_TIME);

    let timestamp_token = info
        .unsigned_attrs
        .iter()
        .flat_map(|set| set.iter())
        .filter(|a| a.oid == oid::TIME_STAMP_TOKEN)
        .flat_map(|a| a.values.iter())
        .next()
        .map(|token| token.to_der().map_err(encode("time-stamp token")))
        .transpose()?;

    let encapsulated_content = signed_data
        .encap_content_info
        .econtent
        .as_ref()
        .map(|c| octets(c, "eContent"))
        .transpose()?;

    Ok(ParsedSignedData {
        certificates,
        content_type: signed_data.encap_content_info.econtent_type,
        encapsulated_content,
        signer,
        digest_algorithm: info.digest_alg.oid,
        signature_algorithm: info.signature_algorithm.oid,
        signed_attributes: attrs.to_der().map_err(encode("signed attributes"))?,
        content_type_attribute,
        message_digest,
        has_signing_time,
        signing_certificate,
        signature: info.signature.as_bytes().to_vec(),
        timestamp_token,
    })
}

impl ParsedSignedData {
    /// The certificate among [`Self::certificates`] that [`Self::signer`] names.
    pub fn signer_certificate(&self) -> Option<&[u8]> {
        self.certificates
            .iter()
            .find(|der| {
                let Ok(cert) = Certificate::from_der(der) else {
                    return false;
                };
                let tbs = cert.tbs_certificate();
                match &self.signer {
                    SignerId::IssuerAndSerial { issuer, serial } => {
                        tbs.serial_number().as_bytes() == serial.as_slice()
                            && tbs.issuer().to_der().ok().as_ref() == Some(issuer)
                    }
                    SignerId::SubjectKeyIdentifier(ski) => tbs
                        .get_extension::<x509_cert::ext::pkix::SubjectKeyIdentifier>()
                        .ok()
                        .flatten()
                        .is_some_and(|(_, id)| id.0.as_bytes() == ski.as_slice()),
                }
            })
            .map(Vec::as_slice)
    }

    /// Checks the signature over [`Self::signed_attributes`] with the public
    /// key of `certificate_der` (RFC 5652 §5.6). Does not check the message
    /// digest, the certificate's validity or its chain.
    pub fn verify_signature(&self, certificate_der: &[u8]) -> Result<(), CmsError> {
        use ring::signature::{ECDSA_P256_SHA256_ASN1, ECDSA_P384_SHA384_ASN1, UnparsedPublicKey};
        let cert =
            Certificate::from_der(certificate_der).map_err(CmsError::malformed("certificate"))?;
        let key = cert
            .tbs_certificate()
            .subject_public_key_info()
            .subject_public_key
            .as_bytes()
            .ok_or(CmsError::BadSignature("public key is not whole octets"))?;
        let algorithm = match self.signature_algorithm {
            oid::ECDSA_WITH_SHA256 => &ECDSA_P256_SHA256_ASN1,
            oid::ECDSA_WITH_SHA384 => &ECDSA_P384_SHA384_ASN1,
            _ => return Err(CmsError::BadSignature("unsupported signature algorithm")),
        };
        UnparsedPublicKey::new(algorithm, key)
            .verify(&self.signed_attributes, &self.signature)
            .map_err(|_| CmsError::BadSignature("ECDSA verification failed"))
    }
}
