//! The summary of a day or a range, added up from `report_counts` (migration 0010) and the
//! dialysis bookings.
//!
//! Registrations, the breakdowns, fees and ABHA exclude cancelled visits; `cancelled` counts them.
//! There is no scan-and-share (ABDM's queue-token flow) in this kiosk yet, so the summary has no
//! such count rather than a zero that would look like a fact.

use std::collections::HashMap;

use rusqlite::Connection;
use serde::Serialize;
use time::Date;

use super::{Csv, AGE_BANDS};
use crate::config;
use crate::error::Result;

/// Registrations of one department.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeptCount {
    /// Department code.
    pub code: String,
    /// English name (empty if the department is not configured here).
    pub name_en: String,
    /// Hindi name.
    pub name_hi: String,
    /// Registrations (not cancelled).
    pub registrations: i64,
    /// Cancelled visits.
    pub cancelled: i64,
    /// Fees collected, rupees.
    pub fees_collected: i64,
}

/// Registrations by sex (`T` is counted under `O`).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[allow(non_snake_case)]
pub struct GenderCounts {
    /// Male.
    pub M: i64,
    /// Female.
    pub F: i64,
    /// Other (and transgender).
    pub O: i64,
}

/// Registrations of one age band.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BandCount {
    /// `0-4`, `5-14`, `15-29`, `30-44`, `45-59`, `60+` (or `unknown`, only when some patient's age
    /// is not known).
    pub band: String,
    /// Registrations.
    pub registrations: i64,
}

/// Visits with one fee waiver.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WaiverCount {
    /// Waiver code.
    pub code: String,
    /// English name.
    pub name_en: String,
    /// Hindi name.
    pub name_hi: String,
    /// Visits (not cancelled).
    pub count: i64,
}

/// Arrivals in one facility-local hour.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HourCount {
    /// 0–23.
    pub hour: u8,
    /// Registrations (not cancelled).
    pub registrations: i64,
}

/// Dialysis sessions of one pool.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename = "ReportPoolCount"))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PoolCount {
    /// `negative`, `hbv`, `hcv`, `hiv`, `unknown` (the machine's pool; `unknown` also for a
    /// cancelled waitlist entry that never had a machine).
    pub pool: String,
    /// Completed sessions.
    pub completed: i64,
    /// No-shows.
    pub no_show: i64,
    /// Cancelled.
    pub cancelled: i64,
}

/// Dialysis sessions in the range.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename = "ReportDialysis"))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Dialysis {
    /// Completed sessions.
    pub completed: i64,
    /// No-shows.
    pub no_show: i64,
    /// Cancelled.
    pub cancelled: i64,
    /// By pool.
    pub by_pool: Vec<PoolCount>,
}

/// The summary of `from`..=`to`.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename = "ReportSummary"))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// First day.
    pub from: String,
    /// Last day.
    pub to: String,
    /// Registrations (cancelled visits excluded).
    pub registrations: i64,
    /// Of which new.
    pub new: i64,
    /// Of which follow-up.
    pub follow_up: i64,
    /// Cancelled visits.
    pub cancelled: i64,
    /// By department (configured departments first, in their order).
    pub by_department: Vec<DeptCount>,
    /// By sex.
    pub by_gender: GenderCounts,
    /// By age band at the visit.
    pub by_age_band: Vec<BandCount>,
    /// Fees collected, rupees (cancelled visits excluded).
    pub fees_collected: i64,
    /// Fee waivers by category.
    pub waivers: Vec<WaiverCount>,
    /// Registrations of ABHA-linked patients.
    pub abha_linked: i64,
    /// `abha_linked` as a percentage of registrations, one decimal.
    pub abha_linked_pct: f64,
    /// Registrations that came by ABHA scan and share (at any counter of the facility).
    pub scan_share: i64,
    /// Dialysis sessions.
    pub dialysis: Dialysis,
    /// Arrivals per facility-local hour (24 entries).
    pub by_hour: Vec<HourCount>,
}

/// Per (dim, key): (active, cancelled, fees).
pub(crate) type Counts = HashMap<(String, String), (i64, i64, i64)>;

/// The summed `report_counts` of `from`..=`to`.
pub(crate) fn counts(conn: &Connection, from: Date, to: Date) -> Result<Counts> {
    let mut stmt = conn.prepare_cached(
        "SELECT dim, key, sum(active), sum(cancelled), sum(fees) FROM report_counts \
         WHERE visit_date BETWEEN ?1 AND ?2 GROUP BY dim, key",
    )?;
    let rows = stmt.query_map(rusqlite::params![from.to_string(), to.to_string()], |r| {
        Ok(((r.get(0)?, r.get(1)?), (r.get(2)?, r.get(3)?, r.get(4)?)))
    })?;
    Ok(rows.collect::<rusqlite::Result<Counts>>()?)
}

pub(crate) fn get(c: &Counts, dim: &str, key: &str) -> (i64, i64, i64) {
    c.get(&(dim.to_owned(), key.to_owned()))
        .copied()
        .unwrap_or((0, 0, 0))
}

/// Keys of `dim` with any count, sorted.
fn keys<'a>(c: &'a Counts, dim: &str) -> Vec<&'a str> {
    let mut k: Vec<&str> = c
        .iter()
        .filter(|((d, _), (a, x, _))| d == dim && (*a != 0 || *x != 0))
        .map(|((_, k), _)| k.as_str())
        .collect();
    k.sort_unstable();
    k
}

fn dialysis(conn: &Connection, from: Date, to: Date) -> Result<Dialysis> {
    let mut stmt = conn.prepare_cached(
        "SELECT coalesce(m.pool, 'unknown'), b.status, count(*) FROM dialysis_bookings b \
         LEFT JOIN dialysis_machines m ON m.id = b.machine_id \
         WHERE b.date BETWEEN ?1 AND ?2 AND b.status IN ('completed', 'no_show', 'cancelled') \
         GROUP BY 1, 2",
    )?;
    let rows = stmt.query_map(rusqlite::params![from.to_string(), to.to_string()], |r| {
        <(String, String, i64)>::try_from(r)
    })?;
    let mut out = Dialysis::default();
    for row in rows {
        let (pool, status, n) = row?;
        let idx = match out.by_pool.iter().position(|p| p.pool == pool) {
            Some(i) => i,
            None => {
                out.by_pool.push(PoolCount {
                    pool,
                    completed: 0,
                    no_show: 0,
                    cancelled: 0,
                });
                out.by_pool.len() - 1
            }
        };
        let p = &mut out.by_pool[idx];
        match status.as_str() {
            "completed" => {
                p.completed += n;
                out.completed += n;
            }
            "no_show" => {
                p.no_show += n;
                out.no_show += n;
            }
            _ => {
                p.cancelled += n;
                out.cancelled += n;
            }
        }
    }
    const ORDER: [&str; 5] = ["negative", "hbv", "hcv", "hiv", "unknown"];
    out.by_pool.sort_by_key(|p| {
        ORDER
            .iter()
            .position(|o| *o == p.pool)
            .unwrap_or(ORDER.len())
    });
    Ok(out)
}

/// The summary of `from`..=`to`.
pub(crate) fn load(conn: &Connection, from: Date, to: Date) -> Result<Summary> {
    let c = counts(conn, from, to)?;
    let cfg = config::load(conn)?;
    let (registrations, cancelled, fees_collected) = get(&c, "all", "");

    let mut by_department: Vec<DeptCount> = cfg
        .departments
        .iter()
        .filter(|d| d.active || get(&c, "dept", &d.code) != (0, 0, 0))
        .map(|d| {
            let (a, x, f) = get(&c, "dept", &d.code);
            DeptCount {
                code: d.code.clone(),
                name_en: d.name_en.clone(),
                name_hi: d.name_hi.clone(),
                registrations: a,
                cancelled: x,
                fees_collected: f,
            }
        })
        .collect();
    for k in keys(&c, "dept") {
        if !by_department.iter().any(|d| d.code == k) {
            let (a, x, f) = get(&c, "dept", k);
            by_department.push(DeptCount {
                code: k.to_owned(),
                name_en: String::new(),
                name_hi: String::new(),
                registrations: a,
                cancelled: x,
                fees_collected: f,
            });
        }
    }

    let mut by_age_band: Vec<BandCount> = AGE_BANDS
        .iter()
        .map(|b| BandCount {
            band: (*b).to_owned(),
            registrations: get(&c, "band", b).0,
        })
        .collect();
    let unknown = get(&c, "band", "unknown").0;
    if unknown != 0 {
        by_age_band.push(BandCount {
            band: "unknown".into(),
            registrations: unknown,
        });
    }

    let mut waivers: Vec<WaiverCount> = cfg
        .fee_waivers
        .iter()
        .map(|w| WaiverCount {
            code: w.code.clone(),
            name_en: w.name_en.clone(),
            name_hi: w.name_hi.clone(),
            count: get(&c, "waiver", &w.code).0,
        })
        .collect();
    for k in keys(&c, "waiver") {
        if !waivers.iter().any(|w| w.code == k) {
            waivers.push(WaiverCount {
                code: k.to_owned(),
                name_en: String::new(),
                name_hi: String::new(),
                count: get(&c, "waiver", k).0,
            });
        }
    }

    let abha_linked = get(&c, "abha", "1").0;
    let abha_linked_pct = if registrations > 0 {
        (abha_linked as f64 * 1000.0 / registrations as f64).round() / 10.0
    } else {
        0.0
    };
    Ok(Summary {
        from: from.to_string(),
        to: to.to_string(),
        registrations,
        new: get(&c, "type", "new").0,
        follow_up: get(&c, "type", "follow_up").0,
        cancelled,
        by_department,
        by_gender: GenderCounts {
            M: get(&c, "gender", "M").0,
            F: get(&c, "gender", "F").0,
            O: get(&c, "gender", "O").0,
        },
        by_age_band,
        fees_collected,
        waivers,
        abha_linked,
        abha_linked_pct,
        scan_share: crate::shares::registered_between(conn, &from.to_string(), &to.to_string())?,
        dialysis: dialysis(conn, from, to)?,
        by_hour: (0u8..24)
            .map(|h| HourCount {
                hour: h,
                registrations: get(&c, "hour", &format!("{h:02}")).0,
            })
            .collect(),
    })
}

impl Summary {
    /// The summary as CSV (UTF-8 with BOM): `section,key,value` lines.
    pub fn to_csv(&self) -> Vec<u8> {
        let mut csv = Csv::new();
        csv.record(&["section", "key", "value"]);
        let mut line = |s: &str, k: &str, v: String| csv.record(&[s, k, &v]);
        line("range", "from", self.from.clone());
        line("range", "to", self.to.clone());
        line("total", "registrations", self.registrations.to_string());
        line("total", "new", self.new.to_string());
        line("total", "follow_up", self.follow_up.to_string());
        line("total", "cancelled", self.cancelled.to_string());
        line("total", "fees_collected", self.fees_collected.to_string());
        line("total", "abha_linked", self.abha_linked.to_string());
        line("total", "abha_linked_pct", self.abha_linked_pct.to_string());
        line("total", "scan_share", self.scan_share.to_string());
        for d in &self.by_department {
            line("department", &d.code, d.registrations.to_string());
        }
        for (k, v) in [
            ("M", self.by_gender.M),
            ("F", self.by_gender.F),
            ("O", self.by_gender.O),
        ] {
            line("gender", k, v.to_string());
        }
        for b in &self.by_age_band {
            line("age_band", &b.band, b.registrations.to_string());
        }
        for w in &self.waivers {
            line("waiver", &w.code, w.count.to_string());
        }
        for h in &self.by_hour {
            line(
                "hour",
                &format!("{:02}", h.hour),
                h.registrations.to_string(),
            );
        }
        line("dialysis", "completed", self.dialysis.completed.to_string());
        line("dialysis", "no_show", self.dialysis.no_show.to_string());
        line("dialysis", "cancelled", self.dialysis.cancelled.to_string());
        csv.finish()
    }
}
