//! The printed register and cash sheet read back with poppler's `pdftotext`, as an auditor's
//! tools would: every token is there, the Hindi names come out shaped and in logical order,
//! pages are numbered, a long day flows onto more pages; the 80 mm day sheet renders as a roll
//! PDF and as ESC/POS raster.
#![allow(clippy::unwrap_used)]

use std::process::Command;

use serde_json::json;
use swagat_core::reports::{ExportFormat, ReportKind};
use swagat_core::{Actor, FirstRunSetup, Kiosk};

fn kiosk(dir: &std::path::Path) -> (Kiosk, Actor) {
    let k = Kiosk::open(&dir.join("k.db")).unwrap();
    let admin = k
        .first_run_setup(&FirstRunSetup {
            facility: serde_json::from_value(json!({
                "name_en": "PHC Bihta", "name_hi": "प्राथमिक स्वास्थ्य केंद्र बिहटा",
                "kiosk_letter": "A", "address": "Bihta, Patna 801103"
            }))
            .unwrap(),
            admin_name: "Admin".into(),
            admin_secret: "135790".into(),
        })
        .unwrap();
    (k, Actor::Staff(admin.id))
}

fn pdf_text(path: &std::path::Path) -> String {
    let out = Command::new("pdftotext")
        .args(["-layout", "-enc", "UTF-8"])
        .arg(path)
        .arg("-")
        .output()
        .expect("pdftotext (Debian package poppler-utils)");
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

const NAMES: &[(&str, &str)] = &[
    ("Sunita Devi", "सुनीता देवी"),
    ("Lakshmi Kumari", "लक्ष्मी कुमारी"),
    ("Kishore Prasad", "किशोर प्रसाद"),
    ("Arjun Sharma", "अर्जुन शर्मा"),
    ("Priya Mishra", "प्रिया मिश्रा"),
];

#[test]
fn register_pdf_has_every_token_and_shaped_hindi_names() {
    let dir = tempfile::tempdir().unwrap();
    let (k, admin) = kiosk(dir.path());
    let mut tokens = Vec::new();
    for i in 0..70 {
        let (en, hi) = NAMES[i % NAMES.len()];
        let dept = ["GEN", "PED", "GYN", "EYE"][i % 4];
        let r = k
            .register(
                &admin,
                &serde_json::from_value(json!({"department": dept, "patient": {
                    "name": format!("{en} {i}"), "name_hi": hi, "gender": "F", "age_years": 20 + i,
                    "guardian": "W/O Ramesh Kumar", "address": {"locality": "Amhara"}}}))
                .unwrap(),
            )
            .unwrap();
        tokens.push((r.visit_id, r.token));
    }
    k.cancel_visit(&admin, &tokens[3].0, "duplicate").unwrap();
    let today = k.home_summary().unwrap().date;
    let pdf = k
        .report_export(
            &admin,
            ReportKind::Register,
            ExportFormat::Pdf,
            &today,
            &today,
        )
        .unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let path = dir.path().join("register.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let text = pdf_text(&path);
    let squeezed: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for (_, tok) in &tokens {
        // Tokens repeat across departments (A-001 in GEN and PED): count is checked below.
        assert!(text.contains(tok.as_str()), "{tok} missing");
    }
    let per_dept_first = text.matches("A-001").count();
    assert!(
        per_dept_first >= 4,
        "A-001 of each of the 4 departments: {per_dept_first}"
    );
    for (_, hi) in NAMES {
        assert!(text.contains(hi), "{hi} not extracted:\n{text}");
    }
    // Unshaped or visually ordered Devanagari comes out with the i-matra first.
    assert!(!text.contains("िकशोर"), "Hindi extracted in visual order");
    assert!(squeezed.contains("Daily OPD Register"));
    assert!(squeezed.contains("दैनिक ओपीडी रजिस्टर"));
    assert!(squeezed.contains("Totals by department"));
    assert!(squeezed.contains("Page 1 of"), "page numbers");
    assert!(
        squeezed.contains("रद्द / Cancelled"),
        "the cancelled visit is marked"
    );
    let pages = text.matches('\u{c}').count();
    assert!(
        pages >= 2,
        "70 visits flow onto more than one page ({pages})"
    );
    assert!(
        squeezed.contains(&format!("Page {pages} of {pages}")),
        "last page numbered"
    );
}

#[test]
fn cash_sheet_a4_and_day_sheet_on_the_roll() {
    let dir = tempfile::tempdir().unwrap();
    let (k, admin) = kiosk(dir.path());
    for (i, (en, hi)) in NAMES.iter().enumerate() {
        k.register(
            &admin,
            &serde_json::from_value(
                json!({"department": "GEN", "waiver": if i == 0 { Some("BPL") } else { None },
                "patient": {"name": en, "name_hi": hi, "gender": "M", "age_years": 40}}),
            )
            .unwrap(),
        )
        .unwrap();
    }
    let today = k.home_summary().unwrap().date;
    let a4 = k
        .report_export(&admin, ReportKind::Cash, ExportFormat::Pdf, &today, &today)
        .unwrap();
    let path = dir.path().join("cash.pdf");
    std::fs::write(&path, &a4).unwrap();
    let text = pdf_text(&path);
    assert!(text.contains("Cash by staff"), "{text}");
    assert!(text.contains("कर्मचारीवार नकद"));
    assert!(text.contains("Admin"));
    assert!(text.contains("40"), "₹40 collected: {text}");
    let roll = k
        .report_export(
            &admin,
            ReportKind::DaySheet,
            ExportFormat::Pdf80mm,
            &today,
            &today,
        )
        .unwrap();
    let path = dir.path().join("day.pdf");
    std::fs::write(&path, &roll).unwrap();
    let text = pdf_text(&path);
    assert!(text.contains("End-of-day summary"), "{text}");
    assert!(text.contains("पंजीकरण / Registrations"));
    let exports = k
        .audit_log(10)
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "report.export")
        .count();
    assert_eq!(exports, 2);
}
