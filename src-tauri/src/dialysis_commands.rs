//! Tauri commands for the dialysis screen: the day board, the week, the waitlist, one patient's
//! schedule, machines (add, rename, re-pool, retire, maintenance) and shifts, the unit's settings
//! and holidays, serology, booking, check-in, no-show, completion, cancellation.
//!
//! Each command checks the session (a dialysis nurse, or an admin) and makes one call to
//! [`swagat_core::dialysis::DialysisUnit`], which checks the role again, and runs the change with
//! its audit entries in one transaction. Every command is `async`, so it runs off the window's
//! main thread (a sync fold holding the write lock cannot freeze the screen). Errors reach the UI
//! as an `ErrorReport` (kind plus English and Hindi message), like every other command.

use swagat_core::dialysis::{
    self as dialysis, BookForm, BookOutcome, BookingView, ChangeOutcome, DaySchedule, Holiday,
    Machine, MachineOutcome, PatientForm, PatientOutcome, PatientSchedule, Pool, Shift,
    UnitSettings, UnitSetup, WeekView,
};
use swagat_core::{Actor, ErrorReport, Role};
use tauri::State;

use crate::state::AppState;

type CmdResult<T> = Result<T, ErrorReport>;

/// Runs `f` for the logged-in nurse (or admin) on the kiosk's dialysis unit.
fn as_nurse<T>(
    state: &State<'_, AppState>,
    f: impl FnOnce(dialysis::DialysisUnit<'_>, &Actor) -> swagat_core::Result<T>,
) -> CmdResult<T> {
    let me = state.require(&[Role::DialysisNurse])?;
    f(state.kiosk()?.dialysis(), &Actor::Staff(me.id)).map_err(|e| ErrorReport::from(&e))
}

/// The day board: shifts, machines, bookings and waitlist of `day` (`YYYY-MM-DD`).
#[tauri::command(async)]
pub fn dialysis_day(state: State<'_, AppState>, day: String) -> CmdResult<DaySchedule> {
    as_nurse(&state, |u, a| u.day(a, &day))
}

/// Seven days from `from`: capacity, bookings and waitlist per shift and pool.
#[tauri::command(async)]
pub fn dialysis_week(state: State<'_, AppState>, from: String) -> CmdResult<WeekView> {
    as_nurse(&state, |u, a| u.week(a, &from))
}

/// The waitlist in serving order, from `from` on.
#[tauri::command(async)]
pub fn dialysis_waitlist(
    state: State<'_, AppState>,
    from: Option<String>,
) -> CmdResult<Vec<BookingView>> {
    as_nurse(&state, |u, a| u.waitlist(a, from.as_deref()))
}

/// One patient's dialysis record and sessions from `from` on.
#[tauri::command(async)]
pub fn dialysis_patient_schedule(
    state: State<'_, AppState>,
    patient_id: String,
    from: Option<String>,
) -> CmdResult<PatientSchedule> {
    as_nurse(&state, |u, a| {
        u.patient_schedule(a, &patient_id, from.as_deref())
    })
}

/// Machines (retired ones included) with their maintenance periods.
#[tauri::command(async)]
pub fn dialysis_machines(state: State<'_, AppState>) -> CmdResult<Vec<Machine>> {
    as_nurse(&state, |u, a| u.machines(a))
}

/// Adds a machine to a pool (it serves the waitlist at once).
#[tauri::command(async)]
pub fn dialysis_add_machine(
    state: State<'_, AppState>,
    name: String,
    pool: Pool,
) -> CmdResult<MachineOutcome> {
    as_nurse(&state, |u, a| u.add_machine(a, &name, pool))
}

/// Renames a machine.
#[tauri::command(async)]
pub fn dialysis_rename_machine(
    state: State<'_, AppState>,
    machine: String,
    name: String,
) -> CmdResult<MachineOutcome> {
    as_nurse(&state, |u, a| u.rename_machine(a, &machine, &name))
}

/// Moves a machine to another pool; `affected` lists the patients whose bookings moved.
#[tauri::command(async)]
pub fn dialysis_set_machine_pool(
    state: State<'_, AppState>,
    machine: String,
    pool: Pool,
) -> CmdResult<MachineOutcome> {
    as_nurse(&state, |u, a| u.set_machine_pool(a, &machine, pool))
}

/// Retires a machine; `affected` lists the patients whose bookings moved.
#[tauri::command(async)]
pub fn dialysis_retire_machine(
    state: State<'_, AppState>,
    machine: String,
) -> CmdResult<MachineOutcome> {
    as_nurse(&state, |u, a| u.retire_machine(a, &machine))
}

/// Takes a machine out of service from `from` (default today) to `to` (open-ended when absent).
#[tauri::command(async)]
pub fn dialysis_set_maintenance(
    state: State<'_, AppState>,
    machine: String,
    from: Option<String>,
    to: Option<String>,
    reason: String,
) -> CmdResult<MachineOutcome> {
    as_nurse(&state, |u, a| {
        u.set_maintenance(a, &machine, from.as_deref(), to.as_deref(), &reason)
    })
}

/// Puts a machine back in service from `from` (default today).
#[tauri::command(async)]
pub fn dialysis_end_maintenance(
    state: State<'_, AppState>,
    machine: String,
    from: Option<String>,
) -> CmdResult<MachineOutcome> {
    as_nurse(&state, |u, a| {
        u.end_maintenance(a, &machine, from.as_deref())
    })
}

/// The shifts of the day.
#[tauri::command(async)]
pub fn dialysis_shifts(state: State<'_, AppState>) -> CmdResult<Vec<Shift>> {
    as_nurse(&state, |u, a| u.shifts(a))
}

/// Replaces the shifts (`06:00,10:30,15:00`), each `duration_min` long (default 240).
#[tauri::command(async)]
pub fn dialysis_set_shifts(
    state: State<'_, AppState>,
    times: String,
    duration_min: Option<u32>,
) -> CmdResult<Vec<Shift>> {
    as_nurse(&state, |u, a| u.set_shifts(a, &times, duration_min))
}

/// Creates or updates a patient's dialysis record (serology moves bookings if the pool changes).
#[tauri::command(async)]
pub fn dialysis_set_patient(
    state: State<'_, AppState>,
    form: PatientForm,
) -> CmdResult<PatientOutcome> {
    as_nurse(&state, |u, a| u.set_patient(a, &form))
}

/// Books a session or a recurring series.
#[tauri::command(async)]
pub fn dialysis_book(state: State<'_, AppState>, form: BookForm) -> CmdResult<BookOutcome> {
    as_nurse(&state, |u, a| u.book(a, &form))
}

/// Cancels a booking; the freed machine serves the waitlist.
#[tauri::command(async)]
pub fn dialysis_cancel(
    state: State<'_, AppState>,
    booking_id: String,
    reason: Option<String>,
) -> CmdResult<ChangeOutcome> {
    as_nurse(&state, |u, a| u.cancel(a, &booking_id, reason.as_deref()))
}

/// Marks a no-show; the freed machine serves the waitlist.
#[tauri::command(async)]
pub fn dialysis_no_show(
    state: State<'_, AppState>,
    booking_id: String,
) -> CmdResult<ChangeOutcome> {
    as_nurse(&state, |u, a| u.no_show(a, &booking_id))
}

/// Checks a patient in (stale serology comes back as a warning).
#[tauri::command(async)]
pub fn dialysis_check_in(
    state: State<'_, AppState>,
    booking_id: String,
    pre_weight_kg: Option<f64>,
) -> CmdResult<ChangeOutcome> {
    as_nurse(&state, |u, a| u.check_in(a, &booking_id, pre_weight_kg))
}

/// Completes a checked-in session.
#[tauri::command(async)]
pub fn dialysis_complete(
    state: State<'_, AppState>,
    booking_id: String,
    pre_weight_kg: Option<f64>,
    post_weight_kg: Option<f64>,
) -> CmdResult<ChangeOutcome> {
    as_nurse(&state, |u, a| {
        u.complete(a, &booking_id, pre_weight_kg, post_weight_kg)
    })
}

/// The unit's settings and holidays from `from` on.
#[tauri::command(async)]
pub fn dialysis_unit(state: State<'_, AppState>, from: Option<String>) -> CmdResult<UnitSetup> {
    as_nurse(&state, |u, a| u.unit(a, from.as_deref()))
}

/// Changes the working weekdays (`mon,tue,...`) and/or the stale-serology threshold in days.
#[tauri::command(async)]
pub fn dialysis_set_unit(
    state: State<'_, AppState>,
    working_days: Option<String>,
    stale_days: Option<i64>,
) -> CmdResult<UnitSettings> {
    as_nurse(&state, |u, a| {
        u.set_unit(a, working_days.as_deref(), stale_days)
    })
}

/// Declares a holiday (refused while the day has active bookings).
#[tauri::command(async)]
pub fn dialysis_add_holiday(
    state: State<'_, AppState>,
    day: String,
    name: String,
) -> CmdResult<Holiday> {
    as_nurse(&state, |u, a| u.add_holiday(a, &day, &name))
}

/// Removes a holiday; `false` if there was none.
#[tauri::command(async)]
pub fn dialysis_remove_holiday(state: State<'_, AppState>, day: String) -> CmdResult<bool> {
    as_nurse(&state, |u, a| u.remove_holiday(a, &day))
}

/// Online booking requests pulled from the state portal, newest first, with the unit's answers
/// and whether the server has them yet (no patient details).
#[tauri::command(async)]
pub fn dialysis_online_requests(
    state: State<'_, AppState>,
) -> CmdResult<Vec<swagat_core::inbox::DialysisRequest>> {
    as_nurse(&state, |u, a| u.online_requests(a, 100))
}
