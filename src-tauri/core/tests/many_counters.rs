//! One facility, many counters, through the core: records written at the facility's other
//! kiosks are folded into each kiosk's tables (searchable, never re-queued), edits from any
//! counter merge field by field, server-only kinds are folded only from the server, and — the
//! property test — random interleavings of registrations, edits, cancels and merges at three
//! kiosks, delivered to each other in random orders and with replays, end in identical state.
//!
//! Delivery goes through the same door as the sync engine's pull: `SqliteKioskStore::apply_pulled`
//! with the core's pull hook, on real SQLite files (no server needed here; the real-binary tests
//! are in `tests/sync/many_counters.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use serde_json::{json, Value};
use swagat_core::config::ConfigPatch;
use swagat_core::opd::{PatientInput, PatientPatch, RegisterRequest};
use swagat_core::{Actor, Kiosk};
use swagat_sync_client::KioskStore;
use swagat_sync_protocol::{Envelope, Hlc};
use uuid::Uuid;

struct Counter {
    k: Kiosk,
    device: Uuid,
    facility: Uuid,
    cursor: u64,
    _dir: tempfile::TempDir,
}

fn counter(letter: &str, facility: Uuid) -> Counter {
    let dir = tempfile::tempdir().unwrap();
    let k = Kiosk::open(&dir.path().join("kiosk.db")).unwrap();
    k.update_config(
        &Actor::Cli,
        &ConfigPatch {
            name_en: Some("UPHC Kankarbagh".into()),
            kiosk_letter: Some(letter.into()),
            facility_code: Some("PTN12".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let device = Uuid::now_v7();
    let creds = json!({
        "server_url": "http://127.0.0.1:9", "device_id": device, "facility_id": facility,
        "facility_code": "PTN12", "facility_name": "UPHC Kankarbagh", "secret": "s"
    });
    k.store()
        .write(|tx| {
            tx.execute(
                "UPDATE sync_state SET credentials = ?1 WHERE id = 1",
                [creds.to_string()],
            )?;
            Ok(())
        })
        .unwrap();
    Counter {
        k,
        device,
        facility,
        cursor: 0,
        _dir: dir,
    }
}

fn envelope(
    id: Uuid,
    kind: &str,
    facility: Uuid,
    device: Uuid,
    seq: u64,
    hlc: u64,
    payload: String,
) -> Envelope {
    Envelope {
        id,
        kind: kind.to_owned(),
        facility,
        device,
        seq,
        hlc: Hlc::from_u64(hlc),
        schema: 1,
        payload: serde_json::value::RawValue::from_string(payload).unwrap(),
    }
}

/// Everything `c` ever queued, as the server would relay it.
fn outbox(c: &Counter) -> Vec<Envelope> {
    let rows: Vec<(i64, String, String, i64, String)> =
        c.k.store()
            .read(|conn| {
                let mut st = conn.prepare(
                    "SELECT seq, record_id, kind, hlc, payload FROM sync_outbox ORDER BY seq",
                )?;
                let v = st
                    .query_map([], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                Ok(v)
            })
            .unwrap();
    rows.into_iter()
        .map(|(seq, id, kind, hlc, payload)| {
            envelope(
                Uuid::parse_str(&id).unwrap(),
                &kind,
                c.facility,
                c.device,
                seq as u64,
                hlc as u64,
                payload,
            )
        })
        .collect()
}

fn last_seq(c: &Counter) -> i64 {
    c.k.store()
        .read(|conn| Ok(conn.query_row("SELECT last_seq FROM sync_state", [], |r| r.get(0))?))
        .unwrap()
}

/// Delivers `page` to `to` as one pulled page; folding it never queues anything.
fn deliver(to: &mut Counter, page: &[Envelope]) {
    let before = last_seq(to);
    to.cursor += 1;
    to.k.sync_store()
        .unwrap()
        .apply_pulled(page, to.cursor)
        .unwrap();
    assert_eq!(
        last_seq(to),
        before,
        "a folded record was queued as the kiosk's own"
    );
}

fn input(name: &str, mobile: &str) -> PatientInput {
    serde_json::from_value(
        json!({ "name": name, "gender": "F", "age_years": 41, "mobile": mobile }),
    )
    .unwrap()
}

fn register(c: &Counter, name: &str, mobile: &str) -> swagat_core::opd::Registration {
    c.k.register(
        &Actor::Cli,
        &RegisterRequest {
            department: "GEN".into(),
            patient: Some(input(name, mobile)),
            ..Default::default()
        },
    )
    .unwrap()
}

fn patch(v: Value) -> PatientPatch {
    serde_json::from_value(v).unwrap()
}

/// The patient and visit state a counter shows, as comparable JSON rows.
fn state(c: &Counter) -> (Vec<String>, Vec<String>) {
    c.k.store()
        .read(|conn| {
            let q = |sql: &str| -> rusqlite::Result<Vec<String>> {
                let mut st = conn.prepare(sql)?;
                let v = st.query_map([], |r| r.get(0))?.collect();
                v
            };
            Ok((
                q("SELECT json_array(id, uhid, name, gender, dob, mobile, pincode, category, \
                   merged_into, aadhaar_last4, updated_at, name_key) FROM patients ORDER BY id")?,
                q("SELECT json_array(id, patient_id, department, visit_date, kiosk_letter, token, \
                   status, cancel_reason, fee_rupees, visit_type) FROM visits ORDER BY id")?,
            ))
        })
        .unwrap()
}

#[test]
fn a_peer_patient_is_found_edited_and_never_requeued() {
    let facility = Uuid::now_v7();
    let (mut a, mut b) = (counter("A", facility), counter("B", facility));
    let reg = register(&a, "Sunita Devi", "9876543210");
    deliver(&mut b, &outbox(&a));

    // Search at B finds A's patient by name (FTS), phonetic spelling, mobile and UHID.
    for q in ["Sunita", "Suneeta", "9876543210", reg.uhid.as_str()] {
        let (_, found) = b.k.search_patients(q, 10).unwrap();
        assert_eq!(found.len(), 1, "{q}");
        assert_eq!(found[0].uhid, reg.uhid, "a peer's UHID is kept as issued");
    }
    // B registers a returning visit for A's patient with its own token, then corrects her.
    let visit =
        b.k.register(
            &Actor::Cli,
            &RegisterRequest {
                department: "GEN".into(),
                patient_id: Some(reg.patient_id.clone()),
                ..Default::default()
            },
        )
        .unwrap();
    assert!(visit.returning);
    assert!(visit.token.starts_with("B-"), "{}", visit.token);
    b.k.edit_patient(
        &Actor::Cli,
        &reg.patient_id,
        &patch(json!({"address": {"pincode": "800020"}})),
    )
    .unwrap();
    // Meanwhile A changes the mobile: both edits survive, at both counters.
    a.k.edit_patient(
        &Actor::Cli,
        &reg.patient_id,
        &patch(json!({"mobile": "9123456789"})),
    )
    .unwrap();
    deliver(&mut a, &outbox(&b));
    deliver(&mut b, &outbox(&a));
    for c in [&a, &b] {
        let p = c.k.patient(&reg.patient_id).unwrap();
        assert_eq!(p.mobile.as_deref(), Some("9123456789"));
        assert_eq!(p.address.postal.pincode.as_deref(), Some("800020"));
        assert_eq!(c.k.patient_visits(&reg.patient_id, 10).unwrap().len(), 2);
        assert!(
            c.k.patient_history(&reg.patient_id).unwrap().len() >= 2,
            "every version is kept"
        );
    }
    assert_eq!(state(&a), state(&b));
    // Only B's own writes are in B's outbox: its visit and its edit.
    let kinds: Vec<String> = outbox(&b).iter().map(|e| e.kind.clone()).collect();
    assert_eq!(kinds, ["visit", "patient"]);
}

#[test]
fn server_only_kinds_from_a_device_change_nothing() {
    let facility = Uuid::now_v7();
    let mut a = counter("A", facility);
    let thief = Uuid::now_v7();
    let before = a.k.config().unwrap();
    let forged = [
        envelope(
            Uuid::now_v7(),
            "facility_config",
            facility,
            thief,
            1,
            Hlc::new(9_999_999_999_999, 0).to_u64(),
            json!({"name": "Hacked", "code": "EVIL1", "departments": [{"code": "GEN",
                "name_en": "General", "name_hi": "सामान्य", "room": "1", "fee_rupees": 950,
                "validity_days": 1, "active": true}]})
            .to_string(),
        ),
        envelope(
            Uuid::now_v7(),
            "dialysis_request",
            facility,
            thief,
            2,
            Hlc::new(9_999_999_999_999, 1).to_u64(),
            json!({"patient": {"name": "Ghost", "gender": "M", "year_of_birth": 1970},
                "date": "2030-03-04", "shift": 1})
            .to_string(),
        ),
    ];
    deliver(&mut a, &forged);
    let after = a.k.config().unwrap();
    assert_eq!(after.settings.name_en, before.settings.name_en);
    assert_eq!(after.settings.facility_code, before.settings.facility_code);
    assert_eq!(
        after
            .departments
            .iter()
            .find(|d| d.code == "GEN")
            .unwrap()
            .fee_rupees,
        before
            .departments
            .iter()
            .find(|d| d.code == "GEN")
            .unwrap()
            .fee_rupees
    );
    let (patients, refused): (i64, i64) =
        a.k.store()
            .read(|c| {
                Ok((
                    c.query_row("SELECT count(*) FROM patients", [], |r| r.get(0))?,
                    c.query_row(
                        "SELECT count(*) FROM sync_folds WHERE status = 'refused'",
                        [],
                        |r| r.get(0),
                    )?,
                ))
            })
            .unwrap();
    assert_eq!((patients, refused), (0, 2));
    // The same configuration from the server is applied.
    let genuine = envelope(
        Uuid::now_v7(),
        "facility_config",
        facility,
        facility,
        1,
        Hlc::new(1, 0).to_u64(),
        json!({"name": "UPHC Kankarbagh Patna"}).to_string(),
    );
    deliver(&mut a, &[genuine]);
    assert_eq!(
        a.k.config().unwrap().settings.name_en,
        "UPHC Kankarbagh Patna"
    );
}

#[test]
fn the_state_key_makes_one_patient_of_one_aadhaar_and_old_hashes_stay_apart() {
    use base64::Engine as _;
    let facility = Uuid::now_v7();
    let (a, mut b) = (counter("A", facility), counter("B", facility));
    // Before enrollment's key: A hashes with its own key.
    let aadhaar = "999941057058";
    let early =
        a.k.register(
            &Actor::Cli,
            &RegisterRequest {
                department: "GEN".into(),
                patient: Some(
                    serde_json::from_value(json!({"name": "Ram Kumar", "gender": "M",
                        "age_years": 50, "aadhaar": aadhaar, "aadhaar_consent": true}))
                    .unwrap(),
                ),
                ..Default::default()
            },
        )
        .unwrap();
    let key = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
    for c in [&a, &b] {
        c.k.store()
            .write(|tx| {
                tx.execute(
                    "UPDATE sync_state SET credentials = json_set(credentials, '$.aadhaar_key', ?1, \
                     '$.aadhaar_key_id', 'state-br-1') WHERE id = 1",
                    [&key],
                )?;
                // Installed at the next fold (as after an enrollment by an older build).
                swagat_core::inbox::fold_pending(tx)?;
                Ok(())
            })
            .unwrap();
    }
    let reg = |c: &Counter, name: &str| {
        c.k.register(
            &Actor::Cli,
            &RegisterRequest {
                department: "GEN".into(),
                patient: Some(
                    serde_json::from_value(json!({"name": name, "gender": "F",
                        "age_years": 30, "aadhaar": "234123412346", "aadhaar_consent": true}))
                    .unwrap(),
                ),
                ..Default::default()
            },
        )
        .unwrap()
    };
    let first = reg(&a, "Geeta Kumari");
    deliver(&mut b, &outbox(&a));
    // Spelled otherwise at B: only the state key's hash can find her.
    let second = reg(&b, "Gita Devi");
    assert!(
        second.returning,
        "the same Aadhaar at the second counter is the same patient"
    );
    assert_eq!(second.patient_id, first.patient_id);
    // The early hash was made with A's own key: it is kept, but never compared with state hashes.
    let again = reg(&a, "Gita Devi");
    assert_eq!(again.patient_id, first.patient_id);
    let key_ids: Vec<Option<String>> = a
        .k
        .store()
        .read(|c| {
            let mut st = c.prepare("SELECT aadhaar_key_id FROM patients ORDER BY created_at")?;
            let v = st
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(v)
        })
        .unwrap();
    assert!(
        key_ids[0].as_deref().unwrap().starts_with("local:"),
        "{key_ids:?}"
    );
    assert_eq!(key_ids[1].as_deref(), Some("state-br-1"));
    let (_, found) = a.k.search_patients(aadhaar, 5).unwrap();
    assert!(
        found.is_empty(),
        "a hash from the local key does not match the state key's: {}",
        early.uhid
    );
}

#[test]
fn own_records_come_back_after_a_restore() {
    let facility = Uuid::now_v7();
    let a = counter("A", facility);
    let reg = register(&a, "Lakshmi Devi", "9811122233");
    a.k.edit_patient(
        &Actor::Cli,
        &reg.patient_id,
        &patch(json!({"mobile": "9811122244"})),
    )
    .unwrap();
    let sent = outbox(&a);
    // The same kiosk from a backup that lacks them (a fresh database with the same device).
    let mut restored = counter("A", facility);
    restored.device = a.device;
    restored
        .k
        .store()
        .write(|tx| {
            tx.execute(
                "UPDATE sync_state SET credentials = json_set(credentials, '$.device_id', ?1)",
                [a.device.to_string()],
            )?;
            Ok(())
        })
        .unwrap();
    deliver(&mut restored, &sent);
    deliver(&mut restored, &sent);
    assert_eq!(
        restored
            .k
            .patient(&reg.patient_id)
            .unwrap()
            .mobile
            .as_deref(),
        Some("9811122244")
    );
    assert_eq!(state(&restored), state(&a));
}

#[test]
fn a_peer_dialysis_machine_is_held_but_never_queued() {
    let facility = Uuid::now_v7();
    let (a, mut b) = (counter("A", facility), counter("B", facility));
    a.k.store()
        .write(|tx| {
            swagat_dialysis::machines::add(tx, "HD-1", swagat_dialysis::Pool::Negative)?;
            Ok(())
        })
        .unwrap();
    let sent = outbox(&a);
    assert_eq!(sent[0].kind, "dialysis_machine");
    deliver(&mut b, &sent);
    deliver(&mut b, &sent);
    let n: i64 =
        b.k.store()
            .read(|c| Ok(c.query_row("SELECT count(*) FROM dialysis_machines", [], |r| r.get(0))?))
            .unwrap();
    assert_eq!(n, 1);
}

fn machines(c: &Counter) -> Vec<(String, String, String, bool)> {
    c.k.dialysis()
        .machines(&Actor::Cli)
        .unwrap()
        .into_iter()
        .map(|m| (m.id, m.name, m.pool.to_string(), m.active))
        .collect()
}

#[test]
fn a_machine_renamed_repooled_and_retired_at_one_counter_is_so_at_the_other() {
    let facility = Uuid::now_v7();
    let (a, mut b) = (counter("A", facility), counter("B", facility));
    let unit = a.k.dialysis();
    unit.add_machine(&Actor::Cli, "HD-1", swagat_core::dialysis::Pool::Negative)
        .unwrap();
    unit.add_machine(&Actor::Cli, "HD-2", swagat_core::dialysis::Pool::Negative)
        .unwrap();
    unit.rename_machine(&Actor::Cli, "HD-1", "HD-01").unwrap();
    unit.set_machine_pool(&Actor::Cli, "HD-01", swagat_core::dialysis::Pool::Hbv)
        .unwrap();
    unit.retire_machine(&Actor::Cli, "HD-2").unwrap();
    // Every version in order, and the last ones again out of order: the newest stamp wins.
    let sent = outbox(&a);
    deliver(&mut b, &sent);
    let mut again = sent.clone();
    again.reverse();
    deliver(&mut b, &again);
    assert_eq!(machines(&b), machines(&a));
    let names: Vec<(String, String, bool)> = machines(&b)
        .into_iter()
        .map(|(_, n, p, act)| (n, p, act))
        .collect();
    assert_eq!(
        names,
        vec![
            ("HD-01".into(), "hbv".into(), true),
            ("HD-2".into(), "negative".into(), false)
        ]
    );
}

#[test]
fn two_counters_naming_two_machines_alike_end_with_the_same_names() {
    let facility = Uuid::now_v7();
    let (mut a, mut b) = (counter("A", facility), counter("B", facility));
    a.k.dialysis()
        .add_machine(&Actor::Cli, "HD-3", swagat_core::dialysis::Pool::Negative)
        .unwrap();
    b.k.dialysis()
        .add_machine(&Actor::Cli, "hd-3", swagat_core::dialysis::Pool::Hbv)
        .unwrap();
    let (from_a, from_b) = (outbox(&a), outbox(&b));
    deliver(&mut b, &from_a);
    deliver(&mut a, &from_b);
    assert_eq!(machines(&a), machines(&b), "the same names everywhere");
    let all = machines(&a);
    assert_eq!(all.len(), 2);
    // The smaller id keeps the name; the other carries the tail of its id.
    let (first, second) = if all[0].0 < all[1].0 {
        (&all[0], &all[1])
    } else {
        (&all[1], &all[0])
    };
    assert!(first.1.eq_ignore_ascii_case("HD-3"), "{all:?}");
    assert!(
        second.1.ends_with(&second.0[second.0.len() - 6..]),
        "{all:?}"
    );
}

/// Delivers `page` to `to` like [`deliver`], allowing the fold to queue (a settled clash is the
/// kiosk's own decision).
fn deliver_settling(to: &mut Counter, page: &[Envelope]) {
    to.cursor += 1;
    to.k.sync_store()
        .unwrap()
        .apply_pulled(page, to.cursor)
        .unwrap();
}

fn bookings(c: &Counter) -> Vec<(String, String, Option<String>, Option<String>)> {
    c.k.store()
        .read(|conn| {
            let mut st = conn.prepare(
                "SELECT id, status, machine_id, status_reason FROM dialysis_bookings ORDER BY id",
            )?;
            let v = st
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(v)
        })
        .unwrap()
}

fn failed_folds(c: &Counter) -> i64 {
    c.k.store()
        .read(|conn| {
            Ok(conn.query_row(
                "SELECT count(*) FROM sync_folds WHERE status = 'failed'",
                [],
                |r| r.get(0),
            )?)
        })
        .unwrap()
}

#[test]
fn two_counters_booking_one_machine_shift_settle_it_the_same_way_and_say_so() {
    use swagat_core::dialysis::{BookForm, PatientForm, Pool, Serology};
    let facility = Uuid::now_v7();
    let (mut a, mut b) = (counter("A", facility), counter("B", facility));
    let unit = a.k.dialysis();
    unit.add_machine(&Actor::Cli, "HD-1", Pool::Negative)
        .unwrap();
    let mut patients = Vec::new();
    for (name, mobile) in [("Sita Devi", "9876543210"), ("Mohan Lal", "9123456780")] {
        let p = register(&a, name, mobile).patient_id;
        unit.set_patient(
            &Actor::Cli,
            &PatientForm {
                patient_id: p.clone(),
                hbsag: Some(Serology::Neg),
                hcv: Some(Serology::Neg),
                hiv: Some(Serology::Neg),
                tested_on: Some("2030-02-01".into()),
                ..Default::default()
            },
        )
        .unwrap();
        patients.push(p);
    }
    deliver(&mut b, &outbox(&a));
    // Offline from each other, both counters give HD-1, Monday shift 1, to a different patient,
    // and each books Sita's Monday (one patient, one day, twice).
    let book = |c: &Counter, p: &str, shift| {
        c.k.dialysis()
            .book(
                &Actor::Cli,
                &BookForm {
                    patient_id: p.into(),
                    date: "2030-03-04".into(),
                    shift,
                    ..Default::default()
                },
            )
            .unwrap()
    };
    book(&a, &patients[0], 1);
    book(&b, &patients[1], 1);
    book(&b, &patients[0], 2);
    for _ in 0..3 {
        let (from_a, from_b) = (outbox(&a), outbox(&b));
        deliver_settling(&mut b, &from_a);
        deliver_settling(&mut a, &from_b);
    }
    assert_eq!(
        bookings(&a),
        bookings(&b),
        "both kiosks hold the same bookings"
    );
    assert_eq!(
        (failed_folds(&a), failed_folds(&b)),
        (0, 0),
        "no fold is left failing"
    );
    let all = bookings(&a);
    let on_machine = all
        .iter()
        .filter(|x| x.1 == "confirmed" && x.2.is_some())
        .count();
    // Sita's earlier booking (A's, the smallest id) keeps HD-1 shift 1; Mohan waits; B's second
    // booking of Sita that Monday is cancelled.
    assert_eq!(on_machine, 1, "one machine-shift, one session: {all:?}");
    assert_eq!(
        all.iter().map(|x| x.1.as_str()).collect::<Vec<_>>(),
        vec!["confirmed", "waitlisted", "cancelled"],
        "{all:?}"
    );
    // The nurse sees it: an audit entry per settled clash, and the loser on the waitlist.
    let log = a.k.audit_log(100).unwrap();
    assert!(log
        .iter()
        .any(|e| e.action == swagat_core::dialysis::actions::SYNC_CLASH));
}

// ---- The convergence property ----

const NAMES: &[&str] = &[
    "Sita Devi",
    "Ramesh Kumar",
    "Anita Kumari",
    "Mohan Lal",
    "Kavita Singh",
];
const MOBILES: &[&str] = &["9876543210", "9123456780", "8877665544", "7766554433"];
const PINS: &[&str] = &["800001", "800020", "801503"];
const CATEGORIES: &[&str] = &["general", "bpl", "senior_citizen"];

#[derive(Debug, Clone)]
enum Op {
    Register {
        at: usize,
        name: usize,
        mobile: usize,
    },
    Returning {
        at: usize,
        pick: usize,
    },
    Edit {
        at: usize,
        pick: usize,
        field: usize,
        value: usize,
    },
    Cancel {
        at: usize,
        pick: usize,
    },
    Merge {
        at: usize,
        keep: usize,
        dup: usize,
    },
    Sync {
        from: usize,
        to: usize,
        seed: u64,
        chunk: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..3usize, 0..NAMES.len(), 0..MOBILES.len())
            .prop_map(|(at, name, mobile)| Op::Register { at, name, mobile }),
        1 => (0..3usize, any::<usize>()).prop_map(|(at, pick)| Op::Returning { at, pick }),
        3 => (0..3usize, any::<usize>(), 0..4usize, any::<usize>())
            .prop_map(|(at, pick, field, value)| Op::Edit { at, pick, field, value }),
        1 => (0..3usize, any::<usize>()).prop_map(|(at, pick)| Op::Cancel { at, pick }),
        1 => (0..3usize, any::<usize>(), any::<usize>())
            .prop_map(|(at, keep, dup)| Op::Merge { at, keep, dup }),
        3 => (0..3usize, 0..3usize, any::<u64>(), 1..4usize)
            .prop_map(|(from, to, seed, chunk)| Op::Sync { from, to, seed, chunk }),
    ]
}

fn ids(c: &Counter, sql: &str) -> Vec<String> {
    c.k.store()
        .read(|conn| {
            let mut st = conn.prepare(sql)?;
            let v = st
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(v)
        })
        .unwrap()
}

fn live_patients(c: &Counter) -> Vec<String> {
    ids(
        c,
        "SELECT id FROM patients WHERE merged_into IS NULL ORDER BY id",
    )
}

/// A deterministic shuffle (xorshift), so a failing case replays exactly.
fn shuffle<T>(v: &mut [T], mut seed: u64) {
    seed |= 1;
    for i in (1..v.len()).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        v.swap(i, (seed % (i as u64 + 1)) as usize);
    }
}

/// Delivers all of `from`'s records to `to` (replays included), shuffled, in pages of `chunk`.
fn sync(cs: &mut [Counter], from: usize, to: usize, seed: u64, chunk: usize) {
    if from == to {
        return;
    }
    let mut all = outbox(&cs[from]);
    shuffle(&mut all, seed);
    for page in all.chunks(chunk.max(1)) {
        deliver(&mut cs[to], page);
    }
}

fn apply(cs: &mut [Counter], op: &Op) {
    match *op {
        Op::Register { at, name, mobile } => {
            register(&cs[at], NAMES[name], MOBILES[mobile]);
        }
        Op::Returning { at, pick } => {
            let live = live_patients(&cs[at]);
            if live.is_empty() {
                return;
            }
            // A second visit the same day is a follow-up; refusals are fine.
            let _ = cs[at].k.register(
                &Actor::Cli,
                &RegisterRequest {
                    department: "GEN".into(),
                    patient_id: Some(live[pick % live.len()].clone()),
                    ..Default::default()
                },
            );
        }
        Op::Edit {
            at,
            pick,
            field,
            value,
        } => {
            let live = live_patients(&cs[at]);
            if live.is_empty() {
                return;
            }
            let p = match field {
                0 => json!({ "mobile": MOBILES[value % MOBILES.len()] }),
                1 => json!({ "name": NAMES[value % NAMES.len()] }),
                2 => json!({ "address": { "pincode": PINS[value % PINS.len()] } }),
                _ => json!({ "category": CATEGORIES[value % CATEGORIES.len()] }),
            };
            cs[at]
                .k
                .edit_patient(&Actor::Cli, &live[pick % live.len()], &patch(p))
                .unwrap();
        }
        Op::Cancel { at, pick } => {
            let active = ids(
                &cs[at],
                "SELECT id FROM visits WHERE status = 'active' ORDER BY id",
            );
            if active.is_empty() {
                return;
            }
            cs[at]
                .k
                .cancel_visit(
                    &Actor::Cli,
                    &active[pick % active.len()],
                    "wrong department",
                )
                .unwrap();
        }
        Op::Merge { at, keep, dup } => {
            let live = live_patients(&cs[at]);
            if live.len() < 2 {
                return;
            }
            let (k, d) = (keep % live.len(), dup % live.len());
            if k == d {
                return;
            }
            cs[at]
                .k
                .merge_patients(&Actor::Cli, &live[k], &live[d])
                .unwrap();
        }
        Op::Sync {
            from,
            to,
            seed,
            chunk,
        } => sync(cs, from, to, seed, chunk),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn three_counters_converge_whatever_the_order(ops in prop::collection::vec(op(), 4..28), seed in any::<u64>()) {
        let facility = Uuid::now_v7();
        let mut cs = vec![counter("A", facility), counter("B", facility), counter("C", facility)];
        for op in &ops {
            apply(&mut cs, op);
        }
        // Everyone hears everything, in random orders, twice (replays, and retries of a visit
        // that arrived before its patient).
        for round in 0..2u64 {
            for from in 0..3 {
                for to in 0..3 {
                    sync(&mut cs, from, to, seed ^ (round * 31 + from as u64 * 7 + to as u64), 2);
                }
            }
        }
        let want = state(&cs[0]);
        let shared = cs[0].k.store().read(swagat_core::records::shared_snapshot).unwrap();
        for c in &cs[1..] {
            prop_assert_eq!(&state(c), &want);
            prop_assert_eq!(&c.k.store().read(swagat_core::records::shared_snapshot).unwrap(), &shared);
        }
        // Nothing is left unfolded.
        for c in &cs {
            prop_assert!(ids(c, "SELECT record_id FROM sync_fold_queue").is_empty());
        }
    }
}
