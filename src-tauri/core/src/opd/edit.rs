//! Correcting a registered patient: validated like a registration, traceable, and synced.
//!
//! An edit is a patch over what the counter would type ([`PatientInput`]'s keys; a key set to
//! `null` clears the field, `address` is patched key by key). The patched record goes through the
//! same validation as a registration (a full Aadhaar number is reduced to last 4 + keyed hash at
//! once; consent refused drops the Aadhaar). One transaction then keeps the previous state in
//! `patient_versions`, rewrites the row (the name index follows), audits the names of the changed
//! fields — never their values — and queues the new state for the state server.

use rusqlite::{params, Connection};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::audit::{self, Actor};
use crate::clock;
use crate::config;
use crate::error::{CoreError, Msg, Result};
use crate::opd::patients::{self, Patient, PatientInput};
use crate::opd::secrets;

/// Changes to a patient: a JSON object with [`PatientInput`]'s keys (`name`, `mobile`,
/// `address` {…}, `aadhaar`, `aadhaar_consent`, …). A key set to `null` clears that field.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PatientPatch(pub Map<String, Value>);

/// The result of an edit: the patient as now stored, and what changed.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Serialize)]
pub struct EditedPatient {
    /// The patient after the edit.
    #[serde(flatten)]
    pub patient: Patient,
    /// The names of the fields that changed (`mobile`, `address.pincode`, …); empty if none did.
    pub changed_fields: Vec<String>,
    /// Non-fatal notes for the operator (e.g. an ABHA check digit that looks wrong).
    pub warnings: Vec<Msg>,
}

/// One earlier state of a patient record.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Serialize)]
pub struct PatientVersion {
    /// 1 for the record as first written, then 2, 3…
    pub version: u32,
    /// `edit` or `merge`: what replaced this state.
    pub action: String,
    /// The patient as it was.
    pub record: Value,
    /// When it was replaced (RFC 3339, UTC).
    pub replaced_at: String,
    /// Who replaced it.
    pub replaced_by: String,
}

/// Keeps `before` as the newest version of its record. Call before changing the row.
pub fn keep_version(
    conn: &Connection,
    before: &Patient,
    action: &str,
    actor: &Actor,
) -> Result<()> {
    let record = serde_json::to_string(before).map_err(|e| CoreError::Corrupt(e.to_string()))?;
    conn.prepare_cached(
        "INSERT INTO patient_versions (patient_id, version, action, record, replaced_at, replaced_by) \
         VALUES (?1, (SELECT coalesce(max(version), 0) + 1 FROM patient_versions WHERE patient_id = ?1), \
         ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        before.id,
        action,
        record,
        clock::to_db(clock::now_utc()),
        actor.as_db()
    ])?;
    Ok(())
}

/// The earlier states of patient `id`, oldest first.
pub fn history(conn: &Connection, id: &str) -> Result<Vec<PatientVersion>> {
    let mut stmt = conn.prepare_cached(
        "SELECT version, action, record, replaced_at, replaced_by FROM patient_versions \
         WHERE patient_id = ?1 ORDER BY version",
    )?;
    let rows = stmt.query_map([id], |r| {
        let record: String = r.get(2)?;
        Ok(PatientVersion {
            version: r.get(0)?,
            action: r.get(1)?,
            record: serde_json::from_str(&record).unwrap_or(Value::Null),
            replaced_at: r.get(3)?,
            replaced_by: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// `PatientInput`'s keys, for a clear message about an unknown one.
const KEYS: &[&str] = &[
    "name",
    "name_hi",
    "gender",
    "dob",
    "age_years",
    "age_months",
    "guardian",
    "mobile",
    "aadhaar",
    "aadhaar_last4",
    "aadhaar_hash",
    "abha_number",
    "abha_address",
    "category",
    "address",
    "aadhaar_consent",
];

/// Lays `patch` over `base`: keys replace, `address` merges key by key; an age replaces the date
/// of birth and a new last 4 drops the old keyed hash.
fn overlay(base: &PatientInput, patch: &PatientPatch) -> Result<PatientInput> {
    if patch.0.is_empty() {
        return Err(CoreError::invalid(
            "patch",
            "nothing to change",
            "बदलने के लिए कुछ नहीं दिया",
        ));
    }
    if let Some(k) = patch.0.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(CoreError::invalid(
            k.clone(),
            format!("{k} is not a patient field"),
            format!("{k} मरीज़ का कोई फ़ील्ड नहीं है"),
        ));
    }
    let Value::Object(mut merged) =
        serde_json::to_value(base).map_err(|e| CoreError::Corrupt(e.to_string()))?
    else {
        return Err(CoreError::Corrupt("patient is not an object".into()));
    };
    let touches = |k: &str| patch.0.contains_key(k);
    if (touches("age_years") || touches("age_months")) && !touches("dob") {
        merged.insert("dob".into(), Value::Null);
    }
    if (touches("aadhaar_last4") || touches("aadhaar")) && !touches("aadhaar_hash") {
        merged.insert("aadhaar_hash".into(), Value::Null);
    }
    if touches("aadhaar") {
        merged.insert("aadhaar_last4".into(), Value::Null);
    }
    for (k, v) in &patch.0 {
        match (k.as_str(), v, merged.get_mut("address")) {
            ("address", Value::Object(a), Some(Value::Object(old))) => {
                for (ak, av) in a {
                    old.insert(ak.clone(), av.clone());
                }
            }
            ("address", Value::Null, _) => {
                merged.insert(k.clone(), Value::Object(Map::new()));
            }
            _ => {
                merged.insert(k.clone(), v.clone());
            }
        }
    }
    serde_json::from_value(Value::Object(merged)).map_err(|e| {
        CoreError::invalid(
            "patch",
            format!("a field has the wrong type: {e}"),
            "किसी फ़ील्ड का प्रकार गलत है",
        )
    })
}

/// The names of the fields that differ between two states of a patient (`address.x` for the
/// address; the Aadhaar counts as changed when its keyed hash does).
fn changed_fields(before: &Patient, after: &Patient) -> Vec<String> {
    let flat = |p: &Patient| -> Map<String, Value> {
        let mut out = Map::new();
        if let Ok(Value::Object(m)) = serde_json::to_value(p) {
            for (k, v) in m {
                match (k.as_str(), v) {
                    ("updated_at" | "created_at" | "id" | "uhid", _) => {}
                    ("address", Value::Object(a)) => {
                        for (ak, av) in a {
                            out.insert(format!("address.{ak}"), av);
                        }
                    }
                    (_, v) => {
                        out.insert(k, v);
                    }
                }
            }
        }
        out
    };
    let (a, b) = (flat(before), flat(after));
    a.keys()
        .filter(|k| a.get(*k) != b.get(*k))
        .cloned()
        .collect()
}

/// Refuses an edit that would give this patient an ABHA or Aadhaar already held by another
/// (unmerged) patient: that is a duplicate, to be merged by an administrator instead.
fn check_identifiers_free(conn: &Connection, id: &str, v: &patients::ValidPatient) -> Result<()> {
    let key_id = match &v.aadhaar_key_id {
        Some(k) => k.clone(),
        None => secrets::current_key_id(conn)?,
    };
    let probes: [(&str, Option<&String>, &str); 3] = [
        ("abha_number", v.abha_number.as_ref(), "आभा नंबर"),
        ("abha_address", v.abha_address.as_ref(), "आभा पता"),
        ("aadhaar", v.aadhaar_hash.as_ref(), "आधार"),
    ];
    for (field, value, hi) in probes {
        let Some(value) = value else { continue };
        let col = if field == "aadhaar" {
            "aadhaar_hash"
        } else {
            field
        };
        let other: Option<String> = rusqlite::OptionalExtension::optional(
            conn.prepare_cached(&format!(
                "SELECT uhid FROM patients WHERE {col} = ?1 AND id <> ?2 AND merged_into IS NULL \
                 AND (?3 = 'aadhaar_hash' AND aadhaar_key_id = ?4 OR ?3 <> 'aadhaar_hash') LIMIT 1"
            ))?
            .query_row(params![value, id, col, key_id], |r| r.get(0)),
        )?;
        if let Some(uhid) = other {
            return Err(CoreError::invalid(
                field,
                format!(
                    "this {} belongs to patient {uhid}: if they are the same person, ask an administrator to merge the records",
                    field.replace('_', " ")
                ),
                format!("यह {hi} मरीज़ {uhid} का है: यदि दोनों एक ही व्यक्ति हैं, तो व्यवस्थापक से रिकॉर्ड मिलवाएँ"),
            ));
        }
    }
    Ok(())
}

/// Edits patient `id` with `patch`. Call inside one write transaction.
pub fn edit(
    conn: &Connection,
    actor: &Actor,
    id: &str,
    patch: &PatientPatch,
) -> Result<EditedPatient> {
    let before = patients::get(conn, id)?;
    if let Some(kept) = &before.merged_into {
        let kept = patients::resolve(conn, kept)?;
        return Err(CoreError::invalid(
            "patient",
            format!("this record was merged into {}: edit that one", kept.uhid),
            format!("यह रिकॉर्ड {} में मिला दिया गया है: उसे बदलें", kept.uhid),
        ));
    }
    let key = secrets::aadhaar_hash_key(conn)?;
    let base = patients::input_of(&before, patients::stored_aadhaar_hash(conn, id)?);
    let input = overlay(&base, patch)?;
    let settings = config::load_settings(conn)?;
    let now = clock::now_utc();
    let today = clock::local_date(now, settings.utc_offset_minutes);
    let mut valid = patients::validate(&input, &key, today)?;
    if valid.aadhaar_hash.is_some() && valid.aadhaar_hash == base.aadhaar_hash {
        // The hash kept as stored keeps the id of the key that made it.
        valid.aadhaar_key_id = patients::stored_aadhaar_key_id(conn, id)?;
    }
    let touches_birth = ["dob", "age_years", "age_months"]
        .iter()
        .any(|k| patch.0.contains_key(*k));
    if !touches_birth {
        // Re-reading the stored date must not turn an age-derived date into an exact one.
        valid.dob.clone_from(&before.dob);
        valid.dob_approximate = before.dob_approximate;
        valid.year_of_birth = before.year_of_birth;
    }
    check_identifiers_free(conn, id, &valid)?;
    let mut changed = changed_fields(&before, &as_stored(&before, &valid));
    if base.aadhaar_hash != valid.aadhaar_hash && !changed.iter().any(|f| f == "aadhaar_last4") {
        changed.push("aadhaar".into());
    }
    if changed.is_empty() {
        // Nothing differs: no version, no audit entry, nothing to sync.
        return Ok(EditedPatient {
            patient: before,
            changed_fields: changed,
            warnings: valid.warnings,
        });
    }
    keep_version(conn, &before, "edit", actor)?;
    patients::update(conn, id, &valid, &actor.as_db(), &clock::to_db(now))?;
    let after = patients::get(conn, id)?;
    audit::record(
        conn,
        actor,
        crate::audit::actions::PATIENT_EDIT,
        "patient",
        Some(id),
        serde_json::json!({ "fields": changed }),
    )?;
    crate::outbox::queue_patient(conn, id)?;
    Ok(EditedPatient {
        patient: after,
        changed_fields: changed,
        warnings: valid.warnings,
    })
}

/// What `before` would look like with the validated fields `v` (to compare before writing).
fn as_stored(before: &Patient, v: &patients::ValidPatient) -> Patient {
    Patient {
        name: v.name.clone(),
        name_hi: v.name_hi.clone(),
        gender: v.gender.clone(),
        dob: v.dob.clone(),
        dob_approximate: v.dob_approximate,
        year_of_birth: v.year_of_birth,
        guardian_relation: v.guardian_relation.clone(),
        guardian_name: v.guardian_name.clone(),
        mobile: v.mobile.clone(),
        address: v.address.clone(),
        aadhaar_last4: v.aadhaar_last4.clone(),
        abha_number: v.abha_number.clone(),
        abha_address: v.abha_address.clone(),
        category: v.category.clone(),
        aadhaar_consent: v.aadhaar_consent,
        ..before.clone()
    }
}
