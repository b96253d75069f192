//! The license library (电子证照库): 一次生成、多方复用 — a license issued
//! once by one department is reused by others, for a published service item
//! (事项) whose use list (用证清单) names the license types and fields it may
//! use, with the holder's consent where required, and every use and every
//! refusal recorded and logged (可留痕、可追查).
//!
//! Three parties, as in the regional standards (e.g. DB31/T 310018-2024,
//! DB11/T 2290-2024): the issuing department (source of the data), the using
//! department (a client with scope `licenses:use`) and the platform operator
//! (the admin), who publishes service items and their use lists.
//!
//! - [`items`]: service items and their versioned use lists;
//! - [`consent`]: holders' one-time consent codes (用证码);
//! - [`uses`]: judging a request against the use list in force, releasing the
//!   minimised licenses, recording the use or the refusal, and the queries
//!   over those records.

pub mod consent;
pub mod items;
pub mod uses;

use serde::{Deserialize, Serialize};

use crate::license::types::HolderIdType;
use crate::outcome::ActionError;

/// A holder as named in a library request: the kind and the number.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HolderRef {
    /// `resident` or `uscc`.
    pub id_type: HolderIdType,
    /// The resident ID or USCC, with its check character.
    pub id: String,
}

impl HolderRef {
    /// Checks the identifier's check character (field `holder.id`).
    pub fn validate(&self) -> Result<(), ActionError> {
        let checked = match self.id_type {
            HolderIdType::Resident => self
                .id
                .parse::<crate::identity::ResidentId>()
                .map(|_| ())
                .map_err(|e| e.to_string()),
            HolderIdType::Uscc => self
                .id
                .parse::<crate::identity::Uscc>()
                .map(|_| ())
                .map_err(|e| e.to_string()),
        };
        checked.map_err(|e| ActionError::invalid("holder.id", e))
    }
}

/// A non-empty text of at most `max` characters.
pub(crate) fn check_text(field: &str, value: &str, max: usize) -> Result<(), ActionError> {
    if value.trim().is_empty() {
        return Err(ActionError::invalid(field, "must not be empty"));
    }
    if value.chars().count() > max {
        return Err(ActionError::invalid(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(ActionError::invalid(
            field,
            "must not contain control characters",
        ));
    }
    Ok(())
}

/// A code of 1–64 ASCII letters, digits, `-`, `_` or `.`.
pub(crate) fn check_code(field: &str, value: &str) -> Result<(), ActionError> {
    if value.is_empty()
        || value.len() > 64
        || !value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err(ActionError::invalid(
            field,
            "must be 1 to 64 ASCII letters, digits, '-', '_' or '.'",
        ));
    }
    Ok(())
}
