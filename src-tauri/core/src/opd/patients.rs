//! Patients: validated fields, storage, and finding the returning patient.
//!
//! A [`PatientInput`] is what the counter knows (typed, or pre-filled from a QR code). It is checked
//! with the identity crate's number types, and a full Aadhaar number is reduced at once to its last
//! four digits and a keyed hash — the only forms ever stored. Search covers UHID, mobile, ABHA
//! number and address, Aadhaar (hash, or last 4 with the year of birth) and names (FTS5 prefix
//! search over the spelling, a phonetic key, and the Devanagari form).

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::{Deserialize, Serialize};
use swagat_identity::{AadhaarNumber, AbhaAddress, AbhaNumber, BirthDate, Gender, IndianMobile};

use crate::error::{CoreError, Result};
use crate::opd::names;

/// A patient's postal address (any part may be missing).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PatientAddress {
    /// House number / name.
    pub house: Option<String>,
    /// Street.
    pub street: Option<String>,
    /// Landmark.
    pub landmark: Option<String>,
    /// Locality / mohalla.
    pub locality: Option<String>,
    /// Village, town or city.
    pub vtc: Option<String>,
    /// Post office.
    pub post_office: Option<String>,
    /// Sub-district / block.
    pub sub_district: Option<String>,
    /// District name.
    pub district: Option<String>,
    /// State name.
    pub state: Option<String>,
    /// LGD state code.
    pub state_lgd: Option<u32>,
    /// LGD district code.
    pub district_lgd: Option<u32>,
    /// 6-digit PIN code.
    pub pincode: Option<String>,
}

/// Guardian as typed: `"W/O Ramesh Kumar"`, or an object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum GuardianInput {
    /// `S/O`, `W/O`, `D/O` or `C/O` followed by a name.
    Text(String),
    /// Relation and name.
    Parts {
        /// `S/O`, `W/O`, `D/O` or `C/O`.
        relation: String,
        /// The guardian's name.
        name: String,
    },
}

/// What the counter knows about a patient (the CLI's `--json` and the UI's form).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PatientInput {
    /// Name in English letters.
    pub name: String,
    /// Name in Devanagari, when known.
    pub name_hi: Option<String>,
    /// `M`, `F`, `T`, `O` (or MALE/FEMALE...).
    pub gender: String,
    /// Date of birth (`DD-MM-YYYY`, `YYYY-MM-DD`, `d/m/yyyy`) or a year.
    pub dob: Option<String>,
    /// Age in years, when the date is not known.
    pub age_years: Option<u32>,
    /// Extra months of age (infants).
    pub age_months: Option<u32>,
    /// Guardian.
    pub guardian: Option<GuardianInput>,
    /// Mobile number.
    pub mobile: Option<String>,
    /// A full Aadhaar number: validated, then only last 4 + keyed hash are kept.
    pub aadhaar: Option<String>,
    /// Aadhaar last 4 digits only (from a Secure QR's reference id).
    pub aadhaar_last4: Option<String>,
    /// The keyed hash of an Aadhaar number scanned from an XML QR (64 hex digits).
    pub aadhaar_hash: Option<String>,
    /// ABHA number.
    pub abha_number: Option<String>,
    /// ABHA address.
    pub abha_address: Option<String>,
    /// general, bpl, ration_card, ayushman, senior_citizen...
    pub category: Option<String>,
    /// Address.
    pub address: PatientAddress,
    /// The patient agreed to Aadhaar being used, after the notice was shown.
    pub aadhaar_consent: Option<bool>,
}

/// A patient as stored and shown (never the Aadhaar hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Patient {
    /// UUIDv7.
    pub id: String,
    /// Unique health id, e.g. `PTN12-A00017-K`.
    pub uhid: String,
    /// Name (English letters).
    pub name: String,
    /// Name (Devanagari).
    pub name_hi: Option<String>,
    /// M, F, T or O.
    pub gender: String,
    /// `YYYY-MM-DD`.
    pub dob: Option<String>,
    /// The date was derived from an age.
    pub dob_approximate: bool,
    /// Year of birth.
    pub year_of_birth: Option<i32>,
    /// `S/O`, `W/O`, `D/O`, `C/O`.
    pub guardian_relation: Option<String>,
    /// Guardian's name.
    pub guardian_name: Option<String>,
    /// 10-digit mobile.
    pub mobile: Option<String>,
    /// Address.
    pub address: PatientAddress,
    /// Last 4 Aadhaar digits.
    pub aadhaar_last4: Option<String>,
    /// `XX-XXXX-XXXX-XXXX`.
    pub abha_number: Option<String>,
    /// ABHA address.
    pub abha_address: Option<String>,
    /// Category (fee waivers).
    pub category: String,
    /// Consent to Aadhaar use recorded.
    pub aadhaar_consent: bool,
    /// The record this one was merged into, if any.
    pub merged_into: Option<String>,
    /// Created (RFC 3339).
    pub created_at: String,
    /// Last updated (RFC 3339).
    pub updated_at: String,
}

impl Patient {
    /// `XXXX XXXX 1234`, if the last 4 digits are known.
    pub fn masked_aadhaar(&self) -> Option<String> {
        self.aadhaar_last4
            .as_ref()
            .map(|l| format!("XXXX XXXX {l}"))
    }
}

/// Validated fields ready to store.
#[derive(Debug, Clone, Default)]
pub struct ValidPatient {
    pub(crate) name: String,
    pub(crate) name_hi: Option<String>,
    pub(crate) gender: String,
    pub(crate) dob: Option<String>,
    pub(crate) dob_approximate: bool,
    pub(crate) year_of_birth: Option<i32>,
    pub(crate) guardian_relation: Option<String>,
    pub(crate) guardian_name: Option<String>,
    pub(crate) mobile: Option<String>,
    pub(crate) address: PatientAddress,
    pub(crate) aadhaar_last4: Option<String>,
    pub(crate) aadhaar_hash: Option<String>,
    /// Which key made `aadhaar_hash` (None: the current key).
    pub(crate) aadhaar_key_id: Option<String>,
    pub(crate) abha_number: Option<String>,
    pub(crate) abha_address: Option<String>,
    pub(crate) category: String,
    pub(crate) aadhaar_consent: bool,
    /// Non-fatal notes for the operator (e.g. ABHA checksum).
    pub(crate) warnings: Vec<crate::Msg>,
}

/// Patient categories known to the fee rules.
pub const CATEGORIES: &[&str] = &[
    "general",
    "bpl",
    "ration_card",
    "ayushman",
    "senior_citizen",
    "jssk",
];

fn text(field: &str, v: Option<&str>, max: usize) -> Result<Option<String>> {
    let Some(t) = v.map(str::trim).filter(|t| !t.is_empty() && *t != "null") else {
        return Ok(None);
    };
    if t.chars().count() > max || t.chars().any(char::is_control) {
        return Err(CoreError::invalid(
            field,
            format!("must be at most {max} characters of text"),
            format!("अधिकतम {max} अक्षर का सामान्य पाठ होना चाहिए"),
        ));
    }
    Ok(Some(t.to_owned()))
}

fn number_error(field: &str, e: &swagat_identity::NumberError) -> CoreError {
    CoreError::invalid(field, e.to_string(), e.message_hi())
}

/// Splits `"W/O Ramesh Kumar"` (or `"s/o: Ramesh"`) into its relation and name; `None` when the
/// text names no relation (an Aadhaar "C/O" field often holds just a name). The one guardian
/// parser: the UI gets scans already split.
pub fn split_guardian(text: &str) -> Option<(String, String)> {
    let t = text.trim();
    let up = t.to_ascii_uppercase();
    let r = ["S/O", "W/O", "D/O", "C/O"]
        .into_iter()
        .find(|r| up.starts_with(r))?;
    Some((
        r.to_owned(),
        t[r.len()..]
            .trim_start_matches([':', ' '])
            .trim()
            .to_owned(),
    ))
}

fn parse_guardian(g: &GuardianInput) -> Result<(Option<String>, Option<String>)> {
    let (rel, name) = match g {
        GuardianInput::Parts { relation, name } => {
            (relation.trim().to_owned(), name.trim().to_owned())
        }
        GuardianInput::Text(t) => {
            split_guardian(t).unwrap_or_else(|| ("C/O".to_owned(), t.trim().to_owned()))
        }
    };
    let rel = rel.to_ascii_uppercase();
    if !["S/O", "W/O", "D/O", "C/O"].contains(&rel.as_str()) {
        return Err(CoreError::invalid(
            "guardian",
            "relation must be S/O, W/O, D/O or C/O",
            "संबंध S/O, W/O, D/O या C/O होना चाहिए",
        ));
    }
    let name = text("guardian", Some(&name), 80)?;
    Ok((name.as_ref().map(|_| rel), name))
}

/// Checks `input`; `hash_key` is the state's secret for the Aadhaar keyed hash; `today` derives a
/// date of birth from an age.
pub fn validate(input: &PatientInput, hash_key: &[u8], today: time::Date) -> Result<ValidPatient> {
    let mut out = ValidPatient {
        name: text("name", Some(&input.name), 80)?.ok_or_else(|| {
            CoreError::invalid(
                "name",
                "the patient's name is required",
                "मरीज़ का नाम आवश्यक है",
            )
        })?,
        name_hi: text("name_hi", input.name_hi.as_deref(), 80)?,
        ..Default::default()
    };
    if !names::has_latin(&out.name) && out.name_hi.is_none() && names::has_devanagari(&out.name) {
        // A Devanagari-only name goes to name_hi too; the name field keeps what was typed (its
        // phonetic key is computed from the Devanagari, so it is found by either script).
        out.name_hi = Some(out.name.clone());
    }
    out.gender = Gender::parse(&input.gender)
        .map_err(|_| {
            CoreError::invalid(
                "gender",
                "gender must be M, F, T or O",
                "लिंग M, F, T या O होना चाहिए",
            )
        })?
        .code()
        .to_owned();
    match (&input.dob, input.age_years) {
        (Some(d), _) if !d.trim().is_empty() => {
            let bd = BirthDate::parse(d).map_err(|e| number_error("dob", &e))?;
            if bd.year() > today.year() {
                return Err(CoreError::invalid(
                    "dob",
                    "date of birth is in the future",
                    "जन्म तिथि भविष्य में है",
                ));
            }
            out.year_of_birth = Some(bd.year());
            match bd.iso() {
                Some(iso) => out.dob = Some(iso),
                None => {
                    out.dob = Some(format!("{:04}-07-01", bd.year()));
                    out.dob_approximate = true;
                }
            }
        }
        (_, Some(years)) => {
            if years > 130 || input.age_months.is_some_and(|m| m > 11) {
                return Err(CoreError::invalid(
                    "age_years",
                    "age must be 0-130 years and 0-11 months",
                    "आयु 0-130 वर्ष और 0-11 महीने होनी चाहिए",
                ));
            }
            let months = i64::from(years) * 12 + i64::from(input.age_months.unwrap_or(0));
            let approx = today
                .checked_sub(time::Duration::days(months * 3044 / 100))
                .unwrap_or(today);
            out.dob = Some(approx.to_string());
            out.year_of_birth = Some(approx.year());
            out.dob_approximate = true;
        }
        _ => {
            return Err(CoreError::invalid(
                "dob",
                "give the date of birth or the age",
                "जन्म तिथि या आयु बताएँ",
            ))
        }
    }
    if let Some(g) = &input.guardian {
        (out.guardian_relation, out.guardian_name) = parse_guardian(g)?;
    }
    if let Some(m) = input.mobile.as_deref().filter(|m| !m.trim().is_empty()) {
        out.mobile = Some(
            IndianMobile::parse(m)
                .map_err(|e| number_error("mobile", &e))?
                .as_str()
                .to_owned(),
        );
    }
    if let Some(a) = input.aadhaar.as_deref().filter(|a| !a.trim().is_empty()) {
        let n = AadhaarNumber::parse(a).map_err(|e| number_error("aadhaar", &e))?;
        out.aadhaar_last4 = Some(n.last4());
        out.aadhaar_hash = Some(n.keyed_hash(hash_key));
        // `n` is dropped (and zeroised) here: the full number goes no further.
    } else if let Some(l4) = input
        .aadhaar_last4
        .as_deref()
        .filter(|a| !a.trim().is_empty())
    {
        let l4 = l4.trim();
        if l4.len() != 4 || !l4.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CoreError::invalid(
                "aadhaar_last4",
                "the last 4 Aadhaar digits are 4 digits",
                "आधार के अंतिम 4 अंक होने चाहिए",
            ));
        }
        out.aadhaar_last4 = Some(l4.to_owned());
        if let Some(h) = input.aadhaar_hash.as_deref().map(str::trim) {
            if h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(CoreError::invalid(
                    "aadhaar_hash",
                    "not a keyed hash",
                    "मान्य हैश नहीं है",
                ));
            }
            out.aadhaar_hash = Some(h.to_ascii_lowercase());
        }
    }
    if let Some(a) = input
        .abha_number
        .as_deref()
        .filter(|a| !a.trim().is_empty())
    {
        let n = AbhaNumber::parse(a).map_err(|e| number_error("abha_number", &e))?;
        if !n.luhn_valid() {
            out.warnings.push(crate::Msg::new(
                "The ABHA number's check digit looks wrong: please re-check it.",
                "आभा नंबर का जाँच अंक गलत लगता है: कृपया दोबारा जाँचें।",
            ));
        }
        out.abha_number = Some(n.formatted());
    }
    if let Some(a) = input
        .abha_address
        .as_deref()
        .filter(|a| !a.trim().is_empty())
    {
        out.abha_address = Some(
            AbhaAddress::parse(a)
                .map_err(|e| number_error("abha_address", &e))?
                .as_str()
                .to_owned(),
        );
    }
    let category = input
        .category
        .as_deref()
        .map(|c| c.trim().to_ascii_lowercase().replace([' ', '-'], "_"))
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "general".to_owned());
    if !CATEGORIES.contains(&category.as_str()) {
        return Err(CoreError::invalid(
            "category",
            format!("category must be one of {}", CATEGORIES.join(", ")),
            "श्रेणी मान्य नहीं है",
        ));
    }
    out.category = category;
    out.address = validate_address(&input.address)?;
    out.aadhaar_consent = input.aadhaar_consent.unwrap_or(false);
    if out.aadhaar_last4.is_some() && !out.aadhaar_consent && input.aadhaar_consent == Some(false) {
        // Consent refused: keep nothing from the Aadhaar.
        out.aadhaar_last4 = None;
        out.aadhaar_hash = None;
    }
    Ok(out)
}

/// Validates like [`validate`] but finds every field problem, not just the first: each failing
/// field is set aside (emptied, or given a harmless stand-in when it is required) and the rest is
/// checked again, so the counter shows all problems at once, each beside its field. Returns the
/// valid patient only when there is no problem.
pub fn validate_all(
    input: &PatientInput,
    hash_key: &[u8],
    today: time::Date,
) -> (Option<ValidPatient>, Vec<(String, crate::Msg)>) {
    let mut probe = input.clone();
    let mut problems: Vec<(String, crate::Msg)> = Vec::new();
    for _ in 0..32 {
        match validate(&probe, hash_key, today) {
            Ok(v) => return (problems.is_empty().then_some(v), problems),
            Err(CoreError::Invalid { field, msg }) => {
                if problems.iter().any(|(f, _)| *f == field) {
                    return (None, problems);
                }
                let known = set_aside(&mut probe, &field);
                problems.push((field, msg));
                if !known {
                    return (None, problems);
                }
            }
            Err(e) => {
                let msg = crate::Msg::new(e.to_string(), e.to_string());
                problems.push((String::new(), msg));
                return (None, problems);
            }
        }
    }
    (None, problems)
}

/// Takes `field` out of the way for [`validate_all`]; false for a field it does not know.
fn set_aside(p: &mut PatientInput, field: &str) -> bool {
    let a = &mut p.address;
    match field {
        "name" => p.name = "X".to_owned(),
        "name_hi" => p.name_hi = None,
        "gender" => p.gender = "O".to_owned(),
        "dob" | "age_years" => {
            p.dob = None;
            p.age_years = Some(30);
            p.age_months = None;
        }
        "guardian" => p.guardian = None,
        "mobile" => p.mobile = None,
        "aadhaar" | "aadhaar_last4" | "aadhaar_hash" => {
            p.aadhaar = None;
            p.aadhaar_last4 = None;
            p.aadhaar_hash = None;
        }
        "abha_number" => p.abha_number = None,
        "abha_address" => p.abha_address = None,
        "category" => p.category = None,
        "address.pincode" => a.pincode = None,
        "address.house" => a.house = None,
        "address.street" => a.street = None,
        "address.landmark" => a.landmark = None,
        "address.locality" => a.locality = None,
        "address.vtc" => a.vtc = None,
        "address.post_office" => a.post_office = None,
        "address.sub_district" => a.sub_district = None,
        "address.district" => a.district = None,
        "address.state" => a.state = None,
        f if f.starts_with("address.") => {
            a.state_lgd = None;
            a.district_lgd = None;
        }
        _ => return false,
    }
    true
}

/// Patients with this (normalised) mobile number, newest first.
pub fn by_mobile(conn: &Connection, mobile: &str, limit: u32) -> Result<Vec<Patient>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM patients WHERE mobile = ?1 AND merged_into IS NULL \
         ORDER BY updated_at DESC LIMIT ?2"
    ))?;
    let rows = stmt.query_map(params![mobile, limit], from_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

fn validate_address(a: &PatientAddress) -> Result<PatientAddress> {
    let pincode = match a.pincode.as_deref().filter(|p| !p.trim().is_empty()) {
        Some(p) => Some(
            swagat_identity::numbers::parse_pincode(p)
                .map_err(|e| number_error("address.pincode", &e))?,
        ),
        None => None,
    };
    if let Some(s) = a.state_lgd {
        if crate::lgd::state(s).is_none() {
            return Err(CoreError::invalid(
                "address.state_lgd",
                format!("{s} is not an LGD state code"),
                format!("{s} कोई LGD राज्य कोड नहीं है"),
            ));
        }
    }
    Ok(PatientAddress {
        house: text("address.house", a.house.as_deref(), 120)?,
        street: text("address.street", a.street.as_deref(), 120)?,
        landmark: text("address.landmark", a.landmark.as_deref(), 120)?,
        locality: text("address.locality", a.locality.as_deref(), 120)?,
        vtc: text("address.vtc", a.vtc.as_deref(), 80)?,
        post_office: text("address.post_office", a.post_office.as_deref(), 80)?,
        sub_district: text("address.sub_district", a.sub_district.as_deref(), 80)?,
        district: text("address.district", a.district.as_deref(), 80)?,
        state: text("address.state", a.state.as_deref(), 80)?,
        state_lgd: a.state_lgd,
        district_lgd: a.district_lgd,
        pincode,
    })
}

const COLUMNS: &str = "id, uhid, name, name_hi, gender, dob, dob_approximate, year_of_birth, \
    guardian_relation, guardian_name, mobile, house, street, landmark, locality, vtc, post_office, \
    sub_district, district, state, state_lgd, district_lgd, pincode, aadhaar_last4, abha_number, \
    abha_address, category, aadhaar_consent, merged_into, created_at, updated_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Patient> {
    Ok(Patient {
        id: r.get(0)?,
        uhid: r.get(1)?,
        name: r.get(2)?,
        name_hi: r.get(3)?,
        gender: r.get(4)?,
        dob: r.get(5)?,
        dob_approximate: r.get(6)?,
        year_of_birth: r.get(7)?,
        guardian_relation: r.get(8)?,
        guardian_name: r.get(9)?,
        mobile: r.get(10)?,
        address: PatientAddress {
            house: r.get(11)?,
            street: r.get(12)?,
            landmark: r.get(13)?,
            locality: r.get(14)?,
            vtc: r.get(15)?,
            post_office: r.get(16)?,
            sub_district: r.get(17)?,
            district: r.get(18)?,
            state: r.get(19)?,
            state_lgd: r.get(20)?,
            district_lgd: r.get(21)?,
            pincode: r.get(22)?,
        },
        aadhaar_last4: r.get(23)?,
        abha_number: r.get(24)?,
        abha_address: r.get(25)?,
        category: r.get(26)?,
        aadhaar_consent: r.get(27)?,
        merged_into: r.get(28)?,
        created_at: r.get(29)?,
        updated_at: r.get(30)?,
    })
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
    let (aadhaar_last4, aadhaar_hash) = consented_aadhaar(p);
    conn.prepare_cached(
        "INSERT INTO patients (id, uhid, name, name_hi, name_key, gender, dob, dob_approximate, \
         year_of_birth, guardian_relation, guardian_name, mobile, house, street, landmark, locality, \
         vtc, post_office, sub_district, district, state, state_lgd, district_lgd, pincode, \
         aadhaar_last4, aadhaar_hash, abha_number, abha_address, category, aadhaar_consent, \
         consent_notice, created_at, created_by, updated_at, updated_by, aadhaar_key_id, search_key) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, \
          ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33, ?32, ?33, ?34, ?35)",
    )?
    .execute(params![
        id,
        uhid,
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
        p.address.house,
        p.address.street,
        p.address.landmark,
        p.address.locality,
        p.address.vtc,
        p.address.post_office,
        p.address.sub_district,
        p.address.district,
        p.address.state,
        p.address.state_lgd,
        p.address.district_lgd,
        p.address.pincode,
        aadhaar_last4,
        aadhaar_hash,
        p.abha_number,
        p.abha_address,
        p.category,
        p.aadhaar_consent,
        p.aadhaar_consent.then_some(CONSENT_NOTICE_VERSION),
        now,
        actor,
        hash_key_id(conn, p)?,
        names::search_key(&p.name, p.name_hi.as_deref()),
    ])?;
    Ok(())
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
    let (aadhaar_last4, aadhaar_hash) = consented_aadhaar(p);
    conn.prepare_cached(
        "UPDATE patients SET name = ?2, name_hi = ?3, name_key = ?4, gender = ?5, dob = ?6, \
         dob_approximate = ?7, year_of_birth = ?8, guardian_relation = ?9, guardian_name = ?10, \
         mobile = ?11, house = ?12, street = ?13, landmark = ?14, locality = ?15, vtc = ?16, \
         post_office = ?17, sub_district = ?18, district = ?19, state = ?20, state_lgd = ?21, \
         district_lgd = ?22, pincode = ?23, aadhaar_last4 = ?24, aadhaar_hash = ?25, \
         abha_number = ?26, abha_address = ?27, category = ?28, aadhaar_consent = ?29, \
         consent_notice = CASE WHEN ?29 THEN coalesce(consent_notice, ?30) ELSE NULL END, \
         updated_at = ?31, updated_by = ?32, aadhaar_key_id = ?33, search_key = ?34 WHERE id = ?1",
    )?
    .execute(params![
        id,
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
        p.address.house,
        p.address.street,
        p.address.landmark,
        p.address.locality,
        p.address.vtc,
        p.address.post_office,
        p.address.sub_district,
        p.address.district,
        p.address.state,
        p.address.state_lgd,
        p.address.district_lgd,
        p.address.pincode,
        aadhaar_last4,
        aadhaar_hash,
        p.abha_number,
        p.abha_address,
        p.category,
        p.aadhaar_consent,
        CONSENT_NOTICE_VERSION,
        now,
        actor,
        hash_key_id(conn, p)?,
        names::search_key(&p.name, p.name_hi.as_deref()),
    ])?;
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

/// Version of the Aadhaar consent notice the UI shows (recorded with each consent).
pub const CONSENT_NOTICE_VERSION: &str = "aadhaar-notice-v1";

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

/// Finds an existing patient who is certainly the same person: same ABHA number, ABHA address or
/// Aadhaar hash; or same Aadhaar last 4 + year of birth + name key.
pub fn find_same_person(conn: &Connection, p: &ValidPatient) -> Result<Option<Patient>> {
    let probes: [(&str, Option<&String>); 2] = [
        ("abha_number", p.abha_number.as_ref()),
        ("abha_address", p.abha_address.as_ref()),
    ];
    for (col, val) in probes {
        if let Some(v) = val {
            let found = conn
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM patients WHERE {col} = ?1 AND merged_into IS NULL LIMIT 1"
                ))?
                .query_row([v], from_row)
                .optional()?;
            if found.is_some() {
                return Ok(found);
            }
        }
    }
    if let Some(h) = &p.aadhaar_hash {
        // Like with like: only hashes made by the same key are compared.
        let key_id = match &p.aadhaar_key_id {
            Some(k) => Some(k.clone()),
            None => crate::opd::secrets::stored_key_id(conn)?,
        };
        if let Some(key_id) = key_id {
            let found = by_aadhaar_hash(conn, h, &key_id, 1)?.into_iter().next();
            if found.is_some() {
                return Ok(found);
            }
        }
    }
    if let (Some(l4), Some(y)) = (&p.aadhaar_last4, p.year_of_birth) {
        let key = names::name_key(&p.name);
        let found = conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM patients WHERE aadhaar_last4 = ?1 AND year_of_birth = ?2 \
                 AND name_key = ?3 AND merged_into IS NULL LIMIT 1"
            ))?
            .query_row(params![l4, y, key], from_row)
            .optional()?;
        return Ok(found);
    }
    Ok(None)
}

/// Unmerged patients whose Aadhaar hash is `hash`, made by key `key_id`, newest first.
pub fn by_aadhaar_hash(
    conn: &Connection,
    hash: &str,
    key_id: &str,
    limit: u32,
) -> Result<Vec<Patient>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM patients WHERE aadhaar_hash = ?1 AND aadhaar_key_id = ?2 \
         AND merged_into IS NULL ORDER BY updated_at DESC LIMIT ?3"
    ))?;
    let rows = stmt.query_map(params![hash, key_id, limit], from_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Patients who might be the same person (same name key and year of birth, and same locality or
/// village when known): shown as a warning, never merged automatically.
pub fn possible_duplicates(conn: &Connection, p: &ValidPatient) -> Result<Vec<Patient>> {
    let Some(y) = p.year_of_birth else {
        return Ok(Vec::new());
    };
    let place = p.address.locality.as_ref().or(p.address.vtc.as_ref());
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM patients WHERE name_key = ?1 AND year_of_birth BETWEEN ?2 - 1 AND ?2 + 1 \
         AND merged_into IS NULL AND (?3 IS NULL OR lower(coalesce(locality, vtc, '')) = lower(?3)) LIMIT 5"
    ))?;
    let rows = stmt.query_map(params![names::name_key(&p.name), y, place], from_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// How a search query was understood.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QueryKind {
    /// A UHID.
    Uhid,
    /// A 10-digit mobile number.
    Mobile,
    /// A 14-digit ABHA number.
    AbhaNumber,
    /// An ABHA address.
    AbhaAddress,
    /// A 12-digit Aadhaar number (matched by keyed hash).
    Aadhaar,
    /// Name words.
    Name,
}

/// Searches patients: the query's form decides how (see [`QueryKind`]).
pub fn search(
    conn: &Connection,
    query: &str,
    hash_key: &[u8],
    limit: u32,
) -> Result<(QueryKind, Vec<Patient>)> {
    let q = query.trim();
    let digits: String = q.chars().filter(char::is_ascii_digit).collect();
    let only_digits = !q.is_empty()
        && q.chars()
            .all(|c| c.is_ascii_digit() || c == '-' || c == ' ' || c == '+');
    let by = |col: &str, v: &str| -> Result<Vec<Patient>> {
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM patients WHERE {col} = ?1 AND merged_into IS NULL \
             ORDER BY updated_at DESC LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![v, limit], from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    };
    if let Some(u) = crate::opd::uhid::normalise(q).filter(|u| u.contains('-') && u.len() > 6) {
        // A merged-away patient's card still carries their old UHID: it finds the kept record.
        let id: Option<String> = conn
            .prepare_cached("SELECT id FROM patients WHERE uhid = ?1")?
            .query_row([&u], |r| r.get(0))
            .optional()?;
        let found = match id {
            Some(id) => vec![resolve(conn, &id)?],
            None => Vec::new(),
        };
        return Ok((QueryKind::Uhid, found));
    }
    if q.contains('@') {
        let addr = AbhaAddress::parse(q)
            .map(|a| a.as_str().to_owned())
            .unwrap_or_else(|_| q.to_ascii_lowercase());
        return Ok((QueryKind::AbhaAddress, by("abha_address", &addr)?));
    }
    if only_digits {
        if digits.len() == 14 {
            if let Ok(n) = AbhaNumber::parse(&digits) {
                return Ok((QueryKind::AbhaNumber, by("abha_number", &n.formatted())?));
            }
        }
        if digits.len() == 12 {
            if let Ok(n) = AadhaarNumber::parse(&digits) {
                let found = match crate::opd::secrets::stored_key_id(conn)? {
                    Some(key_id) => by_aadhaar_hash(conn, &n.keyed_hash(hash_key), &key_id, limit)?,
                    None => Vec::new(),
                };
                return Ok((QueryKind::Aadhaar, found));
            }
        }
        if let Ok(m) = IndianMobile::parse(q) {
            return Ok((QueryKind::Mobile, by("mobile", m.as_str())?));
        }
    }
    Ok((QueryKind::Name, search_names(conn, q, limit)?))
}

fn search_names(conn: &Connection, q: &str, limit: u32) -> Result<Vec<Patient>> {
    let latin: String = q
        .chars()
        .map(|c| {
            if c.is_ascii_alphabetic() || c.is_whitespace() {
                c
            } else {
                ' '
            }
        })
        .collect();
    let mut out: Vec<Patient> = Vec::new();
    if names::has_devanagari(q) {
        // The Devanagari spelling itself first (an exact prefix of the stored Hindi name)…
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM patients WHERE name_hi >= ?1 AND name_hi < ?1 || x'F48FBFBF' \
             AND merged_into IS NULL ORDER BY name_hi LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![q.trim(), limit], from_row)?;
        out = rows.collect::<rusqlite::Result<Vec<_>>>()?;
        if out.len() >= limit as usize {
            return Ok(out);
        }
    }
    // …then the typed Latin spelling or the phonetic key (from either script, so "यादव" finds
    // "Yadav" and the reverse), each word as a prefix. FTS5 walks its prefix indexes (2 to 5
    // characters) lazily from the newest row; a longer prefix would make it gather every match
    // first, so words are cut to 5 characters for the index and the full words are checked on
    // the candidates.
    let key = names::name_key(q);
    let cut = |words: &str| -> String {
        words
            .split_whitespace()
            .map(|w| w.get(..FTS_PREFIX_MAX).unwrap_or(w))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let spelled = names::fts_prefix_query(&cut(&latin));
    let keyed = names::fts_prefix_query(&cut(&key));
    let fts = match (spelled, keyed) {
        (Some(s), Some(k)) => format!("(name : {s}) OR (search_key : {k})"),
        (Some(s), None) => format!("name : {s}"),
        (None, Some(k)) => format!("search_key : {k}"),
        (None, None) => return Ok(out),
    };
    let truncated = latin
        .split_whitespace()
        .chain(key.split_whitespace())
        .any(|w| w.len() > FTS_PREFIX_MAX);
    // Newest matches first, without ranking every match: a common first name matches tens of
    // thousands of a million patients, and bm25 over all of them costs far more than the counter
    // can wait.
    let candidates = if truncated { limit * 8 } else { limit * 4 };
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {cols}, search_key FROM patients WHERE rowid IN \
         (SELECT rowid FROM patients_fts WHERE patients_fts MATCH ?1 ORDER BY rowid DESC LIMIT ?2) \
         AND merged_into IS NULL ORDER BY rowid DESC",
        cols = COLUMNS
    ))?;
    let latin_words: Vec<String> = latin
        .split_whitespace()
        .map(str::to_ascii_lowercase)
        .collect();
    let key_words: Vec<&str> = key.split_whitespace().collect();
    let mut rows = stmt.query(params![fts, candidates])?;
    while let Some(row) = rows.next()? {
        if out.len() >= limit as usize {
            break;
        }
        let p = from_row(row)?;
        if out.iter().any(|o| o.id == p.id) {
            continue;
        }
        if truncated {
            let stored_key: String = row.get(31)?;
            let name = p.name.to_lowercase();
            let spelled_ok = !latin_words.is_empty() && words_prefixed(&name, &latin_words);
            if !(spelled_ok || words_prefixed(&stored_key, &key_words)) {
                continue;
            }
        }
        out.push(p);
    }
    Ok(out)
}

/// Longest prefix FTS5 has an index for (`prefix = '2 3 4 5'` in migration 0007).
const FTS_PREFIX_MAX: usize = 5;

/// Every query word is the prefix of some word of `text` (as FTS5 matches `"w1"* "w2"*`).
fn words_prefixed<S: AsRef<str>>(text: &str, query: &[S]) -> bool {
    let words: Vec<&str> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    query
        .iter()
        .all(|q| words.iter().any(|w| w.starts_with(q.as_ref())))
}
