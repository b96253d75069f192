//! X.509 certificate validation (ETSI EN 319 102-1 §5.2.6, RFC 5280 §6) with
//! rustls-webpki: a path from the certificate to a trust anchor, every
//! certificate valid at the validation time, and revocation checked with CRLs
//! (RFC 5280 §5) for every CA in the path (`RevocationCheckDepth::Chain`,
//! unknown status denied, expired CRLs refused). Certificates and CRLs may be
//! signed with ECDSA, Ed25519 or RSA (PKCS#1 v1.5 and RSASSA-PSS, RSA-2048 to
//! 8192): the algorithms of [`SignatureMemo::webpki_algorithms`].
//!
//! A revocation that happened after the validation time does not count at
//! that time: when the validation time is a proof of existence (a trusted
//! time-stamp, EN 319 102-1 §5.6.2.4), a seal revoked later still validates.

use rustls_pki_types::{CertificateDer, SignatureVerificationAlgorithm, UnixTime};
use time::OffsetDateTime;
use webpki::{
    CertRevocationList, EndEntityCert, ExpirationPolicy, KeyPurposeIdIter, OwnedCertRevocationList,
    RevocationCheckDepth, RevocationOptionsBuilder, UnknownStatusPolicy,
};
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::revocation_list::CertificateRevocationList;

use super::memo::SignatureMemo;
use super::trust::TrustStore;

/// What the certificate is validated for; the leaf's EKU is checked here
/// because webpki applies an EKU requirement to every certificate of the path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// Signing documents: any EKU that does not exclude it.
    Signing,
    /// A TSA: extended key usage id-kp-timeStamping (RFC 3161 §2.3).
    TimeStamping,
}

/// The outcome of certificate validation at one time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ChainStatus {
    /// A path to an anchor exists and nothing in it is revoked at the time.
    Valid,
    /// Valid at the time; the certificate was revoked later, at this time.
    ValidRevokedLater(OffsetDateTime),
    /// A certificate of the path is revoked (when, if known).
    Revoked(Option<OffsetDateTime>),
    /// A certificate of the path had expired at the time.
    Expired,
    /// A certificate of the path was not yet valid at the time.
    NotYetValid,
    /// No path to a trust anchor.
    NoChain(String),
    /// The path breaks a constraint (usage, basic constraints, EKU, …).
    Constraints(String),
    /// Revocation status unknown (no CRL, or an expired one).
    RevocationUnknown(String),
}

/// Validates `leaf` at `at` against `store`, with extra certificates and CRLs
/// from the document (CMS certificates, `/DSS`).
pub(crate) fn validate(
    store: &TrustStore,
    leaf: &[u8],
    extra_certs: &[Vec<u8>],
    extra_crls: &[Vec<u8>],
    at: OffsetDateTime,
    purpose: Purpose,
) -> ChainStatus {
    if let Err(why) = check_leaf(leaf, purpose) {
        return ChainStatus::Constraints(why);
    }
    validate_path(store, leaf, extra_certs, extra_crls, at)
}

/// [`validate`] for a leaf that already passed [`check_leaf`]: the path,
/// validity periods and revocation.
pub(crate) fn validate_path(
    store: &TrustStore,
    leaf: &[u8],
    extra_certs: &[Vec<u8>],
    extra_crls: &[Vec<u8>],
    at: OffsetDateTime,
) -> ChainStatus {
    // The bundle's own CRLs are sorted out once per store; a document's
    // certificates and CRLs (CMS, /DSS) are added per call.
    let from_document;
    let RevocationLists {
        ders: crl_ders,
        parsed: crls,
    } = if extra_certs.is_empty() && extra_crls.is_empty() {
        store.bundle_crls()
    } else {
        from_document = RevocationLists::of(store, extra_certs, extra_crls);
        &from_document
    };
    match run(store, leaf, extra_certs, crls, at, true) {
        Err(webpki::Error::CertRevoked) => {
            let when = revocation_time(leaf, crl_ders);
            match when {
                Some(when) if when > at => match run(store, leaf, extra_certs, crls, at, false) {
                    Ok(()) => ChainStatus::ValidRevokedLater(when),
                    Err(e) => map_error(e),
                },
                _ => ChainStatus::Revoked(when),
            }
        }
        Ok(()) => ChainStatus::Valid,
        Err(e) => map_error(e),
    }
}

fn map_error(e: webpki::Error) -> ChainStatus {
    use webpki::Error as E;
    match e {
        E::CertExpired { .. } => ChainStatus::Expired,
        E::CertNotValidYet { .. } => ChainStatus::NotYetValid,
        E::CertRevoked => ChainStatus::Revoked(None),
        E::UnknownIssuer => ChainStatus::NoChain("no path to a trust anchor".into()),
        E::UnknownRevocationStatus => {
            ChainStatus::RevocationUnknown("no CRL for a certificate of the path".into())
        }
        E::CrlExpired { .. } => {
            ChainStatus::RevocationUnknown("the CRL is past its nextUpdate".into())
        }
        other => ChainStatus::Constraints(format!("{other:?}")),
    }
}

/// Accepts every EKU: webpki calls this for each certificate of the path and
/// CAs may carry EKUs of their own. The leaf's EKU is checked in [`check_leaf`].
struct AnyEku;

impl webpki::ExtendedKeyUsageValidator for AnyEku {
    fn validate(&self, iter: KeyPurposeIdIter<'_, '_>) -> Result<(), webpki::Error> {
        for id in iter {
            id?;
        }
        Ok(())
    }
}

fn run(
    store: &TrustStore,
    leaf: &[u8],
    extra_certs: &[Vec<u8>],
    crls: &[CertRevocationList<'static>],
    at: OffsetDateTime,
    check_revocation: bool,
) -> Result<(), webpki::Error> {
    let leaf_der = CertificateDer::from(leaf);
    let cert = EndEntityCert::try_from(&leaf_der)?;
    let anchors = store.webpki_anchors();
    let intermediates: Vec<CertificateDer<'_>> = store
        .intermediates()
        .iter()
        .chain(extra_certs)
        .filter(|c| c.as_slice() != leaf)
        .map(|c| CertificateDer::from(c.as_slice()))
        .collect();
    let refs: Vec<&CertRevocationList<'_>> = crls.iter().collect();
    let revocation = if check_revocation {
        match RevocationOptionsBuilder::new(&refs) {
            Ok(builder) => Some(
                builder
                    .with_depth(RevocationCheckDepth::Chain)
                    .with_status_policy(UnknownStatusPolicy::Deny)
                    .with_expiration_policy(ExpirationPolicy::Enforce)
                    .build(),
            ),
            Err(_) => return Err(webpki::Error::UnknownRevocationStatus),
        }
    } else {
        None
    };
    let seconds = u64::try_from(at.unix_timestamp()).unwrap_or(0);
    let time = UnixTime::since_unix_epoch(std::time::Duration::from_secs(seconds));
    let algorithms = store.memo().webpki_algorithms();
    let algorithms: Vec<&dyn SignatureVerificationAlgorithm> = algorithms
        .iter()
        .map(|a| a as &dyn SignatureVerificationAlgorithm)
        .collect();
    cert.verify_for_usage(
        &algorithms,
        anchors,
        &intermediates,
        time,
        AnyEku,
        revocation,
        None,
    )
    .map(|_| ())
}

/// The authentic CRLs for a validation, as DER and as parsed by webpki.
pub(crate) struct RevocationLists {
    ders: Vec<Vec<u8>>,
    parsed: Vec<CertRevocationList<'static>>,
}

impl std::fmt::Debug for RevocationLists {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RevocationLists({} CRLs)", self.ders.len())
    }
}

impl RevocationLists {
    /// The CRLs of `store` and of the document that are signed by a
    /// certificate of either, newest first.
    pub(crate) fn of(
        store: &TrustStore,
        extra_certs: &[Vec<u8>],
        extra_crls: &[Vec<u8>],
    ) -> RevocationLists {
        let candidates: Vec<&[u8]> = store
            .anchors()
            .iter()
            .chain(store.intermediates())
            .chain(extra_certs)
            .map(Vec::as_slice)
            .collect();
        let ders = authentic_crls(
            store.crls().iter().chain(extra_crls),
            &candidates,
            store.memo(),
        );
        let parsed = ders
            .iter()
            .filter_map(|der| OwnedCertRevocationList::from_der(der).ok())
            .map(CertRevocationList::Owned)
            .collect();
        RevocationLists { ders, parsed }
    }
}

/// The CRLs whose signature verifies with the key of a certificate named as
/// their issuer (DER), newest first (webpki uses the first authoritative CRL).
fn authentic_crls<'a>(
    crls: impl Iterator<Item = &'a Vec<u8>>,
    candidates: &[&[u8]],
    memo: &SignatureMemo,
) -> Vec<Vec<u8>> {
    let issuers: Vec<X509Certificate<'_>> = candidates
        .iter()
        .filter_map(|der| X509Certificate::from_der(der).ok().map(|(_, c)| c))
        .collect();
    let mut found: Vec<(i64, Vec<u8>)> = Vec::new();
    for der in crls {
        let Ok((_, crl)) = CertificateRevocationList::from_der(der) else {
            continue;
        };
        let signed = issuers.iter().any(|issuer| {
            issuer.subject().as_raw() == crl.issuer().as_raw()
                && memo.verified(&[b"crl", issuer.public_key().raw, der], || {
                    crl.verify_signature(issuer.public_key()).is_ok()
                })
        });
        if signed && !found.iter().any(|(_, d)| d == der) {
            found.push((crl.last_update().timestamp(), der.clone()));
        }
    }
    found.sort_by_key(|(this_update, _)| std::cmp::Reverse(*this_update));
    found.into_iter().map(|(_, der)| der).collect()
}

/// The earliest revocation date of `leaf` in authentic CRLs of its issuer
/// (the DNs compared as encoded, RFC 5280 §7.1).
fn revocation_time(leaf: &[u8], crls: &[Vec<u8>]) -> Option<OffsetDateTime> {
    let (_, cert) = X509Certificate::from_der(leaf).ok()?;
    crls.iter()
        .filter_map(|der| {
            CertificateRevocationList::from_der(der)
                .ok()
                .map(|(_, c)| c)
        })
        .filter(|crl| crl.issuer().as_raw() == cert.issuer().as_raw())
        .flat_map(|crl| {
            crl.iter_revoked_certificates()
                .filter(|r| r.raw_serial() == cert.raw_serial())
                .map(|r| r.revocation_date.timestamp())
                .collect::<Vec<_>>()
        })
        .filter_map(|t| OffsetDateTime::from_unix_timestamp(t).ok())
        .min()
}

/// Whether a CRL of the bundle revokes `leaf` because its key (or its CA's)
/// was compromised (RFC 5280 §5.3.1 reasonCode keyCompromise or
/// cACompromise): a signature it made then proves nothing about when it was
/// made, so one that claims to be older than the revocation needs proof of
/// existence (EN 319 102-1 §5.6.2.1, REVOKED_NO_POE).
pub(crate) fn revoked_for_compromise(store: &TrustStore, leaf: &[u8]) -> bool {
    use x509_parser::x509::ReasonCode;
    let Ok((_, cert)) = X509Certificate::from_der(leaf) else {
        return false;
    };
    store
        .bundle_crls()
        .ders
        .iter()
        .filter_map(|der| {
            CertificateRevocationList::from_der(der)
                .ok()
                .map(|(_, c)| c)
        })
        .filter(|crl| crl.issuer().as_raw() == cert.issuer().as_raw())
        .any(|crl| {
            crl.iter_revoked_certificates().any(|r| {
                r.raw_serial() == cert.raw_serial()
                    && r.reason_code().is_some_and(|(_, code)| {
                        code == ReasonCode::KeyCompromise || code == ReasonCode::CACompromise
                    })
            })
        })
}

/// The leaf's own constraints for `purpose`, which webpki does not check:
/// its extended key usage and its key usage.
pub(crate) fn check_leaf(leaf: &[u8], purpose: Purpose) -> Result<(), String> {
    let (_, cert) =
        X509Certificate::from_der(leaf).map_err(|e| format!("unreadable certificate: {e}"))?;
    check_leaf_eku(&cert, purpose)?;
    check_leaf_key_usage(&cert, purpose)
}

/// The leaf's own EKU: a TSA needs id-kp-timeStamping; a signer must not be
/// a TSA-only certificate.
fn check_leaf_eku(cert: &X509Certificate<'_>, purpose: Purpose) -> Result<(), String> {
    let eku = cert
        .extended_key_usage()
        .map_err(|e| format!("malformed extended key usage: {e}"))?
        .map(|ext| ext.value.clone());
    match (purpose, eku) {
        (Purpose::TimeStamping, Some(eku)) if eku.time_stamping => Ok(()),
        (Purpose::TimeStamping, _) => {
            Err("the TSA certificate lacks extended key usage timeStamping".into())
        }
        (Purpose::Signing, Some(eku)) if eku.time_stamping && eku.other.is_empty() && !eku.any => {
            let only_ts = !(eku.server_auth
                || eku.client_auth
                || eku.code_signing
                || eku.email_protection
                || eku.ocsp_signing);
            if only_ts {
                Err("a time-stamping certificate cannot sign documents".into())
            } else {
                Ok(())
            }
        }
        (Purpose::Signing, _) => Ok(()),
    }
}

/// A signer's key usage, when present, must allow signing data other than
/// certificates and CRLs: digitalSignature or nonRepudiation
/// (contentCommitment), RFC 5280 §4.2.1.3; webpki checks key usage for CAs
/// only. A certificate that breaks it breaks a chain constraint
/// (EN 319 102-1 §5.2.6: CHAIN_CONSTRAINTS_FAILURE).
fn check_leaf_key_usage(cert: &X509Certificate<'_>, purpose: Purpose) -> Result<(), String> {
    if purpose != Purpose::Signing {
        return Ok(());
    }
    match cert
        .key_usage()
        .map_err(|e| format!("malformed key usage: {e}"))?
    {
        Some(ku) if !ku.value.digital_signature() && !ku.value.non_repudiation() => Err(format!(
            "the signer's key usage ({}) allows neither digitalSignature nor nonRepudiation",
            ku.value
        )),
        _ => Ok(()),
    }
}

/// Who a certificate names, for the report.
pub(crate) fn signer_of(der: &[u8]) -> Option<super::report::Signer> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    let subject = cert.subject();
    let first = |oid: &x509_parser::der_parser::oid::Oid<'_>| {
        subject
            .iter_by_oid(oid)
            .next()
            .and_then(|a| a.as_str().ok())
            .map(str::to_string)
    };
    use x509_parser::oid_registry::{OID_X509_COMMON_NAME, OID_X509_ORGANIZATION_NAME};
    let organization_identifier = x509_parser::der_parser::oid!(2.5.4.97);
    let serial_number = x509_parser::der_parser::oid!(2.5.4.5);
    Some(super::report::Signer {
        subject: subject
            .to_string_with_registry(x509_parser::objects::oid_registry())
            .unwrap_or_else(|_| subject.to_string()),
        organization: first(&OID_X509_ORGANIZATION_NAME),
        organization_identifier: first(&organization_identifier),
        serial: hex::encode(cert.raw_serial()),
        seal_code: first(&serial_number),
        common_name: first(&OID_X509_COMMON_NAME),
    })
}
