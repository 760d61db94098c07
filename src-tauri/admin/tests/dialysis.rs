//! `swagat-admin dialysis …` as processes: the command-line contract and the pool rule.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::Command;

use common::{admin, ok};

fn patient(db: &Path, dir: &Path, name: &str) -> String {
    let f = dir.join(format!("{name}.json"));
    std::fs::write(
        &f,
        format!(r#"{{"name":"{name}","gender":"M","age_years":55}}"#),
    )
    .unwrap();
    let r = ok(admin(
        db,
        &[
            "register",
            "--department",
            "GEN",
            "--json",
            f.to_str().unwrap(),
        ],
    ));
    r["patient_id"].as_str().unwrap().to_owned()
}

/// The next Monday after today, as YYYY-MM-DD (a working day in the default unit settings).
fn next_monday() -> String {
    let out = Command::new("date")
        .args(["-d", "next monday", "+%F"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn book_waitlist_cancel_promote_and_the_pool_rule() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("k.db");
    let d = next_monday();
    ok(admin(
        &db,
        &[
            "dialysis", "machine", "add", "--name", "M1", "--pool", "negative",
        ],
    ));
    ok(admin(
        &db,
        &[
            "dialysis", "machine", "add", "--name", "B1", "--pool", "hbv",
        ],
    ));
    ok(admin(
        &db,
        &["dialysis", "shifts", "set", "--times", "06:00,10:30,15:00"],
    ));
    let a = patient(&db, dir.path(), "Ramesh Kumar");
    let b = patient(&db, dir.path(), "Suresh Yadav");
    let c = patient(&db, dir.path(), "Mohan Sahu");

    // Booking needs serology first (exit 2).
    let o = admin(
        &db,
        &[
            "dialysis",
            "book",
            "--patient",
            &a,
            "--date",
            &d,
            "--shift",
            "1",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    for (p, hbsag) in [(&a, "neg"), (&b, "neg"), (&c, "pos")] {
        ok(admin(
            &db,
            &[
                "dialysis",
                "patient",
                "set",
                "--patient",
                p,
                "--hbsag",
                hbsag,
                "--hcv",
                "neg",
                "--hiv",
                "neg",
                "--tested-on",
                &d,
            ],
        ));
    }
    let x = ok(admin(
        &db,
        &[
            "dialysis",
            "book",
            "--patient",
            &a,
            "--date",
            &d,
            "--shift",
            "1",
        ],
    ));
    assert_eq!(x["bookings"][0]["status"], "confirmed");
    assert_eq!(x["bookings"][0]["machine"], "M1");
    assert_eq!(x["bookings"][0]["shift"], 1);
    let y = ok(admin(
        &db,
        &[
            "dialysis",
            "book",
            "--patient",
            &b,
            "--date",
            &d,
            "--shift",
            "1",
        ],
    ));
    assert_eq!(
        y["bookings"][0]["status"], "waitlisted",
        "M1 is taken and B1 is for HBV only"
    );
    assert!(y["bookings"][0]["machine"].is_null());
    let z = ok(admin(
        &db,
        &[
            "dialysis",
            "book",
            "--patient",
            &c,
            "--date",
            &d,
            "--shift",
            "1",
        ],
    ));
    assert_eq!(
        z["bookings"][0]["machine"], "B1",
        "HBsAg positive goes to the HBV machine"
    );

    let cancel = ok(admin(
        &db,
        &[
            "dialysis",
            "cancel",
            "--booking",
            x["bookings"][0]["id"].as_str().unwrap(),
        ],
    ));
    assert!(
        cancel
            .to_string()
            .contains(y["bookings"][0]["id"].as_str().unwrap()),
        "promoted: {cancel}"
    );
    let s = ok(admin(&db, &["dialysis", "schedule", "--date", &d]));
    let rows = s["bookings"].as_array().unwrap();
    let of = |p: &str| {
        rows.iter()
            .find(|r| r["patient_id"] == p && r["status"] != "cancelled")
            .cloned()
    };
    assert_eq!(of(&b).unwrap()["machine"], "M1");
    assert_eq!(of(&b).unwrap()["status"], "confirmed");
    assert_eq!(of(&c).unwrap()["machine"], "B1");

    // Recurring: Mon/Wed/Fri for 2 weeks = 6 sessions.
    let r = ok(admin(
        &db,
        &[
            "dialysis",
            "book",
            "--patient",
            &a,
            "--date",
            &d,
            "--shift",
            "2",
            "--repeat",
            "mon,wed,fri",
            "--weeks",
            "2",
        ],
    ));
    assert_eq!(r["bookings"].as_array().unwrap().len(), 6);
}
