//! Service items (事项) and their use lists (用证清单): the platform
//! operator publishes which license types each item may use, which of their
//! fields it needs (data minimisation), whether the holder's consent is
//! needed, and on what legal basis. A use list entry is never changed: a new
//! version replaces it, so a use is always judged against, and records, the
//! version in force at that moment. Every row is logged.

use serde::{Deserialize, Serialize};

use super::{check_code, check_text};
use crate::access::Principal;
use crate::log::EntryKind;
use crate::outcome::ActionError;
use crate::store::library::{ItemRow, UseEntryRow};
use crate::store::{self, Connection, Database};
use crate::transparency::{Event, record, records};

/// Fields every license has besides its type's own: released only when
/// listed like any other.
pub const HOLDER_NAME_FIELD: &str = "holder_name";

/// `POST /v1/service-items`.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewItem {
    /// The item's code (1–64 ASCII letters, digits, `-`, `_`, `.`).
    pub code: String,
    /// Chinese name, e.g. 不动产转移登记.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// The departments that handle it (and so may use licenses for it).
    pub departments: Vec<String>,
}

/// Whether a use needs the holder's consent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConsentRule {
    /// The holder must give a consent code (the default for natural persons).
    Required,
    /// No consent needed (e.g. a legal person's public business license).
    NotRequired,
}

/// `POST /v1/service-items/{code}/uses`: a use list entry.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUse {
    /// The license type code.
    pub license_type: String,
    /// The field keys released: keys of the type's fields, or `holder_name`.
    pub fields: Vec<String>,
    /// Whether the holder's consent is needed.
    pub consent: ConsentRule,
    /// The legal basis (法律依据), as text.
    pub legal_basis: String,
    /// `false` withdraws the type from the item's use list (default `true`).
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

/// A use list entry as published.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct UseEntryView {
    /// Row id (recorded by the uses judged against it).
    pub id: String,
    /// The license type.
    pub license_type: String,
    /// The version (the highest is in force).
    pub version: i64,
    /// The field keys released.
    pub fields: Vec<String>,
    /// Whether consent is needed.
    pub consent: ConsentRule,
    /// The legal basis.
    pub legal_basis: String,
    /// Whether the entry allows use (a withdrawn type is `false`).
    pub active: bool,
    /// When this version was made (Unix seconds).
    pub created_at: i64,
}

/// A service item with its departments and use list in force.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ItemView {
    /// Its code.
    pub code: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// The departments that handle it.
    pub departments: Vec<String>,
    /// The use list in force.
    pub uses: Vec<UseEntryView>,
    /// When it was published (Unix seconds).
    pub created_at: i64,
}

impl UseEntryView {
    /// The view of a stored entry.
    pub fn of(row: &UseEntryRow) -> Result<Self, ActionError> {
        Ok(UseEntryView {
            id: row.id.clone(),
            license_type: row.type_code.clone(),
            version: row.version,
            fields: serde_json::from_str(&row.fields_json).map_err(ActionError::internal)?,
            consent: if row.consent_required == 1 {
                ConsentRule::Required
            } else {
                ConsentRule::NotRequired
            },
            legal_basis: row.legal_basis.clone(),
            active: row.active == 1,
            created_at: row.created_at,
        })
    }
}

fn admin_only(caller: &Principal, what: &str) -> Result<(), ActionError> {
    match caller {
        Principal::Admin => Ok(()),
        _ => Err(ActionError::Forbidden(format!(
            "only the platform operator {what}"
        ))),
    }
}

/// Publishes a service item (admin only).
pub async fn create_item(
    db: &Database,
    caller: &Principal,
    input: NewItem,
) -> Result<ItemView, ActionError> {
    admin_only(caller, "publishes service items")?;
    check_code("code", &input.code)?;
    check_text("name_zh", &input.name_zh, 100)?;
    check_text("name_en", &input.name_en, 200)?;
    if input.departments.is_empty() {
        return Err(ActionError::invalid(
            "departments",
            "name at least one department that handles the item",
        ));
    }
    let mut tx = db.begin().await?;
    for (i, id) in input.departments.iter().enumerate() {
        if store::departments::get(&mut tx, id).await?.is_none() {
            return Err(ActionError::invalid(
                &format!("departments[{i}]"),
                format!("no department {id}"),
            ));
        }
    }
    let mut departments = input.departments.clone();
    departments.sort();
    departments.dedup();
    let row = ItemRow {
        code: input.code,
        name_zh: input.name_zh.trim().to_string(),
        name_en: input.name_en.trim().to_string(),
        created_at: store::now_unix(),
    };
    match store::library::insert_item(&mut tx, &row, &departments).await {
        Err(store::StoreError::Duplicate(_)) => {
            return Err(ActionError::Conflict {
                code: "duplicate_service_item",
                message: format!("service item {} exists", row.code),
            });
        }
        other => other?,
    }
    log_item(&mut tx, &row, &departments).await?;
    tx.commit().await?;
    Ok(ItemView {
        code: row.code,
        name_zh: row.name_zh,
        name_en: row.name_en,
        departments,
        uses: Vec::new(),
        created_at: row.created_at,
    })
}

async fn log_item(
    conn: &mut Connection,
    row: &ItemRow,
    departments: &[String],
) -> Result<(), store::StoreError> {
    record(
        conn,
        Event {
            kind: EntryKind::ServiceItemCreated,
            subject_id: &row.code,
            department_uscc: None,
            artefact: row.code.as_bytes(),
            actor: "admin",
            details: &[("name", &row.name_zh)],
            record: Some((&records::SERVICE_ITEMS, None)),
        },
    )
    .await?;
    crate::transparency::record_department_links(
        conn,
        EntryKind::ServiceItemDepartmentAdded,
        &records::SERVICE_ITEM_DEPARTMENTS,
        "item",
        &row.code,
        departments,
    )
    .await
}

/// Adds a use list entry to an item, or replaces the one in force for the
/// same license type by a new version (admin only).
pub async fn add_use(
    db: &Database,
    caller: &Principal,
    item_code: &str,
    input: NewUse,
) -> Result<UseEntryView, ActionError> {
    admin_only(caller, "publishes use lists")?;
    check_text("legal_basis", &input.legal_basis, 1000)?;
    let mut tx = db.begin().await?;
    if store::library::get_item(&mut tx, item_code)
        .await?
        .is_none()
    {
        return Err(ActionError::NotFound(format!("service item {item_code}")));
    }
    let Some(license_type) = store::licenses::get_type(&mut tx, &input.license_type).await? else {
        return Err(ActionError::invalid(
            "license_type",
            format!("no license type {}", input.license_type),
        ));
    };
    let definition: Vec<crate::license::types::FieldDefinition> =
        serde_json::from_str(&license_type.fields_json).map_err(ActionError::internal)?;
    let mut fields = Vec::new();
    for (i, key) in input.fields.iter().enumerate() {
        if key != HOLDER_NAME_FIELD && !definition.iter().any(|f| &f.key == key) {
            return Err(ActionError::invalid(
                &format!("fields[{i}]"),
                format!(
                    "license type {} has no field {key:?} (its fields: {}, or {HOLDER_NAME_FIELD})",
                    input.license_type,
                    definition
                        .iter()
                        .map(|f| f.key.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        if !fields.contains(key) {
            fields.push(key.clone());
        }
    }
    let row = UseEntryRow {
        id: store::new_id(),
        item_code: item_code.to_string(),
        type_code: input.license_type.clone(),
        version: store::library::next_use_version(&mut tx, item_code, &input.license_type).await?,
        fields_json: serde_json::to_string(&fields).map_err(ActionError::internal)?,
        consent_required: i64::from(input.consent == ConsentRule::Required),
        legal_basis: input.legal_basis.trim().to_string(),
        active: i64::from(input.active),
        created_at: store::now_unix(),
    };
    match store::library::insert_use_entry(&mut tx, &row).await {
        Err(store::StoreError::Duplicate(_)) => {
            return Err(ActionError::Conflict {
                code: "concurrent_use_list_change",
                message: "another change of this use list entry was made at the same time; retry"
                    .into(),
            });
        }
        other => other?,
    }
    let version = row.version.to_string();
    record(
        &mut tx,
        Event {
            kind: EntryKind::UseListChanged,
            subject_id: &row.id,
            department_uscc: None,
            artefact: row.fields_json.as_bytes(),
            actor: "admin",
            details: &[
                ("item", item_code),
                ("type", &row.type_code),
                ("version", &version),
            ],
            record: Some((&records::USE_LIST_ENTRIES, None)),
        },
    )
    .await?;
    tx.commit().await?;
    UseEntryView::of(&row)
}

/// Every service item with its use list in force (any authenticated caller:
/// the use list is what departments and holders rely on).
pub async fn list_items(db: &Database) -> Result<Vec<ItemView>, ActionError> {
    let mut conn = db.pool.acquire().await?;
    let mut views = Vec::new();
    for item in store::library::list_items(&mut conn).await? {
        views.push(view(&mut conn, item).await?);
    }
    Ok(views)
}

/// One service item.
pub async fn get_item(db: &Database, code: &str) -> Result<ItemView, ActionError> {
    let mut conn = db.pool.acquire().await?;
    let item = store::library::get_item(&mut conn, code)
        .await?
        .ok_or_else(|| ActionError::NotFound(format!("service item {code}")))?;
    view(&mut conn, item).await
}

async fn view(conn: &mut Connection, item: ItemRow) -> Result<ItemView, ActionError> {
    let departments = store::library::item_departments(conn, &item.code).await?;
    let uses = store::library::use_list_in_force(conn, &item.code)
        .await?
        .iter()
        .map(UseEntryView::of)
        .collect::<Result<_, _>>()?;
    Ok(ItemView {
        code: item.code,
        name_zh: item.name_zh,
        name_en: item.name_en,
        departments,
        uses,
        created_at: item.created_at,
    })
}
