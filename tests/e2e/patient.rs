//! End to end: a patient's record in the real app (Xvfb, tauri-driver, WebKitWebDriver).
//!
//! Register a patient by typing, open their record from the token screen, edit the mobile number,
//! see the change on screen, merge an earlier duplicate into the record (as the administrator),
//! find them by the new number, and check the edit and merge reached the database, audited. Screenshots land in `tests/artifacts/`.
#![allow(clippy::unwrap_used)]

mod common;

use common::{by_id, connect, screenshot, type_css, wait_text};
use serde_json::json;
use swagat_tests::{app_binary, start_tauri_driver, start_xvfb};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_open_the_record_edit_the_mobile_and_see_it() {
    let app = app_binary().unwrap();
    let data = tempfile::tempdir().unwrap();
    let db = data.path().join("kiosk.db");
    {
        let kiosk = common::seed_kankarbagh(&db);
        // The same woman, registered earlier under another spelling: the duplicate to merge.
        kiosk
            .register(
                &swagat_core::Actor::Cli,
                &serde_json::from_value(json!({"department": "EYE", "patient": {
                    "name": "Kamla Kumari", "gender": "F", "age_years": 52,
                    "abha_number": "91-2345-6789-0129"}}))
                .unwrap(),
            )
            .unwrap();
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
    by_id(&client, "home-register").await.click().await.unwrap();
    by_id(&client, "register").await;

    // A new patient, typed at the counter.
    type_css(&client, "[data-testid='reg-name']", "Kamla Devi").await;
    by_id(&client, "reg-gender-F").await.click().await.unwrap();
    type_css(&client, "[data-testid='reg-age']", "52").await;
    type_css(&client, "#r-mobile", "9876543210").await;
    // The locality is an optional field, behind "More details".
    by_id(&client, "reg-more").await.click().await.unwrap();
    type_css(&client, "#r-loc", "Kankarbagh").await;
    by_id(&client, "dept-GEN").await.click().await.unwrap();
    by_id(&client, "register-submit")
        .await
        .click()
        .await
        .unwrap();
    let uhid = by_id(&client, "issued-uhid").await.text().await.unwrap();
    assert!(uhid.starts_with("PTN12-A"), "{uhid}");

    // The record, from the token screen: details and the visit just made.
    by_id(&client, "issued-record").await.click().await.unwrap();
    by_id(&client, "patient-record").await;
    assert_eq!(
        by_id(&client, "patient-uhid").await.text().await.unwrap(),
        uhid
    );
    let mobile = wait_text(&client, "patient-mobile", |t| !t.is_empty()).await;
    assert_eq!(mobile, "9876543210");
    let visits = by_id(&client, "patient-visits").await.text().await.unwrap();
    assert!(visits.contains("A-001"), "{visits}");
    screenshot(&client, "20-patient-record").await;

    // A wrong number is refused with a message; the record keeps the old one.
    by_id(&client, "patient-edit").await.click().await.unwrap();
    by_id(&client, "patient-edit-form").await;
    type_css(&client, "[data-testid='edit-mobile']", "12345").await;
    by_id(&client, "edit-save").await.click().await.unwrap();
    let err = by_id(&client, "patient-error").await.text().await.unwrap();
    assert!(err.contains("mobile") || err.contains("मोबाइल"), "{err}");

    // The right number: saved, shown.
    type_css(&client, "[data-testid='edit-mobile']", "9123456780").await;
    by_id(&client, "edit-save").await.click().await.unwrap();
    by_id(&client, "patient-notice").await;
    let mobile = wait_text(&client, "patient-mobile", |t| t == "9123456780").await;
    assert_eq!(mobile, "9123456780");
    screenshot(&client, "21-patient-edited").await;

    // The administrator merges the earlier duplicate into this record, after confirming.
    type_css(&client, "[data-testid='merge-query']", "kamla kum").await;
    by_id(&client, "merge-search").await.click().await.unwrap();
    by_id(&client, "merge-pick").await.click().await.unwrap();
    let confirm = by_id(&client, "merge-confirm").await.text().await.unwrap();
    assert!(confirm.contains("Kamla Kumari"), "{confirm}");
    screenshot(&client, "22-merge-confirm").await;
    by_id(&client, "merge-yes").await.click().await.unwrap();
    let notice = wait_text(&client, "patient-notice", |t| t.contains('1')).await;
    assert!(!notice.is_empty());
    let visits = wait_text(&client, "patient-visits", |t| t.contains("EYE")).await;
    assert!(
        visits.contains("GEN"),
        "both visits on the kept record: {visits}"
    );

    // Back at registration, the new number finds her and opens the same record.
    by_id(&client, "patient-back").await.click().await.unwrap();
    by_id(&client, "token-issued").await;
    by_id(&client, "next-patient").await.click().await.unwrap();
    type_css(&client, "[data-testid='search-query']", "9123456780").await;
    by_id(&client, "search-go").await.click().await.unwrap();
    by_id(&client, "search-results").await;
    by_id(&client, "result-open").await.click().await.unwrap();
    assert_eq!(
        by_id(&client, "patient-uhid").await.text().await.unwrap(),
        uhid
    );

    client.close().await.unwrap();

    // The edit is in the database, audited with the field name only.
    let kiosk = swagat_core::Kiosk::open(&db).unwrap();
    let (_, found) = kiosk.search_patients("9123456780", 5).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].uhid, uhid);
    assert!(kiosk.search_patients("9876543210", 5).unwrap().1.is_empty());
    let log = kiosk.audit_log(20).unwrap();
    let edit = log.iter().find(|e| e.action == "patient.edit").unwrap();
    assert_eq!(edit.details["fields"], json!(["mobile"]));
    assert!(!edit.details.to_string().contains("9123456780"));
    assert_eq!(found[0].abha_number.as_deref(), Some("91-2345-6789-0129"));
    assert_eq!(kiosk.patient_visits(&found[0].id, 10).unwrap().len(), 2);
    let (_, by_name) = kiosk.search_patients("kamla", 10).unwrap();
    assert_eq!(by_name.len(), 1, "the merged-away record is not found");
    assert!(log.iter().any(|e| e.action == "patient.merge"));
}
