//! Test helpers that hand PDFs to poppler and qpdf. A missing tool skips the
//! test with a message, unless `GOVSEAL_INTEROP=require`, where it fails.

use std::path::PathBuf;
use std::process::Command;

/// Whether `tool` can be run; panics when it cannot and interop is required.
pub(crate) fn have_tool(tool: &str) -> bool {
    let found = Command::new(tool).arg("-v").output().is_ok();
    if !found {
        if std::env::var("GOVSEAL_INTEROP").as_deref() == Ok("require") {
            panic!("{tool} is required (GOVSEAL_INTEROP=require) but cannot be run");
        }
        eprintln!("skipping: {tool} is not installed");
    }
    found
}

/// Writes `pdf` to a temporary file and runs `tool args… file`, returning
/// stdout; panics with stderr when the tool fails.
pub(crate) fn run(tool: &str, args: &[&str], pdf: &[u8]) -> (tempfile::TempDir, Vec<u8>) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let input: PathBuf = dir.path().join("input.pdf");
    std::fs::write(&input, pdf).expect("write pdf");
    let output = Command::new(tool)
        .args(args)
        .arg(&input)
        .current_dir(dir.path())
        .output()
        .expect("run tool");
    assert!(
        output.status.success(),
        "{tool} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (dir, output.stdout)
}

/// The text poppler extracts from `pdf`.
pub(crate) fn pdftotext(pdf: &[u8]) -> String {
    let tool = "pdftotext";
    let dir = tempfile::tempdir().expect("temporary directory");
    let input = dir.path().join("input.pdf");
    std::fs::write(&input, pdf).expect("write pdf");
    let output = Command::new(tool)
        .arg(&input)
        .arg("-")
        .output()
        .expect("run pdftotext");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// An RGB raster of the first page.
pub(crate) struct Raster {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<u8>,
}

impl Raster {
    /// The pixel at (x, y) from the top-left.
    pub fn at(&self, x: usize, y: usize) -> (u8, u8, u8) {
        let i = (y * self.width + x) * 3;
        (self.pixels[i], self.pixels[i + 1], self.pixels[i + 2])
    }

    /// Whether the pixel is clearly red.
    pub fn is_red(&self, x: usize, y: usize) -> bool {
        let (r, g, b) = self.at(x, y);
        r > 150 && g < 110 && b < 110
    }
}

/// Renders page 1 with `pdftoppm -r dpi` (PPM, parsed here) and, when
/// `GOVSEAL_KEEP_RENDERS` names a directory, also saves a PNG there to look at.
pub(crate) fn render(pdf: &[u8], dpi: u32, name: &str) -> Raster {
    let dpi = dpi.to_string();
    // Without an output root, pdftoppm writes the PPM to stdout.
    let (dir, ppm) = run(
        "pdftoppm",
        &["-r", &dpi, "-f", "1", "-l", "1", "-singlefile"],
        pdf,
    );
    let _ = Command::new("pdftoppm")
        .args(["-r", &dpi, "-f", "1", "-l", "1", "-singlefile", "-png"])
        .arg(dir.path().join("input.pdf"))
        .arg(dir.path().join("page"))
        .output();
    if let Ok(keep) = std::env::var("GOVSEAL_KEEP_RENDERS") {
        let _ = std::fs::copy(
            dir.path().join("page.png"),
            PathBuf::from(keep).join(format!("{name}.png")),
        );
    }
    parse_ppm(&ppm)
}

fn parse_ppm(data: &[u8]) -> Raster {
    // "P6\n<w> <h>\n255\n" then RGB bytes.
    let mut fields = Vec::new();
    let mut position = 0;
    while fields.len() < 4 {
        while data[position].is_ascii_whitespace() {
            position += 1;
        }
        let start = position;
        while !data[position].is_ascii_whitespace() {
            position += 1;
        }
        fields.push(String::from_utf8_lossy(&data[start..position]).into_owned());
    }
    assert_eq!(fields[0], "P6", "pdftoppm writes binary PPM");
    let width: usize = fields[1].parse().expect("width");
    let height: usize = fields[2].parse().expect("height");
    let pixels = data[position + 1..].to_vec();
    assert_eq!(pixels.len(), width * height * 3);
    Raster {
        width,
        height,
        pixels,
    }
}
