//! Aadhaar Secure QR (cards, e-Aadhaar and PVC cards since 2019).
//!
//! Layout: the QR text is a decimal big integer; its big-endian bytes are gzip; the unpacked
//! bytes are ISO-8859-1 text fields separated by `0xFF`, then a JPEG2000 photo, then (V1 only)
//! 0–2 SHA-256 hashes of email and mobile, then a 256-byte RSA-2048 PKCS#1 v1.5 SHA-256
//! signature over everything before it.
//!
//! * V1 (2019, no version marker): 16 fields (email/mobile indicator, reference id, name, dob,
//!   gender, care-of, district, landmark, house, location, pincode, post office, state, street,
//!   sub-district, VTC), photo, hashes per the indicator (email first, then mobile).
//! * V2 (first field `V2`): the same 16 fields, then the last 4 mobile digits, then the photo;
//!   no hashes. Any later `V<n>` is read the same way.
//!
//! The photo holds `0xFF` bytes, so fields are read by count, never by splitting everything.
//! Every step is bounded: the decimal text length, the unpacked size (64 KiB) and all indexing.
//!
//! **The photo is for on-screen display only and must never be stored**; the unpacked bytes are
//! wiped from memory when the [`SecureQr`] is dropped.

use std::fmt;
use std::io::Read;
use std::ops::Range;

use flate2::read::GzDecoder;
use num_bigint::BigUint;
use sha2::{Digest, Sha256};
use time::{Date, Month, PrimitiveDateTime, Time};
use zeroize::Zeroizing;

use crate::address::{clean, Address};
use crate::dates::BirthDate;
use crate::gender::Gender;
use crate::numbers::{parse_pincode, IndianMobile};
use crate::signature::{self, SignatureStatus, SIGNATURE_LEN};
use crate::trust::TrustStore;
use crate::warning::{self, Warning};
use crate::DecodeError;

/// Most decimal digits accepted: a version-40 QR code holds at most 7,089 digits.
pub const MAX_DIGITS: usize = 7_200;
/// Cap on the unpacked size; real payloads are 1–3 KiB.
pub const MAX_UNPACKED_BYTES: usize = 64 * 1024;
/// Fewest digits taken for a Secure QR; shorter digit strings are some other number.
pub const MIN_DIGITS: usize = 30;
/// Length of each email/mobile hash.
const HASH_LEN: usize = 32;
/// Number of text fields common to all versions (indicator to VTC).
const COMMON_FIELDS: usize = 16;

/// The Secure QR format version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SecureQrVersion {
    /// The unversioned 2019 format.
    V1,
    /// A versioned format `V<n>` (V2, V3, V5… all read like V2).
    V(u16),
}

impl fmt::Display for SecureQrVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::V1 => f.write_str("V1"),
            Self::V(n) => write!(f, "V{n}"),
        }
    }
}

/// Which of email and mobile are registered with the Aadhaar (first V1 field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContactIndicator {
    /// Neither (0).
    None,
    /// Email only (1).
    Email,
    /// Mobile only (2).
    Mobile,
    /// Both (3).
    Both,
}

impl ContactIndicator {
    fn parse(field: &str) -> Option<Self> {
        match field.trim() {
            "0" => Some(Self::None),
            "1" => Some(Self::Email),
            "2" => Some(Self::Mobile),
            "3" => Some(Self::Both),
            _ => None,
        }
    }

    /// Whether an email is registered.
    pub fn has_email(&self) -> bool {
        matches!(self, Self::Email | Self::Both)
    }

    /// Whether a mobile number is registered.
    pub fn has_mobile(&self) -> bool {
        matches!(self, Self::Mobile | Self::Both)
    }
}

/// Result of comparing what the patient says with the contact data in the QR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContactMatch {
    /// The full value matches the hash in the QR (V1).
    Matches,
    /// Only the last 4 mobile digits could be compared, and they match (V2 and later).
    Last4Matches,
    /// It does not match.
    DoesNotMatch,
    /// The QR has nothing to compare with.
    NotAvailable,
}

/// A decoded Aadhaar Secure QR. It holds the last 4 Aadhaar digits only; the full number is not
/// in the QR.
#[derive(Clone)]
pub struct SecureQr {
    /// Format version.
    pub version: SecureQrVersion,
    /// Email/mobile indicator (`None` if a versioned QR carries an unknown value).
    pub contact_indicator: Option<ContactIndicator>,
    /// Last 4 digits of the Aadhaar number (from the reference id).
    pub aadhaar_last4: Option<String>,
    /// When UIDAI generated this QR (from the reference id).
    pub generated_at: Option<PrimitiveDateTime>,
    /// Resident's name.
    pub name: Option<String>,
    /// Date of birth.
    pub birth_date: Option<BirthDate>,
    /// Gender.
    pub gender: Option<Gender>,
    /// Care-of line (`S/O: …`, `W/O: …`).
    pub care_of: Option<String>,
    /// Address.
    pub address: Address,
    /// Last 4 digits of the registered mobile (V2 and later).
    pub mobile_last4: Option<String>,
    /// Findings about the contents (not about the signature).
    pub warnings: Vec<Warning>,
    /// The whole unpacked payload, wiped on drop.
    payload: Zeroizing<Vec<u8>>,
    photo: Range<usize>,
    email_hash: Option<Range<usize>>,
    mobile_hash: Option<Range<usize>>,
}

impl SecureQr {
    /// The photo (JPEG2000), for on-screen display only: never store it.
    pub fn photo(&self) -> &[u8] {
        self.payload.get(self.photo.clone()).unwrap_or_default()
    }

    /// Whether the QR carries a photo.
    pub fn has_photo(&self) -> bool {
        !self.photo().is_empty()
    }

    /// The bytes covered by the signature.
    pub fn signed_bytes(&self) -> &[u8] {
        let end = self.payload.len().saturating_sub(SIGNATURE_LEN);
        self.payload.get(..end).unwrap_or_default()
    }

    /// The 256-byte signature.
    pub fn signature_bytes(&self) -> &[u8] {
        let start = self.payload.len().saturating_sub(SIGNATURE_LEN);
        self.payload.get(start..).unwrap_or_default()
    }

    /// Checks the signature against the trusted keys.
    pub fn verify_signature(&self, trust: &TrustStore) -> SignatureStatus {
        signature::verify(self.signed_bytes(), self.signature_bytes(), trust)
    }

    /// Compares the mobile number the patient gives with the QR: the V1 hash (SHA-256 applied
    /// n times, n = last Aadhaar digit, 0 or 1 meaning once) or, from V2 on, the last 4 digits.
    pub fn verify_mobile(&self, said: &str) -> ContactMatch {
        if let Some(last4) = &self.mobile_last4 {
            let said_last4 = match IndianMobile::parse(said) {
                Ok(m) => m.last4().to_owned(),
                Err(_) => return ContactMatch::DoesNotMatch,
            };
            return if &said_last4 == last4 {
                ContactMatch::Last4Matches
            } else {
                ContactMatch::DoesNotMatch
            };
        }
        let Some(hash) = self.hash(&self.mobile_hash) else {
            return ContactMatch::NotAvailable;
        };
        let candidate = match IndianMobile::parse(said) {
            Ok(m) => m.as_str().to_owned(),
            Err(_) => said.trim().to_owned(),
        };
        self.compare_hash(hash, &[candidate])
    }

    /// Compares the email the patient gives with the V1 email hash (as typed, and lower-cased).
    pub fn verify_email(&self, said: &str) -> ContactMatch {
        let Some(hash) = self.hash(&self.email_hash) else {
            return ContactMatch::NotAvailable;
        };
        let t = said.trim();
        self.compare_hash(hash, &[t.to_owned(), t.to_lowercase()])
    }

    fn hash(&self, range: &Option<Range<usize>>) -> Option<&[u8]> {
        range.as_ref().and_then(|r| self.payload.get(r.clone()))
    }

    fn compare_hash(&self, hash: &[u8], candidates: &[String]) -> ContactMatch {
        let Some(rounds) = self.hash_rounds() else {
            return ContactMatch::NotAvailable;
        };
        let want = crate::hex::lower(hash);
        if candidates
            .iter()
            .any(|c| chained_sha256_hex(c, rounds) == want)
        {
            ContactMatch::Matches
        } else {
            ContactMatch::DoesNotMatch
        }
    }

    /// n = last Aadhaar digit, 0 and 1 meaning once.
    fn hash_rounds(&self) -> Option<u32> {
        let last = self.aadhaar_last4.as_ref()?.chars().last()?.to_digit(10)?;
        Some(last.max(1))
    }
}

/// SHA-256 applied `rounds` times; every round after the first hashes the previous round's
/// lower-case hex text, as UIDAI's reference code does.
fn chained_sha256_hex(text: &str, rounds: u32) -> String {
    // ISO-8859-1 bytes of the text; text outside Latin-1 cannot match, its UTF-8 is used then.
    let mut bytes: Vec<u8> = text
        .chars()
        .map(|c| u8::try_from(u32::from(c)).ok())
        .collect::<Option<Vec<u8>>>()
        .unwrap_or_else(|| text.as_bytes().to_vec());
    let mut current = String::new();
    for _ in 0..rounds.max(1) {
        current = crate::hex::lower(&Sha256::digest(&bytes));
        bytes = current.as_bytes().to_vec();
    }
    current
}

/// Shows the version and which details are present, never their values.
impl fmt::Debug for SecureQr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecureQr")
            .field("version", &self.version)
            .field("contact_indicator", &self.contact_indicator)
            .field("has_name", &self.name.is_some())
            .field("has_birth_date", &self.birth_date.is_some())
            .field("address", &self.address)
            .field("photo_bytes", &self.photo.len())
            .field("warnings", &self.warnings)
            .finish_non_exhaustive()
    }
}

/// Decodes the decimal text of a Secure QR (digits only, already trimmed).
pub(crate) fn decode(digits: &str) -> Result<SecureQr, DecodeError> {
    if digits.len() > MAX_DIGITS {
        return Err(DecodeError::TooLong { max: MAX_DIGITS });
    }
    let number = BigUint::parse_bytes(digits.as_bytes(), 10).ok_or(DecodeError::NotRecognised)?;
    let packed = Zeroizing::new(number.to_bytes_be());
    let payload = gunzip_bounded(&packed)?;
    parse_payload(payload)
}

fn gunzip_bounded(packed: &[u8]) -> Result<Zeroizing<Vec<u8>>, DecodeError> {
    if packed.get(..2) != Some(&[0x1f, 0x8b][..]) {
        return Err(DecodeError::SecureQrNotCompressed);
    }
    let mut out = Zeroizing::new(Vec::new());
    let limit = u64::try_from(MAX_UNPACKED_BYTES + 1).unwrap_or(u64::MAX);
    GzDecoder::new(packed)
        .take(limit)
        .read_to_end(&mut out)
        .map_err(|_| DecodeError::SecureQrNotCompressed)?;
    if out.len() > MAX_UNPACKED_BYTES {
        return Err(DecodeError::SecureQrTooLarge {
            max: MAX_UNPACKED_BYTES,
        });
    }
    Ok(out)
}

/// Reads 0xFF-terminated fields one at a time.
struct Fields<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Fields<'_> {
    fn next_field(&mut self) -> Result<String, DecodeError> {
        let rest = self
            .data
            .get(self.pos..)
            .ok_or(DecodeError::SecureQrTruncated)?;
        let len = rest
            .iter()
            .position(|b| *b == 0xff)
            .ok_or(DecodeError::SecureQrTruncated)?;
        let field = rest.get(..len).ok_or(DecodeError::SecureQrTruncated)?;
        self.pos = self
            .pos
            .checked_add(len + 1)
            .ok_or(DecodeError::SecureQrTruncated)?;
        // ISO-8859-1: every byte is the code point of the same value.
        Ok(field.iter().map(|b| char::from(*b)).collect())
    }
}

fn version_marker(field: &str) -> Option<u16> {
    let n = field.strip_prefix('V')?;
    if n.is_empty() || n.len() > 3 || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    n.parse().ok()
}

fn parse_payload(payload: Zeroizing<Vec<u8>>) -> Result<SecureQr, DecodeError> {
    let sig_start = payload
        .len()
        .checked_sub(SIGNATURE_LEN)
        .filter(|s| *s > 0)
        .ok_or(DecodeError::SecureQrTruncated)?;
    let signed = payload
        .get(..sig_start)
        .ok_or(DecodeError::SecureQrTruncated)?;
    let mut fields = Fields {
        data: signed,
        pos: 0,
    };

    let first = fields.next_field()?;
    let (version, indicator_field) = match version_marker(&first) {
        Some(n) => (SecureQrVersion::V(n), fields.next_field()?),
        None => (SecureQrVersion::V1, first),
    };
    let contact_indicator = ContactIndicator::parse(&indicator_field);
    if version == SecureQrVersion::V1 && contact_indicator.is_none() {
        return Err(DecodeError::SecureQrBadIndicator);
    }
    let mut text = Vec::with_capacity(COMMON_FIELDS);
    for _ in 1..COMMON_FIELDS {
        text.push(fields.next_field()?);
    }
    let mobile_last4_field = match version {
        SecureQrVersion::V1 => None,
        SecureQrVersion::V(_) => Some(fields.next_field()?),
    };
    let photo_start = fields.pos;

    let hash_count = match (version, contact_indicator) {
        (SecureQrVersion::V1, Some(ContactIndicator::Both)) => 2,
        (SecureQrVersion::V1, Some(ContactIndicator::Email | ContactIndicator::Mobile)) => 1,
        _ => 0,
    };
    let photo_end = sig_start
        .checked_sub(HASH_LEN * hash_count)
        .filter(|end| *end >= photo_start)
        .ok_or(DecodeError::SecureQrTruncated)?;
    let (email_hash, mobile_hash) = match (version, contact_indicator) {
        (SecureQrVersion::V1, Some(ContactIndicator::Both)) => (
            Some(photo_end..photo_end + HASH_LEN),
            Some(photo_end + HASH_LEN..sig_start),
        ),
        (SecureQrVersion::V1, Some(ContactIndicator::Email)) => (Some(photo_end..sig_start), None),
        (SecureQrVersion::V1, Some(ContactIndicator::Mobile)) => (None, Some(photo_end..sig_start)),
        _ => (None, None),
    };

    let mut warnings = Vec::new();
    let mut it = text.into_iter();
    let mut next = || it.next().unwrap_or_default();
    let reference_id = next();
    let name = clean(&next());
    let dob = next();
    let gender_text = next();
    let care_of = clean(&next());
    let district = clean(&next());
    let landmark = clean(&next());
    let house = clean(&next());
    let locality = clean(&next());
    let pincode_text = next();
    let post_office = clean(&next());
    let state = clean(&next());
    let street = clean(&next());
    let sub_district = clean(&next());
    let vtc = clean(&next());

    if fields_out_of_place(&reference_id, &dob, &gender_text, &pincode_text) {
        return Err(DecodeError::SecureQrFieldsOutOfPlace);
    }
    let (aadhaar_last4, generated_at) = parse_reference_id(&reference_id);
    if aadhaar_last4.is_none() {
        warning::push(&mut warnings, Warning::ReferenceIdInvalid);
    }
    if name.is_none() {
        warning::push(&mut warnings, Warning::NameMissing);
    }
    let birth_date = match clean(&dob) {
        None => None,
        Some(d) => match BirthDate::parse(&d) {
            Ok(b) => Some(b),
            Err(_) => {
                warning::push(&mut warnings, Warning::DobInvalid);
                None
            }
        },
    };
    let gender = clean(&gender_text).and_then(|g| match Gender::parse(&g) {
        Ok(g) => Some(g),
        Err(_) => {
            warning::push(&mut warnings, Warning::GenderUnknown);
            None
        }
    });
    let pincode = clean(&pincode_text).and_then(|p| match parse_pincode(&p) {
        Ok(p) => Some(p),
        Err(_) => {
            warning::push(&mut warnings, Warning::PincodeInvalid);
            None
        }
    });
    let mobile_last4 = mobile_last4_field.as_deref().and_then(clean).and_then(|m| {
        if m.len() == 4 && m.bytes().all(|b| b.is_ascii_digit()) {
            Some(m)
        } else {
            warning::push(&mut warnings, Warning::MobileInvalid);
            None
        }
    });

    Ok(SecureQr {
        version,
        contact_indicator,
        aadhaar_last4,
        generated_at,
        name,
        birth_date,
        gender,
        care_of,
        address: Address {
            house,
            street,
            landmark,
            locality,
            vtc,
            post_office,
            sub_district,
            district,
            state,
            pincode,
        },
        mobile_last4,
        warnings,
        photo: photo_start..photo_end,
        email_hash,
        mobile_hash,
        payload,
    })
}

/// Whether the fields are not where the format puts them: at least two of the reference id
/// without its 4 leading digits, a gender field holding digits or a long text, a date of birth
/// without a digit, and a PIN code with letters. One odd value is a warning (a damaged field);
/// two mean the fields are shifted or missing (a forged or mis-built payload), and none of its
/// details can be taken for what they claim.
fn fields_out_of_place(reference_id: &str, dob: &str, gender: &str, pincode: &str) -> bool {
    let reference_bad = !reference_id
        .trim()
        .get(..4)
        .is_some_and(|s| s.bytes().all(|b| b.is_ascii_digit()));
    let gender = gender.trim();
    let gender_bad = gender.chars().any(|c| c.is_ascii_digit()) || gender.chars().count() > 12;
    let dob = dob.trim();
    let dob_bad = !dob.is_empty() && !dob.chars().any(|c| c.is_ascii_digit());
    let pincode_bad = pincode.chars().any(char::is_alphabetic);
    [reference_bad, gender_bad, dob_bad, pincode_bad]
        .iter()
        .filter(|b| **b)
        .count()
        >= 2
}

/// Reference id: last 4 Aadhaar digits, then `YYYYMMDDHHMMSSmmm`.
fn parse_reference_id(reference: &str) -> (Option<String>, Option<PrimitiveDateTime>) {
    let reference = reference.trim();
    let last4 = reference
        .get(..4)
        .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
        .map(str::to_owned);
    let stamp = reference.get(4..).and_then(parse_timestamp);
    (last4, stamp)
}

fn parse_timestamp(s: &str) -> Option<PrimitiveDateTime> {
    if s.len() != 17 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let num = |r: Range<usize>| -> Option<u16> { s.get(r)?.parse().ok() };
    let year = i32::from(num(0..4)?);
    let month = Month::try_from(u8::try_from(num(4..6)?).ok()?).ok()?;
    let day = u8::try_from(num(6..8)?).ok()?;
    let date = Date::from_calendar_date(year, month, day).ok()?;
    let time = Time::from_hms_milli(
        u8::try_from(num(8..10)?).ok()?,
        u8::try_from(num(10..12)?).ok()?,
        u8::try_from(num(12..14)?).ok()?,
        num(14..17)?,
    )
    .ok()?;
    Some(PrimitiveDateTime::new(date, time))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chained_hash_rounds() {
        // One round is plain SHA-256 of the text.
        assert_eq!(
            chained_sha256_hex("abc", 1),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        // Two rounds hash the hex text of the first.
        let one = chained_sha256_hex("abc", 1);
        assert_eq!(chained_sha256_hex("abc", 2), chained_sha256_hex(&one, 1));
    }

    #[test]
    fn reference_ids() {
        let (l4, t) = parse_reference_id("890820190305150137123");
        assert_eq!(l4.as_deref(), Some("8908"));
        assert_eq!(t.map(|t| t.year()), Some(2019));
        assert_eq!(parse_reference_id("ab12").0, None);
        assert_eq!(parse_reference_id("").0, None);
        assert_eq!(parse_reference_id("1234").1, None);
    }

    #[test]
    fn version_markers() {
        assert_eq!(version_marker("V2"), Some(2));
        assert_eq!(version_marker("V10"), Some(10));
        assert_eq!(version_marker("2"), None);
        assert_eq!(version_marker("V"), None);
        assert_eq!(version_marker("Vx"), None);
        assert_eq!(version_marker("V1234"), None);
    }

    #[test]
    fn not_gzip_and_bomb() {
        assert_eq!(
            gunzip_bounded(&[1, 2, 3]).err(),
            Some(DecodeError::SecureQrNotCompressed)
        );
        // A gzip of 1 MiB of zeros must stop at the cap.
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        std::io::Write::write_all(&mut enc, &vec![0u8; 1024 * 1024]).unwrap();
        let bomb = enc.finish().unwrap();
        assert_eq!(
            gunzip_bounded(&bomb).err(),
            Some(DecodeError::SecureQrTooLarge {
                max: MAX_UNPACKED_BYTES
            })
        );
    }
}
