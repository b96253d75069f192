//! Errors of the PDF signing engine. Every variant caused by the caller's input
//! says what to fix: the HTTP layer shows these messages as 422 responses.

/// What went wrong while reading or extending a PDF.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PdfError {
    /// The bytes do not start with a `%PDF-` header (ISO 32000-1 §7.5.2).
    #[error("the file is not a PDF (no %PDF- header in its first 1024 bytes)")]
    NotPdf,
    /// The document is encrypted; signing it would need its password.
    #[error("the PDF is encrypted; remove the password protection before signing")]
    Encrypted,
    /// The document cannot be protected by a signature as it is: a later
    /// update could change what it shows without touching signed bytes.
    #[error("the PDF cannot be signed safely: {0}")]
    Unprotectable(String),
    /// The document exceeds a resource limit (see `pdf::limits`).
    #[error("the PDF is refused: {0}")]
    TooComplex(String),
    /// The document could not be parsed.
    #[error("the PDF cannot be read: {0}")]
    Malformed(String),
    /// The cross-reference data is broken, so an incremental update cannot
    /// point back at it (ISO 32000-1 §7.5.6).
    #[error(
        "the PDF's cross-reference table is damaged; repair the file (e.g. re-save it) before signing"
    )]
    DamagedXref,
    /// The requested page does not exist.
    #[error("page {page} does not exist: the document has {count} page(s), numbered from 1")]
    PageOutOfRange {
        /// Requested page (1-based).
        page: u32,
        /// Number of pages in the document.
        count: usize,
    },
    /// The rectangle is empty, inverted or not finite.
    #[error(
        "the signature rectangle {0:?} is invalid: it needs finite [x1 y1 x2 y2] with x1 < x2 and y1 < y2"
    )]
    InvalidRect([f32; 4]),
    /// The rectangle does not lie within the page's media box.
    #[error(
        "the signature rectangle {rect:?} lies outside page {page}, whose media box is {media_box:?}"
    )]
    RectOutsidePage {
        /// Requested rectangle.
        rect: [f32; 4],
        /// Page number (1-based).
        page: u32,
        /// The page's (possibly inherited) media box.
        media_box: [f32; 4],
    },
    /// The field name is empty or contains a period (ISO 32000-1 §12.7.3.2).
    #[error("the signature field name {0:?} is invalid: it must be non-empty and contain no '.'")]
    InvalidFieldName(String),
    /// A field with this name already exists.
    #[error("the document already has a form field named {0:?}; choose another field name")]
    FieldExists(String),
    /// The reserved space for the CMS is zero or unreasonably large.
    #[error("the signature capacity of {0} bytes is out of range (1 byte to 1 MiB)")]
    InvalidCapacity(usize),
    /// The CMS does not fit in the space reserved by `prepare`.
    #[error("the CMS signature is {needed} bytes but only {capacity} bytes were reserved")]
    SignatureTooLarge {
        /// Size of the CMS given to `finish`.
        needed: usize,
        /// Bytes reserved in `/Contents`.
        capacity: usize,
    },
    /// The appearance PDF is unusable.
    #[error("the appearance PDF is unusable: {0}")]
    Appearance(String),
    /// A required structure is missing or has the wrong type.
    #[error("the PDF structure is invalid: {0}")]
    Structure(&'static str),
}

impl From<lopdf::Error> for PdfError {
    fn from(err: lopdf::Error) -> Self {
        PdfError::Malformed(err.to_string())
    }
}
