//! The officials' dashboard, its API, kiosk health and the patient's slip page, over real HTTP
//! against a real server on both backends: the role matrix for every route, login throttling,
//! CSRF, sessions, the summary numbers, heartbeats from the real sync engine, and the slip page
//! (valid, tampered, unsynced, cancelled).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::header::{LOCATION, SET_COOKIE};
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::{db_url, Backend, Kiosk, TestServer};
use swagat_server::store::{Device, NewFacility, Sql};
use swagat_server::{secrets, Store};
use swagat_sync_protocol::{Envelope, Hlc};
use uuid::Uuid;

const PW: &str = "a long enough password";

struct Fac {
    code: String,
    id: Uuid,
    device: Device,
}

async fn facility(srv: &TestServer, district: u32) -> Fac {
    let code = format!("F{}", &Uuid::now_v7().simple().to_string()[20..]);
    let enrollment = secrets::new_enrollment_code();
    let f = srv
        .store
        .add_facility(
            NewFacility {
                code: code.clone(),
                name: format!("PHC {code}"),
                hfr_id: None,
                state_lgd: Some(10),
                district_lgd: Some(district),
            },
            secrets::hash_enrollment_code(&enrollment),
        )
        .await
        .unwrap();
    let device = srv
        .store
        .enroll(swagat_server::store::EnrollParams {
            code_hash: secrets::hash_enrollment_code(&enrollment),
            device_name: format!("kiosk-{code}"),
            secret_hash: secrets::hash_secret("s"),
            install_id: None,
            previous_device: None,
            previous_install: None,
            previous_acked: None,
        })
        .await
        .unwrap()
        .device;
    Fac {
        code,
        id: f.id,
        device,
    }
}

fn envelope(d: &Device, seq: u64, id: Uuid, kind: &str, payload: Value) -> Envelope {
    Envelope {
        id,
        kind: kind.into(),
        facility: d.facility_id,
        device: d.id,
        seq,
        hlc: Hlc::new(1_700_000_000_000 + seq, 0),
        schema: 1,
        payload: serde_json::value::RawValue::from_string(payload.to_string()).unwrap(),
    }
}

fn patient(name: &str, gender: &str, dob: &str) -> Value {
    json!({"id": "x", "uhid": format!("UH-{name}"), "name": name, "name_hi": null, "gender": gender,
        "dob": dob, "dob_approximate": false, "year_of_birth": null, "mobile": "9876543210",
        "address": {"house": "12", "street": "Station Road", "locality": "Rampur"},
        "aadhaar_last4": "1234", "category": "general", "merged_into": null})
}

#[allow(clippy::too_many_arguments)]
fn visit(
    patient: Uuid,
    date: &str,
    dept: &str,
    vtype: &str,
    fee: u32,
    waiver: Option<&str>,
    status: &str,
    abha: bool,
    token: &str,
) -> Value {
    json!({"id": "x", "patient_id": patient, "department": dept, "visit_date": date, "token": token,
        "visit_type": vtype, "fee_rupees": fee, "waiver_code": waiver, "waiver_reason": null,
        "valid_until": date, "status": status, "abha_linked": abha, "prints": 1,
        "created_at": format!("{date}T04:30:00Z")})
}

/// Seeds a facility: `n` visits today split by the pattern, returns (visit ids, patient id).
async fn seed(srv: &TestServer, f: &Fac, n: usize, cancel_one: bool) -> Vec<Uuid> {
    let today = swagat_server::dashboard::data::day(swagat_server::dashboard::data::today());
    let p = Uuid::now_v7();
    let mut envs = vec![envelope(
        &f.device,
        1,
        p,
        "patient",
        patient("Sita", "F", "1990-05-01"),
    )];
    let mut ids = Vec::new();
    for i in 0..n {
        let id = Uuid::now_v7();
        ids.push(id);
        envs.push(envelope(
            &f.device,
            2 + i as u64,
            id,
            "visit",
            visit(
                p,
                &today,
                if i % 2 == 0 { "general" } else { "eye" },
                if i % 3 == 0 { "follow_up" } else { "new" },
                5,
                None,
                "active",
                i % 2 == 0,
                &format!("A-{:03}", i + 1),
            ),
        ));
    }
    let mut seq = 2 + n as u64;
    if cancel_one {
        envs.push(envelope(
            &f.device,
            seq,
            ids[0],
            "visit",
            visit(
                p,
                &today,
                "general",
                "follow_up",
                5,
                None,
                "cancelled",
                true,
                "A-001",
            ),
        ));
        seq += 1;
    }
    let _ = seq;
    let r = srv.store.ingest(f.device.clone(), envs).await.unwrap();
    assert!(r.rejected.is_empty(), "{:?}", r.rejected);
    ids
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn add_user(
    srv: &TestServer,
    name: &str,
    role: &str,
    district: Option<i64>,
    facility: Option<&str>,
) {
    swagat_server::users::add(
        &*srv.store,
        name,
        role,
        district,
        facility.map(String::from),
        PW,
    )
    .await
    .unwrap();
}

async fn login(
    srv: &TestServer,
    name: &str,
    password: &str,
) -> (StatusCode, Option<String>, Option<String>) {
    let r = http()
        .post(format!("{}/login", srv.url))
        .form(&[("name", name), ("password", password)])
        .send()
        .await
        .unwrap();
    let set = r
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("swagat_session="))
        .map(String::from);
    let cookie = set
        .as_ref()
        .and_then(|v| v.split(';').next())
        .map(String::from);
    (r.status(), cookie, set)
}

async fn session(srv: &TestServer, name: &str) -> String {
    let (status, cookie, _) = login(srv, name, PW).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    cookie.unwrap()
}

async fn get(srv: &TestServer, cookie: Option<&str>, path: &str) -> reqwest::Response {
    let mut rb = http().get(format!("{}{}", srv.url, path));
    if let Some(c) = cookie {
        rb = rb.header("cookie", c);
    }
    rb.send().await.unwrap()
}

async fn role_matrix(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(url) = db_url(backend, dir.path()) else {
        return;
    };
    let srv = TestServer::start(&url).await;
    let tag = &Uuid::now_v7().simple().to_string()[20..];
    // Districts unique to this run (PostgreSQL is shared between runs).
    let (da, db) = (100_000 + (Uuid::now_v7().as_u128() % 800_000) as u32, 0);
    let db = da + 1 + db;
    let x = facility(&srv, da).await;
    let z = facility(&srv, da).await;
    let y = facility(&srv, db).await;
    seed(&srv, &x, 6, true).await;
    seed(&srv, &z, 4, false).await;
    seed(&srv, &y, 3, false).await;
    let (state, dist, fac) = (
        format!("state-{tag}"),
        format!("dist-{tag}"),
        format!("fac-{tag}"),
    );
    add_user(&srv, &state, "state", None, None).await;
    add_user(&srv, &dist, "district", Some(da as i64), None).await;
    add_user(&srv, &fac, "facility", None, Some(&x.code)).await;

    // Without a session: pages go to /login, the API answers 401.
    let mut routes: Vec<(String, bool)> = vec![
        ("/dashboard".into(), false),
        (format!("/dashboard?district={db}"), false),
        ("/dashboard/overview.csv".into(), false),
        (format!("/dashboard/facility/{}", y.code), false),
        ("/api/v1/dashboard/summary".into(), true),
        (format!("/api/v1/dashboard/facility/{}", y.code), true),
    ];
    for t in swagat_server::dashboard::FACILITY_TABLES {
        routes.push((format!("/dashboard/facility/{}/{t}", y.code), false));
    }
    for (path, api) in &routes {
        let r = get(&srv, None, path).await;
        if *api {
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{path}");
        } else {
            assert_eq!(r.status(), StatusCode::SEE_OTHER, "{path}");
            assert_eq!(r.headers()[LOCATION], "/login", "{path}");
        }
    }
    // A made-up cookie is no session.
    let r = get(
        &srv,
        Some(&format!("swagat_session={}", "ab".repeat(32))),
        "/api/v1/dashboard/summary",
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    let cs = session(&srv, &state).await;
    let cd = session(&srv, &dist).await;
    let cf = session(&srv, &fac).await;

    // Outside the scope: 403 on every route, for pages, CSV and API alike.
    let mut forbidden_for_district: Vec<String> = vec![
        format!("/dashboard?district={db}"),
        format!("/dashboard/overview.csv?district={db}"),
        format!("/dashboard/facility/{}", y.code),
        format!("/api/v1/dashboard/summary?district={db}"),
        format!("/api/v1/dashboard/summary?facility={}", y.code),
        format!("/api/v1/dashboard/facility/{}", y.code),
        "/dashboard/facility/NO-SUCH-CODE".into(),
    ];
    for t in swagat_server::dashboard::FACILITY_TABLES {
        forbidden_for_district.push(format!("/dashboard/facility/{}/{t}", y.code));
    }
    for path in &forbidden_for_district {
        assert_eq!(
            get(&srv, Some(&cd), path).await.status(),
            StatusCode::FORBIDDEN,
            "district: {path}"
        );
        assert_eq!(
            get(&srv, Some(&cf), path).await.status(),
            StatusCode::FORBIDDEN,
            "facility: {path}"
        );
        let s = get(&srv, Some(&cs), path).await.status();
        if path.contains("NO-SUCH-CODE") {
            assert_eq!(s, StatusCode::NOT_FOUND, "state: {path}");
        } else {
            assert_eq!(s, StatusCode::OK, "state: {path}");
        }
    }
    // A facility user may not see a sibling facility of the same district either.
    let mut sibling = vec![
        format!("/dashboard/facility/{}", z.code),
        format!("/api/v1/dashboard/facility/{}", z.code),
        format!("/api/v1/dashboard/summary?facility={}", z.code),
        format!("/dashboard/overview.csv?facility={}", z.code),
    ];
    for t in swagat_server::dashboard::FACILITY_TABLES {
        sibling.push(format!("/dashboard/facility/{}/{t}", z.code));
    }
    for path in &sibling {
        assert_eq!(
            get(&srv, Some(&cf), path).await.status(),
            StatusCode::FORBIDDEN,
            "facility: {path}"
        );
        assert_eq!(
            get(&srv, Some(&cd), path).await.status(),
            StatusCode::OK,
            "district: {path}"
        );
    }
    // Own facility: fine for the facility user; the overview sends them there.
    for t in swagat_server::dashboard::FACILITY_TABLES {
        let r = get(
            &srv,
            Some(&cf),
            &format!("/dashboard/facility/{}/{t}", x.code),
        )
        .await;
        assert_eq!(r.status(), StatusCode::OK, "{t}");
        assert!(r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv"));
    }
    let r = get(&srv, Some(&cf), "/dashboard").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers()[LOCATION],
        format!("/dashboard/facility/{}", x.code)
    );
    assert_eq!(
        get(&srv, Some(&cf), &format!("/dashboard/facility/{}", x.code))
            .await
            .status(),
        StatusCode::OK
    );

    // The summary API: only the scope's facilities, with the right numbers.
    let sum: Value = get(&srv, Some(&cd), "/api/v1/dashboard/summary")
        .await
        .json()
        .await
        .unwrap();
    let codes: Vec<&str> = sum["facilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    let mut want = vec![x.code.as_str(), z.code.as_str()];
    want.sort();
    assert_eq!(codes, want);
    let fx = sum["facilities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == x.code.as_str())
        .unwrap();
    // 6 visits, one cancelled: 5 registrations; abha on even i (0,2,4) minus the cancelled 0.
    assert_eq!(fx["registrations"], 5);
    assert_eq!(fx["cancelled"], 1);
    assert_eq!(fx["abha_linked"], 2);
    assert_eq!(
        fx["new"].as_i64().unwrap() + fx["follow_up"].as_i64().unwrap(),
        5
    );
    assert_eq!(fx["district_lgd"], da);
    assert_eq!(fx["scan_share"], 0);
    let k = &fx["kiosks"][0];
    for key in ["device_id", "name", "last_seen", "pending", "stale"] {
        assert!(k.get(key).is_some(), "kiosk lacks {key}");
    }
    assert_eq!(k["device_id"], x.device.id.to_string());
    assert_eq!(sum["totals"]["registrations"], 9);
    for key in [
        "registrations",
        "abha_linked",
        "abha_linked_pct",
        "scan_share",
        "dialysis_completed",
    ] {
        assert!(sum["totals"].get(key).is_some(), "totals lack {key}");
    }
    let sum_f: Value = get(&srv, Some(&cf), "/api/v1/dashboard/summary")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(sum_f["facilities"].as_array().unwrap().len(), 1);
    assert_eq!(sum_f["facilities"][0]["code"], x.code.as_str());
    // Bad dates are refused plainly.
    assert_eq!(
        get(&srv, Some(&cs), "/api/v1/dashboard/summary?from=2026-13-01")
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        get(
            &srv,
            Some(&cs),
            "/api/v1/dashboard/summary?from=2026-02-01&to=2026-01-01"
        )
        .await
        .status(),
        StatusCode::BAD_REQUEST
    );

    // The overview page shows the same numbers, in Hindi too.
    let page = get(&srv, Some(&cd), "/dashboard?lang=hi").await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("पंजीकरण"));
    assert!(html.contains(&format!("data-code=\"{}\"", x.code)));
    assert!(
        !html.contains(&y.code),
        "another district's facility leaked into the page"
    );
    let csv = get(
        &srv,
        Some(&cs),
        &format!("/dashboard/overview.csv?district={da}"),
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(csv.starts_with("code,name,district_lgd"));
    assert!(csv
        .lines()
        .any(|l| l.starts_with(&format!("{},", x.code)) && l.contains(",5,")));

    // A disabled official's session ends at once.
    swagat_server::users::disable(&*srv.store, &dist)
        .await
        .unwrap();
    assert_eq!(
        get(&srv, Some(&cd), "/api/v1/dashboard/summary")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn role_matrix_sqlite() {
    role_matrix(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn role_matrix_postgres() {
    role_matrix(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_throttle_cookie_flags_csrf_and_logout() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(&db_url(Backend::Sqlite, dir.path()).unwrap()).await;
    add_user(&srv, "asha", "state", None, None).await;
    let (status, _, set) = login(&srv, "asha", PW).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let set = set.unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict") && set.contains("Path=/"),
        "{set}"
    );
    assert!(!set.contains("Secure"), "plain http: no Secure flag");
    let (_, cookie, _) = login(&srv, "asha", PW).await;
    let cookie = cookie.unwrap();
    assert_eq!(
        get(&srv, Some(&cookie), "/dashboard").await.status(),
        StatusCode::OK
    );

    // Cross-site post is refused; a post without Origin passes.
    let r = http()
        .post(format!("{}/login", srv.url))
        .header("origin", "http://evil.example")
        .form(&[("name", "asha"), ("password", PW)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = http()
        .post(format!("{}/login", srv.url))
        .header("origin", srv.url.as_str())
        .form(&[("name", "asha"), ("password", PW)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    // Logout ends the session.
    let r = http()
        .post(format!("{}/logout", srv.url))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        get(&srv, Some(&cookie), "/api/v1/dashboard/summary")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );

    // Wrong passwords: the same answer for an unknown name; paused after five.
    add_user(&srv, "ravi", "state", None, None).await;
    assert_eq!(
        login(&srv, "nobody", "whatever1").await.0,
        StatusCode::UNAUTHORIZED
    );
    for _ in 0..5 {
        assert_eq!(
            login(&srv, "ravi", "wrong password").await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    let (status, cookie, _) = login(&srv, "ravi", PW).await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "the right password is paused too"
    );
    assert!(cookie.is_none());
    srv.stop().await;
}

#[test]
fn cli_user_add_list_disable() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("s.db").display());
    let bin = env!("CARGO_BIN_EXE_swagat-server");
    let run = |args: &[&str], stdin: &str| {
        use std::io::Write;
        let mut c = std::process::Command::new(bin)
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        c.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        let o = c.wait_with_output().unwrap();
        (
            o.status.success(),
            String::from_utf8_lossy(&o.stdout).to_string(),
            String::from_utf8_lossy(&o.stderr).to_string(),
        )
    };
    let (ok, out, err) = run(
        &[
            "facility",
            "add",
            "--db",
            &db,
            "--code",
            "PHC1",
            "--name",
            "PHC One",
            "--district-lgd",
            "233",
        ],
        "",
    );
    assert!(ok, "{err}");
    assert!(out.contains("facility_id"));
    let (ok, out, err) = run(
        &[
            "user",
            "add",
            "--db",
            &db,
            "--name",
            "meera",
            "--role",
            "district",
            "--district",
            "233",
            "--password-stdin",
        ],
        "pass word 123\n",
    );
    assert!(ok, "{err}");
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(
        v.as_object().unwrap().keys().collect::<Vec<_>>(),
        vec!["id", "name", "role"]
    );
    assert_eq!(v["name"], "meera");
    assert_eq!(v["role"], "district");
    let (ok, _, _) = run(
        &[
            "user",
            "add",
            "--db",
            &db,
            "--name",
            "f1",
            "--role",
            "facility",
            "--facility",
            "NOPE",
            "--password-stdin",
        ],
        "pass word 123\n",
    );
    assert!(!ok, "an unknown facility is refused");
    let (ok, _, _) = run(
        &[
            "user",
            "add",
            "--db",
            &db,
            "--name",
            "d2",
            "--role",
            "district",
            "--password-stdin",
        ],
        "pass word 123\n",
    );
    assert!(!ok, "a district official needs --district");
    let (ok, out, _) = run(
        &[
            "user",
            "add",
            "--db",
            &db,
            "--name",
            "f2",
            "--role",
            "facility",
            "--facility",
            "PHC1",
            "--password-stdin",
        ],
        "pass word 123\n",
    );
    assert!(ok, "{out}");
    let (ok, out, _) = run(&["user", "list", "--db", &db], "");
    assert!(ok);
    let list: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert!(!out.contains("argon2"), "no hashes in the listing");
    let (ok, out, _) = run(&["user", "disable", "--db", &db, "--name", "meera"], "");
    assert!(ok);
    assert!(out.contains("\"disabled\":true"));
    // The newline was not part of the password: it verifies without it.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = swagat_server::DbStore::open(&db).await.unwrap();
        let u = swagat_server::users::find(&store, "f2")
            .await
            .unwrap()
            .unwrap();
        assert!(swagat_server::users::verify_password(
            &u.password_hash,
            "pass word 123"
        ));
        assert!(u.password_hash.starts_with("$argon2id$"));
    });
}

async fn slip_page(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(url) = db_url(backend, dir.path()) else {
        return;
    };
    let srv = TestServer::start(&url).await;
    let f = facility(&srv, 7).await;
    let ids = seed(&srv, &f, 3, true).await;
    let key = srv.store.facility_slip_key(f.id).await.unwrap().unwrap();
    assert_eq!(key.len(), 32);
    assert_eq!(
        srv.store.facility_slip_key(f.id).await.unwrap().unwrap(),
        key,
        "stable"
    );
    assert_eq!(
        srv.store.facility_slip_key(Uuid::now_v7()).await.unwrap(),
        None
    );
    let link = |id: Uuid| {
        format!(
            "/s/{id}?k={}",
            swagat_server::slip_page::link_mac(&key, &id.to_string())
        )
    };

    // Valid: token, name, UHID, age/sex — never mobile, address or Aadhaar digits.
    let r = get(&srv, None, &link(ids[1])).await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("A-002") && html.contains("Sita") && html.contains("UH-Sita"),
        "{html}"
    );
    assert!(html.contains("महिला"));
    for secret in ["9876543210", "Station Road", "Rampur", "1234"] {
        assert!(!html.contains(secret), "slip page leaks {secret}");
    }
    assert!(html.contains("id=\"slip-valid\""));
    // Cancelled.
    let html = get(&srv, None, &link(ids[0])).await.text().await.unwrap();
    assert!(html.contains("id=\"slip-cancelled\""), "{html}");
    // Tampered and unsynced: one and the same 404 page.
    let good = swagat_server::slip_page::link_mac(&key, &ids[2].to_string());
    let mut bad = good.clone().into_bytes();
    bad[0] = if bad[0] == b'a' { b'b' } else { b'a' };
    let tampered = get(
        &srv,
        None,
        &format!("/s/{}?k={}", ids[2], String::from_utf8(bad).unwrap()),
    )
    .await;
    assert_eq!(tampered.status(), StatusCode::NOT_FOUND);
    let tampered = tampered.text().await.unwrap();
    let unknown = Uuid::now_v7();
    let unsynced = get(&srv, None, &link(unknown)).await;
    assert_eq!(unsynced.status(), StatusCode::NOT_FOUND);
    assert_eq!(unsynced.text().await.unwrap(), tampered);
    assert!(tampered.contains("अभी स्वास्थ्य केंद्र से प्राप्त नहीं हुआ हो सकता है"));
    let nok = get(&srv, None, &format!("/s/{}", ids[2])).await;
    assert_eq!(nok.status(), StatusCode::NOT_FOUND);
    assert_eq!(nok.text().await.unwrap(), tampered);
    let garbage = get(&srv, None, "/s/not-a-uuid?k=zz").await;
    assert_eq!(garbage.status(), StatusCode::NOT_FOUND);
    // Another facility's key does not open this facility's slip.
    let g = facility(&srv, 7).await;
    let other = srv.store.facility_slip_key(g.id).await.unwrap().unwrap();
    let k = swagat_server::slip_page::link_mac(&other, &ids[2].to_string());
    assert_eq!(
        get(&srv, None, &format!("/s/{}?k={k}", ids[2]))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slip_page_sqlite() {
    slip_page(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slip_page_postgres() {
    slip_page(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slip_page_is_rate_limited_per_address() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(&db_url(Backend::Sqlite, dir.path()).unwrap()).await;
    let path = format!("/s/{}?k=000000000000", Uuid::now_v7());
    for _ in 0..swagat_server::dashboard::SLIP_PER_MINUTE {
        assert_eq!(get(&srv, None, &path).await.status(), StatusCode::NOT_FOUND);
    }
    assert_eq!(
        get(&srv, None, &path).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    srv.stop().await;
}

/// Every HTML page is never cached, framed or type-sniffed; a slip page (its link carries its
/// key) sends no referrer, while the dashboard sends one to itself only, so its login form's
/// post carries the `Origin` the CSRF check needs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_carry_their_security_headers() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(&db_url(Backend::Sqlite, dir.path()).unwrap()).await;
    let slip = get(&srv, None, &format!("/s/{}?k=00", Uuid::now_v7())).await;
    let login = get(&srv, None, "/login").await;
    for (r, referrer, csp_part) in [
        (&slip, "no-referrer", "default-src 'none'"),
        (&login, "same-origin", "form-action 'self'"),
    ] {
        let h = |n: &str| {
            r.headers()
                .get(n)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        assert_eq!(h("referrer-policy"), referrer, "{}", r.url());
        assert_eq!(h("cache-control"), "no-store");
        assert_eq!(h("x-frame-options"), "DENY");
        assert_eq!(h("x-content-type-options"), "nosniff");
        assert!(h("content-security-policy").contains(csp_part));
        assert!(h("content-security-policy").contains("frame-ancestors 'none'"));
        assert!(h("content-type").starts_with("text/html"));
    }
    srv.stop().await;
}

async fn heartbeat(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(url) = db_url(backend, dir.path()) else {
        return;
    };
    let srv = TestServer::start(&url).await;
    let (code, enrollment) = srv.facility().await;
    let kiosk = Kiosk::open(&dir.path().join("kiosk.db"), support::fast_config());
    kiosk.enroll(&srv.url, &enrollment).await;
    kiosk.write_sample(3, 5, 0, 1);
    kiosk.engine.sync_once().await.unwrap();
    let creds = swagat_sync_client::KioskStore::load_credentials(&*kiosk.store)
        .unwrap()
        .unwrap();
    let rows = srv
        .store
        .sql_query(
            "SELECT outbox_pending, dead_letters, app_version, free_disk_bytes, at_ms FROM kiosk_heartbeats WHERE device_id = ?1".into(),
            vec![Sql::Uuid(creds.device_id)],
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 1, "the sync sent a heartbeat");
    assert_eq!(rows[0][0].int(), 0, "nothing pending after the sync");
    assert_eq!(rows[0][1].int(), 0);
    assert!(!rows[0][2].str().is_empty());
    assert!(rows[0][3].int() > 0, "free disk reported");

    // The dashboard shows the kiosk as fresh; silent for 25 h it is stale.
    let name = format!("hb-{}", Uuid::now_v7().simple());
    add_user(&srv, &name, "state", None, None).await;
    let c = session(&srv, &name).await;
    let sum: Value = get(
        &srv,
        Some(&c),
        &format!("/api/v1/dashboard/summary?facility={code}"),
    )
    .await
    .json()
    .await
    .unwrap();
    let k = &sum["facilities"][0]["kiosks"][0];
    assert_eq!(k["device_id"], creds.device_id.to_string());
    assert_eq!(k["stale"], false);
    assert!(k["last_seen"].is_string());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let old = now - 25 * 3600 * 1000;
    srv.store
        .sql_exec(
            "UPDATE devices SET last_seen_ms = ?1 WHERE id = ?2".into(),
            vec![Sql::Int(old), Sql::Uuid(creds.device_id)],
        )
        .await
        .unwrap();
    let sum: Value = get(
        &srv,
        Some(&c),
        &format!("/api/v1/dashboard/summary?facility={code}"),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(sum["facilities"][0]["kiosks"][0]["stale"], true);
    // A backlog older than 24 h is stale too, even when the kiosk talks.
    srv.store
        .sql_exec(
            "UPDATE kiosk_heartbeats SET outbox_pending = 4, oldest_unsent_age_s = 90000 WHERE device_id = ?1".into(),
            vec![Sql::Uuid(creds.device_id)],
        )
        .await
        .unwrap();
    kiosk.engine.sync_once().await.unwrap(); // touches last_seen, re-sends a fresh heartbeat
    let sum: Value = get(
        &srv,
        Some(&c),
        &format!("/api/v1/dashboard/summary?facility={code}"),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(
        sum["facilities"][0]["kiosks"][0]["stale"], false,
        "fresh heartbeat, no backlog"
    );
    srv.store
        .sql_exec(
            "UPDATE kiosk_heartbeats SET outbox_pending = 4, oldest_unsent_age_s = 90000 WHERE device_id = ?1".into(),
            vec![Sql::Uuid(creds.device_id)],
        )
        .await
        .unwrap();
    let sum: Value = get(
        &srv,
        Some(&c),
        &format!("/api/v1/dashboard/summary?facility={code}"),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(sum["facilities"][0]["kiosks"][0]["stale"], true);
    assert_eq!(sum["facilities"][0]["kiosks"][0]["pending"], 4);

    // Heartbeats need the device credential.
    let r = http()
        .post(format!("{}/v1/heartbeat", srv.url))
        .header(
            swagat_sync_protocol::PROTOCOL_HEADER,
            swagat_sync_protocol::PROTOCOL_VERSION,
        )
        .body(swagat_sync_protocol::encode(&swagat_sync_protocol::Heartbeat::default()).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // The device's own heartbeat with a malformed escrow box is refused (400), and nothing of it
    // is stored.
    let bad = swagat_sync_protocol::Heartbeat {
        recovery_escrow: Some(swagat_sync_protocol::RecoveryEscrow {
            sealed: "not base64!".into(),
            key_check: "x'; --".into(),
        }),
        ..Default::default()
    };
    let r = http()
        .post(format!("{}/v1/heartbeat", srv.url))
        .header(
            swagat_sync_protocol::PROTOCOL_HEADER,
            swagat_sync_protocol::PROTOCOL_VERSION,
        )
        .header(
            "authorization",
            format!("Bearer {}.{}", creds.device_id, creds.secret),
        )
        .body(swagat_sync_protocol::encode(&bad).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let held = srv
        .store
        .sql_query(
            "SELECT count(*) FROM recovery_escrows WHERE device_id = ?1".into(),
            vec![Sql::Uuid(creds.device_id)],
        )
        .await
        .unwrap();
    assert_eq!(held[0][0].int(), 0);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeat_sqlite() {
    heartbeat(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeat_postgres() {
    heartbeat(Backend::Postgres).await;
}
