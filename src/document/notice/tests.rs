use time::macros::date;

use super::*;
use crate::document::testing::{have_tool, pdftotext, render, run};

fn notice(paragraphs: Vec<String>) -> ApprovalNotice {
    ApprovalNotice {
        title: "行政许可决定书".into(),
        document_number: "榕审批〔2026〕123号".into(),
        addressee: "福州市鼓楼区某某餐饮有限公司".into(),
        paragraphs,
        issuer_name: "福州市行政审批局".into(),
        date: date!(2026 - 11 - 23),
    }
}

fn body() -> Vec<String> {
    vec![
        "你单位于2026年11月2日提出的食品经营许可申请（受理编号：FZ20261102001），经审查，符合《中华人民共和国行政许可法》第三十八条第一款和《食品经营许可和备案管理办法》第二十一条的规定，决定准予行政许可。".into(),
        "许可内容：经营场所福州市鼓楼区五四路100号，经营项目为热食类食品制售、冷食类食品制售，有效期至2031年11月22日。".into(),
        "如不服本决定，可以在收到本决定书之日起六十日内向福州市人民政府申请行政复议，或者在六个月内向福州市鼓楼区人民法院提起行政诉讼。".into(),
    ]
}

fn squeeze(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

#[test]
fn writes_the_date_in_full_without_leading_zeros() {
    assert_eq!(chinese_date(date!(2026 - 01 - 05)), "2026年1月5日");
}

#[test]
fn rejects_bad_input_with_typed_errors() {
    let mut n = notice(body());
    n.title = " ".into();
    assert!(matches!(
        n.render(),
        Err(DocumentError::Empty { field: "title" })
    ));
    let mut n = notice(Vec::new());
    assert!(matches!(
        n.render(),
        Err(DocumentError::Empty {
            field: "paragraphs"
        })
    ));
    n.paragraphs = vec!["审".repeat(10_001), "批".repeat(10_000)];
    assert!(matches!(
        n.render(),
        Err(DocumentError::TooLong {
            field: "paragraphs",
            actual: 20_001,
            ..
        })
    ));
    n.paragraphs = vec!["准予。".into(); 501];
    assert!(matches!(
        n.render(),
        Err(DocumentError::TooManyParagraphs { .. })
    ));
    n.paragraphs = vec!["准予许可😀".into()];
    assert!(matches!(
        n.render(),
        Err(DocumentError::UnsupportedCharacter {
            field: "paragraphs",
            character: '😀'
        })
    ));
}

#[test]
fn renders_a_checked_pdf_with_extractable_chinese_and_an_embedded_subset() {
    let rendered = notice(body()).render().expect("render");
    let anchor = rendered.seal_anchor;
    assert_eq!(anchor.page, 1);
    // Bottom right of the text block: right half of the page, below the body.
    assert!(
        anchor.x > A4.width / 2.0 && anchor.x < A4.width - mm(28.0),
        "{anchor:?}"
    );
    assert!(
        anchor.y > mm(35.0) && anchor.y < A4.height / 2.0,
        "{anchor:?}"
    );
    if !have_tool("qpdf")
        || !have_tool("pdftotext")
        || !have_tool("pdffonts")
        || !have_tool("pdftoppm")
    {
        return;
    }
    run("qpdf", &["--check"], &rendered.pdf);
    let text = squeeze(&pdftotext(&rendered.pdf));
    for expected in [
        "行政许可决定书",
        "榕审批〔2026〕123号",
        "福州市鼓楼区某某餐饮有限公司：",
        "2026年11月23日",
    ] {
        assert!(text.contains(expected), "{expected} missing from {text}");
    }
    for paragraph in body() {
        assert!(
            text.contains(&paragraph),
            "paragraph missing: {paragraph}\n{text}"
        );
    }
    let (_, fonts) = run("pdffonts", &[], &rendered.pdf);
    let fonts = String::from_utf8_lossy(&fonts);
    let line = fonts
        .lines()
        .find(|l| l.contains("DroidSansFallbackFull"))
        .expect("font listed");
    // name, type "CID TrueType", encoding Identity-H, emb yes, sub yes, uni yes.
    assert!(
        line.contains("+DroidSansFallbackFull") && line.contains("CID TrueType"),
        "{line}"
    );
    assert!(
        line.contains("Identity-H") && line.contains("yes yes yes"),
        "{line}"
    );
    let image = render(&rendered.pdf, 72, "notice");
    // The title is drawn in the top margin's first line, centred.
    let title_row = (mm(37.0) + 16.0) as usize;
    assert!(
        (0..image.width).any(|x| image.at(x, title_row).0 < 100),
        "no title ink at row {title_row}"
    );
}

#[test]
fn a_long_body_flows_over_pages_and_the_seal_goes_on_the_last() {
    let paragraphs = (0..30).map(|i| format!("第{i}项：{}", body()[0])).collect();
    let rendered = notice(paragraphs).render().expect("render");
    assert!(rendered.seal_anchor.page >= 3, "{:?}", rendered.seal_anchor);
    if !have_tool("qpdf") || !have_tool("pdftotext") {
        return;
    }
    run("qpdf", &["--check"], &rendered.pdf);
    let (_, pages) = run("qpdf", &["--show-npages"], &rendered.pdf);
    let pages: u32 = String::from_utf8_lossy(&pages)
        .trim()
        .parse()
        .expect("page count");
    assert_eq!(pages, rendered.seal_anchor.page);
    let text = squeeze(&pdftotext(&rendered.pdf));
    assert!(text.contains("第29项"), "{text}");
}
