//! Allocation benchmark: a year of recurring bookings for a 30-machine, 3-shift unit.
//!
//! `cargo bench -p swagat-dialysis --bench allocate` first fills a year (180 patients on Mon/Wed/Fri
//! or Tue/Thu/Sat patterns, plus 20 more who overflow to the waitlist) session by session on a
//! file database with the kiosk's pragmas, timing each allocation; prints p50/p95/p99/max and
//! saves them to `bench-results.json` beside this crate's manifest (goal: p95 ≤ 5 ms). Then
//! Criterion measures one booking, one cancellation with promotion, and a 52-week series on the
//! full year.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion};
use rusqlite::Connection;
use swagat_dialysis::{
    book, cancel, machines, patients, BookRequest, PatientUpdate, Pool, Serology,
};
use time::macros::date;
use time::{Date, Weekday};

const START: Date = date!(2026 - 01 - 05); // a Monday
const WEEKS: u32 = 52;

fn open(path: &std::path::Path) -> Connection {
    let _ = std::fs::remove_file(path);
    let c = Connection::open(path).unwrap();
    c.pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(()))
        .unwrap();
    c.pragma_update(None, "synchronous", "FULL").unwrap();
    c.pragma_update(None, "foreign_keys", "ON").unwrap();
    c.set_prepared_statement_cache_capacity(256);
    c.execute_batch("CREATE TABLE patients (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL)")
        .unwrap();
    c.execute_batch(swagat_dialysis::MIGRATION).unwrap();
    c
}

/// 30 machines: 20 negative, 3 HBV, 3 HCV, 2 HIV, 2 unknown; patients spread in proportion.
fn unit(c: &Connection, extra: usize) -> Vec<(String, Vec<Weekday>, u32)> {
    let layout = [
        (Pool::Negative, 20),
        (Pool::Hbv, 3),
        (Pool::Hcv, 3),
        (Pool::Hiv, 2),
        (Pool::Unknown, 2),
    ];
    let mut plans = Vec::new();
    let mut n = 0;
    for (pool, count) in layout {
        for i in 0..count {
            machines::add(c, &format!("{pool}-{i:02}"), pool).unwrap();
        }
        let s = match pool {
            Pool::Negative => [Serology::Neg; 3],
            Pool::Hbv => [Serology::Pos, Serology::Neg, Serology::Neg],
            Pool::Hcv => [Serology::Neg, Serology::Pos, Serology::Neg],
            Pool::Hiv => [Serology::Neg, Serology::Neg, Serology::Pos],
            Pool::Unknown => [Serology::Unknown; 3],
        };
        // Two patients per machine-shift (one per pattern), plus the overflow on negative.
        let patients = count * 3 * 2 + if pool == Pool::Negative { extra } else { 0 };
        for k in 0..patients {
            let id = format!("p{n:04}");
            n += 1;
            c.execute(
                "INSERT INTO patients (id, name) VALUES (?1, 'Bench')",
                [&id],
            )
            .unwrap();
            patients::set(
                c,
                &PatientUpdate {
                    patient_id: id.clone(),
                    hbsag: Some(s[0]),
                    hcv: Some(s[1]),
                    hiv: Some(s[2]),
                    tested_on: Some(START),
                    ..Default::default()
                },
            )
            .unwrap();
            let days = if k % 2 == 0 {
                vec![Weekday::Monday, Weekday::Wednesday, Weekday::Friday]
            } else {
                vec![Weekday::Tuesday, Weekday::Thursday, Weekday::Saturday]
            };
            plans.push((id, days, (k as u32 / 2) % 3 + 1));
        }
    }
    plans
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

/// Fills a year session by session (one transaction per patient, as the CLI does for a series)
/// and returns the figures.
fn year(dir: &std::path::Path) -> serde_json::Value {
    let mut c = open(&dir.join("dialysis-bench-year.db"));
    let plans = unit(&c, 20);
    let mut times = Vec::new();
    let (mut confirmed, mut waitlisted) = (0u64, 0u64);
    let wall = Instant::now();
    for (id, days, shift) in &plans {
        let tx = c.transaction().unwrap();
        for date in BookRequest::recurring(id.as_str(), START, *shift, days.clone(), WEEKS).dates()
        {
            let t = Instant::now();
            let out = book(&tx, &BookRequest::single(id.as_str(), date, *shift)).unwrap();
            times.push(t.elapsed());
            match out.bookings[0].status {
                swagat_dialysis::Status::Confirmed => confirmed += 1,
                _ => waitlisted += 1,
            }
        }
        tx.commit().unwrap();
    }
    let wall = wall.elapsed();
    // Series as one call each (a fresh unit), commit included.
    let mut c2 = open(&dir.join("dialysis-bench-series.db"));
    let plans2 = unit(&c2, 0);
    let mut series = Vec::new();
    for (id, days, shift) in &plans2 {
        let t = Instant::now();
        let tx = c2.transaction().unwrap();
        book(
            &tx,
            &BookRequest::recurring(id.as_str(), START, *shift, days.clone(), WEEKS),
        )
        .unwrap();
        tx.commit().unwrap();
        series.push(t.elapsed());
    }
    times.sort();
    series.sort();
    serde_json::json!({
        "benchmark": "swagat-dialysis allocate: one year of recurring bookings",
        "unit": { "machines": 30, "shifts": 3, "weeks": WEEKS, "patients": plans.len(),
                  "pools": "20 negative, 3 hbv, 3 hcv, 2 hiv, 2 unknown" },
        "bookings": times.len(),
        "confirmed": confirmed,
        "waitlisted": waitlisted,
        "per_booking_ms": {
            "p50": pct(&times, 0.50), "p95": pct(&times, 0.95), "p99": pct(&times, 0.99),
            "max": pct(&times, 1.0),
            "mean": times.iter().sum::<Duration>().as_secs_f64() * 1000.0 / times.len() as f64,
        },
        "per_series_156_sessions_with_commit_ms": {
            "p50": pct(&series, 0.50), "p95": pct(&series, 0.95), "max": pct(&series, 1.0),
        },
        "wall_seconds": wall.as_secs_f64(),
        "goal_p95_ms": 5.0,
        "goal_met": pct(&times, 0.95) <= 5.0,
        "sqlite": "file, WAL, synchronous=FULL",
        "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
    })
}

fn criterion_benches(c: &mut Criterion, dir: &std::path::Path) {
    let mut conn = Connection::open(dir.join("dialysis-bench-year.db")).unwrap();
    conn.set_prepared_statement_cache_capacity(256);
    conn.pragma_update(None, "foreign_keys", "ON").unwrap();
    let day = date!(2026 - 06 - 01);
    let mut g = c.benchmark_group("full_year");
    g.sample_size(30);
    g.bench_function("book_one_session", |b| {
        b.iter_batched(
            || (),
            |_| {
                let tx = conn.transaction().unwrap();
                tx.execute(
                    "INSERT OR IGNORE INTO patients (id, name) VALUES ('x', 'X')",
                    [],
                )
                .unwrap();
                patients::set(
                    &tx,
                    &PatientUpdate {
                        patient_id: "x".into(),
                        hbsag: Some(Serology::Neg),
                        hcv: Some(Serology::Neg),
                        hiv: Some(Serology::Neg),
                        tested_on: Some(START),
                        ..Default::default()
                    },
                )
                .unwrap();
                book(&tx, &BookRequest::single("x", day, 1)).unwrap();
                // dropped: rolled back, so every iteration sees the same year
            },
            BatchSize::SmallInput,
        )
    });
    g.bench_function("cancel_with_promotion", |b| {
        b.iter_batched(
            || (),
            |_| {
                let tx = conn.transaction().unwrap();
                let id: String = tx
                    .query_row("SELECT id FROM dialysis_bookings WHERE date = '2026-06-01' AND shift = 1 AND status = 'confirmed' LIMIT 1", [], |r| r.get(0))
                    .unwrap();
                cancel(&tx, &id, None).unwrap();
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

fn main() {
    let dir = std::env::temp_dir().join("swagat-dialysis-bench");
    std::fs::create_dir_all(&dir).unwrap();
    let benching = std::env::args().any(|a| a == "--bench");
    if !benching {
        // `cargo test --benches`: a smoke run only.
        let c = open(&dir.join("dialysis-bench-smoke.db"));
        assert!(!unit(&c, 0).is_empty());
        return;
    }
    let figures = year(&dir);
    let text = serde_json::to_string_pretty(&figures).unwrap();
    println!("{text}");
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("bench-results.json");
    std::fs::write(&out, format!("{text}\n")).unwrap();
    println!("saved {}", out.display());
    let mut c = Criterion::default().configure_from_args();
    criterion_benches(&mut c, &dir);
    c.final_summary();
}
