//! Tauri commands for the administrator's staff list, backups, the disk and the recovery screen.
//! Each checks the role where needed and makes one core call (off the main thread: `async`).

use swagat_core::backup::{BackupStatus, Created, Restored, StartupCheck};
use swagat_core::disk::DiskSpace;
use swagat_core::staff::StaffAccount;
use swagat_core::{Actor, CoreError, ErrorReport, Role};
use tauri::State;

use crate::state::AppState;

type CmdResult<T> = Result<T, ErrorReport>;

fn report(e: CoreError) -> ErrorReport {
    ErrorReport::from(&e)
}

/// Every account with its lockout state (administrators).
#[tauri::command(async)]
pub fn staff_accounts(state: State<'_, AppState>) -> CmdResult<Vec<StaffAccount>> {
    state.require(&[Role::Admin])?;
    state.kiosk()?.staff_accounts().map_err(report)
}

/// Disables (`active: false`) or enables an account (audited).
#[tauri::command(async)]
pub fn staff_set_active(
    state: State<'_, AppState>,
    staff_id: String,
    active: bool,
) -> CmdResult<StaffAccount> {
    let me = state.require(&[Role::Admin])?;
    let k = state.kiosk()?;
    k.set_staff_active(&Actor::Staff(me.id), &staff_id, active)
        .map_err(report)
}

/// Sets a new PIN (6+ digits) or passphrase and lifts any lockout (audited).
#[tauri::command(async)]
pub fn staff_reset_pin(
    state: State<'_, AppState>,
    staff_id: String,
    secret: String,
) -> CmdResult<StaffAccount> {
    let me = state.require(&[Role::Admin])?;
    let k = state.kiosk()?;
    k.reset_staff_secret(&Actor::Staff(me.id), &staff_id, &secret)
        .map_err(report)
}

/// Lifts a lockout (audited).
#[tauri::command(async)]
pub fn staff_unlock(state: State<'_, AppState>, staff_id: String) -> CmdResult<StaffAccount> {
    let me = state.require(&[Role::Admin])?;
    let k = state.kiosk()?;
    k.unlock_staff(&Actor::Staff(me.id), &staff_id)
        .map_err(report)
}

/// Settings' backup section: folder, schedule, last good backup, the stale warning.
#[tauri::command(async)]
pub fn backup_status(state: State<'_, AppState>) -> CmdResult<BackupStatus> {
    state.require(&[Role::Admin])?;
    state.kiosk()?.backup_status().map_err(report)
}

/// "Back up now" (audited as `backup.create`).
#[tauri::command(async)]
pub fn backup_now(state: State<'_, AppState>) -> CmdResult<Created> {
    let me = state.require(&[Role::Admin])?;
    let k = state.kiosk()?;
    k.backup_now(&Actor::Staff(me.id), None).map_err(report)
}

/// Free space where the database lives, for the status strip (no personal data: no login).
#[tauri::command(async)]
pub fn disk_space(state: State<'_, AppState>) -> CmdResult<DiskSpace> {
    state.kiosk()?.disk_space().map_err(report)
}

/// What the start-up check found: the recovery screen shows it when `ok` is false.
#[tauri::command(async)]
pub fn recovery_status(state: State<'_, AppState>) -> CmdResult<StartupCheck> {
    Ok(state.startup())
}

/// Restores the backup the recovery screen offered (the newest verified one). Only while the
/// database failed its start-up check: a healthy kiosk restores through `swagat-admin`. The
/// app must restart afterwards ([`restart_app`]) to open the restored file.
#[tauri::command(async)]
pub fn recovery_restore(state: State<'_, AppState>) -> CmdResult<Restored> {
    let Some(db) = state.db_path() else {
        return Err(report(CoreError::invalid(
            "backup",
            "an in-memory kiosk has no file",
            "मेमोरी वाले कियोस्क की कोई फ़ाइल नहीं है",
        )));
    };
    swagat_core::backup::restore_offered(db, &state.startup()).map_err(report)
}

/// Restarts the app (after a restore from the recovery screen).
#[tauri::command]
pub fn restart_app<R: tauri::Runtime>(app: tauri::AppHandle<R>) {
    app.restart();
}
