//! Upgrading a database left by an older Swagat gives exactly the schema of a fresh install, and
//! keeps its data.
#![allow(clippy::unwrap_used)]

use rusqlite::Connection;
use swagat_core::store::{schema_dump, Store, SCHEMA_VERSION};
use swagat_core::Kiosk;

#[test]
fn v1_fixture_upgrades_to_the_fresh_schema_and_keeps_data() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old.db");
    let conn = Connection::open(&old).unwrap();
    conn.execute_batch(include_str!("fixtures/schema_v1.sql"))
        .unwrap();
    assert_eq!(
        conn.pragma_query_value(None, "user_version", |r| r.get::<_, i64>(0))
            .unwrap(),
        1
    );
    drop(conn);

    let upgraded = Store::open(&old).unwrap();
    let fresh = Store::open(&dir.path().join("fresh.db")).unwrap();
    let a = upgraded.read(schema_dump).unwrap();
    let b = fresh.read(schema_dump).unwrap();
    assert_eq!(a, b);
    let v: i64 = upgraded
        .read(|c| Ok(c.pragma_query_value(None, "user_version", |r| r.get(0))?))
        .unwrap();
    assert_eq!(v, SCHEMA_VERSION);
    drop(upgraded);

    let kiosk = Kiosk::open(&old).unwrap();
    let cfg = kiosk.config().unwrap();
    assert_eq!(cfg.settings.name_en, "UPHC Kankarbagh");
    assert_eq!(cfg.settings.kiosk_letter.as_deref(), Some("A"));
    assert_eq!(kiosk.staff().unwrap().len(), 1);
    assert!(!kiosk.status().unwrap().first_run);
    assert_eq!(kiosk.audit_log(10).unwrap().len(), 1);
}

#[test]
fn reopening_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("k.db");
    let a = Store::open(&p).unwrap().read(schema_dump).unwrap();
    let b = Store::open(&p).unwrap().read(schema_dump).unwrap();
    assert_eq!(a, b);
}

/// A database written by the v7 release (schema 7) through `swagat-admin`: a facility, four
/// patients (a Hindi name, a BPL patient with an ABHA number, an Aadhaar given with consent, an
/// edit kept in `patient_versions`), eight visits (one cancelled), a dialysis machine, shifts, a
/// dialysis patient and a booking, and an outbox not yet pushed. Every later migration must run
/// over real rows, keep them, and end in exactly the fresh schema.
#[test]
fn v7_release_with_data_upgrades_to_the_fresh_schema_and_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("v7.db");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/release_v7.db"),
        &old,
    )
    .unwrap();
    let conn = Connection::open(&old).unwrap();
    assert_eq!(
        conn.pragma_query_value(None, "user_version", |r| r.get::<_, i64>(0))
            .unwrap(),
        7
    );
    drop(conn);

    let upgraded = Store::open(&old).unwrap();
    let fresh = Store::open(&dir.path().join("fresh.db")).unwrap();
    assert_eq!(
        upgraded.read(schema_dump).unwrap(),
        fresh.read(schema_dump).unwrap()
    );
    let count = |sql: &str| -> i64 {
        upgraded
            .read(|c| Ok(c.query_row(sql, [], |r| r.get(0))?))
            .unwrap()
    };
    assert_eq!(count("SELECT COUNT(*) FROM patients"), 4);
    assert_eq!(count("SELECT COUNT(*) FROM visits"), 8);
    assert_eq!(
        count("SELECT COUNT(*) FROM visits WHERE status = 'cancelled'"),
        1
    );
    assert_eq!(count("SELECT COUNT(*) FROM patient_versions"), 1);
    assert_eq!(count("SELECT COUNT(*) FROM dialysis_bookings"), 1);
    assert_eq!(count("SELECT COUNT(*) FROM sync_outbox"), 17);
    let integrity: String = upgraded
        .read(|c| Ok(c.query_row("PRAGMA integrity_check", [], |r| r.get(0))?))
        .unwrap();
    assert_eq!(integrity, "ok");
    drop(upgraded);

    let kiosk = Kiosk::open(&old).unwrap();
    assert_eq!(kiosk.config().unwrap().settings.name_en, "UPHC Kankarbagh");
    // The name index was rebuilt over real rows: Latin, Devanagari and spelling-tolerant queries.
    for q in ["Sunita", "सुनीता", "Suneeta", "Ramesh Kumar"] {
        let (_, found) = kiosk.search_patients(q, 20).unwrap();
        assert!(!found.is_empty(), "{q} finds the upgraded patients");
    }
    let (_, found) = kiosk.search_patients("Sunita", 20).unwrap();
    assert_eq!(found.len(), 2, "both Sunita Devi records");
    let (_, found) = kiosk.search_patients("9123456780", 20).unwrap();
    assert_eq!(found.len(), 1, "the edited mobile is searchable");
}
