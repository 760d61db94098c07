//! One registration: find or create the patient, issue the visit and its token, in one transaction.

use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use crate::audit::{self, Actor};
use crate::clock;
use crate::config::{self, FacilitySettings};
use crate::error::{CoreError, Msg, Result};
use crate::opd::patients::{self, Patient, PatientInput};
use crate::opd::{secrets, visits};

/// Facility code used in UHIDs until the state assigns one.
pub const DEFAULT_FACILITY_CODE: &str = "SWG";
/// Kiosk letter used until one is configured.
pub const DEFAULT_KIOSK_LETTER: &str = "A";

/// A registration request from the counter.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "ts", ts(optional_fields = nullable))]
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RegisterRequest {
    /// The department code (e.g. `GEN`).
    pub department: String,
    /// The patient's details (ignored when `patient_id` names an existing patient).
    #[serde(default)]
    pub patient: Option<PatientInput>,
    /// An existing patient chosen at the counter.
    #[serde(default)]
    pub patient_id: Option<String>,
    /// A fee-waiver code (BPL, RATION, AYUSHMAN…), if the operator applies one.
    #[serde(default)]
    pub waiver: Option<String>,
    /// Why the fee is waived (free text, e.g. the card number's last digits are *not* wanted here).
    #[serde(default)]
    pub waiver_reason: Option<String>,
}

/// A possible duplicate shown to the operator.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DuplicateHint {
    /// Patient id.
    pub patient_id: String,
    /// UHID.
    pub uhid: String,
    /// Name.
    pub name: String,
    /// Year of birth.
    pub year_of_birth: Option<i32>,
}

/// What a registration produced.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Registration {
    /// The patient (new or returning).
    pub patient_id: String,
    /// The patient's UHID.
    pub uhid: String,
    /// The new visit.
    pub visit_id: String,
    /// The token, e.g. `A-017`.
    pub token: String,
    /// The patient was already registered.
    pub returning: bool,
    /// `new` or `follow_up`.
    pub visit_type: String,
    /// Fee in rupees.
    pub fee_rupees: u32,
    /// Slip valid until.
    pub valid_until: String,
    /// Notes for the operator.
    pub warnings: Vec<Msg>,
    /// Existing patients who may be the same person.
    pub possible_duplicates: Vec<DuplicateHint>,
    /// The patient already had a token for this department today (the counter asks first; the
    /// CLI registers and says so).
    pub repeat_today: bool,
    /// The department's code, names and room: shown with the token wherever it appears, so two
    /// patients holding "A-001" in one hall are never confused.
    pub department: DepartmentBrief,
}

/// Where a token sends the patient.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DepartmentBrief {
    /// Code, e.g. `GEN`.
    pub code: String,
    /// English name.
    pub name_en: String,
    /// Hindi name.
    pub name_hi: String,
    /// Room.
    pub room: String,
}

fn waiver_for_category(category: &str) -> Option<&'static str> {
    match category {
        "bpl" => Some("BPL"),
        "ration_card" => Some("RATION"),
        "ayushman" => Some("AYUSHMAN"),
        "senior_citizen" => Some("SENIOR"),
        "jssk" => Some("JSSK"),
        _ => None,
    }
}

/// The facility code and kiosk letter UHIDs and tokens use.
pub fn identity_codes(s: &FacilitySettings) -> (String, String) {
    (
        s.facility_code
            .clone()
            .unwrap_or_else(|| DEFAULT_FACILITY_CODE.to_owned()),
        s.kiosk_letter
            .clone()
            .unwrap_or_else(|| DEFAULT_KIOSK_LETTER.to_owned()),
    )
}

/// Registers a patient visit. Call inside one write transaction.
pub fn register(conn: &Connection, actor: &Actor, req: &RegisterRequest) -> Result<Registration> {
    let settings = config::load_settings(conn)?;
    let now = clock::now_utc();
    let now_db = clock::to_db(now);
    let today = clock::local_date(now, settings.utc_offset_minutes);
    let today_s = today.to_string();
    let (facility_code, letter) = identity_codes(&settings);
    let dept_code = req.department.trim().to_ascii_uppercase();
    let dept = config::load(conn)?
        .departments
        .into_iter()
        .find(|d| d.code == dept_code && d.active)
        .ok_or_else(|| {
            CoreError::invalid(
                "department",
                format!("{dept_code} is not an active department"),
                format!("{dept_code} कोई चालू विभाग नहीं है"),
            )
        })?;
    let hash_key = secrets::aadhaar_hash_key(conn)?;
    let mut warnings = Vec::new();
    let mut duplicates = Vec::new();

    let (patient, returning): (Patient, bool) = match (&req.patient_id, &req.patient) {
        (Some(id), _) => (patients::resolve(conn, id)?, true),
        (None, Some(input)) => {
            let valid = patients::validate(input, &hash_key, today)?;
            warnings.extend(valid.warnings.iter().cloned());
            if patients::aadhaar_dropped_for_consent(&valid) {
                warnings.push(Msg::new(
                    "The Aadhaar was not kept: the patient's consent was not recorded.",
                    "आधार नहीं रखा गया: मरीज़ की सहमति दर्ज नहीं की गई।",
                ));
            }
            match patients::find_same_person(conn, &valid)? {
                Some(existing) => (existing, true),
                None => {
                    duplicates = patients::possible_duplicates(conn, &valid)?
                        .into_iter()
                        .map(|p| DuplicateHint {
                            patient_id: p.id,
                            uhid: p.uhid,
                            name: p.name,
                            year_of_birth: p.year_of_birth,
                        })
                        .collect();
                    if !duplicates.is_empty() {
                        warnings.push(Msg::new(
                            "A patient with the same name, age and place is already registered: check before continuing.",
                            "इसी नाम, आयु और स्थान का मरीज़ पहले से पंजीकृत है: आगे बढ़ने से पहले जाँचें।",
                        ));
                    }
                    let created = patients::create(
                        conn,
                        &valid,
                        (&facility_code, &letter),
                        actor,
                        &now_db,
                        serde_json::json!({}),
                    )?;
                    (created, false)
                }
            }
        }
        (None, None) => {
            return Err(CoreError::invalid(
                "patient",
                "give the patient's details or choose a registered patient",
                "मरीज़ का विवरण दें या पंजीकृत मरीज़ चुनें",
            ))
        }
    };

    let repeat_today = visits::today_visit(conn, &patient.id, &dept.code, &today_s)?.is_some();
    let earlier = visits::valid_visit(conn, &patient.id, &dept.code, &today_s)?;
    let (visit_type, valid_until) = match &earlier {
        Some(v) => ("follow_up", v.valid_until.clone()),
        None => {
            let days = i64::from(dept.validity_days.max(1)) - 1;
            let until = today
                .checked_add(time::Duration::days(days))
                .unwrap_or(today);
            ("new", until.to_string())
        }
    };
    let waiver = req
        .waiver
        .as_deref()
        .map(|w| w.trim().to_ascii_uppercase())
        .filter(|w| !w.is_empty())
        .or_else(|| waiver_for_category(&patient.category).map(str::to_owned));
    if let Some(w) = &waiver {
        let known: bool = conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM fee_waivers WHERE code = ?1 AND active = 1)",
            [w],
            |r| r.get(0),
        )?;
        if !known {
            return Err(CoreError::invalid(
                "waiver",
                format!("{w} is not an active fee waiver"),
                format!("{w} कोई मान्य शुल्क छूट नहीं है"),
            ));
        }
    }
    let fee = if visit_type == "follow_up" || waiver.is_some() {
        0
    } else {
        dept.fee_rupees
    };
    let token_no = visits::next_counter(conn, &format!("token:{}:{today_s}:{letter}", dept.code))?;
    let token = format!("{letter}-{token_no:03}");
    let visit_id = uuid::Uuid::now_v7().to_string();
    let abha_linked = patient.abha_number.is_some() || patient.abha_address.is_some();
    conn.prepare_cached(
        "INSERT INTO visits (id, patient_id, department, visit_date, kiosk_letter, token_no, token, \
         visit_type, fee_rupees, waiver_code, waiver_reason, valid_until, abha_linked, created_at, created_by) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    )?
    .execute(rusqlite::params![
        visit_id,
        patient.id,
        dept.code,
        today_s,
        letter,
        token_no,
        token,
        visit_type,
        fee,
        waiver,
        req.waiver_reason.as_deref().map(str::trim).filter(|r| !r.is_empty()),
        valid_until,
        abha_linked,
        now_db,
        actor.as_db(),
    ])?;
    crate::outbox::queue_visit(conn, &visit_id)?;
    audit::record(
        conn,
        actor,
        crate::audit::actions::VISIT_CREATE,
        "visit",
        Some(&visit_id),
        serde_json::json!({ "patient_id": patient.id, "department": dept.code, "returning": returning, "repeat_today": repeat_today }),
    )?;
    Ok(Registration {
        patient_id: patient.id,
        uhid: patient.uhid,
        visit_id,
        token,
        returning,
        visit_type: visit_type.to_owned(),
        fee_rupees: fee,
        valid_until,
        warnings,
        possible_duplicates: duplicates,
        repeat_today,
        department: DepartmentBrief {
            code: dept.code,
            name_en: dept.name_en,
            name_hi: dept.name_hi,
            room: dept.room,
        },
    })
}

/// Why an existing patient is offered as possibly the one at the counter.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchReason {
    /// Same ABHA number or address.
    Abha,
    /// Same Aadhaar (keyed hash, or last 4 + year + name).
    Aadhaar,
    /// Same mobile number.
    Mobile,
    /// Same name key and year of birth (±1), and same locality or village when known.
    NameYearPlace,
}

/// An existing patient shown before submit: "this is the patient" or "new patient".
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    /// The patient.
    pub patient: Patient,
    /// Why they are offered.
    pub reasons: Vec<MatchReason>,
    /// Their last visit date (`YYYY-MM-DD`), if any.
    pub last_visit: Option<String>,
    /// Registering would pick this patient by itself (same ABHA or Aadhaar).
    pub certain: bool,
}

/// One field's problem.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Serialize)]
pub struct FieldProblem {
    /// The field (`name`, `gender`, `dob`, `mobile`, `address.pincode`…).
    pub field: String,
    /// English.
    pub en: String,
    /// Hindi.
    pub hi: String,
}

/// What the counter should know before it registers: every field problem at once, the existing
/// patients who may be this one, and whether the patient already has a token for the department
/// today. Nothing is written.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Serialize, Default)]
pub struct RegistrationCheck {
    /// Every field problem (empty when the details are valid).
    pub problems: Vec<FieldProblem>,
    /// Possible matches, certain ones first.
    pub candidates: Vec<Candidate>,
    /// The patient (chosen, or certainly matched) already has a token for this department today.
    pub repeat_today: bool,
}

/// Checks a registration without writing anything (see [`RegistrationCheck`]).
pub fn check(conn: &Connection, req: &RegisterRequest) -> Result<RegistrationCheck> {
    let settings = config::load_settings(conn)?;
    let today = clock::local_date(clock::now_utc(), settings.utc_offset_minutes);
    let today_s = today.to_string();
    let dept_code = req.department.trim().to_ascii_uppercase();
    let mut out = RegistrationCheck::default();
    let repeat = |id: &str| -> Result<bool> {
        Ok(!dept_code.is_empty() && visits::today_visit(conn, id, &dept_code, &today_s)?.is_some())
    };
    if let Some(id) = &req.patient_id {
        let p = patients::resolve(conn, id)?;
        out.repeat_today = repeat(&p.id)?;
        return Ok(out);
    }
    let Some(input) = &req.patient else {
        return Ok(out);
    };
    let hash_key = secrets::stored_key(conn)?.unwrap_or_default();
    let (valid, problems) = patients::validate_all(input, &hash_key, today);
    out.problems = problems
        .into_iter()
        .map(|(field, msg)| FieldProblem {
            field,
            en: msg.en,
            hi: msg.hi,
        })
        .collect();
    let Some(valid) = valid else {
        return Ok(out);
    };
    let mut add = |p: Patient, reason: MatchReason, certain: bool| -> Result<()> {
        if let Some(c) = out.candidates.iter_mut().find(|c| c.patient.id == p.id) {
            if !c.reasons.contains(&reason) {
                c.reasons.push(reason);
            }
            c.certain |= certain;
            return Ok(());
        }
        let last_visit = visits::for_patient(conn, &p.id, 1)?
            .into_iter()
            .next()
            .map(|v| v.visit_date);
        out.candidates.push(Candidate {
            patient: p,
            reasons: vec![reason],
            last_visit,
            certain,
        });
        Ok(())
    };
    if let Some(same) = patients::find_same_person(conn, &valid)? {
        let reason = if valid.abha_number.is_some() && same.abha_number == valid.abha_number
            || valid.abha_address.is_some() && same.abha_address == valid.abha_address
        {
            MatchReason::Abha
        } else {
            MatchReason::Aadhaar
        };
        add(same, reason, true)?;
    }
    for p in patients::possible_duplicates(conn, &valid)? {
        add(p, MatchReason::NameYearPlace, false)?;
    }
    if let Some(m) = &valid.mobile {
        for p in patients::by_mobile(conn, m, 5)? {
            add(p, MatchReason::Mobile, false)?;
        }
    }
    out.candidates.sort_by_key(|c| !c.certain);
    if let Some(c) = out.candidates.iter().find(|c| c.certain) {
        let id = c.patient.id.clone();
        out.repeat_today = repeat(&id)?;
    }
    Ok(out)
}

/// Cancels a visit (audited with the reason).
pub fn cancel(conn: &Connection, actor: &Actor, visit_id: &str, reason: &str) -> Result<()> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(CoreError::invalid(
            "reason",
            "say why the visit is cancelled",
            "रद्द करने का कारण बताएँ",
        ));
    }
    let n = conn.execute(
        "UPDATE visits SET status = 'cancelled', cancel_reason = ?2 WHERE id = ?1 AND status = 'active'",
        rusqlite::params![visit_id, reason],
    )?;
    if n == 0 {
        return Err(CoreError::NotFound {
            what: format!("active visit {visit_id}"),
        });
    }
    crate::outbox::queue_visit(conn, visit_id)?;
    audit::record(
        conn,
        actor,
        crate::audit::actions::VISIT_CANCEL,
        "visit",
        Some(visit_id),
        serde_json::json!({}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn input(json: serde_json::Value) -> PatientInput {
        serde_json::from_value(json).unwrap()
    }

    fn reg(store: &Store, req: RegisterRequest) -> Result<Registration> {
        store.write(|tx| register(tx, &Actor::Cli, &req))
    }

    fn req(dept: &str, p: serde_json::Value) -> RegisterRequest {
        RegisterRequest {
            department: dept.into(),
            patient: Some(input(p)),
            ..Default::default()
        }
    }

    #[test]
    fn an_aadhaar_is_kept_only_with_consent_given() {
        let store = Store::open_in_memory().unwrap();
        let stored = |id: &str| -> (Option<String>, Option<String>, bool) {
            store
                .read(|c| {
                    Ok(c.query_row(
                        "SELECT aadhaar_last4, aadhaar_hash, aadhaar_consent FROM patients WHERE id = ?1",
                        [id],
                        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                    )?)
                })
                .unwrap()
        };
        for (i, consent) in [None, Some(false), Some(true)].into_iter().enumerate() {
            let mut p = serde_json::json!({"name": format!("Kamla Devi {}", ["A", "B", "C"][i]),
                "gender": "F", "age_years": 40 + i, "aadhaar": "234567890124"});
            if let Some(c) = consent {
                p["aadhaar_consent"] = serde_json::json!(c);
            }
            let r = reg(&store, req("GEN", p)).unwrap();
            let (l4, hash, given) = stored(&r.patient_id);
            if consent == Some(true) {
                assert_eq!(l4.as_deref(), Some("0124"));
                assert!(hash.is_some() && given);
                assert!(r.warnings.is_empty(), "{:?}", r.warnings);
            } else {
                assert_eq!(
                    (l4, hash, given),
                    (None, None, false),
                    "consent {consent:?}: nothing kept"
                );
                // Refused: the operator knows; not recorded: the operator is told.
                assert_eq!(
                    r.warnings
                        .iter()
                        .any(|w| w.en.contains("not kept") && w.hi.contains("सहमति")),
                    consent.is_none(),
                    "{:?}",
                    r.warnings
                );
            }
        }
        // A Secure QR's last 4 (no full number) follow the same rule.
        let r = reg(
            &store,
            req(
                "GEN",
                serde_json::json!({"name": "Phool Kumari", "gender": "F", "age_years": 30,
                "aadhaar_last4": "4321"}),
            ),
        )
        .unwrap();
        assert_eq!(stored(&r.patient_id).0, None);
    }

    #[test]
    fn new_then_returning_by_aadhaar_with_sequential_tokens() {
        let store = Store::open_in_memory().unwrap();
        let p = serde_json::json!({"name": "Sunita Devi", "gender": "F", "dob": "1984-05-23",
            "mobile": "9876543210", "aadhaar": "234567890124", "aadhaar_consent": true,
            "guardian": "W/O Ramesh Kumar", "address": {"vtc": "Patna", "pincode": "800020"}});
        let a = reg(&store, req("GEN", p.clone())).unwrap();
        assert!(!a.returning);
        assert_eq!(a.token, "A-001");
        assert_eq!(a.visit_type, "new");
        assert_eq!(a.fee_rupees, 10);
        assert!(a.uhid.starts_with("SWG-A00001-"));
        let b = reg(&store, req("GEN", p.clone())).unwrap();
        assert!(b.returning, "same Aadhaar hash: the same patient");
        assert_eq!(b.patient_id, a.patient_id);
        assert_eq!(b.token, "A-002");
        assert_eq!(b.visit_type, "follow_up");
        assert_eq!(b.fee_rupees, 0);
        let c = reg(&store, req("EYE", p)).unwrap();
        assert_eq!(c.token, "A-001", "tokens are per department");

        // Nothing in the database holds the full number.
        let dump: String = store
            .read(|c| {
                let mut s = String::new();
                let mut stmt = c.prepare("SELECT * FROM patients")?;
                let n = stmt.column_count();
                let mut rows = stmt.query([])?;
                while let Some(r) = rows.next()? {
                    for i in 0..n {
                        if let Ok(v) = r.get::<_, String>(i) {
                            s.push_str(&v);
                        }
                    }
                }
                Ok(s)
            })
            .unwrap();
        assert!(!dump.contains("234567890124"));
        assert!(dump.contains("0124"));
        let pt = store.read(|c| patients::get(c, &a.patient_id)).unwrap();
        assert_eq!(pt.masked_aadhaar().as_deref(), Some("XXXX XXXX 0124"));
        assert_eq!(pt.guardian_relation.as_deref(), Some("W/O"));
        assert_eq!(pt.guardian_name.as_deref(), Some("Ramesh Kumar"));
    }

    #[test]
    fn invalid_input_is_refused_with_the_field() {
        let store = Store::open_in_memory().unwrap();
        for (p, field) in [
            (
                serde_json::json!({"name": "A", "gender": "F", "age_years": 30, "aadhaar": "234567890125"}),
                "aadhaar",
            ),
            (
                serde_json::json!({"name": "A", "gender": "X", "age_years": 30}),
                "gender",
            ),
            (
                serde_json::json!({"name": "", "gender": "F", "age_years": 30}),
                "name",
            ),
            (serde_json::json!({"name": "A", "gender": "F"}), "dob"),
            (
                serde_json::json!({"name": "A", "gender": "F", "age_years": 30, "mobile": "12345"}),
                "mobile",
            ),
            (
                serde_json::json!({"name": "A", "gender": "F", "age_years": 30, "address": {"pincode": "012345"}}),
                "address.pincode",
            ),
        ] {
            let e = reg(&store, req("GEN", p)).unwrap_err();
            assert!(
                matches!(&e, CoreError::Invalid { field: f, .. } if f == field),
                "{e}"
            );
        }
        assert!(reg(
            &store,
            req(
                "XYZ",
                serde_json::json!({"name": "A", "gender": "F", "age_years": 3})
            )
        )
        .is_err());
    }

    #[test]
    fn waivers_abha_and_search() {
        let store = Store::open_in_memory().unwrap();
        let r = reg(
            &store,
            req(
                "PED",
                serde_json::json!({"name": "Suneeta Kumari", "gender": "F",
            "age_years": 7, "category": "BPL", "abha_number": "91-2345-6789-0129",
            "abha_address": "Suneeta.K@abdm", "address": {"locality": "Kankarbagh"}}),
            ),
        )
        .unwrap();
        assert_eq!(r.fee_rupees, 0);
        let again = reg(
            &store,
            req(
                "GEN",
                serde_json::json!({"name": "S Kumari", "gender": "F",
            "age_years": 7, "abha_number": "91234567890129"}),
            ),
        )
        .unwrap();
        assert!(again.returning, "same ABHA number");
        let warn = reg(
            &store,
            req(
                "GEN",
                serde_json::json!({"name": "Z", "gender": "M",
            "age_years": 40, "abha_number": "91-2345-6789-0128"}),
            ),
        )
        .unwrap();
        assert_eq!(
            warn.warnings.len(),
            1,
            "Luhn failure is a warning, not a refusal"
        );

        let (kind, found) = store
            .read(|c| patients::search(c, "sunita kum", b"", 10))
            .unwrap();
        assert_eq!(kind, patients::QueryKind::Name);
        assert_eq!(found.len(), 1, "spelling variant found by prefix");
        let (kind, found) = store
            .read(|c| patients::search(c, &r.uhid.to_lowercase(), b"", 10))
            .unwrap();
        assert_eq!((kind, found.len()), (patients::QueryKind::Uhid, 1));
        let (kind, found) = store
            .read(|c| patients::search(c, "suneeta.k@abdm", b"", 10))
            .unwrap();
        assert_eq!((kind, found.len()), (patients::QueryKind::AbhaAddress, 1));
        let (kind, found) = store
            .read(|c| patients::search(c, "9123 4567 8901 29", b"", 10))
            .unwrap();
        assert_eq!((kind, found.len()), (patients::QueryKind::AbhaNumber, 1));

        // A near-duplicate without strong ids is created, with a warning.
        let dup = reg(
            &store,
            req(
                "GEN",
                serde_json::json!({"name": "Sunita Kumari", "gender": "F",
            "age_years": 7, "address": {"locality": "kankarbagh"}}),
            ),
        )
        .unwrap();
        assert!(!dup.returning);
        assert_eq!(dup.possible_duplicates.len(), 1);
    }

    #[test]
    fn cancel_is_audited_and_counts_drop() {
        let store = Store::open_in_memory().unwrap();
        let r = reg(
            &store,
            req(
                "GEN",
                serde_json::json!({"name": "Ram", "gender": "M", "age_years": 50}),
            ),
        )
        .unwrap();
        let today = store
            .read(|c| {
                let s = config::load_settings(c)?;
                Ok(clock::local_date(clock::now_utc(), s.utc_offset_minutes).to_string())
            })
            .unwrap();
        assert_eq!(
            store.read(|c| visits::day_counts(c, &today)).unwrap(),
            (1, 0)
        );
        assert!(store
            .write(|tx| cancel(tx, &Actor::Cli, &r.visit_id, " "))
            .is_err());
        store
            .write(|tx| cancel(tx, &Actor::Cli, &r.visit_id, "registered twice"))
            .unwrap();
        assert_eq!(
            store.read(|c| visits::day_counts(c, &today)).unwrap(),
            (0, 0)
        );
        assert!(store
            .write(|tx| cancel(tx, &Actor::Cli, &r.visit_id, "again"))
            .is_err());
    }
}
