//! Server limits with real parts: the `swagat-server` binary under a 1,024-file limit against
//! a flood of half-open connections and a volley of zstd bombs, and the in-process server with
//! small limits for each rule (in-flight cap, per-address connections, header timeout, device
//! rate, storage quota, pull byte cap, HLC skew, JSON depth, portal scopes and rates), on both
//! backends where the store is involved. Figures (times, RSS) are printed, never asserted.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::StatusCode;
use serde_json::value::RawValue;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{add_facility, db_url, Backend};
use swagat_server::store::PortalScope;
use swagat_server::{secrets, DbStore, Limits, Store};
use swagat_sync_protocol::{
    encode, EnrollRequest, EnrollResponse, Envelope, ErrorBody, ErrorCode, Hlc, PullResponse,
    PushRequest, PushResponse, PROTOCOL_HEADER,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use uuid::Uuid;

// ---------------------------------------------------------------------------------------------
// The binary, under a 1,024-file limit.

struct Proc {
    child: tokio::process::Child,
    port: u16,
}

impl Proc {
    /// `swagat-server serve` with RLIMIT_NOFILE 1024 (through util-linux `prlimit`).
    async fn spawn(db: &str, extra: &[&str]) -> Proc {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let listen = format!("127.0.0.1:{port}");
        let child = tokio::process::Command::new("prlimit")
            .args(["--nofile=1024:1024", "--"])
            .arg(env!("CARGO_BIN_EXE_swagat-server"))
            .args(["serve", "--db", db, "--listen", &listen])
            .args(extra)
            .env("RUST_LOG", "error")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("prlimit (util-linux) runs swagat-server");
        let p = Proc { child, port };
        for _ in 0..400 {
            if p.healthz(Duration::from_secs(2)).await.is_ok() {
                return p;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("swagat-server did not start");
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    async fn healthz(&self, timeout: Duration) -> Result<Duration, String> {
        let t = Instant::now();
        let r = reqwest::Client::new()
            .get(format!("{}/healthz", self.url()))
            .timeout(timeout)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if r.status().is_success() {
            Ok(t.elapsed())
        } else {
            Err(r.status().to_string())
        }
    }

    fn pid(&self) -> u32 {
        self.child.id().unwrap()
    }

    /// (VmRSS, VmHWM) of the server in MiB, from /proc.
    fn rss_mib(&self) -> (f64, f64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0)
                / 1024.0
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    fn open_files(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid()))
            .map(|d| d.count())
            .unwrap_or(0)
    }

    fn nofile_limit(&self) -> String {
        std::fs::read_to_string(format!("/proc/{}/limits", self.pid()))
            .unwrap()
            .lines()
            .find(|l| l.starts_with("Max open files"))
            .unwrap_or("")
            .to_string()
    }
}

/// Raises this test process's own open-file limit (soft up to hard) so it can hold its side
/// of the connections; the server keeps its 1,024.
fn raise_own_nofile() {
    let _ = std::process::Command::new("prlimit")
        .args([&format!("--pid={}", std::process::id()), "--nofile=8192:"])
        .status();
}

async fn connect_from(ip: [u8; 4], to: SocketAddr) -> std::io::Result<TcpStream> {
    let s = TcpSocket::new_v4()?;
    s.bind(SocketAddr::from((ip, 0)))?;
    s.connect(to).await
}

/// Whether the server closed `s` (EOF or reset) within `wait`.
async fn closed_within(s: &mut TcpStream, wait: Duration) -> bool {
    let mut buf = [0u8; 256];
    loop {
        match tokio::time::timeout(wait, s.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_open_flood_against_1024_files_healthz_answers_and_they_are_closed() {
    raise_own_nofile();
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("s.db").display());
    let server = Proc::spawn(&db, &[]).await;
    println!("server: {}", server.nofile_limit());
    assert!(server.nofile_limit().contains("1024"));
    let addr: SocketAddr = format!("127.0.0.1:{}", server.port).parse().unwrap();

    // 1,100 connections from another loopback address, each sending a request head that
    // never ends.
    let start = Instant::now();
    let mut conns = Vec::new();
    let mut refused = 0;
    for _ in 0..1100 {
        match connect_from([127, 0, 0, 2], addr).await {
            Ok(mut s) => {
                let _ = s
                    .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                    .await;
                conns.push(s);
            }
            Err(_) => refused += 1,
        }
    }
    println!(
        "opened {} half-open connections ({refused} refused at connect) in {:?}; server holds {} files",
        conns.len(),
        start.elapsed(),
        server.open_files()
    );
    assert!(server.open_files() < 1024);

    // The server still answers others, at once.
    let t = server
        .healthz(Duration::from_secs(10))
        .await
        .expect("/healthz answered during the flood");
    println!("/healthz during the flood: {t:?}");

    // And every half-open connection is closed within a minute.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut still_open = 0;
    for s in &mut conns {
        let left = deadline.saturating_duration_since(Instant::now());
        if !closed_within(s, left.max(Duration::from_millis(1))).await {
            still_open += 1;
        }
    }
    println!(
        "all {} half-open connections closed {:?} after the flood began; {} still open",
        conns.len(),
        start.elapsed(),
        still_open
    );
    assert_eq!(
        still_open, 0,
        "half-open connections left open after a minute"
    );
    let (rss, peak) = server.rss_mib();
    println!("server RSS after the flood: {rss:.1} MiB (peak {peak:.1} MiB)");
    server.healthz(Duration::from_secs(10)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zstd_bombs_before_authentication_are_refused_cheaply() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("s.db").display());
    let server = Proc::spawn(&db, &[]).await;
    let (rss0, _) = server.rss_mib();
    // ≈2 KB of zstd that decodes to 60 MiB of JSON.
    let bomb = encode(&serde_json::json!({ "code": "A".repeat(60 * 1024 * 1024) })).unwrap();
    println!("bomb: {} bytes, decoding to 60 MiB", bomb.len());
    assert!(bomb.len() < 64 * 1024);
    let http = reqwest::Client::new();
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let http = http.clone();
        let bomb = bomb.clone();
        let url = format!("{}/v1/enroll", server.url());
        tasks.push(tokio::spawn(async move {
            let t = Instant::now();
            let r = http
                .post(url)
                .header(PROTOCOL_HEADER, "1")
                .header("content-encoding", "zstd")
                .header("content-type", "application/json")
                .body(bomb)
                .send()
                .await
                .unwrap();
            let status = r.status();
            let body: ErrorBody = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
            (status, body.code, t.elapsed())
        }));
    }
    let mut worst = Duration::ZERO;
    for t in tasks {
        let (status, code, took) = t.await.unwrap();
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(code, ErrorCode::PayloadTooLarge);
        worst = worst.max(took);
    }
    let health = server.healthz(Duration::from_secs(10)).await.unwrap();
    let (rss, peak) = server.rss_mib();
    println!(
        "12 concurrent bombs: slowest answer {worst:?}; /healthz after {health:?}; \
         server RSS {rss0:.1} MiB before, {rss:.1} MiB after, peak {peak:.1} MiB"
    );
}

// ---------------------------------------------------------------------------------------------
// The in-process server with small limits.

struct Srv {
    store: Arc<DbStore>,
    addr: SocketAddr,
    url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Srv {
    async fn start(db: &str, limits: Limits) -> Srv {
        let store = Arc::new(DbStore::open(db).await.unwrap());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(swagat_server::serve_with(
            store.clone(),
            listener,
            limits,
            async {
                let _ = rx.await;
            },
            None,
        ));
        Srv {
            store,
            addr,
            url: format!("http://{addr}"),
            stop: Some(tx),
        }
    }

    /// A facility and an enrolled device: (facility code, device).
    async fn device(&self) -> (String, Dev) {
        let (facility, code) = add_facility(&self.store).await;
        let dev = self.enroll(&code).await;
        (facility, dev)
    }

    async fn enroll(&self, code: &str) -> Dev {
        let r = reqwest::Client::new()
            .post(format!("{}/v1/enroll", self.url))
            .header(PROTOCOL_HEADER, "1")
            .body(
                encode(&EnrollRequest {
                    code: code.into(),
                    device_name: "t".into(),
                    client_secret: None,
                    install_id: None,
                    previous_device_id: None,
                    previous_acked_seq: None,
                })
                .unwrap(),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let e: EnrollResponse = swagat_sync_protocol::decode(&r.bytes().await.unwrap()).unwrap();
        Dev {
            id: e.device_id,
            facility: e.facility_id,
            auth: format!("Bearer {}.{}", e.device_id, e.secret),
            url: self.url.clone(),
            http: reqwest::Client::new(),
        }
    }
}

impl Drop for Srv {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

struct Dev {
    id: Uuid,
    facility: Uuid,
    auth: String,
    url: String,
    http: reqwest::Client,
}

struct Answer {
    status: StatusCode,
    retry_after: Option<u64>,
    body: axum::body::Bytes,
}

impl Answer {
    fn error(&self) -> ErrorBody {
        serde_json::from_slice(&self.body).unwrap()
    }
    fn wire<T: serde::de::DeserializeOwned>(&self) -> T {
        assert!(self.status.is_success(), "{}", self.status);
        swagat_sync_protocol::decode(&self.body).unwrap()
    }
}

async fn answer(r: reqwest::Response) -> Answer {
    Answer {
        status: r.status(),
        retry_after: r
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok()),
        body: r.bytes().await.unwrap(),
    }
}

impl Dev {
    fn envelope(&self, seq: u64, payload: String) -> Envelope {
        Envelope {
            id: Uuid::now_v7(),
            kind: "patient".into(),
            facility: self.facility,
            device: self.id,
            seq,
            hlc: Hlc::new(swagat_server::limits::wall_ms(), 0),
            schema: 1,
            payload: RawValue::from_string(payload).unwrap(),
        }
    }

    async fn push(&self, envelopes: Vec<Envelope>) -> Answer {
        let r = self
            .http
            .post(format!("{}/v1/push", self.url))
            .header(PROTOCOL_HEADER, "1")
            .header("authorization", &self.auth)
            .body(encode(&PushRequest { envelopes }).unwrap())
            .send()
            .await
            .unwrap();
        answer(r).await
    }

    async fn pull(&self, cursor: u64, limit: u32) -> Answer {
        let r = self
            .http
            .get(format!(
                "{}/v1/pull?cursor={cursor}&limit={limit}",
                self.url
            ))
            .header(PROTOCOL_HEADER, "1")
            .header("authorization", &self.auth)
            .send()
            .await
            .unwrap();
        answer(r).await
    }
}

fn sqlite_db(dir: &tempfile::TempDir) -> String {
    db_url(Backend::Sqlite, dir.path()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_in_flight_limit_is_503_with_retry_after_and_healthz_still_answers() {
    let dir = tempfile::tempdir().unwrap();
    let srv = Srv::start(
        &sqlite_db(&dir),
        Limits {
            max_in_flight: 1,
            ..Limits::default()
        },
    )
    .await;
    // One request in flight: its body is still coming.
    let mut slow = TcpStream::connect(srv.addr).await.unwrap();
    slow.write_all(
        b"POST /v1/enroll HTTP/1.1\r\nHost: x\r\nx-swagat-protocol: 1\r\nContent-Length: 1000\r\n\r\n{\"code\":",
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let r = answer(
        reqwest::Client::new()
            .post(format!("{}/v1/enroll", srv.url))
            .header(PROTOCOL_HEADER, "1")
            .body("{\"code\":\"x\"}")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.retry_after.is_some_and(|s| s >= 1));
    let h = reqwest::get(format!("{}/healthz", srv.url)).await.unwrap();
    assert_eq!(h.status(), StatusCode::OK);
    drop(slow);
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The place is free again.
    let r = answer(
        reqwest::Client::new()
            .post(format!("{}/v1/enroll", srv.url))
            .header(PROTOCOL_HEADER, "1")
            .body("{\"code\":\"x\"}")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_address_connection_limit_and_header_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let srv = Srv::start(
        &sqlite_db(&dir),
        Limits {
            max_connections_per_ip: 3,
            header_timeout_secs: 1,
            ..Limits::default()
        },
    )
    .await;
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut s = connect_from([127, 0, 0, 3], srv.addr).await.unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\n").await.unwrap();
        held.push(s);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    // A fourth from the same address is closed at once, unanswered.
    let mut fourth = connect_from([127, 0, 0, 3], srv.addr).await.unwrap();
    let _ = fourth
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), fourth.read_to_end(&mut buf)).await;
    assert!(buf.is_empty(), "over the per-address limit but answered");
    // Another address is served.
    let mut other = connect_from([127, 0, 0, 4], srv.addr).await.unwrap();
    other
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut buf = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), other.read_to_end(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert!(String::from_utf8_lossy(&buf).starts_with("HTTP/1.1 200"));
    // The three whose headers never end are closed by the header timeout (1 s here).
    let t = Instant::now();
    for s in &mut held {
        assert!(closed_within(s, Duration::from_secs(30)).await);
    }
    println!("half-open connections closed after {:?}", t.elapsed());
    // An idle keep-alive connection is closed too.
    let mut idle = TcpStream::connect(srv.addr).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    assert!(closed_within(&mut idle, Duration::from_secs(30)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_over_its_request_rate_gets_429_with_retry_after() {
    let dir = tempfile::tempdir().unwrap();
    let srv = Srv::start(
        &sqlite_db(&dir),
        Limits {
            device_requests_per_minute: 6,
            device_burst: 3,
            ..Limits::default()
        },
    )
    .await;
    let (_, dev) = srv.device().await;
    for _ in 0..3 {
        assert_eq!(dev.pull(0, 10).await.status, StatusCode::OK);
    }
    let r = dev.pull(0, 10).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.error().code, ErrorCode::TooManyRequests);
    let wait = r.retry_after.expect("Retry-After");
    assert!((1..=10).contains(&wait), "{wait}");
    // Pushes count too; another device of the facility is not held back.
    assert_eq!(
        dev.push(vec![dev.envelope(1, "{}".into())]).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    let other = srv
        .enroll(&{
            let (f, _) = add_facility(&srv.store).await;
            let c = secrets::new_enrollment_code();
            srv.store
                .add_enrollment_code(f, secrets::hash_enrollment_code(&c))
                .await
                .unwrap();
            c
        })
        .await;
    assert_eq!(other.pull(0, 10).await.status, StatusCode::OK);
}

async fn store_limits(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(db) = db_url(backend, dir.path()) else {
        return;
    };
    let srv = Srv::start(
        &db,
        Limits {
            device_quota_mib: 1,
            pull_page_mib: 1,
            ..Limits::default()
        },
    )
    .await;
    let (facility, writer) = srv.device().await;
    let big = || format!("{{\"blob\":\"{}\"}}", "x".repeat(60 * 1024));

    // HLC more than a day ahead, and a payload nested too deep: rejected per record.
    let mut ahead = writer.envelope(1, "{}".into());
    ahead.hlc = Hlc::new(swagat_server::limits::wall_ms() + 2 * 86_400_000, 0);
    let deep = writer.envelope(2, format!("{}1{}", "[".repeat(40), "]".repeat(40)));
    let ok = writer.envelope(3, "{\"name\":\"A\"}".into());
    let resp: PushResponse = writer.push(vec![ahead, deep, ok]).await.wire();
    assert_eq!(resp.acked_seq, 3);
    assert_eq!(resp.accepted, 1);
    let codes: Vec<(u64, ErrorCode)> = resp.rejected.iter().map(|r| (r.seq, r.code)).collect();
    assert_eq!(
        codes,
        vec![(1, ErrorCode::ClockAhead), (2, ErrorCode::BadRequest)]
    );
    assert!(resp.rejected[0]
        .reason
        .contains("ahead of the server's clock"));

    // 40 records of 60 KiB: 2.4 MiB, over the 1 MiB quota after the first push.
    let batch: Vec<Envelope> = (4..44).map(|s| writer.envelope(s, big())).collect();
    let resp: PushResponse = writer.push(batch).await.wire();
    assert_eq!((resp.accepted, resp.acked_seq), (40, 43));
    assert!(srv.store.device_usage(writer.id).await.unwrap() > 2 * 1024 * 1024);
    let r = writer.push(vec![writer.envelope(44, "{}".into())]).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.error().code, ErrorCode::TooManyRequests);
    assert!(r.error().message.contains("quota"));
    assert!(r.retry_after.is_some());

    // Another device of the facility pulls them in pages of at most 1 MiB of payload.
    let c = secrets::new_enrollment_code();
    srv.store
        .add_enrollment_code(facility, secrets::hash_enrollment_code(&c))
        .await
        .unwrap();
    let reader = srv.enroll(&c).await;
    let mut cursor = 0;
    let mut got = 0;
    let mut pages = 0;
    loop {
        let page: PullResponse = reader.pull(cursor, 5000).await.wire();
        let bytes: usize = page.records.iter().map(|e| e.payload.get().len()).sum();
        assert!(
            page.records.len() <= 1 || bytes <= 1024 * 1024,
            "page of {bytes} bytes"
        );
        got += page
            .records
            .iter()
            .filter(|e| e.device == writer.id)
            .count();
        cursor = page.cursor;
        pages += 1;
        if !page.more {
            break;
        }
    }
    assert_eq!(got, 41);
    assert!(pages >= 3, "{pages} pages");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quota_pull_bytes_clock_and_depth_sqlite() {
    store_limits(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quota_pull_bytes_clock_and_depth_postgres() {
    store_limits(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enroll_bodies_over_the_preauth_cap_are_413() {
    let dir = tempfile::tempdir().unwrap();
    let srv = Srv::start(&sqlite_db(&dir), Limits::default()).await;
    let big = format!("{{\"code\":\"{}\"}}", "A".repeat(70 * 1024));
    let r = answer(
        reqwest::Client::new()
            .post(format!("{}/v1/enroll", srv.url))
            .header(PROTOCOL_HEADER, "1")
            .body(big)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(r.error().code, ErrorCode::PayloadTooLarge);
}

async fn portal_scope_and_rate(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(db) = db_url(backend, dir.path()) else {
        return;
    };
    let srv = Srv::start(
        &db,
        Limits {
            portal_requests_per_minute: 6,
            portal_burst: 4,
            ..Limits::default()
        },
    )
    .await;
    let (mine, _) = add_facility(&srv.store).await;
    let (theirs, _) = add_facility(&srv.store).await;
    let secret = secrets::new_device_secret();
    let id = srv
        .store
        .add_portal(
            "Scoped".into(),
            secrets::hash_secret(&secret),
            PortalScope {
                facilities: vec![mine.clone()],
                districts: vec![],
            },
        )
        .await
        .unwrap();
    let token = format!("{id}.{secret}");
    let post = |facility: String, reference: &str| {
        let body = serde_json::json!({
            "facility": facility,
            "reference": reference,
            "patient": { "name": "Sita Devi", "gender": "F", "age": 50, "mobile": "9876543210" },
            "date": time::OffsetDateTime::now_utc().date().next_day().unwrap().to_string(),
            "shift": 1
        });
        reqwest::Client::new()
            .post(format!("{}/api/v1/dialysis/requests", srv.url))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let r = post(mine.clone(), "R1").await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = post(theirs.clone(), "R2").await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["code"], "forbidden");
    // A district scope covers the district's facilities (the test facilities are in 162).
    let secret2 = secrets::new_device_secret();
    let id2 = srv
        .store
        .add_portal(
            "District".into(),
            secrets::hash_secret(&secret2),
            PortalScope {
                facilities: vec![],
                districts: vec![162],
            },
        )
        .await
        .unwrap();
    let r = reqwest::Client::new()
        .get(format!(
            "{}/api/v1/dialysis/requests/{}",
            srv.url,
            Uuid::now_v7()
        ))
        .bearer_auth(format!("{id2}.{secret2}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // The first portal has used 2 of its burst of 4; the fifth request is over its rate.
    assert_eq!(
        post(mine.clone(), "R3").await.unwrap().status(),
        StatusCode::CREATED
    );
    assert_eq!(
        post(mine.clone(), "R4").await.unwrap().status(),
        StatusCode::CREATED
    );
    let r = post(mine.clone(), "R5").await.unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().get("retry-after").is_some());
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["code"], "too_many_requests");
    // The rate is per portal: the district portal still posts.
    let body = serde_json::json!({
        "facility": theirs,
        "reference": "D1",
        "patient": { "name": "Ram Lal", "gender": "M", "age": 60, "mobile": "9876543211" },
        "date": time::OffsetDateTime::now_utc().date().next_day().unwrap().to_string(),
        "shift": 2
    });
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/dialysis/requests", srv.url))
        .bearer_auth(format!("{id2}.{secret2}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn portal_scope_and_rate_sqlite() {
    portal_scope_and_rate(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn portal_scope_and_rate_postgres() {
    portal_scope_and_rate(Backend::Postgres).await;
}
