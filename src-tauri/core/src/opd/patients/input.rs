//! What the counter knows about a patient ([`PatientInput`], typed or pre-filled from a QR
//! code), what is stored ([`Patient`]), and the checked form in between ([`ValidPatient`]).
//! Plain data: the checks are in `validate`, the rows in `store`.

use serde::{Deserialize, Serialize};
use swagat_identity::address::Address;

/// A patient's address: the postal parts (any may be missing), as an Aadhaar card or an ABHA
/// profile gives them, and the LGD codes the kiosk adds. In JSON the parts stand beside the codes
/// (`{"vtc": …, "pincode": …, "state_lgd": …}`), not nested.
/// Every part is optional in TypeScript too: the form sends only what it has.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(optional_fields = nullable))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PatientAddress {
    /// House, street, …, district, state, PIN code (its Debug names only which are present).
    #[serde(flatten)]
    pub postal: Address,
    /// LGD state code.
    pub state_lgd: Option<u32>,
    /// LGD district code.
    pub district_lgd: Option<u32>,
}

/// Guardian as typed: `"W/O Ramesh Kumar"`, or an object.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(optional_fields = nullable))]
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
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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

/// Version of the Aadhaar consent notice the UI shows (recorded with each consent).
pub const CONSENT_NOTICE_VERSION: &str = "aadhaar-notice-v1";

#[cfg(test)]
mod tests {
    use super::*;

    /// The postal parts are the identity crate's, but the JSON the UI, the CLI and sync records
    /// carry is the flat object it always was; and Debug (which can reach logs) names only which
    /// parts are there.
    #[test]
    fn an_address_is_one_flat_object_and_its_debug_shows_no_place() {
        let json = serde_json::json!({
            "house": "12", "vtc": "Jagdalpur", "district": "Bastar", "pincode": "494001",
            "state_lgd": 22, "district_lgd": 380,
        });
        let a: PatientAddress = serde_json::from_value(json.clone()).expect("an address");
        assert_eq!(a.postal.vtc.as_deref(), Some("Jagdalpur"));
        assert_eq!(a.postal.pincode.as_deref(), Some("494001"));
        assert_eq!((a.state_lgd, a.district_lgd), (Some(22), Some(380)));
        let back = serde_json::to_value(&a).expect("json");
        assert!(back.get("postal").is_none(), "{back}");
        for (k, v) in json.as_object().expect("object") {
            assert_eq!(&back[k], v, "{k}");
        }
        let debug = format!("{a:?}");
        for place in ["Jagdalpur", "Bastar", "494001", "12"] {
            assert!(!debug.contains(place), "{debug}");
        }
    }
}
