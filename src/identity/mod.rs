//! Identifiers of the identity pillar (统一身份认证): who a department or a
//! citizen is, validated with the check characters their standards define.

mod resident_id;
mod uscc;

pub use resident_id::{ResidentId, ResidentIdError};
pub use uscc::{Uscc, UsccError};
