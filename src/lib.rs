//! govseal: the unified electronic seal (统一电子印章) and e-license (统一电子证照)
//! signing service, with its own PKI (统一身份认证).
#![forbid(unsafe_code)]

pub mod keystore;
