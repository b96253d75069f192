//! `LicenseClaims` — the claims a license's signed record (and its QR code)
//! carries: a CBOR map in the style of a CBOR Web Token (RFC 8392 §3).
//!
//! Registered claims (RFC 8392 §3.1, integer keys, NumericDate = whole
//! seconds since the epoch, RFC 8392 §2):
//!
//! | key | claim | value |
//! |----:|-------|-------|
//! | 1 | `iss` | the issuing department's USCC (GB 32100), text |
//! | 4 | `exp` | end of validity, optional (long-term licenses, 长期, have none) |
//! | 5 | `nbf` | start of validity, optional |
//! | 6 | `iat` | time of issue |
//!
//! Private claims (RFC 8392 §3: "private" names, kept to two characters
//! because every byte costs QR modules):
//!
//! | key | claim | value |
//! |-----|-------|-------|
//! | `"id"` | license identifier (GB/T 36904, [`LicenseId`]) | text |
//! | `"hn"` | holder name (持证主体) | text |
//! | `"hi"` | holder identifier: a resident ID masked as [`ResidentId::masked`], or a USCC in full | text |
//! | `"in"` | issuing department's name | text |
//! | `"sc"` | seal code of the seal that signed | text |
//! | `"st"` | status at issue: `"valid"`, `"suspended"`, `"revoked"`, `"expired"` | text |
//! | `"f"`  | the license type's summary fields (照面信息), field code → value, in display order | map text → text |
//!
//! The license type code and version are not repeated: they are parts of the
//! license identifier ([`LicenseClaims::type_code`], [`LicenseClaims::version`]),
//! and a record that stated them twice could contradict itself. `iss` does
//! repeat the identifier's issuer because RFC 8392 verifiers expect it; it is
//! written from the identifier and decoding refuses a record where they differ.
//!
//! The outer map is written in the core deterministic order of RFC 8949
//! §4.2.1; the field map keeps the license type's display order (a verifier
//! shows the fields as signed). Unknown claims are ignored when reading
//! (RFC 8392 §3 lets a consumer ignore claims it does not understand), but a
//! duplicated key is refused (RFC 8949 §5.6).

use std::fmt;

use ciborium::Value;
use time::OffsetDateTime;

use super::cbor::{self, as_i64, same_item};
use crate::identity::{ResidentId, Uscc};
use crate::license::identifier::LicenseId;

const ISS: i64 = 1;
const EXP: i64 = 4;
const NBF: i64 = 5;
const IAT: i64 = 6;
const LICENSE_ID: &str = "id";
const HOLDER_NAME: &str = "hn";
const HOLDER_ID: &str = "hi";
const ISSUER_NAME: &str = "in";
const SEAL_CODE: &str = "sc";
const STATUS: &str = "st";
const FIELDS: &str = "f";

/// Why claims could not be written or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClaimsError {
    /// The bytes are not one well-formed CBOR data item.
    #[error("the claims are not well-formed CBOR: {0}")]
    Cbor(String),
    /// The CBOR item is not a map.
    #[error("the claims must be a CBOR map")]
    NotAMap,
    /// A required claim is absent.
    #[error("the claim {0:?} is missing")]
    Missing(&'static str),
    /// A claim has the wrong type or an invalid value.
    #[error("the claim {0:?} has an invalid value")]
    Invalid(&'static str),
    /// A map key appears twice (RFC 8949 §5.6).
    #[error("the key {0:?} appears twice")]
    DuplicateKey(String),
    /// `iss` is not the issuer named in the license identifier.
    #[error("the issuer (iss) differs from the issuer in the license identifier")]
    IssuerMismatch,
}

/// A license's status when the record was signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StatusAtIssue {
    /// 有效.
    Valid,
    /// 暂停.
    Suspended,
    /// 注销/吊销.
    Revoked,
    /// 过期.
    Expired,
}

impl StatusAtIssue {
    /// The claim value.
    pub fn as_str(self) -> &'static str {
        match self {
            StatusAtIssue::Valid => "valid",
            StatusAtIssue::Suspended => "suspended",
            StatusAtIssue::Revoked => "revoked",
            StatusAtIssue::Expired => "expired",
        }
    }

    /// Parses [`StatusAtIssue::as_str`] back.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Valid, Self::Suspended, Self::Revoked, Self::Expired]
            .into_iter()
            .find(|status| status.as_str() == s)
    }
}

/// The holder's identifier as it may be shown in public: a resident ID
/// (公民身份号码) masked to its first 3 and last 4 characters, or a company's
/// USCC (统一社会信用代码) in full.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MaskedHolderId(String);

impl MaskedHolderId {
    /// The text shown.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Accepts a USCC, or text shaped like [`ResidentId::masked`]; refuses an
    /// unmasked resident ID so a record can never leak one.
    pub fn parse(s: &str) -> Option<Self> {
        if s.parse::<Uscc>().is_ok() {
            return Some(MaskedHolderId(s.to_string()));
        }
        let b = s.as_bytes();
        let masked = b.len() == 18
            && b[..3].iter().all(u8::is_ascii_digit)
            && b[3..14].iter().all(|&c| c == b'*')
            && b[14..17].iter().all(u8::is_ascii_digit)
            && (b[17].is_ascii_digit() || b[17] == b'X');
        masked.then(|| MaskedHolderId(s.to_string()))
    }
}

impl From<&ResidentId> for MaskedHolderId {
    fn from(id: &ResidentId) -> Self {
        MaskedHolderId(id.masked())
    }
}

impl From<&Uscc> for MaskedHolderId {
    fn from(uscc: &Uscc) -> Self {
        MaskedHolderId(uscc.as_str().to_string())
    }
}

impl fmt::Display for MaskedHolderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The claims of a license's signed record. Times are kept to whole seconds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LicenseClaims {
    /// The license identifier; it also names the type, issuer and version.
    pub license_id: LicenseId,
    /// The issuing department's name.
    pub issuer_name: String,
    /// The seal code of the seal whose key signs the record.
    pub seal_code: String,
    /// When the record was issued (`iat`).
    pub issued_at: OffsetDateTime,
    /// Start of validity (`nbf`).
    pub valid_from: Option<OffsetDateTime>,
    /// End of validity (`exp`); `None` for a long-term license.
    pub expires_at: Option<OffsetDateTime>,
    /// The holder's name.
    pub holder_name: String,
    /// The holder's identifier, masked for public display.
    pub holder_id: MaskedHolderId,
    /// The status when the record was signed.
    pub status: StatusAtIssue,
    /// The summary fields (照面信息), field code → value, in display order.
    pub fields: Vec<(String, String)>,
}

impl LicenseClaims {
    /// The issuing department's USCC (`iss`).
    pub fn issuer(&self) -> &Uscc {
        self.license_id.issuer()
    }

    /// The license type code (from the identifier).
    pub fn type_code(&self) -> &str {
        self.license_id.type_code()
    }

    /// The license version (from the identifier).
    pub fn version(&self) -> u16 {
        self.license_id.version()
    }

    /// The value of summary field `code`.
    pub fn field(&self, code: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == code)
            .map(|(_, v)| v.as_str())
    }

    /// Encodes the claims as described in the module documentation.
    pub fn to_cbor(&self) -> Result<Vec<u8>, ClaimsError> {
        let mut fields = Vec::with_capacity(self.fields.len());
        for (i, (key, value)) in self.fields.iter().enumerate() {
            if self.fields[..i].iter().any(|(k, _)| k == key) {
                return Err(ClaimsError::DuplicateKey(key.clone()));
            }
            fields.push((text(key), text(value)));
        }
        let mut map = vec![(int(ISS), text(self.issuer().as_str()))];
        if let Some(exp) = self.expires_at {
            map.push((int(EXP), int(exp.unix_timestamp())));
        }
        if let Some(nbf) = self.valid_from {
            map.push((int(NBF), int(nbf.unix_timestamp())));
        }
        map.push((int(IAT), int(self.issued_at.unix_timestamp())));
        // Text keys in RFC 8949 §4.2.1 order: shorter first, then bytewise.
        map.push((text(FIELDS), Value::Map(fields)));
        for (key, value) in [
            (HOLDER_ID, self.holder_id.as_str()),
            (HOLDER_NAME, self.holder_name.as_str()),
            (LICENSE_ID, self.license_id.as_str()),
            (ISSUER_NAME, self.issuer_name.as_str()),
            (SEAL_CODE, self.seal_code.as_str()),
            (STATUS, self.status.as_str()),
        ] {
            map.push((text(key), text(value)));
        }
        let mut out = Vec::new();
        ciborium::into_writer(&Value::Map(map), &mut out)
            .map_err(|e| ClaimsError::Cbor(e.to_string()))?;
        Ok(out)
    }

    /// Decodes and validates claims written by [`LicenseClaims::to_cbor`].
    pub fn from_cbor(bytes: &[u8]) -> Result<Self, ClaimsError> {
        let value = cbor::read(bytes).map_err(|e| ClaimsError::Cbor(e.to_string()))?;
        let Value::Map(entries) = value else {
            return Err(ClaimsError::NotAMap);
        };
        let claims = ClaimMap::new(&entries)?;

        let license_id: LicenseId = claims
            .text(LICENSE_ID)?
            .parse()
            .map_err(|_| ClaimsError::Invalid(LICENSE_ID))?;
        // Written from the identifier, `iss` is its issuer's text; anything
        // else is parsed to say what is wrong with it.
        let iss = claims.int_text(ISS, "iss")?;
        if iss != license_id.issuer().as_str() {
            let iss: Uscc = iss.parse().map_err(|_| ClaimsError::Invalid("iss"))?;
            if &iss != license_id.issuer() {
                return Err(ClaimsError::IssuerMismatch);
            }
        }
        let fields = match claims.get_text(FIELDS) {
            Some(Value::Map(entries)) => string_pairs(entries)?,
            Some(_) => return Err(ClaimsError::Invalid(FIELDS)),
            None => return Err(ClaimsError::Missing(FIELDS)),
        };
        Ok(LicenseClaims {
            issuer_name: claims.text(ISSUER_NAME)?.to_string(),
            seal_code: claims.text(SEAL_CODE)?.to_string(),
            issued_at: claims
                .date(IAT, "iat")?
                .ok_or(ClaimsError::Missing("iat"))?,
            valid_from: claims.date(NBF, "nbf")?,
            expires_at: claims.date(EXP, "exp")?,
            holder_name: claims.text(HOLDER_NAME)?.to_string(),
            holder_id: MaskedHolderId::parse(claims.text(HOLDER_ID)?)
                .ok_or(ClaimsError::Invalid(HOLDER_ID))?,
            status: StatusAtIssue::parse(claims.text(STATUS)?)
                .ok_or(ClaimsError::Invalid(STATUS))?,
            license_id,
            fields,
        })
    }
}

fn int(i: i64) -> Value {
    Value::Integer(i.into())
}

fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

/// A map's entries, checked for duplicate keys, with typed lookups.
struct ClaimMap<'m>(&'m [(Value, Value)]);

impl<'m> ClaimMap<'m> {
    fn new(entries: &'m [(Value, Value)]) -> Result<Self, ClaimsError> {
        for (i, (key, _)) in entries.iter().enumerate() {
            if entries[..i].iter().any(|(k, _)| same_item(k, key)) {
                return Err(ClaimsError::DuplicateKey(format!("{key:?}")));
            }
        }
        Ok(ClaimMap(entries))
    }

    fn get(&self, want: impl Fn(&Value) -> bool) -> Option<&'m Value> {
        self.0.iter().find(|(k, _)| want(k)).map(|(_, v)| v)
    }

    fn get_text(&self, key: &str) -> Option<&'m Value> {
        self.get(|k| k.as_text() == Some(key))
    }

    fn get_int(&self, key: i64) -> Option<&'m Value> {
        self.get(|k| as_i64(k) == Some(key))
    }

    fn text(&self, key: &'static str) -> Result<&'m str, ClaimsError> {
        match self.get_text(key) {
            Some(Value::Text(s)) => Ok(s),
            Some(_) => Err(ClaimsError::Invalid(key)),
            None => Err(ClaimsError::Missing(key)),
        }
    }

    fn int_text(&self, key: i64, name: &'static str) -> Result<&'m str, ClaimsError> {
        match self.get_int(key) {
            Some(Value::Text(s)) => Ok(s),
            Some(_) => Err(ClaimsError::Invalid(name)),
            None => Err(ClaimsError::Missing(name)),
        }
    }

    /// A NumericDate; only whole seconds are accepted.
    fn date(&self, key: i64, name: &'static str) -> Result<Option<OffsetDateTime>, ClaimsError> {
        let Some(value) = self.get_int(key) else {
            return Ok(None);
        };
        let seconds = as_i64(value).ok_or(ClaimsError::Invalid(name))?;
        OffsetDateTime::from_unix_timestamp(seconds)
            .map(Some)
            .map_err(|_| ClaimsError::Invalid(name))
    }
}

fn string_pairs(entries: &[(Value, Value)]) -> Result<Vec<(String, String)>, ClaimsError> {
    ClaimMap::new(entries)?;
    entries
        .iter()
        .map(|(k, v)| match (k, v) {
            (Value::Text(k), Value::Text(v)) => Ok((k.clone(), v.clone())),
            _ => Err(ClaimsError::Invalid(FIELDS)),
        })
        .collect()
}

#[cfg(test)]
#[path = "claims_tests.rs"]
mod tests;
