//! A license QR code read from a photo (PNG, ISO/IEC 15948; JPEG,
//! ISO/IEC 10918-1) — a screenshot of `qr.png` or a phone's picture of a
//! printed license — with the QR decoder of ISO/IEC 18004 (`rqrr`).
//!
//! Images come from anyone, so the header is read first and the image is
//! refused before any pixel is decoded when the file or its declared size
//! is too large (a decompression bomb declares a huge size in a few bytes).
//! Big photos are scaled down before the search for finder patterns, which
//! costs time in proportion to the pixels; the full size is tried only when
//! the smaller one finds nothing.

use std::io::Cursor;

use image::imageops::{self, FilterType};
use image::{DynamicImage, GrayImage, ImageDecoder, ImageFormat, ImageReader, Limits};

/// The largest image file read (bytes).
pub const MAX_IMAGE_BYTES: usize = 20 * 1024 * 1024;

/// The most pixels an image may declare (40 megapixels: a phone's largest
/// photo; a QR code needs far fewer).
pub const MAX_PIXELS: u64 = 40_000_000;

/// The longest side, in pixels, that finder patterns are first searched at.
const SEARCH_SIDE: u32 = 1600;

/// Why no QR text could be read from an image.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PhotoError {
    /// The file is larger than [`MAX_IMAGE_BYTES`].
    #[error("the image is {0} bytes; at most {MAX_IMAGE_BYTES} are read")]
    TooLarge(usize),
    /// The header declares more than [`MAX_PIXELS`].
    #[error("the image declares {width}×{height} pixels; at most {MAX_PIXELS} are decoded")]
    TooManyPixels {
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
    },
    /// Not a PNG or JPEG, or a corrupt one.
    #[error("the image cannot be decoded: {0}")]
    Undecodable(String),
    /// No QR code was found.
    #[error("no QR code found in the image")]
    NoQrCode,
    /// QR codes were found but none could be read.
    #[error("{0} QR code(s) found in the image but none could be read: {1}")]
    Unreadable(usize, String),
}

/// The text of the first QR code in `bytes` for which `wanted` holds; if
/// none does, the first text read (so the caller can say what it is).
pub fn qr_text(bytes: &[u8], wanted: impl Fn(&str) -> bool) -> Result<String, PhotoError> {
    let gray = decode(bytes)?;
    let (width, height) = gray.dimensions();
    let longest = width.max(height);
    let mut sizes = Vec::new();
    if longest > SEARCH_SIDE {
        let scale = f64::from(SEARCH_SIDE) / f64::from(longest);
        let side = |n: u32| ((f64::from(n) * scale).round() as u32).max(1);
        sizes.push((side(width), side(height)));
    }
    sizes.push((width, height));
    let mut first = None;
    let mut failures = (0, String::new());
    for (w, h) in sizes {
        let scaled;
        let image = if (w, h) == (width, height) {
            &gray
        } else {
            scaled = imageops::resize(&gray, w, h, FilterType::Triangle);
            &scaled
        };
        let mut prepared =
            rqrr::PreparedImage::prepare_from_greyscale(w as usize, h as usize, |x, y| {
                image.get_pixel(x as u32, y as u32).0[0]
            });
        for grid in prepared.detect_grids() {
            match grid.decode() {
                Ok((_, text)) if wanted(&text) => return Ok(text),
                Ok((_, text)) => {
                    first.get_or_insert(text);
                }
                Err(e) => failures = (failures.0 + 1, e.to_string()),
            }
        }
        if first.is_some() {
            break;
        }
    }
    match (first, failures) {
        (Some(text), _) => Ok(text),
        (None, (0, _)) => Err(PhotoError::NoQrCode),
        (None, (n, why)) => Err(PhotoError::Unreadable(n, why)),
    }
}

/// The image in grey levels, refused before decoding when too large.
fn decode(bytes: &[u8]) -> Result<GrayImage, PhotoError> {
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(PhotoError::TooLarge(bytes.len()));
    }
    let undecodable = |e: image::ImageError| PhotoError::Undecodable(e.to_string());
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| PhotoError::Undecodable(e.to_string()))?;
    if !matches!(reader.format(), Some(ImageFormat::Png | ImageFormat::Jpeg)) {
        return Err(PhotoError::Undecodable("neither a PNG nor a JPEG".into()));
    }
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_PIXELS * 8);
    reader.limits(limits);
    let decoder = reader.into_decoder().map_err(undecodable)?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(PhotoError::TooManyPixels { width, height });
    }
    let image = DynamicImage::from_decoder(decoder).map_err(undecodable)?;
    Ok(image.into_luma8())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A PNG (ISO/IEC 15948 §5.2, §11.2) whose IHDR declares
    /// `width`×`height`, 8-bit RGB, followed by a few bytes of IDAT — the
    /// shape of a decompression bomb, whose pixels would inflate later —
    /// written by the `png` crate.
    fn png_header(width: u32, height: u32) -> Vec<u8> {
        let mut png = Vec::new();
        let mut encoder = png::Encoder::new(&mut png, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().unwrap();
        let idat = miniz_oxide::deflate::compress_to_vec_zlib(&[0; 4096], 9);
        writer.write_chunk(png::chunk::IDAT, &idat).unwrap();
        // Dropping the writer ends the file with IEND; `finish` would
        // refuse the missing rows.
        drop(writer);
        png
    }

    #[test]
    fn a_bomb_is_refused_from_its_header() {
        let started = std::time::Instant::now();
        let err = qr_text(&png_header(100_000, 100_000), |_| true).unwrap_err();
        assert!(
            matches!(
                err,
                PhotoError::TooManyPixels {
                    width: 100_000,
                    height: 100_000
                }
            ),
            "{err}"
        );
        assert!(started.elapsed().as_secs() < 2);
    }

    #[test]
    fn not_an_image_and_too_large_are_refused() {
        assert!(matches!(
            qr_text(b"GIF89a....", |_| true),
            Err(PhotoError::Undecodable(_))
        ));
        assert!(matches!(
            qr_text(&vec![0; MAX_IMAGE_BYTES + 1], |_| true),
            Err(PhotoError::TooLarge(_))
        ));
    }

    #[test]
    fn qr_codes_are_read_and_the_wanted_one_is_chosen() {
        let render = |text: &str| {
            let code = qrcode::QrCode::new(text.as_bytes()).unwrap();
            let n = code.width() as u32;
            let colors = code.to_colors();
            (n, colors)
        };
        // Two codes side by side on a white page, 6 pixels a module.
        let (n1, c1) = render("https://other.example/menu");
        let (n2, c2) = render("https://zwfw.example/v/ABCD");
        let module = 6;
        let margin = 4 * module;
        let w = margin * 3 + (n1 + n2) * module;
        let h = margin * 2 + n1.max(n2) * module;
        let mut img = GrayImage::from_pixel(w, h, image::Luma([255]));
        for (x0, n, colors) in [(margin, n1, &c1), (margin * 2 + n1 * module, n2, &c2)] {
            for (i, c) in colors.iter().enumerate() {
                if *c == qrcode::Color::Dark {
                    let (mx, my) = (i as u32 % n, i as u32 / n);
                    for dy in 0..module {
                        for dx in 0..module {
                            img.put_pixel(
                                x0 + mx * module + dx,
                                margin + my * module + dy,
                                image::Luma([0]),
                            );
                        }
                    }
                }
            }
        }
        let mut png = Vec::new();
        img.write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
            .unwrap();
        let wanted = qr_text(&png, |t| t.contains("/v/")).unwrap();
        assert_eq!(wanted, "https://zwfw.example/v/ABCD");
        let any = qr_text(&png, |_| false).unwrap();
        assert!(any.starts_with("https://"), "{any}");
        let blank = GrayImage::from_pixel(200, 200, image::Luma([255]));
        let mut png = Vec::new();
        blank
            .write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
            .unwrap();
        assert!(matches!(qr_text(&png, |_| true), Err(PhotoError::NoQrCode)));
    }
}
