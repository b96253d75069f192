//! The public trust bundle: what an offline verifier needs and nothing secret.
//! Written to `certs/` and served at `GET /v1/trust`:
//!
//! | file | content |
//! |------|---------|
//! | `root.pem` | the trust anchor (RFC 5280 §6.1.1 (d)) |
//! | `issuing-ca.pem`, `tsa.pem` | CA and TSA certificates (path candidates, no trust of their own) |
//! | `crl/root.crl`, `crl/issuing-ca.crl` | the current CRL of each CA (RFC 5280 §5), DER |
//! | `seals/<kid-hex>.pem` | every seal certificate ever issued, revoked ones included (the CRL says which), grouped by the license-record `kid` = SHA-256(DER)[..8] (RFC 9052 §3.1 `kid`); a verifier looks a record's signer up here, never trusts it as an anchor |
//! | `license-status.cose`, `license-status.json` | the signed license status snapshot (see [`crate::license::snapshot`]) |
//! | `license-issuers.cose` | the authorised issuers list: for each license type, the USCCs of the departments that may issue it, signed by the issuing CA (see [`crate::license::issuers`]) |
//! | `log-key.txt`, `checkpoint.txt` | the transparency log's verifier key and latest checkpoint (with the witnesses' cosignatures) |
//! | `witnesses.txt` | the witness policy (C2SP tlog-policy): witness keys and how many must cosign a checkpoint; absent when no witnesses are configured |
//! | `bundle.json` | all of the above in one JSON document ([`TrustBundle`]) |
//!
//! The bundle is reassembled and rewritten at start-up and whenever a
//! certificate, a seal, a license type or a license status changes.
//!
//! Integrity: `bundle.json` itself is not signed; a verifier trusts only
//! `root.pem` (obtained out of band) and what verifies up to it — the CA
//! certificates and CRLs by their signatures, the seal certificates by
//! their chains, and the two documents the issuing CA signs as COSE_Sign1
//! (the status snapshot and the authorised issuers list). The JSON copies
//! of those documents are for people; the verifier reads the COSE bytes.

use std::path::Path;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::{Authority, AuthorityError, CaName, certificate_pem};
use crate::store::Database;

/// A published CRL in the bundle.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BundleCrl {
    /// `root` or `issuing-ca`.
    pub ca: String,
    /// CRL number.
    pub number: i64,
    /// thisUpdate, RFC 3339.
    pub this_update: String,
    /// nextUpdate, RFC 3339.
    pub next_update: String,
    /// The CRL, DER in base64.
    pub der_base64: String,
}

/// A seal certificate in the bundle.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BundleSeal {
    /// The license-record key identifier: SHA-256(DER)[..8], lower-case hex.
    pub kid: String,
    /// Serial number, lower-case hex.
    pub serial: String,
    /// Subject common name (the seal's name).
    pub subject: String,
    /// Revocation time (RFC 3339) if revoked; the CRL is authoritative.
    pub revoked_at: Option<String>,
    /// The certificate, PEM.
    pub pem: String,
}

/// The signed license status snapshot, as published in the bundle.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BundleLicenseStatus {
    /// Identifiers of revoked licenses.
    pub revoked: Vec<String>,
    /// Identifiers of suspended licenses.
    pub suspended: Vec<String>,
    /// this-update, Unix seconds.
    pub this_update: i64,
    /// next-update, Unix seconds.
    pub next_update: i64,
    /// The signed COSE_Sign1 (the only part a verifier trusts), base64.
    pub cose_base64: String,
}

/// The authorised issuers list, as published in the bundle.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BundleLicenseIssuers {
    /// For each license type, the USCCs of the departments that may issue it.
    pub types: Vec<crate::license::issuers::TypeIssuers>,
    /// When the list was made, Unix seconds.
    pub this_update: i64,
    /// The signed COSE_Sign1 (the only part a verifier trusts), base64.
    pub cose_base64: String,
}

/// The trust bundle.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TrustBundle {
    /// Root CA certificate, PEM.
    pub root: String,
    /// Issuing CA certificate, PEM.
    pub issuing_ca: String,
    /// Time-stamping authority certificate, PEM.
    pub tsa: String,
    /// Current CRLs.
    pub crls: Vec<BundleCrl>,
    /// When this bundle was assembled, RFC 3339.
    pub generated_at: String,
    /// The transparency log's verifier key (C2SP signed-note verifier key text).
    #[serde(default)]
    pub log_verifier_key: Option<String>,
    /// The latest signed log checkpoint (C2SP tlog-checkpoint note).
    #[serde(default)]
    pub log_checkpoint: Option<String>,
    /// The installation's public base URL: license QR texts are
    /// `<public_url>/v/<payload>`, and a verifier refuses other prefixes.
    #[serde(default)]
    pub public_url: Option<String>,
    /// Every seal certificate, revoked ones included, ordered by serial.
    #[serde(default)]
    pub seals: Vec<BundleSeal>,
    /// The witness policy (C2SP tlog-policy text), if witnesses are configured.
    #[serde(default)]
    pub witness_policy: Option<String>,
    /// The license status snapshot, signed by the issuing CA.
    #[serde(default)]
    pub license_status: Option<BundleLicenseStatus>,
    /// Which departments may issue which license type, signed by the issuing CA.
    #[serde(default)]
    pub license_issuers: Option<BundleLicenseIssuers>,
}

fn rfc3339(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

impl Authority {
    /// Assembles the bundle, refreshing CRLs that are due.
    pub async fn trust_bundle(&self, db: &Database) -> Result<TrustBundle, AuthorityError> {
        let mut crls = Vec::new();
        for ca in CaName::ALL {
            let crl = self.fresh_crl(db, ca).await?;
            crls.push(BundleCrl {
                ca: ca.as_str().into(),
                number: crl.number,
                this_update: rfc3339(crl.this_update),
                next_update: rfc3339(crl.next_update),
                der_base64: base64::engine::general_purpose::STANDARD.encode(&crl.der),
            });
        }
        let mut conn = db
            .pool
            .acquire()
            .await
            .map_err(crate::store::StoreError::from)?;
        let log_verifier_key = crate::transparency::key::published_verifier_key(&mut conn)
            .await
            .map_err(|e| AuthorityError::Inconsistent(e.to_string()))?;
        let log_checkpoint = crate::transparency::proofs::latest_checkpoint(&mut conn)
            .await
            .map_err(|e| AuthorityError::Inconsistent(e.to_string()))?
            .map(|c| c.note);
        let witness_policy = crate::transparency::witnessing::published_policy(&mut conn)
            .await
            .map_err(|e| AuthorityError::Inconsistent(e.to_string()))?;
        let seals = crate::store::certificates::with_role(&mut conn, "seal")
            .await?
            .into_iter()
            .map(|row| BundleSeal {
                kid: hex::encode(crate::license::record::certificate_kid(&row.der)),
                serial: row.serial_hex.to_lowercase(),
                subject: row.subject,
                revoked_at: row.revoked_at.map(rfc3339),
                pem: certificate_pem(&row.der),
            })
            .collect();
        drop(conn);
        let (snapshot, cose) = crate::license::lifecycle::snapshot(db, self)
            .await
            .map_err(|e| AuthorityError::Inconsistent(e.to_string()))?;
        let license_status = Some(BundleLicenseStatus {
            revoked: snapshot.revoked,
            suspended: snapshot.suspended,
            this_update: snapshot.this_update,
            next_update: snapshot.next_update,
            cose_base64: base64::engine::general_purpose::STANDARD.encode(&cose),
        });
        let (issuers, issuers_cose) = crate::license::catalogue::authorised_issuers(db, self)
            .await
            .map_err(|e| AuthorityError::Inconsistent(e.to_string()))?;
        let license_issuers = Some(BundleLicenseIssuers {
            types: issuers.types,
            this_update: issuers.this_update,
            cose_base64: base64::engine::general_purpose::STANDARD.encode(&issuers_cose),
        });
        Ok(TrustBundle {
            root: certificate_pem(&self.root.certificate.der),
            issuing_ca: certificate_pem(&self.issuing.certificate.der),
            tsa: certificate_pem(&self.tsa.certificate.der),
            crls,
            generated_at: rfc3339(crate::store::now_unix()),
            log_verifier_key,
            log_checkpoint,
            public_url: Some(self.public_url.trim_end_matches('/').to_string()),
            seals,
            witness_policy,
            license_status,
            license_issuers,
        })
    }
}

/// Writes the bundle as files under `dir` (each file replaced atomically).
pub fn write_trust_bundle(dir: &Path, bundle: &TrustBundle) -> Result<(), AuthorityError> {
    let write = |name: &str, bytes: &[u8]| -> Result<(), AuthorityError> {
        let path = dir.join(name);
        let err = |source| AuthorityError::Bundle {
            path: path.display().to_string(),
            source,
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(err)?;
        }
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, bytes).map_err(err)?;
        std::fs::rename(&tmp, &path).map_err(err)
    };
    write("root.pem", bundle.root.as_bytes())?;
    write("issuing-ca.pem", bundle.issuing_ca.as_bytes())?;
    write("tsa.pem", bundle.tsa.as_bytes())?;
    for crl in &bundle.crls {
        let der = base64::engine::general_purpose::STANDARD
            .decode(&crl.der_base64)
            .map_err(|e| AuthorityError::Inconsistent(e.to_string()))?;
        write(&format!("crl/{}.crl", crl.ca), &der)?;
    }
    if let Some(key) = &bundle.log_verifier_key {
        write("log-key.txt", format!("{key}\n").as_bytes())?;
    }
    if let Some(note) = &bundle.log_checkpoint {
        write("checkpoint.txt", note.as_bytes())?;
    }
    match &bundle.witness_policy {
        Some(policy) => write("witnesses.txt", policy.as_bytes())?,
        // Witnesses withdrawn: a stale policy must not keep verifiers demanding them.
        None => match std::fs::remove_file(dir.join("witnesses.txt")) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(AuthorityError::Bundle {
                    path: dir.join("witnesses.txt").display().to_string(),
                    source: e,
                });
            }
            _ => {}
        },
    }
    let mut by_kid: std::collections::BTreeMap<&str, String> = Default::default();
    for seal in &bundle.seals {
        by_kid.entry(&seal.kid).or_default().push_str(&seal.pem);
    }
    for (kid, pems) in by_kid {
        if kid.len() != 16 || !kid.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(AuthorityError::Inconsistent(format!(
                "bad seal kid {kid:?}"
            )));
        }
        write(&format!("seals/{kid}.pem"), pems.as_bytes())?;
    }
    if let Some(status) = &bundle.license_status {
        let cose = base64::engine::general_purpose::STANDARD
            .decode(&status.cose_base64)
            .map_err(|e| AuthorityError::Inconsistent(e.to_string()))?;
        let json = serde_json::to_vec_pretty(status)
            .map_err(|e| AuthorityError::Inconsistent(e.to_string()))?;
        write("license-status.cose", &cose)?;
        write("license-status.json", &json)?;
    }
    if let Some(issuers) = &bundle.license_issuers {
        let cose = base64::engine::general_purpose::STANDARD
            .decode(&issuers.cose_base64)
            .map_err(|e| AuthorityError::Inconsistent(e.to_string()))?;
        write("license-issuers.cose", &cose)?;
    }
    let json = serde_json::to_vec_pretty(bundle)
        .map_err(|e| AuthorityError::Inconsistent(e.to_string()))?;
    write("bundle.json", &json)
}
