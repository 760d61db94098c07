//! PostgreSQL side of [`crate::projections`]: the projected rows of accepted envelopes are
//! upserted with one `unnest` statement per table (not one per record), then what derives from
//! them is refreshed (a visit's gender and age band, a booking's pool), and the per-facility-day
//! visit totals change by [`projections::daily_changes`] (read the replaced versions first, add
//! the difference), all inside the caller's ingest transaction. Statements go through the
//! connection's statement cache ([`exec`], [`query`]), as ingest runs the same few every batch.
//!
//! Every upsert only replaces a strictly smaller `(hlc, device)`, so replays change nothing.

use super::StoreError;
use crate::projections::{self, Daily, Row, StoredVisit, Version, DAILY_PRUNE_SQL};
use deadpool_postgres::GenericClient;
use std::collections::HashMap;
use swagat_sync_protocol::Envelope;
use tokio_postgres::types::ToSql;
use uuid::Uuid;

fn pg(sql: &str) -> String {
    sql.replace('?', "$")
}

/// Runs `sql` through the connection's statement cache: ingest runs the same few statements
/// for every batch, so each is parsed and planned once per connection, not once per batch.
pub(super) async fn exec(
    tx: &impl GenericClient,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<u64, StoreError> {
    let st = tx.prepare_cached(sql).await?;
    Ok(tx.execute(&st, params).await?)
}

/// [`exec`] for a query.
pub(super) async fn query(
    tx: &impl GenericClient,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<tokio_postgres::Row>, StoreError> {
    let st = tx.prepare_cached(sql).await?;
    Ok(tx.query(&st, params).await?)
}

/// Applies the projections of `accepted` (any facilities, any order).
pub async fn apply(tx: &impl GenericClient, accepted: &[Envelope]) -> Result<(), StoreError> {
    let rows = projections::latest(accepted);
    if rows.is_empty() {
        return Ok(());
    }
    let (mut patients, mut visits, mut machines, mut bookings) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for row in rows {
        match row {
            Row::Patient(p) => patients.push(p),
            Row::Visit(v) => visits.push(v),
            Row::Machine(m) => machines.push(m),
            Row::Booking(b) => bookings.push(b),
        }
    }
    if !patients.is_empty() {
        let ids: Vec<Uuid> = patients.iter().map(|p| p.record_id).collect();
        let fac: Vec<Uuid> = patients.iter().map(|p| p.facility_id).collect();
        let uhid: Vec<Option<String>> = patients.iter().map(|p| p.uhid.clone()).collect();
        let name: Vec<Option<String>> = patients.iter().map(|p| p.name.clone()).collect();
        let name_hi: Vec<Option<String>> = patients.iter().map(|p| p.name_hi.clone()).collect();
        let gender: Vec<Option<String>> = patients.iter().map(|p| p.gender.clone()).collect();
        let birth: Vec<Option<String>> = patients.iter().map(|p| p.birth_date.clone()).collect();
        let merged: Vec<Option<String>> = patients.iter().map(|p| p.merged_into.clone()).collect();
        let hlc: Vec<i64> = patients.iter().map(|p| p.version.hlc).collect();
        let dev: Vec<Uuid> = patients.iter().map(|p| p.version.device).collect();
        exec(
            tx,
            "INSERT INTO proj_patients (record_id, facility_id, uhid, name, name_hi, gender, birth_date,
                merged_into, hlc, device_id)
             SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[],
                $7::text[], $8::text[], $9::int8[], $10::uuid[])
             ON CONFLICT (record_id) DO UPDATE SET facility_id = excluded.facility_id,
                uhid = excluded.uhid, name = excluded.name, name_hi = excluded.name_hi,
                gender = excluded.gender, birth_date = excluded.birth_date,
                merged_into = excluded.merged_into, hlc = excluded.hlc, device_id = excluded.device_id
             WHERE (excluded.hlc, excluded.device_id) > (proj_patients.hlc, proj_patients.device_id)",
            &[&ids, &fac, &uhid, &name, &name_hi, &gender, &birth, &merged, &hlc, &dev],
        )
        .await?;
    }
    let mut stored: HashMap<Uuid, StoredVisit> = HashMap::new();
    if !visits.is_empty() {
        let ids: Vec<Uuid> = visits.iter().map(|v| v.record_id).collect();
        for r in query(
            tx,
            "SELECT record_id, facility_id, visit_date, hlc, device_id, cancelled, visit_type,
                    abha_linked, scan_share, fee_rupees, waiver_code IS NOT NULL AS waived
                 FROM proj_visits WHERE record_id = ANY($1)",
            &[&ids],
        )
        .await?
        {
            stored.insert(
                r.get("record_id"),
                StoredVisit {
                    facility_id: r.get("facility_id"),
                    visit_date: r.get("visit_date"),
                    version: Version {
                        hlc: r.get("hlc"),
                        device: r.get("device_id"),
                    },
                    counts: Daily::of_parts(
                        r.get::<_, i32>("cancelled") != 0,
                        r.get::<_, &str>("visit_type") == "follow_up",
                        r.get::<_, i32>("abha_linked") != 0,
                        r.get::<_, i32>("scan_share") != 0,
                        r.get("fee_rupees"),
                        r.get("waived"),
                    ),
                },
            );
        }
        let fac: Vec<Uuid> = visits.iter().map(|v| v.facility_id).collect();
        let patient: Vec<Option<Uuid>> = visits.iter().map(|v| v.patient_id).collect();
        let date: Vec<String> = visits.iter().map(|v| v.visit_date.clone()).collect();
        let dept: Vec<String> = visits.iter().map(|v| v.department.clone()).collect();
        let room: Vec<Option<String>> = visits.iter().map(|v| v.room.clone()).collect();
        let token: Vec<Option<String>> = visits.iter().map(|v| v.token.clone()).collect();
        let vtype: Vec<String> = visits.iter().map(|v| v.visit_type.clone()).collect();
        let fee: Vec<i64> = visits.iter().map(|v| v.fee_rupees).collect();
        let waiver: Vec<Option<String>> = visits.iter().map(|v| v.waiver_code.clone()).collect();
        let valid: Vec<Option<String>> = visits.iter().map(|v| v.valid_until.clone()).collect();
        let created: Vec<Option<String>> = visits.iter().map(|v| v.created_at.clone()).collect();
        let cancelled: Vec<i32> = visits.iter().map(|v| i32::from(v.cancelled)).collect();
        let abha: Vec<i32> = visits.iter().map(|v| i32::from(v.abha_linked)).collect();
        let share: Vec<i32> = visits.iter().map(|v| i32::from(v.scan_share)).collect();
        let hlc: Vec<i64> = visits.iter().map(|v| v.version.hlc).collect();
        let dev: Vec<Uuid> = visits.iter().map(|v| v.version.device).collect();
        exec(
            tx,
            "INSERT INTO proj_visits (record_id, facility_id, patient_id, visit_date, department, room,
                token, visit_type, fee_rupees, waiver_code, valid_until, created_at, cancelled,
                abha_linked, scan_share, hlc, device_id)
             SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[],
                $7::text[], $8::text[], $9::int8[], $10::text[], $11::text[], $12::text[], $13::int4[],
                $14::int4[], $15::int4[], $16::int8[], $17::uuid[])
             ON CONFLICT (record_id) DO UPDATE SET facility_id = excluded.facility_id,
                patient_id = excluded.patient_id, visit_date = excluded.visit_date,
                department = excluded.department, room = excluded.room, token = excluded.token,
                visit_type = excluded.visit_type, fee_rupees = excluded.fee_rupees,
                waiver_code = excluded.waiver_code, valid_until = excluded.valid_until,
                created_at = excluded.created_at, cancelled = excluded.cancelled,
                abha_linked = excluded.abha_linked, scan_share = excluded.scan_share,
                hlc = excluded.hlc, device_id = excluded.device_id
             WHERE (excluded.hlc, excluded.device_id) > (proj_visits.hlc, proj_visits.device_id)",
            &[
                &ids, &fac, &patient, &date, &dept, &room, &token, &vtype, &fee, &waiver, &valid,
                &created, &cancelled, &abha, &share, &hlc, &dev,
            ],
        )
        .await?;
    }
    if !visits.is_empty() || !patients.is_empty() {
        let vids: Vec<Uuid> = visits.iter().map(|v| v.record_id).collect();
        let pids: Vec<Uuid> = patients.iter().map(|p| p.record_id).collect();
        let band = projections::age_band_sql();
        exec(
            tx,
            &format!(
                "UPDATE proj_visits AS v SET
                    gender = COALESCE((SELECT p.gender FROM proj_patients p WHERE p.record_id = v.patient_id), 'U'),
                    age_band = COALESCE((SELECT {band} FROM proj_patients p WHERE p.record_id = v.patient_id), 'unknown')
                 WHERE v.record_id = ANY($1) OR v.patient_id = ANY($2)"
            ),
            &[&vids, &pids],
        )
        .await?;
    }
    let changes = projections::daily_changes(&stored, &visits.iter().collect::<Vec<_>>());
    if !changes.is_empty() {
        let col = |f: fn(&Daily) -> i64| changes.iter().map(|(_, d)| f(d)).collect::<Vec<i64>>();
        let fac: Vec<Uuid> = changes.iter().map(|((f, _), _)| *f).collect();
        let date: Vec<String> = changes.iter().map(|((_, d), _)| d.clone()).collect();
        exec(
            tx,
            "INSERT INTO proj_visit_daily (facility_id, visit_date, registrations, new_visits,
                follow_ups, cancelled, abha_linked, scan_share, fees, waived)
             SELECT * FROM unnest($1::uuid[], $2::text[], $3::int8[], $4::int8[], $5::int8[],
                $6::int8[], $7::int8[], $8::int8[], $9::int8[], $10::int8[])
             ON CONFLICT (facility_id, visit_date) DO UPDATE SET
                registrations = proj_visit_daily.registrations + excluded.registrations,
                new_visits = proj_visit_daily.new_visits + excluded.new_visits,
                follow_ups = proj_visit_daily.follow_ups + excluded.follow_ups,
                cancelled = proj_visit_daily.cancelled + excluded.cancelled,
                abha_linked = proj_visit_daily.abha_linked + excluded.abha_linked,
                scan_share = proj_visit_daily.scan_share + excluded.scan_share,
                fees = proj_visit_daily.fees + excluded.fees,
                waived = proj_visit_daily.waived + excluded.waived",
            &[
                &fac,
                &date,
                &col(|d| d.registrations),
                &col(|d| d.new_visits),
                &col(|d| d.follow_ups),
                &col(|d| d.cancelled),
                &col(|d| d.abha_linked),
                &col(|d| d.scan_share),
                &col(|d| d.fees),
                &col(|d| d.waived),
            ],
        )
        .await?;
        let prune = pg(DAILY_PRUNE_SQL);
        for ((f, d), _) in changes.iter().filter(|(_, d)| d.may_empty_a_day()) {
            exec(tx, &prune, &[f, d]).await?;
        }
    }
    if !machines.is_empty() {
        let ids: Vec<Uuid> = machines.iter().map(|m| m.record_id).collect();
        let fac: Vec<Uuid> = machines.iter().map(|m| m.facility_id).collect();
        let mid: Vec<String> = machines.iter().map(|m| m.machine_id.clone()).collect();
        let name: Vec<Option<String>> = machines.iter().map(|m| m.name.clone()).collect();
        let pool: Vec<Option<String>> = machines.iter().map(|m| m.pool.clone()).collect();
        let active: Vec<i32> = machines.iter().map(|m| i32::from(m.active)).collect();
        let hlc: Vec<i64> = machines.iter().map(|m| m.version.hlc).collect();
        let dev: Vec<Uuid> = machines.iter().map(|m| m.version.device).collect();
        exec(
            tx,
            "INSERT INTO proj_dialysis_machines (record_id, facility_id, machine_id, name, pool, active, hlc, device_id)
             SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::int4[],
                $7::int8[], $8::uuid[])
             ON CONFLICT (record_id) DO UPDATE SET facility_id = excluded.facility_id,
                machine_id = excluded.machine_id, name = excluded.name, pool = excluded.pool,
                active = excluded.active, hlc = excluded.hlc, device_id = excluded.device_id
             WHERE (excluded.hlc, excluded.device_id) > (proj_dialysis_machines.hlc, proj_dialysis_machines.device_id)",
            &[&ids, &fac, &mid, &name, &pool, &active, &hlc, &dev],
        )
        .await?;
    }
    if !bookings.is_empty() {
        let ids: Vec<Uuid> = bookings.iter().map(|b| b.record_id).collect();
        let fac: Vec<Uuid> = bookings.iter().map(|b| b.facility_id).collect();
        let date: Vec<String> = bookings.iter().map(|b| b.booking_date.clone()).collect();
        let shift: Vec<String> = bookings.iter().map(|b| b.shift.clone()).collect();
        let mid: Vec<Option<String>> = bookings.iter().map(|b| b.machine_id.clone()).collect();
        let status: Vec<String> = bookings.iter().map(|b| b.status.clone()).collect();
        let hlc: Vec<i64> = bookings.iter().map(|b| b.version.hlc).collect();
        let dev: Vec<Uuid> = bookings.iter().map(|b| b.version.device).collect();
        exec(
            tx,
            "INSERT INTO proj_dialysis_bookings (record_id, facility_id, booking_date, shift, machine_id, status, hlc, device_id)
             SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[],
                $7::int8[], $8::uuid[])
             ON CONFLICT (record_id) DO UPDATE SET facility_id = excluded.facility_id,
                booking_date = excluded.booking_date, shift = excluded.shift,
                machine_id = excluded.machine_id, status = excluded.status,
                hlc = excluded.hlc, device_id = excluded.device_id
             WHERE (excluded.hlc, excluded.device_id) > (proj_dialysis_bookings.hlc, proj_dialysis_bookings.device_id)",
            &[&ids, &fac, &date, &shift, &mid, &status, &hlc, &dev],
        )
        .await?;
    }
    if !bookings.is_empty() || !machines.is_empty() {
        let bids: Vec<Uuid> = bookings.iter().map(|b| b.record_id).collect();
        let mfac: Vec<Uuid> = machines.iter().map(|m| m.facility_id).collect();
        let mid: Vec<String> = machines.iter().map(|m| m.machine_id.clone()).collect();
        exec(
            tx,
            "UPDATE proj_dialysis_bookings AS b SET pool = (SELECT m.pool FROM proj_dialysis_machines m
                WHERE m.facility_id = b.facility_id AND m.machine_id = b.machine_id
                ORDER BY m.hlc DESC, m.device_id DESC LIMIT 1)
             WHERE b.record_id = ANY($1)
                OR (b.facility_id, b.machine_id) IN (SELECT * FROM unnest($2::uuid[], $3::text[]))",
            &[&bids, &mfac, &mid],
        )
        .await?;
    }
    Ok(())
}

/// Back-fills the projections from the whole change log (run once, right after the migration
/// that creates them, in its transaction).
pub async fn backfill(tx: &impl GenericClient) -> Result<(), StoreError> {
    let mut last = 0i64;
    loop {
        let rows = tx
            .query(
                "SELECT id, record_id, kind, facility_id, device_id, device_seq, hlc, schema_version, payload
                 FROM change_log WHERE id > $1 AND kind = ANY($2)
                 ORDER BY id LIMIT 5000",
                &[&last, &&projections::PROJECTED_KINDS[..]],
            )
            .await?;
        if rows.is_empty() {
            break;
        }
        let mut envs = Vec::with_capacity(rows.len());
        for r in &rows {
            last = r.get(0);
            let Ok(payload) = serde_json::value::RawValue::from_string(r.get(8)) else {
                continue;
            };
            envs.push(Envelope {
                id: r.get(1),
                kind: r.get(2),
                facility: r.get(3),
                device: r.get(4),
                seq: r.get::<_, i64>(5) as u64,
                hlc: swagat_sync_protocol::Hlc::from_u64(r.get::<_, i64>(6) as u64),
                schema: r.get::<_, i32>(7) as u32,
                payload,
            });
        }
        apply(tx, &envs).await?;
    }
    Ok(())
}
