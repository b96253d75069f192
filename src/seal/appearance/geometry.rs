//! The geometry of a round official seal, computed once and drawn by both the
//! PDF and the SVG back ends so they agree exactly.
//!
//! Proportions follow the round seals of state organs (国务院《关于国家行政机关和
//! 企业事业单位社会团体印章管理的规定》, 国发〔1999〕25号: a round seal with a
//! five-pointed star in the centre, the organ's name along the upper arc from
//! left to right): for a 42 mm seal the ring is about 1.2 mm, the star about
//! 14 mm across, the arc characters about 6.5 mm high.

use std::f32::consts::PI;

use crate::document::font::{CjkFont, FontError};
use crate::document::mm;

use super::SealAppearance;

/// A run of text (one character) with the matrix mapping its em square
/// (origin on the baseline at the left edge) into seal space.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct PlacedGlyph {
    pub character: char,
    pub matrix: [f32; 6],
}

/// Everything a back end needs to draw the seal, in points, origin at the
/// lower-left corner of the square, y up.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct SealDrawing {
    /// Side of the square = diameter.
    pub size: f32,
    /// Radius of the ring's centre line.
    pub ring_radius: f32,
    /// Stroke width of the ring.
    pub ring_width: f32,
    /// The star's outline, outer and inner points alternating, from the top.
    pub star: [(f32, f32); 10],
    pub glyphs: Vec<PlacedGlyph>,
    /// Width of the stroke that thickens the glyphs, in points.
    pub glyph_stroke: f32,
}

/// The inner/outer radius ratio of a regular five-pointed star: sin 18° / sin 54°.
const STAR_INNER_RATIO: f32 = 0.381_966;

/// Maps the em-space point `(u, v)` of a glyph, scaled by `size` (height) and
/// `size * stretch` (width) and rotated by `angle` radians anticlockwise, onto
/// `target`.
fn glyph_matrix(
    target: (f32, f32),
    angle: f32,
    size: f32,
    stretch: f32,
    anchor: (f32, f32),
) -> [f32; 6] {
    let (sin, cos) = angle.sin_cos();
    let (a, b) = (size * stretch * cos, size * stretch * sin);
    let (c, d) = (-size * sin, size * cos);
    let (u, v) = anchor;
    [
        a,
        b,
        c,
        d,
        target.0 - (a * u + c * v),
        target.1 - (b * u + d * v),
    ]
}

/// Where the middle of a character's cell lies in its glyph's own
/// coordinates (em): half the advance, corrected for full-width forms that
/// stand in for ASCII digits.
fn cell_centre(font: &CjkFont, character: char) -> Result<f32, FontError> {
    let metrics = font.metrics(character)?;
    Ok(metrics.advance / 2.0 - metrics.offset)
}

/// The angle between the centres of the first and last character of the
/// upper arc: about 210° for an ordinary name, up to 240° for a long one,
/// less for a very short one so its characters do not drift apart.
fn arc_span_degrees(count: usize) -> f32 {
    match count {
        0 | 1 => 0.0,
        2..=7 => 30.0 * (count - 1) as f32,
        _ => (210.0 + (count - 8) as f32 * 3.75).min(240.0),
    }
}

/// Lays out a (validated) seal.
pub(super) fn lay_out(seal: &SealAppearance, font: &CjkFont) -> Result<SealDrawing, FontError> {
    let size = mm(seal.diameter_mm);
    let scale = seal.diameter_mm / 42.0;
    let centre = size / 2.0;
    let ring_width = mm(1.2) * scale.clamp(0.85, 1.1);
    let ring_radius = centre - ring_width / 2.0 - mm(0.25);
    let inner = ring_radius - ring_width / 2.0;
    let gap = mm(0.8) * scale.clamp(0.85, 1.1);
    let (ideo_bottom, ideo_top) = font.vertical_extent('国')?;
    let ideo_height = ideo_top - ideo_bottom;
    let ideo_middle = (ideo_top + ideo_bottom) / 2.0;
    let mut glyphs = Vec::new();

    // Upper arc: the department's name, clockwise from the left.
    let name: Vec<char> = seal.department_name.trim().chars().collect();
    let count = name.len();
    let span = arc_span_degrees(count).to_radians();
    let mut height = 0.155 * size;
    let mut stretch = 0.8;
    for _ in 0..3 {
        let radius = inner - gap - height / 2.0;
        let pitch = if count > 1 {
            radius * span / (count - 1) as f32
        } else {
            f32::INFINITY
        };
        let em = height / ideo_height;
        stretch = (0.88 * pitch / em).min(0.8);
        if stretch < 0.5 {
            stretch = 0.5;
            height = (0.88 * pitch / 0.5) * ideo_height;
        }
    }
    let em = height / ideo_height;
    let radius = inner - gap - height / 2.0;
    for (index, &character) in name.iter().enumerate() {
        let theta = if count > 1 {
            -span / 2.0 + span * index as f32 / (count - 1) as f32
        } else {
            0.0
        };
        let target = (centre + radius * theta.sin(), centre + radius * theta.cos());
        let anchor = (cell_centre(font, character)?, ideo_middle);
        glyphs.push(PlacedGlyph {
            character,
            matrix: glyph_matrix(target, -theta, em, stretch, anchor),
        });
    }

    // Lower arc: the seal code, small, left to right, tops towards the centre.
    let mut free_radius = inner - gap;
    if let Some(code) = seal.seal_code.as_deref() {
        let (digit_bottom, digit_top) = font.vertical_extent('0')?;
        let height = 0.055 * size;
        let em = height / (digit_top - digit_bottom);
        let radius = inner - gap * 0.8 - height / 2.0;
        let tracking = 0.12 * em;
        let mut advances = Vec::new();
        for character in code.chars() {
            advances.push((character, font.advance(character)? * em));
        }
        let length: f32 = advances.iter().map(|(_, a)| a).sum::<f32>()
            + tracking * advances.len().saturating_sub(1) as f32;
        let mut along = -length / 2.0;
        for (character, advance) in advances {
            let alpha = (along + advance / 2.0) / radius;
            let target = (centre + radius * alpha.sin(), centre - radius * alpha.cos());
            let anchor = (
                cell_centre(font, character)?,
                (digit_top + digit_bottom) / 2.0,
            );
            glyphs.push(PlacedGlyph {
                character,
                matrix: glyph_matrix(target, alpha, em, 1.0, anchor),
            });
            along += advance + tracking;
        }
        free_radius = radius - height / 2.0 - gap * 0.6;
    }

    // The star, centred, about a third of the diameter across.
    let star_radius = size / 6.0;
    let star = std::array::from_fn(|k| {
        let angle = PI / 2.0 + k as f32 * PI / 5.0;
        let r = if k % 2 == 0 {
            star_radius
        } else {
            star_radius * STAR_INNER_RATIO
        };
        (centre + r * angle.cos(), centre + r * angle.sin())
    });

    // The seal's name, horizontal under the star, squeezed to fit the circle.
    let name: Vec<char> = seal.seal_name.trim().chars().collect();
    let mut height = 0.105 * size;
    let top = centre - star_radius * (PI / 5.0).cos() - 0.035 * size;
    let mut stretch = 0.9;
    let mut tracking_ratio = 0.12;
    let count = name.len().max(1) as f32;
    for _ in 0..3 {
        let bottom_offset = centre - (top - height);
        let half = (free_radius.powi(2) - bottom_offset.powi(2))
            .max(0.0)
            .sqrt()
            - mm(0.5);
        let em = height / ideo_height;
        let natural = count * em + (count - 1.0) * tracking_ratio * em;
        stretch = (2.0 * half / natural).min(0.9);
        if stretch < 0.5 {
            stretch = 0.5;
            tracking_ratio = 0.06;
            height = 2.0 * half / (count * 0.5 + (count - 1.0) * tracking_ratio) * ideo_height;
        }
    }
    let em = height / ideo_height;
    let advances: Vec<f32> = name
        .iter()
        .map(|&c| font.advance(c).map(|a| a * em * stretch))
        .collect::<Result<_, _>>()?;
    let tracking = tracking_ratio * em * stretch;
    let total = advances.iter().sum::<f32>() + tracking * (count - 1.0);
    let mut x = centre - total / 2.0;
    let middle = top - height / 2.0;
    for (&character, advance) in name.iter().zip(advances) {
        let anchor = (cell_centre(font, character)?, ideo_middle);
        glyphs.push(PlacedGlyph {
            character,
            matrix: glyph_matrix((x + advance / 2.0, middle), 0.0, em, stretch, anchor),
        });
        x += advance + tracking;
    }

    Ok(SealDrawing {
        size,
        ring_radius,
        ring_width,
        star,
        glyphs,
        glyph_stroke: mm(0.12) * scale,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glyph_matrix_puts_the_anchor_on_the_target() {
        let m = glyph_matrix((10.0, 20.0), 0.7, 12.0, 0.8, (0.5, 0.4));
        let (x, y) = (
            m[0] * 0.5 + m[2] * 0.4 + m[4],
            m[1] * 0.5 + m[3] * 0.4 + m[5],
        );
        assert!(
            (x - 10.0).abs() < 1e-4 && (y - 20.0).abs() < 1e-4,
            "{x} {y}"
        );
    }

    #[test]
    fn every_glyph_stays_inside_the_ring_for_any_name_length() {
        let font = CjkFont::load().expect("font");
        for diameter in [30.0, 42.0, 50.0] {
            for length in [1, 2, 5, 8, 13, 20, 40] {
                let seal = SealAppearance {
                    department_name: "审".repeat(length),
                    seal_name: "章".repeat(length.min(24)),
                    seal_code: Some("1234567890123".into()),
                    diameter_mm: diameter,
                };
                let drawing = lay_out(&seal, &font).expect("layout");
                let centre = drawing.size / 2.0;
                let inner = drawing.ring_radius - drawing.ring_width / 2.0;
                for glyph in &drawing.glyphs {
                    let [a, b, c, d, e, f] = glyph.matrix;
                    // The ink box of an ideograph: about 0.05..0.95 em wide, -0.1..0.85 high.
                    for (u, v) in [(0.05, -0.1), (0.95, -0.1), (0.05, 0.85), (0.95, 0.85)] {
                        let (x, y) = (a * u + c * v + e, b * u + d * v + f);
                        let distance = (x - centre).hypot(y - centre);
                        assert!(
                            distance < inner,
                            "{diameter} mm, {length} chars: {} pokes out ({distance} ≥ {inner})",
                            glyph.character
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn the_arc_span_grows_with_the_name_and_stays_within_240_degrees() {
        assert_eq!(arc_span_degrees(1), 0.0);
        assert_eq!(arc_span_degrees(8), 210.0);
        assert!(arc_span_degrees(12) > 210.0);
        assert_eq!(arc_span_degrees(40), 240.0);
    }
}
