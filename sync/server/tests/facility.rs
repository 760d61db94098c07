//! One facility, many counters (issue 10), over the real server on loopback and kiosks on real
//! SQLite files, on both backends: server-only kinds refused, any counter may write a version
//! of a facility record (latest state by HLC), sequence conflicts, restore from a backup copy,
//! a cloned disk, idempotent enrollment over a link that drops the answer, version 1
//! enrollment unchanged, code expiry, the wrong-code throttle, re-enrollment and the keys.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::value::RawValue;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use support::proxy::{Fault, FaultProxy};
use support::*;
use swagat_server::{secrets, Store};
use swagat_sync_client::http::ServerClient;
use swagat_sync_client::testkit::SqliteKioskStore;
use swagat_sync_client::{KioskStore, SyncError};
use swagat_sync_protocol::{kinds, Envelope, ErrorCode, Hlc, PushRequest};
use uuid::Uuid;

/// A raw client speaking as `kiosk`'s device (no engine in between).
fn raw(url: &str, kiosk: &SqliteKioskStore) -> ServerClient {
    let c = kiosk.load_credentials().unwrap().unwrap();
    let mut client = ServerClient::new(url, &fast_config())
        .unwrap()
        .with_device(c.device_id, &c.secret)
        .unwrap();
    if let Some(i) = c.install_id {
        client = client.with_install(i);
    }
    client
}

fn envelope(kiosk: &SqliteKioskStore, seq: u64, kind: &str, id: Uuid, payload: &str) -> Envelope {
    let c = kiosk.load_credentials().unwrap().unwrap();
    Envelope {
        id,
        kind: kind.into(),
        facility: c.facility_id,
        device: c.device_id,
        seq,
        hlc: Hlc::new(1_760_000_000_000 + seq, 0),
        schema: 1,
        payload: RawValue::from_string(payload.into()).unwrap(),
    }
}

async fn open_backend(backend: Backend, dir: &std::path::Path) -> Option<TestServer> {
    let db = db_url(backend, dir)?;
    Some(TestServer::start(&db).await)
}

async fn server_only_kinds_are_refused(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(server) = open_backend(backend, dir.path()).await else {
        return;
    };
    let (facility, code) = server.facility().await;
    let thief = Kiosk::open(&dir.path().join("thief.db"), fast_config());
    thief.enroll(&server.url, &code).await;
    let victim = Kiosk::open(&dir.path().join("victim.db"), fast_config());
    victim
        .enroll(&server.url, &server.code(&facility).await)
        .await;
    victim.engine.until_idle().await.unwrap();
    let before = victim.store.inbox_count(kinds::FACILITY_CONFIG).unwrap();

    // A stolen credential pushes every server-only kind, raw.
    let client = raw(&server.url, &thief.store);
    let envelopes: Vec<Envelope> = kinds::SERVER_ONLY_KINDS
        .iter()
        .enumerate()
        .map(|(i, k)| {
            envelope(
                &thief.store,
                i as u64 + 1,
                k,
                Uuid::now_v7(),
                r#"{"name":"Forged","departments":[{"code":"GEN","fee_rupees":950}]}"#,
            )
        })
        .collect();
    let resp = client.push(&PushRequest { envelopes }).await.unwrap();
    assert_eq!(resp.accepted, 0);
    assert_eq!(resp.rejected.len(), kinds::SERVER_ONLY_KINDS.len());
    assert!(resp
        .rejected
        .iter()
        .all(|r| r.code == ErrorCode::ForbiddenKind));
    assert_eq!(resp.acked_seq, kinds::SERVER_ONLY_KINDS.len() as u64);

    // Through the engine too: dead-lettered on the kiosk, with the code.
    let thief2 = Kiosk::open(&dir.path().join("thief2.db"), fast_config());
    thief2
        .enroll(&server.url, &server.code(&facility).await)
        .await;
    thief2
        .store
        .write_record(kinds::DIALYSIS_REQUEST, Uuid::now_v7(), r#"{"ghost":1}"#)
        .unwrap();
    let r = thief2.engine.until_idle().await.unwrap();
    assert_eq!((r.pending, r.dead_letters), (0, 1));
    assert_eq!(
        thief2.store.dead_letters().unwrap()[0].code,
        ErrorCode::ForbiddenKind
    );

    // Nothing reached any other kiosk: only the server's own facility configuration.
    let all = pull_all(&server.url, &victim.store).await;
    for e in &all {
        if kinds::is_server_only(&e.kind) {
            assert_eq!(
                e.device, e.facility,
                "a device-authored {} was published",
                e.kind
            );
        }
    }
    victim.engine.until_idle().await.unwrap();
    assert_eq!(
        victim.store.inbox_count(kinds::FACILITY_CONFIG).unwrap(),
        before
    );
    for k in kinds::SERVER_ONLY_KINDS {
        if *k != kinds::FACILITY_CONFIG {
            assert_eq!(victim.store.inbox_count(k).unwrap(), 0, "{k}");
        }
    }
    server.stop().await;
}

async fn counters_write_versions_of_one_record(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(server) = open_backend(backend, dir.path()).await else {
        return;
    };
    let (facility, code) = server.facility().await;
    let a = Kiosk::open(&dir.path().join("a.db"), fast_config());
    a.enroll(&server.url, &code).await;
    let b = Kiosk::open(&dir.path().join("b.db"), fast_config());
    b.enroll(&server.url, &server.code(&facility).await).await;
    let patient = Uuid::now_v7();
    a.store
        .write_record(kinds::PATIENT, patient, r#"{"name":"Sunita"}"#)
        .unwrap();
    a.engine.until_idle().await.unwrap();
    b.engine.until_idle().await.unwrap();
    // Counter B corrects A's patient; A edits it again before hearing of it (older HLC than
    // B's? no: later wall time). Both versions are accepted: no not_owner within a facility.
    b.store
        .write_record(kinds::PATIENT, patient, r#"{"name":"Sunita Devi"}"#)
        .unwrap();
    let rb = b.engine.until_idle().await.unwrap();
    assert_eq!((rb.pending, rb.dead_letters), (0, 0));
    let (writer, hlc_b, payload) = server.store.latest_record(patient).await.unwrap().unwrap();
    assert_eq!(
        writer,
        b.store.load_credentials().unwrap().unwrap().device_id
    );
    assert_eq!(payload, r#"{"name":"Sunita Devi"}"#);
    let ra = a.engine.until_idle().await.unwrap();
    assert_eq!(ra.dead_letters, 0);
    assert!(ra.pulled >= 1, "A pulls B's version of its patient");

    // A version that arrives last but is older (smaller HLC) does not replace the latest state.
    let client = raw(&server.url, &a.store);
    let acked = client.push_state(0).await.unwrap().acked_seq;
    let mut stale = envelope(
        &a.store,
        acked + 1,
        kinds::PATIENT,
        patient,
        r#"{"name":"old"}"#,
    );
    stale.hlc = Hlc::new(hlc_b.millis - 1, 0);
    let resp = client
        .push(&PushRequest {
            envelopes: vec![stale],
        })
        .await
        .unwrap();
    assert_eq!((resp.accepted, resp.rejected.len()), (1, 0));
    let (writer2, _, payload2) = server.store.latest_record(patient).await.unwrap().unwrap();
    assert_eq!(
        (writer2, payload2.as_str()),
        (writer, r#"{"name":"Sunita Devi"}"#)
    );

    // A record of another facility stays refused.
    let (other_fac, other_code) = server.facility().await;
    let c = Kiosk::open(&dir.path().join("c.db"), fast_config());
    c.enroll(&server.url, &other_code).await;
    c.store
        .write_record(kinds::PATIENT, patient, r#"{"name":"hijack"}"#)
        .unwrap();
    let rc = c.engine.until_idle().await.unwrap();
    assert_eq!(rc.dead_letters, 1);
    assert_eq!(c.store.dead_letters().unwrap()[0].code, ErrorCode::NotOwner);
    let stats = server.store.stats(Some(other_fac)).await.unwrap();
    assert_eq!(stats["patients"], 0);
    let stats = server.store.stats(Some(facility)).await.unwrap();
    assert_eq!(stats["patients"], 1);
    server.stop().await;
}

async fn same_sequence_other_content_conflicts(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(server) = open_backend(backend, dir.path()).await else {
        return;
    };
    let (_facility, code) = server.facility().await;
    let k = Kiosk::open(&dir.path().join("k.db"), fast_config());
    k.enroll(&server.url, &code).await;
    let client = raw(&server.url, &k.store);
    let id = Uuid::now_v7();
    let first = envelope(&k.store, 1, kinds::PATIENT, id, r#"{"n":1}"#);
    let bad = envelope(&k.store, 2, "Bad Kind", Uuid::now_v7(), r#"{}"#);
    let r = client
        .push(&PushRequest {
            envelopes: vec![first.clone(), bad.clone()],
        })
        .await
        .unwrap();
    assert_eq!((r.accepted, r.rejected.len(), r.acked_seq), (1, 1, 2));
    // The same content again: duplicates (the rejection is reported again).
    let again = client
        .push(&PushRequest {
            envelopes: vec![first.clone(), bad.clone()],
        })
        .await
        .unwrap();
    assert_eq!((again.duplicates, again.accepted), (2, 0));
    assert_eq!(again.rejected.len(), 1);
    // Other content at an acknowledged sequence (accepted or rejected): 409, never a duplicate.
    for seq in [1, 2] {
        let other = envelope(&k.store, seq, kinds::PATIENT, Uuid::now_v7(), r#"{"n":2}"#);
        let e = client
            .push(&PushRequest {
                envelopes: vec![other],
            })
            .await
            .unwrap_err();
        assert_eq!(e, SyncError::SequenceConflict { acked_seq: 2 });
    }
    // The digests say what the server holds; the wrong caller gets nothing.
    let d = client.digests(1, 10).await.unwrap().digests;
    assert_eq!(d.len(), 2);
    assert_eq!(d[0].hash.as_deref(), Some(first.content_hash().as_str()));
    assert_eq!(d[1].hash.as_deref(), Some(bad.content_hash().as_str()));
    let anon = ServerClient::new(&server.url, &fast_config()).unwrap();
    assert_eq!(
        anon.digests(1, 10).await.unwrap_err(),
        SyncError::Unauthorized
    );
    assert!(matches!(
        client.digests(1, 100_000).await.unwrap_err(),
        SyncError::Server { status: 400, .. }
    ));
    server.stop().await;
}

/// Every change of `devices` as another device of the facility sees it: each (device, seq)
/// once; returns them per record id.
async fn server_changes(
    url: &str,
    observer: &SqliteKioskStore,
    devices: &[Uuid],
) -> HashMap<Uuid, Vec<Envelope>> {
    let mut seen = HashSet::new();
    let mut by_id: HashMap<Uuid, Vec<Envelope>> = HashMap::new();
    for e in pull_all(url, observer).await {
        if devices.contains(&e.device) {
            assert!(seen.insert((e.device, e.seq)), "seq {} stored twice", e.seq);
            by_id.entry(e.id).or_default().push(e);
        }
    }
    by_id
}

async fn restore_from_backup(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(server) = open_backend(backend, dir.path()).await else {
        return;
    };
    let (facility, code) = server.facility().await;
    let live = dir.path().join("counter.db");
    let k = Kiosk::open(&live, fast_config());
    k.enroll(&server.url, &code).await;
    k.write_sample(3, 2, 0, 1);
    k.engine.until_idle().await.unwrap();
    // Last week's backup.
    let backup = dir.path().join("backup.db");
    k.store.backup_to(&backup).unwrap();
    // The week's work, synced.
    k.write_sample(4, 1, 0, 2);
    k.engine.until_idle().await.unwrap();
    let week: Vec<Uuid> = k
        .store
        .outbox_ids()
        .unwrap()
        .into_iter()
        .map(|r| r.0)
        .collect();
    assert_eq!(k.store.counts().unwrap().acked_seq, 10);
    drop(k);
    // The disk dies; the backup is restored; the counter registers 5 more before syncing: its
    // new records reuse sequences 6..10 (the same numbers the server acknowledged).
    std::fs::copy(&backup, &live).unwrap();
    for tail in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{tail}", live.display()));
    }
    let r = Kiosk::open(&live, fast_config());
    assert_eq!(r.store.counts().unwrap().last_seq, 5);
    r.write_sample(5, 0, 0, 3);
    assert_eq!(r.store.counts().unwrap().last_seq, 10);
    let device = r.store.load_credentials().unwrap().unwrap().device_id;
    let install_before = r.store.load_credentials().unwrap().unwrap().install_id;
    let report = r.engine.until_idle().await.unwrap();
    assert_eq!(report.restored, 1);
    assert_eq!((report.pending, report.dead_letters), (0, 0));
    let counts = r.store.counts().unwrap();
    assert_eq!(counts.restores, 1);
    assert!(counts.last_restore_at_ms.is_some());
    assert!(!counts.recovering);
    assert_eq!((counts.last_seq, counts.acked_seq), (15, 15));
    assert_ne!(
        r.store.load_credentials().unwrap().unwrap().install_id,
        install_before,
        "a restored kiosk takes a new install id"
    );
    // Its own records that the backup lacked came back by the recovery pull.
    let own = r.store.inbox_count_by(device).unwrap();
    assert!(own >= 5, "own records pulled back: {own}");
    // The server holds every record once: 5 + 5 from the week + 5 new, one change per seq.
    let observer = Kiosk::open(&dir.path().join("observer.db"), fast_config());
    observer
        .enroll(&server.url, &server.code(&facility).await)
        .await;
    let changes = server_changes(&server.url, &observer.store, &[device]).await;
    assert_eq!(changes.len(), 15);
    for id in &week {
        assert!(changes.contains_key(id), "a record of the week was lost");
    }
    for id in r.store.outbox_ids().unwrap().into_iter().map(|r| r.0) {
        assert!(
            changes.contains_key(&id),
            "a record after the restore was lost"
        );
    }
    let stats = server.store.stats(Some(facility)).await.unwrap();
    assert_eq!(stats["patients"] + stats["visits"], 15);
    // A second sync is quiet: no new restore.
    let again = r.engine.until_idle().await.unwrap();
    assert_eq!((again.restored, again.pushed), (0, 0));
    server.stop().await;
}

async fn cloned_disk_is_refused(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(server) = open_backend(backend, dir.path()).await else {
        return;
    };
    let (_facility, code) = server.facility().await;
    let a = Kiosk::open(&dir.path().join("a.db"), fast_config());
    a.enroll(&server.url, &code).await;
    a.write_sample(2, 2, 0, 1);
    a.engine.until_idle().await.unwrap();
    let copy = dir.path().join("copy.db");
    a.store.backup_to(&copy).unwrap();
    let b = Kiosk::open(&copy, fast_config());
    // Both copies keep working and syncing.
    a.write_sample(2, 0, 0, 2);
    a.engine.until_idle().await.unwrap();
    b.write_sample(3, 0, 0, 3);
    let rb = b.engine.until_idle().await.unwrap();
    assert_eq!((rb.restored, rb.pending), (1, 0));
    // The copy that stayed on the old lineage is refused with a clear message.
    a.write_sample(1, 0, 0, 4);
    let e = a.engine.until_idle().await.unwrap_err();
    assert_eq!(e, SyncError::DeviceCloned);
    assert!(e.to_string().contains("re-enroll"));
    let status = a.engine.status().borrow().clone();
    assert!(status.last_error.unwrap().contains("device cloned"));
    assert_eq!(
        a.store.counts().unwrap().pending,
        1,
        "nothing lost: still queued"
    );
    // The surviving copy keeps syncing.
    b.write_sample(1, 0, 0, 5);
    assert_eq!(b.engine.until_idle().await.unwrap().pending, 0);
    server.stop().await;
}

async fn enrollment_survives_a_lost_answer(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(server) = open_backend(backend, dir.path()).await else {
        return;
    };
    let (facility, code) = server.facility().await;
    // The first answer to reach the kiosk is dropped after the server committed.
    let proxy = FaultProxy::start(
        server.addr,
        Arc::new(|i, _| {
            if i == 0 {
                Fault::DropAfterResponse
            } else {
                Fault::Pass
            }
        }),
    )
    .await;
    let store = Arc::new(SqliteKioskStore::open(&dir.path().join("k.db")).unwrap());
    let lost = swagat_sync_client::enroll(store.clone(), &proxy.url, &code, &fast_config()).await;
    assert!(lost.is_err(), "the answer was dropped");
    assert!(store.load_credentials().unwrap().is_none());
    let creds = swagat_sync_client::enroll(store.clone(), &proxy.url, &code, &fast_config())
        .await
        .unwrap();
    // One device only, and it is the one the kiosk holds.
    let devices = server.store.devices(Some(facility.clone())).await.unwrap();
    assert_eq!(devices.len(), 1);
    assert_eq!(devices[0].device_id, creds.device_id);
    assert!(creds.install_id.is_some());
    // The state's keys arrived, and a retry gets the same ones.
    let key = creds.aadhaar_key.clone().unwrap();
    use base64::Engine;
    let raw_key = base64::engine::general_purpose::STANDARD
        .decode(&key)
        .unwrap();
    assert_eq!(raw_key.len(), 32);
    assert_eq!(creds.aadhaar_key_id.as_ref().unwrap().len(), 8);
    assert!(creds.slip_link_key.is_some());
    // It works: records sync.
    let k = Kiosk {
        engine: swagat_sync_client::SyncEngine::new(store.clone(), fast_config()),
        store: store.clone(),
    };
    k.write_sample(1, 1, 0, 1);
    assert_eq!(k.engine.until_idle().await.unwrap().pushed, 2);
    // Another kiosk of the state gets the same Aadhaar key; another facility another slip key.
    let (_f2, code2) = server.facility().await;
    let other = Kiosk::open(&dir.path().join("o.db"), fast_config());
    other.enroll(&server.url, &code2).await;
    let oc = other.store.load_credentials().unwrap().unwrap();
    assert_eq!(oc.aadhaar_key, creds.aadhaar_key);
    assert_eq!(oc.aadhaar_key_id, creds.aadhaar_key_id);
    assert_ne!(oc.slip_link_key, creds.slip_link_key);
    let same_fac = Kiosk::open(&dir.path().join("s.db"), fast_config());
    same_fac
        .enroll(&server.url, &server.code(&facility).await)
        .await;
    let sc = same_fac.store.load_credentials().unwrap().unwrap();
    assert_eq!(sc.slip_link_key, creds.slip_link_key);
    // Another kiosk with the used code (another secret) is still refused.
    let thief = Arc::new(SqliteKioskStore::open(&dir.path().join("t.db")).unwrap());
    assert_eq!(
        swagat_sync_client::enroll(thief, &server.url, &code, &fast_config()).await,
        Err(SyncError::InvalidEnrollmentCode)
    );
    server.stop().await;
}

/// `POST /v1/enroll` as a version-1 client: plain JSON `{"code","device_name"}`.
async fn v1_enroll(http: &reqwest::Client, url: &str, code: &str) -> reqwest::Response {
    http.post(format!("{url}/v1/enroll"))
        .header("x-swagat-protocol", "1")
        .header("content-type", "application/json")
        .body(serde_json::json!({ "code": code, "device_name": "old-kiosk" }).to_string())
        .send()
        .await
        .unwrap()
}

async fn version_1_enrollment_expiry_and_throttle(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(server) = open_backend(backend, dir.path()).await else {
        return;
    };
    let (facility, code) = server.facility().await;
    let http = reqwest::Client::new();
    let r = v1_enroll(&http, &server.url, &code).await;
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = swagat_sync_protocol::decode(&r.bytes().await.unwrap()).unwrap();
    for k in [
        "device_id",
        "facility_id",
        "secret",
        "facility_code",
        "facility_name",
    ] {
        assert!(body[k].is_string(), "{k} missing: {body}");
    }
    let token = format!(
        "Bearer {}.{}",
        body["device_id"].as_str().unwrap(),
        body["secret"].as_str().unwrap()
    );
    let st = http
        .get(format!("{}/v1/push/state?since=0", server.url))
        .header("x-swagat-protocol", "1")
        .header("authorization", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(st.status(), 200);
    // A v1 retry of a used code is refused as before.
    let again = v1_enroll(&http, &server.url, &code).await;
    assert_eq!(again.status(), 403);
    let e: serde_json::Value = again.json().await.unwrap();
    assert_eq!(e["code"], "invalid_enrollment_code");

    // An expired code.
    let expired = secrets::new_enrollment_code();
    server
        .store
        .add_enrollment_code_until(
            facility.clone(),
            secrets::hash_enrollment_code(&expired),
            swagat_server::store::now_ms() - 1,
        )
        .await
        .unwrap();
    let k = Arc::new(SqliteKioskStore::open(&dir.path().join("k.db")).unwrap());
    assert_eq!(
        swagat_sync_client::enroll(k.clone(), &server.url, &expired, &fast_config()).await,
        Err(SyncError::EnrollmentCodeExpired)
    );

    // Guessing codes from one address: 20 wrong codes (the v1 retry of a used code above was
    // the first), then 429 with Retry-After.
    let good = server.code(&facility).await;
    for _ in 0..19 {
        let r = v1_enroll(&http, &server.url, &secrets::new_enrollment_code()).await;
        assert_eq!(r.status(), 403);
    }
    let r = v1_enroll(&http, &server.url, &secrets::new_enrollment_code()).await;
    assert_eq!(r.status(), 429);
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=600).contains(&wait));
    let e: serde_json::Value = r.json().await.unwrap();
    assert_eq!(e["code"], "too_many_requests");
    // The client engine reports it with the server's Retry-After.
    match swagat_sync_client::enroll(k.clone(), &server.url, &good, &fast_config()).await {
        Err(SyncError::TooManyRequests { retry_after, .. }) => {
            assert!(retry_after.as_secs() >= 1)
        }
        other => panic!("expected too many requests, got {other:?}"),
    }
    // A correct code from another address still works.
    let elsewhere = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .build()
        .unwrap();
    let r = v1_enroll(&elsewhere, &server.url, &good).await;
    assert_eq!(r.status(), 200);
    server.stop().await;
}

async fn revoke_and_re_enroll(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(server) = open_backend(backend, dir.path()).await else {
        return;
    };
    let (facility, code) = server.facility().await;
    let k = Kiosk::open(&dir.path().join("k.db"), fast_config());
    k.enroll(&server.url, &code).await;
    let old_patient = Uuid::now_v7();
    k.store
        .write_record(kinds::PATIENT, old_patient, r#"{"name":"Rekha"}"#)
        .unwrap();
    k.write_sample(2, 2, 0, 1);
    k.engine.until_idle().await.unwrap();
    let old = k.store.load_credentials().unwrap().unwrap();
    assert!(server.store.revoke_device(old.device_id).await.unwrap());
    // Written while revoked: stays queued.
    k.write_sample(1, 0, 0, 2);
    assert_eq!(k.engine.until_idle().await, Err(SyncError::Revoked));
    // Re-enrollment continues the old device: same facility, old records still editable.
    k.enroll(&server.url, &server.code(&facility).await).await;
    let new = k.store.load_credentials().unwrap().unwrap();
    assert_ne!(new.device_id, old.device_id);
    k.store
        .write_record(kinds::PATIENT, old_patient, r#"{"name":"Rekha Kumari"}"#)
        .unwrap();
    let r = k.engine.until_idle().await.unwrap();
    assert_eq!((r.pending, r.dead_letters), (0, 0));
    assert_eq!(r.pushed, 2, "only the two unsent records are sent");
    let observer = Kiosk::open(&dir.path().join("o.db"), fast_config());
    observer
        .enroll(&server.url, &server.code(&facility).await)
        .await;
    let changes = server_changes(
        &server.url,
        &observer.store,
        &[old.device_id, new.device_id],
    )
    .await;
    let total: usize = changes.values().map(Vec::len).sum();
    assert_eq!(total as u64, k.store.counts().unwrap().last_seq);
    assert_eq!(changes[&old_patient].len(), 2);
    let (writer, _, payload) = server
        .store
        .latest_record(old_patient)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (writer, payload.as_str()),
        (new.device_id, r#"{"name":"Rekha Kumari"}"#)
    );
    // The change of device id is recorded and listable.
    let devices = server.store.devices(Some(facility)).await.unwrap();
    let d = devices
        .iter()
        .find(|d| d.device_id == new.device_id)
        .unwrap();
    assert_eq!(d.previous_device_id, Some(old.device_id));
    assert!(devices
        .iter()
        .any(|d| d.device_id == old.device_id && d.revoked));
    // A re-enrollment must prove the previous device: a forged credential is refused.
    let forger = Arc::new(SqliteKioskStore::open(&dir.path().join("f.db")).unwrap());
    let mut fake = new.clone();
    fake.secret = "00".repeat(32);
    forger.save_credentials(&fake).unwrap();
    let code3 = server.code(&old.facility_code).await;
    assert_eq!(
        swagat_sync_client::enroll(forger, &server.url, &code3, &fast_config()).await,
        Err(SyncError::Unauthorized)
    );
    server.stop().await;
}

async fn recovery_pull_stays_in_the_facility(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(server) = open_backend(backend, dir.path()).await else {
        return;
    };
    let (_f1, c1) = server.facility().await;
    let (_f2, c2) = server.facility().await;
    let a = Kiosk::open(&dir.path().join("a.db"), fast_config());
    a.enroll(&server.url, &c1).await;
    a.write_sample(3, 0, 0, 1);
    a.engine.until_idle().await.unwrap();
    let b = Kiosk::open(&dir.path().join("b.db"), fast_config());
    b.enroll(&server.url, &c2).await;
    b.write_sample(1, 0, 0, 2);
    b.engine.until_idle().await.unwrap();
    let page = raw(&server.url, &b.store)
        .pull_with_own(0, 1000)
        .await
        .unwrap();
    let bf = b.store.load_credentials().unwrap().unwrap().facility_id;
    assert!(page.records.iter().all(|e| e.facility == bf));
    assert_eq!(
        page.records
            .iter()
            .filter(|e| e.kind == kinds::PATIENT)
            .count(),
        1
    );
    let anon = ServerClient::new(&server.url, &fast_config()).unwrap();
    assert_eq!(
        anon.pull_with_own(0, 10).await.unwrap_err(),
        SyncError::Unauthorized
    );
    server.stop().await;
}

macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            use super::*;
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(Backend::Sqlite).await })*
        }
        mod postgres {
            use super::*;
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(Backend::Postgres).await })*
        }
    };
}

both!(
    server_only_kinds_are_refused,
    counters_write_versions_of_one_record,
    same_sequence_other_content_conflicts,
    restore_from_backup,
    cloned_disk_is_refused,
    enrollment_survives_a_lost_answer,
    version_1_enrollment_expiry_and_throttle,
    revoke_and_re_enroll,
    recovery_pull_stays_in_the_facility,
);
