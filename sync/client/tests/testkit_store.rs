//! The reference kiosk store keeps the outbox invariants the engine relies on: gap-free
//! sequences, a monotonic HLC, pending = written − acknowledged, idempotent dead letters, and
//! pulled records applied with their cursor in one step.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::value::RawValue;
use swagat_sync_client::protocol::{Envelope, ErrorCode, Hlc};
use swagat_sync_client::testkit::{sample_records, SqliteKioskStore};
use swagat_sync_client::{DeadLetter, KioskStore};
use uuid::Uuid;

#[test]
fn outbox_sequences_are_gap_free_and_hlc_monotonic() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteKioskStore::open(&dir.path().join("k.db")).unwrap();
    let recs = sample_records(30, 20, 7);
    let mut seqs = store.write_records(&recs[..10]).unwrap();
    for r in &recs[10..] {
        seqs.push(store.write_record(&r.0, r.1, &r.2).unwrap());
    }
    assert_eq!(seqs, (1..=50).collect::<Vec<u64>>());
    let pending = store.pending(0, 1000).unwrap();
    assert_eq!(pending.len(), 50);
    assert!(pending.windows(2).all(|w| w[0].hlc < w[1].hlc));
    assert_eq!(store.pending(45, 1000).unwrap().len(), 5);
    assert_eq!(store.pending(0, 7).unwrap().len(), 7);

    store.record_ack(40).unwrap();
    let c = store.counts().unwrap();
    assert_eq!((c.pending, c.last_seq, c.acked_seq), (10, 50, 40));
    // Reopening keeps everything (a kiosk restart).
    drop(store);
    let store = SqliteKioskStore::open(&dir.path().join("k.db")).unwrap();
    assert_eq!(store.counts().unwrap().pending, 10);
    assert_eq!(
        store.write_record("visit", Uuid::now_v7(), "{}").unwrap(),
        51
    );
}

#[test]
fn dead_letters_and_pull() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteKioskStore::open(&dir.path().join("k.db")).unwrap();
    let l = DeadLetter {
        seq: 3,
        record_id: Uuid::now_v7(),
        code: ErrorCode::NotOwner,
        reason: "x".into(),
    };
    store.dead_letter(&l).unwrap();
    store.dead_letter(&l).unwrap();
    assert_eq!(store.dead_letters().unwrap(), vec![l]);
    assert_eq!(store.counts().unwrap().dead_letters, 1);

    let far_future = Hlc::new(4_000_000_000_000, 3);
    let id = Uuid::now_v7();
    let env = |hlc: Hlc, payload: &str| Envelope {
        id,
        kind: "patient".into(),
        facility: Uuid::now_v7(),
        device: Uuid::now_v7(),
        seq: 1,
        hlc,
        schema: 1,
        payload: RawValue::from_string(payload.into()).unwrap(),
    };
    store
        .apply_pulled(
            &[
                env(far_future, r#"{"v":2}"#),
                env(Hlc::new(1, 0), r#"{"v":1}"#),
            ],
            17,
        )
        .unwrap();
    assert_eq!(store.pull_cursor().unwrap(), 17);
    assert_eq!(store.inbox_count("patient").unwrap(), 1);
    // The local clock moved past the remote timestamp.
    assert!(store.hlc().unwrap() > far_future);
    let seq = store.write_record("visit", Uuid::now_v7(), "{}").unwrap();
    assert!(store.pending(seq - 1, 1).unwrap()[0].hlc > far_future);
}

#[test]
fn pruning_keeps_unacknowledged_rows_and_sequences_continue() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.db");
    let store = SqliteKioskStore::open(&path).unwrap();
    let recs = sample_records(10, 0, 3);
    assert_eq!(
        store.write_records(&recs).unwrap(),
        (1..=10).collect::<Vec<u64>>()
    );
    // Age every row past the retention, then acknowledge only the first six.
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute("UPDATE sync_outbox SET created_at_ms = 1000", [])
        .unwrap();
    store.record_ack(6).unwrap();
    let now = 1000 + swagat_sync_client::sqlite::DEFAULT_OUTBOX_RETENTION_MS + 1;
    store.record_sync_success(now).unwrap();
    let left: Vec<u64> = store
        .pending(0, 100)
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(
        left,
        vec![7, 8, 9, 10],
        "acked old rows pruned, unacked kept"
    );
    // Recent acknowledged rows stay (kept for a server restored from backup).
    let seq = store.write_record("visit", Uuid::now_v7(), "{}").unwrap();
    assert_eq!(seq, 11, "sequences continue after pruning");
    store.record_ack(11).unwrap();
    assert_eq!(store.prune_outbox(now).unwrap(), 4, "old acked rows go");
    let left: Vec<u64> = store
        .pending(0, 100)
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(left, vec![11], "a row inside the retention stays");
    assert_eq!(
        store.write_record("visit", Uuid::now_v7(), "{}").unwrap(),
        12
    );
    let c = store.counts().unwrap();
    assert_eq!((c.last_seq, c.acked_seq, c.pending), (12, 11, 1));
}
