use super::*;
use crate::document::testing::{have_tool, pdftotext, render};

fn seal(diameter_mm: f32) -> SealAppearance {
    SealAppearance {
        department_name: "福州市行政审批局".into(),
        seal_name: "行政审批专用章".into(),
        seal_code: Some("3501000012345".into()),
        diameter_mm,
    }
}

#[test]
fn rejects_bad_input_with_typed_errors() {
    let mut s = seal(42.0);
    s.department_name = "  ".into();
    assert!(matches!(
        s.to_pdf(),
        Err(AppearanceError::Empty {
            field: "department_name"
        })
    ));
    s.department_name = "局".repeat(41);
    assert!(matches!(
        s.to_pdf(),
        Err(AppearanceError::TooLong {
            max: 40,
            actual: 41,
            ..
        })
    ));
    s.department_name = "福州市★局".into();
    match s.to_svg() {
        Err(AppearanceError::UnsupportedCharacter { field, character }) => {
            assert_eq!((field, character), ("department_name", '★'));
        }
        other => panic!("expected an unsupported ★, got {other:?}"),
    }
    let mut s = seal(29.9);
    assert!(matches!(s.to_pdf(), Err(AppearanceError::Diameter(_))));
    s.diameter_mm = f32::NAN;
    assert!(matches!(s.to_pdf(), Err(AppearanceError::Diameter(_))));
    let mut s = seal(50.0);
    s.seal_code = Some("12a4".into());
    assert!(matches!(
        s.to_pdf(),
        Err(AppearanceError::InvalidSealCode(_))
    ));
    s.seal_code = Some(String::new());
    assert!(matches!(
        s.to_pdf(),
        Err(AppearanceError::InvalidSealCode(_))
    ));
}

#[test]
fn the_page_is_the_seal_square_and_the_background_is_transparent() {
    let pdf = seal(42.0).to_pdf().expect("pdf");
    let text = String::from_utf8_lossy(&pdf);
    // 42 mm = 119.0551 pt.
    assert!(
        text.contains("/MediaBox [0 0 119.0551 119.0551]"),
        "MediaBox missing"
    );
    assert!(text.contains("/FontFile2"), "the font must be embedded");
    // Nothing is painted but in seal red, and no rectangle covers the page.
    let document = lopdf::Document::load_mem(&pdf).expect("parse");
    let page = *document.get_pages().get(&1).expect("page 1");
    let content = String::from_utf8_lossy(&document.get_page_content(page)).into_owned();
    let operators: Vec<&str> = content.split_whitespace().collect();
    assert!(
        !operators.contains(&"re"),
        "a rectangle is painted: {content}"
    );
    for (index, _) in operators
        .iter()
        .enumerate()
        .filter(|(_, op)| **op == "rg" || **op == "RG")
    {
        assert_eq!(
            operators[index - 3..index],
            ["0.86", "0.08", "0.08"],
            "{content}"
        );
    }
}

#[test]
fn svg_draws_ring_star_and_every_character_as_outlines() {
    let svg = seal(42.0).to_svg().expect("svg");
    assert!(svg.starts_with("<svg") && svg.contains(r#"width="42mm""#));
    assert!(svg.contains("<circle"));
    // 1 star + 8 + 7 + 13 glyphs.
    assert_eq!(svg.matches("<path").count(), 1 + 8 + 7 + 13);
    assert!(!svg.contains(r#"d="""#), "every glyph has an outline");
}

#[test]
fn renders_as_a_red_seal_with_extractable_text() {
    if !have_tool("pdftoppm") || !have_tool("pdftotext") {
        return;
    }
    for diameter in [30.0, 42.0, 50.0] {
        let pdf = seal(diameter).to_pdf().expect("pdf");
        let image = render(&pdf, 300, &format!("seal-{diameter}"));
        let expected = (diameter / 25.4 * 300.0).round() as usize;
        assert!(image.width.abs_diff(expected) <= 1 && image.height.abs_diff(expected) <= 1);
        let centre = image.width / 2;
        // The ring, about 0.85 mm in from the edge, top, bottom, left and right.
        let inset = (0.85 / 25.4 * 300.0) as usize;
        for (x, y) in [
            (centre, inset),
            (centre, image.height - 1 - inset),
            (inset, centre),
            (image.width - 1 - inset, centre),
        ] {
            assert!(
                image.is_red(x, y),
                "{diameter} mm: no ring at ({x}, {y}): {:?}",
                image.at(x, y)
            );
        }
        // The star's body at the centre, and white between star and ring.
        assert!(
            image.is_red(centre, centre),
            "{diameter} mm: no star at the centre"
        );
        let above_star = centre - (0.45 * centre as f32) as usize;
        assert!(
            !image.is_red(centre, above_star),
            "{diameter} mm: the star is too big"
        );
        let text: String = pdftotext(&pdf)
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        for character in "福州市行政审批局行政审批专用章".chars() {
            assert!(
                text.contains(character),
                "{diameter} mm: {character} not extracted from {text:?}"
            );
        }
        assert!(text.contains('3') && text.contains('5'), "{text:?}");
    }
}

#[test]
fn a_seal_drawn_again_is_the_same_drawing_and_another_seal_is_not() {
    let first = seal(42.0).to_pdf().expect("pdf");
    assert_eq!(
        seal(42.0).draw_pdf().expect("pdf"),
        first,
        "drawing is deterministic"
    );
    assert_eq!(seal(42.0).to_pdf().expect("pdf"), first);
    assert_ne!(seal(40.0).to_pdf().expect("pdf"), first);
    let mut renamed = seal(42.0);
    renamed.seal_name = "合同专用章".into();
    assert_ne!(renamed.to_pdf().expect("pdf"), first);
    let mut recoded = seal(42.0);
    recoded.seal_code = None;
    assert_ne!(recoded.to_pdf().expect("pdf"), first);
}
