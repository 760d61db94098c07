//! Helpers shared by the `swagat-admin` process tests: run the binary on a database, read its JSON.
#![allow(clippy::unwrap_used, dead_code)]

use std::path::Path;
use std::process::{Command, Output};

/// Runs `swagat-admin --db DB ARGS…` with no `SWAGAT_DB` from the environment.
pub fn admin(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_swagat-admin"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("SWAGAT_DB")
        .output()
        .unwrap()
}

/// Asserts success and parses stdout as one JSON value.
pub fn ok(o: Output) -> serde_json::Value {
    assert!(
        o.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}
