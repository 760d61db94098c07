//! The ABHA QR code, on the ABHA card or shown in the ABHA app: plain UTF-8 JSON, unsigned.
//!
//! Keys vary between card and app and over time, so keys are matched after lower-casing and
//! turning spaces and dashes into `_`: `hid` (card) or `phr` (app) for the ABHA address,
//! `state name`/`state_name`, `district_name`/`dist name`, `statelgd`, `distlgd` (`"-"` meaning
//! none), `hidn` (may be missing), `dob` as `d/m/yyyy` or `d-m-yyyy` (possibly partial),
//! `mobile` (possibly masked) and a one-line `address`. A bad value is dropped with a warning;
//! a JSON without a usable ABHA number or address (absent, empty or invalid) is rejected.

use std::collections::HashMap;
use std::fmt;

use serde_json::Value;

use crate::address::clean;
use crate::dates::BirthDate;
use crate::gender::Gender;
use crate::numbers::{parse_pincode, AbhaAddress, AbhaNumber, IndianMobile};
use crate::warning::{self, Warning};
use crate::DecodeError;

/// A decoded ABHA QR.
#[derive(Clone)]
pub struct AbhaQr {
    /// The 14-digit ABHA number.
    pub abha_number: Option<AbhaNumber>,
    /// The ABHA address (`name@abdm`).
    pub abha_address: Option<AbhaAddress>,
    /// Name.
    pub name: Option<String>,
    /// Gender (`M`, `F`, `O`; `T` kept if given).
    pub gender: Option<Gender>,
    /// Date of birth, or the year alone.
    pub birth_date: Option<BirthDate>,
    /// LGD state code (digits).
    pub state_lgd: Option<String>,
    /// LGD district code (digits).
    pub district_lgd: Option<String>,
    /// State name.
    pub state_name: Option<String>,
    /// District name.
    pub district_name: Option<String>,
    /// Mobile: 10 digits, or masked as printed (`98XXXXXX21`).
    pub mobile: Option<String>,
    /// The one-line address.
    pub address_line: Option<String>,
    /// PIN code.
    pub pincode: Option<String>,
    /// Findings about the contents.
    pub warnings: Vec<Warning>,
}

/// Shows which details are present, never their values.
impl fmt::Debug for AbhaQr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AbhaQr")
            .field("has_abha_number", &self.abha_number.is_some())
            .field("has_abha_address", &self.abha_address.is_some())
            .field("has_name", &self.name.is_some())
            .field("has_birth_date", &self.birth_date.is_some())
            .field("state_lgd", &self.state_lgd)
            .field("district_lgd", &self.district_lgd)
            .field("warnings", &self.warnings)
            .finish_non_exhaustive()
    }
}

/// Key spellings seen for each field, after normalisation.
const NUMBER_KEYS: &[&str] = &["hidn", "abha_number", "abhanumber", "healthidnumber"];
const ADDRESS_KEYS: &[&str] = &["hid", "phr", "abha_address", "abhaaddress", "phr_address"];
const NAME_KEYS: &[&str] = &["name", "full_name"];
const GENDER_KEYS: &[&str] = &["gender", "sex"];
const DOB_KEYS: &[&str] = &["dob", "date_of_birth"];
const YOB_KEYS: &[&str] = &["yob", "year_of_birth", "yearofbirth"];
const STATE_LGD_KEYS: &[&str] = &["statelgd", "state_lgd", "state_code", "statecode"];
const DIST_LGD_KEYS: &[&str] = &[
    "distlgd",
    "dist_lgd",
    "district_lgd",
    "district_code",
    "districtcode",
];
const STATE_NAME_KEYS: &[&str] = &["state_name", "statename", "state"];
const DIST_NAME_KEYS: &[&str] = &[
    "district_name",
    "dist_name",
    "districtname",
    "distname",
    "district",
];
const MOBILE_KEYS: &[&str] = &["mobile", "mobile_number", "phone"];
const ADDRESS_LINE_KEYS: &[&str] = &["address", "address_line"];
const PINCODE_KEYS: &[&str] = &["pincode", "pin_code", "pin"];

/// Decodes an ABHA QR (already trimmed JSON text).
pub(crate) fn decode(text: &str) -> Result<AbhaQr, DecodeError> {
    let value: Value = serde_json::from_str(text).map_err(|_| DecodeError::AbhaJsonInvalid)?;
    let Value::Object(map) = value else {
        return Err(DecodeError::AbhaJsonInvalid);
    };
    let mut fields: HashMap<String, String> = HashMap::new();
    for (k, v) in &map {
        let key: String = k
            .trim()
            .to_lowercase()
            .chars()
            .map(|c| if c == ' ' || c == '-' { '_' } else { c })
            .collect();
        let text = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => continue,
        };
        fields.entry(key).or_insert(text);
    }
    let raw = |keys: &[&str]| keys.iter().find_map(|k| fields.get(*k));
    let get = |keys: &[&str]| raw(keys).and_then(|v| clean(v));

    if raw(NUMBER_KEYS).is_none() && raw(ADDRESS_KEYS).is_none() {
        return Err(DecodeError::AbhaMissingId);
    }
    let mut warnings = Vec::new();

    let abha_number = get(NUMBER_KEYS).and_then(|n| match AbhaNumber::parse(&n) {
        Ok(n) => {
            if !n.luhn_valid() {
                warning::push(&mut warnings, Warning::AbhaNumberChecksum);
            }
            Some(n)
        }
        Err(_) => {
            warning::push(&mut warnings, Warning::AbhaNumberInvalid);
            None
        }
    });
    let abha_address = get(ADDRESS_KEYS).and_then(|a| match AbhaAddress::parse(&a) {
        Ok(a) => Some(a),
        Err(_) => {
            warning::push(&mut warnings, Warning::AbhaAddressInvalid);
            None
        }
    });
    // Keys present but neither value usable: not an ABHA QR, never half-accepted as one.
    if abha_number.is_none() && abha_address.is_none() {
        return Err(DecodeError::AbhaMissingId);
    }
    let name = get(NAME_KEYS);
    if name.is_none() {
        warning::push(&mut warnings, Warning::NameMissing);
    }
    let gender = get(GENDER_KEYS).and_then(|g| match Gender::parse(&g) {
        Ok(g) => Some(g),
        Err(_) => {
            warning::push(&mut warnings, Warning::GenderUnknown);
            None
        }
    });
    let birth_date = birth_date(get(DOB_KEYS), get(YOB_KEYS), &mut warnings);
    let mut lgd = |keys: &[&str]| {
        get(keys).and_then(|c| {
            if !c.is_empty() && c.len() <= 8 && c.bytes().all(|b| b.is_ascii_digit()) {
                Some(c)
            } else {
                warning::push(&mut warnings, Warning::LgdCodeInvalid);
                None
            }
        })
    };
    let state_lgd = lgd(STATE_LGD_KEYS);
    let district_lgd = lgd(DIST_LGD_KEYS);
    let mobile = get(MOBILE_KEYS).and_then(|m| match normalise_mobile(&m) {
        Some(m) => Some(m),
        None => {
            warning::push(&mut warnings, Warning::MobileInvalid);
            None
        }
    });
    let pincode = get(PINCODE_KEYS).and_then(|p| match parse_pincode(&p) {
        Ok(p) => Some(p),
        Err(_) => {
            warning::push(&mut warnings, Warning::PincodeInvalid);
            None
        }
    });

    Ok(AbhaQr {
        abha_number,
        abha_address,
        name,
        gender,
        birth_date,
        state_lgd,
        district_lgd,
        state_name: get(STATE_NAME_KEYS),
        district_name: get(DIST_NAME_KEYS),
        mobile,
        address_line: get(ADDRESS_LINE_KEYS),
        pincode,
        warnings,
    })
}

fn birth_date(
    dob: Option<String>,
    yob: Option<String>,
    warnings: &mut Vec<Warning>,
) -> Option<BirthDate> {
    if let Some(d) = dob {
        match BirthDate::parse(&d) {
            Ok(b) => {
                let year_only_input = d.trim().len() == 4;
                if matches!(b, BirthDate::Year(_)) && !year_only_input {
                    warning::push(warnings, Warning::DobPartial);
                }
                return Some(b);
            }
            Err(_) => warning::push(warnings, Warning::DobInvalid),
        }
    }
    let y = yob?;
    match BirthDate::parse(&y) {
        Ok(b) => Some(BirthDate::Year(b.year())),
        Err(_) => {
            warning::push(warnings, Warning::DobInvalid);
            None
        }
    }
}

/// A full mobile normalised to 10 digits, or a masked one (`98XXXXXX21`) with `X` for hidden
/// digits; `None` for anything else.
fn normalise_mobile(m: &str) -> Option<String> {
    if let Ok(full) = IndianMobile::parse(m) {
        return Some(full.as_str().to_owned());
    }
    let compact: String = m
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .map(|c| if matches!(c, 'x' | '*') { 'X' } else { c })
        .collect();
    let masked = compact.len() == 10
        && compact.chars().all(|c| c == 'X' || c.is_ascii_digit())
        && compact.contains('X')
        && compact.chars().any(|c| c.is_ascii_digit());
    masked.then_some(compact)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_mobiles() {
        assert_eq!(
            normalise_mobile("98XXXXXX21").as_deref(),
            Some("98XXXXXX21")
        );
        assert_eq!(
            normalise_mobile("98xxxxxx21").as_deref(),
            Some("98XXXXXX21")
        );
        assert_eq!(
            normalise_mobile("******4321").as_deref(),
            Some("XXXXXX4321")
        );
        assert_eq!(
            normalise_mobile("+91 98765 43210").as_deref(),
            Some("9876543210")
        );
        assert_eq!(normalise_mobile("XXXXXXXXXX"), None);
        assert_eq!(normalise_mobile("12345"), None);
    }
}
