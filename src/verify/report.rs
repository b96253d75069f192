//! Validation reports in the shape of ETSI EN 319 102-1 §5.1.3 (validation
//! status: main indication and sub-indication, Table 5) with the signer, the
//! time and its proof, and the document-level findings a PDF verifier must
//! explain (ETSI EN 319 142-1 §5.4: which revision each signature covers).
//!
//! The JSON is a stable interface: field names are `snake_case`, indications
//! and sub-indications are the ETSI names (`TOTAL-PASSED`, `HASH_FAILURE`, …),
//! optional values are `null` rather than absent.

use serde::{Deserialize, Serialize};

use super::license_report::{LicenseReport, RevocationData};

/// The main status indication (EN 319 102-1 §5.1.3, Table 4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Indication {
    /// Every check passed.
    #[serde(rename = "TOTAL-PASSED")]
    TotalPassed,
    /// A check proved the signature invalid (altered, forged, signed with a
    /// revoked or expired certificate as proven by a time).
    #[serde(rename = "TOTAL-FAILED")]
    TotalFailed,
    /// The available information does not allow a conclusion either way.
    #[serde(rename = "INDETERMINATE")]
    Indeterminate,
}

impl Indication {
    /// The ETSI name, e.g. `TOTAL-PASSED`.
    pub fn as_str(self) -> &'static str {
        match self {
            Indication::TotalPassed => "TOTAL-PASSED",
            Indication::TotalFailed => "TOTAL-FAILED",
            Indication::Indeterminate => "INDETERMINATE",
        }
    }

    /// The worse of two indications: TOTAL-FAILED, then INDETERMINATE.
    pub fn worst(self, other: Indication) -> Indication {
        use Indication::*;
        match (self, other) {
            (TotalFailed, _) | (_, TotalFailed) => TotalFailed,
            (Indeterminate, _) | (_, Indeterminate) => Indeterminate,
            _ => TotalPassed,
        }
    }

    /// The process exit code of `govseal verify`: 0, 1 or 2.
    pub fn exit_code(self) -> i32 {
        match self {
            Indication::TotalPassed => 0,
            Indication::TotalFailed => 1,
            Indication::Indeterminate => 2,
        }
    }
}

/// Sub-indications (EN 319 102-1 §5.1.3, Table 5) that this verifier emits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum SubIndication {
    /// TOTAL-FAILED: the signed data's hash does not match the message digest.
    HashFailure,
    /// TOTAL-FAILED: the signature value does not verify with the signer's key.
    SigCryptoFailure,
    /// TOTAL-FAILED: the signing certificate was revoked before the proven signing time.
    Revoked,
    /// INDETERMINATE: the signing certificate is revoked and no proof of existence predates that.
    RevokedNoPoe,
    /// TOTAL-FAILED: the signing certificate had expired when the signature was
    /// proven to be made. Not emitted for PDFs: a signature time-stamp only
    /// bounds the signing time from above (they get OUT_OF_BOUNDS_NO_POE).
    Expired,
    /// TOTAL-FAILED: the signing certificate was not yet valid at the proven signing time.
    NotYetValid,
    /// INDETERMINATE: the certificate is outside its validity at the validation time and no proof of existence helps.
    OutOfBoundsNoPoe,
    /// INDETERMINATE: no chain from the signing certificate to a trust anchor.
    NoCertificateChainFound,
    /// INDETERMINATE: the signer's certificate is not among those the signature carries.
    NoSigningCertificateFound,
    /// INDETERMINATE: the chain violates a constraint (key usage, basic constraints, …).
    ChainConstraintsFailure,
    /// INDETERMINATE: the signature breaks a constraint of the validation policy
    /// (here: the document was changed after signing in a way PAdES does not allow).
    SigConstraintsFailure,
    /// INDETERMINATE: an algorithm (signature, hash, key type or size) is not
    /// one this verifier can check (EN 319 102-1 §5.2.7): the signature is
    /// neither confirmed nor proven forged.
    CryptoConstraintsFailure,
    /// TOTAL-FAILED: the signature is not well formed (ByteRange, CMS, attributes).
    FormatFailure,
    /// INDETERMINATE: revocation data is missing or stale; try again with fresh data.
    TryLater,
    /// INDETERMINATE: the signed data cannot be found.
    SignedDataNotFound,
    /// INDETERMINATE: a time-stamp is not valid or does not match.
    TimestampOrderFailure,
}

impl SubIndication {
    /// The ETSI name, e.g. `HASH_FAILURE`.
    pub fn as_str(self) -> &'static str {
        match self {
            SubIndication::HashFailure => "HASH_FAILURE",
            SubIndication::SigCryptoFailure => "SIG_CRYPTO_FAILURE",
            SubIndication::Revoked => "REVOKED",
            SubIndication::RevokedNoPoe => "REVOKED_NO_POE",
            SubIndication::Expired => "EXPIRED",
            SubIndication::NotYetValid => "NOT_YET_VALID",
            SubIndication::OutOfBoundsNoPoe => "OUT_OF_BOUNDS_NO_POE",
            SubIndication::NoCertificateChainFound => "NO_CERTIFICATE_CHAIN_FOUND",
            SubIndication::NoSigningCertificateFound => "NO_SIGNING_CERTIFICATE_FOUND",
            SubIndication::ChainConstraintsFailure => "CHAIN_CONSTRAINTS_FAILURE",
            SubIndication::SigConstraintsFailure => "SIG_CONSTRAINTS_FAILURE",
            SubIndication::CryptoConstraintsFailure => "CRYPTO_CONSTRAINTS_FAILURE",
            SubIndication::FormatFailure => "FORMAT_FAILURE",
            SubIndication::TryLater => "TRY_LATER",
            SubIndication::SignedDataNotFound => "SIGNED_DATA_NOT_FOUND",
            SubIndication::TimestampOrderFailure => "TIMESTAMP_ORDER_FAILURE",
        }
    }
}

/// How much a document changed after a signature, in pyHanko's terms
/// (`ModificationLevel`), from least to most.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModificationLevel {
    /// Nothing that a reader shows changed.
    #[default]
    None,
    /// Validation data (`/DSS`), document time-stamps, metadata.
    LtaUpdates,
    /// Signature fields added or signed.
    FormFilling,
    /// Annotations added or changed.
    Annotations,
    /// Anything else: content, resources, structure.
    Other,
}

impl ModificationLevel {
    /// The name used in the JSON report, e.g. `lta_updates`.
    pub fn as_str(self) -> &'static str {
        match self {
            ModificationLevel::None => "none",
            ModificationLevel::LtaUpdates => "lta_updates",
            ModificationLevel::FormFilling => "form_filling",
            ModificationLevel::Annotations => "annotations",
            ModificationLevel::Other => "other",
        }
    }
}

/// Who signed: read from the signing certificate.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signer {
    /// The subject DN as text (RFC 4514 order).
    pub subject: String,
    /// organizationName (the department, 部门).
    pub organization: Option<String>,
    /// organizationIdentifier, e.g. `NTRCN-<USCC>` (统一社会信用代码).
    pub organization_identifier: Option<String>,
    /// The certificate's serial number, lower-case hex.
    pub serial: String,
    /// The subject's serialNumber attribute: the seal code (印章编码) if any.
    pub seal_code: Option<String>,
    /// commonName (the seal's name, 印章名称).
    pub common_name: Option<String>,
}

/// A time-stamp and what became of its validation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimestampReport {
    /// `genTime`, RFC 3339.
    pub gen_time: String,
    /// The TSA certificate's subject, if found.
    pub tsa: Option<String>,
    /// True if the imprint, the TSA signature and the TSA chain at genTime are valid.
    pub valid: bool,
}

/// The validation of one signature or document time-stamp.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignatureReport {
    /// Fully qualified field name.
    pub field: String,
    /// `signature` (CAdES / PKCS#7) or `document-timestamp` (RFC 3161).
    pub kind: String,
    /// `/SubFilter`.
    pub sub_filter: Option<String>,
    /// Main indication.
    pub indication: Indication,
    /// Sub-indication when not TOTAL-PASSED.
    pub sub_indication: Option<SubIndication>,
    /// The signer (or the TSA for a document time-stamp), if its certificate was found.
    pub signer: Option<Signer>,
    /// `/M`, the claimed signing time, as written (not proven).
    pub claimed_signing_time: Option<String>,
    /// The signature time-stamp (or the document time-stamp itself).
    pub timestamp: Option<TimestampReport>,
    /// Index (from 0) of the revision the signature covers.
    pub revision: Option<usize>,
    /// True if the signature covers the whole file as it stands.
    pub covers_whole_document: bool,
    /// What changed after this signature (`none` if it covers the whole
    /// file); anything beyond what it allows is also a failed finding.
    #[serde(default)]
    pub modification_level: ModificationLevel,
    /// What was checked and found, in order; failures say what failed.
    pub findings: Vec<String>,
}

/// Facts about the document as a whole.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentReport {
    /// Number of revisions (incremental updates plus the original).
    pub revisions: usize,
    /// Findings that are not about one signature.
    pub findings: Vec<String>,
}

/// The full report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// The validation time used, RFC 3339.
    pub validation_time: String,
    /// The document.
    pub document: DocumentReport,
    /// One entry per signature and document time-stamp, in file order.
    pub signatures: Vec<SignatureReport>,
    /// Overall: TOTAL-PASSED only if every signature is, and there is one.
    pub indication: Indication,
    /// Overall sub-indication when the document itself could not be judged:
    /// FORMAT_FAILURE (unreadable) or SIGNED_DATA_NOT_FOUND (no signature).
    pub sub_indication: Option<SubIndication>,
    /// The transparency-log check, when it was asked for (`--require-logged`).
    #[serde(default)]
    pub transparency: Option<super::logged::LogInclusion>,
    /// For a license record or QR code: its claims and concluded status
    /// (`null` for a PDF, when the record's signature did not verify, when it
    /// verifies with the certificate of another department or seal than the
    /// claims name, or when the signed authorised issuers list does not let
    /// that department issue the license's type).
    #[serde(default)]
    pub license: Option<LicenseReport>,
    /// The revocation data used and how old it is (`null` if not reported).
    #[serde(default)]
    pub revocation_data: Option<RevocationData>,
}

impl Report {
    /// Builds the report and derives the overall indication: the worst of the
    /// signatures', INDETERMINATE / SIGNED_DATA_NOT_FOUND if there are none.
    pub fn new(
        validation_time: String,
        document: DocumentReport,
        signatures: Vec<SignatureReport>,
    ) -> Report {
        let indication = if signatures.is_empty() {
            Indication::Indeterminate
        } else {
            signatures
                .iter()
                .fold(Indication::TotalPassed, |acc, s| acc.worst(s.indication))
        };
        let sub_indication = signatures
            .is_empty()
            .then_some(SubIndication::SignedDataNotFound);
        Report {
            validation_time,
            document,
            signatures,
            indication,
            sub_indication,
            transparency: None,
            license: None,
            revocation_data: None,
        }
    }

    /// The report for input that cannot be read as a signed document:
    /// TOTAL-FAILED / FORMAT_FAILURE with the reason as a finding.
    pub fn unreadable(
        validation_time: String,
        mut document: DocumentReport,
        why: String,
    ) -> Report {
        document.findings.push(format!("✗ {why}"));
        Report {
            validation_time,
            document,
            signatures: Vec::new(),
            indication: Indication::TotalFailed,
            sub_indication: Some(SubIndication::FormatFailure),
            transparency: None,
            license: None,
            revocation_data: None,
        }
    }

    /// The report for input that exceeds a resource limit of the verifier:
    /// INDETERMINATE / SIG_CONSTRAINTS_FAILURE (EN 319 102-1 §5.1.3: not
    /// known to be invalid, but the validation policy's limits are not met),
    /// with the limit named as a finding.
    pub fn limited(validation_time: String, mut document: DocumentReport, why: String) -> Report {
        document.findings.push(format!("✗ resource limit: {why}"));
        Report {
            validation_time,
            document,
            signatures: Vec::new(),
            indication: Indication::Indeterminate,
            sub_indication: Some(SubIndication::SigConstraintsFailure),
            transparency: None,
            license: None,
            revocation_data: None,
        }
    }

    /// Adds the transparency-log check as a validation constraint: an
    /// artefact not proven logged cannot be TOTAL-PASSED. It becomes
    /// INDETERMINATE / SIG_CONSTRAINTS_FAILURE (EN 319 102-1 §5.1.3: the
    /// signature is not known to be invalid, but a constraint of the
    /// validation policy is not met).
    pub fn require_logged(&mut self, check: super::logged::LogInclusion) {
        if !check.logged {
            if self.indication == Indication::TotalPassed {
                self.indication = Indication::Indeterminate;
                self.sub_indication = Some(SubIndication::SigConstraintsFailure);
            }
            self.document
                .findings
                .push("✗ not proven to be on the transparency log (--require-logged)".into());
        }
        self.transparency = Some(check);
    }

    /// A short bilingual summary for people, one line per signature.
    pub fn summary(&self) -> String {
        let verdict = match self.indication {
            Indication::TotalPassed => "有效 VALID",
            Indication::TotalFailed => "无效 INVALID",
            Indication::Indeterminate => "无法确定 INDETERMINATE",
        };
        let mut out = format!(
            "{verdict} ({}) — {} signature(s), {} revision(s), validated at {}\n",
            self.indication.as_str(),
            self.signatures.len(),
            self.document.revisions,
            self.validation_time
        );
        for s in &self.signatures {
            let who = s
                .signer
                .as_ref()
                .map(|p| {
                    let name = p.common_name.clone().unwrap_or_else(|| p.subject.clone());
                    match &p.organization {
                        Some(o) => format!("{name} / {o}"),
                        None => name,
                    }
                })
                .unwrap_or_else(|| "unknown signer".into());
            let sub = s
                .sub_indication
                .map(|x| format!(" {}", x.as_str()))
                .unwrap_or_default();
            out.push_str(&format!(
                "- {} [{}]: {}{} — {}",
                s.field,
                s.kind,
                s.indication.as_str(),
                sub,
                who
            ));
            if let Some(ts) = &s.timestamp {
                out.push_str(&format!(", time-stamped {}", ts.gen_time));
            }
            out.push('\n');
            if s.indication != Indication::TotalPassed {
                for f in s.findings.iter().filter(|f| f.starts_with('✗')) {
                    out.push_str(&format!("    {f}\n"));
                }
            }
        }
        for f in &self.document.findings {
            out.push_str(&format!("* {f}\n"));
        }
        if let Some(log) = &self.transparency {
            let verdict = if log.logged {
                "已留痕 logged"
            } else {
                "未证明留痕 NOT proven logged"
            };
            out.push_str(&format!("transparency log: {verdict}\n"));
            for f in &log.findings {
                out.push_str(&format!("    {f}\n"));
            }
        }
        if let Some(license) = &self.license {
            out.push_str(&super::license_summary::license_lines(license));
        }
        if let Some(data) = &self.revocation_data {
            out.push_str(&super::license_summary::revocation_lines(data));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_with_etsi_names() {
        let json = serde_json::to_value(Indication::TotalPassed).unwrap();
        assert_eq!(json, "TOTAL-PASSED");
        let json = serde_json::to_value(SubIndication::NoCertificateChainFound).unwrap();
        assert_eq!(json, "NO_CERTIFICATE_CHAIN_FOUND");
        for s in [
            SubIndication::HashFailure,
            SubIndication::RevokedNoPoe,
            SubIndication::TryLater,
            SubIndication::CryptoConstraintsFailure,
        ] {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
    }

    #[test]
    fn overall_is_the_worst_and_empty_is_indeterminate() {
        let empty = Report::new("t".into(), DocumentReport::default(), vec![]);
        assert_eq!(empty.indication, Indication::Indeterminate);
        assert_eq!(
            Indication::TotalPassed.worst(Indication::Indeterminate),
            Indication::Indeterminate
        );
        assert_eq!(
            Indication::Indeterminate.worst(Indication::TotalFailed),
            Indication::TotalFailed
        );
    }
}
