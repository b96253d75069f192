//! Issuing a license (证照签发): one business action that produces the three
//! forms of a license that must agree — the signed record (COSE_Sign1,
//! RFC 9052 §4.2, see [`super::record`]), the certificate PDF with the QR
//! code and the seal, PAdES B-LT signed (ETSI EN 319 142-1 §6), and the
//! database row — and logs the issuance; the row, the forms and the log entry
//! are written in one transaction, so there is never a license without its
//! record or a record without its row.
//!
//! The identifier (GB/T 36904-2018, [`LicenseId`]) takes the next serial of
//! (type, issuer) before signing, outside the issuing transaction (see
//! `take_serial`): an issuance that fails later leaves a gap in the serials.

use std::sync::Arc;

use serde::Deserialize;
use time::{Duration, OffsetDateTime};

use super::claims::{LicenseClaims, StatusAtIssue};
use super::forms::{self, Forms};
use super::identifier::LicenseId;
use super::lifecycle::{self, LicenseView, VALID};
use super::types::{FieldError, Holder, parse_date};
use crate::access::{Principal, Scope};
use crate::authority::Authority;
use crate::identity::Uscc;
use crate::keystore::KeyStore;
use crate::outcome::ActionError;
use crate::pades::TimeStamper;
use crate::store::{self, Database, batch::BatchFuture, licenses::LicenseRow};

/// What issuing needs from the service.
pub struct LicenseContext<'a> {
    /// Database.
    pub db: &'a Database,
    /// Key store.
    pub keys: &'a KeyStore,
    /// PKI.
    pub authority: &'a Authority,
    /// The TSA.
    pub tsa: Arc<dyn TimeStamper>,
    /// The public base URL (the QR code's verification page).
    pub public_url: &'a str,
}

/// A request to issue a license.
#[derive(Clone, Debug, Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueRequest {
    /// The license type code.
    #[serde(rename = "type")]
    pub type_code: String,
    /// The seal that signs (of an issuing department of the type).
    pub seal_id: String,
    /// The holder.
    pub holder: Holder,
    /// Field values by key: strings (numbers may be JSON numbers).
    #[schema(value_type = Object)]
    pub fields: serde_json::Map<String, serde_json::Value>,
    /// First day of validity, `YYYY-MM-DD` (default: today).
    #[serde(default)]
    pub valid_from: Option<String>,
    /// Last day of validity, `YYYY-MM-DD` (default: from the type's validity; none for long-term types).
    #[serde(default)]
    pub valid_until: Option<String>,
}

/// The outcome of issuing.
#[derive(Clone, Debug)]
pub struct Issued {
    /// The license.
    pub view: LicenseView,
    /// True when this answers a repeated Idempotency-Key.
    pub replayed: bool,
}

impl From<FieldError> for ActionError {
    fn from(e: FieldError) -> Self {
        ActionError::invalid(&e.field, e.message)
    }
}

/// The first second of day `s` (`YYYY-MM-DD`) in China Standard Time.
pub(crate) fn day_start(field: &str, s: &str) -> Result<OffsetDateTime, ActionError> {
    let date =
        parse_date(s).ok_or_else(|| ActionError::invalid(field, "must be a date YYYY-MM-DD"))?;
    Ok(date.midnight().assume_offset(time::macros::offset!(+8)))
}

/// The last second of day `s` (`YYYY-MM-DD`) in China Standard Time.
pub(crate) fn day_end(field: &str, s: &str) -> Result<OffsetDateTime, ActionError> {
    Ok(day_start(field, s)? + Duration::days(1) - Duration::seconds(1))
}

/// SHA-256 (hex) of a request's JSON, stored with the license to refuse a
/// reused Idempotency-Key with another body.
pub(crate) fn request_hash(request: &impl serde::Serialize) -> Result<String, ActionError> {
    let bytes = serde_json::to_vec(request).map_err(ActionError::internal)?;
    Ok(hex::encode(ring::digest::digest(
        &ring::digest::SHA256,
        &bytes,
    )))
}

/// Checks an Idempotency-Key's shape, then answers with the license made
/// earlier with it (`None` if there is none; 422 if it was another request).
pub(crate) async fn check_key_and_replay(
    ctx: &LicenseContext<'_>,
    actor: &str,
    key: Option<&str>,
    request_sha256: &str,
) -> Result<Option<Issued>, ActionError> {
    let Some(key) = key else {
        return Ok(None);
    };
    if key.is_empty() || key.len() > 200 {
        return Err(ActionError::invalid(
            "Idempotency-Key",
            "must be 1 to 200 characters",
        ));
    }
    replay(ctx, actor, key, request_sha256).await
}

/// The license an actor made with an Idempotency-Key, if the request matches.
pub(crate) async fn replay(
    ctx: &LicenseContext<'_>,
    actor: &str,
    key: &str,
    request_sha256: &str,
) -> Result<Option<Issued>, ActionError> {
    let mut conn = ctx.db.pool.acquire().await?;
    let Some(row) = store::licenses::by_idempotency_key(&mut conn, actor, key).await? else {
        return Ok(None);
    };
    if row.request_sha256 != request_sha256 {
        return Err(ActionError::invalid(
            "Idempotency-Key",
            "this key was used for a different request",
        ));
    }
    let view = lifecycle::view(&mut conn, row).await?;
    Ok(Some(Issued {
        view,
        replayed: true,
    }))
}

/// Issues a license.
pub async fn issue(
    ctx: &LicenseContext<'_>,
    caller: &Principal,
    request: IssueRequest,
    idempotency_key: Option<String>,
) -> Result<Issued, ActionError> {
    let actor = caller.actor();
    let request_sha256 = request_hash(&request)?;
    if let Some(issued) =
        check_key_and_replay(ctx, &actor, idempotency_key.as_deref(), &request_sha256).await?
    {
        return Ok(issued);
    }

    // Two queries: the seal with its department and certificate, then the
    // type with whether that department may issue it. The errors keep their
    // order: unknown type, bad fields, unknown seal, then the permissions.
    let mut conn = ctx.db.pool.acquire().await?;
    let owned = store::seals::get_with_owner(&mut conn, &request.seal_id).await?;
    let department_id = owned.as_ref().map_or("", |o| o.seal.department_id.as_str());
    let (type_row, may_issue) =
        store::licenses::get_type_for_issuer(&mut conn, &request.type_code, department_id)
            .await?
            .ok_or_else(|| ActionError::NotFound(format!("license type {}", request.type_code)))?;
    drop(conn);
    let definition = lifecycle::definition(&type_row)?;
    let holder_public_id = request.holder.validate()?;
    let values = definition.check_values(&request.fields)?;

    let owned = owned
        .ok_or_else(|| ActionError::invalid("seal_id", format!("no seal {}", request.seal_id)))?;
    let seal = &owned.seal;
    if !caller.may(&seal.department_id, Scope::LicensesIssue) {
        return Err(ActionError::Forbidden(
            "this seal belongs to another department, or the client lacks the licenses:issue scope"
                .into(),
        ));
    }
    if !may_issue {
        return Err(ActionError::Forbidden(format!(
            "the seal's department may not issue license type {}",
            type_row.code
        )));
    }
    let now = OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .map_err(ActionError::internal)?;
    let valid_from = match &request.valid_from {
        Some(s) => day_start("valid_from", s)?,
        None => now,
    };
    let valid_until = match &request.valid_until {
        Some(s) => Some(day_end("valid_until", s)?),
        None if type_row.validity_days > 0 => {
            Some(valid_from + Duration::days(type_row.validity_days))
        }
        None => None,
    };
    if valid_until.is_some_and(|until| until <= valid_from) {
        return Err(ActionError::invalid(
            "valid_until",
            "must be after valid_from",
        ));
    }
    let signing = forms::signing_seal(ctx, owned, now).await?;
    let issuer: Uscc = signing
        .department
        .uscc
        .parse()
        .map_err(ActionError::internal)?;

    let serial = take_serial(ctx.db, &type_row.code, issuer.as_str()).await?;
    let serial = u64::try_from(serial).map_err(ActionError::internal)?;
    let license_id = LicenseId::new(&type_row.code, &issuer, serial, 1)
        .map_err(|e| ActionError::invalid("type", e))?;
    let claims = LicenseClaims {
        license_id: license_id.clone(),
        issuer_name: signing.department.name.clone(),
        seal_code: signing.seal.code.clone(),
        issued_at: now,
        valid_from: Some(valid_from),
        expires_at: valid_until,
        holder_name: request.holder.name.trim().to_string(),
        holder_id: holder_public_id,
        status: StatusAtIssue::Valid,
        fields: definition.summary(&values),
    };
    let rows = forms::certificate_rows(&definition, &claims, &request.holder.id, &values);
    let Forms { record, pdf } = forms::sign_forms(
        ctx,
        &signing,
        &definition,
        &claims,
        rows,
        "电子证照签发 License issued",
    )
    .await?;
    let (department, seal) = (&signing.department, &signing.seal);

    let fields_json = serde_json::to_string(&values).map_err(ActionError::internal)?;
    let row = LicenseRow {
        id: license_id.as_str().to_string(),
        type_code: type_row.code.clone(),
        department_id: department.id.clone(),
        seal_id: seal.id.clone(),
        holder_name: request.holder.name.trim().to_string(),
        holder_id_type: request.holder.id_type.as_str().into(),
        holder_id: request.holder.id.clone(),
        fields_json,
        status: VALID.into(),
        status_reason: None,
        valid_from: valid_from.unix_timestamp(),
        valid_until: valid_until.map(OffsetDateTime::unix_timestamp),
        issued_at: now.unix_timestamp(),
        updated_at: now.unix_timestamp(),
        actor: actor.clone(),
        idempotency_key: idempotency_key.clone(),
        request_sha256: request_sha256.clone(),
        supersedes: None,
        superseded_by: None,
    };
    // The record, the PDF, the row and the log entry: one transaction,
    // shared with the issuances committing at the same moment.
    let written = Arc::new(Written {
        row,
        record,
        pdf_sha256: sha256_hex(&pdf),
        pdf,
        department_uscc: department.uscc.clone(),
        seal_code: seal.code.clone(),
        commitments: ctx.keys.commitment_key(),
    });
    let row = match ctx
        .db
        .write_batched(move |conn: &mut store::Connection| -> BatchFuture<'_, _> {
            let written = written.clone();
            Box::pin(async move { written.store(conn).await })
        })
        .await
    {
        Ok(row) => row,
        Err(store::StoreError::Duplicate(_)) => {
            // A concurrent request with the same Idempotency-Key won; answer as it did.
            let key = idempotency_key.as_deref().unwrap_or_default();
            return replay(ctx, &actor, key, &request_sha256)
                .await?
                .ok_or_else(|| {
                    ActionError::internal(anyhow::anyhow!("idempotency conflict without a license"))
                });
        }
        Err(e) => return Err(e.into()),
    };
    let view = lifecycle::view_of_type(row, type_row)?;
    Ok(Issued {
        view,
        replayed: false,
    })
}

/// What one issuance writes: the row with its record and PDF, and the log entry.
struct Written {
    row: LicenseRow,
    record: Vec<u8>,
    pdf: Vec<u8>,
    pdf_sha256: String,
    department_uscc: String,
    seal_code: String,
    commitments: Option<Arc<crate::keystore::CommitmentKey>>,
}

impl Written {
    /// Inserts the row and logs the issuance on `conn` (inside the batch's
    /// transaction); gives the row back.
    async fn store(&self, conn: &mut store::Connection) -> Result<LicenseRow, store::StoreError> {
        store::licenses::insert(conn, &self.row, &self.record, &self.pdf).await?;
        log_issued(
            conn,
            &self.row,
            &self.department_uscc,
            &self.seal_code,
            &self.record,
            &self.pdf_sha256,
            self.commitments.as_deref(),
        )
        .await?;
        Ok(self.row.clone())
    }
}

/// Lower-case hex SHA-256 of `data`.
pub(crate) fn sha256_hex(data: &[u8]) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, data))
}

/// Takes the next serial of (type, issuer), outside any transaction: from
/// the block this process reserved ([`store::serials`]), or from a new block.
///
/// Signing a license takes milliseconds of CPU; holding the database's write
/// lock through it (SQLite has one per database, PostgreSQL a row lock on the
/// counter) would let only one issuance of a type and issuer sign at a time.
/// A serial taken by an issuance that then fails is skipped, as are the
/// unused serials of a process that stops: the serials may have gaps, but
/// they are unique, and there is never a license without its record or a
/// record without its row, since those are written together afterwards.
pub(crate) async fn take_serial(
    db: &Database,
    type_code: &str,
    issuer_uscc: &str,
) -> Result<i64, ActionError> {
    Ok(db.serials.next(&db.pool, type_code, issuer_uscc).await?)
}

/// Logs a license version (transparency log, RFC 9162 leaf): the record is
/// the artefact; the PDF's SHA-256, the seal code, the type and the version
/// it supersedes (`row.supersedes`, if any) are details.
pub(crate) async fn log_issued(
    tx: &mut store::Connection,
    row: &LicenseRow,
    department_uscc: &str,
    seal_code: &str,
    record: &[u8],
    pdf_sha256: &str,
    commitments: Option<&crate::keystore::CommitmentKey>,
) -> Result<(), store::StoreError> {
    let mut details = vec![("pdf_sha256", pdf_sha256), ("seal_code", seal_code)];
    if let Some(old) = row.supersedes.as_deref() {
        details.push(("supersedes", old));
    }
    details.push(("type", &row.type_code));
    crate::transparency::record(
        tx,
        crate::transparency::Event {
            kind: crate::log::EntryKind::LicenseIssued,
            subject_id: &row.id,
            department_uscc: Some(department_uscc),
            artefact: record,
            actor: &row.actor,
            details: &details,
            record: Some((&crate::transparency::records::LICENSES, commitments)),
        },
    )
    .await?;
    Ok(())
}
