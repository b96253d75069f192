//! The codecs govseal writes itself rather than taking from a crate, each
//! against the crate it duplicates, measured in the same run (issue 18: a
//! hand-written duplicate stays only with a benchmark that shows its gain):
//! `cargo bench --bench codecs`.
//!
//! - **qr**: `QrMatrix::encode` (`license/qr/encode.rs` and `mask.rs`:
//!   level M, byte mode, the mask of lowest penalty) against `qrcodegen`
//!   making the same symbol (`encode_segments_advanced`, level M, versions
//!   1–25, no error-correction boost) and reading it into rows, on license
//!   QR texts of 250, 500, 750 and 948 bytes (948 is the reference 12-field
//!   business license, version 25).
//! - **cbor**: decoding the claims of the reference 12-field business
//!   license (`LicenseClaims::from_cbor`: a strict reader over `ciborium`,
//!   then the typed checks) against decoding the same bytes to a bare
//!   `ciborium::Value`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use govseal::identity::Uscc;
use govseal::license::claims::{LicenseClaims, MaskedHolderId, StatusAtIssue};
use govseal::license::identifier::LicenseId;
use govseal::license::qr::QrMatrix;
use qrcodegen::{QrCode, QrCodeEcc, QrSegment, Version};
use time::{Duration, OffsetDateTime};

/// A license QR text of `len` bytes: the public URL, `/v/`, then base64url
/// characters from a fixed pseudo-random sequence (a compressed, signed
/// record does not compress further, so its characters look random).
fn qr_text(len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut text = String::from("https://zwfw.fuzhou.gov.cn/license/v/");
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    while text.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        text.push(ALPHABET[(state % 64) as usize] as char);
    }
    text
}

/// The symbol as `qrcodegen` makes it, read into rows as `QrMatrix` holds
/// them: what govseal would do if it used the crate.
fn qrcodegen_rows(text: &str) -> Vec<u128> {
    let code = QrCode::encode_segments_advanced(
        &[QrSegment::make_bytes(text.as_bytes())],
        QrCodeEcc::Medium,
        Version::MIN,
        Version::new(25),
        None,
        false,
    )
    .expect("fits version 25");
    let size = code.size();
    (0..size)
        .map(|y| (0..size).fold(0u128, |row, x| row | u128::from(code.get_module(x, y)) << x))
        .collect()
}

fn qr(c: &mut Criterion) {
    let mut group = c.benchmark_group("qr");
    for len in [250, 500, 750, 948] {
        let text = qr_text(len);
        let ours = QrMatrix::encode(&text).expect("fits");
        assert_eq!(ours.rows(), qrcodegen_rows(&text), "the same symbol");
        let version = ours.version();
        group.throughput(Throughput::Bytes(len as u64));
        group.bench_function(format!("govseal {len} B (version {version})"), |b| {
            b.iter(|| black_box(QrMatrix::encode(black_box(&text)).unwrap()))
        });
        group.bench_function(format!("qrcodegen {len} B (version {version})"), |b| {
            b.iter(|| black_box(qrcodegen_rows(black_box(&text))))
        });
    }
    group.finish();
}

/// The reference business license's claims (as in `license::testkit`):
/// twelve summary fields, a 20-character company name, a 30-character
/// address and a 60-character business scope.
fn claims() -> LicenseClaims {
    let issuer: Uscc = "91350100M000100Y43".parse().expect("issuer USCC");
    let holder: Uscc = "91110000600037341L".parse().expect("holder USCC");
    let company = "福州市鼓楼区闽江智慧城市科技服务有限公司";
    let bureau = "福州市鼓楼区市场监督管理局";
    let issued_at = OffsetDateTime::from_unix_timestamp(1_716_163_200).expect("time");
    let fields = [
        ("name", company),
        ("uscc", "91110000600037341L"),
        ("type", "有限责任公司（自然人投资或控股）"),
        ("rep", "林晓明"),
        ("cap", "伍佰万元整"),
        ("est", "2019-03-18"),
        ("term", "2019-03-18至2049-03-17"),
        (
            "addr",
            "福建省福州市鼓楼区五四路158号环球广场写字楼23层2301单元",
        ),
        (
            "scope",
            "软件开发；信息系统集成服务；信息技术咨询服务；数据处理和存储支持服务；物联网技术服务；\
             智能控制系统集成；网络与信息安全软件开发。",
        ),
        ("auth", bureau),
        ("date", "2024-05-20"),
        ("regno", "350102100045678"),
    ];
    LicenseClaims {
        license_id: LicenseId::new("11100000000013127D001", &issuer, 42, 1).expect("license id"),
        issuer_name: bureau.into(),
        seal_code: "3501020012345".into(),
        issued_at,
        valid_from: Some(issued_at),
        expires_at: Some(issued_at + Duration::days(365 * 25)),
        holder_name: company.into(),
        holder_id: MaskedHolderId::from(&holder),
        status: StatusAtIssue::Valid,
        fields: fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

fn cbor(c: &mut Criterion) {
    let bytes = claims().to_cbor().expect("encodes");
    let mut group = c.benchmark_group("cbor");
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function(
        format!("LicenseClaims::from_cbor ({} B)", bytes.len()),
        |b| b.iter(|| black_box(LicenseClaims::from_cbor(black_box(&bytes)).unwrap())),
    );
    group.bench_function(format!("ciborium::Value ({} B)", bytes.len()), |b| {
        b.iter(|| {
            black_box(ciborium::from_reader::<ciborium::Value, _>(black_box(&bytes[..])).unwrap())
        })
    });
    group.finish();
}

criterion_group!(benches, qr, cbor);
criterion_main!(benches);
