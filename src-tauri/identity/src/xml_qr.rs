//! The old Aadhaar XML QR (letters printed before 2018, still carried in wallets):
//! `<PrintLetterBarcodeData uid=".." name=".." gender=".." yob=".." co=".." house=".." street=".."
//! lm=".." loc=".." vtc=".." po=".." dist=".." subdist=".." state=".." pc=".." dob=".."/>`.
//!
//! It is unsigned and carries the **full Aadhaar number**, which is validated at once into an
//! [`AadhaarNumber`] (it cannot be printed, and is wiped on drop); the decoded value never holds
//! the digits as text. Variants handled: `yob` only, no `dob`, ISO `dob`, `DD/MM/YYYY` `dob`,
//! gender `MALE`/`FEMALE`, `lm="null"` meaning absent, a broken prolog `</?xml …?>`, a bare `&`
//! in a value, and a masked uid (`XXXXXXXX1234`).

use std::collections::HashMap;
use std::fmt;

use zeroize::Zeroizing;

use crate::address::{clean, Address};
use crate::dates::BirthDate;
use crate::gender::Gender;
use crate::numbers::{parse_pincode, AadhaarNumber};
use crate::warning::{self, Warning};
use crate::DecodeError;

/// The element name of the XML QR.
const ELEMENT: &str = "PrintLetterBarcodeData";

/// A decoded Aadhaar XML QR.
#[derive(Clone)]
pub struct XmlQr {
    /// The validated Aadhaar number (never printable in full), if the QR's uid is valid.
    pub aadhaar: Option<AadhaarNumber>,
    /// Last 4 digits of the Aadhaar number (also from a masked uid).
    pub aadhaar_last4: Option<String>,
    /// Resident's name.
    pub name: Option<String>,
    /// Gender.
    pub gender: Option<Gender>,
    /// Date of birth, or the year of birth alone.
    pub birth_date: Option<BirthDate>,
    /// Care-of line.
    pub care_of: Option<String>,
    /// Address.
    pub address: Address,
    /// Findings about the contents.
    pub warnings: Vec<Warning>,
}

/// Shows which details are present, never their values.
impl fmt::Debug for XmlQr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("XmlQr")
            .field("aadhaar", &self.aadhaar)
            .field("has_name", &self.name.is_some())
            .field("has_birth_date", &self.birth_date.is_some())
            .field("address", &self.address)
            .field("warnings", &self.warnings)
            .finish_non_exhaustive()
    }
}

/// Byte offset of the element's `<` in `text`, matched without regard to ASCII case.
pub(crate) fn find_element(text: &str) -> Option<usize> {
    let needle = format!("<{ELEMENT}").to_ascii_lowercase();
    text.to_ascii_lowercase().find(&needle)
}

/// Decodes an XML QR (already trimmed).
pub(crate) fn decode(text: &str) -> Result<XmlQr, DecodeError> {
    let start = find_element(text).ok_or(DecodeError::NotRecognised)?;
    let from_element = text.get(start..).ok_or(DecodeError::XmlMalformed)?;
    let attrs = parse_attributes(from_element)?;
    let qr = from_attributes(&attrs);
    if qr.name.is_none() && qr.aadhaar_last4.is_none() {
        return Err(DecodeError::XmlEmpty);
    }
    // An Aadhaar QR is the Aadhaar number's: without a uid (a valid, masked or even a wrong
    // one, which gets a warning) it is some other document wearing the element's name.
    if attrs
        .get("uid")
        .is_none_or(|u| u.trim().is_empty() || u.trim().eq_ignore_ascii_case("null"))
    {
        return Err(DecodeError::XmlMissingUid);
    }
    Ok(qr)
}

/// The element's attributes, keys lower-cased, values wiped on drop.
type Attributes = HashMap<String, Zeroizing<String>>;

/// Parses the element, trying in turn: up to the first `/>`, the whole rest, and both again
/// with bare `&` escaped.
fn parse_attributes(from_element: &str) -> Result<Attributes, DecodeError> {
    let first_close = from_element
        .find("/>")
        .and_then(|i| from_element.get(..i + 2));
    let mut candidates: Vec<Zeroizing<String>> = Vec::new();
    if let Some(c) = first_close {
        candidates.push(Zeroizing::new(c.to_owned()));
    }
    candidates.push(Zeroizing::new(from_element.to_owned()));
    let repaired: Vec<Zeroizing<String>> = candidates
        .iter()
        .map(|c| Zeroizing::new(escape_bare_ampersands(c)))
        .collect();
    candidates.extend(repaired);
    for candidate in &candidates {
        if let Some(attrs) = try_parse(candidate) {
            return Ok(attrs);
        }
    }
    Err(DecodeError::XmlMalformed)
}

fn try_parse(xml: &str) -> Option<Attributes> {
    let options = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: 64,
        ..roxmltree::ParsingOptions::default()
    };
    let doc = roxmltree::Document::parse_with_options(xml, options).ok()?;
    let root = doc.root_element();
    if !root.tag_name().name().eq_ignore_ascii_case(ELEMENT) {
        return None;
    }
    let mut attrs = Attributes::new();
    for a in root.attributes() {
        attrs
            .entry(a.name().to_ascii_lowercase())
            .or_insert_with(|| Zeroizing::new(a.value().to_owned()));
    }
    Some(attrs)
}

/// Replaces `&` that does not start an entity reference with `&amp;`.
fn escape_bare_ampersands(xml: &str) -> String {
    let mut out = String::with_capacity(xml.len() + 16);
    let mut rest = xml;
    while let Some(i) = rest.find('&') {
        out.push_str(rest.get(..i).unwrap_or_default());
        let after = rest.get(i + 1..).unwrap_or_default();
        let is_entity = after.find(';').is_some_and(|semi| {
            let name = after.get(..semi).unwrap_or_default();
            (1..=10).contains(&name.len())
                && name
                    .trim_start_matches('#')
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric())
        });
        out.push_str(if is_entity { "&" } else { "&amp;" });
        rest = after;
    }
    out.push_str(rest);
    out
}

fn from_attributes(attrs: &Attributes) -> XmlQr {
    let get = |k: &str| attrs.get(k).and_then(|v| clean(v));
    let mut warnings = vec![Warning::XmlQrUnsigned];

    let (aadhaar, aadhaar_last4) = match attrs.get("uid") {
        None => (None, None),
        Some(uid) => parse_uid(uid, &mut warnings),
    };
    let name = get("name");
    if name.is_none() {
        warning::push(&mut warnings, Warning::NameMissing);
    }
    let gender = get("gender").and_then(|g| match Gender::parse(&g) {
        Ok(g) => Some(g),
        Err(_) => {
            warning::push(&mut warnings, Warning::GenderUnknown);
            None
        }
    });
    let yob = get("yob").and_then(|y| match BirthDate::parse(&y) {
        Ok(b) => Some(b.year()),
        Err(_) => {
            warning::push(&mut warnings, Warning::DobInvalid);
            None
        }
    });
    let dob = get("dob").and_then(|d| match BirthDate::parse(&d) {
        Ok(b) => Some(b),
        Err(_) => {
            warning::push(&mut warnings, Warning::DobInvalid);
            None
        }
    });
    let birth_date = match (dob, yob) {
        (Some(d), Some(y)) => {
            if d.year() != y {
                warning::push(&mut warnings, Warning::DobYobMismatch);
            }
            Some(d)
        }
        (Some(d), None) => Some(d),
        (None, Some(y)) => Some(BirthDate::Year(y)),
        (None, None) => None,
    };
    let pincode = get("pc").and_then(|p| match parse_pincode(&p) {
        Ok(p) => Some(p),
        Err(_) => {
            warning::push(&mut warnings, Warning::PincodeInvalid);
            None
        }
    });
    XmlQr {
        aadhaar,
        aadhaar_last4,
        name,
        gender,
        birth_date,
        care_of: get("co"),
        address: Address {
            house: get("house"),
            street: get("street"),
            landmark: get("lm"),
            locality: get("loc"),
            vtc: get("vtc"),
            post_office: get("po"),
            sub_district: get("subdist"),
            district: get("dist"),
            state: get("state"),
            pincode,
        },
        warnings,
    }
}

/// Validates the uid at once; a masked uid (`XXXXXXXX1234`) gives the last 4 only.
fn parse_uid(uid: &str, warnings: &mut Vec<Warning>) -> (Option<AadhaarNumber>, Option<String>) {
    let compact: Zeroizing<String> =
        Zeroizing::new(uid.chars().filter(|c| !matches!(c, ' ' | '-')).collect());
    if compact.is_empty() || compact.eq_ignore_ascii_case("null") {
        return (None, None);
    }
    if let Ok(a) = AadhaarNumber::parse(&compact) {
        let last4 = a.last4();
        return (Some(a), Some(last4));
    }
    let masked = compact.len() == 12
        && compact
            .get(..8)
            .is_some_and(|m| m.chars().all(|c| matches!(c, 'x' | 'X' | '*')))
        && compact
            .get(8..)
            .is_some_and(|d| d.bytes().all(|b| b.is_ascii_digit()));
    if masked {
        return (None, compact.get(8..).map(str::to_owned));
    }
    warning::push(warnings, Warning::AadhaarNumberInvalid);
    (None, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ampersand_repair() {
        assert_eq!(escape_bare_ampersands("a & b"), "a &amp; b");
        assert_eq!(
            escape_bare_ampersands("a &amp; b &#38; c"),
            "a &amp; b &#38; c"
        );
        assert_eq!(escape_bare_ampersands("&"), "&amp;");
    }
}
