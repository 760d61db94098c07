//! Monthly figures arranged like the outpatient items of the HMIS facility format.
//!
//! What was followed: the Ministry of Health & Family Welfare's HMIS "Monthly Service Delivery
//! Reporting Format" for Primary Health Centres (the HWC-PHC / AAM-PHC facility format; the copy
//! consulted was <https://scribd.com/document/673110346/HWC-PHC-Format>), whose Part C "Patient
//! Services" reports outpatient attendance — allopathic OPD by sex (male, female, transgender),
//! AYUSH OPD and dental OPD separately — each item a "number reported during the month
//! (in-facility)". The copy at hand did not show the OPD items' numbers legibly, so the items here
//! carry descriptive keys (`opd.total`, `opd.male`, …) and the HMIS wording, not HMIS item codes;
//! a state that maps them to its codes maps these keys. Only what the counter records is here:
//! diagnoses, IPD and lab items are not the reception's.
//!
//! Rules: cancelled visits are not attendance; "OPD attendance" is new + follow-up (HMIS counts
//! footfall, old and new); `T` (transgender) is reported with "other" because the kiosk's
//! summary contract has M/F/O; dental is the `DEN` department, AYUSH any department whose code
//! starts with `AYU`.

use rusqlite::Connection;
use serde::Serialize;
use time::Date;

use super::summary::{counts, get, Counts};
use crate::error::Result;

/// One item of the monthly figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HmisItem {
    /// Our key, e.g. `opd.female`.
    pub key: String,
    /// The item as HMIS words it (English).
    pub label_en: String,
    /// The item in Hindi.
    pub label_hi: String,
    /// Number reported during the month (in-facility).
    pub value: i64,
}

/// A month's figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Monthly {
    /// `YYYY-MM`.
    pub month: String,
    /// First day.
    pub from: String,
    /// Last day.
    pub to: String,
    /// The items, in the order of the format.
    pub items: Vec<HmisItem>,
}

/// Attendance of the departments whose code starts with `prefix`.
fn dept_prefix(c: &Counts, prefix: &str) -> i64 {
    c.iter()
        .filter(|((d, k), _)| d == "dept" && k.starts_with(prefix))
        .map(|(_, (a, _, _))| *a)
        .sum()
}

pub(crate) fn load(conn: &Connection, from: Date, to: Date) -> Result<Monthly> {
    let c = counts(conn, from, to)?;
    let g = |sex: &str| get(&c, "gender", sex).0;
    let gt = |key: &str| get(&c, "gender_type", key).0;
    let item = |key: &str, en: &str, hi: &str, value: i64| HmisItem {
        key: key.to_owned(),
        label_en: en.to_owned(),
        label_hi: hi.to_owned(),
        value,
    };
    let items = vec![
        item(
            "opd.total",
            "OPD attendance (all, new + old cases)",
            "ओपीडी उपस्थिति (सभी, नए + पुराने)",
            get(&c, "all", "").0,
        ),
        item(
            "opd.male",
            "OPD attendance — male",
            "ओपीडी उपस्थिति — पुरुष",
            g("M"),
        ),
        item(
            "opd.female",
            "OPD attendance — female",
            "ओपीडी उपस्थिति — महिला",
            g("F"),
        ),
        item(
            "opd.other",
            "OPD attendance — transgender / other",
            "ओपीडी उपस्थिति — ट्रांसजेंडर / अन्य",
            g("O"),
        ),
        item(
            "opd.new",
            "Of which new cases",
            "इनमें नए मरीज़",
            get(&c, "type", "new").0,
        ),
        item(
            "opd.new.male",
            "New cases — male",
            "नए मरीज़ — पुरुष",
            gt("M:new"),
        ),
        item(
            "opd.new.female",
            "New cases — female",
            "नए मरीज़ — महिला",
            gt("F:new"),
        ),
        item(
            "opd.old",
            "Of which old (follow-up) cases",
            "इनमें पुराने (फ़ॉलो-अप) मरीज़",
            get(&c, "type", "follow_up").0,
        ),
        item(
            "opd.children_under_5",
            "OPD attendance — children under 5 years",
            "ओपीडी उपस्थिति — 5 वर्ष से कम आयु के बच्चे",
            get(&c, "band", "0-4").0,
        ),
        item(
            "opd.elderly_60_plus",
            "OPD attendance — 60 years and above",
            "ओपीडी उपस्थिति — 60 वर्ष और अधिक",
            get(&c, "band", "60+").0,
        ),
        item(
            "opd.dental",
            "Dental OPD attendance",
            "दंत ओपीडी उपस्थिति",
            dept_prefix(&c, "DEN"),
        ),
        item(
            "opd.ayush",
            "AYUSH OPD attendance",
            "आयुष ओपीडी उपस्थिति",
            dept_prefix(&c, "AYU"),
        ),
        item(
            "opd.abha_linked",
            "OPD registrations linked to ABHA",
            "आभा से जुड़े ओपीडी पंजीकरण",
            get(&c, "abha", "1").0,
        ),
    ];
    Ok(Monthly {
        month: format!("{:04}-{:02}", from.year(), u8::from(from.month())),
        from: from.to_string(),
        to: to.to_string(),
        items,
    })
}
