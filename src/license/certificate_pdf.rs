//! The license certificate (电子证照 版式文件) as an A4 PDF in Chinese, after
//! the layout the provincial license libraries print (GB/T 36905-2018 §5,
//! 版式文件 content: title, holder, the type's fields, issuer, dates,
//! identifier, QR code): the type's name as title, the identifier under it,
//! a two-column table of labels and values, the validity, the QR code of the
//! signed summary in the lower left, and the issuer's name with the date in
//! the lower right, where the seal goes (the seal "压" the issuer's name, as
//! GB/T 9704-2012 §7.3.5.1 does for official documents).
//!
//! Pure: the caller stamps and signs the result (PAdES, see
//! [`crate::seal::stamping`]'s engine), at [`RenderedDocument::seal_anchor`].

use time::OffsetDateTime;

use super::qr::{QUIET_ZONE, QrError, QrMatrix};
use crate::document::{
    A4, Align, DocumentBuilder, FontError, Line, RenderedDocument, Rgb, SealAnchor, StencilMask,
    TextStyle, mm, wrap,
};

/// Side of the printed QR code, quiet zone included (≈ 53 mm: at 200 dpi a
/// version-25 module is 3.5 pixels, which zbar and phone cameras read).
pub const QR_SIZE_PT: f32 = 150.0;

/// What the certificate shows.
#[derive(Clone, Debug)]
pub struct LicenseCertificate<'a> {
    /// The type's Chinese name, the title (e.g. 营业执照).
    pub title_zh: &'a str,
    /// The type's English name, printed under the title when labels in English are wanted.
    pub title_en: Option<&'a str>,
    /// The license identifier.
    pub license_id: &'a str,
    /// Rows: (Chinese label, English label or none, value), in display order.
    pub rows: Vec<(&'a str, Option<&'a str>, String)>,
    /// The issuing department's name.
    pub issuer_name: &'a str,
    /// When issued.
    pub issued_at: OffsetDateTime,
    /// The QR text (`<public-url>/v/<payload>`).
    pub qr_text: &'a str,
}

/// Why the certificate cannot be drawn.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CertificateError {
    /// A value holds a character the font cannot draw.
    #[error("{field}: the font has no glyph for {character:?}")]
    UnsupportedCharacter {
        /// The row's label.
        field: String,
        /// The character.
        character: char,
    },
    /// The rows do not fit on one page.
    #[error("the fields do not fit on one A4 page; shorten the longest values")]
    TooLong,
    /// The QR code cannot be made.
    #[error(transparent)]
    Qr(#[from] QrError),
    /// The font failed (a build defect).
    #[error(transparent)]
    Font(FontError),
}

fn font_err(field: &str) -> impl Fn(FontError) -> CertificateError + '_ {
    move |e| match e {
        FontError::MissingGlyph { character } => CertificateError::UnsupportedCharacter {
            field: field.to_string(),
            character,
        },
        other => CertificateError::Font(other),
    }
}

/// `2026年11月23日`, in China Standard Time.
pub fn chinese_date(t: OffsetDateTime) -> String {
    let d = t.to_offset(time::macros::offset!(+8)).date();
    format!("{}年{}月{}日", d.year(), u8::from(d.month()), d.day())
}

const LEFT: f32 = 25.0;
const LABEL_WIDTH_MM: f32 = 42.0;
const RIGHT: f32 = 185.0;
const BODY: f32 = 12.0;
const PITCH: f32 = 19.0;

/// Printed on every certificate, whatever its values: the captions, and the
/// digits and date characters of identifiers and dates. (The few capitals of
/// a USCC go into the certificate's own subset.)
const FIXED_TEXT: &str = "证照编号：扫码核验 Scan to verify0123456789-.年月日至长期";

impl LicenseCertificate<'_> {
    /// The characters that every certificate of this type by this issuer
    /// prints: the titles, the labels, the issuer's name and [`FIXED_TEXT`].
    fn shared_text(&self) -> String {
        let mut text = String::from(FIXED_TEXT);
        for part in [self.title_zh, self.title_en.unwrap_or(""), self.issuer_name] {
            text.push_str(part);
        }
        for (label_zh, label_en, _) in &self.rows {
            text.push_str(label_zh);
            text.push_str(label_en.unwrap_or(""));
        }
        text
    }

    /// The file identifier (ISO 32000-1 §14.4): from the license identifier,
    /// which names one version of one license, and the time of issue.
    fn file_id(&self) -> [u8; 16] {
        let mut digest = ring::digest::Context::new(&ring::digest::SHA256);
        digest.update(b"govseal license certificate\0");
        digest.update(self.license_id.as_bytes());
        digest.update(&self.issued_at.unix_timestamp().to_be_bytes());
        let mut id = [0; 16];
        id.copy_from_slice(&digest.finish().as_ref()[..16]);
        id
    }

    /// Draws the certificate.
    pub fn render(&self) -> Result<RenderedDocument, CertificateError> {
        let mut document = DocumentBuilder::new().map_err(CertificateError::Font)?;
        document.set_title(self.title_zh);
        document.set_file_id(self.file_id());
        // What every certificate of this type and issuer prints comes from a
        // subset made once; this one subsets only its own values' glyphs.
        document
            .share_glyphs(&self.shared_text())
            .map_err(CertificateError::Font)?;
        let body = TextStyle::new(BODY);
        let value_x = mm(LEFT + LABEL_WIDTH_MM);
        let value_width = mm(RIGHT) - value_x;
        let mut wrapped: Vec<Vec<Line>> = Vec::with_capacity(self.rows.len());
        for (label_zh, _, value) in &self.rows {
            wrapped.push(
                wrap(document.font(), value, body, value_width, 0.0).map_err(font_err(label_zh))?,
            );
        }
        let mut page = document.add_page(A4);

        // Double border.
        page.stroke_rect(
            mm(12.0),
            mm(12.0),
            A4.width - mm(24.0),
            A4.height - mm(24.0),
            1.5,
        );
        page.stroke_rect(
            mm(14.0),
            mm(14.0),
            A4.width - mm(28.0),
            A4.height - mm(28.0),
            0.5,
        );

        let centre = A4.width / 2.0;
        let mut y = A4.height - mm(40.0);
        page.text(
            centre,
            y,
            Align::Center,
            TextStyle::new(26.0),
            self.title_zh,
        )
        .map_err(font_err("name_zh"))?;
        if let Some(en) = self.title_en {
            y -= 20.0;
            page.text(centre, y, Align::Center, TextStyle::new(12.0), en)
                .map_err(font_err("name_en"))?;
        }
        y -= 24.0;
        let id_text = format!("证照编号：{}", self.license_id);
        page.text(centre, y, Align::Center, TextStyle::new(8.0), &id_text)
            .map_err(font_err("id"))?;
        y -= 16.0;
        page.line((mm(LEFT), y), (mm(RIGHT), y), 0.6);
        y -= 26.0;

        // The table stops above the QR code and the signature block.
        let floor = mm(25.0) + QR_SIZE_PT + 14.0;
        for ((label_zh, label_en, _), lines) in self.rows.iter().zip(&wrapped) {
            let needed = PITCH * lines.len().max(1) as f32 + label_en.map_or(0.0, |_| 4.0);
            if y - needed < floor {
                return Err(CertificateError::TooLong);
            }
            page.text(mm(LEFT), y, Align::Left, body, label_zh)
                .map_err(font_err(label_zh))?;
            if let Some(en) = label_en {
                page.text(mm(LEFT), y - 11.0, Align::Left, TextStyle::new(7.0), en)
                    .map_err(font_err(label_zh))?;
            }
            for (i, line) in lines.iter().enumerate() {
                page.line_of_text(value_x, y - PITCH * i as f32, body, line, None)
                    .map_err(font_err(label_zh))?;
            }
            y -= needed;
        }

        // QR code, lower left: a white square with the quiet zone, then the
        // modules as a stencil mask of one sample per module (ISO 32000-1
        // §8.9.6.2), painted black: a few hundred bytes, where one rectangle
        // per run of dark modules took tens of kilobytes of content stream.
        let matrix = QrMatrix::encode(self.qr_text)?;
        let (qr_x, qr_y) = (mm(LEFT), mm(25.0));
        let module = QR_SIZE_PT / matrix.width_with_quiet_zone() as f32;
        page.set_fill_color(Rgb(1.0, 1.0, 1.0));
        page.fill_rect(qr_x, qr_y, QR_SIZE_PT, QR_SIZE_PT);
        page.set_fill_color(Rgb::BLACK);
        let width = matrix.width();
        let side = module * width as f32;
        let inset = module * QUIET_ZONE as f32;
        let modules = u32::try_from(width).map_err(|_| QrError::BeyondQr)?;
        page.fill_mask(
            qr_x + inset,
            qr_y + inset,
            side,
            side,
            StencilMask::from_rows(modules, matrix.rows()),
        );
        page.text(
            qr_x + QR_SIZE_PT / 2.0,
            qr_y - 12.0,
            Align::Center,
            TextStyle::new(8.0),
            "扫码核验 Scan to verify",
        )
        .map_err(font_err("qr"))?;

        // Issuer and date, lower right; the seal is centred on the issuer's name.
        let axis = mm(RIGHT) - mm(30.0);
        let issuer_y = mm(55.0);
        page.text(
            axis,
            issuer_y,
            Align::Center,
            TextStyle::new(14.0),
            self.issuer_name,
        )
        .map_err(font_err("issuer_name"))?;
        let date = chinese_date(self.issued_at);
        page.text(
            axis,
            issuer_y - 24.0,
            Align::Center,
            TextStyle::new(14.0),
            &date,
        )
        .map_err(font_err("date"))?;

        let pdf = document.finish().map_err(CertificateError::Font)?;
        Ok(RenderedDocument {
            pdf,
            seal_anchor: SealAnchor {
                page: 1,
                x: axis,
                y: issuer_y - 4.0,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_id(pdf: &[u8]) -> Vec<Vec<u8>> {
        let doc = lopdf::Document::load_mem(pdf).expect("parse");
        doc.trailer
            .get(b"ID")
            .and_then(lopdf::Object::as_array)
            .expect("/ID")
            .iter()
            .map(|o| o.as_str().expect("string").to_vec())
            .collect()
    }

    fn certificate(license_id: &str) -> LicenseCertificate<'_> {
        LicenseCertificate {
            title_zh: "营业执照",
            title_en: None,
            license_id,
            rows: vec![("名称", None, "福州市闽江科技有限公司".into())],
            issuer_name: "福州市鼓楼区市场监督管理局",
            issued_at: OffsetDateTime::from_unix_timestamp(1_716_163_200).expect("time"),
            qr_text: "https://verify.example.gov.cn/v/AAAA",
        }
    }

    #[test]
    fn each_license_version_has_its_own_file_identifier() {
        let a = file_id(
            &certificate("1.2.156.3005.2.A.1.1.X")
                .render()
                .expect("a")
                .pdf,
        );
        let b = file_id(
            &certificate("1.2.156.3005.2.A.2.1.X")
                .render()
                .expect("b")
                .pdf,
        );
        // Both elements equal in a file first written (§14.4), 16 bytes.
        assert_eq!(a.len(), 2);
        assert_eq!(a[0], a[1]);
        assert_eq!(a[0].len(), 16);
        assert_ne!(a, b);
    }

    #[test]
    fn poppler_finds_both_fonts_embedded_and_extracts_their_text() {
        use crate::document::testing::{have_tool, pdftotext, run};
        if !have_tool("pdffonts") || !have_tool("pdftotext") {
            return;
        }
        let pdf = certificate("1.2.156.3005.2.A.1.1.X")
            .render()
            .expect("render")
            .pdf;
        // Two subsets of the one font, both embedded with a ToUnicode CMap.
        let (_dir, fonts) = run("pdffonts", &[], &pdf);
        let fonts = String::from_utf8_lossy(&fonts);
        let embedded: Vec<&str> = fonts
            .lines()
            .filter(|l| l.contains("DroidSansFallbackFull") && l.contains("yes yes yes"))
            .collect();
        assert_eq!(embedded.len(), 2, "{fonts}");
        // The label and issuer (shared subset) and the value (own subset).
        let text: String = pdftotext(&pdf).split_whitespace().collect();
        for expected in [
            "营业执照",
            "名称",
            "福州市闽江科技有限公司",
            "福州市鼓楼区市场监督管理局",
        ] {
            assert!(text.contains(expected), "{expected} in {text}");
        }
    }

    #[test]
    fn a_label_the_font_cannot_draw_is_named() {
        // Labels go into the shared subset; a character without a glyph is
        // still refused naming the row, not as an internal font error.
        let mut bad = certificate("1.2.156.3005.2.A.1.1.X");
        bad.rows = vec![("名称★", None, "福州市闽江科技有限公司".into())];
        match bad.render() {
            Err(CertificateError::UnsupportedCharacter { field, character }) => {
                assert_eq!((field.as_str(), character), ("名称★", '★'));
            }
            other => panic!("expected the unsupported ★, got {:?}", other.map(|_| ())),
        }
    }
}
