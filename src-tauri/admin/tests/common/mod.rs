//! Helpers shared by the `swagat-admin` process tests: run the binary on a database, read its JSON.
#![allow(clippy::unwrap_used, dead_code)]

use std::path::Path;
use std::process::{Command, Output};

/// Runs `swagat-admin --db DB ARGS…` with no `SWAGAT_DB` from the environment. After an `init`
/// on a database, later commands get its recovery key in `SWAGAT_UNLOCK` (the headless unlock
/// contract; the recovery key needs no argon2 work, which keeps the suite quick).
pub fn admin(db: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_swagat-admin"));
    cmd.arg("--db").arg(db).args(args).env_remove("SWAGAT_DB");
    unlock_env(&mut cmd, db);
    let out = cmd.output().unwrap();
    remember(db, args, &out);
    out
}

fn keys() -> &'static std::sync::Mutex<std::collections::HashMap<std::path::PathBuf, String>> {
    static K: std::sync::OnceLock<
        std::sync::Mutex<std::collections::HashMap<std::path::PathBuf, String>>,
    > = std::sync::OnceLock::new();
    K.get_or_init(Default::default)
}

/// Sets `SWAGAT_UNLOCK` to the recovery key `init` printed for `db` (if it ran), else removes it.
pub fn unlock_env(cmd: &mut Command, db: &Path) {
    match recovery_key(db) {
        Some(k) => cmd.env("SWAGAT_UNLOCK", k),
        None => cmd.env_remove("SWAGAT_UNLOCK"),
    };
}

/// Remembers the recovery key of a successful `init` on `db`.
pub fn remember(db: &Path, args: &[&str], out: &Output) {
    if !args.contains(&"init") || !out.status.success() {
        return;
    }
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&out.stdout) {
        if let Some(k) = v["recovery_key"].as_str() {
            keys()
                .lock()
                .unwrap()
                .insert(db.to_path_buf(), k.to_owned());
        }
    }
}

/// The recovery key `init` printed for `db`.
pub fn recovery_key(db: &Path) -> Option<String> {
    keys().lock().unwrap().get(db).cloned()
}

/// Unlocks `db` in this test process (for in-process `Kiosk::open` after a CLI `init`).
pub fn unlock(db: &Path) {
    if let Some(k) = recovery_key(db) {
        swagat_core::crypt::unlock_admin(db, &k).unwrap();
    }
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
