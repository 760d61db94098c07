//! `swagat-admin staff disable|enable|reset-pin|unlock` as processes: each audited, the new-PIN
//! rule enforced, a lockout lifted.
#![allow(clippy::unwrap_used)]

mod common;

use common::{admin, ok};

fn init(db: &std::path::Path, dir: &std::path::Path) {
    let facility = dir.join("f.json");
    std::fs::write(
        &facility,
        r#"{"name_en":"PHC Bihta","name_hi":"पीएचसी बिहटा","kiosk_letter":"A","state_lgd":10,"district_lgd":212}"#,
    )
    .unwrap();
    ok(admin(
        db,
        &[
            "init",
            "--file",
            facility.to_str().unwrap(),
            "--admin-name",
            "Admin",
            "--admin-secret",
            "135790",
        ],
    ));
}

fn actions(db: &std::path::Path) -> Vec<String> {
    let v = ok(admin(db, &["audit", "list", "--limit", "100"]));
    v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn an_admin_disables_enables_resets_and_unlocks_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("k.db");
    init(&db, dir.path());

    // A new PIN needs 6 digits: exit 2 with the reason.
    let o = admin(
        &db,
        &[
            "staff",
            "add",
            "--name",
            "Asha",
            "--role",
            "reception",
            "--secret",
            "2468",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("6 to 12 digits"));
    let asha = ok(admin(
        &db,
        &[
            "staff",
            "add",
            "--name",
            "Asha",
            "--role",
            "reception",
            "--secret",
            "246802",
        ],
    ));
    let id = asha["id"].as_str().unwrap();

    let v = ok(admin(&db, &["staff", "disable", "--name", "asha"]));
    assert_eq!(v["active"], false);
    assert_eq!(v["id"], id);
    let v = ok(admin(&db, &["staff", "list"]));
    let row = v["staff"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .unwrap()
        .clone();
    assert_eq!(row["active"], false);
    let v = ok(admin(&db, &["staff", "enable", "--id", id]));
    assert_eq!(v["active"], true);

    let o = admin(
        &db,
        &["staff", "reset-pin", "--name", "Asha", "--secret", "1234"],
    );
    assert_eq!(o.status.code(), Some(2), "a reset needs 6+ digits too");
    let v = ok(admin(
        &db,
        &["staff", "reset-pin", "--name", "Asha", "--pin", "975310"],
    ));
    assert_eq!(v["failed_attempts"], 0);
    assert!(v.get("secret_hash").is_none());
    let v = ok(admin(&db, &["staff", "unlock", "--name", "Asha"]));
    assert_eq!(v["locked_until"], serde_json::Value::Null);

    // Nobody of that name: exit 3; neither --name nor --id: usage, exit 1.
    assert_eq!(
        admin(&db, &["staff", "unlock", "--name", "Nobody"])
            .status
            .code(),
        Some(3)
    );
    assert_eq!(admin(&db, &["staff", "unlock"]).status.code(), Some(1));
    // The last administrator stays enabled.
    assert_eq!(
        admin(&db, &["staff", "disable", "--name", "Admin"])
            .status
            .code(),
        Some(2)
    );

    let done = actions(&db);
    for a in [
        "staff.disable",
        "staff.enable",
        "staff.reset_pin",
        "staff.unlock",
    ] {
        assert!(done.contains(&a.to_owned()), "{a} in {done:?}");
    }
    let log = String::from_utf8(admin(&db, &["audit", "list"]).stdout).unwrap();
    assert!(!log.contains("975310"), "no PIN in the audit log");
}
