//! Checking a [`PatientInput`]: every field at once, with the identity crate's and
//! `swagat-validate`'s number types; a full Aadhaar number is reduced here to its last four
//! digits and a keyed hash, the only forms ever stored.

use swagat_identity::{
    AadhaarNumber, AbhaAddress, AbhaNumber, Address, BirthDate, Gender, IndianMobile,
};

use super::*;
use crate::error::{CoreError, Result};
use crate::opd::names;

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
        "address.pincode" => a.postal.pincode = None,
        "address.house" => a.postal.house = None,
        "address.street" => a.postal.street = None,
        "address.landmark" => a.postal.landmark = None,
        "address.locality" => a.postal.locality = None,
        "address.vtc" => a.postal.vtc = None,
        "address.post_office" => a.postal.post_office = None,
        "address.sub_district" => a.postal.sub_district = None,
        "address.district" => a.postal.district = None,
        "address.state" => a.postal.state = None,
        f if f.starts_with("address.") => {
            a.state_lgd = None;
            a.district_lgd = None;
        }
        _ => return false,
    }
    true
}

fn validate_address(a: &PatientAddress) -> Result<PatientAddress> {
    let p = &a.postal;
    let pincode = match p.pincode.as_deref().filter(|p| !p.trim().is_empty()) {
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
        postal: Address {
            house: text("address.house", p.house.as_deref(), 120)?,
            street: text("address.street", p.street.as_deref(), 120)?,
            landmark: text("address.landmark", p.landmark.as_deref(), 120)?,
            locality: text("address.locality", p.locality.as_deref(), 120)?,
            vtc: text("address.vtc", p.vtc.as_deref(), 80)?,
            post_office: text("address.post_office", p.post_office.as_deref(), 80)?,
            sub_district: text("address.sub_district", p.sub_district.as_deref(), 80)?,
            district: text("address.district", p.district.as_deref(), 80)?,
            state: text("address.state", p.state.as_deref(), 80)?,
            pincode,
        },
        state_lgd: a.state_lgd,
        district_lgd: a.district_lgd,
    })
}
