//! The license status snapshot as a verifier sees it: the tagged
//! `COSE_Sign1` (RFC 9052 §4.2) of [`crate::license::snapshot`], verified
//! once when the trust bundle is loaded against a CA certificate of the
//! bundle, then consulted for every license. A snapshot that is missing,
//! malformed or not signed by a CA of the bundle is reported, never trusted.
//!
//! The snapshot is the license counterpart of a CRL; like a CRL
//! (RFC 5280 §5.1.2.4–5) it has a this-update and a next-update, and a
//! verifier past next-update has stale revocation data (ETSI EN 319 102-1
//! §5.2.5: revocation information must be fresh, else INDETERMINATE /
//! TRY_LATER).

use ciborium::Value;
use coset::{CoseSign1, TaggedCborSerializable, iana};
use ring::signature::{self, UnparsedPublicKey};
use time::OffsetDateTime;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::license::record::certificate_kid;

/// The largest snapshot read (a few million identifiers).
pub const MAX_SNAPSHOT_BYTES: usize = 128 * 1024 * 1024;

/// A verified license status snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LicenseStatusSnapshot {
    /// Identifiers of revoked licenses, sorted (superseded ones, which the
    /// payload's `"r"` lists too, are taken out into `superseded`).
    pub revoked: Vec<String>,
    /// Identifiers of suspended licenses, sorted.
    pub suspended: Vec<String>,
    /// Superseded versions as (old, new) identifier pairs, sorted by the old
    /// one; empty for a snapshot made before versions existed.
    pub superseded: Vec<(String, String)>,
    /// this-update.
    pub this_update: OffsetDateTime,
    /// next-update.
    pub next_update: OffsetDateTime,
    /// Seal certificates revoked for key compromise (serial hex, sorted),
    /// each with the sorted SHA-256s of the records it really issued.
    pub compromised: Vec<CompromisedRecords>,
    /// The CA certificate (DER) whose key signed it.
    pub signer: Vec<u8>,
}

/// A seal certificate revoked for key compromise (serial hex) and the sorted
/// SHA-256s of the records it really issued.
pub type CompromisedRecords = (String, Vec<[u8; 32]>);

/// A license's status according to a snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListedStatus {
    /// Not listed: neither revoked nor suspended.
    NotListed,
    /// Listed as suspended (暂停).
    Suspended,
    /// Listed as revoked (吊销/注销).
    Revoked,
    /// Listed as superseded by a newer version (已换发); see
    /// [`LicenseStatusSnapshot::superseded_by`].
    Superseded,
}

/// Longest chain of versions followed (a license has at most 999 versions).
const MAX_VERSIONS: usize = 999;

impl LicenseStatusSnapshot {
    /// What the snapshot says of `license_id`.
    pub fn status_of(&self, license_id: &str) -> ListedStatus {
        let listed = |v: &[String]| v.binary_search_by(|x| x.as_str().cmp(license_id)).is_ok();
        if self.superseded_by(license_id).is_some() {
            ListedStatus::Superseded
        } else if listed(&self.revoked) {
            ListedStatus::Revoked
        } else if listed(&self.suspended) {
            ListedStatus::Suspended
        } else {
            ListedStatus::NotListed
        }
    }

    /// For a seal certificate revoked for key compromise: whether the
    /// snapshot lists `record_sha256` among the records it issued (`None`
    /// when the snapshot does not list the certificate at all).
    pub fn issued_before_compromise(
        &self,
        certificate_serial_hex: &str,
        record_sha256: &[u8; 32],
    ) -> Option<bool> {
        let i = self
            .compromised
            .binary_search_by(|(serial, _)| serial.as_str().cmp(certificate_serial_hex))
            .ok()?;
        Some(self.compromised[i].1.binary_search(record_sha256).is_ok())
    }

    /// The version that directly replaced `license_id`, if it was superseded.
    pub fn superseded_by(&self, license_id: &str) -> Option<&str> {
        self.superseded
            .binary_search_by(|(old, _)| old.as_str().cmp(license_id))
            .ok()
            .map(|i| self.superseded[i].1.as_str())
    }

    /// The newest version reached from `license_id` by following
    /// replacements (itself if it was not superseded).
    pub fn current_version<'a>(&'a self, license_id: &'a str) -> &'a str {
        let mut current = license_id;
        for _ in 0..MAX_VERSIONS {
            match self.superseded_by(current) {
                Some(next) => current = next,
                None => break,
            }
        }
        current
    }
}

/// The snapshot a trust store holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum SnapshotState {
    /// The bundle has no `license-status.cose`.
    #[default]
    Missing,
    /// It could not be read or its signature does not verify: the reason.
    Invalid(String),
    /// Verified.
    Verified(LicenseStatusSnapshot),
}

impl SnapshotState {
    /// The verified snapshot, if any.
    pub fn verified(&self) -> Option<&LicenseStatusSnapshot> {
        match self {
            SnapshotState::Verified(s) => Some(s),
            _ => None,
        }
    }
}

/// Verifies snapshot bytes against the CA certificates of a bundle: the
/// signer is found by `kid` among `anchors` and `intermediates`, must be a CA
/// (basicConstraints cA, RFC 5280 §4.2.1.9) and an anchor or certified by
/// one (its signature checked; its chain is validated with each seal's).
pub fn verify_snapshot(
    cose: &[u8],
    anchors: &[Vec<u8>],
    intermediates: &[Vec<u8>],
) -> SnapshotState {
    match verify(cose, anchors, intermediates) {
        Ok(s) => SnapshotState::Verified(s),
        Err(why) => SnapshotState::Invalid(why),
    }
}

fn verify(
    cose: &[u8],
    anchors: &[Vec<u8>],
    intermediates: &[Vec<u8>],
) -> Result<LicenseStatusSnapshot, String> {
    if cose.len() > MAX_SNAPSHOT_BYTES {
        return Err("the snapshot is too large".into());
    }
    let (payload, signer) = verify_ca_signed(cose, anchors, intermediates, "snapshot")?;
    let mut snapshot = parse_payload(&payload)?;
    snapshot.signer = signer;
    Ok(snapshot)
}

/// Verifies a document of the bundle signed by one of its CAs (the status
/// snapshot, the authorised issuers list): a tagged `COSE_Sign1` whose
/// headers obey RFC 9052 §3 (no label twice, none in both buckets, no
/// `crit`), whose signer is found by `kid` among `anchors` and
/// `intermediates`, is a CA (basicConstraints cA, RFC 5280 §4.2.1.9) and an
/// anchor or certified by one (its signature checked). Returns the payload
/// and the signer's certificate (DER); `what` names the document in errors.
pub(crate) fn verify_ca_signed(
    cose: &[u8],
    anchors: &[Vec<u8>],
    intermediates: &[Vec<u8>],
    what: &str,
) -> Result<(Vec<u8>, Vec<u8>), String> {
    crate::license::cose_headers::check_sign1_headers(cose)
        .map_err(|e| format!("the {what}: {e}"))?;
    let sign1 = CoseSign1::from_tagged_slice(cose)
        .map_err(|e| format!("the {what} is not a tagged COSE_Sign1: {e}"))?;
    let alg = match &sign1.protected.header.alg {
        Some(coset::Algorithm::Assigned(a)) => *a,
        _ => return Err(format!("the {what} names no algorithm")),
    };
    let kid = sign1.unprotected.key_id.as_slice();
    let anchor_certs: Vec<X509Certificate<'_>> = parse_all(anchors);
    let mut tried = false;
    for der in anchors.iter().chain(intermediates) {
        if certificate_kid(der).as_slice() != kid {
            continue;
        }
        let Ok((_, cert)) = X509Certificate::from_der(der) else {
            continue;
        };
        tried = true;
        let is_ca = matches!(cert.basic_constraints(), Ok(Some(bc)) if bc.value.ca);
        let certified = anchors.contains(der)
            || anchor_certs.iter().any(|a| {
                a.subject().as_raw() == cert.issuer().as_raw()
                    && cert.verify_signature(Some(a.public_key())).is_ok()
            });
        if !is_ca || !certified {
            continue;
        }
        let key = cert.public_key().subject_public_key.data.as_ref();
        let algorithm: &dyn signature::VerificationAlgorithm = match alg {
            iana::Algorithm::ES256 => &signature::ECDSA_P256_SHA256_FIXED,
            iana::Algorithm::ES384 => &signature::ECDSA_P384_SHA384_FIXED,
            iana::Algorithm::EdDSA => &signature::ED25519,
            other => return Err(format!("unsupported {what} algorithm {other:?}")),
        };
        let ok = sign1
            .verify_signature(b"", |sig, tbs| {
                UnparsedPublicKey::new(algorithm, key).verify(tbs, sig)
            })
            .is_ok();
        if ok {
            let payload = sign1
                .payload
                .ok_or_else(|| format!("detached {what} payload"))?;
            return Ok((payload, der.clone()));
        }
    }
    Err(if tried {
        format!("the {what}'s signature does not verify with a CA of the bundle")
    } else {
        format!(
            "no CA of the bundle has the {what}'s key identifier {}",
            hex::encode(kid)
        )
    })
}

fn parse_all(ders: &[Vec<u8>]) -> Vec<X509Certificate<'_>> {
    ders.iter()
        .filter_map(|d| X509Certificate::from_der(d).ok().map(|(_, c)| c))
        .collect()
}

/// `"kc"`: `[[serial text, [32-byte bstr, ..]], ..]`, optional.
fn compromised(entries: &[(Value, Value)]) -> Result<Vec<CompromisedRecords>, String> {
    let Some((_, value)) = entries.iter().find(|(k, _)| k.as_text() == Some("kc")) else {
        return Ok(Vec::new());
    };
    let bad =
        || "\"kc\" holds something else than [serial, [record SHA-256, ..]] pairs".to_string();
    let mut out = Vec::new();
    for seal in value.as_array().ok_or_else(bad)? {
        let Some([Value::Text(serial), Value::Array(hashes)]) = seal.as_array().map(Vec::as_slice)
        else {
            return Err(bad());
        };
        let mut records = hashes
            .iter()
            .map(|h| {
                h.as_bytes()
                    .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
            })
            .collect::<Option<Vec<_>>>()
            .ok_or_else(bad)?;
        records.sort();
        out.push((serial.to_ascii_lowercase(), records));
    }
    out.sort();
    Ok(out)
}

/// The CBOR payload: `{"r": [..], "s": [..], "kc": [..], "nu": int, "sp": [[old, new], ..], "tu": int}`
/// (`"sp"` optional: snapshots made before license versions lack it;
/// `"kc"` present only once a seal certificate was revoked for key compromise).
fn parse_payload(payload: &[u8]) -> Result<LicenseStatusSnapshot, String> {
    let value: Value =
        ciborium::from_reader(payload).map_err(|e| format!("snapshot payload: {e}"))?;
    let Value::Map(entries) = value else {
        return Err("the snapshot payload is not a map".into());
    };
    let get = |key: &str| {
        entries
            .iter()
            .find(|(k, _)| k.as_text() == Some(key))
            .map(|(_, v)| v)
            .ok_or_else(|| format!("the snapshot lacks {key:?}"))
    };
    let ids = |key: &str| -> Result<Vec<String>, String> {
        let Value::Array(items) = get(key)? else {
            return Err(format!("{key:?} is not an array"));
        };
        let mut out: Vec<String> = items
            .iter()
            .map(|v| v.as_text().map(str::to_string))
            .collect::<Option<_>>()
            .ok_or_else(|| format!("{key:?} holds a non-text identifier"))?;
        out.sort();
        Ok(out)
    };
    let time = |key: &str| -> Result<OffsetDateTime, String> {
        let seconds = get(key)?
            .as_integer()
            .and_then(|i| i64::try_from(i).ok())
            .ok_or_else(|| format!("{key:?} is not an integer"))?;
        OffsetDateTime::from_unix_timestamp(seconds).map_err(|e| format!("{key:?}: {e}"))
    };
    let mut superseded = match entries.iter().find(|(k, _)| k.as_text() == Some("sp")) {
        None => Vec::new(),
        Some((_, Value::Array(items))) => items
            .iter()
            .map(|pair| match pair.as_array().map(Vec::as_slice) {
                Some([Value::Text(old), Value::Text(new)]) => Some((old.clone(), new.clone())),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()
            .ok_or("\"sp\" holds something else than [old, new] identifier pairs")?,
        Some(_) => return Err("\"sp\" is not an array".into()),
    };
    superseded.sort();
    if superseded.windows(2).any(|w| w[0].0 == w[1].0) {
        return Err("\"sp\" names two successors for one version".into());
    }
    let revoked = ids("r")?
        .into_iter()
        .filter(|id| {
            superseded
                .binary_search_by(|(old, _)| old.as_str().cmp(id))
                .is_err()
        })
        .collect();
    let snapshot = LicenseStatusSnapshot {
        revoked,
        suspended: ids("s")?,
        superseded,
        compromised: compromised(&entries)?,
        this_update: time("tu")?,
        next_update: time("nu")?,
        signer: Vec::new(),
    };
    if snapshot.next_update < snapshot.this_update {
        return Err("the snapshot's next-update precedes its this-update".into());
    }
    Ok(snapshot)
}
