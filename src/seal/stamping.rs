//! Stamping (盖章): a department's system uploads a PDF and gets it back with
//! the seal drawn where it asked and a PAdES signature by the seal's key,
//! added as an incremental update so earlier signatures (joint approval,
//! 联合审批) stay valid. Every stamp is recorded with who pressed the button.

use std::sync::Arc;

use time::OffsetDateTime;

use super::appearance::SealAppearance;
use super::registry::ACTIVE;
use crate::access::{Principal, Scope};
use crate::authority::{Authority, CaName};
use crate::keystore::{KeyStore, Signer};
use crate::outcome::ActionError;
use crate::pades::{
    self, Level, PadesError, PadesRequest, Placement, SigningIdentity, TimeStamper, ValidationData,
};
use crate::store::certificates::CertificateRow;
use crate::store::departments::DepartmentRow;
use crate::store::seals::{SealRow, SealWithOwner};
use crate::store::{self, Database, seals::StampRow};

/// Smallest and largest seal diameter in millimetres.
pub const SIZE_RANGE_MM: (f32, f32) = (30.0, 50.0);
/// Default seal diameter (a 42 mm official seal).
pub const DEFAULT_SIZE_MM: f32 = 42.0;
/// Largest PDF accepted for stamping.
pub const MAX_PDF_BYTES: usize = 50 * 1024 * 1024;

/// Where and how to stamp.
#[derive(Clone, Debug)]
pub struct StampRequest {
    /// The seal to use.
    pub seal_id: String,
    /// Page, from 1.
    pub page: u32,
    /// Seal centre, points from the page's left edge.
    pub x: f32,
    /// Seal centre, points from the page's bottom edge.
    pub y: f32,
    /// Diameter in mm (30–50).
    pub size_mm: Option<f32>,
    /// `/Reason`.
    pub reason: Option<String>,
    /// The person who pressed "stamp".
    pub operator: Option<String>,
    /// PAdES level (default B-LT).
    pub level: Level,
    /// The caller's Idempotency-Key.
    pub idempotency_key: Option<String>,
}

/// A stamped document.
#[derive(Clone, Debug)]
pub struct Stamped {
    /// The stamp record id.
    pub record_id: String,
    /// The stamped PDF.
    pub pdf: Vec<u8>,
    /// True when this is the stored answer to a repeated Idempotency-Key.
    pub replayed: bool,
}

/// What stamping needs from the service.
pub struct StampingContext<'a> {
    /// Database.
    pub db: &'a Database,
    /// Key store.
    pub keys: &'a KeyStore,
    /// PKI.
    pub authority: &'a Authority,
    /// The TSA.
    pub tsa: Arc<dyn TimeStamper>,
    /// Where stamped PDFs go when not into the database.
    pub documents: Option<&'a crate::store::documents::DocumentStore>,
}

/// What signing with a seal needs: the seal, its department, its certificate and its key.
pub(crate) struct SealKey {
    /// The seal.
    pub seal: SealRow,
    /// The seal's department.
    pub department: DepartmentRow,
    /// The seal certificate (not revoked).
    pub certificate: CertificateRow,
    /// The seal's key, opened from the key store.
    pub signer: Arc<dyn Signer>,
}

/// Opens the key of a seal loaded with its department and certificate
/// ([`store::seals::get_with_owner`]); a revoked certificate is a conflict
/// (the seal cannot sign any more).
pub(crate) async fn open_seal_key(
    db: &Database,
    keys: &KeyStore,
    owned: SealWithOwner,
) -> Result<SealKey, ActionError> {
    let SealWithOwner {
        seal,
        department,
        certificate,
    } = owned;
    if certificate.revoked_at.is_some() {
        return Err(ActionError::Conflict {
            code: "seal_not_active",
            message: "the seal certificate is revoked".into(),
        });
    }
    let signer = match keys.opened(&certificate.key_id) {
        Some(signer) => signer,
        None => {
            let mut conn = db.pool.acquire().await?;
            let sealed = store::keys::get(&mut conn, &certificate.key_id)
                .await?
                .ok_or_else(|| ActionError::internal(anyhow::anyhow!("seal key missing")))?;
            keys.open(&sealed).map_err(ActionError::internal)?
        }
    };
    Ok(SealKey {
        seal,
        department,
        certificate,
        signer,
    })
}

/// The CA certificates above a seal certificate (issuing CA, root), DER.
pub(crate) fn ca_chain(authority: &Authority) -> Vec<Vec<u8>> {
    vec![
        authority.issuing.certificate.der.clone(),
        authority.root.certificate.der.clone(),
    ]
}

/// The DSS content for a seal signature (ETSI EN 319 142-1 §5.4.2): the seal
/// certificate, its chain, the TSA certificate and the current CRL of each CA.
pub(crate) async fn validation_data(
    authority: &Authority,
    db: &Database,
    seal_certificate: &[u8],
) -> Result<ValidationData, ActionError> {
    let mut certificates = vec![seal_certificate.to_vec()];
    certificates.extend(ca_chain(authority));
    certificates.push(authority.tsa.certificate.der.clone());
    let mut crls = Vec::new();
    for ca in CaName::ALL {
        crls.push(authority.recent_crl(db, ca).await?.der);
    }
    Ok(ValidationData { certificates, crls })
}

fn hex_sha256(data: &[u8]) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, data))
}

fn request_hash(pdf: &[u8], r: &StampRequest) -> String {
    let params = format!(
        "{}|{}|{}|{}|{:?}|{:?}|{:?}|{}|{}",
        r.seal_id,
        r.page,
        r.x,
        r.y,
        r.size_mm,
        r.reason,
        r.operator,
        r.level,
        hex_sha256(pdf)
    );
    hex_sha256(params.as_bytes())
}

/// Stamps `pdf` with a seal.
pub async fn stamp(
    ctx: &StampingContext<'_>,
    caller: &Principal,
    pdf: Vec<u8>,
    request: StampRequest,
) -> Result<Stamped, ActionError> {
    let actor = caller.actor();
    let request_sha256 = request_hash(&pdf, &request);
    if let Some(key) = &request.idempotency_key {
        if key.is_empty() || key.len() > 200 {
            return Err(ActionError::invalid(
                "Idempotency-Key",
                "must be 1 to 200 characters",
            ));
        }
        let mut conn = ctx.db.pool.acquire().await?;
        if let Some((row, out)) =
            store::seals::stamp_by_idempotency_key(&mut conn, &actor, key).await?
        {
            if row.request_sha256 != request_sha256 {
                return Err(ActionError::Conflict {
                    code: "idempotency_key_reused",
                    message: "this Idempotency-Key was used for a different request".into(),
                });
            }
            return Ok(Stamped {
                pdf: stored_output(ctx, &row, out).await?,
                record_id: row.id,
                replayed: true,
            });
        }
    }
    let size_mm = request.size_mm.unwrap_or(DEFAULT_SIZE_MM);
    if !(SIZE_RANGE_MM.0..=SIZE_RANGE_MM.1).contains(&size_mm) {
        return Err(ActionError::invalid(
            "size",
            "the seal diameter must be between 30 and 50 mm",
        ));
    }
    if request.page == 0 {
        return Err(ActionError::invalid("page", "pages are numbered from 1"));
    }
    for (field, value) in [("reason", &request.reason), ("operator", &request.operator)] {
        if let Some(v) = value
            && (v.chars().count() > 200 || v.chars().any(char::is_control))
        {
            return Err(ActionError::invalid(
                field,
                "at most 200 characters, no control characters",
            ));
        }
    }

    let mut conn = ctx.db.pool.acquire().await?;
    let owned = store::seals::get_with_owner(&mut conn, &request.seal_id)
        .await?
        .ok_or_else(|| ActionError::invalid("seal_id", format!("no seal {}", request.seal_id)))?;
    drop(conn);
    let seal = &owned.seal;
    if !caller.may(&seal.department_id, Scope::Stamp) {
        return Err(ActionError::Forbidden(
            "this seal belongs to another department, or the client lacks the stamp scope".into(),
        ));
    }
    let now = OffsetDateTime::now_utc();
    if seal.status != ACTIVE {
        return Err(ActionError::Conflict {
            code: "seal_not_active",
            message: format!("the seal is {}", seal.status),
        });
    }
    if now.unix_timestamp() < seal.valid_from || now.unix_timestamp() >= seal.valid_until {
        return Err(ActionError::Conflict {
            code: "seal_not_valid_now",
            message: "the seal is outside its validity window".into(),
        });
    }
    let SealKey {
        seal,
        department,
        certificate,
        signer,
    } = open_seal_key(ctx.db, ctx.keys, owned).await?;

    let appearance = SealAppearance {
        department_name: department.name.clone(),
        seal_name: seal.name.clone(),
        seal_code: Some(seal.code.clone()),
        diameter_mm: size_mm,
    }
    .to_pdf()
    .map_err(|e| ActionError::invalid("seal_id", format!("the seal cannot be drawn: {e}")))?;
    let half = size_mm * 72.0 / 25.4 / 2.0;
    let chain = ca_chain(ctx.authority);
    let validation = if request.level >= Level::BLT {
        validation_data(ctx.authority, ctx.db, &certificate.der).await?
    } else {
        ValidationData::default()
    };
    let pades_request = PadesRequest {
        level: request.level,
        field_name: format!("Seal-{}-{}", seal.code, &store::new_id()[..8]),
        placement: Some(Placement {
            page: request.page,
            rect: [
                request.x - half,
                request.y - half,
                request.x + half,
                request.y + half,
            ],
            appearance,
        }),
        reason: request.reason.clone(),
        name: Some(format!("{}{}", department.name, seal.name)),
        location: None,
        signing_time: now,
    };
    let input_sha256 = hex_sha256(&pdf);
    let tsa = ctx.tsa.clone();
    let cert_der = certificate.der.clone();
    let signed = tokio::task::spawn_blocking(move || {
        let identity = SigningIdentity {
            signer: &*signer,
            certificate: &cert_der,
            chain: &chain,
        };
        pades::sign(&pdf, &pades_request, &identity, Some(&*tsa), &validation)
    })
    .await
    .map_err(ActionError::internal)?
    .map_err(|e| match e {
        PadesError::Pdf(e) => ActionError::invalid("file", e),
        other => ActionError::internal(other),
    })?;

    let row = StampRow {
        id: store::new_id(),
        department_id: seal.department_id.clone(),
        seal_id: seal.id.clone(),
        actor,
        operator: request.operator.clone(),
        reason: request.reason.clone(),
        level: request.level.as_str().into(),
        page: i64::from(request.page),
        x: f64::from(request.x),
        y: f64::from(request.y),
        size_mm: f64::from(size_mm),
        input_sha256,
        output_sha256: hex_sha256(&signed),
        idempotency_key: request.idempotency_key.clone(),
        request_sha256,
        created_at: now.unix_timestamp(),
    };
    // With a document store the file is durable before the row that names it.
    let in_database: &[u8] = match ctx.documents {
        Some(documents) => {
            let (documents, name, bytes) =
                (documents.clone(), row.output_sha256.clone(), signed.clone());
            tokio::task::spawn_blocking(move || documents.put(&name, &bytes))
                .await
                .map_err(ActionError::internal)?
                .map_err(ActionError::internal)?;
            &[]
        }
        None => &signed,
    };
    let mut tx = ctx.db.begin().await?;
    match store::seals::insert_stamp(&mut tx, &row, in_database).await {
        Ok(()) => {
            crate::transparency::record(
                &mut tx,
                crate::transparency::Event {
                    kind: crate::log::EntryKind::Stamp,
                    subject_id: &row.id,
                    department_uscc: Some(&department.uscc),
                    artefact: &signed,
                    actor: &row.actor,
                    // The operator's name is personal: only the record's HMAC of it is logged.
                    details: &[
                        ("input_sha256", &row.input_sha256),
                        ("level", &row.level),
                        ("seal_code", &seal.code),
                    ],
                    record: Some((
                        &crate::transparency::records::STAMPS,
                        ctx.keys.commitment_key().as_deref(),
                    )),
                },
            )
            .await?;
        }
        Err(store::StoreError::Duplicate(_)) => {
            // A concurrent request with the same Idempotency-Key won; answer as it did.
            drop(tx);
            let key = request.idempotency_key.as_deref().unwrap_or_default();
            let mut conn = ctx.db.pool.acquire().await?;
            if let Some((stored, out)) =
                store::seals::stamp_by_idempotency_key(&mut conn, &row.actor, key).await?
            {
                if stored.request_sha256 != row.request_sha256 {
                    return Err(ActionError::Conflict {
                        code: "idempotency_key_reused",
                        message: "this Idempotency-Key was used for a different request".into(),
                    });
                }
                return Ok(Stamped {
                    pdf: stored_output(ctx, &stored, out).await?,
                    record_id: stored.id,
                    replayed: true,
                });
            }
            return Err(ActionError::internal(anyhow::anyhow!(
                "idempotency conflict without a stored stamp"
            )));
        }
        Err(e) => return Err(e.into()),
    }
    tx.commit().await?;
    Ok(Stamped {
        record_id: row.id,
        pdf: signed,
        replayed: false,
    })
}

/// The stamped PDF of a stored stamp: the bytes the row holds, or with a
/// document store (the row holds none) the file named by its hash. A file
/// the retention deleted is a conflict the caller can understand.
async fn stored_output(
    ctx: &StampingContext<'_>,
    row: &StampRow,
    in_database: Vec<u8>,
) -> Result<Vec<u8>, ActionError> {
    if !in_database.is_empty() {
        return Ok(in_database);
    }
    let Some(documents) = ctx.documents else {
        return Err(ActionError::internal(anyhow::anyhow!(
            "stamp {} keeps its PDF in the document store, which this process does not use",
            row.id
        )));
    };
    let (documents, name) = (documents.clone(), row.output_sha256.clone());
    match tokio::task::spawn_blocking(move || documents.get(&name))
        .await
        .map_err(ActionError::internal)?
        .map_err(ActionError::internal)?
    {
        Some(pdf) => Ok(pdf),
        None => Err(ActionError::Conflict {
            code: "document_expired",
            message: format!(
                "stamp {} was made, but its PDF is no longer kept (document retention)",
                row.id
            ),
        }),
    }
}

/// An approval notice (审批决定书) for govseal to render and stamp.
#[derive(Clone, Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoticeRequest {
    /// The seal to stamp with; its department is the issuer named on the notice.
    pub seal_id: String,
    /// Title, e.g. 准予行政许可决定书.
    pub title: String,
    /// Document number (文号), e.g. 榕审批〔2026〕123号.
    pub document_number: String,
    /// Addressee, e.g. 福州某某科技有限公司：
    pub addressee: String,
    /// Body paragraphs.
    pub paragraphs: Vec<String>,
    /// Date on the notice, `YYYY-MM-DD` (default today).
    #[serde(default)]
    pub date: Option<String>,
    /// The person who pressed "stamp".
    #[serde(default)]
    pub operator: Option<String>,
    /// `/Reason` of the signature.
    #[serde(default)]
    pub reason: Option<String>,
    /// PAdES level (default `B-LT`).
    #[serde(default)]
    pub level: Option<String>,
}

/// Renders an approval notice as an A4 PDF in Chinese and stamps it with the
/// seal over the date (GB/T 9704-2012 §7.3.5.1).
pub async fn stamp_notice(
    ctx: &StampingContext<'_>,
    caller: &Principal,
    notice: NoticeRequest,
    idempotency_key: Option<String>,
) -> Result<Stamped, ActionError> {
    let level = notice
        .level
        .as_deref()
        .map(|l| {
            l.parse::<Level>()
                .map_err(|e| ActionError::invalid("level", e))
        })
        .transpose()?
        .unwrap_or(Level::BLT);
    let date = match notice.date.as_deref() {
        Some(d) => time::Date::parse(d, time::macros::format_description!("[year]-[month]-[day]"))
            .map_err(|_| ActionError::invalid("date", "must be YYYY-MM-DD"))?,
        None => OffsetDateTime::now_utc()
            .to_offset(time::macros::offset!(+8))
            .date(),
    };
    let issuer_name = {
        let mut conn = ctx.db.pool.acquire().await?;
        let seal = store::seals::get(&mut conn, &notice.seal_id)
            .await?
            .ok_or_else(|| {
                ActionError::invalid("seal_id", format!("no seal {}", notice.seal_id))
            })?;
        if !caller.may(&seal.department_id, Scope::Stamp) {
            return Err(ActionError::Forbidden(
                "this seal belongs to another department, or the client lacks the stamp scope"
                    .into(),
            ));
        }
        store::departments::get(&mut conn, &seal.department_id)
            .await?
            .ok_or_else(|| ActionError::internal(anyhow::anyhow!("department of seal missing")))?
            .name
    };
    let rendered = crate::document::ApprovalNotice {
        title: notice.title,
        document_number: notice.document_number,
        addressee: notice.addressee,
        paragraphs: notice.paragraphs,
        issuer_name,
        date,
    }
    .render()
    .map_err(|e| ActionError::invalid("notice", e))?;
    let anchor = rendered.seal_anchor;
    stamp(
        ctx,
        caller,
        rendered.pdf,
        StampRequest {
            seal_id: notice.seal_id,
            page: anchor.page,
            x: anchor.x,
            y: anchor.y,
            size_mm: None,
            reason: notice.reason,
            operator: notice.operator,
            level,
            idempotency_key,
        },
    )
    .await
}
