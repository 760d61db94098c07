//! The counter's scan-and-share poster: facility name, a bilingual call to scan with the ABHA
//! app, the large counter QR and the counter id — laid out with the slip's own shaping, so the
//! Hindi prints right on the same printers.

use super::{Align, Builder, Layout, Params};
use crate::error::SlipError;
use crate::fonts::{Fonts, Weight};
use crate::qr;
use crate::PosterData;

/// Lays out the poster in the content width of `p` (its QR size is taken as the poster's).
pub(crate) fn layout(data: &PosterData, p: &Params) -> Result<Layout, SlipError> {
    let fonts = Fonts::get()?;
    let qr = qr::encode(&data.url)?;
    let mut b = Builder {
        fonts,
        width: p.width,
        items: Vec::new(),
    };
    let w = p.width;
    let mut y = 0.0;
    for name in [data.facility_name_hi.trim(), data.facility_name_en.trim()] {
        let lines = b.wrap(name, p.title, Weight::Bold, w);
        y = b.place(lines, 0.0, w, Align::Center, y);
    }
    y += 4.0;
    b.rule(y, 0.8);
    y += 6.0;
    let lines = b.wrap("आभा ऐप से स्कैन करें, टोकन पाएँ", p.title, Weight::Bold, w);
    y = b.place(lines, 0.0, w, Align::Center, y);
    let lines = b.wrap(
        "Scan with the ABHA app to share your profile and get a token",
        p.value,
        Weight::Regular,
        w,
    );
    y = b.place(lines, 0.0, w, Align::Center, y) + 4.0;
    let size = p.qr.min(w);
    b.qr(&qr, (w - size) / 2.0, y, size);
    y += size + 4.0;
    let counter = format!("काउंटर / Counter: {}", data.counter.trim());
    let lines = b.wrap(&counter, p.title, Weight::Bold, w);
    y = b.place(lines, 0.0, w, Align::Center, y);
    for text in [
        "कतार में लगे बिना पंजीकरण: अपना टोकन नंबर काउंटर पर बताएँ।",
        "Register without the queue: show your token number at the counter.",
    ] {
        let lines = b.wrap(text, p.notice, Weight::Regular, w);
        y = b.place(lines, 0.0, w, Align::Center, y);
    }
    Ok(Layout {
        width: w,
        height: y,
        items: b.items,
    })
}
