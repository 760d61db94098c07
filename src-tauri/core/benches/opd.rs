//! OPD benchmark: a store with many patients (default 1,000,000; `SWAGAT_BENCH_PATIENTS`), then
//! - the counter's path for a returning patient, p50/p95: `register`, the token screen's slip
//!   preview (PNG), the slip PDF rendered for the printer and counted, with where the time goes;
//!   then the same path as the token screen runs it with auto-print on (the preview and the
//!   print at once, on two threads);
//! - search p95 by mobile, ABHA number, UHID and name prefix;
//! - slip size.
//!
//! Prints the figures and writes them as JSON (`SWAGAT_BENCH_OUT`, default `target/bench-opd.json`).
//! `SWAGAT_BENCH_ENCRYPTED=1` runs the same on an SQLCipher copy of the seeded database (encrypted
//! at rest, as a kiosk is after setup; its recovery key kept beside it for reuse).
//! Run: `cargo bench -p swagat-core --bench opd`. The seeded database is kept in the target folder
//! (`$CARGO_TARGET_DIR` when set, else `target/`) and reused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use swagat_core::opd::RegisterRequest;
use swagat_core::slip::SlipFormat;
use swagat_core::{Actor, Kiosk};

fn pct(v: &mut [Duration], p: f64) -> f64 {
    v.sort();
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i].as_secs_f64() * 1000.0
}

/// The SQLCipher copy of the seeded database (made once: seeded plaintext, then encrypted in
/// place by the core's migration), unlocked with the recovery key kept beside it.
fn encrypted_copy(target: &std::path::Path, plain: &std::path::Path, n: u32) -> std::path::PathBuf {
    use swagat_core::crypt;
    let db = target.join(format!("bench-opd-{n}-encrypted.db"));
    let key_file = target.join(format!("bench-opd-{n}-encrypted.key"));
    if let Ok(rk) = std::fs::read_to_string(&key_file) {
        if db.exists() {
            crypt::unlock_admin(&db, rk.trim()).unwrap();
            return db;
        }
    }
    // Seed the plaintext one first (the same data), then copy and encrypt the copy.
    drop(Kiosk::open(plain).unwrap());
    let have: i64 = Kiosk::open(plain)
        .unwrap()
        .store()
        .read(|c| Ok(c.query_row("SELECT count(*) FROM patients", [], |r| r.get(0))?))
        .unwrap();
    if have < i64::from(n) {
        let k = Kiosk::open(plain).unwrap();
        swagat_core::demo::seed(&k, n - u32::try_from(have).unwrap(), 7).unwrap();
    }
    {
        let c = swagat_core::store::open_connection(plain).unwrap();
        c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").unwrap();
    }
    std::fs::copy(plain, &db).unwrap();
    let key = crypt::DataKey::random().unwrap();
    let kf = crypt::KeyFile {
        format: 1,
        key_check: key.check_value(),
        ..Default::default()
    };
    let t = Instant::now();
    let store = swagat_core::store::Store::open(&db).unwrap();
    store.encrypt(&key, &kf).unwrap();
    println!(
        "encrypted the {n}-patient copy in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    std::fs::write(&key_file, key.recovery_text().as_bytes()).unwrap();
    db
}

/// A returning patient's registration at the counter (one of four departments, by `i`).
fn register_returning(kiosk: &Kiosk, i: usize, patient_id: &str) -> swagat_core::opd::Registration {
    kiosk
        .register(
            &Actor::Cli,
            &RegisterRequest {
                department: ["GEN", "EYE", "PED", "ENT"][i % 4].into(),
                patient_id: Some(patient_id.to_owned()),
                ..Default::default()
            },
        )
        .unwrap()
}

fn main() {
    let n: u32 = std::env::var("SWAGAT_BENCH_PATIENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    // The seeded database lives in the cargo target folder: `$CARGO_TARGET_DIR` when set (each
    // session builds in its own), else the workspace's `target/`.
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target")
        });
    std::fs::create_dir_all(&target).unwrap();
    let plain_db = target.join(format!("bench-opd-{n}.db"));
    let encrypted = std::env::var("SWAGAT_BENCH_ENCRYPTED").is_ok_and(|v| v == "1");
    let db = if encrypted {
        encrypted_copy(&target, &plain_db, n)
    } else {
        plain_db
    };
    let kiosk = Kiosk::open(&db).unwrap();
    assert_eq!(kiosk.is_encrypted(), encrypted);
    let have: i64 = kiosk
        .store()
        .read(|c| Ok(c.query_row("SELECT count(*) FROM patients", [], |r| r.get(0))?))
        .unwrap();
    let mut seed_secs = None;
    if have < i64::from(n) {
        let t = Instant::now();
        let (p, v) = swagat_core::demo::seed(&kiosk, n - u32::try_from(have).unwrap(), 7).unwrap();
        seed_secs = Some(t.elapsed().as_secs_f64());
        println!(
            "seeded {p} patients, {v} visits in {:.1} s",
            t.elapsed().as_secs_f64()
        );
    }
    // Sample existing values to look up.
    let sample: Vec<(String, Option<String>, Option<String>, String)> = kiosk
        .store()
        .read(|c| {
            let mut st = c.prepare(
                "SELECT id, mobile, abha_number, uhid FROM patients WHERE rowid % 997 = 0 LIMIT 400",
            )?;
            let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .unwrap();
    let names = [
        "sun",
        "ram",
        "pooj",
        "lakshmi dev",
        "vikas yad",
        "kavita",
        "mohan pra",
        "rinki",
    ];

    // The counter's one path, as the app makes it: `register` (one transaction), then the token
    // screen draws the slip preview (PNG), and the slip PDF goes to the printer and is counted
    // once the printer has accepted it (here: rendered, then counted; no printer in a bench).
    let (mut e2e, mut reg_only, mut preview, mut print) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    // Where the print's time goes: reading the slip's data, rendering the PDF, counting it.
    let (mut p_data, mut p_render, mut p_count) = (Vec::new(), Vec::new(), Vec::new());
    let mut slip_bytes = 0;
    for (i, (id, ..)) in sample.iter().take(400).enumerate() {
        let t = Instant::now();
        let r = register_returning(&kiosk, i, id);
        let t_reg = t.elapsed();
        let png = kiosk.slip_preview(&r.visit_id, SlipFormat::Png).unwrap();
        assert!(!png.is_empty());
        let t_preview = t.elapsed();
        let data = kiosk
            .store()
            .read(|c| swagat_core::slip::next_print_data(c, &r.visit_id))
            .unwrap();
        let t_data = t.elapsed();
        let pdf = swagat_core::slip::render(&data, SlipFormat::PdfA6).unwrap();
        let t_render = t.elapsed();
        kiosk
            .store()
            .write(|tx| swagat_core::slip::count_print(tx, &Actor::Cli, &r.visit_id))
            .unwrap();
        e2e.push(t.elapsed());
        p_data.push(t_data - t_preview);
        p_render.push(t_render - t_data);
        p_count.push(t.elapsed() - t_render);
        reg_only.push(t_reg);
        preview.push(t_preview - t_reg);
        print.push(t.elapsed() - t_preview);
        slip_bytes = slip_bytes.max(pdf.len());
    }
    // The token screen with auto-print on asks for the preview and the print at once (two async
    // commands, each on its own blocking thread): the operator waits for register, then the
    // slower of the two. Other returning patients than above, so no visit is a same-day repeat.
    let others: Vec<String> = kiosk
        .store()
        .read(|c| {
            let mut st = c.prepare("SELECT id FROM patients WHERE rowid % 997 = 1 LIMIT 400")?;
            let rows = st.query_map([], |r| r.get(0))?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .unwrap();
    let mut auto_print = Vec::new();
    for (i, id) in others.iter().enumerate() {
        let t = Instant::now();
        let r = register_returning(&kiosk, i, id);
        std::thread::scope(|s| {
            let preview = s.spawn(|| kiosk.slip_preview(&r.visit_id, SlipFormat::Png).unwrap());
            let data = kiosk
                .store()
                .read(|c| swagat_core::slip::next_print_data(c, &r.visit_id))
                .unwrap();
            let pdf = swagat_core::slip::render(&data, SlipFormat::PdfA6).unwrap();
            kiosk
                .store()
                .write(|tx| swagat_core::slip::count_print(tx, &Actor::Cli, &r.visit_id))
                .unwrap();
            assert!(!pdf.is_empty() && !preview.join().unwrap().is_empty());
        });
        auto_print.push(t.elapsed());
    }
    let on_screen: Vec<Duration> = reg_only
        .iter()
        .zip(&preview)
        .map(|(r, p)| *r + *p)
        .collect();
    let printed: Vec<Duration> = reg_only.iter().zip(&print).map(|(r, p)| *r + *p).collect();
    let by = |label: &str, queries: Vec<String>| {
        let mut v = Vec::new();
        for q in &queries {
            let t = Instant::now();
            let (_, found) = kiosk.search_patients(q, 20).unwrap();
            v.push(t.elapsed());
            assert!(
                label == "name_prefix" || !found.is_empty(),
                "{label} {q} found nothing"
            );
        }
        (pct(&mut v.clone(), 0.5), pct(&mut v, 0.95))
    };
    let mobile = by(
        "mobile",
        sample
            .iter()
            .filter_map(|s| s.1.clone())
            .take(200)
            .collect(),
    );
    let abha = by(
        "abha",
        sample
            .iter()
            .filter_map(|s| s.2.clone())
            .take(200)
            .collect(),
    );
    let uhid = by(
        "uhid",
        sample.iter().map(|s| s.3.clone()).take(200).collect(),
    );
    let name = by(
        "name_prefix",
        (0..200)
            .map(|i| names[i % names.len()].to_owned())
            .collect(),
    );
    let e2e_p50 = pct(&mut e2e.clone(), 0.5);
    let e2e_p95 = pct(&mut e2e, 0.95);
    let out = serde_json::json!({
        "patients": n,
        "encrypted": encrypted,
        "seed_seconds": seed_secs,
        "counter_path_ms": {
            "register_preview_print_p50": e2e_p50,
            "register_preview_print_p95": e2e_p95,
            "goal_p95": 5.0,
            // What the operator waits for: the token and its slip on screen; the slip printed
            // (auto-print off: after the print button); both, as the token screen with
            // auto-print on asks for them at once.
            "register_and_slip_on_screen_p50": pct(&mut on_screen.clone(), 0.5),
            "register_and_slip_on_screen_p95": pct(&mut on_screen.clone(), 0.95),
            "register_and_printed_slip_p50": pct(&mut printed.clone(), 0.5),
            "register_and_printed_slip_p95": pct(&mut printed.clone(), 0.95),
            "auto_print_path_p50": pct(&mut auto_print.clone(), 0.5),
            "auto_print_path_p95": pct(&mut auto_print, 0.95),
            "register_tx_p50": pct(&mut reg_only.clone(), 0.5),
            "register_tx_p95": pct(&mut reg_only.clone(), 0.95),
            // The tail a WAL checkpoint inside a commit would make (about one commit in 100).
            "register_tx_p99": pct(&mut reg_only.clone(), 0.99),
            "register_tx_max": pct(&mut reg_only, 1.0),
            "preview_png_p50": pct(&mut preview.clone(), 0.5),
            "preview_png_p95": pct(&mut preview, 0.95),
            "print_pdf_and_count_p50": pct(&mut print.clone(), 0.5),
            "print_pdf_and_count_p95": pct(&mut print, 0.95),
            "print_data_p50": pct(&mut p_data.clone(), 0.5),
            "print_render_pdf_p50": pct(&mut p_render.clone(), 0.5),
            "print_render_pdf_p95": pct(&mut p_render, 0.95),
            "print_count_p50": pct(&mut p_count.clone(), 0.5),
            "print_count_p95": pct(&mut p_count, 0.95),
        },
        "search_ms": {
            "mobile": {"p50": mobile.0, "p95": mobile.1},
            "abha_number": {"p50": abha.0, "p95": abha.1},
            "uhid": {"p50": uhid.0, "p95": uhid.1},
            "name_prefix": {"p50": name.0, "p95": name.1},
            "goal_p95": 2.0
        },
        "slip_pdf_bytes_max": slip_bytes,
        "slip_goal_bytes": 40_000,
    });
    let path = std::env::var("SWAGAT_BENCH_OUT")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| target.join("bench-opd.json"));
    std::fs::write(&path, serde_json::to_string_pretty(&out).unwrap()).unwrap();
    println!("{}", serde_json::to_string_pretty(&out).unwrap());
    println!("written to {}", path.display());
}
