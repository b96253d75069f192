//! The approval notice (行政许可决定书 and similar decisions), laid out after
//! GB/T 9704-2012 (党政机关公文格式):
//!
//! - §5.2.1/§5.2.2: A4, top margin 37 mm, left margin 28 mm, text block
//!   156 × 225 mm; body in 三号 (16 pt), 22 lines of 28 characters a page;
//! - §7.3.1: the title in 二号 (22 pt), centred;
//! - §7.3.2/§7.3.3: addressee flush left, paragraphs indented two characters;
//! - §7.3.5.1: the issuer's name centred over the date, the date written in full
//!   (2026年11月23日) four characters from the right edge, and the seal
//!   "上不压正文、下压成文日期": its top within one line below the body, the
//!   issuer's name and date in its lower half;
//! - §7.5: page numbers "— 1 —" 7 mm below the text block, right on odd pages
//!   and left on even pages.

#[cfg(test)]
mod tests;

use time::Date;

use super::font::FontError;
use super::layout::{Line, wrap};
use super::page::{A4, Align, DocumentBuilder, TextStyle, mm};

/// Body size, 三号.
const BODY_SIZE: f32 = 16.0;
/// Title size, 二号.
const TITLE_SIZE: f32 = 22.0;
/// Page number size, 四号.
const FOLIO_SIZE: f32 = 14.0;
/// Lines per page (§5.2.2).
const LINES_PER_PAGE: usize = 22;
/// Characters per line (§5.2.2).
const CHARS_PER_LINE: f32 = 28.0;
/// The seal diameter planned for when placing the signature block: 42 mm, the
/// usual size of an official seal.
const PLANNED_SEAL_RADIUS_MM: f32 = 21.0;

const MAX_TITLE_CHARS: usize = 60;
const MAX_NUMBER_CHARS: usize = 40;
const MAX_ADDRESSEE_CHARS: usize = 200;
const MAX_ISSUER_CHARS: usize = 40;
const MAX_PARAGRAPHS: usize = 500;
const MAX_BODY_CHARS: usize = 20_000;

/// Why a notice cannot be rendered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DocumentError {
    /// A required field is empty.
    #[error("{field} must not be empty")]
    Empty {
        /// The field's name.
        field: &'static str,
    },
    /// A field is longer than allowed.
    #[error("{field} has {actual} characters, at most {max} are allowed")]
    TooLong {
        /// The field's name.
        field: &'static str,
        /// The limit.
        max: usize,
        /// The length given.
        actual: usize,
    },
    /// More paragraphs than allowed.
    #[error("the body has {actual} paragraphs, at most {max} are allowed")]
    TooManyParagraphs {
        /// The limit.
        max: usize,
        /// The number given.
        actual: usize,
    },
    /// A field holds a character the embedded font cannot draw.
    #[error("{field} contains the character {character:?} (U+{:04X}), which the font cannot draw", u32::from(*character))]
    UnsupportedCharacter {
        /// The field's name.
        field: &'static str,
        /// The character.
        character: char,
    },
    /// The font could not be embedded (a build defect).
    #[error(transparent)]
    Font(FontError),
}

/// An approval notice to render; see the module documentation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalNotice {
    /// The title, e.g. 行政许可决定书.
    pub title: String,
    /// The document number (发文字号), e.g. 榕审批〔2026〕123号.
    pub document_number: String,
    /// The addressee (主送机关 or the applicant); a final "：" is added if missing.
    pub addressee: String,
    /// The body paragraphs, without indentation.
    pub paragraphs: Vec<String>,
    /// The issuing department's name (发文机关署名).
    pub issuer_name: String,
    /// The date of the decision (成文日期).
    pub date: Date,
}

/// A rendered document and where its seal belongs.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderedDocument {
    /// The PDF file.
    pub pdf: Vec<u8>,
    /// Where the centre of the seal goes.
    pub seal_anchor: SealAnchor,
}

/// The point where a seal's centre should be placed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SealAnchor {
    /// The page, counted from 1.
    pub page: u32,
    /// Points from the page's left edge.
    pub x: f32,
    /// Points from the page's bottom edge.
    pub y: f32,
}

/// What occupies one line slot of the text block.
enum Row {
    Title(Line),
    Number(String),
    Addressee(Line),
    Body(Line),
    Blank,
    PageBreak,
}

/// Formats a date as 成文日期 (§7.3.5.1): full year, no leading zeros.
pub fn chinese_date(date: Date) -> String {
    format!(
        "{}年{}月{}日",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

impl ApprovalNotice {
    /// Renders the notice as an A4 PDF.
    pub fn render(&self) -> Result<RenderedDocument, DocumentError> {
        self.validate()?;
        let mut document = DocumentBuilder::new().map_err(DocumentError::Font)?;
        document.set_title(&self.title);
        let body = TextStyle {
            size: BODY_SIZE,
            letter_spacing: (mm(156.0) - CHARS_PER_LINE * BODY_SIZE) / (CHARS_PER_LINE - 1.0),
        };
        let width = mm(156.0);
        let font = document.font();
        let font_err = |field| move |e| font_error(field, e);

        let mut rows = Vec::new();
        for line in wrap(
            font,
            &self.title,
            TextStyle::new(TITLE_SIZE),
            width - 2.0 * BODY_SIZE,
            0.0,
        )
        .map_err(font_err("title"))?
        {
            rows.push(Row::Title(line));
        }
        rows.push(Row::Number(self.document_number.clone()));
        rows.push(Row::Blank);
        let mut addressee = self.addressee.trim_end().to_owned();
        if !addressee.ends_with('：') && !addressee.ends_with(':') {
            addressee.push('：');
        }
        for line in wrap(font, &addressee, body, width, 0.0).map_err(font_err("addressee"))? {
            rows.push(Row::Addressee(line));
        }
        for paragraph in &self.paragraphs {
            let indent = 2.0 * (BODY_SIZE + body.letter_spacing);
            for line in
                wrap(font, paragraph.trim(), body, width, indent).map_err(font_err("paragraphs"))?
            {
                rows.push(Row::Body(line));
            }
        }
        let slots = paginate(&mut rows);

        // Place rows.
        let left = mm(28.0);
        let top = A4.height - mm(37.0);
        let pitch = mm(225.0) / LINES_PER_PAGE as f32;
        let baseline =
            |slot: usize| top - (slot as f32 + 1.0) * pitch + (pitch - BODY_SIZE) / 2.0 + 2.0;
        let mut page_index = None;
        let mut last = (0usize, 0usize);
        for (row, &(page, slot)) in rows.iter().zip(&slots) {
            while page_index != Some(page) {
                document.add_page(A4);
                page_index = Some(document.page_count() - 1);
            }
            let Some(mut canvas) = document.page(page) else {
                continue;
            };
            let y = baseline(slot);
            match row {
                Row::Title(line) => {
                    canvas
                        .text(
                            left + width / 2.0,
                            y,
                            Align::Center,
                            TextStyle::new(TITLE_SIZE),
                            &line.text,
                        )
                        .map_err(font_err("title"))?;
                }
                Row::Number(number) => {
                    canvas
                        .text(left + width, y, Align::Right, body, number)
                        .map_err(font_err("document_number"))?;
                }
                Row::Addressee(line) | Row::Body(line) => {
                    let justify = (!line.last_of_paragraph).then_some(width - line.indent);
                    canvas
                        .line_of_text(left, y, body, line, justify)
                        .map_err(font_err("paragraphs"))?;
                    last = (page, slot);
                }
                Row::Blank | Row::PageBreak => {}
            }
        }

        // Signature block (§7.3.5.1).
        let (page, slot) = last;
        let Some(mut canvas) = document.page(page) else {
            return Err(DocumentError::Empty {
                field: "paragraphs",
            });
        };
        let date = chinese_date(self.date);
        let date_width = canvas
            .font()
            .text_width(&date, BODY_SIZE, body.letter_spacing)
            .map_err(font_err("date"))?;
        let issuer_width = canvas
            .font()
            .text_width(&self.issuer_name, BODY_SIZE, body.letter_spacing)
            .map_err(font_err("issuer_name"))?;
        let char_pitch = BODY_SIZE + body.letter_spacing;
        let axis = if issuer_width <= date_width {
            left + width - 4.0 * char_pitch - date_width / 2.0
        } else {
            left + width - 2.0 * char_pitch - issuer_width / 2.0
        };
        canvas
            .text(
                axis,
                baseline(slot + 3),
                Align::Center,
                body,
                &self.issuer_name,
            )
            .map_err(font_err("issuer_name"))?;
        canvas
            .text(axis, baseline(slot + 4), Align::Center, body, &date)
            .map_err(font_err("date"))?;
        // The seal's top sits just under the last body line.
        let seal_y = baseline(slot) - 6.0 - mm(PLANNED_SEAL_RADIUS_MM);

        // Page numbers (§7.5): "— 1 —", the dashes drawn as rules because
        // the font has no em dash.
        let pages = document.page_count();
        for index in 0..pages {
            let Some(mut canvas) = document.page(index) else {
                continue;
            };
            let number = (index + 1).to_string();
            let style = TextStyle::new(FOLIO_SIZE);
            let number_width = canvas
                .font()
                .text_width(&number, FOLIO_SIZE, 0.0)
                .map_err(font_err("page number"))?;
            let (dash, space) = (FOLIO_SIZE, FOLIO_SIZE / 4.0);
            let total = 2.0 * (dash + space) + number_width;
            let start = if index % 2 == 0 {
                left + width - FOLIO_SIZE - total
            } else {
                left + FOLIO_SIZE
            };
            let y = top - mm(225.0) - mm(7.0) - FOLIO_SIZE * 0.8;
            let rule_y = y + FOLIO_SIZE * 0.3;
            canvas.line((start, rule_y), (start + dash, rule_y), 0.8);
            let after = start + dash + space + number_width + space;
            canvas.line((after, rule_y), (after + dash, rule_y), 0.8);
            canvas
                .text(start + dash + space, y, Align::Left, style, &number)
                .map_err(font_err("page number"))?;
        }

        let pdf = document.finish().map_err(DocumentError::Font)?;
        Ok(RenderedDocument {
            pdf,
            seal_anchor: SealAnchor {
                page: u32::try_from(page + 1).unwrap_or(u32::MAX),
                x: axis,
                y: seal_y,
            },
        })
    }

    fn validate(&self) -> Result<(), DocumentError> {
        let font = super::font::CjkFont::load().map_err(DocumentError::Font)?;
        let fields: [(&'static str, &str, usize); 4] = [
            ("title", &self.title, MAX_TITLE_CHARS),
            ("document_number", &self.document_number, MAX_NUMBER_CHARS),
            ("addressee", &self.addressee, MAX_ADDRESSEE_CHARS),
            ("issuer_name", &self.issuer_name, MAX_ISSUER_CHARS),
        ];
        for (field, value, max) in fields {
            check_field(&font, field, value, max)?;
        }
        if self.paragraphs.is_empty() {
            return Err(DocumentError::Empty {
                field: "paragraphs",
            });
        }
        if self.paragraphs.len() > MAX_PARAGRAPHS {
            return Err(DocumentError::TooManyParagraphs {
                max: MAX_PARAGRAPHS,
                actual: self.paragraphs.len(),
            });
        }
        let total: usize = self.paragraphs.iter().map(|p| p.chars().count()).sum();
        if total > MAX_BODY_CHARS {
            return Err(DocumentError::TooLong {
                field: "paragraphs",
                max: MAX_BODY_CHARS,
                actual: total,
            });
        }
        for paragraph in &self.paragraphs {
            check_field(&font, "paragraphs", paragraph, MAX_BODY_CHARS)?;
        }
        Ok(())
    }
}

fn check_field(
    font: &super::font::CjkFont,
    field: &'static str,
    value: &str,
    max: usize,
) -> Result<(), DocumentError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(DocumentError::Empty { field });
    }
    let actual = value.chars().count();
    if actual > max {
        return Err(DocumentError::TooLong { field, max, actual });
    }
    font.check_text(value).map_err(|e| font_error(field, e))
}

fn font_error(field: &'static str, error: FontError) -> DocumentError {
    match error {
        FontError::MissingGlyph { character } => {
            DocumentError::UnsupportedCharacter { field, character }
        }
        other => DocumentError::Font(other),
    }
}

/// The last body line may sit no lower than this slot, so that two blank
/// lines, the issuer's name and the date fit below it on the same page.
const LAST_BODY_SLOT: usize = LINES_PER_PAGE - 5;

/// Assigns each row a (page, slot); if the signature block would not fit
/// under the last body line, the last two lines move to a new page so the
/// seal never stands on a page without text.
fn paginate(rows: &mut Vec<Row>) -> Vec<(usize, usize)> {
    let assign = |rows: &[Row]| {
        let (mut page, mut slot) = (0usize, 0usize);
        let mut slots = Vec::with_capacity(rows.len());
        for row in rows {
            if slot == LINES_PER_PAGE || matches!(row, Row::PageBreak) && slot > 0 {
                page += 1;
                slot = 0;
            }
            slots.push((page, slot));
            if !matches!(row, Row::PageBreak) {
                slot += 1;
            }
        }
        slots
    };
    let slots = assign(rows);
    match slots.last() {
        Some(&(_, slot)) if slot > LAST_BODY_SLOT => {
            let at = rows.len().saturating_sub(2);
            rows.insert(at, Row::PageBreak);
            assign(rows)
        }
        _ => slots,
    }
}
