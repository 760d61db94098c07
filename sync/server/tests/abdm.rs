//! ABHA scan-and-share against the real server binary and a stand-in gateway, on SQLite and
//! PostgreSQL: the callback's answers (202/400/401/404/503), the on-share's body, headers and
//! session, tokens (retries, repeats, concurrency), delivery after the gateway was down and
//! after a server restart, session renewal on a 401, key rotation, and the kiosk's round trip.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::{json, Value};
use std::process::Command;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use support::gateway::{self, StandInGateway};
use support::{db_url, fast_config, pull_all, Backend, Kiosk};
use swagat_sync_client::KioskStore;
use uuid::Uuid;

struct Server {
    child: tokio::process::Child,
    url: String,
    db: String,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Server {
    async fn spawn(db: &str, gateway: Option<&str>, port: u16) -> Server {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_swagat-server"));
        cmd.args([
            "serve",
            "--db",
            db,
            "--listen",
            &format!("127.0.0.1:{port}"),
        ]);
        if let Some(g) = gateway {
            cmd.args(["--abdm-gateway", g, "--abdm-client-id", gateway::CLIENT_ID])
                .env("SWAGAT_ABDM_CLIENT_SECRET", gateway::CLIENT_SECRET);
        }
        let child = cmd
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let url = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        for _ in 0..400 {
            if http
                .get(format!("{url}/healthz"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return Server {
                    child,
                    url,
                    db: db.to_string(),
                };
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("swagat-server did not start");
    }

    async fn kill(mut self) {
        self.child.start_kill().unwrap();
        let _ = self.child.wait().await;
    }
}

/// The database of one test: on PostgreSQL a schema of its own, because every server's on-share
/// worker drains the whole queue to its own gateway (one gateway per deployment) and the tests
/// of this file run at once.
async fn isolated_db(backend: Backend, dir: &std::path::Path) -> Option<String> {
    let url = db_url(backend, dir)?;
    if backend == Backend::Sqlite {
        return Some(url);
    }
    let schema = format!("abdm_{}", Uuid::now_v7().simple());
    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .await
        .unwrap();
    let sep = if url.contains('?') { '&' } else { '?' };
    Some(format!("{url}{sep}options=-c%20search_path%3D{schema}"))
}

fn cli(args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_swagat-server"))
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(out.stdout.trim_ascii()).unwrap()
}

fn random_hfr() -> String {
    let n = u64::from_le_bytes(Uuid::new_v4().as_bytes()[..8].try_into().unwrap()) % 10_000_000_000;
    format!("IN{n:010}")
}

/// A facility made with the CLI, its HFR id set by `facility set`: (code, hfr id, enrollment code).
fn facility(db: &str) -> (String, String, String) {
    // 8 characters at most: the code rule every kiosk enforces.
    let code = format!("P{}", &Uuid::now_v7().simple().to_string()[25..]);
    let v = cli(&[
        "facility",
        "add",
        "--db",
        db,
        "--code",
        &code,
        "--name",
        "UPHC Kankarbagh",
    ]);
    let hfr = random_hfr();
    let s = cli(&[
        "facility", "set", "--db", db, "--code", &code, "--hfr-id", &hfr,
    ]);
    assert_eq!(s["hfr_id"], hfr.as_str());
    (
        code,
        hfr,
        v["enrollment_code"].as_str().unwrap().to_string(),
    )
}

fn shares_list(db: &str, code: &str) -> Vec<Value> {
    cli(&["shares", "list", "--db", db, "--facility", code])["shares"]
        .as_array()
        .unwrap()
        .clone()
}

fn body(hfr: &str, counter: &str, address: &str, name: &str) -> Value {
    json!({
        "intent": "PROFILE_SHARE",
        "metaData": {"hipId": hfr, "context": counter, "hprId": null, "latitude": "25.5941", "longitude": "85.1376"},
        "profile": {"patient": {
            "abhaNumber": "91-2345-6789-0129", "abhaAddress": address, "name": name, "gender": "F",
            "dayOfBirth": "15", "monthOfBirth": "8", "yearOfBirth": "1985",
            "address": {"line": "Road No 5, Kankarbagh", "district": "PATNA", "state": "BIHAR", "pincode": "800020"},
            "phoneNumber": "9801234567"}}
    })
}

async fn post_share(
    url: &str,
    jwt: Option<&str>,
    request_id: &str,
    hfr: &str,
    body: &[u8],
) -> (u16, Value) {
    let mut rb = reqwest::Client::new()
        .post(format!("{url}/api/v3/hip/patient/share"))
        .header("REQUEST-ID", request_id)
        .header("TIMESTAMP", "2026-11-30T04:12:48.483Z")
        .header("X-HIP-ID", hfr)
        .header("X-CM-ID", "sbx")
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some(j) = jwt {
        rb = rb.bearer_auth(j);
    }
    let r = rb.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn share(url: &str, request_id: &str, b: &Value) -> u16 {
    let hfr = b["metaData"]["hipId"].as_str().unwrap().to_string();
    post_share(
        url,
        Some(&gateway::gateway_jwt()),
        request_id,
        &hfr,
        b.to_string().as_bytes(),
    )
    .await
    .0
}

fn token_of(o: &gateway::OnShare) -> String {
    o.body["acknowledgement"]["profile"]["tokenNumber"]
        .as_str()
        .unwrap()
        .to_string()
}

macro_rules! both {
    ($($f:ident),*) => {
        mod sqlite { $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $f() { super::$f(super::Backend::Sqlite).await })* }
        mod postgres { $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $f() { super::$f(super::Backend::Postgres).await })* }
    };
}

both!(
    share_is_answered_with_on_share,
    retries_repeats_and_counters,
    concurrent_shares_get_one_token,
    bad_tokens_and_bodies_are_refused,
    gateway_down_then_server_restart,
    session_renewed_on_401_and_keys_rotated,
    kiosk_pulls_and_registers
);

async fn share_is_answered_with_on_share(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(db) = isolated_db(backend, dir.path()).await else {
        return;
    };
    let gw = StandInGateway::start().await;
    let (code, hfr, _) = facility(&db);
    let server = Server::spawn(&db, Some(&gw.base), free_port()).await;
    let rid = Uuid::new_v4().to_string();
    let (status, answer) = post_share(
        &server.url,
        Some(&gateway::gateway_jwt()),
        &rid,
        &hfr,
        body(&hfr, "OPD1", "Sunita.Devi85@sbx", "Sunita Devi")
            .to_string()
            .as_bytes(),
    )
    .await;
    assert_eq!(status, 202, "{answer}");
    let got = gw.wait_on_shares(1).await;
    let o = &got[0];
    assert_eq!(
        o.body,
        json!({
            "acknowledgement": {"status": "SUCCESS", "abhaAddress": "sunita.devi85@sbx",
                "profile": {"context": "OPD1", "tokenNumber": "1", "expiry": "1800"}},
            "response": {"requestId": rid}
        })
    );
    let h = |k: &str| {
        o.headers
            .get(k)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(h("X-HIP-ID"), hfr);
    assert_eq!(h("X-CM-ID"), "sbx");
    assert!(
        gateway::valid_timestamp(&h("TIMESTAMP")),
        "{}",
        h("TIMESTAMP")
    );
    let own_id = h("REQUEST-ID");
    assert!(Uuid::parse_str(&own_id).is_ok() && own_id != rid);
    let session = h("authorization")
        .strip_prefix("Bearer ")
        .unwrap()
        .to_string();
    assert!(gw.state.sessions.lock().unwrap().contains(&session));
    assert_eq!(gw.state.sessions_issued.load(Ordering::SeqCst), 1);
    let list = shares_list(&db, &code);
    assert_eq!(list.len(), 1);
    let s = &list[0];
    for k in [
        "id",
        "request_id",
        "abha_address",
        "abha_number",
        "name",
        "context",
        "token",
        "status",
        "visit_id",
    ] {
        assert!(s.get(k).is_some(), "shares list lacks {k}");
    }
    assert_eq!(
        (
            s["token"].as_str(),
            s["status"].as_str(),
            s["context"].as_str()
        ),
        (Some("1"), Some("waiting"), Some("OPD1"))
    );
    assert_eq!(s["request_id"], rid.as_str());
    assert_eq!(s["abha_number"], "91-2345-6789-0129");
    server.kill().await;
}

async fn retries_repeats_and_counters(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(db) = isolated_db(backend, dir.path()).await else {
        return;
    };
    let gw = StandInGateway::start().await;
    let (code, hfr, _) = facility(&db);
    let server = Server::spawn(&db, Some(&gw.base), free_port()).await;
    let sunita = body(&hfr, "OPD1", "sunita.devi85@sbx", "Sunita Devi");
    let rid = Uuid::new_v4().to_string();
    assert_eq!(share(&server.url, &rid, &sunita).await, 202);
    // The gateway retries the same request: same share, same token, another on-share.
    assert_eq!(share(&server.url, &rid, &sunita).await, 202);
    // She scans again (a new request) within the window: same token.
    assert_eq!(
        share(&server.url, &Uuid::new_v4().to_string(), &sunita).await,
        202
    );
    // Someone else at the same counter: the next token; she at another counter: that counter's first.
    let mut ram = body(&hfr, "OPD1", "ramkumar.sahu@sbx", "Ram Kumar Sahu");
    ram["profile"]["patient"]["abhaNumber"] = Value::Null;
    ram["profile"]["patient"]["address"] = json!({"line": "Gudhiyari", "pinCode": "492009"});
    assert_eq!(
        share(&server.url, &Uuid::new_v4().to_string(), &ram).await,
        202
    );
    let at_reg2 = body(&hfr, "REG2", "sunita.devi85@sbx", "Sunita Devi");
    assert_eq!(
        share(&server.url, &Uuid::new_v4().to_string(), &at_reg2).await,
        202
    );
    let got = gw.wait_on_shares(5).await;
    let tokens: Vec<(String, String)> = got
        .iter()
        .map(|o| {
            (
                o.body["acknowledgement"]["profile"]["context"]
                    .as_str()
                    .unwrap()
                    .to_string(),
                token_of(o),
            )
        })
        .collect();
    let mut sorted = tokens.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        vec![
            ("OPD1".into(), "1".into()),
            ("OPD1".into(), "1".into()),
            ("OPD1".into(), "1".into()),
            ("OPD1".into(), "2".into()),
            ("REG2".into(), "1".into()),
        ]
    );
    // The retry's answer names the same request as the first.
    assert_eq!(
        got.iter()
            .filter(|o| o.body["response"]["requestId"] == rid.as_str())
            .count(),
        2
    );
    let list = shares_list(&db, &code);
    let summary: Vec<(String, String, String)> = list
        .iter()
        .map(|s| {
            (
                s["context"].as_str().unwrap().into(),
                s["token"].as_str().unwrap().into(),
                s["abha_address"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("OPD1".into(), "1".into(), "sunita.devi85@sbx".into()),
            ("OPD1".into(), "2".into(), "ramkumar.sahu@sbx".into()),
            ("REG2".into(), "1".into(), "sunita.devi85@sbx".into()),
        ]
    );
    assert_eq!(list[1]["abha_number"], Value::Null);
    server.kill().await;
}

async fn concurrent_shares_get_one_token(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(db) = isolated_db(backend, dir.path()).await else {
        return;
    };
    let gw = StandInGateway::start().await;
    let (code, hfr, _) = facility(&db);
    let server = Server::spawn(&db, Some(&gw.base), free_port()).await;
    let b = body(&hfr, "OPD1", "sunita.devi85@sbx", "Sunita Devi");
    let same_rid = Uuid::new_v4().to_string();
    let mut tasks = Vec::new();
    for i in 0..12 {
        let url = server.url.clone();
        let b = b.clone();
        // Half are the same request delivered at once, half new requests of the same person.
        let rid = if i % 2 == 0 {
            same_rid.clone()
        } else {
            Uuid::new_v4().to_string()
        };
        tasks.push(tokio::spawn(async move { share(&url, &rid, &b).await }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 202);
    }
    let got = gw.wait_on_shares(12).await;
    assert!(got.iter().all(|o| token_of(o) == "1"));
    let list = shares_list(&db, &code);
    assert_eq!(list.len(), 1, "{list:?}");
    server.kill().await;
}

async fn bad_tokens_and_bodies_are_refused(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(db) = isolated_db(backend, dir.path()).await else {
        return;
    };
    let gw = StandInGateway::start().await;
    let (code, hfr, _) = facility(&db);
    // Without --abdm-gateway the callback is 503.
    let plain = Server::spawn(&db, None, free_port()).await;
    let b = body(&hfr, "OPD1", "sunita.devi85@sbx", "Sunita Devi").to_string();
    let (status, v) = post_share(
        &plain.url,
        Some(&gateway::gateway_jwt()),
        "r0",
        &hfr,
        b.as_bytes(),
    )
    .await;
    assert_eq!((status, v["code"].as_str()), (503, Some("abdm_disabled")));
    plain.kill().await;

    let server = Server::spawn(&db, Some(&gw.base), free_port()).await;
    for jwt in [
        Some(gateway::forged_jwt()),
        Some(gateway::expired_jwt()),
        None,
        Some("not.a.jwt".to_string()),
    ] {
        let (status, v) = post_share(
            &server.url,
            jwt.as_deref(),
            &Uuid::new_v4().to_string(),
            &hfr,
            b.as_bytes(),
        )
        .await;
        assert_eq!(
            (status, v["code"].as_str()),
            (401, Some("unauthorized")),
            "{jwt:?}"
        );
    }
    // A truncated body: 400, nothing stored.
    let (status, v) = post_share(
        &server.url,
        Some(&gateway::gateway_jwt()),
        "r1",
        &hfr,
        &b.as_bytes()[..b.len() / 2],
    )
    .await;
    assert_eq!((status, v["code"].as_str()), (400, Some("invalid_share")));
    assert_eq!(v["errors"][0]["field"], "body");
    // Several problems at once are all listed.
    let mut bad = body(&hfr, "OPD-1", "1sunita@sbx", "");
    bad["profile"]["patient"]["yearOfBirth"] = json!("19x5");
    let (status, v) = post_share(
        &server.url,
        Some(&gateway::gateway_jwt()),
        "r2",
        &hfr,
        bad.to_string().as_bytes(),
    )
    .await;
    assert_eq!(status, 400);
    let fields: Vec<&str> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    for f in [
        "metaData.context",
        "profile.patient.abhaAddress",
        "profile.patient.name",
        "profile.patient.yearOfBirth",
    ] {
        assert!(fields.contains(&f), "{f} not in {fields:?}");
    }
    // An unknown hipId: 404.
    let other = body(&random_hfr(), "OPD1", "sunita.devi85@sbx", "Sunita Devi");
    assert_eq!(share(&server.url, "r3", &other).await, 404);
    assert!(shares_list(&db, &code).is_empty());
    // Nothing was answered: the first valid share's on-share is the only one (the queue is FIFO).
    let b = body(&hfr, "OPD1", "sunita.devi85@sbx", "Sunita Devi");
    assert_eq!(share(&server.url, "r-valid", &b).await, 202);
    gw.wait_on_shares(1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let got = gw.on_shares();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body["response"]["requestId"], "r-valid");
    server.kill().await;
}

async fn gateway_down_then_server_restart(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(db) = isolated_db(backend, dir.path()).await else {
        return;
    };
    let gw = StandInGateway::start().await;
    let (_code, hfr, _) = facility(&db);
    let port = free_port();
    let server = Server::spawn(&db, Some(&gw.base), port).await;
    gw.set_down(true);
    let b = body(&hfr, "OPD1", "sunita.devi85@sbx", "Sunita Devi");
    assert_eq!(share(&server.url, "down-1", &b).await, 202);
    // The server keeps trying while the gateway is down ...
    for _ in 0..2000 {
        if gw.state.refused.load(Ordering::SeqCst) >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(gw.state.refused.load(Ordering::SeqCst) >= 2);
    // ... and it comes back: delivered.
    gw.set_down(false);
    let got = gw.wait_on_shares(1).await;
    assert_eq!(got[0].body["response"]["requestId"], "down-1");

    // Down again, and the server is killed with an answer still queued.
    gw.set_down(true);
    let ram = body(&hfr, "OPD1", "ramkumar.sahu@sbx", "Ram Kumar Sahu");
    assert_eq!(share(&server.url, "down-2", &ram).await, 202);
    let refused = gw.state.refused.load(Ordering::SeqCst);
    for _ in 0..2000 {
        if gw.state.refused.load(Ordering::SeqCst) > refused {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let db = server.db.clone();
    server.kill().await;
    gw.set_down(false);
    let server = Server::spawn(&db, Some(&gw.base), port).await;
    let got = gw.wait_on_shares(2).await;
    assert_eq!(got[1].body["response"]["requestId"], "down-2");
    assert_eq!(token_of(&got[1]), "2");
    server.kill().await;
}

async fn session_renewed_on_401_and_keys_rotated(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(db) = isolated_db(backend, dir.path()).await else {
        return;
    };
    let gw = StandInGateway::start().await;
    let (_code, hfr, _) = facility(&db);
    let server = Server::spawn(&db, Some(&gw.base), free_port()).await;
    assert_eq!(
        share(
            &server.url,
            "s-1",
            &body(&hfr, "OPD1", "a.one@sbx", "A One")
        )
        .await,
        202
    );
    gw.wait_on_shares(1).await;
    assert_eq!(gw.state.sessions_issued.load(Ordering::SeqCst), 1);
    assert_eq!(gw.state.certs_fetched.load(Ordering::SeqCst), 1);
    // The gateway forgets its sessions: the next on-share gets a 401, the server renews it.
    gw.revoke_sessions();
    assert_eq!(
        share(
            &server.url,
            "s-2",
            &body(&hfr, "OPD1", "b.two@sbx", "B Two")
        )
        .await,
        202
    );
    let got = gw.wait_on_shares(2).await;
    assert_eq!(got[1].body["response"]["requestId"], "s-2");
    assert_eq!(gw.state.sessions_issued.load(Ordering::SeqCst), 2);
    // Cached keys: no refetch for a known kid.
    assert_eq!(gw.state.certs_fetched.load(Ordering::SeqCst), 1);
    // The gateway starts signing with a new key: an unknown kid makes the server refetch.
    gw.state.rotated.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(5100)).await; // past the refetch rate limit
    let b = body(&hfr, "OPD1", "c.three@sbx", "C Three");
    let (status, _) = post_share(
        &server.url,
        Some(&gateway::rotated_jwt()),
        "s-3",
        &hfr,
        b.to_string().as_bytes(),
    )
    .await;
    assert_eq!(status, 202);
    assert_eq!(gw.state.certs_fetched.load(Ordering::SeqCst), 2);
    server.kill().await;
}

async fn kiosk_pulls_and_registers(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(db) = isolated_db(backend, dir.path()).await else {
        return;
    };
    let gw = StandInGateway::start().await;
    let (code, hfr, enrollment) = facility(&db);
    let (_other_code, _other_hfr, other_enrollment) = facility(&db);
    let server = Server::spawn(&db, Some(&gw.base), free_port()).await;
    assert_eq!(
        share(
            &server.url,
            "k-1",
            &body(&hfr, "OPD1", "sunita.devi85@sbx", "Sunita Devi")
        )
        .await,
        202
    );
    let kiosk = Kiosk::open(&dir.path().join("k.db"), fast_config());
    kiosk.enroll(&server.url, &enrollment).await;
    kiosk.engine.until_idle().await.unwrap();
    assert_eq!(kiosk.store.inbox_count("abha_share").unwrap(), 1);
    let records = pull_all(&server.url, &kiosk.store).await;
    let rec = records.iter().find(|e| e.kind == "abha_share").unwrap();
    let p: Value = serde_json::from_str(rec.payload.get()).unwrap();
    let creds = kiosk.store.load_credentials().unwrap().unwrap();
    assert_eq!(
        rec.device, creds.facility_id,
        "an abha_share is authored by the server"
    );
    for k in [
        "share_id",
        "request_id",
        "hip_id",
        "counter",
        "token",
        "abha_number",
        "abha_address",
        "name",
        "gender",
        "year_of_birth",
        "month_of_birth",
        "day_of_birth",
        "mobile",
        "address",
        "shared_at",
        "expires_at",
    ] {
        assert!(p.get(k).is_some(), "payload lacks {k}");
    }
    assert_eq!(
        (
            p["token"].as_str(),
            p["counter"].as_str(),
            p["year_of_birth"].as_i64()
        ),
        (Some("1"), Some("OPD1"), Some(1985))
    );
    assert_eq!(p["address"]["pincode"], "800020");
    let share_id = p["share_id"].as_str().unwrap().to_string();
    assert_eq!(share_id, rec.id.to_string());
    // A kiosk of another facility cannot mark it registered.
    let intruder = Kiosk::open(&dir.path().join("x.db"), fast_config());
    intruder.enroll(&server.url, &other_enrollment).await;
    let visit = Uuid::now_v7();
    let result = json!({"share_id": share_id, "status": "registered", "visit_id": visit, "patient_id": Uuid::now_v7(), "registered_at": "2026-12-01T10:00:00Z"});
    intruder
        .store
        .write_record("abha_share_result", Uuid::now_v7(), &result.to_string())
        .unwrap();
    intruder.engine.until_idle().await.unwrap();
    assert_eq!(shares_list(&db, &code)[0]["status"], "waiting");
    // The facility's kiosk registers it.
    kiosk
        .store
        .write_record("abha_share_result", Uuid::now_v7(), &result.to_string())
        .unwrap();
    kiosk.engine.until_idle().await.unwrap();
    let list = shares_list(&db, &code);
    assert_eq!(
        (list[0]["status"].as_str(), list[0]["visit_id"].as_str()),
        (Some("registered"), Some(visit.to_string().as_str()))
    );
    server.kill().await;
}

/// The timed run (by hand, not in CI): share → on-share latency over 1,000 shares on loopback,
/// the real server binary on SQLite (or `SWAGAT_BENCH_PG=1` for PostgreSQL) against the stand-in
/// gateway, 8 callbacks in flight. Prints the figures and saves them as JSON to
/// `$CARGO_TARGET_DIR/abdm-share-bench.json`.
///
/// `cargo test --workspace --release --test abdm -- --include-ignored --nocapture share_latency`
///
/// The figures also record the machine's load averages (`/proc/loadavg`) as the run ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run by hand"]
async fn share_latency() {
    let n: usize = std::env::var("SWAGAT_BENCH_SHARES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let dir = tempfile::tempdir().unwrap();
    let backend = if std::env::var_os("SWAGAT_BENCH_PG").is_some() {
        Backend::Postgres
    } else {
        Backend::Sqlite
    };
    let db = isolated_db(backend, dir.path()).await.unwrap();
    let gw = StandInGateway::start().await;
    let (_code, hfr, _) = facility(&db);
    let server = Server::spawn(&db, Some(&gw.base), free_port()).await;
    // Warm up: session and keys fetched once.
    assert_eq!(
        share(
            &server.url,
            "warm-up",
            &body(&hfr, "OPD1", "warm.up@sbx", "Warm Up")
        )
        .await,
        202
    );
    gw.wait_on_shares(1).await;
    let sent = Arc::new(std::sync::Mutex::new(std::collections::HashMap::new()));
    let sem = Arc::new(tokio::sync::Semaphore::new(8));
    let started = std::time::Instant::now();
    let mut tasks = Vec::new();
    for i in 0..n {
        let permit = sem.clone().acquire_owned().await.unwrap();
        let (url, hfr, sent) = (server.url.clone(), hfr.clone(), sent.clone());
        tasks.push(tokio::spawn(async move {
            let rid = format!("bench-{i}");
            let b = body(
                &hfr,
                if i % 2 == 0 { "OPD1" } else { "REG2" },
                &format!("patient.{i}@sbx"),
                "Bench Patient",
            );
            sent.lock()
                .unwrap()
                .insert(rid.clone(), std::time::Instant::now());
            assert_eq!(share(&url, &rid, &b).await, 202);
            drop(permit);
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let got = gw.wait_on_shares(n + 1).await;
    let wall = started.elapsed();
    let sent = sent.lock().unwrap().clone();
    let mut ms: Vec<f64> = got
        .iter()
        .filter_map(|o| {
            let rid = o.body["response"]["requestId"].as_str()?;
            Some(o.at.duration_since(*sent.get(rid)?).as_secs_f64() * 1000.0)
        })
        .collect();
    assert_eq!(ms.len(), n);
    ms.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| ms[((p * n as f64).ceil() as usize).clamp(1, n) - 1];
    let figures = json!({
        "load_average": std::fs::read_to_string("/proc/loadavg").unwrap_or_default().trim(),
        "bench": "abdm share -> on-share latency", "backend": format!("{backend:?}"), "shares": n,
        "in_flight": 8, "build": if cfg!(debug_assertions) { "debug" } else { "release" },
        "p50_ms": pct(0.50), "p95_ms": pct(0.95), "p99_ms": pct(0.99), "max_ms": ms[n - 1],
        "wall_s": wall.as_secs_f64(), "shares_per_s": n as f64 / wall.as_secs_f64(),
    });
    println!("{figures:#}");
    let out = std::path::PathBuf::from(
        std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into()),
    )
    .join("abdm-share-bench.json");
    std::fs::write(&out, figures.to_string()).unwrap();
    println!("saved to {}", out.display());
    server.kill().await;
}

/// `facility set --hfr-id` checks the id's form and that no other facility has it; the
/// facility's configuration record is republished with it (kiosks learn the HFR id).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn facility_set_checks_hfr_ids_and_republishes_the_config() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_url(Backend::Sqlite, dir.path()).unwrap();
    let (code, hfr, enrollment) = facility(&db);
    let (other, _, _) = facility(&db);
    let fails = |args: &[&str]| {
        !Command::new(env!("CARGO_BIN_EXE_swagat-server"))
            .args(args)
            .env("RUST_LOG", "off")
            .status()
            .unwrap()
            .success()
    };
    assert!(fails(&[
        "facility", "set", "--db", &db, "--code", &other, "--hfr-id", "IN123"
    ]));
    assert!(
        fails(&["facility", "set", "--db", &db, "--code", &other, "--hfr-id", &hfr]),
        "taken"
    );
    assert!(fails(&[
        "facility",
        "set",
        "--db",
        &db,
        "--code",
        "NOPE",
        "--hfr-id",
        &random_hfr()
    ]));
    assert!(fails(&[
        "facility",
        "add",
        "--db",
        &db,
        "--code",
        "X1",
        "--name",
        "X",
        "--hfr-id",
        "in28100143"
    ]));
    let server = Server::spawn(&db, None, free_port()).await;
    let kiosk = Kiosk::open(&dir.path().join("k.db"), fast_config());
    kiosk.enroll(&server.url, &enrollment).await;
    let records = pull_all(&server.url, &kiosk.store).await;
    let configs: Vec<Value> = records
        .iter()
        .filter(|e| e.kind == "facility_config")
        .map(|e| serde_json::from_str(e.payload.get()).unwrap())
        .collect();
    assert_eq!(
        configs.last().unwrap()["hfr_id"],
        hfr.as_str(),
        "{configs:?}"
    );
    let _ = code;
    server.kill().await;
}
