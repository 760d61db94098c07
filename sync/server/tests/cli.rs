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

/// A code the kiosk would refuse ("code must be 2-8 letters or digits") is refused at `facility
/// add`, before an enrollment code is handed out that no kiosk could use.
#[test]
fn facility_add_refuses_a_code_no_kiosk_could_use() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("s.db").display());
    for bad in ["BR-PAT-UPHC07", "A", "UPHC 07", "TOOLONGCODE"] {
        let out = Command::new(env!("CARGO_BIN_EXE_swagat-server"))
            .args([
                "facility", "add", "--db", &db, "--code", bad, "--name", "UPHC",
            ])
            .output()
            .unwrap();
        assert!(!out.status.success(), "{bad} was accepted");
        assert!(out.stdout.is_empty(), "no enrollment code for {bad}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("2 to 8 letters or digits"), "{bad}: {err}");
    }
    let (ok, _) = run(&["facility", "code", "--db", &db, "--code", "BR-PAT-UPHC07"]);
    assert!(!ok, "no facility was made");
    // An HFR id is checked (and upper-cased) by the kiosk's rule too.
    let (ok, _) = run(&[
        "facility", "add", "--db", &db, "--code", "UPHC07", "--name", "U", "--hfr-id", "IN12",
    ]);
    assert!(!ok);
    let (ok, _) = run(&[
        "facility",
        "add",
        "--db",
        &db,
        "--code",
        "UPHC07",
        "--name",
        "U",
        "--hfr-id",
        "in2810014366",
    ]);
    assert!(ok);
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
        "rampur",
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
    // Duplicate facility code fails (the code was upper-cased when added).
    let (ok, _) = run(&[
        "facility", "add", "--db", &db, "--code", "RAMPUR", "--name", "x",
    ]);
    assert!(!ok);
    let (ok, v2) = run(&["facility", "code", "--db", &db, "--code", "RAMPUR"]);
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
        "RAMPUR",
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
    let (ok, s) = run(&["stats", "--db", &db, "--facility", "RAMPUR"]);
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
