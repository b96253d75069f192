//! The embedded Chinese font and its per-document subset.
//!
//! govseal ships one font, Droid Sans Fallback Full (Apache-2.0, see
//! `src/seal/fonts/LICENSE-DroidSansFallback.txt`), so that a rendered document
//! looks the same on every host and never depends on fonts installed there.
//!
//! In a PDF the font is written as a composite font (ISO 32000-1:2008 §9.7):
//! a `Type0` font with the `Identity-H` encoding (§9.7.5.2) whose descendant is
//! a `CIDFontType2` (§9.7.4) with `CIDToGIDMap /Identity`, so a character code
//! is the two-byte glyph id of the *subset* font. The TrueType program is
//! embedded as `FontFile2` (§9.9), reduced with `subsetter` to the glyphs the
//! document uses, its name tagged `ABCDEF+` as §9.6.4 asks for subsets. A `/W`
//! array gives every glyph's advance (§9.7.4.3) and a `ToUnicode` CMap
//! (§9.10.3) makes the text extractable and searchable.
//!
//! A document may also use a [`SharedSubset`]: the glyphs that every
//! document of its kind prints (a license type's title and labels, the
//! issuer's name, digits and capitals), subset and compressed once per
//! process and embedded as a second font. Each document then subsets and
//! compresses only its own glyphs — a license's holder, address and scope.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Filter, Finish, Name, Pdf, Rect, Ref, Str};
use subsetter::GlyphRemapper;
use ttf_parser::{Face, GlyphId, OutlineBuilder};

/// The font program, compiled into the binary.
pub const FONT_DATA: &[u8] = include_bytes!("../seal/fonts/DroidSansFallbackFull.ttf");

/// From printable ASCII to its full-width form (U+0021 → U+FF01).
const FULL_WIDTH_OFFSET: u32 = 0xFEE0;

/// How one character is set; all lengths in em.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GlyphMetrics {
    /// The glyph in the full font.
    pub glyph: GlyphId,
    /// The distance the pen moves.
    pub advance: f32,
    /// How far right of the pen the glyph's own origin is placed (negative:
    /// left), to centre a full-width form's ink in a proportional cell.
    pub offset: f32,
    /// The advance the font gives the glyph (what `/W` declares).
    pub font_advance: f32,
}

/// The PostScript name written (after the subset tag) into `/BaseFont`.
const FONT_NAME: &str = "DroidSansFallbackFull";

/// Errors about the font or the characters asked of it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FontError {
    /// The text holds a character that the font cannot draw.
    #[error("the font has no glyph for the character {character:?} (U+{:04X})", u32::from(*character))]
    MissingGlyph {
        /// The character without a glyph.
        character: char,
    },
    /// The embedded font program could not be parsed (a build defect).
    #[error("the embedded font cannot be parsed: {0}")]
    Parse(#[from] ttf_parser::FaceParsingError),
    /// The subsetter rejected the font (a build defect).
    #[error("the font cannot be subset: {0}")]
    Subset(#[from] subsetter::Error),
}

/// The parsed embedded font, used to measure text and to draw glyph outlines.
pub struct CjkFont {
    face: Face<'static>,
    units_per_em: f32,
}

impl std::fmt::Debug for CjkFont {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CjkFont").field("name", &FONT_NAME).finish()
    }
}

impl CjkFont {
    /// Parses the embedded font (cheap: only the table directory is read).
    pub fn load() -> Result<Self, FontError> {
        let face = Face::parse(FONT_DATA, 0)?;
        let units_per_em = f32::from(face.units_per_em().max(1));
        Ok(Self { face, units_per_em })
    }

    /// The glyph that draws `character`, or [`FontError::MissingGlyph`].
    ///
    /// The font has no Latin letters or digits, only their full-width forms
    /// (U+FF01..U+FF5E): printable ASCII is drawn with those, set
    /// proportionally (see [`CjkFont::metrics`]).
    pub fn glyph(&self, character: char) -> Result<GlyphId, FontError> {
        let lookup = |c: char| self.face.glyph_index(c).filter(|g| g.0 != 0);
        let glyph = match character {
            c if c.is_control() => None,
            '!'..='~' => lookup(character).or_else(|| {
                char::from_u32(u32::from(character) + FULL_WIDTH_OFFSET).and_then(lookup)
            }),
            // The font lacks “ ” (U+201C/D); the reversed double prime
            // quotation marks are the closest shapes it has.
            '“' => lookup('〝'),
            '”' => lookup('〞'),
            c => lookup(c),
        };
        glyph.ok_or(FontError::MissingGlyph { character })
    }

    /// Checks that every character of `text` has a glyph.
    pub fn check_text(&self, text: &str) -> Result<(), FontError> {
        text.chars().try_for_each(|c| self.glyph(c).map(drop))
    }

    /// How `character` is set: its glyph, its advance and where the glyph is
    /// drawn in its cell. A full-width form standing in for ASCII gets an
    /// advance of its ink width plus a little side bearing, and is shifted left
    /// so the ink sits in that narrower cell.
    pub fn metrics(&self, character: char) -> Result<GlyphMetrics, FontError> {
        if character.is_ascii_graphic() {
            // Every document sets digits and Latin letters (identifiers,
            // dates), and their ink boxes need a glyph outline walk: the 94
            // answers are computed once per process (the font is compiled in).
            static ASCII: std::sync::OnceLock<Vec<Result<GlyphMetrics, char>>> =
                std::sync::OnceLock::new();
            let table = ASCII.get_or_init(|| {
                ('!'..='~')
                    .map(|c| self.compute_metrics(c).map_err(|_| c))
                    .collect()
            });
            let index = usize::from(character as u8 - b'!');
            return table[index].map_err(|character| FontError::MissingGlyph { character });
        }
        // Other characters (ideographs) are looked up in the font's cmap and
        // hmtx tables once per thread: a document measures each character
        // when it breaks lines and again when it sets them, and the next
        // document of its kind sets most of the same characters.
        thread_local! {
            static KNOWN: std::cell::RefCell<HashMap<char, GlyphMetrics>> =
                std::cell::RefCell::new(HashMap::new());
        }
        const KEPT: usize = 8192;
        if let Some(known) = KNOWN.with(|k| k.borrow().get(&character).copied()) {
            return Ok(known);
        }
        let metrics = self.compute_metrics(character)?;
        KNOWN.with(|k| {
            let mut known = k.borrow_mut();
            if known.len() >= KEPT {
                known.clear();
            }
            known.insert(character, metrics);
        });
        Ok(metrics)
    }

    fn compute_metrics(&self, character: char) -> Result<GlyphMetrics, FontError> {
        let glyph = self.glyph(character)?;
        let font_advance = self.glyph_advance(glyph);
        let substituted = character.is_ascii_graphic()
            && self.face.glyph_index(character).is_none_or(|g| g != glyph);
        // The ink box walks the glyph's outline: only substitutes need it.
        let ink = if substituted {
            self.face.glyph_bounding_box(glyph)
        } else {
            None
        };
        match ink {
            Some(ink) => {
                let (x_min, x_max) = (f32::from(ink.x_min), f32::from(ink.x_max));
                let bearing = 0.06;
                let advance = ((x_max - x_min) / self.units_per_em + 2.0 * bearing).max(0.3);
                let ink_centre = (x_min + x_max) / 2.0 / self.units_per_em;
                Ok(GlyphMetrics {
                    glyph,
                    advance,
                    offset: advance / 2.0 - ink_centre,
                    font_advance,
                })
            }
            None => Ok(GlyphMetrics {
                glyph,
                advance: font_advance,
                offset: 0.0,
                font_advance,
            }),
        }
    }

    /// The advance width of `character` in em (1.0 = the font size).
    pub fn advance(&self, character: char) -> Result<f32, FontError> {
        Ok(self.metrics(character)?.advance)
    }

    /// The advance width of a glyph in em, as the font defines it.
    pub fn glyph_advance(&self, glyph: GlyphId) -> f32 {
        f32::from(self.face.glyph_hor_advance(glyph).unwrap_or(0)) / self.units_per_em
    }

    /// The width of `text` in points at `size`, with `letter_spacing` points
    /// between neighbouring characters (not after the last one).
    pub fn text_width(&self, text: &str, size: f32, letter_spacing: f32) -> Result<f32, FontError> {
        let mut width = 0.0;
        let mut count = 0usize;
        for c in text.chars() {
            width += self.advance(c)? * size;
            count += 1;
        }
        Ok(width + letter_spacing * count.saturating_sub(1) as f32)
    }

    /// The vertical extent `(bottom, top)` in em of the glyph for `reference`:
    /// used to centre a class of glyphs (ideographs, digits) on a line.
    pub fn vertical_extent(&self, reference: char) -> Result<(f32, f32), FontError> {
        let glyph = self.glyph(reference)?;
        let bbox = self.face.glyph_bounding_box(glyph);
        Ok(bbox.map_or((-0.12, 0.88), |b| {
            (
                f32::from(b.y_min) / self.units_per_em,
                f32::from(b.y_max) / self.units_per_em,
            )
        }))
    }

    /// The outline of a glyph as SVG path data in em units, y pointing up.
    pub fn glyph_svg_path(&self, glyph: GlyphId) -> String {
        let mut path = SvgPath {
            data: String::new(),
            scale: 1.0 / self.units_per_em,
        };
        // A glyph without an outline (a space) simply yields an empty path.
        let _ = self.face.outline_glyph(glyph, &mut path);
        path.data
    }
}

/// Collects SVG path commands from a glyph outline.
struct SvgPath {
    data: String,
    scale: f32,
}

impl SvgPath {
    fn push(&mut self, command: char, points: &[f32]) {
        use std::fmt::Write;
        self.data.push(command);
        for (index, value) in points.iter().enumerate() {
            if index > 0 {
                self.data.push(' ');
            }
            // Writing to a String cannot fail.
            let _ = write!(self.data, "{}", round4(value * self.scale));
        }
    }
}

/// Rounds to 4 decimals to keep SVG and PDF output short and stable.
pub(crate) fn round4(value: f32) -> f32 {
    (value * 10_000.0).round() / 10_000.0
}

impl OutlineBuilder for SvgPath {
    fn move_to(&mut self, x: f32, y: f32) {
        self.push('M', &[x, y]);
    }
    fn line_to(&mut self, x: f32, y: f32) {
        self.push('L', &[x, y]);
    }
    fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32) {
        self.push('Q', &[x1, y1, x, y]);
    }
    fn curve_to(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, x: f32, y: f32) {
        self.push('C', &[x1, y1, x2, y2, x, y]);
    }
    fn close(&mut self) {
        self.data.push('Z');
    }
}

/// The object numbers that [`FontSubset::write`] fills.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FontRefs {
    pub type0: Ref,
    pub cid_font: Ref,
    pub descriptor: Ref,
    pub program: Ref,
    pub to_unicode: Ref,
}

/// The glyphs one document uses, gathered while its pages are drawn and
/// embedded once when the document is finished.
#[derive(Debug)]
pub struct FontSubset {
    font: CjkFont,
    remapper: GlyphRemapper,
    /// Subset glyph id (= CID) → the character it was first used for.
    unicode: BTreeMap<u16, char>,
    /// Glyphs taken from a subset made once for many documents.
    shared: Option<Arc<SharedSubset>>,
    /// Which of the two fonts the document's text used.
    used: [bool; 2],
}

/// Which embedded font a glyph is drawn with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FontSlot {
    /// The document's own subset.
    Own = 0,
    /// The [`SharedSubset`].
    Shared = 1,
}

/// One encoded glyph: its font, its `Identity-H` code (the big-endian CID)
/// and how it is set.
#[derive(Debug, Clone, Copy)]
pub struct EncodedGlyph {
    /// The font that holds it.
    pub slot: FontSlot,
    /// The character code.
    pub code: [u8; 2],
    /// Its metrics.
    pub metrics: GlyphMetrics,
}

impl FontSubset {
    /// Starts an empty subset of the embedded font.
    pub fn new() -> Result<Self, FontError> {
        Ok(Self {
            font: CjkFont::load()?,
            remapper: GlyphRemapper::new(),
            unicode: BTreeMap::new(),
            shared: None,
            used: [false; 2],
        })
    }

    /// Takes the glyphs of `shared` from it rather than from this subset.
    pub fn share(&mut self, shared: Arc<SharedSubset>) {
        self.shared = Some(shared);
    }

    /// Whether the text drawn so far used the font in `slot`.
    pub fn uses(&self, slot: FontSlot) -> bool {
        self.used[slot as usize]
    }

    /// The shared subset, if the document has one.
    pub fn shared(&self) -> Option<&SharedSubset> {
        self.shared.as_deref()
    }

    /// The font, to measure text.
    pub fn font(&self) -> &CjkFont {
        &self.font
    }

    /// Encodes `text` glyph by glyph, each with its font and metrics, and
    /// records in this subset the glyphs the shared one lacks.
    pub fn encode_glyphs(&mut self, text: &str) -> Result<Vec<EncodedGlyph>, FontError> {
        let mut glyphs = Vec::with_capacity(text.len());
        for character in text.chars() {
            let metrics = self.font.metrics(character)?;
            let shared = self
                .shared
                .as_ref()
                .and_then(|s| s.cids.get(&metrics.glyph.0).copied());
            let (slot, cid) = match shared {
                Some(cid) => (FontSlot::Shared, cid),
                None => {
                    let cid = self.remapper.remap(metrics.glyph.0);
                    // A full-width form shared by 'A' and 'Ａ' extracts as the first used.
                    self.unicode.entry(cid).or_insert(character);
                    (FontSlot::Own, cid)
                }
            };
            self.used[slot as usize] = true;
            glyphs.push(EncodedGlyph {
                slot,
                code: cid.to_be_bytes(),
                metrics,
            });
        }
        Ok(glyphs)
    }

    /// The subset tag (§9.6.4): six capital letters derived from the glyph
    /// set, so the same text always yields the same name.
    fn tag(&self) -> String {
        tag(&self.remapper)
    }

    /// The subset's pieces as embedded: the program and the CMap deflated.
    fn prepare(&self) -> Result<PreparedFont, FontError> {
        let program = subsetter::subset(FONT_DATA, 0, &self.remapper)?;
        let mut cmap = UnicodeCmap::new(Name(b"Adobe-Identity-UCS"), SYSTEM_INFO);
        for (&cid, &character) in &self.unicode {
            cmap.pair(cid, character);
        }
        Ok(PreparedFont {
            base_font: format!("{}+{FONT_NAME}", self.tag()),
            widths: self
                .remapper
                .remapped_gids()
                .map(|old| self.font.glyph_advance(GlyphId(old)) * 1000.0)
                .collect(),
            program_len: i32::try_from(program.len()).unwrap_or(i32::MAX),
            program: compress(&program),
            to_unicode: compress(&cmap.finish()),
        })
    }

    /// Writes the document's own subset (see [`PreparedFont::write`]).
    pub(crate) fn write(&self, pdf: &mut Pdf, refs: FontRefs) -> Result<(), FontError> {
        self.prepare()?.write(&self.font, pdf, refs);
        Ok(())
    }
}

/// `Identity` ordering of the `Adobe` registry (§9.7.3): CIDs are glyph ids.
const SYSTEM_INFO: SystemInfo<'static> = SystemInfo {
    registry: Str(b"Adobe"),
    ordering: Str(b"Identity"),
    supplement: 0,
};

/// The subset tag of a glyph set (§9.6.4).
fn tag(remapper: &GlyphRemapper) -> String {
    let mut hash: u32 = 0x811C_9DC5;
    for glyph in remapper.remapped_gids() {
        for byte in glyph.to_be_bytes() {
            hash = (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193);
        }
    }
    (0..6)
        .map(|i| char::from(b'A' + ((hash >> (i * 5)) % 26) as u8))
        .collect()
}

/// A subset ready to embed: what [`FontSubset::write`] and
/// [`SharedSubset`] write into a document.
#[derive(Debug)]
struct PreparedFont {
    /// `/BaseFont`: the subset tag and the font's name.
    base_font: String,
    /// Advance of each CID, in thousandths of an em (`/W`).
    widths: Vec<f32>,
    /// The deflated TrueType subset.
    program: Vec<u8>,
    /// Its length before deflating (`/Length1`).
    program_len: i32,
    /// The deflated ToUnicode CMap.
    to_unicode: Vec<u8>,
}

impl PreparedFont {
    /// Writes the Type0 font, its CIDFont, descriptor, subset program and
    /// ToUnicode CMap.
    fn write(&self, font: &CjkFont, pdf: &mut Pdf, refs: FontRefs) {
        let base_font = Name(self.base_font.as_bytes());
        let em = |units: f32| units * 1000.0 / font.units_per_em;

        pdf.type0_font(refs.type0)
            .base_font(base_font)
            .encoding_predefined(Name(b"Identity-H"))
            .descendant_font(refs.cid_font)
            .to_unicode(refs.to_unicode);

        let mut cid_font = pdf.cid_font(refs.cid_font);
        cid_font
            .subtype(CidFontType::Type2)
            .base_font(base_font)
            .system_info(SYSTEM_INFO)
            .font_descriptor(refs.descriptor)
            .default_width(1000.0)
            .cid_to_gid_map_predefined(Name(b"Identity"));
        cid_font
            .widths()
            .consecutive(0, self.widths.iter().copied());
        cid_font.finish();

        let face = &font.face;
        let bbox = face.global_bounding_box();
        pdf.font_descriptor(refs.descriptor)
            .name(base_font)
            .flags(FontFlags::SYMBOLIC)
            .bbox(Rect::new(
                em(f32::from(bbox.x_min)),
                em(f32::from(bbox.y_min)),
                em(f32::from(bbox.x_max)),
                em(f32::from(bbox.y_max)),
            ))
            .italic_angle(0.0)
            .ascent(em(f32::from(face.ascender())))
            .descent(em(f32::from(face.descender())))
            .cap_height(em(f32::from(face.ascender())))
            .stem_v(80.0)
            .font_file2(refs.program);

        pdf.stream(refs.program, &self.program)
            .filter(Filter::FlateDecode)
            .pair(Name(b"Length1"), self.program_len);
        pdf.cmap(refs.to_unicode, &self.to_unicode)
            .filter(Filter::FlateDecode);
    }
}

/// The glyphs of a text, subset and compressed once and embedded as they
/// are in every document that shares them ([`FontSubset::share`]).
#[derive(Debug)]
pub struct SharedSubset {
    /// Full-font glyph id → CID in this subset.
    cids: HashMap<u16, u16>,
    prepared: PreparedFont,
}

impl SharedSubset {
    /// The shared subset of the characters of `text`, made once per process
    /// for each set of characters (a few per license type and issuer).
    /// Characters the font cannot draw are left out: drawing them fails
    /// later, where the caller can say which text holds them.
    pub fn of(text: &str) -> Result<Arc<SharedSubset>, FontError> {
        static MADE: crate::memo::Memo<String, Arc<SharedSubset>> = crate::memo::Memo::new(256);
        let characters: String = text
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<BTreeSet<char>>()
            .into_iter()
            .collect();
        MADE.get_or_try(characters.clone(), || {
            let mut subset = FontSubset::new()?;
            let drawable: String = characters
                .chars()
                .filter(|&c| subset.font.glyph(c).is_ok())
                .collect();
            subset.encode_glyphs(&drawable)?;
            let cids = subset
                .remapper
                .remapped_gids()
                .enumerate()
                .filter_map(|(cid, gid)| Some((gid, u16::try_from(cid).ok()?)))
                .filter(|&(gid, _)| gid != 0)
                .collect();
            Ok(Arc::new(SharedSubset {
                cids,
                prepared: subset.prepare()?,
            }))
        })
    }

    /// How many glyphs it holds (.notdef aside).
    pub fn len(&self) -> usize {
        self.cids.len()
    }

    /// Whether it holds no glyph.
    pub fn is_empty(&self) -> bool {
        self.cids.is_empty()
    }

    /// Writes it into a document (see [`PreparedFont::write`]).
    pub(crate) fn write(&self, font: &CjkFont, pdf: &mut Pdf, refs: FontRefs) {
        self.prepared.write(font, pdf, refs);
    }
}

/// Deflates a font program, CMap or content stream (ISO 32000-1 §7.4.4) at
/// level 1, miniz's greedy fast path: a license page's streams deflate about
/// four times faster than at level 6, for files about 20 % larger.
pub(crate) fn compress(data: &[u8]) -> Vec<u8> {
    crate::pdf::flate::deflate(data, 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_ideographs_and_reports_missing_glyphs() {
        let font = CjkFont::load().expect("font");
        let width = font.text_width("行政许可", 16.0, 0.0).expect("width");
        assert!(
            (width - 64.0).abs() < 1.0,
            "ideographs are one em wide: {width}"
        );
        let digit = font.metrics('2').expect("digit");
        assert!(
            digit.advance < 0.75 && digit.font_advance > 0.9,
            "{digit:?}"
        );
        match font.check_text("印章★") {
            Err(FontError::MissingGlyph { character }) => assert_eq!(character, '★'),
            other => panic!("expected a missing ★, got {other:?}"),
        }
    }

    #[test]
    fn encodes_as_subset_glyph_ids_and_subsets_small() {
        let mut subset = FontSubset::new().expect("font");
        let codes: Vec<[u8; 2]> = subset
            .encode_glyphs("审批审")
            .expect("encode")
            .iter()
            .map(|g| g.code)
            .collect();
        // CID 0 is .notdef; the first new glyph is 1, a repeat reuses its id.
        assert_eq!(codes, vec![[0, 1], [0, 2], [0, 1]]);
        let program = subsetter::subset(FONT_DATA, 0, &subset.remapper).expect("subset");
        assert!(program.len() < 20_000, "subset is {} bytes", program.len());
        assert_eq!(subset.tag().len(), 6);
    }

    #[test]
    fn shared_glyphs_come_from_the_shared_subset_and_the_rest_from_the_own() {
        let lacking = SharedSubset::of("营业执照 2024★").expect("shared");
        assert_eq!(
            lacking.len(),
            7,
            "营业执照 and 2 0 4; no space, no ★ (the font lacks it)"
        );
        let shared = SharedSubset::of("营业执照 2024").expect("shared");
        // Made once per set of characters, whatever their order.
        assert!(Arc::ptr_eq(
            &shared,
            &SharedSubset::of("4202照执业营").expect("shared")
        ));
        let mut subset = FontSubset::new().expect("font");
        subset.share(shared.clone());
        let glyphs = subset.encode_glyphs("营业执照号2").expect("encode");
        let slots: Vec<FontSlot> = glyphs.iter().map(|g| g.slot).collect();
        use FontSlot::{Own, Shared};
        assert_eq!(slots, vec![Shared, Shared, Shared, Shared, Own, Shared]);
        // The own subset holds only 号 (CID 1, after .notdef).
        assert_eq!(glyphs[4].code, [0, 1]);
        assert_eq!(subset.remapper.remapped_gids().count(), 2);
        assert!(subset.uses(Own) && subset.uses(Shared));
        // The shared CIDs are those of the shared subset's own program.
        let gid = subset.font.glyph('执').expect("glyph").0;
        assert_eq!(
            u16::from_be_bytes(glyphs[2].code),
            shared.cids[&gid],
            "CID of 执"
        );
    }

    #[test]
    fn outlines_glyphs_as_svg_paths() {
        let font = CjkFont::load().expect("font");
        let path = font.glyph_svg_path(font.glyph('国').expect("glyph"));
        assert!(path.starts_with('M') && path.contains('Z'), "{path}");
    }
}
