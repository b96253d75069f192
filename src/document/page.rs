//! A small page builder: place text, lines and shapes on pages in points,
//! origin at the page's lower-left corner (ISO 32000-1:2008 §8.3.2.3, default
//! user space), with one font subset shared by the whole document.
//!
//! Pages are drawn in any order; the font is subset and embedded once in
//! [`DocumentBuilder::finish`], and every content stream is deflated
//! (§7.4.4, `FlateDecode`).

use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

use super::font::{
    CjkFont, EncodedGlyph, FontError, FontRefs, FontSlot, FontSubset, SharedSubset, compress,
    round4,
};
use super::layout::Line;

/// Points per millimetre.
const POINTS_PER_MM: f32 = 72.0 / 25.4;

/// Converts millimetres to points.
pub fn mm(millimetres: f32) -> f32 {
    millimetres * POINTS_PER_MM
}

/// The A4 page (ISO 216, 210 × 297 mm) in points.
pub const A4: PageSize = PageSize {
    width: 210.0 * POINTS_PER_MM,
    height: 297.0 * POINTS_PER_MM,
};

/// The names under which the document's own font subset and the shared
/// one appear in page resources.
fn font_resource(slot: FontSlot) -> Name<'static> {
    match slot {
        FontSlot::Own => Name(b"F1"),
        FontSlot::Shared => Name(b"F2"),
    }
}

/// A page size in points.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PageSize {
    /// Width in points.
    pub width: f32,
    /// Height in points.
    pub height: f32,
}

/// An RGB colour, components in 0..=1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rgb(pub f32, pub f32, pub f32);

impl Rgb {
    /// Black, for body text.
    pub const BLACK: Rgb = Rgb(0.0, 0.0, 0.0);
    /// The red of seals and of document headers (印章红).
    pub const SEAL_RED: Rgb = Rgb(0.86, 0.08, 0.08);
}

/// How a run of text is set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TextStyle {
    /// Font size in points (三号 = 16, 二号 = 22).
    pub size: f32,
    /// Extra space between characters in points (may be negative).
    pub letter_spacing: f32,
}

impl TextStyle {
    /// A style with the given size and no extra letter spacing.
    pub fn new(size: f32) -> Self {
        Self {
            size,
            letter_spacing: 0.0,
        }
    }
}

/// Horizontal alignment of a single line relative to an x coordinate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// The line starts at x.
    Left,
    /// The line is centred on x.
    Center,
    /// The line ends at x.
    Right,
}

/// A 1-bit stencil (ISO 32000-1 §8.9.6.2, `/ImageMask true`): the current
/// fill colour is painted where a bit is set. Rows run top to bottom, each
/// padded to a whole byte, most significant bit first (§8.9.5.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StencilMask {
    width: u32,
    height: u32,
    bits: Vec<u8>,
}

impl StencilMask {
    /// A mask of `width` × `height` samples, painted where `painted(x, y)`
    /// (`y` counted from the top).
    pub fn new(width: u32, height: u32, painted: impl Fn(u32, u32) -> bool) -> Self {
        let row_bytes = width.div_ceil(8) as usize;
        let mut bits = vec![0u8; row_bytes * height as usize];
        for y in 0..height {
            let row = &mut bits[y as usize * row_bytes..][..row_bytes];
            for x in 0..width {
                if painted(x, y) {
                    row[x as usize / 8] |= 0x80 >> (x % 8);
                }
            }
        }
        StencilMask {
            width,
            height,
            bits,
        }
    }

    /// A mask of `rows.len()` rows of `width` (at most 128) samples, from the
    /// top: bit `x` of a row is painted at column `x`.
    pub fn from_rows(width: u32, rows: &[u128]) -> Self {
        let width = width.min(128);
        let row_bytes = width.div_ceil(8) as usize;
        let mut bits = Vec::with_capacity(row_bytes * rows.len());
        let keep = u128::MAX.checked_shr(128 - width).unwrap_or(0);
        for row in rows {
            // Samples are stored from the high bit of each byte (§8.9.5.2).
            let row = (row & keep).to_le_bytes();
            bits.extend(row[..row_bytes].iter().map(|b| b.reverse_bits()));
        }
        StencilMask {
            width,
            height: rows.len() as u32,
            bits,
        }
    }
}

/// One page's size, content stream and stencil masks.
type PageParts = (PageSize, Content, Vec<StencilMask>);

/// Builds a PDF page by page; see the module documentation.
pub struct DocumentBuilder {
    font: FontSubset,
    pages: Vec<PageParts>,
    title: Option<String>,
    file_id: Option<[u8; 16]>,
}

impl std::fmt::Debug for DocumentBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocumentBuilder")
            .field("pages", &self.pages.len())
            .field("title", &self.title)
            .finish_non_exhaustive()
    }
}

impl DocumentBuilder {
    /// Starts an empty document.
    pub fn new() -> Result<Self, FontError> {
        Ok(Self {
            font: FontSubset::new()?,
            pages: Vec::new(),
            title: None,
            file_id: None,
        })
    }

    /// Draws the characters of `text` from a subset shared with the other
    /// documents that print them ([`SharedSubset`]), made once per process:
    /// give the text every document of this kind prints (titles, labels,
    /// digits), before drawing.
    pub fn share_glyphs(&mut self, text: &str) -> Result<(), FontError> {
        self.font.share(SharedSubset::of(text)?);
        Ok(())
    }

    /// Sets the file identifier (ISO 32000-1 §14.4, the trailer's `/ID`;
    /// both elements equal, as in a file first written): a value unique to
    /// this document, so that signing it later need not hash the whole file
    /// to give its next revision a unique `/ID`.
    pub fn set_file_id(&mut self, id: [u8; 16]) {
        self.file_id = Some(id);
    }

    /// Sets the document title written to the information dictionary (§14.3.3).
    pub fn set_title(&mut self, title: &str) {
        self.title = Some(title.to_owned());
    }

    /// The font, to measure text before placing it.
    pub fn font(&self) -> &CjkFont {
        self.font.font()
    }

    /// The number of pages added so far.
    pub fn page_count(&self) -> usize {
        self.pages.len()
    }

    /// Adds a page and returns a handle to draw on it.
    pub fn add_page(&mut self, size: PageSize) -> Page<'_> {
        self.pages.push((size, Content::new(), Vec::new()));
        let index = self.pages.len() - 1;
        self.page(index)
            .unwrap_or_else(|| unreachable!("the page was just added"))
    }

    /// A handle to draw on a page added earlier (0-based), for example to
    /// add page numbers once the page count is known.
    pub fn page(&mut self, index: usize) -> Option<Page<'_>> {
        let (size, content, masks) = self.pages.get_mut(index)?;
        Some(Page {
            font: &mut self.font,
            content,
            masks,
            size: *size,
        })
    }

    /// Writes the PDF: catalog, page tree, pages, the font subset and info.
    pub fn finish(self) -> Result<Vec<u8>, FontError> {
        let mut next = 1;
        let mut alloc = || {
            let id = Ref::new(next);
            next += 1;
            id
        };
        let catalog = alloc();
        let tree = alloc();
        let info = alloc();
        let mut font_refs = || FontRefs {
            type0: alloc(),
            cid_font: alloc(),
            descriptor: alloc(),
            program: alloc(),
            to_unicode: alloc(),
        };
        // The own subset is written unless every glyph came from the shared one.
        let shared = self
            .font
            .shared()
            .filter(|_| self.font.uses(FontSlot::Shared));
        let own = (shared.is_none() || self.font.uses(FontSlot::Own)).then(&mut font_refs);
        let shared = shared.map(|shared| (shared, font_refs()));
        let page_refs: Vec<(Ref, Ref)> = self.pages.iter().map(|_| (alloc(), alloc())).collect();

        let mut pdf = Pdf::new();
        pdf.catalog(catalog).pages(tree);
        pdf.pages(tree)
            .kids(page_refs.iter().map(|&(page, _)| page))
            .count(i32::try_from(page_refs.len()).unwrap_or(i32::MAX));
        for ((size, content, masks), &(page_ref, content_ref)) in
            self.pages.into_iter().zip(&page_refs)
        {
            let mask_refs: Vec<Ref> = masks.iter().map(|_| alloc()).collect();
            let mut page = pdf.page(page_ref);
            page.media_box(Rect::new(0.0, 0.0, round4(size.width), round4(size.height)))
                .parent(tree)
                .contents(content_ref);
            let mut resources = page.resources();
            let mut fonts = resources.fonts();
            if let Some(own) = own {
                fonts.pair(font_resource(FontSlot::Own), own.type0);
            }
            if let Some((_, refs)) = shared {
                fonts.pair(font_resource(FontSlot::Shared), refs.type0);
            }
            fonts.finish();
            if !masks.is_empty() {
                let mut x_objects = resources.x_objects();
                for (i, &mask_ref) in mask_refs.iter().enumerate() {
                    x_objects.pair(Name(mask_name(i).as_bytes()), mask_ref);
                }
            }
            resources.finish();
            page.finish();
            let data = compress(&content.finish());
            pdf.stream(content_ref, &data).filter(Filter::FlateDecode);
            // Masks are stored as they are: the ones drawn are QR codes, whose
            // masking balances dark and light (ISO/IEC 18004 §7.8) so that
            // they do not deflate (1,755 bytes became 1,766 for version 25).
            for (mask, mask_ref) in masks.into_iter().zip(mask_refs) {
                let mut image = pdf.image_xobject(mask_ref, &mask.bits);
                image
                    .width(i32::try_from(mask.width).unwrap_or(i32::MAX))
                    .height(i32::try_from(mask.height).unwrap_or(i32::MAX))
                    .image_mask(true)
                    .decode([1.0, 0.0])
                    .interpolate(false);
            }
        }
        if let Some(own) = own {
            self.font.write(&mut pdf, own)?;
        }
        if let Some((shared, refs)) = shared {
            shared.write(self.font.font(), &mut pdf, refs);
        }
        let mut document_info = pdf.document_info(info);
        document_info.producer(TextStr("govseal"));
        if let Some(title) = &self.title {
            document_info.title(TextStr(title));
        }
        document_info.finish();
        if let Some(id) = self.file_id {
            pdf.set_file_id((id.to_vec(), id.to_vec()));
        }
        Ok(pdf.finish())
    }
}

/// The resource name of a page's `i`-th stencil mask.
fn mask_name(i: usize) -> String {
    format!("M{i}")
}

/// A page being drawn. Coordinates are points from the lower-left corner.
pub struct Page<'a> {
    font: &'a mut FontSubset,
    content: &'a mut Content,
    masks: &'a mut Vec<StencilMask>,
    size: PageSize,
}

impl Page<'_> {
    /// The page size.
    pub fn size(&self) -> PageSize {
        self.size
    }

    /// The font, to measure text.
    pub fn font(&self) -> &CjkFont {
        self.font.font()
    }

    /// The raw content stream, for paths the builder has no method for.
    pub fn content(&mut self) -> &mut Content {
        self.content
    }

    /// Sets the colour of text and filled shapes.
    pub fn set_fill_color(&mut self, color: Rgb) {
        self.content.set_fill_rgb(color.0, color.1, color.2);
    }

    /// Sets the colour of lines and outlines.
    pub fn set_stroke_color(&mut self, color: Rgb) {
        self.content.set_stroke_rgb(color.0, color.1, color.2);
    }

    /// Draws `text` on one line with its baseline at `y`, aligned on `x`;
    /// returns the width of the line in points.
    pub fn text(
        &mut self,
        x: f32,
        y: f32,
        align: Align,
        style: TextStyle,
        text: &str,
    ) -> Result<f32, FontError> {
        let width = self
            .font
            .font()
            .text_width(text, style.size, style.letter_spacing)?;
        let start = match align {
            Align::Left => x,
            Align::Center => x - width / 2.0,
            Align::Right => x - width,
        };
        self.show(
            [style.size, 0.0, 0.0, style.size, start, y],
            style.letter_spacing / style.size,
            text,
        )?;
        Ok(width)
    }

    /// Draws a wrapped line from [`super::layout::wrap`] starting at `x`;
    /// when `justify_to` is given, the line is stretched to that width.
    pub fn line_of_text(
        &mut self,
        x: f32,
        y: f32,
        style: TextStyle,
        line: &Line,
        justify_to: Option<f32>,
    ) -> Result<(), FontError> {
        let gaps = line.text.chars().count().saturating_sub(1);
        let extra = match justify_to {
            Some(width) if gaps > 0 && width > line.width => (width - line.width) / gaps as f32,
            _ => 0.0,
        };
        let spacing = style.letter_spacing + extra;
        self.show(
            [style.size, 0.0, 0.0, style.size, x + line.indent, y],
            spacing / style.size,
            &line.text,
        )
    }

    /// Draws text with an explicit text matrix (§9.4.2) at font size 1: the
    /// matrix maps one em of glyph space to user space, so it carries size,
    /// rotation and stretching. Used for the characters of a seal.
    pub fn text_with_matrix(&mut self, matrix: [f32; 6], text: &str) -> Result<(), FontError> {
        self.show(matrix, 0.0, text)
    }

    fn show(&mut self, matrix: [f32; 6], char_spacing: f32, text: &str) -> Result<(), FontError> {
        let glyphs = self.font.encode_glyphs(text)?;
        self.content.begin_text();
        if char_spacing != 0.0 {
            self.content.set_char_spacing(round4(char_spacing));
        }
        self.content.set_text_matrix(matrix.map(round4));
        // One run per font: `Tf` inside the text object, the pen carries on.
        for run in glyphs.chunk_by(|a, b| a.slot == b.slot) {
            self.content.set_font(font_resource(run[0].slot), 1.0);
            if run
                .iter()
                .all(|g| g.metrics.offset == 0.0 && g.metrics.advance == g.metrics.font_advance)
            {
                let codes: Vec<u8> = run.iter().flat_map(|g| g.code).collect();
                self.content.show(Str(&codes));
                continue;
            }
            // TJ numbers are thousandths of an em, subtracted from the pen
            // position (ISO 32000-1 §9.4.3): they narrow full-width forms.
            let mut shown = self.content.show_positioned();
            let mut items = shown.items();
            for EncodedGlyph { code, metrics, .. } in run {
                if metrics.offset != 0.0 {
                    items.adjust(round4(-metrics.offset * 1000.0));
                }
                items.show(Str(code));
                let back = metrics.font_advance + metrics.offset - metrics.advance;
                if back != 0.0 {
                    items.adjust(round4(back * 1000.0));
                }
            }
            items.finish();
            shown.finish();
        }
        self.content.end_text();
        Ok(())
    }

    /// Strokes a straight line.
    pub fn line(&mut self, from: (f32, f32), to: (f32, f32), width: f32) {
        self.content
            .set_line_width(width)
            .move_to(from.0, from.1)
            .line_to(to.0, to.1)
            .stroke();
    }

    /// Strokes the outline of a rectangle given by its lower-left corner.
    pub fn stroke_rect(&mut self, x: f32, y: f32, width: f32, height: f32, line_width: f32) {
        self.content
            .set_line_width(line_width)
            .rect(x, y, width, height)
            .stroke();
    }

    /// Fills a rectangle given by its lower-left corner (QR modules, rules).
    pub fn fill_rect(&mut self, x: f32, y: f32, width: f32, height: f32) {
        self.content.rect(x, y, width, height).fill_nonzero();
    }

    /// Paints `mask` in the fill colour over the rectangle with lower-left
    /// corner (`x`, `y`), each sample scaled to a block (§8.9.5: the image's
    /// unit square mapped by `cm`; no interpolation, so the edges stay sharp).
    pub fn fill_mask(&mut self, x: f32, y: f32, width: f32, height: f32, mask: StencilMask) {
        let name = mask_name(self.masks.len());
        self.masks.push(mask);
        self.content
            .save_state()
            .transform([width, 0.0, 0.0, height, x, y])
            .x_object(Name(name.as_bytes()))
            .restore_state();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stencil_rows_are_padded_to_bytes_most_significant_bit_first() {
        // A 10 × 2 mask: the diagonal of the first row pair and column 9.
        let mask = StencilMask::new(10, 2, |x, y| x == y || x == 9);
        assert_eq!(
            mask.bits,
            vec![0b1000_0000, 0b0100_0000, 0b0100_0000, 0b0100_0000]
        );
    }

    #[test]
    fn a_stencil_from_bit_rows_is_the_same_as_from_samples() {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for width in [1u32, 10, 117, 128] {
            let rows: Vec<u128> = (0..width)
                .map(|_| u128::from(next()) << 64 | u128::from(next()))
                .collect();
            let from_rows = StencilMask::from_rows(width, &rows);
            let from_samples =
                StencilMask::new(width, width, |x, y| rows[y as usize] >> x & 1 == 1);
            assert_eq!(from_rows.bits, from_samples.bits, "width {width}");
            assert_eq!((from_rows.width, from_rows.height), (width, width));
        }
        assert!(StencilMask::from_rows(0, &[]).bits.is_empty());
    }

    #[test]
    fn a_stencil_is_painted_through_an_image_xobject() {
        let mut doc = DocumentBuilder::new().unwrap();
        let mut page = doc.add_page(A4);
        page.fill_mask(
            10.0,
            20.0,
            30.0,
            40.0,
            StencilMask::new(3, 3, |x, _| x == 1),
        );
        let pdf = doc.finish().unwrap();
        let parsed = lopdf::Document::load_mem(&pdf).unwrap();
        let page_id = *parsed.get_pages().get(&1).unwrap();
        let (resources, _) = parsed.get_page_resources(page_id).unwrap();
        let x_objects = resources
            .unwrap()
            .get(b"XObject")
            .unwrap()
            .as_dict()
            .unwrap();
        let id = x_objects.get(b"M0").unwrap().as_reference().unwrap();
        let image = parsed.get_object(id).unwrap().as_stream().unwrap();
        assert_eq!(
            image.dict.get(b"ImageMask").unwrap(),
            &lopdf::Object::Boolean(true)
        );
        assert_eq!(image.dict.get(b"Width").unwrap().as_i64().unwrap(), 3);
        assert_eq!(image.decompressed_content().unwrap(), vec![0x40; 3]);
        let content = parsed.get_page_content(page_id);
        let content = String::from_utf8_lossy(&content);
        assert!(content.contains("30 0 0 40 10 20 cm"), "{content}");
        assert!(content.contains("/M0 Do"), "{content}");
    }
}
