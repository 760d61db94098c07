//! The OPD slip of a visit: its bilingual content, rendering and printing.
//!
//! The slip crate lays out and renders; this module decides what a slip says (from the visit, the
//! patient and the facility's configuration), counts prints, marks reprints ("REPRINT 2 /
//! पुनर्मुद्रण 2") and audits every print, reprint and export. The QR code carries a link where the
//! patient can see the slip on a phone: `<public base URL>/s/<visit id>?k=<short HMAC>`; the HMAC
//! (keyed with the facility's slip-link key) stops anyone from guessing other patients' links.

use hmac::{Hmac, KeyInit, Mac};
use rusqlite::Connection;
use sha2::Sha256;
pub use swagat_slip::PrintProblem;
use swagat_slip::{SlipData, SlipSize};

use crate::audit::{self, Actor};
use crate::clock;
use crate::config;
use crate::error::{CoreError, Result};
use crate::opd::{patients, visits, Patient, Visit};

/// The output a slip is wanted in.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlipFormat {
    /// A6 PDF (laser/inkjet).
    PdfA6,
    /// 80 mm roll PDF.
    Pdf80mm,
    /// 1-bit PNG, 576 dots wide (thermal preview).
    Png,
    /// ESC/POS raster for a thermal printer.
    EscPos,
}

fn hindi_visit_type(t: &str) -> (&'static str, &'static str) {
    match t {
        "follow_up" => ("Follow-up", "पुनः दिखाना"),
        _ => ("New", "नया"),
    }
}

fn dmy(iso_date: &str) -> String {
    match iso_date.split('-').collect::<Vec<_>>()[..] {
        [y, m, d] => format!("{d}-{m}-{y}"),
        _ => iso_date.to_owned(),
    }
}

fn age_text(p: &Patient, on: &str) -> String {
    let parse = |s: &str| {
        let v: Vec<i32> = s.split('-').filter_map(|x| x.parse().ok()).collect();
        (v.len() == 3).then(|| (v[0], v[1], v[2]))
    };
    let age = match (p.dob.as_deref().and_then(parse), parse(on)) {
        (Some((by, bm, bd)), Some((y, m, d))) => {
            let months = (y - by) * 12 + (m - bm) - i32::from(d < bd);
            if months < 24 {
                format!("{} M", months.max(0))
            } else {
                format!("{} Y", months / 12)
            }
        }
        _ => String::from("-"),
    };
    format!("{age} / {}", p.gender)
}

/// Settings key of the facility's slip-link key from enrollment (hex of its bytes).
const FACILITY_LINK_KEY: &str = "facility_slip_link_key";

/// Installs the facility's slip-link key delivered at enrollment (base64). From then on every
/// slip's link is `<base>/s/<visit>?k=<HMAC-SHA256(key bytes, visit id), first 6 bytes in hex>`,
/// which the state server can check for any counter of the facility. Returns whether it changed.
pub fn install_facility_link_key(conn: &Connection, key_b64: &str) -> Result<bool> {
    use base64::Engine as _;
    let key = base64::engine::general_purpose::STANDARD
        .decode(key_b64.trim())
        .ok()
        .filter(|k| k.len() >= 16)
        .ok_or_else(|| {
            CoreError::invalid(
                "slip_link_key",
                "the facility's slip-link key from enrollment is not valid base64",
                "नामांकन से मिली पर्ची-लिंक कुंजी मान्य नहीं है",
            )
        })?;
    let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
    let stored: Option<String> = rusqlite::OptionalExtension::optional(conn.query_row(
        "SELECT value FROM settings WHERE key = ?1",
        [FACILITY_LINK_KEY],
        |r| r.get(0),
    ))?;
    if stored.as_deref() == Some(hex.as_str()) {
        return Ok(false);
    }
    conn.execute(
        "INSERT INTO settings (key, value) VALUES (?1, ?2) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [FACILITY_LINK_KEY, &hex],
    )?;
    Ok(true)
}

/// The link key: the facility's from enrollment (its bytes), else this kiosk's own, generated
/// once per database (before enrollment only this kiosk could check its links).
fn link_key(conn: &Connection) -> Result<Vec<u8>> {
    let facility: Option<String> = rusqlite::OptionalExtension::optional(conn.query_row(
        "SELECT value FROM settings WHERE key = ?1",
        [FACILITY_LINK_KEY],
        |r| r.get(0),
    ))?;
    if let Some(hex) = facility {
        let bytes: Option<Vec<u8>> = (0..hex.len())
            .step_by(2)
            .map(|i| {
                hex.get(i..i + 2)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
            })
            .collect();
        return bytes.ok_or_else(|| CoreError::Corrupt("facility slip-link key".into()));
    }
    let stored: Option<String> = rusqlite::OptionalExtension::optional(conn.query_row(
        "SELECT value FROM settings WHERE key = 'slip_link_key'",
        [],
        |r| r.get(0),
    ))?;
    if let Some(s) = stored {
        return Ok(s.into_bytes());
    }
    let mut raw = [0u8; 16];
    getrandom::fill(&mut raw).map_err(|e| CoreError::Corrupt(format!("no randomness: {e}")))?;
    let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    conn.execute(
        "INSERT INTO settings (key, value) VALUES ('slip_link_key', ?1)",
        [&hex],
    )?;
    Ok(hex.into_bytes())
}

/// The short HMAC that authorises a slip link.
pub fn link_mac(key: &[u8], visit_id: &str) -> String {
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(key) else {
        return String::new();
    };
    mac.update(visit_id.as_bytes());
    mac.finalize().into_bytes()[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What the slip of `visit` says; `reprint` is the print number when it is a reprint.
pub fn slip_data(conn: &Connection, visit: &Visit, reprint: Option<u32>) -> Result<SlipData> {
    let patient = patients::get(conn, &visit.patient_id)?;
    let cfg = config::load(conn)?;
    let s = &cfg.settings;
    let dept = cfg
        .departments
        .iter()
        .find(|d| d.code == visit.department)
        .ok_or_else(|| CoreError::NotFound {
            what: format!("department {}", visit.department),
        })?;
    let address_lines = address_lines(&patient.address);
    let created = clock::from_db(&visit.created_at).unwrap_or_else(clock::now_utc);
    let offset = time::UtcOffset::from_whole_seconds(s.utc_offset_minutes.saturating_mul(60))
        .unwrap_or(time::UtcOffset::UTC);
    let local = created.to_offset(offset);
    let (vt_en, vt_hi) = hindi_visit_type(&visit.visit_type);
    let fee = match (
        &visit.waiver_code,
        visit.fee_rupees,
        visit.visit_type.as_str(),
    ) {
        (Some(w), _, _) => format!("₹0 — निःशुल्क / Free ({w})"),
        (None, 0, "follow_up") => "₹0 — फ़ॉलो-अप / Follow-up".to_owned(),
        (None, 0, _) => "₹0 — निःशुल्क / Free".to_owned(),
        (None, f, _) => format!("₹{f}"),
    };
    let qr_url = match &s.public_base_url {
        Some(base) => format!(
            "{base}/s/{}?k={}",
            visit.id,
            link_mac(&link_key(conn)?, &visit.id)
        ),
        None => format!("SWAGAT:{}:{}", patient.uhid, visit.id),
    };
    Ok(SlipData {
        facility_name_en: s.name_en.clone(),
        facility_name_hi: s.name_hi.clone(),
        facility_address: s.address.clone(),
        uhid: patient.uhid.clone(),
        patient_name_en: patient.name.clone(),
        patient_name_hi: patient.name_hi.clone(),
        age_sex: age_text(&patient, &visit.visit_date),
        guardian: match (&patient.guardian_relation, &patient.guardian_name) {
            (Some(r), Some(n)) => format!("{r} {n}"),
            _ => String::new(),
        },
        address_lines,
        aadhaar_masked: patient.masked_aadhaar(),
        abha_number: patient.abha_number.clone(),
        abha_address: patient.abha_address.clone(),
        department_en: dept.name_en.clone(),
        department_hi: dept.name_hi.clone(),
        room: dept.room.clone(),
        // The department code with the token ("GEN A-017"): two patients in one hall holding
        // "A-017" for different departments are never confused.
        token: format!("{} {}", dept.code, visit.token),
        visit_datetime: format!(
            "{:02}-{:02}-{} {:02}:{:02}",
            local.day(),
            u8::from(local.month()),
            local.year(),
            local.hour(),
            local.minute()
        ),
        valid_until: dmy(&visit.valid_until),
        fee,
        visit_type_en: vt_en.to_owned(),
        visit_type_hi: vt_hi.to_owned(),
        notices_hi: vec![
            format!("यह पर्ची {} तक मान्य है।", dmy(&visit.valid_until)),
            "कृपया पर्ची संभाल कर रखें; जाँच रिपोर्ट इसी पर लिखी जाएगी।".to_owned(),
            "अपनी बारी की प्रतीक्षा करें।".to_owned(),
        ],
        qr_url,
        reprint: reprint.map(|n| format!("REPRINT {n} / पुनर्मुद्रण {n}")),
    })
}

/// Renders `data` in `format`.
pub fn render(data: &SlipData, format: SlipFormat) -> Result<Vec<u8>> {
    let err = |e: swagat_slip::SlipError| CoreError::Corrupt(format!("slip rendering failed: {e}"));
    match format {
        SlipFormat::PdfA6 => swagat_slip::render_pdf(data, SlipSize::A6).map_err(err),
        SlipFormat::Pdf80mm => swagat_slip::render_pdf(data, SlipSize::Roll80).map_err(err),
        SlipFormat::Png => swagat_slip::render_raster(data)
            .map_err(err)?
            .to_png()
            .map_err(err),
        SlipFormat::EscPos => Ok(swagat_slip::render_raster(data).map_err(err)?.to_escpos()),
    }
}

/// The slip the next print of `visit_id` will be (marked as a reprint from the second print on),
/// without counting it: see [`count_print`], called once the printer has accepted it.
pub fn next_print_data(conn: &Connection, visit_id: &str) -> Result<SlipData> {
    let visit = visits::get(conn, visit_id)?;
    let n = visit.prints + 1;
    slip_data(conn, &visit, (n > 1).then_some(n))
}

/// The patient's address as the slip prints it: house to locality on the first line, village to
/// state and PIN on the second, each part once. Aadhaar addresses often repeat a name in several
/// fields (VTC, post office, sub-district and district all "Jagdalpur"): a part already printed
/// (compared without case or spacing) is left out.
pub fn address_lines(address: &crate::opd::PatientAddress) -> Vec<String> {
    let a = &address.postal;
    let mut seen: Vec<String> = Vec::new();
    let mut line = |parts: [&Option<String>; 5]| -> Vec<String> {
        let mut out = Vec::new();
        for p in parts.into_iter().flatten() {
            let p = p.trim();
            let key: String = p
                .chars()
                .filter(|c| !c.is_whitespace())
                .flat_map(char::to_lowercase)
                .collect();
            if key.is_empty() || seen.contains(&key) {
                continue;
            }
            seen.push(key);
            out.push(p.to_owned());
        }
        out
    };
    let line1 = line([&a.house, &a.street, &a.landmark, &a.locality, &None]).join(", ");
    let mut line2 = line([
        &a.vtc,
        &a.post_office,
        &a.sub_district,
        &a.district,
        &a.state,
    ])
    .join(", ");
    if let Some(pin) = &a.pincode {
        line2 = format!("{line2} {pin}").trim().to_owned();
    }
    [line1, line2]
        .into_iter()
        .filter(|l| !l.is_empty())
        .collect()
}

/// Counts a print of `visit_id` once the printer has accepted it, and audits it (`slip.print`
/// the first time, `slip.reprint` after); returns the print's number.
pub fn count_print(conn: &Connection, actor: &Actor, visit_id: &str) -> Result<u32> {
    let n: u32 = rusqlite::OptionalExtension::optional(conn.query_row(
        "UPDATE visits SET prints = prints + 1 WHERE id = ?1 RETURNING prints",
        [visit_id],
        |r| r.get(0),
    ))?
    .ok_or_else(|| CoreError::NotFound {
        what: format!("visit {visit_id}"),
    })?;
    let action = if n > 1 {
        crate::audit::actions::SLIP_REPRINT
    } else {
        crate::audit::actions::SLIP_PRINT
    };
    audit::record(
        conn,
        actor,
        action,
        "visit",
        Some(visit_id),
        serde_json::json!({ "print": n }),
    )?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    #[test]
    fn repeated_address_parts_are_printed_once() {
        let a: crate::opd::PatientAddress = serde_json::from_value(serde_json::json!({
            "house": "12", "locality": "Dharampura", "vtc": "Jagdalpur",
            "post_office": "Jagdalpur", "sub_district": "JAGDALPUR", "district": "Bastar",
            "state": "Chhattisgarh", "pincode": "494001"
        }))
        .unwrap();
        assert_eq!(
            address_lines(&a),
            ["12, Dharampura", "Jagdalpur, Bastar, Chhattisgarh 494001"]
        );
        let town: crate::opd::PatientAddress = serde_json::from_value(serde_json::json!({
            "locality": "Bihta", "vtc": "Bihta", "district": "Patna"
        }))
        .unwrap();
        assert_eq!(address_lines(&town), ["Bihta", "Patna"]);
    }

    #[test]
    fn from_enrollment_on_every_counter_signs_links_with_the_facility_key() {
        let a = crate::Kiosk::open_in_memory().unwrap();
        let b = crate::Kiosk::open_in_memory().unwrap();
        let own = |k: &crate::Kiosk| k.store().write(|tx| link_key(tx)).unwrap();
        assert_ne!(
            own(&a),
            own(&b),
            "before enrollment each kiosk has its own key"
        );
        let key = base64::engine::general_purpose::STANDARD.encode([42u8; 32]);
        for k in [&a, &b] {
            let changed = k
                .store()
                .write(|tx| install_facility_link_key(tx, &key))
                .unwrap();
            assert!(changed);
        }
        assert_eq!(own(&a), vec![42u8; 32]);
        let visit = "0190a000-0000-7000-8000-000000000001";
        assert_eq!(link_mac(&own(&a), visit), link_mac(&own(&b), visit));
        assert!(!a
            .store()
            .write(|tx| install_facility_link_key(tx, &key))
            .unwrap());
        assert!(a
            .store()
            .write(|tx| install_facility_link_key(tx, "not base64!"))
            .is_err());
    }
}
