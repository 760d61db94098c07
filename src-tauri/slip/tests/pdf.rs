//! PDF slips checked with real readers: poppler extracts the English and Hindi text (Hindi in
//! logical order), zbar decodes the QR from a 300 dpi rendering, and the files stay small.
#![allow(clippy::unwrap_used)]

mod common;

use swagat_slip::{render_pdf, SlipData, SlipSize};

const MAX_PDF_BYTES: usize = 40 * 1024;

fn check(size: SlipSize, name: &str) {
    let data = SlipData::example();
    let pdf = render_pdf(&data, size).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    assert!(
        pdf.len() <= MAX_PDF_BYTES,
        "{name}: {} bytes > {MAX_PDF_BYTES}",
        pdf.len()
    );

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("{name}.pdf"));
    std::fs::write(&path, &pdf).unwrap();

    let text = common::pdf_text(&path);
    for expected in common::EXPECTED {
        assert!(
            text.contains(expected),
            "{name}: `{expected}` not extracted from:\n{text}"
        );
    }
    // The slip page's link is printed in small text under the QR (issue 12).
    let flat: String = text.split_whitespace().collect();
    assert!(
        flat.contains(&data.qr_url),
        "{name}: the link `{}` is not printed:\n{text}",
        data.qr_url
    );
    // The classic failure of unshaped/unmapped Devanagari: the i-matra extracted first.
    assert!(
        !text.contains("जलि"),
        "{name}: Hindi extracted in visual order"
    );

    let png = common::pdf_to_png(&path, 300);
    assert_eq!(
        common::qr_codes(&png),
        vec![data.qr_url.clone()],
        "{name}: QR"
    );
}

#[test]
fn a6_pdf_text_qr_and_size() {
    check(SlipSize::A6, "slip-a6");
}

#[test]
fn roll80_pdf_text_qr_and_size() {
    check(SlipSize::Roll80, "slip-80mm");
}

#[test]
fn page_sizes() {
    let data = SlipData::example();
    let dir = tempfile::tempdir().unwrap();
    for (size, w_mm, h_mm) in [
        (SlipSize::A6, 105.0, Some(148.0)),
        (SlipSize::Roll80, 80.0, None),
    ] {
        let path = dir.path().join("p.pdf");
        std::fs::write(&path, render_pdf(&data, size).unwrap()).unwrap();
        let info = common::run("pdfinfo", &[path.to_str().unwrap()], "poppler-utils");
        let info = String::from_utf8(info.stdout).unwrap();
        let line = info.lines().find(|l| l.starts_with("Page size:")).unwrap();
        let nums: Vec<f64> = line
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .take(2)
            .collect();
        let mm = |pt: f64| pt * 25.4 / 72.0;
        assert!((mm(nums[0]) - w_mm).abs() < 0.5, "{size:?}: {line}");
        match h_mm {
            Some(h) => assert!((mm(nums[1]) - h).abs() < 0.5, "{size:?}: {line}"),
            None => assert!(
                mm(nums[1]) > 100.0 && mm(nums[1]) < 400.0,
                "{size:?}: {line}"
            ),
        }
        let pages = info.lines().find_map(|l| l.strip_prefix("Pages:")).unwrap();
        assert_eq!(pages.trim(), "1", "{info}");
    }
}

#[test]
fn minimal_and_reprint_slips_render() {
    // Optional fields absent, a reprint marker, a long Hindi-only facility name: still one
    // A6 page, still under the size limit, reprint marker extractable.
    let mut data = SlipData::example();
    data.patient_name_hi = None;
    data.aadhaar_masked = None;
    data.abha_number = None;
    data.notices_hi.clear();
    data.reprint = Some("REPRINT 2 / पुनर्मुद्रण".into());
    data.fee = "Free / निःशुल्क (BPL)".into();
    for size in [SlipSize::A6, SlipSize::Roll80] {
        let pdf = render_pdf(&data, size).unwrap();
        assert!(pdf.len() <= MAX_PDF_BYTES);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.pdf");
        std::fs::write(&path, &pdf).unwrap();
        let text = common::pdf_text(&path);
        for s in ["REPRINT 2 / पुनर्मुद्रण", "Free / निःशुल्क (BPL)", "Sunita Devi"]
        {
            assert!(text.contains(s), "{size:?}: `{s}` missing from {text}");
        }
        assert!(!text.contains("XXXX"));
    }
}

#[test]
fn overfull_a6_still_fits_one_page() {
    let mut data = SlipData::example();
    data.notices_hi = vec![
        "कृपया पर्ची संभाल कर रखें और अगली बार साथ लाएँ।".into();
        8
    ];
    data.address_lines = vec![
        "मकान संख्या 12, वार्ड 7, ग्राम अमहरा, पोस्ट बिहटा, थाना बिहटा".into();
        2
    ];
    let pdf = render_pdf(&data, SlipSize::A6).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("o.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let text = common::pdf_text(&path);
    assert!(text.contains("अगली बार साथ लाएँ"), "{text}");
    let png = common::pdf_to_png(&path, 300);
    assert_eq!(common::qr_codes(&png), vec![data.qr_url]);
}

/// The counter's scan-and-share poster: both languages extract in logical order and the QR
/// decodes to the exact counter URL.
#[test]
fn counter_poster_text_and_qr() {
    let url = "https://phrsbx.abdm.gov.in/share-profile?hip-id=IN2810014366&counter-id=OPD1";
    let pdf = swagat_slip::render_poster_pdf(&swagat_slip::PosterData {
        facility_name_en: "UPHC Kankarbagh".into(),
        facility_name_hi: "शहरी प्राथमिक स्वास्थ्य केंद्र कंकड़बाग".into(),
        counter: "OPD1".into(),
        url: url.into(),
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("poster.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let text = common::pdf_text(&path);
    for expected in [
        "आभा ऐप से स्कैन करें",
        "Scan with the ABHA app",
        "OPD1",
        "UPHC Kankarbagh",
    ] {
        assert!(text.contains(expected), "`{expected}` not in:\n{text}");
    }
    let png = common::pdf_to_png(&path, 300);
    assert_eq!(common::qr_codes(&png), vec![url.to_string()]);
}
