//! The signed attributes of a govseal `SignerInfo` (RFC 5652 §5.3, §11) and
//! the ESS signing-certificate attributes, v2 (RFC 5035 §3) and v1
//! (RFC 2634 §5.4, still written in RFC 3161 tokens), which the `cms` crate
//! does not provide.

use der::asn1::{OctetString, SetOfVec};
use der::{Any, Sequence};
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::certpolicy::PolicyInformation;
use x509_cert::ext::pkix::name::{GeneralName, GeneralNames};
use x509_cert::serial_number::SerialNumber;

use super::{CmsError, oid};
use const_oid::ObjectIdentifier;

/// `SigningCertificateV2` (RFC 5035 §3).
///
/// ```text
/// SigningCertificateV2 ::=  SEQUENCE {
///     certs        SEQUENCE OF ESSCertIDv2,
///     policies     SEQUENCE OF PolicyInformation OPTIONAL
/// }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct SigningCertificateV2 {
    /// The signer's certificate first, optionally others after it.
    pub certs: Vec<EssCertIdV2>,
    /// Policies the certificates must satisfy; govseal writes none.
    #[asn1(optional = "true")]
    pub policies: Option<Vec<PolicyInformation>>,
}

/// `ESSCertIDv2` (RFC 5035 §4).
///
/// ```text
/// ESSCertIDv2 ::=  SEQUENCE {
///     hashAlgorithm           AlgorithmIdentifier
///            DEFAULT {algorithm id-sha256},
///     certHash                 Hash,
///     issuerSerial             IssuerSerial OPTIONAL
/// }
/// Hash ::= OCTET STRING
/// ```
///
/// DER omits a DEFAULT value, so a SHA-256 hash has `hash_algorithm: None`.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct EssCertIdV2 {
    /// The hash algorithm when it is not SHA-256.
    #[asn1(optional = "true")]
    pub hash_algorithm: Option<AlgorithmIdentifierOwned>,
    /// The hash of the whole certificate DER.
    pub cert_hash: OctetString,
    /// Issuer and serial number of the certificate.
    #[asn1(optional = "true")]
    pub issuer_serial: Option<IssuerSerial>,
}

/// `SigningCertificate` (RFC 2634 §5.4), read but never written by govseal.
///
/// ```text
/// SigningCertificate ::=  SEQUENCE {
///     certs        SEQUENCE OF ESSCertID,
///     policies     SEQUENCE OF PolicyInformation OPTIONAL
/// }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct SigningCertificate {
    /// The signer's certificate first, optionally others after it.
    pub certs: Vec<EssCertId>,
    /// Policies the certificates must satisfy.
    #[asn1(optional = "true")]
    pub policies: Option<Vec<PolicyInformation>>,
}

/// `ESSCertID` (RFC 2634 §5.4.1).
///
/// ```text
/// ESSCertID ::=  SEQUENCE {
///      certHash                 Hash,   -- SHA-1 hash of entire certificate
///      issuerSerial             IssuerSerial OPTIONAL
/// }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct EssCertId {
    /// The SHA-1 hash of the whole certificate DER.
    pub cert_hash: OctetString,
    /// Issuer and serial number of the certificate.
    #[asn1(optional = "true")]
    pub issuer_serial: Option<IssuerSerial>,
}

/// `IssuerSerial` (RFC 5035 §4).
///
/// ```text
/// IssuerSerial ::= SEQUENCE {
///     issuer                   GeneralNames,
///     serialNumber             CertificateSerialNumber
/// }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct IssuerSerial {
    /// The issuer's name as a `directoryName`.
    pub issuer: GeneralNames,
    /// The certificate's serial number.
    pub serial_number: SerialNumber,
}

impl SigningCertificateV2 {
    /// The attribute value naming `certificate` by SHA-256 hash, issuer and serial.
    pub fn for_certificate(
        certificate_der: &[u8],
        certificate: &Certificate,
    ) -> Result<Self, CmsError> {
        let hash = ring::digest::digest(&ring::digest::SHA256, certificate_der);
        let tbs = certificate.tbs_certificate();
        Ok(SigningCertificateV2 {
            certs: vec![EssCertIdV2 {
                hash_algorithm: None,
                cert_hash: OctetString::new(hash.as_ref())
                    .map_err(CmsError::encoding("ESSCertIDv2"))?,
                issuer_serial: Some(IssuerSerial {
                    issuer: vec![GeneralName::DirectoryName(tbs.issuer().clone())],
                    serial_number: tbs.serial_number().clone(),
                }),
            }],
            policies: None,
        })
    }
}

/// A single-valued attribute.
fn attribute(
    oid: ObjectIdentifier,
    value: &(impl der::EncodeValue + der::Tagged),
) -> Result<Attribute, CmsError> {
    let value = Any::encode_from(value).map_err(CmsError::encoding("attribute value"))?;
    let values = SetOfVec::try_from(vec![value]).map_err(CmsError::encoding("attribute"))?;
    Ok(Attribute { oid, values })
}

/// The signed attributes, exactly: content-type, message-digest and
/// signing-certificate-v2 (ETSI EN 319 122-1 §5.2.1–5.2.2, no signing-time
/// for PAdES). Sorted as DER requires of a SET OF.
pub(crate) fn signed_attributes(
    content_type: ObjectIdentifier,
    digest: &[u8],
    signing_certificate: &SigningCertificateV2,
) -> Result<SetOfVec<Attribute>, CmsError> {
    let digest = OctetString::new(digest).map_err(CmsError::encoding("message-digest"))?;
    SetOfVec::try_from(vec![
        attribute(oid::CONTENT_TYPE, &content_type)?,
        attribute(oid::MESSAGE_DIGEST, &digest)?,
        attribute(oid::SIGNING_CERTIFICATE_V2, signing_certificate)?,
    ])
    .map_err(CmsError::encoding("signed attributes"))
}

/// The unsigned attribute id-aa-timeStampToken holding `token` (a DER `ContentInfo`).
pub(crate) fn timestamp_attribute(token_der: &[u8]) -> Result<Attribute, CmsError> {
    use der::Decode;
    // Decoding as ContentInfo checks the token is one before it is embedded.
    let token = cms::content_info::ContentInfo::from_der(token_der)
        .map_err(CmsError::malformed("time-stamp token"))?;
    let token = Any::encode_from(&token).map_err(CmsError::encoding("time-stamp token"))?;
    let values = SetOfVec::try_from(vec![token]).map_err(CmsError::encoding("attribute"))?;
    Ok(Attribute {
        oid: oid::TIME_STAMP_TOKEN,
        values,
    })
}

/// The only value of attribute `oid` in `attributes`, if it is there exactly once
/// with exactly one value.
pub(crate) fn single_value(
    attributes: &SetOfVec<Attribute>,
    oid: ObjectIdentifier,
) -> Result<Option<&Any>, CmsError> {
    let mut found = attributes.iter().filter(|a| a.oid == oid);
    match (found.next(), found.next()) {
        (None, _) => Ok(None),
        (Some(a), None) if a.values.len() == 1 => Ok(a.values.get(0)),
        _ => Err(CmsError::Attribute(oid)),
    }
}
