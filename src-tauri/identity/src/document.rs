//! The single entry point: raw text from a keyboard-wedge scanner in, a typed document out.
//!
//! Scanners type the QR text followed by CR and/or LF, sometimes with a byte-order mark or
//! stray whitespace; all of that is stripped. The kind is then told apart by shape: only digits
//! means an Aadhaar Secure QR, `<PrintLetterBarcodeData` an Aadhaar XML QR, `{` an ABHA QR.

use crate::abha_qr::{self, AbhaQr};
use crate::numbers::AadhaarNumber;
use crate::secure_qr::{self, SecureQr};
use crate::warning::Warning;
use crate::xml_qr::{self, XmlQr};
use crate::DecodeError;

/// Longest scan accepted, in bytes: a version-40 QR code holds at most 7,089 digits or 2,953
/// bytes.
pub const MAX_INPUT_BYTES: usize = 8 * 1024;

/// A decoded identity QR code.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)]
pub enum Document {
    /// Aadhaar Secure QR (signed; V1, V2, V3…).
    AadhaarSecureQr(SecureQr),
    /// Old Aadhaar XML QR (unsigned).
    AadhaarXmlQr(XmlQr),
    /// ABHA card or app QR (unsigned JSON).
    AbhaQr(AbhaQr),
}

impl Document {
    /// The kind of QR code.
    pub fn kind(&self) -> QrKind {
        match self {
            Self::AadhaarSecureQr(_) => QrKind::AadhaarSecureQr,
            Self::AadhaarXmlQr(_) => QrKind::AadhaarXmlQr,
            Self::AbhaQr(_) => QrKind::AbhaQr,
        }
    }

    /// The validated Aadhaar number, for [`AadhaarNumber::keyed_hash`]. Only the XML QR carries
    /// one; the Secure QR has the last 4 digits only.
    pub fn aadhaar_number(&self) -> Option<&AadhaarNumber> {
        match self {
            Self::AadhaarXmlQr(x) => x.aadhaar.as_ref(),
            _ => None,
        }
    }

    /// Findings about the contents (signature findings come from [`crate::summarize`]).
    pub fn warnings(&self) -> &[Warning] {
        match self {
            Self::AadhaarSecureQr(s) => &s.warnings,
            Self::AadhaarXmlQr(x) => &x.warnings,
            Self::AbhaQr(a) => &a.warnings,
        }
    }
}

/// The kinds of QR code recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QrKind {
    /// `"aadhaar_secure_qr"`.
    AadhaarSecureQr,
    /// `"aadhaar_xml_qr"`.
    AadhaarXmlQr,
    /// `"abha_qr"`.
    AbhaQr,
}

/// Decodes the raw text a scanner produced. Never panics; see [`DecodeError`] for the failures.
///
/// Signature checking needs a [`crate::TrustStore`]: call [`SecureQr::verify_signature`] or
/// [`crate::summarize`].
pub fn decode(raw: &str) -> Result<Document, DecodeError> {
    let text = strip(raw);
    if text.is_empty() {
        return Err(DecodeError::Empty);
    }
    if text.len() > MAX_INPUT_BYTES {
        return Err(DecodeError::TooLong {
            max: MAX_INPUT_BYTES,
        });
    }
    if text
        .bytes()
        .all(|b| b.is_ascii_digit() || b.is_ascii_whitespace())
    {
        // Some scanners wrap long codes: drop inner line breaks and spaces.
        let digits: String = text.chars().filter(char::is_ascii_digit).collect();
        if digits.len() < secure_qr::MIN_DIGITS {
            return Err(DecodeError::NotRecognised);
        }
        return secure_qr::decode(&digits).map(Document::AadhaarSecureQr);
    }
    if text.starts_with('<') || xml_qr::find_element(text).is_some() {
        return xml_qr::decode(text).map(Document::AadhaarXmlQr);
    }
    if text.starts_with('{') {
        return abha_qr::decode(text).map(Document::AbhaQr);
    }
    if is_facility_share_url(text) {
        return Err(DecodeError::FacilityQr);
    }
    Err(DecodeError::NotRecognised)
}

/// Trims whitespace, control characters and byte-order marks at both ends.
fn strip(raw: &str) -> &str {
    raw.trim_matches(|c: char| c.is_whitespace() || c.is_control() || c == '\u{feff}')
}

/// The facility's scan-and-share QR: `https://…abdm.gov.in/share-profile?hip-id=IN…`.
fn is_facility_share_url(text: &str) -> bool {
    let lower = text
        .get(..text.len().min(512))
        .unwrap_or_default()
        .to_ascii_lowercase();
    (lower.starts_with("http://") || lower.starts_with("https://"))
        && (lower.contains("share-profile") || lower.contains("hip-id"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_errors() {
        let cases = [
            ("", DecodeError::Empty),
            ("\u{feff}\r\n  \t", DecodeError::Empty),
            ("hello", DecodeError::NotRecognised),
            ("234567890124", DecodeError::NotRecognised),
            (
                "https://phr.abdm.gov.in/share-profile?hip-id=IN2810014366&counter-id=1",
                DecodeError::FacilityQr,
            ),
            ("https://example.com", DecodeError::NotRecognised),
            ("<html/>", DecodeError::NotRecognised),
            ("{\"a\":1}", DecodeError::AbhaMissingId),
            ("{broken", DecodeError::AbhaJsonInvalid),
            ("[1,2]", DecodeError::NotRecognised),
        ];
        for (input, want) in cases {
            assert_eq!(decode(input).err(), Some(want), "{input:?}");
        }
        let long = "1".repeat(MAX_INPUT_BYTES + 1);
        assert_eq!(
            decode(&long).err(),
            Some(DecodeError::TooLong {
                max: MAX_INPUT_BYTES
            })
        );
    }
}
