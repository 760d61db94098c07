//! Cross-crate: online dialysis requests from a portal reach the unit's kiosk through a real
//! `swagat-server` (both backends), are allocated there under the pool rules by a plain
//! `swagat-admin sync`, and the answer flows back to the portal's `GET`. Also: the portal API's
//! authentication and validation, idempotent references, a request pulled twice never booked
//! twice, and two requests for the last free slot sent while the kiosk was offline.
#![allow(clippy::unwrap_used)]

#[path = "common.rs"]
mod common;

use std::path::{Path, PathBuf};

use common::{admin, db_url, run, unique_code, Backend, Server};
use reqwest::blocking::Client;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// A state server with one facility and one portal, and an enrolled dialysis kiosk.
struct Setup {
    _dir: tempfile::TempDir,
    db: String,
    server: Server,
    facility: String,
    token: String,
    kiosk: PathBuf,
    http: Client,
}

/// The next Monday at least two days ahead (a working day of the unit).
fn next_monday() -> String {
    let mut d = time::OffsetDateTime::now_utc().date() + time::Duration::days(2);
    while d.weekday() != time::Weekday::Monday {
        d += time::Duration::days(1);
    }
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

fn setup(backend: Backend, machines: &[(&str, &str)]) -> Option<Setup> {
    let dir = tempfile::tempdir().unwrap();
    let db = db_url(backend, dir.path())?;
    let facility = unique_code("D");
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
            "SDH Danapur",
        ],
    );
    let code = fac["enrollment_code"].as_str().unwrap().to_owned();
    let portal = run(
        "swagat-server",
        &["portal", "add", "--db", &db, "--name", "PMNDP Bihar"],
    );
    let token = portal["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with(portal["portal_id"].as_str().unwrap()));
    let server = Server::start(&db, &[]);
    let kiosk = dir.path().join("kiosk.db");
    for (name, pool) in machines {
        admin(
            &kiosk,
            &["dialysis", "machine", "add", "--name", name, "--pool", pool],
        );
    }
    admin(
        &kiosk,
        &["enroll", "--server", &server.url, "--code", &code],
    );
    Some(Setup {
        _dir: dir,
        db,
        server,
        facility,
        token,
        kiosk,
        http: Client::new(),
    })
}

impl Setup {
    fn post(&self, body: &Value) -> (StatusCode, Value) {
        let r = self
            .http
            .post(format!("{}/api/v1/dialysis/requests", self.server.url))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .unwrap();
        (r.status(), r.json().unwrap())
    }

    fn get(&self, id: &str) -> Value {
        let r = self
            .http
            .get(format!("{}/api/v1/dialysis/requests/{id}", self.server.url))
            .bearer_auth(&self.token)
            .send()
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        r.json().unwrap()
    }

    fn request(&self, reference: &str, name: &str, mobile: &str, date: &str, shift: u32) -> Value {
        json!({
            "facility": self.facility,
            "reference": reference,
            "patient": {
                "name": name, "gender": "F", "year_of_birth": 1968, "mobile": mobile,
                "serology": { "hbsag": "neg", "hcv": "neg", "hiv": "neg", "tested_on": "2026-01-10" }
            },
            "date": date,
            "shift": shift,
        })
    }

    fn sync(&self) -> Value {
        admin(&self.kiosk, &["sync", "--until-idle"])
    }

    fn schedule(&self, date: &str) -> Vec<Value> {
        admin(&self.kiosk, &["dialysis", "schedule", "--date", date])["bookings"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

fn sqlite(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

fn portal_request_to_confirmed_booking(backend: Backend) {
    let Some(s) = setup(backend, &[("HD-1", "negative"), ("HD-B1", "hbv")]) else {
        return;
    };
    let date = next_monday();
    let url = format!("{}/api/v1/dialysis/requests", s.server.url);
    let body = s.request("PMNDP-1001", "Sunita Devi", "9876543210", &date, 1);

    // Unauthenticated, or with a wrong token: 401, nothing stored.
    let r = s.http.post(&url).json(&body).send().unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(r.json::<Value>().unwrap()["code"], "unauthorized");
    let (portal_id, _) = s.token.split_once('.').unwrap();
    let r = s
        .http
        .post(&url)
        .bearer_auth(format!("{portal_id}.{}", "0".repeat(64)))
        .json(&body)
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = s.http.get(format!("{url}/{portal_id}")).send().unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // Invalid fields: every problem named, nothing stored.
    let mut bad = body.clone();
    bad["patient"]["mobile"] = json!("12345");
    bad["shift"] = json!(0);
    let (st, err) = s.post(&bad);
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert_eq!(err["code"], "invalid_request");
    let fields: Vec<&str> = err["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["shift", "patient.mobile"], "{err}");
    let mut unknown = body.clone();
    unknown["facility"] = json!("NOPE9");
    let (st, err) = s.post(&unknown);
    assert_eq!(
        (st, err["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("unknown_facility"))
    );

    // Accepted: pending until the kiosk answers; the same reference is the same request.
    let (st, created) = s.post(&body);
    assert_eq!(st, StatusCode::CREATED, "{created}");
    assert_eq!(created["status"], "pending");
    let id = created["id"].as_str().unwrap().to_owned();
    let (st, again) = s.post(&body);
    assert_eq!(
        (st, again["id"].as_str()),
        (StatusCode::OK, Some(id.as_str()))
    );
    let mut changed = body.clone();
    changed["shift"] = json!(2);
    let (st, conflict) = s.post(&changed);
    assert_eq!(
        (st, conflict["code"].as_str()),
        (StatusCode::CONFLICT, Some("reference_conflict"))
    );
    assert_eq!(s.get(&id)["status"], "pending");

    // An HBV-positive patient's request can only go on the HBV machine.
    let mut hbv = s.request("PMNDP-1002", "Rekha Kumari", "9123456780", &date, 1);
    hbv["patient"]["serology"]["hbsag"] = json!("pos");
    let (_, hbv_req) = s.post(&hbv);
    let hbv_id = hbv_req["id"].as_str().unwrap().to_owned();

    // One plain sync: pulled, folded, allocated, answered, pushed.
    let report = s.sync();
    assert_eq!(
        (report["pending"].as_u64(), report["dead_letters"].as_u64()),
        (Some(0), Some(0)),
        "{report}"
    );
    let answer = s.get(&id);
    assert_eq!(answer["status"], "confirmed", "{answer}");
    assert_eq!(
        (
            answer["date"].as_str(),
            answer["shift"].as_u64(),
            answer["machine"].as_str()
        ),
        (Some(date.as_str()), Some(1), Some("HD-1"))
    );
    assert!(answer["answered_at"].is_string());
    let hbv_answer = s.get(&hbv_id);
    assert_eq!(
        (
            hbv_answer["status"].as_str(),
            hbv_answer["machine"].as_str()
        ),
        (Some("confirmed"), Some("HD-B1")),
        "{hbv_answer}"
    );
    let day = s.schedule(&date);
    assert_eq!(day.len(), 2, "{day:?}");

    // The kiosk registered both patients, and the state got the patients, bookings, dialysis
    // records, machines and answers.
    let stats = run(
        "swagat-server",
        &["stats", "--db", &s.db, "--facility", &s.facility],
    );
    for (k, n) in [
        ("patients", 2),
        ("dialysis_bookings", 2),
        ("dialysis_patients", 2),
        ("dialysis_machines", 2),
        ("dialysis_request_results", 2),
        ("dialysis_requests", 2),
    ] {
        assert_eq!(stats[k].as_u64(), Some(n), "{k}: {stats}");
    }
    let listed = admin(&s.kiosk, &["dialysis", "requests"]);
    let mine = listed["requests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id.as_str())
        .cloned()
        .unwrap();
    assert_eq!(
        (
            mine["status"].as_str(),
            mine["reference"].as_str(),
            mine["answer_synced"].as_bool()
        ),
        (Some("confirmed"), Some("PMNDP-1001"), Some(true)),
        "{mine}"
    );

    // The same request pulled again — a new version published for its id, and the whole
    // change log replayed from cursor 0 — is never booked twice.
    let payload = s._dir.path().join("again.json");
    std::fs::write(
        &payload,
        json!({ "patient": body["patient"], "date": date, "shift": 2, "priority": 0 }).to_string(),
    )
    .unwrap();
    run(
        "swagat-server",
        &[
            "publish",
            "--db",
            &s.db,
            "--facility",
            &s.facility,
            "--kind",
            "dialysis_request",
            "--id",
            &id,
            "--payload-file",
            payload.to_str().unwrap(),
        ],
    );
    s.sync();
    sqlite(&s.kiosk)
        .execute("UPDATE sync_state SET pull_cursor = 0", [])
        .unwrap();
    let replay = s.sync();
    assert!(replay["pulled"].as_u64().unwrap() >= 4, "{replay}");
    let day = s.schedule(&date);
    assert_eq!(day.len(), 2, "no second booking: {day:?}");
    let bookings: i64 = sqlite(&s.kiosk)
        .query_row(
            "SELECT count(*) FROM dialysis_bookings WHERE online_request_id = ?1",
            [&id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(bookings, 1);
    // The kiosk audited its answer once, as the system, naming the booking it made.
    let audited: Vec<(String, String)> = sqlite(&s.kiosk)
        .prepare(
            "SELECT actor, json_extract(details, '$.result') FROM audit_log \
             WHERE action = 'dialysis.online_request' AND entity_id = ?1",
        )
        .unwrap()
        .query_map([&id], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(audited, vec![("system".to_owned(), "confirmed".to_owned())]);
    assert_eq!(s.get(&id)["status"], "confirmed");
    assert_eq!(s.get(&id)["shift"], 1, "the first answer stands");

    // A revoked portal's token is refused from then on, for new requests and for status.
    let out = run(
        "swagat-server",
        &["portal", "revoke", "--db", &s.db, "--portal", portal_id],
    );
    assert_eq!(out["revoked"], true);
    let later = s.request("PMNDP-1099", "Meera Devi", "9876500099", &date, 2);
    let (status, _) = s.post(&later);
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let r = s
        .http
        .get(format!("{url}/{id}"))
        .bearer_auth(&s.token)
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // An unknown portal cannot be revoked.
    let o = std::process::Command::new(swagat_tests::profile_dir().join("swagat-server"))
        .args([
            "portal",
            "revoke",
            "--db",
            &s.db,
            "--portal",
            "00000000-0000-0000-0000-000000000000",
        ])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown portal"));
}

#[test]
fn portal_request_to_confirmed_booking_sqlite() {
    portal_request_to_confirmed_booking(Backend::Sqlite);
}

#[test]
fn portal_request_to_confirmed_booking_postgres() {
    portal_request_to_confirmed_booking(Backend::Postgres);
}

fn last_free_slot_while_offline(backend: Backend) {
    let Some(s) = setup(backend, &[("HD-1", "negative"), ("HD-2", "negative")]) else {
        return;
    };
    let date = next_monday();
    // A local patient takes one of the two machines: one slot is left.
    let reg = s._dir.path().join("local.json");
    std::fs::write(&reg, r#"{"name":"Geeta Devi","gender":"F","age_years":60}"#).unwrap();
    let local = admin(
        &s.kiosk,
        &[
            "register",
            "--department",
            "GEN",
            "--json",
            reg.to_str().unwrap(),
        ],
    );
    let pid = local["patient_id"].as_str().unwrap();
    admin(
        &s.kiosk,
        &[
            "dialysis",
            "patient",
            "set",
            "--patient",
            pid,
            "--hbsag",
            "neg",
            "--hcv",
            "neg",
            "--hiv",
            "neg",
            "--tested-on",
            "2026-01-10",
        ],
    );
    let booked = admin(
        &s.kiosk,
        &[
            "dialysis",
            "book",
            "--patient",
            pid,
            "--date",
            &date,
            "--shift",
            "2",
        ],
    );
    assert_eq!(booked["bookings"][0]["status"], "confirmed");

    // While the kiosk is offline (not syncing), two portal requests for that last slot.
    let (_, a) = s.post(&s.request("PMNDP-2001", "Sunita Devi", "9876543210", &date, 2));
    let (_, b) = s.post(&s.request("PMNDP-2002", "Anita Kumari", "9812345670", &date, 2));
    let (a, b) = (
        a["id"].as_str().unwrap().to_owned(),
        b["id"].as_str().unwrap().to_owned(),
    );
    s.sync();
    let (ra, rb) = (s.get(&a), s.get(&b));
    let mut statuses = vec![
        ra["status"].as_str().unwrap(),
        rb["status"].as_str().unwrap(),
    ];
    statuses.sort_unstable();
    assert_eq!(statuses, vec!["confirmed", "waitlisted"], "{ra} {rb}");
    // Served in request order: the earlier request got the machine.
    assert_eq!(ra["status"], "confirmed");
    let machines: Vec<String> = s
        .schedule(&date)
        .iter()
        .filter(|b| b["shift"] == 2 && b["status"] == "confirmed")
        .map(|b| b["machine"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(machines.len(), 2, "never two sessions on one machine");
    assert_ne!(machines[0], machines[1]);

    // The unit cancels the confirmed one: the waitlisted request is promoted, and the portal
    // sees both changes after the next sync.
    let booking = s
        .schedule(&date)
        .iter()
        .find(|x| x["online_request_id"] == a.as_str())
        .map(|x| x["id"].as_str().unwrap().to_owned())
        .unwrap();
    let cancelled = admin(&s.kiosk, &["dialysis", "cancel", "--booking", &booking]);
    assert_eq!(
        cancelled["promoted"].as_array().unwrap().len(),
        1,
        "{cancelled}"
    );
    s.sync();
    assert_eq!(s.get(&a)["status"], "cancelled");
    let promoted = s.get(&b);
    assert_eq!(promoted["status"], "confirmed", "{promoted}");
    assert!(promoted["machine"].is_string());
}

#[test]
fn last_free_slot_while_offline_sqlite() {
    last_free_slot_while_offline(Backend::Sqlite);
}

#[test]
fn last_free_slot_while_offline_postgres() {
    last_free_slot_while_offline(Backend::Postgres);
}
