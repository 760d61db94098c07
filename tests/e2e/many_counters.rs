//! End to end: one facility, two counters. A patient registered through the CLI at counter A
//! (`swagat-admin register`) and synced to a real `swagat-server` is found by search on counter
//! B's screen (the real app: Xvfb, tauri-driver, WebKitWebDriver) after B syncs.
#![allow(clippy::unwrap_used)]

mod common;
#[path = "../sync/common.rs"]
mod sync_common;

use common::{by_id, connect, screenshot, type_css, wait_text};
use serde_json::json;
use swagat_tests::{app_binary, start_tauri_driver, start_xvfb};
use sync_common::{admin, run, unique_code, Server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patient_registered_at_counter_a_is_found_on_counter_bs_screen() {
    let app = app_binary().unwrap();
    let data = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", data.path().join("state.db").display());
    let code = unique_code("EC");
    let first = run(
        "swagat-server",
        &[
            "facility",
            "add",
            "--db",
            &url,
            "--code",
            &code,
            "--name",
            "SDH Danapur",
        ],
    );
    let second = run(
        "swagat-server",
        &["facility", "code", "--db", &url, "--code", &code],
    );
    let server = Server::start(&url, &[]);

    // Counter A: the CLI only.
    let a = data.path().join("kiosk-a.db");
    admin(
        &a,
        &["config", "set", "kiosk_letter=A", "name_en=SDH Danapur"],
    );
    admin(
        &a,
        &[
            "enroll",
            "--server",
            &server.url,
            "--code",
            first["enrollment_code"].as_str().unwrap(),
        ],
    );
    let fields = data.path().join("sunita.json");
    std::fs::write(
        &fields,
        json!({"name": "Sunita Devi", "gender": "F", "age_years": 46, "mobile": "9876543210"})
            .to_string(),
    )
    .unwrap();
    let reg = admin(
        &a,
        &[
            "register",
            "--department",
            "GEN",
            "--json",
            fields.to_str().unwrap(),
        ],
    );
    let uhid = reg["uhid"].as_str().unwrap().to_owned();
    admin(&a, &["sync", "--until-idle"]);

    // Counter B: set up as its administrator would, enrolled, synced.
    let b = data.path().join("kiosk-b.db");
    drop(common::seed_facility(
        &b,
        json!({"name_en": "SDH Danapur", "kiosk_letter": "B"}),
        "Asha",
        "246810",
    ));
    admin(
        &b,
        &[
            "enroll",
            "--server",
            &server.url,
            "--code",
            second["enrollment_code"].as_str().unwrap(),
        ],
    );
    admin(&b, &["sync", "--until-idle"]);

    let (display, _xvfb) = start_xvfb().unwrap();
    let (port, _driver) = start_tauri_driver(
        &display,
        &[("SWAGAT_DB", &b), ("XDG_DATA_HOME", data.path())],
    )
    .unwrap();
    let client = connect(port, &app).await;
    type_css(&client, "[data-testid='login-name']", "Asha").await;
    type_css(&client, "[data-testid='login-pin']", "246810").await;
    by_id(&client, "login-submit").await.click().await.unwrap();
    by_id(&client, "home-register").await.click().await.unwrap();
    by_id(&client, "register").await;
    type_css(&client, "[data-testid='search-query']", "Sunita").await;
    by_id(&client, "search-go").await.click().await.unwrap();
    let results = wait_text(&client, "search-results", |t| t.contains(&uhid)).await;
    assert!(results.contains("Sunita Devi"), "{results}");
    screenshot(&client, "60-peer-patient-found").await;
    by_id(&client, "result-open").await.click().await.unwrap();
    assert_eq!(
        by_id(&client, "patient-uhid").await.text().await.unwrap(),
        uhid
    );
    client.close().await.unwrap();
}
