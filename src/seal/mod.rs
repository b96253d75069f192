//! The seal pillar (统一电子印章): seal records and their lifecycle
//! ([`registry`]), the seal's appearance ([`appearance`]), and stamping PDFs.

pub mod appearance;
pub mod registry;
pub mod stamping;

pub use appearance::{AppearanceError, SealAppearance};
pub use registry::suspend_department_seals;
