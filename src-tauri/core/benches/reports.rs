//! Reports benchmark: on a store with many patients (default 1,000,000;
//! `SWAGAT_BENCH_PATIENTS`; the same seeded database as the OPD bench, kept in the target folder),
//! - a busy day's register (800 visits, some cancelled and waived) as an A4 PDF, p50/p95 (goal
//!   ≤ 300 ms), and as CSV;
//! - the summary of a year, p50/p95 (goal ≤ 200 ms);
//! - the day's cash sheet.
//!
//! Prints the figures and writes them as JSON (`SWAGAT_BENCH_OUT`, default
//! `target/bench-reports.json`). Run: `cargo bench -p swagat-core --bench reports`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use swagat_core::reports::{ExportFormat, ReportKind};
use swagat_core::{Actor, Kiosk};

fn pct(v: &mut [Duration], p: f64) -> f64 {
    v.sort();
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i].as_secs_f64() * 1000.0
}

/// The busy day the register is printed for: far from the demo data's last 90 days.
const BUSY_DAY: &str = "2025-06-16";
const BUSY_VISITS: u32 = 800;

fn main() {
    // `cargo bench` passes `--bench`; under `cargo test --all-targets` do nothing (too long).
    if !std::env::args().any(|a| a == "--bench") {
        println!(
            "reports: benchmark skipped (run it with `cargo bench --workspace --bench reports`)"
        );
        return;
    }
    let n: u32 = std::env::var("SWAGAT_BENCH_PATIENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target")
        });
    std::fs::create_dir_all(&target).unwrap();
    let db = target.join(format!("bench-opd-{n}.db"));
    let t = Instant::now();
    let kiosk = Kiosk::open(&db).unwrap();
    let open_secs = t.elapsed().as_secs_f64();
    let have: i64 = kiosk
        .store()
        .read(|c| Ok(c.query_row("SELECT count(*) FROM patients", [], |r| r.get(0))?))
        .unwrap();
    if have < i64::from(n) {
        let t = Instant::now();
        let (p, v) = swagat_core::demo::seed(&kiosk, n - u32::try_from(have).unwrap(), 7).unwrap();
        println!(
            "seeded {p} patients, {v} visits in {:.1} s",
            t.elapsed().as_secs_f64()
        );
    }
    // The busy day: 800 visits of existing patients across the departments, arriving 08:00–16:00
    // facility time, one in 10 waived, one in 40 cancelled (inserted once).
    let busy: i64 = kiosk
        .store()
        .read(|c| {
            Ok(c.query_row(
                "SELECT count(*) FROM visits WHERE visit_date = ?1",
                [BUSY_DAY],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    if busy < i64::from(BUSY_VISITS) {
        kiosk
            .store()
            .write(|tx| {
                // Patients spread over the whole table (a stride that yields at least 800 of
                // them whatever the patient count).
                let stride = (have.max(i64::from(n)) / i64::from(BUSY_VISITS + 10)).max(1);
                let ids: Vec<String> = {
                    let mut st = tx.prepare(
                        "SELECT id FROM patients WHERE rowid % ?2 = 0 LIMIT ?1",
                    )?;
                    let rows = st.query_map(rusqlite::params![BUSY_VISITS, stride], |r| r.get(0))?;
                    rows.collect::<rusqlite::Result<_>>()?
                };
                let depts = ["GEN", "GYN", "PED", "ORT", "ENT", "EYE", "DEN", "SKN"];
                for (i, id) in ids.iter().enumerate() {
                    let dept = depts[i % depts.len()];
                    let no = i / depts.len() + 1;
                    let minutes = 150 + (i * 480 / ids.len()); // 02:30 UTC = 08:00 IST
                    let created = format!(
                        "{BUSY_DAY}T{:02}:{:02}:{:02}Z",
                        minutes / 60,
                        minutes % 60,
                        i % 60
                    );
                    let waiver = (i % 10 == 0).then_some("BPL");
                    tx.execute(
                        "INSERT INTO visits (id, patient_id, department, visit_date, kiosk_letter, \
                         token_no, token, visit_type, fee_rupees, waiver_code, valid_until, status, \
                         abha_linked, created_at, created_by) VALUES (?1, ?2, ?3, ?4, 'A', ?5, ?6, \
                         ?7, ?8, ?9, ?4, ?10, ?11, ?12, 'cli')",
                        rusqlite::params![
                            uuid::Uuid::now_v7().to_string(),
                            id,
                            dept,
                            BUSY_DAY,
                            no,
                            format!("A-{no:03}"),
                            if i % 3 == 0 { "follow_up" } else { "new" },
                            if waiver.is_some() || i % 3 == 0 { 0 } else { 10 },
                            waiver,
                            if i % 40 == 7 { "cancelled" } else { "active" },
                            i % 2,
                            created,
                        ],
                    )?;
                }
                Ok(())
            })
            .unwrap();
    }
    let busy: i64 = kiosk
        .store()
        .read(|c| {
            Ok(c.query_row(
                "SELECT count(*) FROM visits WHERE visit_date = ?1",
                [BUSY_DAY],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    assert!(
        busy >= i64::from(BUSY_VISITS),
        "the busy day has {busy} visits"
    );
    let visits: i64 = kiosk
        .store()
        .read(|c| Ok(c.query_row("SELECT count(*) FROM visits", [], |r| r.get(0))?))
        .unwrap();

    let actor = Actor::Cli;
    let (mut pdf_t, mut csv_t, mut sum_t, mut cash_t) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut pdf_bytes = 0;
    for _ in 0..25 {
        let t = Instant::now();
        let pdf = kiosk
            .report_export(
                &actor,
                ReportKind::Register,
                ExportFormat::Pdf,
                BUSY_DAY,
                BUSY_DAY,
            )
            .unwrap();
        pdf_t.push(t.elapsed());
        pdf_bytes = pdf.len();
        let t = Instant::now();
        kiosk
            .report_export(
                &actor,
                ReportKind::Register,
                ExportFormat::Csv,
                BUSY_DAY,
                BUSY_DAY,
            )
            .unwrap();
        csv_t.push(t.elapsed());
        let t = Instant::now();
        kiosk.report_cash(BUSY_DAY).unwrap();
        cash_t.push(t.elapsed());
    }
    let today = kiosk.home_summary().unwrap().date;
    let today_d = swagat_core::reports::parse_date("d", &today).unwrap();
    let year_ago = (today_d - time::Duration::days(364)).to_string();
    let mut summary = None;
    for _ in 0..60 {
        let t = Instant::now();
        summary = Some(kiosk.report_summary(&year_ago, &today).unwrap());
        sum_t.push(t.elapsed());
    }
    let summary = summary.unwrap();
    let out = serde_json::json!({
        "machine": {
            "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
            "loadavg_at_end": std::fs::read_to_string("/proc/loadavg").unwrap_or_default().trim(),
        },
        "patients": n,
        "visits": visits,
        "open_and_migrate_s": open_secs,
        "register_day": BUSY_DAY,
        "register_visits": BUSY_VISITS,
        "register_pdf_ms_p50": pct(&mut pdf_t, 0.5),
        "register_pdf_ms_p95": pct(&mut pdf_t, 0.95),
        "register_pdf_goal_ms": 300,
        "register_pdf_bytes": pdf_bytes,
        "register_csv_ms_p95": pct(&mut csv_t, 0.95),
        "cash_ms_p95": pct(&mut cash_t, 0.95),
        "summary_year_from": year_ago,
        "summary_year_to": today,
        "summary_year_registrations": summary.registrations,
        "summary_year_ms_p50": pct(&mut sum_t, 0.5),
        "summary_year_ms_p95": pct(&mut sum_t, 0.95),
        "summary_year_goal_ms": 200,
    });
    let path = std::env::var("SWAGAT_BENCH_OUT")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| target.join("bench-reports.json"));
    std::fs::write(&path, serde_json::to_string_pretty(&out).unwrap()).unwrap();
    println!("{}", serde_json::to_string_pretty(&out).unwrap());
    println!("written to {}", path.display());
}
