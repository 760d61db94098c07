//! Tauri commands for the Reports screen: the day's register, a range's summary, cash by staff,
//! the monthly figures, export to a file and print.
//!
//! Reception and administrators may see the books (a dialysis nurse may not). Each command checks
//! the session and makes one `swagat_core::reports` call off the main thread (`async`: a month's
//! register or a year's summary must not freeze the window). The export's file path is chosen by
//! the operator in the UI through Tauri's dialog plugin and passed here as a plain parameter (so
//! the E2E test, which cannot drive a native dialog, passes one too); the core audits it.

use std::path::PathBuf;

use swagat_core::reports::{
    CashSheet, ExportFormat, Exported, Monthly, Register, ReportKind, Summary,
};
use swagat_core::{Actor, CoreError, ErrorReport, Role};
use tauri::State;

use crate::state::AppState;

type CmdResult<T> = Result<T, ErrorReport>;

fn report(e: CoreError) -> ErrorReport {
    ErrorReport::from(&e)
}

fn reader(state: &State<'_, AppState>) -> CmdResult<Actor> {
    let me = state.require(&[Role::Reception])?;
    Ok(Actor::Staff(me.id))
}

/// One day's register (`YYYY-MM-DD`).
#[tauri::command(async)]
pub fn report_register(state: State<'_, AppState>, date: String) -> CmdResult<Register> {
    reader(&state)?;
    state.kiosk()?.report_register(&date).map_err(report)
}

/// The summary of `from`..=`to`.
#[tauri::command(async)]
pub fn report_summary(state: State<'_, AppState>, from: String, to: String) -> CmdResult<Summary> {
    reader(&state)?;
    state.kiosk()?.report_summary(&from, &to).map_err(report)
}

/// Cash by staff for a day.
#[tauri::command(async)]
pub fn report_cash(state: State<'_, AppState>, date: String) -> CmdResult<CashSheet> {
    reader(&state)?;
    state.kiosk()?.report_cash(&date).map_err(report)
}

/// The month's figures (`YYYY-MM`).
#[tauri::command(async)]
pub fn report_monthly(state: State<'_, AppState>, month: String) -> CmdResult<Monthly> {
    reader(&state)?;
    state.kiosk()?.report_monthly(&month).map_err(report)
}

/// Writes a report to `path` (chosen by the operator in the save dialog); audited.
#[tauri::command(async)]
pub fn report_export(
    state: State<'_, AppState>,
    kind: ReportKind,
    format: ExportFormat,
    from: String,
    to: String,
    path: PathBuf,
) -> CmdResult<Exported> {
    let actor = reader(&state)?;
    state
        .kiosk()?
        .report_export_to(&actor, kind, format, &from, &to, &path)
        .map_err(report)
}

/// Prints a day's register or cash sheet (A4, CUPS) or the end-of-day sheet (slip printer);
/// returns the CUPS job id when there is one.
#[tauri::command(async)]
pub fn report_print(
    state: State<'_, AppState>,
    kind: ReportKind,
    date: String,
    printer: Option<String>,
) -> CmdResult<Option<String>> {
    let actor = reader(&state)?;
    state
        .kiosk()?
        .report_print(&actor, kind, &date, printer.as_deref())
        .map_err(report)
}
