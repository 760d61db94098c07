//! Monthly figures arranged like the outpatient items of the HMIS facility format.
//!
//! What was followed: the Ministry of Health & Family Welfare's HMIS "Monthly Service Delivery
//! Reporting Format" for Primary Health Centres, in its current revision (the Ayushman Arogya
//! Mandir one: "AAM-PHC / UPHC-AAM" facility types; a copy of the form's first pages is
//! <https://www.scribd.com/document/882339432/HWC-PHC-Format-1>, the earlier HWC-PHC revision
//! <https://scribd.com/document/673110346/HWC-PHC-Format>). Its Part C, section M14 "Patient
//! Services", reports each item as a "number reported during the month (in-facility)".
//!
//! Item numbers (`hmis_code`) and the item names as HMIS spells them:
//! - `14.2.1` "Allopathic- Outpatient attendance" — every department but AYUSH;
//! - `14.2.2` "Ayush - Outpatient attendance" — departments whose code starts with `AYU`;
//! - `14.1.1.b` "Geriatric (age>=60 yrs) patients footfall" — the 60+ band.
//!
//! Where they were checked, precisely: no legible copy of the form's M14 page was found. The
//! numbers come from public copies of HMIS data-item lists, which name every item
//! "<code> :: <name>" the way the HMIS portal's facility-wise data does (for instance the columns
//! of the Andhra Pradesh HMIS data set <https://huggingface.co/datasets/hmisapdb/ap-hmis-dashboard>,
//! whose stored excerpt shows only Part A items): `14.2.1` with this name appears in four separate
//! lists and `14.2.2` in three (of the current AAM revision and the previous one, unchanged);
//! `14.1.1.b` in one list, of the current revision (which also numbers "14.1.1.a Total number of
//! geriatric/elderly patients (age>=60 yrs) Registered" and "14.2.1.a Out of above, number of
//! specialist Allopathic OPD services provided", neither of which the counter records). The
//! previous revision numbered disease-wise OPD items instead (e.g. "14.1.8 Outpatient - Dental",
//! "14.1.21 Outpatient - Geriatric (age>=60 yrs)"); the current PHC list has no dental OPD item.
//! The other figures — by sex, new vs follow-up, under-5, dental, ABHA-linked — are not OPD items
//! of the current format, so they keep descriptive keys and no `hmis_code`; a state that needs
//! them maps these keys. Only what the counter records is here: diagnoses, IPD and lab items are
//! not the reception's.
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
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HmisItem {
    /// Our key, e.g. `opd.female`.
    pub key: String,
    /// The HMIS data item number (e.g. `14.2.1`) where the current format has this item.
    pub hmis_code: Option<String>,
    /// The item as HMIS words it (English).
    pub label_en: String,
    /// The item in Hindi.
    pub label_hi: String,
    /// Number reported during the month (in-facility).
    pub value: i64,
}

/// A month's figures.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename = "MonthlyFigures"))]
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
        hmis_code: None,
        label_en: en.to_owned(),
        label_hi: hi.to_owned(),
        value,
    };
    let coded = |code: &str, key: &str, en: &str, hi: &str, value: i64| HmisItem {
        hmis_code: Some(code.to_owned()),
        ..item(key, en, hi, value)
    };
    let total = get(&c, "all", "").0;
    let ayush = dept_prefix(&c, "AYU");
    let items = vec![
        item(
            "opd.total",
            "OPD attendance (all, new + old cases)",
            "ओपीडी उपस्थिति (सभी, नए + पुराने)",
            total,
        ),
        coded(
            "14.2.1",
            "opd.allopathic",
            "Allopathic- Outpatient attendance",
            "एलोपैथिक — ओपीडी उपस्थिति",
            total - ayush,
        ),
        coded(
            "14.2.2",
            "opd.ayush",
            "Ayush - Outpatient attendance",
            "आयुष — ओपीडी उपस्थिति",
            ayush,
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
        coded(
            "14.1.1.b",
            "opd.elderly_60_plus",
            "Geriatric (age>=60 yrs) patients footfall",
            "वृद्ध (60 वर्ष और अधिक) मरीज़ों की ओपीडी उपस्थिति",
            get(&c, "band", "60+").0,
        ),
        item(
            "opd.dental",
            "Dental OPD attendance",
            "दंत ओपीडी उपस्थिति",
            dept_prefix(&c, "DEN"),
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
