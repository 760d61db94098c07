//! Tauri commands: each checks the session where needed and makes one core call.

use swagat_core::config::{ConfigPatch, FacilityConfig};
use swagat_core::{
    Actor, AppStatus, ErrorReport, FirstRunSetup, HomeSummary, NewStaff, Role, StaffMember,
};
use tauri::State;

use crate::state::AppState;

type CmdResult<T> = Result<T, ErrorReport>;

fn report(e: swagat_core::CoreError) -> ErrorReport {
    ErrorReport::from(&e)
}

#[tauri::command(async)]
pub fn app_status(state: State<'_, AppState>) -> CmdResult<AppStatus> {
    let kiosk = state.kiosk()?.status().map_err(report)?;
    Ok(AppStatus {
        kiosk,
        staff: state.require(&[]).ok(),
    })
}

#[tauri::command(async)]
pub fn first_run_setup(state: State<'_, AppState>, setup: FirstRunSetup) -> CmdResult<StaffMember> {
    let admin = state.kiosk()?.first_run_setup(&setup).map_err(report)?;
    state.session().start(admin.clone());
    state.after_login();
    Ok(admin)
}

#[tauri::command(async)]
pub fn login(state: State<'_, AppState>, name: String, secret: String) -> CmdResult<StaffMember> {
    // A locked (encrypted) database is unlocked by this login; sync starts then.
    let member = state.kiosk()?.login(&name, &secret).map_err(report)?;
    state.session().start(member.clone());
    state.after_login();
    Ok(member)
}

#[tauri::command]
pub fn logout(state: State<'_, AppState>) {
    state.session().end();
}

#[tauri::command]
pub fn whoami(state: State<'_, AppState>) -> CmdResult<StaffMember> {
    state.require(&[])
}

#[tauri::command(async)]
pub fn home_summary(state: State<'_, AppState>) -> CmdResult<HomeSummary> {
    state.require(&[])?;
    state.kiosk()?.home_summary().map_err(report)
}

#[tauri::command(async)]
pub fn get_config(state: State<'_, AppState>) -> CmdResult<FacilityConfig> {
    state.require(&[])?;
    state.kiosk()?.config().map_err(report)
}

#[tauri::command(async)]
pub fn update_config(state: State<'_, AppState>, patch: ConfigPatch) -> CmdResult<FacilityConfig> {
    let me = state.require(&[Role::Admin])?;
    state
        .kiosk()?
        .update_config(&Actor::Staff(me.id), &patch)
        .map_err(report)
}

#[tauri::command(async)]
pub fn list_staff(state: State<'_, AppState>) -> CmdResult<Vec<StaffMember>> {
    state.require(&[Role::Admin])?;
    state.kiosk()?.staff().map_err(report)
}

#[tauri::command(async)]
pub fn add_staff(state: State<'_, AppState>, staff: NewStaff) -> CmdResult<StaffMember> {
    let me = state.require(&[Role::Admin])?;
    state
        .kiosk()?
        .add_staff(&Actor::Staff(me.id), &staff)
        .map_err(report)
}

/// LGD states and districts for the setup screen's pickers.
#[tauri::command]
pub fn lgd_states() -> &'static [swagat_core::lgd::State] {
    swagat_core::lgd::states()
}

/// Decodes a scanned QR code into form fields, the document kind and the signature result.
#[tauri::command(async)]
pub fn scan_qr(state: State<'_, AppState>, raw: String) -> CmdResult<swagat_core::scan::Scanned> {
    state.require(&[Role::Reception])?;
    state.kiosk()?.scan(&raw).map_err(report)
}

/// Registers a visit for a new or returning patient.
#[tauri::command(async)]
pub fn register(
    state: State<'_, AppState>,
    request: swagat_core::opd::RegisterRequest,
) -> CmdResult<swagat_core::opd::Registration> {
    let me = state.require(&[Role::Reception])?;
    state
        .kiosk()?
        .register(&Actor::Staff(me.id), &request)
        .map_err(report)
}

/// Finds returning patients: 20 shown, whether more match, and each one's last visit.
#[tauri::command(async)]
pub fn search_patients(
    state: State<'_, AppState>,
    query: String,
) -> CmdResult<swagat_core::kiosk::CounterSearch> {
    state.require(&[Role::Reception, Role::DialysisNurse])?;
    state.kiosk()?.counter_search(&query, 20).map_err(report)
}

/// A visit and its patient.
#[tauri::command(async)]
pub fn visit_detail(
    state: State<'_, AppState>,
    visit_id: String,
) -> CmdResult<swagat_core::kiosk::VisitDetail> {
    state.require(&[])?;
    state.kiosk()?.visit_detail(&visit_id).map_err(report)
}

/// The slip as the thermal printer would print it, as a PNG data URL for the preview.
#[tauri::command(async)]
pub fn slip_preview(state: State<'_, AppState>, visit_id: String) -> CmdResult<String> {
    use base64::Engine as _;
    state.require(&[])?;
    let png = state
        .kiosk()?
        .slip_preview(&visit_id, swagat_core::slip::SlipFormat::Png)
        .map_err(report)?;
    Ok(format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(png)
    ))
}

/// Prints the slip on the configured printer (counted; reprints audited and marked).
#[tauri::command(async)]
pub fn print_slip(state: State<'_, AppState>, visit_id: String) -> CmdResult<Option<String>> {
    let me = state.require(&[Role::Reception])?;
    state
        .kiosk()?
        .print_slip(&Actor::Staff(me.id), &visit_id)
        .map_err(report)
}

/// Puts the window in or out of fullscreen (F11; the choice is remembered by the UI).
#[tauri::command]
pub fn set_fullscreen<R: tauri::Runtime>(
    window: tauri::WebviewWindow<R>,
    fullscreen: bool,
) -> CmdResult<bool> {
    window
        .set_fullscreen(fullscreen)
        .and_then(|()| window.is_fullscreen())
        .map_err(|e| ErrorReport::from(&swagat_core::CoreError::Io(std::io::Error::other(e))))
}

/// Opens a patient record (a merged-away id lands on the kept patient).
#[tauri::command(async)]
pub fn patient_record(
    state: State<'_, AppState>,
    patient_id: String,
) -> CmdResult<swagat_core::kiosk::PatientRecord> {
    state.require(&[Role::Reception])?;
    state
        .kiosk()?
        .patient_record(&patient_id, 50)
        .map_err(report)
}

/// Corrects a patient's details (audited).
#[tauri::command(async)]
pub fn edit_patient(
    state: State<'_, AppState>,
    patient_id: String,
    patch: swagat_core::opd::PatientPatch,
) -> CmdResult<swagat_core::opd::EditedPatient> {
    let me = state.require(&[Role::Reception])?;
    state
        .kiosk()?
        .edit_patient(&Actor::Staff(me.id), &patient_id, &patch)
        .map_err(report)
}

/// Merges a duplicate record into the kept one (administrators only).
#[tauri::command(async)]
pub fn merge_patients(
    state: State<'_, AppState>,
    keep_id: String,
    duplicate_id: String,
) -> CmdResult<swagat_core::opd::MergeOutcome> {
    let me = state.require(&[Role::Admin])?;
    state
        .kiosk()?
        .merge_patients(&Actor::Staff(me.id), &keep_id, &duplicate_id)
        .map_err(report)
}
