//! Tauri commands for the dialysis screen: the day board, the week, the waitlist, one patient's
//! schedule, machines and shifts, serology, booking, check-in, no-show, completion, cancellation.
//!
//! Each command checks that a dialysis nurse (or an admin) is logged in, runs one
//! `swagat_dialysis` call inside one store transaction, and writes the audit entries it returns
//! with the nurse as the actor, in that transaction. Errors reach the UI as an `ErrorReport`
//! (kind plus English and Hindi message), like every other command.

use serde::Deserialize;
use swagat_core::{Actor, CoreError, ErrorReport, Role};
use swagat_dialysis::rusqlite::Connection;
use swagat_dialysis::time::Date;
use swagat_dialysis::{self as dialysis, AuditEvent, BookRequest, PatientUpdate};
use tauri::State;

use crate::state::AppState;

type CmdResult<T> = Result<T, ErrorReport>;

fn report(e: CoreError) -> ErrorReport {
    ErrorReport::from(&e)
}

fn date(field: &str, s: &str) -> swagat_core::Result<Date> {
    dialysis::parse_date(field, s).map_err(CoreError::from)
}

fn opt_date(field: &str, s: Option<&str>) -> swagat_core::Result<Option<Date>> {
    s.filter(|s| !s.trim().is_empty())
        .map(|s| date(field, s))
        .transpose()
}

fn audit(conn: &Connection, actor: &Actor, events: &[AuditEvent]) -> swagat_core::Result<()> {
    for e in events {
        swagat_core::audit::record(
            conn,
            actor,
            e.action,
            e.entity,
            Some(&e.entity_id),
            e.details.clone(),
        )?;
    }
    Ok(())
}

/// Runs `f` in one transaction as the logged-in nurse.
fn write<T>(
    state: &State<'_, AppState>,
    f: impl FnOnce(&Connection, &Actor) -> swagat_core::Result<T>,
) -> CmdResult<T> {
    let me = state.require(&[Role::DialysisNurse])?;
    let actor = Actor::Staff(me.id);
    state
        .kiosk()?
        .store()
        .write(|tx| f(tx, &actor))
        .map_err(report)
}

/// Runs a read for a logged-in nurse.
fn read<T>(
    state: &State<'_, AppState>,
    f: impl FnOnce(&Connection) -> swagat_core::Result<T>,
) -> CmdResult<T> {
    state.require(&[Role::DialysisNurse])?;
    state.kiosk()?.store().read(f).map_err(report)
}

/// The day board: shifts, machines, bookings and waitlist of `date` (`YYYY-MM-DD`).
#[tauri::command]
pub fn dialysis_day(state: State<'_, AppState>, day: String) -> CmdResult<dialysis::DaySchedule> {
    read(&state, |c| {
        dialysis::schedule(c, date("day", &day)?).map_err(CoreError::from)
    })
}

/// Seven days from `from`: capacity, bookings and waitlist per shift and pool.
#[tauri::command]
pub fn dialysis_week(state: State<'_, AppState>, from: String) -> CmdResult<dialysis::WeekView> {
    read(&state, |c| {
        dialysis::week(c, date("from", &from)?).map_err(CoreError::from)
    })
}

/// The waitlist in serving order, from `from` on.
#[tauri::command]
pub fn dialysis_waitlist(
    state: State<'_, AppState>,
    from: Option<String>,
) -> CmdResult<Vec<dialysis::BookingView>> {
    read(&state, |c| {
        dialysis::waitlist(c, opt_date("from", from.as_deref())?).map_err(CoreError::from)
    })
}

/// One patient's dialysis record and sessions from `from` on.
#[tauri::command]
pub fn dialysis_patient_schedule(
    state: State<'_, AppState>,
    patient_id: String,
    from: Option<String>,
) -> CmdResult<dialysis::views::PatientSchedule> {
    read(&state, |c| {
        dialysis::patient_schedule(c, &patient_id, opt_date("from", from.as_deref())?)
            .map_err(CoreError::from)
    })
}

/// Machines with their maintenance periods.
#[tauri::command]
pub fn dialysis_machines(state: State<'_, AppState>) -> CmdResult<Vec<dialysis::Machine>> {
    read(&state, |c| {
        dialysis::machines::list(c).map_err(CoreError::from)
    })
}

/// Adds a machine to a pool (it serves the waitlist at once).
#[tauri::command]
pub fn dialysis_add_machine(
    state: State<'_, AppState>,
    name: String,
    pool: dialysis::Pool,
) -> CmdResult<dialysis::MachineOutcome> {
    write(&state, |tx, actor| {
        let out = dialysis::machines::add(tx, &name, pool).map_err(CoreError::from)?;
        audit(tx, actor, &out.audit)?;
        Ok(out)
    })
}

/// Takes a machine out of service from `from` to `to` (open-ended when absent).
#[tauri::command]
pub fn dialysis_set_maintenance(
    state: State<'_, AppState>,
    machine: String,
    from: String,
    to: Option<String>,
    reason: String,
) -> CmdResult<dialysis::MachineOutcome> {
    write(&state, |tx, actor| {
        let out = dialysis::machines::set_maintenance(
            tx,
            &machine,
            date("from", &from)?,
            opt_date("to", to.as_deref())?,
            &reason,
        )
        .map_err(CoreError::from)?;
        audit(tx, actor, &out.audit)?;
        Ok(out)
    })
}

/// Puts a machine back in service from `from`.
#[tauri::command]
pub fn dialysis_end_maintenance(
    state: State<'_, AppState>,
    machine: String,
    from: String,
) -> CmdResult<dialysis::MachineOutcome> {
    write(&state, |tx, actor| {
        let out = dialysis::machines::end_maintenance(tx, &machine, date("from", &from)?)
            .map_err(CoreError::from)?;
        audit(tx, actor, &out.audit)?;
        Ok(out)
    })
}

/// The shifts of the day.
#[tauri::command]
pub fn dialysis_shifts(state: State<'_, AppState>) -> CmdResult<Vec<dialysis::unit::Shift>> {
    read(&state, |c| {
        dialysis::unit::shifts(c).map_err(CoreError::from)
    })
}

/// Replaces the shifts (`06:00,10:30,15:00`), each `duration_min` long (default 240).
#[tauri::command]
pub fn dialysis_set_shifts(
    state: State<'_, AppState>,
    times: String,
    duration_min: Option<u32>,
) -> CmdResult<Vec<dialysis::unit::Shift>> {
    write(&state, |tx, actor| {
        let duration = duration_min.unwrap_or(dialysis::unit::DEFAULT_DURATION_MIN);
        let shifts = dialysis::unit::set_shifts(tx, &dialysis::unit::parse_times(&times), duration)
            .map_err(CoreError::from)?;
        swagat_core::audit::record(
            tx,
            actor,
            "dialysis.shifts_set",
            "dialysis_shifts",
            None,
            serde_json::json!({ "times": times, "duration_min": duration }),
        )?;
        Ok(shifts)
    })
}

/// The serology form.
#[derive(Debug, Deserialize)]
pub struct PatientForm {
    patient_id: String,
    hbsag: Option<dialysis::Serology>,
    hcv: Option<dialysis::Serology>,
    hiv: Option<dialysis::Serology>,
    tested_on: Option<String>,
    vascular_access: Option<dialysis::VascularAccess>,
    dry_weight_kg: Option<f64>,
    eligibility: Option<String>,
    eligible: Option<bool>,
}

/// Creates or updates a patient's dialysis record (serology moves bookings if the pool changes).
#[tauri::command]
pub fn dialysis_set_patient(
    state: State<'_, AppState>,
    form: PatientForm,
) -> CmdResult<dialysis::PatientOutcome> {
    write(&state, |tx, actor| {
        let update = PatientUpdate {
            patient_id: form.patient_id,
            hbsag: form.hbsag,
            hcv: form.hcv,
            hiv: form.hiv,
            tested_on: opt_date("tested_on", form.tested_on.as_deref())?,
            vascular_access: form.vascular_access,
            dry_weight_kg: form.dry_weight_kg,
            eligibility: form.eligibility,
            eligible: form.eligible,
        };
        let out = dialysis::patients::set(tx, &update).map_err(CoreError::from)?;
        audit(tx, actor, &out.audit)?;
        Ok(out)
    })
}

/// The booking form: one date, or a weekday pattern (`mon,wed,fri`) for a number of weeks.
#[derive(Debug, Deserialize)]
pub struct BookForm {
    patient_id: String,
    date: String,
    shift: u32,
    repeat: Option<String>,
    weeks: Option<u32>,
    priority: Option<i64>,
}

/// Books a session or a recurring series.
#[tauri::command]
pub fn dialysis_book(
    state: State<'_, AppState>,
    form: BookForm,
) -> CmdResult<dialysis::BookOutcome> {
    write(&state, |tx, actor| {
        let repeat = form
            .repeat
            .as_deref()
            .filter(|r| !r.trim().is_empty())
            .map(|r| dialysis::parse_weekdays("repeat", r))
            .transpose()
            .map_err(CoreError::from)?;
        let req = BookRequest {
            repeat,
            weeks: form.weeks.unwrap_or(1),
            priority: form.priority.unwrap_or(0),
            ..BookRequest::single(
                form.patient_id.trim(),
                date("date", &form.date)?,
                form.shift,
            )
        };
        let out = dialysis::book(tx, &req).map_err(CoreError::from)?;
        audit(tx, actor, &out.audit)?;
        Ok(out)
    })
}

/// Cancels a booking; the freed machine serves the waitlist.
#[tauri::command]
pub fn dialysis_cancel(
    state: State<'_, AppState>,
    booking_id: String,
    reason: Option<String>,
) -> CmdResult<dialysis::ChangeOutcome> {
    write(&state, |tx, actor| {
        let out = dialysis::cancel(tx, &booking_id, reason.as_deref()).map_err(CoreError::from)?;
        audit(tx, actor, &out.audit)?;
        Ok(out)
    })
}

/// Marks a no-show; the freed machine serves the waitlist.
#[tauri::command]
pub fn dialysis_no_show(
    state: State<'_, AppState>,
    booking_id: String,
) -> CmdResult<dialysis::ChangeOutcome> {
    write(&state, |tx, actor| {
        let out = dialysis::no_show(tx, &booking_id).map_err(CoreError::from)?;
        audit(tx, actor, &out.audit)?;
        Ok(out)
    })
}

/// Checks a patient in (stale serology comes back as a warning).
#[tauri::command]
pub fn dialysis_check_in(
    state: State<'_, AppState>,
    booking_id: String,
    pre_weight_kg: Option<f64>,
) -> CmdResult<dialysis::ChangeOutcome> {
    write(&state, |tx, actor| {
        let out = dialysis::check_in(tx, &booking_id, pre_weight_kg).map_err(CoreError::from)?;
        audit(tx, actor, &out.audit)?;
        Ok(out)
    })
}

/// Completes a checked-in session.
#[tauri::command]
pub fn dialysis_complete(
    state: State<'_, AppState>,
    booking_id: String,
    pre_weight_kg: Option<f64>,
    post_weight_kg: Option<f64>,
) -> CmdResult<dialysis::ChangeOutcome> {
    write(&state, |tx, actor| {
        let out = dialysis::complete(tx, &booking_id, pre_weight_kg, post_weight_kg)
            .map_err(CoreError::from)?;
        audit(tx, actor, &out.audit)?;
        Ok(out)
    })
}

/// The unit's settings (working weekdays, stale-serology threshold) and coming holidays.
#[derive(serde::Serialize)]
pub struct UnitSetup {
    settings: dialysis::unit::UnitSettings,
    holidays: Vec<dialysis::unit::Holiday>,
}

/// The unit's settings and holidays from `from` on.
#[tauri::command]
pub fn dialysis_unit(state: State<'_, AppState>, from: Option<String>) -> CmdResult<UnitSetup> {
    read(&state, |c| {
        Ok(UnitSetup {
            settings: dialysis::unit::settings(c).map_err(CoreError::from)?,
            holidays: dialysis::unit::holidays(c, opt_date("from", from.as_deref())?)
                .map_err(CoreError::from)?,
        })
    })
}

/// Changes the working weekdays (`mon,tue,...`) and/or the stale-serology threshold in days.
#[tauri::command]
pub fn dialysis_set_unit(
    state: State<'_, AppState>,
    working_days: Option<String>,
    stale_days: Option<i64>,
) -> CmdResult<dialysis::unit::UnitSettings> {
    write(&state, |tx, actor| {
        let days = working_days
            .as_deref()
            .map(|s| dialysis::parse_weekdays("working_days", s))
            .transpose()
            .map_err(CoreError::from)?;
        let s = dialysis::unit::set_settings(tx, days.as_deref(), stale_days)
            .map_err(CoreError::from)?;
        let details = serde_json::to_value(&s).map_err(|e| CoreError::Corrupt(e.to_string()))?;
        swagat_core::audit::record(
            tx,
            actor,
            "dialysis.settings",
            "dialysis_unit",
            None,
            details,
        )?;
        Ok(s)
    })
}

/// Declares a holiday (refused while the day has active bookings).
#[tauri::command]
pub fn dialysis_add_holiday(
    state: State<'_, AppState>,
    day: String,
    name: String,
) -> CmdResult<dialysis::unit::Holiday> {
    write(&state, |tx, actor| {
        let h =
            dialysis::unit::add_holiday(tx, date("day", &day)?, &name).map_err(CoreError::from)?;
        swagat_core::audit::record(
            tx,
            actor,
            "dialysis.holiday_add",
            "dialysis_holiday",
            Some(&h.date),
            serde_json::json!({}),
        )?;
        Ok(h)
    })
}

/// Removes a holiday; `false` if there was none.
#[tauri::command]
pub fn dialysis_remove_holiday(state: State<'_, AppState>, day: String) -> CmdResult<bool> {
    write(&state, |tx, actor| {
        let removed =
            dialysis::unit::remove_holiday(tx, date("day", &day)?).map_err(CoreError::from)?;
        if removed {
            swagat_core::audit::record(
                tx,
                actor,
                "dialysis.holiday_remove",
                "dialysis_holiday",
                Some(&day),
                serde_json::json!({}),
            )?;
        }
        Ok(removed)
    })
}

/// Online booking requests pulled from the state portal, newest first, with the unit's answers
/// and whether the server has them yet (no patient details).
#[tauri::command]
pub fn dialysis_online_requests(state: State<'_, AppState>) -> CmdResult<Vec<serde_json::Value>> {
    read(&state, |c| swagat_core::inbox::dialysis_requests(c, 100))
}
