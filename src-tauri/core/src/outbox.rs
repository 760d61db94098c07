//! The transactional outbox: every record the state must see is queued in the transaction that
//! writes it, so nothing can be written without being queued, and a power cut loses neither.
//!
//! The sync client owns the outbox schema and the append (gap-free per-device sequence, hybrid
//! logical clock); this module is the core's one door to it. Queued today: patients (on create,
//! edit and merge: a merged-away patient goes with `merged_into` set) and visits (on create,
//! cancel, and when a merge moves them). Synthetic demo data is deliberately never queued.

use rusqlite::Connection;
use serde::Serialize;

use crate::error::{CoreError, Result};

/// Queues the current state of record `id` of `kind` (`patient`, `visit`, ...).
pub fn queue<T: Serialize>(conn: &Connection, kind: &str, id: &str, record: &T) -> Result<u64> {
    let record_id = uuid::Uuid::parse_str(id)
        .map_err(|_| CoreError::Corrupt(format!("{kind} id is not a UUID")))?;
    let payload = serde_json::to_string(record).map_err(|e| CoreError::Corrupt(e.to_string()))?;
    Ok(swagat_sync_client::sqlite::append_outbox(
        conn, kind, record_id, &payload,
    )?)
}

/// Records waiting to reach the state server.
pub fn pending(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row(
        "SELECT max(last_seq - acked_seq, 0) FROM sync_state WHERE id = 1",
        [],
        |r| r.get(0),
    )?)
}
