//! First-start set-up of the PKI, and loading it on later starts.

use time::{Duration, OffsetDateTime};

use super::{Authority, AuthorityError, CaName, CertifiedKey};
use crate::keystore::{KeyAlgorithm, KeyStore};
use crate::pki::{self, CertificateRole, Subject};
use crate::store::{self, Connection, Database, StoreError, certificates::CertificateRow};

/// Choices for a new installation's PKI.
#[derive(Clone, Debug)]
pub struct InitOptions {
    /// The authority's name (organisation in every CA subject).
    pub authority_name: String,
    /// Key algorithm for CA, TSA and new end-entity keys.
    pub algorithm: KeyAlgorithm,
    /// Root CA validity.
    pub root_validity: Duration,
    /// Issuing CA validity.
    pub issuing_validity: Duration,
    /// TSA certificate validity.
    pub tsa_validity: Duration,
    /// Public base URL (CRL distribution points).
    pub public_url: String,
}

impl InitOptions {
    /// Defaults: P-256, root 20 years, issuing CA 10 years, TSA 5 years.
    pub fn new(public_url: &str) -> Self {
        InitOptions {
            authority_name: "govseal 统一身份认证中心".into(),
            algorithm: KeyAlgorithm::EcdsaP256,
            root_validity: Duration::days(365 * 20),
            issuing_validity: Duration::days(365 * 10),
            tsa_validity: Duration::days(365 * 5),
            public_url: public_url.to_string(),
        }
    }
}

const ROLES: [&str; 3] = ["root", "issuing-ca", "tsa"];

/// Creates the root CA, issuing CA and TSA, and the first CRLs, in one transaction.
/// Refuses with [`AuthorityError::AlreadyInitialized`] if a PKI exists (also when
/// another process wins a race to create it).
pub async fn initialize(
    db: &Database,
    keys: &KeyStore,
    options: &InitOptions,
) -> Result<Authority, AuthorityError> {
    let mut tx = db.begin().await?;
    if store::certificates::authority(&mut tx, "root")
        .await?
        .is_some()
    {
        return Err(AuthorityError::AlreadyInitialized);
    }
    let now = OffsetDateTime::now_utc();
    let ca_subject = |cn: &str| Subject {
        common_name: cn.to_string(),
        organization: Some(options.authority_name.clone()),
        ..Subject::default()
    };

    let (root_key, root_signer) = keys.generate(&store::new_id(), options.algorithm)?;
    let root_subject = ca_subject(&format!("{} 根CA", options.authority_name));
    let root_cert =
        pki::self_signed_root(&*root_signer, &root_subject, now, options.root_validity)?;
    store::keys::insert(&mut tx, &root_key).await?;
    let root_row = row(
        CertificateRole::Root,
        None,
        &root_subject,
        &root_key.id,
        root_cert,
    );
    store::certificates::insert(&mut tx, &root_row).await?;
    let root = CertifiedKey {
        certificate: root_row,
        signer: root_signer,
    };

    let base = options.public_url.trim_end_matches('/');
    let (issuing_key, issuing_signer) = keys.generate(&store::new_id(), options.algorithm)?;
    let issuing_subject = ca_subject(&format!("{} 签发CA", options.authority_name));
    let issuing_cert = pki::issue_certificate(
        &root.certificate.der,
        &*root.signer,
        &*issuing_signer,
        CertificateRole::IssuingCa,
        &issuing_subject,
        now,
        options.issuing_validity.min(options.root_validity),
        Some(&format!("{base}/v1/crl/{}", CaName::Root.as_str())),
    )?;
    store::keys::insert(&mut tx, &issuing_key).await?;
    let issuing_row = row(
        CertificateRole::IssuingCa,
        Some(&root.certificate.id),
        &issuing_subject,
        &issuing_key.id,
        issuing_cert,
    );
    store::certificates::insert(&mut tx, &issuing_row).await?;
    let issuing = CertifiedKey {
        certificate: issuing_row,
        signer: issuing_signer,
    };

    let (tsa_key, tsa_signer) = keys.generate(&store::new_id(), options.algorithm)?;
    let tsa_subject = ca_subject(&format!("{} 时间戳服务", options.authority_name));
    let tsa_cert = pki::issue_certificate(
        &issuing.certificate.der,
        &*issuing.signer,
        &*tsa_signer,
        CertificateRole::TimeStamping,
        &tsa_subject,
        now,
        options.tsa_validity.min(options.issuing_validity),
        Some(&format!("{base}/v1/crl/{}", CaName::IssuingCa.as_str())),
    )?;
    store::keys::insert(&mut tx, &tsa_key).await?;
    let tsa_row = row(
        CertificateRole::TimeStamping,
        Some(&issuing.certificate.id),
        &tsa_subject,
        &tsa_key.id,
        tsa_cert,
    );
    store::certificates::insert(&mut tx, &tsa_row).await?;
    let tsa = CertifiedKey {
        certificate: tsa_row,
        signer: tsa_signer,
    };

    for cert in [&root, &issuing, &tsa] {
        super::log_issued(&mut tx, &cert.certificate, None).await?;
    }
    for (role, cert) in ROLES.iter().zip([&root, &issuing, &tsa]) {
        store::certificates::set_authority(&mut tx, role, &cert.certificate.id)
            .await
            .map_err(|e| match e {
                StoreError::Duplicate(_) => AuthorityError::AlreadyInitialized,
                other => other.into(),
            })?;
    }
    store::settings::put(
        &mut tx,
        db.backend,
        "key_algorithm",
        options.algorithm.as_str(),
    )
    .await?;
    store::settings::put(&mut tx, db.backend, "public_url", &options.public_url).await?;
    let authority = Authority {
        root,
        issuing,
        tsa,
        algorithm: options.algorithm,
        public_url: options.public_url.clone(),
        recent_crls: Default::default(),
    };
    for ca in CaName::ALL {
        authority.publish_crl(&mut tx, ca).await?;
    }
    tx.commit()
        .await
        .map_err(|e| match StoreError::duplicate_as(e, "authority") {
            StoreError::Duplicate(_) => AuthorityError::AlreadyInitialized,
            other => other.into(),
        })?;
    Ok(authority)
}

fn row(
    role: CertificateRole,
    issuer_id: Option<&str>,
    subject: &Subject,
    key_id: &str,
    issued: pki::IssuedCertificate,
) -> CertificateRow {
    CertificateRow {
        id: store::new_id(),
        role: role.as_str().into(),
        issuer_id: issuer_id.map(str::to_string),
        serial_hex: issued.serial_hex,
        subject: subject.common_name.clone(),
        key_id: key_id.to_string(),
        der: issued.der,
        not_before: issued.not_before.unix_timestamp(),
        not_after: issued.not_after.unix_timestamp(),
        revoked_at: None,
        revocation_reason: None,
    }
}

async fn certified(
    conn: &mut Connection,
    keys: &KeyStore,
    role: &str,
) -> Result<Option<CertifiedKey>, AuthorityError> {
    let Some(certificate) = store::certificates::authority(conn, role).await? else {
        return Ok(None);
    };
    let sealed = store::keys::get(conn, &certificate.key_id)
        .await?
        .ok_or_else(|| {
            AuthorityError::Inconsistent(format!("key of the {role} certificate is missing"))
        })?;
    let signer = keys.open(&sealed)?;
    Ok(Some(CertifiedKey {
        certificate,
        signer,
    }))
}

/// Loads the PKI if one exists. Opening the CA keys checks that the master key is right.
pub async fn load(db: &Database, keys: &KeyStore) -> Result<Option<Authority>, AuthorityError> {
    let mut conn = db.pool.acquire().await.map_err(StoreError::from)?;
    let Some(root) = certified(&mut conn, keys, "root").await? else {
        return Ok(None);
    };
    let missing = |r: &str| AuthorityError::Inconsistent(format!("no {r} certificate"));
    let issuing = certified(&mut conn, keys, "issuing-ca")
        .await?
        .ok_or_else(|| missing("issuing-ca"))?;
    let tsa = certified(&mut conn, keys, "tsa")
        .await?
        .ok_or_else(|| missing("tsa"))?;
    let algorithm = store::settings::get(&mut conn, "key_algorithm")
        .await?
        .and_then(|a| KeyAlgorithm::parse(&a))
        .unwrap_or(KeyAlgorithm::EcdsaP256);
    let public_url = store::settings::get(&mut conn, "public_url")
        .await?
        .unwrap_or_default();
    Ok(Some(Authority {
        root,
        issuing,
        tsa,
        algorithm,
        public_url,
        recent_crls: Default::default(),
    }))
}
