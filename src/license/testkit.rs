//! Test fixtures for the license record and QR code: a realistic business
//! license (营业执照) with twelve summary fields, a seal key with its
//! certificate, and the runner for the third-party checkers in
//! `../shared/interop` (skipped with a printed SKIP when missing, failing
//! instead under `GOVSEAL_INTEROP=require`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use time::{Duration, OffsetDateTime};

use super::claims::{LicenseClaims, MaskedHolderId, StatusAtIssue};
use super::identifier::LicenseId;
use crate::identity::Uscc;
use crate::keystore::{KeyAlgorithm, KeyStore, MasterKey, Signer};
use crate::pki::{self, CertificateRole, Subject};

/// The business license type: the SAMR's USCC followed by 001.
pub const TYPE_CODE: &str = "11100000000013127D001";
/// The issuing market-regulation bureau.
pub const ISSUER_USCC: &str = "91350100M000100Y43";
/// The licensed company.
pub const HOLDER_USCC: &str = "91110000600037341L";

const COMPANY: &str = "福州市鼓楼区闽江智慧城市科技服务有限公司";
const BUREAU: &str = "福州市鼓楼区市场监督管理局";

/// A business license as it would be issued: 12 summary fields, company
/// name of 20 characters, address of 30, business scope of 60.
pub fn business_license_claims() -> LicenseClaims {
    let issuer: Uscc = ISSUER_USCC.parse().expect("issuer USCC");
    let holder: Uscc = HOLDER_USCC.parse().expect("holder USCC");
    let issued_at = OffsetDateTime::from_unix_timestamp(1_716_163_200).expect("time");
    let fields = [
        ("name", COMPANY),
        ("uscc", HOLDER_USCC),
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
        ("auth", BUREAU),
        ("date", "2024-05-20"),
        ("regno", "350102100045678"),
    ];
    LicenseClaims {
        license_id: LicenseId::new(TYPE_CODE, &issuer, 42, 1).expect("license id"),
        issuer_name: BUREAU.into(),
        seal_code: "3501020012345".into(),
        issued_at,
        valid_from: Some(issued_at),
        expires_at: Some(issued_at + Duration::days(365 * 25)),
        holder_name: COMPANY.into(),
        holder_id: MaskedHolderId::from(&holder),
        status: StatusAtIssue::Valid,
        fields: fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

/// A seal: its signer and its seal certificate (DER), issued by a fresh root.
pub fn seal() -> (Arc<dyn Signer>, Vec<u8>) {
    let store = KeyStore::new(MasterKey::from_text(&"11".repeat(32)).expect("master key"));
    let (_, root_key) = store
        .generate("root", KeyAlgorithm::EcdsaP256)
        .expect("root key");
    let (_, seal_key) = store
        .generate("seal", KeyAlgorithm::EcdsaP256)
        .expect("seal key");
    let now = OffsetDateTime::now_utc();
    let root = pki::self_signed_root(
        &*root_key,
        &Subject {
            common_name: "govseal test root".into(),
            ..Default::default()
        },
        now,
        Duration::days(365),
    )
    .expect("root certificate");
    let cert = pki::issue_certificate(
        &root.der,
        &*root_key,
        &*seal_key,
        CertificateRole::Seal,
        &Subject {
            common_name: format!("{BUREAU}行政审批专用章"),
            organization: Some(BUREAU.into()),
            uscc: Some(ISSUER_USCC.into()),
            serial_number: Some("3501020012345".into()),
            ..Default::default()
        },
        now,
        Duration::days(365),
        None,
    )
    .expect("seal certificate");
    (seal_key, cert.der)
}

/// PEM of a DER certificate.
pub fn pem(der: &[u8]) -> String {
    pem::encode_config(
        &pem::Pem::new("CERTIFICATE", der.to_vec()),
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    )
}

/// The interop scripts directory.
fn scripts() -> PathBuf {
    std::env::var_os("GOVSEAL_INTEROP_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/interop"))
}

/// True if `check` (a shell command) succeeds for every prerequisite.
/// Otherwise prints a SKIP line, or panics under `GOVSEAL_INTEROP=require`.
pub fn interop_available(test: &str, prerequisites: &[&str]) -> bool {
    let mut missing: Vec<String> = prerequisites
        .iter()
        .filter(|check| {
            !Command::new("sh")
                .arg("-c")
                .arg(format!("{check} >/dev/null 2>&1"))
                .status()
                .map(|s| s.success())
                .unwrap_or(false)
        })
        .map(|check| check.to_string())
        .collect();
    if !scripts().is_dir() {
        missing.push(format!("{} (interop scripts)", scripts().display()));
    }
    if missing.is_empty() {
        return true;
    }
    let message = format!(
        "{test}: interop prerequisites missing: {}",
        missing.join(", ")
    );
    if std::env::var("GOVSEAL_INTEROP").as_deref() == Ok("require") {
        panic!("{message} (GOVSEAL_INTEROP=require)");
    }
    eprintln!("SKIPPED {message} — run ../shared/interop/setup.sh");
    false
}

/// The check that python3 can run check-cose.py.
pub const PYCOSE: &str = "python3 -c 'import pycose, cbor2, cryptography'";
/// The check that zbar is installed for check-qr.sh.
pub const ZBAR: &str = "command -v zbarimg";

/// Runs an interop script; returns (success, stdout + stderr).
pub fn run(script: &str, args: &[&Path]) -> (bool, String) {
    let mut cmd = if script.ends_with(".py") {
        let mut cmd = Command::new("python3");
        cmd.arg(scripts().join(script));
        cmd
    } else {
        Command::new(scripts().join(script))
    };
    let out = cmd.args(args).output().expect("run interop script");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}
