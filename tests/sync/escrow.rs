//! Recovery-key escrow end to end, with the real binaries (issue 16): an encrypted kiosk's
//! recovery key reaches the state server sealed to the state's escrow key at its next sync; the
//! server cannot open it, the holder of the private key file can, and the key it gives unlocks
//! a copy of the kiosk's database.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{run, unique_code, Server};
use serde_json::Value;
use swagat_tests::profile_dir;

const ADMIN: &str = "135790";

/// `swagat-admin --db DB args…` unlocked with `unlock`.
fn admin_out(db: &Path, args: &[&str], unlock: Option<&str>) -> Output {
    let mut cmd = Command::new(profile_dir().join("swagat-admin"));
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

fn admin(db: &Path, args: &[&str]) -> Value {
    let o = admin_out(db, args, Some(ADMIN));
    assert!(
        o.status.success(),
        "swagat-admin {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

fn server_out(args: &[&str]) -> Output {
    Command::new(profile_dir().join("swagat-server"))
        .args(args)
        .output()
        .unwrap()
}

fn normal(rk: &str) -> String {
    rk.chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_uppercase()
}

#[test]
fn an_encrypted_kiosks_recovery_key_is_escrowed_sealed_and_opens_only_with_the_states_key() {
    let dir = tempfile::tempdir().unwrap();
    let state = format!("sqlite:{}", dir.path().join("state.db").display());
    let code = unique_code("ES");
    let fac = run(
        "swagat-server",
        &[
            "facility",
            "add",
            "--db",
            &state,
            "--code",
            &code,
            "--name",
            "PHC Bihta",
        ],
    );
    let server = Server::start(&state, &[]);

    // An encrypted kiosk, enrolled and synced before the state has an escrow key.
    let db = dir.path().join("kiosk.db");
    let facility = dir.path().join("f.json");
    std::fs::write(
        &facility,
        r#"{"name_en":"PHC Bihta","name_hi":"पीएचसी बिहटा","kiosk_letter":"A","state_lgd":10,"district_lgd":212}"#,
    )
    .unwrap();
    let init = admin_out(
        &db,
        &[
            "init",
            "--file",
            facility.to_str().unwrap(),
            "--admin-name",
            "Admin",
            "--admin-secret",
            ADMIN,
        ],
        None,
    );
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    let init: Value = serde_json::from_slice(&init.stdout).unwrap();
    let rk = init["recovery_key"].as_str().unwrap().to_owned();
    let enrolled = admin(
        &db,
        &[
            "enroll",
            "--server",
            &server.url,
            "--code",
            fac["enrollment_code"].as_str().unwrap(),
        ],
    );
    let device = enrolled["device_id"].as_str().unwrap().to_owned();
    admin(&db, &["sync", "--until-idle"]);
    assert_eq!(admin(&db, &["status"])["recovery_escrow"], "not_offered");
    let none = run("swagat-server", &["escrow", "list", "--db", &state]);
    assert_eq!(none["escrows"], serde_json::json!([]));

    // The state makes its key pair: the private half only in the file, mode 0600.
    let key_file = dir.path().join("escrow.key");
    let k = run(
        "swagat-server",
        &[
            "escrow",
            "keygen",
            "--db",
            &state,
            "--private-key-out",
            key_file.to_str().unwrap(),
        ],
    );
    assert!(k["public_key"].as_str().unwrap().len() >= 40, "{k}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let private = std::fs::read_to_string(&key_file).unwrap();
    // A second key pair is refused (boxes sealed to the first would be lost), and an existing
    // file is never overwritten.
    let again = server_out(&[
        "escrow",
        "keygen",
        "--db",
        &state,
        "--private-key-out",
        key_file.to_str().unwrap(),
    ]);
    assert!(!again.status.success());
    assert_eq!(std::fs::read_to_string(&key_file).unwrap(), private);
    let other_file = dir.path().join("second.key");
    let again = server_out(&[
        "escrow",
        "keygen",
        "--db",
        &state,
        "--private-key-out",
        other_file.to_str().unwrap(),
    ]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already has an escrow key"));
    assert!(!other_file.exists(), "no orphan private key is left behind");

    // The next sync escrows the key; the server holds only the sealed box.
    admin(&db, &["sync", "--until-idle"]);
    assert_eq!(admin(&db, &["status"])["recovery_escrow"], "escrowed");
    let list = run(
        "swagat-server",
        &["escrow", "list", "--db", &state, "--facility", &code],
    );
    assert_eq!(list["escrows"][0]["device_id"], device.as_str(), "{list}");
    let server_file = std::fs::read(dir.path().join("state.db")).unwrap();
    let hex = normal(&rk)[2..].to_ascii_lowercase();
    let raw = String::from_utf8_lossy(&server_file).to_ascii_lowercase();
    assert!(
        !raw.contains(&hex[..16]),
        "the server database holds no recovery key"
    );

    // The private key opens it: the same recovery key init printed.
    let opened = run(
        "swagat-server",
        &[
            "escrow",
            "recover",
            "--db",
            &state,
            "--device",
            &device,
            "--private-key-file",
            key_file.to_str().unwrap(),
        ],
    );
    assert_eq!(
        normal(opened["recovery_key"].as_str().unwrap()),
        normal(&rk)
    );

    // Another state's private key does not.
    let other_state = format!("sqlite:{}", dir.path().join("other.db").display());
    let other_key = dir.path().join("other.key");
    run(
        "swagat-server",
        &[
            "escrow",
            "keygen",
            "--db",
            &other_state,
            "--private-key-out",
            other_key.to_str().unwrap(),
        ],
    );
    let wrong = server_out(&[
        "escrow",
        "recover",
        "--db",
        &state,
        "--device",
        &device,
        "--private-key-file",
        other_key.to_str().unwrap(),
    ]);
    assert!(!wrong.status.success());
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("does not match"));

    // The recovered key unlocks a copy of the kiosk's database (its administrators gone).
    let copy_dir = tempfile::tempdir().unwrap();
    let copy = copy_dir.path().join("kiosk.db");
    std::fs::copy(&db, &copy).unwrap();
    for side in ["kiosk.db.keys", "kiosk.db-wal"] {
        let from = dir.path().join(side);
        if from.exists() {
            std::fs::copy(&from, copy_dir.path().join(side)).unwrap();
        }
    }
    let locked = admin_out(&copy, &["config", "show"], None);
    assert_eq!(locked.status.code(), Some(3));
    let unlocked = admin_out(&copy, &["config", "show"], opened["recovery_key"].as_str());
    assert!(
        unlocked.status.success(),
        "{}",
        String::from_utf8_lossy(&unlocked.stderr)
    );
    let v: Value = serde_json::from_slice(&unlocked.stdout).unwrap();
    assert_eq!(v["configured"], true, "{v}");
}
