//! The authorised issuers list as a verifier sees it: the tagged
//! `COSE_Sign1` of [`crate::license::issuers`], verified once when the trust
//! bundle is loaded against a CA certificate of the bundle (as the status
//! snapshot is, [`super::status`]), then consulted for every license: may
//! the department that signed it issue its type? A list that is missing,
//! malformed or not signed by a CA of the bundle is reported, never trusted.

use super::status::verify_ca_signed;
use crate::license::issuers::{AuthorisedIssuers, MAX_ISSUERS_BYTES};

/// The list a trust store holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum IssuersState {
    /// The bundle has no `license-issuers.cose` (one made before the list existed).
    #[default]
    Missing,
    /// It could not be read or its signature does not verify: the reason.
    Invalid(String),
    /// Verified.
    Verified(VerifiedIssuers),
}

/// A list whose signature verified, and who signed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedIssuers {
    /// The list.
    pub list: AuthorisedIssuers,
    /// The CA certificate (DER) whose key signed it.
    pub signer: Vec<u8>,
}

impl IssuersState {
    /// The verified list, if any.
    pub fn verified(&self) -> Option<&VerifiedIssuers> {
        match self {
            IssuersState::Verified(v) => Some(v),
            _ => None,
        }
    }
}

/// Verifies the list's bytes against the CA certificates of a bundle.
pub fn verify_issuers(cose: &[u8], anchors: &[Vec<u8>], intermediates: &[Vec<u8>]) -> IssuersState {
    if cose.len() > MAX_ISSUERS_BYTES {
        return IssuersState::Invalid("the issuers list is too large".into());
    }
    let verified = verify_ca_signed(cose, anchors, intermediates, "issuers list").and_then(
        |(payload, signer)| {
            AuthorisedIssuers::from_cbor(&payload).map(|list| VerifiedIssuers { list, signer })
        },
    );
    match verified {
        Ok(v) => IssuersState::Verified(v),
        Err(why) => IssuersState::Invalid(why),
    }
}
