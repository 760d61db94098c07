//! Helpers shared by the integration tests: the external readers (poppler's `pdftotext` and
//! `pdftoppm`, zbar's `zbarimg`) that check our output the way a user's tools would.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

/// Strings the example slip must show, English and Hindi (Hindi in logical order).
pub const EXPECTED: &[&str] = &[
    "Primary Health Centre, Bihta",
    "प्राथमिक स्वास्थ्य केंद्र, बिहटा",
    "OPD Slip",
    "ओपीडी पर्ची",
    "A-017",
    "सुनीता देवी",
    "Sunita Devi",
    "स्त्री एवं प्रसूति रोग",
    "Obstetrics &",
    "जिला पटना",
    "W/O Ramesh Kumar",
    "XXXX XXXX 1234",
    "91-5123-4567-8901",
    "BR-PAT-2026-000417",
    "₹10",
    "क्षय रोग की जाँच निःशुल्क है",
    "कृपया पर्ची संभाल कर रखें",
    "नाम / Name",
    "टोकन संख्या / Token No.",
];

/// Runs a tool, failing the test with an install hint if it is missing.
pub fn run(program: &str, args: &[&str], package: &str) -> std::process::Output {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run `{program}` ({e}); install the Debian package `{package}`")
        });
    assert!(
        out.status.success(),
        "`{program} {args:?}` failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The text of a PDF file as `pdftotext` extracts it, whitespace collapsed to single spaces.
pub fn pdf_text(pdf: &Path) -> String {
    let out = run("pdftotext", &[pdf.to_str().unwrap(), "-"], "poppler-utils");
    let text = String::from_utf8(out.stdout).unwrap();
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Renders page 1 of `pdf` to `<stem>-1.png` at `dpi` and returns its path.
pub fn pdf_to_png(pdf: &Path, dpi: u32) -> std::path::PathBuf {
    let stem = pdf.with_extension("");
    let dpi = dpi.to_string();
    run(
        "pdftoppm",
        &[
            "-r",
            &dpi,
            "-png",
            "-singlefile",
            pdf.to_str().unwrap(),
            stem.to_str().unwrap(),
        ],
        "poppler-utils",
    );
    stem.with_extension("png")
}

/// The QR codes `zbarimg` finds in an image.
pub fn qr_codes(png: &Path) -> Vec<String> {
    let out = run(
        "zbarimg",
        &[
            "--raw",
            "-q",
            "-Sdisable",
            "-Sqrcode.enable",
            png.to_str().unwrap(),
        ],
        "zbar-tools",
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}
