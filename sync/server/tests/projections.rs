//! The projections' invariant, as a property test on both backends: after random pushes,
//! edits, cancels, merges (visits moving to the kept patient), stale versions arriving late,
//! dialysis machines and bookings, and replays of whole batches, every `proj_*` table of the
//! facility equals [`swagat_server::projections::recount`] of its change log.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use proptest::prelude::*;
use serde_json::{json, Value};
use std::sync::{Arc, OnceLock};
use support::Backend;
use swagat_server::projections::{recount, Recount};
use swagat_server::store::{Device, NewFacility, Sql};
use swagat_server::{secrets, DbStore, Store};
use swagat_sync_protocol::{Envelope, Hlc};
use uuid::Uuid;

#[derive(Debug, Clone)]
enum Op {
    NewPatient {
        dev: usize,
        gender: u8,
        birth: Option<u16>,
    },
    EditPatient {
        p: usize,
        gender: u8,
        birth: Option<u16>,
    },
    NewVisit {
        dev: usize,
        p: usize,
        day: u8,
        dept: u8,
        follow: bool,
        waiver: bool,
        abha: bool,
    },
    CancelVisit {
        v: usize,
    },
    Merge {
        keep: usize,
        gone: usize,
    },
    StaleEdit {
        v: usize,
        day: u8,
    },
    /// A newer edit moves a visit to another day (and changes what it counts there).
    MoveVisit {
        v: usize,
        day: u8,
        follow: bool,
    },
    NewMachine {
        dev: usize,
        pool: u8,
    },
    EditMachine {
        m: usize,
        pool: u8,
    },
    NewBooking {
        dev: usize,
        m: Option<usize>,
        day: u8,
        shift: u8,
        status: u8,
    },
    EditBooking {
        b: usize,
        status: u8,
    },
    Flush,
    Replay,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..2usize, 0..4u8, proptest::option::of(1940..2026u16))
            .prop_map(|(dev, gender, birth)| Op::NewPatient { dev, gender, birth }),
        (0..50usize, 0..4u8, proptest::option::of(1940..2026u16))
            .prop_map(|(p, gender, birth)| Op::EditPatient { p, gender, birth }),
        (
            0..2usize,
            0..50usize,
            0..5u8,
            0..3u8,
            any::<bool>(),
            any::<bool>(),
            any::<bool>()
        )
            .prop_map(|(dev, p, day, dept, follow, waiver, abha)| Op::NewVisit {
                dev,
                p,
                day,
                dept,
                follow,
                waiver,
                abha
            }),
        (
            0..50usize,
            0..5u8,
            any::<bool>(),
            any::<bool>(),
            any::<bool>()
        )
            .prop_map(|(p, day, follow, waiver, abha)| Op::NewVisit {
                dev: 0,
                p,
                day,
                dept: 0,
                follow,
                waiver,
                abha
            }),
        (0..80usize).prop_map(|v| Op::CancelVisit { v }),
        (0..80usize, 0..5u8, any::<bool>()).prop_map(|(v, day, follow)| Op::MoveVisit {
            v,
            day,
            follow
        }),
        (0..50usize, 0..50usize).prop_map(|(keep, gone)| Op::Merge { keep, gone }),
        (0..80usize, 0..5u8).prop_map(|(v, day)| Op::StaleEdit { v, day }),
        (0..2usize, 0..3u8).prop_map(|(dev, pool)| Op::NewMachine { dev, pool }),
        (0..10usize, 0..3u8).prop_map(|(m, pool)| Op::EditMachine { m, pool }),
        (
            0..2usize,
            proptest::option::of(0..10usize),
            0..5u8,
            1..4u8,
            0..6u8
        )
            .prop_map(|(dev, m, day, shift, status)| Op::NewBooking {
                dev,
                m,
                day,
                shift,
                status
            }),
        (0..20usize, 0..6u8).prop_map(|(b, status)| Op::EditBooking { b, status }),
        Just(Op::Flush),
        Just(Op::Replay),
    ]
}

struct Rec {
    id: Uuid,
    dev: usize,
    payload: Value,
    hlc: u64,
}

struct Model {
    devices: Vec<Device>,
    seq: Vec<u64>,
    clock: u64,
    pending: Vec<Vec<Envelope>>,
    last_batch: Option<(usize, Vec<Envelope>)>,
    patients: Vec<Rec>,
    visits: Vec<Rec>,
    machines: Vec<Rec>,
    bookings: Vec<Rec>,
}

const DEPTS: [&str; 3] = ["general", "eye", "dental"];
const GENDERS: [&str; 4] = ["M", "F", "T", "O"];
const POOLS: [&str; 3] = ["negative", "hbsag", "hcv"];
const STATUSES: [&str; 6] = [
    "confirmed",
    "waitlisted",
    "checked_in",
    "no_show",
    "completed",
    "cancelled",
];

fn date(day: u8) -> String {
    format!("2026-03-{:02}", 10 + day)
}

impl Model {
    fn write(
        &mut self,
        kind: &str,
        dev: usize,
        id: Uuid,
        payload: &Value,
        hlc: Option<u64>,
    ) -> u64 {
        self.clock += 1;
        let h = hlc.unwrap_or(self.clock);
        self.seq[dev] += 1;
        let d = &self.devices[dev];
        self.pending[dev].push(Envelope {
            id,
            kind: kind.into(),
            facility: d.facility_id,
            device: d.id,
            seq: self.seq[dev],
            hlc: Hlc::new(1_700_000_000_000 + h, 0),
            schema: 1,
            payload: serde_json::value::RawValue::from_string(payload.to_string()).unwrap(),
        });
        h
    }

    fn patient_payload(i: usize, gender: u8, birth: Option<u16>, merged: Option<Uuid>) -> Value {
        json!({"uhid": format!("U{i}"), "name": format!("P{i}"), "gender": GENDERS[gender as usize % 4],
            "dob": birth.map(|y| format!("{y}-06-15")), "year_of_birth": birth, "mobile": "9999999999",
            "merged_into": merged})
    }

    fn apply(&mut self, op: &Op) {
        match *op {
            Op::NewPatient { dev, gender, birth } => {
                let id = Uuid::now_v7();
                let p = Self::patient_payload(self.patients.len(), gender, birth, None);
                let hlc = self.write("patient", dev, id, &p, None);
                self.patients.push(Rec {
                    id,
                    dev,
                    payload: p,
                    hlc,
                });
            }
            Op::EditPatient { p, gender, birth } if !self.patients.is_empty() => {
                let i = p % self.patients.len();
                let (id, dev) = (self.patients[i].id, self.patients[i].dev);
                let merged = self.patients[i].payload["merged_into"]
                    .as_str()
                    .and_then(|s| Uuid::parse_str(s).ok());
                let pl = Self::patient_payload(i, gender, birth, merged);
                let hlc = self.write("patient", dev, id, &pl, None);
                self.patients[i] = Rec {
                    id,
                    dev,
                    payload: pl,
                    hlc,
                };
            }
            Op::NewVisit {
                dev,
                p,
                day,
                dept,
                follow,
                waiver,
                abha,
            } => {
                let patient = if self.patients.is_empty() {
                    Uuid::now_v7()
                } else {
                    self.patients[p % self.patients.len()].id
                };
                let id = Uuid::now_v7();
                let v = json!({"patient_id": patient, "visit_date": date(day), "department": DEPTS[dept as usize % 3],
                    "token": format!("A-{:03}", self.visits.len() + 1), "visit_type": if follow { "follow_up" } else { "new" },
                    "fee_rupees": if waiver || follow { 0 } else { 10 }, "waiver_code": if waiver { Some("bpl") } else { None },
                    "valid_until": date(day), "status": "active", "abha_linked": abha, "created_at": "2026-03-10T04:00:00Z"});
                let hlc = self.write("visit", dev, id, &v, None);
                self.visits.push(Rec {
                    id,
                    dev,
                    payload: v,
                    hlc,
                });
            }
            Op::CancelVisit { v } if !self.visits.is_empty() => {
                let i = v % self.visits.len();
                let mut pl = self.visits[i].payload.clone();
                pl["status"] = json!("cancelled");
                let (id, dev) = (self.visits[i].id, self.visits[i].dev);
                let hlc = self.write("visit", dev, id, &pl, None);
                self.visits[i] = Rec {
                    id,
                    dev,
                    payload: pl,
                    hlc,
                };
            }
            Op::Merge { keep, gone } if self.patients.len() >= 2 => {
                let (k, g) = (keep % self.patients.len(), gone % self.patients.len());
                if k == g {
                    return;
                }
                let (keep_id, gone_id) = (self.patients[k].id, self.patients[g].id);
                let mut pl = self.patients[g].payload.clone();
                pl["merged_into"] = json!(keep_id);
                let dev = self.patients[g].dev;
                let hlc = self.write("patient", dev, gone_id, &pl, None);
                self.patients[g] = Rec {
                    id: gone_id,
                    dev,
                    payload: pl,
                    hlc,
                };
                for i in 0..self.visits.len() {
                    if self.visits[i].payload["patient_id"] == json!(gone_id) {
                        let mut pl = self.visits[i].payload.clone();
                        pl["patient_id"] = json!(keep_id);
                        let (id, dev) = (self.visits[i].id, self.visits[i].dev);
                        let hlc = self.write("visit", dev, id, &pl, None);
                        self.visits[i] = Rec {
                            id,
                            dev,
                            payload: pl,
                            hlc,
                        };
                    }
                }
            }
            Op::MoveVisit { v, day, follow } if !self.visits.is_empty() => {
                let i = v % self.visits.len();
                let mut pl = self.visits[i].payload.clone();
                pl["visit_date"] = json!(date(day));
                pl["visit_type"] = json!(if follow { "follow_up" } else { "new" });
                pl["fee_rupees"] = json!(if follow { 0 } else { 10 });
                let (id, dev) = (self.visits[i].id, self.visits[i].dev);
                let hlc = self.write("visit", dev, id, &pl, None);
                self.visits[i] = Rec {
                    id,
                    dev,
                    payload: pl,
                    hlc,
                };
            }
            Op::StaleEdit { v, day } if !self.visits.is_empty() => {
                // A version older than the current one arrives later: it must not win.
                let i = v % self.visits.len();
                let mut pl = self.visits[i].payload.clone();
                pl["visit_date"] = json!(date(day));
                pl["status"] = json!("active");
                let (id, dev, cur) = (self.visits[i].id, self.visits[i].dev, self.visits[i].hlc);
                self.write("visit", dev, id, &pl, Some(cur.saturating_sub(1)));
            }
            Op::NewMachine { dev, pool } => {
                let id = Uuid::now_v7();
                let m = json!({"id": id.to_string(), "name": format!("M{}", self.machines.len()), "pool": POOLS[pool as usize % 3], "active": true});
                let hlc = self.write("dialysis_machine", dev, id, &m, None);
                self.machines.push(Rec {
                    id,
                    dev,
                    payload: m,
                    hlc,
                });
            }
            Op::EditMachine { m, pool } if !self.machines.is_empty() => {
                let i = m % self.machines.len();
                let mut pl = self.machines[i].payload.clone();
                pl["pool"] = json!(POOLS[pool as usize % 3]);
                let (id, dev) = (self.machines[i].id, self.machines[i].dev);
                let hlc = self.write("dialysis_machine", dev, id, &pl, None);
                self.machines[i] = Rec {
                    id,
                    dev,
                    payload: pl,
                    hlc,
                };
            }
            Op::NewBooking {
                dev,
                m,
                day,
                shift,
                status,
            } => {
                let id = Uuid::now_v7();
                let machine = m
                    .and_then(|m| self.machines.get(m % self.machines.len().max(1)))
                    .map(|r| r.id.to_string());
                let b = json!({"id": id.to_string(), "patient_id": Uuid::now_v7(), "date": date(day), "shift": shift,
                    "machine_id": machine, "status": STATUSES[status as usize % 6]});
                let hlc = self.write("dialysis_booking", dev, id, &b, None);
                self.bookings.push(Rec {
                    id,
                    dev,
                    payload: b,
                    hlc,
                });
            }
            Op::EditBooking { b, status } if !self.bookings.is_empty() => {
                let i = b % self.bookings.len();
                let mut pl = self.bookings[i].payload.clone();
                pl["status"] = json!(STATUSES[status as usize % 6]);
                let (id, dev) = (self.bookings[i].id, self.bookings[i].dev);
                let hlc = self.write("dialysis_booking", dev, id, &pl, None);
                self.bookings[i] = Rec {
                    id,
                    dev,
                    payload: pl,
                    hlc,
                };
            }
            _ => {}
        }
    }
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    })
}

async fn open(backend: Backend) -> Option<Arc<DbStore>> {
    let url = match backend {
        Backend::Sqlite => {
            let dir = Box::leak(Box::new(tempfile::tempdir().unwrap()));
            format!("sqlite:{}", dir.path().join("p.db").display())
        }
        Backend::Postgres => support::pg_url()?,
    };
    Some(Arc::new(DbStore::open(&url).await.unwrap()))
}

async fn facility_with_devices(store: &DbStore, n: usize) -> (Uuid, Vec<Device>) {
    let code = format!("P{}", Uuid::now_v7().simple());
    let first = secrets::new_enrollment_code();
    let f = store
        .add_facility(
            NewFacility {
                code: code.clone(),
                name: "Prop PHC".into(),
                hfr_id: None,
                state_lgd: None,
                district_lgd: Some(1),
            },
            secrets::hash_enrollment_code(&first),
        )
        .await
        .unwrap();
    let mut devices = Vec::new();
    for i in 0..n {
        let c = if i == 0 {
            first.clone()
        } else {
            let c = secrets::new_enrollment_code();
            store
                .add_enrollment_code(code.clone(), secrets::hash_enrollment_code(&c))
                .await
                .unwrap();
            c
        };
        let d = store
            .enroll(swagat_server::store::EnrollParams {
                code_hash: secrets::hash_enrollment_code(&c),
                device_name: format!("k{i}"),
                secret_hash: secrets::hash_secret("s"),
                install_id: None,
                previous_device: None,
                previous_install: None,
                previous_acked: None,
            })
            .await
            .unwrap()
            .device;
        devices.push(d);
    }
    (f.id, devices)
}

async fn flush(store: &DbStore, m: &mut Model) {
    for dev in 0..m.devices.len() {
        let batch = std::mem::take(&mut m.pending[dev]);
        if batch.is_empty() {
            continue;
        }
        let r = store
            .ingest(m.devices[dev].clone(), batch.clone())
            .await
            .unwrap();
        assert!(r.rejected.is_empty(), "{:?}", r.rejected);
        m.last_batch = Some((dev, batch));
    }
}

fn s(v: &Option<String>) -> String {
    v.clone().unwrap_or_else(|| "∅".into())
}

fn cell(v: &Sql) -> String {
    v.text().unwrap_or_else(|| "∅".into())
}

async fn table(store: &DbStore, sql: &str, facility: Uuid) -> Vec<Vec<String>> {
    let mut rows: Vec<Vec<String>> = store
        .sql_query(sql.into(), vec![Sql::Uuid(facility)])
        .await
        .unwrap()
        .iter()
        .map(|r| r.iter().map(cell).collect())
        .collect();
    rows.sort();
    rows
}

fn expected(r: &Recount) -> [Vec<Vec<String>>; 5] {
    let b = |x: bool| if x { "1".to_string() } else { "0".to_string() };
    let mut p: Vec<Vec<String>> = r
        .patients
        .values()
        .map(|p| {
            vec![
                p.record_id.to_string(),
                s(&p.uhid),
                s(&p.name),
                s(&p.gender),
                s(&p.birth_date),
                s(&p.merged_into),
                p.version.hlc.to_string(),
                p.version.device.to_string(),
            ]
        })
        .collect();
    let mut v: Vec<Vec<String>> = r
        .visits
        .values()
        .map(|e| {
            let v = &e.row;
            vec![
                v.record_id.to_string(),
                s(&v.patient_id.map(|p| p.to_string())),
                v.visit_date.clone(),
                v.department.clone(),
                s(&v.token),
                v.visit_type.clone(),
                v.fee_rupees.to_string(),
                s(&v.waiver_code),
                b(v.cancelled),
                b(v.abha_linked),
                b(v.scan_share),
                e.gender.clone(),
                e.age_band.clone(),
                v.version.hlc.to_string(),
                v.version.device.to_string(),
            ]
        })
        .collect();
    let mut d: Vec<Vec<String>> = r
        .daily
        .iter()
        .map(|((_, date), d)| {
            vec![
                date.clone(),
                d.registrations.to_string(),
                d.new_visits.to_string(),
                d.follow_ups.to_string(),
                d.cancelled.to_string(),
                d.abha_linked.to_string(),
                d.scan_share.to_string(),
                d.fees.to_string(),
                d.waived.to_string(),
            ]
        })
        .collect();
    let mut m: Vec<Vec<String>> = r
        .machines
        .values()
        .map(|m| {
            vec![
                m.record_id.to_string(),
                m.machine_id.clone(),
                s(&m.pool),
                b(m.active),
                m.version.hlc.to_string(),
            ]
        })
        .collect();
    let mut k: Vec<Vec<String>> = r
        .bookings
        .values()
        .map(|(bk, pool)| {
            vec![
                bk.record_id.to_string(),
                bk.booking_date.clone(),
                bk.shift.clone(),
                s(&bk.machine_id),
                bk.status.clone(),
                s(pool),
                bk.version.hlc.to_string(),
            ]
        })
        .collect();
    for t in [&mut p, &mut v, &mut d, &mut m, &mut k] {
        t.sort();
    }
    [p, v, d, m, k]
}

async fn actual(store: &DbStore, f: Uuid) -> [Vec<Vec<String>>; 5] {
    [
        table(store, "SELECT record_id, uhid, name, gender, birth_date, merged_into, hlc, device_id FROM proj_patients WHERE facility_id = ?1", f).await,
        table(store, "SELECT record_id, patient_id, visit_date, department, token, visit_type, fee_rupees, waiver_code, cancelled, abha_linked, scan_share, gender, age_band, hlc, device_id FROM proj_visits WHERE facility_id = ?1", f).await,
        table(store, "SELECT visit_date, registrations, new_visits, follow_ups, cancelled, abha_linked, scan_share, fees, waived FROM proj_visit_daily WHERE facility_id = ?1", f).await,
        table(store, "SELECT record_id, machine_id, pool, active, hlc FROM proj_dialysis_machines WHERE facility_id = ?1", f).await,
        table(store, "SELECT record_id, booking_date, shift, machine_id, status, pool, hlc FROM proj_dialysis_bookings WHERE facility_id = ?1", f).await,
    ]
}

async fn change_log(store: &DbStore, f: Uuid) -> Vec<Envelope> {
    store
        .sql_query(
            "SELECT record_id, kind, facility_id, device_id, device_seq, hlc, payload FROM change_log WHERE facility_id = ?1 ORDER BY id".into(),
            vec![Sql::Uuid(f)],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| Envelope {
            id: Uuid::parse_str(&r[0].str()).unwrap(),
            kind: r[1].str(),
            facility: Uuid::parse_str(&r[2].str()).unwrap(),
            device: Uuid::parse_str(&r[3].str()).unwrap(),
            seq: r[4].int() as u64,
            hlc: Hlc::from_u64(r[5].int() as u64),
            schema: 1,
            payload: serde_json::value::RawValue::from_string(r[6].str()).unwrap(),
        })
        .collect()
}

async fn check(store: Arc<DbStore>, ops: Vec<Op>) {
    let (f, devices) = facility_with_devices(&store, 2).await;
    let mut m = Model {
        seq: vec![0; devices.len()],
        pending: vec![Vec::new(); devices.len()],
        devices,
        clock: 0,
        last_batch: None,
        patients: Vec::new(),
        visits: Vec::new(),
        machines: Vec::new(),
        bookings: Vec::new(),
    };
    for op in &ops {
        match op {
            Op::Flush => flush(&store, &mut m).await,
            Op::Replay => {
                if let Some((dev, batch)) = m.last_batch.clone() {
                    let r = store
                        .ingest(m.devices[dev].clone(), batch.clone())
                        .await
                        .unwrap();
                    assert_eq!(r.duplicates, batch.len() as u64);
                }
            }
            other => m.apply(other),
        }
    }
    flush(&store, &mut m).await;
    let want = expected(&recount(&change_log(&store, f).await));
    let got = actual(&store, f).await;
    let names = [
        "proj_patients",
        "proj_visits",
        "proj_visit_daily",
        "proj_dialysis_machines",
        "proj_dialysis_bookings",
    ];
    for i in 0..5 {
        assert_eq!(
            got[i], want[i],
            "{} differs from the recount after {ops:?}",
            names[i]
        );
    }
}

fn run(backend: Backend, cases: u32) {
    let Some(store) = runtime().block_on(open(backend)) else {
        return;
    };
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases,
        ..ProptestConfig::default()
    });
    runner
        .run(&proptest::collection::vec(op(), 1..40), |ops| {
            runtime().block_on(check(store.clone(), ops));
            Ok(())
        })
        .unwrap();
}

#[test]
fn projections_equal_recount_sqlite() {
    run(Backend::Sqlite, 40);
}

#[test]
fn projections_equal_recount_postgres() {
    run(Backend::Postgres, 24);
}

/// The migration back-fills projections from an existing change log: a database written
/// before the projections existed gets them on the next start.
#[test]
fn migration_backfills_from_the_change_log() {
    runtime().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("b.db").display());
        let store = DbStore::open(&url).await.unwrap();
        let (f, devices) = facility_with_devices(&store, 1).await;
        let mut m = Model {
            seq: vec![0],
            pending: vec![Vec::new()],
            devices,
            clock: 0,
            last_batch: None,
            patients: Vec::new(),
            visits: Vec::new(),
            machines: Vec::new(),
            bookings: Vec::new(),
        };
        for op in [
            Op::NewPatient {
                dev: 0,
                gender: 1,
                birth: Some(1990),
            },
            Op::NewVisit {
                dev: 0,
                p: 0,
                day: 1,
                dept: 0,
                follow: false,
                waiver: false,
                abha: true,
            },
            Op::NewVisit {
                dev: 0,
                p: 0,
                day: 2,
                dept: 1,
                follow: true,
                waiver: true,
                abha: false,
            },
            Op::CancelVisit { v: 0 },
            Op::NewMachine { dev: 0, pool: 1 },
            Op::NewBooking {
                dev: 0,
                m: Some(0),
                day: 1,
                shift: 1,
                status: 4,
            },
        ] {
            m.apply(&op);
        }
        flush(&store, &mut m).await;
        let before = actual(&store, f).await;
        assert!(!before[1].is_empty());
        // Forget the projections and the migration, as on a database from before issue 12.
        for t in [
            "proj_patients",
            "proj_visits",
            "proj_visit_daily",
            "proj_dialysis_machines",
            "proj_dialysis_bookings",
            "kiosk_heartbeats",
            "dashboard_sessions",
            "dashboard_users",
            "recovery_escrows",
        ] {
            store
                .sql_exec(format!("DROP TABLE {t}"), vec![])
                .await
                .unwrap();
        }
        store
            .sql_exec("PRAGMA user_version = 5".into(), vec![])
            .await
            .unwrap();
        drop(store);
        let store = DbStore::open(&url).await.unwrap();
        assert_eq!(actual(&store, f).await, before);
        assert_eq!(
            actual(&store, f).await,
            expected(&recount(&change_log(&store, f).await))
        );
    });
}
