//! API clients of a department: created with a secret shown once, revocable.

use serde::{Deserialize, Serialize};

use super::{check_name, rfc3339};
use crate::access::{self, Scope};
use crate::keystore::KeyStore;
use crate::log::EntryKind;
use crate::outcome::ActionError;
use crate::store::{
    self, Connection, Database, StoreError, clients::ClientRow, departments::DepartmentRow,
};

/// A request to create an API client.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewClient {
    /// A name for people, e.g. "审批系统".
    pub name: String,
    /// What it may do: `seals:manage`, `stamp`, `licenses:issue`, `licenses:manage`.
    pub scopes: Vec<String>,
}

/// A client as listed.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ClientView {
    /// Client id.
    pub id: String,
    /// Its department.
    pub department_id: String,
    /// Name.
    pub name: String,
    /// Scopes.
    pub scopes: Vec<String>,
    /// Creation time, RFC 3339.
    pub created_at: String,
    /// Revocation time, if revoked.
    pub revoked_at: Option<String>,
}

/// A new client with its secret token, which is shown only this once.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ClientCreated {
    /// The client.
    #[serde(flatten)]
    pub client: ClientView,
    /// The secret bearer token. Store it now: only its hash is kept.
    pub token: String,
}

fn view(c: ClientRow) -> ClientView {
    ClientView {
        id: c.id,
        department_id: c.department_id,
        name: c.name,
        scopes: c.scopes.split_whitespace().map(str::to_string).collect(),
        created_at: rfc3339(c.created_at),
        revoked_at: c.revoked_at.map(rfc3339),
    }
}

/// Creates an API client for a department.
pub async fn create_client(
    db: &Database,
    keys: &KeyStore,
    department_id: &str,
    input: NewClient,
) -> Result<ClientCreated, ActionError> {
    let name = check_name("name", &input.name, 100)?;
    if input.scopes.is_empty() {
        return Err(ActionError::invalid(
            "scopes",
            "at least one scope is needed",
        ));
    }
    let mut scopes = Vec::new();
    for s in &input.scopes {
        let scope: Scope = s.parse().map_err(|e| {
            let known: Vec<_> = Scope::ALL.iter().map(|s| s.as_str()).collect();
            ActionError::invalid("scopes", format!("{e}; known scopes: {}", known.join(", ")))
        })?;
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    let token =
        access::new_token().map_err(|_| ActionError::internal(anyhow::anyhow!("no randomness")))?;
    let mut tx = db.begin().await?;
    let Some(department) = store::departments::get(&mut tx, department_id).await? else {
        return Err(ActionError::NotFound(format!("department {department_id}")));
    };
    let row = ClientRow {
        id: store::new_id(),
        department_id: department_id.to_string(),
        name,
        scopes: scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        created_at: store::now_unix(),
        revoked_at: None,
    };
    store::clients::insert(&mut tx, &row, &access::token_hash(&token)).await?;
    log_client(&mut tx, keys, EntryKind::ClientCreated, &row, &department).await?;
    tx.commit().await?;
    Ok(ClientCreated {
        client: view(row),
        token,
    })
}

/// Lists a department's clients.
pub async fn list_clients(
    db: &Database,
    department_id: &str,
) -> Result<Vec<ClientView>, ActionError> {
    let mut conn = db.pool.acquire().await?;
    if store::departments::get(&mut conn, department_id)
        .await?
        .is_none()
    {
        return Err(ActionError::NotFound(format!("department {department_id}")));
    }
    Ok(store::clients::list(&mut conn, department_id)
        .await?
        .into_iter()
        .map(view)
        .collect())
}

/// Revokes a client: its token stops working at once.
pub async fn revoke_client(
    db: &Database,
    keys: &KeyStore,
    department_id: &str,
    client_id: &str,
) -> Result<ClientView, ActionError> {
    let mut tx = db.begin().await?;
    let not_found =
        || ActionError::NotFound(format!("client {client_id} of department {department_id}"));
    let department = store::departments::get(&mut tx, department_id)
        .await?
        .ok_or_else(not_found)?;
    if store::clients::get(&mut tx, department_id, client_id)
        .await?
        .is_none()
    {
        return Err(not_found());
    }
    if !store::clients::revoke(&mut tx, client_id, store::now_unix()).await? {
        return Err(ActionError::Conflict {
            code: "already_revoked",
            message: "the client is already revoked".into(),
        });
    }
    let row = store::clients::get(&mut tx, department_id, client_id)
        .await?
        .ok_or_else(|| ActionError::NotFound(format!("client {client_id}")))?;
    log_client(&mut tx, keys, EntryKind::ClientRevoked, &row, &department).await?;
    tx.commit().await?;
    Ok(view(row))
}

/// Revokes every active client of a department (its certificate was
/// revoked), logging each; in the caller's transaction.
pub(super) async fn revoke_department_clients(
    conn: &mut Connection,
    keys: &KeyStore,
    department: &DepartmentRow,
) -> Result<(), StoreError> {
    let at = store::now_unix();
    for client in store::clients::list(conn, &department.id).await? {
        if client.revoked_at.is_none() && store::clients::revoke(conn, &client.id, at).await? {
            let row = ClientRow {
                revoked_at: Some(at),
                ..client
            };
            log_client(conn, keys, EntryKind::ClientRevoked, &row, department).await?;
        }
    }
    Ok(())
}

/// Logs a client row as it now stands (a version-2 entry; its token hash
/// only as a commitment).
async fn log_client(
    conn: &mut Connection,
    keys: &KeyStore,
    kind: EntryKind,
    row: &ClientRow,
    department: &DepartmentRow,
) -> Result<(), StoreError> {
    crate::transparency::record(
        conn,
        crate::transparency::Event {
            kind,
            subject_id: &row.id,
            department_uscc: Some(&department.uscc),
            artefact: row.scopes.as_bytes(),
            actor: "admin",
            details: &[("scopes", &row.scopes)],
            record: Some((
                &crate::transparency::records::API_CLIENTS,
                keys.commitment_key().as_deref(),
            )),
        },
    )
    .await?;
    Ok(())
}
