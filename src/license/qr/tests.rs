//! Tests of the QR payload and images; zbar reads the images back and pycose
//! verifies what zbar read.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use miniz_oxide::deflate::compress_to_vec_zlib;

use super::*;
use crate::license::record::{sign_record, verify_record};
use crate::license::testkit;

const PUBLIC_URL: &str = "https://zzku.fuzhou.gov.cn/govseal/";

/// A real 12-field business license record, its seal certificate and QR text.
fn license_qr() -> (Vec<u8>, Vec<u8>, String) {
    let (signer, cert) = testkit::seal();
    let cose = sign_record(&testkit::business_license_claims(), &*signer, &cert).unwrap();
    let url = qr_url(PUBLIC_URL, &cose);
    (cose, cert, url)
}

#[test]
fn a_twelve_field_license_fits_version_25_at_level_m() {
    let (cose, _, url) = license_qr();
    let matrix = QrMatrix::encode(&url).unwrap();
    println!(
        "12-field license: {} bytes COSE, {} bytes zlib, {} characters of URL → QR version {} (M), {} modules",
        cose.len(),
        compress_to_vec_zlib(&cose, 9).len(),
        url.len(),
        matrix.version(),
        matrix.width()
    );
    assert!(matrix.version() <= MAX_VERSION);
    // The headroom the module documentation promises (997 bytes at 25-M):
    // if this fails, the claims grew; update the budget in mod.rs.
    assert!(
        url.len() + 36 <= 997,
        "only {} bytes to spare",
        997 - url.len()
    );
    assert_eq!(matrix.width(), 17 + 4 * matrix.version() as usize);
    assert!(url.starts_with("https://zzku.fuzhou.gov.cn/govseal/v/"));
}

#[test]
fn payload_round_trips_in_every_accepted_form() {
    let (cose, cert, url) = license_qr();
    for text in [
        url.clone(),
        format!("{url}/"),
        format!("  {url}\r\n"),
        url.rsplit('/').next().unwrap().to_string(),
    ] {
        assert_eq!(payload_from_text(&text).unwrap(), cose, "{text:?}");
    }
    assert!(verify_record(&payload_from_text(&url).unwrap(), &[cert]).is_ok());

    // Incompressible records travel uncompressed, and read back the same way.
    let mut random = vec![0xd2u8];
    random.extend((0..200u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    let payload = qr_payload(&random);
    assert_eq!(URL_SAFE_NO_PAD.decode(&payload).unwrap(), random);
    assert_eq!(
        payload_from_text(&qr_url("https://x.cn", &random)).unwrap(),
        random
    );
}

#[test]
fn refuses_bombs_and_non_records() {
    let mut bomb = vec![0xd2u8];
    bomb.resize(MAX_RECORD_BYTES * 64, 0);
    let compressed = URL_SAFE_NO_PAD.encode(compress_to_vec_zlib(&bomb, 9));
    assert!(
        compressed.len() < 2_000,
        "a real bomb: {}",
        compressed.len()
    );
    assert_eq!(
        payload_from_text(&format!("https://x.cn/v/{compressed}")),
        Err(QrError::InflatesTooFar)
    );
    // Exactly at the limit is still accepted.
    bomb.truncate(MAX_RECORD_BYTES);
    let at_limit = URL_SAFE_NO_PAD.encode(compress_to_vec_zlib(&bomb, 9));
    assert_eq!(
        payload_from_text(&at_limit).unwrap().len(),
        MAX_RECORD_BYTES
    );

    // A stream whose Adler-32 trailer does not match its data (RFC 1950 §2.2).
    let mut record = vec![0xd2u8];
    record.extend(b"record record record record");
    let mut corrupt = compress_to_vec_zlib(&record, 9);
    *corrupt.last_mut().unwrap() ^= 1;
    let corrupt = URL_SAFE_NO_PAD.encode(corrupt);
    assert_eq!(payload_from_text(&corrupt), Err(QrError::NotARecord));

    let zlib_of_text = URL_SAFE_NO_PAD.encode(compress_to_vec_zlib(b"hello hello hello", 9));
    assert_eq!(payload_from_text(&zlib_of_text), Err(QrError::NotARecord));
    assert_eq!(
        payload_from_text("https://x.cn/v/AAAA"),
        Err(QrError::NotARecord)
    );
    assert_eq!(payload_from_text("   "), Err(QrError::NoPayload));
    assert_eq!(
        payload_from_text("https://x.cn/v/a+b"),
        Err(QrError::Base64)
    );
    assert_eq!(
        payload_from_text(&"A".repeat(MAX_TEXT_BYTES + 1)),
        Err(QrError::TextTooLong {
            len: MAX_TEXT_BYTES + 1
        })
    );
}

#[test]
fn refuses_versions_above_25() {
    // Version 25 at M holds 997 bytes (ISO/IEC 18004 Table 7); one more needs 26.
    let fits = "a".repeat(997);
    assert_eq!(QrMatrix::encode(&fits).unwrap().version(), MAX_VERSION);
    let text = "a".repeat(998);
    assert_eq!(
        QrMatrix::encode(&text).unwrap_err(),
        QrError::TooLarge { version: 26 }
    );
    assert_eq!(qr_png(&text, 4), Err(QrError::TooLarge { version: 26 }));
    assert_eq!(
        QrMatrix::encode(&"a".repeat(3_000)).unwrap_err(),
        QrError::BeyondQr
    );
}

#[test]
fn png_has_the_symbol_and_quiet_zone_where_expected() {
    let (_, _, url) = license_qr();
    let matrix = QrMatrix::encode(&url).unwrap();
    let png = qr_png(&url, 3).unwrap();
    let mut reader = png::Decoder::new(std::io::Cursor::new(png))
        .read_info()
        .unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let side = (matrix.width() + 8) * 3;
    assert_eq!((info.width as usize, info.height as usize), (side, side));
    let bit = |x: usize, y: usize| buf[y * info.line_size + x / 8] & (0x80 >> (x % 8)) != 0;
    // Quiet zone white; the top-left finder pattern's corner black, its ring white.
    assert!(bit(0, 0) && bit(11, 11));
    assert!(!bit(12, 12) && !bit(14, 14));
    assert!(bit(15, 15));
    assert_eq!(qr_png(&url, 0), Err(QrError::ModuleSize));
    assert_eq!(qr_png(&url, MAX_MODULE_PX + 1), Err(QrError::ModuleSize));
}

#[test]
fn svg_and_pdf_draw_every_dark_module_once() {
    let (_, _, url) = license_qr();
    let matrix = QrMatrix::encode(&url).unwrap();
    let dark = (0..matrix.width())
        .flat_map(|y| (0..matrix.width()).map(move |x| (x, y)))
        .filter(|&(x, y)| matrix.is_dark(x, y))
        .count();
    let svg = qr_svg(&url).unwrap();
    let side = matrix.width() + 8;
    assert!(svg.contains(&format!(r#"viewBox="0 0 {side} {side}""#)));
    let drawn: usize = svg
        .split('h')
        .skip(1)
        .filter_map(|s| s.split('v').next()?.parse::<usize>().ok())
        .sum();
    assert_eq!(drawn, dark);

    let (ops, version) = qr_pdf_content(&url, 400.0, 50.0, 120.0).unwrap();
    assert_eq!(version, matrix.version());
    let ops = String::from_utf8(ops).unwrap();
    assert!(
        ops.starts_with("q\n1 g\n400 50 120 120 re\nf\n0 g\n"),
        "{ops:.60}"
    );
    assert!(ops.ends_with("f\nQ"), "{}", &ops[ops.len() - 20..]);
    assert_eq!(ops.matches(" re").count(), 1 + matrix.dark_runs().len());
    assert_eq!(
        qr_pdf_content(&url, f32::NAN, 0.0, 10.0),
        Err(QrError::Placement)
    );
}

/// A one-page A4 PDF with the QR code drawn by [`qr_pdf_content`].
fn pdf_with_qr(text: &str) -> Vec<u8> {
    use pdf_writer::{Pdf, Rect, Ref};
    let (catalog, tree, page, contents) = (Ref::new(1), Ref::new(2), Ref::new(3), Ref::new(4));
    let (ops, _) = qr_pdf_content(text, 400.0, 60.0, 150.0).unwrap();
    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids([page]).count(1);
    pdf.page(page)
        .media_box(Rect::new(0.0, 0.0, 595.0, 842.0))
        .parent(tree)
        .contents(contents);
    pdf.stream(contents, &ops);
    pdf.finish()
}

#[test]
fn zbar_reads_the_png_and_pdf_and_pycose_verifies_what_it_read() {
    if !testkit::interop_available(
        "qr/zbar+pycose",
        &[testkit::ZBAR, "command -v pdftoppm", testkit::PYCOSE],
    ) {
        return;
    }
    let (_, cert, url) = license_qr();
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name);
    std::fs::write(path("qr.png"), qr_png(&url, 4).unwrap()).unwrap();
    std::fs::write(path("qr.pdf"), pdf_with_qr(&url)).unwrap();
    std::fs::write(path("seal.pem"), testkit::pem(&cert)).unwrap();

    for image in ["qr.png", "qr.pdf"] {
        let (ok, out) = testkit::run("check-qr.sh", &[&path(image)]);
        assert!(ok, "{image}: {out}");
        assert_eq!(out.trim_end(), url, "{image}");
    }
    let (_, scanned) = testkit::run("check-qr.sh", &[&path("qr.png")]);
    std::fs::write(path("scanned.txt"), scanned.trim_end()).unwrap();
    let (ok, out) = testkit::run("check-cose.py", &[&path("scanned.txt"), &path("seal.pem")]);
    assert!(ok && out.contains("check-cose: PASS"), "{out}");
}
