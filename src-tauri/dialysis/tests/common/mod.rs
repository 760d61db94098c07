//! Test helpers: an in-memory database with the core's `patients` table stubbed, and shortcuts.
#![allow(clippy::unwrap_used, dead_code)]

use rusqlite::Connection;
use swagat_dialysis::{machines, patients, PatientUpdate, Pool, Serology};
use time::Date;

/// A fresh database: a minimal `patients` table, then the migration (in one transaction, as the
/// core runs it).
pub fn db() -> Connection {
    let mut c = Connection::open_in_memory().unwrap();
    c.pragma_update(None, "foreign_keys", "ON").unwrap();
    let tx = c.transaction().unwrap();
    tx.execute_batch("CREATE TABLE patients (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL)")
        .unwrap();
    tx.execute_batch(swagat_dialysis::MIGRATION).unwrap();
    tx.commit().unwrap();
    c
}

/// Registers a patient in the stub table and records serology tested on `tested`.
pub fn patient(c: &Connection, id: &str, s: [Serology; 3], tested: Date) {
    c.execute(
        "INSERT INTO patients (id, name) VALUES (?1, ?2)",
        [id, &format!("Patient {id}")],
    )
    .unwrap();
    patients::set(
        c,
        &PatientUpdate {
            patient_id: id.into(),
            hbsag: Some(s[0]),
            hcv: Some(s[1]),
            hiv: Some(s[2]),
            tested_on: Some(tested),
            ..Default::default()
        },
    )
    .unwrap();
}

pub const NEG: [Serology; 3] = [Serology::Neg, Serology::Neg, Serology::Neg];
pub const HBV: [Serology; 3] = [Serology::Pos, Serology::Neg, Serology::Neg];
pub const HCV: [Serology; 3] = [Serology::Neg, Serology::Pos, Serology::Neg];
pub const HIV: [Serology; 3] = [Serology::Neg, Serology::Neg, Serology::Pos];
pub const UNK: [Serology; 3] = [Serology::Unknown, Serology::Neg, Serology::Neg];

/// Adds a machine, returning its id.
pub fn machine(c: &Connection, name: &str, pool: Pool) -> String {
    machines::add(c, name, pool).unwrap().machine.id
}
