//! The PAdES engine: bytes in, signed bytes out (ETSI EN 319 142-1).
//!
//! It composes the PDF incremental-update writer ([`crate::pdf`]), the CMS
//! builder ([`crate::cms`]) and a time-stamping authority into the baseline
//! levels of ETSI EN 319 142-1 §6:
//!
//! - **B-B**: a CMS SignedData, detached, `SubFilter /ETSI.CAdES.detached`,
//!   signed attributes content-type, message-digest, signing-certificate-v2;
//!   the claimed time in the signature dictionary's `/M` (§6.2.1, no
//!   signing-time attribute).
//! - **B-T**: plus a signature time-stamp (id-aa-timeStampToken over the
//!   signature value, §6.3 / ETSI EN 319 122-1 §5.3).
//! - **B-LT**: plus a `/DSS` with every certificate and CRL needed to validate
//!   the signature and its time-stamp offline (§6.4, §5.4.2).
//! - **B-LTA**: plus a document time-stamp (`/SubFilter /ETSI.RFC3161`, §6.5)
//!   over the whole document including the DSS.

use std::fmt;
use std::str::FromStr;

use time::OffsetDateTime;

use crate::keystore::Signer;
use crate::pdf::{self, PdfError, SignatureKind, SignatureRequest};

#[cfg(test)]
mod tests;

/// Bytes reserved for a CAdES signature with its time-stamp token when its
/// size cannot be bounded in advance (a TSA that gives no bound), and the
/// fallback when the bound was too small.
const CADES_CAPACITY: usize = 16 * 1024;
/// Bytes of a CAdES signature beyond its certificates and time-stamp token:
/// SignedData and SignerInfo structure, signed attributes (content type,
/// message digest, signing certificate v2), the signature value.
const CADES_OVERHEAD: usize = 2 * 1024;
/// Bytes reserved for a document time-stamp token.
const DOC_TIMESTAMP_CAPACITY: usize = 8 * 1024;

/// A PAdES baseline level (ETSI EN 319 142-1 §6).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Level {
    /// B-B
    #[serde(rename = "B-B")]
    BB,
    /// B-T
    #[serde(rename = "B-T")]
    BT,
    /// B-LT (the default)
    #[serde(rename = "B-LT")]
    BLT,
    /// B-LTA
    #[serde(rename = "B-LTA")]
    BLTA,
}

impl Level {
    /// The level's name, e.g. `B-LT`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::BB => "B-B",
            Level::BT => "B-T",
            Level::BLT => "B-LT",
            Level::BLTA => "B-LTA",
        }
    }
}

impl FromStr for Level {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_uppercase().as_str() {
            "B-B" => Ok(Level::BB),
            "B-T" => Ok(Level::BT),
            "B-LT" => Ok(Level::BLT),
            "B-LTA" => Ok(Level::BLTA),
            _ => Err(format!(
                "{s:?} is not a PAdES level; use B-B, B-T, B-LT or B-LTA"
            )),
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something that returns an RFC 3161 TimeStampToken (DER ContentInfo) for a SHA-256 digest.
pub trait TimeStamper: Send + Sync {
    /// Time-stamps `sha256_digest`.
    fn timestamp(&self, sha256_digest: &[u8; 32]) -> Result<Vec<u8>, String>;

    /// An upper bound on the length of a token, if the TSA knows one: the
    /// signature's `/Contents` then reserves about what it needs instead of
    /// `CADES_CAPACITY` (16 KB of hex zeros in every signed PDF).
    fn token_len_bound(&self) -> Option<usize> {
        None
    }
}

/// The signing key with its certificate and chain (DER, signer first excluded).
pub struct SigningIdentity<'a> {
    /// The seal's key.
    pub signer: &'a dyn Signer,
    /// The seal certificate, DER.
    pub certificate: &'a [u8],
    /// The CA certificates above it, DER.
    pub chain: &'a [Vec<u8>],
}

/// The visible seal.
pub struct Placement {
    /// Page, from 1.
    pub page: u32,
    /// Widget rectangle `[x1 y1 x2 y2]` in points.
    pub rect: [f32; 4],
    /// A one-page PDF drawn in the rectangle.
    pub appearance: Vec<u8>,
}

/// One signing operation.
pub struct PadesRequest {
    /// The level to reach.
    pub level: Level,
    /// Name of the new signature field.
    pub field_name: String,
    /// The visible seal, or None for an invisible signature.
    pub placement: Option<Placement>,
    /// `/Reason`.
    pub reason: Option<String>,
    /// `/Name` (the seal's name).
    pub name: Option<String>,
    /// `/Location`.
    pub location: Option<String>,
    /// `/M`.
    pub signing_time: OffsetDateTime,
}

/// Certificates and CRLs for the DSS (B-LT and above).
#[derive(Clone, Debug, Default)]
pub struct ValidationData {
    /// Certificates, DER.
    pub certificates: Vec<Vec<u8>>,
    /// CRLs, DER.
    pub crls: Vec<Vec<u8>>,
}

/// Why signing failed.
#[derive(Debug, thiserror::Error)]
pub enum PadesError {
    /// The input PDF cannot be signed (the message says why; a client error).
    #[error(transparent)]
    Pdf(#[from] PdfError),
    /// Building the CMS failed.
    #[error("CMS: {0}")]
    Cms(#[from] crate::cms::CmsError),
    /// The level needs a time-stamp but no TSA was given, or the TSA failed.
    #[error("time-stamping failed: {0}")]
    Timestamp(String),
}

/// Signs `pdf` at `request.level`.
///
/// The `/Contents` placeholder is sized from the certificates and the TSA's
/// bound on its tokens ([`TimeStamper::token_len_bound`]); should the
/// signature still not fit, it is made again with `CADES_CAPACITY`.
pub fn sign(
    pdf: &[u8],
    request: &PadesRequest,
    identity: &SigningIdentity<'_>,
    tsa: Option<&dyn TimeStamper>,
    validation: &ValidationData,
) -> Result<Vec<u8>, PadesError> {
    let snug = snug_capacity(identity, tsa, request.level);
    match sign_within(pdf, request, identity, tsa, validation, snug) {
        // Only the CAdES signature's own reservation is retried (not, say,
        // a B-LTA document time-stamp's).
        Err(PadesError::Pdf(PdfError::SignatureTooLarge { capacity, .. }))
            if capacity == snug && snug < CADES_CAPACITY =>
        {
            sign_within(pdf, request, identity, tsa, validation, CADES_CAPACITY)
        }
        other => other,
    }
}

/// The `/Contents` capacity a CAdES signature of `identity` at `level`
/// needs at most.
fn snug_capacity(
    identity: &SigningIdentity<'_>,
    tsa: Option<&dyn TimeStamper>,
    level: Level,
) -> usize {
    let certificates =
        identity.certificate.len() + identity.chain.iter().map(Vec::len).sum::<usize>();
    let token = if level >= Level::BT {
        match tsa.and_then(TimeStamper::token_len_bound) {
            Some(bound) => bound,
            None => return CADES_CAPACITY,
        }
    } else {
        0
    };
    (certificates + token + CADES_OVERHEAD).min(CADES_CAPACITY)
}

fn sign_within(
    pdf: &[u8],
    request: &PadesRequest,
    identity: &SigningIdentity<'_>,
    tsa: Option<&dyn TimeStamper>,
    validation: &ValidationData,
    capacity: usize,
) -> Result<Vec<u8>, PadesError> {
    let (page, rect, appearance) = match &request.placement {
        Some(p) => (p.page, Some(p.rect), Some(p.appearance.clone())),
        None => (1, None, None),
    };
    let prepared = pdf::prepare(
        pdf,
        &SignatureRequest {
            field_name: request.field_name.clone(),
            page,
            rect,
            appearance,
            reason: request.reason.clone(),
            name: request.name.clone(),
            location: request.location.clone(),
            signing_time: request.signing_time,
            kind: SignatureKind::Cades,
            contents_capacity: capacity,
        },
    )?;
    let mut signature = crate::cms::DetachedSignature::sign(
        crate::cms::DigestAlgorithm::Sha256,
        &prepared.digest(),
        identity.signer,
        identity.certificate,
        identity.chain,
    )?;
    if request.level >= Level::BT {
        let tsa = tsa.ok_or_else(|| PadesError::Timestamp("no time-stamping authority".into()))?;
        let digest = sha256(signature.signature_value()?);
        let token = tsa.timestamp(&digest).map_err(PadesError::Timestamp)?;
        signature.add_timestamp(&token)?;
    }
    let cms = signature.to_der()?;
    let mut out = if request.level >= Level::BLT {
        let (signed, state) = prepared.finish_continuing(&cms)?;
        pdf::append_dss_continuing(&signed, state, &validation.certificates, &validation.crls)?
    } else {
        prepared.finish(&cms)?
    };
    if request.level >= Level::BLTA {
        out = document_timestamp(&out, &format!("{}-ts", request.field_name), tsa)?;
    }
    Ok(out)
}

/// Appends a document time-stamp (ETSI EN 319 142-1 §5.4.3) to `pdf`.
pub fn document_timestamp(
    pdf: &[u8],
    field_name: &str,
    tsa: Option<&dyn TimeStamper>,
) -> Result<Vec<u8>, PadesError> {
    let tsa = tsa.ok_or_else(|| PadesError::Timestamp("no time-stamping authority".into()))?;
    let prepared = pdf::prepare(
        pdf,
        &SignatureRequest::invisible(
            field_name,
            SignatureKind::DocumentTimestamp,
            OffsetDateTime::now_utc(),
            DOC_TIMESTAMP_CAPACITY,
        ),
    )?;
    let token = tsa
        .timestamp(&prepared.digest())
        .map_err(PadesError::Timestamp)?;
    Ok(prepared.finish(&token)?)
}

/// govseal's own TSA signs in-process.
impl TimeStamper for crate::timestamp::TimeStampAuthority {
    fn timestamp(&self, sha256_digest: &[u8; 32]) -> Result<Vec<u8>, String> {
        self.stamp(
            crate::cms::oid::SHA256,
            sha256_digest,
            None,
            true,
            OffsetDateTime::now_utc(),
        )
        .map_err(|e| e.to_string())
    }

    fn token_len_bound(&self) -> Option<usize> {
        Some(self.token_len_bound())
    }
}

fn sha256(data: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, data).as_ref());
    out
}
