//! `swagat-admin backup create|list|verify|restore` as processes: JSON out, a damaged backup
//! refused, the replaced database kept aside, and no restore while the app holds the database.
#![allow(clippy::unwrap_used)]

mod common;

use common::{admin, ok};

fn register(db: &std::path::Path, dir: &std::path::Path, name: &str) -> serde_json::Value {
    let f = dir.join("p.json");
    std::fs::write(
        &f,
        format!(r#"{{"name":"{name}","gender":"M","age_years":50}}"#),
    )
    .unwrap();
    ok(admin(
        db,
        &[
            "register",
            "--department",
            "GEN",
            "--json",
            f.to_str().unwrap(),
        ],
    ))
}

#[test]
fn create_list_verify_and_restore_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("k.db");
    let usb = dir.path().join("usb");
    ok(admin(
        &db,
        &["config", "set", &format!("backup_dir={}", usb.display())],
    ));
    register(&db, dir.path(), "Ramesh Yadav");

    let made = ok(admin(&db, &["backup", "create"]));
    assert_eq!(made["integrity"], "ok");
    assert_eq!(made["reason"], "manual");
    let file = made["file"].as_str().unwrap().to_owned();
    assert!(file.starts_with(usb.to_str().unwrap()), "{made}");
    let list = ok(admin(&db, &["backup", "list"]));
    assert_eq!(list["backups"].as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list["last_good"]["file"], file.as_str());
    assert_eq!(list["stale"], false);
    let v = ok(admin(&db, &["backup", "verify", &file]));
    assert_eq!(
        (v["ok"].as_bool(), v["integrity"].as_str()),
        (Some(true), Some("ok"))
    );
    assert_eq!(v["patients"], 1);

    // A damaged copy fails verification (exit 3) and is not restored.
    let bad = dir.path().join("bad.db");
    let mut bytes = std::fs::read(&file).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid..mid + 4096].fill(0xA5);
    std::fs::write(&bad, bytes).unwrap();
    assert_eq!(
        admin(&db, &["backup", "verify", bad.to_str().unwrap()])
            .status
            .code(),
        Some(3)
    );
    let o = admin(&db, &["backup", "restore", bad.to_str().unwrap()]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );

    // Later work, then a restore: the later patient is gone, the replaced file kept aside.
    register(&db, dir.path(), "Later Patient");
    let r = ok(admin(&db, &["backup", "restore", &file]));
    let kept = r["replaced_kept_at"].as_str().unwrap();
    assert!(std::path::Path::new(kept).exists());
    let s = ok(admin(&db, &["patients", "search", "Later Patient"]));
    assert_eq!(s["count"], 0, "{s}");
    let s = ok(admin(&db, &["patients", "search", "Ramesh"]));
    assert_eq!(s["count"], 1);
    let audit = String::from_utf8(admin(&db, &["audit", "list"]).stdout).unwrap();
    assert!(audit.contains("backup.restore"));

    // --latest finds the newest verified backup.
    ok(admin(&db, &["backup", "restore", "--latest"]));

    // While the app holds the database, restore refuses.
    let lock = swagat_core::disk::AppLock::acquire(&db).unwrap().unwrap();
    let o = admin(&db, &["backup", "restore", &file]);
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stderr).contains("close it first"));
    drop(lock);
}
