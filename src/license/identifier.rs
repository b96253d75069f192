//! `LicenseId` — 电子证照标识, the national license identifier as the
//! provincial license libraries use it (GB/T 36904-2018):
//!
//! `1.2.156.3005.2.<type code>.<issuer USCC>.<serial>.<version>.<check>`
//!
//! - type code: the competent department's USCC followed by three digits (21 characters);
//! - issuer USCC: the issuing department (18 characters, GB 32100);
//! - serial: 1–20 digits; version: 3 digits (`001` for the first issue);
//! - check: one character by ISO 7064 MOD 37,36 (hybrid system, §6.2 of
//!   ISO 7064) over every alphanumeric character before it (dots excluded).
//!   A hybrid system detects every single substitution and nearly all (not
//!   all) adjacent transpositions; the tests hold it to the former.

use std::fmt;
use std::str::FromStr;

use crate::identity::Uscc;

/// The fixed prefix: ISO member body China (1.2.156), license domain 3005.2.
pub const PREFIX: &str = "1.2.156.3005.2";
const ALPHABET: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// ISO 7064 MOD 37,36 check character over `chars` (0-9, A-Z; others ignored).
pub fn check_character(text: &str) -> Option<char> {
    let mut p: u32 = 36;
    for c in text.chars().filter(|c| *c != '.') {
        let value = ALPHABET
            .iter()
            .position(|&a| a as char == c.to_ascii_uppercase())? as u32;
        let mut s = (p + value) % 36;
        if s == 0 {
            s = 36;
        }
        p = (s * 2) % 37;
    }
    // Choose the check value a with (p + a) mod 36 == 1.
    let check = (37 - p) % 36;
    Some(ALPHABET[check as usize] as char)
}

/// A license identifier whose structure and check character are valid.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LicenseId {
    text: String,
    type_code: String,
    issuer: Uscc,
    serial: String,
    version: u16,
}

/// Why a string is not a license identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LicenseIdError {
    /// Not of the form prefix.type.issuer.serial.version.check.
    #[error(
        "a license identifier looks like {PREFIX}.<type code>.<issuer USCC>.<serial>.<version>.<check>"
    )]
    Shape,
    /// The type code is not a USCC followed by three digits.
    #[error("the type code must be a valid USCC followed by three digits")]
    TypeCode,
    /// The issuer is not a valid USCC.
    #[error("the issuer is not a valid USCC: {0}")]
    Issuer(String),
    /// Serial or version malformed.
    #[error("the serial must be 1–20 digits and the version 3 digits")]
    Numbers,
    /// The check character is wrong.
    #[error("check character is {found:?} but should be {expected:?}")]
    Check {
        /// what the identifier has
        found: char,
        /// what ISO 7064 MOD 37,36 computes
        expected: char,
    },
}

/// Validates a license type code: a USCC followed by three digits.
pub fn check_type_code(code: &str) -> Result<(), LicenseIdError> {
    if code.len() != 21 || !code.is_ascii() {
        return Err(LicenseIdError::TypeCode);
    }
    let (uscc, digits) = code.split_at(18);
    uscc.parse::<Uscc>().map_err(|_| LicenseIdError::TypeCode)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(LicenseIdError::TypeCode);
    }
    Ok(())
}

impl LicenseId {
    /// Builds the identifier of version `version` of license `serial`.
    pub fn new(
        type_code: &str,
        issuer: &Uscc,
        serial: u64,
        version: u16,
    ) -> Result<Self, LicenseIdError> {
        check_type_code(type_code)?;
        if version == 0 || version > 999 {
            return Err(LicenseIdError::Numbers);
        }
        let body = format!("{PREFIX}.{type_code}.{issuer}.{serial:08}.{version:03}");
        let check = check_character(&body).ok_or(LicenseIdError::Shape)?;
        Ok(LicenseId {
            text: format!("{body}.{check}"),
            type_code: type_code.to_string(),
            issuer: issuer.clone(),
            serial: format!("{serial:08}"),
            version,
        })
    }

    /// The identifier text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The license type code.
    pub fn type_code(&self) -> &str {
        &self.type_code
    }

    /// The issuing department's USCC.
    pub fn issuer(&self) -> &Uscc {
        &self.issuer
    }

    /// The serial (digits).
    pub fn serial(&self) -> &str {
        &self.serial
    }

    /// The version.
    pub fn version(&self) -> u16 {
        self.version
    }
}

impl FromStr for LicenseId {
    type Err = LicenseIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let rest = s
            .strip_prefix(PREFIX)
            .and_then(|r| r.strip_prefix('.'))
            .ok_or(LicenseIdError::Shape)?;
        let parts: Vec<&str> = rest.split('.').collect();
        let [type_code, issuer, serial, version, check] = parts[..] else {
            return Err(LicenseIdError::Shape);
        };
        check_type_code(type_code)?;
        let issuer: Uscc = issuer
            .parse()
            .map_err(|e: crate::identity::UsccError| LicenseIdError::Issuer(e.to_string()))?;
        if serial.is_empty() || serial.len() > 20 || !serial.bytes().all(|b| b.is_ascii_digit()) {
            return Err(LicenseIdError::Numbers);
        }
        if version.len() != 3 || !version.bytes().all(|b| b.is_ascii_digit()) || version == "000" {
            return Err(LicenseIdError::Numbers);
        }
        let body = &s[..s.len() - check.len() - 1];
        let expected = check_character(body).ok_or(LicenseIdError::Shape)?;
        let mut found = check.chars();
        let (Some(found), None) = (found.next(), found.next()) else {
            return Err(LicenseIdError::Shape);
        };
        if found != expected {
            return Err(LicenseIdError::Check { found, expected });
        }
        Ok(LicenseId {
            text: s.to_string(),
            type_code: type_code.to_string(),
            issuer,
            serial: serial.to_string(),
            version: version.parse().map_err(|_| LicenseIdError::Numbers)?,
        })
    }
}

impl fmt::Display for LicenseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// An independent statement of ISO 7064 MOD 37,36 validity: running the
    /// hybrid recursion over the text *including* its check character leaves
    /// the last reduced sum equal to 1.
    fn valid_with_check(text: &str) -> bool {
        let (mut p, mut s) = (36u32, 0u32);
        for c in text.chars().filter(|c| *c != '.') {
            let v = ALPHABET.iter().position(|&a| a as char == c).unwrap() as u32;
            s = match (p + v) % 36 {
                0 => 36,
                r => r,
            };
            p = (s * 2) % 37;
        }
        s == 1
    }

    #[test]
    fn identifier_round_trips_and_validates() {
        let issuer: Uscc = "91350100M000100Y43".parse().unwrap();
        let id = LicenseId::new("11100000000013127D001", &issuer, 42, 1).unwrap();
        assert!(
            id.as_str().starts_with(
                "1.2.156.3005.2.11100000000013127D001.91350100M000100Y43.00000042.001."
            )
        );
        let parsed: LicenseId = id.as_str().parse().unwrap();
        assert_eq!(parsed, id);
        assert!(valid_with_check(id.as_str()));
    }

    #[test]
    fn errors_say_what_is_wrong() {
        let issuer: Uscc = "91350100M000100Y43".parse().unwrap();
        let id = LicenseId::new("11100000000013127D001", &issuer, 7, 2)
            .unwrap()
            .to_string();
        let mut wrong = id.clone();
        let last = wrong.pop().unwrap();
        wrong.push(if last == 'A' { 'B' } else { 'A' });
        assert!(matches!(
            wrong.parse::<LicenseId>(),
            Err(LicenseIdError::Check { .. })
        ));
        assert_eq!("1.2.3".parse::<LicenseId>(), Err(LicenseIdError::Shape));
        assert!(LicenseId::new("11100000000013127D0X1", &issuer, 1, 1).is_err());
    }

    proptest! {
        #[test]
        fn any_single_substitution_is_detected(serial in 0u64..100_000_000, pos in 15usize..60, replacement in 0usize..36) {
            let issuer: Uscc = "91350100M000100Y43".parse().unwrap();
            let id = LicenseId::new("11100000000013127D001", &issuer, serial, 1).unwrap().to_string();
            let bytes = id.as_bytes();
            let pos = pos.min(bytes.len() - 3);
            if bytes[pos] != b'.' && bytes[pos] != ALPHABET[replacement] {
                let mut changed = bytes.to_vec();
                changed[pos] = ALPHABET[replacement];
                let changed = String::from_utf8(changed).unwrap();
                prop_assert!(changed.parse::<LicenseId>().is_err(), "{changed}");
            }
        }
    }
}
