//! SQLite side of [`crate::projections`]: upserts the projected rows of accepted envelopes
//! inside the caller's ingest transaction, then refreshes what derives from them (a visit's
//! gender and age band, a booking's pool) and changes the per-facility-day visit totals by
//! [`projections::daily_changes`] (the replaced versions are read back first).
//!
//! Every upsert only replaces a strictly smaller `(hlc, device)`, so replays change nothing.

use super::StoreError;
use crate::projections::{self, Daily, Row, StoredVisit, Version, DAILY_ADD_SQL, DAILY_PRUNE_SQL};
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::{BTreeSet, HashMap};
use swagat_sync_protocol::Envelope;

/// Applies the projections of `accepted` (any facilities, any order).
pub fn apply(tx: &Connection, accepted: &[Envelope]) -> Result<(), StoreError> {
    apply_rows(tx, projections::latest(accepted))
}

fn apply_rows(tx: &Connection, rows: Vec<Row>) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut patients = BTreeSet::new();
    let mut visits = BTreeSet::new();
    let mut bookings = BTreeSet::new();
    let mut machines = BTreeSet::new();
    let mut stored: HashMap<uuid::Uuid, StoredVisit> = HashMap::new();
    let mut incoming = Vec::new();
    for row in &rows {
        match row {
            Row::Patient(p) => {
                tx.prepare_cached(
                    "INSERT INTO proj_patients (record_id, facility_id, uhid, name, name_hi, gender,
                        birth_date, merged_into, hlc, device_id)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                     ON CONFLICT (record_id) DO UPDATE SET facility_id = excluded.facility_id,
                        uhid = excluded.uhid, name = excluded.name, name_hi = excluded.name_hi,
                        gender = excluded.gender, birth_date = excluded.birth_date,
                        merged_into = excluded.merged_into, hlc = excluded.hlc,
                        device_id = excluded.device_id
                     WHERE (excluded.hlc, excluded.device_id) > (proj_patients.hlc, proj_patients.device_id)",
                )?
                .execute(params![
                    p.record_id.to_string(),
                    p.facility_id.to_string(),
                    p.uhid,
                    p.name,
                    p.name_hi,
                    p.gender,
                    p.birth_date,
                    p.merged_into,
                    p.version.hlc,
                    p.version.device.to_string()
                ])?;
                patients.insert(p.record_id.to_string());
            }
            Row::Visit(v) => {
                let id = v.record_id.to_string();
                if let Some(old) = stored_visit(tx, &id)? {
                    stored.insert(v.record_id, old);
                }
                incoming.push(v);
                tx.prepare_cached(
                    "INSERT INTO proj_visits (record_id, facility_id, patient_id, visit_date, department,
                        room, token, visit_type, fee_rupees, waiver_code, valid_until, created_at,
                        cancelled, abha_linked, scan_share, hlc, device_id)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)
                     ON CONFLICT (record_id) DO UPDATE SET facility_id = excluded.facility_id,
                        patient_id = excluded.patient_id, visit_date = excluded.visit_date,
                        department = excluded.department, room = excluded.room, token = excluded.token,
                        visit_type = excluded.visit_type, fee_rupees = excluded.fee_rupees,
                        waiver_code = excluded.waiver_code, valid_until = excluded.valid_until,
                        created_at = excluded.created_at, cancelled = excluded.cancelled,
                        abha_linked = excluded.abha_linked, scan_share = excluded.scan_share,
                        hlc = excluded.hlc, device_id = excluded.device_id
                     WHERE (excluded.hlc, excluded.device_id) > (proj_visits.hlc, proj_visits.device_id)",
                )?
                .execute(params![
                    id,
                    v.facility_id.to_string(),
                    v.patient_id.map(|p| p.to_string()),
                    v.visit_date,
                    v.department,
                    v.room,
                    v.token,
                    v.visit_type,
                    v.fee_rupees,
                    v.waiver_code,
                    v.valid_until,
                    v.created_at,
                    i64::from(v.cancelled),
                    i64::from(v.abha_linked),
                    i64::from(v.scan_share),
                    v.version.hlc,
                    v.version.device.to_string()
                ])?;
                visits.insert(id);
            }
            Row::Machine(m) => {
                tx.prepare_cached(
                    "INSERT INTO proj_dialysis_machines (record_id, facility_id, machine_id, name, pool,
                        active, hlc, device_id)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                     ON CONFLICT (record_id) DO UPDATE SET facility_id = excluded.facility_id,
                        machine_id = excluded.machine_id, name = excluded.name, pool = excluded.pool,
                        active = excluded.active, hlc = excluded.hlc, device_id = excluded.device_id
                     WHERE (excluded.hlc, excluded.device_id) > (proj_dialysis_machines.hlc, proj_dialysis_machines.device_id)",
                )?
                .execute(params![
                    m.record_id.to_string(),
                    m.facility_id.to_string(),
                    m.machine_id,
                    m.name,
                    m.pool,
                    i64::from(m.active),
                    m.version.hlc,
                    m.version.device.to_string()
                ])?;
                machines.insert((m.facility_id.to_string(), m.machine_id.clone()));
            }
            Row::Booking(b) => {
                tx.prepare_cached(
                    "INSERT INTO proj_dialysis_bookings (record_id, facility_id, booking_date, shift,
                        machine_id, status, hlc, device_id)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                     ON CONFLICT (record_id) DO UPDATE SET facility_id = excluded.facility_id,
                        booking_date = excluded.booking_date, shift = excluded.shift,
                        machine_id = excluded.machine_id, status = excluded.status,
                        hlc = excluded.hlc, device_id = excluded.device_id
                     WHERE (excluded.hlc, excluded.device_id) > (proj_dialysis_bookings.hlc, proj_dialysis_bookings.device_id)",
                )?
                .execute(params![
                    b.record_id.to_string(),
                    b.facility_id.to_string(),
                    b.booking_date,
                    b.shift,
                    b.machine_id,
                    b.status,
                    b.version.hlc,
                    b.version.device.to_string()
                ])?;
                bookings.insert(b.record_id.to_string());
            }
        }
    }
    // Demographics of the visits written and of every visit of a patient written.
    let band = projections::age_band_sql();
    let set = format!(
        "UPDATE proj_visits AS v SET
            gender = COALESCE((SELECT p.gender FROM proj_patients p WHERE p.record_id = v.patient_id), 'U'),
            age_band = COALESCE((SELECT {band} FROM proj_patients p WHERE p.record_id = v.patient_id), 'unknown')"
    );
    // One statement per batch each (ids as a JSON array), not one per record.
    // Record ids are hyphenated UUIDs: nothing in them needs escaping.
    let ids = |set: &BTreeSet<String>| {
        let quoted: Vec<String> = set.iter().map(|id| format!("\"{id}\"")).collect();
        format!("[{}]", quoted.join(","))
    };
    if !visits.is_empty() {
        tx.prepare_cached(&format!(
            "{set} WHERE v.record_id IN (SELECT value FROM json_each(?1))"
        ))?
        .execute([ids(&visits)])?;
    }
    if !patients.is_empty() {
        tx.prepare_cached(&format!(
            "{set} WHERE v.patient_id IN (SELECT value FROM json_each(?1))"
        ))?
        .execute([ids(&patients)])?;
    }
    for ((facility, date), d) in projections::daily_changes(&stored, &incoming) {
        let facility = facility.to_string();
        tx.prepare_cached(DAILY_ADD_SQL)?.execute(params![
            facility,
            date,
            d.registrations,
            d.new_visits,
            d.follow_ups,
            d.cancelled,
            d.abha_linked,
            d.scan_share,
            d.fees,
            d.waived
        ])?;
        if d.may_empty_a_day() {
            tx.prepare_cached(DAILY_PRUNE_SQL)?
                .execute([&facility, &date])?;
        }
    }
    // A booking's pool is its machine's.
    let pool =
        "UPDATE proj_dialysis_bookings AS b SET pool = (SELECT m.pool FROM proj_dialysis_machines m
        WHERE m.facility_id = b.facility_id AND m.machine_id = b.machine_id
        ORDER BY m.hlc DESC, m.device_id DESC LIMIT 1)";
    for id in &bookings {
        tx.prepare_cached(&format!("{pool} WHERE b.record_id = ?1"))?
            .execute([id])?;
    }
    for (facility, machine) in &machines {
        tx.prepare_cached(&format!(
            "{pool} WHERE b.facility_id = ?1 AND b.machine_id = ?2"
        ))?
        .execute([facility, machine])?;
    }
    Ok(())
}

/// The stored version of visit `id` and what it counts for its day (`None`: not stored yet).
fn stored_visit(tx: &Connection, id: &str) -> Result<Option<StoredVisit>, StoreError> {
    let row = tx
        .prepare_cached(
            "SELECT facility_id, visit_date, hlc, device_id, cancelled, visit_type, abha_linked,
                scan_share, fee_rupees, waiver_code IS NOT NULL AS waived
             FROM proj_visits WHERE record_id = ?1",
        )?
        .query_row([id], |r| {
            Ok((
                r.get::<_, String>("facility_id")?,
                r.get::<_, String>("visit_date")?,
                r.get::<_, i64>("hlc")?,
                r.get::<_, String>("device_id")?,
                Daily::of_parts(
                    r.get::<_, i64>("cancelled")? != 0,
                    r.get::<_, String>("visit_type")? == "follow_up",
                    r.get::<_, i64>("abha_linked")? != 0,
                    r.get::<_, i64>("scan_share")? != 0,
                    r.get("fee_rupees")?,
                    r.get("waived")?,
                ),
            ))
        })
        .optional()?;
    let Some((facility, visit_date, hlc, device, counts)) = row else {
        return Ok(None);
    };
    let uuid =
        |s: &str| uuid::Uuid::parse_str(s).map_err(|_| StoreError::Corrupt("bad uuid".into()));
    Ok(Some(StoredVisit {
        facility_id: uuid(&facility)?,
        visit_date,
        version: Version {
            hlc,
            device: uuid(&device)?,
        },
        counts,
    }))
}

/// Back-fills the projections from the whole change log (run once, right after the migration
/// that creates them, in its transaction).
pub fn backfill(tx: &Connection) -> Result<(), StoreError> {
    let mut last = 0i64;
    loop {
        let batch: Vec<(i64, Envelope)> = {
            let mut st = tx.prepare(
                "SELECT id, record_id, kind, facility_id, device_id, device_seq, hlc, schema_version, payload
                 FROM change_log WHERE id > ?1 AND kind IN (?2, ?3, ?4, ?5)
                 ORDER BY id LIMIT 5000",
            )?;
            let [k1, k2, k3, k4] = projections::PROJECTED_KINDS;
            let rows = st.query_map(params![last, k1, k2, k3, k4], |r| {
                <(i64, String, String, String, String, i64, i64, i64, String)>::try_from(r)
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (id, rid, kind, fac, dev, seq, hlc, schema, payload) = row?;
                let uuid = |s: &str| {
                    uuid::Uuid::parse_str(s).map_err(|_| StoreError::Corrupt("bad uuid".into()))
                };
                let Ok(payload) = serde_json::value::RawValue::from_string(payload) else {
                    last = last.max(id);
                    continue;
                };
                out.push((
                    id,
                    Envelope {
                        id: uuid(&rid)?,
                        kind,
                        facility: uuid(&fac)?,
                        device: uuid(&dev)?,
                        seq: seq as u64,
                        hlc: swagat_sync_protocol::Hlc::from_u64(hlc as u64),
                        schema: schema as u32,
                        payload,
                    },
                ));
            }
            out
        };
        let Some((max, _)) = batch.last() else { break };
        last = *max;
        let envs: Vec<Envelope> = batch.into_iter().map(|(_, e)| e).collect();
        apply(tx, &envs)?;
    }
    Ok(())
}
