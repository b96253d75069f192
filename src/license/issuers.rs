//! The authorised issuers list (证照签发授权清单): for every license type of
//! the installation, the departments (by USCC, 统一社会信用代码) that may issue
//! it — the catalogue's `issuers` of GB/T 36902-2018 as the operator defined
//! them ([`super::catalogue`], table `license_type_issuers`). An offline
//! verifier needs it to refuse a genuine seal's signature on a type its
//! department may not issue; the trust bundle therefore publishes it,
//! signed.
//!
//! Format (a choice of this project, like the status snapshot's): a tagged
//! `COSE_Sign1` (RFC 9052 §4.2) signed by the **issuing CA** key with
//! [`super::snapshot::sign_by_ca`] — the CA that certifies every seal, so a
//! verifier trusts it through the bundle's root and uses the list only for
//! seals that CA certified. The payload is a CBOR map in RFC 8949 §4.2.1
//! deterministic order:
//!
//! | key | value |
//! |-----|-------|
//! | `"t"`  | map: license type code → array of the USCCs that may issue it, sorted |
//! | `"tu"` | when the list was made, NumericDate |
//!
//! Published as `certs/license-issuers.cose` and, for people, inside
//! `bundle.json` (`license_issuers`, with the COSE bytes in base64). It is
//! signed afresh whenever the bundle is assembled, so a new type or a new
//! authorisation is in the next bundle. Authorisations are only ever
//! added today (a type's issuers are fixed when it is defined), so the
//! current list also answers for licenses issued in the past; a type the
//! list does not name is one defined after the verifier's bundle.

use std::collections::BTreeMap;

use ciborium::Value;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::snapshot::{SnapshotError, sign_by_ca};
use crate::keystore::Signer;

/// The largest list read (tens of thousands of types and departments).
pub const MAX_ISSUERS_BYTES: usize = 16 * 1024 * 1024;

/// The departments that may issue one license type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TypeIssuers {
    /// The license type code.
    pub code: String,
    /// The USCCs of the departments allowed to issue it, sorted.
    pub issuers: Vec<String>,
}

/// The authorised issuers of every license type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuthorisedIssuers {
    /// One entry per type, sorted by code.
    pub types: Vec<TypeIssuers>,
    /// When the list was made, Unix seconds.
    pub this_update: i64,
}

/// What the list says of a department issuing a type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Authorisation {
    /// The department is listed for the type.
    Authorised,
    /// The type is listed, the department is not.
    NotAuthorised,
    /// The list does not know the type.
    UnknownType,
}

impl AuthorisedIssuers {
    /// The list of `(type code, issuer USCC)` pairs, made `now`.
    pub fn new(pairs: impl IntoIterator<Item = (String, String)>, now: OffsetDateTime) -> Self {
        let mut by_type: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (code, uscc) in pairs {
            by_type.entry(code).or_default().push(uscc);
        }
        let types = by_type
            .into_iter()
            .map(|(code, mut issuers)| {
                issuers.sort();
                issuers.dedup();
                TypeIssuers { code, issuers }
            })
            .collect();
        AuthorisedIssuers {
            types,
            this_update: now.unix_timestamp(),
        }
    }

    /// May the department `uscc` issue licenses of type `code`?
    pub fn authorisation(&self, code: &str, uscc: &str) -> Authorisation {
        match self.types.binary_search_by(|t| t.code.as_str().cmp(code)) {
            Err(_) => Authorisation::UnknownType,
            Ok(i) if self.types[i].issuers.iter().any(|u| u == uscc) => Authorisation::Authorised,
            Ok(_) => Authorisation::NotAuthorised,
        }
    }

    /// The CBOR payload described in the module documentation.
    pub fn to_cbor(&self) -> Result<Vec<u8>, SnapshotError> {
        let text = |s: &str| Value::Text(s.to_string());
        // RFC 8949 §4.2.1: keys sorted by their encoding — shorter first.
        let mut types: Vec<&TypeIssuers> = self.types.iter().collect();
        types.sort_by(|a, b| (a.code.len(), &a.code).cmp(&(b.code.len(), &b.code)));
        let types = types
            .into_iter()
            .map(|t| {
                (
                    text(&t.code),
                    Value::Array(t.issuers.iter().map(|u| text(u)).collect()),
                )
            })
            .collect();
        let map = Value::Map(vec![
            (text("t"), Value::Map(types)),
            (text("tu"), Value::Integer(self.this_update.into())),
        ]);
        let mut out = Vec::new();
        ciborium::into_writer(&map, &mut out)
            .map_err(|e| SnapshotError::Encoding(e.to_string()))?;
        Ok(out)
    }

    /// Signs the list with the issuing CA's key; returns the tagged COSE_Sign1.
    pub fn sign(
        &self,
        ca_signer: &dyn Signer,
        ca_certificate_der: &[u8],
    ) -> Result<Vec<u8>, SnapshotError> {
        sign_by_ca(self.to_cbor()?, ca_signer, ca_certificate_der)
    }

    /// Reads a payload written by [`AuthorisedIssuers::to_cbor`] (after its
    /// signature verified); says what is wrong otherwise. A key repeated in
    /// a map is refused (RFC 8949 §5.6), unknown top-level keys are ignored.
    pub fn from_cbor(payload: &[u8]) -> Result<Self, String> {
        if payload.len() > MAX_ISSUERS_BYTES {
            return Err("the issuers list is too large".into());
        }
        let value: Value =
            ciborium::from_reader(payload).map_err(|e| format!("issuers list payload: {e}"))?;
        let Value::Map(entries) = value else {
            return Err("the issuers list payload is not a map".into());
        };
        let get = |key: &str| {
            let mut found = entries.iter().filter(|(k, _)| k.as_text() == Some(key));
            match (found.next(), found.next()) {
                (Some((_, v)), None) => Ok(v),
                (None, _) => Err(format!("the issuers list lacks {key:?}")),
                (Some(_), Some(_)) => Err(format!("the issuers list has {key:?} twice")),
            }
        };
        let Value::Map(by_type) = get("t")? else {
            return Err("\"t\" is not a map".into());
        };
        let mut types = Vec::with_capacity(by_type.len());
        for (code, issuers) in by_type {
            let code = code
                .as_text()
                .ok_or("\"t\" has a license type code that is not text")?;
            let issuers = issuers
                .as_array()
                .and_then(|a| {
                    a.iter()
                        .map(|u| u.as_text().map(str::to_string))
                        .collect::<Option<Vec<_>>>()
                })
                .ok_or_else(|| format!("the issuers of {code} are not an array of text"))?;
            types.push(TypeIssuers {
                code: code.to_string(),
                issuers,
            });
        }
        types.sort_by(|a, b| a.code.cmp(&b.code));
        if let Some(w) = types.windows(2).find(|w| w[0].code == w[1].code) {
            return Err(format!("the issuers list names type {} twice", w[0].code));
        }
        for t in &mut types {
            t.issuers.sort();
        }
        let this_update = get("tu")?
            .as_integer()
            .and_then(|i| i64::try_from(i).ok())
            .ok_or("\"tu\" is not an integer")?;
        Ok(AuthorisedIssuers { types, this_update })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::license::testkit;

    const A: &str = "91350100M000100Y43";
    const B: &str = "91110000600037341L";

    fn list() -> AuthorisedIssuers {
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        AuthorisedIssuers::new(
            [
                ("T2".to_string(), B.to_string()),
                ("T1".to_string(), A.to_string()),
                ("T2".to_string(), A.to_string()),
                ("T2".to_string(), A.to_string()),
            ],
            now,
        )
    }

    #[test]
    fn groups_sorts_and_answers_by_type_and_department() {
        let l = list();
        assert_eq!(l.types.len(), 2);
        assert_eq!(l.types[1].issuers, [B, A]);
        assert_eq!(l.authorisation("T1", A), Authorisation::Authorised);
        assert_eq!(l.authorisation("T1", B), Authorisation::NotAuthorised);
        assert_eq!(l.authorisation("T2", B), Authorisation::Authorised);
        assert_eq!(l.authorisation("T3", A), Authorisation::UnknownType);
    }

    #[test]
    fn the_payload_is_deterministic_cbor_that_reads_back() {
        let l = list();
        let cbor = l.to_cbor().unwrap();
        // {"t": {"T1": [A], "T2": [B, A]}, "tu": 1800000000}
        assert_eq!(&cbor[..6], &[0xa2, 0x61, b't', 0xa2, 0x62, b'T']);
        assert_eq!(AuthorisedIssuers::from_cbor(&cbor).unwrap(), l);
        let (signer, cert) = testkit::seal();
        let cose = l.sign(&*signer, &cert).unwrap();
        let sign1 = coset::TaggedCborSerializable::from_tagged_slice(&cose)
            .map(|s: coset::CoseSign1| s.payload)
            .unwrap();
        assert_eq!(sign1.as_deref(), Some(&cbor[..]));
    }

    #[test]
    fn refuses_repeated_types_and_ill_typed_entries() {
        let encode = |v: Value| {
            let mut out = Vec::new();
            ciborium::into_writer(&v, &mut out).unwrap();
            out
        };
        let t = |s: &str| Value::Text(s.into());
        let twice = encode(Value::Map(vec![
            (
                t("t"),
                Value::Map(vec![
                    (t("T1"), Value::Array(vec![t(A)])),
                    (t("T1"), Value::Array(vec![t(B)])),
                ]),
            ),
            (t("tu"), Value::Integer(1.into())),
        ]));
        let e = AuthorisedIssuers::from_cbor(&twice).unwrap_err();
        assert!(e.contains("T1 twice"), "{e}");
        let not_text = encode(Value::Map(vec![
            (
                t("t"),
                Value::Map(vec![(
                    t("T1"),
                    Value::Array(vec![Value::Integer(1.into())]),
                )]),
            ),
            (t("tu"), Value::Integer(1.into())),
        ]));
        assert!(AuthorisedIssuers::from_cbor(&not_text).is_err());
        let no_tu = encode(Value::Map(vec![(t("t"), Value::Map(vec![]))]));
        assert!(AuthorisedIssuers::from_cbor(&no_tu).is_err());
    }
}
