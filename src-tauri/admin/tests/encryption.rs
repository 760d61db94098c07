//! The headless unlock contract as processes: `init --admin-secret S` sets the key up; later
//! commands unlock with an administrator's secret or the recovery key from `SWAGAT_UNLOCK` or
//! `--unlock-file`; a locked database answers exit 3 with a clear message; before `init` nothing
//! needs a key; backups of an encrypted database verify and restore with the key.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};

/// `swagat-admin --db DB ARGS…` with exactly the unlock environment given.
fn run(db: &Path, args: &[&str], unlock: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_swagat-admin"));
    cmd.arg("--db")
        .arg(db)
        .args(args)
        .env_remove("SWAGAT_DB")
        .env_remove("SWAGAT_UNLOCK");
    if let Some(u) = unlock {
        cmd.env("SWAGAT_UNLOCK", u);
    }
    cmd.output().unwrap()
}

fn ok(o: Output) -> serde_json::Value {
    assert!(
        o.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

fn init(dir: &Path, db: &Path) -> serde_json::Value {
    let facility = dir.join("f.json");
    std::fs::write(
        &facility,
        r#"{"name_en":"PHC Bihta","name_hi":"पीएचसी बिहटा","kiosk_letter":"A","state_lgd":10,"district_lgd":212}"#,
    )
    .unwrap();
    ok(run(
        db,
        &[
            "init",
            "--file",
            facility.to_str().unwrap(),
            "--admin-name",
            "Admin",
            "--admin-secret",
            "135790",
        ],
        None,
    ))
}

#[test]
fn init_sets_up_the_key_and_every_later_command_unlocks_or_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("k.db");
    // Before init: no key, config show works.
    let v = ok(run(&db, &["config", "show"], None));
    assert_eq!(v["configured"], false);

    let v = init(dir.path(), &db);
    assert_eq!(v["encrypted"], true);
    let rk = v["recovery_key"].as_str().unwrap().to_owned();
    assert!(rk.starts_with("RK-"), "{rk}");

    // Locked: exit 3 and a clear message, for reads and writes alike.
    for args in [
        vec!["config", "show"],
        vec!["staff", "list"],
        vec!["patients", "search", "Sunita"],
    ] {
        let o = run(&db, &args, None);
        assert_eq!(o.status.code(), Some(3), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("encrypted and locked") && err.contains("SWAGAT_UNLOCK"),
            "{err}"
        );
    }
    // A wrong secret: exit 3 too, saying so.
    let o = run(&db, &["config", "show"], Some("999999"));
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stderr).contains("wrong"));

    // The administrator's secret and the recovery key unlock, from the environment …
    let fields = dir.path().join("p.json");
    std::fs::write(
        &fields,
        r#"{"name":"Sunita Devi","gender":"F","age_years":30,"mobile":"9876543210"}"#,
    )
    .unwrap();
    let reg = ok(run(
        &db,
        &[
            "register",
            "--department",
            "GEN",
            "--json",
            fields.to_str().unwrap(),
        ],
        Some("135790"),
    ));
    assert_eq!(reg["token"], "A-001");
    let s = ok(run(&db, &["patients", "search", "Sunita"], Some(&rk)));
    assert_eq!(s["patients"].as_array().unwrap().len(), 1);
    // … or from a file (a trailing newline is fine).
    let secret = dir.path().join("unlock.txt");
    std::fs::write(&secret, "135790\n").unwrap();
    let s = ok(run(
        &db,
        &[
            "--unlock-file",
            secret.to_str().unwrap(),
            "patients",
            "search",
            "9876543210",
        ],
        None,
    ));
    assert_eq!(s["patients"].as_array().unwrap().len(), 1);
    // A reception PIN does not unlock the CLI.
    ok(run(
        &db,
        &[
            "staff",
            "add",
            "--name",
            "Asha",
            "--role",
            "reception",
            "--secret",
            "246810",
        ],
        Some(&rk),
    ));
    assert_eq!(
        run(&db, &["config", "show"], Some("246810")).status.code(),
        Some(3)
    );

    // The file gives nothing away.
    let bytes = std::fs::read(&db).unwrap();
    assert!(!bytes.windows(11).any(|w| w == b"Sunita Devi"));
    assert!(!bytes.starts_with(b"SQLite format 3"));

    // Backups: encrypted, verified and restored with the key; without it, exit 3.
    let usb = dir.path().join("usb");
    let made = ok(run(
        &db,
        &["backup", "create", "--dir", usb.to_str().unwrap()],
        Some("135790"),
    ));
    let file = made["file"].as_str().unwrap().to_owned();
    let b = std::fs::read(&file).unwrap();
    assert!(!b.windows(11).any(|w| w == b"Sunita Devi"));
    assert_eq!(
        run(&db, &["backup", "verify", &file], None).status.code(),
        Some(3)
    );
    let v = ok(run(&db, &["backup", "verify", &file], Some(&rk)));
    assert_eq!(
        (v["ok"].as_bool(), v["patients"].as_i64()),
        (Some(true), Some(1))
    );
    let restored = ok(run(&db, &["backup", "restore", &file], Some("135790")));
    assert_eq!(restored["verified"]["ok"], true);
    let s = ok(run(&db, &["patients", "search", "Sunita"], Some("135790")));
    assert_eq!(s["patients"].as_array().unwrap().len(), 1);
}

#[test]
fn a_fresh_machine_restores_a_backup_with_the_recovery_key_alone() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("k.db");
    let rk = init(dir.path(), &db)["recovery_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let usb = dir.path().join("usb");
    let made = ok(run(
        &db,
        &["backup", "create", "--dir", usb.to_str().unwrap()],
        Some(&rk),
    ));
    let file = made["file"].as_str().unwrap().to_owned();
    // The PC died: a new database path, no key file.
    let fresh = dir.path().join("new/k.db");
    let r = ok(run(&fresh, &["backup", "restore", &file], Some(&rk)));
    assert_eq!(r["verified"]["ok"], true);
    let v = ok(run(&fresh, &["config", "show"], Some(&rk)));
    assert_eq!(v["name_en"], "PHC Bihta");
}
