//! Dialysis patients: the unit's record beside the core's patient — serology with test dates,
//! vascular access, dry weight, eligibility.
//!
//! Serology decides the pool, so a change of results re-checks the patient's confirmed bookings:
//! any now on a machine of the wrong pool is moved to a free machine of the right pool or back onto
//! the waitlist, and its old slot serves the waitlist. Audit entries name changed fields only,
//! never the results.

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use serde_json::json;
use time::{Date, Duration};

use crate::alloc::{self, Changes, Move, WaitRow};
use crate::error::{DialysisError, Result};
use crate::model::{fmt_date, from_db, now_instant, Pool, Serology, VascularAccess};
use crate::rules::{self, SerologyResults};
use crate::unit;
use crate::AuditEvent;

/// What to change on a patient's record (`None`: leave as is; a new record starts with
/// every marker unknown, eligible).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PatientUpdate {
    /// The core's patient id.
    pub patient_id: String,
    /// HBsAg result.
    pub hbsag: Option<Serology>,
    /// Anti-HCV result.
    pub hcv: Option<Serology>,
    /// HIV result.
    pub hiv: Option<Serology>,
    /// Date of the results given in this update (required for any pos/neg result).
    pub tested_on: Option<Date>,
    /// Vascular access.
    pub vascular_access: Option<VascularAccess>,
    /// Dry weight in kg (10–300).
    pub dry_weight_kg: Option<f64>,
    /// Eligibility scheme or card (e.g. `PMNDP-BPL`, ration card).
    pub eligibility: Option<String>,
    /// Whether the patient may be booked.
    pub eligible: Option<bool>,
}

/// A patient's dialysis record.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DialysisPatient {
    /// The core's patient id.
    pub patient_id: String,
    /// Name (from the core's record).
    pub name: String,
    /// HBsAg.
    pub hbsag: Serology,
    /// When HBsAg was tested.
    pub hbsag_tested_on: Option<String>,
    /// Anti-HCV.
    pub hcv: Serology,
    /// When anti-HCV was tested.
    pub hcv_tested_on: Option<String>,
    /// HIV.
    pub hiv: Serology,
    /// When HIV was tested.
    pub hiv_tested_on: Option<String>,
    /// The pool these results require.
    pub pool: Pool,
    /// More than one marker positive.
    pub co_infection: bool,
    /// The first day the results count as stale (oldest known test + threshold + 1), if any.
    pub stale_from: Option<String>,
    /// Vascular access.
    pub vascular_access: Option<VascularAccess>,
    /// Dry weight (kg).
    pub dry_weight_kg: Option<f64>,
    /// Eligibility scheme or card.
    pub eligibility: Option<String>,
    /// May be booked.
    pub eligible: bool,
    /// Last change (UTC).
    pub updated_at: String,
}

/// A record change with the bookings it moved.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Serialize)]
pub struct PatientOutcome {
    /// The record after the change.
    pub patient: DialysisPatient,
    /// `true` if the record was created by this call.
    pub created: bool,
    /// Bookings moved because the pool changed.
    pub moves: Vec<Move>,
    /// Audit entries for the caller to record.
    #[serde(skip)]
    pub audit: Vec<AuditEvent>,
}

fn patient_exists(conn: &Connection, id: &str) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM patients WHERE id = ?1")?
        .query_row([id], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Creates or updates a patient's dialysis record, then moves any confirmed booking whose machine
/// no longer matches the patient's pool.
pub fn set(conn: &Connection, u: &PatientUpdate) -> Result<PatientOutcome> {
    let id = u.patient_id.trim();
    if !patient_exists(conn, id)? {
        return Err(DialysisError::not_found(format!("patient {id}")));
    }
    let results = [("hbsag", u.hbsag), ("hcv", u.hcv), ("hiv", u.hiv)];
    let known = results
        .iter()
        .any(|(_, r)| matches!(r, Some(Serology::Pos | Serology::Neg)));
    if known && u.tested_on.is_none() {
        return Err(DialysisError::invalid(
            "tested_on",
            "give the date the serology was tested (YYYY-MM-DD)",
            "सीरोलॉजी जाँच की तारीख दें (YYYY-MM-DD)",
        ));
    }
    if u.dry_weight_kg
        .is_some_and(|w| !(10.0..=300.0).contains(&w))
    {
        return Err(DialysisError::invalid(
            "dry_weight",
            "dry weight must be between 10 and 300 kg",
            "शुष्क वज़न 10 से 300 किलो के बीच होना चाहिए",
        ));
    }
    let now = now_instant();
    let created = conn.execute(
        "INSERT INTO dialysis_patients (patient_id, updated_at) VALUES (?1, ?2) \
         ON CONFLICT (patient_id) DO NOTHING",
        params![id, now],
    )? == 1;
    let mut fields = Vec::new();
    for (name, result) in results {
        if let Some(r) = result {
            let tested = (r != Serology::Unknown)
                .then(|| u.tested_on.map(fmt_date))
                .flatten();
            // Column names come from the fixed list above, never from input.
            conn.execute(
                &format!(
                    "UPDATE dialysis_patients SET {name} = ?2, {name}_tested_on = ?3 \
                     WHERE patient_id = ?1"
                ),
                params![id, r.as_str(), tested],
            )?;
            fields.push(name);
        }
    }
    if let Some(v) = u.vascular_access {
        conn.execute(
            "UPDATE dialysis_patients SET vascular_access = ?2 WHERE patient_id = ?1",
            params![id, v.as_str()],
        )?;
        fields.push("vascular_access");
    }
    if let Some(w) = u.dry_weight_kg {
        conn.execute(
            "UPDATE dialysis_patients SET dry_weight_kg = ?2 WHERE patient_id = ?1",
            params![id, w],
        )?;
        fields.push("dry_weight_kg");
    }
    if let Some(e) = &u.eligibility {
        let e = e.trim();
        conn.execute(
            "UPDATE dialysis_patients SET eligibility = ?2 WHERE patient_id = ?1",
            params![id, (!e.is_empty()).then_some(e)],
        )?;
        fields.push("eligibility");
    }
    if let Some(e) = u.eligible {
        conn.execute(
            "UPDATE dialysis_patients SET eligible = ?2 WHERE patient_id = ?1",
            params![id, i64::from(e)],
        )?;
        fields.push("eligible");
    }
    conn.execute(
        "UPDATE dialysis_patients SET updated_at = ?2 WHERE patient_id = ?1",
        params![id, now],
    )?;
    let mut changes = Changes::default();
    changes.audit.push(AuditEvent {
        action: if created {
            crate::actions::PATIENT_CREATE
        } else {
            crate::actions::PATIENT_UPDATE
        },
        entity: crate::entities::PATIENT,
        entity_id: id.to_owned(),
        details: json!({ "fields": fields }),
    });
    rebalance(conn, id, &mut changes)?;
    Ok(PatientOutcome {
        patient: get(conn, id)?,
        created,
        moves: changes.moves,
        audit: changes.audit,
    })
}

/// Rule 1–5 kept after a serology change: confirmed bookings on a machine of another pool go back
/// to the waitlist, then each of the patient's waiting slots is served.
fn rebalance(conn: &Connection, patient_id: &str, changes: &mut Changes) -> Result<()> {
    let Some(p) = alloc::load_patient(conn, patient_id)? else {
        return Ok(());
    };
    let pool = p.placement().pool;
    let wrong: Vec<(WaitRow, String, String)> = conn
        .prepare_cached(
            "SELECT b.id, b.date, b.shift, m.id, m.name FROM dialysis_bookings b \
             JOIN dialysis_machines m ON m.id = b.machine_id \
             WHERE b.patient_id = ?1 AND b.status = 'confirmed' AND m.pool <> ?2",
        )?
        .query_map(params![patient_id, pool.as_str()], |r| {
            Ok((
                WaitRow {
                    id: r.get(0)?,
                    patient_id: patient_id.to_owned(),
                    date: r.get(1)?,
                    shift: r.get(2)?,
                },
                r.get(3)?,
                r.get(4)?,
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    for (row, machine_id, machine) in &wrong {
        alloc::release_to_waitlist(
            conn,
            row,
            machine_id,
            machine,
            crate::actions::DISPLACE,
            changes,
        )?;
    }
    let slots: Vec<(String, u32)> = conn
        .prepare_cached(
            "SELECT DISTINCT date, shift FROM dialysis_bookings \
             WHERE patient_id = ?1 AND status = 'waitlisted' ORDER BY date, shift",
        )?
        .query_map([patient_id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (d, s) in slots {
        alloc::promote_slot(conn, &d, s, changes)?;
    }
    Ok(())
}

/// A patient's dialysis record.
pub fn get(conn: &Connection, patient_id: &str) -> Result<DialysisPatient> {
    type Raw = (
        String,
        String,
        String,
        Option<String>,
        String,
        Option<String>,
        String,
        Option<String>,
        Option<String>,
        Option<f64>,
        Option<String>,
        i64,
        String,
    );
    let id = patient_id.trim();
    let raw: Option<Raw> = conn
        .prepare_cached(
            "SELECT d.patient_id, p.name, d.hbsag, d.hbsag_tested_on, d.hcv, d.hcv_tested_on, \
             d.hiv, d.hiv_tested_on, d.vascular_access, d.dry_weight_kg, d.eligibility, \
             d.eligible, d.updated_at \
             FROM dialysis_patients d JOIN patients p ON p.id = d.patient_id \
             WHERE d.patient_id = ?1",
        )?
        .query_row([id], |r| r.try_into())
        .optional()?;
    let Some((pid, name, hb, hbd, hc, hcd, hi, hid, va, dw, el, eligible, updated_at)) = raw else {
        return Err(DialysisError::not_found(format!(
            "dialysis record for patient {id}"
        )));
    };
    let serology = SerologyResults {
        hbsag: from_db(&hb, "serology")?,
        hcv: from_db(&hc, "serology")?,
        hiv: from_db(&hi, "serology")?,
    };
    let placement = rules::pool_for(serology);
    let threshold = unit::settings(conn)?.stale_serology_days;
    let oldest = [
        (serology.hbsag, &hbd),
        (serology.hcv, &hcd),
        (serology.hiv, &hid),
    ]
    .iter()
    .filter(|(r, _)| *r != Serology::Unknown)
    .filter_map(|(_, d)| d.as_deref())
    .min()
    .map(str::to_owned);
    let stale_from = oldest
        .as_deref()
        .map(crate::model::date_from_db)
        .transpose()?
        .map(|d| fmt_date(d + Duration::days(threshold + 1)));
    Ok(DialysisPatient {
        patient_id: pid,
        name,
        hbsag: serology.hbsag,
        hbsag_tested_on: hbd,
        hcv: serology.hcv,
        hcv_tested_on: hcd,
        hiv: serology.hiv,
        hiv_tested_on: hid,
        pool: placement.pool,
        co_infection: placement.co_infection,
        stale_from,
        vascular_access: va
            .as_deref()
            .map(|v| from_db(v, "vascular_access"))
            .transpose()?,
        dry_weight_kg: dw,
        eligibility: el,
        eligible: eligible == 1,
        updated_at,
    })
}
