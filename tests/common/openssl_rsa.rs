//! An RSA PKI and time-stamping authority made by OpenSSL, as other
//! signers have them: a root, a signer whose certificate the root signed
//! with RSASSA-PSS, a TSA answering with `openssl ts -reply` (plain
//! `rsaEncryption`, ESS signing-certificate v1), in-process as govseal's
//! [`TimeStamper`] or over HTTP (RFC 3161 §3.4) for pyHanko.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use govseal::pades::TimeStamper;

/// Runs `cmd`, failing the test with its output if it fails.
pub fn run(cmd: &mut Command) {
    let out = cmd.output().expect("run tool");
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs `openssl args…` in `dir`.
pub fn openssl(dir: &Path, args: &[&str]) {
    run(Command::new("openssl").current_dir(dir).args(args));
}

/// An RSA key and a certificate for it, issued by `root` (or self-signed
/// when `root` is None) with the extensions in `ext`; `pss` has the root
/// sign it with RSASSA-PSS (SHA-256, MGF1-SHA-256, 32-octet salt).
fn rsa_certificate(d: &Path, name: &str, bits: &str, root: Option<&str>, ext: &str, pss: bool) {
    openssl(
        d,
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            &format!("rsa_keygen_bits:{bits}"),
            "-out",
            &format!("{name}.key"),
        ],
    );
    std::fs::write(d.join(format!("{name}.ext")), ext).unwrap();
    let subject = format!("/O=Foreign RSA Authority/CN=OpenSSL {name}");
    let (key, cert, ext) = (
        format!("{name}.key"),
        format!("{name}.pem"),
        format!("{name}.ext"),
    );
    match root {
        None => openssl(
            d,
            &[
                "req",
                "-x509",
                "-new",
                "-subj",
                &subject,
                "-days",
                "30",
                "-key",
                &key,
                "-sha384",
                "-extensions",
                "v3",
                "-config",
                &ext,
                "-out",
                &cert,
            ],
        ),
        Some(root) => {
            let csr = format!("{name}.csr");
            openssl(
                d,
                &["req", "-new", "-subj", &subject, "-key", &key, "-out", &csr],
            );
            let (serial, root_pem, root_key) = (
                format!("0x{}", hex::encode(name)),
                format!("{root}.pem"),
                format!("{root}.key"),
            );
            let mut args: Vec<&str> = vec![
                "x509",
                "-req",
                "-days",
                "30",
                "-sha256",
                "-set_serial",
                &serial,
                "-in",
                &csr,
                "-CA",
                &root_pem,
                "-CAkey",
                &root_key,
                "-extfile",
                &ext,
                "-extensions",
                "v3",
                "-out",
                &cert,
            ];
            if pss {
                args.extend([
                    "-sigopt",
                    "rsa_padding_mode:pss",
                    "-sigopt",
                    "rsa_pss_saltlen:digest",
                ]);
            }
            openssl(d, &args);
        }
    }
}

/// An OpenSSL RSA PKI in `d`: root (RSA-3072, SHA-384), signer (RSA-2048,
/// certificate signed with RSASSA-PSS) and TSA (RSA-2048), the root's CRL,
/// and `bundle/` with the root and CRL.
pub fn openssl_rsa_pki(d: &Path) {
    let v3 = |lines: &str| {
        format!("[req]\ndistinguished_name = dn\n[dn]\n[v3]\nsubjectKeyIdentifier = hash\n{lines}")
    };
    rsa_certificate(
        d,
        "root",
        "3072",
        None,
        &v3("basicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign\n"),
        false,
    );
    rsa_certificate(
        d,
        "signer",
        "2048",
        Some("root"),
        &v3(
            "basicConstraints = CA:FALSE\nkeyUsage = critical,digitalSignature,nonRepudiation\n\
             authorityKeyIdentifier = keyid\n",
        ),
        true,
    );
    rsa_certificate(
        d,
        "tsa",
        "2048",
        Some("root"),
        &v3(
            "basicConstraints = CA:FALSE\nkeyUsage = critical,digitalSignature,nonRepudiation\n\
             extendedKeyUsage = critical,timeStamping\nauthorityKeyIdentifier = keyid\n",
        ),
        false,
    );
    std::fs::write(
        d.join("ca.cnf"),
        "[ca]\ndefault_ca = c\n[c]\ndatabase = index.txt\ncrlnumber = crlnumber\n\
         default_md = sha256\ndefault_crl_days = 30\n",
    )
    .unwrap();
    std::fs::write(d.join("index.txt"), "").unwrap();
    std::fs::write(d.join("crlnumber"), "01\n").unwrap();
    openssl(
        d,
        &[
            "ca",
            "-config",
            "ca.cnf",
            "-gencrl",
            "-keyfile",
            "root.key",
            "-cert",
            "root.pem",
            "-out",
            "root.crl.pem",
        ],
    );
    std::fs::create_dir_all(d.join("bundle/crl")).unwrap();
    std::fs::copy(d.join("root.pem"), d.join("bundle/root.pem")).unwrap();
    openssl(
        d,
        &[
            "crl",
            "-in",
            "root.crl.pem",
            "-outform",
            "DER",
            "-out",
            "bundle/crl/root.crl",
        ],
    );
    // The TSA's configuration (openssl-ts(1)): SHA-256, ESS v1 with SHA-1 as
    // OpenSSL writes by default.
    std::fs::write(
        d.join("tsa.cnf"),
        "[tsa]\ndefault_tsa = t\n[t]\nserial = tsaserial\ncrypto_device = builtin\n\
         signer_digest = sha256\ndefault_policy = 1.2.3.4.1\ndigests = sha256, sha384, sha512\n\
         accuracy = secs:1\nordering = no\ntsa_name = no\ness_cert_id_chain = no\n\
         ess_cert_id_alg = sha1\ncerts = root.pem\n",
    )
    .unwrap();
    std::fs::write(d.join("tsaserial"), "01\n").unwrap();
}

/// OpenSSL's `ts -reply` as govseal's [`TimeStamper`].
pub struct OpensslTsa {
    /// The directory of [`openssl_rsa_pki`].
    pub dir: PathBuf,
    /// How many tokens it made.
    pub count: AtomicUsize,
}

impl TimeStamper for OpensslTsa {
    fn timestamp(&self, sha256_digest: &[u8; 32]) -> Result<Vec<u8>, String> {
        let n = self.count.fetch_add(1, Ordering::SeqCst);
        let (query, token) = (format!("q{n}.tsq"), format!("t{n}.der"));
        openssl(
            &self.dir,
            &[
                "ts",
                "-query",
                "-digest",
                &hex::encode(sha256_digest),
                "-sha256",
                "-cert",
                "-no_nonce",
                "-out",
                &query,
            ],
        );
        openssl(
            &self.dir,
            &[
                "ts",
                "-reply",
                "-queryfile",
                &query,
                "-signer",
                "tsa.pem",
                "-inkey",
                "tsa.key",
                "-config",
                "tsa.cnf",
                "-token_out",
                "-out",
                &token,
            ],
        );
        std::fs::read(self.dir.join(token)).map_err(|e| e.to_string())
    }
}

/// OpenSSL's TSA behind HTTP (RFC 3161 §3.4: POST application/timestamp-query,
/// answer application/timestamp-reply) on a port of 127.0.0.1, in a thread
/// that lives as long as the test process; returns its URL.
pub fn http_tsa(dir: &Path) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/tsa", listener.local_addr().unwrap());
    let dir = dir.to_path_buf();
    std::thread::spawn(move || {
        for (n, stream) in listener.incoming().enumerate() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                let lower = line.to_ascii_lowercase();
                if let Some(value) = lower.strip_prefix("content-length:") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
            let mut query = vec![0; length];
            if reader.read_exact(&mut query).is_err() {
                continue;
            }
            let (q, r) = (format!("http{n}.tsq"), format!("http{n}.tsr"));
            std::fs::write(dir.join(&q), &query).unwrap();
            openssl(
                &dir,
                &[
                    "ts",
                    "-reply",
                    "-queryfile",
                    &q,
                    "-signer",
                    "tsa.pem",
                    "-inkey",
                    "tsa.key",
                    "-config",
                    "tsa.cnf",
                    "-out",
                    &r,
                ],
            );
            let reply = std::fs::read(dir.join(&r)).unwrap();
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/timestamp-reply\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n",
                reply.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&reply);
        }
    });
    url
}
