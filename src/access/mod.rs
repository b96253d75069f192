//! Who is calling: the platform operator (admin token) or a department's API
//! client (secret token, stored only as its SHA-256), and what they may do.
//!
//! Tokens are 256-bit random values, so a plain SHA-256 suffices to store
//! them (no password stretching needed); comparisons are constant-time.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};

use crate::store::{self, Connection, StoreError};

/// What a department client may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub enum Scope {
    /// Create and manage the department's seals.
    #[serde(rename = "seals:manage")]
    SealsManage,
    /// Stamp documents with the department's seals.
    #[serde(rename = "stamp")]
    Stamp,
    /// Issue licenses.
    #[serde(rename = "licenses:issue")]
    LicensesIssue,
    /// Suspend, reinstate, revoke licenses.
    #[serde(rename = "licenses:manage")]
    LicensesManage,
    /// Use other departments' licenses from the license library for a
    /// service item on the use list (电子证照库用证).
    #[serde(rename = "licenses:use")]
    LicensesUse,
    /// Create holders' one-time consent codes (a holder-facing app that has
    /// authenticated the holder itself).
    #[serde(rename = "consents:create")]
    ConsentsCreate,
}

impl Scope {
    /// Every scope.
    pub const ALL: [Scope; 6] = [
        Scope::SealsManage,
        Scope::Stamp,
        Scope::LicensesIssue,
        Scope::LicensesManage,
        Scope::LicensesUse,
        Scope::ConsentsCreate,
    ];

    /// Its name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::SealsManage => "seals:manage",
            Scope::Stamp => "stamp",
            Scope::LicensesIssue => "licenses:issue",
            Scope::LicensesManage => "licenses:manage",
            Scope::LicensesUse => "licenses:use",
            Scope::ConsentsCreate => "consents:create",
        }
    }
}

impl FromStr for Scope {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Scope::ALL
            .into_iter()
            .find(|scope| scope.as_str() == s)
            .ok_or_else(|| format!("unknown scope {s:?}"))
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An authenticated caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    /// The platform operator.
    Admin,
    /// A department's API client.
    Client {
        /// client id
        client_id: String,
        /// the department it acts for
        department_id: String,
        /// what it may do
        scopes: Vec<Scope>,
    },
}

impl Principal {
    /// Whether the caller may act for `department_id` with `scope`.
    pub fn may(&self, department_id: &str, scope: Scope) -> bool {
        match self {
            Principal::Admin => true,
            Principal::Client {
                department_id: d,
                scopes,
                ..
            } => d == department_id && scopes.contains(&scope),
        }
    }

    /// A short name for audit records.
    pub fn actor(&self) -> String {
        match self {
            Principal::Admin => "admin".into(),
            Principal::Client { client_id, .. } => format!("client:{client_id}"),
        }
    }
}

/// A new secret token (`gsk_` + 43 base64url characters).
pub fn new_token() -> Result<String, ring::error::Unspecified> {
    let mut bytes = [0u8; 32];
    SystemRandom::new().fill(&mut bytes)?;
    Ok(format!(
        "gsk_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    ))
}

/// The stored form of a token.
pub fn token_hash(token: &str) -> String {
    hex::encode(ring::digest::digest(
        &ring::digest::SHA256,
        token.as_bytes(),
    ))
}

/// Constant-time comparison of two token hashes.
pub fn hashes_equal(a: &str, b: &str) -> bool {
    // HMAC verification is ring's constant-time comparison primitive.
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"govseal-token-compare");
    let tag = ring::hmac::sign(&key, a.as_bytes());
    ring::hmac::verify(&key, b.as_bytes(), tag.as_ref()).is_ok()
}

/// Resolves a bearer token to a principal, or `None` if it is unknown or revoked.
pub async fn authenticate(
    conn: &mut Connection,
    admin_token_hash: &str,
    token: &str,
) -> Result<Option<Principal>, StoreError> {
    let hash = token_hash(token);
    if hashes_equal(&hash, admin_token_hash) {
        return Ok(Some(Principal::Admin));
    }
    let Some(client) = store::clients::by_token_hash(conn, &hash).await? else {
        return Ok(None);
    };
    Ok(Some(Principal::Client {
        client_id: client.id,
        department_id: client.department_id,
        scopes: client
            .scopes
            .split_whitespace()
            .filter_map(|s| s.parse().ok())
            .collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hash_stably() {
        let a = new_token().unwrap();
        let b = new_token().unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with("gsk_") && a.len() == 47);
        assert!(hashes_equal(&token_hash(&a), &token_hash(&a)));
        assert!(!hashes_equal(&token_hash(&a), &token_hash(&b)));
    }

    #[test]
    fn clients_are_scoped_to_their_department() {
        let p = Principal::Client {
            client_id: "c".into(),
            department_id: "d1".into(),
            scopes: vec![Scope::Stamp],
        };
        assert!(p.may("d1", Scope::Stamp));
        assert!(!p.may("d2", Scope::Stamp));
        assert!(!p.may("d1", Scope::SealsManage));
        assert!(Principal::Admin.may("any", Scope::SealsManage));
    }
}
