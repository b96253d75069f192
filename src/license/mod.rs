//! The license pillar (统一电子证照): identifiers, license types, issuance,
//! the signed record and QR payload, and the status snapshot.

pub mod claims;
pub mod identifier;
pub mod qr;
pub mod record;
#[cfg(test)]
mod testkit;
