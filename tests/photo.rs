//! `govseal verify PHOTO` (issue 5): the license's own `qr.png`, and a
//! "phone photo" made from it (scaled by a non-integer factor, on a grey
//! background, with noise, saved as JPEG quality 70), verified by the CLI
//! (a separate process, no database, no network) against a copy of the
//! trust bundle and by `POST /v1/verify`; a photo of a revoked license, an
//! image with no QR code and a decompression bomb are not passed. zbar
//! (check-qr.sh) reads the synthesized photo to the same text.

use crate::common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{TestApp, interop, spawn_app};
use image::codecs::jpeg::JpegEncoder;
use image::{GrayImage, ImageFormat, Luma};
use serde_json::{Value, json};

const TYPE_CODE: &str = "11100000000013127D001";

/// A department with a seal, a license type and one license; returns the
/// license id, its record and a token that manages it.
async fn license(app: &TestApp) -> (String, Vec<u8>, String) {
    let d = app.create_department("福州市鼓楼区市场监督管理局").await;
    let department = d["id"].as_str().unwrap().to_string();
    let token = app
        .create_client(
            &department,
            &["seals:manage", "licenses:issue", "licenses:manage"],
        )
        .await;
    let r = app
        .post(
            "/v1/seals",
            Some(&token),
            &json!({ "department_id": department, "type": "approval" }),
        )
        .await;
    assert_eq!(r.status(), 201);
    let seal: Value = r.json().await.unwrap();
    let f = |key: &str| json!({"key": key, "label_zh": key, "label_en": key, "type": "text", "required": true, "on_qr": true});
    let body = json!({
        "code": TYPE_CODE, "name_zh": "营业执照", "name_en": "Business Licence",
        "issuers": [department], "validity_days": 0, "fields": [f("name"), f("addr")]
    });
    let r = app
        .post("/v1/license-types", Some(&app.admin_token), &body)
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let body = json!({
        "type": TYPE_CODE, "seal_id": seal["id"],
        "holder": {"name": "福州某某科技有限公司", "id_type": "uscc", "id": "91110000600037341L"},
        "fields": {"name": "福州某某科技有限公司", "addr": "福建省福州市鼓楼区五四路158号"}
    });
    let r = app.post("/v1/licenses", Some(&token), &body).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app
        .get(&format!("/v1/licenses/{id}/record"), Some(&token))
        .await;
    assert_eq!(r.status(), 200);
    (id, r.bytes().await.unwrap().to_vec(), token)
}

/// Runs `govseal verify FILE --trust DIR --json`; returns exit code and report.
fn cli(trust: &Path, file: &Path) -> (i32, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_govseal"))
        .arg("verify")
        .arg(file)
        .arg("--trust")
        .arg(trust)
        .arg("--json")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let report: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{e}: {text} {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap(), report)
}

fn verdict(r: &Value) -> (String, String) {
    let sub = r["sub_indication"]
        .as_str()
        .or(r["signatures"][0]["sub_indication"].as_str())
        .unwrap_or("");
    (r["indication"].as_str().unwrap().into(), sub.into())
}

/// A repeatable pseudo-random byte stream (xorshift64).
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> u8 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 56) as u8
    }
}

/// A phone photo of a printed QR code, roughly: the code scaled by 2.7
/// (bilinear, so module edges are blurred over non-integer pixels), off
/// centre on a grey background, grey-level noise of ±12, JPEG quality 70.
fn phone_photo(png: &[u8]) -> Vec<u8> {
    let code = image::load_from_memory_with_format(png, ImageFormat::Png)
        .unwrap()
        .into_luma8();
    let (w, h) = code.dimensions();
    let (sw, sh) = ((f64::from(w) * 2.7) as u32, (f64::from(h) * 2.7) as u32);
    let scaled = image::imageops::resize(&code, sw, sh, image::imageops::FilterType::Triangle);
    let mut photo = GrayImage::from_pixel(sw + 420, sh + 300, Luma([150]));
    image::imageops::overlay(&mut photo, &scaled, 260, 110);
    let mut noise = Noise(0x9E37_79B9_7F4A_7C15);
    for p in photo.pixels_mut() {
        let delta = i16::from(noise.next() % 25) - 12;
        p.0[0] = (i16::from(p.0[0]) + delta).clamp(0, 255) as u8;
    }
    let mut jpeg = Vec::new();
    photo
        .write_with_encoder(JpegEncoder::new_with_quality(&mut jpeg, 70))
        .unwrap();
    jpeg
}

/// A JPEG photo of nothing: grey noise.
fn photo_without_qr() -> Vec<u8> {
    let mut noise = Noise(42);
    let img = GrayImage::from_fn(640, 480, |_, _| Luma([100 + noise.next() % 60]));
    let mut jpeg = Vec::new();
    img.write_with_encoder(JpegEncoder::new_with_quality(&mut jpeg, 70))
        .unwrap();
    jpeg
}

/// A decompression bomb: a PNG whose header (ISO/IEC 15948 §11.2.2)
/// declares 100000×100000 RGB pixels, with a little IDAT (the pixels would
/// inflate later), written by the `png` crate.
fn png_bomb() -> Vec<u8> {
    let mut png = Vec::new();
    let mut encoder = png::Encoder::new(&mut png, 100_000, 100_000);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().unwrap();
    let idat = miniz_oxide::deflate::compress_to_vec_zlib(&[0, 1, 2, 3], 9);
    writer.write_chunk(png::chunk::IDAT, &idat).unwrap();
    // Dropping the writer ends the file with IEND; `finish` would refuse
    // the missing rows.
    drop(writer);
    png
}

#[tokio::test]
async fn photos_of_a_license_qr_code_verify_offline_and_over_http() {
    let app = spawn_app().await;
    let (id, record, token) = license(&app).await;
    let url = govseal::license::qr::qr_url(&app.url, &record);
    let r = app
        .get(&format!("/v1/licenses/{id}/qr.png"), Some(&token))
        .await;
    assert_eq!(r.status(), 200);
    let png = r.bytes().await.unwrap().to_vec();
    let jpeg = phone_photo(&png);
    assert!(jpeg.starts_with(&[0xff, 0xd8, 0xff]));

    let work = tempfile::tempdir().unwrap();
    let write = |name: &str, data: &[u8]| {
        let p = work.path().join(name);
        std::fs::write(&p, data).unwrap();
        p
    };
    let fresh = work.path().join("fresh");
    common::copy_bundle(&app, &fresh);
    let qr_png = write("qr.png", &png);
    let photo = write("photo.jpg", &jpeg);

    // The license's own PNG and the phone photo: TOTAL-PASSED, this license.
    for file in [&qr_png, &photo] {
        let (code, r) = cli(&fresh, file);
        assert_eq!(code, 0, "{}: {r}", file.display());
        assert_eq!(r["indication"], "TOTAL-PASSED", "{r}");
        assert_eq!(r["license"]["license_id"], id.as_str());
    }

    // An image with no QR code, and a bomb refused from its header.
    let (code, r) = cli(&fresh, &write("wall.jpg", &photo_without_qr()));
    assert_eq!(
        (code, verdict(&r)),
        (1, ("TOTAL-FAILED".into(), "FORMAT_FAILURE".into())),
        "{r}"
    );
    assert!(r.to_string().contains("no QR code found"), "{r}");
    let started = Instant::now();
    let (code, r) = cli(&fresh, &write("bomb.png", &png_bomb()));
    assert_eq!(
        (code, verdict(&r)),
        (1, ("TOTAL-FAILED".into(), "FORMAT_FAILURE".into())),
        "{r}"
    );
    assert!(r.to_string().contains("100000×100000"), "{r}");
    assert!(started.elapsed() < Duration::from_secs(5));

    // POST /v1/verify: the photo as image/jpeg, the PNG as image/png, the bomb.
    let post = |ct: &'static str, body: Vec<u8>| {
        app.http
            .post(format!("{}/v1/verify", app.url))
            .header("content-type", ct)
            .body(body)
            .send()
    };
    for (ct, body) in [("image/jpeg", jpeg.clone()), ("image/png", png.clone())] {
        let r: Value = post(ct, body).await.unwrap().json().await.unwrap();
        assert_eq!(r["indication"], "TOTAL-PASSED", "{ct}: {r}");
        assert_eq!(r["license"]["license_id"], id.as_str());
    }
    let r = post("image/png", png_bomb()).await.unwrap();
    assert_eq!(r.status(), 200);
    let r: Value = r.json().await.unwrap();
    assert_eq!(verdict(&r).1, "FORMAT_FAILURE", "{r}");
    let r = post("image/jpeg", vec![0xff; 21 * 1024 * 1024])
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let api: Value = app.get("/openapi.json", None).await.json().await.unwrap();
    let content = &api["paths"]["/v1/verify"]["post"]["requestBody"]["content"];
    assert!(
        content["image/jpeg"].is_object() && content["image/png"].is_object(),
        "{content}"
    );

    // Revoked: a fresh bundle says so for the photo too.
    let r = app
        .post(
            &format!("/v1/licenses/{id}/revoke"),
            Some(&token),
            &json!({"reason": "吊销"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let revoked = work.path().join("revoked");
    common::copy_bundle(&app, &revoked);
    let (code, r) = cli(&revoked, &photo);
    assert_eq!(
        (code, verdict(&r)),
        (1, ("TOTAL-FAILED".into(), "REVOKED".into())),
        "{r}"
    );

    // zbar, a decoder we did not write, reads the same text from the photo.
    if interop::available("photo interop", &["zbarimg"]) {
        let (ok, scanned) = interop::run("check-qr.sh", &[&photo], &[]);
        assert!(ok, "{scanned}");
        assert_eq!(scanned.trim_end(), url);
    }
}
