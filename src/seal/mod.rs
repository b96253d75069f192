//! The seal pillar (统一电子印章): seal records and their lifecycle, the seal's
//! appearance, and stamping PDFs.

pub mod registry;
