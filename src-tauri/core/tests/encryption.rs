//! Encryption at rest, on real files: a stolen database (and its WAL, key file and backups) gives
//! nothing away; the first login after "boot" (a fresh process state: the key forgotten) unlocks
//! it; wrappings follow staff changes; a plaintext database from an older Swagat is encrypted in
//! place with every row kept; backups stay encrypted and verify and restore.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use swagat_core::backup;
use swagat_core::crypt;
use swagat_core::opd::RegisterRequest;
use swagat_core::{Actor, CoreError, ErrorKind, Kiosk, NewStaff, Role};

const NAME: &str = "Sunita Kumari Devi";
const MOBILE: &str = "9876512345";

fn setup(k: &Kiosk) -> swagat_core::StaffMember {
    k.first_run_setup(
        &serde_json::from_value(serde_json::json!({
            "facility": {"name_en": "PHC Bihta", "name_hi": "पीएचसी बिहटा", "kiosk_letter": "A",
                         "state_lgd": 10, "district_lgd": 212},
            "admin_name": "Admin", "admin_secret": "135790"
        }))
        .unwrap(),
    )
    .unwrap()
}

/// The patient of the stolen-file test: with a mobile, an Aadhaar (consented) and an address.
fn request(name: &str) -> RegisterRequest {
    serde_json::from_value(serde_json::json!({
        "department": "GEN",
        "patient": {"name": name, "gender": "F", "age_years": 34, "mobile": MOBILE,
                    "aadhaar": "2345 6789 0124", "aadhaar_consent": true,
                    "address": {"locality": "Kankarbagh", "district": "Patna", "pincode": "800020"}}
    }))
    .unwrap()
}

/// One of many different patients.
fn patient(name: &str) -> RegisterRequest {
    serde_json::from_value(serde_json::json!({
        "department": "GEN",
        "patient": {"name": name, "gender": "M", "age_years": 40}
    }))
    .unwrap()
}

/// Every file in `dir` (recursively) whose bytes contain `needle`.
fn files_containing(dir: &Path, needle: &[u8]) -> Vec<String> {
    let mut hits = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            hits.extend(files_containing(&p, needle));
        } else if let Ok(bytes) = std::fs::read(&p) {
            if bytes.windows(needle.len()).any(|w| w == needle) {
                hits.push(p.display().to_string());
            }
        }
    }
    hits
}

/// What a thief's `sqlite3 kiosk.db` does: open and read the schema, without the key.
fn opens_without_key(db: &Path) -> bool {
    let c = rusqlite::Connection::open(db).unwrap();
    c.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    })
    .is_ok()
}

fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn a_stolen_file_yields_nothing_and_the_first_login_unlocks_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("swagat");
    let db = data.join("kiosk.db");
    let k = Kiosk::open(&db).unwrap();
    // Before setup: plain SQLite, no key, no patient data; it opens without anything.
    assert!(!k.is_encrypted() && !k.is_locked());
    assert!(opens_without_key(&db));
    let admin = setup(&k);
    assert!(k.is_encrypted(), "setup encrypts the file");
    let rk = k.recovery_key().expect("a recovery key");
    k.add_staff(
        &Actor::Staff(admin.id.clone()),
        &NewStaff {
            name: "Asha".into(),
            role: Role::Reception,
            secret: "246810".into(),
        },
    )
    .unwrap();
    let reg = k.register(&Actor::Cli, &request(NAME)).unwrap();
    // The sync credential's place and the Aadhaar key live inside the same file.
    let hash_key: Vec<u8> = k
        .store()
        .read(|c| swagat_core::opd::secrets::stored_key(c).map(|k| k.unwrap_or_default()))
        .unwrap();
    assert!(!hash_key.is_empty());
    let backup = k
        .backup_now(&Actor::Cli, Some(&dir.path().join("usb")))
        .unwrap();
    drop(k);

    // The thief copies the folder and the USB stick: not a name, not a mobile number, not the
    // Aadhaar hashing key, in any file (database, WAL, key file, backup); no key, no schema.
    // (The hashing key is stored as hex.)
    let hash_hex = hash_key.iter().fold(String::new(), |mut s, b| {
        use std::fmt::Write as _;
        let _ = write!(s, "{b:02x}");
        s
    });
    for needle in [
        NAME.as_bytes(),
        MOBILE.as_bytes(),
        b"Kankarbagh",
        hash_hex.as_bytes(),
    ] {
        assert_eq!(files_containing(dir.path(), needle), Vec::<String>::new());
    }
    assert!(!opens_without_key(&db), "sqlite3 cannot read it");
    assert!(!opens_without_key(Path::new(&backup.backup.file)));
    assert_eq!(mode(&db), 0o600);
    assert_eq!(mode(&crypt::keyfile_path(&db)), 0o600);
    assert_eq!(mode(&data), 0o700, "the data folder Swagat made");

    // "Reboot": this process forgets the key. The kiosk opens locked; the login screen still has
    // the names (from the key file), nothing else can be read.
    crypt::forget(&db);
    let k = Kiosk::open(&db).unwrap();
    assert!(k.is_locked());
    let st = k.status().unwrap();
    assert!(st.locked && !st.first_run);
    assert_eq!(st.facility_name_en, "PHC Bihta");
    let mut names: Vec<String> = k
        .login_names()
        .unwrap()
        .into_iter()
        .map(|n| n.name)
        .collect();
    names.sort();
    assert_eq!(names, ["Admin", "Asha"]);
    let err = k.visit(&reg.visit_id).unwrap_err();
    assert!(matches!(err, CoreError::Locked { .. }), "{err:?}");
    assert!(
        k.sync_store().is_err(),
        "background sync cannot start locked"
    );
    // A wrong PIN and an unknown name: refused alike, still locked.
    for (who, pin) in [("Asha", "246811"), ("Nobody", "246810")] {
        let e = k.login(who, pin).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Auth);
        assert_eq!(e.message(swagat_core::Lang::En), "wrong name or PIN");
    }
    assert!(k.is_locked());
    // Reception's own PIN unlocks at the first login.
    let asha = k.login("Asha", "246810").unwrap();
    assert_eq!(asha.role, Role::Reception);
    assert!(!k.is_locked());
    assert_eq!(k.visit(&reg.visit_id).unwrap().token, reg.token);
    assert!(k.sync_store().is_ok());
    drop(k);

    // The recovery key alone opens it too (and no other key does).
    crypt::forget(&db);
    let k = Kiosk::open(&db).unwrap();
    let wrong = crypt::DataKey::random().unwrap().recovery_text();
    assert!(matches!(
        k.unlock(&wrong).unwrap_err(),
        CoreError::Locked { .. }
    ));
    assert!(
        k.unlock("246810").is_err(),
        "reception's PIN is not an admin secret"
    );
    assert_eq!(k.unlock(&rk).unwrap(), crypt::UnlockedBy::RecoveryKey);
    assert_eq!(k.visit(&reg.visit_id).unwrap().token, reg.token);
}

#[test]
fn wrappings_follow_disable_and_pin_reset() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kiosk.db");
    let k = Kiosk::open(&db).unwrap();
    let admin = setup(&k);
    let me = Actor::Staff(admin.id.clone());
    let asha = k
        .add_staff(
            &me,
            &NewStaff {
                name: "Asha".into(),
                role: Role::Reception,
                secret: "246810".into(),
            },
        )
        .unwrap();
    k.reset_staff_secret(&me, &asha.id, "975310").unwrap();
    drop(k);
    crypt::forget(&db);
    let k = Kiosk::open(&db).unwrap();
    assert!(
        k.login("Asha", "246810").is_err(),
        "the old PIN's wrapping is gone"
    );
    assert!(k.is_locked());
    k.login("Asha", "975310").unwrap();
    k.set_staff_active(&me, &asha.id, false).unwrap();
    drop(k);
    crypt::forget(&db);
    let k = Kiosk::open(&db).unwrap();
    let names: Vec<String> = k
        .login_names()
        .unwrap()
        .into_iter()
        .map(|n| n.name)
        .collect();
    assert_eq!(
        names,
        ["Admin"],
        "a disabled account cannot unlock the disk"
    );
    assert!(k.login("Asha", "975310").is_err());
    assert!(k.is_locked());
    k.login("Admin", "135790").unwrap();
}

fn table_counts(c: &rusqlite::Connection) -> Vec<(String, i64)> {
    let names: Vec<String> = c
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    names
        .into_iter()
        .map(|n| {
            let count = c
                .query_row(&format!("SELECT count(*) FROM \"{n}\""), [], |r| r.get(0))
                .unwrap();
            (n, count)
        })
        .collect()
}

#[test]
fn a_plaintext_database_from_an_older_swagat_is_encrypted_in_place_at_the_first_login() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kiosk.db");
    // An older Swagat's file: set up and used, plaintext (made here by decrypting a new one
    // with sqlcipher_export into a plain file, as an older build would have left it).
    let enc = dir.path().join("enc.db");
    let k = Kiosk::open(&enc).unwrap();
    setup(&k);
    for i in 0..300 {
        k.register(&Actor::Cli, &patient(&format!("Old Patient {i}")))
            .unwrap();
    }
    let c = swagat_core::store::open_connection(&enc).unwrap();
    c.execute("ATTACH DATABASE ?1 AS plain KEY ''", [db.to_str().unwrap()])
        .unwrap();
    c.query_row("SELECT sqlcipher_export('plain')", [], |_| Ok(()))
        .unwrap();
    let v: i64 = c
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    c.pragma_update(Some("plain"), "user_version", v).unwrap();
    c.execute_batch("DETACH DATABASE plain").unwrap();
    drop(c);
    drop(k);
    assert!(!crypt::is_encrypted(&db) && !crypt::keyfile_path(&db).exists());
    let before = table_counts(&rusqlite::Connection::open(&db).unwrap());
    assert!(before.iter().any(|(t, n)| t == "patients" && *n == 300));

    // The first login encrypts it: every row kept, the plaintext gone.
    let k = Kiosk::open(&db).unwrap();
    assert!(!k.is_encrypted());
    k.login("Admin", "135790").unwrap();
    assert!(k.is_encrypted());
    assert!(!opens_without_key(&db));
    let after = table_counts(&swagat_core::store::open_connection(&db).unwrap());
    // The login itself adds its audit entry and login time; everything else is as it was.
    let strip = |v: &[(String, i64)]| {
        v.iter()
            .filter(|(t, _)| t != "audit_log")
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&after), strip(&before));
    assert_eq!(
        files_containing(dir.path(), b"Old Patient 1"),
        Vec::<String>::new(),
        "no plaintext left in any file"
    );
    let leftovers: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("encrypting") || n.starts_with("kiosk.db-"))
        .filter(|n| !n.ends_with("-wal") && !n.ends_with("-shm"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    drop(k);
    crypt::forget(&db);
    let k = Kiosk::open(&db).unwrap();
    assert!(k.is_locked());
    k.login("Admin", "135790").unwrap();
    assert_eq!(k.search_patients("Old Patient", 5).unwrap().1.len(), 5);
}

#[test]
fn encrypted_backups_verify_and_restore_with_the_key_only() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kiosk.db");
    let usb = dir.path().join("usb");
    let k = Kiosk::open(&db).unwrap();
    setup(&k);
    let rk = k.recovery_key().unwrap();
    for i in 0..25 {
        k.register(&Actor::Cli, &patient(&format!("Backed Up {i}")))
            .unwrap();
    }
    let made = k.backup_now(&Actor::Cli, Some(&usb)).unwrap();
    let file = std::path::PathBuf::from(&made.backup.file);
    assert!(crypt::is_encrypted(&file), "the backup is encrypted");
    let v = backup::verify(&file).unwrap();
    assert!(v.ok && v.patients == 25, "{v:?}");
    k.register(&Actor::Cli, &patient("After The Backup"))
        .unwrap();
    drop(k);

    // Without the key (a new process, nothing unlocked) the backup is unreadable.
    crypt::forget(&db);
    let v = backup::verify(&file).unwrap();
    assert!(!v.ok, "{v:?}");
    assert!(backup::restore(&db, &file, &Actor::Cli).is_err());

    // With the recovery key (what `swagat-admin backup restore` does with SWAGAT_UNLOCK): it
    // verifies and restores; the restored database is encrypted and opens.
    crypt::unlock_admin(&db, &rk).unwrap();
    assert!(backup::verify(&file).unwrap().ok);
    let r = backup::restore(&db, &file, &Actor::Cli).unwrap();
    assert!(r.verified.ok);
    assert!(crypt::is_encrypted(&db));
    let k = Kiosk::open(&db).unwrap();
    assert!(!k.is_locked());
    assert_eq!(k.search_patients("Backed Up", 50).unwrap().1.len(), 25);
    assert!(k
        .search_patients("After The Backup", 5)
        .unwrap()
        .1
        .is_empty());
    drop(k);
    // And after a "reboot" the staff PIN still unlocks the restored file (same data key).
    crypt::forget(&db);
    let k = Kiosk::open(&db).unwrap();
    assert!(k.is_locked());
    k.login("Admin", "135790").unwrap();
    assert!(!k.is_locked());
}
