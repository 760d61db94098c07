//! Shared parts of the end-to-end tests: backends, an in-process server, kiosks on real SQLite
//! files, a fault-injecting HTTP proxy, and the "exactly the kiosk's records" check.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

pub mod gateway;
pub mod proxy;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use swagat_server::store::NewFacility;
use swagat_server::{secrets, DbStore, Store};
use swagat_sync_client::http::ServerClient;
use swagat_sync_client::testkit::{sample_records, SqliteKioskStore};
use swagat_sync_client::{enroll, EngineConfig, KioskStore, SyncEngine};
use swagat_sync_protocol::Envelope;
use uuid::Uuid;

/// Which backend a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The PostgreSQL URL for tests: `SWAGAT_TEST_PG_URL`. Without it the test fails in CI and is
/// skipped (with a notice) elsewhere.
pub fn pg_url() -> Option<String> {
    match std::env::var("SWAGAT_TEST_PG_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            if std::env::var_os("CI").is_some() {
                panic!("SWAGAT_TEST_PG_URL is not set: in CI the PostgreSQL tests must run (see sync/scripts/start-test-postgres.sh)");
            }
            eprintln!("NOTICE: SWAGAT_TEST_PG_URL not set; skipping PostgreSQL test");
            None
        }
    }
}

/// A database URL for `backend` (a fresh SQLite file under `dir`), or None to skip.
pub fn db_url(backend: Backend, dir: &Path) -> Option<String> {
    match backend {
        Backend::Sqlite => Some(format!("sqlite:{}", dir.join("server.db").display())),
        Backend::Postgres => pg_url(),
    }
}

/// A server running in-process on loopback.
pub struct TestServer {
    pub store: Arc<DbStore>,
    pub addr: std::net::SocketAddr,
    pub url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl TestServer {
    pub async fn start(db: &str) -> TestServer {
        let store = Arc::new(DbStore::open(db).await.unwrap());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let s = store.clone();
        let task = tokio::spawn(async move {
            swagat_server::serve(s, listener, async {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        TestServer {
            store,
            addr,
            url: format!("http://{addr}"),
            stop: Some(tx),
            task: Some(task),
        }
    }

    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }

    /// Creates a facility with a unique code; returns (code, enrollment code).
    pub async fn facility(&self) -> (String, String) {
        add_facility(&self.store).await
    }

    /// Another enrollment code for `facility`.
    pub async fn code(&self, facility: &str) -> String {
        let c = secrets::new_enrollment_code();
        self.store
            .add_enrollment_code(facility.to_string(), secrets::hash_enrollment_code(&c))
            .await
            .unwrap();
        c
    }
}

pub async fn add_facility(store: &DbStore) -> (String, String) {
    let code = format!("T{}", Uuid::now_v7().simple());
    let enrollment = secrets::new_enrollment_code();
    store
        .add_facility(
            NewFacility {
                code: code.clone(),
                name: "Test PHC".into(),
                hfr_id: Some("IN0910000001".into()),
                state_lgd: Some(9),
                district_lgd: Some(162),
            },
            secrets::hash_enrollment_code(&enrollment),
        )
        .await
        .unwrap();
    (code, enrollment)
}

/// Engine settings that retry quickly (tests must be fast).
pub fn fast_config() -> EngineConfig {
    EngineConfig {
        batch_size: 100,
        pull_limit: 500,
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(5),
        backoff_base: Duration::from_millis(20),
        backoff_cap: Duration::from_millis(200),
        probe_interval: Duration::from_millis(50),
        idle_deadline: Duration::from_secs(90),
        poll_interval: Duration::from_secs(60),
        device_name: "test-kiosk".into(),
        ..EngineConfig::default()
    }
}

/// A kiosk: a real SQLite store file and an engine.
pub struct Kiosk {
    pub store: Arc<SqliteKioskStore>,
    pub engine: SyncEngine<SqliteKioskStore>,
}

impl Kiosk {
    pub fn open(path: &Path, config: EngineConfig) -> Kiosk {
        let store = Arc::new(SqliteKioskStore::open(path).unwrap());
        let engine = SyncEngine::new(store.clone(), config);
        Kiosk { store, engine }
    }

    pub async fn enroll(&self, url: &str, code: &str) {
        enroll(self.store.clone(), url, code, &fast_config())
            .await
            .unwrap();
    }

    /// Writes `patients` patients and `visits` visits, plus `updates` updates of visits.
    pub fn write_sample(&self, patients: usize, visits: usize, updates: usize, seed: u64) {
        let records = sample_records(patients, visits, seed);
        for chunk in records.chunks(500) {
            self.store.write_records(chunk).unwrap();
        }
        let visit_ids: Vec<Uuid> = records
            .iter()
            .filter(|r| r.0 == "visit")
            .map(|r| r.1)
            .collect();
        let ups: Vec<(String, Uuid, String)> = visit_ids
            .iter()
            .take(updates)
            .enumerate()
            .map(|(i, id)| {
                (
                    "visit".to_string(),
                    *id,
                    format!("{{\"status\":\"seen\",\"n\":{i}}}"),
                )
            })
            .collect();
        if !ups.is_empty() {
            self.store.write_records(&ups).unwrap();
        }
    }
}

/// Every change the server has for the facility, as seen by another device of it (pulled
/// directly, page by page, so duplicates would show).
pub async fn pull_all(url: &str, observer: &SqliteKioskStore) -> Vec<Envelope> {
    let creds = observer.load_credentials().unwrap().unwrap();
    let client = ServerClient::new(url, &fast_config())
        .unwrap()
        .with_device(creds.device_id, &creds.secret)
        .unwrap();
    let mut cursor = 0;
    let mut all = Vec::new();
    loop {
        let page = client.pull(cursor, 5000).await.unwrap();
        let n = page.records.len();
        all.extend(page.records);
        cursor = page.cursor;
        if !page.more || n == 0 {
            break;
        }
    }
    all
}

/// Asserts the server holds exactly the kiosk's outbox: every sequence once, nothing else,
/// payloads identical; and that `stats --facility` counts the distinct records.
pub async fn assert_server_has_exactly(
    server_url: &str,
    store: &DbStore,
    facility: &str,
    kiosk: &SqliteKioskStore,
    observer: &SqliteKioskStore,
) {
    let creds = kiosk.load_credentials().unwrap().unwrap();
    let outbox = kiosk.pending(0, usize::MAX).unwrap();
    let changes: Vec<Envelope> = pull_all(server_url, observer)
        .await
        .into_iter()
        .filter(|e| e.device == creds.device_id)
        .collect();
    let mut by_seq: HashMap<u64, &Envelope> = HashMap::new();
    for e in &changes {
        assert!(
            by_seq.insert(e.seq, e).is_none(),
            "seq {} stored twice",
            e.seq
        );
    }
    assert_eq!(
        changes.len(),
        outbox.len(),
        "server has {} changes, kiosk wrote {}",
        changes.len(),
        outbox.len()
    );
    for o in &outbox {
        let e = by_seq
            .get(&o.seq)
            .unwrap_or_else(|| panic!("seq {} lost", o.seq));
        assert_eq!(e.id, o.record_id);
        assert_eq!(e.kind, o.kind);
        assert_eq!(e.hlc, o.hlc);
        assert_eq!(e.payload.get(), o.payload.get());
    }
    let stats = store.stats(Some(facility.to_string())).await.unwrap();
    let ids = kiosk.outbox_ids().unwrap();
    let patients = ids.iter().filter(|(_, k)| k == "patient").count() as u64;
    let visits = ids.iter().filter(|(_, k)| k == "visit").count() as u64;
    assert_eq!(stats["patients"], patients);
    assert_eq!(stats["visits"], visits);
    let counts = kiosk.counts().unwrap();
    assert_eq!(counts.pending, 0);
    assert_eq!(counts.acked_seq, counts.last_seq);
}
