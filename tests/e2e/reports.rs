//! End to end: the Reports screen in the real app (Xvfb, tauri-driver, WebKitWebDriver).
//!
//! Today's registrations (one cancelled) are made through the core; the administrator opens
//! Reports from Home, sees them in the register table (the cancelled one struck through, not
//! counted), the summary and its charts, cash by staff; then exports the register as CSV. The save
//! dialog cannot be driven by WebDriver, so the export command is called in the window with an
//! explicit path, exactly as the screen calls it with the dialog's answer; the file is checked
//! (BOM, tokens) and the export audited. Screenshots land in `tests/artifacts/`.
#![allow(clippy::unwrap_used)]

mod common;

use common::{by_id, connect, screenshot, type_css, wait_text};
use serde_json::json;
use swagat_tests::{app_binary, start_tauri_driver, start_xvfb};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_screen_shows_today_and_exports_a_csv() {
    let _one = common::ONE_AT_A_TIME.lock().await;
    let app = app_binary().unwrap();
    let data = tempfile::tempdir().unwrap();
    let db = data.path().join("kiosk.db");
    let today;
    let tokens: Vec<String>;
    {
        let kiosk = common::seed_kankarbagh(&db);
        let mut t = Vec::new();
        for (name, hi, dept) in [
            ("Sunita Devi", "सुनीता देवी", "GEN"),
            ("Ramesh Kumar", "रमेश कुमार", "PED"),
            ("Kavita Kumari", "कविता कुमारी", "GEN"),
        ] {
            let r = kiosk
                .register(
                    &swagat_core::Actor::Cli,
                    &serde_json::from_value(json!({"department": dept, "patient": {
                        "name": name, "name_hi": hi, "gender": "F", "age_years": 34}}))
                    .unwrap(),
                )
                .unwrap();
            t.push((r.visit_id, r.token));
        }
        kiosk
            .cancel_visit(&swagat_core::Actor::Cli, &t[2].0, "duplicate")
            .unwrap();
        today = kiosk.home_summary().unwrap().date;
        tokens = t.into_iter().map(|(_, tok)| tok).collect();
    }
    let (display, _xvfb) = start_xvfb().unwrap();
    let (port, _driver) = start_tauri_driver(
        &display,
        &[("SWAGAT_DB", &db), ("XDG_DATA_HOME", data.path())],
    )
    .unwrap();
    let client = connect(port, &app).await;

    type_css(&client, "[data-testid='login-name']", "Asha").await;
    type_css(&client, "[data-testid='login-pin']", "246810").await;
    by_id(&client, "login-submit").await.click().await.unwrap();
    by_id(&client, "home-reports").await.click().await.unwrap();
    by_id(&client, "reports").await;

    // Today's registrations: two counted, one cancelled (listed, struck through).
    let n = wait_text(&client, "reports-registrations", |t| t == "2").await;
    assert_eq!(n, "2");
    assert_eq!(
        by_id(&client, "reports-cancelled")
            .await
            .text()
            .await
            .unwrap(),
        "1"
    );
    let table = wait_text(&client, "reports-register", |t| t.contains(&tokens[2])).await;
    for tok in &tokens {
        assert!(table.contains(tok), "{tok} in {table}");
    }
    assert!(table.contains("सुनीता देवी"), "{table}");
    let struck: i64 = client
        .execute(
            "return document.querySelectorAll('tr.cancelled').length",
            vec![],
        )
        .await
        .unwrap()
        .as_i64()
        .unwrap();
    assert_eq!(struck, 1);
    // The charts are drawn (Chart.js sizes its canvases).
    let drawn = client
        .execute(
            "const c = document.querySelector(\"[data-testid='reports-chart-hour']\"); return c.width > 0 && c.height > 0",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(drawn, json!(true));
    let cash = by_id(&client, "reports-cash").await.text().await.unwrap();
    assert!(cash.contains("cli"), "{cash}");
    screenshot(&client, "30-reports-today").await;

    // Export the register as CSV to a path (what the save dialog would answer).
    let out = data.path().join("usb").join("register.csv");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    let r = client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             window.__TAURI_INTERNALS__.invoke('report_export', arguments[0])
               .then((r) => done({ ok: r }), (e) => done({ err: e }));",
            vec![
                json!({"kind": "register", "format": "csv", "from": today, "to": today,
                        "path": out}),
            ],
        )
        .await
        .unwrap();
    assert!(r.get("ok").is_some(), "export failed: {r}");
    let bytes = std::fs::read(&out).unwrap();
    assert!(
        bytes.starts_with(b"\xEF\xBB\xBF"),
        "CSV starts with the BOM"
    );
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    for tok in &tokens {
        assert!(text.contains(tok.as_str()), "{tok} in CSV");
    }
    assert!(text.contains("सुनीता देवी"));

    client.close().await.unwrap();
    let kiosk = swagat_core::Kiosk::open(&db).unwrap();
    assert!(kiosk
        .audit_log(10)
        .unwrap()
        .iter()
        .any(|e| e.action == "report.export" && e.actor.starts_with("staff:")));
}
