//! End to end: ABHA scan and share in the real app. A share published on a real `swagat-server`
//! (as the callback publishes it: a server-authored `abha_share` record) is pulled by sync,
//! appears in the Register screen's queue, one tap opens the registration pre-filled from the
//! profile, confirming registers it (the token screen and the slip show the ABHA address), and
//! the state then has the share's result and counts the visit as come by scan and share.
#![allow(clippy::unwrap_used)]

mod common;
#[path = "../sync/common.rs"]
mod sync_common;

use common::{by_css, by_id, connect, screenshot, type_css, wait_text};
use serde_json::json;
use swagat_tests::{app_binary, start_tauri_driver, start_xvfb};
use sync_common::{admin, run, unique_code, Server};

/// The value of the form field at `css`.
async fn value(c: &fantoccini::Client, css: &str) -> String {
    by_css(c, css)
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pulled_share_is_registered_with_one_tap() {
    let _one = common::ONE_AT_A_TIME.lock().await;
    let app = app_binary().unwrap();
    let data = tempfile::tempdir().unwrap();
    let server_db = format!("sqlite:{}", data.path().join("state.db").display());
    let facility = unique_code("S");
    let fac = run(
        "swagat-server",
        &[
            "facility",
            "add",
            "--db",
            &server_db,
            "--code",
            &facility,
            "--name",
            "UPHC Kankarbagh",
            "--hfr-id",
            "IN2810014366",
        ],
    );
    let server = Server::start(&server_db, &[]);
    let share_id = "0193b000-0000-7000-8000-0000000000e2";
    let now = time::OffsetDateTime::now_utc();
    let fmt = &time::format_description::well_known::Rfc3339;
    let payload = json!({"share_id": share_id, "request_id": "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        "hip_id": "IN2810014366", "counter": "OPD1", "token": "12", "abha_number": null,
        "abha_address": "ramkumar.sahu@sbx", "name": "Ram Kumar Sahu", "gender": "M",
        "year_of_birth": 1962, "month_of_birth": null, "day_of_birth": null, "mobile": null,
        "address": {"line": "Gudhiyari", "district": "RAIPUR", "state": "CHHATTISGARH", "pincode": "492009"},
        "shared_at": now.format(fmt).unwrap(),
        "expires_at": (now + time::Duration::minutes(30)).format(fmt).unwrap()});
    let payload_file = data.path().join("share.json");
    std::fs::write(&payload_file, payload.to_string()).unwrap();
    run(
        "swagat-server",
        &[
            "publish",
            "--db",
            &server_db,
            "--facility",
            &facility,
            "--kind",
            "abha_share",
            "--id",
            share_id,
            "--payload-file",
            payload_file.to_str().unwrap(),
        ],
    );

    let db = data.path().join("kiosk.db");
    drop(common::seed_kankarbagh(&db));
    admin(
        &db,
        &[
            "enroll",
            "--server",
            &server.url,
            "--code",
            fac["enrollment_code"].as_str().unwrap(),
        ],
    );
    admin(&db, &["sync", "--until-idle"]);
    assert_eq!(admin(&db, &["shares", "list"])["shares"][0]["token"], "12");

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
    by_id(&client, "home-register").await.click().await.unwrap();

    // The queue: token, name and ABHA address of the shared profile.
    by_id(&client, "shares-queue").await;
    assert_eq!(
        by_id(&client, "share-token").await.text().await.unwrap(),
        "12"
    );
    assert_eq!(
        by_id(&client, "share-abha").await.text().await.unwrap(),
        "ramkumar.sahu@sbx"
    );
    screenshot(&client, "40-shares-queue").await;
    // One tap opens the registration pre-filled from the profile.
    by_id(&client, "share-register")
        .await
        .click()
        .await
        .unwrap();
    let banner = wait_text(&client, "reg-from-share", |t| {
        t.contains("ramkumar.sahu@sbx")
    })
    .await;
    assert!(banner.contains("12"), "{banner}");
    assert_eq!(
        value(&client, "[data-testid='reg-name']").await,
        "Ram Kumar Sahu"
    );
    assert_eq!(value(&client, "#r-abhaaddr").await, "ramkumar.sahu@sbx");
    assert_eq!(value(&client, "#r-dist").await, "RAIPUR");
    assert_eq!(value(&client, "#r-pin").await, "492009");
    assert_eq!(
        by_id(&client, "reg-gender-M")
            .await
            .attr("aria-pressed")
            .await
            .unwrap()
            .as_deref(),
        Some("true")
    );
    screenshot(&client, "41-share-prefilled").await;
    // Nothing is registered until the operator confirms.
    assert_eq!(
        admin(&db, &["shares", "list"])["shares"][0]["status"],
        "waiting"
    );
    by_id(&client, "dept-GEN").await.click().await.unwrap();
    by_id(&client, "register-submit")
        .await
        .click()
        .await
        .unwrap();
    let token = wait_text(&client, "issued-token", |t| !t.is_empty()).await;
    assert!(token.starts_with('A'), "{token}");
    let abha = wait_text(&client, "issued-abha", |t| !t.is_empty()).await;
    assert!(abha.contains("ramkumar.sahu@sbx"), "{abha}");
    screenshot(&client, "42-share-registered").await;
    client.close().await.unwrap();

    // The slip carries the ABHA address; the share is registered here and, after sync, on the server.
    let shares = admin(&db, &["shares", "list"]);
    assert_eq!(shares["shares"][0]["status"], "registered");
    let visit = shares["shares"][0]["visit_id"].as_str().unwrap().to_owned();
    let pdf = data.path().join("slip.pdf");
    admin(
        &db,
        &["slip", "--visit", &visit, "--out", pdf.to_str().unwrap()],
    );
    let text = std::process::Command::new("pdftotext")
        .arg(&pdf)
        .arg("-")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("ramkumar.sahu@sbx"), "{text}");
    admin(&db, &["sync", "--until-idle"]);
    let on_server = run(
        "swagat-server",
        &[
            "shares",
            "list",
            "--db",
            &server_db,
            "--facility",
            &facility,
        ],
    );
    // Published directly (no callback), so the server has no share row of its own: the result
    // record reached it all the same.
    assert!(on_server["shares"].as_array().unwrap().is_empty());
    let stats = run(
        "swagat-server",
        &["stats", "--db", &server_db, "--facility", &facility],
    );
    assert_eq!(stats["abha_share_results"], 1, "{stats}");
}
