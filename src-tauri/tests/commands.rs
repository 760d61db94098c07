//! The app's Tauri commands through Tauri's mock runtime: no display, real core, real SQLite.
#![allow(clippy::unwrap_used)]

mod common;

use common::{app, invoke};
use serde_json::{json, Value};
use swagat_lib::AppState;

fn fresh() -> (tempfile::TempDir, AppState) {
    let dir = tempfile::tempdir().unwrap();
    let state = AppState::open(&dir.path().join("k.db"));
    (dir, state)
}

/// First-run setup of `facility` with the administrator "Admin" / 135790 (who is then logged in).
fn set_up_facility(win: &tauri::WebviewWindow<tauri::test::MockRuntime>, facility: Value) {
    invoke(
        win,
        "first_run_setup",
        json!({"setup": {"facility": facility, "admin_name": "Admin", "admin_secret": "135790"}}),
    )
    .unwrap();
}

#[test]
fn first_run_setup_login_and_home() {
    let (_dir, state) = fresh();
    let (_app, win) = app(state);
    let st = invoke(&win, "app_status", json!({})).unwrap();
    assert_eq!(st["first_run"], true);
    assert_eq!(st["staff"], Value::Null);

    // Commands that need a login refuse without one, with both languages.
    let err = invoke(&win, "home_summary", json!({})).unwrap_err();
    assert_eq!(err["kind"], "auth");
    assert!(err["hi"].as_str().unwrap().contains("लॉग इन"));

    let setup = json!({"setup": {
        "facility": {"name_en": "UPHC Kankarbagh", "name_hi": "यूपीएचसी कंकड़बाग", "kiosk_letter": "A",
                     "state_lgd": 10, "district_lgd": 212},
        "admin_name": "Admin", "admin_secret": "135790"}});
    let admin = invoke(&win, "first_run_setup", setup.clone()).unwrap();
    assert_eq!(admin["role"], "admin");
    // Setup logs the administrator in.
    let home = invoke(&win, "home_summary", json!({})).unwrap();
    assert_eq!(home["facility_name_en"], "UPHC Kankarbagh");
    assert!(invoke(&win, "first_run_setup", setup).is_err(), "only once");

    invoke(&win, "logout", json!({})).unwrap();
    let err = invoke(&win, "login", json!({"name": "Admin", "secret": "000000"})).unwrap_err();
    assert_eq!(err["kind"], "auth");
    assert_eq!(err["en"], "wrong name or PIN");
    let me = invoke(&win, "login", json!({"name": "admin", "secret": "135790"})).unwrap();
    assert_eq!(me["name"], "Admin");
    let st = invoke(&win, "app_status", json!({})).unwrap();
    assert_eq!(st["staff"]["name"], "Admin");
}

#[test]
fn the_first_login_after_boot_unlocks_the_encrypted_database() {
    let (dir, state) = fresh();
    let db = dir.path().join("k.db");
    {
        let (_app, win) = app(state);
        set_up_facility(
            &win,
            json!({"name_en": "PHC Bihta", "name_hi": "पीएचसी बिहटा", "kiosk_letter": "A"}),
        );
        invoke(
            &win,
            "add_staff",
            json!({"staff": {"name": "Sunita", "role": "reception", "secret": "246802"}}),
        )
        .unwrap();
    }
    assert!(
        swagat_core::crypt::is_encrypted(&db),
        "setup encrypted the file"
    );

    // Boot: a new process knows no key. The app opens locked; the login screen has its names.
    swagat_core::crypt::forget(&db);
    let (_app, win) = app(AppState::open(&db));
    let st = invoke(&win, "app_status", json!({})).unwrap();
    assert_eq!(
        (st["locked"].as_bool(), st["first_run"].as_bool()),
        (Some(true), Some(false))
    );
    assert_eq!(st["facility_name_en"], "PHC Bihta");
    let names = invoke(&win, "login_names", json!({})).unwrap();
    let mut names: Vec<&str> = names
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["Admin", "Sunita"]);
    let err = invoke(&win, "login", json!({"name": "Sunita", "secret": "246803"})).unwrap_err();
    assert_eq!(err["en"], "wrong name or PIN");
    assert_eq!(
        invoke(&win, "app_status", json!({})).unwrap()["locked"],
        true
    );
    // Reception's PIN unlocks; the kiosk then works as before.
    invoke(&win, "login", json!({"name": "Sunita", "secret": "246802"})).unwrap();
    let st = invoke(&win, "app_status", json!({})).unwrap();
    assert_eq!(
        (st["locked"].as_bool(), st["staff"]["name"].as_str()),
        (Some(false), Some("Sunita"))
    );
    let home = invoke(&win, "home_summary", json!({})).unwrap();
    assert_eq!(home["facility_name_en"], "PHC Bihta");
}

#[test]
fn settings_need_an_admin_and_validate() {
    let (_dir, state) = fresh();
    let (_app, win) = app(state);
    set_up_facility(
        &win,
        json!({"name_en": "DH Jagdalpur", "name_hi": "जिला अस्पताल जगदलपुर", "kiosk_letter": "B"}),
    );
    let r = invoke(
        &win,
        "add_staff",
        json!({"staff": {"name": "Sunita", "role": "reception", "secret": "246802"}}),
    )
    .unwrap();
    assert_eq!(r["role"], "reception");
    let err = invoke(
        &win,
        "update_config",
        json!({"patch": {"kiosk_letter": "12"}}),
    )
    .unwrap_err();
    assert_eq!(err["kind"], "invalid");
    assert_eq!(err["field"], "kiosk_letter");
    let cfg = invoke(
        &win,
        "update_config",
        json!({"patch": {"idle_lock_minutes": 10}}),
    )
    .unwrap();
    assert_eq!(cfg["idle_lock_minutes"], 10);

    invoke(&win, "logout", json!({})).unwrap();
    invoke(&win, "login", json!({"name": "Sunita", "secret": "246802"})).unwrap();
    let err = invoke(&win, "update_config", json!({"patch": {"address": "x"}})).unwrap_err();
    assert_eq!(err["kind"], "auth", "reception may not change settings");
    assert!(invoke(&win, "list_staff", json!({})).is_err());
    assert!(invoke(&win, "home_summary", json!({})).is_ok());
}

#[test]
fn a_database_from_a_newer_app_is_reported_not_crashed() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("k.db");
    drop(swagat_core::Kiosk::open(&db).unwrap());
    let conn = swagat_core::store::open_connection(&db).unwrap();
    conn.pragma_update(None, "user_version", 999).unwrap();
    drop(conn);
    let (_app, win) = app(AppState::open(&db));
    let err = invoke(&win, "app_status", json!({})).unwrap_err();
    assert_eq!(err["kind"], "other");
    assert!(err["en"].as_str().unwrap().contains("newer"));
}

#[test]
fn sync_status_enrollment_and_dead_letters_through_commands() {
    let (_dir, state) = fresh();
    let (_app, win) = app(state);
    set_up_facility(
        &win,
        json!({"name_en": "PHC Bihta", "name_hi": "पीएचसी बिहटा", "kiosk_letter": "A"}),
    );

    // Before enrollment: local only, nothing refused; no login needed to read the strip.
    let v = invoke(&win, "sync_status", json!({})).unwrap();
    assert_eq!(
        (&v["enrolled"], &v["online"], &v["problem"]),
        (&json!(false), &json!(false), &json!("not_enrolled"))
    );
    assert_eq!(
        invoke(&win, "sync_dead_letters", json!({})).unwrap(),
        json!([])
    );

    // A server nobody listens on: a clear error in both languages, and still not enrolled.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = invoke(
        &win,
        "sync_enroll",
        json!({"server": format!("http://127.0.0.1:{port}"), "code": "ABCD-1234"}),
    )
    .unwrap_err();
    assert!(err["en"].as_str().unwrap().contains("unreachable"), "{err}");
    assert!(err["hi"].as_str().unwrap().contains("सर्वर"), "{err}");
    let err = invoke(&win, "sync_enroll", json!({"server": " ", "code": ""})).unwrap_err();
    assert_eq!(err["kind"], "invalid");
    assert_eq!(
        invoke(&win, "sync_status", json!({})).unwrap()["enrolled"],
        false
    );

    // Reception staff may look, but not enroll or read the refused records.
    invoke(
        &win,
        "add_staff",
        json!({"staff": {"name": "Rani", "role": "reception", "secret": "246802"}}),
    )
    .unwrap();
    invoke(&win, "logout", json!({})).unwrap();
    invoke(&win, "login", json!({"name": "Rani", "secret": "246802"})).unwrap();
    let err = invoke(
        &win,
        "sync_enroll",
        json!({"server": "http://127.0.0.1:9", "code": "X"}),
    )
    .unwrap_err();
    assert_eq!(err["kind"], "auth");
    assert_eq!(
        invoke(&win, "sync_dead_letters", json!({})).unwrap_err()["kind"],
        "auth"
    );
    assert!(invoke(&win, "sync_now", json!({})).is_ok());
}

#[test]
fn a_dialysis_nurse_can_find_registered_patients_to_book() {
    let (_dir, state) = fresh();
    let (_app, win) = app(state);
    set_up_facility(
        &win,
        json!({"name_en": "Sadar Hospital", "name_hi": "सदर अस्पताल", "kiosk_letter": "D"}),
    );
    invoke(
        &win,
        "register",
        json!({"request": {"department": "GEN",
            "patient": {"name": "Ramesh Yadav", "gender": "M", "age_years": 52, "address": {}}}}),
    )
    .unwrap();
    invoke(
        &win,
        "add_staff",
        json!({"staff": {"name": "Meena", "role": "dialysis_nurse", "secret": "246802"}}),
    )
    .unwrap();
    invoke(&win, "logout", json!({})).unwrap();
    invoke(&win, "login", json!({"name": "Meena", "secret": "246802"})).unwrap();
    let found = invoke(&win, "search_patients", json!({"query": "ramesh"})).unwrap();
    assert_eq!(found["patients"][0]["name"], "Ramesh Yadav", "{found}");
    // Registration itself stays with reception.
    let err = invoke(
        &win,
        "register",
        json!({"request": {"department": "GEN",
            "patient": {"name": "Someone Else", "gender": "F", "age_years": 30, "address": {}}}}),
    )
    .unwrap_err();
    assert_eq!(err["kind"], "auth");
}

#[test]
fn patient_record_edit_and_merge_with_roles() {
    let (_dir, state) = fresh();
    let (_app, win) = app(state);
    set_up_facility(
        &win,
        json!({"name_en": "UPHC Kankarbagh", "kiosk_letter": "A"}),
    );
    invoke(
        &win,
        "add_staff",
        json!({"staff": {"name": "Reena", "role": "reception", "secret": "246802"}}),
    )
    .unwrap();
    invoke(&win, "logout", json!({})).unwrap();
    invoke(&win, "login", json!({"name": "Reena", "secret": "246802"})).unwrap();

    let reg = |p: Value| {
        invoke(
            &win,
            "register",
            json!({"request": {"department": "GEN", "patient": p}}),
        )
        .unwrap()
    };
    let a =
        reg(json!({"name": "Sunita Devi", "gender": "F", "age_years": 40, "mobile": "9876543210"}));
    let b = reg(json!({"name": "Sunita Devee", "gender": "F", "age_years": 41}));
    let (a_id, b_id) = (a["patient_id"].clone(), b["patient_id"].clone());

    let rec = invoke(&win, "patient_record", json!({"patientId": a_id})).unwrap();
    assert_eq!(rec["patient"]["mobile"], "9876543210");
    assert_eq!(rec["visits"].as_array().unwrap().len(), 1);
    assert_eq!(rec["redirected_from"], Value::Null);

    let e = invoke(
        &win,
        "edit_patient",
        json!({"patientId": a_id, "patch": {"mobile": "9123456780"}}),
    )
    .unwrap();
    assert_eq!(e["mobile"], "9123456780");
    assert_eq!(e["changed_fields"], json!(["mobile"]));
    let err = invoke(
        &win,
        "edit_patient",
        json!({"patientId": a_id, "patch": {"mobile": "123"}}),
    )
    .unwrap_err();
    assert_eq!(err["kind"], "invalid");
    assert_eq!(err["field"], "mobile");
    assert!(!err["hi"].as_str().unwrap().is_empty());

    // Reception may not merge.
    let err = invoke(
        &win,
        "merge_patients",
        json!({"keepId": a_id, "duplicateId": b_id}),
    )
    .unwrap_err();
    assert_eq!(err["kind"], "auth");

    invoke(&win, "logout", json!({})).unwrap();
    invoke(&win, "login", json!({"name": "Admin", "secret": "135790"})).unwrap();
    let m = invoke(
        &win,
        "merge_patients",
        json!({"keepId": a_id, "duplicateId": b_id}),
    )
    .unwrap();
    assert_eq!(m["visits_moved"], 1);
    let rec = invoke(&win, "patient_record", json!({"patientId": b_id})).unwrap();
    assert_eq!(
        rec["patient"]["id"], a_id,
        "the duplicate opens the kept record"
    );
    assert_eq!(rec["redirected_from"], b_id);
    assert_eq!(rec["visits"].as_array().unwrap().len(), 2);
    let found = invoke(&win, "search_patients", json!({"query": "sunita"})).unwrap();
    assert!(found["patients"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["id"] != b_id));
}

#[test]
fn a_scan_shows_the_aadhaar_photo_as_png() {
    let (_dir, state) = fresh();
    let (_app, win) = app(state);
    set_up_facility(
        &win,
        json!({"name_en": "UPHC Kankarbagh", "kiosk_letter": "A"}),
    );
    let raw = include_str!("../identity/tests/data/aadhaar_secure_qr_uidai_sample_2019.txt");
    let s = invoke(&win, "scan_qr", json!({"raw": raw})).unwrap();
    assert!(s["photo_png"]
        .as_str()
        .unwrap()
        .starts_with("data:image/png;base64,"));
    assert_eq!(s["photo_note"], Value::Null);
}

/// The counter's reads and the slip commands: each needs the right session, and answers with it.
#[test]
fn the_counter_commands_check_the_session_and_answer() {
    let (_dir, state) = fresh();
    let (_app, win) = app(state);
    set_up_facility(
        &win,
        json!({"name_en": "UPHC Kankarbagh", "name_hi": "यूपीएचसी कंकड़बाग", "kiosk_letter": "A",
               "state_lgd": 10, "district_lgd": 212}),
    );
    assert_eq!(invoke(&win, "whoami", json!({})).unwrap()["name"], "Admin");
    assert_eq!(
        invoke(&win, "get_config", json!({})).unwrap()["name_en"],
        "UPHC Kankarbagh"
    );
    let states = invoke(&win, "lgd_states", json!({})).unwrap();
    assert!(states
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["state_code"] == 10));
    invoke(
        &win,
        "add_staff",
        json!({"staff": {"name": "Reena", "role": "reception", "secret": "246802"}}),
    )
    .unwrap();
    invoke(&win, "logout", json!({})).unwrap();
    assert_eq!(
        invoke(&win, "whoami", json!({})).unwrap_err()["kind"],
        "auth"
    );
    assert_eq!(
        invoke(&win, "get_config", json!({})).unwrap_err()["kind"],
        "auth"
    );
    // The login screen lists the names to tap, without a session and without PINs.
    let names = invoke(&win, "login_names", json!({})).unwrap();
    let names: Vec<&str> = names
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2);
    assert!(names.contains(&"Reena") && names.contains(&"Admin"));
    assert!(!invoke(&win, "login_names", json!({}))
        .unwrap()
        .to_string()
        .contains("secret"));

    invoke(&win, "login", json!({"name": "Reena", "secret": "246802"})).unwrap();
    let patient = json!({"name": "Kamla Devi", "gender": "F", "age_years": 40,
                         "mobile": "9876501234", "address": {"locality": "Kankarbagh"}});
    let check = invoke(
        &win,
        "check_registration",
        json!({"request": {"department": "GEN", "patient": patient}}),
    )
    .unwrap();
    assert_eq!(check["problems"], json!([]));
    assert_eq!(check["repeat_today"], false);
    let bad = invoke(
        &win,
        "check_registration",
        json!({"request": {"department": "GEN", "patient": {"name": "", "gender": "X", "address": {}}}}),
    )
    .unwrap();
    assert!(
        bad["problems"].as_array().unwrap().len() >= 2,
        "every problem at once: {bad}"
    );
    let reg = invoke(
        &win,
        "register",
        json!({"request": {"department": "GEN", "patient": patient}}),
    )
    .unwrap();
    let visit_id = reg["visit_id"].as_str().unwrap();
    let again = invoke(
        &win,
        "check_registration",
        json!({"request": {"department": "GEN", "patient_id": reg["patient_id"]}}),
    )
    .unwrap();
    assert_eq!(
        again["repeat_today"], true,
        "a second GEN token today is asked first"
    );

    let detail = invoke(&win, "visit_detail", json!({"visitId": visit_id})).unwrap();
    assert_eq!(detail["visit"]["token"], reg["token"]);
    assert_eq!(detail["patient"]["name"], "Kamla Devi");
    let preview = invoke(&win, "slip_preview", json!({"visitId": visit_id})).unwrap();
    assert!(preview
        .as_str()
        .unwrap()
        .starts_with("data:image/png;base64,"));
    // No printer set up yet: a clear, bilingual refusal, and nothing counted.
    let err = invoke(&win, "print_slip", json!({"visitId": visit_id})).unwrap_err();
    assert_eq!(err["field"], "printer", "{err}");
    assert!(err["hi"].as_str().unwrap().contains("प्रिंटर"));
    let detail = invoke(&win, "visit_detail", json!({"visitId": visit_id})).unwrap();
    assert_eq!(detail["visit"]["prints"], 0);
    // Printers are an administrator's business.
    assert_eq!(
        invoke(&win, "list_printers", json!({})).unwrap_err()["kind"],
        "auth"
    );
    assert_eq!(
        invoke(
            &win,
            "test_print",
            json!({"printer": "SwagatPDF", "format": "pdf_a6"})
        )
        .unwrap_err()["kind"],
        "auth"
    );
    let full = invoke(&win, "set_fullscreen", json!({"fullscreen": true})).unwrap();
    assert!(full.is_boolean());

    invoke(&win, "logout", json!({})).unwrap();
    invoke(&win, "login", json!({"name": "Admin", "secret": "135790"})).unwrap();
    let bad = invoke(
        &win,
        "test_print",
        json!({"printer": "SwagatPDF", "format": "pdf_a5"}),
    )
    .unwrap_err();
    assert_eq!(bad["field"], "printer_format");
    if let Ok(printer) = std::env::var("SWAGAT_TEST_PRINTER") {
        // Real CUPS (CI sets it up): the queues are listed, a stopped one refuses the test print
        // with its problem code, the working one prints.
        let found = invoke(&win, "list_printers", json!({})).unwrap();
        assert!(
            found
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["name"] == printer.as_str()),
            "{found}"
        );
        let err = invoke(
            &win,
            "test_print",
            json!({"printer": format!("{printer}Stopped"), "format": "pdf_a6"}),
        )
        .unwrap_err();
        assert_eq!(
            err["problem"],
            json!({"area": "print", "code": "stopped"}),
            "{err}"
        );
        let job = invoke(
            &win,
            "test_print",
            json!({"printer": printer, "format": "pdf_a6"}),
        )
        .unwrap();
        assert!(job.as_str().unwrap().starts_with(&printer), "{job}");
    } else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI must set SWAGAT_TEST_PRINTER (src-tauri/slip/scripts/setup-cups-pdf.sh)"
        );
    }
}
