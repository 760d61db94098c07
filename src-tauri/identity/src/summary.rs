//! The contract output: one flat, serialisable summary of any decoded QR code, printed as JSON by
//! `swagat-admin decode-qr` and read by acceptance checks. Every key is always present; a key
//! that does not apply to the kind of QR is `null`. A full Aadhaar number never appears.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::abha_qr::AbhaQr;
use crate::address::Address;
use crate::dates::BirthDate;
use crate::document::{decode, Document, QrKind};
use crate::secure_qr::SecureQr;
use crate::signature::SignatureStatus;
use crate::trust::TrustStore;
use crate::warning::{self, Warning};
use crate::xml_qr::XmlQr;
use crate::DecodeError;

/// A flat summary of a decoded QR code.
///
/// Example (`swagat-admin decode-qr` on the synthetic V2 Secure QR, test key trusted):
///
/// ```json
/// {
///   "kind": "aadhaar_secure_qr",
///   "version": "V2",
///   "name": "Sunita Devi",
///   "gender": "F",
///   "dob": "1985-08-15",
///   "year_of_birth": null,
///   "care_of": "W/O: Ramesh Prasad",
///   "address": {
///     "house": "12B", "street": "Road No 5", "landmark": "Near Hanuman Mandir",
///     "locality": "Kankarbagh", "vtc": "Patna", "post_office": "Kankarbagh",
///     "sub_district": "Patna Rural", "district": "Patna", "state": "Bihar", "pincode": "800020"
///   },
///   "aadhaar_last4": "4321",
///   "mobile_last4": "7890",
///   "signature": "valid",
///   "has_photo": true,
///   "abha_number": null,
///   "abha_address": null,
///   "state_lgd": null,
///   "district_lgd": null,
///   "mobile": null,
///   "warnings": []
/// }
/// ```
///
/// Rules: `version` only for the Secure QR; `dob` (`YYYY-MM-DD`) when the full date is known,
/// otherwise `year_of_birth` (a number); `signature` is `"valid"`, `"invalid"` or
/// `"unverified"` for the Secure QR, always `"unverified"` for the XML QR and `null` for ABHA;
/// for ABHA the one-line address goes in `address.house`, state and district names in
/// `address.state` and `address.district`; `mobile` is the ABHA mobile (10 digits, or masked as
/// printed); `warnings` holds `{code, message}` objects (English; see [`Warning`] for Hindi).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QrSummary {
    /// `"aadhaar_secure_qr"`, `"aadhaar_xml_qr"` or `"abha_qr"`.
    pub kind: QrKind,
    /// Secure QR version: `"V1"`, `"V2"`, `"V3"`…
    pub version: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// `M`, `F`, `T` or `O`.
    pub gender: Option<String>,
    /// Full date of birth, `YYYY-MM-DD`.
    pub dob: Option<String>,
    /// Year of birth when the full date is not known.
    pub year_of_birth: Option<i32>,
    /// Care-of line.
    pub care_of: Option<String>,
    /// Address parts.
    pub address: Option<Address>,
    /// Last 4 Aadhaar digits.
    pub aadhaar_last4: Option<String>,
    /// Last 4 mobile digits.
    pub mobile_last4: Option<String>,
    /// Signature status.
    pub signature: Option<SignatureStatus>,
    /// Whether a photo is present (Secure QR).
    pub has_photo: bool,
    /// ABHA number, `XX-XXXX-XXXX-XXXX`.
    pub abha_number: Option<String>,
    /// ABHA address.
    pub abha_address: Option<String>,
    /// LGD state code.
    pub state_lgd: Option<String>,
    /// LGD district code.
    pub district_lgd: Option<String>,
    /// ABHA mobile.
    pub mobile: Option<String>,
    /// Findings for the operator.
    pub warnings: Vec<SummaryWarning>,
}

/// Shows the kind and which fields are set, never personal values.
impl fmt::Debug for QrSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QrSummary")
            .field("kind", &self.kind)
            .field("version", &self.version)
            .field("signature", &self.signature)
            .field("has_name", &self.name.is_some())
            .field("has_photo", &self.has_photo)
            .field("warnings", &self.warnings)
            .finish_non_exhaustive()
    }
}

/// One warning in [`QrSummary`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SummaryWarning {
    /// Stable snake_case code, e.g. `"signature_invalid"`.
    pub code: String,
    /// English message.
    pub message: String,
    /// The same message in Hindi.
    #[serde(default)]
    pub message_hi: String,
}

impl From<Warning> for SummaryWarning {
    fn from(w: Warning) -> Self {
        Self {
            code: w.code().to_owned(),
            message: w.message().to_owned(),
            message_hi: w.message_hi().to_owned(),
        }
    }
}

/// Summarises a decoded document, checking a Secure QR signature against `trust`.
pub fn summarize(doc: &Document, trust: &TrustStore) -> QrSummary {
    match doc {
        Document::AadhaarSecureQr(s) => from_secure(s, trust),
        Document::AadhaarXmlQr(x) => from_xml(x),
        Document::AbhaQr(a) => from_abha(a),
    }
}

/// Decodes raw scanner text and summarises it: what `swagat-admin decode-qr` prints.
pub fn decode_and_summarize(raw: &str, trust: &TrustStore) -> Result<QrSummary, DecodeError> {
    decode(raw).map(|doc| summarize(&doc, trust))
}

fn birth(b: Option<BirthDate>) -> (Option<String>, Option<i32>) {
    match b {
        Some(b @ BirthDate::Full(_)) => (b.iso(), None),
        Some(BirthDate::Year(y)) => (None, Some(y)),
        None => (None, None),
    }
}

fn address(a: &Address) -> Option<Address> {
    (!a.is_empty()).then(|| a.clone())
}

fn warnings(list: &[Warning]) -> Vec<SummaryWarning> {
    list.iter().copied().map(SummaryWarning::from).collect()
}

fn from_secure(s: &SecureQr, trust: &TrustStore) -> QrSummary {
    let status = s.verify_signature(trust);
    let mut list = s.warnings.clone();
    match status {
        SignatureStatus::Valid => {}
        SignatureStatus::Invalid => warning::push(&mut list, Warning::SignatureInvalid),
        SignatureStatus::Unverified => warning::push(&mut list, Warning::SignatureUnverified),
    }
    // The most serious finding first.
    list.sort_by_key(|w| !matches!(w, Warning::SignatureInvalid));
    let (dob, year_of_birth) = birth(s.birth_date);
    QrSummary {
        kind: QrKind::AadhaarSecureQr,
        version: Some(s.version.to_string()),
        name: s.name.clone(),
        gender: s.gender.map(|g| g.code().to_owned()),
        dob,
        year_of_birth,
        care_of: s.care_of.clone(),
        address: address(&s.address),
        aadhaar_last4: s.aadhaar_last4.clone(),
        mobile_last4: s.mobile_last4.clone(),
        signature: Some(status),
        has_photo: s.has_photo(),
        abha_number: None,
        abha_address: None,
        state_lgd: None,
        district_lgd: None,
        mobile: None,
        warnings: warnings(&list),
    }
}

fn from_xml(x: &XmlQr) -> QrSummary {
    let (dob, year_of_birth) = birth(x.birth_date);
    QrSummary {
        kind: QrKind::AadhaarXmlQr,
        version: None,
        name: x.name.clone(),
        gender: x.gender.map(|g| g.code().to_owned()),
        dob,
        year_of_birth,
        care_of: x.care_of.clone(),
        address: address(&x.address),
        aadhaar_last4: x.aadhaar_last4.clone(),
        mobile_last4: None,
        signature: Some(SignatureStatus::Unverified),
        has_photo: false,
        abha_number: None,
        abha_address: None,
        state_lgd: None,
        district_lgd: None,
        mobile: None,
        warnings: warnings(&x.warnings),
    }
}

fn from_abha(a: &AbhaQr) -> QrSummary {
    let (dob, year_of_birth) = birth(a.birth_date);
    let addr = Address {
        house: a.address_line.clone(),
        district: a.district_name.clone(),
        state: a.state_name.clone(),
        pincode: a.pincode.clone(),
        ..Address::default()
    };
    let mobile_last4 = a
        .mobile
        .as_deref()
        .and_then(|m| m.get(m.len().saturating_sub(4)..))
        .filter(|l| l.len() == 4 && l.bytes().all(|b| b.is_ascii_digit()))
        .map(str::to_owned);
    QrSummary {
        kind: QrKind::AbhaQr,
        version: None,
        name: a.name.clone(),
        gender: a.gender.map(|g| g.code().to_owned()),
        dob,
        year_of_birth,
        care_of: None,
        address: address(&addr),
        aadhaar_last4: None,
        mobile_last4,
        signature: None,
        has_photo: false,
        abha_number: a.abha_number.as_ref().map(|n| n.formatted()),
        abha_address: a.abha_address.as_ref().map(|x| x.as_str().to_owned()),
        state_lgd: a.state_lgd.clone(),
        district_lgd: a.district_lgd.clone(),
        mobile: a.mobile.clone(),
        warnings: warnings(&a.warnings),
    }
}
