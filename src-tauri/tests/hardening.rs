//! The staff-management, backup, disk and recovery commands through Tauri's mock runtime: a real
//! core on a real SQLite file, administrators only where it matters.
#![allow(clippy::unwrap_used)]

mod common;

use common::{app, invoke};
use serde_json::{json, Value};
use swagat_lib::AppState;

fn set_up(win: &tauri::WebviewWindow<tauri::test::MockRuntime>) {
    invoke(
        win,
        "first_run_setup",
        json!({"setup": {"facility": {"name_en": "PHC Bihta", "name_hi": "पीएचसी बिहटा",
            "kiosk_letter": "A"}, "admin_name": "Admin", "admin_secret": "135790"}}),
    )
    .unwrap();
}

fn login(
    win: &tauri::WebviewWindow<tauri::test::MockRuntime>,
    name: &str,
    pin: &str,
) -> Result<Value, Value> {
    invoke(win, "login", json!({"name": name, "secret": pin}))
}

#[test]
fn an_admin_manages_staff_and_nobody_else_can() {
    let dir = tempfile::tempdir().unwrap();
    let (_app, win) = app(AppState::open(&dir.path().join("k.db")));
    set_up(&win);
    // New PINs need 6 digits, in both languages.
    let err = invoke(
        &win,
        "add_staff",
        json!({"staff": {"name": "Sunita", "role": "reception", "secret": "2468"}}),
    )
    .unwrap_err();
    assert_eq!(err["field"], "secret");
    assert!(err["hi"].as_str().unwrap().contains("6 से 12"), "{err}");
    let sunita = invoke(
        &win,
        "add_staff",
        json!({"staff": {"name": "Sunita", "role": "reception", "secret": "246802"}}),
    )
    .unwrap();
    let id = sunita["id"].as_str().unwrap().to_owned();

    let v = invoke(
        &win,
        "staff_set_active",
        json!({"staffId": id, "active": false}),
    )
    .unwrap();
    assert_eq!(v["active"], false);
    invoke(&win, "logout", json!({})).unwrap();
    let err = login(&win, "Sunita", "246802").unwrap_err();
    assert!(err["en"].as_str().unwrap().contains("disabled"), "{err}");
    assert!(err["hi"].as_str().unwrap().contains("बंद"), "{err}");

    login(&win, "Admin", "135790").unwrap();
    invoke(
        &win,
        "staff_set_active",
        json!({"staffId": id, "active": true}),
    )
    .unwrap();
    invoke(&win, "logout", json!({})).unwrap();
    for _ in 0..5 {
        assert!(login(&win, "Sunita", "000000").is_err());
    }
    let err = login(&win, "Sunita", "246802").unwrap_err();
    assert!(
        err["en"].as_str().unwrap().contains("try again"),
        "locked: {err}"
    );

    login(&win, "Admin", "135790").unwrap();
    let list = invoke(&win, "staff_accounts", json!({})).unwrap();
    let row = list
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == id.as_str())
        .unwrap()
        .clone();
    assert!(row["locked_until"].is_string(), "{row}");
    assert_eq!(row["failed_attempts"], 5);
    let v = invoke(&win, "staff_unlock", json!({"staffId": id})).unwrap();
    assert_eq!(v["locked_until"], Value::Null);
    let err = invoke(
        &win,
        "staff_reset_pin",
        json!({"staffId": id, "secret": "1357"}),
    )
    .unwrap_err();
    assert_eq!(err["kind"], "invalid");
    invoke(
        &win,
        "staff_reset_pin",
        json!({"staffId": id, "secret": "975310"}),
    )
    .unwrap();
    invoke(&win, "logout", json!({})).unwrap();
    assert!(
        login(&win, "Sunita", "246802").is_err(),
        "the old PIN is gone"
    );
    login(&win, "Sunita", "975310").unwrap();

    // A receptionist may do none of it.
    for (cmd, body) in [
        ("staff_accounts", json!({})),
        ("staff_set_active", json!({"staffId": id, "active": false})),
        ("staff_unlock", json!({"staffId": id})),
        (
            "staff_reset_pin",
            json!({"staffId": id, "secret": "111222"}),
        ),
        ("backup_now", json!({})),
        ("backup_status", json!({})),
    ] {
        let err = invoke(&win, cmd, body).unwrap_err();
        assert_eq!(err["kind"], "auth", "{cmd}: {err}");
    }
    let audit = swagat_core::Kiosk::open(&dir.path().join("k.db"))
        .unwrap()
        .audit_log(100)
        .unwrap();
    for a in [
        "staff.disable",
        "staff.enable",
        "staff.unlock",
        "staff.reset_pin",
    ] {
        assert!(audit.iter().any(|e| e.action == a), "{a}");
    }
}

#[test]
fn backups_from_settings_disk_space_and_the_recovery_screen() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("k.db");
    {
        let (_app, win) = app(AppState::open(&db));
        set_up(&win);
        let st = invoke(&win, "backup_status", json!({})).unwrap();
        assert_eq!(st["stale"], true, "no backup yet: Settings warns");
        assert_eq!(st["dir_is_default"], true);
        let made = invoke(&win, "backup_now", json!({})).unwrap();
        assert_eq!(made["integrity"], "ok");
        let st = invoke(&win, "backup_status", json!({})).unwrap();
        assert_eq!(st["stale"], false);
        assert_eq!(st["last_good"]["file"], made["file"]);
        let space = invoke(&win, "disk_space", json!({})).unwrap();
        assert!(space["free_bytes"].as_u64().unwrap() > 0);
        assert!(space["low"].is_boolean());
        assert_eq!(
            invoke(&win, "recovery_status", json!({})).unwrap()["ok"],
            true
        );
        let err = invoke(&win, "recovery_restore", json!({})).unwrap_err();
        assert_eq!(
            err["kind"], "invalid",
            "a healthy database is not restored from here"
        );
    }

    // The file is damaged while the app is closed.
    {
        use std::io::{Seek, SeekFrom, Write};
        let len = std::fs::metadata(&db).unwrap().len();
        let mut f = std::fs::OpenOptions::new().write(true).open(&db).unwrap();
        for at in [len / 3, len / 2, 2 * len / 3] {
            f.seek(SeekFrom::Start(at / 4096 * 4096)).unwrap();
            f.write_all(&[0xA5u8; 4096]).unwrap();
        }
        f.sync_all().unwrap();
        // The newest pages may still sit in the write-ahead log, which SQLite reads before the
        // main file: damage it too (its frames then fail their checksums and are ignored).
        let wal = db.with_extension("db-wal");
        if let Ok(m) = std::fs::metadata(&wal) {
            let garbage = vec![0xA5u8; usize::try_from(m.len()).unwrap()];
            std::fs::write(&wal, garbage).unwrap();
        }
    }
    // A reboot: this process forgets the key, as a new app would not have it.
    swagat_core::crypt::forget(&db);
    {
        let (_app, win) = app(AppState::open(&db));
        // The file is encrypted: before a login gives the key, nothing can read it to check it.
        let before = invoke(&win, "recovery_status", json!({})).unwrap();
        assert_eq!(before["ok"], true, "{before}");
        assert_eq!(
            invoke(&win, "app_status", json!({})).unwrap()["locked"],
            true
        );
        // The login that unlocks it runs the check first: the damage is found, the file stays
        // locked (nothing writes to it), and the login says why.
        let err = login(&win, "Admin", "135790").unwrap_err();
        assert_eq!(
            err["problem"],
            json!({"area": "storage", "code": "corrupt"}),
            "{err}"
        );
        let check = invoke(&win, "recovery_status", json!({})).unwrap();
        assert_eq!(check["ok"], false, "{check}");
        assert_eq!(check["problem"], "corrupt");
        assert!(check["message"]["hi"].as_str().unwrap().contains("खराब"));
        assert!(check["latest_backup"]["file"].is_string(), "{check}");
        // Every other command answers with the clear message instead of crashing.
        let err = invoke(&win, "app_status", json!({})).unwrap_err();
        assert!(err["en"].as_str().unwrap().contains("damaged"), "{err}");
        let r = invoke(&win, "recovery_restore", json!({})).unwrap();
        assert!(r["replaced_kept_at"].is_string(), "{r}");
    }
    // After the restart the restored database opens and the administrator logs in.
    let (_app, win) = app(AppState::open(&db));
    assert_eq!(
        invoke(&win, "recovery_status", json!({})).unwrap()["ok"],
        true
    );
    login(&win, "Admin", "135790").unwrap();
    assert_eq!(
        invoke(&win, "app_status", json!({})).unwrap()["configured"],
        true
    );
}
