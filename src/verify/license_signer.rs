//! Who signed a license record, and whether that department may issue its
//! type: the two checks of [`super::license`] that compare the claims with
//! the signing seal certificate and with the trust bundle's authorised
//! issuers list ([`crate::license::issuers`]).
//!
//! **Who signed.** The claims `iss` and `sc` name the department and the
//! seal whose key signs the record; they are signed, whereas the `kid` that
//! picked the certificate is not. They are the record's protected reference
//! to its signing certificate, as signing-certificate-v2 is a CMS
//! signature's. A record whose signature verifies only with the certificate
//! of another department or seal does not verify with the key of the signer
//! it names: the cryptographic verification of ETSI EN 319 102-1 §5.2.7
//! fails, TOTAL-FAILED / SIG_CRYPTO_FAILURE. It is not INDETERMINATE
//! because no further data can make it pass. Such a record gets no
//! `license` section in the report: its claims are not attributable to
//! anyone.
//!
//! **Who may issue what.** Which department may issue which license type is
//! a constraint of the validation policy, published signed in the trust
//! bundle ([`crate::license::issuers`]). A record that breaks it is signed
//! by the department it names, but that department is not one the policy
//! accepts for this content: signature acceptance validation
//! (EN 319 102-1 §5.2.8) fails, INDETERMINATE / SIG_CONSTRAINTS_FAILURE, as
//! for the `--require-logged` constraint. Such a record gets no `license`
//! section either: it is not a license of its type. A bundle without a
//! usable list (one made before the list existed, or whose signature does
//! not verify to the CA of the seal) cannot answer at all: INDETERMINATE /
//! TRY_LATER with a fresher bundle, as for a missing status snapshot.

use super::issuers::IssuersState;
use super::license::Check;
use super::pdf::rfc3339;
use super::report::{Indication, SubIndication};
use super::seal_index::SealEntry;
use super::trust::TrustStore;
use crate::license::claims::LicenseClaims;
use crate::license::issuers::Authorisation;

/// The signing certificate is the one the claims name (see the module
/// documentation for why a mismatch is TOTAL-FAILED / SIG_CRYPTO_FAILURE).
pub(super) fn check_issuer(seal: &SealEntry, claims: &LicenseClaims, check: &mut Check) -> bool {
    match seal.identity.check(claims) {
        Ok(()) => {
            check.ok(format!(
                "the signing seal certificate is seal {} of department {}, as the record claims",
                claims.seal_code,
                claims.issuer()
            ));
            true
        }
        Err(mismatch) => {
            check.fail(
                Indication::TotalFailed,
                SubIndication::SigCryptoFailure,
                mismatch.to_string(),
            );
            false
        }
    }
}

/// The department may issue the license type, according to the signed list
/// of the CA that certified the seal. False if the list says it may not.
pub(super) fn check_authorised(
    seal: &SealEntry,
    claims: &LicenseClaims,
    store: &TrustStore,
    check: &mut Check,
) -> bool {
    use Indication::Indeterminate;
    let (code, uscc) = (claims.type_code(), claims.issuer().as_str());
    let verified = match store.license_issuers() {
        IssuersState::Verified(v) if seal.certified_by_issuers_signer => v,
        IssuersState::Verified(_) => {
            check.fail(
                Indeterminate,
                SubIndication::TryLater,
                "the authorised issuers list is not signed by the CA of the seal certificate"
                    .into(),
            );
            return true;
        }
        IssuersState::Missing => {
            check.fail(
                Indeterminate,
                SubIndication::TryLater,
                "the trust bundle has no signed list of authorised issuers (license-issuers.cose); fetch a fresh trust bundle".into(),
            );
            return true;
        }
        IssuersState::Invalid(why) => {
            check.fail(
                Indeterminate,
                SubIndication::TryLater,
                format!("the authorised issuers list is not usable: {why}"),
            );
            return true;
        }
    };
    let list = &verified.list;
    let of = time::OffsetDateTime::from_unix_timestamp(list.this_update)
        .map(rfc3339)
        .unwrap_or_default();
    match list.authorisation(code, uscc) {
        Authorisation::Authorised => {
            check.ok(format!(
                "department {uscc} may issue license type {code} (authorised issuers list of {of})"
            ));
            true
        }
        Authorisation::NotAuthorised => {
            check.fail(
                Indeterminate,
                SubIndication::SigConstraintsFailure,
                format!(
                    "department {uscc} is not authorised to issue license type {code} (the authorised issuers list of {of} does not name it)"
                ),
            );
            false
        }
        Authorisation::UnknownType => {
            check.fail(
                Indeterminate,
                SubIndication::SigConstraintsFailure,
                format!(
                    "license type {code} is not in the authorised issuers list of {of}, so department {uscc} is not shown to be authorised to issue it (a type defined later needs a fresher trust bundle)"
                ),
            );
            false
        }
    }
}
