//! Departments (部门) and their API clients: the use cases an operator runs.
//! Each action is one transaction: a department never exists without its
//! organisation certificate, a client never without its token hash.

mod clients;

pub use clients::{
    ClientCreated, ClientView, NewClient, create_client, list_clients, revoke_client,
};

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::authority::{Authority, EndEntityRequest, RevocationReasonName, certificate_pem};
use crate::identity::Uscc;
use crate::keystore::KeyStore;
use crate::log::EntryKind;
use crate::outcome::ActionError;
use crate::pki::{CertificateRole, Subject};
use crate::store::{self, Connection, Database, StoreError, departments::DepartmentRow};

/// Validity of an organisation certificate.
pub const DEPARTMENT_CERTIFICATE_VALIDITY: Duration = Duration::days(3 * 365);

/// A request to create a department.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDepartment {
    /// Name in Chinese, e.g. 福州市行政审批局.
    pub name: String,
    /// 18-character unified social credit code (GB 32100-2015).
    pub uscc: String,
    /// Parent department id.
    #[serde(default)]
    pub parent_id: Option<String>,
}

/// A department as the API shows it.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DepartmentView {
    /// Department id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Unified social credit code.
    pub uscc: String,
    /// Parent department id.
    pub parent_id: Option<String>,
    /// The organisation certificate, PEM.
    pub certificate_pem: String,
    /// Its serial number (hex).
    pub certificate_serial: String,
    /// Whether it has been revoked.
    pub certificate_revoked: bool,
    /// Creation time, RFC 3339.
    pub created_at: String,
}

/// RFC 3339 text of Unix seconds.
pub fn rfc3339(t: i64) -> String {
    OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// Validates a display name: non-empty, at most `max` characters, no control characters.
pub fn check_name(field: &str, name: &str, max: usize) -> Result<String, ActionError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ActionError::invalid(field, "must not be empty"));
    }
    if name.chars().count() > max {
        return Err(ActionError::invalid(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(ActionError::invalid(
            field,
            "must not contain control characters",
        ));
    }
    Ok(name.to_string())
}

async fn view(conn: &mut Connection, d: DepartmentRow) -> Result<DepartmentView, ActionError> {
    let cert = store::certificates::get(conn, &d.certificate_id)
        .await?
        .ok_or_else(|| {
            ActionError::internal(anyhow::anyhow!(
                "certificate of department {} missing",
                d.id
            ))
        })?;
    Ok(DepartmentView {
        id: d.id,
        name: d.name,
        uscc: d.uscc,
        parent_id: d.parent_id,
        certificate_pem: certificate_pem(&cert.der),
        certificate_serial: cert.serial_hex,
        certificate_revoked: cert.revoked_at.is_some(),
        created_at: rfc3339(d.created_at),
    })
}

/// Issues an organisation certificate (subject: the name, with the USCC as organizationIdentifier).
async fn issue_organisation_certificate(
    conn: &mut Connection,
    keys: &KeyStore,
    authority: &Authority,
    name: &str,
    uscc: &str,
) -> Result<store::certificates::CertificateRow, ActionError> {
    let subject = Subject {
        common_name: name.to_string(),
        organization: Some(name.to_string()),
        uscc: Some(uscc.to_string()),
        ..Subject::default()
    };
    let request = EndEntityRequest {
        role: CertificateRole::Department,
        subject: &subject,
        not_before: OffsetDateTime::now_utc(),
        validity: DEPARTMENT_CERTIFICATE_VALIDITY,
    };
    Ok(authority.issue_end_entity(conn, keys, request).await?.0)
}

/// Creates a department with a new organisation certificate.
pub async fn create_department(
    db: &Database,
    keys: &KeyStore,
    authority: &Authority,
    input: NewDepartment,
) -> Result<DepartmentView, ActionError> {
    let name = check_name("name", &input.name, 100)?;
    let uscc: Uscc = input
        .uscc
        .trim()
        .parse()
        .map_err(|e| ActionError::invalid("uscc", e))?;
    let mut tx = db.begin().await?;
    if let Some(parent) = &input.parent_id
        && store::departments::get(&mut tx, parent).await?.is_none()
    {
        return Err(ActionError::invalid(
            "parent_id",
            format!("no department {parent}"),
        ));
    }
    let duplicate = || ActionError::Conflict {
        code: "duplicate_uscc",
        message: format!("a department with USCC {uscc} already exists"),
    };
    if store::departments::uscc_exists(&mut tx, uscc.as_str()).await? {
        return Err(duplicate());
    }
    let cert =
        issue_organisation_certificate(&mut tx, keys, authority, &name, uscc.as_str()).await?;
    let row = DepartmentRow {
        id: store::new_id(),
        name,
        uscc: uscc.to_string(),
        parent_id: input.parent_id,
        certificate_id: cert.id,
        created_at: store::now_unix(),
    };
    store::departments::insert(&mut tx, &row)
        .await
        .map_err(|e| match e {
            StoreError::Duplicate(_) => duplicate(),
            other => other.into(),
        })?;
    log_department(&mut tx, EntryKind::DepartmentCreated, &row).await?;
    let view = view(&mut tx, row).await?;
    tx.commit().await?;
    Ok(view)
}

/// Loads a department.
pub async fn get_department(db: &Database, id: &str) -> Result<DepartmentView, ActionError> {
    let mut conn = db.pool.acquire().await?;
    let d = store::departments::get(&mut conn, id)
        .await?
        .ok_or_else(|| ActionError::NotFound(format!("department {id}")))?;
    view(&mut conn, d).await
}

/// Lists departments.
pub async fn list_departments(db: &Database) -> Result<Vec<DepartmentView>, ActionError> {
    let mut conn = db.pool.acquire().await?;
    let mut out = Vec::new();
    for d in store::departments::list(&mut conn).await? {
        out.push(view(&mut conn, d).await?);
    }
    Ok(out)
}

/// Revokes a department's organisation certificate; the new CRL lists it.
///
/// In the same transaction, and logged like any other change, the
/// department stops acting (issue 17, cascade): its active seals are
/// suspended (a renewed certificate lets an operator reinstate them) and its
/// API clients are revoked (new ones are created after renewal).
pub async fn revoke_department_certificate(
    db: &Database,
    keys: &KeyStore,
    authority: &Authority,
    id: &str,
    reason: RevocationReasonName,
) -> Result<DepartmentView, ActionError> {
    let mut tx = db.begin().await?;
    let d = store::departments::get(&mut tx, id)
        .await?
        .ok_or_else(|| ActionError::NotFound(format!("department {id}")))?;
    if !authority.revoke(&mut tx, &d.certificate_id, reason).await? {
        return Err(ActionError::Conflict {
            code: "already_revoked",
            message: "the department's certificate is already revoked".into(),
        });
    }
    crate::seal::suspend_department_seals(&mut tx, keys, &d, reason.as_str()).await?;
    clients::revoke_department_clients(&mut tx, keys, &d).await?;
    let view = view(&mut tx, d).await?;
    tx.commit().await?;
    Ok(view)
}

/// Logs a department row as it now stands (a version-2 entry).
async fn log_department(
    conn: &mut Connection,
    kind: EntryKind,
    row: &DepartmentRow,
) -> Result<(), StoreError> {
    crate::transparency::record(
        conn,
        crate::transparency::Event {
            kind,
            subject_id: &row.id,
            department_uscc: Some(&row.uscc),
            artefact: row.certificate_id.as_bytes(),
            actor: "admin",
            details: &[("certificate_id", &row.certificate_id)],
            record: Some((&crate::transparency::records::DEPARTMENTS, None)),
        },
    )
    .await?;
    Ok(())
}

/// Issues a new organisation certificate (after revocation or before expiry).
pub async fn renew_department_certificate(
    db: &Database,
    keys: &KeyStore,
    authority: &Authority,
    id: &str,
) -> Result<DepartmentView, ActionError> {
    let mut tx = db.begin().await?;
    let d = store::departments::get(&mut tx, id)
        .await?
        .ok_or_else(|| ActionError::NotFound(format!("department {id}")))?;
    let cert = issue_organisation_certificate(&mut tx, keys, authority, &d.name, &d.uscc).await?;
    store::departments::set_certificate(&mut tx, id, &cert.id).await?;
    let d = DepartmentRow {
        certificate_id: cert.id,
        ..d
    };
    log_department(&mut tx, EntryKind::DepartmentChanged, &d).await?;
    let view = view(&mut tx, d).await?;
    tx.commit().await?;
    Ok(view)
}
