//! Merging two records of the same person (administrators only).
//!
//! Duplicates happen: a patient registered once by ABHA and once by name. An administrator picks
//! the record to keep; in one transaction the duplicate's visits (and its dialysis record and
//! bookings) move to the kept patient, identifiers the kept one lacks (ABHA number and address,
//! Aadhaar last 4 + keyed hash with its consent, mobile) are carried over, and the duplicate is
//! marked `merged_into` the kept one — never deleted, because other kiosks and the state server
//! know it: it syncs as a record with `merged_into`. Searches skip merged records; opening one (or
//! searching its UHID) lands on the kept patient. Both previous states go to `patient_versions`,
//! the merge is audited, and the state server is sent both patients and every moved visit.

use rusqlite::{params, Connection};
use serde::Serialize;

use crate::audit::{self, Actor};
use crate::clock;
use crate::error::{CoreError, Result};
use crate::opd::edit::keep_version;
use crate::opd::patients::{self, Patient};

/// What a merge did.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Serialize)]
pub struct MergeOutcome {
    /// The kept patient's id.
    pub kept: String,
    /// The merged-away patient's id.
    pub merged: String,
    /// How many visits moved to the kept patient.
    pub visits_moved: usize,
    /// Identifiers copied onto the kept patient (`abha_number`, `aadhaar`, `mobile`…).
    pub carried_over: Vec<String>,
    /// The duplicate's dialysis record (or its bookings) moved to the kept patient.
    pub dialysis_moved: bool,
    /// The kept patient as now stored.
    pub patient: Patient,
}

/// Refuses anyone but an administrator (or the admin CLI at the machine).
pub fn require_admin(conn: &Connection, actor: &Actor) -> Result<()> {
    crate::staff::require_role(
        conn,
        actor,
        &[crate::staff::Role::Admin],
        (
            "only an administrator may merge patient records",
            "केवल व्यवस्थापक मरीज़ों के रिकॉर्ड मिला सकते हैं",
        ),
    )
}

/// Moves the duplicate's dialysis record to the kept patient. When both have one, the kept one's
/// stays and takes any result it lacks from the duplicate's; bookings move either way (two
/// sessions on one day for the merged person are refused by the unit's own rule).
fn move_dialysis(conn: &Connection, keep: &str, dup: &str) -> Result<bool> {
    let has = |id: &str| -> Result<bool> {
        Ok(conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM dialysis_patients WHERE patient_id = ?1)",
            )?
            .query_row([id], |r| r.get(0))?)
    };
    if !has(dup)? {
        return Ok(false);
    }
    if has(keep)? {
        conn.execute(
            "UPDATE dialysis_patients AS k SET \
               hbsag = CASE WHEN k.hbsag = 'unknown' THEN d.hbsag ELSE k.hbsag END, \
               hbsag_tested_on = CASE WHEN k.hbsag = 'unknown' THEN d.hbsag_tested_on ELSE k.hbsag_tested_on END, \
               hcv = CASE WHEN k.hcv = 'unknown' THEN d.hcv ELSE k.hcv END, \
               hcv_tested_on = CASE WHEN k.hcv = 'unknown' THEN d.hcv_tested_on ELSE k.hcv_tested_on END, \
               hiv = CASE WHEN k.hiv = 'unknown' THEN d.hiv ELSE k.hiv END, \
               hiv_tested_on = CASE WHEN k.hiv = 'unknown' THEN d.hiv_tested_on ELSE k.hiv_tested_on END, \
               vascular_access = coalesce(k.vascular_access, d.vascular_access), \
               dry_weight_kg = coalesce(k.dry_weight_kg, d.dry_weight_kg), \
               eligibility = coalesce(k.eligibility, d.eligibility) \
             FROM dialysis_patients AS d WHERE k.patient_id = ?1 AND d.patient_id = ?2",
            params![keep, dup],
        )?;
    } else {
        conn.execute(
            "INSERT INTO dialysis_patients (patient_id, hbsag, hbsag_tested_on, hcv, hcv_tested_on, \
               hiv, hiv_tested_on, vascular_access, dry_weight_kg, eligibility, eligible, updated_at) \
             SELECT ?1, hbsag, hbsag_tested_on, hcv, hcv_tested_on, hiv, hiv_tested_on, \
               vascular_access, dry_weight_kg, eligibility, eligible, updated_at \
             FROM dialysis_patients WHERE patient_id = ?2",
            params![keep, dup],
        )?;
    }
    conn.execute(
        "UPDATE dialysis_bookings SET patient_id = ?1 WHERE patient_id = ?2",
        params![keep, dup],
    )
    .map_err(|e| match e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            CoreError::invalid(
                "duplicate",
                "both records have a dialysis session on the same day: cancel one first",
                "दोनों रिकॉर्ड में एक ही दिन डायलिसिस सत्र है: पहले एक रद्द करें",
            )
        }
        other => CoreError::Database(other),
    })?;
    conn.execute("DELETE FROM dialysis_patients WHERE patient_id = ?1", [dup])?;
    Ok(true)
}

/// Merges `duplicate_id` into `keep_id`. Call inside one write transaction.
pub fn merge(
    conn: &Connection,
    actor: &Actor,
    keep_id: &str,
    duplicate_id: &str,
) -> Result<MergeOutcome> {
    require_admin(conn, actor)?;
    if keep_id == duplicate_id {
        return Err(CoreError::invalid(
            "duplicate",
            "a record cannot be merged into itself",
            "कोई रिकॉर्ड अपने आप में नहीं मिलाया जा सकता",
        ));
    }
    let keep = patients::get(conn, keep_id)?;
    let dup = patients::get(conn, duplicate_id)?;
    for (field, p) in [("keep", &keep), ("duplicate", &dup)] {
        if p.merged_into.is_some() {
            return Err(CoreError::invalid(
                field,
                format!("{} was already merged into another record", p.uhid),
                format!("{} पहले ही किसी दूसरे रिकॉर्ड में मिलाया जा चुका है", p.uhid),
            ));
        }
    }
    let now = clock::to_db(clock::now_utc());
    let by = actor.as_db();

    // Identifiers the kept record lacks.
    let mut carried = Vec::new();
    for col in ["abha_number", "abha_address", "mobile"] {
        let n = conn.execute(
            &format!(
                "UPDATE patients SET {col} = (SELECT {col} FROM patients WHERE id = ?2) \
                 WHERE id = ?1 AND {col} IS NULL AND (SELECT {col} FROM patients WHERE id = ?2) IS NOT NULL"
            ),
            params![keep_id, duplicate_id],
        )?;
        if n > 0 {
            carried.push(col.to_owned());
        }
    }
    let n = conn.execute(
        "UPDATE patients SET (aadhaar_last4, aadhaar_hash, aadhaar_key_id, aadhaar_consent, consent_notice) = \
           (SELECT aadhaar_last4, aadhaar_hash, aadhaar_key_id, aadhaar_consent, consent_notice FROM patients WHERE id = ?2) \
         WHERE id = ?1 AND aadhaar_last4 IS NULL \
           AND (SELECT aadhaar_last4 FROM patients WHERE id = ?2) IS NOT NULL",
        params![keep_id, duplicate_id],
    )?;
    if n > 0 {
        carried.push("aadhaar".to_owned());
    }
    if !carried.is_empty() {
        keep_version(conn, &keep, "merge", actor)?;
        conn.execute(
            "UPDATE patients SET updated_at = ?2, updated_by = ?3 WHERE id = ?1",
            params![keep_id, now, by],
        )?;
    }

    // Visits and dialysis.
    let moved: Vec<String> = conn
        .prepare_cached("UPDATE visits SET patient_id = ?1 WHERE patient_id = ?2 RETURNING id")?
        .query_map(params![keep_id, duplicate_id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let dialysis_moved = move_dialysis(conn, keep_id, duplicate_id)?;

    // The duplicate, and any record merged into it earlier, now point at the kept one.
    keep_version(conn, &dup, "merge", actor)?;
    let earlier: Vec<String> = conn
        .prepare_cached(
            "UPDATE patients SET merged_into = ?1, updated_at = ?3, updated_by = ?4 \
             WHERE merged_into = ?2 RETURNING id",
        )?
        .query_map(params![keep_id, duplicate_id, now, by], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    conn.execute(
        "UPDATE patients SET merged_into = ?1, updated_at = ?3, updated_by = ?4 WHERE id = ?2",
        params![keep_id, duplicate_id, now, by],
    )?;

    audit::record(
        conn,
        actor,
        crate::audit::actions::PATIENT_MERGE,
        "patient",
        Some(keep_id),
        serde_json::json!({
            "duplicate": duplicate_id,
            "visits_moved": moved.len(),
            "carried_over": carried,
            "dialysis_moved": dialysis_moved,
        }),
    )?;
    let kept = patients::get(conn, keep_id)?;
    crate::outbox::queue_patient(conn, keep_id)?;
    crate::outbox::queue_patient(conn, duplicate_id)?;
    for id in &earlier {
        crate::outbox::queue_patient(conn, id)?;
    }
    for id in &moved {
        crate::outbox::queue_visit(conn, id)?;
    }
    Ok(MergeOutcome {
        kept: keep_id.to_owned(),
        merged: duplicate_id.to_owned(),
        visits_moved: moved.len(),
        carried_over: carried,
        dialysis_moved,
        patient: kept,
    })
}
