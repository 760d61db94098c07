//! Facility configuration kept in the store: who this kiosk is, its departments and fee waivers.
//!
//! Scalar settings live as one JSON document under the `facility` key of `settings`; departments
//! and fee waivers have tables of their own because registration joins on them. Changes arrive as a
//! [`ConfigPatch`] (only the keys given change; departments and waivers are upserted by code and
//! retired with `active: false`, never deleted, because old visits refer to them). Validation
//! happens here so the setup screen and `swagat-admin config set` reject the same things.

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::error::{CoreError, Result};
use crate::lgd;

/// One OPD department.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Department {
    /// Short code printed on slips and used in tokens, e.g. `GEN`.
    pub code: String,
    /// English name.
    pub name_en: String,
    /// Hindi name.
    pub name_hi: String,
    /// Room or counter where the patient goes.
    #[serde(default)]
    pub room: String,
    /// OPD fee in rupees (0 for free).
    #[serde(default)]
    pub fee_rupees: u32,
    /// How many days a slip stays valid for follow-up visits.
    #[serde(default = "default_validity")]
    pub validity_days: u32,
    /// Whether new registrations can choose it.
    #[serde(default = "yes")]
    pub active: bool,
}

/// A category whose holders pay no fee.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeWaiver {
    /// Short code, e.g. `BPL`.
    pub code: String,
    /// English name.
    pub name_en: String,
    /// Hindi name.
    pub name_hi: String,
    /// Whether it can be chosen.
    #[serde(default = "yes")]
    pub active: bool,
}

fn default_validity() -> u32 {
    15
}
fn yes() -> bool {
    true
}
fn default_offset() -> i32 {
    330
}
fn default_idle() -> u32 {
    5
}

/// The facility's scalar settings (everything but the department and waiver lists).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct FacilitySettings {
    /// Facility name in English.
    pub name_en: String,
    /// Facility name in Hindi.
    pub name_hi: String,
    /// Health Facility Registry id, `IN` + 10 digits.
    pub hfr_id: Option<String>,
    /// LGD state code.
    pub state_lgd: Option<u32>,
    /// LGD district code.
    pub district_lgd: Option<u32>,
    /// Postal address printed on slips.
    pub address: String,
    /// This kiosk's letter, unique within the facility: prefixes tokens and ids.
    pub kiosk_letter: Option<String>,
    /// The facility's code, unique in the state (assigned by the state server): starts UHIDs.
    pub facility_code: Option<String>,
    /// Where patients view slips on a phone, e.g. `https://swagat.bihar.gov.in`.
    pub public_base_url: Option<String>,
    /// The slip printer: a CUPS queue name, or for ESC/POS a raw target (`/dev/usb/lp0`,
    /// `tcp://10.0.0.5:9100`, `cups:QUEUE`).
    pub printer: Option<String>,
    /// What the printer takes: `pdf_a6`, `pdf_80mm` or `escpos`.
    pub printer_format: Option<String>,
    /// Facility time zone as minutes east of UTC (India: 330).
    #[serde(default = "default_offset")]
    pub utc_offset_minutes: i32,
    /// Minutes of inactivity after which the app locks.
    #[serde(default = "default_idle")]
    pub idle_lock_minutes: u32,
    /// Where automatic backups go (e.g. a USB stick's folder); unset: `backups/` beside the
    /// database. See [`crate::backup`].
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub backup_dir: Option<String>,
    /// Hours between automatic backups (0: only the end-of-day one); unset: 4.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub backup_every_hours: Option<u32>,
    /// Facility-local time of the end-of-day backup, `HH:MM` (empty: none); unset: `18:00`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub backup_end_of_day: Option<String>,
    /// Print the slip as soon as the token is issued (the token screen then offers a reprint).
    pub auto_print: bool,
    /// This kiosk's ABHA scan-and-share counter id (1-20 letters or digits), printed in the
    /// counter's QR and sent back by ABDM as the share's `context`.
    pub counter_id: Option<String>,
    /// The scan-and-share page the counter QR points to (default: the ABDM sandbox's).
    pub share_base_url: Option<String>,
}

/// The whole facility configuration, as `config show` prints it.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacilityConfig {
    /// True once the facility name and kiosk letter are set.
    pub configured: bool,
    /// Scalar settings.
    #[serde(flatten)]
    pub settings: FacilitySettings,
    /// LGD name of the state, when the code is set.
    pub state_name: Option<String>,
    /// LGD name of the district, when the code is set.
    pub district_name: Option<String>,
    /// Departments, active or not, in display order.
    pub departments: Vec<Department>,
    /// Fee-waiver categories.
    pub fee_waivers: Vec<FeeWaiver>,
}

/// A change to the configuration: only the keys present change. Unknown keys are refused.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "ts", ts(optional_fields = nullable))]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigPatch {
    /// New English facility name.
    pub name_en: Option<String>,
    /// New Hindi facility name.
    pub name_hi: Option<String>,
    /// New HFR id (empty string clears it).
    pub hfr_id: Option<String>,
    /// New LGD state code.
    pub state_lgd: Option<u32>,
    /// New LGD district code.
    pub district_lgd: Option<u32>,
    /// New address.
    pub address: Option<String>,
    /// New kiosk letter.
    pub kiosk_letter: Option<String>,
    /// New facility code (2-8 letters or digits).
    pub facility_code: Option<String>,
    /// New public base URL (empty string clears it).
    pub public_base_url: Option<String>,
    /// New printer (empty string clears it).
    pub printer: Option<String>,
    /// New printer format: `pdf_a6`, `pdf_80mm` or `escpos`.
    pub printer_format: Option<String>,
    /// New UTC offset in minutes.
    pub utc_offset_minutes: Option<i32>,
    /// New idle-lock time in minutes.
    pub idle_lock_minutes: Option<u32>,
    /// New backup folder (an absolute path; empty string: back to the default beside the database).
    pub backup_dir: Option<String>,
    /// New hours between automatic backups (0 to 24; 0: only the end-of-day backup).
    pub backup_every_hours: Option<u32>,
    /// New end-of-day backup time, `HH:MM` facility-local (empty string: none).
    pub backup_end_of_day: Option<String>,
    /// Print the slip on issue.
    pub auto_print: Option<bool>,
    /// New scan-and-share counter id (empty string clears it).
    pub counter_id: Option<String>,
    /// New scan-and-share page URL (empty string restores the default).
    pub share_base_url: Option<String>,
    /// Departments to add or replace, matched by code.
    pub departments: Option<Vec<Department>>,
    /// Fee waivers to add or replace, matched by code.
    pub fee_waivers: Option<Vec<FeeWaiver>>,
}

const SETTINGS_KEY: &str = "facility";

/// Reads the scalar settings (defaults on a fresh install).
pub fn load_settings(conn: &Connection) -> Result<FacilitySettings> {
    let raw: Option<String> = conn
        .query_row(
            "SELECT value FROM settings WHERE key = ?1",
            [SETTINGS_KEY],
            |r| r.get(0),
        )
        .optional()?;
    match raw {
        None => Ok(FacilitySettings {
            utc_offset_minutes: default_offset(),
            idle_lock_minutes: default_idle(),
            ..Default::default()
        }),
        Some(s) => serde_json::from_str(&s).map_err(|e| CoreError::Corrupt(e.to_string())),
    }
}

/// Reads the whole configuration.
pub fn load(conn: &Connection) -> Result<FacilityConfig> {
    let settings = load_settings(conn)?;
    let mut stmt = conn.prepare_cached(
        "SELECT code, name_en, name_hi, room, fee_rupees, validity_days, active \
         FROM departments ORDER BY sort_order, code",
    )?;
    let departments = stmt
        .query_map([], |r| {
            Ok(Department {
                code: r.get(0)?,
                name_en: r.get(1)?,
                name_hi: r.get(2)?,
                room: r.get(3)?,
                fee_rupees: r.get(4)?,
                validity_days: r.get(5)?,
                active: r.get(6)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut stmt = conn
        .prepare_cached("SELECT code, name_en, name_hi, active FROM fee_waivers ORDER BY code")?;
    let fee_waivers = stmt
        .query_map([], |r| {
            Ok(FeeWaiver {
                code: r.get(0)?,
                name_en: r.get(1)?,
                name_hi: r.get(2)?,
                active: r.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let state_name = settings
        .state_lgd
        .and_then(lgd::state)
        .map(|s| s.state_name.clone());
    let district_name = match (settings.state_lgd, settings.district_lgd) {
        (Some(s), Some(d)) => lgd::district(s, d).map(|d| d.district_name.clone()),
        _ => None,
    };
    Ok(FacilityConfig {
        configured: is_configured(&settings),
        settings,
        state_name,
        district_name,
        departments,
        fee_waivers,
    })
}

fn is_configured(s: &FacilitySettings) -> bool {
    !s.name_en.trim().is_empty() && s.kiosk_letter.is_some()
}

/// Applies `patch` after validating it; returns the new configuration.
pub fn apply(conn: &Connection, patch: &ConfigPatch) -> Result<FacilityConfig> {
    let mut s = load_settings(conn)?;
    if let Some(v) = &patch.name_en {
        s.name_en = required_text("name_en", v, 120)?;
    }
    if let Some(v) = &patch.name_hi {
        s.name_hi = required_text("name_hi", v, 120)?;
    }
    if let Some(v) = &patch.hfr_id {
        s.hfr_id = optional(v).map(validate_hfr_id).transpose()?;
    }
    if let Some(v) = patch.state_lgd {
        if lgd::state(v).is_none() {
            return Err(CoreError::invalid(
                "state_lgd",
                format!("{v} is not an LGD state code"),
                format!("{v} कोई LGD राज्य कोड नहीं है"),
            ));
        }
        if s.state_lgd != Some(v) && patch.district_lgd.is_none() {
            s.district_lgd = None;
        }
        s.state_lgd = Some(v);
    }
    if let Some(v) = patch.district_lgd {
        let Some(state) = s.state_lgd else {
            return Err(CoreError::invalid(
                "district_lgd",
                "set the state before the district",
                "ज़िले से पहले राज्य चुनें",
            ));
        };
        if lgd::district(state, v).is_none() {
            return Err(CoreError::invalid(
                "district_lgd",
                format!("{v} is not a district of state {state}"),
                format!("{v} राज्य {state} का ज़िला नहीं है"),
            ));
        }
        s.district_lgd = Some(v);
    }
    if let Some(v) = &patch.address {
        s.address = bounded_text("address", v, 300)?;
    }
    if let Some(v) = &patch.kiosk_letter {
        s.kiosk_letter = Some(validate_kiosk_letter(v)?);
    }
    if let Some(v) = &patch.facility_code {
        s.facility_code = Some(validate_facility_code(v)?);
    }
    if let Some(v) = &patch.public_base_url {
        s.public_base_url = optional(v).map(validate_base_url).transpose()?;
    }
    if let Some(v) = &patch.printer {
        s.printer = bounded_text("printer", v, 200).map(|t| (!t.is_empty()).then_some(t))?;
    }
    if let Some(v) = &patch.printer_format {
        let v = v.trim().to_ascii_lowercase();
        if !["pdf_a6", "pdf_80mm", "escpos"].contains(&v.as_str()) {
            return Err(CoreError::invalid(
                "printer_format",
                "printer format must be pdf_a6, pdf_80mm or escpos",
                "प्रिंटर प्रारूप pdf_a6, pdf_80mm या escpos होना चाहिए",
            ));
        }
        s.printer_format = Some(v);
    }
    if let Some(v) = patch.utc_offset_minutes {
        if !(-720..=840).contains(&v) {
            return Err(CoreError::invalid(
                "utc_offset_minutes",
                "must be between -720 and 840",
                "-720 और 840 के बीच होना चाहिए",
            ));
        }
        s.utc_offset_minutes = v;
    }
    if let Some(v) = patch.idle_lock_minutes {
        if !(1..=120).contains(&v) {
            return Err(CoreError::invalid(
                "idle_lock_minutes",
                "must be between 1 and 120 minutes",
                "1 से 120 मिनट के बीच होना चाहिए",
            ));
        }
        s.idle_lock_minutes = v;
    }
    if let Some(v) = &patch.backup_dir {
        s.backup_dir = crate::backup::validate_dir_setting(v)?;
    }
    if let Some(v) = patch.backup_every_hours {
        if v > 24 {
            return Err(CoreError::invalid(
                "backup_every_hours",
                "must be between 0 and 24 hours",
                "0 से 24 घंटे के बीच होना चाहिए",
            ));
        }
        s.backup_every_hours = Some(v);
    }
    if let Some(v) = &patch.backup_end_of_day {
        let v = v.trim();
        if !v.is_empty() && crate::backup::parse_hhmm(v).is_none() {
            return Err(CoreError::invalid(
                "backup_end_of_day",
                "give the time as HH:MM, e.g. 18:00",
                "समय HH:MM के रूप में दें, जैसे 18:00",
            ));
        }
        s.backup_end_of_day = Some(v.to_owned());
    }
    if let Some(v) = patch.auto_print {
        s.auto_print = v;
    }
    if let Some(v) = &patch.counter_id {
        s.counter_id = optional(v).map(validate_counter_id).transpose()?;
    }
    if let Some(v) = &patch.share_base_url {
        s.share_base_url = optional(v)
            .map(|u| {
                validate_base_url(u).map_err(|_| {
                    CoreError::invalid(
                        "share_base_url",
                        "must be an http(s) URL without spaces",
                        "बिना रिक्त स्थान का http(s) URL होना चाहिए",
                    )
                })
            })
            .transpose()?;
    }
    let json = serde_json::to_string(&s).map_err(|e| CoreError::Corrupt(e.to_string()))?;
    conn.execute(
        "INSERT INTO settings (key, value) VALUES (?1, ?2) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![SETTINGS_KEY, json],
    )?;
    for d in patch.departments.iter().flatten() {
        upsert_department(conn, d)?;
    }
    for w in patch.fee_waivers.iter().flatten() {
        upsert_waiver(conn, w)?;
    }
    load(conn)
}

fn upsert_department(conn: &Connection, d: &Department) -> Result<()> {
    let code = validate_code("departments.code", &d.code)?;
    let name_en = required_text("departments.name_en", &d.name_en, 80)?;
    let name_hi = required_text("departments.name_hi", &d.name_hi, 80)?;
    let room = bounded_text("departments.room", &d.room, 40)?;
    if d.fee_rupees > 1000 {
        return Err(CoreError::invalid(
            "departments.fee_rupees",
            "fee must be at most ₹1000",
            "शुल्क ₹1000 से अधिक नहीं हो सकता",
        ));
    }
    if !(1..=366).contains(&d.validity_days) {
        return Err(CoreError::invalid(
            "departments.validity_days",
            "validity must be 1 to 366 days",
            "वैधता 1 से 366 दिन होनी चाहिए",
        ));
    }
    conn.execute(
        "INSERT INTO departments (code, name_en, name_hi, room, fee_rupees, validity_days, active, sort_order) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, (SELECT coalesce(max(sort_order), 0) + 1 FROM departments)) \
         ON CONFLICT (code) DO UPDATE SET name_en = excluded.name_en, name_hi = excluded.name_hi, \
           room = excluded.room, fee_rupees = excluded.fee_rupees, \
           validity_days = excluded.validity_days, active = excluded.active",
        params![code, name_en, name_hi, room, d.fee_rupees, d.validity_days, d.active],
    )?;
    Ok(())
}

fn upsert_waiver(conn: &Connection, w: &FeeWaiver) -> Result<()> {
    let code = validate_code("fee_waivers.code", &w.code)?;
    let name_en = required_text("fee_waivers.name_en", &w.name_en, 80)?;
    let name_hi = required_text("fee_waivers.name_hi", &w.name_hi, 80)?;
    conn.execute(
        "INSERT INTO fee_waivers (code, name_en, name_hi, active) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (code) DO UPDATE SET name_en = excluded.name_en, name_hi = excluded.name_hi, \
           active = excluded.active",
        params![code, name_en, name_hi, w.active],
    )?;
    Ok(())
}

fn optional(v: &str) -> Option<&str> {
    let t = v.trim();
    (!t.is_empty()).then_some(t)
}

fn bounded_text(field: &str, v: &str, max: usize) -> Result<String> {
    let t = v.trim();
    if t.chars().count() > max {
        return Err(CoreError::invalid(
            field,
            format!("must be at most {max} characters"),
            format!("अधिकतम {max} अक्षर हो सकते हैं"),
        ));
    }
    if t.chars().any(char::is_control) {
        return Err(CoreError::invalid(
            field,
            "contains control characters",
            "इसमें अमान्य अक्षर हैं",
        ));
    }
    Ok(t.to_owned())
}

fn required_text(field: &str, v: &str, max: usize) -> Result<String> {
    let t = bounded_text(field, v, max)?;
    if t.is_empty() {
        return Err(CoreError::invalid(
            field,
            "must not be empty",
            "खाली नहीं हो सकता",
        ));
    }
    Ok(t)
}

/// Checks a scan-and-share counter id: 1 to 20 letters or digits (kept as typed); the rule is
/// `swagat_validate`'s, which the state server checks ABDM's `context` with.
pub fn validate_counter_id(v: &str) -> Result<String> {
    swagat_validate::parse_counter_id(v).map_err(|e| shared_rule("counter_id", e))
}

/// Checks an HFR facility id: `IN` followed by 10 digits (the server's rule too).
pub fn validate_hfr_id(v: &str) -> Result<String> {
    swagat_validate::parse_hfr_id(v).map_err(|e| shared_rule("hfr_id", e))
}

/// Checks a facility code: 2 to 8 letters or digits, upper-cased; `swagat-server facility add`
/// refuses any other, so an enrollment cannot hand a kiosk a code it would refuse.
pub fn validate_facility_code(v: &str) -> Result<String> {
    swagat_validate::FacilityCode::parse(v)
        .map(swagat_validate::FacilityCode::into_string)
        .map_err(|e| shared_rule("facility_code", e))
}

fn shared_rule(field: &str, e: swagat_validate::NumberError) -> CoreError {
    CoreError::invalid(field, e.to_string(), e.message_hi())
}

/// Checks a kiosk letter: one letter A–Z (upper-cased).
pub fn validate_kiosk_letter(v: &str) -> Result<String> {
    let up = v.trim().to_ascii_uppercase();
    if up.len() == 1 && up.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(up)
    } else {
        Err(CoreError::invalid(
            "kiosk_letter",
            "kiosk letter must be one letter A-Z",
            "कियोस्क अक्षर A-Z में से एक अक्षर होना चाहिए",
        ))
    }
}

fn validate_code(field: &str, v: &str) -> Result<String> {
    let up = v.trim().to_ascii_uppercase();
    if (2..=8).contains(&up.len())
        && up
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    {
        Ok(up)
    } else {
        Err(CoreError::invalid(
            field,
            "code must be 2-8 letters or digits",
            "कोड 2-8 अक्षर या अंक होना चाहिए",
        ))
    }
}

fn validate_base_url(v: &str) -> Result<String> {
    let ok = (v.starts_with("https://") || v.starts_with("http://"))
        && v.len() <= 200
        && !v.contains(char::is_whitespace);
    if ok {
        Ok(v.trim_end_matches('/').to_owned())
    } else {
        Err(CoreError::invalid(
            "public_base_url",
            "must be an http(s) URL without spaces",
            "बिना रिक्त स्थान का http(s) URL होना चाहिए",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn patch(json: &str) -> ConfigPatch {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn fresh_install_has_default_departments_and_is_not_configured() {
        let store = Store::open_in_memory().unwrap();
        let cfg = store.read(load).unwrap();
        assert!(!cfg.configured);
        let codes: Vec<_> = cfg.departments.iter().map(|d| d.code.as_str()).collect();
        assert_eq!(
            codes,
            ["GEN", "GYN", "PED", "ORT", "ENT", "EYE", "DEN", "SKN"]
        );
        assert_eq!(cfg.departments[0].name_hi, "सामान्य चिकित्सा");
        assert!(cfg.fee_waivers.iter().any(|w| w.code == "BPL"));
        assert_eq!(cfg.settings.utc_offset_minutes, 330);
    }

    #[test]
    fn patch_sets_facility_and_validates_lgd() {
        let store = Store::open_in_memory().unwrap();
        let cfg = store
            .write(|tx| {
                apply(
                    tx,
                    &patch(
                        r#"{"name_en":"UPHC Kankarbagh","name_hi":"शहरी प्राथमिक स्वास्थ्य केंद्र कंकड़बाग",
                        "hfr_id":"in2810014366","state_lgd":10,"district_lgd":212,"kiosk_letter":"b"}"#,
                    ),
                )
            })
            .unwrap();
        assert!(cfg.configured);
        assert_eq!(cfg.settings.hfr_id.as_deref(), Some("IN2810014366"));
        assert_eq!(cfg.settings.kiosk_letter.as_deref(), Some("B"));
        assert!(cfg.district_name.unwrap().to_uppercase().contains("PATNA"));

        let err = store
            .write(|tx| apply(tx, &patch(r#"{"district_lgd":374}"#)))
            .unwrap_err();
        assert_eq!(err.kind(), crate::error::ErrorKind::Invalid);
        for bad in [
            r#"{"hfr_id":"IN28100"}"#,
            r#"{"kiosk_letter":"AB"}"#,
            r#"{"state_lgd":999}"#,
            r#"{"name_en":"  "}"#,
            r#"{"departments":[{"code":"x","name_en":"a","name_hi":"b"}]}"#,
        ] {
            assert!(store.write(|tx| apply(tx, &patch(bad))).is_err(), "{bad}");
        }
        assert!(serde_json::from_str::<ConfigPatch>(r#"{"nmae_en":"x"}"#).is_err());
    }

    #[test]
    fn departments_are_upserted_and_retired_not_deleted() {
        let store = Store::open_in_memory().unwrap();
        let cfg = store
            .write(|tx| {
                apply(
                    tx,
                    &patch(
                        r#"{"departments":[
                          {"code":"GEN","name_en":"General Medicine","name_hi":"सामान्य चिकित्सा","room":"12","fee_rupees":0,"validity_days":365},
                          {"code":"DEN","name_en":"Dental","name_hi":"दंत रोग","active":false},
                          {"code":"NCD","name_en":"NCD Clinic","name_hi":"गैर-संचारी रोग क्लिनिक"}]}"#,
                    ),
                )
            })
            .unwrap();
        let gen = cfg.departments.iter().find(|d| d.code == "GEN").unwrap();
        assert_eq!(
            (gen.room.as_str(), gen.fee_rupees, gen.validity_days),
            ("12", 0, 365)
        );
        assert!(
            !cfg.departments
                .iter()
                .find(|d| d.code == "DEN")
                .unwrap()
                .active
        );
        assert_eq!(cfg.departments.last().unwrap().code, "NCD");
        assert_eq!(cfg.departments.len(), 9);
    }
}
