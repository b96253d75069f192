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
//! - [`verify_license_record`], [`verify_license_text`]: a license's signed
//!   record or QR text (RFC 9052 COSE_Sign1) with the status snapshot.
//! - [`photo`]: the license QR text read from a PNG or JPEG photo.

mod chain;
mod changes;
mod document;
mod freshness;
mod input;
pub mod issuers;
mod license;
mod license_input;
pub mod license_report;
mod license_signer;
mod license_summary;
pub mod logged;
mod memo;
mod pdf;
pub mod photo;
pub mod report;
mod seal_index;
pub mod status;
mod tokens;
pub mod trust;

pub use freshness::revocation_data;
pub use input::{InputKind, input_kind, qr_text_from_photo, verify_bytes, verify_photo};
pub use license::{LicenseOptions, verify_license_record, verify_license_text};
pub use license_input::record_from_text;
pub use license_report::{LicenseReport, LicenseStatus, RevocationData};
pub use memo::SignatureMemo;
pub use pdf::{MAX_DOCUMENT_BYTES, MAX_REPARSED_BYTES, MAX_REVISIONS, MAX_SIGNATURES, verify_pdf};
pub use report::{
    DocumentReport, Indication, ModificationLevel, Report, SignatureReport, Signer, SubIndication,
    TimestampReport,
};
pub use status::{LicenseStatusSnapshot, SnapshotState};
pub use trust::{TrustError, TrustStore};
