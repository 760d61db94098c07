//! The transactional outbox: every record the state must see is queued in the transaction that
//! writes it, so nothing can be written without being queued, and a power cut loses neither.
//!
//! The sync client owns the outbox schema and the append (gap-free per-device sequence, hybrid
//! logical clock); this module is the core's one door to it. Only this kiosk's own writes are
//! queued: records folded from the facility's other kiosks never are. Queued today: patients (on create,
//! edit and merge: a merged-away patient goes with `merged_into` set) and visits (on create,
//! cancel, and when a merge moves them), explicitly; the dialysis unit's bookings, patients,
//! machines and answers to online requests through triggers (migration 0006) that list changed
//! records in `sync_changed`, queued by [`flush_changed`] before every commit — so every write
//! path (app, CLI, sync folding) queues them without knowing about sync. Synthetic demo data is
//! deliberately never queued.

use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;

use crate::error::{CoreError, Result};

/// Queues patient `id` as now stored, with its field clocks (see [`crate::records`]).
pub fn queue_patient(conn: &Connection, id: &str) -> Result<u64> {
    crate::records::queue_patient(conn, id)
}

/// Queues visit `id` as now stored, with its field clocks (see [`crate::records`]).
pub fn queue_visit(conn: &Connection, id: &str) -> Result<u64> {
    crate::records::queue_visit(conn, id)
}

/// Queues the current state of record `id` of a kind that does not merge by field (patients and
/// visits go through [`queue_patient`] and [`queue_visit`]).
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

/// Outbox kinds of the dialysis unit's records (queued by triggers, see [`flush_changed`]): the
/// protocol's one list.
pub mod kinds {
    pub use swagat_sync_protocol::kinds::{
        DIALYSIS_BOOKING, DIALYSIS_MACHINE, DIALYSIS_PATIENT, DIALYSIS_REQUEST_RESULT,
    };
}

/// The outbox record id for a local record: its own id when that is a UUIDv7, else a UUIDv7
/// issued once and remembered in `sync_record_ids` (dialysis patients share the core patient's
/// id; answers are keyed by the server's request id, which the kiosk may not reuse).
pub fn record_id_for(conn: &Connection, kind: &str, local_id: &str) -> Result<uuid::Uuid> {
    let own = matches!(kind, kinds::DIALYSIS_BOOKING | kinds::DIALYSIS_MACHINE);
    if own {
        if let Ok(id) = uuid::Uuid::parse_str(local_id) {
            if id.get_version_num() == 7 {
                return Ok(id);
            }
        }
    }
    let known: Option<String> = conn
        .prepare_cached("SELECT record_id FROM sync_record_ids WHERE kind = ?1 AND local_id = ?2")?
        .query_row([kind, local_id], |r| r.get(0))
        .optional()?;
    if let Some(id) = known {
        return uuid::Uuid::parse_str(&id)
            .map_err(|_| CoreError::Corrupt(format!("{kind} record id is not a UUID")));
    }
    let id = uuid::Uuid::now_v7();
    conn.prepare_cached(
        "INSERT INTO sync_record_ids (kind, local_id, record_id) VALUES (?1, ?2, ?3)",
    )?
    .execute([kind, local_id, &id.to_string()])?;
    Ok(id)
}

/// Queues the final state of every record the current transaction changed (listed in
/// `sync_changed` by the dialysis tables' triggers), then empties the list. Called by
/// `Store::write` before every commit and by the pull hook, so a dialysis write from the app, the
/// CLI or a fold is never committed without its outbox row. Returns how many were queued.
pub fn flush_changed(conn: &Connection) -> Result<usize> {
    let changed: Vec<(String, String)> = conn
        .prepare_cached("SELECT kind, local_id FROM sync_changed ORDER BY rowid")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    if changed.is_empty() {
        return Ok(0);
    }
    let mut queued = 0;
    for (kind, local_id) in &changed {
        let Some(payload) = record_json(conn, kind, local_id)? else {
            continue;
        };
        let record_id = record_id_for(conn, kind, local_id)?;
        let seq = swagat_sync_client::sqlite::append_outbox(conn, kind, record_id, &payload)?;
        if kind != kinds::DIALYSIS_REQUEST_RESULT {
            // The version this kiosk now holds: an older peer version will not overwrite it.
            let hlc: i64 = conn
                .prepare_cached("SELECT hlc FROM sync_outbox WHERE seq = ?1")?
                .query_row([seq as i64], |r| r.get(0))?;
            let stamp = swagat_sync_protocol::merge::Stamp::new(
                hlc as u64,
                crate::records::own_device(conn)?,
            );
            crate::records::note_dialysis_stamp(conn, kind, local_id, &stamp)?;
        }
        queued += 1;
    }
    conn.execute("DELETE FROM sync_changed", [])?;
    Ok(queued)
}

/// The JSON the state receives for one changed record (None if it no longer exists).
fn record_json(conn: &Connection, kind: &str, id: &str) -> Result<Option<String>> {
    let sql = match kind {
        kinds::DIALYSIS_BOOKING => {
            "SELECT json_object('id', b.id, 'patient_id', b.patient_id, 'date', b.date, \
             'shift', b.shift, 'machine_id', b.machine_id, 'machine', m.name, 'status', b.status, \
             'priority', b.priority, 'requested_at', b.requested_at, 'series_id', b.series_id, \
             'pre_weight_kg', b.pre_weight_kg, 'post_weight_kg', b.post_weight_kg, \
             'source', b.source, 'online_request_id', b.online_request_id, \
             'warnings', json(b.warnings), 'status_reason', b.status_reason, \
             'updated_at', b.updated_at) \
             FROM dialysis_bookings b LEFT JOIN dialysis_machines m ON m.id = b.machine_id \
             WHERE b.id = ?1"
        }
        kinds::DIALYSIS_PATIENT => {
            "SELECT json_object('patient_id', patient_id, 'hbsag', hbsag, \
             'hbsag_tested_on', hbsag_tested_on, 'hcv', hcv, 'hcv_tested_on', hcv_tested_on, \
             'hiv', hiv, 'hiv_tested_on', hiv_tested_on, 'vascular_access', vascular_access, \
             'dry_weight_kg', dry_weight_kg, 'eligibility', eligibility, \
             'eligible', json(CASE eligible WHEN 1 THEN 'true' ELSE 'false' END), \
             'updated_at', updated_at) FROM dialysis_patients WHERE patient_id = ?1"
        }
        kinds::DIALYSIS_MACHINE => {
            "SELECT json_object('id', m.id, 'name', m.name, 'pool', m.pool, \
             'active', json(CASE m.active WHEN 1 THEN 'true' ELSE 'false' END), \
             'created_at', m.created_at, 'maintenance', (SELECT json_group_array(json_object( \
                'id', x.id, 'from_date', x.from_date, 'to_date', x.to_date, 'reason', x.reason)) \
              FROM dialysis_maintenance x WHERE x.machine_id = m.id)) \
             FROM dialysis_machines m WHERE m.id = ?1"
        }
        kinds::DIALYSIS_REQUEST_RESULT => return request_result_json(conn, id),
        _ => return Ok(None),
    };
    Ok(conn
        .prepare_cached(sql)?
        .query_row([id], |r| r.get(0))
        .optional()?)
}

/// The answer to an online request as the portal sees it: `confirmed` (with date, shift and
/// machine), `waitlisted`, `cancelled` (a booking later called off) or `refused` (with the reason
/// in English and Hindi). Follows the booking, so a promotion from the waitlist or a cancellation
/// reaches the portal too.
pub(crate) fn request_result_json(conn: &Connection, id: &str) -> Result<Option<String>> {
    type Row = (
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<i64>,
        Option<String>,
        Option<String>,
    );
    let row: Option<Row> = conn
        .prepare_cached(
            "SELECT r.result, r.reason, b.id, b.date, b.shift, b.status, m.name \
             FROM dialysis_online_requests r \
             LEFT JOIN dialysis_bookings b ON b.id = r.booking_id \
             LEFT JOIN dialysis_machines m ON m.id = b.machine_id WHERE r.id = ?1",
        )?
        .query_row([id], |r| r.try_into())
        .optional()?;
    let Some((result, reason, booking_id, date, shift, booking_status, machine)) = row else {
        return Ok(None);
    };
    let status = match booking_status.as_deref() {
        None => result.as_str(),
        Some("waitlisted") => "waitlisted",
        Some("cancelled") => "cancelled",
        Some(_) => "confirmed",
    };
    let reason: serde_json::Value = reason
        .and_then(|r| serde_json::from_str(&r).ok())
        .unwrap_or(serde_json::Value::Null);
    let v = serde_json::json!({
        "request_id": id,
        "status": status,
        "booking_id": booking_id,
        "booking_status": booking_status,
        "date": date,
        "shift": shift,
        "machine": if status == "confirmed" { machine } else { None },
        "reason": reason,
        "answered_at": crate::clock::to_db(crate::clock::now_utc()),
    });
    Ok(Some(v.to_string()))
}
