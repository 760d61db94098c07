//! A scanned QR code into what the registration form needs.
//!
//! The identity crate decodes the scanner's text (Aadhaar Secure QR, Aadhaar XML QR, ABHA QR) and
//! checks an Aadhaar signature against the trusted UIDAI keys. Here the result becomes a
//! [`PatientInput`] to pre-fill the form, plus what the operator must see: the kind of document,
//! the signature result, warnings, and the photo (kept in memory for display only, never stored).
//! A full Aadhaar number (XML QR) leaves this module only as last 4 digits and the keyed hash.

use serde::Serialize;
use swagat_identity::{Document, QrSummary, TrustStore};

use crate::error::{CoreError, Result};
use crate::opd::{PatientAddress, PatientInput};

/// What a scan yields.
#[derive(Debug, Clone, Serialize)]
pub struct Scanned {
    /// `aadhaar_secure_qr`, `aadhaar_xml_qr` or `abha_qr`.
    pub kind: String,
    /// `valid`, `invalid` or `unverified` (Aadhaar); none for ABHA.
    pub signature: Option<String>,
    /// Notes for the operator (`{code, message}`).
    pub warnings: Vec<serde_json::Value>,
    /// The form's pre-filled fields.
    pub input: PatientInput,
    /// The Aadhaar photo (JPEG 2000), for display during registration only.
    #[serde(skip)]
    pub photo: Vec<u8>,
    /// Whether a photo came with the code.
    pub has_photo: bool,
    /// The registered patient this document belongs to, if any (a returning patient).
    pub existing: Option<crate::opd::Patient>,
}

/// Decodes `raw` and maps it to form fields. `hash_key` is the Aadhaar hashing secret (an XML QR's
/// full number is hashed with it, then dropped).
pub fn from_qr_with_key(raw: &str, trust: &TrustStore, hash_key: &[u8]) -> Result<Scanned> {
    let doc = swagat_identity::decode(raw)
        .map_err(|e| CoreError::invalid("qr", e.to_string(), e.message_hi()))?;
    let summary = swagat_identity::summarize(&doc, trust);
    let aadhaar_hash = doc.aadhaar_number().map(|n| n.keyed_hash(hash_key));
    let photo = match &doc {
        Document::AadhaarSecureQr(q) => q.photo().to_vec(),
        _ => Vec::new(),
    };
    Ok(to_scanned(summary, aadhaar_hash, photo))
}

/// Like [`from_qr_with_key`] without hashing (the CLI's decode and tests).
pub fn from_qr(raw: &str, trust: &TrustStore) -> Result<Scanned> {
    from_qr_with_key(raw, trust, &[])
}

fn to_scanned(s: QrSummary, aadhaar_hash: Option<String>, photo: Vec<u8>) -> Scanned {
    let kind = serde_json::to_value(s.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let signature = s
        .signature
        .and_then(|v| serde_json::to_value(v).ok())
        .and_then(|v| v.as_str().map(str::to_owned));
    let address = s.address.map(|a| PatientAddress {
        house: a.house,
        street: a.street,
        landmark: a.landmark,
        locality: a.locality,
        vtc: a.vtc,
        post_office: a.post_office,
        sub_district: a.sub_district,
        district: a.district,
        state: a.state,
        state_lgd: s.state_lgd.as_deref().and_then(|v| v.parse().ok()),
        district_lgd: s.district_lgd.as_deref().and_then(|v| v.parse().ok()),
        pincode: a.pincode,
    });
    let guardian = s
        .care_of
        .filter(|c| !c.trim().is_empty())
        .map(crate::opd::patients::GuardianInput::Text);
    Scanned {
        kind,
        signature,
        warnings: s
            .warnings
            .iter()
            .filter_map(|w| serde_json::to_value(w).ok())
            .collect(),
        has_photo: s.has_photo,
        photo,
        existing: None,
        input: PatientInput {
            name: s.name.unwrap_or_default(),
            gender: s.gender.unwrap_or_default(),
            dob: s.dob.or_else(|| s.year_of_birth.map(|y| y.to_string())),
            guardian,
            mobile: s
                .mobile
                .filter(|m| m.chars().filter(char::is_ascii_digit).count() == 10),
            aadhaar_last4: s.aadhaar_last4,
            aadhaar_hash,
            abha_number: s.abha_number,
            abha_address: s.abha_address,
            address: address.unwrap_or_default(),
            ..Default::default()
        },
    }
}
