//! Holders' one-time consent codes (用证码): the holder allows one use of
//! their licenses of the named types, for one service item (and optionally
//! one department), within minutes. A code is 60 random bits, shown as
//! `XXXX-XXXX-XXXX` in Crockford's base32 and as a QR code; only its SHA-256
//! is stored, so the database cannot replay it. It is used at most once
//! (the use consumes it in a conditional update), expires, and can be revoked
//! while unused. Created by a holder-facing app client (scope
//! `consents:create`) that authenticated the holder itself; the consent
//! records which client (or, with the identity pillar, which holder session).

use serde::{Deserialize, Serialize};

use super::{HolderRef, check_code};
use crate::access::{Principal, Scope};
use crate::keystore::KeyStore;
use crate::log::EntryKind;
use crate::outcome::ActionError;
use crate::store::library::ConsentRow;
use crate::store::{self, Connection, Database};
use crate::transparency::{Event, record, records};

/// Default lifetime of a code.
pub const DEFAULT_TTL_SECONDS: i64 = 600;
/// Longest lifetime a code may be given (30 minutes).
pub const MAX_TTL_SECONDS: i64 = 1800;
/// Shortest lifetime a code may be given.
pub const MIN_TTL_SECONDS: i64 = 1;

/// Crockford's base32 alphabet (no I, L, O, U: read aloud without doubt).
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// `POST /v1/consents`.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewConsent {
    /// The holder who consents.
    pub holder: HolderRef,
    /// The service item the use is for.
    pub service_item: String,
    /// The license types that may be released (each on the item's use list).
    pub license_types: Vec<String>,
    /// The one department that may use it; any handler of the item if absent.
    #[serde(default)]
    pub department_id: Option<String>,
    /// Lifetime in seconds (1–1800, default 600).
    #[serde(default)]
    pub ttl_seconds: Option<i64>,
}

/// A created consent code.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedConsent {
    /// The consent's id (to revoke it).
    pub id: String,
    /// The code the holder hands over, `XXXX-XXXX-XXXX`.
    pub code: String,
    /// The code as a QR code (SVG).
    pub qr_svg: String,
    /// Expiry (Unix seconds).
    pub expires_at: i64,
}

/// A consent as its creator sees it (never the code).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ConsentView {
    /// Its id.
    pub id: String,
    /// The service item.
    pub service_item: String,
    /// The one department it is for, if any.
    pub department_id: Option<String>,
    /// The license types it covers.
    pub license_types: Vec<String>,
    /// `active`, `used`, `revoked` or `expired`.
    pub state: String,
    /// Expiry (Unix seconds).
    pub expires_at: i64,
    /// The use that consumed it.
    pub used_by: Option<String>,
}

impl ConsentView {
    /// The view of a stored consent at `now`.
    pub fn of(row: &ConsentRow, now: i64) -> Result<Self, ActionError> {
        let state = if row.used_at.is_some() {
            "used"
        } else if row.revoked_at.is_some() {
            "revoked"
        } else if row.expires_at <= now {
            "expired"
        } else {
            "active"
        };
        Ok(ConsentView {
            id: row.id.clone(),
            service_item: row.item_code.clone(),
            department_id: row.department_id.clone(),
            license_types: serde_json::from_str(&row.license_types)
                .map_err(ActionError::internal)?,
            state: state.into(),
            expires_at: row.expires_at,
            used_by: row.used_by.clone(),
        })
    }
}

/// The stored hash of a code as typed: case and separators do not matter.
pub fn code_sha256(code: &str) -> String {
    let normal: String = code
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    hex::encode(crate::transparency::sha256(normal.as_bytes()))
}

/// A fresh random code, `XXXX-XXXX-XXXX`.
fn new_code() -> Result<String, ActionError> {
    use ring::rand::SecureRandom as _;
    let mut bytes = [0u8; 12];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| ActionError::internal(anyhow::anyhow!("no randomness")))?;
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(b & 31)]))
        .collect();
    Ok(format!(
        "{}-{}-{}",
        chars[..4].iter().collect::<String>(),
        chars[4..8].iter().collect::<String>(),
        chars[8..].iter().collect::<String>()
    ))
}

fn consent_creator(caller: &Principal) -> Result<String, ActionError> {
    match caller {
        Principal::Client { scopes, .. } if scopes.contains(&Scope::ConsentsCreate) => {
            Ok(caller.actor())
        }
        _ => Err(ActionError::Forbidden(
            "consent codes are created by the holder, through a client with scope consents:create"
                .into(),
        )),
    }
}

/// Creates a consent code.
pub async fn create(
    db: &Database,
    keys: &KeyStore,
    caller: &Principal,
    input: NewConsent,
) -> Result<CreatedConsent, ActionError> {
    let created_by = consent_creator(caller)?;
    input.holder.validate()?;
    check_code("service_item", &input.service_item)?;
    let ttl = input.ttl_seconds.unwrap_or(DEFAULT_TTL_SECONDS);
    if !(MIN_TTL_SECONDS..=MAX_TTL_SECONDS).contains(&ttl) {
        return Err(ActionError::invalid(
            "ttl_seconds",
            format!("must be between {MIN_TTL_SECONDS} and {MAX_TTL_SECONDS} seconds"),
        ));
    }
    if input.license_types.is_empty() {
        return Err(ActionError::invalid(
            "license_types",
            "name at least one license type",
        ));
    }
    let mut tx = db.begin().await?;
    if store::library::get_item(&mut tx, &input.service_item)
        .await?
        .is_none()
    {
        return Err(ActionError::invalid(
            "service_item",
            format!("no service item {}", input.service_item),
        ));
    }
    let listed = store::library::use_list_in_force(&mut tx, &input.service_item).await?;
    for (i, code) in input.license_types.iter().enumerate() {
        if !listed.iter().any(|e| &e.type_code == code) {
            return Err(ActionError::invalid(
                &format!("license_types[{i}]"),
                format!(
                    "license type {code} is not on the use list of {}",
                    input.service_item
                ),
            ));
        }
    }
    if let Some(department) = &input.department_id {
        let handlers = store::library::item_departments(&mut tx, &input.service_item).await?;
        if !handlers.contains(department) {
            return Err(ActionError::invalid(
                "department_id",
                format!(
                    "department {department} does not handle {}",
                    input.service_item
                ),
            ));
        }
    }
    let mut types = input.license_types.clone();
    types.sort();
    types.dedup();
    let code = new_code()?;
    let now = store::now_unix();
    let row = ConsentRow {
        id: store::new_id(),
        code_sha256: code_sha256(&code),
        holder_id_type: input.holder.id_type.as_str().into(),
        holder_id: input.holder.id.clone(),
        item_code: input.service_item.clone(),
        department_id: input.department_id.clone(),
        license_types: serde_json::to_string(&types).map_err(ActionError::internal)?,
        created_by,
        created_at: now,
        expires_at: now + ttl,
        used_at: None,
        used_by: None,
        revoked_at: None,
    };
    store::library::insert_consent(&mut tx, &row).await?;
    log_consent(
        &mut tx,
        keys,
        &row.id,
        EntryKind::ConsentCreated,
        "created",
        &caller.actor(),
    )
    .await?;
    tx.commit().await?;
    let qr_svg = crate::license::qr::qr_svg(&code).map_err(ActionError::internal)?;
    Ok(CreatedConsent {
        id: row.id,
        code,
        qr_svg,
        expires_at: row.expires_at,
    })
}

/// Logs a consent's row as it stands now.
pub(super) async fn log_consent(
    conn: &mut Connection,
    keys: &KeyStore,
    id: &str,
    kind: EntryKind,
    change: &str,
    actor: &str,
) -> Result<(), store::StoreError> {
    record(
        conn,
        Event {
            kind,
            subject_id: id,
            department_uscc: None,
            artefact: format!("{id}|{change}").as_bytes(),
            actor,
            details: &[("change", change)],
            record: Some((&records::CONSENTS, keys.commitment_key().as_deref())),
        },
    )
    .await?;
    Ok(())
}

/// Revokes an unused consent (its creator, or the platform operator).
pub async fn revoke(
    db: &Database,
    keys: &KeyStore,
    caller: &Principal,
    id: &str,
) -> Result<ConsentView, ActionError> {
    let mut tx = db.begin().await?;
    let row = store::library::get_consent(&mut tx, id)
        .await?
        .filter(|row| matches!(caller, Principal::Admin) || row.created_by == caller.actor())
        .ok_or_else(|| ActionError::NotFound(format!("consent {id}")))?;
    let now = store::now_unix();
    if !store::library::revoke_consent(&mut tx, &row.id, now).await? {
        return Err(ActionError::Conflict {
            code: "consent_used_or_revoked",
            message: "the consent was already used or revoked".into(),
        });
    }
    log_consent(
        &mut tx,
        keys,
        &row.id,
        EntryKind::ConsentChanged,
        "revoked",
        &caller.actor(),
    )
    .await?;
    let row = store::library::get_consent(&mut tx, id)
        .await?
        .ok_or_else(|| ActionError::internal(anyhow::anyhow!("consent vanished")))?;
    tx.commit().await?;
    ConsentView::of(&row, now)
}
