//! Reading a `SignedData` back into the facts a verifier checks
//! (RFC 5652 §5.4 message digest and signature, with the algorithms of
//! [`super::algorithm`]; the ESS signing certificate, v2 of RFC 5035 §3 or
//! v1 of RFC 2634 §5.4; RFC 3161 Appendix A signature time-stamp).

use cms::cert::CertificateChoices;
use cms::signed_data::{SignedData, SignerIdentifier};
use der::asn1::OctetString;
use der::{Decode, Encode};
use x509_cert::Certificate;

use super::algorithm;
use super::attributes::{SigningCertificate, SigningCertificateV2, single_value};
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

/// Which ESS attribute names the signer's certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EssAttribute {
    /// signing-certificate (RFC 2634 §5.4): a SHA-1 hash.
    V1,
    /// signing-certificate-v2 (RFC 5035 §3): a hash of any algorithm.
    V2,
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
    /// The DER of the signature algorithm's parameters, if present
    /// (`RSASSA-PSS-params` for id-RSASSA-PSS, RFC 4055 §3.1).
    pub signature_parameters: Option<Vec<u8>>,
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
    /// The SHA-1 hash of the first ESSCertID of the signing-certificate (v1)
    /// attribute, if any (RFC 2634 §5.4.1).
    pub signing_certificate_v1: Option<Vec<u8>>,
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
    let signing_certificate_v1 = match single_value(attrs, oid::SIGNING_CERTIFICATE)? {
        None => None,
        Some(value) => {
            let v1 = value
                .decode_as::<SigningCertificate>()
                .map_err(CmsError::malformed("signing-certificate"))?;
            let first = v1
                .certs
                .first()
                .ok_or(CmsError::Attribute(oid::SIGNING_CERTIFICATE))?;
            Some(first.cert_hash.as_bytes().to_vec())
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
        signature_parameters: info
            .signature_algorithm
            .parameters
            .as_ref()
            .map(|p| p.to_der().map_err(encode("signature parameters")))
            .transpose()?,
        signed_attributes: attrs.to_der().map_err(encode("signed attributes"))?,
        content_type_attribute,
        message_digest,
        has_signing_time,
        signing_certificate,
        signing_certificate_v1,
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
    /// key of `certificate_der` (RFC 5652 §5.6), with ECDSA, RSASSA-PKCS1-v1_5
    /// (RFC 8017 §8.2) or RSASSA-PSS (RFC 8017 §8.1, any salt length the
    /// parameters state) as the `algorithm` module chooses; [`CmsError::UnsupportedAlgorithm`] when none applies. Does
    /// not check the message digest, the certificate's validity or its chain.
    pub fn verify_signature(&self, certificate_der: &[u8]) -> Result<(), CmsError> {
        let cert =
            Certificate::from_der(certificate_der).map_err(CmsError::malformed("certificate"))?;
        let parameters = self
            .signature_parameters
            .as_deref()
            .map(der::Any::from_der)
            .transpose()
            .map_err(CmsError::malformed("signature algorithm parameters"))?;
        let verifier = algorithm::verifier(
            self.signature_algorithm,
            parameters.as_ref(),
            self.digest_algorithm,
            &cert,
        )?;
        verifier.verify(&self.signed_attributes, &self.signature)
    }

    /// Checks that the ESS signing-certificate attributes present, v2
    /// (RFC 5035 §3) and v1 (RFC 2634 §5.4), name `certificate_der` by its
    /// hash, and returns which did: none if neither is present. An attribute
    /// naming another certificate is [`CmsError::BadSignature`]; a hash this
    /// verifier cannot compute is [`CmsError::UnsupportedAlgorithm`].
    pub fn check_signing_certificate(
        &self,
        certificate_der: &[u8],
    ) -> Result<Vec<EssAttribute>, CmsError> {
        use ring::digest::{SHA1_FOR_LEGACY_USE_ONLY, digest};
        let mut named = Vec::new();
        if let Some(v2) = &self.signing_certificate {
            let hash = match v2.algorithm {
                // Only identifies a certificate the signature also covers.
                oid::SHA1 => digest(&SHA1_FOR_LEGACY_USE_ONLY, certificate_der)
                    .as_ref()
                    .to_vec(),
                other => super::DigestAlgorithm::from_oid(&other)
                    .ok_or_else(|| CmsError::UnsupportedAlgorithm {
                        algorithm: other,
                        why: "as the signing-certificate-v2 hash".into(),
                    })?
                    .digest(certificate_der),
            };
            if hash != v2.hash {
                return Err(CmsError::BadSignature(
                    "signing-certificate-v2 names another certificate",
                ));
            }
            named.push(EssAttribute::V2);
        }
        if let Some(v1) = &self.signing_certificate_v1 {
            // RFC 2634 §5.4.1: certHash is the SHA-1 hash of the whole certificate.
            if digest(&SHA1_FOR_LEGACY_USE_ONLY, certificate_der).as_ref() != v1.as_slice() {
                return Err(CmsError::BadSignature(
                    "signing-certificate (ESS v1) names another certificate",
                ));
            }
            named.push(EssAttribute::V1);
        }
        Ok(named)
    }
}
