//! Interop tests of the PDF signing engine (`govseal::pdf`): PDFs made by
//! pdf-writer, qpdf (xref streams) and pyHanko (already signed) are signed with
//! real CMS from `openssl cms`, then checked with qpdf, poppler's pdfsig,
//! pyHanko and rendered with pdftoppm.
//!
//! Tests needing a missing tool print a message and pass, unless
//! `GOVSEAL_INTEROP=require`, in which case they fail.

use std::path::{Path, PathBuf};
use std::process::Command;

use govseal::pdf::{self, PdfError, SignatureKind, SignatureRequest};
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref};
use time::macros::datetime;

// ---------------------------------------------------------------- tools

/// True if every tool runs; otherwise skips (or fails under `GOVSEAL_INTEROP=require`).
fn tools_available(test: &str, tools: &[(&str, &str)]) -> bool {
    let missing: Vec<&str> = tools
        .iter()
        .filter(|(tool, arg)| Command::new(tool).arg(arg).output().is_err())
        .map(|(tool, _)| *tool)
        .collect();
    if missing.is_empty() {
        return true;
    }
    let message = format!("{test}: skipped, missing tools: {}", missing.join(", "));
    assert!(
        std::env::var("GOVSEAL_INTEROP").as_deref() != Ok("require"),
        "{message}"
    );
    eprintln!("{message}");
    false
}

const OPENSSL: (&str, &str) = ("openssl", "version");
const QPDF: (&str, &str) = ("qpdf", "--version");
const PDFSIG: (&str, &str) = ("pdfsig", "-v");
const CERTUTIL: (&str, &str) = ("certutil", "-H");
const PYHANKO: (&str, &str) = ("pyhanko", "--version");
const PDFTOPPM: (&str, &str) = ("pdftoppm", "-v");
const ALL: [(&str, &str); 6] = [OPENSSL, QPDF, PDFSIG, CERTUTIL, PYHANKO, PDFTOPPM];

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("tool runs");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

// ---------------------------------------------------------------- test PKI

struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    /// A root CA and two seal certificates (keyUsage digitalSignature, nonRepudiation).
    fn new() -> Pki {
        let dir = tempfile::tempdir().expect("tempdir");
        let pki = Pki { dir };
        let d = pki.dir.path();
        std::fs::write(
            d.join("leaf.ext"),
            "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n",
        )
        .expect("write");
        for name in ["root", "seal1", "seal2"] {
            run(Command::new("openssl")
                .args([
                    "genpkey",
                    "-algorithm",
                    "EC",
                    "-pkeyopt",
                    "ec_paramgen_curve:P-256",
                    "-out",
                ])
                .arg(d.join(format!("{name}.key"))));
        }
        run(Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-new",
                "-subj",
                "/CN=govseal test root",
                "-days",
                "30",
                "-key",
            ])
            .arg(d.join("root.key"))
            .args([
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
                "-out",
            ])
            .arg(d.join("root.pem")));
        for name in ["seal1", "seal2"] {
            run(Command::new("openssl")
                .args([
                    "req",
                    "-new",
                    "-subj",
                    &format!("/CN=govseal test {name}"),
                    "-key",
                ])
                .arg(d.join(format!("{name}.key")))
                .arg("-out")
                .arg(d.join(format!("{name}.csr"))));
            run(Command::new("openssl")
                .args([
                    "x509",
                    "-req",
                    "-days",
                    "30",
                    "-set_serial",
                    if name == "seal1" { "11" } else { "12" },
                    "-in",
                ])
                .arg(d.join(format!("{name}.csr")))
                .arg("-CA")
                .arg(d.join("root.pem"))
                .arg("-CAkey")
                .arg(d.join("root.key"))
                .arg("-extfile")
                .arg(d.join("leaf.ext"))
                .arg("-out")
                .arg(d.join(format!("{name}.pem"))));
        }
        pki
    }

    /// An RFC 3161 TimeStampToken over `data` from an OpenSSL TSA under the test root.
    fn timestamp(&self, data: &[u8]) -> Vec<u8> {
        let d = self.dir.path();
        if !d.join("tsa.pem").exists() {
            let config = "[tsa]\ndefault_tsa = tsa1\n[tsa1]\nserial = tsaserial\nsigner_digest = sha256\n\
                          default_policy = 1.2.3.4.1\ndigests = sha256\ness_cert_id_alg = sha256\n";
            std::fs::write(d.join("ts.cnf"), config).expect("write");
            std::fs::write(d.join("tsaserial"), "01\n").expect("write");
            std::fs::write(d.join("tsa.ext"), "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=critical,timeStamping\n").expect("write");
            run(Command::new("openssl")
                .args([
                    "genpkey",
                    "-algorithm",
                    "EC",
                    "-pkeyopt",
                    "ec_paramgen_curve:P-256",
                    "-out",
                ])
                .arg(d.join("tsa.key")));
            run(Command::new("openssl")
                .args(["req", "-new", "-subj", "/CN=govseal test TSA", "-key"])
                .arg(d.join("tsa.key"))
                .arg("-out")
                .arg(d.join("tsa.csr")));
            run(Command::new("openssl")
                .args(["x509", "-req", "-days", "30", "-set_serial", "13", "-in"])
                .arg(d.join("tsa.csr"))
                .arg("-CA")
                .arg(self.path("root.pem"))
                .arg("-CAkey")
                .arg(self.path("root.key"))
                .arg("-extfile")
                .arg(d.join("tsa.ext"))
                .arg("-out")
                .arg(d.join("tsa.pem")));
        }
        std::fs::write(d.join("tst.bin"), data).expect("write");
        run(Command::new("openssl")
            .args(["ts", "-query", "-sha256", "-cert", "-no_nonce", "-data"])
            .arg(d.join("tst.bin"))
            .arg("-out")
            .arg(d.join("req.tsq")));
        run(Command::new("openssl").current_dir(d).args([
            "ts",
            "-reply",
            "-config",
            "ts.cnf",
            "-queryfile",
            "req.tsq",
            "-signer",
            "tsa.pem",
            "-inkey",
            "tsa.key",
            "-token_out",
            "-out",
            "token.der",
        ]));
        std::fs::read(d.join("token.der")).expect("token")
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn der(&self, name: &str) -> Vec<u8> {
        let out = Command::new("openssl")
            .args(["x509", "-outform", "DER", "-in"])
            .arg(self.path(name))
            .output()
            .expect("openssl");
        assert!(out.status.success());
        out.stdout
    }

    /// A detached CMS over `data`, made by OpenSSL with `signer`'s key.
    fn cms(&self, signer: &str, data: &[u8]) -> Vec<u8> {
        let input = self.path("tbs.bin");
        std::fs::write(&input, data).expect("write");
        let out = Command::new("openssl")
            .args([
                "cms",
                "-sign",
                "-binary",
                "-outform",
                "DER",
                "-nosmimecap",
                "-md",
                "sha256",
                "-in",
            ])
            .arg(&input)
            .arg("-signer")
            .arg(self.path(&format!("{signer}.pem")))
            .arg("-inkey")
            .arg(self.path(&format!("{signer}.key")))
            .output()
            .expect("openssl cms");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    /// Signs `input` with a PAdES signature through the engine and OpenSSL.
    fn sign(&self, signer: &str, input: &[u8], request: &SignatureRequest) -> (Vec<u8>, Vec<u8>) {
        let prepared = pdf::prepare(input, request).expect("prepare");
        assert_eq!(
            &prepared.bytes()[..input.len()],
            input,
            "earlier bytes are kept"
        );
        let cms = self.cms(signer, &prepared.signed_data());
        let signed = prepared.finish(&cms).expect("finish");
        (signed, cms)
    }
}

// ---------------------------------------------------------------- validators

fn save(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write pdf");
    path
}

/// qpdf --check, pdfsig (every signature valid and trusted) and pyHanko (every signature VALID).
fn validate(pki: &Pki, pdf: &Path, expected: usize) {
    validate_with_timestamps(pki, pdf, expected, 0);
}

/// As [`validate`], for a file whose last `timestamps` signatures are document
/// time-stamps: poppler cannot validate those ("Unimplemented Feature"), so
/// pdfsig checks only the others and pyHanko checks them all.
fn validate_with_timestamps(pki: &Pki, pdf: &Path, expected: usize, timestamps: usize) {
    run(Command::new("qpdf").arg("--check").arg(pdf));

    let nss = pki.path("nss");
    if !nss.exists() {
        std::fs::create_dir(&nss).expect("mkdir");
        run(Command::new("certutil")
            .args(["-N", "--empty-password", "-d"])
            .arg(format!("sql:{}", nss.display())));
        run(Command::new("certutil")
            .args(["-A", "-n", "root", "-t", "CT,C,C", "-d"])
            .arg(format!("sql:{}", nss.display()))
            .arg("-i")
            .arg(pki.path("root.pem")));
    }
    let out = Command::new("pdfsig")
        .arg("-nssdir")
        .arg(format!("sql:{}", nss.display()))
        .arg(pdf)
        .output()
        .expect("pdfsig");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let count = |needle: &str| text.lines().filter(|l| l.contains(needle)).count();
    assert_eq!(count("Signature #"), expected, "pdfsig signatures:\n{text}");
    let cades = expected - timestamps;
    let unknown = count("Signature Type: unknown");
    assert_eq!(unknown, timestamps, "pdfsig types:\n{text}");
    let valid = count("Signature Validation: Signature is Valid");
    assert_eq!(valid, cades, "pdfsig validity:\n{text}");
    let trusted = count("Certificate Validation: Certificate is Trusted");
    assert_eq!(trusted, cades, "pdfsig trust:\n{text}");

    let out = Command::new("pyhanko")
        .args([
            "sign",
            "validate",
            "--executive-summary",
            "--no-revocation-check",
            "--trust-replace",
            "--trust",
        ])
        .arg(pki.path("root.pem"))
        .arg(pdf)
        .output()
        .expect("pyhanko");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let summaries: Vec<&str> = text
        .lines()
        .filter(|l| l.split(':').nth(1).is_some_and(|h| h.len() == 64))
        .collect();
    assert!(out.status.success(), "pyhanko failed:\n{text}");
    assert_eq!(summaries.len(), cades, "pyhanko summaries:\n{text}");
    assert!(
        summaries.iter().all(|l| l.ends_with(":VALID")),
        "pyhanko:\n{text}"
    );
}

/// RGB of the pixel at PDF point (x, y) of `page`, rendered at 72 dpi.
fn pixel(pdf: &Path, page: u32, x: usize, y: usize) -> [u8; 3] {
    let prefix = pdf.with_extension("render");
    run(Command::new("pdftoppm")
        .args([
            "-r",
            "72",
            "-singlefile",
            "-f",
            &page.to_string(),
            "-l",
            &page.to_string(),
        ])
        .arg(pdf)
        .arg(&prefix));
    let ppm = std::fs::read(pdf.with_extension("render.ppm")).expect("ppm");
    // P6 header: magic, width, height, maxval, each followed by whitespace.
    let mut fields = Vec::new();
    let mut at = 0;
    while fields.len() < 4 {
        let start = at;
        while !ppm[at].is_ascii_whitespace() {
            at += 1;
        }
        fields.push(String::from_utf8_lossy(&ppm[start..at]).into_owned());
        at += 1;
    }
    let width: usize = fields[1].parse().expect("width");
    let height: usize = fields[2].parse().expect("height");
    let i = at + ((height - 1 - y) * width + x) * 3;
    [ppm[i], ppm[i + 1], ppm[i + 2]]
}

// ---------------------------------------------------------------- inputs

/// Two A4 pages; page 2 inherits /Resources and /MediaBox and has an indirect /Annots array.
fn two_page_pdf() -> Vec<u8> {
    let (catalog, pages, p1, p2, c1, c2, font, annots) = (
        Ref::new(1),
        Ref::new(2),
        Ref::new(3),
        Ref::new(4),
        Ref::new(5),
        Ref::new(6),
        Ref::new(7),
        Ref::new(8),
    );
    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(pages);
    let mut tree = pdf.pages(pages);
    tree.kids([p1, p2])
        .count(2)
        .media_box(Rect::new(0.0, 0.0, 595.0, 842.0));
    tree.resources().fonts().pair(Name(b"F1"), font);
    tree.finish();
    pdf.type1_font(font).base_font(Name(b"Helvetica"));
    pdf.page(p1).parent(pages).contents(c1);
    pdf.page(p2)
        .parent(pages)
        .contents(c2)
        .pair(Name(b"Annots"), annots);
    pdf.indirect(annots).array();
    for (id, text) in [(c1, "Approval notice, page 1"), (c2, "Page 2")] {
        let mut content = Content::new();
        content
            .begin_text()
            .set_font(Name(b"F1"), 14.0)
            .next_line(72.0, 770.0)
            .show(pdf_writer::Str(text.as_bytes()))
            .end_text();
        pdf.stream(id, &content.finish());
    }
    pdf.finish()
}

/// A 100×100 page with a filled red circle; its /ExtGState is an indirect object.
fn red_circle_pdf(pages: usize) -> Vec<u8> {
    let mut pdf = Pdf::new();
    let (catalog, tree, gs) = (Ref::new(1), Ref::new(2), Ref::new(3));
    let ids: Vec<Ref> = (0..pages).map(|i| Ref::new(10 + 2 * i as i32)).collect();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids(ids.iter().copied())
        .count(pages as i32);
    pdf.ext_graphics(gs).non_stroking_alpha(1.0);
    let k = 0.5523 * 50.0;
    let mut content = Content::new();
    content
        .set_parameters(Name(b"G0"))
        .set_fill_rgb(0.9, 0.0, 0.0)
        .move_to(100.0, 50.0);
    content
        .cubic_to(100.0, 50.0 + k, 50.0 + k, 100.0, 50.0, 100.0)
        .cubic_to(50.0 - k, 100.0, 0.0, 50.0 + k, 0.0, 50.0);
    content
        .cubic_to(0.0, 50.0 - k, 50.0 - k, 0.0, 50.0, 0.0)
        .cubic_to(50.0 + k, 0.0, 100.0, 50.0 - k, 100.0, 50.0);
    content.close_path().fill_nonzero();
    let data = content.finish();
    for id in &ids {
        let contents = Ref::new(id.get() + 1);
        let mut page = pdf.page(*id);
        page.parent(tree)
            .media_box(Rect::new(0.0, 0.0, 100.0, 100.0))
            .contents(contents);
        page.resources().ext_g_states().pair(Name(b"G0"), gs);
        page.finish();
        pdf.stream(contents, &data);
    }
    pdf.finish()
}

fn request(field: &str, page: u32, rect: Option<[f32; 4]>) -> SignatureRequest {
    SignatureRequest {
        field_name: field.into(),
        page,
        rect,
        appearance: rect.map(|_| red_circle_pdf(1)),
        reason: Some("联合审批 joint approval".into()),
        name: Some("govseal test".into()),
        location: Some("Beijing".into()),
        signing_time: datetime!(2026-11-22 10:30:00 +08:00),
        kind: SignatureKind::Cades,
        contents_capacity: 8192,
    }
}

// ---------------------------------------------------------------- tests

#[test]
fn classic_xref_signed_twice_then_dss_stays_valid() {
    if !tools_available("classic_xref_signed_twice_then_dss_stays_valid", &ALL) {
        return;
    }
    let pki = Pki::new();
    let dir = pki.dir.path();
    let original = two_page_pdf();
    let unsigned = save(dir, "unsigned.pdf", &original);
    assert_eq!(pixel(&unsigned, 1, 150, 150), [255, 255, 255]);

    let (once, cms1) = pki.sign(
        "seal1",
        &original,
        &request("Seal1", 1, Some([100.0, 100.0, 200.0, 200.0])),
    );
    let once_path = save(dir, "once.pdf", &once);
    validate(&pki, &once_path, 1);
    let [r, g, b] = pixel(&once_path, 1, 150, 150);
    assert!(
        r > 180 && g < 60 && b < 60,
        "seal not drawn in the widget: {r} {g} {b}"
    );
    assert_eq!(
        pixel(&once_path, 1, 300, 300),
        [255, 255, 255],
        "nothing drawn outside the widget"
    );

    // Second signature: another department, invisible, on page 2 (indirect /Annots).
    // The validators do notice a changed byte (so the checks above can fail).
    let mut tampered = once.clone();
    let at = tampered
        .windows(8)
        .position(|w| w == b"Approval")
        .expect("text");
    tampered[at] = b'B';
    let tampered_path = save(dir, "tampered.pdf", &tampered);
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        validate(&pki, &tampered_path, 1)
    }));
    assert!(caught.is_err(), "a tampered file passed validation");

    let (twice, cms2) = pki.sign("seal2", &once, &request("Seal2", 2, None));
    let twice_path = save(dir, "twice.pdf", &twice);
    validate(&pki, &twice_path, 2);

    let found = pdf::signatures(&twice).expect("signatures");
    assert_eq!(found.len(), 2);
    assert_eq!(
        (found[0].field_name.as_str(), found[1].field_name.as_str()),
        ("Seal1", "Seal2")
    );
    assert_eq!(found[0].contents, cms1);
    assert_eq!(found[1].contents, cms2);
    assert_eq!(found[0].revision_end, once.len());
    assert_eq!(found[1].revision_end, twice.len());
    assert_eq!(found[0].sub_filter.as_deref(), Some("ETSI.CAdES.detached"));
    assert_eq!(
        found[0].signing_time.as_deref(),
        Some("D:20261122103000+08'00'")
    );

    // B-LT: certificates and a CRL in the DSS; adding them again changes nothing.
    let certs = vec![
        pki.der("seal1.pem"),
        pki.der("seal2.pem"),
        pki.der("root.pem"),
    ];
    let crl = b"\x30\x03\x02\x01\x00".to_vec(); // opaque to the DSS writer
    let with_dss = pdf::append_dss(&twice, &certs, std::slice::from_ref(&crl)).expect("dss");
    assert_eq!(&with_dss[..twice.len()], &twice[..]);
    validate(&pki, &save(dir, "dss.pdf", &with_dss), 2);
    assert_eq!(dss_counts(&with_dss), (3, 1));
    assert_eq!(
        pdf::append_dss(&with_dss, &certs[..1], &[crl]).expect("dss again"),
        with_dss
    );
    let merged = pdf::append_dss(
        &with_dss,
        &[pki.der("seal1.pem"), b"\x30\x00".to_vec()],
        &[],
    )
    .expect("merge");
    assert_eq!(dss_counts(&merged), (4, 1));
    validate(&pki, &save(dir, "dss2.pdf", &merged), 2);
}

/// Number of (/Certs, /CRLs) entries in the catalog's /DSS, read with lopdf.
fn dss_counts(pdf: &[u8]) -> (usize, usize) {
    let doc = lopdf::Document::load_mem(pdf).expect("load");
    let dss = doc.catalog().expect("catalog").get(b"DSS").expect("DSS");
    let (_, dss) = doc.dereference(dss).expect("deref");
    let dss = dss.as_dict().expect("dict");
    let len = |key: &[u8]| {
        dss.get(key)
            .and_then(|a| a.as_array())
            .map(Vec::len)
            .unwrap_or(0)
    };
    (len(b"Certs"), len(b"CRLs"))
}

#[test]
fn xref_stream_input_gets_xref_stream_updates() {
    if !tools_available("xref_stream_input_gets_xref_stream_updates", &ALL) {
        return;
    }
    let pki = Pki::new();
    let dir = pki.dir.path();
    let plain = save(dir, "plain.pdf", &two_page_pdf());
    let packed = dir.join("packed.pdf");
    run(Command::new("qpdf")
        .args(["--object-streams=generate"])
        .arg(&plain)
        .arg(&packed));
    let original = std::fs::read(&packed).expect("read");

    let (once, _) = pki.sign(
        "seal1",
        &original,
        &request("Seal1", 2, Some([400.0, 50.0, 520.0, 170.0])),
    );
    let update = String::from_utf8_lossy(&once[original.len()..])
        .replace(|c: char| c != '\n' && c.is_control(), ".");
    assert!(
        update.contains("/Type /XRef"),
        "update written as an xref stream: {}",
        &update[update.len().saturating_sub(400)..]
    );
    let once_path = save(dir, "once.pdf", &once);
    validate(&pki, &once_path, 1);
    let [r, g, b] = pixel(&once_path, 2, 460, 110);
    assert!(r > 180 && g < 60 && b < 60, "seal not drawn: {r} {g} {b}");

    let (twice, _) = pki.sign(
        "seal2",
        &once,
        &request("Seal2", 1, Some([10.0, 10.0, 60.0, 60.0])),
    );
    validate(&pki, &save(dir, "twice.pdf", &twice), 2);
    let with_dss = pdf::append_dss(&twice, &[pki.der("root.pem")], &[]).expect("dss");
    validate(&pki, &save(dir, "dss.pdf", &with_dss), 2);
}

#[test]
fn pyhanko_signed_input_stays_valid() {
    if !tools_available("pyhanko_signed_input_stays_valid", &ALL) {
        return;
    }
    let pki = Pki::new();
    let dir = pki.dir.path();
    let plain = save(dir, "plain.pdf", &two_page_pdf());
    let presigned = dir.join("presigned.pdf");
    run(Command::new("pyhanko")
        .args([
            "sign",
            "addsig",
            "--field",
            "1/100,600,250,750/Theirs",
            "pemder",
            "--no-pass",
            "--key",
        ])
        .arg(pki.path("seal2.key"))
        .arg("--cert")
        .arg(pki.path("seal2.pem"))
        .arg(&plain)
        .arg(&presigned));
    let original = std::fs::read(&presigned).expect("read");
    validate(&pki, &presigned, 1);

    let (ours, _) = pki.sign(
        "seal1",
        &original,
        &request("Ours", 1, Some([300.0, 600.0, 420.0, 720.0])),
    );
    validate(&pki, &save(dir, "ours.pdf", &ours), 2);
    let names: Vec<String> = pdf::signatures(&ours)
        .expect("signatures")
        .into_iter()
        .map(|s| s.field_name)
        .collect();
    assert_eq!(names, ["Theirs", "Ours"]);
    assert!(matches!(
        pdf::prepare(&ours, &request("Theirs", 1, None)),
        Err(PdfError::FieldExists(name)) if name == "Theirs"
    ));
}

#[test]
fn encrypted_input_is_refused() {
    if !tools_available("encrypted_input_is_refused", &[QPDF]) {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let plain = save(dir.path(), "plain.pdf", &two_page_pdf());
    let locked = dir.path().join("locked.pdf");
    run(Command::new("qpdf")
        .args(["--encrypt", "user", "owner", "256", "--"])
        .arg(&plain)
        .arg(&locked));
    let bytes = std::fs::read(&locked).expect("read");
    assert!(matches!(
        pdf::prepare(&bytes, &request("S", 1, None)),
        Err(PdfError::Encrypted)
    ));
}

#[test]
fn bad_requests_get_precise_errors() {
    let input = two_page_pdf();
    let err = |req: SignatureRequest| pdf::prepare(&input, &req).expect_err("must fail");
    assert!(matches!(
        err(request("S", 3, None)),
        PdfError::PageOutOfRange { page: 3, count: 2 }
    ));
    assert!(matches!(
        err(request("S", 0, None)),
        PdfError::PageOutOfRange { page: 0, count: 2 }
    ));
    assert!(matches!(
        err(request("S", 1, Some([500.0, 800.0, 650.0, 900.0]))),
        PdfError::RectOutsidePage { page: 1, .. }
    ));
    assert!(matches!(
        err(request("S", 1, Some([50.0, 50.0, 10.0, 100.0]))),
        PdfError::InvalidRect(_)
    ));
    assert!(matches!(
        err(request("a.b", 1, None)),
        PdfError::InvalidFieldName(_)
    ));
    let mut two_pages = request("S", 1, Some([10.0, 10.0, 50.0, 50.0]));
    two_pages.appearance = Some(red_circle_pdf(2));
    assert!(matches!(err(two_pages), PdfError::Appearance(_)));
    let mut zero = request("S", 1, None);
    zero.contents_capacity = 0;
    assert!(matches!(err(zero), PdfError::InvalidCapacity(0)));
    assert!(matches!(
        pdf::prepare(b"hello", &request("S", 1, None)),
        Err(PdfError::NotPdf)
    ));
    assert!(matches!(
        pdf::signatures(b"%PDF-1.7\ngarbage"),
        Err(PdfError::Malformed(_) | PdfError::DamagedXref)
    ));

    let prepared = pdf::prepare(&input, &request("S", 1, None)).expect("prepare");
    assert!(matches!(
        prepared.finish(&[0x30; 8193]),
        Err(PdfError::SignatureTooLarge {
            needed: 8193,
            capacity: 8192
        })
    ));
}

#[test]
fn byte_range_excludes_exactly_the_contents_string() {
    let input = two_page_pdf();
    let prepared =
        pdf::prepare(&input, &request("S", 1, Some([10.0, 10.0, 60.0, 60.0]))).expect("prepare");
    let [a, b, c, d] = prepared.byte_range();
    let bytes = prepared.bytes();
    assert_eq!((a, c + d), (0, bytes.len()));
    assert_eq!(c - b, 2 * 8192 + 2);
    assert_eq!((bytes[b], bytes[c - 1]), (b'<', b'>'));
    assert!(bytes[b + 1..c - 1].iter().all(|&x| x == b'0'));
    let expected: [u8; 32] = ring::digest::digest(&ring::digest::SHA256, &prepared.signed_data())
        .as_ref()
        .try_into()
        .expect("32");
    assert_eq!(prepared.digest(), expected);
    // The patched /ByteRange parses back to the same numbers.
    let finished = prepared
        .clone()
        .finish(&[0x30, 0x03, 1, 2, 3])
        .expect("finish");
    let found = pdf::signatures(&finished).expect("signatures");
    assert_eq!(found[0].byte_range, [a, b, c, d]);
    assert_eq!(found[0].contents, [0x30, 0x03, 1, 2, 3]);
}

#[test]
fn document_timestamp_after_signature_and_dss() {
    if !tools_available("document_timestamp_after_signature_and_dss", &ALL) {
        return;
    }
    let pki = Pki::new();
    let dir = pki.dir.path();
    let (signed, _) = pki.sign(
        "seal1",
        &two_page_pdf(),
        &request("Seal1", 1, Some([100.0, 100.0, 200.0, 200.0])),
    );
    let with_dss =
        pdf::append_dss(&signed, &[pki.der("seal1.pem"), pki.der("root.pem")], &[]).expect("dss");
    let mut req = request("DocTS", 1, None);
    req.kind = SignatureKind::DocumentTimestamp;
    let prepared = pdf::prepare(&with_dss, &req).expect("prepare");
    let token = pki.timestamp(&prepared.signed_data());
    let stamped = prepared.finish(&token).expect("finish");
    let path = save(dir, "lta.pdf", &stamped);
    validate_with_timestamps(&pki, &path, 2, 1);
    // The pyhanko CLI skips document time-stamps: validate it through its API.
    let script = "import sys\n\
        from pyhanko.pdf_utils.reader import PdfFileReader\n\
        from pyhanko.sign.validation import validate_pdf_timestamp\n\
        from pyhanko_certvalidator import ValidationContext\n\
        from pyhanko.keys import load_cert_from_pemder\n\
        vc = ValidationContext(trust_roots=[load_cert_from_pemder(sys.argv[2])])\n\
        with open(sys.argv[1], 'rb') as f:\n\
        \x20   for ts in PdfFileReader(f).embedded_timestamp_signatures:\n\
        \x20       st = validate_pdf_timestamp(ts, validation_context=vc)\n\
        \x20       print('TIMESTAMP', st.intact, st.valid, st.trusted, st.coverage.name)\n";
    let out = run(Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&path)
        .arg(pki.path("root.pem")));
    let verdicts: Vec<&str> = out.lines().filter(|l| l.starts_with("TIMESTAMP")).collect();
    assert_eq!(verdicts, ["TIMESTAMP True True True ENTIRE_FILE"], "{out}");

    let found = pdf::signatures(&stamped).expect("signatures");
    assert_eq!(found[1].sig_type.as_deref(), Some("DocTimeStamp"));
    assert_eq!(found[1].sub_filter.as_deref(), Some("ETSI.RFC3161"));
    assert_eq!(found[1].contents, token);
    assert_eq!(found[1].signing_time, None);
}
