//! `ResidentId` — 公民身份号码, the 18-digit resident identity number (GB 11643-1999).

use std::fmt;
use std::str::FromStr;

/// Weights of the first 17 digits (GB 11643-1999 §7, ISO 7064 MOD 11-2).
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// Check character by `Σ mod 11`.
const CHECKS: &[u8; 11] = b"10X98765432";

/// A resident ID whose check character is correct.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ResidentId(String);

/// Why a string is not a valid resident ID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResidentIdError {
    /// Not 18 characters, or not digits.
    #[error("a resident ID has 17 digits and a check character (digit or X)")]
    Format,
    /// The check character is wrong.
    #[error("check character is {found:?} but should be {expected:?}")]
    Check {
        /// what the number has
        found: char,
        /// what GB 11643 computes
        expected: char,
    },
}

impl ResidentId {
    /// The masked form shown on QR codes and public pages: first 3 and last 4 kept
    /// (`110***********123X`).
    pub fn masked(&self) -> String {
        format!("{}{}{}", &self.0[..3], "*".repeat(11), &self.0[14..])
    }

    /// The number as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for ResidentId {
    type Err = ResidentIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.to_ascii_uppercase();
        let b = s.as_bytes();
        if b.len() != 18 || !b[..17].iter().all(u8::is_ascii_digit) {
            return Err(ResidentIdError::Format);
        }
        let sum: u32 = b[..17]
            .iter()
            .zip(WEIGHTS)
            .map(|(d, w)| (d - b'0') as u32 * w)
            .sum();
        let expected = CHECKS[(sum % 11) as usize] as char;
        let found = b[17] as char;
        if found != expected {
            return Err(ResidentIdError::Check { found, expected });
        }
        Ok(ResidentId(s))
    }
}

impl fmt::Display for ResidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_example_validates_and_masks() {
        // The worked example of GB 11643-1999 Annex A.
        let id: ResidentId = "11010519491231002X".parse().unwrap();
        assert_eq!(id.masked(), "110***********002X");
        assert_eq!(
            "110105194912310021".parse::<ResidentId>(),
            Err(ResidentIdError::Check {
                found: '1',
                expected: 'X'
            })
        );
        assert_eq!(
            "1101051949".parse::<ResidentId>(),
            Err(ResidentIdError::Format)
        );
    }
}
