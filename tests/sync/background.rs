//! Cross-crate: the app's background sync service against a real `swagat-server` on loopback.
//! Registrations leave on their own, an outage shows as offline with the records still waiting,
//! and the service resumes by itself when the server returns — no operator action, nothing lost.
#![allow(clippy::unwrap_used)]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use swagat_core::opd::RegisterRequest;
use swagat_core::sync_service::{self, EngineConfig, SyncProblem, SyncService, SyncView};
use swagat_core::{Actor, Kiosk};
use swagat_tests::{free_port, profile_dir, wait_for_port, Guard};

fn server_cli(args: &[&str]) -> Value {
    let o = Command::new(profile_dir().join("swagat-server"))
        .args(args)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn serve(db: &str, listen: &str) -> Guard {
    Guard(
        Command::new(profile_dir().join("swagat-server"))
            .args(["serve", "--db", db, "--listen", listen])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

fn register(kiosk: &Kiosk, name: &str) {
    let req: RegisterRequest = serde_json::from_value(json!({
        "department": "GEN",
        "patient": {"name": name, "gender": "F", "age_years": 41}
    }))
    .unwrap();
    kiosk.register(&Actor::Cli, &req).unwrap();
}

/// Polls the service's view until `done` holds (or panics after `secs` with the last view).
fn wait(service: &SyncService, secs: u64, done: impl Fn(&SyncView) -> bool) -> SyncView {
    let start = Instant::now();
    loop {
        let v = service.view().unwrap();
        if done(&v) {
            return v;
        }
        assert!(
            start.elapsed() < Duration::from_secs(secs),
            "gave up waiting; last view: {v:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn background_sync_pushes_survives_an_outage_and_resumes_by_itself() {
    let dir = tempfile::tempdir().unwrap();
    let server_db = format!("sqlite:{}", dir.path().join("state.db").display());
    let fac = server_cli(&[
        "facility",
        "add",
        "--db",
        &server_db,
        "--code",
        "RNC07",
        "--name",
        "PHC Ormanjhi",
    ]);
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let server = serve(&server_db, &listen);
    assert!(wait_for_port(port, Duration::from_secs(20)));

    let kiosk = Kiosk::open(&dir.path().join("kiosk.db")).unwrap();
    register(&kiosk, "Sarita Oraon");
    let fast = EngineConfig {
        backoff_base: Duration::from_millis(100),
        backoff_cap: Duration::from_millis(800),
        probe_interval: Duration::from_millis(200),
        poll_interval: Duration::from_secs(3600),
        ..EngineConfig::default()
    };
    let service = SyncService::start(kiosk.sync_store().unwrap(), fast.clone()).unwrap();

    // Not enrolled: local only, the records wait, and that is not shown as a failure.
    let v = wait(&service, 10, |v| v.problem.is_some());
    assert_eq!(
        (v.enrolled, v.online, v.pending, v.problem),
        (false, false, 2, Some(SyncProblem::NotEnrolled))
    );

    sync_service::enroll(
        std::sync::Arc::new(kiosk.sync_store().unwrap()),
        &format!("http://{listen}"),
        fac["enrollment_code"].as_str().unwrap(),
        fast,
    )
    .unwrap();
    service.sync_now();
    let v = wait(&service, 30, |v| v.pending == 0 && v.online);
    assert!(
        v.enrolled && v.problem.is_none() && v.last_sync_at_ms.is_some(),
        "{v:?}"
    );

    // The server goes away: new work is noticed without being told, waits, and the strip says
    // offline.
    drop(server);
    register(&kiosk, "Phulmani Devi");
    let v = wait(&service, 30, |v| v.problem == Some(SyncProblem::Offline));
    assert_eq!((v.online, v.pending), (false, 2), "{v:?}");

    // It comes back: the service notices by itself (no sync_now) and drains the backlog.
    let _server = serve(&server_db, &listen);
    assert!(wait_for_port(port, Duration::from_secs(20)));
    let v = wait(&service, 60, |v| v.pending == 0 && v.online);
    assert!(v.problem.is_none(), "{v:?}");
    let stats = server_cli(&["stats", "--db", &server_db, "--facility", "RNC07"]);
    assert_eq!(
        (stats["patients"].as_u64(), stats["visits"].as_u64()),
        (Some(2), Some(2)),
        "{stats}"
    );
}

/// The state server's view of one kiosk of `code` on its facility page (JSON), as a state
/// official logged in through `/login` sees it.
fn kiosk_on_dashboard(server_db: &str, base: &str, code: &str) -> Value {
    let name = format!("hb-official-{}", free_port());
    let mut child = Command::new(profile_dir().join("swagat-server"))
        .args([
            "user",
            "add",
            "--db",
            server_db,
            "--name",
            &name,
            "--role",
            "state",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"heartbeat password\n").unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let http = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = http
        .post(format!("{base}/login"))
        .form(&[("name", name.as_str()), ("password", "heartbeat password")])
        .send()
        .unwrap();
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let page: Value = http
        .get(format!("{base}/api/v1/dashboard/facility/{code}"))
        .header("cookie", cookie)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let kiosks = page["kiosks"].as_array().unwrap();
    assert_eq!(kiosks.len(), 1, "{page}");
    kiosks[0].clone()
}

/// Issue 12 item 2: the app's background sync reports the version the shell passed and the free
/// disk of the kiosk's data folder; `swagat-admin sync` reports its own version the same way.
#[test]
fn the_state_dashboard_shows_the_app_version_and_free_disk_after_a_sync() {
    let dir = tempfile::tempdir().unwrap();
    let server_db = format!("sqlite:{}", dir.path().join("state.db").display());
    let fac = server_cli(&[
        "facility",
        "add",
        "--db",
        &server_db,
        "--code",
        "RNC08",
        "--name",
        "PHC Kanke",
    ]);
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let base = format!("http://{listen}");
    let _server = serve(&server_db, &listen);
    assert!(wait_for_port(port, Duration::from_secs(20)));

    let kiosk_db = dir.path().join("kiosk.db");
    let kiosk = Kiosk::open(&kiosk_db).unwrap();
    sync_service::enroll(
        std::sync::Arc::new(kiosk.sync_store().unwrap()),
        &base,
        fac["enrollment_code"].as_str().unwrap(),
        EngineConfig::default(),
    )
    .unwrap();
    register(&kiosk, "Sunita Munda");
    let service = SyncService::for_kiosk(&kiosk, Duration::from_secs(3600), "7.7.7-shell").unwrap();
    service.sync_now();
    wait(&service, 30, |v| {
        v.pending == 0 && v.online && v.last_sync_at_ms.is_some()
    });
    // The heartbeat follows the round's last request: give it a moment to land.
    let start = Instant::now();
    let k = loop {
        let k = kiosk_on_dashboard(&server_db, &base, "RNC08");
        if k["app_version"].is_string() || start.elapsed() > Duration::from_secs(10) {
            break k;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(k["app_version"], "7.7.7-shell", "{k}");
    assert_eq!(k["pending"], 0, "{k}");
    let free = k["free_disk_bytes"].as_i64().unwrap_or(0);
    assert!(free > 0, "free disk of the data folder reported: {k}");
    drop(service);

    // `swagat-admin sync` over the same database sends its own heartbeat, with its version.
    register(&kiosk, "Basanti Kujur");
    let o = Command::new(profile_dir().join("swagat-admin"))
        .args(["--db", kiosk_db.to_str().unwrap(), "sync"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let k = kiosk_on_dashboard(&server_db, &base, "RNC08");
    assert_eq!(k["app_version"], env!("CARGO_PKG_VERSION"), "{k}");
    assert!(k["free_disk_bytes"].as_i64().unwrap_or(0) > 0, "{k}");
    assert_ne!(
        k["app_version"], "7.7.7-shell",
        "a fresh heartbeat replaced the app's"
    );
}
