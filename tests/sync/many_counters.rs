//! Cross-crate, real binaries, both backends: two counters of one facility (two `swagat-admin`
//! databases) enrolled on a real `swagat-server` find each other's patients after `sync`,
//! register returning visits for them with their own tokens, edit them (the edit reaches the
//! other counter), and the same Aadhaar scanned at both is one patient.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};

use common::{admin, db_url, run, unique_code, Backend, Server};
use serde_json::Value;

struct Counter {
    db: PathBuf,
}

impl Counter {
    fn admin(&self, args: &[&str]) -> Value {
        admin(&self.db, args)
    }

    fn sync(&self) -> Value {
        let s = self.admin(&["sync", "--until-idle"]);
        assert_eq!(s["dead_letters"], 0, "{s}");
        s
    }

    fn register_json(&self, dir: &Path, file: &str, json: &Value) -> Value {
        let f = dir.join(file);
        std::fs::write(&f, json.to_string()).unwrap();
        self.admin(&[
            "register",
            "--department",
            "GEN",
            "--json",
            f.to_str().unwrap(),
        ])
    }
}

/// A facility on a fresh server with two enrolled counters, letters A and B.
fn facility(backend: Backend, dir: &Path) -> Option<(Server, Counter, Counter, String)> {
    let url = db_url(backend, dir)?;
    let code = unique_code("MC");
    let fac = run(
        "swagat-server",
        &[
            "facility",
            "add",
            "--db",
            &url,
            "--code",
            &code,
            "--name",
            "SDH Danapur",
        ],
    );
    let second = run(
        "swagat-server",
        &["facility", "code", "--db", &url, "--code", &code],
    );
    let server = Server::start(&url, &[]);
    let mut counters = Vec::new();
    for (letter, enroll_code) in [("A", &fac), ("B", &second)] {
        let c = Counter {
            db: dir.join(format!("kiosk-{letter}.db")),
        };
        c.admin(&[
            "config",
            "set",
            &format!("kiosk_letter={letter}"),
            "name_en=SDH Danapur",
        ]);
        c.admin(&[
            "enroll",
            "--server",
            &server.url,
            "--code",
            enroll_code["enrollment_code"].as_str().unwrap(),
        ]);
        counters.push(c);
    }
    let b = counters.pop().unwrap();
    let a = counters.pop().unwrap();
    Some((server, a, b, code))
}

fn each_finds_the_other_and_registers_a_returning_visit(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some((_server, a, b, code)) = facility(backend, dir.path()) else {
        return;
    };
    let sunita = a.register_json(
        dir.path(),
        "sunita.json",
        &serde_json::json!({"name": "Sunita Devi", "gender": "F", "age_years": 46,
            "mobile": "9876543210", "abha_number": "91-4567-8901-2345"}),
    );
    let rekha = b.register_json(
        dir.path(),
        "rekha.json",
        &serde_json::json!({"name": "Rekha Kumari", "gender": "F", "age_years": 31,
            "mobile": "9123456780"}),
    );
    for c in [&a, &b, &a] {
        c.sync();
    }

    // Each counter finds the other's patient, by name (phonetic too) and by UHID.
    for (c, q, who) in [
        (&b, "Sunita", &sunita),
        (&b, "Suneeta Devi", &sunita),
        (&a, "Rekha", &rekha),
        (&a, who_uhid(&rekha), &rekha),
    ] {
        let found = c.admin(&["patients", "search", q]);
        assert_eq!(found["count"], 1, "{q}: {found}");
        assert_eq!(found["patients"][0]["id"], who["patient_id"], "{q}");
        assert_eq!(
            found["patients"][0]["uhid"], who["uhid"],
            "a UHID is kept as issued"
        );
    }
    assert!(
        sunita["uhid"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{code}-A")),
        "{sunita}"
    );
    assert!(
        rekha["uhid"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{code}-B")),
        "{rekha}"
    );

    // B registers Sunita again (her ABHA): she is returning, with a B token.
    let again = b.register_json(
        dir.path(),
        "sunita-again.json",
        &serde_json::json!({"name": "Sunita Devi", "gender": "F", "age_years": 46,
            "abha_number": "91-4567-8901-2345"}),
    );
    assert_eq!(again["returning"], true, "{again}");
    assert_eq!(again["patient_id"], sunita["patient_id"]);
    assert!(
        again["token"].as_str().unwrap().starts_with("B-"),
        "{again}"
    );
    b.sync();
    a.sync();
    let shown = a.admin(&["patients", "show", sunita["patient_id"].as_str().unwrap()]);
    assert_eq!(shown["visits"].as_array().unwrap().len(), 2, "{shown}");
    // Nothing either counter folded went back to the server as its own.
    for c in [&a, &b] {
        assert_eq!(c.admin(&["status"])["pending"], 0);
    }
    let stats = run(
        "swagat-server",
        &[
            "stats",
            "--db",
            &db_url(backend, dir.path()).unwrap(),
            "--facility",
            &code,
        ],
    );
    assert_eq!(
        (stats["patients"].as_u64(), stats["visits"].as_u64()),
        (Some(2), Some(3)),
        "{stats}"
    );
}

fn who_uhid(v: &Value) -> &str {
    v["uhid"].as_str().unwrap()
}

fn an_edit_at_one_counter_reaches_the_other(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some((_server, a, b, _)) = facility(backend, dir.path()) else {
        return;
    };
    let sunita = a.register_json(
        dir.path(),
        "sunita.json",
        &serde_json::json!({"name": "Sunita Devi", "gender": "F", "age_years": 46,
            "mobile": "9876543210"}),
    );
    a.sync();
    b.sync();
    let id = sunita["patient_id"].as_str().unwrap();
    // B corrects the PIN code while A corrects the mobile: both edits survive at both counters.
    let patch = dir.path().join("pin.json");
    std::fs::write(&patch, r#"{"address": {"pincode": "801503"}}"#).unwrap();
    b.admin(&[
        "patients",
        "edit",
        "--patient",
        id,
        "--json",
        patch.to_str().unwrap(),
    ]);
    let patch = dir.path().join("mobile.json");
    std::fs::write(&patch, r#"{"mobile": "9123456789"}"#).unwrap();
    a.admin(&[
        "patients",
        "edit",
        "--patient",
        id,
        "--json",
        patch.to_str().unwrap(),
    ]);
    for c in [&b, &a, &b] {
        c.sync();
    }
    for c in [&a, &b] {
        let p = &c.admin(&["patients", "show", id])["patient"];
        assert_eq!(p["mobile"], "9123456789", "{p}");
        assert_eq!(p["address"]["pincode"], "801503", "{p}");
    }
}

fn the_same_aadhaar_at_two_counters_is_one_patient(backend: Backend, full_number: bool) {
    let dir = tempfile::tempdir().unwrap();
    let Some((_server, a, b, _)) = facility(backend, dir.path()) else {
        return;
    };
    // Spelled differently at the two counters, so only the Aadhaar hash can match them.
    let register = |c: &Counter, name: &str| -> Value {
        if full_number {
            c.register_json(
                dir.path(),
                "aadhaar.json",
                &serde_json::json!({"name": name, "gender": "M", "age_years": 52,
                    "aadhaar": "234123412346", "aadhaar_consent": true}),
            )
        } else {
            let qr = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("data/aadhaar_secure_qr_synthetic_v2.txt");
            let fields = dir.path().join("consent.json");
            std::fs::write(&fields, r#"{"aadhaar_consent": true}"#).unwrap();
            c.admin(&[
                "register",
                "--department",
                "GEN",
                "--qr",
                qr.to_str().unwrap(),
                "--json",
                fields.to_str().unwrap(),
            ])
        }
    };
    let first = register(&a, "Ram Kumar");
    assert_eq!(first["returning"], false, "{first}");
    a.sync();
    b.sync();
    let second = register(&b, "Ramkumar Yadav");
    assert_eq!(second["returning"], true, "{second}");
    assert_eq!(second["patient_id"], first["patient_id"]);
}

#[test]
fn counters_find_and_register_each_others_patients_sqlite() {
    each_finds_the_other_and_registers_a_returning_visit(Backend::Sqlite);
}

#[test]
fn counters_find_and_register_each_others_patients_postgres() {
    each_finds_the_other_and_registers_a_returning_visit(Backend::Postgres);
}

#[test]
fn an_edit_at_one_counter_reaches_the_other_sqlite() {
    an_edit_at_one_counter_reaches_the_other(Backend::Sqlite);
}

#[test]
fn an_edit_at_one_counter_reaches_the_other_postgres() {
    an_edit_at_one_counter_reaches_the_other(Backend::Postgres);
}

#[test]
fn the_same_aadhaar_qr_at_two_counters_is_one_patient_sqlite() {
    the_same_aadhaar_at_two_counters_is_one_patient(Backend::Sqlite, false);
}

#[test]
fn the_same_aadhaar_qr_at_two_counters_is_one_patient_postgres() {
    the_same_aadhaar_at_two_counters_is_one_patient(Backend::Postgres, false);
}

#[test]
fn the_same_aadhaar_number_at_two_counters_is_one_patient_sqlite() {
    the_same_aadhaar_at_two_counters_is_one_patient(Backend::Sqlite, true);
}

#[test]
fn the_same_aadhaar_number_at_two_counters_is_one_patient_postgres() {
    the_same_aadhaar_at_two_counters_is_one_patient(Backend::Postgres, true);
}
