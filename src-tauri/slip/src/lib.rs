//! Bilingual OPD slip layout, rendered as PDF (A6, 80 mm) and as a 1-bit thermal raster;
//! printing.
//!
//! The registration code builds a [`SlipData`] of already formatted strings and calls
//! [`render_pdf`] (A6 sheet or 80 mm roll) or [`render_raster`] (thermal printers, via
//! [`Raster::to_escpos`]); [`printing`] sends the result to a printer from Rust, never from the
//! webview. Devanagari is shaped with rustybuzz in our own small layout layer (see
//! `layout`/`shaping`), because PDF libraries and ESC/POS code pages get Hindi wrong.
//!
//! Nothing here logs: a slip is personal data.

mod error;
mod escpos;
mod fonts;
mod glyph_masks;
mod layout;
mod pdf;
mod pdf_font;
pub mod printing;
mod qr;
mod raster;
pub mod report;
mod script_runs;
mod shaping;

use serde::{Deserialize, Serialize};

pub use error::{PrintError, PrintProblem, SlipError};
pub use escpos::{Cut, EscPosOptions, INIT, RASTER_HEADER};
pub use raster::{Raster, RASTER_WIDTH};

use layout::{Params, PT_PER_MM};

/// Everything printed on an OPD slip, as ready-to-print strings (formatting of dates, fees and
/// masking is the caller's job). Empty strings leave their row out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SlipData {
    /// Facility name in English, e.g. "Primary Health Centre, Bihta".
    pub facility_name_en: String,
    /// Facility name in Hindi, e.g. "प्राथमिक स्वास्थ्य केंद्र, बिहटा".
    pub facility_name_hi: String,
    /// One short address line of the facility.
    pub facility_address: String,
    /// The patient's UHID / registration number.
    pub uhid: String,
    /// Patient name in English (Latin letters).
    pub patient_name_en: String,
    /// Patient name in Devanagari, if known; printed first, English in brackets.
    pub patient_name_hi: Option<String>,
    /// Age and sex, e.g. "34 Y / F".
    pub age_sex: String,
    /// Guardian with relation, e.g. "W/O Ramesh Kumar".
    pub guardian: String,
    /// Patient address, one or two lines.
    pub address_lines: Vec<String>,
    /// Masked Aadhaar, e.g. "XXXX XXXX 1234" (never the full number).
    pub aadhaar_masked: Option<String>,
    /// ABHA number, e.g. "91-5123-4567-8901".
    pub abha_number: Option<String>,
    /// ABHA address, e.g. "sunita.devi85@abdm".
    pub abha_address: Option<String>,
    /// Department in English, e.g. "Obstetrics & Gynaecology".
    pub department_en: String,
    /// Department in Hindi, e.g. "स्त्री एवं प्रसूति रोग".
    pub department_hi: String,
    /// Room (and doctor, if wanted), e.g. "12".
    pub room: String,
    /// Queue token, e.g. "A-017"; printed large.
    pub token: String,
    /// Visit date and time, e.g. "14-05-2026 10:42".
    pub visit_datetime: String,
    /// Last day the slip is valid, e.g. "28-05-2026".
    pub valid_until: String,
    /// Fee, e.g. "₹10" or "Free / निःशुल्क (BPL)".
    pub fee: String,
    /// Visit type in English, e.g. "New" or "Follow-up".
    pub visit_type_en: String,
    /// Visit type in Hindi, e.g. "नया" or "पुनः परामर्श".
    pub visit_type_hi: String,
    /// Short Hindi notices, one bullet each.
    pub notices_hi: Vec<String>,
    /// Verification URL encoded in the QR code: `<public base URL>/s/<visit id>?k=<short HMAC>`.
    pub qr_url: String,
    /// Reprint marker, e.g. "REPRINT 2 / पुनर्मुद्रण"; `None` on the first print.
    pub reprint: Option<String>,
}

impl SlipData {
    /// A fictitious patient, for previews, tests and benchmarks.
    pub fn example() -> Self {
        SlipData {
            facility_name_en: "Primary Health Centre, Bihta".into(),
            facility_name_hi: "प्राथमिक स्वास्थ्य केंद्र, बिहटा".into(),
            facility_address: "Bihta, Patna, Bihar 801103".into(),
            uhid: "BR-PAT-2026-000417".into(),
            patient_name_en: "Sunita Devi".into(),
            patient_name_hi: Some("सुनीता देवी".into()),
            age_sex: "34 Y / F".into(),
            guardian: "W/O Ramesh Kumar".into(),
            address_lines: vec!["ग्राम अमहरा, पोस्ट बिहटा".into(), "जिला पटना, बिहार".into()],
            aadhaar_masked: Some("XXXX XXXX 1234".into()),
            abha_number: Some("91-5123-4567-8901".into()),
            abha_address: None,
            department_en: "Obstetrics & Gynaecology".into(),
            department_hi: "स्त्री एवं प्रसूति रोग".into(),
            room: "12".into(),
            token: "A-017".into(),
            visit_datetime: "14-05-2026 10:42".into(),
            valid_until: "28-05-2026".into(),
            fee: "₹10".into(),
            visit_type_en: "New".into(),
            visit_type_hi: "नया".into(),
            notices_hi: vec![
                "क्षय रोग की जाँच निःशुल्क है।".into(),
                "कृपया पर्ची संभाल कर रखें।".into(),
                "अपनी बारी की प्रतीक्षा करें।".into(),
            ],
            qr_url: "https://swagat.example.in/s/01J9ZK8M4V3T6Q?k=Ab3xY9q".into(),
            reprint: None,
        }
    }
}

/// Paper format of a PDF slip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SlipSize {
    /// A6 sheet, 105 × 148 mm (shrinks the text if a slip would not fit).
    A6,
    /// 80 mm roll: 72 mm printable width, as tall as the content needs.
    Roll80,
}

/// Side margin of the 80 mm roll PDF: the 72 mm printable width centred on 80 mm paper, plus the
/// raster's own inner margin, so PDF and raster have the same content width.
const ROLL_PAGE_MM: f32 = 80.0;

fn params(size: SlipSize) -> Params {
    match size {
        SlipSize::A6 => Params {
            width: (105.0 - 2.0 * 7.0) * PT_PER_MM,
            max_height: Some((148.0 - 2.0 * 6.0) * PT_PER_MM),
            title: 12.5,
            subtitle: 8.0,
            label: 7.5,
            value: 9.5,
            token: 54.0,
            notice: 8.5,
            qr: 30.0 * PT_PER_MM,
        },
        SlipSize::Roll80 => Params {
            width: (raster::RASTER_WIDTH as f32 / raster::DOTS_PER_MM
                - 2.0 * raster::SIDE_MARGIN_MM)
                * PT_PER_MM,
            max_height: None,
            title: 12.0,
            subtitle: 8.0,
            label: 7.5,
            value: 9.5,
            token: 46.0,
            notice: 9.0,
            qr: 27.0 * PT_PER_MM,
        },
    }
}

/// Renders the slip as a one-page PDF with embedded, subset fonts; Hindi and English text stay
/// extractable (copy/paste, search) in logical order.
pub fn render_pdf(data: &SlipData, size: SlipSize) -> Result<Vec<u8>, SlipError> {
    let p = params(size);
    let layout = layout::layout(data, &p)?;
    match size {
        SlipSize::A6 => {
            let (w, h) = (105.0 * PT_PER_MM, 148.0 * PT_PER_MM);
            pdf::write(&layout, w, h, (w - layout.width) / 2.0, 6.0 * PT_PER_MM)
        }
        SlipSize::Roll80 => {
            let w = ROLL_PAGE_MM * PT_PER_MM;
            let margin_y = 3.0 * PT_PER_MM;
            pdf::write(
                &layout,
                w,
                layout.height + 2.0 * margin_y,
                (w - layout.width) / 2.0,
                margin_y,
            )
        }
    }
}

/// The counter's ABHA scan-and-share poster (see [`render_poster_pdf`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PosterData {
    /// Facility name in English.
    pub facility_name_en: String,
    /// Facility name in Hindi.
    pub facility_name_hi: String,
    /// The counter id, printed under the QR.
    pub counter: String,
    /// The scan-and-share URL the QR encodes
    /// (`<share base>?hip-id=<HFR id>&counter-id=<counter>`).
    pub url: String,
}

/// Renders the counter's scan-and-share poster as a one-page A6 PDF ("आभा ऐप से स्कैन करें…",
/// a large QR, the counter id), Hindi shaped like the slip's.
pub fn render_poster_pdf(data: &PosterData) -> Result<Vec<u8>, SlipError> {
    let mut p = params(SlipSize::A6);
    p.title = 13.0;
    p.value = 9.5;
    p.notice = 8.5;
    p.qr = 62.0 * PT_PER_MM;
    let layout = layout::poster::layout(data, &p)?;
    let (w, h) = (105.0 * PT_PER_MM, 148.0 * PT_PER_MM);
    pdf::write(&layout, w, h, (w - layout.width) / 2.0, 8.0 * PT_PER_MM)
}

/// `text` as a QR code in SVG (a two-module quiet zone, one rectangle per dark block): what a
/// screen shows, e.g. the counter's scan-and-share QR in Settings.
pub fn qr_svg(text: &str) -> Result<String, SlipError> {
    let m = qr::encode(text)?;
    let n = m.size + 4;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {n} {n}\" shape-rendering=\"crispEdges\"><rect width=\"{n}\" height=\"{n}\" fill=\"#fff\"/><path fill=\"#000\" d=\""
    );
    for (row, col, w, h) in &m.runs {
        svg.push_str(&format!("M{} {}h{w}v{h}h-{w}z", col + 2, row + 2));
    }
    svg.push_str("\"/></svg>");
    Ok(svg)
}

/// Renders the slip for an 80 mm thermal printer: a 1-bit image [`RASTER_WIDTH`] (576) dots
/// wide at 203 dpi; see [`Raster::to_escpos`] and [`Raster::to_png`].
pub fn render_raster(data: &SlipData) -> Result<Raster, SlipError> {
    let layout = layout::layout(data, &params(SlipSize::Roll80))?;
    raster::render(&layout)
}
