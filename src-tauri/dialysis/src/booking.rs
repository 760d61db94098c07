//! Booking sessions and moving them through their life: book (one date or a recurring weekday
//! pattern), cancel, no-show, check-in, complete.
//!
//! `book` applies the rules in order — shift exists, patient has an eligible dialysis record, the
//! date is a working day and not a holiday, the patient has no other session that day — then
//! places the session on a free machine of the patient's pool, or on the waitlist. A cancellation
//! or a no-show frees the machine and serves the slot's waitlist. All functions take a connection
//! the caller has wrapped in a transaction, and return audit entries for the caller to record.

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use serde_json::json;
use time::{Date, Duration, Weekday};

use crate::alloc::{self, push_warning, Changes, Move, PatientRow, Warning};
use crate::error::{DialysisError, Refusal, Result};
use crate::model::{fmt_date, from_db, new_id, now_instant, Source, Status};
use crate::unit::{self, UnitSettings};
use crate::views::{self, BookingView};
use crate::AuditEvent;

/// The longest recurring series, in weeks.
pub const MAX_WEEKS: u32 = 104;

/// A booking request: one date, or a weekly pattern for a number of weeks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookRequest {
    /// The core's patient id.
    pub patient_id: String,
    /// The session date, or the first day of a series.
    pub date: Date,
    /// Shift number (from 1).
    pub shift: u32,
    /// Weekdays of a recurring series (`None`: just `date`).
    pub repeat: Option<Vec<Weekday>>,
    /// Length of the series in weeks (1–104), counted from `date`.
    pub weeks: u32,
    /// Waitlist priority: higher is served first (default 0).
    pub priority: i64,
    /// Local or online.
    pub source: Source,
    /// The portal's request id, for online bookings.
    pub online_request_id: Option<String>,
    /// When it was requested (stored form); now when `None`.
    pub requested_at: Option<String>,
}

impl BookRequest {
    /// A local, single-date request at default priority.
    pub fn single(patient_id: impl Into<String>, date: Date, shift: u32) -> Self {
        Self {
            patient_id: patient_id.into(),
            date,
            shift,
            repeat: None,
            weeks: 1,
            priority: 0,
            source: Source::Local,
            online_request_id: None,
            requested_at: None,
        }
    }

    /// A local recurring request on `days` for `weeks` weeks from `date`.
    pub fn recurring(
        patient_id: impl Into<String>,
        date: Date,
        shift: u32,
        days: Vec<Weekday>,
        weeks: u32,
    ) -> Self {
        Self {
            repeat: Some(days),
            weeks,
            ..Self::single(patient_id, date, shift)
        }
    }

    /// The dates asked for: `date` alone, or every day in `[date, date + 7·weeks)` whose weekday
    /// is in the pattern.
    pub fn dates(&self) -> Vec<Date> {
        match &self.repeat {
            None => vec![self.date],
            Some(days) => (0..i64::from(self.weeks) * 7)
                .map(|i| self.date + Duration::days(i))
                .filter(|d| days.contains(&d.weekday()))
                .collect(),
        }
    }
}

/// One session placed by [`book`].
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BookedSlot {
    /// Booking id.
    pub id: String,
    /// `YYYY-MM-DD`.
    pub date: String,
    /// Shift number.
    pub shift: u32,
    /// Machine id (`None` when waitlisted).
    pub machine_id: Option<String>,
    /// Machine name (`None` when waitlisted).
    pub machine: Option<String>,
    /// `confirmed` or `waitlisted`.
    pub status: Status,
    /// Warning codes for this session (`serology_stale`, `co_infection`).
    pub warnings: Vec<&'static str>,
}

/// A date of a series that could not be booked.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RefusedDate {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// Why.
    #[serde(flatten)]
    pub reason: Refusal,
}

/// What [`book`] did.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Serialize)]
pub struct BookOutcome {
    /// The series id, for recurring requests.
    pub series_id: Option<String>,
    /// Sessions placed (confirmed or waitlisted), by date.
    pub bookings: Vec<BookedSlot>,
    /// Dates of a series refused (holiday, non-working day, already booked).
    pub refused: Vec<RefusedDate>,
    /// Warnings, with messages (each code once).
    pub warnings: Vec<Warning>,
    /// Audit entries for the caller to record.
    #[serde(skip)]
    pub audit: Vec<AuditEvent>,
}

/// The result of a status change: the booking after it, and who moved because of it.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Serialize)]
pub struct ChangeOutcome {
    /// The booking after the change.
    pub booking: BookingView,
    /// Bookings moved (e.g. promoted from the waitlist into the freed machine).
    pub moves: Vec<Move>,
    /// Warnings (stale serology at check-in).
    pub warnings: Vec<Warning>,
    /// Audit entries for the caller to record.
    #[serde(skip)]
    pub audit: Vec<AuditEvent>,
}

fn refuse_shift(shift: u32) -> Refusal {
    Refusal::new(
        "unknown_shift",
        "shift",
        format!("there is no shift {shift}; see `dialysis shifts`"),
        format!("पाली {shift} नहीं है"),
    )
}

/// Rule 9 and 10 for one date: the unit works that day and the patient has no other session.
fn check_date(
    conn: &Connection,
    settings: &UnitSettings,
    patient_id: &str,
    date: Date,
) -> Result<Option<Refusal>> {
    let d = fmt_date(date);
    if let Some(name) = unit::holiday_on(conn, date)? {
        let what = if name.is_empty() {
            String::new()
        } else {
            format!(" ({name})")
        };
        return Ok(Some(Refusal::new(
            "holiday",
            "date",
            format!("{d} is a holiday{what}; the unit is closed"),
            format!("{d} को अवकाश है; इकाई बंद है"),
        )));
    }
    if !settings.working_days.contains(&date.weekday()) {
        let wd = date.weekday();
        return Ok(Some(Refusal::new(
            "non_working_day",
            "date",
            format!("{d} is a {wd}, not a working day of the unit"),
            format!(
                "{d} ({}) इकाई का कार्य-दिवस नहीं है",
                crate::model::weekday_hi(wd)
            ),
        )));
    }
    let other: Option<String> = conn
        .prepare_cached(
            "SELECT id FROM dialysis_bookings WHERE patient_id = ?1 AND date = ?2 \
             AND status IN ('confirmed', 'waitlisted', 'checked_in', 'completed')",
        )?
        .query_row(params![patient_id, d], |r| r.get(0))
        .optional()?;
    if let Some(other) = other {
        return Ok(Some(Refusal::new(
            "already_booked",
            "date",
            format!("the patient already has a session on {d} (booking {other})"),
            format!("मरीज़ का {d} को पहले से सत्र है"),
        )));
    }
    Ok(None)
}

/// Loads the patient's record, refusing when there is none or the patient is not eligible.
pub(crate) fn bookable_patient(conn: &Connection, patient_id: &str) -> Result<PatientRow> {
    let exists = conn
        .prepare_cached("SELECT 1 FROM patients WHERE id = ?1")?
        .query_row([patient_id], |_| Ok(()))
        .optional()?
        .is_some();
    if !exists {
        return Err(DialysisError::not_found(format!("patient {patient_id}")));
    }
    let Some(p) = alloc::load_patient(conn, patient_id)? else {
        return Err(Refusal::new(
            "no_dialysis_record",
            "patient",
            "this patient has no dialysis record: record serology first with \
             `dialysis patient set --patient ID --hbsag .. --hcv .. --hiv .. --tested-on ..`",
            "इस मरीज़ का डायलिसिस रिकॉर्ड नहीं है: पहले सीरोलॉजी दर्ज करें",
        )
        .into());
    };
    if !p.eligible {
        return Err(Refusal::new(
            "not_eligible",
            "patient",
            "the patient is marked not eligible for the dialysis programme",
            "मरीज़ डायलिसिस कार्यक्रम के लिए पात्र नहीं है",
        )
        .into());
    }
    Ok(p)
}

/// Books one session or a recurring series.
///
/// A single date that breaks a rule is refused with an error ([`DialysisError::Refused`]); in a
/// series such dates are listed in `refused` and the rest booked. Each session gets a free
/// machine of the patient's pool (a series keeps to one machine where it can), or is waitlisted.
pub fn book(conn: &Connection, req: &BookRequest) -> Result<BookOutcome> {
    let patient_id = req.patient_id.trim();
    if !unit::shift_exists(conn, req.shift)? {
        return Err(refuse_shift(req.shift).into());
    }
    if req.repeat.is_some() && !(1..=MAX_WEEKS).contains(&req.weeks) {
        return Err(DialysisError::invalid(
            "weeks",
            format!("a series runs 1 to {MAX_WEEKS} weeks"),
            format!("श्रृंखला 1 से {MAX_WEEKS} सप्ताह की हो सकती है"),
        ));
    }
    let patient = bookable_patient(conn, patient_id)?;
    let settings = unit::settings(conn)?;
    let dates = req.dates();
    if dates.is_empty() {
        return Err(DialysisError::invalid(
            "repeat",
            "the pattern gives no dates",
            "इस क्रम से कोई तारीख नहीं बनती",
        ));
    }
    let series_id = req.repeat.as_ref().map(|_| new_id());
    let requested_at = req.requested_at.clone().unwrap_or_else(now_instant);
    let pool = patient.placement().pool;
    let mut out = BookOutcome {
        series_id: series_id.clone(),
        bookings: Vec::new(),
        refused: Vec::new(),
        warnings: Vec::new(),
        audit: Vec::new(),
    };
    let mut prefer: Option<String> = None;
    for date in dates {
        if let Some(refusal) = check_date(conn, &settings, patient_id, date)? {
            if req.repeat.is_none() {
                return Err(refusal.into());
            }
            out.refused.push(RefusedDate {
                date: fmt_date(date),
                reason: refusal,
            });
            continue;
        }
        let d = fmt_date(date);
        let machine = alloc::free_machine(conn, pool, &d, req.shift, prefer.as_deref())?;
        let warnings = patient.warnings_on(date, settings.stale_serology_days);
        let codes: Vec<&'static str> = warnings.iter().map(|w| w.code).collect();
        for w in warnings {
            push_warning(&mut out.warnings, w);
        }
        let status = if machine.is_some() {
            Status::Confirmed
        } else {
            Status::Waitlisted
        };
        let id = new_id();
        conn.prepare_cached(
            "INSERT INTO dialysis_bookings (id, patient_id, date, shift, machine_id, status, \
             priority, requested_at, series_id, source, online_request_id, warnings, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        )?
        .execute(params![
            id,
            patient_id,
            d,
            req.shift,
            machine.as_ref().map(|m| &m.0),
            status.as_str(),
            req.priority,
            requested_at,
            series_id,
            req.source.as_str(),
            req.online_request_id,
            serde_json::to_string(&codes).unwrap_or_else(|_| "[]".into()),
            now_instant(),
        ])?;
        out.audit.push(AuditEvent {
            action: crate::actions::BOOK,
            entity: crate::entities::BOOKING,
            entity_id: id.clone(),
            details: json!({
                "patient_id": patient_id, "date": d, "shift": req.shift, "status": status,
                "machine_id": machine.as_ref().map(|m| &m.0), "series_id": series_id,
                "source": req.source, "priority": req.priority, "warnings": codes,
            }),
        });
        if let Some((mid, _)) = &machine {
            prefer = Some(mid.clone());
        }
        out.bookings.push(BookedSlot {
            id,
            date: d,
            shift: req.shift,
            machine_id: machine.as_ref().map(|m| m.0.clone()),
            machine: machine.map(|m| m.1),
            status,
            warnings: codes,
        });
    }
    Ok(out)
}

fn wrong_status(b: &BookingView, action_en: &str, action_hi: &str) -> DialysisError {
    DialysisError::invalid(
        "booking",
        format!("a {} booking cannot be {action_en}", b.status),
        format!("{} बुकिंग को {action_hi} नहीं किया जा सकता", b.status),
    )
}

/// Sets a booking's status (and optional fields) and records the audit entry.
fn transition(
    conn: &Connection,
    b: &BookingView,
    to: Status,
    reason: Option<&str>,
    action: &'static str,
    changes: &mut Changes,
) -> Result<()> {
    conn.prepare_cached(
        "UPDATE dialysis_bookings SET status = ?2, status_reason = coalesce(?3, status_reason), \
         updated_at = ?4 WHERE id = ?1",
    )?
    .execute(params![b.id, to.as_str(), reason, now_instant()])?;
    changes.audit.push(AuditEvent {
        action,
        entity: crate::entities::BOOKING,
        entity_id: b.id.clone(),
        details: json!({
            "patient_id": b.patient_id, "date": b.date, "shift": b.shift,
            "from": b.status, "to": to, "machine_id": b.machine_id,
        }),
    });
    Ok(())
}

fn finish(
    conn: &Connection,
    id: &str,
    changes: Changes,
    warnings: Vec<Warning>,
) -> Result<ChangeOutcome> {
    Ok(ChangeOutcome {
        booking: views::booking(conn, id)?,
        moves: changes.moves,
        warnings,
        audit: changes.audit,
    })
}

/// Cancels a confirmed or waitlisted booking; a freed machine serves the slot's waitlist.
pub fn cancel(conn: &Connection, booking_id: &str, reason: Option<&str>) -> Result<ChangeOutcome> {
    let b = views::booking(conn, booking_id)?;
    if !matches!(b.status, Status::Confirmed | Status::Waitlisted) {
        return Err(wrong_status(&b, "cancelled", "रद्द"));
    }
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    let mut changes = Changes::default();
    transition(
        conn,
        &b,
        Status::Cancelled,
        reason,
        crate::actions::CANCEL,
        &mut changes,
    )?;
    if b.status == Status::Confirmed {
        alloc::promote_slot(conn, &b.date, b.shift, &mut changes)?;
    }
    finish(conn, &b.id, changes, Vec::new())
}

/// Cancels every confirmed or waitlisted session of a series from `from` on (all when `None`).
pub fn cancel_series(
    conn: &Connection,
    series_id: &str,
    from: Option<Date>,
    reason: Option<&str>,
) -> Result<Vec<ChangeOutcome>> {
    let ids: Vec<String> = conn
        .prepare_cached(
            "SELECT id FROM dialysis_bookings WHERE series_id = ?1 AND date >= ?2 \
             AND status IN ('confirmed', 'waitlisted') ORDER BY date",
        )?
        .query_map(
            params![series_id.trim(), from.map(fmt_date).unwrap_or_default()],
            |r| r.get(0),
        )?
        .collect::<rusqlite::Result<_>>()?;
    ids.iter().map(|id| cancel(conn, id, reason)).collect()
}

/// Marks a confirmed booking as a no-show; the machine serves the slot's waitlist.
pub fn no_show(conn: &Connection, booking_id: &str) -> Result<ChangeOutcome> {
    let b = views::booking(conn, booking_id)?;
    if b.status != Status::Confirmed {
        return Err(wrong_status(&b, "marked no-show", "अनुपस्थित"));
    }
    let mut changes = Changes::default();
    transition(
        conn,
        &b,
        Status::NoShow,
        None,
        crate::actions::NO_SHOW,
        &mut changes,
    )?;
    alloc::promote_slot(conn, &b.date, b.shift, &mut changes)?;
    finish(conn, &b.id, changes, Vec::new())
}

fn check_weight(field: &str, w: Option<f64>) -> Result<()> {
    if w.is_some_and(|w| !(10.0..=300.0).contains(&w)) {
        return Err(DialysisError::invalid(
            field,
            "weight must be between 10 and 300 kg",
            "वज़न 10 से 300 किलो के बीच होना चाहिए",
        ));
    }
    Ok(())
}

/// Checks in a confirmed booking, with the pre-dialysis weight if taken. Stale serology is
/// flagged (rule 6): the session goes ahead, the nurse is told to retest.
pub fn check_in(
    conn: &Connection,
    booking_id: &str,
    pre_weight_kg: Option<f64>,
) -> Result<ChangeOutcome> {
    check_weight("pre_weight", pre_weight_kg)?;
    let b = views::booking(conn, booking_id)?;
    if b.status != Status::Confirmed {
        return Err(wrong_status(&b, "checked in", "चेक-इन"));
    }
    let settings = unit::settings(conn)?;
    let patient = bookable_patient(conn, &b.patient_id)?;
    let date = crate::model::parse_date("date", &b.date)?;
    let warnings = patient.warnings_on(date, settings.stale_serology_days);
    let mut codes: Vec<String> = b.warnings.clone();
    for w in &warnings {
        if !codes.iter().any(|c| c == w.code) {
            codes.push(w.code.to_owned());
        }
    }
    let mut changes = Changes::default();
    transition(
        conn,
        &b,
        Status::CheckedIn,
        None,
        crate::actions::CHECK_IN,
        &mut changes,
    )?;
    conn.execute(
        "UPDATE dialysis_bookings SET pre_weight_kg = coalesce(?2, pre_weight_kg), warnings = ?3 \
         WHERE id = ?1",
        params![
            b.id,
            pre_weight_kg,
            serde_json::to_string(&codes).unwrap_or_else(|_| "[]".into())
        ],
    )?;
    finish(conn, &b.id, changes, warnings)
}

/// Completes a checked-in session with the post-dialysis weight (and the pre-dialysis one if it
/// was not taken at check-in).
pub fn complete(
    conn: &Connection,
    booking_id: &str,
    pre_weight_kg: Option<f64>,
    post_weight_kg: Option<f64>,
) -> Result<ChangeOutcome> {
    check_weight("pre_weight", pre_weight_kg)?;
    check_weight("post_weight", post_weight_kg)?;
    let b = views::booking(conn, booking_id)?;
    if b.status != Status::CheckedIn {
        return Err(wrong_status(
            &b,
            "completed (check in first)",
            "पूर्ण (पहले चेक-इन करें)",
        ));
    }
    let mut changes = Changes::default();
    transition(
        conn,
        &b,
        Status::Completed,
        None,
        crate::actions::COMPLETE,
        &mut changes,
    )?;
    conn.execute(
        "UPDATE dialysis_bookings SET pre_weight_kg = coalesce(?2, pre_weight_kg), \
         post_weight_kg = coalesce(?3, post_weight_kg) WHERE id = ?1",
        params![b.id, pre_weight_kg, post_weight_kg],
    )?;
    finish(conn, &b.id, changes, Vec::new())
}

/// Reads a stored status (helper for callers holding raw rows).
pub fn parse_status(s: &str) -> Result<Status> {
    from_db(s, "status")
}
