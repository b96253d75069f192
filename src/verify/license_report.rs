//! The license part of a validation report, and the freshness of the
//! revocation data a report relied on (ETSI EN 319 102-1 §5.2.5: a verifier
//! must know how current its revocation information is).
//!
//! JSON (stable, `snake_case`, times RFC 3339, absent values `null`):
//!
//! ```json
//! "license": {
//!   "license_id": "1.2.156.3005.2.…", "type_code": "…", "version": 1,
//!   "holder_name": "…", "holder_id": "91110000600037341L",
//!   "issuer": "91350100M000100Y43", "issuer_name": "…", "seal_code": "…",
//!   "issued_at": "…", "valid_from": "…", "expires_at": null,
//!   "status_at_issue": "valid",
//!   "status": "valid" | "suspended" | "revoked" | "superseded" | "expired" | "not_yet_valid" | "unknown",
//!   "superseded_by": null | "1.2.156.3005.2.…002.…", "current_version": null | "…",
//!   "fields": [{"code": "name", "value": "…"}, …],
//!   "kid": "0011223344556677"
//! },
//! "revocation_data": {
//!   "crls": [{"issuer": "CN=…", "this_update": "…", "next_update": "…", "age_seconds": 12}],
//!   "license_status": {"this_update": "…", "next_update": "…", "age_seconds": 12,
//!                      "stale": false, "revoked": 3, "suspended": 1, "problem": null}
//! }
//! ```

use serde::{Deserialize, Serialize};

/// One summary field (照面信息) as signed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicenseField {
    /// The field code of the license type.
    pub code: String,
    /// Its value.
    pub value: String,
}

/// The license's status as the verifier concludes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LicenseStatus {
    /// 有效: genuine, in force, not listed in the snapshot.
    Valid,
    /// 暂停: listed as suspended.
    Suspended,
    /// 吊销/注销: listed as revoked (or signed as revoked).
    Revoked,
    /// 已换发: replaced by a newer version (renewal or amendment); no longer valid.
    Superseded,
    /// 过期: past its end of validity.
    Expired,
    /// 未生效: before its start of validity.
    NotYetValid,
    /// Not known: no trustworthy or fresh snapshot, or the record is not genuine.
    Unknown,
}

impl LicenseStatus {
    /// The JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            LicenseStatus::Valid => "valid",
            LicenseStatus::Suspended => "suspended",
            LicenseStatus::Revoked => "revoked",
            LicenseStatus::Superseded => "superseded",
            LicenseStatus::Expired => "expired",
            LicenseStatus::NotYetValid => "not_yet_valid",
            LicenseStatus::Unknown => "unknown",
        }
    }

    /// Chinese and English, for people.
    pub fn label(self) -> &'static str {
        match self {
            LicenseStatus::Valid => "有效 valid",
            LicenseStatus::Suspended => "暂停 suspended",
            LicenseStatus::Revoked => "已吊销/注销 revoked",
            LicenseStatus::Superseded => "已被新版本取代 superseded",
            LicenseStatus::Expired => "已过期 expired",
            LicenseStatus::NotYetValid => "未生效 not yet valid",
            LicenseStatus::Unknown => "状态未知 status unknown",
        }
    }
}

/// The claims of a license record whose signature verified with a seal
/// certificate of the trust bundle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicenseReport {
    /// License identifier (GB/T 36904).
    pub license_id: String,
    /// License type code.
    pub type_code: String,
    /// License version.
    pub version: u16,
    /// Holder's name (持证主体).
    pub holder_name: String,
    /// Holder's identifier, masked (resident ID) or in full (USCC).
    pub holder_id: String,
    /// Issuing department's USCC.
    pub issuer: String,
    /// Issuing department's name.
    pub issuer_name: String,
    /// Seal code of the signing seal.
    pub seal_code: String,
    /// Issued at (`iat`).
    pub issued_at: String,
    /// Start of validity (`nbf`).
    pub valid_from: Option<String>,
    /// End of validity (`exp`), `null` for a long-term license (长期).
    pub expires_at: Option<String>,
    /// The status written in the record when it was signed.
    pub status_at_issue: String,
    /// The status concluded at the validation time.
    pub status: LicenseStatus,
    /// The version that replaced this one, when `status` is `superseded`.
    #[serde(default)]
    pub superseded_by: Option<String>,
    /// The newest version the snapshot knows, when it differs from `superseded_by`.
    #[serde(default)]
    pub current_version: Option<String>,
    /// The summary fields, in display order.
    pub fields: Vec<LicenseField>,
    /// The record's key identifier, hex.
    pub kid: String,
}

/// How current one CRL of the bundle is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrlFreshness {
    /// The CRL issuer's DN.
    pub issuer: String,
    /// thisUpdate.
    pub this_update: String,
    /// nextUpdate, if any.
    pub next_update: Option<String>,
    /// Validation time minus thisUpdate, in seconds.
    pub age_seconds: i64,
}

/// How current the license status snapshot is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotFreshness {
    /// this-update, if the snapshot verified.
    pub this_update: Option<String>,
    /// next-update, if the snapshot verified.
    pub next_update: Option<String>,
    /// Validation time minus this-update, in seconds.
    pub age_seconds: Option<i64>,
    /// True if the validation time is past next-update.
    pub stale: bool,
    /// Number of revoked licenses listed.
    pub revoked: usize,
    /// Number of suspended licenses listed.
    pub suspended: usize,
    /// Why the snapshot could not be used (missing, malformed, bad signature).
    pub problem: Option<String>,
}

/// The revocation data a verification used, and its age.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevocationData {
    /// The bundle's CRLs (authentic ones only).
    pub crls: Vec<CrlFreshness>,
    /// The license status snapshot.
    pub license_status: Option<SnapshotFreshness>,
}
