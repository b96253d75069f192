//! The `govseal` command line: `init` and `--help`.

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
