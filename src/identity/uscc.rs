//! `Uscc` — 统一社会信用代码, the unified social credit code (GB 32100-2015).

use std::fmt;
use std::str::FromStr;

/// The 31-character alphabet of GB 32100-2015 §4 (no I, O, S, V, Z).
const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
/// Position weights of the first 17 characters (GB 32100-2015 §5.2).
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// A unified social credit code whose check character is correct.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Uscc(String);

/// Why a string is not a valid USCC.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsccError {
    /// Not 18 characters.
    #[error("a unified social credit code has 18 characters, this has {0}")]
    Length(usize),
    /// A character outside the GB 32100 alphabet.
    #[error(
        "character {character:?} at position {position} is not allowed (alphabet 0-9 A-H J-N P-R T U W-Y)"
    )]
    Character {
        /// the character
        character: char,
        /// 1-based position
        position: usize,
    },
    /// The 18th character is wrong.
    #[error("check character is {found:?} but should be {expected:?}")]
    Check {
        /// what the code has
        found: char,
        /// what GB 32100 §5.2 computes
        expected: char,
    },
}

impl Uscc {
    /// Computes the check character for the first 17 characters (GB 32100-2015 §5.2):
    /// `C18 = 31 − (Σ Ci·Wi mod 31)`, with 31 written as `0`.
    pub fn check_character(first17: &str) -> Result<char, UsccError> {
        let mut sum = 0u32;
        for (i, c) in first17.chars().enumerate() {
            let value =
                ALPHABET
                    .iter()
                    .position(|&a| a as char == c)
                    .ok_or(UsccError::Character {
                        character: c,
                        position: i + 1,
                    })?;
            sum += value as u32 * WEIGHTS[i];
        }
        let check = (31 - sum % 31) % 31;
        Ok(ALPHABET[check as usize] as char)
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Uscc {
    type Err = UsccError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let count = s.chars().count();
        if count != 18 {
            return Err(UsccError::Length(count));
        }
        let first17: String = s.chars().take(17).collect();
        let found = s.chars().nth(17).unwrap_or_default();
        if !ALPHABET.contains(&(found as u8)) || !found.is_ascii() {
            return Err(UsccError::Character {
                character: found,
                position: 18,
            });
        }
        let expected = Uscc::check_character(&first17)?;
        if found != expected {
            return Err(UsccError::Check { found, expected });
        }
        Ok(Uscc(s.to_string()))
    }
}

impl fmt::Display for Uscc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn published_codes_validate() {
        // Codes printed on real business licences.
        for code in [
            "91350100M000100Y43",
            "91110000600037341L",
            "11100000000013127D",
        ] {
            code.parse::<Uscc>()
                .unwrap_or_else(|e| panic!("{code}: {e}"));
        }
    }

    #[test]
    fn a_wrong_check_character_is_named() {
        let err = "91350100M000100Y44".parse::<Uscc>().unwrap_err();
        assert_eq!(
            err,
            UsccError::Check {
                found: '4',
                expected: '3'
            }
        );
        assert!(matches!(
            "91350100M00010".parse::<Uscc>(),
            Err(UsccError::Length(14))
        ));
        assert!(matches!(
            "9135010OM000100Y43".parse::<Uscc>(),
            Err(UsccError::Character {
                character: 'O',
                position: 9
            })
        ));
    }

    proptest! {
        #[test]
        fn computed_check_character_always_validates(body in "[0-9A-HJ-NPQRTUWXY]{17}") {
            let check = Uscc::check_character(&body).unwrap();
            let code = format!("{body}{check}");
            prop_assert!(code.parse::<Uscc>().is_ok());
            // Any other final character is rejected.
            for other in ALPHABET.iter().map(|&b| b as char).filter(|&c| c != check) {
                let wrong = format!("{body}{other}");
                prop_assert!(wrong.parse::<Uscc>().is_err());
            }
        }
    }
}
