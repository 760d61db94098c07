//! The thermal raster: 576 dots wide, its PNG readable by zbar (QR), and its ESC/POS framing.
#![allow(clippy::unwrap_used)]

mod common;

use swagat_slip::{render_raster, Cut, EscPosOptions, SlipData, INIT, RASTER_HEADER, RASTER_WIDTH};

#[test]
fn raster_is_576_dots_and_qr_decodes() {
    let data = SlipData::example();
    let raster = render_raster(&data).unwrap();
    assert_eq!(RASTER_WIDTH, 576);
    assert_eq!(raster.width(), 576);
    assert_eq!(raster.row_bytes(), 72);
    assert!(
        raster.height() > 600 && raster.height() < 3000,
        "height {}",
        raster.height()
    );
    assert_eq!(raster.bits().len(), 72 * raster.height() as usize);
    // Some ink, mostly paper.
    let black: u32 = raster.bits().iter().map(|b| b.count_ones()).sum();
    let total = 576 * raster.height();
    assert!(
        black > total / 50 && black < total / 3,
        "{black} of {total} dots black"
    );

    let png = raster.to_png().unwrap();
    assert!(png.starts_with(b"\x89PNG"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("raster.png");
    std::fs::write(&path, &png).unwrap();
    assert_eq!(common::qr_codes(&path), vec![data.qr_url]);
}

/// Walks an ESC/POS job and returns the (bytes per row, rows) of each `GS v 0` strip.
fn strips(job: &[u8], raster_bytes: usize) -> (Vec<(u16, u16)>, &[u8]) {
    assert_eq!(&job[..2], &INIT);
    let mut at = 2;
    let mut out = Vec::new();
    let mut payload = 0;
    while job[at..].starts_with(&RASTER_HEADER) {
        let x = u16::from_le_bytes([job[at + 4], job[at + 5]]);
        let y = u16::from_le_bytes([job[at + 6], job[at + 7]]);
        out.push((x, y));
        at += 8 + usize::from(x) * usize::from(y);
        payload += usize::from(x) * usize::from(y);
    }
    assert_eq!(payload, raster_bytes);
    (out, &job[at..])
}

#[test]
fn escpos_framing() {
    let raster = render_raster(&SlipData::example()).unwrap();
    let h = raster.height() as usize;

    let job = raster.to_escpos();
    let (s, tail) = strips(&job, raster.bits().len());
    assert_eq!(s.len(), h.div_ceil(256));
    assert!(s.iter().all(|&(x, _)| x == 72));
    assert!(s[..s.len() - 1].iter().all(|&(_, y)| y == 256));
    assert_eq!(usize::from(s[s.len() - 1].1), h - 256 * (s.len() - 1));
    // Feed 4 lines, partial cut.
    assert_eq!(tail, &[0x1B, 0x64, 4, 0x1D, 0x56, 0x42, 0x00]);
    // The strips carry the image unchanged.
    let body: Vec<u8> = {
        let mut v = Vec::new();
        let mut at = 2;
        for &(x, y) in &s {
            let n = usize::from(x) * usize::from(y);
            v.extend_from_slice(&job[at + 8..at + 8 + n]);
            at += 8 + n;
        }
        v
    };
    assert_eq!(body, raster.bits());

    let opts = EscPosOptions {
        rows_per_strip: 24,
        feed_lines: 6,
        cut: Cut::Full,
    };
    let job = raster.to_escpos_with(&opts);
    let (s, tail) = strips(&job, raster.bits().len());
    assert_eq!(s.len(), h.div_ceil(24));
    assert!(s.iter().all(|&(x, y)| x == 72 && y <= 24));
    assert_eq!(tail, &[0x1B, 0x64, 6, 0x1D, 0x56, 0x41, 0x00]);
}
