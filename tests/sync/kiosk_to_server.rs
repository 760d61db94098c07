//! Cross-crate: kiosk registrations reach a real state server over loopback through
//! `swagat-admin enroll` and `sync`, exactly once, and the facility code flows back into UHIDs.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use swagat_tests::{free_port, profile_dir, wait_for_port, Guard};

fn run(bin: &str, args: &[&str]) -> Value {
    let o = Command::new(profile_dir().join(bin))
        .args(args)
        .env_remove("SWAGAT_DB")
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{bin} {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

fn register(db: &Path, dir: &Path, name: &str) -> Value {
    let f = dir.join(format!("{name}.json"));
    std::fs::write(
        &f,
        format!(r#"{{"name":"{name}","gender":"F","age_years":30}}"#),
    )
    .unwrap();
    run(
        "swagat-admin",
        &[
            "--db",
            db.to_str().unwrap(),
            "register",
            "--department",
            "GEN",
            "--json",
            f.to_str().unwrap(),
        ],
    )
}

#[test]
fn registrations_reach_the_server_once_and_resync_is_a_no_op() {
    let dir = tempfile::tempdir().unwrap();
    let server_db = format!("sqlite:{}", dir.path().join("state.db").display());
    let kiosk = dir.path().join("kiosk.db");
    let fac = run(
        "swagat-server",
        &[
            "facility",
            "add",
            "--db",
            &server_db,
            "--code",
            "PTN12",
            "--name",
            "UPHC Kankarbagh",
        ],
    );
    let code = fac["enrollment_code"].as_str().unwrap().to_owned();
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let _server = Guard(
        Command::new(profile_dir().join("swagat-server"))
            .args(["serve", "--db", &server_db, "--listen", &listen])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    assert!(wait_for_port(port, Duration::from_secs(20)));
    let db = kiosk.to_str().unwrap();

    // Offline work first: two registrations queue four records.
    register(&kiosk, dir.path(), "Sunita Devi");
    register(&kiosk, dir.path(), "Rekha Kumari");
    assert_eq!(run("swagat-admin", &["--db", db, "status"])["pending"], 4);

    let e = run(
        "swagat-admin",
        &[
            "--db",
            db,
            "enroll",
            "--server",
            &format!("http://{listen}"),
            "--code",
            &code,
        ],
    );
    assert_eq!(e["facility_code"], "PTN12");
    let s = run("swagat-admin", &["--db", db, "sync", "--until-idle"]);
    assert_eq!(
        (
            s["pushed"].as_u64(),
            s["pending"].as_u64(),
            s["dead_letters"].as_u64()
        ),
        (Some(4), Some(0), Some(0))
    );
    let again = run("swagat-admin", &["--db", db, "sync"]);
    assert_eq!(again["pushed"], 0);

    // The facility code now starts new UHIDs; the next registration syncs too.
    let r = register(&kiosk, dir.path(), "Geeta Devi");
    assert!(r["uhid"].as_str().unwrap().starts_with("PTN12-"), "{r}");
    run("swagat-admin", &["--db", db, "sync", "--until-idle"]);
    let stats = run(
        "swagat-server",
        &["stats", "--db", &server_db, "--facility", "PTN12"],
    );
    assert_eq!(
        (stats["patients"].as_u64(), stats["visits"].as_u64()),
        (Some(3), Some(3)),
        "{stats}"
    );
}
