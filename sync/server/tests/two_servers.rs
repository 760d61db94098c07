//! Two `swagat-server serve` processes on one PostgreSQL database (how a state runs more than
//! one server): kiosks of one facility alternate between them round after round while they all
//! push at once, and one kiosk's batch is sent to both servers at the same moment (a retry that
//! lands on the other server). Exactly once must still hold: every kiosk's records on the
//! server once each, none lost, and every other kiosk of the facility pulls each exactly once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;
use support::*;
use swagat_server::{DbStore, Store};
use swagat_sync_client::KioskStore;
use swagat_sync_protocol::{encode, PushRequest, PushResponse, PROTOCOL_HEADER};

struct ServerProcess {
    _child: tokio::process::Child,
    url: String,
}

async fn spawn(db: &str) -> ServerProcess {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_swagat-server"))
        .args([
            "serve",
            "--db",
            db,
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .env("RUST_LOG", "error")
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
            return ServerProcess { _child: child, url };
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("swagat-server did not start");
}

/// Points a kiosk's credential at another server (its next sync goes there).
fn point_at(kiosk: &Kiosk, url: &str) {
    let mut c = kiosk.store.load_credentials().unwrap().unwrap();
    c.server_url = url.to_string();
    kiosk.store.save_credentials(&c).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_one_postgres_exactly_once() {
    let Some(db) = pg_url() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // Both processes migrate at start, at the same time (the migration lock serializes them).
    let (a, b) = tokio::join!(spawn(&db), spawn(&db));
    let servers = [a.url.clone(), b.url.clone()];
    let store = DbStore::open(&db).await.unwrap();
    let (facility, code) = add_facility(&store).await;

    let mut kiosks = Vec::new();
    for i in 0..4 {
        let k = Kiosk::open(&dir.path().join(format!("k{i}.db")), fast_config());
        let c = if i == 0 {
            code.clone()
        } else {
            let c = swagat_server::secrets::new_enrollment_code();
            store
                .add_enrollment_code(
                    facility.clone(),
                    swagat_server::secrets::hash_enrollment_code(&c),
                )
                .await
                .unwrap();
            c
        };
        k.enroll(&servers[i % 2], &c).await;
        kiosks.push(k);
    }

    for round in 0..6u64 {
        for (i, k) in kiosks.iter().enumerate() {
            k.write_sample(40, 40, 10, round * 10 + i as u64);
            point_at(k, &servers[(i + round as usize) % 2]);
        }
        // Every kiosk syncs at once, half of them on each server.
        let results =
            futures_util::future::join_all(kiosks.iter().map(|k| k.engine.until_idle())).await;
        for r in results {
            assert_eq!(r.unwrap().pending, 0);
        }
    }

    // One kiosk's next batch sent to both servers at the very same time.
    let k0 = &kiosks[0];
    k0.write_sample(30, 30, 0, 99);
    let creds = k0.store.load_credentials().unwrap().unwrap();
    let acked = k0.store.counts().unwrap().acked_seq;
    let pending = k0.store.pending(acked, usize::MAX).unwrap();
    assert!(!pending.is_empty());
    let envelopes: Vec<swagat_sync_protocol::Envelope> = pending
        .iter()
        .map(|o| swagat_sync_protocol::Envelope {
            id: o.record_id,
            kind: o.kind.clone(),
            facility: creds.facility_id,
            device: creds.device_id,
            seq: o.seq,
            hlc: o.hlc,
            schema: o.schema,
            payload: o.payload.clone(),
        })
        .collect();
    let body = encode(&PushRequest { envelopes }).unwrap();
    let auth = format!("Bearer {}.{}", creds.device_id, creds.secret);
    let http = reqwest::Client::new();
    let push = |url: &str| {
        http.post(format!("{url}/v1/push"))
            .header(PROTOCOL_HEADER, "1")
            .header("authorization", &auth)
            .body(body.clone())
            .send()
    };
    let (ra, rb) = tokio::join!(push(&servers[0]), push(&servers[1]));
    let mut accepted = 0;
    for r in [ra.unwrap(), rb.unwrap()] {
        assert!(r.status().is_success(), "{}", r.status());
        let resp: PushResponse = swagat_sync_protocol::decode(&r.bytes().await.unwrap()).unwrap();
        accepted += resp.accepted;
        assert_eq!(resp.acked_seq, pending.last().unwrap().seq);
    }
    assert_eq!(
        accepted,
        pending.len() as u64,
        "one of the two stored the batch, once"
    );
    // The kiosk learns the acknowledgement from either server.
    point_at(k0, &servers[1]);
    assert_eq!(k0.engine.until_idle().await.unwrap().pending, 0);

    // Exactly once, seen through either server.
    let observer = Kiosk::open(&dir.path().join("observer.db"), fast_config());
    let c = swagat_server::secrets::new_enrollment_code();
    store
        .add_enrollment_code(
            facility.clone(),
            swagat_server::secrets::hash_enrollment_code(&c),
        )
        .await
        .unwrap();
    observer.enroll(&servers[0], &c).await;
    for (i, k) in kiosks.iter().enumerate() {
        let via = &servers[i % 2];
        // assert_server_has_exactly checks the facility's totals against one kiosk's outbox:
        // compare each kiosk's own records, then the totals below.
        let creds = k.store.load_credentials().unwrap().unwrap();
        let outbox = k.store.pending(0, usize::MAX).unwrap();
        let mine: Vec<_> = pull_all(via, &observer.store)
            .await
            .into_iter()
            .filter(|e| e.device == creds.device_id)
            .collect();
        let mut seqs: Vec<u64> = mine.iter().map(|e| e.seq).collect();
        seqs.sort_unstable();
        let n = seqs.len();
        seqs.dedup();
        assert_eq!(seqs.len(), n, "kiosk {i}: a record stored twice");
        assert_eq!(
            n,
            outbox.len(),
            "kiosk {i}: server has {n}, kiosk wrote {}",
            outbox.len()
        );
        assert_eq!(k.store.counts().unwrap().pending, 0);
    }
    // Each kiosk pulled every other kiosk's records exactly once (the pull cursor skipped no
    // row that committed late on the other server).
    let total: usize = kiosks
        .iter()
        .map(|k| k.store.pending(0, usize::MAX).unwrap().len())
        .sum();
    let all = pull_all(&servers[1], &observer.store).await;
    let from_kiosks = all.iter().filter(|e| e.device != creds.facility_id).count();
    assert_eq!(from_kiosks, total);
    let stats = store.stats(Some(facility.clone())).await.unwrap();
    let distinct: std::collections::HashSet<_> = all
        .iter()
        .filter(|e| e.kind == "patient")
        .map(|e| e.id)
        .collect();
    assert_eq!(stats["patients"], distinct.len() as u64);
}
