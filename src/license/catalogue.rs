//! Defining license types (证照目录, GB/T 36902-2018 catalogue entries): the
//! platform operator's action that stores a checked [`LicenseTypeDefinition`]
//! with its issuing departments, and the signed list of those departments
//! that the trust bundle publishes ([`crate::license::issuers`]).

use crate::access::Principal;
use crate::authority::Authority;
use crate::license::issuers::AuthorisedIssuers;
use crate::license::types::LicenseTypeDefinition;
use crate::outcome::ActionError;
use crate::store::{self, Database};

/// Logs a new license type and each of its issuers (version-2 entries).
async fn log_type(
    conn: &mut store::Connection,
    row: &store::licenses::LicenseTypeRow,
    issuers: &[String],
) -> Result<(), store::StoreError> {
    use crate::log::EntryKind;
    use crate::transparency::{Event, record, records};
    record(
        conn,
        Event {
            kind: EntryKind::LicenseTypeCreated,
            subject_id: &row.code,
            department_uscc: None,
            artefact: row.fields_json.as_bytes(),
            actor: "admin",
            details: &[("name", &row.name_zh)],
            record: Some((&records::LICENSE_TYPES, None)),
        },
    )
    .await?;
    crate::transparency::record_department_links(
        conn,
        EntryKind::LicenseTypeIssuerAdded,
        &records::LICENSE_TYPE_ISSUERS,
        "type",
        &row.code,
        issuers,
    )
    .await
}

/// Defines a license type (admin only).
pub async fn create_type(
    db: &Database,
    caller: &Principal,
    definition: LicenseTypeDefinition,
) -> Result<LicenseTypeDefinition, ActionError> {
    if !matches!(caller, Principal::Admin) {
        return Err(ActionError::Forbidden(
            "only the platform operator defines license types".into(),
        ));
    }
    definition.validate()?;
    let mut tx = db.begin().await?;
    for (i, id) in definition.issuers.iter().enumerate() {
        if store::departments::get(&mut tx, id).await?.is_none() {
            return Err(ActionError::invalid(
                &format!("issuers[{i}]"),
                format!("no department {id}"),
            ));
        }
    }
    let mut issuers = definition.issuers.clone();
    issuers.sort();
    issuers.dedup();
    let row = store::licenses::LicenseTypeRow {
        code: definition.code.clone(),
        name_zh: definition.name_zh.clone(),
        name_en: definition.name_en.clone(),
        validity_days: i64::from(definition.validity_days),
        fields_json: serde_json::to_string(&definition.fields).map_err(ActionError::internal)?,
        created_at: store::now_unix(),
    };
    match store::licenses::insert_type(&mut tx, &row, &issuers).await {
        Err(store::StoreError::Duplicate(_)) => {
            return Err(ActionError::Conflict {
                code: "duplicate_license_type",
                message: format!("license type {} exists", row.code),
            });
        }
        other => other?,
    }
    log_type(&mut tx, &row, &issuers).await?;
    tx.commit().await?;
    Ok(LicenseTypeDefinition {
        issuers,
        ..definition
    })
}

/// The authorised issuers of every license type, as stored now, and the
/// list signed by the issuing CA (tagged COSE_Sign1).
pub async fn authorised_issuers(
    db: &Database,
    authority: &Authority,
) -> Result<(AuthorisedIssuers, Vec<u8>), ActionError> {
    let mut conn = db.pool.acquire().await?;
    let pairs = store::licenses::issuer_usccs(&mut conn).await?;
    drop(conn);
    let list = AuthorisedIssuers::new(pairs, time::OffsetDateTime::now_utc());
    let cose = list
        .sign(
            &*authority.issuing.signer,
            &authority.issuing.certificate.der,
        )
        .map_err(ActionError::internal)?;
    Ok((list, cose))
}
