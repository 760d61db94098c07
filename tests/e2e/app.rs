//! End to end: the real desktop app under Xvfb, driven through tauri-driver and WebKitWebDriver.
//!
//! First run → setup → home → lock → login → home, on a fresh SQLite file; screenshots of each
//! screen are saved in `tests/artifacts/` for people to look at.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use swagat_tests::{app_binary, artifacts_dir, start_tauri_driver, start_xvfb};

async fn by_id(c: &Client, id: &str) -> fantoccini::elements::Element {
    c.wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css(&format!("[data-testid='{id}']")))
        .await
        .unwrap_or_else(|e| panic!("element {id} did not appear: {e}"))
}

async fn type_into(c: &Client, id: &str, text: &str) {
    let el = by_id(c, id).await;
    el.clear().await.unwrap();
    el.send_keys(text).await.unwrap();
}

/// Waits two animation frames (so the last change is painted), then saves a full-page screenshot.
async fn screenshot(c: &Client, name: &str) {
    c.execute_async(
        "const done = arguments[arguments.length - 1]; requestAnimationFrame(() => requestAnimationFrame(() => done()));",
        vec![],
    )
    .await
    .unwrap();
    let png = c.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
    std::fs::write(artifacts_dir().join(format!("{name}.png")), png).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_run_setup_login_and_home_in_the_real_app() {
    let app = app_binary().unwrap();
    let data = tempfile::tempdir().unwrap();
    let db = data.path().join("kiosk.db");
    let (display, _xvfb) = start_xvfb().unwrap();
    let (port, _driver) = start_tauri_driver(&display, &[("SWAGAT_DB", &db)]).unwrap();

    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), json!("wry"));
    caps.insert("tauri:options".into(), json!({ "application": app }));
    let client = ClientBuilder::rustls()
        .unwrap()
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .unwrap();

    // First run: the setup screen.
    by_id(&client, "setup-form").await;
    screenshot(&client, "01-setup").await;
    type_into(&client, "setup-name-en", "UPHC Kankarbagh").await;
    type_into(&client, "setup-name-hi", "शहरी प्राथमिक स्वास्थ्य केंद्र कंकड़बाग").await;
    by_id(&client, "setup-state").await.select_by_value("10").await.unwrap();
    by_id(&client, "setup-district").await.select_by_value("212").await.unwrap();
    type_into(&client, "setup-letter", "A").await;
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
    assert!(staff.contains("Admin"), "status strip shows who is logged in: {staff}");
    by_id(&client, "status-strip").await;
    screenshot(&client, "02-home-hi").await;

    // The language switch changes every string.
    by_id(&client, "lang-switch").await.click().await.unwrap();
    let register = by_id(&client, "home-register").await.text().await.unwrap();
    assert_eq!(register, "New registration");
    screenshot(&client, "03-home-en").await;

    // Lock, then a wrong PIN is refused and the right one lets us in again.
    by_id(&client, "home-lock").await.click().await.unwrap();
    by_id(&client, "login-form").await;
    type_into(&client, "login-name", "Admin").await;
    type_into(&client, "login-pin", "000000").await;
    by_id(&client, "login-submit").await.click().await.unwrap();
    let err = by_id(&client, "login-error").await.text().await.unwrap();
    assert!(err.contains("wrong name or PIN"), "{err}");
    type_into(&client, "login-pin", "135790").await;
    by_id(&client, "login-submit").await.click().await.unwrap();
    by_id(&client, "home").await;
    screenshot(&client, "04-home-after-login").await;

    client.close().await.unwrap();

    // What the UI did is in the database, through the same core the CLI uses.
    let kiosk = swagat_core::Kiosk::open(&db).unwrap();
    let cfg = kiosk.config().unwrap();
    assert_eq!(cfg.settings.kiosk_letter.as_deref(), Some("A"));
    assert_eq!(cfg.settings.district_lgd, Some(212));
    let actions: Vec<String> = kiosk.audit_log(50).unwrap().into_iter().map(|e| e.action).collect();
    assert!(actions.contains(&"staff.login_failed".to_owned()));
    assert!(actions.contains(&"config.first_run".to_owned()));
}
