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
//! 5. The signature dictionary and its field exist in the revision it
//!    signs (a copy of another signature's `/ByteRange` and `/Contents` in a
//!    later field is not a second signature): otherwise FORMAT_FAILURE.
//! 6. Every later incremental update is judged by what the signed revision
//!    shows ([`super::changes`]), and none may list an object twice in its
//!    cross-reference table; the modification level is reported.
//!
//! Every step is linear in the input and bounded: each revision is parsed
//! at most once per verification, against one decompression and object
//! budget ([`crate::pdf::limits`]), with at most [`MAX_SIGNATURES`]
//! signatures and [`MAX_REVISIONS`] revisions. A document over a limit gets
//! INDETERMINATE with a finding that names the limit.
//!
//! Document time-stamps (`/SubFilter /ETSI.RFC3161`, EN 319 142-1 §5.4.3)
//! are validated the same way with the token in place of the CMS.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use lopdf::Document;
use time::OffsetDateTime;

use super::chain::{self, ChainStatus, Purpose};
use super::changes::{self, LaterSignature, Permissions};
use super::document::{dss, duplicate_xref_entries, revision_ends};
use super::report::{
    DocumentReport, Indication, ModificationLevel, Report, SignatureReport, SubIndication,
    TimestampReport,
};
use super::tokens::{self, TokenError};
use super::trust::TrustStore;
use crate::cms;
use crate::pdf::{self, Budget, PdfError, SignatureInfo, UnreadableSignature};

/// Larger documents are refused with FORMAT_FAILURE.
pub const MAX_DOCUMENT_BYTES: usize = 256 * 1024 * 1024;
/// More signature fields with a value than this: INDETERMINATE.
pub const MAX_SIGNATURES: usize = 100;
/// More revisions than this: INDETERMINATE.
pub const MAX_REVISIONS: usize = 1000;
/// Bytes parsed again for the signed revisions, in all: beyond, INDETERMINATE.
pub const MAX_REPARSED_BYTES: usize = 256 * 1024 * 1024;

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
    if revisions.len() > MAX_REVISIONS {
        return Report::limited(
            time,
            document,
            format!(
                "the document has {} revisions, more than the limit of {MAX_REVISIONS}",
                revisions.len()
            ),
        );
    }
    let mut budget = Budget::default();
    let last = match pdf::load_within(bytes, &mut budget) {
        Ok(doc) => doc,
        Err(e @ PdfError::TooComplex(_)) => return Report::limited(time, document, e.to_string()),
        Err(e) => return Report::unreadable(time, document, e.to_string()),
    };
    let entries = match pdf::signature_entries(&last) {
        Ok(s) => s,
        Err(e) => return Report::unreadable(time, document, e.to_string()),
    };
    if entries.len() > MAX_SIGNATURES {
        return Report::limited(
            time,
            document,
            format!(
                "the document has {} signature fields with a value, more than the limit of {MAX_SIGNATURES}",
                entries.len()
            ),
        );
    }
    let (dss_certs, dss_crls) = dss(&last);
    let ctx = Context {
        bytes,
        store,
        at,
        revisions,
        last,
        dss_certs,
        dss_crls,
        parsed: RefCell::new(Parsed {
            budget,
            reparsed: 0,
            revisions: HashMap::new(),
        }),
        duplicates: std::cell::OnceCell::new(),
    };
    let mut checked: Vec<Checked<'_>> = entries.iter().map(|e| ctx.check(e)).collect();
    let later: Vec<LaterSignature> = checked
        .iter()
        .filter(|c| c.intact)
        .filter_map(|c| {
            let (sig, revision) = (c.sig?, c.report.revision?);
            Some(LaterSignature {
                field: sig.field_id,
                value: sig.value_id?,
                revision,
                document_timestamp: c.report.kind == "document-timestamp",
            })
        })
        .collect();
    for c in &mut checked {
        if let (Some(sig), Some(revision)) = (c.sig, c.report.revision)
            && !c.report.covers_whole_document
        {
            ctx.changes_after(sig, revision, &later, &mut c.out, &mut c.report);
        }
    }
    let reports = checked.into_iter().map(Checked::finish).collect();
    Report::new(time, document, reports)
}

/// One signature after the checks of its own revision.
struct Checked<'s> {
    sig: Option<&'s SignatureInfo>,
    report: SignatureReport,
    out: Outcome,
    /// The signed bytes match and the signature value verifies: a later
    /// field holding it is a signature, not a picture of one.
    intact: bool,
}

impl Checked<'_> {
    fn finish(self) -> SignatureReport {
        let Checked {
            mut report, out, ..
        } = self;
        if let Some((indication, sub)) = out.verdict {
            report.indication = indication;
            report.sub_indication = Some(sub);
        }
        report.findings = out.findings;
        report
    }
}

/// The revisions parsed so far and what the parsing may still cost.
struct Parsed {
    budget: Budget,
    reparsed: usize,
    revisions: HashMap<usize, Rc<Result<Document, String>>>,
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
    parsed: RefCell<Parsed>,
    /// Objects each revision's cross-reference table lists twice, read once.
    duplicates: std::cell::OnceCell<Vec<Vec<u32>>>,
}

/// Findings and the first (worst) failure.
#[derive(Default)]
struct Outcome {
    findings: Vec<String>,
    verdict: Option<(Indication, SubIndication)>,
    intact: bool,
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
    /// Everything about one signature but the changes after it.
    fn check<'s>(&self, entry: &'s Result<SignatureInfo, UnreadableSignature>) -> Checked<'s> {
        let sig = match entry {
            Ok(sig) => sig,
            Err(bad) => {
                let mut out = Outcome::default();
                out.fail(
                    Indication::TotalFailed,
                    SubIndication::FormatFailure,
                    format!("signature field {:?}: {}", bad.field_name, bad.why),
                );
                return Checked {
                    sig: None,
                    report: SignatureReport {
                        field: bad.field_name.clone(),
                        kind: "signature".into(),
                        sub_filter: None,
                        indication: Indication::TotalPassed,
                        sub_indication: None,
                        signer: None,
                        claimed_signing_time: None,
                        timestamp: None,
                        revision: None,
                        covers_whole_document: false,
                        modification_level: ModificationLevel::None,
                        findings: Vec::new(),
                    },
                    out,
                    intact: false,
                };
            }
        };
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
            modification_level: ModificationLevel::None,
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
                if let Err(why) = self.in_own_revision(sig, report.covers_whole_document) {
                    out.intact = false;
                    out.fail(Indication::TotalFailed, SubIndication::FormatFailure, why);
                }
            }
            Err(why) => out.fail(Indication::TotalFailed, SubIndication::FormatFailure, why),
        }
        let intact = out.intact;
        Checked {
            sig: Some(sig),
            report,
            out,
            intact,
        }
    }

    /// The revision ending at `end`, parsed once per verification.
    fn revision(&self, end: usize) -> Rc<Result<Document, String>> {
        let mut parsed = self.parsed.borrow_mut();
        if let Some(doc) = parsed.revisions.get(&end) {
            return doc.clone();
        }
        let doc = if parsed.reparsed.saturating_add(end) > MAX_REPARSED_BYTES {
            Err(format!(
                "parsing the signed revisions would read more than {} MiB in all (resource limit)",
                MAX_REPARSED_BYTES / (1024 * 1024)
            ))
        } else {
            parsed.reparsed += end;
            pdf::load_within(&self.bytes[..end], &mut parsed.budget).map_err(|e| e.to_string())
        };
        let doc = Rc::new(doc);
        parsed.revisions.insert(end, doc.clone());
        doc
    }

    /// The signature dictionary and its field are part of the revision the
    /// signature covers (ISO 32000-1 §12.8.1: the signature value is written
    /// into the revision it signs), with the same `/ByteRange`.
    fn in_own_revision(&self, sig: &SignatureInfo, whole: bool) -> Result<(), String> {
        if whole {
            return Ok(());
        }
        let missing = "the signature dictionary and its field are not part of the revision it signs \
             (a later field copies another signature's /ByteRange and /Contents)";
        let signed = self.revision(sig.revision_end);
        let Ok(signed) = signed.as_ref() else {
            return Err("the signed revision cannot be read".into());
        };
        let field = sig.field_id.and_then(|id| signed.objects.get(&id));
        let value_in_field = field
            .and_then(|f| f.as_dict().ok())
            .and_then(|f| f.get(b"V").ok())
            .map(|v| v.as_reference().ok() == sig.value_id);
        match (sig.value_id, field, value_in_field) {
            (Some(v), Some(_), Some(true)) => {
                let same = signed.objects.get(&v) == self.last.objects.get(&v);
                if same { Ok(()) } else { Err(missing.into()) }
            }
            (None, Some(f), _)
                if self.last.objects.get(&sig.field_id.unwrap_or((0, 0))) == Some(f) =>
            {
                Ok(())
            }
            _ => Err(missing.into()),
        }
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
            Ok(()) => {
                out.ok("the CMS signature verifies with the signer's certificate");
                out.intact = true;
            }
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
            Ok(gen_time) => {
                out.intact = true;
                out.ok(format!(
                    "document time-stamp valid, genTime {}",
                    rfc3339(gen_time)
                ));
            }
            Err(e) => {
                out.intact = matches!(e, TokenError::Chain(_));
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

    fn changes_after(
        &self,
        sig: &SignatureInfo,
        revision: usize,
        later: &[LaterSignature],
        out: &mut Outcome,
        report: &mut SignatureReport,
    ) {
        let signed = self.revision(sig.revision_end);
        let signed = match signed.as_ref() {
            Ok(doc) => doc,
            Err(e) => {
                report.modification_level = ModificationLevel::Other;
                return out.fail(
                    Indication::Indeterminate,
                    SubIndication::SigConstraintsFailure,
                    format!("the signed revision cannot be read: {e}"),
                );
            }
        };
        let analysis = changes::analyse(signed, &self.last, &Permissions::of(sig, revision), later);
        let mut found = analysis.disallowed;
        report.modification_level = analysis.level;
        let duplicates = self.duplicates.get_or_init(|| {
            self.revisions
                .iter()
                .map(|&(eof, _)| duplicate_xref_entries(self.bytes, eof))
                .collect()
        });
        for (i, (&(eof, _), twice)) in self.revisions.iter().zip(duplicates).enumerate() {
            if eof <= sig.revision_end {
                continue;
            }
            for number in twice {
                report.modification_level = ModificationLevel::Other;
                found.push(format!(
                    "revision {i} lists object {number} more than once in its cross-reference table"
                ));
            }
        }
        let tail_from = self.revisions.last().map_or(0, |&(_, eol)| eol);
        let tail = &self.bytes[tail_from.min(self.bytes.len())..];
        let junk = tail
            .iter()
            .filter(|b| !b"\0\t\n\x0c\r ".contains(b))
            .count();
        if junk > 0 {
            report.modification_level = ModificationLevel::Other;
            found.push(format!(
                "the file continues for {} bytes after its last %%EOF, outside any revision (ISO 32000-1 §7.5.6); readers that recover damaged files may show them",
                tail.len()
            ));
        }
        if found.is_empty() {
            out.ok(format!(
                "later revisions only add signatures, time-stamps or validation data (modification level {})",
                report.modification_level.as_str()
            ));
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
