//! The license status snapshot (证照状态快照): the identifiers of every revoked,
//! suspended and superseded license (the latter with the identifier of the
//! version that replaced it), with this-update and next-update, signed so that
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
//! | `"r"`  | array of the identifiers that are no longer valid for good — revoked *and* superseded — sorted |
//! | `"s"`  | array of suspended license identifiers, sorted |
//! | `"nu"` | next-update, NumericDate |
//! | `"sp"` | array of `[old identifier, new identifier]` pairs of superseded versions (换发/变更), sorted by the old one |
//! | `"tu"` | this-update, NumericDate |
//! | `"kc"` | only when a seal certificate was revoked for key compromise: array of `[certificate serial (hex text), [SHA-256 of each license record that seal issued, as 32-byte bstr, sorted]]`, sorted by serial |
//!
//! `"kc"` is the proof of existence that a compromised key cannot forge
//! (issue 17): once a seal's key may be in other hands, a record signed by it
//! can claim any issue time, so a verifier accepts a record of that seal only
//! if this CA-signed list, made from the issuer's database, names its hash.
//!
//! `"sp"` was added after the first three fields; superseded identifiers are
//! listed in `"r"` as well, so a verifier that predates `"sp"` (and ignores
//! it, as unknown keys may be) still refuses an old version instead of
//! passing it. A current verifier tells the two apart: an identifier in
//! `"sp"` is superseded, one only in `"r"` is revoked. The JSON form keeps
//! them apart too (`revoked` lists only revoked licenses).
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

/// A superseded version and the version that replaced it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
pub struct Superseded {
    /// The old version's identifier.
    pub id: String,
    /// The identifier of the version that replaced it.
    pub superseded_by: String,
}

/// A status snapshot before signing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct StatusSnapshot {
    /// Identifiers of revoked licenses, sorted.
    pub revoked: Vec<String>,
    /// Identifiers of suspended licenses, sorted.
    pub suspended: Vec<String>,
    /// Superseded versions and their successors, sorted by the old identifier.
    pub superseded: Vec<Superseded>,
    /// When it was made, Unix seconds.
    pub this_update: i64,
    /// When a new one is due at the latest, Unix seconds.
    pub next_update: i64,
    /// Seal certificates revoked for key compromise, with the records they
    /// really issued; empty when there are none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub compromised: Vec<CompromisedSeal>,
}

/// A seal certificate revoked for key compromise, and the SHA-256 (hex) of
/// every license record the issuer's database holds from it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
pub struct CompromisedSeal {
    /// The certificate's serial number, hex.
    pub certificate_serial: String,
    /// SHA-256 of each record (the tagged COSE_Sign1 bytes), hex, sorted.
    pub records: Vec<String>,
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
            superseded: Vec::new(),
            compromised: Vec::new(),
            this_update: now.unix_timestamp(),
            next_update: (now + VALIDITY).unix_timestamp(),
        }
    }

    /// The same snapshot listing `superseded` as (old, new) identifier pairs.
    pub fn with_superseded(mut self, superseded: Vec<(String, String)>) -> Self {
        self.superseded = superseded
            .into_iter()
            .map(|(id, superseded_by)| Superseded { id, superseded_by })
            .collect();
        self.superseded.sort();
        self
    }

    /// The same snapshot listing the records of seals revoked for key
    /// compromise, as (certificate serial hex, record SHA-256s).
    pub fn with_compromised(mut self, compromised: Vec<(String, Vec<[u8; 32]>)>) -> Self {
        self.compromised = compromised
            .into_iter()
            .map(|(certificate_serial, hashes)| {
                let mut records: Vec<String> = hashes.iter().map(hex::encode).collect();
                records.sort();
                CompromisedSeal {
                    certificate_serial,
                    records,
                }
            })
            .collect();
        self.compromised.sort();
        self
    }

    /// The CBOR payload described in the module documentation.
    pub fn to_cbor(&self) -> Result<Vec<u8>, SnapshotError> {
        let text = |s: &String| Value::Text(s.clone());
        let mut no_longer_valid: Vec<&String> = self
            .revoked
            .iter()
            .chain(self.superseded.iter().map(|s| &s.id))
            .collect();
        no_longer_valid.sort();
        no_longer_valid.dedup();
        let mut entries = vec![
            (
                Value::Text("r".into()),
                Value::Array(no_longer_valid.into_iter().map(text).collect()),
            ),
            (
                Value::Text("s".into()),
                Value::Array(self.suspended.iter().map(text).collect()),
            ),
        ];
        if !self.compromised.is_empty() {
            let mut seals = Vec::new();
            for seal in &self.compromised {
                let mut hashes = Vec::new();
                for record in &seal.records {
                    let bytes = hex::decode(record)
                        .map_err(|e| SnapshotError::Encoding(format!("record hash: {e}")))?;
                    hashes.push(Value::Bytes(bytes));
                }
                seals.push(Value::Array(vec![
                    text(&seal.certificate_serial),
                    Value::Array(hashes),
                ]));
            }
            // RFC 8949 §4.2.1: "kc" sorts before "nu".
            entries.push((Value::Text("kc".into()), Value::Array(seals)));
        }
        entries.extend([
            (
                Value::Text("nu".into()),
                Value::Integer(self.next_update.into()),
            ),
            (
                Value::Text("sp".into()),
                Value::Array(
                    self.superseded
                        .iter()
                        .map(|s| Value::Array(vec![text(&s.id), text(&s.superseded_by)]))
                        .collect(),
                ),
            ),
            (
                Value::Text("tu".into()),
                Value::Integer(self.this_update.into()),
            ),
        ]);
        let map = Value::Map(entries);
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
        sign_by_ca(self.to_cbor()?, ca_signer, ca_certificate_der)
    }
}

/// Signs `payload` as a CA's document of the trust bundle: a tagged
/// COSE_Sign1 (RFC 9052 §4.2) with `alg` in the protected header (ES256,
/// ES384 or EdDSA after the CA's key, RFC 9053 §2.1, §2.2) and `kid` =
/// SHA-256(CA certificate)[..8] in the unprotected one. The status snapshot
/// and the list of authorised issuers ([`super::issuers`]) are signed so.
pub fn sign_by_ca(
    payload: Vec<u8>,
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
        .payload(payload)
        .try_create_signature(b"", |tbs| ca_signer.sign_fixed(tbs))?
        .build();
    sign1
        .to_tagged_vec()
        .map_err(|e| SnapshotError::Encoding(e.to_string()))
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
        // {"r": ["a","b"], "s": ["c"], "nu": …, "sp": [], "tu": …}: keys in RFC 8949 §4.2.1 order.
        assert_eq!(&cbor[..4], &[0xa5, 0x61, b'r', 0x82]);
        let keys: Vec<String> = match ciborium::from_reader::<Value, _>(&cbor[..]).unwrap() {
            Value::Map(m) => m.into_iter().map(|(k, _)| k.into_text().unwrap()).collect(),
            _ => panic!("not a map"),
        };
        assert_eq!(keys, ["r", "s", "nu", "sp", "tu"]);
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

    #[test]
    fn superseded_versions_are_pairs_and_also_no_longer_valid_for_old_verifiers() {
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let s = StatusSnapshot::new(vec!["b.001".into()], vec![], now).with_superseded(vec![
            ("c.001".into(), "c.002".into()),
            ("a.001".into(), "a.002".into()),
        ]);
        assert_eq!(s.revoked, ["b.001"], "the JSON form keeps revoked apart");
        assert_eq!(s.superseded[0].id, "a.001");
        let Value::Map(map) = ciborium::from_reader::<Value, _>(&s.to_cbor().unwrap()[..]).unwrap()
        else {
            panic!("not a map")
        };
        let get = |k: &str| {
            map.iter()
                .find(|(key, _)| key.as_text() == Some(k))
                .unwrap()
                .1
                .clone()
        };
        let texts = |v: Value| -> Vec<String> {
            v.into_array()
                .unwrap()
                .into_iter()
                .map(|t| t.into_text().unwrap())
                .collect()
        };
        assert_eq!(texts(get("r")), ["a.001", "b.001", "c.001"]);
        let pairs: Vec<Vec<String>> = get("sp")
            .into_array()
            .unwrap()
            .into_iter()
            .map(texts)
            .collect();
        assert_eq!(pairs, [["a.001", "a.002"], ["c.001", "c.002"]]);
    }
}
