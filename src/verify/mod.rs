//! The verification engine (验证): bytes and a trust bundle in, an
//! ETSI EN 319 102-1 validation report out. Pure — no database, no server,
//! no network — so the offline CLI, the HTTP API and the pages share it.
//!
//! - [`report`]: the report types (EN 319 102-1 §5.1.3).
//! - [`trust`]: the trust anchors, intermediates and CRLs of a bundle.
//! - [`verify_pdf`]: PAdES validation (ETSI EN 319 142-1) of every
//!   signature and document time-stamp of a PDF, with the changes made
//!   after each signature.
//! - [`logged`]: the offline proof that an artefact is on the transparency log.

mod chain;
mod changes;
mod document;
pub mod logged;
mod pdf;
pub mod report;
mod tokens;
pub mod trust;

pub use pdf::{MAX_DOCUMENT_BYTES, verify_pdf};
pub use report::{
    DocumentReport, Indication, Report, SignatureReport, Signer, SubIndication, TimestampReport,
};
pub use trust::{TrustError, TrustStore};
