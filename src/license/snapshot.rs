//! The license status snapshot (证照状态快照): the identifiers of every revoked
//! and suspended license, with this-update and next-update, signed so that
//! an offline verifier can trust it and say how fresh it is — the license
//! counterpart of a CRL (RFC 5280 §5.1.2.4–5 thisUpdate/nextUpdate).
//!
//! Format (a choice of this project, documented here and in the OpenAPI):
//! a tagged `COSE_Sign1` (RFC 9052 §4.2) signed by the **issuing CA** key
//! (the CA that certifies every seal, so the verifier already trusts it via
//! the trust bundle), `alg` ES256 for a P-256 CA (RFC 9053 §2.1), `kid` =
//! SHA-256(issuing CA certificate)[..8] as for license records. The payload
//! is a CBOR map in RFC 8949 §4.2.1 deterministic order:
//!
//! | key | value |
//! |-----|-------|
//! | `"r"`  | array of revoked license identifiers, sorted |
//! | `"s"`  | array of suspended license identifiers, sorted |
//! | `"nu"` | next-update, NumericDate |
//! | `"tu"` | this-update, NumericDate |
//!
//! Published as `certs/license-status.cose` (the bytes) and
//! `certs/license-status.json` (the same content for people, with the COSE
//! bytes in base64), and served at `GET /v1/license-status`. It is re-signed
//! on every status change, and whenever it is asked for after next-update.

use ciborium::Value;
use coset::{CoseSign1Builder, HeaderBuilder, TaggedCborSerializable, iana};
use serde::Serialize;
use time::{Duration, OffsetDateTime};

use super::record::certificate_kid;
use crate::keystore::{KeyAlgorithm, SignError, Signer};

/// How long a snapshot is current.
pub const VALIDITY: Duration = Duration::hours(24);

/// A status snapshot before signing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct StatusSnapshot {
    /// Identifiers of revoked licenses, sorted.
    pub revoked: Vec<String>,
    /// Identifiers of suspended licenses, sorted.
    pub suspended: Vec<String>,
    /// When it was made, Unix seconds.
    pub this_update: i64,
    /// When a new one is due at the latest, Unix seconds.
    pub next_update: i64,
}

/// Why a snapshot could not be signed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SnapshotError {
    /// The CBOR could not be written.
    #[error("cannot encode the snapshot: {0}")]
    Encoding(String),
    /// The key store failed.
    #[error(transparent)]
    Signing(#[from] SignError),
}

impl StatusSnapshot {
    /// A snapshot made `now`.
    pub fn new(mut revoked: Vec<String>, mut suspended: Vec<String>, now: OffsetDateTime) -> Self {
        revoked.sort();
        suspended.sort();
        StatusSnapshot {
            revoked,
            suspended,
            this_update: now.unix_timestamp(),
            next_update: (now + VALIDITY).unix_timestamp(),
        }
    }

    /// The CBOR payload described in the module documentation.
    pub fn to_cbor(&self) -> Result<Vec<u8>, SnapshotError> {
        let ids = |v: &[String]| Value::Array(v.iter().map(|s| Value::Text(s.clone())).collect());
        let map = Value::Map(vec![
            (Value::Text("r".into()), ids(&self.revoked)),
            (Value::Text("s".into()), ids(&self.suspended)),
            (
                Value::Text("nu".into()),
                Value::Integer(self.next_update.into()),
            ),
            (
                Value::Text("tu".into()),
                Value::Integer(self.this_update.into()),
            ),
        ]);
        let mut out = Vec::new();
        ciborium::into_writer(&map, &mut out)
            .map_err(|e| SnapshotError::Encoding(e.to_string()))?;
        Ok(out)
    }

    /// Signs the snapshot with the issuing CA's key; returns the tagged COSE_Sign1.
    pub fn sign(
        &self,
        ca_signer: &dyn Signer,
        ca_certificate_der: &[u8],
    ) -> Result<Vec<u8>, SnapshotError> {
        let alg = match ca_signer.algorithm() {
            KeyAlgorithm::EcdsaP256 => iana::Algorithm::ES256,
            KeyAlgorithm::EcdsaP384 => iana::Algorithm::ES384,
            KeyAlgorithm::Ed25519 => iana::Algorithm::EdDSA,
        };
        let sign1 = CoseSign1Builder::new()
            .protected(HeaderBuilder::new().algorithm(alg).build())
            .unprotected(
                HeaderBuilder::new()
                    .key_id(certificate_kid(ca_certificate_der).to_vec())
                    .build(),
            )
            .payload(self.to_cbor()?)
            .try_create_signature(b"", |tbs| ca_signer.sign_fixed(tbs))?
            .build();
        sign1
            .to_tagged_vec()
            .map_err(|e| SnapshotError::Encoding(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::license::testkit;

    #[test]
    fn the_snapshot_is_signed_deterministic_cbor() {
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let s = StatusSnapshot::new(vec!["b".into(), "a".into()], vec!["c".into()], now);
        assert_eq!(s.revoked, ["a", "b"]);
        assert_eq!(s.next_update - s.this_update, 86_400);
        let cbor = s.to_cbor().unwrap();
        // {"r": ["a","b"], "s": ["c"], "nu": …, "tu": …}: keys in RFC 8949 §4.2.1 order.
        assert_eq!(&cbor[..4], &[0xa4, 0x61, b'r', 0x82]);
        let (signer, cert) = testkit::seal();
        let cose = s.sign(&*signer, &cert).unwrap();
        assert_eq!(cose[0], 0xd2, "tagged COSE_Sign1");
        let sign1 = coset::CoseSign1::from_tagged_slice(&cose).unwrap();
        assert_eq!(sign1.unprotected.key_id, certificate_kid(&cert).to_vec());
        assert_eq!(sign1.payload.as_deref(), Some(&cbor[..]));
        let key = ring::signature::UnparsedPublicKey::new(
            &ring::signature::ECDSA_P256_SHA256_FIXED,
            signer.public_key(),
        );
        sign1
            .verify_signature(b"", |sig, tbs| key.verify(tbs, sig))
            .unwrap();
        let mut tampered = sign1.clone();
        tampered.payload = Some(StatusSnapshot::new(vec![], vec![], now).to_cbor().unwrap());
        assert!(
            tampered
                .verify_signature(b"", |sig, tbs| key.verify(tbs, sig))
                .is_err()
        );
    }
}
