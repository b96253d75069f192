//! The license pillar (统一电子证照): identifiers, license types, issuance,
//! the signed record and QR payload, and the status snapshot.

pub mod catalogue;
pub(crate) mod cbor;
pub mod certificate_pdf;
pub mod claims;
pub mod cose_headers;
pub mod forms;
pub mod identifier;
pub mod import;
pub mod issue;
pub mod issuers;
pub mod lifecycle;
pub mod qr;
pub mod record;
pub mod snapshot;
#[cfg(test)]
pub(crate) mod testkit;
pub mod types;
pub mod versions;
