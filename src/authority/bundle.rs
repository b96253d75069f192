//! The public trust bundle: what an offline verifier needs and nothing secret.
//! Written to `certs/` (root.pem, issuing-ca.pem, tsa.pem, crl/*.crl,
//! log-key.txt, checkpoint.txt, bundle.json) and served at `GET /v1/trust`.

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
        Ok(TrustBundle {
            root: certificate_pem(&self.root.certificate.der),
            issuing_ca: certificate_pem(&self.issuing.certificate.der),
            tsa: certificate_pem(&self.tsa.certificate.der),
            crls,
            generated_at: rfc3339(crate::store::now_unix()),
            log_verifier_key,
            log_checkpoint,
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
    let json = serde_json::to_vec_pretty(bundle)
        .map_err(|e| AuthorityError::Inconsistent(e.to_string()))?;
    write("bundle.json", &json)
}
