//! The TypeScript types the UI receives are generated from the Rust types (ts-rs) into
//! `ui/src/lib/gen/`, and this test keeps the checked-in copy equal to what the Rust types say
//! today, so a field added, renamed or made optional in Rust cannot drift from the UI: the UI's
//! `svelte-check` then fails wherever it no longer fits.
//!
//! After changing a type the UI receives, write the files anew with
//! `SWAGAT_WRITE_TS=1 cargo test -p swagat-core --test ts_types`.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use swagat_core::{backup, config, dialysis, disk, error, inbox, kiosk, lgd, opd, reports};
use swagat_core::{scan, shares, staff, sync_service};
use ts_rs::{Config, TS};

/// Every type a Tauri command hands to the UI (their dependencies come along).
fn export_all(cfg: &Config) -> Result<(), ts_rs::ExportError> {
    error::ErrorReport::export_all(cfg)?;
    staff::StaffMember::export_all(cfg)?;
    staff::StaffAccount::export_all(cfg)?;
    config::FacilityConfig::export_all(cfg)?;
    kiosk::AppStatus::export_all(cfg)?;
    kiosk::HomeSummary::export_all(cfg)?;
    kiosk::PatientRecord::export_all(cfg)?;
    kiosk::CounterSearch::export_all(cfg)?;
    lgd::State::export_all(cfg)?;
    scan::Scanned::export_all(cfg)?;
    opd::patients::PatientInput::export_all(cfg)?;
    opd::register::Registration::export_all(cfg)?;
    opd::register::RegistrationCheck::export_all(cfg)?;
    opd::merge::MergeOutcome::export_all(cfg)?;
    opd::EditedPatient::export_all(cfg)?;
    reports::Register::export_all(cfg)?;
    reports::CashSheet::export_all(cfg)?;
    reports::Summary::export_all(cfg)?;
    reports::Monthly::export_all(cfg)?;
    sync_service::SyncView::export_all(cfg)?;
    sync_service::DeadLetter::export_all(cfg)?;
    sync_service::Enrolled::export_all(cfg)?;
    shares::SharedProfile::export_all(cfg)?;
    shares::SharePrefill::export_all(cfg)?;
    backup::BackupStatus::export_all(cfg)?;
    backup::BackupFile::export_all(cfg)?;
    backup::StartupCheck::export_all(cfg)?;
    disk::DiskSpace::export_all(cfg)?;
    dialysis::WeekView::export_all(cfg)?;
    dialysis::DaySchedule::export_all(cfg)?;
    dialysis::DialysisPatient::export_all(cfg)?;
    dialysis::BookOutcome::export_all(cfg)?;
    dialysis::ChangeOutcome::export_all(cfg)?;
    dialysis::MachineOutcome::export_all(cfg)?;
    dialysis::UnitSettings::export_all(cfg)?;
    dialysis::Holiday::export_all(cfg)?;
    inbox::DialysisRequest::export_all(cfg)?;
    dialysis::UnitSetup::export_all(cfg)?;
    dialysis::PatientSchedule::export_all(cfg)?;
    dialysis::PatientOutcome::export_all(cfg)?;
    dialysis::BookForm::export_all(cfg)?;
    dialysis::PatientForm::export_all(cfg)?;
    kiosk::LoginName::export_all(cfg)?;
    kiosk::VisitDetail::export_all(cfg)?;
    kiosk::PrinterChoice::export_all(cfg)?;
    kiosk::FirstRunSetup::export_all(cfg)?;
    config::ConfigPatch::export_all(cfg)?;
    opd::RegisterRequest::export_all(cfg)?;
    backup::Created::export_all(cfg)?;
    backup::Restored::export_all(cfg)?;
    reports::Exported::export_all(cfg)?;
    shares::CounterQr::export_all(cfg)?;
    shares::ShareRegistration::export_all(cfg)?;
    reports::ReportKind::export_all(cfg)?;
    reports::ExportFormat::export_all(cfg)?;
    Ok(())
}

fn checked_in() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/lib/gen")
}

/// The `.ts` files under `dir` (and its folders, e.g. `serde_json/`), by path relative to it.
fn files(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    collect(dir, "", &mut out);
    out
}

fn collect(dir: &Path, prefix: &str, out: &mut BTreeMap<String, String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = format!("{prefix}{}", e.file_name().to_string_lossy());
        if e.path().is_dir() {
            collect(&e.path(), &format!("{name}/"), out);
        } else if name.ends_with(".ts") {
            out.insert(name, std::fs::read_to_string(e.path()).unwrap());
        }
    }
}

#[test]
fn ui_types_are_generated_from_the_rust_types() {
    let tmp = tempfile::tempdir().unwrap();
    // Integers the UI receives are counts, rupees and epoch milliseconds: all well inside a
    // JavaScript number, and serde_json writes them as numbers, not strings.
    let cfg = Config::new()
        .with_large_int("number")
        .with_out_dir(tmp.path());
    export_all(&cfg).unwrap();
    let fresh = files(tmp.path());
    assert!(fresh.contains_key("SyncView.ts") && fresh.contains_key("ErrorReport.ts"));

    let dir = checked_in();
    if std::env::var_os("SWAGAT_WRITE_TS").is_some() {
        std::fs::create_dir_all(&dir).unwrap();
        for name in files(&dir).keys() {
            std::fs::remove_file(dir.join(name)).unwrap();
        }
        for (name, text) in &fresh {
            let path = dir.join(name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).unwrap();
            }
            std::fs::write(path, text).unwrap();
        }
        return;
    }
    let have = files(&dir);
    let stale: Vec<&String> = have.keys().filter(|k| !fresh.contains_key(*k)).collect();
    let changed: Vec<&String> = fresh
        .iter()
        .filter(|(k, v)| have.get(*k) != Some(v))
        .map(|(k, _)| k)
        .collect();
    assert!(
        stale.is_empty() && changed.is_empty(),
        "ui/src/lib/gen differs from the Rust types (new or changed: {changed:?}; no longer \
         generated: {stale:?}); run SWAGAT_WRITE_TS=1 cargo test -p swagat-core --test ts_types"
    );
}
