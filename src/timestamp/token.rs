//! Reading a `TimeStampToken` (RFC 3161 §2.4.2) and checking its signature
//! as §2.4.2 and RFC 5816 §2.2.1 ask (content type, message digest, ESS
//! signing-certificate v1 or v2, and the ECDSA or RSA signature).

use der::Decode;
use time::OffsetDateTime;

use super::asn1::TstInfo;
use super::{TimestampError, der_error};
use crate::cms::{self, CmsError, DigestAlgorithm, ParsedSignedData};
use const_oid::ObjectIdentifier;

/// What a time-stamp token says, and the CMS to check it with.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct TimeStampTokenInfo {
    /// `genTime`.
    pub gen_time: OffsetDateTime,
    /// The imprint's hash algorithm.
    pub hash_algorithm: ObjectIdentifier,
    /// The imprint's hash.
    pub hashed_message: Vec<u8>,
    /// `serialNumber`, the INTEGER's content octets.
    pub serial: Vec<u8>,
    /// `policy`.
    pub policy: ObjectIdentifier,
    /// `nonce`, the INTEGER's content octets.
    pub nonce: Option<Vec<u8>>,
    /// `accuracy` in whole seconds plus fraction, if stated.
    pub accuracy: Option<time::Duration>,
    /// Certificates embedded in the token (DER).
    pub certificates: Vec<Vec<u8>>,
    /// The DER `TSTInfo` (what the message-digest attribute covers).
    pub tst_info: Vec<u8>,
    /// The token's `SignedData`, for signature checks.
    pub signed_data: ParsedSignedData,
}

/// Parses a DER `TimeStampToken` (a `ContentInfo`). Does not verify it: see
/// [`TimeStampTokenInfo::verify_signature`].
pub fn parse_token(token_der: &[u8]) -> Result<TimeStampTokenInfo, TimestampError> {
    let signed_data = cms::parse(token_der)?;
    if signed_data.content_type != cms::oid::TST_INFO {
        return Err(TimestampError::NotAToken(
            "eContentType is not id-ct-TSTInfo",
        ));
    }
    let tst_der = signed_data
        .encapsulated_content
        .clone()
        .ok_or(TimestampError::NotAToken("no encapsulated TSTInfo"))?;
    let tst = TstInfo::from_der(&tst_der).map_err(der_error("TSTInfo"))?;
    if tst.version != 1 {
        return Err(TimestampError::NotAToken("TSTInfo version is not 1"));
    }
    let seconds = i64::try_from(tst.gen_time.to_unix_duration().as_secs())
        .map_err(|_| TimestampError::NotAToken("genTime out of range"))?;
    let gen_time = OffsetDateTime::from_unix_timestamp(seconds)
        .map_err(|_| TimestampError::NotAToken("genTime out of range"))?;
    let accuracy = tst.accuracy.map(|a| {
        time::Duration::seconds(i64::from(a.seconds.unwrap_or(0)))
            + time::Duration::milliseconds(i64::from(a.millis.unwrap_or(0)))
            + time::Duration::microseconds(i64::from(a.micros.unwrap_or(0)))
    });
    Ok(TimeStampTokenInfo {
        gen_time,
        hash_algorithm: tst.message_imprint.hash_algorithm.oid,
        hashed_message: tst.message_imprint.hashed_message.as_bytes().to_vec(),
        serial: tst.serial_number.as_bytes().to_vec(),
        policy: tst.policy,
        nonce: tst.nonce.map(|n| n.as_bytes().to_vec()),
        accuracy,
        certificates: signed_data.certificates.clone(),
        tst_info: tst_der,
        signed_data,
    })
}

impl TimeStampTokenInfo {
    /// Checks that the token was signed by the key of `tsa_certificate_der`:
    /// the content-type attribute is id-ct-TSTInfo, the message digest is the
    /// TSTInfo's, an ESS signing-certificate attribute names this certificate
    /// (v1 of RFC 2634 §5.4 as RFC 3161 §2.4.2 asks, or v2 as RFC 5816 §2.2.1
    /// allows; every one present must), and the signature verifies (ECDSA,
    /// RSASSA-PKCS1-v1_5 or RSASSA-PSS, also with plain `rsaEncryption` as
    /// OpenSSL writes it). The certificate's chain, validity at `gen_time`
    /// and EKU are the caller's to check.
    pub fn verify_signature(&self, tsa_certificate_der: &[u8]) -> Result<(), TimestampError> {
        let sd = &self.signed_data;
        if sd.content_type_attribute != cms::oid::TST_INFO {
            return Err(CmsError::Attribute(cms::oid::CONTENT_TYPE).into());
        }
        let digest = DigestAlgorithm::from_oid(&sd.digest_algorithm)
            .ok_or(TimestampError::UnsupportedHash(sd.digest_algorithm))?;
        if digest.digest(&self.tst_info) != sd.message_digest {
            return Err(CmsError::BadSignature("message digest does not match the TSTInfo").into());
        }
        if sd
            .check_signing_certificate(tsa_certificate_der)?
            .is_empty()
        {
            return Err(CmsError::Attribute(cms::oid::SIGNING_CERTIFICATE_V2).into());
        }
        Ok(sd.verify_signature(tsa_certificate_der)?)
    }
}
