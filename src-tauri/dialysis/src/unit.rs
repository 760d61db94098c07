//! The unit's settings: working weekdays, holidays, the stale-serology threshold, and shifts.
//!
//! These decide which (date, shift) slots exist at all; the booking code refuses anything outside
//! them. Changing them never silently drops a booking: removing a shift that still has bookings,
//! or declaring a holiday on a booked day, is refused until those bookings are cancelled.

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use time::{Date, Weekday};

use crate::error::{DialysisError, Result};
use crate::model::{fmt_date, fmt_weekdays, parse_weekdays};

/// The unit's settings.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnitSettings {
    /// Weekdays the unit runs sessions (default Monday–Saturday).
    #[serde(serialize_with = "ser_weekdays")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub working_days: Vec<Weekday>,
    /// Serology older than this many days is flagged at booking and check-in (default 90).
    pub stale_serology_days: i64,
}

fn ser_weekdays<S: serde::Serializer>(d: &[Weekday], s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&fmt_weekdays(d))
}

/// Reads the settings.
pub fn settings(conn: &Connection) -> Result<UnitSettings> {
    let (days, stale): (String, i64) = conn
        .prepare_cached("SELECT working_days, stale_serology_days FROM dialysis_unit WHERE id = 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let working_days = parse_weekdays("working_days", &days)
        .map_err(|_| DialysisError::Corrupt(format!("working_days {days:?}")))?;
    Ok(UnitSettings {
        working_days,
        stale_serology_days: stale,
    })
}

/// Changes the working weekdays and/or the stale-serology threshold (1–3650 days).
pub fn set_settings(
    conn: &Connection,
    working_days: Option<&[Weekday]>,
    stale_serology_days: Option<i64>,
) -> Result<UnitSettings> {
    if let Some(days) = working_days {
        if days.is_empty() {
            return Err(DialysisError::invalid(
                "working_days",
                "give at least one working day",
                "कम से कम एक कार्य-दिवस दें",
            ));
        }
        conn.execute(
            "UPDATE dialysis_unit SET working_days = ?1 WHERE id = 1",
            [fmt_weekdays(days)],
        )?;
    }
    if let Some(n) = stale_serology_days {
        if !(1..=3650).contains(&n) {
            return Err(DialysisError::invalid(
                "stale_serology_days",
                "must be between 1 and 3650 days",
                "1 से 3650 दिन के बीच होना चाहिए",
            ));
        }
        conn.execute(
            "UPDATE dialysis_unit SET stale_serology_days = ?1 WHERE id = 1",
            [n],
        )?;
    }
    settings(conn)
}

/// A holiday.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Holiday {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// What it is (may be empty).
    pub name: String,
}

/// Declares a holiday. Refused while the day has bookings that are not cancelled (cancel them
/// first, so each patient is told).
pub fn add_holiday(conn: &Connection, date: Date, name: &str) -> Result<Holiday> {
    let d = fmt_date(date);
    let booked: i64 = conn.query_row(
        "SELECT count(*) FROM dialysis_bookings WHERE date = ?1 \
         AND status IN ('confirmed', 'waitlisted', 'checked_in', 'completed')",
        [&d],
        |r| r.get(0),
    )?;
    if booked > 0 {
        return Err(DialysisError::invalid(
            "date",
            format!("{d} has {booked} active booking(s); cancel them before closing the day"),
            format!("{d} को {booked} बुकिंग हैं; दिन बंद करने से पहले उन्हें रद्द करें"),
        ));
    }
    conn.execute(
        "INSERT INTO dialysis_holidays (date, name) VALUES (?1, ?2) \
         ON CONFLICT (date) DO UPDATE SET name = excluded.name",
        params![d, name.trim()],
    )?;
    Ok(Holiday {
        date: d,
        name: name.trim().to_owned(),
    })
}

/// Removes a holiday; `false` if there was none on that date.
pub fn remove_holiday(conn: &Connection, date: Date) -> Result<bool> {
    Ok(conn.execute(
        "DELETE FROM dialysis_holidays WHERE date = ?1",
        [fmt_date(date)],
    )? > 0)
}

/// Holidays from `from` on (all when `None`), by date.
pub fn holidays(conn: &Connection, from: Option<Date>) -> Result<Vec<Holiday>> {
    let from = from.map(fmt_date).unwrap_or_default();
    let mut stmt = conn.prepare_cached(
        "SELECT date, name FROM dialysis_holidays WHERE date >= ?1 ORDER BY date",
    )?;
    let rows = stmt.query_map([from], |r| {
        Ok(Holiday {
            date: r.get(0)?,
            name: r.get(1)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The name of the holiday on `date`, if it is one.
pub fn holiday_on(conn: &Connection, date: Date) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT name FROM dialysis_holidays WHERE date = ?1")?
        .query_row([fmt_date(date)], |r| r.get(0))
        .optional()?)
}

/// A shift of the day.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Shift {
    /// 1, 2, 3... in the order of the day.
    pub number: u32,
    /// Start, `HH:MM`.
    pub start: String,
    /// End, `HH:MM`.
    pub end: String,
    /// Length in minutes (default 240: a four-hour session).
    pub duration_min: u32,
}

/// The default session length.
pub const DEFAULT_DURATION_MIN: u32 = 240;

fn minutes(field: &str, s: &str) -> Result<u32> {
    let bad = || {
        DialysisError::invalid(
            field,
            format!("{s:?} is not a time; use HH:MM (24-hour)"),
            "समय HH:MM (24 घंटे) रूप में दें",
        )
    };
    let (h, m) = s.trim().split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(bad());
    }
    let h: u32 = h.parse().map_err(|_| bad())?;
    let m: u32 = m.parse().map_err(|_| bad())?;
    if h > 23 || m > 59 {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

fn hhmm(total: u32) -> String {
    format!("{:02}:{:02}", total / 60, total % 60)
}

/// Parses `06:00,10:30,15:00` into shift start times (validated by [`set_shifts`]).
pub fn parse_times(s: &str) -> Vec<String> {
    s.split(',')
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .collect()
}

/// Replaces the shifts: one per start time, each `duration_min` long (1–6 shifts, in order of
/// the day, not overlapping, ending by midnight). Refused if a shift that would disappear still
/// has bookings.
pub fn set_shifts(conn: &Connection, starts: &[String], duration_min: u32) -> Result<Vec<Shift>> {
    if starts.is_empty() || starts.len() > 6 {
        return Err(DialysisError::invalid(
            "times",
            "give 1 to 6 shift start times, e.g. 06:00,10:30,15:00",
            "1 से 6 पाली के समय दें, जैसे 06:00,10:30,15:00",
        ));
    }
    if !(30..=720).contains(&duration_min) {
        return Err(DialysisError::invalid(
            "duration",
            "a shift lasts 30 to 720 minutes",
            "पाली 30 से 720 मिनट की होती है",
        ));
    }
    let mut prev_end = 0;
    let mut mins = Vec::new();
    for s in starts {
        let m = minutes("times", s)?;
        if !mins.is_empty() && m < prev_end {
            return Err(DialysisError::invalid(
                "times",
                format!(
                    "the shift at {s} starts before the previous one ends ({})",
                    hhmm(prev_end)
                ),
                format!(
                    "{s} की पाली पिछली पाली ({}) खत्म होने से पहले शुरू होती है",
                    hhmm(prev_end)
                ),
            ));
        }
        prev_end = m + duration_min;
        if prev_end > 24 * 60 {
            return Err(DialysisError::invalid(
                "times",
                format!("the shift at {s} would end after midnight"),
                format!("{s} की पाली आधी रात के बाद खत्म होगी"),
            ));
        }
        mins.push(m);
    }
    let n = i64::try_from(mins.len()).unwrap_or(i64::MAX);
    let orphaned: i64 = conn.query_row(
        "SELECT count(*) FROM dialysis_bookings WHERE shift > ?1 \
         AND status IN ('confirmed', 'waitlisted', 'checked_in')",
        [n],
        |r| r.get(0),
    )?;
    if orphaned > 0 {
        return Err(DialysisError::invalid(
            "times",
            format!("{orphaned} booking(s) are in shifts that would be removed; cancel them first"),
            format!("{orphaned} बुकिंग हटाई जाने वाली पाली में हैं; पहले उन्हें रद्द करें"),
        ));
    }
    conn.execute("DELETE FROM dialysis_shifts", [])?;
    for (i, m) in mins.iter().enumerate() {
        conn.execute(
            "INSERT INTO dialysis_shifts (number, start, duration_min) VALUES (?1, ?2, ?3)",
            params![i + 1, hhmm(*m), duration_min],
        )?;
    }
    shifts(conn)
}

/// The shifts, in order.
pub fn shifts(conn: &Connection) -> Result<Vec<Shift>> {
    let mut stmt = conn.prepare_cached(
        "SELECT number, start, duration_min FROM dialysis_shifts ORDER BY number",
    )?;
    let rows = stmt.query_map([], |r| <(u32, String, u32)>::try_from(r))?;
    let mut out = Vec::new();
    for row in rows {
        let (number, start, duration_min) = row?;
        let end = hhmm((minutes("start", &start)? + duration_min) % (24 * 60));
        out.push(Shift {
            number,
            start,
            end,
            duration_min,
        });
    }
    Ok(out)
}

/// Whether shift `n` exists.
pub fn shift_exists(conn: &Connection, n: u32) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM dialysis_shifts WHERE number = ?1")?
        .query_row([n], |_| Ok(()))
        .optional()?
        .is_some())
}
