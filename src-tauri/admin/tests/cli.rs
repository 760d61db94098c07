//! `swagat-admin` as a process: JSON on stdout, reasons on stderr, the exit-code contract.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn admin(db: &std::path::Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_swagat-admin"));
    common::unlock_env(&mut cmd, db);
    let mut child = cmd
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("SWAGAT_DB")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut pipe = child.stdin.take().unwrap();
    if let Some(s) = stdin {
        pipe.write_all(s.as_bytes()).unwrap();
    }
    drop(pipe);
    let out = child.wait_with_output().unwrap();
    common::remember(db, args, &out);
    out
}

fn json(o: &Output) -> serde_json::Value {
    assert!(
        o.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let text = String::from_utf8(o.stdout.clone()).unwrap();
    assert_eq!(
        text.lines().count(),
        1,
        "one JSON object per command: {text}"
    );
    serde_json::from_str(&text).unwrap()
}

#[test]
fn config_show_on_a_fresh_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sub/k.db");
    let v = json(&admin(&db, &["config", "show"], None));
    assert_eq!(v["configured"], false);
    assert_eq!(v["departments"][0]["code"], "GEN");
    assert!(db.exists(), "the database (and its folder) is created");
}

#[test]
fn init_set_and_staff_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("k.db");
    let facility = r#"{"name_en":"District Hospital Jagdalpur","name_hi":"जिला अस्पताल जगदलपुर","state_lgd":22,"district_lgd":374,"kiosk_letter":"C"}"#;
    let v = json(&admin(
        &db,
        &[
            "init",
            "--file",
            "-",
            "--admin-name",
            "Admin",
            "--admin-secret",
            "246800",
        ],
        Some(facility),
    ));
    assert_eq!(v["admin"]["role"], "admin");
    assert_eq!(v["config"]["configured"], true);

    let v = json(&admin(
        &db,
        &[
            "config",
            "set",
            "hfr_id=IN2210000001",
            "idle_lock_minutes=10",
        ],
        None,
    ));
    assert_eq!(v["hfr_id"], "IN2210000001");
    assert_eq!(v["idle_lock_minutes"], 10);

    let v = json(&admin(
        &db,
        &[
            "staff",
            "add",
            "--name",
            "Sunita",
            "--role",
            "reception",
            "--secret",
            "135702",
        ],
        None,
    ));
    assert_eq!(v["role"], "reception");
    assert!(v.get("secret").is_none() && v.get("secret_hash").is_none());
    let v = json(&admin(&db, &["staff", "list"], None));
    assert_eq!(v["staff"].as_array().unwrap().len(), 2);
    let v = json(&admin(&db, &["audit", "list"], None));
    let actions: Vec<_> = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    assert!(actions.contains(&"config.update".to_owned()));
    assert!(actions.contains(&"staff.create".to_owned()));
}

#[test]
fn exit_codes_follow_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("k.db");
    // Usage errors: 1.
    let o = admin(&db, &["config", "frobnicate"], None);
    assert_eq!(o.status.code(), Some(1));
    let o = admin(
        &db,
        &[
            "staff", "add", "--name", "X", "--role", "king", "--secret", "1234",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    // Invalid input: 2, with a one-line reason and nothing on stdout.
    for args in [
        vec!["config", "set", "kiosk_letter=AB"],
        vec!["config", "set", "hfr_id=XX"],
        vec!["config", "set", "no_such_key=1"],
        vec!["config", "set"],
    ] {
        let o = admin(&db, &args, None);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(o.stdout.is_empty());
        let err = String::from_utf8(o.stderr).unwrap();
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
    let o = admin(&db, &["config", "set", "--file", "-"], Some("{not json"));
    assert_eq!(o.status.code(), Some(2));
    // Help: 0.
    let o = admin(&db, &["--help"], None);
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8(o.stdout).unwrap().contains("config"));
}

#[test]
fn a_database_from_a_newer_app_is_refused_with_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("k.db");
    json(&admin(&db, &["config", "show"], None));
    let c = rusqlite_free_bump(&db);
    assert!(c);
    let o = admin(&db, &["config", "show"], None);
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8(o.stderr).unwrap().contains("newer"));
}

/// Bumps user_version past what the app knows, through swagat-core's own connection opener.
fn rusqlite_free_bump(db: &std::path::Path) -> bool {
    let conn = swagat_core::store::open_connection(db).unwrap();
    conn.pragma_update(None, "user_version", 999).is_ok()
}
