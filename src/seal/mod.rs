//! Electronic seals (电子印章).

pub mod appearance;

pub use appearance::{AppearanceError, SealAppearance};
