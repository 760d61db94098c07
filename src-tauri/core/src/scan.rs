//! A scanned QR code into what the registration form needs.
//!
//! The identity crate decodes the scanner's text (Aadhaar Secure QR, Aadhaar XML QR, ABHA QR) and
//! checks an Aadhaar signature against the trusted UIDAI keys. Here the result becomes a
//! [`PatientInput`] to pre-fill the form, plus what the operator must see: the kind of document,
//! the signature result, warnings, and the photo (decoded from JPEG 2000 to a PNG data URL in
//! memory for display only, never stored).
//! A full Aadhaar number (XML QR) leaves this module only as last 4 digits and the keyed hash.

use serde::Serialize;
use swagat_identity::{Document, QrSummary, TrustStore};

use crate::error::{CoreError, Result};
use crate::opd::{PatientAddress, PatientInput};

/// What a scan yields.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Serialize)]
pub struct Scanned {
    /// `aadhaar_secure_qr`, `aadhaar_xml_qr` or `abha_qr`.
    pub kind: String,
    /// `valid`, `invalid` or `unverified` (Aadhaar); none for ABHA.
    pub signature: Option<String>,
    /// Notes for the operator: a stable code and the text in both languages, so the screen shows
    /// the operator's language (never the English text on the Hindi screen).
    pub warnings: Vec<ScanWarning>,
    /// The form's pre-filled fields.
    pub input: PatientInput,
    /// The Aadhaar photo (JPEG 2000), for display during registration only.
    #[serde(skip)]
    pub photo: Vec<u8>,
    /// Whether a photo came with the code.
    pub has_photo: bool,
    /// The photo as a `data:image/png;base64,…` URL the webview can show (it cannot show JPEG
    /// 2000). Made in memory for this response only; never stored.
    pub photo_png: Option<String>,
    /// Why no photo can be shown (missing, or undecodable), for the operator.
    pub photo_note: Option<crate::Msg>,
    /// The registered patient this document belongs to, if any (a returning patient).
    pub existing: Option<crate::opd::Patient>,
}

/// One note about a scanned document ([`swagat_identity::Warning`]).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScanWarning {
    /// Stable code, e.g. `signature_unverified`.
    pub code: String,
    /// English text.
    pub en: String,
    /// Hindi text.
    pub hi: String,
}

impl From<&swagat_identity::SummaryWarning> for ScanWarning {
    fn from(w: &swagat_identity::SummaryWarning) -> Self {
        Self {
            code: w.code.clone(),
            en: w.message.clone(),
            hi: w.message_hi.clone(),
        }
    }
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
    let is_secure_qr = matches!(doc, Document::AadhaarSecureQr(_));
    let mut scanned = to_scanned(summary, aadhaar_hash, photo);
    if is_secure_qr {
        (scanned.photo_png, scanned.photo_note) = photo_for_display(&scanned.photo);
    }
    Ok(scanned)
}

/// The photo as a PNG data URL, or why it cannot be shown. Never an error: a scan with a bad
/// photo is still a good scan.
pub fn photo_for_display(jpeg2000: &[u8]) -> (Option<String>, Option<crate::Msg>) {
    use base64::Engine as _;
    match swagat_identity::photo::to_png(jpeg2000) {
        Ok(png) => (
            Some(format!(
                "data:image/png;base64,{}",
                base64::engine::general_purpose::STANDARD.encode(png)
            )),
            None,
        ),
        Err(e) => {
            let en = match e {
                swagat_identity::photo::PhotoError::Missing => "The QR code carries no photo.",
                swagat_identity::photo::PhotoError::Undecodable(_) => {
                    "The photo in the QR code could not be read: check the person against the card."
                }
            };
            (None, Some(crate::Msg::new(en, e.message_hi())))
        }
    }
}

/// Like [`from_qr_with_key`] without hashing (the CLI's decode and tests).
pub fn from_qr(raw: &str, trust: &TrustStore) -> Result<Scanned> {
    from_qr_with_key(raw, trust, &[])
}

/// `swagat-admin decode-qr`: the identity crate's summary of a scanned code, its signature
/// checked against the built-in UIDAI certificates and those in `certs` (files there that are
/// not certificates are skipped, with a warning naming the file). Nothing is hashed or kept.
pub fn summary(raw: &str, certs: Option<&std::path::Path>) -> Result<QrSummary> {
    let trust = match certs {
        Some(dir) => {
            let (trust, skipped) = TrustStore::load_dir(dir).map_err(|e| {
                CoreError::invalid(
                    "uidai_certs",
                    e.to_string(),
                    format!("UIDAI प्रमाणपत्र नहीं पढ़ पाए: {e}"),
                )
            })?;
            for s in &skipped {
                tracing::warn!("skipped {}: {}", s.path.display(), s.reason);
            }
            trust
        }
        None => TrustStore::with_builtin(),
    };
    swagat_identity::decode_and_summarize(raw, &trust)
        .map_err(|e| CoreError::invalid("qr", e.to_string(), e.message_hi()))
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
    let address = s.address.map(|postal| PatientAddress {
        postal,
        state_lgd: s.state_lgd.as_deref().and_then(|v| v.parse().ok()),
        district_lgd: s.district_lgd.as_deref().and_then(|v| v.parse().ok()),
    });
    // Split here, once: a relation the card names comes as parts, a bare name as text (the
    // screen then picks the relation from gender and age).
    let guardian = s.care_of.filter(|c| !c.trim().is_empty()).map(|c| {
        match crate::opd::patients::split_guardian(&c) {
            Some((relation, name)) => crate::opd::patients::GuardianInput::Parts { relation, name },
            None => crate::opd::patients::GuardianInput::Text(c.trim().to_owned()),
        }
    });
    Scanned {
        kind,
        signature,
        warnings: s.warnings.iter().map(ScanWarning::from).collect(),
        has_photo: s.has_photo,
        photo,
        photo_png: None,
        photo_note: None,
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_secure_qr_photo_comes_as_a_png_data_url_or_a_reason() {
        let trust = TrustStore::with_builtin();
        let sample = from_qr(
            include_str!("../../identity/tests/data/aadhaar_secure_qr_uidai_sample_2019.txt"),
            &trust,
        )
        .unwrap();
        let url = sample.photo_png.as_deref().unwrap();
        assert!(url.starts_with("data:image/png;base64,iVBOR"), "a PNG");
        assert!(sample.photo_note.is_none());
        let json = serde_json::to_value(&sample).unwrap();
        assert!(json.get("photo").is_none(), "the raw photo never crosses");

        // The synthetic card's photo is placeholder bytes: the scan still works, with a reason.
        let synthetic = from_qr(
            include_str!("../../identity/tests/data/aadhaar_secure_qr_synthetic_v2.txt"),
            &trust,
        )
        .unwrap();
        assert_eq!(synthetic.input.name, "Sunita Devi");
        assert!(synthetic.photo_png.is_none());
        let note = synthetic.photo_note.unwrap();
        assert!(note.en.contains("could not be read") && !note.hi.is_empty());

        // An ABHA card has no photo and needs no note.
        let abha = from_qr(r#"{"hidn":"91-2345-6789-0129","hid":"sunita@abdm","name":"Sunita Devi","gender":"F","dob":"1/1/1985"}"#, &trust).unwrap();
        assert!(abha.photo_png.is_none() && abha.photo_note.is_none());
    }
}
