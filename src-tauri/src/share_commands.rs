//! Tauri commands for ABHA scan-and-share: the shared-profiles queue on the Register screen,
//! registering a share with one tap, and the counter's QR (shown in Settings, printed as a
//! poster), opening one pre-filled in the registration form. Each is a few lines over one `swagat_core::Kiosk` call, off the main thread.

use swagat_core::opd::RegisterRequest;
use swagat_core::shares::{CounterQr, SharePrefill, ShareRegistration, SharedProfile};
use swagat_core::{Actor, ErrorReport, Role};
use tauri::State;

use crate::state::AppState;

type CmdResult<T> = Result<T, ErrorReport>;

fn report(e: swagat_core::CoreError) -> ErrorReport {
    ErrorReport::from(&e)
}

/// Today's shared profiles (this counter's first).
#[tauri::command(async)]
pub fn shares_list(state: State<'_, AppState>) -> CmdResult<Vec<SharedProfile>> {
    state.require(&[Role::Reception])?;
    state.kiosk()?.shared_profiles().map_err(report)
}

/// Opens a shared profile for registration: the form's fields and the returning patient.
#[tauri::command(async)]
pub fn shares_prefill(state: State<'_, AppState>, share_id: String) -> CmdResult<SharePrefill> {
    state.require(&[Role::Reception])?;
    state.kiosk()?.share_prefill(&share_id).map_err(report)
}

/// Registers a shared profile: with `request` (the confirmed form: `department` and `patient`
/// or `patient_id`) as the operator confirmed it, else with the defaults for `department`.
/// The registration as `register` returns it, with the share's ABHA address for the token
/// screen.
#[tauri::command(async)]
pub fn shares_register(
    state: State<'_, AppState>,
    share_id: String,
    department: Option<String>,
    request: Option<RegisterRequest>,
) -> CmdResult<ShareRegistration> {
    let me = state.require(&[Role::Reception])?;
    let kiosk = state.kiosk()?;
    let actor = Actor::Staff(me.id);
    match (request, department) {
        (Some(req), _) => kiosk.register_share_with(&actor, &share_id, &req),
        (None, d) => kiosk.register_share(&actor, &share_id, d.as_deref().unwrap_or_default()),
    }
    .map_err(report)
}

/// The counter's scan-and-share QR: its URL and an SVG image of it.
#[tauri::command(async)]
pub fn shares_counter_qr(state: State<'_, AppState>) -> CmdResult<CounterQr> {
    state.require(&[Role::Admin])?;
    state.kiosk()?.counter_qr().map_err(report)
}

/// Prints the counter's poster on the configured printer; the CUPS job id.
#[tauri::command(async)]
pub fn shares_print_poster(state: State<'_, AppState>) -> CmdResult<String> {
    let me = state.require(&[Role::Admin])?;
    state
        .kiosk()?
        .print_counter_poster(&Actor::Staff(me.id))
        .map_err(report)
}
