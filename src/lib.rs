//! govseal: the unified electronic seal (统一电子印章) and e-license (统一电子证照)
//! signing service, with its own PKI (统一身份认证).
#![forbid(unsafe_code)]

pub mod access;
pub mod authority;
pub mod cli;
pub mod cms;
pub mod config;
pub mod cpu;
pub mod department;
pub mod document;
pub mod http;
pub mod identity;
pub mod keystore;
pub mod library;
pub mod license;
pub mod log;
pub(crate) mod memo;
pub mod outcome;
pub mod pades;
pub mod pdf;
pub mod pki;
pub mod seal;
pub mod server;
pub mod store;
pub mod timestamp;
pub mod transparency;
pub mod verify;
pub mod witness;
