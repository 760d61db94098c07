//! The desktop shell: Tauri window, and commands that are a few lines each over the kiosk core.
//!
//! This is the only crate that imports `tauri`. A command checks the session where needed, calls
//! one [`swagat_core::Kiosk`] method, and returns its result or an [`ErrorReport`] (kind plus English
//! and Hindi message) for the UI to show. Commands are registered by [`builder`], which is generic
//! over the runtime so the tests drive them through Tauri's mock runtime without a display.

mod admin_commands;
mod commands;
mod counter_commands;
mod dialysis_commands;
mod report_commands;
mod share_commands;
mod state;
mod sync_commands;

pub use state::AppState;

use tauri::{Builder, Runtime};

/// The app's builder with every command registered; `run` adds the real runtime and context.
pub fn builder() -> Builder<tauri::Wry> {
    builder_on(Builder::default())
}

/// Registers every command on `builder` (any runtime: the tests pass Tauri's mock runtime).
pub fn builder_on<R: Runtime>(builder: Builder<R>) -> Builder<R> {
    builder.invoke_handler(tauri::generate_handler![
        commands::app_status,
        commands::first_run_setup,
        commands::login,
        commands::logout,
        commands::whoami,
        commands::home_summary,
        commands::get_config,
        commands::update_config,
        commands::list_staff,
        commands::add_staff,
        commands::lgd_states,
        commands::scan_qr,
        commands::register,
        commands::search_patients,
        commands::visit_detail,
        commands::slip_preview,
        commands::print_slip,
        commands::set_fullscreen,
        commands::patient_record,
        commands::edit_patient,
        commands::merge_patients,
        counter_commands::check_registration,
        counter_commands::login_names,
        counter_commands::list_printers,
        counter_commands::test_print,
        dialysis_commands::dialysis_day,
        dialysis_commands::dialysis_week,
        dialysis_commands::dialysis_waitlist,
        dialysis_commands::dialysis_patient_schedule,
        dialysis_commands::dialysis_machines,
        dialysis_commands::dialysis_add_machine,
        dialysis_commands::dialysis_rename_machine,
        dialysis_commands::dialysis_set_machine_pool,
        dialysis_commands::dialysis_retire_machine,
        dialysis_commands::dialysis_set_maintenance,
        dialysis_commands::dialysis_end_maintenance,
        dialysis_commands::dialysis_shifts,
        dialysis_commands::dialysis_set_shifts,
        dialysis_commands::dialysis_set_patient,
        dialysis_commands::dialysis_book,
        dialysis_commands::dialysis_cancel,
        dialysis_commands::dialysis_no_show,
        dialysis_commands::dialysis_check_in,
        dialysis_commands::dialysis_complete,
        dialysis_commands::dialysis_unit,
        dialysis_commands::dialysis_set_unit,
        dialysis_commands::dialysis_add_holiday,
        dialysis_commands::dialysis_remove_holiday,
        dialysis_commands::dialysis_online_requests,
        report_commands::report_register,
        report_commands::report_summary,
        report_commands::report_cash,
        report_commands::report_monthly,
        report_commands::report_export,
        report_commands::report_print,
        sync_commands::sync_status,
        sync_commands::sync_now,
        sync_commands::sync_enroll,
        sync_commands::sync_dead_letters,
        admin_commands::staff_accounts,
        admin_commands::staff_set_active,
        admin_commands::staff_reset_pin,
        admin_commands::staff_unlock,
        admin_commands::backup_status,
        admin_commands::backup_now,
        admin_commands::disk_space,
        admin_commands::recovery_status,
        admin_commands::recovery_restore,
        admin_commands::restart_app,
        share_commands::shares_list,
        share_commands::shares_prefill,
        share_commands::shares_register,
        share_commands::shares_counter_qr,
        share_commands::shares_print_poster,
    ])
}

/// Starts the desktop app on the database named by `SWAGAT_DB` or the platform data directory.
pub fn run() {
    let db = swagat_core::paths::db_path(None);
    let _log_guard = swagat_core::logging::init(Some(&swagat_core::paths::log_dir(&db)), "info");
    tracing::info!("starting Swagat {}", env!("CARGO_PKG_VERSION"));
    let state = AppState::open(&db);
    // Sync and backups start at the first login, when the database is unlocked.
    state.enable_services();
    let result = builder()
        .plugin(tauri_plugin_dialog::init())
        .manage(state)
        .run(tauri::generate_context!());
    if let Err(e) = result {
        tracing::error!("the app stopped with an error: {e}");
        eprintln!("Swagat could not start: {e}");
        std::process::exit(1);
    }
}
