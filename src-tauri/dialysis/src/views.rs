//! Read-only views for the screens and the CLI: one booking, a day board (machines × shifts), a
//! week's capacity, the waitlist in serving order, and one patient's sessions.

use std::collections::BTreeMap;

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;
use time::{Date, Duration};

use crate::alloc::pool_of;
use crate::error::{DialysisError, Result};
use crate::machines::{self, Machine};
use crate::model::{fmt_date, from_db, weekday_str, Pool, Source, Status};
use crate::patients::{self, DialysisPatient};
use crate::unit::{self, Shift};

/// A booking as listed on screens and by the CLI.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BookingView {
    /// Booking id (UUIDv7).
    pub id: String,
    /// Patient id (the core's `patients.id`).
    pub patient_id: String,
    /// Patient name, for the board.
    pub patient_name: String,
    /// Session date.
    pub date: String,
    /// Shift number (from 1).
    pub shift: u32,
    /// Machine id, if it holds or held one.
    pub machine_id: Option<String>,
    /// Machine name.
    pub machine: Option<String>,
    /// The machine's pool.
    pub machine_pool: Option<Pool>,
    /// The pool the patient's current serology requires.
    pub pool: Pool,
    /// Status.
    pub status: Status,
    /// Waitlist priority (higher first).
    pub priority: i64,
    /// When it was requested (orders the waitlist).
    pub requested_at: String,
    /// Recurring series, if any.
    pub series_id: Option<String>,
    /// Local or online.
    pub source: Source,
    /// The portal's request id, for online bookings.
    pub online_request_id: Option<String>,
    /// Weight before the session (kg).
    pub pre_weight_kg: Option<f64>,
    /// Weight after the session (kg).
    pub post_weight_kg: Option<f64>,
    /// Warning codes recorded at booking/check-in.
    pub warnings: Vec<String>,
    /// Why it was cancelled, if given.
    pub status_reason: Option<String>,
}

pub(crate) const SELECT_BOOKING: &str = "SELECT b.id, b.patient_id, p.name AS patient_name, \
    b.date, b.shift, b.machine_id, m.name AS machine, m.pool AS machine_pool, b.status, \
    b.priority, b.requested_at, b.series_id, b.source, b.online_request_id, b.pre_weight_kg, \
    b.post_weight_kg, b.warnings, b.status_reason, dp.hbsag, dp.hcv, dp.hiv \
    FROM dialysis_bookings b JOIN patients p ON p.id = b.patient_id \
    JOIN dialysis_patients dp ON dp.patient_id = b.patient_id \
    LEFT JOIN dialysis_machines m ON m.id = b.machine_id";

struct Raw {
    id: String,
    patient_id: String,
    patient_name: String,
    date: String,
    shift: u32,
    machine_id: Option<String>,
    machine: Option<String>,
    machine_pool: Option<String>,
    status: String,
    priority: i64,
    requested_at: String,
    series_id: Option<String>,
    source: String,
    online_request_id: Option<String>,
    pre: Option<f64>,
    post: Option<f64>,
    warnings: String,
    status_reason: Option<String>,
    serology: [String; 3],
}

/// One row of [`SELECT_BOOKING`], read by column name.
fn raw(r: &Row<'_>) -> rusqlite::Result<Raw> {
    Ok(Raw {
        id: r.get("id")?,
        patient_id: r.get("patient_id")?,
        patient_name: r.get("patient_name")?,
        date: r.get("date")?,
        shift: r.get("shift")?,
        machine_id: r.get("machine_id")?,
        machine: r.get("machine")?,
        machine_pool: r.get("machine_pool")?,
        status: r.get("status")?,
        priority: r.get("priority")?,
        requested_at: r.get("requested_at")?,
        series_id: r.get("series_id")?,
        source: r.get("source")?,
        online_request_id: r.get("online_request_id")?,
        pre: r.get("pre_weight_kg")?,
        post: r.get("post_weight_kg")?,
        warnings: r.get("warnings")?,
        status_reason: r.get("status_reason")?,
        serology: [r.get("hbsag")?, r.get("hcv")?, r.get("hiv")?],
    })
}

impl Raw {
    fn view(self) -> Result<BookingView> {
        let [hb, hc, hi] = &self.serology;
        Ok(BookingView {
            pool: pool_of(hb, hc, hi)?,
            machine_pool: self
                .machine_pool
                .as_deref()
                .map(|p| from_db(p, "pool"))
                .transpose()?,
            status: from_db(&self.status, "status")?,
            source: from_db(&self.source, "source")?,
            warnings: serde_json::from_str(&self.warnings)
                .map_err(|_| DialysisError::Corrupt("booking warnings".into()))?,
            id: self.id,
            patient_id: self.patient_id,
            patient_name: self.patient_name,
            date: self.date,
            shift: self.shift,
            machine_id: self.machine_id,
            machine: self.machine,
            priority: self.priority,
            requested_at: self.requested_at,
            series_id: self.series_id,
            online_request_id: self.online_request_id,
            pre_weight_kg: self.pre,
            post_weight_kg: self.post,
            status_reason: self.status_reason,
        })
    }
}

/// Bookings matching `where_order` (SQL after `WHERE`, with `?1`... bound to `args`).
pub(crate) fn query_bookings(
    conn: &Connection,
    where_order: &str,
    args: impl rusqlite::Params,
) -> Result<Vec<BookingView>> {
    let sql = format!("{SELECT_BOOKING} WHERE {where_order}");
    let raws: Vec<Raw> = conn
        .prepare_cached(&sql)?
        .query_map(args, raw)?
        .collect::<rusqlite::Result<_>>()?;
    raws.into_iter().map(Raw::view).collect()
}

/// One booking.
pub fn booking(conn: &Connection, id: &str) -> Result<BookingView> {
    let sql = format!("{SELECT_BOOKING} WHERE b.id = ?1");
    let r = conn
        .prepare_cached(&sql)?
        .query_row([id.trim()], raw)
        .optional()?;
    r.ok_or_else(|| DialysisError::not_found(format!("booking {id}")))?
        .view()
}

/// A machine as seen on one day.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MachineDay {
    /// Machine id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Pool.
    pub pool: Pool,
    /// In service that day (active and not under maintenance).
    pub available: bool,
    /// The maintenance reason, if under maintenance that day.
    pub maintenance: Option<String>,
    /// Retired (shown only on days it still holds a session, for the record).
    pub retired: bool,
}

/// A day board: machines × shifts with the day's bookings, and the day's waitlist.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Serialize)]
pub struct DaySchedule {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// `mon`...`sun`.
    pub weekday: &'static str,
    /// The unit runs sessions that day.
    pub working_day: bool,
    /// Holiday name, if one.
    pub holiday: Option<String>,
    /// The shifts.
    pub shifts: Vec<Shift>,
    /// Every active machine, by name.
    pub machines: Vec<MachineDay>,
    /// The day's bookings except cancelled ones (waitlisted included, machine null), by shift
    /// then machine.
    pub bookings: Vec<BookingView>,
    /// The day's waitlist, in serving order per shift.
    pub waitlist: Vec<BookingView>,
}

/// The machines of `date`: every active one, and retired ones among `holding` (machines holding a
/// session that day).
fn machines_on(conn: &Connection, date: Date, holding: &[&str]) -> Result<Vec<MachineDay>> {
    let mut out = Vec::new();
    for m in machines::list(conn)?
        .into_iter()
        .filter(|m| m.active || holding.contains(&m.id.as_str()))
    {
        let maintenance = machine_maintenance_on(&m, date);
        out.push(MachineDay {
            available: m.active && maintenance.is_none(),
            retired: !m.active,
            maintenance,
            id: m.id,
            name: m.name,
            pool: m.pool,
        });
    }
    Ok(out)
}

fn machine_maintenance_on(m: &Machine, date: Date) -> Option<String> {
    let d = fmt_date(date);
    m.maintenance
        .iter()
        .find(|p| p.from_date <= d && p.to_date.as_ref().is_none_or(|t| *t >= d))
        .map(|p| p.reason.clone())
}

/// The day board for `date`.
pub fn schedule(conn: &Connection, date: Date) -> Result<DaySchedule> {
    let d = fmt_date(date);
    let settings = unit::settings(conn)?;
    let holiday = unit::holiday_on(conn, date)?;
    let bookings = query_bookings(
        conn,
        "b.date = ?1 AND b.status <> 'cancelled' ORDER BY b.shift, b.status = 'waitlisted', m.name, \
         b.priority DESC, b.requested_at, b.rowid",
        [&d],
    )?;
    let waitlist = bookings
        .iter()
        .filter(|b| b.status == Status::Waitlisted)
        .cloned()
        .collect();
    let holding: Vec<&str> = bookings
        .iter()
        .filter(|b| b.status.occupies())
        .filter_map(|b| b.machine_id.as_deref())
        .collect();
    Ok(DaySchedule {
        weekday: weekday_str(date.weekday()),
        working_day: crate::rules::is_working_day(date, &settings.working_days, holiday.is_some()),
        holiday,
        shifts: unit::shifts(conn)?,
        machines: machines_on(conn, date, &holding)?,
        bookings,
        waitlist,
        date: d,
    })
}

/// Counts for one pool in one slot.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PoolCount {
    /// Pool.
    pub pool: Pool,
    /// Machines of the pool in service that day.
    pub machines: u32,
    /// Bookings holding a machine (confirmed, checked in, completed).
    pub booked: u32,
    /// Bookings waiting for a machine of this pool.
    pub waitlisted: u32,
}

/// One shift of one day in the week view.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Serialize)]
pub struct SlotSummary {
    /// Shift number.
    pub shift: u32,
    /// Pools with machines or bookings.
    pub pools: Vec<PoolCount>,
}

/// One day of the week view.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Serialize)]
pub struct DaySummary {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// `mon`...`sun`.
    pub weekday: &'static str,
    /// The unit works that day.
    pub working_day: bool,
    /// Holiday name, if one.
    pub holiday: Option<String>,
    /// Per shift.
    pub slots: Vec<SlotSummary>,
}

/// Seven days from `start`: capacity, bookings and waitlist per shift and pool.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Serialize)]
pub struct WeekView {
    /// First day.
    pub start: String,
    /// Seven days.
    pub days: Vec<DaySummary>,
}

/// The week view.
pub fn week(conn: &Connection, start: Date) -> Result<WeekView> {
    let settings = unit::settings(conn)?;
    let shifts = unit::shifts(conn)?;
    let mut days = Vec::new();
    for i in 0..7 {
        let date = start + Duration::days(i);
        let holiday = unit::holiday_on(conn, date)?;
        let machines = machines_on(conn, date, &[])?;
        let bookings = query_bookings(
            conn,
            "b.date = ?1 AND b.status IN ('confirmed', 'checked_in', 'completed', 'waitlisted')",
            [fmt_date(date)],
        )?;
        let mut slots = Vec::new();
        for s in &shifts {
            let mut counts: BTreeMap<Pool, PoolCount> = BTreeMap::new();
            let entry = |c: &mut BTreeMap<Pool, PoolCount>, pool: Pool| {
                c.entry(pool)
                    .or_insert(PoolCount {
                        pool,
                        machines: 0,
                        booked: 0,
                        waitlisted: 0,
                    })
                    .pool
            };
            for m in machines.iter().filter(|m| m.available) {
                entry(&mut counts, m.pool);
                if let Some(c) = counts.get_mut(&m.pool) {
                    c.machines += 1;
                }
            }
            for b in bookings.iter().filter(|b| b.shift == s.number) {
                let pool = if b.status == Status::Waitlisted {
                    b.pool
                } else {
                    b.machine_pool.unwrap_or(b.pool)
                };
                entry(&mut counts, pool);
                if let Some(c) = counts.get_mut(&pool) {
                    if b.status == Status::Waitlisted {
                        c.waitlisted += 1;
                    } else {
                        c.booked += 1;
                    }
                }
            }
            slots.push(SlotSummary {
                shift: s.number,
                pools: counts.into_values().collect(),
            });
        }
        days.push(DaySummary {
            date: fmt_date(date),
            weekday: weekday_str(date.weekday()),
            working_day: crate::rules::is_working_day(
                date,
                &settings.working_days,
                holiday.is_some(),
            ),
            holiday,
            slots,
        });
    }
    Ok(WeekView {
        start: fmt_date(start),
        days,
    })
}

/// The waitlist from `from` on (everything when `None`), in serving order: date, shift, then
/// priority (higher first), request time, insertion.
pub fn waitlist(conn: &Connection, from: Option<Date>) -> Result<Vec<BookingView>> {
    query_bookings(
        conn,
        "b.status = 'waitlisted' AND b.date >= ?1 \
         ORDER BY b.date, b.shift, b.priority DESC, b.requested_at, b.rowid",
        [from.map(fmt_date).unwrap_or_default()],
    )
}

/// One patient's dialysis record and sessions.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Serialize)]
pub struct PatientSchedule {
    /// The record.
    pub patient: DialysisPatient,
    /// Sessions from the requested date on, by date.
    pub bookings: Vec<BookingView>,
}

/// A patient's sessions from `from` on (all when `None`), cancelled ones included.
pub fn patient_schedule(
    conn: &Connection,
    patient_id: &str,
    from: Option<Date>,
) -> Result<PatientSchedule> {
    let patient = patients::get(conn, patient_id)?;
    let bookings = query_bookings(
        conn,
        "b.patient_id = ?1 AND b.date >= ?2 ORDER BY b.date, b.shift, b.rowid",
        params![patient.patient_id, from.map(fmt_date).unwrap_or_default()],
    )?;
    Ok(PatientSchedule { patient, bookings })
}
