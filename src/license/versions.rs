//! New versions of a license: renewal (换发/延续) and amendment (变更). Either
//! makes a new version that supersedes the old one: same type, issuer and
//! serial, version + 1 and so a new check character (GB/T 36904-2018, see
//! [`LicenseId`]), new signed forms (record, QR, sealed PDF, see
//! [`super::forms`]) and a new row linked to the old one (`supersedes` /
//! `superseded_by`), made in one transaction with the old row's change to
//! `superseded` and both log entries. The old version is then listed in the
//! status snapshot ([`super::snapshot`]) with its successor, so an offline
//! verifier of its QR code says it was replaced, and by what.
//!
//! Only a version in force may be replaced: a revoked or already superseded
//! one is a conflict (409), and so is a suspended one (reinstate it first).
//! An expired one may be renewed, not amended.
//!
//! **Renewal dates.** The new version is in force at once (`valid_from` =
//! now) and its term continues from the old end of validity, so renewing
//! early loses no days and a lapsed license gets a full term from today:
//! `valid_until` = max(old `valid_until`, now) + the type's validity (none
//! for a long-term type). Either date may be given instead (`YYYY-MM-DD`,
//! China Standard Time, as at issue); the end must be in the future.
//!
//! **Amendment.** `fields` changes some values (a key with `null` removes an
//! optional field; keys not named keep their value) and/or `holder_name`
//! changes the holder's name; the holder's identifier never changes (another
//! holder is another license). The result is validated exactly as at issue
//! and must differ from the old version. The dates stay those of the old one.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::{Duration, OffsetDateTime};

use super::claims::{LicenseClaims, StatusAtIssue};
use super::forms::{self, Forms, SigningSeal};
use super::identifier::LicenseId;
use super::issue::{
    Issued, LicenseContext, check_key_and_replay, day_end, day_start, log_issued, replay,
    request_hash,
};
use super::lifecycle::{self, EXPIRED, REVOKED, SUPERSEDED, SUSPENDED, VALID};
use super::types::{Holder, HolderIdType};
use crate::access::{Principal, Scope};
use crate::outcome::ActionError;
use crate::store::{self, licenses::LicenseRow, licenses::LicenseTypeRow};

/// A request to renew a license (换发/延续).
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenewRequest {
    /// The seal that signs the new version, of the license's department
    /// (default: the old version's seal, if it can still sign).
    #[serde(default)]
    pub seal_id: Option<String>,
    /// First day of validity, `YYYY-MM-DD` (default: now).
    #[serde(default)]
    pub valid_from: Option<String>,
    /// Last day of validity, `YYYY-MM-DD` (default: the old end of validity,
    /// or now if it has passed, plus the type's validity; none for long-term types).
    #[serde(default)]
    pub valid_until: Option<String>,
}

/// A request to amend a license (变更).
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AmendRequest {
    /// The seal that signs the new version, of the license's department
    /// (default: the old version's seal, if it can still sign).
    #[serde(default)]
    pub seal_id: Option<String>,
    /// Changed field values by key; `null` removes an optional field; keys
    /// not named keep their value.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub fields: Map<String, Value>,
    /// The holder's new name (the holder's identifier cannot change).
    #[serde(default)]
    pub holder_name: Option<String>,
}

/// What the new version is made by.
enum Change {
    Renew(RenewRequest),
    Amend(AmendRequest),
}

impl Change {
    fn verb(&self) -> &'static str {
        match self {
            Change::Renew(_) => "renew",
            Change::Amend(_) => "amend",
        }
    }

    fn seal_id(&self) -> Option<&str> {
        match self {
            Change::Renew(r) => r.seal_id.as_deref(),
            Change::Amend(a) => a.seal_id.as_deref(),
        }
    }

    fn hash(&self, id: &str) -> Result<String, ActionError> {
        match self {
            Change::Renew(r) => request_hash(&(self.verb(), id, r)),
            Change::Amend(a) => request_hash(&(self.verb(), id, a)),
        }
    }
}

/// Renews license `id`: a new version with a new term (see the module doc).
pub async fn renew(
    ctx: &LicenseContext<'_>,
    caller: &Principal,
    id: &str,
    request: RenewRequest,
    idempotency_key: Option<String>,
) -> Result<Issued, ActionError> {
    new_version(ctx, caller, id, Change::Renew(request), idempotency_key).await
}

/// Amends license `id`: a new version with changed fields or holder name.
pub async fn amend(
    ctx: &LicenseContext<'_>,
    caller: &Principal,
    id: &str,
    request: AmendRequest,
    idempotency_key: Option<String>,
) -> Result<Issued, ActionError> {
    new_version(ctx, caller, id, Change::Amend(request), idempotency_key).await
}

/// What the new version holds.
struct Content {
    values: Vec<(String, String)>,
    holder_name: String,
    valid_from: OffsetDateTime,
    valid_until: Option<OffsetDateTime>,
}

async fn new_version(
    ctx: &LicenseContext<'_>,
    caller: &Principal,
    id: &str,
    change: Change,
    idempotency_key: Option<String>,
) -> Result<Issued, ActionError> {
    let actor = caller.actor();
    let request_sha256 = change.hash(id)?;
    if let Some(done) =
        check_key_and_replay(ctx, &actor, idempotency_key.as_deref(), &request_sha256).await?
    {
        return Ok(done);
    }

    let mut conn = ctx.db.pool.acquire().await?;
    let old = lifecycle::load(&mut conn, caller, id).await?;
    if !caller.may(&old.department_id, Scope::LicensesIssue) {
        return Err(ActionError::Forbidden(format!(
            "to {} a license the client needs the licenses:issue scope",
            change.verb()
        )));
    }
    let type_row = store::licenses::get_type(&mut conn, &old.type_code)
        .await?
        .ok_or_else(|| ActionError::internal(anyhow::anyhow!("type of license missing")))?;
    let issuers = store::licenses::type_issuers(&mut conn, &type_row.code).await?;
    if !issuers.contains(&old.department_id) {
        return Err(ActionError::Forbidden(format!(
            "the license's department may no longer issue license type {}",
            type_row.code
        )));
    }
    let now = OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .map_err(ActionError::internal)?;
    may_be_replaced(&old, &change, now)?;
    let old_id: LicenseId = old.id.parse().map_err(ActionError::internal)?;
    let serial = old_id
        .serial()
        .parse::<u64>()
        .map_err(ActionError::internal)?;
    let new_id = LicenseId::new(
        old_id.type_code(),
        old_id.issuer(),
        serial,
        old_id.version() + 1,
    )
    .map_err(|_| ActionError::Conflict {
        code: "license_version",
        message: format!("license {id} is at the last version (999)"),
    })?;

    let definition = lifecycle::definition(&type_row)?;
    let old_values: Vec<(String, String)> =
        serde_json::from_str(&old.fields_json).map_err(ActionError::internal)?;
    let content = match &change {
        Change::Renew(r) => renewal(&old, &type_row, &old_values, r, now)?,
        Change::Amend(a) => amendment(&old, &definition, &old_values, a)?,
    };
    let holder = Holder {
        name: content.holder_name.clone(),
        id_type: holder_id_type(&old.holder_id_type)?,
        id: old.holder_id.clone(),
    };
    let holder_public_id = holder.validate().map_err(|e| {
        let field = if e.field == "holder.name" {
            "holder_name"
        } else {
            &e.field
        };
        ActionError::invalid(field, e.message)
    })?;
    // No pooled connection is held while the seal's key and CRLs are read.
    drop(conn);
    let signing = seal_for(ctx, &old, change.seal_id(), now).await?;

    let claims = LicenseClaims {
        license_id: new_id.clone(),
        issuer_name: signing.department.name.clone(),
        seal_code: signing.seal.code.clone(),
        issued_at: now,
        valid_from: Some(content.valid_from),
        expires_at: content.valid_until,
        holder_name: content.holder_name.clone(),
        holder_id: holder_public_id,
        status: StatusAtIssue::Valid,
        fields: definition.summary(&content.values),
    };
    let rows = forms::certificate_rows(&definition, &claims, &old.holder_id, &content.values);
    let reason = match change {
        Change::Renew(_) => "电子证照换发 License renewed",
        Change::Amend(_) => "电子证照变更 License amended",
    };
    let Forms { record, pdf } =
        forms::sign_forms(ctx, &signing, &definition, &claims, rows, reason).await?;

    let row = LicenseRow {
        id: new_id.to_string(),
        type_code: old.type_code.clone(),
        department_id: old.department_id.clone(),
        seal_id: signing.seal.id.clone(),
        holder_name: content.holder_name,
        holder_id_type: old.holder_id_type.clone(),
        holder_id: old.holder_id.clone(),
        fields_json: serde_json::to_string(&content.values).map_err(ActionError::internal)?,
        status: VALID.into(),
        status_reason: None,
        valid_from: content.valid_from.unix_timestamp(),
        valid_until: content.valid_until.map(OffsetDateTime::unix_timestamp),
        issued_at: now.unix_timestamp(),
        updated_at: now.unix_timestamp(),
        actor: actor.clone(),
        idempotency_key: idempotency_key.clone(),
        request_sha256: request_sha256.clone(),
        supersedes: Some(old.id.clone()),
        superseded_by: None,
    };
    let mut tx = ctx.db.begin().await?;
    // The old row first: its conditional update takes its lock, so a
    // concurrent new version of the same license waits here and then finds
    // it no longer valid.
    if !store::licenses::supersede(&mut tx, &old.id, &row.id, VALID, now.unix_timestamp()).await? {
        drop(tx);
        return lost_race(ctx, &actor, idempotency_key.as_deref(), &request_sha256, id).await;
    }
    match store::licenses::insert(&mut tx, &row, &record, &pdf).await {
        Ok(()) => {}
        Err(store::StoreError::Duplicate(_)) => {
            drop(tx);
            return lost_race(ctx, &actor, idempotency_key.as_deref(), &request_sha256, id).await;
        }
        Err(e) => return Err(e.into()),
    }
    let uscc = signing.department.uscc.as_str();
    log_issued(
        &mut tx,
        &row,
        uscc,
        &signing.seal.code,
        &record,
        &super::issue::sha256_hex(&pdf),
        ctx.keys.commitment_key().as_deref(),
    )
    .await?;
    let from = lifecycle::shown_status(&old, now.unix_timestamp());
    crate::transparency::record(
        &mut tx,
        crate::transparency::Event {
            kind: crate::log::EntryKind::LicenseStatusChanged,
            subject_id: &old.id,
            department_uscc: Some(uscc),
            artefact: format!("{}|{SUPERSEDED}|{}", old.id, now.unix_timestamp()).as_bytes(),
            actor: &actor,
            details: &[
                ("from", from),
                ("reason", change.verb()),
                ("status", SUPERSEDED),
                ("superseded_by", &row.id),
            ],
            record: Some((
                &crate::transparency::records::LICENSES,
                ctx.keys.commitment_key().as_deref(),
            )),
        },
    )
    .await?;
    tx.commit().await?;
    let mut conn = ctx.db.pool.acquire().await?;
    let view = lifecycle::view(&mut conn, row).await?;
    Ok(Issued {
        view,
        replayed: false,
    })
}

/// Refuses to replace a version that is not in force (see the module doc).
fn may_be_replaced(
    old: &LicenseRow,
    change: &Change,
    now: OffsetDateTime,
) -> Result<(), ActionError> {
    let conflict = |message: String| ActionError::Conflict {
        code: "license_status",
        message,
    };
    let id = &old.id;
    match lifecycle::shown_status(old, now.unix_timestamp()) {
        VALID => Ok(()),
        EXPIRED if matches!(change, Change::Renew(_)) => Ok(()),
        EXPIRED => Err(conflict(format!(
            "license {id} has expired; renew it instead of amending it"
        ))),
        SUPERSEDED => Err(conflict(format!(
            "license {id} was already superseded by {}; {} the current version instead",
            old.superseded_by.as_deref().unwrap_or("a newer version"),
            change.verb()
        ))),
        REVOKED => Err(conflict(format!(
            "license {id} is revoked; a revoked license cannot be renewed or amended (issue a new one)"
        ))),
        SUSPENDED => Err(conflict(format!(
            "license {id} is suspended; reinstate it before you {} it",
            change.verb()
        ))),
        other => Err(conflict(format!("license {id} is {other}"))),
    }
}

/// After the old row could not be claimed: a concurrent request with the
/// same Idempotency-Key won (answer as it did), or another change did (409).
async fn lost_race(
    ctx: &LicenseContext<'_>,
    actor: &str,
    key: Option<&str>,
    request_sha256: &str,
    id: &str,
) -> Result<Issued, ActionError> {
    if let Some(key) = key
        && let Some(done) = replay(ctx, actor, key, request_sha256).await?
    {
        return Ok(done);
    }
    Err(ActionError::Conflict {
        code: "license_status",
        message: format!(
            "license {id} was changed by another request meanwhile; fetch it and try again"
        ),
    })
}

fn renewal(
    old: &LicenseRow,
    type_row: &LicenseTypeRow,
    old_values: &[(String, String)],
    request: &RenewRequest,
    now: OffsetDateTime,
) -> Result<Content, ActionError> {
    let valid_from = match &request.valid_from {
        Some(s) => day_start("valid_from", s)?,
        None => now,
    };
    let valid_until = match &request.valid_until {
        Some(s) => Some(day_end("valid_until", s)?),
        None if type_row.validity_days > 0 => {
            let old_end = old
                .valid_until
                .and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok())
                .unwrap_or(now);
            Some(old_end.max(now).max(valid_from) + Duration::days(type_row.validity_days))
        }
        None => None,
    };
    if valid_until.is_some_and(|until| until <= valid_from) {
        return Err(ActionError::invalid(
            "valid_until",
            "must be after valid_from",
        ));
    }
    if valid_until.is_some_and(|until| until <= now) {
        return Err(ActionError::invalid(
            "valid_until",
            "must be in the future: a renewal must be in force",
        ));
    }
    Ok(Content {
        values: old_values.to_vec(),
        holder_name: old.holder_name.clone(),
        valid_from,
        valid_until,
    })
}

fn amendment(
    old: &LicenseRow,
    definition: &super::types::LicenseTypeDefinition,
    old_values: &[(String, String)],
    request: &AmendRequest,
) -> Result<Content, ActionError> {
    let mut merged: Map<String, Value> = old_values
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    // A null is an absent value to the validation, as at issue.
    for (key, value) in &request.fields {
        merged.insert(key.clone(), value.clone());
    }
    // Validated exactly as at issue: unknown keys, missing required ones, types.
    let values = definition.check_values(&merged)?;
    let holder_name = match &request.holder_name {
        Some(name) => name.trim().to_string(),
        None => old.holder_name.clone(),
    };
    if values == old_values && holder_name == old.holder_name {
        return Err(ActionError::invalid(
            "fields",
            "the amendment changes nothing: give changed fields or holder_name",
        ));
    }
    Ok(Content {
        values,
        holder_name,
        valid_from: OffsetDateTime::from_unix_timestamp(old.valid_from)
            .map_err(ActionError::internal)?,
        valid_until: old
            .valid_until
            .map(OffsetDateTime::from_unix_timestamp)
            .transpose()
            .map_err(ActionError::internal)?,
    })
}

fn holder_id_type(stored: &str) -> Result<HolderIdType, ActionError> {
    match stored {
        "resident" => Ok(HolderIdType::Resident),
        "uscc" => Ok(HolderIdType::Uscc),
        other => Err(ActionError::internal(anyhow::anyhow!(
            "stored holder id type {other}"
        ))),
    }
}

/// The seal that signs the new version: `seal_id`, which must be of the
/// license's department, or else the old version's seal.
async fn seal_for(
    ctx: &LicenseContext<'_>,
    old: &LicenseRow,
    seal_id: Option<&str>,
    now: OffsetDateTime,
) -> Result<SigningSeal, ActionError> {
    let chosen = seal_id.unwrap_or(&old.seal_id);
    let mut conn = ctx.db.pool.acquire().await?;
    let owned = store::seals::get_with_owner(&mut conn, chosen)
        .await?
        .ok_or_else(|| ActionError::invalid("seal_id", format!("no seal {chosen}")))?;
    drop(conn);
    if owned.seal.department_id != old.department_id {
        return Err(ActionError::Forbidden(
            "seal_id: the seal belongs to another department than the license's issuer".into(),
        ));
    }
    match forms::signing_seal(ctx, owned, now).await {
        Err(ActionError::Conflict { code, message }) if seal_id.is_none() => {
            Err(ActionError::Conflict {
                code,
                message: format!(
                    "the license's seal cannot sign: {message}; name another seal of the department with seal_id"
                ),
            })
        }
        other => other,
    }
}
