//! API clients of a department: created with a secret shown once, revocable.

use serde::{Deserialize, Serialize};

use super::{check_name, rfc3339};
use crate::access::{self, Scope};
use crate::outcome::ActionError;
use crate::store::{self, Database, clients::ClientRow};

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
    if store::departments::get(&mut tx, department_id)
        .await?
        .is_none()
    {
        return Err(ActionError::NotFound(format!("department {department_id}")));
    }
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
    department_id: &str,
    client_id: &str,
) -> Result<ClientView, ActionError> {
    let mut tx = db.begin().await?;
    if store::clients::get(&mut tx, department_id, client_id)
        .await?
        .is_none()
    {
        return Err(ActionError::NotFound(format!(
            "client {client_id} of department {department_id}"
        )));
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
    tx.commit().await?;
    Ok(view(row))
}
