//! The PDF signing engine: PAdES signatures added as incremental updates.
//!
//! Implements the parts of ISO 32000-1 that a signer needs — incremental
//! updates (§7.5.6), signature fields and widgets (§12.7.4.5), signature
//! dictionaries with `/ByteRange` and `/Contents` (§12.8.1) — with the PAdES
//! baseline profile of ETSI EN 319 142-1: `/SubFilter /ETSI.CAdES.detached`
//! signatures (§5.3), document time-stamps with `/SubFilter /ETSI.RFC3161`
//! (§5.4.3, B-LTA) and the document security store `/DSS` (§5.4.2, B-LT).
//!
//! The module is pure: bytes in, bytes out. It never builds the CMS itself;
//! the caller signs [`PreparedSignature::digest`] and hands the CMS to
//! [`PreparedSignature::finish`]:
//!
//! ```text
//! let prepared = pdf::prepare(&input, &request)?;
//! let cms = cms::sign_detached(prepared.digest(), signer, cert, chain)?;
//! let signed = prepared.finish(&cms)?;
//! ```
//!
//! Earlier bytes are never rewritten, so earlier signatures stay valid.

mod appearance;
mod dss;
mod error;
pub(crate) mod flate;
pub(crate) mod graph;
mod inspect;
pub mod limits;
mod serialize;
mod signature;
mod update;

pub use dss::append_dss;
pub(crate) use dss::append_dss_continuing;
pub use error::PdfError;
pub use inspect::{
    FieldLock, SignatureInfo, UnreadableSignature, inspect_fields, signature_entries, signatures,
    signatures_in,
};
pub use limits::Budget;
pub use signature::{PreparedSignature, SignatureKind, SignatureRequest, prepare};
pub(crate) use update::load_within;
