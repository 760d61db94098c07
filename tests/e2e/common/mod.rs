//! What every E2E test needs: a WebDriver session on the real app, finding elements by their
//! `data-testid`, typing, scanner bursts and screenshots for people to look at.
#![allow(clippy::unwrap_used, dead_code)]

use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use swagat_tests::artifacts_dir;

/// Opens (creating) the kiosk database at `db` and runs first-run setup of `facility` (the
/// setup form's JSON) with the administrator `admin` / `secret`, as the setup screen would.
pub fn seed_facility(
    db: &std::path::Path,
    facility: serde_json::Value,
    admin: &str,
    secret: &str,
) -> (swagat_core::Kiosk, swagat_core::StaffMember) {
    let kiosk = swagat_core::Kiosk::open(db).unwrap();
    let member = kiosk
        .first_run_setup(&swagat_core::FirstRunSetup {
            facility: serde_json::from_value(facility).unwrap(),
            admin_name: admin.into(),
            admin_secret: secret.into(),
        })
        .unwrap();
    // Setup encrypted the file: `swagat-admin` processes of the test unlock with its recovery key.
    if let Some(rk) = kiosk.recovery_key() {
        swagat_tests::remember_unlock(db, &rk);
    }
    (kiosk, member)
}

/// The UPHC Kankarbagh facility (Patna, code PTN12, kiosk A) the OPD tests use, with Asha as
/// administrator (PIN 246810).
pub fn seed_kankarbagh(db: &std::path::Path) -> swagat_core::Kiosk {
    seed_facility(
        db,
        json!({"name_en": "UPHC Kankarbagh",
            "name_hi": "शहरी प्राथमिक स्वास्थ्य केंद्र कंकड़बाग", "kiosk_letter": "A",
            "facility_code": "PTN12", "state_lgd": 10, "district_lgd": 212}),
        "Asha",
        "246810",
    )
    .0
}

/// One app at a time: each test starts its own Xvfb, tauri-driver and app.
pub static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The element matching the CSS selector `css`, waiting up to 30 s for it to appear.
pub async fn by_css(c: &Client, css: &str) -> fantoccini::elements::Element {
    c.wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("element {css} did not appear: {e}"))
}

/// Clears the field matching `css` and types `text` into it.
pub async fn type_css(c: &Client, css: &str, text: &str) {
    let el = by_css(c, css).await;
    el.clear().await.unwrap();
    type_like_a_person(&el, text).await;
}

/// Waits until the text of the element `id` satisfies `ok` (the UI updates after an async call).
pub async fn wait_text(c: &Client, id: &str, ok: impl Fn(&str) -> bool) -> String {
    let mut last = String::new();
    for _ in 0..100 {
        if let Ok(el) = c.find(Locator::Css(&format!("[data-testid='{id}']"))).await {
            last = el.text().await.unwrap_or_default();
            if ok(&last) {
                return last;
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{id} never showed the expected text; last: {last:?}");
}

/// Waits (up to 5 s) until the focused element is the one with `data-testid` = `id`; fails with
/// what has the focus instead.
pub async fn wait_focused(c: &Client, id: &str) {
    let mut last = String::new();
    for _ in 0..50 {
        let v = c
            .execute(
                "const e = document.activeElement; \
                 return e ? (e.dataset.testid || e.tagName) : '';",
                vec![],
            )
            .await
            .unwrap();
        last = v.as_str().unwrap_or_default().to_owned();
        if last == id {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{id} never had the focus; {last:?} has it");
}

/// The element with `data-testid` = `id`, waiting up to 30 s for it to appear.
pub async fn by_id(c: &Client, id: &str) -> fantoccini::elements::Element {
    match c
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css(&format!("[data-testid='{id}']")))
        .await
    {
        Ok(el) => el,
        Err(e) => {
            // What the screen showed instead, for whoever reads the failure.
            if let Ok(png) = c.screenshot().await {
                let _ = std::fs::write(artifacts_dir().join(format!("failed-{id}.png")), png);
            }
            let text = c
                .find(Locator::Css("body"))
                .await
                .ok()
                .map(|b| async move { b.text().await.unwrap_or_default() });
            let text = match text {
                Some(f) => f.await,
                None => String::new(),
            };
            let tail: String = text
                .chars()
                .rev()
                .take(700)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            panic!("element {id} did not appear: {e}; the screen ended: {tail}")
        }
    }
}

/// Clears the field `id` and types `text` into it.
/// Keys arrive one at a time, [`TYPING_GAP_MS`] apart: WebDriver's own typing is as fast as a
/// USB scanner's burst, and the app's scan detector (rightly) takes such a burst for a scan.
pub async fn type_into(c: &Client, id: &str, text: &str) {
    let el = by_id(c, id).await;
    el.clear().await.unwrap();
    type_like_a_person(&el, text).await;
}

/// Milliseconds between keys when a test types as a person does (the scan detector's
/// threshold starts at 60 ms per key).
pub const TYPING_GAP_MS: u64 = 110;

/// Sends `text` key by key with a person's pace.
pub async fn type_like_a_person(el: &fantoccini::elements::Element, text: &str) {
    for ch in text.chars() {
        el.send_keys(&ch.to_string()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(TYPING_GAP_MS)).await;
    }
}

/// Waits two animation frames (so the last change is painted), then saves a full-page screenshot.
pub async fn screenshot(c: &Client, name: &str) {
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

/// A WebDriver session on the app binary `app` through tauri-driver on `port`.
pub async fn connect(port: u16, app: &std::path::Path) -> Client {
    // Both rustls back ends are linked (fantoccini, reqwest): name one for the process.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), json!("wry"));
    caps.insert("tauri:options".into(), json!({ "application": app }));
    // tauri-driver listens before its WebKitWebDriver is ready: retry the session a few times.
    let mut last = None;
    for _ in 0..10 {
        match ClientBuilder::rustls()
            .unwrap()
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(c) => return c,
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    panic!("no WebDriver session: {last:?}");
}

/// Types `text` the way a USB QR scanner does: one fast burst ending in Enter.
pub async fn scanner_burst(c: &Client, into: &str, text: &str) {
    let el = by_id(c, into).await;
    el.click().await.unwrap();
    el.send_keys(&format!("{text}\u{E007}")).await.unwrap();
}
