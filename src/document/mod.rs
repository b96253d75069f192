//! Chinese A4 documents rendered as PDF (ISO 32000-1:2008), laid out after
//! GB/T 9704-2012 (党政机关公文格式): the approval notice that govseal stamps,
//! and the toolkit (font subset, page builder, CJK line breaking) that the
//! license certificate is built on.
//!
//! The modules are pure: bytes in, bytes out, no I/O.

pub mod font;
pub mod layout;
pub mod notice;
pub mod page;
#[cfg(test)]
pub(crate) mod testing;

pub use font::{CjkFont, FontError, FontSubset};
pub use layout::{Line, wrap};
pub use notice::{ApprovalNotice, DocumentError, RenderedDocument, SealAnchor};
pub use page::{A4, Align, DocumentBuilder, Page, PageSize, Rgb, StencilMask, TextStyle, mm};
