//! The seal registry (印章管理): creating a department's electronic seals with
//! their own key pair and seal certificate, and their lifecycle
//! (active ⇄ suspended → revoked).
//!
//! The data kept per seal is what GB/T 38540-2020 §6 `SES_Seal` needs:
//! esID (the seal code), property {type, name, certs, createDate, validStart,
//! validEnd}, the picture (rendered from the registry data by
//! [`super::appearance`]) and the maker (the issuing CA).

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::access::{Principal, Scope};
use crate::authority::{Authority, EndEntityRequest, RevocationReasonName, certificate_pem};
use crate::department::{check_name, rfc3339};
use crate::keystore::KeyStore;
use crate::outcome::ActionError;
use crate::pki::{CertificateRole, Subject};
use crate::store::{self, Connection, Database, StoreError, seals::SealRow};

/// The kinds of seal a department can hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SealType {
    /// 公章 — the official seal.
    Official,
    /// 行政审批专用章 — administrative-approval seal.
    Approval,
    /// 合同专用章 — contract seal.
    Contract,
    /// 财务专用章 — finance seal.
    Finance,
    /// 法定代表人名章 — legal representative's seal.
    LegalRepresentative,
}

impl SealType {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            SealType::Official => "official",
            SealType::Approval => "approval",
            SealType::Contract => "contract",
            SealType::Finance => "finance",
            SealType::LegalRepresentative => "legal_representative",
        }
    }

    /// Parses the stored name.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Official,
            Self::Approval,
            Self::Contract,
            Self::Finance,
            Self::LegalRepresentative,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
    }

    /// The conventional Chinese name, used when no name is given.
    pub fn default_name(self) -> &'static str {
        match self {
            SealType::Official => "公章",
            SealType::Approval => "行政审批专用章",
            SealType::Contract => "合同专用章",
            SealType::Finance => "财务专用章",
            SealType::LegalRepresentative => "法定代表人名章",
        }
    }

    /// GB/T 38540-2020 §6 `SES_ESPropertyInfo.type`: 1 organisation seal, 2 personal seal.
    pub fn ses_type(self) -> u8 {
        match self {
            SealType::LegalRepresentative => 2,
            _ => 1,
        }
    }
}

/// The status of a seal.
pub const ACTIVE: &str = "active";
/// Suspended: cannot stamp until reinstated; earlier stamps stay valid.
pub const SUSPENDED: &str = "suspended";
/// Revoked: the certificate is on the CRL; terminal.
pub const REVOKED: &str = "revoked";

/// A request to create a seal.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSeal {
    /// The owning department.
    pub department_id: String,
    /// `official`, `approval`, `contract`, `finance` or `legal_representative`.
    #[serde(rename = "type")]
    pub seal_type: SealType,
    /// Seal name, e.g. 行政审批专用章 (default: the type's conventional name).
    #[serde(default)]
    pub name: Option<String>,
    /// Validity start, RFC 3339 (default now).
    #[serde(default)]
    pub valid_from: Option<String>,
    /// Validity end, RFC 3339 (default three years after the start).
    #[serde(default)]
    pub valid_until: Option<String>,
}

/// A seal as the API shows it.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SealView {
    /// Seal id.
    pub id: String,
    /// Owning department.
    pub department_id: String,
    /// The department's name (on the seal's upper arc).
    pub department_name: String,
    /// Seal type.
    #[serde(rename = "type")]
    pub seal_type: String,
    /// Seal name (below the star).
    pub name: String,
    /// 13-digit seal code (GB/T 38540 esID).
    pub code: String,
    /// `active`, `suspended` or `revoked`.
    pub status: String,
    /// Validity start, RFC 3339.
    pub valid_from: String,
    /// Validity end, RFC 3339.
    pub valid_until: String,
    /// The seal certificate, PEM.
    pub certificate_pem: String,
    /// Its serial (hex).
    pub certificate_serial: String,
    /// Creation time, RFC 3339.
    pub created_at: String,
}

/// Default seal validity.
pub const SEAL_VALIDITY: Duration = Duration::days(3 * 365);

fn parse_time(field: &str, value: &Option<String>) -> Result<Option<OffsetDateTime>, ActionError> {
    value
        .as_deref()
        .map(|v| {
            OffsetDateTime::parse(v, &time::format_description::well_known::Rfc3339).map_err(|_| {
                ActionError::invalid(
                    field,
                    "must be an RFC 3339 time, e.g. 2026-11-23T09:00:00+08:00",
                )
            })
        })
        .transpose()
}

/// A seal code: the department's 6-digit administrative division (USCC
/// characters 3–8) followed by 7 random digits.
fn seal_code(uscc: &str) -> Result<String, ActionError> {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 8];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| ActionError::internal(anyhow::anyhow!("no randomness")))?;
    let region: String = uscc
        .chars()
        .skip(2)
        .take(6)
        .map(|c| if c.is_ascii_digit() { c } else { '0' })
        .collect();
    Ok(format!(
        "{region}{:07}",
        u64::from_be_bytes(bytes) % 10_000_000
    ))
}

pub(crate) async fn view(conn: &mut Connection, s: SealRow) -> Result<SealView, ActionError> {
    let cert = store::certificates::get(conn, &s.certificate_id)
        .await?
        .ok_or_else(|| {
            ActionError::internal(anyhow::anyhow!("certificate of seal {} missing", s.id))
        })?;
    let department = store::departments::get(conn, &s.department_id)
        .await?
        .ok_or_else(|| {
            ActionError::internal(anyhow::anyhow!("department of seal {} missing", s.id))
        })?;
    Ok(SealView {
        id: s.id,
        department_id: s.department_id,
        department_name: department.name,
        seal_type: s.seal_type,
        name: s.name,
        code: s.code,
        status: s.status,
        valid_from: rfc3339(s.valid_from),
        valid_until: rfc3339(s.valid_until),
        certificate_pem: certificate_pem(&cert.der),
        certificate_serial: cert.serial_hex,
        created_at: rfc3339(s.created_at),
    })
}

/// Creates a seal with its own key and a seal certificate from the issuing CA.
pub async fn create_seal(
    db: &Database,
    keys: &KeyStore,
    authority: &Authority,
    caller: &Principal,
    input: NewSeal,
) -> Result<SealView, ActionError> {
    if !caller.may(&input.department_id, Scope::SealsManage) {
        return Err(ActionError::Forbidden(
            "creating a seal needs the admin token or a client of that department with scope seals:manage".into(),
        ));
    }
    let name = check_name(
        "name",
        input
            .name
            .as_deref()
            .unwrap_or(input.seal_type.default_name()),
        20,
    )?;
    let now = OffsetDateTime::now_utc();
    let valid_from = parse_time("valid_from", &input.valid_from)?.unwrap_or(now);
    let valid_until =
        parse_time("valid_until", &input.valid_until)?.unwrap_or(valid_from + SEAL_VALIDITY);
    if valid_until <= valid_from {
        return Err(ActionError::invalid(
            "valid_until",
            "must be after valid_from",
        ));
    }
    if valid_until <= now {
        return Err(ActionError::invalid("valid_until", "must be in the future"));
    }
    if valid_until - valid_from > Duration::days(10 * 365) {
        return Err(ActionError::invalid(
            "valid_until",
            "a seal is valid for at most 10 years",
        ));
    }
    let mut tx = db.begin().await?;
    let department = store::departments::get(&mut tx, &input.department_id)
        .await?
        .ok_or_else(|| {
            ActionError::invalid(
                "department_id",
                format!("no department {}", input.department_id),
            )
        })?;
    let code = seal_code(&department.uscc)?;
    let subject = Subject {
        common_name: format!("{}{}", department.name, name),
        organization: Some(department.name.clone()),
        organizational_unit: Some(name.clone()),
        uscc: Some(department.uscc.clone()),
        serial_number: Some(code.clone()),
    };
    let (cert, _) = authority
        .issue_end_entity(
            &mut tx,
            keys,
            EndEntityRequest {
                role: CertificateRole::Seal,
                subject: &subject,
                not_before: valid_from,
                validity: valid_until - valid_from,
            },
        )
        .await?;
    let at = store::now_unix();
    let row = SealRow {
        id: store::new_id(),
        department_id: department.id,
        seal_type: input.seal_type.as_str().into(),
        name,
        code,
        certificate_id: cert.id,
        status: ACTIVE.into(),
        valid_from: valid_from.unix_timestamp(),
        valid_until: valid_until.unix_timestamp(),
        created_at: at,
        updated_at: at,
    };
    let seal_cert = store::certificates::get(&mut tx, &row.certificate_id)
        .await?
        .ok_or_else(|| ActionError::internal(anyhow::anyhow!("seal certificate vanished")))?;
    store::seals::insert(&mut tx, &row)
        .await
        .map_err(|e| match e {
            StoreError::Duplicate(_) => ActionError::Conflict {
                code: "seal_code_clash",
                message: "seal code clash; retry".into(),
            },
            other => other.into(),
        })?;
    crate::transparency::record(
        &mut tx,
        crate::transparency::Event {
            kind: crate::log::EntryKind::SealCreated,
            subject_id: &row.id,
            department_uscc: Some(&department.uscc),
            artefact: &seal_cert.der,
            actor: &caller.actor(),
            details: &[
                ("code", &row.code),
                ("name", &row.name),
                ("type", &row.seal_type),
            ],
            // After the insert: the entry commits to the row as stored.
            record: Some((
                &crate::transparency::records::SEALS,
                keys.commitment_key().as_deref(),
            )),
        },
    )
    .await?;
    let view = view(&mut tx, row).await?;
    tx.commit().await?;
    Ok(view)
}

/// Loads a seal the caller may see (admin, or a client of its department).
pub async fn get_seal(
    db: &Database,
    caller: &Principal,
    id: &str,
) -> Result<SealView, ActionError> {
    let mut conn = db.pool.acquire().await?;
    let seal = store::seals::get(&mut conn, id)
        .await?
        .ok_or_else(|| ActionError::NotFound(format!("seal {id}")))?;
    if let Principal::Client { department_id, .. } = caller
        && department_id != &seal.department_id
    {
        return Err(ActionError::Forbidden(
            "this seal belongs to another department".into(),
        ));
    }
    view(&mut conn, seal).await
}

/// A lifecycle change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SealChange {
    /// active → suspended
    Suspend,
    /// suspended → active
    Reinstate,
    /// active|suspended → revoked (certificate onto the CRL)
    Revoke(RevocationReasonName),
}

/// Applies a lifecycle change.
pub async fn change_seal(
    db: &Database,
    keys: &KeyStore,
    authority: &Authority,
    caller: &Principal,
    id: &str,
    change: SealChange,
) -> Result<SealView, ActionError> {
    let mut tx = db.begin().await?;
    let seal = store::seals::get(&mut tx, id)
        .await?
        .ok_or_else(|| ActionError::NotFound(format!("seal {id}")))?;
    if !caller.may(&seal.department_id, Scope::SealsManage) {
        return Err(ActionError::Forbidden(
            "changing a seal needs seals:manage on its department".into(),
        ));
    }
    let (from, to): (&[&str], &str) = match change {
        SealChange::Suspend => (&[ACTIVE], SUSPENDED),
        SealChange::Reinstate => (&[SUSPENDED], ACTIVE),
        SealChange::Revoke(_) => (&[ACTIVE, SUSPENDED], REVOKED),
    };
    if !from.contains(&seal.status.as_str()) {
        return Err(ActionError::Conflict {
            code: "invalid_seal_state",
            message: format!("the seal is {}; cannot go to {to}", seal.status),
        });
    }
    // Conditional on the status just read: of two concurrent changes only
    // the first applies, and the log's `from` is what the row really was.
    if !store::seals::set_status(&mut tx, id, &[&seal.status], to, store::now_unix()).await? {
        return Err(ActionError::Conflict {
            code: "invalid_seal_state",
            message: "the seal's status changed while this change was made; read it again".into(),
        });
    }
    if let SealChange::Revoke(reason) = change {
        authority
            .revoke(&mut tx, &seal.certificate_id, reason)
            .await?;
    }
    let department = store::departments::get(&mut tx, &seal.department_id).await?;
    let uscc = department.as_ref().map(|d| d.uscc.as_str());
    log_seal_change(&mut tx, keys, &seal, uscc, to, &caller.actor()).await?;
    let seal = store::seals::get(&mut tx, id)
        .await?
        .ok_or_else(|| ActionError::NotFound(format!("seal {id}")))?;
    let view = view(&mut tx, seal).await?;
    tx.commit().await?;
    Ok(view)
}

/// Logs that `seal` (as it was before) went to status `to`; the entry commits
/// to the row as it now stands.
async fn log_seal_change(
    conn: &mut store::Connection,
    keys: &KeyStore,
    seal: &store::seals::SealRow,
    department_uscc: Option<&str>,
    to: &str,
    actor: &str,
) -> Result<(), ActionError> {
    let cert = store::certificates::get(conn, &seal.certificate_id)
        .await?
        .ok_or_else(|| ActionError::internal(anyhow::anyhow!("seal certificate vanished")))?;
    crate::transparency::record(
        conn,
        crate::transparency::Event {
            kind: crate::log::EntryKind::SealChanged,
            subject_id: &seal.id,
            department_uscc,
            artefact: &cert.der,
            actor,
            details: &[("code", &seal.code), ("from", &seal.status), ("status", to)],
            record: Some((
                &crate::transparency::records::SEALS,
                keys.commitment_key().as_deref(),
            )),
        },
    )
    .await?;
    Ok(())
}

/// Suspends every active seal of a department whose organisation
/// certificate was just revoked (issue 17, cascade), in the caller's
/// transaction, logging each change with the actor `authority` and the
/// revocation reason.
pub async fn suspend_department_seals(
    conn: &mut store::Connection,
    keys: &KeyStore,
    department: &store::departments::DepartmentRow,
    reason: &str,
) -> Result<(), ActionError> {
    let actor = format!("authority:department-certificate-revoked:{reason}");
    for seal in store::seals::list(conn, &department.id).await? {
        if seal.status == ACTIVE
            && store::seals::set_status(conn, &seal.id, &[ACTIVE], SUSPENDED, store::now_unix())
                .await?
        {
            log_seal_change(conn, keys, &seal, Some(&department.uscc), SUSPENDED, &actor).await?;
        }
    }
    Ok(())
}

/// The appearance of a seal the caller may see, at `diameter_mm`.
pub async fn appearance(
    db: &Database,
    caller: &Principal,
    id: &str,
    diameter_mm: f32,
) -> Result<super::SealAppearance, ActionError> {
    let view = get_seal(db, caller, id).await?;
    Ok(super::SealAppearance {
        department_name: view.department_name,
        seal_name: view.name,
        seal_code: Some(view.code),
        diameter_mm,
    })
}
