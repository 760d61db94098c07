//! The scan-and-share Tauri commands through Tauri's mock runtime: no display, real core, real
//! SQLite. Each command refuses the wrong caller and does its one thing.
#![allow(clippy::unwrap_used)]

mod common;

use common::{app, invoke};
use serde_json::json;
use swagat_lib::AppState;

const FACILITY: &str = "0193a000-0000-7000-8000-000000000001";

/// A kiosk "enrolled" in FACILITY with one share pulled from the server; returns the share id.
fn seed(db: &std::path::Path) -> String {
    let kiosk = swagat_core::Kiosk::open(db).unwrap();
    let id = "0193a000-0000-7000-8000-0000000000a1".to_string();
    let now = time::OffsetDateTime::now_utc();
    let fmt = &time::format_description::well_known::Rfc3339;
    let payload = json!({"share_id": id, "request_id": "r1", "hip_id": "IN2810014366", "counter": "OPD1",
        "token": "7", "abha_number": null, "abha_address": "ramkumar.sahu@sbx", "name": "Ram Kumar Sahu",
        "gender": "M", "year_of_birth": 1962, "month_of_birth": null, "day_of_birth": null, "mobile": null,
        "address": {"line": "Gudhiyari", "district": "RAIPUR", "state": "CHHATTISGARH", "pincode": "492009"},
        "shared_at": now.format(fmt).unwrap(),
        "expires_at": (now + time::Duration::minutes(30)).format(fmt).unwrap()});
    kiosk
        .store()
        .write(|tx| {
            tx.execute(
                "UPDATE sync_state SET credentials = ?1 WHERE id = 1",
                [json!({ "facility_id": FACILITY }).to_string()],
            )?;
            tx.execute(
                "INSERT INTO sync_inbox (record_id, kind, device_id, seq, hlc, schema_version, payload, server_cursor) \
                 VALUES (?1, 'abha_share', ?2, 1, 1, 1, ?3, 1)",
                [&id, FACILITY, &payload.to_string()],
            )?;
            Ok(())
        })
        .unwrap();
    id
}

#[test]
fn queue_register_and_counter_qr_through_commands() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("k.db");
    let state = AppState::open(&db);
    let (_app, win) = app(state);
    // Nobody logged in: refused.
    assert_eq!(
        invoke(&win, "shares_list", json!({})).unwrap_err()["kind"],
        "auth"
    );
    invoke(
        &win,
        "first_run_setup",
        json!({"setup": {"facility": {"name_en": "DH Raipur", "name_hi": "जिला अस्पताल रायपुर", "kiosk_letter": "R",
            "hfr_id": "IN2210000001"}, "admin_name": "Admin", "admin_secret": "135790"}}),
    )
    .unwrap();
    let share = seed(&db);

    let list = invoke(&win, "shares_list", json!({})).unwrap();
    assert_eq!(list[0]["token"], "7");
    assert_eq!(list[0]["status"], "waiting");
    // One tap: the form's fields from the profile, no returning patient yet; nothing written.
    let pre = invoke(&win, "shares_prefill", json!({"shareId": share})).unwrap();
    assert_eq!(
        (
            pre["input"]["name"].as_str(),
            pre["input"]["abha_address"].as_str(),
            pre["input"]["dob"].as_str(),
            pre["input"]["address"]["pincode"].as_str()
        ),
        (
            Some("Ram Kumar Sahu"),
            Some("ramkumar.sahu@sbx"),
            Some("1962"),
            Some("492009")
        )
    );
    assert!(pre["existing"].is_null());
    assert_eq!(pre["status"], "waiting");
    // Confirming the (edited) form registers the share.
    let mut patient = pre["input"].clone();
    patient["mobile"] = json!("9876543210");
    let reg = invoke(
        &win,
        "shares_register",
        json!({"shareId": share, "request": {"department": "GEN", "patient": patient}}),
    )
    .unwrap();
    assert_eq!(reg["returning"], false);
    assert_eq!(reg["abha_address"], "ramkumar.sahu@sbx");
    let again = invoke(
        &win,
        "shares_register",
        json!({"shareId": share, "department": "GEN"}),
    )
    .unwrap();
    assert_eq!(again["patient_id"], reg["patient_id"]);
    assert_eq!(again["visit_id"], reg["visit_id"]);
    let pre = invoke(&win, "shares_prefill", json!({"shareId": share})).unwrap();
    assert_eq!(pre["existing"]["id"], reg["patient_id"]);
    assert_eq!(pre["existing"]["mobile"], "9876543210");
    assert_eq!(
        invoke(&win, "shares_list", json!({})).unwrap()[0]["status"],
        "registered"
    );
    let err = invoke(
        &win,
        "shares_register",
        json!({"shareId": "nope", "department": "GEN"}),
    )
    .unwrap_err();
    assert_eq!(err["kind"], "not_found");

    // The counter QR needs the counter id; then it is the exact scan-and-share URL.
    assert_eq!(
        invoke(&win, "shares_counter_qr", json!({})).unwrap_err()["kind"],
        "invalid"
    );
    invoke(
        &win,
        "update_config",
        json!({"patch": {"counter_id": "REG2"}}),
    )
    .unwrap();
    let qr = invoke(&win, "shares_counter_qr", json!({})).unwrap();
    assert_eq!(
        qr["url"],
        "https://phrsbx.abdm.gov.in/share-profile?hip-id=IN2210000001&counter-id=REG2"
    );
    assert!(qr["svg"].as_str().unwrap().starts_with("<svg"));
    // No printer set: a clear, bilingual refusal.
    let err = invoke(&win, "shares_print_poster", json!({})).unwrap_err();
    assert_eq!(
        (err["kind"].as_str(), err["field"].as_str()),
        (Some("invalid"), Some("printer"))
    );
    assert!(!err["hi"].as_str().unwrap().is_empty());

    // A receptionist may use the queue but not the administrator's QR and poster.
    invoke(
        &win,
        "add_staff",
        json!({"staff": {"name": "Sunita", "role": "reception", "secret": "246813"}}),
    )
    .unwrap();
    invoke(&win, "logout", json!({})).unwrap();
    assert_eq!(
        invoke(&win, "shares_prefill", json!({"shareId": share})).unwrap_err()["kind"],
        "auth"
    );
    invoke(&win, "login", json!({"name": "Sunita", "secret": "246813"})).unwrap();
    assert!(invoke(&win, "shares_list", json!({})).is_ok());
    assert!(invoke(&win, "shares_prefill", json!({"shareId": share})).is_ok());
    assert_eq!(
        invoke(&win, "shares_counter_qr", json!({})).unwrap_err()["kind"],
        "auth"
    );
    assert_eq!(
        invoke(&win, "shares_print_poster", json!({})).unwrap_err()["kind"],
        "auth"
    );
}
