//! The `swagat-server` command line is a contract (acceptance checks and operators' scripts):
//! subcommand names, flags and JSON keys are checked here against the real binary.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;
use std::process::Command;

fn run(args: &[&str]) -> (bool, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_swagat-server"))
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let v = serde_json::from_slice(out.stdout.trim_ascii()).unwrap_or(Value::Null);
    (out.status.success(), v)
}

#[test]
fn facility_add_code_stats_and_revoke() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("s.db").display());
    let (ok, v) = run(&[
        "facility",
        "add",
        "--db",
        &db,
        "--code",
        "PHC-RAMPUR",
        "--name",
        "PHC Rampur",
        "--hfr-id",
        "IN0910000123",
        "--state-lgd",
        "9",
        "--district-lgd",
        "162",
    ]);
    assert!(ok);
    assert!(v["facility_id"].as_str().unwrap().len() == 36);
    assert_eq!(v["enrollment_code"].as_str().unwrap().len(), 14);
    // Duplicate facility code fails.
    let (ok, _) = run(&[
        "facility",
        "add",
        "--db",
        &db,
        "--code",
        "PHC-RAMPUR",
        "--name",
        "x",
    ]);
    assert!(!ok);
    let (ok, v2) = run(&["facility", "code", "--db", &db, "--code", "PHC-RAMPUR"]);
    assert!(ok);
    assert_eq!(v2["facility_id"], v["facility_id"]);
    assert_ne!(v2["enrollment_code"], v["enrollment_code"]);
    let payload = dir.path().join("dept.json");
    std::fs::write(&payload, r#"{"name":"General OPD"}"#).unwrap();
    let (ok, p) = run(&[
        "publish",
        "--db",
        &db,
        "--facility",
        "PHC-RAMPUR",
        "--kind",
        "master_department",
        "--payload-file",
        payload.to_str().unwrap(),
    ]);
    assert!(ok);
    assert_eq!(p["record_id"].as_str().unwrap().len(), 36);
    let (ok, s) = run(&["stats", "--db", &db]);
    assert!(ok);
    assert_eq!(
        (s["patients"].as_u64(), s["visits"].as_u64()),
        (Some(0), Some(0))
    );
    let (ok, s) = run(&["stats", "--db", &db, "--facility", "PHC-RAMPUR"]);
    assert!(ok);
    assert_eq!(s["patients"], 0);
    let (ok, _) = run(&["stats", "--db", &db, "--facility", "NOPE"]);
    assert!(!ok);
    let (ok, _) = run(&[
        "device",
        "revoke",
        "--db",
        &db,
        "--device",
        "01a2047b-edc3-7305-88aa-0c2284394949",
    ]);
    assert!(!ok);
    let (ok, _) = run(&["stats", "--db", "mysql://x"]);
    assert!(!ok);
}
