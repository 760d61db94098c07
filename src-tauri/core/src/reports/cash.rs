//! Cash by staff: what each receptionist took at the counter on one day, per shift, with the
//! waived visits — the sheet the in-charge counts the cash against and signs.
//!
//! A cancelled visit is not in `visits` or `fees_collected`; its fee is listed as a refund under
//! the staff member who registered it. Every visit of the day is in exactly one staff entry.

use rusqlite::Connection;
use serde::Serialize;
use time::Date;

use super::{local_time, Csv, StaffNames, EVENING_FROM_HOUR};
use crate::config;
use crate::error::Result;

/// One shift of one staff member.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CashShift {
    /// `morning` (before 14:00 facility time) or `evening`.
    pub shift: String,
    /// Visits registered (not cancelled).
    pub visits: i64,
    /// Fees collected, rupees.
    pub fees_collected: i64,
    /// Visits with a fee waiver.
    pub waived: i64,
}

/// One staff member's day.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CashStaff {
    /// The member's name (`cli` for `swagat-admin`, `system` for demo data).
    pub staff: String,
    /// The actor as stored (`staff:<id>`, `cli`, `system`).
    pub actor: String,
    /// Visits registered (not cancelled).
    pub visits: i64,
    /// Fees collected, rupees (not cancelled).
    pub fees_collected: i64,
    /// Visits with a fee waiver (not cancelled).
    pub waived: i64,
    /// Cancelled visits (refunds).
    pub refunds: i64,
    /// Fees of the cancelled visits, rupees (to be refunded).
    pub refunded: i64,
    /// By shift (only shifts with visits).
    pub shifts: Vec<CashShift>,
}

/// A cancelled visit's fee.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refund {
    /// The visit.
    pub visit_id: String,
    /// Its token.
    pub token: String,
    /// Department code.
    pub department: String,
    /// Local time of registration.
    pub time: String,
    /// The fee, rupees.
    pub fee: i64,
    /// Who registered it.
    pub staff: String,
}

/// The day's totals.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CashTotals {
    /// Visits (not cancelled).
    pub visits: i64,
    /// Fees collected.
    pub fees_collected: i64,
    /// Waived visits.
    pub waived: i64,
    /// Cancelled visits.
    pub refunds: i64,
    /// Their fees.
    pub refunded: i64,
}

/// Cash by staff for one day.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CashSheet {
    /// The day.
    pub date: String,
    /// One entry per staff member (by name).
    pub staff: Vec<CashStaff>,
    /// The cancelled visits.
    pub refunds: Vec<Refund>,
    /// Totals.
    pub totals: CashTotals,
}

/// The cash sheet of `date`.
pub(crate) fn load(conn: &Connection, date: Date) -> Result<CashSheet> {
    let settings = config::load_settings(conn)?;
    let names = StaffNames::load(conn)?;
    let mut stmt = conn.prepare_cached(
        "SELECT id, created_by, created_at, token, department, fee_rupees, waiver_code, status \
         FROM visits WHERE visit_date = ?1 ORDER BY created_at, token",
    )?;
    let mut staff: Vec<CashStaff> = Vec::new();
    let mut refunds = Vec::new();
    let mut totals = CashTotals::default();
    let mut q = stmt.query([date.to_string()])?;
    while let Some(r) = q.next()? {
        let actor: String = r.get(1)?;
        let created_at: String = r.get(2)?;
        let fee: i64 = r.get(5)?;
        let waived = r.get::<_, Option<String>>(6)?.is_some();
        let cancelled = r.get::<_, String>(7)? == "cancelled";
        let (time, hour) = local_time(&created_at, settings.utc_offset_minutes);
        let idx = match staff.iter().position(|s| s.actor == actor) {
            Some(i) => i,
            None => {
                staff.push(CashStaff {
                    staff: names.name(&actor),
                    actor: actor.clone(),
                    visits: 0,
                    fees_collected: 0,
                    waived: 0,
                    refunds: 0,
                    refunded: 0,
                    shifts: Vec::new(),
                });
                staff.len() - 1
            }
        };
        let s = &mut staff[idx];
        if cancelled {
            s.refunds += 1;
            s.refunded += fee;
            totals.refunds += 1;
            totals.refunded += fee;
            refunds.push(Refund {
                visit_id: r.get(0)?,
                token: r.get(3)?,
                department: r.get(4)?,
                time,
                fee,
                staff: s.staff.clone(),
            });
            continue;
        }
        s.visits += 1;
        s.fees_collected += fee;
        s.waived += i64::from(waived);
        totals.visits += 1;
        totals.fees_collected += fee;
        totals.waived += i64::from(waived);
        let shift = if hour < EVENING_FROM_HOUR {
            "morning"
        } else {
            "evening"
        };
        let sh = match s.shifts.iter().position(|x| x.shift == shift) {
            Some(i) => &mut s.shifts[i],
            None => {
                s.shifts.push(CashShift {
                    shift: shift.to_owned(),
                    visits: 0,
                    fees_collected: 0,
                    waived: 0,
                });
                let last = s.shifts.len() - 1;
                &mut s.shifts[last]
            }
        };
        sh.visits += 1;
        sh.fees_collected += fee;
        sh.waived += i64::from(waived);
    }
    staff.sort_by_key(|s| s.staff.to_lowercase());
    for s in &mut staff {
        s.shifts.sort_by_key(|x| x.shift != "morning"); // morning before evening
    }
    Ok(CashSheet {
        date: date.to_string(),
        staff,
        refunds,
        totals,
    })
}

impl CashSheet {
    /// The sheet as CSV (UTF-8 with BOM): one line per staff member and shift, then the refunds.
    pub fn to_csv(&self) -> Vec<u8> {
        let mut csv = Csv::new();
        csv.record(&[
            "date",
            "staff",
            "shift",
            "visits",
            "fees_collected",
            "waived",
            "refunds",
            "refunded",
        ]);
        for s in &self.staff {
            for sh in &s.shifts {
                csv.record(&[
                    self.date.clone(),
                    s.staff.clone(),
                    sh.shift.clone(),
                    sh.visits.to_string(),
                    sh.fees_collected.to_string(),
                    sh.waived.to_string(),
                    String::new(),
                    String::new(),
                ]);
            }
            csv.record(&[
                self.date.clone(),
                s.staff.clone(),
                "day".to_owned(),
                s.visits.to_string(),
                s.fees_collected.to_string(),
                s.waived.to_string(),
                s.refunds.to_string(),
                s.refunded.to_string(),
            ]);
        }
        let t = &self.totals;
        csv.record(&[
            self.date.clone(),
            "TOTAL".to_owned(),
            "day".to_owned(),
            t.visits.to_string(),
            t.fees_collected.to_string(),
            t.waived.to_string(),
            t.refunds.to_string(),
            t.refunded.to_string(),
        ]);
        csv.finish()
    }
}
