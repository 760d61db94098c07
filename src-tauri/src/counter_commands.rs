//! The reception counter's helpers: a registration checked before it is made (every field
//! problem, possible duplicates, a second token today), the login screen's names, and the
//! printer choice with a test print. Each is one core call behind the session check.

use swagat_core::kiosk::{LoginName, PrinterChoice};
use swagat_core::opd::register::RegistrationCheck;
use swagat_core::opd::RegisterRequest;
use swagat_core::{Actor, ErrorReport, Role};
use tauri::State;

use crate::state::AppState;

type CmdResult<T> = Result<T, ErrorReport>;

fn report(e: swagat_core::CoreError) -> ErrorReport {
    ErrorReport::from(&e)
}

/// Checks a registration before submit; writes nothing.
#[tauri::command(async)]
pub fn check_registration(
    state: State<'_, AppState>,
    request: RegisterRequest,
) -> CmdResult<RegistrationCheck> {
    state.require(&[Role::Reception])?;
    state.kiosk()?.check_registration(&request).map_err(report)
}

/// The active staff names for the login screen (no session needed: it is the login screen).
#[tauri::command(async)]
pub fn login_names(state: State<'_, AppState>) -> CmdResult<Vec<LoginName>> {
    state.kiosk()?.login_names().map_err(report)
}

/// The CUPS queues found on this PC.
#[tauri::command(async)]
pub fn list_printers(state: State<'_, AppState>) -> CmdResult<Vec<PrinterChoice>> {
    state.require(&[Role::Admin])?;
    state.kiosk()?.printers().map_err(report)
}

/// Prints a test slip on `printer` in `format`.
#[tauri::command(async)]
pub fn test_print(
    state: State<'_, AppState>,
    printer: String,
    format: String,
) -> CmdResult<Option<String>> {
    let me = state.require(&[Role::Admin])?;
    state
        .kiosk()?
        .test_print(&Actor::Staff(me.id), &printer, &format)
        .map_err(report)
}
