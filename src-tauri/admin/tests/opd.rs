//! `swagat-admin register`, `patients search`, `decode-qr` and `demo-data` as processes.
#![allow(clippy::unwrap_used)]

mod common;

use std::process::Command;

use common::{admin, ok};

fn data(name: &str) -> String {
    format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn register_from_json_then_returning_from_the_same_aadhaar() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("k.db");
    let fields = dir.path().join("p.json");
    std::fs::write(&fields, r#"{"name":"Sunita Devi","gender":"F","dob":"23-05-1984","mobile":"+91 98765 43210",
        "aadhaar":"2345 6789 0124","aadhaar_consent":true,"guardian":"W/O Ramesh Kumar","category":"general",
        "address":{"locality":"Kankarbagh","vtc":"Patna","district":"Patna","state":"Bihar","pincode":"800020"}}"#).unwrap();
    let f = fields.to_str().unwrap();
    let a = ok(admin(
        &db,
        &["register", "--department", "GEN", "--json", f],
    ));
    for k in ["patient_id", "uhid", "visit_id", "token", "returning"] {
        assert!(a.get(k).is_some(), "{k} in {a}");
    }
    assert_eq!(a["returning"], false);
    assert_eq!(a["token"], "A-001");
    assert_eq!(a["repeat_today"], false);
    let b = ok(admin(
        &db,
        &["register", "--department", "GEN", "--json", f],
    ));
    assert_eq!(b["returning"], true);
    assert_eq!(b["patient_id"], a["patient_id"]);
    assert_eq!(b["token"], "A-002");
    // The CLI registers a second token the same day as before, and says so.
    assert_eq!(b["repeat_today"], true);
    // Search across scripts: the Devanagari spelling finds the Latin name.
    let s = ok(admin(&db, &["patients", "search", "सुनीता"]));
    assert_eq!(s["patients"].as_array().unwrap().len(), 1, "{s}");

    let s = ok(admin(&db, &["patients", "search", "9876543210"]));
    assert_eq!(s["query_kind"], "mobile");
    assert_eq!(s["patients"].as_array().unwrap().len(), 1);
    assert_eq!(s["patients"][0]["aadhaar_last4"], "0124");
    let s = ok(admin(&db, &["patients", "search", "suneeta"]));
    assert_eq!(s["patients"].as_array().unwrap().len(), 1);

    // No file the app wrote holds the full Aadhaar number.
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let p = entry.unwrap().path();
        if p.is_file() {
            let bytes = std::fs::read(&p).unwrap();
            assert!(
                !bytes.windows(12).any(|w| w == b"234567890124"),
                "{}",
                p.display()
            );
        }
    }
}

#[test]
fn an_invalid_aadhaar_exits_2_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("k.db");
    let fields = dir.path().join("p.json");
    std::fs::write(
        &fields,
        r#"{"name":"Ram","gender":"M","age_years":40,"aadhaar":"234567890125"}"#,
    )
    .unwrap();
    let o = admin(
        &db,
        &[
            "register",
            "--department",
            "GEN",
            "--json",
            fields.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8(o.stderr).unwrap();
    assert!(err.contains("aadhaar"), "{err}");
    assert!(o.stdout.is_empty());
}

#[test]
fn register_from_a_secure_qr_and_land_on_the_same_patient_again() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("k.db");
    let qr = data("aadhaar_secure_qr_synthetic_v2.txt");
    // Consent recorded as given is what keeps the Aadhaar's last 4 (and so finds her again).
    let consent = dir.path().join("consent.json");
    std::fs::write(&consent, r#"{"aadhaar_consent": true}"#).unwrap();
    let consent = consent.to_str().unwrap();
    let a = ok(admin(
        &db,
        &[
            "register",
            "--department",
            "GYN",
            "--qr",
            &qr,
            "--json",
            consent,
        ],
    ));
    assert_eq!(a["returning"], false);
    assert_eq!(a["qr"]["kind"], "aadhaar_secure_qr");
    let b = ok(admin(
        &db,
        &[
            "register",
            "--department",
            "GYN",
            "--qr",
            &qr,
            "--json",
            consent,
        ],
    ));
    assert_eq!(b["returning"], true);
    assert_eq!(b["patient_id"], a["patient_id"]);
    let p = ok(admin(
        &db,
        &["patients", "show", a["patient_id"].as_str().unwrap()],
    ));
    assert_eq!(p["patient"]["name"], "Sunita Devi");
    assert!(p["patient"]["aadhaar_last4"]
        .as_str()
        .unwrap()
        .starts_with("4321"));
    assert_eq!(p["visits"].as_array().unwrap().len(), 2);
}

#[test]
fn without_consent_the_cli_keeps_no_aadhaar() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("k.db");
    let qr = data("aadhaar_secure_qr_synthetic_v2.txt");
    let fields = dir.path().join("p.json");
    std::fs::write(
        &fields,
        r#"{"mobile":"9876543210","aadhaar_consent":false}"#,
    )
    .unwrap();
    for (extra, told) in [
        (vec![], true),
        (vec!["--json", fields.to_str().unwrap()], false),
    ] {
        let mut args = vec!["register", "--department", "GYN", "--qr", &qr];
        args.extend(extra);
        let r = ok(admin(&db, &args));
        assert_eq!(
            r["warnings"].to_string().contains("not kept"),
            told,
            "missing consent is told, a refusal is not: {r}"
        );
        let p = ok(admin(
            &db,
            &["patients", "show", r["patient_id"].as_str().unwrap()],
        ));
        assert_eq!(
            p["patient"]["aadhaar_last4"],
            serde_json::Value::Null,
            "{p}"
        );
        assert_eq!(p["patient"]["aadhaar_consent"], false);
    }
}

#[test]
fn decode_qr_verifies_with_a_given_key_folder_and_refuses_garbage() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("k.db");
    let certs = dir.path().join("certs");
    std::fs::create_dir(&certs).unwrap();
    std::fs::copy(
        data("aadhaar_synthetic_test_key.pub.pem"),
        certs.join("test.pem"),
    )
    .unwrap();
    let qr = data("aadhaar_secure_qr_synthetic_v2.txt");
    let v = ok(admin(
        &db,
        &[
            "decode-qr",
            "--file",
            &qr,
            "--uidai-certs",
            certs.to_str().unwrap(),
        ],
    ));
    assert_eq!(v["kind"], "aadhaar_secure_qr");
    assert_eq!(v["version"], "V2");
    assert_eq!(v["signature"], "valid");
    assert_eq!(v["mobile_last4"], "7890");
    let v = ok(admin(&db, &["decode-qr", "--file", &qr]));
    assert_eq!(
        v["signature"], "unverified",
        "the test key is not a UIDAI key"
    );
    let v = ok(admin(
        &db,
        &[
            "decode-qr",
            "--file",
            &data("aadhaar_secure_qr_uidai_sample_2019.txt"),
        ],
    ));
    assert_eq!(v["version"], "V1");
    let garbage = dir.path().join("g.txt");
    std::fs::write(&garbage, "hello world").unwrap();
    let o = admin(&db, &["decode-qr", "--file", garbage.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        String::from_utf8(o.stderr).unwrap().trim().lines().count(),
        1
    );
    // Payloads that are not what they claim: refused with the reason, exit 2, nothing printed.
    for (file, reason) in [
        ("false_claims/xml_without_uid.txt", "no Aadhaar number"),
        ("false_claims/abha_invalid_ids.txt", "no ABHA number"),
        ("false_claims/secure_qr_shifted_fields.txt", "out of place"),
    ] {
        let path = format!(
            "{}/../identity/tests/data/{file}",
            env!("CARGO_MANIFEST_DIR")
        );
        let o = admin(&db, &["decode-qr", "--file", &path]);
        assert_eq!(o.status.code(), Some(2), "{file}");
        assert!(o.stdout.is_empty(), "{file}");
        let err = String::from_utf8(o.stderr).unwrap();
        assert!(err.contains(reason), "{file}: {err}");
    }
    assert!(!db.exists(), "decoding stores nothing");
}

#[test]
fn demo_data_seeds_searchable_patients() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("k.db");
    let v = ok(admin(&db, &["demo-data", "--patients", "300"]));
    assert_eq!(v["patients"], 300);
    assert!(v["visits"].as_u64().unwrap() >= 300);
    let s = ok(admin(&db, &["patients", "search", "sunita"]));
    assert!(!s["patients"].as_array().unwrap().is_empty());
}

#[test]
fn slip_pdf_and_png_carry_the_visit() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("k.db");
    ok(admin(
        &db,
        &[
            "config",
            "set",
            "name_en=UPHC Kankarbagh",
            "name_hi=शहरी प्राथमिक स्वास्थ्य केंद्र कंकड़बाग",
            "kiosk_letter=B",
            "facility_code=PTN12",
            "public_base_url=https://swagat.example.org",
        ],
    ));
    let fields = dir.path().join("p.json");
    std::fs::write(
        &fields,
        r#"{"name":"Sunita Devi","gender":"F","age_years":34,"aadhaar":"234567890124","aadhaar_consent":true,
        "address":{"vtc":"Patna","district":"Patna","pincode":"800020"}}"#,
    )
    .unwrap();
    let r = ok(admin(
        &db,
        &[
            "register",
            "--department",
            "GYN",
            "--json",
            fields.to_str().unwrap(),
        ],
    ));
    assert_eq!(r["token"], "B-001");
    assert!(r["uhid"].as_str().unwrap().starts_with("PTN12-B"));
    let visit = r["visit_id"].as_str().unwrap();
    let pdf = dir.path().join("s.pdf");
    let png = dir.path().join("s.png");
    let v = ok(admin(
        &db,
        &[
            "slip",
            "--visit",
            visit,
            "--size",
            "a6",
            "--out",
            pdf.to_str().unwrap(),
            "--png",
            png.to_str().unwrap(),
        ],
    ));
    assert!(v["pdf_bytes"].as_u64().unwrap() <= 40_000, "{v}");
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(bytes.starts_with(b"%PDF"));
    assert!(!bytes.windows(12).any(|w| w == b"234567890124"));
    // Real readers: the text extracts in both languages.
    let text = Command::new("pdftotext").arg(&pdf).arg("-").output();
    if let Ok(t) = text {
        let t = String::from_utf8_lossy(&t.stdout);
        assert!(t.contains("Sunita Devi"), "{t}");
        assert!(t.contains("B-001"));
        assert!(t.contains("XXXX XXXX 0124"));
        assert!(t.contains("स्त्री एवं प्रसूति रोग"), "{t}");
    } else {
        assert!(
            std::env::var_os("CI").is_none(),
            "pdftotext (poppler-utils) is needed in CI"
        );
    }
    assert!(std::fs::read(&png).unwrap().starts_with(b"\x89PNG"));
    let o = admin(
        &db,
        &["slip", "--visit", "nope", "--out", pdf.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(3));
    let audit = ok(admin(&db, &["audit", "list"]));
    assert!(audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["action"] == "slip.export"));
}

fn register_json(
    db: &std::path::Path,
    dir: &std::path::Path,
    name: &str,
    json: &str,
) -> serde_json::Value {
    let f = dir.join(name);
    std::fs::write(&f, json).unwrap();
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
fn patients_edit_prints_the_patient_and_is_audited() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("k.db");
    let a = register_json(
        &db,
        dir.path(),
        "a.json",
        r#"{"name":"Sunita Devi","gender":"F","age_years":40,"mobile":"9876543210","address":{"locality":"Kankarbagh"}}"#,
    );
    let id = a["patient_id"].as_str().unwrap();
    let patch = dir.path().join("patch.json");
    std::fs::write(
        &patch,
        r#"{"mobile":"9123456780","address":{"pincode":"800020"}}"#,
    )
    .unwrap();
    let p = ok(admin(
        &db,
        &[
            "patients",
            "edit",
            "--patient",
            id,
            "--json",
            patch.to_str().unwrap(),
        ],
    ));
    assert_eq!(p["id"], id);
    assert_eq!(p["uhid"], a["uhid"]);
    assert_eq!(p["mobile"], "9123456780");
    assert_eq!(p["address"]["pincode"], "800020");
    assert_eq!(p["address"]["locality"], "Kankarbagh");
    assert_eq!(
        p["changed_fields"],
        serde_json::json!(["address.pincode", "mobile"])
    );
    let s = ok(admin(&db, &["patients", "search", "9123456780"]));
    assert_eq!(s["count"], 1);
    let h = ok(admin(&db, &["patients", "history", id]));
    assert_eq!(h["versions"][0]["record"]["mobile"], "9876543210");
    let log = ok(admin(&db, &["audit", "list", "--limit", "5"]));
    let edit = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "patient.edit")
        .unwrap()
        .clone();
    assert_eq!(edit["actor"], "cli");
    assert!(!edit["details"].to_string().contains("9123456780"));

    // Invalid input exits 2 with the field named; nothing changes.
    std::fs::write(&patch, r#"{"mobile":"12345"}"#).unwrap();
    let o = admin(
        &db,
        &[
            "patients",
            "edit",
            "--patient",
            id,
            "--json",
            patch.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("mobile"));
    std::fs::write(&patch, "[1, 2]").unwrap();
    let o = admin(
        &db,
        &[
            "patients",
            "edit",
            "--patient",
            id,
            "--json",
            patch.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    // An unknown patient is not found (exit 3).
    std::fs::write(&patch, r#"{"mobile":"9123456780"}"#).unwrap();
    let o = admin(
        &db,
        &[
            "patients",
            "edit",
            "--patient",
            "nobody",
            "--json",
            patch.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(3));
}

#[test]
fn patients_merge_moves_visits_and_hides_the_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("k.db");
    let keep = register_json(
        &db,
        dir.path(),
        "k.json",
        r#"{"name":"Ramesh Kumar","gender":"M","age_years":50,"mobile":"9876543210"}"#,
    );
    let dup = register_json(
        &db,
        dir.path(),
        "d.json",
        r#"{"name":"Ramesh Kumaar","gender":"M","age_years":50,"abha_number":"91-2345-6789-0129"}"#,
    );
    let (k, d) = (
        keep["patient_id"].as_str().unwrap(),
        dup["patient_id"].as_str().unwrap(),
    );
    let m = ok(admin(
        &db,
        &["patients", "merge", "--keep", k, "--duplicate", d],
    ));
    assert_eq!(m["kept"], k);
    assert_eq!(m["merged"], d);
    assert_eq!(m["visits_moved"], 1);
    let shown = ok(admin(&db, &["patients", "show", d]));
    assert_eq!(
        shown["patient"]["id"], k,
        "opening the duplicate lands on the kept one"
    );
    assert_eq!(shown["visits"].as_array().unwrap().len(), 2);
    let s = ok(admin(&db, &["patients", "search", "ramesh"]));
    let ids: Vec<&str> = s["patients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [k]);
    let s = ok(admin(&db, &["patients", "search", "91-2345-6789-0129"]));
    assert_eq!(s["patients"][0]["id"], k, "the ABHA was carried over");
    // Again: refused as invalid.
    let o = admin(&db, &["patients", "merge", "--keep", k, "--duplicate", d]);
    assert_eq!(o.status.code(), Some(2));
}
