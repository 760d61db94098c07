//! End-to-end sync tests with real parts: kiosks on SQLite files, the real server on loopback
//! (in-process or as the `swagat-server` binary), both storage backends, a fault-injecting
//! proxy, and kill -9 of the kiosk and of the server. In every case the server must end with
//! exactly the kiosk's records: none lost, none duplicated.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;
use std::time::Duration;
use support::proxy::{sometimes, Fault, FaultProxy};
use support::*;
use swagat_server::Store;
use swagat_sync_client::testkit::SqliteKioskStore;
use swagat_sync_client::{KioskStore, SyncEngine, SyncError};
use swagat_sync_protocol::ErrorCode;
use uuid::Uuid;

async fn fault_scenario(backend: Backend, fault: Fault, percent: u64) {
    let dir = tempfile::tempdir().unwrap();
    let Some(db) = db_url(backend, dir.path()) else {
        return;
    };
    let server = TestServer::start(&db).await;
    let (facility, code) = server.facility().await;
    let proxy = FaultProxy::start(server.addr, sometimes(percent, fault)).await;

    let mut cfg = fast_config();
    if let Fault::Slow(d) = fault {
        // Some slow answers arrive after the kiosk stopped waiting.
        cfg.request_timeout = d.mul_f32(0.75).max(Duration::from_millis(100));
    }
    let kiosk = Kiosk::open(&dir.path().join("kiosk.db"), cfg);
    kiosk.enroll(&proxy.url, &code).await;
    kiosk.write_sample(600, 600, 100, 1);
    let first = kiosk.engine.until_idle().await.unwrap();
    assert_eq!(first.pending, 0);
    assert_eq!(first.dead_letters, 0);
    // More local writes after a first sync, still through the faulty link.
    kiosk.write_sample(50, 50, 0, 2);
    let second = kiosk.engine.until_idle().await.unwrap();
    assert_eq!(second.pending, 0);
    assert!(
        proxy.faults.load(std::sync::atomic::Ordering::SeqCst) > 0,
        "no fault injected"
    );

    let observer = Kiosk::open(&dir.path().join("observer.db"), fast_config());
    observer
        .enroll(&server.url, &server.code(&facility).await)
        .await;
    assert_server_has_exactly(
        &server.url,
        &server.store,
        &facility,
        &kiosk.store,
        &observer.store,
    )
    .await;
    // The observer's own pull sees the kiosk's records (and the facility configuration).
    let rep = observer.engine.until_idle().await.unwrap();
    assert!(rep.pulled >= 1300 + 100);
    assert_eq!(observer.store.inbox_count("patient").unwrap(), 650);
    assert_eq!(observer.store.inbox_count("visit").unwrap(), 650);
    assert_eq!(observer.store.inbox_count("facility_config").unwrap(), 1);
    server.stop().await;
}

macro_rules! fault_tests {
    ($($name:ident: $fault:expr, $percent:expr;)*) => {
        mod sqlite_faults {
            use super::*;
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { fault_scenario(Backend::Sqlite, $fault, $percent).await })*
        }
        mod postgres_faults {
            use super::*;
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { fault_scenario(Backend::Postgres, $fault, $percent).await })*
        }
    };
}

fault_tests! {
    drop_before_forward: Fault::DropBeforeForward, 30;
    drop_after_commit: Fault::DropAfterResponse, 30;
    server_error_5xx: Fault::Error503, 30;
    slow_answers: Fault::Slow(Duration::from_millis(400)), 25;
    truncated_body: Fault::Truncate, 30;
}

/// Child-process entry point for `kiosk_killed_mid_push`: runs a kiosk until idle (the parent
/// kills it with SIGKILL long before). Does nothing in a normal test run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kiosk_child() {
    let Ok(path) = std::env::var("SWAGAT_KIOSK_CHILD_DB") else {
        return;
    };
    let mut cfg = fast_config();
    cfg.batch_size = 50;
    let kiosk = Kiosk::open(std::path::Path::new(&path), cfg);
    let _ = kiosk.engine.until_idle().await;
}

async fn kiosk_killed_mid_push(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(db) = db_url(backend, dir.path()) else {
        return;
    };
    let server = TestServer::start(&db).await;
    let (facility, code) = server.facility().await;
    // Slow link so that pushes are in flight when the kiosk dies.
    let proxy = FaultProxy::start(
        server.addr,
        Arc::new(|_, _| Fault::Slow(Duration::from_millis(120))),
    )
    .await;
    let kiosk_path = dir.path().join("kiosk.db");
    let kiosk = Kiosk::open(&kiosk_path, fast_config());
    kiosk.enroll(&proxy.url, &code).await;
    kiosk.write_sample(1500, 1500, 0, 3);
    let creds = kiosk.store.load_credentials().unwrap().unwrap();
    let total = kiosk.store.counts().unwrap().last_seq;

    for round in 0..2 {
        let mut child = tokio::process::Command::new(std::env::current_exe().unwrap())
            .args(["kiosk_child", "--exact", "--nocapture", "--test-threads=1"])
            .env("SWAGAT_KIOSK_CHILD_DB", &kiosk_path)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Wait until the child has pushed something in this round, then SIGKILL it.
        let before = server
            .store
            .push_state(creds.device_id, 0)
            .await
            .unwrap()
            .acked_seq;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let now = server
                .store
                .push_state(creds.device_id, 0)
                .await
                .unwrap()
                .acked_seq;
            if now > before || tokio::time::Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::sleep(Duration::from_millis(150 + 100 * round)).await;
        child.start_kill().unwrap(); // SIGKILL
        let _ = child.wait().await;
        let acked = server
            .store
            .push_state(creds.device_id, 0)
            .await
            .unwrap()
            .acked_seq;
        assert!(
            acked > 0 && acked < total,
            "kill did not land mid-push (acked {acked} of {total})"
        );
    }
    // The restarted kiosk resumes from the server's acknowledgement, whatever it remembered.
    proxy
        .enabled
        .store(false, std::sync::atomic::Ordering::SeqCst);
    let kiosk = Kiosk::open(&kiosk_path, fast_config());
    let report = kiosk.engine.until_idle().await.unwrap();
    assert_eq!(report.pending, 0);
    let observer = Kiosk::open(&dir.path().join("observer.db"), fast_config());
    observer
        .enroll(&server.url, &server.code(&facility).await)
        .await;
    assert_server_has_exactly(
        &server.url,
        &server.store,
        &facility,
        &kiosk.store,
        &observer.store,
    )
    .await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kiosk_killed_mid_push_sqlite() {
    kiosk_killed_mid_push(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kiosk_killed_mid_push_postgres() {
    kiosk_killed_mid_push(Backend::Postgres).await
}

struct ServerProcess {
    child: tokio::process::Child,
}

impl ServerProcess {
    async fn spawn(db: &str, port: u16) -> ServerProcess {
        let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_swagat-server"))
            .args([
                "serve",
                "--db",
                db,
                "--listen",
                &format!("127.0.0.1:{port}"),
            ])
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let url = format!("http://127.0.0.1:{port}/healthz");
        let http = reqwest::Client::new();
        for _ in 0..200 {
            if http
                .get(&url)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return ServerProcess { child };
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("swagat-server did not start");
    }

    async fn kill9(mut self) {
        self.child.start_kill().unwrap(); // SIGKILL
        let _ = self.child.wait().await;
    }
}

async fn server_killed_mid_batch(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(db) = db_url(backend, dir.path()) else {
        return;
    };
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}");
    let mut proc = ServerProcess::spawn(&db, port).await;
    let admin = swagat_server::DbStore::open(&db).await.unwrap();
    let (facility, code) = add_facility(&admin).await;

    let mut cfg = fast_config();
    cfg.batch_size = 500;
    let kiosk = Arc::new(Kiosk::open(&dir.path().join("kiosk.db"), cfg));
    kiosk.enroll(&url, &code).await;
    kiosk.write_sample(6000, 6000, 500, 4);
    let k = kiosk.clone();
    let sync = tokio::spawn(async move { k.engine.until_idle().await });

    for _ in 0..2 {
        let start = kiosk.store.counts().unwrap().acked_seq;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while kiosk.store.counts().unwrap().acked_seq == start
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // The next batch is now on its way or being written: kill the server mid-batch.
        tokio::time::sleep(Duration::from_millis(15)).await;
        proc.kill9().await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        proc = ServerProcess::spawn(&db, port).await;
    }
    let report = sync.await.unwrap().unwrap();
    assert_eq!(report.pending, 0);
    let observer = Kiosk::open(&dir.path().join("observer.db"), fast_config());
    let code2 = swagat_server::secrets::new_enrollment_code();
    admin
        .add_enrollment_code(
            facility.clone(),
            swagat_server::secrets::hash_enrollment_code(&code2),
        )
        .await
        .unwrap();
    observer.enroll(&url, &code2).await;
    assert_server_has_exactly(&url, &admin, &facility, &kiosk.store, &observer.store).await;
    proc.kill9().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_killed_mid_batch_sqlite() {
    server_killed_mid_batch(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_killed_mid_batch_postgres() {
    server_killed_mid_batch(Backend::Postgres).await
}

async fn rejections_are_dead_lettered(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(db) = db_url(backend, dir.path()) else {
        return;
    };
    let server = TestServer::start(&db).await;
    let (facility, code) = server.facility().await;
    let a = Kiosk::open(&dir.path().join("a.db"), fast_config());
    a.enroll(&server.url, &code).await;
    let b = Kiosk::open(&dir.path().join("b.db"), fast_config());
    b.enroll(&server.url, &server.code(&facility).await).await;

    let shared = Uuid::now_v7();
    a.store
        .write_record("patient", shared, r#"{"name":"A"}"#)
        .unwrap();
    a.engine.until_idle().await.unwrap();
    // B writes a new version of A's record (allowed: the facility owns it), a record with an
    // invalid kind, then good records. Copy B's database first: a kiosk that will crash
    // before it records the server's rejections.
    let crashed = dir.path().join("c.db");
    b.store
        .write_record("patient", Uuid::now_v7(), r#"{"name":"ok1"}"#)
        .unwrap();
    b.store
        .write_record("patient", shared, r#"{"name":"B"}"#)
        .unwrap();
    b.store
        .write_record("Bad Kind", Uuid::now_v7(), r#"{}"#)
        .unwrap();
    b.store
        .write_record("visit", Uuid::now_v7(), r#"{"token":1}"#)
        .unwrap();
    b.store.backup_to(&crashed).unwrap();
    let report = b.engine.until_idle().await.unwrap();
    assert_eq!(report.pending, 0);
    assert_eq!(report.dead_letters, 1);
    let letters = b.store.dead_letters().unwrap();
    assert_eq!(letters.len(), 1);
    assert_eq!(
        (letters[0].seq, letters[0].code),
        (3, ErrorCode::InvalidKind)
    );
    let stats = server.store.stats(Some(facility.clone())).await.unwrap();
    assert_eq!(stats["patients"], 2);
    assert_eq!(stats["visits"], 1);
    // A pulls B's records, including B's version of the shared one.
    let pulled = a.engine.until_idle().await.unwrap();
    assert_eq!(pulled.pulled, 3);

    // A kiosk that lost its dead-letter list (crash) gets the rejections again from the server.
    let c = Kiosk::open(&crashed, fast_config());
    let r = c.engine.until_idle().await.unwrap();
    assert_eq!((r.pending, r.dead_letters, r.restored), (0, 1, 0));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejections_are_dead_lettered_sqlite() {
    rejections_are_dead_lettered(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejections_are_dead_lettered_postgres() {
    rejections_are_dead_lettered(Backend::Postgres).await
}

async fn enrollment_and_revocation(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(db) = db_url(backend, dir.path()) else {
        return;
    };
    let server = TestServer::start(&db).await;
    let (_facility, code) = server.facility().await;
    let a = Kiosk::open(&dir.path().join("a.db"), fast_config());
    // Not enrolled yet: a clear error, and records are still written locally.
    a.store
        .write_record("patient", Uuid::now_v7(), r#"{"n":1}"#)
        .unwrap();
    assert_eq!(a.engine.sync_once().await, Err(SyncError::NotEnrolled));
    a.enroll(&server.url, &code).await;
    // The code is single-use.
    let b = Arc::new(SqliteKioskStore::open(&dir.path().join("b.db")).unwrap());
    let again = swagat_sync_client::enroll(b.clone(), &server.url, &code, &fast_config()).await;
    assert_eq!(again, Err(SyncError::InvalidEnrollmentCode));
    assert_eq!(a.engine.sync_once().await.unwrap().pushed, 1);
    // A wrong secret is refused.
    let mut forged = a.store.load_credentials().unwrap().unwrap();
    forged.secret = "00".repeat(32);
    b.save_credentials(&forged).unwrap();
    let eb = SyncEngine::new(b.clone(), fast_config());
    assert_eq!(eb.sync_once().await, Err(SyncError::Unauthorized));
    // Revoked: refused, not retried, records stay pending.
    let device = a.store.load_credentials().unwrap().unwrap().device_id;
    assert!(server.store.revoke_device(device).await.unwrap());
    a.store
        .write_record("patient", Uuid::now_v7(), r#"{"n":2}"#)
        .unwrap();
    assert_eq!(a.engine.until_idle().await, Err(SyncError::Revoked));
    assert_eq!(a.store.counts().unwrap().pending, 1);
    let status = a.engine.status().borrow().clone();
    assert!(status.last_error.is_some());
    assert_eq!(status.pending, 1);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrollment_and_revocation_sqlite() {
    enrollment_and_revocation(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrollment_and_revocation_postgres() {
    enrollment_and_revocation(Backend::Postgres).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_then_back_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_url(Backend::Sqlite, dir.path()).unwrap();
    let server = TestServer::start(&db).await;
    let (facility, code) = server.facility().await;
    // The kiosk talks to a fixed proxy port; the proxy is down for a while.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let proxy = FaultProxy::start_on(
        &format!("127.0.0.1:{port}"),
        server.addr,
        sometimes(0, Fault::Pass),
    )
    .await;
    let kiosk = Arc::new(Kiosk::open(&dir.path().join("k.db"), fast_config()));
    kiosk.enroll(&proxy.url, &code).await;
    drop(proxy);
    tokio::time::sleep(Duration::from_millis(50)).await;
    kiosk.write_sample(100, 100, 0, 5);
    assert!(matches!(
        kiosk.engine.sync_once().await,
        Err(SyncError::Offline(_))
    ));
    let st = kiosk.engine.status().borrow().clone();
    assert!(!st.online);
    assert_eq!(st.pending, 200);
    let k = kiosk.clone();
    let sync = tokio::spawn(async move { k.engine.until_idle().await });
    tokio::time::sleep(Duration::from_millis(400)).await;
    let _proxy = FaultProxy::start_on(
        &format!("127.0.0.1:{port}"),
        server.addr,
        sometimes(0, Fault::Pass),
    )
    .await;
    let report = tokio::time::timeout(Duration::from_secs(10), sync)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(report.pushed, 200);
    let st = kiosk.engine.status().borrow().clone();
    assert!(st.online && st.last_error.is_none() && st.last_sync_at_ms.is_some());
    let observer = Kiosk::open(&dir.path().join("o.db"), fast_config());
    observer
        .enroll(&server.url, &server.code(&facility).await)
        .await;
    assert_server_has_exactly(
        &server.url,
        &server.store,
        &facility,
        &kiosk.store,
        &observer.store,
    )
    .await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_openapi_and_protocol_version() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&db_url(Backend::Sqlite, dir.path()).unwrap()).await;
    let http = reqwest::Client::new();
    let h = http
        .get(format!("{}/healthz", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(h.status(), 200);
    let body: serde_json::Value = h.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["backend"], "sqlite");
    let o: serde_json::Value = http
        .get(format!("{}/openapi.json", server.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(o["openapi"], "3.1.0");
    assert!(o["paths"]["/v1/push"].is_object());
    assert!(o["paths"]["/v1/push/digests"]["get"].is_object());
    assert!(o["components"]["schemas"]["EnrollRequest"]["properties"]["client_secret"].is_object());
    assert!(o["paths"]["/api/v1/dialysis/requests"]["post"].is_object());
    assert!(o["paths"]["/api/v1/dialysis/requests/{id}"]["get"].is_object());
    let r = http
        .get(format!("{}/v1/pull", server.url))
        .header("x-swagat-protocol", "99")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let e: serde_json::Value = r.json().await.unwrap();
    assert_eq!(e["code"], "protocol_version");
    let r = http
        .get(format!("{}/v1/pull", server.url))
        .header("x-swagat-protocol", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn background_loop_syncs_on_notify_and_stops_on_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&db_url(Backend::Sqlite, dir.path()).unwrap()).await;
    let (_facility, code) = server.facility().await;
    let kiosk = Arc::new(Kiosk::open(&dir.path().join("k.db"), fast_config()));
    kiosk.enroll(&server.url, &code).await;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let k = kiosk.clone();
    let task = tokio::spawn(async move {
        k.engine
            .run(async {
                let _ = stop_rx.await;
            })
            .await
    });
    let mut status = kiosk.engine.status();
    for round in 1..=3u64 {
        kiosk
            .store
            .write_record("patient", Uuid::now_v7(), r#"{"n":1}"#)
            .unwrap();
        kiosk.engine.notify();
        tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                if kiosk.store.counts().unwrap().acked_seq == round {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await
        .unwrap();
    }
    status.changed().await.ok();
    assert!(status.borrow().online);
    stop_tx.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap();
    server.stop().await;
}

async fn server_published_records_are_pulled(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(db) = db_url(backend, dir.path()) else {
        return;
    };
    let server = TestServer::start(&db).await;
    let (facility, code) = server.facility().await;
    let kiosk = Kiosk::open(&dir.path().join("k.db"), fast_config());
    kiosk.enroll(&server.url, &code).await;
    let id = server
        .store
        .publish(
            facility.clone(),
            "master_department".into(),
            None,
            r#"{"name":"General OPD"}"#.into(),
        )
        .await
        .unwrap();
    let r = kiosk.engine.until_idle().await.unwrap();
    assert_eq!(r.pulled, 2); // facility_config + the master
    assert_eq!(kiosk.store.inbox_count("master_department").unwrap(), 1);
    // The server updates the master: the kiosk pulls the new version only.
    server
        .store
        .publish(
            facility.clone(),
            "master_department".into(),
            Some(id),
            r#"{"name":"OPD"}"#.into(),
        )
        .await
        .unwrap();
    assert_eq!(kiosk.engine.until_idle().await.unwrap().pulled, 1);
    assert_eq!(kiosk.store.inbox_count("master_department").unwrap(), 1);
    // Server-owned records cannot be overwritten by a kiosk: dead-lettered as not_owner.
    kiosk
        .store
        .write_record("master_department", id, r#"{"name":"x"}"#)
        .unwrap();
    let r = kiosk.engine.until_idle().await.unwrap();
    assert_eq!((r.pending, r.dead_letters), (0, 1));
    assert_eq!(
        kiosk.store.dead_letters().unwrap()[0].code,
        ErrorCode::NotOwner
    );
    // And the server cannot take over a kiosk's record.
    let own = Uuid::now_v7();
    kiosk.store.write_record("patient", own, "{}").unwrap();
    kiosk.engine.until_idle().await.unwrap();
    assert!(server
        .store
        .publish(facility, "patient".into(), Some(own), "{}".into())
        .await
        .is_err());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_published_records_are_pulled_sqlite() {
    server_published_records_are_pulled(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_published_records_are_pulled_postgres() {
    server_published_records_are_pulled(Backend::Postgres).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_records_are_split_into_smaller_batches() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&db_url(Backend::Sqlite, dir.path()).unwrap()).await;
    let (facility, code) = server.facility().await;
    let mut cfg = fast_config();
    cfg.max_batch_bytes = 50_000;
    let kiosk = Kiosk::open(&dir.path().join("k.db"), cfg);
    kiosk.enroll(&server.url, &code).await;
    let big = format!("{{\"note\":\"{}\"}}", "x".repeat(30_000));
    for _ in 0..6 {
        kiosk
            .store
            .write_record("visit", Uuid::now_v7(), &big)
            .unwrap();
    }
    // One record over the protocol's 64 KiB limit: dead-lettered, the rest still arrives.
    let huge = format!("{{\"note\":\"{}\"}}", "y".repeat(70_000));
    kiosk
        .store
        .write_record("visit", Uuid::now_v7(), &huge)
        .unwrap();
    kiosk
        .store
        .write_record("patient", Uuid::now_v7(), "{}")
        .unwrap();
    let r = kiosk.engine.until_idle().await.unwrap();
    assert_eq!((r.pushed, r.pending, r.dead_letters), (8, 0, 1));
    assert_eq!(
        kiosk.store.dead_letters().unwrap()[0].code,
        ErrorCode::PayloadTooLarge
    );
    let stats = server.store.stats(Some(facility)).await.unwrap();
    assert_eq!((stats["visits"], stats["patients"]), (6, 1));
    server.stop().await;
}
