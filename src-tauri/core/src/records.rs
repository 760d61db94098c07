//! The facility's shared records: what every kiosk of a facility holds of every patient and visit,
//! whichever counter wrote them, and how their versions merge.
//!
//! A facility has several counters; each kiosk writes patients and visits, and may edit or cancel
//! any of the facility's records. So that concurrent edits at two counters both survive, the
//! payload of a `patient` or `visit` carries a clock per field (`_clock`, see
//! `swagat_sync_protocol::merge`): a local write stamps the fields it changed with a fresh HLC and
//! this kiosk's device id ([`queue_patient`], [`queue_visit`]); a pulled version is merged field
//! by field into the state held so far ([`fold_shared`]). The merged state of each record is kept
//! in `sync_record_state` (migration 0008) and the domain rows (`patients`, `visits`) are its
//! projection, so search, the FTS index, phonetic keys, returning-patient detection and reports
//! see the whole facility. Projections write the tables directly: a folded record is never queued
//! to the outbox as if this kiosk had written it.
//!
//! Merges of duplicates: `merged_into` is a field like any other, and the record a patient lives
//! in is found by following it ([`swagat_sync_protocol::merge::merge_root`]); a cycle left by two
//! counters merging X into Y and Y into X at once keeps the smallest id, everywhere. Visits follow
//! their patient's root.
//!
//! The dialysis unit's records (`dialysis_machine`, `dialysis_patient`, `dialysis_booking`) are
//! whole records: the version with the greater (HLC, device) stamp wins ([`fold_dialysis`]).

use std::collections::HashSet;

use rusqlite::{params, Connection, OptionalExtension};
use serde::Deserialize;
use serde_json::{Map, Value};
use swagat_sync_protocol::kinds;
use swagat_sync_protocol::merge::{self, Stamp};
use swagat_sync_protocol::Hlc;

use crate::audit::Actor;
use crate::error::{CoreError, Result};
use crate::opd::edit::keep_version;
use crate::opd::patients::{self, PatientAddress};
use crate::opd::{names, visits};

/// Device id used in clocks before the kiosk is enrolled.
pub const UNENROLLED_DEVICE: &str = "unenrolled";

fn corrupt(e: impl std::fmt::Display) -> CoreError {
    CoreError::Corrupt(e.to_string())
}

/// This kiosk's enrollment, as far as folding needs it: (device id, facility id).
pub fn enrollment(conn: &Connection) -> Result<Option<(String, String)>> {
    let row: Option<(Option<String>, Option<String>)> = conn
        .query_row(
            "SELECT json_extract(credentials, '$.device_id'), json_extract(credentials, '$.facility_id') \
             FROM sync_state WHERE id = 1 AND credentials IS NOT NULL",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    Ok(match row {
        Some((Some(d), Some(f))) => Some((d, f)),
        _ => None,
    })
}

/// The device id this kiosk stamps its writes with.
pub fn own_device(conn: &Connection) -> Result<String> {
    Ok(enrollment(conn)?
        .map(|(d, _)| d)
        .unwrap_or_else(|| UNENROLLED_DEVICE.to_owned()))
}

/// A fresh stamp for a local write: the kiosk's HLC ticked (and saved) and its device id.
fn next_stamp(conn: &Connection) -> Result<Stamp> {
    let hlc: i64 = conn.query_row("SELECT hlc FROM sync_state WHERE id = 1", [], |r| r.get(0))?;
    let now = crate::clock::now_utc().unix_timestamp_nanos() / 1_000_000;
    let next = Hlc::from_u64(hlc as u64).tick(u64::try_from(now).unwrap_or(0));
    conn.execute(
        "UPDATE sync_state SET hlc = ?1 WHERE id = 1",
        [next.to_u64() as i64],
    )?;
    Ok(Stamp::new(next.to_u64(), own_device(conn)?))
}

/// The merged state held for record `key` of `kind`.
pub fn held(conn: &Connection, kind: &str, key: &str) -> Result<Option<Value>> {
    let s: Option<String> = conn
        .prepare_cached("SELECT state FROM sync_record_state WHERE kind = ?1 AND key = ?2")?
        .query_row([kind, key], |r| r.get(0))
        .optional()?;
    s.map(|s| serde_json::from_str(&s).map_err(corrupt))
        .transpose()
}

fn save(conn: &Connection, kind: &str, key: &str, state: &Value) -> Result<()> {
    let reference = match kind {
        kinds::PATIENT => state.get("merged_into"),
        kinds::VISIT => state.get("patient_id"),
        _ => None,
    }
    .and_then(Value::as_str);
    conn.prepare_cached(
        "INSERT INTO sync_record_state (kind, key, state, merged_into) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (kind, key) DO UPDATE SET state = excluded.state, merged_into = excluded.merged_into",
    )?
    .execute(params![kind, key, state.to_string(), reference])?;
    Ok(())
}

/// A patient's merge target as held (the raw field, before cycles are resolved).
fn raw_merged_into(conn: &Connection, id: &str) -> Option<String> {
    let held: rusqlite::Result<Option<Option<String>>> = conn
        .prepare_cached(
            "SELECT json_extract(state, '$.merged_into') FROM sync_record_state \
             WHERE kind = ?2 AND key = ?1",
        )
        .and_then(|mut s| s.query_row([id, kinds::PATIENT], |r| r.get(0)).optional());
    match held {
        Ok(Some(v)) => v,
        // A record from before shared states: its row says.
        _ => conn
            .prepare_cached("SELECT merged_into FROM patients WHERE id = ?1")
            .and_then(|mut s| s.query_row([id], |r| r.get(0)).optional())
            .ok()
            .flatten()
            .flatten(),
    }
}

/// The patient record `id` finally lives in (itself when kept), cycles resolved.
pub fn root_of(conn: &Connection, id: &str) -> String {
    merge::merge_root(id, |p| raw_merged_into(conn, p))
}

fn patient_exists(conn: &Connection, id: &str) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM patients WHERE id = ?1)")?
        .query_row([id], |r| r.get(0))?)
}

/// The shared payload of patient `id` as its row says (the Aadhaar hash travels with the id of
/// the key that made it; a peer compares it only with hashes of the same key).
fn patient_payload(conn: &Connection, id: &str) -> Result<Value> {
    let p = patients::get(conn, id)?;
    let mut v = serde_json::to_value(&p).map_err(corrupt)?;
    v["aadhaar_hash"] = patients::stored_aadhaar_hash(conn, id)?.into();
    v["aadhaar_key_id"] = patients::stored_aadhaar_key_id(conn, id)?.into();
    Ok(v)
}

/// The shared payload of visit `id` (`prints` is this counter's own and stays local).
fn visit_payload(conn: &Connection, id: &str) -> Result<Value> {
    let v = visits::get(conn, id)?;
    let mut out = serde_json::to_value(&v).map_err(corrupt)?;
    if let Some(o) = out.as_object_mut() {
        o.remove("prints");
    }
    let (letter, token_no, cancel_reason): (String, i64, Option<String>) = conn.query_row(
        "SELECT kiosk_letter, token_no, cancel_reason FROM visits WHERE id = ?1",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    out["kiosk_letter"] = letter.into();
    out["token_no"] = token_no.into();
    out["cancel_reason"] = cancel_reason.into();
    // The scan-and-share marker (sync/PROTOCOL.md): the visit was registered from a share.
    if let Some(share) = crate::shares::share_of_visit(conn, id)? {
        out["share_id"] = share.into();
        out["via"] = "scan_share".into();
    }
    Ok(out)
}

/// Stamps what changed in `payload` against the state held, keeps the new state and queues it.
fn queue_shared(conn: &Connection, kind: &str, id: &str, mut payload: Value) -> Result<u64> {
    let held = held(conn, kind, id)?;
    if kind == kinds::PATIENT && payload.get("merged_into").is_some_and(Value::is_null) {
        // Only a merge writes `merged_into`, and always to a record. A row showing none while
        // the held state has one is the kept record of a merge cycle, or waits for its target
        // to arrive: an edit of it is not an unmerge.
        if let Some(raw) = held.as_ref().and_then(|h| h.get("merged_into")) {
            payload["merged_into"] = raw.clone();
        }
    }
    let at = next_stamp(conn)?;
    let state = merge::stamp_local(held.as_ref(), &payload, &at).map_err(corrupt)?;
    save(conn, kind, id, &state)?;
    let record_id =
        uuid::Uuid::parse_str(id).map_err(|_| corrupt(format!("{kind} id is not a UUID")))?;
    Ok(swagat_sync_client::sqlite::append_outbox(
        conn,
        kind,
        record_id,
        &state.to_string(),
    )?)
}

/// Queues patient `id` as its row now is (create, edit, merge), stamping the changed fields.
pub fn queue_patient(conn: &Connection, id: &str) -> Result<u64> {
    let payload = patient_payload(conn, id)?;
    queue_shared(conn, kinds::PATIENT, id, payload)
}

/// Queues visit `id` as its row now is (create, cancel, moved by a merge).
pub fn queue_visit(conn: &Connection, id: &str) -> Result<u64> {
    let payload = visit_payload(conn, id)?;
    queue_shared(conn, kinds::VISIT, id, payload)
}

/// A patient as a shared payload carries it.
#[derive(Debug, Deserialize)]
struct SharedPatient {
    uhid: String,
    name: String,
    #[serde(default)]
    name_hi: Option<String>,
    gender: String,
    #[serde(default)]
    dob: Option<String>,
    #[serde(default)]
    dob_approximate: bool,
    #[serde(default)]
    year_of_birth: Option<i32>,
    #[serde(default)]
    guardian_relation: Option<String>,
    #[serde(default)]
    guardian_name: Option<String>,
    #[serde(default)]
    mobile: Option<String>,
    #[serde(default)]
    address: PatientAddress,
    #[serde(default)]
    aadhaar_last4: Option<String>,
    #[serde(default)]
    aadhaar_hash: Option<String>,
    #[serde(default)]
    aadhaar_key_id: Option<String>,
    #[serde(default)]
    abha_number: Option<String>,
    #[serde(default)]
    abha_address: Option<String>,
    #[serde(default = "general")]
    category: String,
    #[serde(default)]
    aadhaar_consent: bool,
    created_at: String,
    updated_at: String,
}

fn general() -> String {
    "general".to_owned()
}

/// A visit as a shared payload carries it.
#[derive(Debug, Deserialize)]
struct SharedVisit {
    patient_id: String,
    department: String,
    visit_date: String,
    token: String,
    #[serde(default)]
    kiosk_letter: Option<String>,
    #[serde(default)]
    token_no: Option<i64>,
    visit_type: String,
    fee_rupees: i64,
    #[serde(default)]
    waiver_code: Option<String>,
    #[serde(default)]
    waiver_reason: Option<String>,
    valid_until: String,
    status: String,
    #[serde(default)]
    cancel_reason: Option<String>,
    #[serde(default)]
    abha_linked: bool,
    created_at: String,
}

/// What [`fold_shared`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SharedFold {
    /// The record is new here.
    Created,
    /// The merged state changed the record.
    Updated,
    /// Nothing new (a replay, or every field already newer here).
    Unchanged,
}

/// Merges a pulled version of a `patient` or `visit` (written by `envelope`'s device at its
/// HLC) into the state held and projects it onto the domain tables. Never queues anything.
pub fn fold_shared(
    tx: &Connection,
    kind: &str,
    id: &str,
    envelope: &Stamp,
    payload: &str,
) -> Result<SharedFold> {
    let incoming: Value = serde_json::from_str(payload).map_err(corrupt)?;
    let existing = held(tx, kind, id)?;
    let base = match existing.clone() {
        Some(h) => Some(h),
        // A row written before shared states (or restored from a backup without them): every
        // field counts as older than any pulled version.
        None => {
            let row = match kind {
                kinds::PATIENT if patient_exists(tx, id)? => Some(patient_payload(tx, id)?),
                kinds::VISIT if visits::get(tx, id).is_ok() => Some(visit_payload(tx, id)?),
                _ => None,
            };
            row.map(|r| merge::normalise(&r, &Stamp::default()))
                .transpose()
                .map_err(corrupt)?
        }
    };
    let merged = merge::merge_incoming(base.as_ref(), &incoming, envelope).map_err(corrupt)?;
    if existing.as_ref() == Some(&merged) {
        return Ok(SharedFold::Unchanged);
    }
    save(tx, kind, id, &merged)?;
    let fields = Value::Object(merge::fields(&merged));
    match kind {
        kinds::PATIENT => project_patient(tx, id, &fields, envelope),
        kinds::VISIT => project_visit(tx, id, &fields, envelope),
        other => Err(corrupt(format!("{other} is not a shared record kind"))),
    }
}

fn project_patient(tx: &Connection, id: &str, f: &Value, by: &Stamp) -> Result<SharedFold> {
    let p: SharedPatient = serde_json::from_value(f.clone()).map_err(corrupt)?;
    let actor = format!("device:{}", by.device);
    let exists = patient_exists(tx, id)?;
    let before = if exists {
        Some(patients::get(tx, id)?)
    } else {
        None
    };
    let a = &p.address.postal;
    // A hash is kept only with the id of the key that made it (like is compared with like).
    let hash = p.aadhaar_key_id.as_ref().and(p.aadhaar_hash.as_ref());
    let values = params![
        id,
        p.uhid,
        p.name,
        p.name_hi,
        names::name_key(&p.name),
        p.gender,
        p.dob,
        p.dob_approximate,
        p.year_of_birth,
        p.guardian_relation,
        p.guardian_name,
        p.mobile,
        a.house,
        a.street,
        a.landmark,
        a.locality,
        a.vtc,
        a.post_office,
        a.sub_district,
        a.district,
        a.state,
        p.address.state_lgd,
        p.address.district_lgd,
        a.pincode,
        p.aadhaar_last4,
        hash,
        hash.and(p.aadhaar_key_id.as_ref()),
        p.abha_number,
        p.abha_address,
        p.category,
        p.aadhaar_consent,
        p.aadhaar_consent
            .then_some(patients::CONSENT_NOTICE_VERSION),
        p.created_at,
        p.updated_at,
        actor,
        // The cross-script search words of both names (migration 0012), so peers are found too.
        names::search_key(&p.name, p.name_hi.as_deref()),
    ];
    if let Some(before) = &before {
        let merging =
            f.get("merged_into").and_then(Value::as_str).is_some() && before.merged_into.is_none();
        keep_version(
            tx,
            before,
            if merging { "merge" } else { "edit" },
            &Actor::System,
        )?;
        tx.prepare_cached(
            "UPDATE patients SET uhid = ?2, name = ?3, name_hi = ?4, name_key = ?5, gender = ?6, \
             dob = ?7, dob_approximate = ?8, year_of_birth = ?9, guardian_relation = ?10, \
             guardian_name = ?11, mobile = ?12, house = ?13, street = ?14, landmark = ?15, \
             locality = ?16, vtc = ?17, post_office = ?18, sub_district = ?19, district = ?20, \
             state = ?21, state_lgd = ?22, district_lgd = ?23, pincode = ?24, aadhaar_last4 = ?25, \
             aadhaar_hash = ?26, aadhaar_key_id = ?27, abha_number = ?28, abha_address = ?29, \
             category = ?30, aadhaar_consent = ?31, consent_notice = ?32, created_at = ?33, \
             updated_at = ?34, updated_by = ?35, search_key = ?36 WHERE id = ?1",
        )?
        .execute(values)?;
    } else {
        tx.prepare_cached(
            "INSERT INTO patients (id, uhid, name, name_hi, name_key, gender, dob, dob_approximate, \
             year_of_birth, guardian_relation, guardian_name, mobile, house, street, landmark, \
             locality, vtc, post_office, sub_district, district, state, state_lgd, district_lgd, \
             pincode, aadhaar_last4, aadhaar_hash, aadhaar_key_id, abha_number, abha_address, \
             category, aadhaar_consent, consent_notice, created_at, updated_at, created_by, updated_by, \
             search_key) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, \
             ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33, ?34, \
             ?35, ?35, ?36)",
        )?
        .execute(values)?;
    }
    resolve_merges(tx, id)?;
    Ok(if exists {
        SharedFold::Updated
    } else {
        SharedFold::Created
    })
}

/// Re-resolves where `id` and every record merged (directly or not) into it live, after `id`'s
/// state changed: `patients.merged_into` becomes the resolved root (NULL for a kept record, or
/// while the target is not here yet), and visits follow their patient's root.
fn resolve_merges(tx: &Connection, id: &str) -> Result<()> {
    // The records whose root may have changed: `id`, those pointing at it (transitively), and
    // the chain `id` points along (a cycle through `id`).
    let mut todo = vec![id.to_owned()];
    let mut seen: HashSet<String> = HashSet::new();
    while let Some(r) = todo.pop() {
        if !seen.insert(r.clone()) || seen.len() > 10_000 {
            continue;
        }
        let pointing: Vec<String> = tx
            .prepare_cached(
                "SELECT key FROM sync_record_state WHERE kind = ?2 AND merged_into = ?1",
            )?
            .query_map([r.as_str(), kinds::PATIENT], |row| row.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        todo.extend(pointing);
        if let Some(next) = raw_merged_into(tx, &r) {
            todo.push(next);
        }
    }
    for r in &seen {
        if !patient_exists(tx, r)? {
            continue;
        }
        let root = root_of(tx, r);
        let target = (root != *r && patient_exists(tx, &root)?).then_some(root.clone());
        tx.prepare_cached(
            "UPDATE patients SET merged_into = ?2 WHERE id = ?1 AND merged_into IS NOT ?2",
        )?
        .execute(params![r, target])?;
        // Visits whose held patient is `r` live with `r`'s root.
        let home = target.as_deref().unwrap_or(r.as_str());
        tx.prepare_cached(
            "UPDATE visits SET patient_id = ?2 WHERE patient_id <> ?2 AND id IN \
             (SELECT key FROM sync_record_state WHERE kind = ?3 AND merged_into = ?1)",
        )?
        .execute(params![r, home, kinds::VISIT])?;
    }
    Ok(())
}

fn project_visit(tx: &Connection, id: &str, f: &Value, by: &Stamp) -> Result<SharedFold> {
    let v: SharedVisit = serde_json::from_value(f.clone()).map_err(corrupt)?;
    // Old payloads carry only the token ("B-017"): its letter and number.
    let (letter, number) = match (&v.kiosk_letter, v.token_no) {
        (Some(l), Some(n)) => (l.clone(), n),
        _ => {
            let (l, n) = v
                .token
                .rsplit_once('-')
                .ok_or_else(|| corrupt("visit token without a kiosk letter"))?;
            (l.to_owned(), n.parse::<i64>().map_err(corrupt)?)
        }
    };
    let root = root_of(tx, &v.patient_id);
    let patient = if patient_exists(tx, &root)? {
        root
    } else {
        v.patient_id.clone()
    };
    let exists = visits::get(tx, id).is_ok();
    tx.prepare_cached(
        "INSERT INTO visits (id, patient_id, department, visit_date, kiosk_letter, token_no, token, \
         visit_type, fee_rupees, waiver_code, waiver_reason, valid_until, status, cancel_reason, \
         abha_linked, created_at, created_by) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17) \
         ON CONFLICT (id) DO UPDATE SET patient_id = excluded.patient_id, \
           department = excluded.department, visit_date = excluded.visit_date, \
           kiosk_letter = excluded.kiosk_letter, token_no = excluded.token_no, \
           token = excluded.token, visit_type = excluded.visit_type, \
           fee_rupees = excluded.fee_rupees, waiver_code = excluded.waiver_code, \
           waiver_reason = excluded.waiver_reason, valid_until = excluded.valid_until, \
           status = excluded.status, cancel_reason = excluded.cancel_reason, \
           abha_linked = excluded.abha_linked",
    )?
    .execute(params![
        id,
        patient,
        v.department,
        v.visit_date,
        letter,
        number,
        v.token,
        v.visit_type,
        v.fee_rupees,
        v.waiver_code,
        v.waiver_reason,
        v.valid_until,
        v.status,
        v.cancel_reason,
        v.abha_linked,
        v.created_at,
        format!("device:{}", by.device),
    ])?;
    Ok(if exists {
        SharedFold::Updated
    } else {
        SharedFold::Created
    })
}

/// The stamp of a dialysis record's applied version (`key`: its domain key).
fn dialysis_stamp(conn: &Connection, kind: &str, key: &str) -> Result<Option<Stamp>> {
    Ok(held(conn, kind, key)?.and_then(|v| {
        let a = v.get("stamp")?.as_array()?.clone();
        Some(Stamp::new(a.first()?.as_u64()?, a.get(1)?.as_str()?))
    }))
}

/// Remembers the stamp of the version of a dialysis record this kiosk holds (its own write, as
/// queued by `outbox::flush_changed`, or a folded one).
pub fn note_dialysis_stamp(conn: &Connection, kind: &str, key: &str, stamp: &Stamp) -> Result<()> {
    save(
        conn,
        kind,
        key,
        &serde_json::json!({ "stamp": [stamp.hlc, stamp.device] }),
    )
}

#[derive(Debug, Deserialize)]
struct SharedMachine {
    id: String,
    name: String,
    pool: String,
    active: bool,
    created_at: String,
    #[serde(default)]
    maintenance: Vec<SharedMaintenance>,
}

#[derive(Debug, Deserialize)]
struct SharedMaintenance {
    id: String,
    from_date: String,
    to_date: Option<String>,
    reason: String,
}

#[derive(Debug, Deserialize)]
struct SharedDialysisPatient {
    patient_id: String,
    hbsag: String,
    hbsag_tested_on: Option<String>,
    hcv: String,
    hcv_tested_on: Option<String>,
    hiv: String,
    hiv_tested_on: Option<String>,
    vascular_access: Option<String>,
    dry_weight_kg: Option<f64>,
    eligibility: Option<String>,
    eligible: bool,
    updated_at: String,
}

#[derive(Debug, Deserialize)]
struct SharedBooking {
    id: String,
    patient_id: String,
    date: String,
    shift: i64,
    machine_id: Option<String>,
    status: String,
    priority: i64,
    requested_at: String,
    series_id: Option<String>,
    pre_weight_kg: Option<f64>,
    post_weight_kg: Option<f64>,
    #[serde(default = "local")]
    source: String,
    online_request_id: Option<String>,
    #[serde(default)]
    warnings: Value,
    status_reason: Option<String>,
    updated_at: String,
}

fn local() -> String {
    "local".to_owned()
}

fn changed_list(tx: &Connection) -> Result<HashSet<(String, String)>> {
    Ok(tx
        .prepare_cached("SELECT kind, local_id FROM sync_changed")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?)
}

/// Applies a pulled dialysis record (machine, dialysis patient, booking) of the facility if its
/// stamp is newer than the version held. The dialysis triggers list what the write touched in
/// `sync_changed`; those entries are removed again, so the peer's record is never queued as this
/// kiosk's own. Returns whether it was applied.
pub fn fold_dialysis(tx: &Connection, kind: &str, envelope: &Stamp, payload: &str) -> Result<bool> {
    let v: Value = serde_json::from_str(payload).map_err(corrupt)?;
    let key_field = if kind == kinds::DIALYSIS_PATIENT {
        "patient_id"
    } else {
        "id"
    };
    let key = v
        .get(key_field)
        .and_then(Value::as_str)
        .ok_or_else(|| corrupt(format!("{kind} without {key_field}")))?
        .to_owned();
    if dialysis_stamp(tx, kind, &key)?.is_some_and(|held| held >= *envelope) {
        return Ok(false);
    }
    let before = changed_list(tx)?;
    let mut losers: Vec<Clash> = Vec::new();
    match kind {
        kinds::DIALYSIS_MACHINE => {
            let mut m: SharedMachine = serde_json::from_value(v).map_err(corrupt)?;
            m.name = settle_machine_name(tx, &m.id, &m.name)?;
            tx.execute(
                "INSERT INTO dialysis_machines (id, name, pool, active, created_at) VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, pool = excluded.pool, \
                 active = excluded.active",
                params![m.id, m.name, m.pool, m.active, m.created_at],
            )?;
            let keep: Vec<String> = m.maintenance.iter().map(|x| x.id.clone()).collect();
            let existing: Vec<String> = tx
                .prepare_cached("SELECT id FROM dialysis_maintenance WHERE machine_id = ?1")?
                .query_map([&m.id], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            for gone in existing.iter().filter(|e| !keep.contains(e)) {
                tx.execute("DELETE FROM dialysis_maintenance WHERE id = ?1", [gone])?;
            }
            for x in &m.maintenance {
                tx.execute(
                    "INSERT INTO dialysis_maintenance (id, machine_id, from_date, to_date, reason, created_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (id) DO UPDATE SET \
                     from_date = excluded.from_date, to_date = excluded.to_date, reason = excluded.reason",
                    params![x.id, m.id, x.from_date, x.to_date, x.reason, m.created_at],
                )?;
            }
        }
        kinds::DIALYSIS_PATIENT => {
            let p: SharedDialysisPatient = serde_json::from_value(v).map_err(corrupt)?;
            let patient = root_of(tx, &p.patient_id);
            tx.execute(
                "INSERT INTO dialysis_patients (patient_id, hbsag, hbsag_tested_on, hcv, hcv_tested_on, \
                 hiv, hiv_tested_on, vascular_access, dry_weight_kg, eligibility, eligible, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) \
                 ON CONFLICT (patient_id) DO UPDATE SET hbsag = excluded.hbsag, \
                 hbsag_tested_on = excluded.hbsag_tested_on, hcv = excluded.hcv, \
                 hcv_tested_on = excluded.hcv_tested_on, hiv = excluded.hiv, \
                 hiv_tested_on = excluded.hiv_tested_on, vascular_access = excluded.vascular_access, \
                 dry_weight_kg = excluded.dry_weight_kg, eligibility = excluded.eligibility, \
                 eligible = excluded.eligible, updated_at = excluded.updated_at",
                params![
                    patient,
                    p.hbsag,
                    p.hbsag_tested_on,
                    p.hcv,
                    p.hcv_tested_on,
                    p.hiv,
                    p.hiv_tested_on,
                    p.vascular_access,
                    p.dry_weight_kg,
                    p.eligibility,
                    p.eligible,
                    p.updated_at
                ],
            )?;
        }
        kinds::DIALYSIS_BOOKING => {
            let mut b: SharedBooking = serde_json::from_value(v).map_err(corrupt)?;
            b.patient_id = root_of(tx, &b.patient_id);
            losers = settle_booking_clashes(tx, &mut b)?;
            let warnings = if b.warnings.is_array() {
                b.warnings.to_string()
            } else {
                "[]".to_owned()
            };
            tx.execute(
                "INSERT INTO dialysis_bookings (id, patient_id, date, shift, machine_id, status, priority, \
                 requested_at, series_id, pre_weight_kg, post_weight_kg, source, online_request_id, \
                 warnings, status_reason, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16) \
                 ON CONFLICT (id) DO UPDATE SET patient_id = excluded.patient_id, date = excluded.date, \
                 shift = excluded.shift, machine_id = excluded.machine_id, status = excluded.status, \
                 priority = excluded.priority, requested_at = excluded.requested_at, \
                 series_id = excluded.series_id, pre_weight_kg = excluded.pre_weight_kg, \
                 post_weight_kg = excluded.post_weight_kg, source = excluded.source, \
                 online_request_id = excluded.online_request_id, warnings = excluded.warnings, \
                 status_reason = excluded.status_reason, updated_at = excluded.updated_at",
                params![
                    b.id,
                    b.patient_id,
                    b.date,
                    b.shift,
                    b.machine_id,
                    b.status,
                    b.priority,
                    b.requested_at,
                    b.series_id,
                    b.pre_weight_kg,
                    b.post_weight_kg,
                    b.source,
                    b.online_request_id,
                    warnings,
                    b.status_reason,
                    b.updated_at
                ],
            )?;
        }
        other => return Err(corrupt(format!("{other} is not a dialysis record kind"))),
    }
    // Not this kiosk's write: nothing it listed goes to the outbox.
    for (k, id) in changed_list(tx)?.difference(&before) {
        tx.prepare_cached("DELETE FROM sync_changed WHERE kind = ?1 AND local_id = ?2")?
            .execute([k, id])?;
    }
    note_dialysis_stamp(tx, kind, &key, envelope)?;
    // …except the settling of a clash, which is this kiosk's decision: the booking that lost is
    // queued (so every kiosk ends with the same version), its slot served again, and the nurse
    // finds it in the audit log and on the waitlist with its reason.
    for c in &losers {
        tx.prepare_cached("INSERT OR IGNORE INTO sync_changed (kind, local_id) VALUES (?1, ?2)")?
            .execute([kinds::DIALYSIS_BOOKING, c.loser.as_str()])?;
        crate::audit::record(
            tx,
            &Actor::System,
            swagat_dialysis::actions::SYNC_CLASH,
            swagat_dialysis::entities::BOOKING,
            Some(&c.loser),
            serde_json::json!({ "kept": c.winner, "clash": c.what, "date": c.date, "shift": c.shift }),
        )?;
        if c.what == "slot" {
            swagat_dialysis::alloc::serve_slot(tx, &c.date, c.shift).map_err(CoreError::from)?;
        }
    }
    Ok(true)
}

/// A clash settled by [`settle_booking_clashes`].
#[derive(Debug)]
struct Clash {
    /// `slot` (one machine, date and shift) or `day` (one patient, one date).
    what: &'static str,
    winner: String,
    loser: String,
    date: String,
    shift: u32,
}

/// Which of two clashing bookings keeps its place: a session that happened (checked in or
/// completed) before a confirmed one before a waiting one, then the smaller id. Every kiosk
/// decides the same way, whichever version it saw first.
fn clash_rank<'a>(status: &str, id: &'a str) -> (u8, &'a str) {
    let r = match status {
        "checked_in" | "completed" => 0,
        "confirmed" => 1,
        "waitlisted" => 2,
        _ => 3,
    };
    (r, id)
}

/// Two counters may book one machine-shift for two patients, or one patient twice on one day,
/// before either hears of the other. Folding the second would break a UNIQUE index and fail at
/// every pull; instead the clash is settled deterministically ([`clash_rank`]): the loser of a
/// machine-shift goes back onto the waitlist (and is served again: another free machine of its
/// pool, or it waits), the loser of a patient-day is cancelled; its `status_reason` names the
/// booking that kept the place. Changes `b` when the pulled booking loses; returns the losers.
fn settle_booking_clashes(tx: &Connection, b: &mut SharedBooking) -> Result<Vec<Clash>> {
    let mut out = Vec::new();
    // The day first: a booking cancelled there no longer holds a machine.
    let patient = Some(b.patient_id.clone());
    out.extend(settle_clash(tx, b, &PATIENT_DAY, patient)?);
    let machine = b.machine_id.clone();
    out.extend(settle_clash(tx, b, &MACHINE_SHIFT, machine)?);
    Ok(out)
}

/// One kind of booking clash: the place two bookings cannot share, and what the loser becomes.
struct ClashRule {
    /// `day` or `slot`, as [`Clash::what`] names it.
    what: &'static str,
    /// The statuses of a booking that holds the place.
    holding: &'static [&'static str],
    /// The other booking holding it: `?1` the place's key (patient or machine), `?2` the date,
    /// `?3` the shift (unused by a rule without one), `?4` the pulled booking's id; answers
    /// `id, status`.
    find: &'static str,
    /// The loser's status.
    loser_status: &'static str,
    /// The loser gives its machine up.
    frees_machine: bool,
}

/// One patient, one session a day: the loser is cancelled.
const PATIENT_DAY: ClashRule = ClashRule {
    what: "day",
    holding: &["confirmed", "waitlisted", "checked_in", "completed"],
    find: "SELECT id, status FROM dialysis_bookings WHERE patient_id = ?1 AND date = ?2 \
           AND id <> ?4 AND status IN ('confirmed', 'waitlisted', 'checked_in', 'completed') \
           LIMIT 1",
    loser_status: "cancelled",
    frees_machine: false,
};

/// One machine, one patient a shift: the loser goes back onto the waitlist.
const MACHINE_SHIFT: ClashRule = ClashRule {
    what: "slot",
    holding: &["confirmed", "checked_in", "completed"],
    find: "SELECT id, status FROM dialysis_bookings WHERE machine_id = ?1 AND date = ?2 \
           AND shift = ?3 AND id <> ?4 AND status IN ('confirmed', 'checked_in', 'completed') \
           LIMIT 1",
    loser_status: "waitlisted",
    frees_machine: true,
};

/// Settles the pulled booking `b` against the one other booking holding `rule`'s place
/// (`key`: its patient or machine; none: nothing to settle), if there is one.
fn settle_clash(
    tx: &Connection,
    b: &mut SharedBooking,
    rule: &ClashRule,
    key: Option<String>,
) -> Result<Option<Clash>> {
    let Some(key) = key.filter(|_| rule.holding.contains(&b.status.as_str())) else {
        return Ok(None);
    };
    let other: Option<(String, String)> = tx
        .prepare_cached(rule.find)?
        .query_row(params![key, b.date, b.shift, b.id], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    let Some((id, status)) = other else {
        return Ok(None);
    };
    let reason = |winner: &str| format!("{}:{winner}", swagat_dialysis::SYNC_CLASH_REASON);
    let (winner, loser) = if clash_rank(&b.status, &b.id) < clash_rank(&status, &id) {
        tx.execute(
            "UPDATE dialysis_bookings SET status = ?3, status_reason = ?2, \
             machine_id = CASE WHEN ?4 THEN NULL ELSE machine_id END WHERE id = ?1",
            params![id, reason(&b.id), rule.loser_status, rule.frees_machine],
        )?;
        (b.id.clone(), id)
    } else {
        b.status = rule.loser_status.to_owned();
        if rule.frees_machine {
            b.machine_id = None;
        }
        b.status_reason = Some(reason(&id));
        (id, b.id.clone())
    };
    Ok(Some(Clash {
        what: rule.what,
        winner,
        loser,
        date: b.date.clone(),
        shift: u32::try_from(b.shift).unwrap_or(0),
    }))
}

/// Machine names are unique (any letter case), but two counters may name two machines alike (one
/// adds "HD-3" while the other renames its "HD-03" to "HD-3"). So that every kiosk ends with the
/// same names whatever order it folds in, the machine with the smaller id keeps the name and the
/// other is shown as "name · <last 6 of its id>" until a nurse renames it. Returns the name the
/// pulled machine `id` is stored under (renaming the local holder when it must give way; a fold's
/// writes are never queued as this kiosk's own).
fn settle_machine_name(tx: &Connection, id: &str, name: &str) -> Result<String> {
    let holder: Option<(String, String)> = tx
        .prepare_cached("SELECT id, name FROM dialysis_machines WHERE name = ?1 AND id <> ?2")?
        .query_row([name, id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let suffixed = |name: &str, id: &str| {
        let tail = id.get(id.len().saturating_sub(6)..).unwrap_or(id);
        format!("{name} · {tail}")
    };
    match holder {
        None => Ok(name.to_owned()),
        Some((other, other_name)) if id < other.as_str() => {
            tx.execute(
                "UPDATE dialysis_machines SET name = ?2 WHERE id = ?1",
                params![other, suffixed(&other_name, &other)],
            )?;
            Ok(name.to_owned())
        }
        Some(_) => Ok(suffixed(name, id)),
    }
}

/// One shared record's fields: (kind, id, fields without clocks).
pub type SharedRecord = (String, String, Map<String, Value>);

/// The kiosk's view of the shared state of every patient and visit (fields, no clocks), for
/// comparing kiosks in tests and diagnostics: (kind, id, fields) sorted.
pub fn shared_snapshot(conn: &Connection) -> Result<Vec<SharedRecord>> {
    let rows: Vec<(String, String, String)> = conn
        .prepare_cached(
            "SELECT kind, key, state FROM sync_record_state WHERE kind IN (?1, ?2) \
             ORDER BY kind, key",
        )?
        .query_map([kinds::PATIENT, kinds::VISIT], |r| r.try_into())?
        .collect::<rusqlite::Result<_>>()?;
    rows.into_iter()
        .map(|(k, id, s)| {
            let v: Value = serde_json::from_str(&s).map_err(corrupt)?;
            Ok((k, id, merge::fields(&v)))
        })
        .collect()
}
