//! PAdES signature validation (ETSI EN 319 142-1 §5, validated per
//! ETSI EN 319 102-1 §5.3 basic validation with time-stamps, §5.5).
//!
//! For every signature field of the document, in order:
//! 1. `/ByteRange` is `[0 a b c]`, the gap `a..b` is exactly this
//!    signature's `/Contents` hex string, and `b + c` ends at a revision's
//!    `%%EOF` (ISO 32000-1 §12.8.1): otherwise FORMAT_FAILURE. This is what
//!    defeats signature wrapping.
//! 2. The digest of the two ranges equals the CMS message-digest
//!    (RFC 5652 §11.2): otherwise HASH_FAILURE.
//! 3. The CMS signature verifies with the signer's certificate (RFC 5652
//!    §5.6; ECDSA, or RSA PKCS#1 v1.5 / PSS of RFC 8017 §8.2 / §8.1) and
//!    signing-certificate-v2 names it (RFC 5035 §3, EN 319 142-1 §6.3):
//!    otherwise SIG_CRYPTO_FAILURE (FORMAT_FAILURE if absent). An algorithm
//!    the verifier cannot check is INDETERMINATE / CRYPTO_CONSTRAINTS_FAILURE
//!    (EN 319 102-1 §5.2.7), never a forgery.
//! 4. A signature time-stamp (id-aa-timeStampToken over the signature value)
//!    is validated and its `genTime` is the proof of existence (EN 319 102-1
//!    §5.6.2.4); the certificate chain is validated at that time, else at the
//!    validation time.
//! 5. Every later incremental update is checked ([`super::changes`]), and
//!    none may list an object twice in its cross-reference table.
//!
//! Document time-stamps (`/SubFilter /ETSI.RFC3161`, EN 319 142-1 §5.4.3)
//! are validated the same way with the token in place of the CMS.

use lopdf::Document;
use time::OffsetDateTime;

use super::chain::{self, ChainStatus, Purpose};
use super::changes;
use super::document::{dss, duplicate_xref_entries, revision_ends};
use super::report::{
    DocumentReport, Indication, Report, SignatureReport, SubIndication, TimestampReport,
};
use super::tokens::{self, TokenError};
use super::trust::TrustStore;
use crate::cms;
use crate::pdf::{self, SignatureInfo};

/// Larger documents are refused with FORMAT_FAILURE.
pub const MAX_DOCUMENT_BYTES: usize = 256 * 1024 * 1024;

/// Validates every signature of `bytes` at `at` against `store`.
pub fn verify_pdf(bytes: &[u8], store: &TrustStore, at: OffsetDateTime) -> Report {
    let time = rfc3339(at);
    let revisions = revision_ends(bytes);
    let document = DocumentReport {
        revisions: revisions.len(),
        findings: Vec::new(),
    };
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Report::unreadable(time, document, "the document is too large".into());
    }
    let last = match pdf::load(bytes) {
        Ok(doc) => doc,
        Err(e) => return Report::unreadable(time, document, e.to_string()),
    };
    let signatures = match pdf::signatures_in(&last) {
        Ok(s) => s,
        Err(e) => return Report::unreadable(time, document, e.to_string()),
    };
    let (dss_certs, dss_crls) = dss(&last);
    let ctx = Context {
        bytes,
        store,
        at,
        revisions,
        last,
        dss_certs,
        dss_crls,
    };
    let reports = signatures.iter().map(|s| ctx.verify(s)).collect();
    Report::new(time, document, reports)
}

struct Context<'a> {
    bytes: &'a [u8],
    store: &'a TrustStore,
    at: OffsetDateTime,
    /// (end after `%%EOF`, end after its end-of-line) of every revision.
    revisions: Vec<(usize, usize)>,
    last: Document,
    dss_certs: Vec<Vec<u8>>,
    dss_crls: Vec<Vec<u8>>,
}

/// Findings and the first (worst) failure.
#[derive(Default)]
struct Outcome {
    findings: Vec<String>,
    verdict: Option<(Indication, SubIndication)>,
}

impl Outcome {
    fn ok(&mut self, msg: impl Into<String>) {
        self.findings.push(format!("✓ {}", msg.into()));
    }

    fn note(&mut self, msg: impl Into<String>) {
        self.findings.push(format!("• {}", msg.into()));
    }

    fn fail(&mut self, indication: Indication, sub: SubIndication, msg: impl Into<String>) {
        self.findings.push(format!("✗ {}", msg.into()));
        let replace = match self.verdict {
            None => true,
            Some((Indication::Indeterminate, _)) => indication == Indication::TotalFailed,
            Some(_) => false,
        };
        if replace {
            self.verdict = Some((indication, sub));
        }
    }
}

impl Context<'_> {
    fn verify(&self, sig: &SignatureInfo) -> SignatureReport {
        let doc_ts = sig.sub_filter.as_deref() == Some("ETSI.RFC3161")
            || sig.sig_type.as_deref() == Some("DocTimeStamp");
        let mut report = SignatureReport {
            field: sig.field_name.clone(),
            kind: if doc_ts {
                "document-timestamp"
            } else {
                "signature"
            }
            .into(),
            sub_filter: sig.sub_filter.clone(),
            indication: Indication::TotalPassed,
            sub_indication: None,
            signer: None,
            claimed_signing_time: sig.signing_time.clone(),
            timestamp: None,
            revision: None,
            covers_whole_document: false,
            findings: Vec::new(),
        };
        let mut out = Outcome::default();
        match self.byte_range(sig) {
            Ok(revision) => {
                report.revision = Some(revision);
                report.covers_whole_document = revision + 1 == self.revisions.len()
                    && self.bytes[sig.revision_end..]
                        .iter()
                        .all(u8::is_ascii_whitespace);
                out.ok(format!(
                    "/ByteRange covers revision {revision} except /Contents"
                ));
                if doc_ts {
                    self.document_timestamp(sig, &mut out, &mut report);
                } else {
                    self.signature(sig, &mut out, &mut report);
                }
                if !report.covers_whole_document {
                    self.changes_after(sig, &mut out);
                }
            }
            Err(why) => out.fail(Indication::TotalFailed, SubIndication::FormatFailure, why),
        }
        if let Some((indication, sub)) = out.verdict {
            report.indication = indication;
            report.sub_indication = Some(sub);
        }
        report.findings = out.findings;
        report
    }

    /// Checks the byte range and returns the index of the revision it covers.
    fn byte_range(&self, sig: &SignatureInfo) -> Result<usize, String> {
        let [start, a, b, c] = sig.byte_range;
        let shape = format!("/ByteRange [{start} {a} {b} {c}]");
        let end = b.checked_add(c).filter(|&e| e <= self.bytes.len());
        let (0, true, Some(end)) = (start, a < b, end) else {
            return Err(format!("{shape} is not [0 a b c] within the file"));
        };
        let gap = &self.bytes[a..b];
        let hex = gap
            .strip_prefix(b"<")
            .and_then(|g| g.strip_suffix(b">"))
            .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
            .ok_or_else(|| format!("{shape}: the excluded bytes are not one hex string"))?;
        let decoded = hex::decode(hex).map_err(|_| format!("{shape}: odd hex string"))?;
        let matches = decoded.starts_with(&sig.contents)
            && decoded[sig.contents.len()..].iter().all(|&x| x == 0);
        let before = self.bytes[..a].trim_ascii_end();
        if !matches || !before.ends_with(b"/Contents") {
            return Err(format!(
                "{shape}: the excluded bytes are not this signature's /Contents"
            ));
        }
        self.revisions
            .iter()
            .position(|&(eof, eol)| end == eof || end == eol)
            .ok_or_else(|| format!("{shape} does not end at a revision's %%EOF"))
    }

    fn ranges_digest(
        &self,
        sig: &SignatureInfo,
        algorithm: &'static ring::digest::Algorithm,
    ) -> Vec<u8> {
        let [_, a, b, c] = sig.byte_range;
        let mut ctx = ring::digest::Context::new(algorithm);
        ctx.update(&self.bytes[..a]);
        ctx.update(&self.bytes[b..b + c]);
        ctx.finish().as_ref().to_vec()
    }

    fn signature(&self, sig: &SignatureInfo, out: &mut Outcome, report: &mut SignatureReport) {
        use Indication::{Indeterminate, TotalFailed};
        let cades = sig.sub_filter.as_deref() == Some("ETSI.CAdES.detached");
        if !cades && sig.sub_filter.as_deref() != Some("adbe.pkcs7.detached") {
            let name = sig.sub_filter.as_deref().unwrap_or("(none)");
            return out.fail(
                TotalFailed,
                SubIndication::FormatFailure,
                format!("/SubFilter {name} is not supported"),
            );
        }
        let mut cms = match cms::parse(&sig.contents) {
            Ok(cms) => cms,
            Err(e) => {
                return out.fail(
                    TotalFailed,
                    SubIndication::FormatFailure,
                    format!("the CMS cannot be read: {e}"),
                );
            }
        };
        if cms.encapsulated_content.is_some() || cms.content_type_attribute != cms::oid::DATA {
            return out.fail(
                TotalFailed,
                SubIndication::FormatFailure,
                "the CMS is not a detached signature over id-data",
            );
        }
        if cades && cms.has_signing_time {
            out.note(
                "a signing-time attribute is present (EN 319 142-1 §6.3 says it shall not be)",
            );
        }
        let Some(algorithm) = tokens::ring_digest(&cms.digest_algorithm) else {
            return out.fail(
                Indeterminate,
                SubIndication::CryptoConstraintsFailure,
                format!("digest algorithm {} is not supported", cms.digest_algorithm),
            );
        };
        if self.ranges_digest(sig, algorithm) != cms.message_digest {
            return out.fail(
                TotalFailed,
                SubIndication::HashFailure,
                "the signed bytes do not match the message digest",
            );
        }
        out.ok("the message digest matches the signed bytes");
        cms.certificates.extend(self.dss_certs.iter().cloned());
        let Some(cert) = cms.signer_certificate().map(<[u8]>::to_vec) else {
            return out.fail(
                Indeterminate,
                SubIndication::NoSigningCertificateFound,
                "the signer's certificate is not in the CMS or the DSS",
            );
        };
        report.signer = chain::signer_of(&cert);
        match cms.verify_signature(&cert) {
            Err(e @ cms::CmsError::UnsupportedAlgorithm { .. }) => {
                return out.fail(
                    Indeterminate,
                    SubIndication::CryptoConstraintsFailure,
                    e.to_string(),
                );
            }
            Err(e) => return out.fail(TotalFailed, SubIndication::SigCryptoFailure, e.to_string()),
            Ok(()) => out.ok("the CMS signature verifies with the signer's certificate"),
        }
        match cms.check_signing_certificate(&cert) {
            Err(e @ cms::CmsError::UnsupportedAlgorithm { .. }) => {
                return out.fail(
                    Indeterminate,
                    SubIndication::CryptoConstraintsFailure,
                    e.to_string(),
                );
            }
            Err(e) => return out.fail(TotalFailed, SubIndication::SigCryptoFailure, e.to_string()),
            Ok(named) if !named.is_empty() => {
                out.ok("the ESS signing-certificate attribute names the signer's certificate");
            }
            Ok(_) if cades => {
                return out.fail(
                    TotalFailed,
                    SubIndication::FormatFailure,
                    "no signing-certificate-v2 attribute (EN 319 142-1 §6.3)",
                );
            }
            Ok(_) => out.note("no signing-certificate attribute"),
        }
        let mut poe = None;
        if let Some(token) = &cms.timestamp_token {
            let signature = cms.signature.clone();
            let imprint = move |alg: &'static ring::digest::Algorithm| {
                ring::digest::digest(alg, &signature).as_ref().to_vec()
            };
            match self.token(token, imprint, report) {
                Ok(gen_time) if gen_time <= self.at => {
                    out.ok(format!(
                        "signature time-stamp valid, genTime {}",
                        rfc3339(gen_time)
                    ));
                    poe = Some(gen_time);
                }
                Ok(gen_time) => out.note(format!(
                    "the time-stamp's genTime {} is after the validation time",
                    rfc3339(gen_time)
                )),
                // An untrusted TSA or one whose algorithm cannot be checked only
                // costs the proof of existence (EN 319 102-1 §5.6.2.4); a token
                // that does not match or verify is tampering.
                Err(
                    e @ (TokenError::Chain(_)
                    | TokenError::NoCertificate
                    | TokenError::Unsupported(_)),
                ) => out.note(format!(
                    "signature time-stamp not used as proof of existence: {e}"
                )),
                Err(e) => out.fail(
                    Indeterminate,
                    SubIndication::SigConstraintsFailure,
                    format!("signature time-stamp: {e}"),
                ),
            }
        }
        self.chain(&cert, &cms.certificates, poe, Purpose::Signing, out);
    }

    fn document_timestamp(
        &self,
        sig: &SignatureInfo,
        out: &mut Outcome,
        report: &mut SignatureReport,
    ) {
        let imprint = |alg| self.ranges_digest(sig, alg);
        match self.token(&sig.contents, imprint, report) {
            Ok(gen_time) => out.ok(format!(
                "document time-stamp valid, genTime {}",
                rfc3339(gen_time)
            )),
            Err(e) => {
                let (indication, sub) = match &e {
                    TokenError::Format(_) => {
                        (Indication::TotalFailed, SubIndication::FormatFailure)
                    }
                    TokenError::Hash => (Indication::TotalFailed, SubIndication::HashFailure),
                    TokenError::Crypto(_) => {
                        (Indication::TotalFailed, SubIndication::SigCryptoFailure)
                    }
                    TokenError::Unsupported(_) => (
                        Indication::Indeterminate,
                        SubIndication::CryptoConstraintsFailure,
                    ),
                    TokenError::NoCertificate => (
                        Indication::Indeterminate,
                        SubIndication::NoSigningCertificateFound,
                    ),
                    TokenError::Chain(status) => chain_verdict(status, true).unwrap_or((
                        Indication::Indeterminate,
                        SubIndication::ChainConstraintsFailure,
                    )),
                };
                out.fail(indication, sub, e.to_string());
            }
        }
    }

    /// Validates a token, fills in the report's time-stamp and returns genTime.
    fn token(
        &self,
        token: &[u8],
        imprint: impl Fn(&'static ring::digest::Algorithm) -> Vec<u8>,
        report: &mut SignatureReport,
    ) -> Result<OffsetDateTime, TokenError> {
        let info = tokens::parse(token)?;
        let gen_time = info.gen_time;
        let result = tokens::validate(
            info,
            imprint,
            self.store,
            &self.dss_certs,
            &self.dss_crls,
            self.at,
        );
        let tsa = result
            .as_ref()
            .ok()
            .and_then(|t| chain::signer_of(&t.tsa_certificate));
        if report.kind == "document-timestamp" {
            report.signer = tsa.clone();
        }
        report.timestamp = Some(TimestampReport {
            gen_time: rfc3339(gen_time),
            tsa: tsa.map(|s| s.subject),
            valid: result.is_ok(),
        });
        result.map(|t| t.info.gen_time)
    }

    fn chain(
        &self,
        cert: &[u8],
        certs: &[Vec<u8>],
        poe: Option<OffsetDateTime>,
        purpose: Purpose,
        out: &mut Outcome,
    ) {
        let when = poe.unwrap_or(self.at);
        let status = chain::validate(self.store, cert, certs, &self.dss_crls, when, purpose);
        let at = rfc3339(when);
        match (&status, chain_verdict(&status, poe.is_some())) {
            (ChainStatus::ValidRevokedLater(r), _) => out.ok(format!(
                "certificate chain valid at {at}; revoked later, at {}, after the proof of existence",
                rfc3339(*r)
            )),
            (_, None) => out.ok(format!("certificate chain to a trust anchor valid at {at}")),
            (_, Some((indication, sub))) => {
                out.fail(indication, sub, format!("certificate chain at {at}: {status:?}"))
            }
        }
    }

    fn changes_after(&self, sig: &SignatureInfo, out: &mut Outcome) {
        let signed = match pdf::load(&self.bytes[..sig.revision_end]) {
            Ok(doc) => doc,
            Err(e) => {
                return out.fail(
                    Indication::Indeterminate,
                    SubIndication::SigConstraintsFailure,
                    format!("the signed revision cannot be read: {e}"),
                );
            }
        };
        let mut found = changes::disallowed(&signed, &self.last);
        for (i, &(eof, _)) in self.revisions.iter().enumerate() {
            if eof <= sig.revision_end {
                continue;
            }
            for number in duplicate_xref_entries(self.bytes, eof) {
                found.push(format!(
                    "revision {i} lists object {number} more than once in its cross-reference table"
                ));
            }
        }
        if found.is_empty() {
            out.ok("later revisions only add signatures, time-stamps or validation data");
        }
        for change in found {
            out.fail(
                Indication::Indeterminate,
                SubIndication::SigConstraintsFailure,
                format!("changed after signing: {change}"),
            );
        }
    }
}

/// The indication for a chain status; `None` if it passes. With a proof of
/// existence (the chain validated at the time-stamp's genTime) a revoked
/// certificate is a proven failure, and so is one not yet valid: the
/// signature existed before its certificate (EN 319 102-1 §5.5.4,
/// best-signature-time before notBefore → FAILED / NOT_YET_VALID).
///
/// A certificate already expired at genTime is not: a proof of existence
/// bounds the signing time from above only, so it cannot show the signature
/// was made after expiry, nor inside the validity interval (§5.5.4,
/// best-signature-time after notAfter → INDETERMINATE / OUT_OF_BOUNDS_*;
/// this verifier has no OUT_OF_BOUNDS_NOT_REVOKED and says
/// OUT_OF_BOUNDS_NO_POE).
fn chain_verdict(status: &ChainStatus, poe: bool) -> Option<(Indication, SubIndication)> {
    use Indication::{Indeterminate, TotalFailed};
    Some(match status {
        ChainStatus::Valid | ChainStatus::ValidRevokedLater(_) => return None,
        ChainStatus::Revoked(_) if poe => (TotalFailed, SubIndication::Revoked),
        ChainStatus::Revoked(_) => (Indeterminate, SubIndication::RevokedNoPoe),
        ChainStatus::NotYetValid if poe => (TotalFailed, SubIndication::NotYetValid),
        ChainStatus::Expired | ChainStatus::NotYetValid => {
            (Indeterminate, SubIndication::OutOfBoundsNoPoe)
        }
        ChainStatus::NoChain(_) => (Indeterminate, SubIndication::NoCertificateChainFound),
        ChainStatus::Constraints(_) => (Indeterminate, SubIndication::ChainConstraintsFailure),
        ChainStatus::RevocationUnknown(_) => (Indeterminate, SubIndication::TryLater),
    })
}

pub(crate) fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
