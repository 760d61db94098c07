//! The dialysis screen's Tauri commands through Tauri's mock runtime (no display, real core, real
//! SQLite): every `dialysis_*` command answers a dialysis nurse, refuses a receptionist and a
//! locked window, and a machine is renamed, re-pooled and retired with the affected patients named.
#![allow(clippy::unwrap_used)]

mod common;

use common::{app, invoke, Win};
use serde_json::{json, Value};
use swagat_lib::AppState;

fn ok(win: &Win, cmd: &str, body: Value) -> Value {
    invoke(win, cmd, body.clone()).unwrap_or_else(|e| panic!("{cmd} {body}: {e}"))
}

/// A facility with a receptionist and a dialysis nurse, two registered patients; the nurse is
/// logged in. Returns the patients' ids.
fn unit() -> (
    tempfile::TempDir,
    tauri::App<tauri::test::MockRuntime>,
    Win,
    Vec<String>,
) {
    let dir = tempfile::tempdir().unwrap();
    let (app, win) = app(AppState::open(&dir.path().join("k.db")));
    ok(
        &win,
        "first_run_setup",
        json!({"setup": {"facility": {"name_en": "Sadar Hospital", "name_hi": "सदर अस्पताल",
            "kiosk_letter": "D"}, "admin_name": "Admin", "admin_secret": "135790"}}),
    );
    let mut ids = Vec::new();
    for name in ["Ramesh Yadav", "Suresh Sahu"] {
        let r = ok(
            &win,
            "register",
            json!({"request": {"department": "GEN",
                "patient": {"name": name, "gender": "M", "age_years": 52, "address": {}}}}),
        );
        ids.push(r["patient_id"].as_str().unwrap().to_owned());
    }
    for (name, role) in [("Meena", "dialysis_nurse"), ("Reena", "reception")] {
        ok(
            &win,
            "add_staff",
            json!({"staff": {"name": name, "role": role, "secret": "246802"}}),
        );
    }
    ok(&win, "logout", json!({}));
    ok(&win, "login", json!({"name": "Meena", "secret": "246802"}));
    (dir, app, win, ids)
}

/// Every dialysis command with arguments it accepts.
fn every_command(patient: &str, today: &str) -> Vec<(&'static str, Value)> {
    vec![
        ("dialysis_day", json!({"day": today})),
        ("dialysis_week", json!({"from": today})),
        ("dialysis_waitlist", json!({"from": null})),
        ("dialysis_machines", json!({})),
        ("dialysis_shifts", json!({})),
        ("dialysis_unit", json!({"from": today})),
        ("dialysis_online_requests", json!({})),
        (
            "dialysis_set_unit",
            json!({"workingDays": "mon,tue,wed,thu,fri,sat,sun", "staleDays": 90}),
        ),
        (
            "dialysis_set_shifts",
            json!({"times": "06:00,10:30", "durationMin": 240}),
        ),
        (
            "dialysis_add_machine",
            json!({"name": "M-1", "pool": "negative"}),
        ),
        (
            "dialysis_rename_machine",
            json!({"machine": "M-1", "name": "HD-1"}),
        ),
        (
            "dialysis_set_machine_pool",
            json!({"machine": "HD-1", "pool": "negative"}),
        ),
        (
            "dialysis_set_maintenance",
            json!({"machine": "HD-1", "from": "2099-01-01", "to": "2099-01-02", "reason": "service"}),
        ),
        (
            "dialysis_end_maintenance",
            json!({"machine": "HD-1", "from": "2099-01-01"}),
        ),
        (
            "dialysis_add_holiday",
            json!({"day": "2099-01-05", "name": "Chhath"}),
        ),
        ("dialysis_remove_holiday", json!({"day": "2099-01-05"})),
        (
            "dialysis_set_patient",
            json!({"form": {"patient_id": patient, "hbsag": "neg", "hcv": "neg",
            "hiv": "neg", "tested_on": today, "vascular_access": "avf", "dry_weight_kg": 60.5}}),
        ),
        (
            "dialysis_patient_schedule",
            json!({"patientId": patient, "from": ""}),
        ),
    ]
}

fn today(win: &Win) -> String {
    ok(win, "dialysis_day", json!({"day": ""}))["date"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn a_receptionist_and_a_locked_window_are_refused_every_dialysis_command() {
    let (_dir, _app, win, ids) = unit();
    let today = today(&win);
    ok(&win, "logout", json!({}));
    let mut cmds = every_command(&ids[0], &today);
    cmds.extend([
        ("dialysis_retire_machine", json!({"machine": "HD-1"})),
        (
            "dialysis_book",
            json!({"form": {"patient_id": ids[0], "date": today, "shift": 1}}),
        ),
        ("dialysis_cancel", json!({"bookingId": "x", "reason": null})),
        ("dialysis_no_show", json!({"bookingId": "x"})),
        (
            "dialysis_check_in",
            json!({"bookingId": "x", "preWeightKg": null}),
        ),
        (
            "dialysis_complete",
            json!({"bookingId": "x", "preWeightKg": null, "postWeightKg": null}),
        ),
    ]);
    for (cmd, body) in &cmds {
        let err = invoke(&win, cmd, body.clone()).unwrap_err();
        assert_eq!(err["kind"], "auth", "{cmd} with nobody logged in");
    }
    ok(&win, "login", json!({"name": "Reena", "secret": "246802"}));
    for (cmd, body) in &cmds {
        let err = invoke(&win, cmd, body.clone()).unwrap_err();
        assert_eq!(err["kind"], "auth", "{cmd} as a receptionist: {err}");
        assert!(err["hi"].as_str().is_some_and(|h| !h.is_empty()));
    }
    // Nothing was changed by the refused calls.
    ok(&win, "logout", json!({}));
    ok(&win, "login", json!({"name": "Meena", "secret": "246802"}));
    assert_eq!(ok(&win, "dialysis_machines", json!({})), json!([]));
}

#[test]
fn a_nurse_runs_every_dialysis_command_and_the_session_through_the_core() {
    let (_dir, _app, win, ids) = unit();
    let today = today(&win);
    for (cmd, body) in every_command(&ids[0], &today) {
        ok(&win, cmd, body);
    }
    ok(
        &win,
        "dialysis_set_patient",
        json!({"form": {"patient_id": ids[1], "hbsag": "neg", "hcv": "neg", "hiv": "neg",
            "tested_on": today}}),
    );
    // An empty pattern and an empty priority are "one date, normal priority".
    let b = ok(
        &win,
        "dialysis_book",
        json!({"form": {"patient_id": ids[0], "date": today, "shift": 1, "repeat": "", "weeks": null,
            "priority": null}}),
    );
    let id = b["bookings"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(b["bookings"][0]["machine"], "HD-1");
    ok(
        &win,
        "dialysis_check_in",
        json!({"bookingId": id, "preWeightKg": 62.4}),
    );
    let done = ok(
        &win,
        "dialysis_complete",
        json!({"bookingId": id, "preWeightKg": null, "postWeightKg": 60.1}),
    );
    assert_eq!(done["booking"]["status"], "completed");
    let later = ok(
        &win,
        "dialysis_book",
        json!({"form": {"patient_id": ids[1], "date": today, "shift": 2}}),
    );
    let later_id = later["bookings"][0]["id"].as_str().unwrap().to_owned();
    ok(&win, "dialysis_no_show", json!({"bookingId": later_id}));
    let again = ok(
        &win,
        "dialysis_book",
        json!({"form": {"patient_id": ids[1], "date": today, "shift": 1, "repeat": "mon,tue,wed,thu,fri,sat,sun", "weeks": 1}}),
    );
    let first = again["bookings"].as_array().unwrap().len();
    assert!(first >= 6, "{again}");
    let cancel_id = again["bookings"][1]["id"].as_str().unwrap().to_owned();
    let c = ok(
        &win,
        "dialysis_cancel",
        json!({"bookingId": cancel_id, "reason": "travel"}),
    );
    assert_eq!(c["booking"]["status"], "cancelled");

    // Re-pool HD-1 to HBV: Suresh's future sessions cannot stay; no other machine, so they wait,
    // and the answer names him.
    let out = ok(
        &win,
        "dialysis_set_machine_pool",
        json!({"machine": "HD-1", "pool": "hbv"}),
    );
    let affected = out["affected"].as_array().unwrap();
    assert!(!affected.is_empty(), "{out}");
    assert!(affected
        .iter()
        .all(|a| a["patient_name"] == "Suresh Sahu" && a["status"] == "waitlisted"));
    // Back to negative: the waitlist is served again. Then retired: they wait again, HD-1 leaves
    // the board and takes no booking.
    let back = ok(
        &win,
        "dialysis_set_machine_pool",
        json!({"machine": "HD-1", "pool": "negative"}),
    );
    assert!(!back["moves"].as_array().unwrap().is_empty());
    let out = ok(&win, "dialysis_retire_machine", json!({"machine": "HD-1"}));
    assert_eq!(out["machine"]["active"], false);
    assert!(!out["affected"].as_array().unwrap().is_empty());
    let tomorrow_board = ok(
        &win,
        "dialysis_day",
        json!({"day": again["bookings"][2]["date"]}),
    );
    assert_eq!(tomorrow_board["machines"], json!([]), "{tomorrow_board}");
    // Today's board still shows HD-1, retired, with Ramesh's completed session on it.
    let board = ok(&win, "dialysis_day", json!({"day": today}));
    assert_eq!(board["machines"][0]["retired"], true, "{board}");
    let err = invoke(&win, "dialysis_retire_machine", json!({"machine": "HD-1"})).unwrap_err();
    assert_eq!(err["kind"], "invalid");
    let err = invoke(
        &win,
        "dialysis_rename_machine",
        json!({"machine": "HD-1", "name": " "}),
    )
    .unwrap_err();
    assert_eq!(err["kind"], "invalid");
    assert!(err["hi"].as_str().unwrap().contains("मशीन"));

    // Every change above is in the audit log under the nurse's name, with its action.
    let kiosk = swagat_core::Kiosk::open(&_dir.path().join("k.db")).unwrap();
    let meena = kiosk.staff_id("Meena").unwrap();
    let log = kiosk.audit_log(500).unwrap();
    use swagat_core::dialysis::actions as a;
    for action in [
        a::SETTINGS,
        a::SHIFTS_SET,
        a::MACHINE_ADD,
        a::MACHINE_RENAME,
        a::MACHINE_POOL,
        a::MACHINE_RETIRE,
        a::MAINTENANCE,
        a::IN_SERVICE,
        a::HOLIDAY_ADD,
        a::HOLIDAY_REMOVE,
        a::PATIENT_CREATE,
        a::BOOK,
        a::CHECK_IN,
        a::COMPLETE,
        a::NO_SHOW,
        a::CANCEL,
        a::DISPLACE,
        a::PROMOTE,
    ] {
        assert!(
            log.iter()
                .any(|e| e.action == action && e.actor == format!("staff:{meena}")),
            "{action} audited as the nurse"
        );
    }
    // Re-pooling to the pool it already has changed nothing and wrote nothing.
    assert_eq!(
        log.iter().filter(|e| e.action == a::MACHINE_POOL).count(),
        2
    );
}
