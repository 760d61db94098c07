//! The daily OPD register: one row per visit in arrival (token) order, cancelled visits
//! included and marked, with totals per department at the end — as the paper register kept
//! beside the counter has them.

use std::collections::BTreeMap;

use rusqlite::Connection;
use serde::Serialize;
use time::Date;

use super::{local_time, Csv, StaffNames};
use crate::config;
use crate::error::Result;

/// One visit in the register.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegisterRow {
    /// 1, 2, 3… in the register's order.
    pub serial: u32,
    /// The visit's id.
    pub visit_id: String,
    /// Facility-local date of the visit.
    pub date: String,
    /// Facility-local time of registration, `HH:MM`.
    pub time: String,
    /// Token, e.g. `A-017`.
    pub token: String,
    /// The patient's UHID.
    pub uhid: String,
    /// Name (English letters).
    pub name: String,
    /// Name (Devanagari), if known.
    pub name_hi: Option<String>,
    /// Age at the visit and sex, e.g. `34 Y / F` (`8 M / M` under two years).
    pub age_sex: String,
    /// Guardian with relation, e.g. `W/O Ramesh Kumar`.
    pub guardian: String,
    /// Locality / village.
    pub locality: String,
    /// Department code.
    pub department: String,
    /// `new` or `follow_up`.
    pub visit_type: String,
    /// Fee charged in rupees (0 when waived or a free follow-up).
    pub fee: u32,
    /// Fee-waiver category code, if waived.
    pub waiver: Option<String>,
    /// The visit was cancelled (shown, not counted).
    pub cancelled: bool,
    /// Who registered it (a staff member's name, `cli`, …).
    pub staff: String,
}

/// Totals of one department (cancelled visits apart).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeptTotal {
    /// Department code.
    pub code: String,
    /// English name.
    pub name_en: String,
    /// Hindi name.
    pub name_hi: String,
    /// Registrations (not cancelled).
    pub registrations: u32,
    /// Of which new.
    pub new: u32,
    /// Of which follow-up.
    pub follow_up: u32,
    /// Cancelled visits.
    pub cancelled: u32,
    /// Fees collected (not cancelled), rupees.
    pub fees_collected: u64,
    /// Visits with a fee waiver (not cancelled).
    pub waived: u32,
}

/// A register over one day (or a short range, for exports).
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename = "DayRegister"))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Register {
    /// First day, `YYYY-MM-DD`.
    pub from: String,
    /// Last day.
    pub to: String,
    /// The visits.
    pub rows: Vec<RegisterRow>,
    /// Totals per department, in the facility's department order; a last row `""` is the total.
    pub totals: Vec<DeptTotal>,
}

/// Age in whole years (or months under two) at `on`, from a birth date or year.
fn age(dob: Option<&str>, year_of_birth: Option<i32>, on: Date) -> String {
    let parse = |s: &str| {
        let v: Vec<i32> = s.split('-').filter_map(|x| x.parse().ok()).collect();
        (v.len() == 3).then(|| (v[0], v[1], v[2]))
    };
    let (y, m, d) = (
        on.year(),
        i32::from(u8::from(on.month())),
        i32::from(on.day()),
    );
    match (dob.and_then(parse), year_of_birth) {
        (Some((by, bm, bd)), _) => {
            let months = (y - by) * 12 + (m - bm) - i32::from(d < bd);
            if months < 24 {
                format!("{} M", months.max(0))
            } else {
                format!("{} Y", months / 12)
            }
        }
        (None, Some(by)) => format!("{} Y", (y - by).max(0)),
        _ => "-".to_owned(),
    }
}

/// What the register reads of each visit and its patient (read by name, see [`col`]).
const REGISTER_COLUMNS: &str = "v.id, v.visit_date, v.created_at, v.token, p.uhid, p.name, \
    p.name_hi, p.gender, p.dob, p.year_of_birth, p.guardian_relation, p.guardian_name, p.locality, \
    p.vtc, v.department, v.visit_type, v.fee_rupees, v.waiver_code, v.status, v.created_by";

static POSITIONS: std::sync::LazyLock<std::collections::HashMap<&'static str, usize>> =
    std::sync::LazyLock::new(|| crate::store::column_positions(REGISTER_COLUMNS));

/// The position of `name` in [`REGISTER_COLUMNS`].
fn col(name: &str) -> usize {
    POSITIONS.get(name).copied().unwrap_or(usize::MAX)
}

/// The register of `from`..=`to`.
pub(crate) fn load(conn: &Connection, from: Date, to: Date) -> Result<Register> {
    let settings = config::load_settings(conn)?;
    let names = StaffNames::load(conn)?;
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {REGISTER_COLUMNS} FROM visits v JOIN patients p ON p.id = v.patient_id \
         WHERE v.visit_date BETWEEN ?1 AND ?2 \
         ORDER BY v.visit_date, v.created_at, v.token"
    ))?;
    let mut rows = Vec::new();
    let mut q = stmt.query(rusqlite::params![from.to_string(), to.to_string()])?;
    while let Some(r) = q.next()? {
        let date: String = r.get(col("visit_date"))?;
        let on = super::parse_date("date", &date).unwrap_or(from);
        let created_at: String = r.get(col("created_at"))?;
        let gender: String = r.get(col("gender"))?;
        let dob: Option<String> = r.get(col("dob"))?;
        let relation: Option<String> = r.get(col("guardian_relation"))?;
        let guardian: Option<String> = r.get(col("guardian_name"))?;
        let locality: Option<String> = r.get(col("locality"))?;
        let vtc: Option<String> = r.get(col("vtc"))?;
        let status: String = r.get(col("status"))?;
        let actor: String = r.get(col("created_by"))?;
        let place = match (locality, vtc) {
            (Some(l), Some(v)) if !l.eq_ignore_ascii_case(&v) => format!("{l}, {v}"),
            (Some(l), _) => l,
            (None, Some(v)) => v,
            (None, None) => String::new(),
        };
        rows.push(RegisterRow {
            serial: u32::try_from(rows.len() + 1).unwrap_or(u32::MAX),
            visit_id: r.get(col("id"))?,
            time: local_time(&created_at, settings.utc_offset_minutes).0,
            date,
            token: r.get(col("token"))?,
            uhid: r.get(col("uhid"))?,
            name: r.get(col("name"))?,
            name_hi: r.get(col("name_hi"))?,
            age_sex: format!(
                "{} / {gender}",
                age(dob.as_deref(), r.get(col("year_of_birth"))?, on)
            ),
            guardian: match (relation, guardian) {
                (Some(rel), Some(g)) => format!("{rel} {g}"),
                (None, Some(g)) => g,
                _ => String::new(),
            },
            locality: place,
            department: r.get(col("department"))?,
            visit_type: r.get(col("visit_type"))?,
            fee: r.get(col("fee_rupees"))?,
            waiver: r.get(col("waiver_code"))?,
            cancelled: status == "cancelled",
            staff: names.name(&actor),
        });
    }
    let totals = totals(conn, &rows)?;
    Ok(Register {
        from: from.to_string(),
        to: to.to_string(),
        rows,
        totals,
    })
}

fn totals(conn: &Connection, rows: &[RegisterRow]) -> Result<Vec<DeptTotal>> {
    let depts = config::load(conn)?.departments;
    let mut by: BTreeMap<&str, DeptTotal> = BTreeMap::new();
    let blank = |code: &str| DeptTotal {
        code: code.to_owned(),
        name_en: String::new(),
        name_hi: String::new(),
        registrations: 0,
        new: 0,
        follow_up: 0,
        cancelled: 0,
        fees_collected: 0,
        waived: 0,
    };
    let mut all = blank("");
    all.name_en = "Total".into();
    all.name_hi = "कुल".into();
    for r in rows {
        let t = by
            .entry(r.department.as_str())
            .or_insert_with(|| blank(&r.department));
        for t in [t, &mut all] {
            if r.cancelled {
                t.cancelled += 1;
                continue;
            }
            t.registrations += 1;
            if r.visit_type == "follow_up" {
                t.follow_up += 1;
            } else {
                t.new += 1;
            }
            t.fees_collected += u64::from(r.fee);
            t.waived += u32::from(r.waiver.is_some());
        }
    }
    let mut out = Vec::new();
    for d in &depts {
        if let Some(mut t) = by.remove(d.code.as_str()) {
            t.name_en = d.name_en.clone();
            t.name_hi = d.name_hi.clone();
            out.push(t);
        }
    }
    // Departments no longer configured (or only known to another kiosk) keep their code.
    out.extend(by.into_values());
    out.push(all);
    Ok(out)
}

impl Register {
    /// The register as CSV (UTF-8 with BOM), one line per visit.
    pub fn to_csv(&self) -> Vec<u8> {
        let mut csv = Csv::new();
        csv.record(&[
            "serial",
            "date",
            "time",
            "token",
            "uhid",
            "name",
            "name_hi",
            "age_sex",
            "guardian",
            "locality",
            "department",
            "visit_type",
            "fee",
            "waiver",
            "cancelled",
            "staff",
        ]);
        for r in &self.rows {
            csv.record(&[
                r.serial.to_string(),
                r.date.clone(),
                r.time.clone(),
                r.token.clone(),
                r.uhid.clone(),
                r.name.clone(),
                r.name_hi.clone().unwrap_or_default(),
                r.age_sex.clone(),
                r.guardian.clone(),
                r.locality.clone(),
                r.department.clone(),
                r.visit_type.clone(),
                r.fee.to_string(),
                r.waiver.clone().unwrap_or_default(),
                if r.cancelled { "yes" } else { "no" }.to_owned(),
                r.staff.clone(),
            ]);
        }
        csv.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn age_in_months_then_years() {
        let on = time::macros::date!(2026 - 12 - 01);
        assert_eq!(age(Some("2026-03-15"), None, on), "8 M");
        assert_eq!(age(Some("1990-12-02"), None, on), "35 Y");
        assert_eq!(age(Some("1990-12-01"), None, on), "36 Y");
        assert_eq!(age(None, Some(1950), on), "76 Y");
        assert_eq!(age(None, None, on), "-");
    }
}
