//! Cross-crate, with the real binaries (`swagat-server serve`, `swagat-admin`) and real kiosk
//! databases, on both backends: a counter restored from last week's backup loses nothing and
//! says so; a revoked counter re-enrolled with `swagat-admin enroll` still edits its old
//! patients without dead letters or duplicates; a copied disk is told to re-enroll; enrollment
//! codes expire and version 1 enrollment still works.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use common::{admin, db_url, output, run, unique_code, Backend, Server};
use serde_json::Value;

fn register(db: &Path, dir: &Path, name: &str) -> Value {
    let f = dir.join(format!("{name}.json"));
    std::fs::write(
        &f,
        format!(r#"{{"name":"{name}","gender":"F","age_years":30}}"#),
    )
    .unwrap();
    admin(
        db,
        &[
            "register",
            "--department",
            "GEN",
            "--json",
            f.to_str().unwrap(),
        ],
    )
}

/// A facility on the server; returns (facility code, enrollment code).
fn facility(db: &str) -> (String, String) {
    let code = unique_code("FC");
    let f = run(
        "swagat-server",
        &[
            "facility",
            "add",
            "--db",
            db,
            "--code",
            &code,
            "--name",
            "DH Counters",
        ],
    );
    (code, f["enrollment_code"].as_str().unwrap().to_owned())
}

fn new_code(db: &str, facility: &str) -> String {
    run(
        "swagat-server",
        &["facility", "code", "--db", db, "--code", facility],
    )["enrollment_code"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn enroll(kiosk: &Path, url: &str, code: &str) -> Value {
    admin(kiosk, &["enroll", "--server", url, "--code", code])
}

/// Copies a kiosk database as a backup tool would (the file, after every command closed it).
fn copy_db(from: &Path, to: &Path) {
    std::fs::copy(from, to).unwrap();
    for tail in ["-wal", "-shm"] {
        let src = format!("{}{tail}", from.display());
        let dst = format!("{}{tail}", to.display());
        if Path::new(&src).exists() {
            std::fs::copy(&src, &dst).unwrap();
        } else {
            let _ = std::fs::remove_file(&dst);
        }
    }
}

fn stats(db: &str, facility: &str) -> (u64, u64) {
    let s = run(
        "swagat-server",
        &["stats", "--db", db, "--facility", facility],
    );
    (
        s["patients"].as_u64().unwrap(),
        s["visits"].as_u64().unwrap(),
    )
}

fn restored_counter_loses_nothing(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(db) = db_url(backend, dir.path()) else {
        return;
    };
    let (fac, code) = facility(&db);
    let server = Server::start(&db, &[]);
    let kiosk = dir.path().join("counter.db");
    register(&kiosk, dir.path(), "Sunita Devi");
    register(&kiosk, dir.path(), "Rekha Kumari");
    enroll(&kiosk, &server.url, &code);
    admin(&kiosk, &["sync", "--until-idle"]);
    // Last week's backup, then a week of work that reached the server.
    let backup = dir.path().join("backup.db");
    copy_db(&kiosk, &backup);
    register(&kiosk, dir.path(), "Geeta Devi");
    register(&kiosk, dir.path(), "Meena Kumari");
    admin(&kiosk, &["sync", "--until-idle"]);
    assert_eq!(stats(&db, &fac), (4, 4));
    // The disk is restored from the backup; the counter registers again before syncing.
    copy_db(&backup, &kiosk);
    assert_eq!(admin(&kiosk, &["status"])["restores"], 0);
    register(&kiosk, dir.path(), "Asha Yadav");
    let s = admin(&kiosk, &["sync", "--until-idle"]);
    assert_eq!(
        (s["pending"].as_u64(), s["dead_letters"].as_u64()),
        (Some(0), Some(0)),
        "{s}"
    );
    assert_eq!(s["restored"], 1, "{s}");
    // The server holds every record once: 5 patients, 5 visits.
    assert_eq!(stats(&db, &fac), (5, 5));
    // The status says so, and the audit log has the event.
    let st = admin(&kiosk, &["status"]);
    assert_eq!(st["restores"], 1, "{st}");
    assert!(st["last_restore_at_ms"].as_i64().is_some(), "{st}");
    assert_eq!(st["pending"], 0);
    assert_eq!(st["recovering"], false);
    let audit = admin(&kiosk, &["audit", "list", "--limit", "20"]);
    assert!(
        audit.to_string().contains("sync.restore_detected"),
        "{audit}"
    );
    // Syncing again is quiet.
    let again = admin(&kiosk, &["sync", "--until-idle"]);
    assert_eq!(
        (again["pushed"].as_u64(), again["restored"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(stats(&db, &fac), (5, 5));
}

#[test]
fn restored_counter_loses_nothing_sqlite() {
    restored_counter_loses_nothing(Backend::Sqlite);
}

#[test]
fn restored_counter_loses_nothing_postgres() {
    restored_counter_loses_nothing(Backend::Postgres);
}

fn re_enrolled_counter_edits_its_patients(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(db) = db_url(backend, dir.path()) else {
        return;
    };
    let (fac, code) = facility(&db);
    let server = Server::start(&db, &[]);
    let kiosk = dir.path().join("counter.db");
    let p = register(&kiosk, dir.path(), "Sunita Devi");
    let old = enroll(&kiosk, &server.url, &code);
    admin(&kiosk, &["sync", "--until-idle"]);
    let old_device = old["device_id"].as_str().unwrap().to_owned();
    run(
        "swagat-server",
        &["device", "revoke", "--db", &db, "--device", &old_device],
    );
    register(&kiosk, dir.path(), "Rekha Kumari");
    let refused = output("swagat-admin", &["--db", kiosk.to_str().unwrap(), "sync"]);
    assert!(!refused.status.success());
    // Re-enrollment on the enrolled kiosk: a new device that continues the old one.
    let new = enroll(&kiosk, &server.url, &new_code(&db, &fac));
    assert_ne!(new["device_id"], old["device_id"]);
    let patch = dir.path().join("patch.json");
    std::fs::write(&patch, r#"{"name":"Sunita Kumari"}"#).unwrap();
    admin(
        &kiosk,
        &[
            "patients",
            "edit",
            "--patient",
            p["patient_id"].as_str().unwrap(),
            "--json",
            patch.to_str().unwrap(),
        ],
    );
    let s = admin(&kiosk, &["sync", "--until-idle"]);
    assert_eq!(
        (s["pending"].as_u64(), s["dead_letters"].as_u64()),
        (Some(0), Some(0)),
        "{s}"
    );
    assert_eq!(stats(&db, &fac), (2, 2));
    // The change of device id is recorded.
    let list = run(
        "swagat-server",
        &["device", "list", "--db", &db, "--facility", &fac],
    );
    let devices = list["devices"].as_array().unwrap();
    let d = devices
        .iter()
        .find(|d| d["device_id"] == new["device_id"])
        .unwrap();
    assert_eq!(d["previous_device_id"], old["device_id"]);
    let o = devices
        .iter()
        .find(|d| d["device_id"] == old["device_id"])
        .unwrap();
    assert_eq!(o["revoked"], true);
}

#[test]
fn re_enrolled_counter_edits_its_patients_sqlite() {
    re_enrolled_counter_edits_its_patients(Backend::Sqlite);
}

#[test]
fn re_enrolled_counter_edits_its_patients_postgres() {
    re_enrolled_counter_edits_its_patients(Backend::Postgres);
}

#[test]
fn a_copied_disk_is_told_to_re_enroll() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_url(Backend::Sqlite, dir.path()).unwrap();
    let (fac, code) = facility(&db);
    let server = Server::start(&db, &[]);
    let a = dir.path().join("a.db");
    let b = dir.path().join("b.db");
    register(&a, dir.path(), "Sunita Devi");
    enroll(&a, &server.url, &code);
    admin(&a, &["sync", "--until-idle"]);
    copy_db(&a, &b);
    register(&a, dir.path(), "Rekha Kumari");
    admin(&a, &["sync", "--until-idle"]);
    register(&b, dir.path(), "Geeta Devi");
    let sb = admin(&b, &["sync", "--until-idle"]);
    assert_eq!(sb["restored"], 1, "{sb}");
    register(&a, dir.path(), "Meena Kumari");
    let refused = output("swagat-admin", &["--db", a.to_str().unwrap(), "sync"]);
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("re-enroll"), "{err}");
    assert!(err.contains("copy"), "{err}");
    assert_eq!(
        admin(&a, &["status"])["pending"],
        2,
        "nothing lost: still queued"
    );
    // Re-enrolled, the copy's queued records go out under its new device.
    enroll(&a, &server.url, &new_code(&db, &fac));
    let s = admin(&a, &["sync", "--until-idle"]);
    assert_eq!(
        (s["pending"].as_u64(), s["dead_letters"].as_u64()),
        (Some(0), Some(0)),
        "{s}"
    );
    assert_eq!(stats(&db, &fac), (4, 4));
}

#[test]
fn codes_expire_and_version_1_enrollment_still_works() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_url(Backend::Sqlite, dir.path()).unwrap();
    let code = unique_code("FV");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let f = run(
        "swagat-server",
        &[
            "facility",
            "add",
            "--db",
            &db,
            "--code",
            &code,
            "--name",
            "PHC",
            "--valid-days",
            "2",
        ],
    );
    let day = 24 * 60 * 60 * 1000;
    let exp = f["expires_at_ms"].as_i64().unwrap();
    assert!(exp > now + day && exp < now + 3 * day, "{f}");
    let c = run(
        "swagat-server",
        &["facility", "code", "--db", &db, "--code", &code],
    );
    let exp7 = c["expires_at_ms"].as_i64().unwrap();
    assert!(exp7 > now + 6 * day && exp7 < now + 8 * day, "{c}");
    let bad = output(
        "swagat-server",
        &[
            "facility",
            "code",
            "--db",
            &db,
            "--code",
            &code,
            "--valid-days",
            "0",
        ],
    );
    assert!(!bad.status.success());
    // Version 1: only {"code","device_name"}; the answer and the bearer token as before.
    let server = Server::start(&db, &[]);
    let http = reqwest::blocking::Client::new();
    let r = http
        .post(format!("{}/v1/enroll", server.url))
        .header("x-swagat-protocol", "1")
        .header("content-type", "application/json")
        .body(serde_json::json!({ "code": f["enrollment_code"], "device_name": "v1" }).to_string())
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let bytes = r.bytes().unwrap();
    let body: Value = swagat_sync_protocol::decode(&bytes).unwrap();
    for k in [
        "device_id",
        "facility_id",
        "secret",
        "facility_code",
        "facility_name",
    ] {
        assert!(body[k].is_string(), "{k}: {body}");
    }
    let st = http
        .get(format!("{}/v1/push/state?since=0", server.url))
        .header("x-swagat-protocol", "1")
        .header(
            "authorization",
            format!(
                "Bearer {}.{}",
                body["device_id"].as_str().unwrap(),
                body["secret"].as_str().unwrap()
            ),
        )
        .send()
        .unwrap();
    assert_eq!(st.status(), 200);
}
