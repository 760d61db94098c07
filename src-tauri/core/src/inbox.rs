//! Folding records pulled from the state server into the kiosk's domain, exactly once.
//!
//! The sync engine writes each pulled page to `sync_inbox`; [`fold_pending`] runs in that same
//! transaction (the pull hook installed by `Kiosk::sync_store`), so a record is folded if and
//! only if its page is consumed, even across a crash. `sync_folds` remembers which version (HLC)
//! of each record was folded; a version is never folded twice. Kinds folded:
//!
//! - `facility_config` (server-authored, `swagat-server facility add | publish`): the
//!   facility's name (English, Hindi), code, HFR id and LGD codes replace the local ones, and the
//!   state's masters — departments and fee-waiver categories, matched by code — are added or
//!   replaced (the server decides shared configuration). A value the kiosk's validation refuses
//!   is skipped and noted.
//! - `dialysis_request` (an online booking request from the state portal): the portal's patient
//!   is matched to a kiosk patient (ABHA number or address, else mobile + name key + year of
//!   birth) or registered; a dialysis record is created from the portal's serology if the
//!   patient has none (the unit's own record is never overwritten); then
//!   `swagat_dialysis::online::ingest` allocates it under the unit's rules. The answer
//!   (`dialysis_request_result`) is queued by the dialysis triggers in the same transaction. A
//!   kiosk with no dialysis machine (an OPD-only kiosk of the facility) defers requests: they
//!   stay in the inbox, untouched, and are folded at a later pull once machines exist.
//!
//! Those two are **server-only kinds** (`swagat_sync_protocol::kinds::SERVER_ONLY_KINDS`): they
//! are folded only when the envelope's device is the facility id (the server as author). A record
//! of a server-only kind from any other device is never applied: it is marked `refused` in
//! `sync_folds` and a warning without personal data is logged — a stolen kiosk credential cannot
//! rename the facility, change its fees or book dialysis slots on the other kiosks.
//!
//! The facility's kiosk records — `patient`, `visit`, `dialysis_machine`, `dialysis_patient`,
//! `dialysis_booking`, from the other counters, or the kiosk's own brought back by a recovery
//! pull — are staged version by version in `sync_fold_queue` ([`fold_page`], the pull hook) and
//! merged into the kiosk's tables by [`crate::records`], never queued as the kiosk's own.
//!
//! Other kinds stay in the inbox untouched. A fold that fails is rolled back alone (a
//! savepoint), marked `failed` with the reason, and retried at the next pull; it never blocks
//! sync. Nothing here logs personal data.

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use swagat_dialysis::{self as dialysis, PatientUpdate, Refusal, Serology};

use crate::audit::{self, Actor};
use crate::clock;
use crate::config::{self, ConfigPatch};
use crate::error::{CoreError, Result};
use crate::opd::{self, patients, PatientInput};
use swagat_sync_protocol::kinds;
use swagat_sync_protocol::merge::Stamp;

/// Kind of the server-authored facility configuration record.
pub const FACILITY_CONFIG_KIND: &str = kinds::FACILITY_CONFIG;
/// Kind of an online dialysis request from the state portal.
pub const DIALYSIS_REQUEST_KIND: &str = kinds::DIALYSIS_REQUEST;

/// Kinds folded, in the order a page is folded: the configuration first (it may bring the
/// departments visits refer to), then patients before the visits and dialysis records that name
/// them, machines before bookings, and the portal's requests last.
const FOLD_ORDER: &[&str] = &[
    kinds::FACILITY_CONFIG,
    kinds::PATIENT,
    kinds::VISIT,
    kinds::DIALYSIS_MACHINE,
    kinds::DIALYSIS_PATIENT,
    kinds::DIALYSIS_BOOKING,
    kinds::DIALYSIS_REQUEST,
];

/// What one fold did.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Folded {
    /// Applied; the note says how (no personal data).
    Done(String),
    /// Not applicable yet; try again later.
    Deferred(String),
    /// Never applied (a server-only kind from a device); kept in the inbox for the record.
    Refused(String),
}

/// Counts of one [`fold_pending`] run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FoldReport {
    /// Records folded.
    pub folded: usize,
    /// Records left for later (e.g. no dialysis machine on this kiosk).
    pub deferred: usize,
    /// Records whose fold failed (kept, retried at the next pull).
    pub failed: usize,
    /// Records refused: a server-only kind whose envelope was not written by the server.
    pub refused: usize,
}

fn now_ms() -> i64 {
    clock::now_utc().unix_timestamp_nanos() as i64 / 1_000_000
}

/// Installs the state's keys from the stored credential if the core does not have them yet (a
/// kiosk enrolled by an older build, or enrolled through the engine alone).
pub fn install_credential_keys(tx: &Connection) -> Result<bool> {
    let row: Option<(Option<String>, Option<String>, Option<String>)> = tx
        .query_row(
            "SELECT json_extract(credentials, '$.aadhaar_key'), json_extract(credentials, '$.aadhaar_key_id'), \
             json_extract(credentials, '$.slip_link_key') FROM sync_state WHERE id = 1 AND credentials IS NOT NULL",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((aadhaar, aadhaar_id, slip)) = row else {
        return Ok(false);
    };
    let mut changed = false;
    if let Some(k) = aadhaar {
        changed |= opd::secrets::install_state_key(tx, &k, aadhaar_id.as_deref())?;
    }
    if let Some(k) = slip {
        changed |= crate::slip::install_facility_link_key(tx, &k)?;
    }
    if changed {
        audit::record(
            tx,
            &Actor::System,
            crate::audit::actions::SYNC_KEYS,
            "facility",
            None,
            serde_json::json!({ "aadhaar_key_id": opd::secrets::stored_key_id(tx)? }),
        )?;
    }
    Ok(changed)
}

/// Kiosk kinds folded from the facility's other kiosks (and from the kiosk's own past, in a
/// recovery pull): every version is staged in `sync_fold_queue` and merged.
const PEER_KINDS: &[&str] = &[
    kinds::PATIENT,
    kinds::VISIT,
    kinds::DIALYSIS_MACHINE,
    kinds::DIALYSIS_PATIENT,
    kinds::DIALYSIS_BOOKING,
];

/// The pull hook: stages every version of a pulled page's kiosk records (the inbox keeps only the
/// newest per record, but concurrent versions from two counters must all be merged), then folds
/// what is pending ([`fold_pending`]). Call inside the transaction that applied the page.
pub fn fold_page(tx: &Connection, page: &[swagat_sync_protocol::Envelope]) -> Result<FoldReport> {
    for e in page
        .iter()
        .filter(|e| PEER_KINDS.contains(&e.kind.as_str()))
    {
        tx.prepare_cached(
            "INSERT OR IGNORE INTO sync_fold_queue (record_id, kind, device_id, hlc, payload) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![
            e.id.to_string(),
            e.kind,
            e.device.to_string(),
            e.hlc.to_u64() as i64,
            e.payload.get()
        ])?;
    }
    fold_pending(tx)
}

/// One thing to fold: a server record from the inbox, or a staged kiosk record version.
struct Todo {
    record_id: String,
    kind: String,
    device: String,
    hlc: i64,
    payload: String,
    staged: bool,
}

/// Folds every pending record: server-authored ones from the inbox whose current version is not
/// folded yet (new, deferred and failed ones), and every staged version of the facility's kiosk
/// records, in kind order (configuration first, patients before visits and dialysis records)
/// and HLC order; then queues what the folds changed (the kiosk's own answers only). Call inside
/// the transaction that applied the pull.
pub fn fold_pending(tx: &Connection) -> Result<FoldReport> {
    tx.execute_batch("SAVEPOINT keys")?;
    match install_credential_keys(tx) {
        Ok(_) => tx.execute_batch("RELEASE keys")?,
        Err(e) => {
            // A bad key in the credential must not stop sync; the kiosk keeps the keys it has.
            tx.execute_batch("ROLLBACK TO keys; RELEASE keys")?;
            tracing::warn!("the keys in the sync credential could not be installed: {e}");
        }
    }
    let facility = crate::records::enrollment(tx)?.map(|(_, f)| f);
    let list = |ks: &mut dyn Iterator<Item = &&str>| {
        ks.map(|k| format!("'{k}'")).collect::<Vec<_>>().join(", ")
    };
    let peer = list(&mut PEER_KINDS.iter());
    // Kiosk records put straight into the inbox (pulled before this build) are staged too.
    tx.execute_batch(&format!(
        "INSERT OR IGNORE INTO sync_fold_queue (record_id, kind, device_id, hlc, payload) \
         SELECT i.record_id, i.kind, i.device_id, i.hlc, i.payload FROM sync_inbox i \
         LEFT JOIN sync_folds f ON f.record_id = i.record_id \
         WHERE i.kind IN ({peer}) AND (f.record_id IS NULL OR f.hlc < i.hlc)"
    ))?;
    let order = FOLD_ORDER
        .iter()
        .enumerate()
        .map(|(i, k)| format!("WHEN '{k}' THEN {i}"))
        .collect::<Vec<_>>()
        .join(" ");
    let server = list(&mut kinds::SERVER_ONLY_KINDS.iter());
    let todo: Vec<Todo> = tx
        .prepare_cached(&format!(
            "SELECT record_id, kind, device_id, hlc, payload, staged FROM ( \
               SELECT i.record_id, i.kind, i.device_id, i.hlc, i.payload, 0 AS staged FROM sync_inbox i \
               LEFT JOIN sync_folds f ON f.record_id = i.record_id \
               WHERE i.kind IN ({server}) \
                 AND (f.record_id IS NULL OR f.hlc < i.hlc OR f.status NOT IN ('folded', 'refused')) \
               UNION ALL \
               SELECT record_id, kind, device_id, hlc, payload, 1 FROM sync_fold_queue) \
             ORDER BY CASE kind {order} ELSE 99 END, hlc, record_id, device_id"
        ))?
        .query_map([], |r| {
            Ok(Todo {
                record_id: r.get(0)?,
                kind: r.get(1)?,
                device: r.get(2)?,
                hlc: r.get(3)?,
                payload: r.get(4)?,
                staged: r.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut report = FoldReport::default();
    for t in todo {
        tx.execute_batch("SAVEPOINT fold")?;
        let res = fold_one(tx, facility.as_deref(), &t);
        let (status, detail) = match res {
            Ok(Folded::Done(note)) => {
                tx.execute_batch("RELEASE fold")?;
                report.folded += 1;
                ("folded", note)
            }
            Ok(Folded::Deferred(note)) => {
                tx.execute_batch("RELEASE fold")?;
                report.deferred += 1;
                ("deferred", note)
            }
            Ok(Folded::Refused(note)) => {
                tx.execute_batch("RELEASE fold")?;
                report.refused += 1;
                ("refused", note)
            }
            Err(e) => {
                tx.execute_batch("ROLLBACK TO fold; RELEASE fold")?;
                report.failed += 1;
                tracing::warn!(record = %t.record_id, kind = %t.kind, "folding a pulled record failed; will retry");
                ("failed", e.to_string())
            }
        };
        if t.staged {
            if status == "failed" {
                tx.prepare_cached(
                    "UPDATE sync_fold_queue SET detail = ?4 \
                     WHERE record_id = ?1 AND device_id = ?2 AND hlc = ?3",
                )?
                .execute(params![t.record_id, t.device, t.hlc, detail])?;
            } else {
                tx.prepare_cached(
                    "DELETE FROM sync_fold_queue WHERE record_id = ?1 AND device_id = ?2 AND hlc = ?3",
                )?
                .execute(params![t.record_id, t.device, t.hlc])?;
            }
        }
        tx.prepare_cached(
            "INSERT INTO sync_folds (record_id, kind, hlc, status, detail, at_ms) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
             ON CONFLICT (record_id) DO UPDATE SET kind = excluded.kind, \
             hlc = max(sync_folds.hlc, excluded.hlc), \
             status = excluded.status, detail = excluded.detail, at_ms = excluded.at_ms",
        )?
        .execute(params![
            t.record_id,
            t.kind,
            t.hlc,
            status,
            detail,
            now_ms()
        ])?;
    }
    crate::outbox::flush_changed(tx)?;
    if report != FoldReport::default() {
        tracing::info!(
            folded = report.folded,
            deferred = report.deferred,
            failed = report.failed,
            refused = report.refused,
            "folded pulled records"
        );
    }
    Ok(report)
}

fn fold_one(tx: &Connection, facility: Option<&str>, t: &Todo) -> Result<Folded> {
    let stamp = Stamp::new(t.hlc as u64, t.device.clone());
    if kinds::is_server_only(&t.kind) {
        if facility != Some(t.device.as_str()) {
            // Only the server speaks for the facility: a device's record of a server-only kind
            // is never applied, whoever relayed it. No personal data in the log.
            tracing::warn!(record = %t.record_id, kind = %t.kind, "refused a server-only record not written by the server");
            return Ok(Folded::Refused(
                "server-only kind from a device: never applied".to_owned(),
            ));
        }
        return match t.kind.as_str() {
            kinds::FACILITY_CONFIG => fold_config(tx, &t.payload),
            kinds::DIALYSIS_REQUEST => fold_request(tx, &t.record_id, &t.payload),
            // Server-only kinds this kiosk does not fold yet stay in the inbox.
            _ => Ok(Folded::Deferred("not folded by this kiosk".to_owned())),
        };
    }
    match t.kind.as_str() {
        kinds::PATIENT | kinds::VISIT => {
            let f = crate::records::fold_shared(tx, &t.kind, &t.record_id, &stamp, &t.payload)?;
            Ok(Folded::Done(
                match f {
                    crate::records::SharedFold::Created => "created",
                    crate::records::SharedFold::Updated => "merged",
                    crate::records::SharedFold::Unchanged => "unchanged",
                }
                .to_owned(),
            ))
        }
        _ => {
            let applied = crate::records::fold_dialysis(tx, &t.kind, &stamp, &t.payload)?;
            Ok(Folded::Done(
                if applied {
                    "applied"
                } else {
                    "older than held"
                }
                .to_owned(),
            ))
        }
    }
}

/// `facility_config` as the server publishes it.
#[derive(Debug, Deserialize)]
struct ServerFacility {
    code: Option<String>,
    name: Option<String>,
    /// The facility's name in Hindi.
    name_hi: Option<String>,
    hfr_id: Option<String>,
    state_lgd: Option<u32>,
    district_lgd: Option<u32>,
    /// Masters: departments (added or replaced by code: name, room, fee, validity, active).
    departments: Option<Vec<config::Department>>,
    /// Masters: fee-waiver categories (added or replaced by code).
    fee_waivers: Option<Vec<config::FeeWaiver>>,
}

fn fold_config(tx: &Connection, payload: &str) -> Result<Folded> {
    let f: ServerFacility = serde_json::from_str(payload)
        .map_err(|e| CoreError::Corrupt(format!("facility_config: {e}")))?;
    // One field at a time, so one value the kiosk refuses does not block the others; absent
    // fields are left alone.
    let mut patches: Vec<(&str, ConfigPatch)> = Vec::new();
    let mut add = |name, present: bool, patch: ConfigPatch| {
        if present {
            patches.push((name, patch));
        }
    };
    let none = ConfigPatch::default;
    add(
        "name_en",
        f.name.is_some(),
        ConfigPatch {
            name_en: f.name,
            ..none()
        },
    );
    add(
        "facility_code",
        f.code.is_some(),
        ConfigPatch {
            facility_code: f.code,
            ..none()
        },
    );
    add(
        "hfr_id",
        f.hfr_id.is_some(),
        ConfigPatch {
            hfr_id: f.hfr_id,
            ..none()
        },
    );
    add(
        "lgd",
        f.state_lgd.is_some() || f.district_lgd.is_some(),
        ConfigPatch {
            state_lgd: f.state_lgd,
            district_lgd: f.district_lgd,
            ..none()
        },
    );
    add(
        "name_hi",
        f.name_hi.is_some(),
        ConfigPatch {
            name_hi: f.name_hi,
            ..none()
        },
    );
    add(
        "departments",
        f.departments.is_some(),
        ConfigPatch {
            departments: f.departments,
            ..none()
        },
    );
    add(
        "fee_waivers",
        f.fee_waivers.is_some(),
        ConfigPatch {
            fee_waivers: f.fee_waivers,
            ..none()
        },
    );
    let before = config::load(tx)?;
    let mut skipped = Vec::new();
    for (name, patch) in patches {
        tx.execute_batch("SAVEPOINT cfg")?;
        match config::apply(tx, &patch) {
            Ok(_) => tx.execute_batch("RELEASE cfg")?,
            Err(CoreError::Invalid { .. }) => {
                tx.execute_batch("ROLLBACK TO cfg; RELEASE cfg")?;
                skipped.push(name);
            }
            Err(e) => return Err(e),
        }
    }
    let after = config::load(tx)?;
    let (b, a) = (&before.settings, &after.settings);
    let changed: Vec<&str> = [
        ("name_en", b.name_en != a.name_en),
        ("facility_code", b.facility_code != a.facility_code),
        ("hfr_id", b.hfr_id != a.hfr_id),
        (
            "lgd",
            b.state_lgd != a.state_lgd || b.district_lgd != a.district_lgd,
        ),
        ("name_hi", b.name_hi != a.name_hi),
        ("departments", before.departments != after.departments),
        ("fee_waivers", before.fee_waivers != after.fee_waivers),
    ]
    .into_iter()
    .filter_map(|(name, differs)| differs.then_some(name))
    .collect();
    if !changed.is_empty() {
        audit::record(
            tx,
            &Actor::System,
            crate::audit::actions::CONFIG_SYNC,
            "facility",
            None,
            serde_json::json!({ "fields": changed, "skipped": skipped }),
        )?;
    }
    Ok(Folded::Done(if skipped.is_empty() {
        format!("changed: {}", changed.join(","))
    } else {
        format!(
            "changed: {}; refused: {}",
            changed.join(","),
            skipped.join(",")
        )
    }))
}

/// The patient as the portal knows them (see `sync/PROTOCOL.md`, online dialysis requests).
#[derive(Debug, Deserialize)]
struct PortalPatient {
    name: String,
    gender: String,
    year_of_birth: Option<i32>,
    mobile: Option<String>,
    abha_number: Option<String>,
    abha_address: Option<String>,
    serology: Option<PortalSerology>,
}

#[derive(Debug, Deserialize)]
struct PortalSerology {
    hbsag: Option<String>,
    hcv: Option<String>,
    hiv: Option<String>,
    tested_on: Option<String>,
}

/// A `dialysis_request` record's payload.
#[derive(Debug, Deserialize)]
struct PortalRequest {
    patient: PortalPatient,
    date: String,
    shift: u32,
    #[serde(default)]
    priority: i64,
    requested_at: Option<String>,
}

fn has_machines(tx: &Connection) -> Result<bool> {
    Ok(tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM dialysis_machines WHERE active = 1)",
        [],
        |r| r.get(0),
    )?)
}

fn refusal_from(e: &CoreError, code: &'static str) -> Option<Refusal> {
    match e {
        CoreError::Invalid { field, msg } => Some(Refusal::new(
            code,
            "patient",
            format!("{field}: {}", msg.en),
            msg.hi.clone(),
        )),
        _ => None,
    }
}

fn fold_request(tx: &Connection, record_id: &str, payload: &str) -> Result<Folded> {
    if !has_machines(tx)? {
        return Ok(Folded::Deferred(
            "no dialysis machine on this kiosk".to_owned(),
        ));
    }
    let record = |out: dialysis::OnlineOutcome| -> Result<Folded> {
        crate::dialysis::record_all(tx, &Actor::System, &out.audit)?;
        let result = serde_json::to_value(out.result)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        Ok(Folded::Done(if out.duplicate {
            format!("already answered: {result}")
        } else {
            result
        }))
    };
    let refuse = |r: Refusal| -> Result<Folded> {
        record(dialysis::online::refuse(tx, record_id, payload, r).map_err(CoreError::from)?)
    };
    let req: PortalRequest = match serde_json::from_str(payload) {
        Ok(r) => r,
        Err(e) => {
            return refuse(Refusal::new(
                "invalid_request",
                "payload",
                format!("unreadable request: {e}"),
                "ऑनलाइन अनुरोध पढ़ा नहीं जा सका",
            ))
        }
    };
    let patient_id = match patient_for(tx, &req.patient) {
        Ok(id) => id,
        Err(e) => match refusal_from(&e, "invalid_patient") {
            Some(r) => return refuse(r),
            None => return Err(e),
        },
    };
    if let Err(e) = ensure_dialysis_record(tx, &patient_id, req.patient.serology.as_ref()) {
        match refusal_from(&e, "invalid_serology") {
            Some(r) => return refuse(r),
            None => return Err(e),
        }
    }
    let booking = serde_json::json!({
        "patient_id": patient_id,
        "date": req.date,
        "shift": req.shift,
        "priority": req.priority,
        "requested_at": req.requested_at,
    });
    record(dialysis::online::ingest(tx, record_id, &booking.to_string()).map_err(CoreError::from)?)
}

/// The kiosk patient the portal means: same ABHA number or address; else same mobile, name key
/// and year of birth; else a new patient registered through the OPD module's validation.
fn patient_for(tx: &Connection, p: &PortalPatient) -> Result<String> {
    let settings = config::load_settings(tx)?;
    let now = clock::now_utc();
    let today = clock::local_date(now, settings.utc_offset_minutes);
    let key = opd::secrets::aadhaar_hash_key(tx)?;
    let input = PatientInput {
        name: p.name.clone(),
        gender: p.gender.clone(),
        dob: p.year_of_birth.map(|y| y.to_string()),
        mobile: p.mobile.clone(),
        abha_number: p.abha_number.clone(),
        abha_address: p.abha_address.clone(),
        ..Default::default()
    };
    let valid = patients::validate(&input, &key, today)?;
    if let Some(found) = patients::find_same_person(tx, &valid)? {
        return Ok(patients::resolve(tx, &found.id)?.id);
    }
    if let (Some(mobile), Some(year)) = (&valid.mobile, valid.year_of_birth) {
        let found: Option<String> = tx
            .prepare_cached(
                "SELECT id FROM patients WHERE mobile = ?1 AND year_of_birth = ?2 \
                 AND name_key = ?3 AND merged_into IS NULL ORDER BY created_at LIMIT 1",
            )?
            .query_row(
                params![mobile, year, opd::names::name_key(&valid.name)],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(id) = found {
            return Ok(id);
        }
    }
    // A new patient, as OPD registration creates one (UHID, audit, outbox), without a visit.
    let (facility_code, letter) = opd::register::identity_codes(&settings);
    let created = patients::create(
        tx,
        &valid,
        (&facility_code, &letter),
        &Actor::System,
        &clock::to_db(now),
        serde_json::json!({ "source": "online_request" }),
    )?;
    Ok(created.id)
}

fn serology(field: &str, v: Option<&str>) -> Result<Option<Serology>> {
    v.map(|s| {
        s.parse::<Serology>()
            .map_err(|e| CoreError::invalid(field, e, "सीरोलॉजी pos, neg या unknown होनी चाहिए"))
    })
    .transpose()
}

/// Creates the patient's dialysis record from the portal's serology when there is none; an
/// existing record (the unit's own results) is left as it is.
fn ensure_dialysis_record(
    tx: &Connection,
    patient_id: &str,
    s: Option<&PortalSerology>,
) -> Result<()> {
    let exists: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM dialysis_patients WHERE patient_id = ?1)",
        [patient_id],
        |r| r.get(0),
    )?;
    if exists {
        return Ok(());
    }
    let tested_on = s
        .and_then(|s| s.tested_on.as_deref())
        .map(|d| dialysis::parse_date("tested_on", d))
        .transpose()
        .map_err(CoreError::from)?;
    let update = PatientUpdate {
        patient_id: patient_id.to_owned(),
        hbsag: serology("hbsag", s.and_then(|s| s.hbsag.as_deref()))?,
        hcv: serology("hcv", s.and_then(|s| s.hcv.as_deref()))?,
        hiv: serology("hiv", s.and_then(|s| s.hiv.as_deref()))?,
        tested_on,
        vascular_access: None,
        dry_weight_kg: None,
        eligibility: None,
        eligible: None,
    };
    let out = dialysis::patients::set(tx, &update).map_err(CoreError::from)?;
    crate::dialysis::record_all(tx, &Actor::System, &out.audit)
}

/// An online dialysis request on this kiosk and the unit's answer, as [`dialysis_requests`]
/// lists it. No patient details.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DialysisRequest {
    /// The request's record id.
    pub id: String,
    /// The portal's reference for the request.
    pub reference: Option<String>,
    /// The portal it came from.
    pub portal: Option<String>,
    /// The slot asked for.
    pub requested: RequestedSlot,
    /// `new` (not folded yet), `folded`, `failed` or `deferred`.
    pub fold: String,
    /// Why a fold failed or was deferred (none once folded).
    pub fold_detail: Option<String>,
    /// When the unit answered it (UTC), if it has.
    pub received_at: Option<String>,
    /// The answer as the portal sees it (`confirmed`, `waitlisted`, `refused`, `cancelled`), or
    /// `pending` before there is one.
    pub status: String,
    /// The server has acknowledged the answer.
    pub answer_synced: bool,
    /// The booked date, once answered (the answer's fields are absent before).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub date: Option<Option<String>>,
    /// The booked shift, once answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub shift: Option<Option<u32>>,
    /// The machine, once confirmed.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub machine: Option<Option<String>>,
    /// Why it was refused, once answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub reason: Option<Option<dialysis::online::OnlineRefusal>>,
    /// The booking made, once answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub booking_id: Option<Option<String>>,
    /// That booking's status, once answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub booking_status: Option<Option<String>>,
}

/// The slot a portal request asked for (as the request says; a malformed field is `null`).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RequestedSlot {
    /// `YYYY-MM-DD`.
    pub date: Option<String>,
    /// Shift number.
    pub shift: Option<u32>,
    /// Waitlist priority (higher is served first).
    pub priority: Option<i64>,
}

/// The answer to a request as queued for the portal ([`crate::outbox`]'s `request_result_json`).
#[derive(Deserialize)]
struct Answer {
    status: Option<String>,
    date: Option<String>,
    shift: Option<u32>,
    machine: Option<String>,
    reason: Option<dialysis::online::OnlineRefusal>,
    booking_id: Option<String>,
    booking_status: Option<String>,
}

/// Online dialysis requests on this kiosk, newest first, for `swagat-admin dialysis requests`
/// and the dialysis screen: each pulled request with the portal's reference, its fold state
/// (`folded`, `deferred`, `failed`, or `new` before the first fold) and, once answered, the
/// answer as the portal sees it and whether the server has acknowledged that answer
/// (`answer_synced`). Requests answered through `dialysis online ingest` (not pulled) are listed
/// too. No patient details.
pub fn dialysis_requests(conn: &Connection, limit: u32) -> Result<Vec<DialysisRequest>> {
    type Row = (
        String,
        Option<String>,
        Option<i64>,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let rows: Vec<Row> = conn
        .prepare_cached(
            "SELECT id, payload, hlc, status, detail, received_at FROM ( \
               SELECT i.record_id AS id, i.payload AS payload, i.hlc AS hlc, \
                      COALESCE(f.status, 'new') AS status, f.detail AS detail, \
                      r.received_at AS received_at, i.hlc AS k \
               FROM sync_inbox i LEFT JOIN sync_folds f ON f.record_id = i.record_id \
               LEFT JOIN dialysis_online_requests r ON r.id = i.record_id \
               WHERE i.kind = ?1 \
               UNION ALL \
               SELECT r.id, NULL, NULL, 'folded', NULL, r.received_at, NULL FROM dialysis_online_requests r \
               WHERE NOT EXISTS (SELECT 1 FROM sync_inbox i WHERE i.record_id = r.id)) \
             ORDER BY COALESCE(received_at, '9999') DESC, k DESC LIMIT ?2",
        )?
        .query_map(params![DIALYSIS_REQUEST_KIND, limit], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let acked: i64 = conn.query_row("SELECT acked_seq FROM sync_state WHERE id = 1", [], |r| {
        r.get(0)
    })?;
    let mut out = Vec::with_capacity(rows.len());
    for (id, payload, _hlc, fold, detail, received_at) in rows {
        let p: serde_json::Value = payload
            .as_deref()
            .and_then(|p| serde_json::from_str(p).ok())
            .unwrap_or(serde_json::Value::Null);
        let text = |k: &str| p.get(k).and_then(|v| v.as_str()).map(str::to_owned);
        let answer: Option<Answer> = crate::outbox::request_result_json(conn, &id)?
            .and_then(|a| serde_json::from_str(&a).ok());
        let last_seq: Option<i64> = conn
            .prepare_cached(
                "SELECT max(o.seq) FROM sync_outbox o JOIN sync_record_ids m ON m.record_id = o.record_id \
                 WHERE m.kind = ?2 AND m.local_id = ?1",
            )?
            .query_row([id.as_str(), kinds::DIALYSIS_REQUEST_RESULT], |r| r.get(0))?;
        let folded = fold.as_deref() == Some("folded");
        let mut v = DialysisRequest {
            reference: text("reference"),
            portal: text("portal"),
            requested: RequestedSlot {
                date: text("date"),
                shift: p
                    .get("shift")
                    .and_then(|v| v.as_u64())
                    .and_then(|s| u32::try_from(s).ok()),
                priority: p.get("priority").and_then(|v| v.as_i64()),
            },
            fold: fold.unwrap_or_else(|| "new".to_owned()),
            fold_detail: if folded { None } else { detail },
            received_at,
            status: "pending".to_owned(),
            answer_synced: answer.is_some() && last_seq.is_some_and(|s| s <= acked),
            id,
            date: None,
            shift: None,
            machine: None,
            reason: None,
            booking_id: None,
            booking_status: None,
        };
        if let Some(a) = answer {
            if let Some(status) = a.status {
                v.status = status;
            }
            v.date = Some(a.date);
            v.shift = Some(a.shift);
            v.machine = Some(a.machine);
            v.reason = Some(a.reason);
            v.booking_id = Some(a.booking_id);
            v.booking_status = Some(a.booking_status);
        }
        out.push(v);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Kiosk;
    use swagat_dialysis::Pool;

    /// The facility id the test kiosks are enrolled to (the server's author id).
    const FACILITY: &str = "0190a000-0000-7000-8000-0000000000f0";

    fn enrolled() -> Kiosk {
        let k = Kiosk::open_in_memory().unwrap();
        let creds = serde_json::json!({
            "server_url": "http://127.0.0.1:9", "device_id": "0190a000-0000-7000-8000-0000000000d1",
            "facility_id": FACILITY, "facility_code": "PTN12", "facility_name": "UPHC", "secret": "s"
        });
        k.store()
            .write(|tx| {
                tx.execute(
                    "UPDATE sync_state SET credentials = ?1 WHERE id = 1",
                    [creds.to_string()],
                )?;
                Ok(())
            })
            .unwrap();
        k
    }

    fn pull_from(
        k: &Kiosk,
        device: &str,
        id: &str,
        kind: &str,
        hlc: i64,
        payload: &serde_json::Value,
    ) {
        k.store()
            .write(|tx| {
                tx.execute(
                    "INSERT INTO sync_inbox (record_id, kind, device_id, seq, hlc, schema_version, payload, server_cursor) \
                     VALUES (?1, ?2, ?3, 1, ?4, 1, ?5, 1) ON CONFLICT (record_id) DO UPDATE SET hlc = excluded.hlc, \
                     payload = excluded.payload, device_id = excluded.device_id",
                    params![id, kind, device, hlc, payload.to_string()],
                )?;
                Ok(())
            })
            .unwrap();
    }

    /// A record the server wrote (device = the facility).
    fn pull(k: &Kiosk, id: &str, kind: &str, hlc: i64, payload: &serde_json::Value) {
        pull_from(k, FACILITY, id, kind, hlc, payload);
    }

    fn fold(k: &Kiosk) -> FoldReport {
        k.store().write(|tx| fold_pending(tx)).unwrap()
    }

    fn count(k: &Kiosk, sql: &str) -> i64 {
        k.store()
            .read(|c| Ok(c.query_row(sql, [], |r| r.get(0))?))
            .unwrap()
    }

    fn request(mobile: &str) -> serde_json::Value {
        serde_json::json!({
            "patient": { "name": "Sunita Devi", "gender": "F", "year_of_birth": 1968, "mobile": mobile,
                "serology": { "hbsag": "neg", "hcv": "neg", "hiv": "neg", "tested_on": "2026-01-10" } },
            "date": "2030-03-04", "shift": 1, "priority": 0, "requested_at": "2026-01-01T00:00:00Z"
        })
    }

    #[test]
    fn requests_wait_for_machines_then_fold_once_and_queue_their_answer() {
        let k = enrolled();
        let id = uuid::Uuid::now_v7().to_string();
        pull(&k, &id, DIALYSIS_REQUEST_KIND, 10, &request("9876543210"));
        pull(&k, "x", "something_else", 10, &serde_json::json!({}));
        assert_eq!(fold(&k).deferred, 1, "no machine yet: deferred");
        assert_eq!(
            count(&k, "SELECT count(*) FROM dialysis_online_requests"),
            0
        );

        let before = count(&k, "SELECT last_seq FROM sync_state");
        k.store()
            .write(|tx| {
                swagat_dialysis::machines::add(tx, "HD-1", Pool::Negative)?;
                Ok(())
            })
            .unwrap();
        assert_eq!(
            count(
                &k,
                "SELECT count(*) FROM sync_outbox WHERE kind = 'dialysis_machine'"
            ),
            1,
            "a machine is queued by its write"
        );
        assert_eq!(fold(&k).folded, 1);
        assert_eq!(count(&k, "SELECT count(*) FROM dialysis_bookings"), 1);
        for kind in [
            "patient",
            "dialysis_patient",
            "dialysis_booking",
            "dialysis_request_result",
        ] {
            assert_eq!(
                count(
                    &k,
                    &format!("SELECT count(*) FROM sync_outbox WHERE kind = '{kind}'")
                ),
                1,
                "{kind} queued"
            );
        }
        assert!(count(&k, "SELECT last_seq FROM sync_state") >= before + 5);
        // Folded once: nothing again; a newer version of the same request is not booked again.
        assert_eq!(fold(&k), FoldReport::default());
        pull(&k, &id, DIALYSIS_REQUEST_KIND, 20, &request("9876543210"));
        assert_eq!(fold(&k).folded, 1);
        assert_eq!(count(&k, "SELECT count(*) FROM dialysis_bookings"), 1);
        assert_eq!(
            count(
                &k,
                "SELECT count(*) FROM sync_inbox WHERE kind = 'something_else'"
            ),
            1
        );
        let listed = k.store().read(|c| dialysis_requests(c, 10)).unwrap();
        assert_eq!(listed[0].status, "confirmed");
        assert_eq!(listed[0].machine, Some(Some("HD-1".to_owned())));

        // The same person asking again is the same patient; a bad mobile is refused clearly.
        pull(
            &k,
            &uuid::Uuid::now_v7().to_string(),
            DIALYSIS_REQUEST_KIND,
            30,
            &request("98765 43210"),
        );
        let bad = uuid::Uuid::now_v7().to_string();
        pull(&k, &bad, DIALYSIS_REQUEST_KIND, 40, &request("12345"));
        assert_eq!(fold(&k).folded, 2);
        assert_eq!(count(&k, "SELECT count(*) FROM patients"), 1);
        let reason: String = k
            .store()
            .read(|c| {
                Ok(c.query_row(
                    "SELECT reason FROM dialysis_online_requests WHERE id = ?1",
                    [&bad],
                    |r| r.get(0),
                )?)
            })
            .unwrap();
        assert!(
            reason.contains("invalid_patient") && reason.contains("mobile"),
            "{reason}"
        );
    }

    #[test]
    fn facility_config_updates_the_settings_and_skips_what_it_refuses() {
        let k = enrolled();
        pull(
            &k,
            &uuid::Uuid::now_v7().to_string(),
            FACILITY_CONFIG_KIND,
            1,
            &serde_json::json!({ "code": "PTN12", "name": "UPHC Kankarbagh", "state_lgd": 999_999 }),
        );
        assert_eq!(fold(&k).folded, 1);
        let s = k.config().unwrap().settings;
        assert_eq!(
            (s.name_en.as_str(), s.facility_code.as_deref(), s.state_lgd),
            ("UPHC Kankarbagh", Some("PTN12"), None)
        );
        let log = k.audit_log(5).unwrap();
        assert!(log.iter().any(|e| e.action == "config.sync"));
    }

    #[test]
    fn facility_config_brings_the_state_masters() {
        let k = enrolled();
        pull(
            &k,
            &uuid::Uuid::now_v7().to_string(),
            FACILITY_CONFIG_KIND,
            1,
            &serde_json::json!({ "name_hi": "शहरी प्राथमिक स्वास्थ्य केंद्र",
                "departments": [{"code": "NCD", "name_en": "NCD clinic", "name_hi": "एनसीडी क्लिनिक",
                    "room": "12", "fee_rupees": 0, "validity_days": 30, "active": true}],
                "fee_waivers": [{"code": "PVTG", "name_en": "PVTG family", "name_hi": "पीवीटीजी परिवार",
                    "active": true}] }),
        );
        assert_eq!(fold(&k).folded, 1);
        let c = k.config().unwrap();
        assert_eq!(c.settings.name_hi, "शहरी प्राथमिक स्वास्थ्य केंद्र");
        let ncd = c.departments.iter().find(|d| d.code == "NCD").unwrap();
        assert_eq!((ncd.room.as_str(), ncd.validity_days), ("12", 30));
        assert!(
            c.departments.iter().any(|d| d.code == "GEN"),
            "the others stay"
        );
        assert!(c.fee_waivers.iter().any(|w| w.code == "PVTG"));
    }
}
