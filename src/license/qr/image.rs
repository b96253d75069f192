//! Drawing a QR symbol: SVG for web pages, PNG for downloads, PDF content
//! operators for the license PDF. Every drawing includes the quiet zone
//! (ISO/IEC 18004 §6.3.8) painted light, so it reads on a patterned page.

use std::fmt::Write as _;

use pdf_writer::Content;

use super::{QUIET_ZONE, QrError, QrMatrix};

/// The largest module size [`qr_png`] draws (a version 25 symbol is then
/// 4,000 pixels wide).
pub const MAX_MODULE_PX: u32 = 32;

/// An SVG image of the QR code for `text`, one module per user unit, scaled
/// by its container (`viewBox` only).
pub fn qr_svg(text: &str) -> Result<String, QrError> {
    let matrix = QrMatrix::encode(text)?;
    let size = matrix.width_with_quiet_zone();
    let mut path = String::new();
    for (y, x, len) in matrix.dark_runs() {
        // Writing to a String cannot fail.
        let _ = write!(
            path,
            "M{} {}h{len}v1h-{len}z",
            x + QUIET_ZONE,
            y + QUIET_ZONE
        );
    }
    Ok(format!(
        concat!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" "#,
            r##"shape-rendering="crispEdges"><rect width="{size}" height="{size}" fill="#fff"/>"##,
            r##"<path fill="#000" d="{path}"/></svg>"##
        ),
        size = size,
        path = path
    ))
}

/// A 1-bit grayscale PNG of the QR code for `text`, `module_px` pixels per
/// module (1 to [`MAX_MODULE_PX`]).
pub fn qr_png(text: &str, module_px: u32) -> Result<Vec<u8>, QrError> {
    if module_px == 0 || module_px > MAX_MODULE_PX {
        return Err(QrError::ModuleSize);
    }
    let matrix = QrMatrix::encode(text)?;
    let modules = matrix.width_with_quiet_zone();
    let px = module_px as usize;
    let side = modules * px;
    let row_bytes = side.div_ceil(8);
    let mut data = Vec::with_capacity(row_bytes * side);
    for module_y in 0..modules {
        // Bits set are white (grayscale 1); dark modules clear them.
        let mut row = vec![0xffu8; row_bytes];
        for module_x in 0..modules {
            let dark = module_x >= QUIET_ZONE
                && module_y >= QUIET_ZONE
                && matrix.is_dark(module_x - QUIET_ZONE, module_y - QUIET_ZONE);
            if dark {
                for x in module_x * px..(module_x + 1) * px {
                    row[x / 8] &= !(0x80 >> (x % 8));
                }
            }
        }
        for _ in 0..px {
            data.extend_from_slice(&row);
        }
    }
    let side = u32::try_from(side).map_err(|_| QrError::ModuleSize)?;
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::One);
    let png_error = |e: png::EncodingError| QrError::Png(e.to_string());
    let mut writer = encoder.write_header().map_err(png_error)?;
    writer.write_image_data(&data).map_err(png_error)?;
    writer.finish().map_err(png_error)?;
    Ok(out)
}

/// PDF content-stream operators (ISO 32000-1 §8.5.3.1 `re`, §8.5.3.3 `f`)
/// that draw the QR code for `text` as a `size_pt`-wide square, quiet zone
/// included, with its lower-left corner at (`x`, `y`) in user space: a white
/// square, then one black rectangle per horizontal run of dark modules, all
/// inside `q … Q`. Returns the operators and the QR version.
pub fn qr_pdf_content(text: &str, x: f32, y: f32, size_pt: f32) -> Result<(Vec<u8>, u8), QrError> {
    if !(x.is_finite() && y.is_finite() && size_pt.is_finite() && size_pt > 0.0) {
        return Err(QrError::Placement);
    }
    let matrix = QrMatrix::encode(text)?;
    let module = size_pt / matrix.width_with_quiet_zone() as f32;
    let top = y + size_pt;
    let mut content = Content::new();
    content.save_state();
    content.set_fill_gray(1.0);
    content.rect(x, y, size_pt, size_pt);
    content.fill_nonzero();
    content.set_fill_gray(0.0);
    for (row, column, len) in matrix.dark_runs() {
        content.rect(
            x + (column + QUIET_ZONE) as f32 * module,
            top - (row + QUIET_ZONE + 1) as f32 * module,
            len as f32 * module,
            module,
        );
    }
    content.fill_nonzero();
    content.restore_state();
    Ok((content.finish().into_vec(), matrix.version()))
}
