//! A license's life after issue (证照状态管理): valid ⇄ suspended (暂停),
//! valid/suspended → revoked (吊销/注销, terminal, with a reason), valid →
//! superseded (已换发, terminal: a renewal or amendment made a new version,
//! see [`super::versions`]), and expiry (过期), which is not stored but
//! follows from the end of validity: a valid license past `valid_until` is
//! shown as expired everywhere, cannot be suspended or reinstated, and can
//! be renewed. Every
//! change is logged (transparency log, RFC 9162 leaf) in the transaction that
//! makes it, and the signed status snapshot ([`super::snapshot`]) is
//! re-published afterwards.

use std::path::Path;

use serde::Serialize;
use time::OffsetDateTime;

use super::snapshot::StatusSnapshot;
use super::types::{FieldDefinition, LicenseTypeDefinition};
use crate::access::{Principal, Scope};
use crate::authority::Authority;
use crate::department::rfc3339;
use crate::outcome::ActionError;
use crate::store::{self, Connection, Database, licenses::LicenseRow, licenses::LicenseTypeRow};

/// Stored status: valid.
pub const VALID: &str = "valid";
/// Stored status: suspended.
pub const SUSPENDED: &str = "suspended";
/// Stored status: revoked (terminal).
pub const REVOKED: &str = "revoked";
/// Stored status: replaced by a newer version (terminal).
pub const SUPERSEDED: &str = "superseded";
/// Shown status of a valid license past its end of validity.
pub const EXPIRED: &str = "expired";

/// The holder as shown by the API.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct HolderView {
    /// Name.
    pub name: String,
    /// `resident` or `uscc`.
    pub id_type: String,
    /// The identifier.
    pub id: String,
}

/// Where to fetch a license's forms.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct LicenseLinks {
    /// This license (JSON).
    #[serde(rename = "self")]
    pub this: String,
    /// The signed record, `application/cose`.
    pub record: String,
    /// The signed PDF.
    pub pdf: String,
    /// The QR code, PNG.
    pub qr_png: String,
    /// The QR code, SVG.
    pub qr_svg: String,
    /// The version this one replaced, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supersedes: Option<String>,
    /// The version that replaced this one, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub superseded_by: Option<String>,
}

/// A license as the API shows it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct LicenseView {
    /// The GB/T 36904 identifier.
    pub id: String,
    /// `valid`, `suspended`, `revoked`, `superseded` (a newer version
    /// replaced it: see `superseded_by`) or `expired` (past `valid_until`).
    pub status: String,
    /// Why it was suspended or revoked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
    /// Type code.
    #[serde(rename = "type")]
    pub type_code: String,
    /// Type name in Chinese.
    pub type_name_zh: String,
    /// Issuing department id.
    pub department_id: String,
    /// The seal that signed.
    pub seal_id: String,
    /// The holder.
    pub holder: HolderView,
    /// Field values by key.
    #[schema(value_type = Object)]
    pub fields: serde_json::Map<String, serde_json::Value>,
    /// Validity start, RFC 3339.
    pub valid_from: String,
    /// Validity end, RFC 3339 (absent: long-term).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<String>,
    /// Time of issue, RFC 3339.
    pub issued_at: String,
    /// The version (GB/T 36904 identifier part): 1 at issue, + 1 per renewal or amendment.
    pub version: u16,
    /// The identifier of the version this one replaced (renewal or amendment).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supersedes: Option<String>,
    /// The identifier of the version that replaced this one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub superseded_by: Option<String>,
    /// Links.
    pub links: LicenseLinks,
}

/// The type definition stored with a type row.
pub fn definition(row: &LicenseTypeRow) -> Result<LicenseTypeDefinition, ActionError> {
    let fields: Vec<FieldDefinition> =
        serde_json::from_str(&row.fields_json).map_err(ActionError::internal)?;
    Ok(LicenseTypeDefinition {
        code: row.code.clone(),
        name_zh: row.name_zh.clone(),
        name_en: row.name_en.clone(),
        issuers: Vec::new(),
        validity_days: u32::try_from(row.validity_days).unwrap_or(0),
        fields,
    })
}

/// The status as shown: the stored one, except that a valid license past
/// its end of validity is expired.
pub fn shown_status(row: &LicenseRow, now: i64) -> &str {
    match row.valid_until {
        Some(until) if row.status == VALID && until < now => EXPIRED,
        _ => &row.status,
    }
}

/// The API view of a row.
pub async fn view(conn: &mut Connection, row: LicenseRow) -> Result<LicenseView, ActionError> {
    let type_row = store::licenses::get_type(conn, &row.type_code)
        .await?
        .ok_or_else(|| ActionError::internal(anyhow::anyhow!("type of license missing")))?;
    view_of_type(row, type_row)
}

/// [`view`] with the license's type row already at hand.
pub fn view_of_type(row: LicenseRow, type_row: LicenseTypeRow) -> Result<LicenseView, ActionError> {
    let values: Vec<(String, String)> =
        serde_json::from_str(&row.fields_json).map_err(ActionError::internal)?;
    let base = format!("/v1/licenses/{}", row.id);
    let version = row
        .id
        .parse::<super::identifier::LicenseId>()
        .map_err(ActionError::internal)?
        .version();
    let link = |id: &Option<String>| id.as_ref().map(|id| format!("/v1/licenses/{id}"));
    Ok(LicenseView {
        status: shown_status(&row, store::now_unix()).to_string(),
        links: LicenseLinks {
            record: format!("{base}/record"),
            pdf: format!("{base}/pdf"),
            qr_png: format!("{base}/qr.png"),
            qr_svg: format!("{base}/qr.svg"),
            this: base,
            supersedes: link(&row.supersedes),
            superseded_by: link(&row.superseded_by),
        },
        version,
        supersedes: row.supersedes,
        superseded_by: row.superseded_by,
        id: row.id,
        status_reason: row.status_reason,
        type_code: row.type_code,
        type_name_zh: type_row.name_zh,
        department_id: row.department_id,
        seal_id: row.seal_id,
        holder: HolderView {
            name: row.holder_name,
            id_type: row.holder_id_type,
            id: row.holder_id,
        },
        fields: values
            .into_iter()
            .map(|(k, v)| (k, serde_json::Value::String(v)))
            .collect(),
        valid_from: rfc3339(row.valid_from),
        valid_until: row.valid_until.map(rfc3339),
        issued_at: rfc3339(row.issued_at),
    })
}

/// Loads a license the caller may see (its department's clients with a
/// license scope, or the admin).
pub async fn load(
    conn: &mut Connection,
    caller: &Principal,
    id: &str,
) -> Result<LicenseRow, ActionError> {
    id.parse::<super::identifier::LicenseId>()
        .map_err(|e| ActionError::invalid("id", e))?;
    let row = store::licenses::get(conn, id)
        .await?
        .ok_or_else(|| ActionError::NotFound(format!("license {id}")))?;
    if !caller.may(&row.department_id, Scope::LicensesIssue)
        && !caller.may(&row.department_id, Scope::LicensesManage)
    {
        return Err(ActionError::Forbidden(
            "this license was issued by another department".into(),
        ));
    }
    Ok(row)
}

/// A holder's licenses the caller may see.
pub async fn by_holder(
    db: &Database,
    caller: &Principal,
    holder_id: &str,
) -> Result<Vec<LicenseView>, ActionError> {
    let mut conn = db.pool.acquire().await?;
    let rows = store::licenses::by_holder(&mut conn, holder_id).await?;
    let mut out = Vec::new();
    for row in rows {
        if caller.may(&row.department_id, Scope::LicensesIssue)
            || caller.may(&row.department_id, Scope::LicensesManage)
        {
            out.push(view(&mut conn, row).await?);
        }
    }
    Ok(out)
}

/// A status change.
#[derive(Clone, Debug)]
pub enum StatusChange {
    /// valid → suspended.
    Suspend(Option<String>),
    /// suspended → valid.
    Reinstate,
    /// valid/suspended → revoked, with the reason.
    Revoke(String),
}

/// Applies a status change (clients with licenses:manage of the issuing department).
pub async fn change(
    db: &Database,
    keys: &crate::keystore::KeyStore,
    caller: &Principal,
    id: &str,
    change: StatusChange,
) -> Result<LicenseView, ActionError> {
    let mut tx = db.begin().await?;
    let row = load(&mut tx, caller, id).await?;
    if !caller.may(&row.department_id, Scope::LicensesManage) {
        return Err(ActionError::Forbidden(
            "changing a license's status needs the licenses:manage scope".into(),
        ));
    }
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let current = shown_status(&row, now);
    let (next, reason) = match (&change, current) {
        (StatusChange::Suspend(reason), VALID) => (SUSPENDED, reason.clone()),
        (StatusChange::Reinstate, SUSPENDED) => (VALID, None),
        (StatusChange::Revoke(reason), VALID | SUSPENDED) => {
            let reason = reason.trim();
            if reason.is_empty() || reason.chars().count() > 200 {
                return Err(ActionError::invalid("reason", "1 to 200 characters"));
            }
            (REVOKED, Some(reason.to_string()))
        }
        (_, current) => {
            return Err(ActionError::Conflict {
                code: "license_status",
                message: format!("the license is {current}; this change does not apply"),
            });
        }
    };
    if let Some(r) = &reason
        && (r.chars().count() > 200 || r.chars().any(char::is_control))
    {
        return Err(ActionError::invalid("reason", "at most 200 characters"));
    }
    if !store::licenses::set_status(&mut tx, id, &row.status, next, reason.as_deref(), now).await? {
        return Err(ActionError::Conflict {
            code: "license_status",
            message: "the license's status changed while this change was made; read it again"
                .into(),
        });
    }
    let department = store::departments::get(&mut tx, &row.department_id).await?;
    crate::transparency::record(
        &mut tx,
        crate::transparency::Event {
            kind: crate::log::EntryKind::LicenseStatusChanged,
            subject_id: id,
            department_uscc: department.as_ref().map(|d| d.uscc.as_str()),
            artefact: format!("{id}|{next}|{now}").as_bytes(),
            actor: &caller.actor(),
            // The free-text reason is personal: only the record's HMAC of it is logged.
            details: &[("from", current), ("status", next)],
            record: Some((
                &crate::transparency::records::LICENSES,
                keys.commitment_key().as_deref(),
            )),
        },
    )
    .await?;
    let row = store::licenses::get(&mut tx, id)
        .await?
        .ok_or_else(|| ActionError::internal(anyhow::anyhow!("license vanished")))?;
    let view = view(&mut tx, row).await?;
    tx.commit().await?;
    Ok(view)
}

/// The current status snapshot, signed by the issuing CA; returns the
/// snapshot and its COSE_Sign1 bytes.
pub async fn snapshot(
    db: &Database,
    authority: &Authority,
) -> Result<(StatusSnapshot, Vec<u8>), ActionError> {
    let mut conn = db.pool.acquire().await?;
    let revoked = store::licenses::ids_with_status(&mut conn, REVOKED).await?;
    let suspended = store::licenses::ids_with_status(&mut conn, SUSPENDED).await?;
    let superseded = store::licenses::superseded_pairs(&mut conn).await?;
    let compromised = store::licenses::compromised_seal_records(&mut conn).await?;
    drop(conn);
    let snapshot = StatusSnapshot::new(revoked, suspended, OffsetDateTime::now_utc())
        .with_superseded(superseded)
        .with_compromised(compromised);
    let cose = snapshot
        .sign(
            &*authority.issuing.signer,
            &authority.issuing.certificate.der,
        )
        .map_err(ActionError::internal)?;
    Ok((snapshot, cose))
}

/// The JSON form of a published snapshot.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct PublishedSnapshot {
    /// The snapshot's content.
    #[serde(flatten)]
    pub snapshot: StatusSnapshot,
    /// The signed COSE_Sign1, base64.
    pub cose_base64: String,
}

/// Signs a fresh snapshot and writes `license-status.cose` and
/// `license-status.json` into the trust bundle directory.
pub async fn publish(
    db: &Database,
    authority: &Authority,
    certs_dir: &Path,
) -> Result<PublishedSnapshot, ActionError> {
    use base64::Engine;
    let (snapshot, cose) = snapshot(db, authority).await?;
    let published = PublishedSnapshot {
        snapshot,
        cose_base64: base64::engine::general_purpose::STANDARD.encode(&cose),
    };
    let json = serde_json::to_vec_pretty(&published).map_err(ActionError::internal)?;
    let write = |name: &str, bytes: &[u8]| -> Result<(), ActionError> {
        std::fs::create_dir_all(certs_dir).map_err(ActionError::internal)?;
        let path = certs_dir.join(name);
        let tmp = certs_dir.join(format!(".{name}.{}.tmp", store::new_id()));
        std::fs::write(&tmp, bytes).map_err(ActionError::internal)?;
        std::fs::rename(&tmp, &path).map_err(ActionError::internal)
    };
    write("license-status.cose", &cose)?;
    write("license-status.json", &json)?;
    Ok(published)
}
