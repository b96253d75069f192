//! The error type of use cases: what went wrong in terms a caller can act on.
//! Adapters map it (HTTP: 422/404/409/403/500; CLI: a message and exit code).

/// Why a business action did not happen. Nothing was changed when it is returned.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    /// An input field is invalid.
    #[error("{field}: {message}")]
    Invalid {
        /// the field, as named in the request
        field: String,
        /// what is wrong with it
        message: String,
    },
    /// Something named in the request does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// The action conflicts with what exists (a duplicate, a wrong state).
    #[error("{message}")]
    Conflict {
        /// a stable code, e.g. `duplicate_uscc`
        code: &'static str,
        /// what conflicts
        message: String,
    },
    /// The caller may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The caller may not do this, for a reason with a stable code (e.g.
    /// `not_on_use_list`, `consent_required`).
    #[error("{message}")]
    Denied {
        /// a stable code
        code: &'static str,
        /// why
        message: String,
    },
    /// A fault of ours; details go to the log only.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ActionError {
    /// An [`ActionError::Invalid`].
    pub fn invalid(field: &str, message: impl std::fmt::Display) -> Self {
        ActionError::Invalid {
            field: field.into(),
            message: message.to_string(),
        }
    }

    /// Wraps any internal failure.
    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        ActionError::Internal(err.into())
    }
}

impl From<crate::store::StoreError> for ActionError {
    fn from(e: crate::store::StoreError) -> Self {
        ActionError::Internal(e.into())
    }
}

impl From<sqlx::Error> for ActionError {
    fn from(e: sqlx::Error) -> Self {
        ActionError::Internal(e.into())
    }
}

impl From<crate::authority::AuthorityError> for ActionError {
    fn from(e: crate::authority::AuthorityError) -> Self {
        ActionError::Internal(e.into())
    }
}
