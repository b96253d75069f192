//! Using licenses from the library (用证): a department's system asks, for a
//! service item, with a reason and the official's name, for a holder's
//! licenses. The request is judged against the use list in force at that
//! moment and the holder's consent; a grant releases each valid license of
//! a listed type with only the listed fields (data minimisation happens
//! here, not in the client) and its signed record; a refusal releases
//! nothing. Both are recorded, in the same transaction as their log entry,
//! and nothing else changes on a refusal.
//!
//! How a relying party checks a minimised view: each released license
//! carries its signed COSE_Sign1 record (the same one the QR code holds).
//! The record's summary fields (`f`), holder name (`hn`), validity and
//! identifier are signed by the issuing department's seal; the released
//! fields named in `signed_fields` must equal the record's values, and the
//! record verifies offline with `govseal verify --license` against the trust
//! bundle. Released fields outside the record are attested by this service's
//! response (and the original PDF, fetchable within the use).

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::consent::{self, code_sha256};
use super::items::HOLDER_NAME_FIELD;
use super::{HolderRef, check_code, check_text};
use crate::access::{Principal, Scope};
use crate::keystore::KeyStore;
use crate::license::types::FieldDefinition;
use crate::log::EntryKind;
use crate::outcome::ActionError;
use crate::store::library::{ConsentRow, UseEntryRow, UseFilter, UseRow};
use crate::store::licenses::{Artefact, LicenseRow};
use crate::store::{self, Connection, Database};
use crate::transparency::{Event, record, records};

/// How long after a use its originals (PDFs) may be fetched.
pub const PDF_WINDOW_SECONDS: i64 = 900;

/// `POST /v1/license-uses`.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UseRequest {
    /// The service item the licenses are used for.
    pub service_item: String,
    /// Whose licenses.
    pub holder: HolderRef,
    /// Why (recorded; shown to the holder).
    pub reason: String,
    /// The official handling the case (recorded; shown to the holder).
    pub operator: String,
    /// The holder's one-time consent code, where the use list requires one.
    #[serde(default)]
    pub consent_code: Option<String>,
}

/// A license released by a use.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ReleasedLicense {
    /// The license identifier.
    pub id: String,
    /// Its type code.
    #[serde(rename = "type")]
    pub type_code: String,
    /// `valid` (only licenses in force are released).
    pub status: String,
    /// The issuing department's id.
    pub issuer: String,
    /// Validity start (Unix seconds).
    pub valid_from: i64,
    /// Validity end (Unix seconds); none for a long-term license.
    pub valid_until: Option<i64>,
    /// The fields on the use list, and only those.
    pub fields: BTreeMap<String, String>,
    /// Which of `fields` the signed record carries (checkable offline).
    pub signed_fields: Vec<String>,
    /// The signed record: COSE_Sign1, base64.
    pub record: String,
}

/// A granted use.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct UseGranted {
    /// The use record's id.
    pub id: String,
    /// The licenses released.
    pub licenses: Vec<ReleasedLicense>,
    /// Until when the originals may be fetched (Unix seconds).
    pub pdf_until: i64,
}

/// A license a use released, as the use record names it.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UsedLicense {
    /// The license identifier.
    pub id: String,
    /// Its type code.
    #[serde(rename = "type")]
    pub type_code: String,
    /// The issuing department.
    pub issuer: String,
    /// The field keys released.
    pub fields: Vec<String>,
}

/// A use record, granted or refused.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct UseView {
    /// Its id.
    pub id: String,
    /// `granted` or `refused`.
    pub outcome: String,
    /// A refusal's code (`not_on_use_list`, `consent_required`, …).
    pub refusal: Option<String>,
    /// The using department.
    pub department_id: String,
    /// Its client.
    pub client_id: String,
    /// The official who asked.
    pub operator: String,
    /// The service item.
    pub service_item: String,
    /// The reason given.
    pub reason: String,
    /// The holder, masked as on the QR page.
    pub holder: String,
    /// The consent that allowed it.
    pub consent_id: Option<String>,
    /// The use list entries in force when it was judged.
    pub use_list: Vec<String>,
    /// The licenses released.
    pub licenses: Vec<UsedLicense>,
    /// When (Unix seconds).
    pub created_at: i64,
}

/// A holder identifier as shown outside the library: a resident ID masked
/// (`350***********1234`), a USCC in full.
pub fn masked_holder(id_type: &str, id: &str) -> String {
    if id_type == "resident"
        && let Ok(resident) = id.parse::<crate::identity::ResidentId>()
    {
        return resident.masked();
    }
    if id_type == "uscc" {
        return id.to_string();
    }
    "*".repeat(id.chars().count())
}

impl UseView {
    /// The view of a stored use.
    pub fn of(row: UseRow) -> Result<Self, ActionError> {
        Ok(UseView {
            holder: masked_holder(&row.holder_id_type, &row.holder_id),
            use_list: serde_json::from_str(&row.use_list_json).map_err(ActionError::internal)?,
            licenses: serde_json::from_str(&row.licenses_json).map_err(ActionError::internal)?,
            id: row.id,
            outcome: row.outcome,
            refusal: row.refusal,
            department_id: row.department_id,
            client_id: row.client_id,
            operator: row.operator,
            service_item: row.item_code,
            reason: row.reason,
            consent_id: row.consent_id,
            created_at: row.created_at,
        })
    }
}

/// Why a use is refused: recorded, then answered with this status and code.
struct Refusal {
    conflict: bool,
    code: &'static str,
    message: String,
}

impl Refusal {
    fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Refusal {
            conflict: false,
            code,
            message: message.into(),
        }
    }

    fn into_error(self) -> ActionError {
        if self.conflict {
            ActionError::Conflict {
                code: self.code,
                message: self.message,
            }
        } else {
            ActionError::Denied {
                code: self.code,
                message: self.message,
            }
        }
    }
}

/// What the judgement allows: the use list entries to release under, and
/// the consent consumed.
struct Grant {
    entries: Vec<UseEntryRow>,
    consent_id: Option<String>,
}

/// The calling client, if it may use the library.
fn using_client(caller: &Principal) -> Result<(&str, &str), ActionError> {
    match caller {
        Principal::Client {
            client_id,
            department_id,
            scopes,
        } if scopes.contains(&Scope::LicensesUse) => Ok((client_id, department_id)),
        _ => Err(ActionError::Forbidden(
            "using licenses from the library needs a department client with scope licenses:use"
                .into(),
        )),
    }
}

fn validate(input: &UseRequest) -> Result<(), ActionError> {
    check_code("service_item", &input.service_item)?;
    input.holder.validate()?;
    check_text("reason", &input.reason, 500)?;
    check_text("operator", &input.operator, 100)?;
    if let Some(code) = &input.consent_code {
        check_text("consent_code", code, 64)?;
    }
    Ok(())
}

/// Uses a holder's licenses for a service item: judged, recorded, logged.
/// A refusal is recorded too and then returned as the error.
pub async fn use_licenses(
    db: &Database,
    keys: &KeyStore,
    caller: &Principal,
    input: UseRequest,
) -> Result<UseGranted, ActionError> {
    let (client_id, department_id) = using_client(caller)?;
    validate(&input)?;
    let mut tx = db.begin().await?;
    let now = store::now_unix();
    let id = store::new_id();
    let mut row = UseRow {
        id: id.clone(),
        outcome: "refused".into(),
        refusal: None,
        department_id: department_id.to_string(),
        client_id: client_id.to_string(),
        operator: input.operator.trim().to_string(),
        item_code: input.service_item.clone(),
        reason: input.reason.trim().to_string(),
        holder_id_type: input.holder.id_type.as_str().into(),
        holder_id: input.holder.id.clone(),
        consent_id: None,
        use_list_json: "[]".into(),
        licenses_json: "[]".into(),
        created_at: now,
        pdf_until: None,
    };
    let in_force = store::library::use_list_in_force(&mut tx, &input.service_item).await?;
    row.use_list_json = serde_json::to_string(&in_force.iter().map(|e| &e.id).collect::<Vec<_>>())
        .map_err(ActionError::internal)?;
    let grant = match judge(&mut tx, &input, department_id, in_force, &id, now).await? {
        Ok(grant) => grant,
        Err(refusal) => {
            // The refusal is the only change: its record and its entry.
            row.refusal = Some(refusal.code.into());
            store::library::insert_use(&mut tx, &row, &[]).await?;
            log_use(&mut tx, keys, &row, caller).await?;
            tx.commit().await?;
            return Err(refusal.into_error());
        }
    };
    let (released, used) = release(&mut tx, &input.holder, &grant.entries, now).await?;
    row.outcome = "granted".into();
    row.consent_id = grant.consent_id.clone();
    row.licenses_json = serde_json::to_string(&used).map_err(ActionError::internal)?;
    row.pdf_until = Some(now + PDF_WINDOW_SECONDS);
    let index: Vec<(String, String)> = used
        .iter()
        .map(|l| (l.id.clone(), l.issuer.clone()))
        .collect();
    store::library::insert_use(&mut tx, &row, &index).await?;
    log_use(&mut tx, keys, &row, caller).await?;
    if let Some(consent_id) = &grant.consent_id {
        consent::log_consent(
            &mut tx,
            keys,
            consent_id,
            EntryKind::ConsentChanged,
            "used",
            &caller.actor(),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(UseGranted {
        id,
        licenses: released,
        pdf_until: now + PDF_WINDOW_SECONDS,
    })
}

/// Judges a request against the use list in force and the consent; a
/// consent that allows it is consumed (in the caller's transaction).
async fn judge(
    conn: &mut Connection,
    input: &UseRequest,
    department_id: &str,
    in_force: Vec<UseEntryRow>,
    use_id: &str,
    now: i64,
) -> Result<Result<Grant, Refusal>, ActionError> {
    let item = &input.service_item;
    if store::library::get_item(conn, item).await?.is_none() {
        return Ok(Err(Refusal::forbidden(
            "not_on_use_list",
            format!("there is no service item {item}"),
        )));
    }
    if !store::library::item_departments(conn, item)
        .await?
        .iter()
        .any(|d| d == department_id)
    {
        return Ok(Err(Refusal::forbidden(
            "not_on_use_list",
            format!("department {department_id} does not handle service item {item}"),
        )));
    }
    if in_force.is_empty() {
        return Ok(Err(Refusal::forbidden(
            "not_on_use_list",
            format!("the use list of {item} names no license type"),
        )));
    }
    let needs_consent: Vec<&str> = in_force
        .iter()
        .filter(|e| e.consent_required == 1)
        .map(|e| e.type_code.as_str())
        .collect();
    let Some(code) = &input.consent_code else {
        if !needs_consent.is_empty() {
            return Ok(Err(Refusal::forbidden(
                "consent_required",
                format!(
                    "the use list of {item} requires the holder's consent for {}: pass consent_code",
                    needs_consent.join(", ")
                ),
            )));
        }
        return Ok(Ok(Grant {
            entries: in_force,
            consent_id: None,
        }));
    };
    let Some(consent) = store::library::consent_by_code(conn, &code_sha256(code)).await? else {
        return Ok(Err(Refusal::forbidden(
            "consent_invalid",
            "no such consent code",
        )));
    };
    if let Some(refusal) = mismatch(&consent, input, department_id) {
        return Ok(Err(refusal));
    }
    let covered: Vec<String> =
        serde_json::from_str(&consent.license_types).map_err(ActionError::internal)?;
    let missing: Vec<&str> = needs_consent
        .iter()
        .copied()
        .filter(|t| !covered.iter().any(|c| c == t))
        .collect();
    if !missing.is_empty() {
        return Ok(Err(Refusal::forbidden(
            "consent_required",
            format!(
                "the consent does not cover license types {} that need it",
                missing.join(", ")
            ),
        )));
    }
    if !store::library::consume_consent(conn, &consent.id, use_id, now).await? {
        return Ok(Err(Refusal {
            conflict: true,
            code: "consent_used_or_expired",
            message: "the consent code was already used, revoked or has expired".into(),
        }));
    }
    Ok(Ok(Grant {
        entries: in_force,
        consent_id: Some(consent.id),
    }))
}

/// A consent given by another holder, for another item or department.
fn mismatch(consent: &ConsentRow, input: &UseRequest, department_id: &str) -> Option<Refusal> {
    let wrong = if consent.holder_id != input.holder.id
        || consent.holder_id_type != input.holder.id_type.as_str()
    {
        "was given by another holder"
    } else if consent.item_code != input.service_item {
        "is for another service item"
    } else if consent
        .department_id
        .as_deref()
        .is_some_and(|d| d != department_id)
    {
        "is for another department"
    } else {
        return None;
    };
    Some(Refusal::forbidden(
        "consent_invalid",
        format!("the consent code {wrong}"),
    ))
}

/// The holder's valid licenses of the listed types, each minimised to the
/// listed fields.
async fn release(
    conn: &mut Connection,
    holder: &HolderRef,
    entries: &[UseEntryRow],
    now: i64,
) -> Result<(Vec<ReleasedLicense>, Vec<UsedLicense>), ActionError> {
    let types: Vec<String> = entries.iter().map(|e| e.type_code.clone()).collect();
    let rows = store::licenses::in_force_for_holder(
        conn,
        holder.id_type.as_str(),
        &holder.id,
        &types,
        now,
    )
    .await?;
    let mut definitions: BTreeMap<String, Vec<FieldDefinition>> = BTreeMap::new();
    let mut released = Vec::new();
    let mut used = Vec::new();
    for row in rows {
        let Some(entry) = entries.iter().find(|e| e.type_code == row.type_code) else {
            continue;
        };
        if !definitions.contains_key(&row.type_code) {
            let definition = store::licenses::get_type(conn, &row.type_code)
                .await?
                .map(|t| serde_json::from_str(&t.fields_json))
                .transpose()
                .map_err(ActionError::internal)?
                .unwrap_or_default();
            definitions.insert(row.type_code.clone(), definition);
        }
        let definition = &definitions[&row.type_code];
        let listed: Vec<String> =
            serde_json::from_str(&entry.fields_json).map_err(ActionError::internal)?;
        let (fields, signed) = minimise(&row, definition, &listed)?;
        let cose = store::licenses::artefact(conn, &row.id, Artefact::Record)
            .await?
            .ok_or_else(|| ActionError::internal(anyhow::anyhow!("license record vanished")))?;
        used.push(UsedLicense {
            id: row.id.clone(),
            type_code: row.type_code.clone(),
            issuer: row.department_id.clone(),
            fields: fields.keys().cloned().collect(),
        });
        released.push(ReleasedLicense {
            id: row.id,
            type_code: row.type_code,
            status: row.status,
            issuer: row.department_id,
            valid_from: row.valid_from,
            valid_until: row.valid_until,
            fields,
            signed_fields: signed,
            record: base64::engine::general_purpose::STANDARD.encode(cose),
        });
    }
    Ok((released, used))
}

/// The listed fields of a license, and which of them its record signs.
fn minimise(
    row: &LicenseRow,
    definition: &[FieldDefinition],
    listed: &[String],
) -> Result<(BTreeMap<String, String>, Vec<String>), ActionError> {
    let values: Vec<(String, String)> =
        serde_json::from_str(&row.fields_json).map_err(ActionError::internal)?;
    let mut fields = BTreeMap::new();
    let mut signed = Vec::new();
    for key in listed {
        if key == HOLDER_NAME_FIELD {
            fields.insert(key.clone(), row.holder_name.clone());
            signed.push(key.clone());
            continue;
        }
        if let Some((_, value)) = values.iter().find(|(k, _)| k == key) {
            fields.insert(key.clone(), value.clone());
            if definition.iter().any(|f| &f.key == key && f.on_qr) {
                signed.push(key.clone());
            }
        }
    }
    Ok((fields, signed))
}

async fn log_use(
    conn: &mut Connection,
    keys: &KeyStore,
    row: &UseRow,
    caller: &Principal,
) -> Result<(), store::StoreError> {
    let uscc = store::departments::get(conn, &row.department_id)
        .await?
        .map(|d| d.uscc);
    let refusal = row.refusal.clone().unwrap_or_default();
    record(
        conn,
        Event {
            kind: EntryKind::LicenseUsed,
            subject_id: &row.id,
            department_uscc: uscc.as_deref(),
            artefact: row.licenses_json.as_bytes(),
            actor: &caller.actor(),
            details: &[
                ("item", &row.item_code),
                ("outcome", &row.outcome),
                ("refusal", &refusal),
            ],
            record: Some((&records::LICENSE_USES, keys.commitment_key().as_deref())),
        },
    )
    .await?;
    Ok(())
}

/// Who may see which uses.
fn visibility(caller: &Principal, filter: &mut UseFilter) -> Result<(), ActionError> {
    match caller {
        Principal::Admin => Ok(()),
        Principal::Client {
            department_id,
            scopes,
            ..
        } if scopes.iter().any(|s| {
            matches!(
                s,
                Scope::LicensesUse | Scope::LicensesIssue | Scope::LicensesManage
            )
        }) =>
        {
            filter.visible_to = Some(department_id.clone());
            Ok(())
        }
        Principal::Client { scopes, .. }
            if scopes.contains(&Scope::ConsentsCreate) && filter.holder_id.is_some() =>
        {
            // A holder-facing app shows the holder who used their licenses.
            Ok(())
        }
        _ => Err(ActionError::Forbidden(
            "listing uses needs the admin token, a department client with a licenses scope (its own uses and uses of its licenses), or a consents:create client asking for one holder"
                .into(),
        )),
    }
}

/// Uses matching `filter` that the caller may see, newest first.
pub async fn list(
    db: &Database,
    caller: &Principal,
    mut filter: UseFilter,
) -> Result<Vec<UseView>, ActionError> {
    visibility(caller, &mut filter)?;
    let mut conn = db.pool.acquire().await?;
    store::library::query_uses(&mut conn, &filter)
        .await?
        .into_iter()
        .map(UseView::of)
        .collect()
}

/// One use, to its department, the issuers of its licenses and the operator.
pub async fn get(db: &Database, caller: &Principal, id: &str) -> Result<UseView, ActionError> {
    let mut conn = db.pool.acquire().await?;
    let row = store::library::get_use(&mut conn, id)
        .await?
        .ok_or_else(|| ActionError::NotFound(format!("license use {id}")))?;
    let visible = match caller {
        Principal::Admin => true,
        Principal::Client { department_id, .. } => {
            &row.department_id == department_id
                || store::library::use_issuers(&mut conn, id)
                    .await?
                    .contains(department_id)
        }
    };
    if !visible {
        return Err(ActionError::NotFound(format!("license use {id}")));
    }
    UseView::of(row)
}

/// The original PDF of a license released by a use: only to the using
/// department, only while the use's window is open.
pub async fn pdf(
    db: &Database,
    caller: &Principal,
    use_id: &str,
    license_id: &str,
) -> Result<Vec<u8>, ActionError> {
    let (_, department_id) = using_client(caller)?;
    let mut conn = db.pool.acquire().await?;
    let row = store::library::get_use(&mut conn, use_id)
        .await?
        .filter(|row| row.department_id == department_id)
        .ok_or_else(|| ActionError::NotFound(format!("license use {use_id}")))?;
    let used: Vec<UsedLicense> =
        serde_json::from_str(&row.licenses_json).map_err(ActionError::internal)?;
    if !used.iter().any(|l| l.id == license_id) {
        return Err(ActionError::NotFound(format!(
            "license {license_id} in use {use_id}"
        )));
    }
    if row.pdf_until.is_none_or(|until| store::now_unix() >= until) {
        return Err(ActionError::Conflict {
            code: "use_window_closed",
            message: format!(
                "the originals of a use may be fetched for {PDF_WINDOW_SECONDS} s after it; make a new use"
            ),
        });
    }
    store::licenses::artefact(&mut conn, license_id, Artefact::Pdf)
        .await?
        .ok_or_else(|| ActionError::NotFound(format!("license {license_id}")))
}

/// The uses as CSV (operator only), for export by department, item, type
/// and period. Cells that a spreadsheet would run as a formula are quoted
/// with a leading `'` (OWASP CSV injection).
pub async fn export_csv(
    db: &Database,
    caller: &Principal,
    filter: UseFilter,
) -> Result<String, ActionError> {
    if !matches!(caller, Principal::Admin) {
        return Err(ActionError::Forbidden(
            "only the platform operator exports use records".into(),
        ));
    }
    let uses = list(db, caller, filter).await?;
    let mut out = String::from(
        "id,created_at,outcome,refusal,department_id,client_id,service_item,license_ids,license_types,fields,consent_id,operator,reason,holder\n",
    );
    for u in uses {
        let created = time::OffsetDateTime::from_unix_timestamp(u.created_at)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_default();
        let cells = [
            u.id,
            created,
            u.outcome,
            u.refusal.unwrap_or_default(),
            u.department_id,
            u.client_id,
            u.service_item,
            join(u.licenses.iter().map(|l| l.id.as_str())),
            join(u.licenses.iter().map(|l| l.type_code.as_str())),
            join(
                u.licenses
                    .iter()
                    .map(|l| l.fields.join("+"))
                    .collect::<Vec<_>>()
                    .iter()
                    .map(String::as_str),
            ),
            u.consent_id.unwrap_or_default(),
            u.operator,
            u.reason,
            u.holder,
        ];
        let line: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    Ok(out)
}

fn join<'a>(items: impl Iterator<Item = &'a str>) -> String {
    items.collect::<Vec<_>>().join(" ")
}

/// One CSV cell (RFC 4180 quoting, formula guard).
fn csv_cell(value: &str) -> String {
    let guarded = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_string()
    };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_quoted_and_formulas_defused() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=1+1"), "'=1+1");
        assert_eq!(csv_cell("@cmd,x"), "\"'@cmd,x\"");
    }

    #[test]
    fn holders_are_masked_outside_the_library() {
        assert_eq!(
            masked_holder("uscc", "91350100M000100Y43"),
            "91350100M000100Y43"
        );
        let masked = masked_holder("resident", "11010519491231002X");
        assert!(
            masked.contains('*') && !masked.contains("19491231"),
            "{masked}"
        );
    }
}
