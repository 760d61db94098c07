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
