//! The `govseal` command line: `init`, `--help` and the exit codes.

use std::process::Command;

fn govseal() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_govseal"));
    cmd.env_remove("GOVSEAL_DATABASE_URL")
        .env_remove("GOVSEAL_ADMIN_TOKEN")
        .env(
            "GOVSEAL_MASTER_KEY",
            "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
        );
    cmd
}

#[test]
fn init_creates_a_pki_once_and_refuses_to_overwrite_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let certs = dir.path().join("certs");
    let run = || {
        govseal()
            .args([
                "init",
                "--key-algorithm",
                "ecdsa-p384",
                "--authority-name",
                "福建省统一身份认证中心",
                "--data",
            ])
            .arg(&data)
            .arg("--certs")
            .arg(&certs)
            .output()
            .unwrap()
    };
    let first = run();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let root = std::fs::read_to_string(certs.join("root.pem")).unwrap();
    let der = pem::parse(&root).unwrap().into_contents();
    let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
    assert!(
        cert.subject()
            .to_string_with_registry(x509_parser::objects::oid_registry())
            .unwrap()
            .contains("福建省统一身份认证中心")
    );
    assert_eq!(cert.public_key().parsed().unwrap().key_size(), 384);

    let second = run();
    assert_eq!(second.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&second.stderr).contains("refusing to overwrite"));
    assert_eq!(
        std::fs::read_to_string(certs.join("root.pem")).unwrap(),
        root,
        "the root CA is untouched"
    );
}

#[test]
fn production_mode_refuses_missing_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let out = govseal()
        .env_remove("GOVSEAL_MASTER_KEY")
        .args(["init", "--production", "--data"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("GOVSEAL_MASTER_KEY"));
    assert!(
        !dir.path().join("govseal.db").exists(),
        "nothing was created"
    );
}

#[test]
fn every_command_has_help() {
    for args in [&["--help"][..], &["serve", "--help"], &["init", "--help"]] {
        let out = govseal().args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Usage: govseal"),
            "{args:?}"
        );
    }
}

/// The fuzz seeds' trust bundle and the time at which it is current: a
/// stamped PDF and a license QR made by the project itself, verified
/// offline (see `tests/fuzz_seeds.rs`).
fn fixture() -> (std::path::PathBuf, String) {
    let fuzz = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let at = std::fs::read_to_string(fuzz.join("fixtures/validation-time.txt")).unwrap();
    (fuzz, at.trim().to_string())
}

/// `govseal verify ARGS…`: (exit code, stdout, stderr).
fn verify(args: &[&std::ffi::OsStr]) -> (Option<i32>, String, String) {
    let out = govseal().arg("verify").args(args).output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn verify_exits_0_1_2_for_the_three_indications() {
    let (fuzz, at) = fixture();
    let trust = fuzz.join("fixtures/trust");
    let stamped = std::fs::read(fuzz.join("seeds/verify_pdf/stamped-b-lt.pdf")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str, pdf: &[u8], trust: &std::path::Path| {
        let path = dir.path().join(name);
        std::fs::write(&path, pdf).unwrap();
        verify(&[
            path.as_os_str(),
            "--trust".as_ref(),
            trust.as_os_str(),
            "--at".as_ref(),
            at.as_ref(),
        ])
    };

    let (code, stdout, _) = run("ok.pdf", &stamped, &trust);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.contains("TOTAL-PASSED"), "{stdout}");

    // The page's text changed inside the signed bytes ("Approval", written
    // in hex, becomes "Bpproval"): a forgery.
    let mut forged = stamped.clone();
    let at_text = forged
        .windows(16)
        .position(|w| w == b"417070726F76616C")
        .expect("the page text is uncompressed");
    forged[at_text + 1] = b'2';
    let (code, stdout, _) = run("forged.pdf", &forged, &trust);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("TOTAL-FAILED"), "{stdout}");

    // A bundle whose only anchor is another certificate (the TSA's): no
    // chain to a trust anchor, so nothing can be said either way.
    let stranger = dir.path().join("stranger");
    std::fs::create_dir(&stranger).unwrap();
    std::fs::copy(trust.join("tsa.pem"), stranger.join("root.pem")).unwrap();
    let (code, stdout, _) = run("ok.pdf", &stamped, &stranger);
    assert_eq!(code, Some(2), "{stdout}");
    assert!(stdout.contains("INDETERMINATE"), "{stdout}");

    // A license QR text given as an argument.
    let qr = std::fs::read_to_string(fuzz.join("seeds/license_qr/qr-url.txt")).unwrap();
    let (code, stdout, _) = verify(&[
        "--qr".as_ref(),
        qr.as_ref(),
        "--trust".as_ref(),
        trust.as_os_str(),
        "--at".as_ref(),
        at.as_ref(),
    ]);
    assert_eq!(code, Some(0), "{stdout}");
}

#[test]
fn errors_that_are_no_verdict_exit_with_their_own_codes() {
    let (fuzz, _) = fixture();
    let trust = fuzz.join("fixtures/trust");
    let pdf = fuzz.join("seeds/verify_pdf/stamped-b-lt.pdf");
    let dir = tempfile::tempdir().unwrap();

    // A missing file: EX_NOINPUT, naming it.
    let missing = dir.path().join("missing.pdf");
    let (code, _, stderr) = verify(&[missing.as_os_str(), "--trust".as_ref(), trust.as_os_str()]);
    assert_eq!(code, Some(66), "{stderr}");
    assert!(stderr.contains("missing.pdf"), "{stderr}");

    // A trust bundle that does not exist, or has no root.pem: EX_NOINPUT.
    for bundle in [dir.path().join("no-such-dir"), dir.path().to_path_buf()] {
        let (code, _, stderr) = verify(&[pdf.as_os_str(), "--trust".as_ref(), bundle.as_os_str()]);
        assert_eq!(code, Some(66), "{stderr}");
        assert!(stderr.contains("trust bundle"), "{stderr}");
    }

    // A root.pem that holds no certificate: EX_NOINPUT too.
    let broken = dir.path().join("broken");
    std::fs::create_dir(&broken).unwrap();
    std::fs::write(broken.join("root.pem"), "not a certificate\n").unwrap();
    let (code, _, stderr) = verify(&[pdf.as_os_str(), "--trust".as_ref(), broken.as_os_str()]);
    assert_eq!(code, Some(66), "{stderr}");

    // Usage errors: EX_USAGE, never clap's 2 (INDETERMINATE).
    for args in [
        &["--no-such-flag".as_ref(), pdf.as_os_str()][..],
        &[],
        &[pdf.as_os_str(), "--at".as_ref(), "yesterday".as_ref()],
        &["--log-proof".as_ref(), "p.tlog".as_ref(), pdf.as_os_str()],
    ] {
        let (code, _, stderr) = verify(args);
        assert_eq!(code, Some(64), "{args:?}: {stderr}");
        assert!(stderr.starts_with("error: "), "{stderr}");
    }
    let out = govseal().arg("no-such-command").output().unwrap();
    assert_eq!(out.status.code(), Some(64));

    // Help is no error, and it prints the table.
    let out = govseal().args(["verify", "--help"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.contains("Exit codes:") && help.contains("66"),
        "{help}"
    );

    // Other commands: a log key file that cannot be read.
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let out = govseal()
        .args(["log", "audit", "--data"])
        .arg(&data)
        .arg("--log-key")
        .arg(dir.path().join("no-key.txt"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(66),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
