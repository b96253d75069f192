//! Importing existing (paper) licenses from CSV (存量证照导入): how a CSV row
//! becomes an [`IssueRequest`], and the idempotency key that makes re-runs safe.
//!
//! The file is UTF-8 CSV (RFC 4180) with a header row. Columns, in any order:
//!
//! | column | required | meaning |
//! |---|---|---|
//! | `holder_name` | yes | the holder's name (person or organisation) |
//! | `holder_id_type` | yes | `resident` (GB 11643) or `uscc` (GB 32100) |
//! | `holder_id` | yes | the resident ID or USCC, with its check character |
//! | `valid_from` | no | first day of validity, `YYYY-MM-DD` (empty: the day of import) |
//! | `valid_until` | no | last day of validity, `YYYY-MM-DD` (empty: the type's default) |
//! | *field key* | per type | one column per field key of the license type |
//!
//! An empty cell is an absent value (so an empty required field is reported
//! as missing). A header column that is neither of the above nor a field key
//! of the type stops the import before any row is issued.
//!
//! Each row's idempotency key is derived from the type code and a SHA-256 of
//! the normalised row (trimmed cells, by column name), so importing the same
//! file again — or a file with the same rows in another order — issues
//! nothing twice: the existing Idempotency-Key machinery of issuance answers
//! with the license already issued.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::issue::IssueRequest;
use super::types::LicenseTypeDefinition;

/// The fixed columns (besides the type's field keys).
pub const FIXED_COLUMNS: [&str; 5] = [
    "holder_name",
    "holder_id_type",
    "holder_id",
    "valid_from",
    "valid_until",
];

const REQUIRED_COLUMNS: [&str; 3] = ["holder_name", "holder_id_type", "holder_id"];

/// The header of an import file, checked against a license type.
#[derive(Clone, Debug)]
pub struct ImportHeader {
    columns: Vec<String>,
}

/// Why a header or a row cannot be imported.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ImportError {
    /// A header column is not a fixed column nor a field key.
    #[error("unknown column {0:?}: expected {fixed} or a field key of the type ({keys})", fixed = FIXED_COLUMNS.join(", "), keys = .1)]
    UnknownColumn(String, String),
    /// A required column is missing from the header.
    #[error("the header has no column {0:?}")]
    MissingColumn(&'static str),
    /// A column appears twice.
    #[error("column {0:?} appears twice")]
    DuplicateColumn(String),
    /// A row has another number of cells than the header.
    #[error("{found} cells, but the header has {expected} columns")]
    CellCount {
        /// cells in the row
        found: usize,
        /// columns in the header
        expected: usize,
    },
    /// A cell is invalid before issuance is even tried.
    #[error("{field}: {message}")]
    Invalid {
        /// the column
        field: String,
        /// what is wrong
        message: String,
    },
}

impl ImportHeader {
    /// Checks a header row against the type's fields.
    pub fn new<'a>(
        header: impl IntoIterator<Item = &'a str>,
        definition: &LicenseTypeDefinition,
    ) -> Result<Self, ImportError> {
        let columns: Vec<String> = header
            .into_iter()
            .map(|c| c.trim().trim_start_matches('\u{feff}').to_string())
            .collect();
        for (i, c) in columns.iter().enumerate() {
            if columns[..i].contains(c) {
                return Err(ImportError::DuplicateColumn(c.clone()));
            }
            let known = FIXED_COLUMNS.contains(&c.as_str())
                || definition.fields.iter().any(|f| &f.key == c);
            if !known {
                let keys: Vec<&str> = definition.fields.iter().map(|f| f.key.as_str()).collect();
                return Err(ImportError::UnknownColumn(c.clone(), keys.join(", ")));
            }
        }
        for required in REQUIRED_COLUMNS {
            if !columns.iter().any(|c| c == required) {
                return Err(ImportError::MissingColumn(required));
            }
        }
        Ok(ImportHeader { columns })
    }

    /// The issuance request of one row, and its idempotency key.
    pub fn request(
        &self,
        type_code: &str,
        seal_id: &str,
        cells: &[&str],
    ) -> Result<(IssueRequest, String), ImportError> {
        if cells.len() != self.columns.len() {
            return Err(ImportError::CellCount {
                found: cells.len(),
                expected: self.columns.len(),
            });
        }
        let row: BTreeMap<&str, &str> = self
            .columns
            .iter()
            .map(String::as_str)
            .zip(cells.iter().map(|c| c.trim()))
            .filter(|(_, v)| !v.is_empty())
            .collect();
        let cell = |c: &str| row.get(c).map(|v| v.to_string());
        let holder = json!({
            "name": cell("holder_name").unwrap_or_default(),
            "id_type": cell("holder_id_type").unwrap_or_default(),
            "id": cell("holder_id").unwrap_or_default(),
        });
        let holder = serde_json::from_value(holder).map_err(|_| ImportError::Invalid {
            field: "holder_id_type".into(),
            message: "must be resident or uscc".into(),
        })?;
        let fields: Map<String, Value> = row
            .iter()
            .filter(|(k, _)| !FIXED_COLUMNS.contains(k))
            .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
            .collect();
        let request = IssueRequest {
            type_code: type_code.to_string(),
            seal_id: seal_id.to_string(),
            holder,
            fields,
            valid_from: cell("valid_from"),
            valid_until: cell("valid_until"),
        };
        Ok((request, idempotency_key(type_code, &row)))
    }
}

/// `csv-<type code>-<hex SHA-256 of the normalised row>`: the type code, then
/// each non-empty cell as `column=value`, NUL-separated, columns sorted.
fn idempotency_key(type_code: &str, row: &BTreeMap<&str, &str>) -> String {
    let mut digest = ring::digest::Context::new(&ring::digest::SHA256);
    digest.update(type_code.as_bytes());
    for (k, v) in row {
        digest.update(b"\0");
        digest.update(k.as_bytes());
        digest.update(b"=");
        digest.update(v.as_bytes());
    }
    format!("csv-{type_code}-{}", hex::encode(digest.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn definition() -> LicenseTypeDefinition {
        serde_json::from_value(json!({
            "code": "11100000000013127D001", "name_zh": "营业执照", "name_en": "Business Licence",
            "issuers": [], "validity_days": 0,
            "fields": [
                {"key": "name", "label_zh": "名称", "label_en": "Name", "type": "text", "required": true, "on_qr": true},
                {"key": "cap", "label_zh": "注册资本", "label_en": "Capital", "type": "number", "required": false, "on_qr": false}
            ]
        }))
        .unwrap()
    }

    #[test]
    fn a_row_becomes_a_request_and_its_key_ignores_column_order_and_spaces() {
        let d = definition();
        let a = ImportHeader::new(
            ["holder_name", "holder_id_type", "holder_id", "name", "cap"],
            &d,
        )
        .unwrap();
        let b = ImportHeader::new(
            ["cap", "name", "holder_id", "holder_id_type", "holder_name"],
            &d,
        )
        .unwrap();
        let (req, key) = a
            .request(
                "T",
                "S",
                &["张三", "resident", "11010519491231002X", "某店", ""],
            )
            .unwrap();
        assert_eq!(req.holder.name, "张三");
        assert_eq!(req.fields.len(), 1, "an empty cell is an absent value");
        assert_eq!(req.valid_from, None);
        let (_, key_b) = b
            .request(
                "T",
                "S",
                &["", " 某店", "11010519491231002X", "resident", "张三 "],
            )
            .unwrap();
        assert_eq!(key, key_b);
        let (_, other) = a
            .request(
                "T",
                "S",
                &["张三", "resident", "11010519491231002X", "某店2", ""],
            )
            .unwrap();
        assert_ne!(key, other);
        assert!(key.len() <= 200 && key.starts_with("csv-T-"));
    }

    #[test]
    fn bad_headers_and_rows_are_named() {
        let d = definition();
        assert!(matches!(
            ImportHeader::new(["holder_name", "holder_id_type", "holder_id", "colour"], &d),
            Err(ImportError::UnknownColumn(c, _)) if c == "colour"
        ));
        assert_eq!(
            ImportHeader::new(["holder_name", "holder_id"], &d).unwrap_err(),
            ImportError::MissingColumn("holder_id_type")
        );
        let h = ImportHeader::new(["holder_name", "holder_id_type", "holder_id"], &d).unwrap();
        assert_eq!(
            h.request("T", "S", &["a", "b"]).unwrap_err(),
            ImportError::CellCount {
                found: 2,
                expected: 3
            }
        );
        assert!(matches!(
            h.request("T", "S", &["a", "passport", "x"]),
            Err(ImportError::Invalid { field, .. }) if field == "holder_id_type"
        ));
    }
}
