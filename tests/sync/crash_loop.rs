//! Crash loops: `kill -9` at random points during `swagat-admin register` processes and during
//! `swagat-admin sync` pushes to a real `swagat-server` on loopback. Afterwards every registration
//! whose command returned a token is still there, `PRAGMA integrity_check` is `ok`, and the server
//! holds each outbox record exactly once.
//!
//! Bounded in time: up to `SWAGAT_CRASH_CYCLES` (default 500) register cycles and a fifth as many
//! sync cycles, stopping early at a deadline (`SWAGAT_CRASH_SECONDS`, default 150 s); the counts
//! reached are printed.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{admin, run, Server};
use swagat_tests::profile_dir;

/// A small deterministic PRNG (xorshift64*), seeded from the clock; the seed is printed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn spawn_admin(db: &Path, args: &[&str]) -> Child {
    Command::new(profile_dir().join("swagat-admin"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("SWAGAT_DB")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Lets `child` run for `after`, then SIGKILLs it if it has not finished. Returns its stdout if it
/// finished successfully on its own.
fn kill_after(mut child: Child, after: Duration) -> Option<String> {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            return status
                .success()
                .then(|| String::from_utf8_lossy(&out.stdout).into_owned());
        }
        if start.elapsed() >= after {
            child.kill().unwrap(); // SIGKILL on Unix
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn integrity(db: &Path) -> String {
    let c = rusqlite::Connection::open(db).unwrap();
    c.query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn kill_9_during_register_and_push_loses_nothing_and_duplicates_nothing() {
    let started = Instant::now();
    let cycles = env_num("SWAGAT_CRASH_CYCLES", 500);
    let deadline = Instant::now() + Duration::from_secs(env_num("SWAGAT_CRASH_SECONDS", 150));
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    println!("crash loop seed {seed}");
    let mut rng = Rng(seed);

    let dir = tempfile::tempdir().unwrap();
    let server_db_path = dir.path().join("state.db");
    let server_db = format!("sqlite:{}", server_db_path.display());
    let kiosk = dir.path().join("kiosk.db");
    let fac = run(
        "swagat-server",
        &[
            "facility",
            "add",
            "--db",
            &server_db,
            "--code",
            "CRSH1",
            "--name",
            "PHC Crash",
        ],
    );
    let code = fac["enrollment_code"].as_str().unwrap().to_owned();
    let server = Server::start(&server_db, &[]);
    admin(
        &kiosk,
        &["enroll", "--server", &server.url, "--code", &code],
    );

    let fields = |i: u64| {
        let f = dir.path().join("p.json");
        std::fs::write(
            &f,
            format!(r#"{{"name":"Crash Patient {i}","gender":"F","age_years":{},"mobile":"98765{:05}"}}"#, 20 + i % 60, i % 100_000),
        )
        .unwrap();
        f
    };
    let register_args = |f: &Path| {
        vec![
            "register".to_owned(),
            "--department".to_owned(),
            "GEN".to_owned(),
            "--json".to_owned(),
            f.to_str().unwrap().to_owned(),
        ]
    };

    // How long one registration takes here: kills land anywhere within it.
    let t0 = Instant::now();
    let f = fields(0);
    let first = admin(
        &kiosk,
        &register_args(&f)
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    let register_time = t0.elapsed();
    let mut returned: Vec<String> = vec![first["visit_id"].as_str().unwrap().to_owned()];
    let window = (register_time.as_micros() as u64 * 3 / 2).max(2_000);

    // 1. kill -9 during registrations (the server is idle: only the kiosk file is at stake).
    let mut reg_cycles = 0;
    let mut reg_killed = 0;
    for i in 1..=cycles {
        if Instant::now() > deadline {
            break;
        }
        let f = fields(i);
        let args = register_args(&f);
        let child = spawn_admin(&kiosk, &args.iter().map(String::as_str).collect::<Vec<_>>());
        match kill_after(child, Duration::from_micros(rng.below(window))) {
            Some(out) => {
                let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
                assert!(v["token"].as_str().is_some(), "{v}");
                returned.push(v["visit_id"].as_str().unwrap().to_owned());
            }
            None => reg_killed += 1,
        }
        reg_cycles += 1;
        if i % 100 == 0 {
            assert_eq!(integrity(&kiosk), "ok", "after {i} register cycles");
        }
    }

    // 2. kill -9 during pushes (with a registration between pushes so there is always more).
    let t0 = Instant::now();
    let _ = kill_after(spawn_admin(&kiosk, &["sync"]), Duration::from_secs(60));
    let sync_time = t0.elapsed().max(Duration::from_millis(5));
    let sync_window = (sync_time.as_micros() as u64 * 2).max(5_000);
    let mut sync_cycles = 0;
    let mut sync_killed = 0;
    for i in 0..(cycles / 5).max(1) {
        if Instant::now() > deadline + Duration::from_secs(30) {
            break;
        }
        let f = fields(100_000 + i);
        let v = admin(
            &kiosk,
            &register_args(&f)
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
        );
        returned.push(v["visit_id"].as_str().unwrap().to_owned());
        let f = fields(200_000 + i);
        let v = admin(
            &kiosk,
            &register_args(&f)
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
        );
        returned.push(v["visit_id"].as_str().unwrap().to_owned());
        if kill_after(
            spawn_admin(&kiosk, &["sync"]),
            Duration::from_micros(rng.below(sync_window)),
        )
        .is_none()
        {
            sync_killed += 1;
        }
        sync_cycles += 1;
    }
    let sync_target = (cycles / 5).max(1);
    println!(
        "crash loop: {reg_cycles} of {cycles} register cycles completed ({reg_killed} killed by kill -9; \
         one registration takes ~{} ms), {sync_cycles} of {sync_target} sync cycles completed \
         ({sync_killed} killed; one sync ~{} ms), {} registrations returned a token, in {:.0} s{}",
        register_time.as_millis(),
        sync_time.as_millis(),
        returned.len(),
        started.elapsed().as_secs_f64(),
        if reg_cycles < cycles || sync_cycles < sync_target {
            " (stopped early at the deadline: SWAGAT_CRASH_SECONDS)"
        } else {
            ""
        }
    );
    assert!(
        reg_killed > 0 && sync_killed > 0,
        "the kills landed mid-run"
    );

    // The kiosk file is whole and every registration that returned is there.
    assert_eq!(integrity(&kiosk), "ok");
    let k = swagat_core::Kiosk::open(&kiosk).unwrap();
    for v in &returned {
        k.visit(v).unwrap();
    }
    drop(k);

    // An uninterrupted sync brings everything across; the server holds each record exactly once.
    let s = admin(&kiosk, &["sync", "--until-idle"]);
    assert_eq!(
        (s["pending"].as_u64(), s["dead_letters"].as_u64()),
        (Some(0), Some(0)),
        "{s}"
    );
    let c = rusqlite::Connection::open(&kiosk).unwrap();
    let outbox: BTreeSet<(i64, String)> = c
        .prepare("SELECT seq, record_id FROM sync_outbox")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    let (patients, visits): (i64, i64) = c
        .query_row(
            "SELECT (SELECT count(*) FROM patients), (SELECT count(*) FROM visits)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let device: String = c
        .query_row(
            "SELECT json_extract(credentials, '$.device_id') FROM sync_state",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let srv = rusqlite::Connection::open_with_flags(
        &server_db_path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let logged: Vec<(i64, String)> = srv
        .prepare(
            "SELECT device_seq, record_id FROM change_log WHERE device_id = ?1 ORDER BY device_seq",
        )
        .unwrap()
        .query_map([&device], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(
        logged.len(),
        outbox.len(),
        "each outbox row once in the change log"
    );
    assert_eq!(logged.into_iter().collect::<BTreeSet<_>>(), outbox);
    let stats = run(
        "swagat-server",
        &["stats", "--db", &server_db, "--facility", "CRSH1"],
    );
    assert_eq!(
        (stats["patients"].as_i64(), stats["visits"].as_i64()),
        (Some(patients), Some(visits)),
        "{stats}"
    );
    drop(server);
}
