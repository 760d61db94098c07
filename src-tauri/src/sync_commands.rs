//! Tauri commands for sync: the status strip's view, "sync now", enrollment and the dead-letter
//! list. Each is a few lines over `swagat_core::sync_service`.

use swagat_core::sync_service::{self, DeadLetter, Enrolled, SyncView};
use swagat_core::{Actor, ErrorReport, Role};
use tauri::State;

use crate::state::AppState;

type CmdResult<T> = Result<T, ErrorReport>;

fn report(e: swagat_core::CoreError) -> ErrorReport {
    ErrorReport::from(&e)
}

/// What the strip shows; no personal data, so no login needed. Off the main thread (`async`):
/// the store it reads may be busy for a moment with a large pull.
#[tauri::command(async)]
pub fn sync_status(state: State<'_, AppState>) -> CmdResult<SyncView> {
    state.sync_view()
}

#[tauri::command(async)]
pub fn sync_now(state: State<'_, AppState>) -> CmdResult<SyncView> {
    state.require(&[])?;
    state.sync_now();
    state.sync_view()
}

// Async so the network round trip does not block the window.
#[tauri::command]
pub async fn sync_enroll(
    state: State<'_, AppState>,
    server: String,
    code: String,
) -> CmdResult<Enrolled> {
    let me = state.require(&[Role::Admin])?;
    let creds = sync_service::enroll_at(
        state.kiosk()?,
        &Actor::Staff(me.id),
        &server,
        &code,
        None,
        false,
    )
    .map_err(report)?;
    state.sync_now();
    Ok(creds.into())
}

#[tauri::command(async)]
pub fn sync_dead_letters(state: State<'_, AppState>) -> CmdResult<Vec<DeadLetter>> {
    state.require(&[Role::Admin])?;
    sync_service::dead_letters(state.kiosk()?).map_err(report)
}
