//! The `patients` table: rows mapped by column name (never by position), insert and update,
//! the stored Aadhaar hash and its key id, and loading one patient (following merges).

use rusqlite::{Connection, OptionalExtension, Row, ToSql};
use swagat_identity::Address;

use super::*;
use crate::error::{CoreError, Result};
use crate::opd::names;

/// The columns [`from_row`] reads (in any order: it reads by name).
pub(super) const COLUMNS: &str =
    "id, uhid, name, name_hi, gender, dob, dob_approximate, year_of_birth, \
    guardian_relation, guardian_name, mobile, house, street, landmark, locality, vtc, post_office, \
    sub_district, district, state, state_lgd, district_lgd, pincode, aadhaar_last4, abha_number, \
    abha_address, category, aadhaar_consent, merged_into, created_at, updated_at";

/// Where each of [`COLUMNS`] is.
static POSITIONS: std::sync::LazyLock<std::collections::HashMap<&'static str, usize>> =
    std::sync::LazyLock::new(|| crate::store::column_positions(COLUMNS));

/// The position of `name` in [`COLUMNS`] (an unknown name reads as a missing column: an error,
/// never a panic).
fn col(name: &str) -> usize {
    POSITIONS.get(name).copied().unwrap_or(usize::MAX)
}

/// One `patients` row selected with [`COLUMNS`], read by column name.
pub(super) fn from_row(r: &Row<'_>) -> rusqlite::Result<Patient> {
    Ok(Patient {
        id: r.get(col("id"))?,
        uhid: r.get(col("uhid"))?,
        name: r.get(col("name"))?,
        name_hi: r.get(col("name_hi"))?,
        gender: r.get(col("gender"))?,
        dob: r.get(col("dob"))?,
        dob_approximate: r.get(col("dob_approximate"))?,
        year_of_birth: r.get(col("year_of_birth"))?,
        guardian_relation: r.get(col("guardian_relation"))?,
        guardian_name: r.get(col("guardian_name"))?,
        mobile: r.get(col("mobile"))?,
        address: PatientAddress {
            postal: Address {
                house: r.get(col("house"))?,
                street: r.get(col("street"))?,
                landmark: r.get(col("landmark"))?,
                locality: r.get(col("locality"))?,
                vtc: r.get(col("vtc"))?,
                post_office: r.get(col("post_office"))?,
                sub_district: r.get(col("sub_district"))?,
                district: r.get(col("district"))?,
                state: r.get(col("state"))?,
                pincode: r.get(col("pincode"))?,
            },
            state_lgd: r.get(col("state_lgd"))?,
            district_lgd: r.get(col("district_lgd"))?,
        },
        aadhaar_last4: r.get(col("aadhaar_last4"))?,
        abha_number: r.get(col("abha_number"))?,
        abha_address: r.get(col("abha_address"))?,
        category: r.get(col("category"))?,
        aadhaar_consent: r.get(col("aadhaar_consent"))?,
        merged_into: r.get(col("merged_into"))?,
        created_at: r.get(col("created_at"))?,
        updated_at: r.get(col("updated_at"))?,
    })
}

/// Creates a new patient, the one way a kiosk does (OPD registration, an online request, the
/// demo data aside): a new id, the next UHID of this kiosk (`facility_code`, `letter`), the
/// row, its `patient.create` audit entry (with `detail`) and its outbox record, in the caller's
/// transaction.
pub fn create(
    conn: &Connection,
    p: &ValidPatient,
    (facility_code, letter): (&str, &str),
    actor: &crate::audit::Actor,
    now_db: &str,
    detail: serde_json::Value,
) -> Result<Patient> {
    let id = uuid::Uuid::now_v7().to_string();
    let seq = crate::opd::visits::next_counter(conn, "uhid")?;
    let uhid = crate::opd::uhid::format(facility_code, letter, seq);
    insert(conn, &id, &uhid, p, &actor.as_db(), now_db)?;
    crate::audit::record(
        conn,
        actor,
        crate::audit::actions::PATIENT_CREATE,
        "patient",
        Some(&id),
        detail,
    )?;
    crate::outbox::queue_patient(conn, &id)?;
    get(conn, &id)
}

/// Stores a new patient with the given id and UHID.
pub fn insert(
    conn: &Connection,
    id: &str,
    uhid: &str,
    p: &ValidPatient,
    actor: &str,
    now: &str,
) -> Result<()> {
    let derived = Derived::of(conn, p)?;
    let mut params = written(p, &derived).to_vec();
    params.extend_from_slice(&[
        (":id", &id as &dyn ToSql),
        (":uhid", &uhid),
        (":now", &now),
        (":actor", &actor),
    ]);
    conn.prepare_cached(
        "INSERT INTO patients (id, uhid, name, name_hi, name_key, gender, dob, dob_approximate, \
         year_of_birth, guardian_relation, guardian_name, mobile, house, street, landmark, locality, \
         vtc, post_office, sub_district, district, state, state_lgd, district_lgd, pincode, \
         aadhaar_last4, aadhaar_hash, abha_number, abha_address, category, aadhaar_consent, \
         consent_notice, created_at, created_by, updated_at, updated_by, aadhaar_key_id, search_key) \
         VALUES (:id, :uhid, :name, :name_hi, :name_key, :gender, :dob, :dob_approximate, \
         :year_of_birth, :guardian_relation, :guardian_name, :mobile, :house, :street, :landmark, \
         :locality, :vtc, :post_office, :sub_district, :district, :state, :state_lgd, \
         :district_lgd, :pincode, :aadhaar_last4, :aadhaar_hash, :abha_number, :abha_address, \
         :category, :aadhaar_consent, CASE WHEN :aadhaar_consent THEN :consent_notice END, \
         :now, :actor, :now, :actor, :aadhaar_key_id, :search_key)",
    )?
    .execute(params.as_slice())?;
    Ok(())
}

/// What a write stores beside `p`'s own fields: derived keys and the consented Aadhaar parts.
struct Derived<'a> {
    name_key: String,
    search_key: String,
    aadhaar_last4: Option<&'a str>,
    aadhaar_hash: Option<&'a str>,
    aadhaar_key_id: Option<String>,
}

impl<'a> Derived<'a> {
    fn of(conn: &Connection, p: &'a ValidPatient) -> Result<Self> {
        let (aadhaar_last4, aadhaar_hash) = consented_aadhaar(p);
        Ok(Self {
            name_key: names::name_key(&p.name),
            search_key: names::search_key(&p.name, p.name_hi.as_deref()),
            aadhaar_last4,
            aadhaar_hash,
            aadhaar_key_id: hash_key_id(conn, p)?,
        })
    }
}

/// The values [`insert`] and [`update`] both store (less the id, time and actor), by parameter
/// name: one list, so the two
/// writes cannot disagree on what a column holds.
fn written<'a>(p: &'a ValidPatient, d: &'a Derived<'a>) -> [(&'static str, &'a dyn ToSql); 31] {
    let a = &p.address.postal;
    [
        (":name", &p.name),
        (":name_hi", &p.name_hi),
        (":name_key", &d.name_key),
        (":gender", &p.gender),
        (":dob", &p.dob),
        (":dob_approximate", &p.dob_approximate),
        (":year_of_birth", &p.year_of_birth),
        (":guardian_relation", &p.guardian_relation),
        (":guardian_name", &p.guardian_name),
        (":mobile", &p.mobile),
        (":house", &a.house),
        (":street", &a.street),
        (":landmark", &a.landmark),
        (":locality", &a.locality),
        (":vtc", &a.vtc),
        (":post_office", &a.post_office),
        (":sub_district", &a.sub_district),
        (":district", &a.district),
        (":state", &a.state),
        (":state_lgd", &p.address.state_lgd),
        (":district_lgd", &p.address.district_lgd),
        (":pincode", &a.pincode),
        (":aadhaar_last4", &d.aadhaar_last4),
        (":aadhaar_hash", &d.aadhaar_hash),
        (":abha_number", &p.abha_number),
        (":abha_address", &p.abha_address),
        (":category", &p.category),
        (":aadhaar_consent", &p.aadhaar_consent),
        (":consent_notice", &CONSENT_NOTICE_VERSION),
        (":aadhaar_key_id", &d.aadhaar_key_id),
        (":search_key", &d.search_key),
    ]
}

/// The key id to store beside `p`'s Aadhaar hash (none without a hash).
fn hash_key_id(conn: &Connection, p: &ValidPatient) -> Result<Option<String>> {
    // No consent, no stored hash (see `consented_aadhaar`), so no key id beside it either.
    let hash = consented_aadhaar(p).1;
    Ok(match (hash, &p.aadhaar_key_id) {
        (None, _) => None,
        (Some(_), Some(k)) => Some(k.clone()),
        (Some(_), None) => Some(crate::opd::secrets::current_key_id(conn)?),
    })
}

/// The Aadhaar last 4 and keyed hash to store: only with consent recorded as *given*. Consent
/// refused or simply not recorded keeps nothing of the Aadhaar (matching a returning patient by it
/// still works for the moment of the registration; storing it does not happen).
fn consented_aadhaar(p: &ValidPatient) -> (Option<&str>, Option<&str>) {
    if p.aadhaar_consent {
        (p.aadhaar_last4.as_deref(), p.aadhaar_hash.as_deref())
    } else {
        (None, None)
    }
}

/// Whether `p` carries an Aadhaar that will not be kept for want of consent.
pub fn aadhaar_dropped_for_consent(p: &ValidPatient) -> bool {
    !p.aadhaar_consent && (p.aadhaar_last4.is_some() || p.aadhaar_hash.is_some())
}

/// Rewrites the stored fields of patient `id` with `p` (name key and search index follow; the FTS
/// triggers reindex the names).
pub fn update(conn: &Connection, id: &str, p: &ValidPatient, actor: &str, now: &str) -> Result<()> {
    let derived = Derived::of(conn, p)?;
    let mut params = written(p, &derived).to_vec();
    params.extend_from_slice(&[
        (":id", &id as &dyn ToSql),
        (":now", &now),
        (":actor", &actor),
    ]);
    conn.prepare_cached(
        "UPDATE patients SET name = :name, name_hi = :name_hi, name_key = :name_key, \
         gender = :gender, dob = :dob, dob_approximate = :dob_approximate, \
         year_of_birth = :year_of_birth, guardian_relation = :guardian_relation, \
         guardian_name = :guardian_name, mobile = :mobile, house = :house, street = :street, \
         landmark = :landmark, locality = :locality, vtc = :vtc, post_office = :post_office, \
         sub_district = :sub_district, district = :district, state = :state, \
         state_lgd = :state_lgd, district_lgd = :district_lgd, pincode = :pincode, \
         aadhaar_last4 = :aadhaar_last4, aadhaar_hash = :aadhaar_hash, \
         abha_number = :abha_number, abha_address = :abha_address, category = :category, \
         aadhaar_consent = :aadhaar_consent, \
         consent_notice = CASE WHEN :aadhaar_consent THEN coalesce(consent_notice, :consent_notice) \
         ELSE NULL END, updated_at = :now, updated_by = :actor, aadhaar_key_id = :aadhaar_key_id, \
         search_key = :search_key WHERE id = :id",
    )?
    .execute(params.as_slice())?;
    Ok(())
}

/// The id of the key that made patient `id`'s stored Aadhaar hash.
pub fn stored_aadhaar_key_id(conn: &Connection, id: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT aadhaar_key_id FROM patients WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?
        .flatten())
}

/// The stored Aadhaar keyed hash of patient `id` (never shown; used to re-validate an edit).
pub fn stored_aadhaar_hash(conn: &Connection, id: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT aadhaar_hash FROM patients WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?
        .flatten())
}

/// What the counter would type to recreate `p` (the starting point of an edit). `aadhaar_hash`
/// is the stored keyed hash, so an edit that leaves the Aadhaar alone keeps it.
pub fn input_of(p: &Patient, aadhaar_hash: Option<String>) -> PatientInput {
    PatientInput {
        name: p.name.clone(),
        name_hi: p.name_hi.clone(),
        gender: p.gender.clone(),
        dob: p.dob.clone(),
        age_years: None,
        age_months: None,
        guardian: match (&p.guardian_relation, &p.guardian_name) {
            (Some(relation), Some(name)) => Some(GuardianInput::Parts {
                relation: relation.clone(),
                name: name.clone(),
            }),
            _ => None,
        },
        mobile: p.mobile.clone(),
        aadhaar: None,
        aadhaar_last4: p.aadhaar_last4.clone(),
        aadhaar_hash: p.aadhaar_last4.as_ref().and(aadhaar_hash),
        abha_number: p.abha_number.clone(),
        abha_address: p.abha_address.clone(),
        category: Some(p.category.clone()),
        address: p.address.clone(),
        // Unknown (not refused) when it was never given: an edit must not drop a kept Aadhaar.
        aadhaar_consent: p.aadhaar_consent.then_some(true),
    }
}

/// The patient with id `id`.
pub fn get(conn: &Connection, id: &str) -> Result<Patient> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM patients WHERE id = ?1"))?
        .query_row([id], from_row)
        .optional()?
        .ok_or_else(|| CoreError::NotFound {
            what: format!("patient {id}"),
        })
}

/// The record a merged patient now lives in (follows `merged_into`).
pub fn resolve(conn: &Connection, id: &str) -> Result<Patient> {
    let mut p = get(conn, id)?;
    for _ in 0..8 {
        match p.merged_into.clone() {
            Some(next) => p = get(conn, &next)?,
            None => break,
        }
    }
    Ok(p)
}
