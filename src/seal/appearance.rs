//! The visible appearance of an electronic seal (电子印章印模): the red round
//! seal with the department's name along the upper arc, a five-pointed star in
//! the centre, the seal's name below the star and the seal code along the
//! lower arc.
//!
//! GB/T 38540-2020 §5.2 (SES_ESPictrueInfo) carries the seal picture with its
//! width and height in millimetres; this module draws that picture as vectors:
//! a one-page PDF whose page is exactly the seal's square (to import as the
//! appearance stream of a signature widget, ISO 32000-1:2008 §12.7.4.5) and an
//! equivalent SVG for previews. The font is embedded and subset (see
//! [`crate::document::font`]); the star is a path because the font has no ★.

mod geometry;
#[cfg(test)]
mod tests;

use std::fmt::Write;

use pdf_writer::Content;
use pdf_writer::types::TextRenderingMode;

use crate::document::font::{CjkFont, FontError, round4};
use crate::document::{DocumentBuilder, PageSize, Rgb};
use crate::memo::Memo;

use geometry::{SealDrawing, lay_out};

/// The usual diameter of an official seal, in millimetres.
pub const DEFAULT_DIAMETER_MM: f32 = 42.0;
/// The smallest diameter drawn, in millimetres.
pub const MIN_DIAMETER_MM: f32 = 30.0;
/// The largest diameter drawn, in millimetres.
pub const MAX_DIAMETER_MM: f32 = 50.0;
/// The longest department name, in characters.
pub const MAX_DEPARTMENT_CHARS: usize = 40;
/// The longest seal name, in characters (it is drawn on one horizontal line).
pub const MAX_SEAL_NAME_CHARS: usize = 24;
/// The longest seal code, in digits (the national seal code has 13).
pub const MAX_SEAL_CODE_DIGITS: usize = 20;

/// Why a seal appearance cannot be drawn.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppearanceError {
    /// A name is empty.
    #[error("{field} must not be empty")]
    Empty {
        /// The field's name.
        field: &'static str,
    },
    /// A name is too long to fit on the seal.
    #[error("{field} has {actual} characters, at most {max} fit on a seal")]
    TooLong {
        /// The field's name.
        field: &'static str,
        /// The limit.
        max: usize,
        /// The length given.
        actual: usize,
    },
    /// A name holds a character the seal font cannot draw.
    #[error("{field} contains the character {character:?} (U+{:04X}), which the seal font cannot draw", u32::from(*character))]
    UnsupportedCharacter {
        /// The field's name.
        field: &'static str,
        /// The character.
        character: char,
    },
    /// The seal code is not 1 to 20 ASCII digits.
    #[error("the seal code must be 1 to {MAX_SEAL_CODE_DIGITS} digits 0-9, got {0:?}")]
    InvalidSealCode(String),
    /// The diameter is outside 30..=50 mm.
    #[error(
        "the seal diameter must be between {MIN_DIAMETER_MM} and {MAX_DIAMETER_MM} mm, got {0}"
    )]
    Diameter(f32),
    /// The font could not be embedded (a build defect).
    #[error(transparent)]
    Font(FontError),
}

/// What a round seal shows; see the module documentation.
#[derive(Debug, Clone, PartialEq)]
pub struct SealAppearance {
    /// The department's name, along the upper arc (e.g. 福州市行政审批局).
    pub department_name: String,
    /// The seal's name, under the star (e.g. 行政审批专用章).
    pub seal_name: String,
    /// The seal code (印章编码), digits along the lower arc.
    pub seal_code: Option<String>,
    /// The diameter in millimetres, 30..=50 (usually 42).
    pub diameter_mm: f32,
}

/// The seal red, as SVG writes it (RGB 0.86 0.08 0.08).
const SVG_RED: &str = "#db1414";

impl SealAppearance {
    /// A 42 mm seal without a code.
    pub fn new(department_name: impl Into<String>, seal_name: impl Into<String>) -> Self {
        Self {
            department_name: department_name.into(),
            seal_name: seal_name.into(),
            seal_code: None,
            diameter_mm: DEFAULT_DIAMETER_MM,
        }
    }

    /// The side of the seal's square in points.
    pub fn size_points(&self) -> f32 {
        crate::document::mm(self.diameter_mm)
    }

    /// Checks the fields and lays the seal out.
    fn drawing(&self, font: &CjkFont) -> Result<SealDrawing, AppearanceError> {
        if !(MIN_DIAMETER_MM..=MAX_DIAMETER_MM).contains(&self.diameter_mm) {
            return Err(AppearanceError::Diameter(self.diameter_mm));
        }
        check_name(
            font,
            "department_name",
            &self.department_name,
            MAX_DEPARTMENT_CHARS,
        )?;
        check_name(font, "seal_name", &self.seal_name, MAX_SEAL_NAME_CHARS)?;
        if let Some(code) = &self.seal_code {
            let digits = code.chars().count();
            if digits == 0
                || digits > MAX_SEAL_CODE_DIGITS
                || !code.chars().all(|c| c.is_ascii_digit())
            {
                return Err(AppearanceError::InvalidSealCode(code.clone()));
            }
        }
        lay_out(self, font).map_err(|e| font_error("seal_name", e))
    }

    /// Draws the seal as a one-page PDF whose MediaBox is the seal's square,
    /// with a transparent background and the font embedded as a subset.
    ///
    /// The drawing depends only on the seal's texts and size, and every
    /// license a seal signs carries it: the last few hundred are kept, so a
    /// seal is drawn once per process rather than once per signature.
    pub fn to_pdf(&self) -> Result<Vec<u8>, AppearanceError> {
        type Key = (String, String, Option<String>, u32);
        static DRAWN: Memo<Key, Vec<u8>> = Memo::new(512);
        let key: Key = (
            self.department_name.clone(),
            self.seal_name.clone(),
            self.seal_code.clone(),
            self.diameter_mm.to_bits(),
        );
        DRAWN.get_or_try(key, || self.draw_pdf())
    }

    fn draw_pdf(&self) -> Result<Vec<u8>, AppearanceError> {
        let mut document = DocumentBuilder::new().map_err(AppearanceError::Font)?;
        let drawing = self.drawing(document.font())?;
        document.set_title(&format!(
            "{}{}",
            self.department_name.trim(),
            self.seal_name.trim()
        ));
        let mut page = document.add_page(PageSize {
            width: drawing.size,
            height: drawing.size,
        });
        page.set_fill_color(Rgb::SEAL_RED);
        page.set_stroke_color(Rgb::SEAL_RED);
        let centre = drawing.size / 2.0;
        circle(
            page.content(),
            centre,
            drawing.ring_radius,
            drawing.ring_width,
        );
        let content = page.content();
        for (index, &(x, y)) in drawing.star.iter().enumerate() {
            if index == 0 {
                content.move_to(round4(x), round4(y));
            } else {
                content.line_to(round4(x), round4(y));
            }
        }
        content.close_path().fill_nonzero();
        // Seal characters are heavier than the font's regular weight: stroke
        // their outlines too (§9.3.6, rendering mode 2).
        content
            .set_text_rendering_mode(TextRenderingMode::FillStroke)
            .set_line_width(round4(drawing.glyph_stroke));
        for glyph in &drawing.glyphs {
            page.text_with_matrix(glyph.matrix, &glyph.character.to_string())
                .map_err(|e| font_error("department_name", e))?;
        }
        document.finish().map_err(AppearanceError::Font)
    }

    /// Draws the same seal as a standalone SVG document (glyphs as outlines,
    /// so it renders identically without fonts), sized in millimetres.
    pub fn to_svg(&self) -> Result<String, AppearanceError> {
        let font = CjkFont::load().map_err(AppearanceError::Font)?;
        let drawing = self.drawing(&font)?;
        let size = round4(drawing.size);
        let diameter = round4(self.diameter_mm);
        let centre = round4(drawing.size / 2.0);
        let mut svg = String::new();
        // Writing to a String cannot fail, hence the ignored results.
        let _ = write!(
            svg,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{diameter}mm" height="{diameter}mm" viewBox="0 0 {size} {size}">"#
        );
        let _ = write!(
            svg,
            r#"<g transform="matrix(1 0 0 -1 0 {size})" fill="{SVG_RED}">"#
        );
        let _ = write!(
            svg,
            r#"<circle cx="{centre}" cy="{centre}" r="{}" fill="none" stroke="{SVG_RED}" stroke-width="{}"/>"#,
            round4(drawing.ring_radius),
            round4(drawing.ring_width)
        );
        svg.push_str(r#"<path d=""#);
        for (index, &(x, y)) in drawing.star.iter().enumerate() {
            let command = if index == 0 { 'M' } else { 'L' };
            let _ = write!(svg, "{command}{} {}", round4(x), round4(y));
        }
        svg.push_str(r#"Z"/>"#);
        for glyph in &drawing.glyphs {
            let outline = font
                .glyph(glyph.character)
                .map_err(|e| font_error("department_name", e))?;
            let [a, b, c, d, e, f] = glyph.matrix.map(round4);
            // The stroke is drawn inside the glyph's transform: express it in em.
            let em = glyph.matrix[2].hypot(glyph.matrix[3]).max(f32::EPSILON);
            let stroke = round4(drawing.glyph_stroke / em);
            let _ = write!(
                svg,
                r#"<path transform="matrix({a} {b} {c} {d} {e} {f})" stroke="{SVG_RED}" stroke-width="{stroke}" d="{}"/>"#,
                font.glyph_svg_path(outline)
            );
        }
        svg.push_str("</g></svg>\n");
        Ok(svg)
    }
}

fn check_name(
    font: &CjkFont,
    field: &'static str,
    value: &str,
    max: usize,
) -> Result<(), AppearanceError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(AppearanceError::Empty { field });
    }
    let actual = value.chars().count();
    if actual > max {
        return Err(AppearanceError::TooLong { field, max, actual });
    }
    font.check_text(value).map_err(|e| font_error(field, e))
}

fn font_error(field: &'static str, error: FontError) -> AppearanceError {
    match error {
        FontError::MissingGlyph { character } => {
            AppearanceError::UnsupportedCharacter { field, character }
        }
        other => AppearanceError::Font(other),
    }
}

/// Strokes a circle as four Bézier quarter arcs (κ = 0.5523, ISO 32000-1 §8.5.2.2).
fn circle(content: &mut Content, centre: f32, radius: f32, width: f32) {
    let k = 0.552_284_8 * radius;
    let (c, r) = (centre, radius);
    content
        .set_line_width(round4(width))
        .move_to(round4(c + r), round4(c))
        .cubic_to(
            round4(c + r),
            round4(c + k),
            round4(c + k),
            round4(c + r),
            round4(c),
            round4(c + r),
        )
        .cubic_to(
            round4(c - k),
            round4(c + r),
            round4(c - r),
            round4(c + k),
            round4(c - r),
            round4(c),
        )
        .cubic_to(
            round4(c - r),
            round4(c - k),
            round4(c - k),
            round4(c - r),
            round4(c),
            round4(c - r),
        )
        .cubic_to(
            round4(c + k),
            round4(c - r),
            round4(c + r),
            round4(c - k),
            round4(c + r),
            round4(c),
        )
        .close_path()
        .stroke();
}
