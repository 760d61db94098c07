//! Cross-crate, with the real binaries (`swagat-server serve`, `swagat-admin`) and real kiosk
//! databases, on both backends: ABHA scan-and-share from pulled records at two kiosks of one
//! facility. Shares published by the server (as the callback publishes them) are pulled by both
//! kiosks; one registers a share (twice: the same patient, no second patient), its slip shows
//! the ABHA address, the other kiosk then shows it as registered elsewhere and refuses it, a
//! share past its window is listed as expired, both kiosks' reports count the scan-and-share
//! visit, and the state's dashboard summary JSON counts it as `scan_share: 1` (the visit's
//! marker, through the server's typed projections).
#![allow(clippy::unwrap_used)]

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};

use common::{admin, db_url, output, run, unique_code, Backend, Server};
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

const PW: &str = "state-official-pw-1";

fn nanos() -> u128 {
    static N: AtomicU64 = AtomicU64::new(0);
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
        ^ (u128::from(N.fetch_add(1, Ordering::SeqCst)) << 64)
        ^ (u128::from(std::process::id()) << 96)
}

/// A fresh UUIDv7 (time-ordered) as text.
fn uuid7() -> String {
    let n = nanos();
    let ms = (n & 0xFFFF_FFFF_FFFF_FFFF) as u64 / 1_000_000;
    let r = (n >> 64) as u64 ^ (n as u64).rotate_left(17);
    format!(
        "{:08x}-{:04x}-7{:03x}-8{:03x}-{:012x}",
        ms >> 16,
        ms & 0xFFFF,
        r & 0xFFF,
        (r >> 12) & 0xFFF,
        (r >> 24) & 0x00FF_FFFF_FFFF
    )
}

fn random_hfr() -> String {
    format!(
        "IN{:010}",
        (nanos() as u64).rotate_left(29) % 10_000_000_000
    )
}

fn publish_share(db: &str, facility: &str, dir: &Path, share: &Value) {
    let file = dir.join(format!("{}.json", share["share_id"].as_str().unwrap()));
    std::fs::write(&file, share.to_string()).unwrap();
    run(
        "swagat-server",
        &[
            "publish",
            "--db",
            db,
            "--facility",
            facility,
            "--kind",
            "abha_share",
            "--id",
            share["share_id"].as_str().unwrap(),
            "--payload-file",
            file.to_str().unwrap(),
        ],
    );
}

fn share_payload(
    hfr: &str,
    token: &str,
    abha: &str,
    shared: OffsetDateTime,
    expires: OffsetDateTime,
) -> Value {
    json!({"share_id": uuid7(), "request_id": uuid7(),
        "hip_id": hfr, "counter": "OPD1", "token": token, "abha_number": null, "abha_address": abha,
        "name": "Ram Kumar Sahu", "gender": "M", "year_of_birth": 1962, "month_of_birth": null,
        "day_of_birth": null, "mobile": null,
        "address": {"line": "Gudhiyari", "district": "RAIPUR", "state": "CHHATTISGARH", "pincode": "492009"},
        "shared_at": shared.format(&Rfc3339).unwrap(), "expires_at": expires.format(&Rfc3339).unwrap()})
}

fn status_of(list: &Value, id: &str) -> String {
    list["shares"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("{id} not in {list}"))["status"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn dashboard_summary(url: &str, name: &str, facility: &str) -> Value {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = http
        .post(format!("{url}/login"))
        .form(&[("name", name), ("password", PW)])
        .send()
        .await
        .unwrap();
    let cookie = r
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("swagat_session="))
        .and_then(|v| v.split(';').next())
        .unwrap()
        .to_owned();
    http.get(format!(
        "{url}/api/v1/dashboard/summary?facility={facility}"
    ))
    .header("cookie", cookie)
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap()
}

async fn two_kiosks_one_facility(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(db) = db_url(backend, dir.path()) else {
        return;
    };
    let facility = unique_code("SH");
    let hfr = random_hfr();
    let district = (100_000 + nanos() % 800_000).to_string();
    let fac = run(
        "swagat-server",
        &[
            "facility",
            "add",
            "--db",
            &db,
            "--code",
            &facility,
            "--name",
            "UPHC Gudhiyari",
            "--hfr-id",
            &hfr,
            "--district-lgd",
            &district,
        ],
    );
    let official = format!("state-{}", facility.to_lowercase());
    let mut add = Command::new(swagat_tests::profile_dir().join("swagat-server"))
        .args([
            "user",
            "add",
            "--db",
            &db,
            "--name",
            &official,
            "--role",
            "state",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    writeln!(add.stdin.take().unwrap(), "{PW}").unwrap();
    assert!(add.wait().unwrap().success());
    let server = Server::start(&db, &[]);

    let now = OffsetDateTime::now_utc();
    let waiting = share_payload(
        &hfr,
        "3",
        "ramkumar.sahu@sbx",
        now,
        now + time::Duration::minutes(30),
    );
    let lapsed = share_payload(
        &hfr,
        "4",
        "late.comer@sbx",
        now - time::Duration::seconds(90),
        now - time::Duration::seconds(1),
    );
    publish_share(&db, &facility, dir.path(), &waiting);
    publish_share(&db, &facility, dir.path(), &lapsed);
    let (w, l) = (
        waiting["share_id"].as_str().unwrap(),
        lapsed["share_id"].as_str().unwrap(),
    );

    let k1 = dir.path().join("k1.db");
    let k2 = dir.path().join("k2.db");
    admin(
        &k1,
        &[
            "enroll",
            "--server",
            &server.url,
            "--code",
            fac["enrollment_code"].as_str().unwrap(),
        ],
    );
    let code2 = run(
        "swagat-server",
        &["facility", "code", "--db", &db, "--code", &facility],
    );
    admin(
        &k2,
        &[
            "enroll",
            "--server",
            &server.url,
            "--code",
            code2["enrollment_code"].as_str().unwrap(),
        ],
    );
    for k in [&k1, &k2] {
        admin(k, &["sync", "--until-idle"]);
    }
    let list = admin(&k1, &["shares", "list"]);
    assert_eq!(
        (status_of(&list, w), status_of(&list, l)),
        ("waiting".into(), "expired".into())
    );

    // Kiosk 1 registers the share, twice: one patient, one visit.
    let r1 = admin(
        &k1,
        &["shares", "register", "--share", w, "--department", "GEN"],
    );
    let again = admin(
        &k1,
        &["shares", "register", "--share", w, "--department", "GEN"],
    );
    for k in ["patient_id", "uhid", "visit_id", "token", "returning"] {
        assert!(r1.get(k).is_some(), "register JSON lacks {k}: {r1}");
        assert_eq!(again[k], r1[k], "{k}");
    }
    assert_eq!(r1["returning"], false);
    assert_eq!(status_of(&admin(&k1, &["shares", "list"]), w), "registered");
    let pdf = dir.path().join("slip.pdf");
    admin(
        &k1,
        &[
            "slip",
            "--visit",
            r1["visit_id"].as_str().unwrap(),
            "--out",
            pdf.to_str().unwrap(),
        ],
    );
    let text = Command::new("pdftotext")
        .arg(&pdf)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils)");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("ramkumar.sahu@sbx"),
        "the slip shows the ABHA address: {text}"
    );
    admin(&k1, &["sync", "--until-idle"]);

    // Kiosk 2 learns it was registered at kiosk 1, and refuses it.
    admin(&k2, &["sync", "--until-idle"]);
    let list2 = admin(&k2, &["shares", "list"]);
    assert_eq!(status_of(&list2, w), "registered_elsewhere");
    assert_eq!(status_of(&list2, l), "expired");
    let refused = output(
        "swagat-admin",
        &[
            "--db",
            k2.to_str().unwrap(),
            "shares",
            "register",
            "--share",
            w,
            "--department",
            "GEN",
        ],
    );
    assert!(
        !refused.status.success(),
        "a share registered elsewhere is refused"
    );

    // Both kiosks' reports count the scan-and-share visit; the state has one patient.
    let ist = time::UtcOffset::from_hms(5, 30, 0).unwrap();
    let date = OffsetDateTime::now_utc().to_offset(ist).date().to_string();
    for k in [&k1, &k2] {
        let s = admin(k, &["report", "summary", "--from", &date, "--to", &date]);
        assert_eq!(
            (s["registrations"].as_i64(), s["scan_share"].as_i64()),
            (Some(1), Some(1)),
            "{s}"
        );
    }
    let stats = run(
        "swagat-server",
        &["stats", "--db", &db, "--facility", &facility],
    );
    assert_eq!(stats["patients"], 1, "{stats}");
    assert_eq!(stats["abha_share_results"], 1, "{stats}");

    // The state's dashboard counts it through the visit's scan-and-share marker.
    let summary = dashboard_summary(&server.url, &official, &facility).await;
    let row = summary["facilities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == facility.as_str())
        .unwrap_or_else(|| panic!("{summary}"))
        .clone();
    assert_eq!(
        (row["registrations"].as_i64(), row["scan_share"].as_i64()),
        (Some(1), Some(1)),
        "{summary}"
    );
    assert_eq!(summary["totals"]["scan_share"], 1, "{summary}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_kiosks_one_facility_sqlite() {
    two_kiosks_one_facility(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_kiosks_one_facility_postgres() {
    two_kiosks_one_facility(Backend::Postgres).await;
}
