//! Property test: random sequences of bookings (single and recurring), cancellations, no-shows,
//! check-ins, maintenance, machines returning or added, serology changes and online requests never
//! break the pool rule, never double-book a machine-shift, never leave a booking waiting while a
//! machine of its pool is free in its slot, and serve the waitlist in order.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashMap;

use common::*;
use proptest::prelude::*;
use rusqlite::Connection;
use swagat_dialysis::rules::{pool_for, SerologyResults};
use swagat_dialysis::{
    book, cancel, check_in, machines, no_show, online, patients, BookRequest, DialysisError, Move,
    PatientUpdate, Pool, Serology, Status,
};
use time::macros::date;
use time::{Date, Duration, Weekday};

const START: Date = date!(2026 - 03 - 02); // a Monday
const PATIENTS: usize = 10;

#[derive(Debug, Clone)]
enum Op {
    Book {
        p: usize,
        day: i64,
        shift: u32,
        priority: i64,
    },
    Series {
        p: usize,
        day: i64,
        shift: u32,
        tts: bool,
    },
    Cancel(usize),
    NoShow(usize),
    CheckIn(usize),
    Maintenance {
        m: usize,
        day: i64,
        len: Option<i64>,
    },
    InService {
        m: usize,
        day: i64,
    },
    AddMachine(Pool),
    /// Move a machine to another pool (its future bookings re-checked).
    SetPool {
        m: usize,
        pool: Pool,
    },
    /// Retire a machine (its future bookings moved or waitlisted).
    Retire(usize),
    Serology {
        p: usize,
        s: [Serology; 3],
    },
    Online {
        p: usize,
        day: i64,
        shift: u32,
        n: u32,
    },
}

fn serology() -> impl Strategy<Value = Serology> {
    prop_oneof![
        6 => Just(Serology::Neg),
        2 => Just(Serology::Pos),
        1 => Just(Serology::Unknown)
    ]
}

fn pool() -> impl Strategy<Value = Pool> {
    prop::sample::select(Pool::ALL.to_vec())
}

fn op() -> impl Strategy<Value = Op> {
    let p = 0..PATIENTS;
    prop_oneof![
        6 => (p.clone(), 0..7i64, 1..4u32, 0..3i64).prop_map(|(p, day, shift, priority)| Op::Book { p, day, shift, priority }),
        2 => (p.clone(), 0..7i64, 1..4u32, any::<bool>()).prop_map(|(p, day, shift, tts)| Op::Series { p, day, shift, tts }),
        3 => any::<usize>().prop_map(Op::Cancel),
        2 => any::<usize>().prop_map(Op::NoShow),
        1 => any::<usize>().prop_map(Op::CheckIn),
        2 => (0..8usize, 0..14i64, prop::option::of(0..5i64)).prop_map(|(m, day, len)| Op::Maintenance { m, day, len }),
        1 => (0..8usize, 0..14i64).prop_map(|(m, day)| Op::InService { m, day }),
        1 => pool().prop_map(Op::AddMachine),
        1 => (0..8usize, pool()).prop_map(|(m, pool)| Op::SetPool { m, pool }),
        1 => (0..8usize).prop_map(Op::Retire),
        1 => (p.clone(), [serology(), serology(), serology()]).prop_map(|(p, s)| Op::Serology { p, s }),
        2 => (p, 0..7i64, 1..4u32, 0..6u32).prop_map(|(p, day, shift, n)| Op::Online { p, day, shift, n }),
    ]
}

fn patient_pools(c: &Connection) -> HashMap<String, Pool> {
    let mut stmt = c
        .prepare("SELECT patient_id, hbsag, hcv, hiv FROM dialysis_patients")
        .unwrap();
    stmt.query_map([], |r| {
        let s = |i: usize| -> rusqlite::Result<Serology> {
            Ok(r.get::<_, String>(i)?.parse().unwrap())
        };
        Ok((
            r.get::<_, String>(0)?,
            pool_for(SerologyResults {
                hbsag: s(1)?,
                hcv: s(2)?,
                hiv: s(3)?,
            })
            .pool,
        ))
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

/// (id, date, shift, pool) of the waitlist in serving order.
fn waitlist_order(c: &Connection) -> Vec<(String, String, u32, Pool)> {
    let pools = patient_pools(c);
    let mut stmt = c
        .prepare(
            "SELECT id, patient_id, date, shift FROM dialysis_bookings WHERE status = 'waitlisted' \
             ORDER BY date, shift, priority DESC, requested_at, rowid",
        )
        .unwrap();
    stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get(2)?,
            r.get(3)?,
        ))
    })
    .unwrap()
    .map(Result::unwrap)
    .map(|(id, p, d, s)| (id, d, s, pools[&p]))
    .collect()
}

fn check_invariants(c: &Connection) {
    let pools = patient_pools(c);
    // Pool rule: every confirmed booking sits on an active machine of its patient's pool, not
    // under maintenance that day.
    let mut stmt = c
        .prepare(
            "SELECT b.patient_id, m.pool, m.active, \
               EXISTS (SELECT 1 FROM dialysis_maintenance x WHERE x.machine_id = m.id \
                 AND x.from_date <= b.date AND (x.to_date IS NULL OR x.to_date >= b.date)) \
             FROM dialysis_bookings b JOIN dialysis_machines m ON m.id = b.machine_id \
             WHERE b.status = 'confirmed'",
        )
        .unwrap();
    let rows: Vec<(String, String, i64, bool)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for (p, mpool, active, maint) in rows {
        assert_eq!(
            mpool.parse::<Pool>().unwrap(),
            pools[&p],
            "pool rule broken for {p}"
        );
        assert_eq!(active, 1);
        assert!(!maint, "confirmed on a machine under maintenance");
    }
    // No double booking of a machine-shift, nor of a patient-day.
    let dup: i64 = c
        .query_row(
            "SELECT count(*) FROM (SELECT 1 FROM dialysis_bookings \
             WHERE status IN ('confirmed', 'checked_in', 'completed') \
             GROUP BY machine_id, date, shift HAVING count(*) > 1)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(dup, 0, "a machine-shift is double-booked");
    let consistent: i64 = c
        .query_row(
            "SELECT count(*) FROM dialysis_bookings WHERE (status = 'waitlisted') <> (machine_id IS NULL) \
             AND status NOT IN ('cancelled', 'no_show')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(consistent, 0);
    // Work conservation: no waitlisted booking has a usable free machine of its pool in its slot.
    for (id, d, s, pool) in waitlist_order(c) {
        let free: i64 = c
            .query_row(
                "SELECT count(*) FROM dialysis_machines m WHERE m.pool = ?1 AND m.active = 1 \
                 AND NOT EXISTS (SELECT 1 FROM dialysis_maintenance x WHERE x.machine_id = m.id \
                   AND x.from_date <= ?2 AND (x.to_date IS NULL OR x.to_date >= ?2)) \
                 AND NOT EXISTS (SELECT 1 FROM dialysis_bookings b WHERE b.machine_id = m.id \
                   AND b.date = ?2 AND b.shift = ?3 AND b.status IN ('confirmed', 'checked_in', 'completed'))",
                rusqlite::params![pool.as_str(), d, s],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(
            free, 0,
            "booking {id} waits while a {pool} machine is free on {d} shift {s}"
        );
    }
}

/// Every booking promoted by an operation was, before it, behind only bookings (same slot and
/// pool) that are no longer waiting.
fn check_order(before: &[(String, String, u32, Pool)], c: &Connection, moves: &[Move]) {
    let pools = patient_pools(c);
    let still: std::collections::HashSet<String> =
        waitlist_order(c).into_iter().map(|w| w.0).collect();
    for m in moves
        .iter()
        .filter(|m| m.from.status == Status::Waitlisted && m.to.status == Status::Confirmed)
    {
        let pool = pools[&m.patient_id];
        let Some(pos) = before.iter().position(|w| w.0 == m.booking_id) else {
            continue;
        };
        for ahead in &before[..pos] {
            if ahead.1 == m.date && ahead.2 == m.shift && pools_of(c, &ahead.0, &pools) == pool {
                assert!(
                    !still.contains(&ahead.0),
                    "{} promoted before {}",
                    m.booking_id,
                    ahead.0
                );
            }
        }
        // The move is what the database says.
        let (status, machine): (String, Option<String>) = c
            .query_row(
                "SELECT status, machine_id FROM dialysis_bookings WHERE id = ?1",
                [&m.booking_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(
            (status.as_str(), machine),
            ("confirmed", m.to.machine_id.clone())
        );
    }
}

fn pools_of(c: &Connection, booking: &str, pools: &HashMap<String, Pool>) -> Pool {
    let p: String = c
        .query_row(
            "SELECT patient_id FROM dialysis_bookings WHERE id = ?1",
            [booking],
            |r| r.get(0),
        )
        .unwrap();
    pools[&p]
}

fn pick(c: &Connection, i: usize, status: &str) -> Option<String> {
    let ids: Vec<String> = c
        .prepare("SELECT id FROM dialysis_bookings WHERE status = ?1 ORDER BY rowid")
        .unwrap()
        .query_map([status], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    (!ids.is_empty()).then(|| ids[i % ids.len()].clone())
}

fn run(c: &mut Connection, op: &Op) -> Result<Vec<Move>, DialysisError> {
    let tx = c.transaction().unwrap();
    let pid = |p: usize| format!("p{p}");
    let day = |d: i64| START + Duration::days(d);
    let machine_ref = |tx: &Connection, m: usize| {
        let all = machines::list(tx).unwrap();
        all[m % all.len()].id.clone()
    };
    let moves = match op {
        Op::Book {
            p,
            day: d,
            shift,
            priority,
        } => {
            book(
                &tx,
                &BookRequest {
                    priority: *priority,
                    ..BookRequest::single(pid(*p), day(*d), *shift)
                },
            )?;
            Vec::new()
        }
        Op::Series {
            p,
            day: d,
            shift,
            tts,
        } => {
            let days = if *tts {
                vec![Weekday::Tuesday, Weekday::Thursday, Weekday::Saturday]
            } else {
                vec![Weekday::Monday, Weekday::Wednesday, Weekday::Friday]
            };
            book(
                &tx,
                &BookRequest::recurring(pid(*p), day(*d), *shift, days, 2),
            )?;
            Vec::new()
        }
        Op::Cancel(i) => match pick(
            &tx,
            *i,
            if i % 2 == 0 {
                "confirmed"
            } else {
                "waitlisted"
            },
        ) {
            Some(id) => cancel(&tx, &id, None)?.moves,
            None => Vec::new(),
        },
        Op::NoShow(i) => match pick(&tx, *i, "confirmed") {
            Some(id) => no_show(&tx, &id)?.moves,
            None => Vec::new(),
        },
        Op::CheckIn(i) => match pick(&tx, *i, "confirmed") {
            Some(id) => check_in(&tx, &id, Some(60.0))?.moves,
            None => Vec::new(),
        },
        Op::Maintenance { m, day: d, len } => {
            let id = machine_ref(&tx, *m);
            machines::set_maintenance(&tx, &id, day(*d), len.map(|l| day(d + l)), "fault")?.moves
        }
        Op::InService { m, day: d } => {
            let id = machine_ref(&tx, *m);
            machines::end_maintenance(&tx, &id, day(*d))?.moves
        }
        Op::AddMachine(pool) => {
            let n: i64 = tx
                .query_row("SELECT count(*) FROM dialysis_machines", [], |r| r.get(0))
                .unwrap();
            machines::add(&tx, &format!("M{n}"), *pool)?.moves
        }
        Op::SetPool { m, pool } => {
            let id = machine_ref(&tx, *m);
            machines::set_pool(&tx, &id, *pool, START)?.moves
        }
        Op::Retire(m) => {
            let id = machine_ref(&tx, *m);
            machines::retire(&tx, &id, START)?.moves
        }
        Op::Serology { p, s } => {
            patients::set(
                &tx,
                &PatientUpdate {
                    patient_id: pid(*p),
                    hbsag: Some(s[0]),
                    hcv: Some(s[1]),
                    hiv: Some(s[2]),
                    tested_on: Some(START),
                    ..Default::default()
                },
            )?
            .moves
        }
        Op::Online {
            p,
            day: d,
            shift,
            n,
        } => {
            let payload = format!(
                r#"{{"patient_id":"{}","date":"{}","shift":{shift}}}"#,
                pid(*p),
                swagat_dialysis::model::fmt_date(day(*d))
            );
            online::ingest(&tx, &format!("REQ-{n}"), &payload)?;
            Vec::new()
        }
    };
    tx.commit().unwrap();
    Ok(moves)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn allocation_invariants_hold(
        serologies in prop::collection::vec([serology(), serology(), serology()], PATIENTS),
        ops in prop::collection::vec(op(), 1..60),
    ) {
        let mut c = db();
        for (name, pool) in [("N1", Pool::Negative), ("N2", Pool::Negative), ("B1", Pool::Hbv), ("C1", Pool::Hcv), ("U1", Pool::Unknown)] {
            machine(&c, name, pool);
        }
        for (i, s) in serologies.iter().enumerate() {
            patient(&c, &format!("p{i}"), *s, START);
        }
        for op in &ops {
            let before = waitlist_order(&c);
            match run(&mut c, op) {
                Ok(moves) => check_order(&before, &c, &moves),
                Err(DialysisError::Invalid { .. } | DialysisError::Refused(_) | DialysisError::NotFound { .. }) => {}
                Err(e) => panic!("{op:?} failed: {e}"),
            }
            check_invariants(&c);
        }
    }
}
