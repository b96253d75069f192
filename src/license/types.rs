//! License types (证照类型) and their fields, as the license catalogue of
//! GB/T 36902-2018 (电子证照 目录信息) describes them: a type code, names in
//! Chinese and English, the fields with their labels and data types, which
//! fields form the summary (照面信息) carried by the QR code, the departments
//! allowed to issue it and the default validity.
//!
//! Pure: definitions are checked here, and field values are checked against
//! their definition here, so every adapter (HTTP, CSV import) refuses the
//! same things with the same field names.

use serde::{Deserialize, Serialize};

use super::identifier::check_type_code;
use crate::identity::{ResidentId, Uscc};

/// Longest field key (keys go into the QR code: short is better).
pub const MAX_KEY_CHARS: usize = 16;
/// Longest label.
pub const MAX_LABEL_CHARS: usize = 40;
/// Longest text value.
pub const MAX_VALUE_CHARS: usize = 500;
/// Most fields per type.
pub const MAX_FIELDS: usize = 40;

/// The data type of a field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    /// Free text.
    Text,
    /// A calendar date, `YYYY-MM-DD`.
    Date,
    /// A decimal number.
    Number,
    /// One of the listed `values`.
    Enum,
}

/// One field of a license type.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldDefinition {
    /// Key (ASCII letters, digits, `_`), e.g. `name`.
    pub key: String,
    /// Chinese label, e.g. 名称.
    pub label_zh: String,
    /// English label, e.g. Name.
    pub label_en: String,
    /// `text`, `date`, `number` or `enum`.
    #[serde(rename = "type")]
    pub field_type: FieldType,
    /// Whether a license must have it.
    #[serde(default)]
    pub required: bool,
    /// Whether it is part of the signed summary in the QR code.
    #[serde(default)]
    pub on_qr: bool,
    /// The allowed values of an `enum` field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<String>>,
}

/// A license type as defined by the platform operator.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LicenseTypeDefinition {
    /// The competent department's USCC followed by three digits.
    pub code: String,
    /// Chinese name, e.g. 营业执照.
    pub name_zh: String,
    /// English name, e.g. Business licence.
    pub name_en: String,
    /// Department ids allowed to issue it.
    pub issuers: Vec<String>,
    /// Default validity in days (0: long-term, 长期).
    pub validity_days: u32,
    /// The fields, in display order.
    pub fields: Vec<FieldDefinition>,
}

/// Why a definition or a value is refused: the field (as named in the
/// request) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    /// The request field, e.g. `fields.capital`.
    pub field: String,
    /// What to fix.
    pub message: String,
}

fn err(field: impl Into<String>, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        message: message.into(),
    }
}

fn check_text(field: &str, value: &str, max: usize) -> Result<(), FieldError> {
    if value.trim().is_empty() {
        return Err(err(field, "must not be empty"));
    }
    if value.chars().count() > max {
        return Err(err(field, format!("at most {max} characters")));
    }
    if value.chars().any(char::is_control) {
        return Err(err(field, "must not contain control characters"));
    }
    Ok(())
}

impl LicenseTypeDefinition {
    /// Checks the definition (not the issuers' existence, which needs the database).
    pub fn validate(&self) -> Result<(), FieldError> {
        check_type_code(&self.code).map_err(|e| err("code", e.to_string()))?;
        check_text("name_zh", &self.name_zh, MAX_LABEL_CHARS)?;
        check_text("name_en", &self.name_en, MAX_LABEL_CHARS * 2)?;
        if self.issuers.is_empty() {
            return Err(err("issuers", "name at least one issuing department"));
        }
        if self.validity_days > 100 * 366 {
            return Err(err("validity_days", "at most 100 years"));
        }
        if self.fields.is_empty() || self.fields.len() > MAX_FIELDS {
            return Err(err("fields", format!("between 1 and {MAX_FIELDS} fields")));
        }
        for (i, f) in self.fields.iter().enumerate() {
            let at = |name: &str| format!("fields[{i}].{name}");
            let key_ok = !f.key.is_empty()
                && f.key.len() <= MAX_KEY_CHARS
                && f.key
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_');
            if !key_ok {
                return Err(err(
                    at("key"),
                    format!("1 to {MAX_KEY_CHARS} ASCII letters, digits or _"),
                ));
            }
            if self.fields[..i].iter().any(|g| g.key == f.key) {
                return Err(err(at("key"), format!("{:?} appears twice", f.key)));
            }
            check_text(&at("label_zh"), &f.label_zh, MAX_LABEL_CHARS)?;
            check_text(&at("label_en"), &f.label_en, MAX_LABEL_CHARS * 2)?;
            match (&f.field_type, &f.values) {
                (FieldType::Enum, Some(values)) if !values.is_empty() => {
                    for v in values {
                        check_text(&at("values"), v, MAX_LABEL_CHARS)?;
                    }
                }
                (FieldType::Enum, _) => {
                    return Err(err(at("values"), "an enum field lists its values"));
                }
                (_, Some(_)) => return Err(err(at("values"), "only enum fields have values")),
                (_, None) => {}
            }
        }
        Ok(())
    }

    /// Checks a license's field values against the definition and returns
    /// them as text, in the type's display order. Unknown keys, missing
    /// required fields and ill-typed values are refused, named as
    /// `fields.<key>`.
    pub fn check_values(
        &self,
        values: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Vec<(String, String)>, FieldError> {
        if let Some(unknown) = values
            .keys()
            .find(|k| !self.fields.iter().any(|f| &f.key == *k))
        {
            return Err(err(
                format!("fields.{unknown}"),
                format!("is not a field of license type {}", self.code),
            ));
        }
        let mut out = Vec::new();
        for f in &self.fields {
            let name = format!("fields.{}", f.key);
            let value = match values.get(&f.key) {
                None | Some(serde_json::Value::Null) => {
                    if f.required {
                        return Err(err(name, "is required"));
                    }
                    continue;
                }
                Some(serde_json::Value::String(s)) => s.trim().to_string(),
                Some(serde_json::Value::Number(n)) if f.field_type == FieldType::Number => {
                    n.to_string()
                }
                Some(_) => return Err(err(name, "must be a string")),
            };
            if value.is_empty() && !f.required {
                continue;
            }
            check_text(&name, &value, MAX_VALUE_CHARS)?;
            match f.field_type {
                FieldType::Text => {}
                FieldType::Date => {
                    parse_date(&value).ok_or_else(|| err(&name, "must be a date YYYY-MM-DD"))?;
                }
                FieldType::Number => {
                    let ok = value.parse::<f64>().is_ok_and(f64::is_finite)
                        && value
                            .bytes()
                            .all(|b| b.is_ascii_digit() || b"+-.".contains(&b));
                    if !ok {
                        return Err(err(name, "must be a decimal number"));
                    }
                }
                FieldType::Enum => {
                    let allowed = f.values.as_deref().unwrap_or_default();
                    if !allowed.contains(&value) {
                        return Err(err(name, format!("must be one of {}", allowed.join(", "))));
                    }
                }
            }
            out.push((f.key.clone(), value));
        }
        Ok(out)
    }

    /// The summary fields (照面信息) of `values`: those marked `on_qr`.
    pub fn summary(&self, values: &[(String, String)]) -> Vec<(String, String)> {
        values
            .iter()
            .filter(|(k, _)| self.fields.iter().any(|f| &f.key == k && f.on_qr))
            .cloned()
            .collect()
    }
}

/// Parses `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Option<time::Date> {
    time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).ok()
}

/// The kind of a holder's identifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum HolderIdType {
    /// A citizen: resident ID (公民身份号码, GB 11643).
    Resident,
    /// An organisation: USCC (统一社会信用代码, GB 32100).
    Uscc,
}

impl HolderIdType {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            HolderIdType::Resident => "resident",
            HolderIdType::Uscc => "uscc",
        }
    }
}

/// The license holder (持证主体).
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Holder {
    /// Name of the person or organisation.
    pub name: String,
    /// `resident` or `uscc`.
    pub id_type: HolderIdType,
    /// The resident ID or USCC, with its check character.
    pub id: String,
}

impl Holder {
    /// Checks the name and the identifier's check character; returns the
    /// identifier as it may be shown in public.
    pub fn validate(&self) -> Result<super::claims::MaskedHolderId, FieldError> {
        check_text("holder.name", &self.name, 100)?;
        match self.id_type {
            HolderIdType::Resident => self
                .id
                .parse::<ResidentId>()
                .map(|id| (&id).into())
                .map_err(|e| err("holder.id", e.to_string())),
            HolderIdType::Uscc => self
                .id
                .parse::<Uscc>()
                .map(|id| (&id).into())
                .map_err(|e| err("holder.id", e.to_string())),
        }
    }
}

#[cfg(test)]
#[path = "types_tests.rs"]
mod tests;
