//! The Reports screen's commands through Tauri's mock runtime: real core, real SQLite file.
//! Reception and administrators see the books; a dialysis nurse and a logged-out window are
//! refused; an export writes the file the operator chose and is audited.
#![allow(clippy::unwrap_used)]

mod common;

use common::{app, invoke, Win};
use serde_json::json;
use swagat_lib::AppState;

/// A facility with an administrator (logged in), a receptionist and a dialysis nurse, and two
/// registrations today (one cancelled).
fn set_up() -> (
    tempfile::TempDir,
    tauri::App<tauri::test::MockRuntime>,
    Win,
    String,
) {
    let dir = tempfile::tempdir().unwrap();
    let (app, win) = app(AppState::open(&dir.path().join("k.db")));
    invoke(
        &win,
        "first_run_setup",
        json!({"setup": {"facility": {"name_en": "PHC Bihta", "name_hi": "पीएचसी बिहटा",
            "kiosk_letter": "A"}, "admin_name": "Admin", "admin_secret": "135790"}}),
    )
    .unwrap();
    for (name, role, pin) in [
        ("Sunita", "reception", "246802"),
        ("Nurse", "dialysis_nurse", "864200"),
    ] {
        invoke(
            &win,
            "add_staff",
            json!({"staff": {"name": name, "role": role, "secret": pin}}),
        )
        .unwrap();
    }
    let mut visits = Vec::new();
    for name in ["Ram Kumar", "Sita Devi"] {
        let r = invoke(
            &win,
            "register",
            json!({"request": {"department": "GEN",
                "patient": {"name": name, "name_hi": "राम", "gender": "M", "age_years": 30}}}),
        )
        .unwrap();
        visits.push(r["visit_id"].as_str().unwrap().to_owned());
    }
    let kiosk = swagat_core::Kiosk::open(&dir.path().join("k.db")).unwrap();
    kiosk
        .cancel_visit(&swagat_core::Actor::Cli, &visits[1], "duplicate")
        .unwrap();
    let today = invoke(&win, "home_summary", json!({})).unwrap()["date"]
        .as_str()
        .unwrap()
        .to_owned();
    (dir, app, win, today)
}

fn login(win: &Win, name: &str, pin: &str) {
    invoke(win, "logout", json!({})).unwrap();
    invoke(win, "login", json!({"name": name, "secret": pin})).unwrap();
}

#[test]
fn reception_sees_register_summary_cash_and_monthly() {
    let (_dir, _app, win, today) = set_up();
    login(&win, "Sunita", "246802");
    let reg = invoke(&win, "report_register", json!({"date": today})).unwrap();
    assert_eq!(reg["rows"].as_array().unwrap().len(), 2);
    assert_eq!(reg["rows"][1]["cancelled"], true);
    let sum = invoke(&win, "report_summary", json!({"from": today, "to": today})).unwrap();
    assert_eq!(sum["registrations"], 1);
    assert_eq!(sum["cancelled"], 1);
    assert_eq!(sum["by_hour"].as_array().unwrap().len(), 24);
    let cash = invoke(&win, "report_cash", json!({"date": today})).unwrap();
    assert_eq!(cash["staff"][0]["staff"], "Admin");
    assert_eq!(cash["staff"][0]["visits"], 1);
    assert_eq!(cash["refunds"].as_array().unwrap().len(), 1);
    let m = invoke(&win, "report_monthly", json!({"month": &today[..7]})).unwrap();
    assert_eq!(m["items"][0]["value"], 1);
    // Bad input: a clear error in both languages.
    let err = invoke(&win, "report_register", json!({"date": "01/12/2026"})).unwrap_err();
    assert_eq!(err["kind"], "invalid");
    assert!(err["hi"].as_str().unwrap().contains("तारीख"));
}

#[test]
fn export_writes_the_chosen_file_and_is_audited() {
    let (dir, _app, win, today) = set_up();
    let path = dir.path().join("register.csv");
    let r = invoke(
        &win,
        "report_export",
        json!({"kind": "register", "format": "csv", "from": today, "to": today, "path": path}),
    )
    .unwrap();
    assert!(r["bytes"].as_u64().unwrap() > 3);
    let bytes = std::fs::read(&path).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    assert!(String::from_utf8_lossy(&bytes).contains("Ram Kumar"));
    let pdf = dir.path().join("cash.pdf");
    invoke(
        &win,
        "report_export",
        json!({"kind": "cash", "format": "pdf", "from": today, "to": today, "path": pdf}),
    )
    .unwrap();
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF-"));
    let kiosk = swagat_core::Kiosk::open(&dir.path().join("k.db")).unwrap();
    let exports = kiosk
        .audit_log(20)
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "report.export")
        .count();
    assert_eq!(exports, 2);
    // Printing the day sheet with no slip printer set up is a clear error, not a crash.
    let err = invoke(
        &win,
        "report_print",
        json!({"kind": "day_sheet", "date": today}),
    )
    .unwrap_err();
    assert_eq!(err["field"], "printer");
}

#[test]
fn a_dialysis_nurse_and_a_locked_window_are_refused() {
    let (dir, _app, win, today) = set_up();
    login(&win, "Nurse", "864200");
    let path = dir.path().join("x.csv");
    for (cmd, body) in [
        ("report_register", json!({"date": today})),
        ("report_summary", json!({"from": today, "to": today})),
        ("report_cash", json!({"date": today})),
        ("report_monthly", json!({"month": &today[..7]})),
        (
            "report_export",
            json!({"kind": "register", "format": "csv", "from": today, "to": today, "path": path}),
        ),
        ("report_print", json!({"kind": "register", "date": today})),
    ] {
        let err = invoke(&win, cmd, body).unwrap_err();
        assert_eq!(err["kind"], "auth", "{cmd}");
    }
    assert!(!path.exists(), "nothing written");
    invoke(&win, "logout", json!({})).unwrap();
    let err = invoke(&win, "report_register", json!({"date": today})).unwrap_err();
    assert_eq!(err["kind"], "auth");
}
